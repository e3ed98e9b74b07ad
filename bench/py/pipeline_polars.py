#!/usr/bin/env python3
"""The end-to-end job of `bench/pipeline.py` in polars-python + scikit-learn: read the synthetic
data, features as of the as-of day, k-means, the response model on the campaign history with
point-in-time features, scoring, a budgeted e-mail selection, audience.csv.

    python3 pipeline_polars.py DATA_DIR OUT_DIR --budget 500 [--as-of 2024-12-31] [--k 5]
        [--n-init 3] [--seed 7] [--cost 0.10] [--value 40] [--control 0.10]
        [--train-features contacted|all]

Prints one JSON line: per-stage in-process seconds (read, features, kmeans, train, score,
select, write), the total, and the figures the benchmark compares across implementations.
"""
import os

import numpy as np
import polars as pl

import features_polars as fl
import pipeline_common as pc


def read(data):
    """Reads the three tables with types; values that do not parse become null (ignore_errors)
    and rows with a null required value are dropped and counted (a notebook's validation;
    bullseye also rejects duplicates and future dates)."""
    rejected = {}
    tx = pl.read_csv(os.path.join(data, "transactions.csv"), ignore_errors=True, schema_overrides={
        "customer_id": pl.String, "order_id": pl.String, "order_date": pl.String, "amount": pl.Float64,
        "category": pl.String, "channel": pl.String})
    n = tx.height
    tx = tx.with_columns(pl.col("order_date").str.to_date("%Y-%m-%d", strict=False).cast(pl.Int32).alias("day")) \
        .filter(pl.col("customer_id").is_not_null() & pl.col("day").is_not_null() & pl.col("amount").is_finite())
    rejected["transactions"] = n - tx.height

    cu = pl.read_csv(os.path.join(data, "customers.csv"), ignore_errors=True, schema_overrides={
        "customer_id": pl.String, "signup_date": pl.String, "age": pl.Float64, "gender": pl.String,
        "region": pl.String, "zip": pl.Float64})
    n = cu.height
    cu = cu.with_columns(pl.col("signup_date").str.to_date("%Y-%m-%d", strict=False).cast(pl.Int32).alias("signup_day")) \
        .filter(pl.col("customer_id").is_not_null() & (pl.col("signup_day").is_not_null() | pl.col("signup_date").is_null()))
    rejected["customers"] = n - cu.height

    co = pl.read_csv(os.path.join(data, "campaign_history.csv"), ignore_errors=True, schema_overrides={
        "customer_id": pl.String, "campaign_id": pl.String, "sent_date": pl.String, "channel": pl.String,
        "responded": pl.Int64, "revenue": pl.Float64})
    n = co.height
    co = co.with_columns(pl.col("sent_date").str.to_date("%Y-%m-%d", strict=False).cast(pl.Int32).alias("day")) \
        .filter(pl.col("customer_id").is_not_null() & pl.col("day").is_not_null() & pl.col("responded").is_in([0, 1]))
    rejected["contacts"] = n - co.height
    return tx, cu, co, rejected


def all_features(tx, cu, as_of_day, levels):
    f = fl.features(tx, as_of_day, levels)
    a = fl.attributes(f.select("customer_id"), cu, as_of_day, levels)
    return f.join(a, on="customer_id", how="left", maintain_order="left")


def main():
    args = pc.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t = pc.Timer()

    tx, cu, co, rejected = read(args.data)
    t.lap("read")

    as_of_day = fl.epoch_day(args.as_of)
    txl = tx.lazy()
    # Categorical levels fixed once (as bullseye does for the training rows), so every date and
    # today's features have the same columns.
    levels = {c: fl.top_levels(txl.filter(pl.col("day") <= as_of_day), c) for c in ("category", "channel")}
    levels.update(fl.customer_levels(cu))
    today = all_features(txl, cu, as_of_day, levels).collect()
    cols = [c for c in today.columns if c != "customer_id"]
    t.lap("features")

    labels, inertia = pc.kmeans(today.select(pc.KMEANS_COLUMNS).to_numpy().astype(float), args.k, args.n_init, args.seed)
    t.lap("kmeans")

    # Training rows: per send date, the contacted customers' features as of the day before.
    parts = []
    for d in co.get_column("day").unique().sort().to_list():
        rows = co.lazy().filter(pl.col("day") == d).select("customer_id", "day", "responded")
        sub = txl if args.train_features == "all" else txl.join(rows.select("customer_id").unique(), on="customer_id", how="semi")
        f = all_features(sub, cu, d - 1, levels)
        parts.append(rows.join(f, on="customer_id", how="inner"))
    rows = pl.concat(pl.collect_all(parts))
    t_rows = t.split()
    sc, model, auc, n_hold, iters = pc.train_response(
        rows.select(cols).to_numpy().astype(float), rows["responded"].to_numpy(), rows["day"].to_numpy())
    t.lap("train")

    score = model.predict_proba(sc.transform(today.select(cols).to_numpy().astype(float)))[:, 1]
    t.lap("score")

    ids, s, profit, ctrl = pc.select(today["customer_id"].to_numpy(), score, args.budget, args.cost, args.value,
                                     args.control, args.seed)
    t.lap("select")

    pl.DataFrame({"rank": np.arange(1, len(ids) + 1), "customer_id": ids, "channel": ["email"] * len(ids),
                  "group": np.where(ctrl, "control", "target"), "score": s, "expected_profit": profit}
                 ).write_csv(os.path.join(args.out, "audience.csv"))
    t.lap("write")

    pc.report("polars", t, {
        "rejected": rejected, "customers": int(today.height), "feature_columns": len(cols),
        "train_rows": int(rows.height), "holdout_rows": n_hold, "auc": auc, "lbfgs_iterations": iters,
        "train_features": args.train_features, "train_rows_seconds": round(t_rows, 4), "train_fit_seconds": round(t.stages["train"] - t_rows, 4),
        "inertia": inertia, "cluster_sizes": sorted(np.bincount(labels).tolist(), reverse=True),
        "mean_score": float(score.mean()), "audience": int(len(ids)), "target": int((~ctrl).sum()),
        "control": int(ctrl.sum()), "expected_profit_target": float(profit[~ctrl].sum()),
    })


if __name__ == "__main__":
    main()
