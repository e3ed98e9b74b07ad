"""scikit-learn side of examples/bench_logistic.rs: reads the same binary matrix and times
LogisticRegression(lbfgs, C=1) training (1M x 20) and scoring of the 10x tiled matrix (10M rows);
prints one JSON line.

    /work/bench-bin/bench_logistic gen /tmp/bench_logistic.bin
    /work/helpers/venv/bin/python bench/logistic/bench_logistic.py /tmp/bench_logistic.bin [tol]

tol defaults to scikit-learn's default 1e-4.
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench_logistic.bin"
tol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-4
n, d = (int(v) for v in np.fromfile(path, dtype="<u8", count=2))
data = np.fromfile(path, dtype="<f8", offset=16)
x = data[: n * d].reshape(n, d)
y = data[n * d : n * d + n]

t0 = time.perf_counter()
m = LogisticRegression(C=1.0, solver="lbfgs", tol=tol, max_iter=1000).fit(x, y)
train_s = time.perf_counter() - t0
p = m.predict_proba(x)[:, 1]
loss = log_loss(y, p)

big = np.tile(x, (10, 1))
t1 = time.perf_counter()
s = m.predict_proba(big)[:, 1]
score_s = time.perf_counter() - t1
print(json.dumps({
    "impl": f"sklearn-lbfgs-tol{tol:g}", "train_s": train_s, "iterations": int(m.n_iter_[0]),
    "log_loss": loss, "intercept": float(m.intercept_[0]),
    "coef0": float(m.coef_[0][0]), "coef1": float(m.coef_[0][1]), "coef2": float(m.coef_[0][2]),
    "score_rows": len(s), "score_s": score_s, "mean_score": float(s.mean()),
}))
