"""Times scikit-learn KMeans (lloyd, tol 1e-4) on the benchmark matrix."""
import sys, time
import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info

path = sys.argv[1]
k = int(sys.argv[2]); n_init = int(sys.argv[3])
x = np.load(path)
for seed in (0, 1, 2):
    t = time.perf_counter()
    km = KMeans(n_clusters=k, n_init=n_init, algorithm="lloyd", tol=1e-4, random_state=seed).fit(x)
    dt = time.perf_counter() - t
    print(f"sklearn k={k} n_init={n_init} seed={seed}: {dt:.3f} s, inertia {km.inertia_:.6e}, n_iter {km.n_iter_}")
print([ (i.get('internal_api'), i.get('num_threads'), i.get('architecture')) for i in threadpool_info()])
