#!/usr/bin/env python3
"""The features of `bullseye features --families rfm,btyd,windows,cycle,mix` in pandas, for the
side-by-side benchmark (same definitions; see `bullseye features --list`).

    python3 features_pandas.py TRANSACTIONS.csv AS_OF OUT.parquet
"""
import sys

import numpy as np
import pandas as pd

path, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
as_of_day = (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days
df = pd.read_csv(path, dtype={"customer_id": str, "order_id": str, "category": str, "channel": str})
df["day"] = (pd.to_datetime(df["order_date"], format="%Y-%m-%d") - pd.Timestamp("1970-01-01")).dt.days
df = df[df["day"] <= as_of_day]

daily = df.groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index()
g = daily.groupby("customer_id", sort=True)
n = g.size()
first = g["day"].min()
last = g["day"].max()
total = g["amount"].sum()
first_total = g["amount"].first()
f = pd.DataFrame(index=n.index)
f["recency_days"] = (as_of_day - last).astype(float)
f["frequency"] = n.astype(float)
f["monetary_total"] = total
f["monetary_avg"] = total / n
f["tenure_days"] = (as_of_day - first).astype(float)
f["btyd_frequency"] = n - 1.0
f["btyd_recency"] = (last - first).astype(float)
f["btyd_t"] = (as_of_day - first).astype(float)
f["btyd_monetary_value"] = np.where(n > 1, (total - first_total) / (n - 1).clip(lower=1), 0.0)
for w in (30, 90, 365):
    inside = daily[daily["day"] > as_of_day - w].groupby("customer_id")["amount"].agg(["size", "sum"])
    f[f"occasions_{w}d"] = inside["size"].reindex(f.index, fill_value=0).astype(float)
    f[f"spend_{w}d"] = inside["sum"].reindex(f.index, fill_value=0.0)
prev = daily[(daily["day"] > as_of_day - 180) & (daily["day"] <= as_of_day - 90)]
prev = prev.groupby("customer_id")["amount"].sum().reindex(f.index, fill_value=0.0)
den = f["spend_90d"].abs() + prev.abs()
f["trend_90d"] = np.where(den > 0, (f["spend_90d"] - prev) / den.where(den > 0, 1), 0.0)
daily["gap"] = g["day"].diff()
gaps = daily.dropna(subset=["gap"]).groupby("customer_id")["gap"].agg(["mean", "median", lambda s: s.std(ddof=0)])
gaps.columns = ["mean", "median", "std"]
gaps = gaps.reindex(f.index, fill_value=0.0)
f["cycle_defined"] = (n > 1).astype(float)
f["cycle_mean_gap_days"] = gaps["mean"]
f["cycle_median_gap_days"] = gaps["median"]
f["cycle_std_gap_days"] = gaps["std"]
f["overdue_ratio"] = np.where(n > 1, f["recency_days"] / gaps["mean"].where(n > 1, 1), 0.0)

f["returns_rate"] = (df["amount"] < 0).groupby(df["customer_id"]).mean()
spend = df["amount"].clip(lower=0)
for col, prefix in (("category", "share_category"), ("channel", "share_channel")):
    top = df.groupby(col)["amount"].sum().sort_values(ascending=False).head(10).index
    level = df[col].where(df[col].isin(top), "other")
    table = spend.groupby([df["customer_id"], level]).sum().unstack(fill_value=0.0)
    share = table.div(table.sum(axis=1).where(lambda s: s > 0, 1), axis=0)
    for lv in list(top) + ["other"]:
        f[f"{prefix}_{lv}"] = share[lv] if lv in share else 0.0
    nun = df.groupby("customer_id")[col].nunique()
    if col == "category":
        f["n_categories"] = nun.astype(float)
    else:
        f["n_channels"] = nun.astype(float)
        f["multichannel"] = (nun > 1).astype(float)
f.reset_index().to_parquet(out, index=False)
print(len(f), "customers")
