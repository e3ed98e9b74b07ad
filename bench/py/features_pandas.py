#!/usr/bin/env python3
"""The features of `bullseye features --families rfm,btyd,windows,cycle,mix` in pandas, for the
side-by-side benchmark (same definitions; see `bullseye features --list`).

    python3 features_pandas.py TRANSACTIONS.csv AS_OF OUT.parquet

Also a module (used by `pipeline_pandas.py`): `epoch_day`, `add_day`, `features` (the five
families above) and `attributes` (the `attributes` family on the synthetic customers table).
"""
import sys

import numpy as np
import pandas as pd

EPOCH = pd.Timestamp("1970-01-01")


def epoch_day(date):
    """Days since 1970-01-01 of an ISO date string."""
    return (pd.Timestamp(date) - EPOCH).days


def add_day(df):
    """Adds the integer `day` (days since 1970-01-01) of `order_date`; unparsable dates → NaN."""
    df["day"] = (pd.to_datetime(df["order_date"], format="%Y-%m-%d", errors="coerce") - EPOCH).dt.days
    return df


def top_levels(df, col):
    """bullseye's fixed levels of a transaction column: largest summed amount, ties by name, at most 10."""
    s = df.groupby(col)["amount"].sum().reset_index()
    return list(s.sort_values(["amount", col], ascending=[False, True]).head(10)[col])


def features(df, as_of_day, levels=None):
    """rfm, btyd, windows, cycle, mix as of `as_of_day` (orders on or before it), one row per
    customer indexed by customer_id (sorted). `levels` = {"category": [...], "channel": [...]}
    fixes the mix levels (training rows: the same columns for every date); default: the top 10
    of the rows by summed amount."""
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
        if levels is not None and col in levels:
            top = pd.Index(levels[col])
        else:
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
    return f


def customer_levels(customers, cols=("gender", "region")):
    """bullseye's fixed levels of the text attributes: most rows first, ties by name, at most 10."""
    out = {}
    for c in cols:
        s = customers[c].dropna().astype(str).str.strip()
        vc = s[s != ""].value_counts().reset_index()
        vc.columns = ["level", "n"]
        out[c] = list(vc.sort_values(["n", "level"], ascending=[False, True]).head(10)["level"])
    return out


def attributes(ids, customers, as_of_day, levels):
    """bullseye's `attributes` family for the synthetic customers table (signup_date, age, gender,
    region, zip) on the customers `ids` (index of the result): signup_date → days_since_signup
    (missing after the as-of day), numbers as they are (zip is all digits, so a number, as
    bullseye reads it), text one-hot on the fixed `levels` + `_other`; every column has a
    `_missing` flag and missing numbers get the median of the output rows."""
    c = customers.drop_duplicates("customer_id").set_index("customer_id").reindex(ids)
    out = pd.DataFrame(index=ids)
    days = (as_of_day - c["signup_day"]).where(c["signup_day"] <= as_of_day)
    for name, v in (("days_since_signup", days), ("age", c["age"].astype(float)), ("zip", c["zip"].astype(float))):
        out[name] = v.fillna(v.median() if v.notna().any() else 0.0)
        out[f"{name}_missing"] = v.isna().astype(float)
    for col in ("gender", "region"):
        s = c[col].astype("string").str.strip()
        present = s.notna() & (s != "")
        known = pd.Series(False, index=ids)
        for lv in levels[col]:
            is_lv = (s == lv).fillna(False).astype(bool)
            known |= is_lv
            out[f"{col}_{lv.lower()}"] = is_lv.astype(float)
        out[f"{col}_other"] = (present & ~known).fillna(False).astype(float)
        out[f"{col}_missing"] = (~present.fillna(False)).astype(float)
    return out


def main():
    path, as_of, out = sys.argv[1], sys.argv[2], sys.argv[3]
    df = pd.read_csv(path, dtype={"customer_id": str, "order_id": str, "category": str, "channel": str})
    df = add_day(df)
    f = features(df, epoch_day(as_of))
    f.reset_index().to_parquet(out, index=False)
    print(len(f), "customers")


if __name__ == "__main__":
    main()
