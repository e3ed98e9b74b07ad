"""Reference values for the Rust Qini tests: a line-by-line reimplementation of scikit-uplift's
qini_curve / perfect_qini_curve / qini_auc_score (negative_effect=True), and the Hillstrom
scikit-learn baselines (logistic, C=1, lbfgs, standardized numeric, one-hot categorical).

Run: /work/helpers/venv/bin/python examples/sklift_qini_reference.py notebooks-data/hillstrom.csv
"""
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import auc, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def qini_curve(y_true, uplift, treatment):
    y_true, uplift, treatment = np.array(y_true), np.array(uplift), np.array(treatment)
    desc = np.argsort(uplift, kind="mergesort")[::-1]
    y_true, uplift, treatment = y_true[desc], uplift[desc], treatment[desc]
    y_ctrl, y_trmnt = y_true.copy(), y_true.copy()
    y_ctrl[treatment == 1] = 0
    y_trmnt[treatment == 0] = 0
    distinct = np.where(np.diff(uplift))[0]
    thr = np.r_[distinct, uplift.size - 1]
    num_trmnt = np.cumsum(treatment)[thr].astype(float)
    yt = np.cumsum(y_trmnt)[thr].astype(float)
    num_all = thr + 1
    num_ctrl = num_all - num_trmnt
    yc = np.cumsum(y_ctrl)[thr].astype(float)
    curve = yt - yc * np.divide(num_trmnt, num_ctrl, out=np.zeros_like(num_trmnt), where=num_ctrl != 0)
    if num_all.size == 0 or curve[0] != 0 or num_all[0] != 0:
        num_all = np.r_[0, num_all]
        curve = np.r_[0, curve]
    return num_all, curve


def perfect_qini_curve(y_true, treatment):
    y_true, treatment = np.array(y_true), np.array(treatment)
    return qini_curve(y_true, y_true * treatment - y_true * (1 - treatment), treatment)


def qini_auc_score(y_true, uplift, treatment):
    xa, ya = qini_curve(y_true, uplift, treatment)
    xp, yp = perfect_qini_curve(y_true, treatment)
    base = auc(np.array([0, xp[-1]]), np.array([0, yp[-1]]))
    return (auc(xa, ya) - base) / (auc(xp, yp) - base)


def formula_fixture(n=200):
    """Deterministic data with many tied scores, rebuilt identically in the Rust test."""
    i = np.arange(n)
    y = ((i * 7) % 3 == 0).astype(int)
    t = ((i * 5 + i // 3) % 2).astype(int)
    u = ((i * 13) % 17) / 17.0
    return y, u, t


def hillstrom(path):
    df = pd.read_csv(path)
    df["history_segment"] = df["history_segment"].str[0].astype(int)
    num = ["recency", "history", "mens", "womens", "newbie", "history_segment"]
    cat = ["zip_code", "channel"]

    def model():
        pre = ColumnTransformer([("num", StandardScaler(), num), ("cat", OneHotEncoder(), cat)])
        return make_pipeline(pre, LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000))

    idx = np.arange(len(df))
    test = idx % 5 == 0
    mail = (df["segment"] != "No E-Mail").to_numpy()
    for target in ["visit", "conversion"]:
        m = model().fit(df[mail & ~test], df.loc[mail & ~test, target])
        p = m.predict_proba(df[mail & test])[:, 1]
        print(f"sklearn {target} test AUC: {roc_auc_score(df.loc[mail & test, target], p):.6f}")
    tr = mail.astype(int)
    mt = model().fit(df[mail & ~test], df.loc[mail & ~test, "visit"])
    mc = model().fit(df[~mail & ~test], df.loc[~mail & ~test, "visit"])
    up = mt.predict_proba(df[test])[:, 1] - mc.predict_proba(df[test])[:, 1]
    print(f"sklearn two-model uplift visit qini: {qini_auc_score(df.loc[test, 'visit'].to_numpy(), up, tr[test]):.6f}")


if __name__ == "__main__":
    y, u, t = formula_fixture()
    print(f"formula fixture qini_auc_score: {qini_auc_score(y, u, t):.15f}")
    x, q = qini_curve(y, u, t)
    print("formula fixture curve points:", len(x), "last:", x[-1], q[-1], "area:", auc(x, q))
    if len(sys.argv) > 1:
        hillstrom(sys.argv[1])
