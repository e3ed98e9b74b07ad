#!/usr/bin/env python3
"""The features of `bullseye features --families rfm,btyd,windows,cycle,mix` in polars-python,
for the side-by-side benchmark (same definitions; see `bullseye features --list`).

    python3 features_polars.py TRANSACTIONS.csv AS_OF OUT.parquet
"""
import datetime as dt
import sys

import polars as pl

path, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
as_of_day = (dt.date.fromisoformat(as_of) - dt.date(1970, 1, 1)).days
tx = (
    pl.scan_csv(path, schema_overrides={"customer_id": pl.String, "order_id": pl.String})
    .with_columns(pl.col("order_date").str.to_date("%Y-%m-%d").cast(pl.Int32).alias("day"))
    .filter(pl.col("day") <= as_of_day)
)
daily = (
    tx.group_by("customer_id", "day")
    .agg(pl.col("amount").sum().alias("day_total"))
    .sort("customer_id", "day")
    .with_columns((pl.col("day") - pl.col("day").shift(1).over("customer_id")).cast(pl.Float64).alias("gap"))
)
inside = lambda w: pl.col("day") > as_of_day - w
agg = daily.group_by("customer_id").agg(
    n=pl.len(),
    first=pl.col("day").min(),
    last=pl.col("day").max(),
    total=pl.col("day_total").sum(),
    repeat=pl.col("day_total").filter(pl.col("day") > pl.col("day").min()).sum(),
    **{f"occasions_{w}d": pl.col("day").filter(inside(w)).count() for w in (30, 90, 365)},
    **{f"spend_{w}d": pl.col("day_total").filter(inside(w)).sum() for w in (30, 90, 365)},
    prev=pl.col("day_total").filter((pl.col("day") > as_of_day - 180) & (pl.col("day") <= as_of_day - 90)).sum(),
    gm=pl.col("gap").mean(),
    gmed=pl.col("gap").median(),
    gs=pl.col("gap").std(ddof=0),
)
has_gap = pl.col("n") > 1
den = pl.col("spend_90d").abs() + pl.col("prev").abs()
rfm = agg.select(
    "customer_id",
    recency_days=(as_of_day - pl.col("last")).cast(pl.Float64),
    frequency=pl.col("n").cast(pl.Float64),
    monetary_total=pl.col("total"),
    monetary_avg=pl.col("total") / pl.col("n"),
    tenure_days=(as_of_day - pl.col("first")).cast(pl.Float64),
    btyd_frequency=pl.col("n") - 1.0,
    btyd_recency=(pl.col("last") - pl.col("first")).cast(pl.Float64),
    btyd_t=(as_of_day - pl.col("first")).cast(pl.Float64),
    btyd_monetary_value=pl.when(has_gap).then(pl.col("repeat") / (pl.col("n") - 1)).otherwise(0.0),
    **{f"occasions_{w}d": pl.col(f"occasions_{w}d").cast(pl.Float64) for w in (30, 90, 365)},
    **{f"spend_{w}d": pl.col(f"spend_{w}d") for w in (30, 90, 365)},
    trend_90d=pl.when(den > 0).then((pl.col("spend_90d") - pl.col("prev")) / den).otherwise(0.0),
    cycle_defined=has_gap.cast(pl.Float64),
    cycle_mean_gap_days=pl.when(has_gap).then(pl.col("gm")).otherwise(0.0),
    cycle_median_gap_days=pl.when(has_gap).then(pl.col("gmed")).otherwise(0.0),
    cycle_std_gap_days=pl.when(has_gap).then(pl.col("gs")).otherwise(0.0),
    overdue_ratio=pl.when(has_gap).then((as_of_day - pl.col("last")) / pl.col("gm")).otherwise(0.0),
)
mix = [(pl.col("amount") < 0).cast(pl.Float64).mean().alias("returns_rate")]
spend = pl.col("amount").clip(lower_bound=0)
for col, prefix in (("category", "share_category"), ("channel", "share_channel")):
    top = tx.group_by(col).agg(pl.col("amount").sum()).sort("amount", descending=True).head(10).collect()[col].to_list()
    total = spend.sum()
    for lv in top:
        mix.append(pl.when(total > 0).then(spend.filter(pl.col(col) == lv).sum() / total).otherwise(0.0).alias(f"{prefix}_{lv}"))
    mix.append(pl.when(total > 0).then(spend.filter(~pl.col(col).is_in(top)).sum() / total).otherwise(0.0).alias(f"{prefix}_other"))
    if col == "category":
        mix.append(pl.col(col).n_unique().cast(pl.Float64).alias("n_categories"))
    else:
        mix.append(pl.col(col).n_unique().cast(pl.Float64).alias("n_channels"))
        mix.append((pl.col(col).n_unique() > 1).cast(pl.Float64).alias("multichannel"))
m = tx.group_by("customer_id").agg(mix)
f = rfm.join(m, on="customer_id", how="left").sort("customer_id").collect()
f.write_parquet(out)
print(f.height, "customers")
