#!/usr/bin/env python3
"""The features of `bullseye features --families rfm,btyd,windows,cycle,mix` in polars-python,
for the side-by-side benchmark (same definitions; see `bullseye features --list`).

    python3 features_polars.py TRANSACTIONS.csv AS_OF OUT.parquet

Also a module (used by `pipeline_polars.py`): `epoch_day`, `features` (the five families above,
lazy) and `attributes` (the `attributes` family on the synthetic customers table).
"""
import datetime as dt
import sys

import polars as pl


def epoch_day(date):
    """Days since 1970-01-01 of an ISO date string."""
    return (dt.date.fromisoformat(date) - dt.date(1970, 1, 1)).days


def top_levels(tx, col):
    """bullseye's fixed levels of a transaction column: largest summed amount, ties by name, at most 10."""
    return (
        tx.group_by(col).agg(pl.col("amount").sum())
        .sort(["amount", col], descending=[True, False]).head(10).collect()[col].to_list()
    )


def features(tx, as_of_day, levels=None):
    """rfm, btyd, windows, cycle, mix as of `as_of_day` from the lazy frame `tx` (with an Int32
    `day` column), sorted by customer_id, as a LazyFrame. `levels` = {"category": [...],
    "channel": [...]} fixes the mix levels; default: the top 10 by summed amount."""
    tx = tx.filter(pl.col("day") <= as_of_day)
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
        if levels is not None and col in levels:
            top = list(levels[col])
        else:
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
    return rfm.join(m, on="customer_id", how="left").sort("customer_id")


def customer_levels(customers, cols=("gender", "region")):
    """bullseye's fixed levels of the text attributes: most rows first, ties by name, at most 10."""
    out = {}
    for c in cols:
        s = customers.select(pl.col(c).cast(pl.String).str.strip_chars().alias("level")).filter(
            pl.col("level").is_not_null() & (pl.col("level") != ""))
        vc = s.group_by("level").len().sort(["len", "level"], descending=[True, False]).head(10)
        out[c] = vc["level"].to_list()
    return out


def attributes(ids, customers, as_of_day, levels):
    """bullseye's `attributes` family for the synthetic customers table (signup_date, age, gender,
    region, zip) on the lazy frame `ids` (one column customer_id; the result keeps its order):
    signup_date → days_since_signup (missing after the as-of day), numbers as they are (zip is
    all digits, so a number, as bullseye reads it), text one-hot on the fixed `levels` +
    `_other`; every column has a `_missing` flag and missing numbers get the median of the output
    rows."""
    c = customers.lazy().unique("customer_id", keep="first", maintain_order=True)
    j = ids.join(c, on="customer_id", how="left", maintain_order="left")
    raw = {
        "days_since_signup": pl.when(pl.col("signup_day") <= as_of_day)
        .then((as_of_day - pl.col("signup_day")).cast(pl.Float64)).otherwise(None),
        "age": pl.col("age").cast(pl.Float64),
        "zip": pl.col("zip").cast(pl.Float64),
    }
    exprs = [pl.col("customer_id")]
    for name, e in raw.items():
        exprs.append(e.fill_null(e.median().fill_null(0.0)).alias(name))
        exprs.append(e.is_null().cast(pl.Float64).alias(f"{name}_missing"))
    for col in ("gender", "region"):
        s = pl.col(col).cast(pl.String).str.strip_chars()
        present = s.is_not_null() & (s != "")
        known = pl.lit(False)
        for lv in levels[col]:
            is_lv = (s == lv).fill_null(False)
            known = known | is_lv
            exprs.append(is_lv.cast(pl.Float64).alias(f"{col}_{lv.lower()}"))
        exprs.append((present & ~known).fill_null(False).cast(pl.Float64).alias(f"{col}_other"))
        exprs.append((~present).fill_null(True).cast(pl.Float64).alias(f"{col}_missing"))
    return j.select(exprs)


def main():
    path, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
    tx = (
        pl.scan_csv(path, schema_overrides={"customer_id": pl.String, "order_id": pl.String})
        .with_columns(pl.col("order_date").str.to_date("%Y-%m-%d").cast(pl.Int32).alias("day"))
    )
    f = features(tx, epoch_day(as_of)).collect()
    f.write_parquet(out)
    print(f.height, "customers")


if __name__ == "__main__":
    main()
