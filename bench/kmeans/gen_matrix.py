"""Seeded 1,000,000 x 10 matrix for the k-means benchmark: 8 overlapping gaussian blobs with
unequal sizes and spreads, saved as float64 C-order .npy."""
import sys
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
d = 10
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/seg_bench_1m.npy"
rng = np.random.default_rng(20261122)
centers = rng.normal(0.0, 4.0, size=(8, d))
weights = rng.dirichlet(np.full(8, 2.0))
labels = rng.choice(8, size=n, p=weights)
spread = rng.uniform(0.5, 2.0, size=8)
x = centers[labels] + rng.normal(size=(n, d)) * spread[labels, None]
np.save(out, np.ascontiguousarray(x, dtype=np.float64))
print(out, x.shape)
