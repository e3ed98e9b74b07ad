"""scikit-learn side of examples/bench_logistic.rs: reads the same binary matrix and times
LogisticRegression(lbfgs, C=1) training and scoring of the 10x tiled matrix.

Run after the Rust example: /work/helpers/venv/bin/python examples/bench_logistic.py target/bench_logistic.bin
"""
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

path = sys.argv[1] if len(sys.argv) > 1 else "target/bench_logistic.bin"
n, d = np.fromfile(path, dtype="<u8", count=2)
data = np.fromfile(path, dtype="<f8", offset=16)
x = data[: n * d].reshape(n, d)
y = data[n * d : n * d + n]

for tol in [1e-4, 1e-8]:
    t0 = time.perf_counter()
    m = LogisticRegression(C=1.0, solver="lbfgs", tol=tol, max_iter=1000).fit(x, y)
    train_s = time.perf_counter() - t0
    p = m.predict_proba(x)[:, 1]
    print(f"sklearn lbfgs tol={tol:g} train: {train_s:.3f} s, {m.n_iter_[0]} iterations, mean log loss {log_loss(y, p):.8f}")
print(f"intercept {m.intercept_[0]:.6f}, coef[0..3] {m.coef_[0][:3]}")

big = np.tile(x, (10, 1))
t1 = time.perf_counter()
s = m.predict_proba(big)[:, 1]
print(f"sklearn score: {len(s)} rows in {time.perf_counter() - t1:.3f} s (mean score {s.mean():.6f})")
