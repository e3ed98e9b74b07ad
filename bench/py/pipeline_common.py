"""The numpy / scikit-learn stages shared by `pipeline_pandas.py` and `pipeline_polars.py`
(k-means, the response model, the budgeted selection), each mirroring what `bullseye run` does
by default. No pandas or polars here, so either child imports only its own frame library."""
import argparse
import json
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

AS_OF = "2024-12-31"
KMEANS_COLUMNS = ["recency_days", "frequency", "monetary_total"]  # ClusterParams::default().columns


def parse_args():
    """The command line both Python pipelines share (bench/pipeline.py passes it)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--budget", type=float, required=True)
    ap.add_argument("--as-of", default=AS_OF)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--n-init", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cost", type=float, default=0.10)
    ap.add_argument("--value", type=float, default=40.0)
    ap.add_argument("--control", type=float, default=0.10)
    ap.add_argument("--train-features", choices=["contacted", "all"], default="contacted",
                    help="training rows: features of the contacted customers only (default), or of every "
                         "customer per send date, then joined (as bullseye does)")
    return ap.parse_args()


class Timer:
    """Per-stage in-process seconds, in the order the stages ran (from the end of the imports,
    as a notebook's cells after the import cell)."""

    def __init__(self):
        self.stages = {}
        self.t0 = time.perf_counter()
        self.t = self.t0

    def lap(self, name):
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + (now - self.t)
        self.t = now

    def split(self):
        """Seconds since the last lap (a sub-timing inside a stage)."""
        return time.perf_counter() - self.t

    def total(self):
        return time.perf_counter() - self.t0


def kmeans(x3, k, n_init, seed):
    """bullseye's default segment clustering: signed log1p, then standardize (ddof 0, a constant
    column keeps std 1), then k-means++ / Lloyd with tol 1e-4 and max_iter 300
    (`ClusterParams::default()` and `segment/transform.rs`). Returns (labels, inertia)."""
    z = np.sign(x3) * np.log1p(np.abs(x3))
    sd = z.std(axis=0)
    z = (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    km = KMeans(n_clusters=k, n_init=n_init, init="k-means++", algorithm="lloyd", tol=1e-4,
                max_iter=300, random_state=seed).fit(z)
    return km.labels_, float(km.inertia_)


def time_split(days, fraction=0.2):
    """bullseye's `time` holdout (`models/split.rs`): the rows of the latest whole dates whose
    count is closest to `fraction` of the rows, never the earliest date; ties → later cut-off."""
    days = np.asarray(days)
    uniq, counts = np.unique(days, return_counts=True)
    at_or_after = counts[::-1].cumsum()[::-1]
    target = fraction * len(days)
    best = 1
    for i in range(1, len(uniq)):
        if abs(at_or_after[i] - target) <= abs(at_or_after[best] - target):
            best = i
    return days >= uniq[best]


def train_response(x, y, days, l2=1.0):
    """Standardize, then L2 logistic regression (lbfgs) as bullseye's `LogisticParams::default()`:
    l2 = 1 is scikit-learn's C = 1 / l2 = 1 (intercept not penalized on either side); bullseye's
    Newton solver stops at a mean-loss gradient of 1e-8, so lbfgs gets tol 1e-8. AUC on the time
    holdout (train-only fit), then the refit on every row (bullseye's `refit: true`).
    Returns (scaler, model, auc, holdout rows, iterations of the refit)."""
    hold = time_split(days)

    def fit(xs, ys):
        sc = StandardScaler().fit(xs)
        m = LogisticRegression(C=1.0 / l2, solver="lbfgs", tol=1e-8, max_iter=1000).fit(sc.transform(xs), ys)
        return sc, m

    sc, m = fit(x[~hold], y[~hold])
    auc = float(roc_auc_score(y[hold], m.predict_proba(sc.transform(x[hold]))[:, 1]))
    sc, m = fit(x, y)
    return sc, m, auc, int(hold.sum()), int(m.n_iter_[0])


def select(ids, scores, budget, cost, value, control_fraction, seed):
    """One e-mail campaign as `bullseye select` with objective `profit`, one channel, no rules:
    expected profit = score × value − cost; customers with profit ≥ 0, ranked by profit
    descending then id; the greedy takes them while the budget inflated by 1 / (1 − f) lasts;
    then, while the target group (the chosen minus round(f · n) control) costs more than the
    budget, the last one leaves; control = a seeded uniform sample within each rank decile, the
    counts by cumulative rounding (`select/control.rs`). Returns the audience in rank order as
    (ids, scores, profits, is_control)."""
    ids = np.asarray(ids).astype(str)
    profit = scores * value - cost
    ok = np.flatnonzero(profit >= 0.0)
    order = ok[np.lexsort((ids[ok], -profit[ok]))]
    f = control_fraction
    inflated = budget / (1.0 - f) if f > 0 else budget
    n = min(len(order), int(np.floor(inflated / cost + 1e-9)))
    rh = lambda v: int(np.floor(v + 0.5))
    while n > 0 and (n - rh(f * n)) * cost > budget + 1e-9:
        n -= 1
    order = order[:n]
    is_control = np.zeros(n, dtype=bool)
    if f > 0 and n > 0:
        rng = np.random.default_rng(seed)
        dec = np.arange(n) * 10 // n
        cum = 0
        for d in range(10):
            members = np.flatnonzero(dec == d)
            c = rh(f * (cum + len(members))) - rh(f * cum)
            cum += len(members)
            if c > 0:
                is_control[rng.choice(members, size=c, replace=False)] = True
    return ids[order], scores[order], profit[order], is_control


def report(impl, timer, checks):
    """The one JSON line the benchmark reads."""
    total = timer.total()
    print(json.dumps({"impl": impl, "stages": {k: round(v, 4) for k, v in timer.stages.items()},
                      "total": round(total, 4), "checks": checks}), flush=True)
