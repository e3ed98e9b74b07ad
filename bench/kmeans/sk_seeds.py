import sys, time
import numpy as np
from sklearn.cluster import KMeans
x = np.load(sys.argv[1]); k = int(sys.argv[2]); n_init = int(sys.argv[3])
for seed in range(int(sys.argv[4])):
    t = time.perf_counter()
    km = KMeans(n_clusters=k, n_init=n_init, algorithm="lloyd", tol=1e-4, random_state=seed).fit(x)
    print(f"seed={seed} {time.perf_counter()-t:.3f}s inertia {km.inertia_:.6e} n_iter {km.n_iter_}")
