#!/usr/bin/env python3
"""The end-to-end job of `bench/pipeline.py` in pandas + scikit-learn, as a notebook would write
it: read the synthetic data, features as of the as-of day, k-means, the response model on the
campaign history with point-in-time features, scoring, a budgeted e-mail selection, audience.csv.

    python3 pipeline_pandas.py DATA_DIR OUT_DIR --budget 500 [--as-of 2024-12-31] [--k 5]
        [--n-init 3] [--seed 7] [--cost 0.10] [--value 40] [--control 0.10]
        [--train-features contacted|all]

Prints one JSON line: per-stage in-process seconds (read, features, kmeans, train, score,
select, write), the total, and the figures the benchmark compares across implementations.
"""
import os

import numpy as np
import pandas as pd

import features_pandas as fp
import pipeline_common as pc


def read(data):
    """Reads the three tables with types; rows whose required values do not parse are dropped
    and counted (a notebook's validation; bullseye also rejects duplicates and future dates)."""
    rejected = {}
    tx = pd.read_csv(os.path.join(data, "transactions.csv"),
                     dtype={"customer_id": str, "order_id": str, "category": str, "channel": str})
    tx = fp.add_day(tx)
    if not pd.api.types.is_numeric_dtype(tx["amount"]):
        tx["amount"] = pd.to_numeric(tx["amount"], errors="coerce")
    bad = tx[["customer_id", "day", "amount"]].isna().any(axis=1) | ~np.isfinite(tx["amount"])
    rejected["transactions"] = int(bad.sum())
    if bad.any():
        tx = tx[~bad]
    tx["day"] = tx["day"].astype(np.int32)

    cu = pd.read_csv(os.path.join(data, "customers.csv"),
                     dtype={"customer_id": str, "gender": str, "region": str})
    cu["signup_day"] = (pd.to_datetime(cu["signup_date"], format="%Y-%m-%d", errors="coerce") - fp.EPOCH).dt.days
    for c in ("age", "zip"):
        if not pd.api.types.is_numeric_dtype(cu[c]):
            cu[c] = pd.to_numeric(cu[c], errors="coerce")
    bad = cu["customer_id"].isna() | (cu["signup_day"].isna() & cu["signup_date"].notna())
    rejected["customers"] = int(bad.sum())
    cu = cu[~bad]

    co = pd.read_csv(os.path.join(data, "campaign_history.csv"),
                     dtype={"customer_id": str, "campaign_id": str, "channel": str})
    co["day"] = (pd.to_datetime(co["sent_date"], format="%Y-%m-%d", errors="coerce") - fp.EPOCH).dt.days
    for c in ("responded", "revenue"):
        if not pd.api.types.is_numeric_dtype(co[c]):
            co[c] = pd.to_numeric(co[c], errors="coerce")
    bad = co[["customer_id", "day", "responded"]].isna().any(axis=1) | ~co["responded"].isin([0, 1])
    rejected["contacts"] = int(bad.sum())
    co = co[~bad]
    co["day"] = co["day"].astype(np.int32)
    return tx, cu, co, rejected


def all_features(tx, cu, as_of_day, levels):
    f = fp.features(tx, as_of_day, levels)
    a = fp.attributes(f.index, cu, as_of_day, levels)
    return pd.concat([f, a], axis=1)


def main():
    args = pc.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t = pc.Timer()

    tx, cu, co, rejected = read(args.data)
    t.lap("read")

    as_of_day = fp.epoch_day(args.as_of)
    # Categorical levels fixed once (as bullseye does for the training rows), so every date and
    # today's features have the same columns.
    levels = {c: fp.top_levels(tx[tx["day"] <= as_of_day], c) for c in ("category", "channel")}
    levels.update(fp.customer_levels(cu))
    today = all_features(tx, cu, as_of_day, levels)
    t.lap("features")

    labels, inertia = pc.kmeans(today[pc.KMEANS_COLUMNS].to_numpy(float), args.k, args.n_init, args.seed)
    t.lap("kmeans")

    # Training rows: per send date, the contacted customers' features as of the day before.
    parts = []
    for d, rows in co.groupby("day", sort=True):
        sub = tx if args.train_features == "all" else tx[tx["customer_id"].isin(rows["customer_id"].unique())]
        f = all_features(sub, cu, int(d) - 1, levels)
        parts.append(rows[["customer_id", "day", "responded"]].join(f, on="customer_id", how="inner"))
    rows = pd.concat(parts, ignore_index=True)
    cols = list(today.columns)
    t_rows = t.split()
    sc, model, auc, n_hold, iters = pc.train_response(
        rows[cols].to_numpy(float), rows["responded"].to_numpy(int), rows["day"].to_numpy())
    t.lap("train")

    score = model.predict_proba(sc.transform(today[cols].to_numpy(float)))[:, 1]
    t.lap("score")

    ids, s, profit, ctrl = pc.select(today.index.to_numpy(), score, args.budget, args.cost, args.value,
                                     args.control, args.seed)
    t.lap("select")

    pd.DataFrame({"rank": np.arange(1, len(ids) + 1), "customer_id": ids, "channel": "email",
                  "group": np.where(ctrl, "control", "target"), "score": s, "expected_profit": profit}
                 ).to_csv(os.path.join(args.out, "audience.csv"), index=False)
    t.lap("write")

    pc.report("pandas", t, {
        "rejected": rejected, "customers": int(len(today)), "feature_columns": len(cols),
        "train_rows": int(len(rows)), "holdout_rows": n_hold, "auc": auc, "lbfgs_iterations": iters,
        "train_features": args.train_features, "train_rows_seconds": round(t_rows, 4), "train_fit_seconds": round(t.stages["train"] - t_rows, 4),
        "inertia": inertia, "cluster_sizes": sorted(np.bincount(labels).tolist(), reverse=True),
        "mean_score": float(score.mean()), "audience": int(len(ids)), "target": int((~ctrl).sum()),
        "control": int(ctrl.sum()), "expected_profit_target": float(profit[~ctrl].sum()),
    })


if __name__ == "__main__":
    main()
