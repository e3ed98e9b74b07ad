//! The purchase-history families (rfm, btyd, windows, cycle), from one daily table.
//!
//! Lines are first summed per customer and day (a day is one purchase occasion, as in the CLV
//! literature), then one group-by per customer computes every family at once.

use chrono::NaiveDate;
use polars::prelude::*;

use super::key::{self, CUSTOMER_DAY, DAY, KEY};
use super::{epoch_day, Family, FeatureError, TimeUnit};

/// Amounts are summed exactly as integers in units of 1/10,000 of the currency, so sums (and
/// every feature built on them) do not depend on row order, as floating-point sums would.
pub(super) const FIXED_POINT_SCALE: f64 = 10_000.0;

pub(super) fn fixed_point(amount: Expr) -> Expr {
    (amount * lit(FIXED_POINT_SCALE))
        .round(0, RoundMode::default())
        .cast(DataType::Int64)
}

pub(super) fn from_fixed(sum: Expr) -> Expr {
    div_exact(sum.cast(DataType::Float64), FIXED_POINT_SCALE)
}

/// `e / d`, correctly rounded for every row. polars divides a column by a scalar as a
/// multiplication by `1 / d` (63000 / 10000 → 6.2999999999999998) but a one-row column exactly
/// (→ 6.3), so results would depend on how rows happen to be chunked; dividing by a column of
/// `d`s takes the exact path everywhere (the values are finite, so `e·0 + d` is `d`).
pub(super) fn div_exact(e: Expr, d: f64) -> Expr {
    e.clone() / (e * lit(0.0) + lit(d))
}

fn f64c(e: Expr) -> Expr {
    e.cast(DataType::Float64)
}

/// Window lengths of the `windows` family, in days.
const WINDOWS: [i32; 3] = [30, 90, 365];

pub(super) fn build(
    lines: &DataFrame,
    as_of: NaiveDate,
    families: &[Family],
    unit: TimeUnit,
) -> Result<DataFrame, FeatureError> {
    let as_of_day = epoch_day(as_of);
    let cycle = families.contains(&Family::Cycle);
    // The lines are sorted by customer and day (see `key::sorted_lines`), so both group-bys
    // below take polars' sorted path (contiguous slices, no hashing) and the daily table comes
    // out in the order the gaps need.
    let daily = lines
        .clone()
        .lazy()
        .group_by_stable([col(CUSTOMER_DAY)])
        .agg([
            col(KEY).first(),
            col(DAY).first(),
            fixed_point(col("amount")).sum().alias("day_total"),
        ])
        .collect()?;
    let mut daily = key::flag_sorted(daily, KEY)?.lazy();
    // Window memberships become plain columns of the daily table so the per-customer group-by
    // only sums columns (filters inside an aggregation are much slower in polars).
    let mut flat = Vec::new();
    for w in WINDOWS {
        let inside = col(DAY).gt(lit(as_of_day - w));
        flat.push(
            inside
                .clone()
                .cast(DataType::Int64)
                .alias(format!("in_{w}")),
        );
        flat.push(
            when(inside)
                .then(col("day_total"))
                .otherwise(lit(0i64))
                .alias(format!("spend_in_{w}")),
        );
    }
    let previous_90 = col(DAY)
        .gt(lit(as_of_day - 180))
        .and(col(DAY).lt_eq(lit(as_of_day - 90)));
    flat.push(
        when(previous_90)
            .then(col("day_total"))
            .otherwise(lit(0i64))
            .alias("spend_prev_in"),
    );
    daily = daily.with_columns(flat);
    if cycle {
        // A customer's previous day is the previous row when it has the same key, which is
        // cheaper than a shift over a window partitioned by customer.
        let same_customer = col(KEY).eq(col(KEY).shift(lit(1)));
        daily = daily.with_column(
            when(same_customer)
                .then(col(DAY) - col(DAY).shift(lit(1)))
                .otherwise(lit(NULL).cast(DataType::Int32))
                .cast(DataType::Float64)
                .alias("gap"),
        );
    }

    let mut aggs = vec![
        len().alias("n_days"),
        col(DAY).first().alias("first_day"),
        col(DAY).last().alias("last_day"),
        col("day_total").sum().alias("total_fp"),
        // The first day's total, to leave it out of the repeat mean.
        col("day_total").first().alias("first_total_fp"),
        from_fixed(col("spend_prev_in").sum()).alias("spend_prev_90d"),
    ];
    for w in WINDOWS {
        aggs.push(
            col(format!("in_{w}").as_str())
                .sum()
                .alias(format!("occasions_{w}d")),
        );
        aggs.push(
            from_fixed(col(format!("spend_in_{w}").as_str()).sum()).alias(format!("spend_{w}d")),
        );
    }
    if cycle {
        aggs.extend([
            col("gap").mean().alias("gap_mean"),
            col("gap").median().alias("gap_median"),
            // Gaps are whole days, so these sums are exact and the standard deviation below
            // does not depend on how the engine splits a customer's rows (a merged running
            // variance does, in the last bits).
            col("gap").sum().alias("gap_sum"),
            (col("gap") * col("gap")).sum().alias("gap_sq_sum"),
        ]);
    }
    let mut per_customer = daily.group_by_stable([col(KEY)]).agg(aggs);
    if cycle {
        // Population variance of k gaps: (k·Σg² − (Σg)²) / k², exact up to the last division.
        let k = f64c(col("n_days") - lit(1));
        per_customer = per_customer.with_column(
            ((k.clone() * col("gap_sq_sum") - col("gap_sum") * col("gap_sum")) / (k.clone() * k))
                .clip_min(lit(0.0))
                .sqrt()
                .alias("gap_std"),
        );
    }
    let per_customer = per_customer.with_columns([
        from_fixed(col("total_fp")).alias("monetary_total"),
        (from_fixed(col("total_fp") - col("first_total_fp"))
            / (col("n_days") - lit(1)).cast(DataType::Float64))
        .alias("repeat_mean"),
    ]);

    let n = f64c(col("n_days"));
    let recency = f64c(lit(as_of_day) - col("last_day"));
    let tenure = f64c(lit(as_of_day) - col("first_day"));
    let has_gap = col("n_days").gt(lit(1));
    let zero_unless_gap = |e: Expr| {
        when(has_gap.clone())
            .then(e.fill_null(lit(0.0)))
            .otherwise(lit(0.0))
    };
    let mut columns = vec![col(KEY)];
    for family in families {
        match family {
            Family::Rfm => columns.extend([
                recency.clone().alias("recency_days"),
                n.clone().alias("frequency"),
                col("monetary_total"),
                (col("monetary_total") / n.clone()).alias("monetary_avg"),
                tenure.clone().alias("tenure_days"),
            ]),
            Family::Btyd => columns.extend([
                (n.clone() - lit(1.0)).alias("btyd_frequency"),
                div_exact(f64c(col("last_day") - col("first_day")), unit.days())
                    .alias("btyd_recency"),
                div_exact(tenure.clone(), unit.days()).alias("btyd_t"),
                when(col("n_days").gt(lit(1)))
                    .then(col("repeat_mean"))
                    .otherwise(lit(0.0))
                    .alias("btyd_monetary_value"),
            ]),
            Family::Windows => {
                let recent = col("spend_90d");
                let previous = col("spend_prev_90d");
                let denom = recent.clone().abs() + previous.clone().abs();
                columns.extend([
                    f64c(col("occasions_30d")),
                    f64c(col("spend_30d")),
                    f64c(col("occasions_90d")),
                    f64c(col("spend_90d")),
                    f64c(col("occasions_365d")),
                    f64c(col("spend_365d")),
                    when(denom.clone().gt(lit(0.0)))
                        .then((recent - previous) / denom)
                        .otherwise(lit(0.0))
                        .alias("trend_90d"),
                ])
            }
            Family::Cycle => columns.extend([
                f64c(has_gap.clone()).alias("cycle_defined"),
                zero_unless_gap(col("gap_mean")).alias("cycle_mean_gap_days"),
                zero_unless_gap(col("gap_median")).alias("cycle_median_gap_days"),
                zero_unless_gap(col("gap_std")).alias("cycle_std_gap_days"),
                zero_unless_gap(recency.clone() / col("gap_mean")).alias("overdue_ratio"),
            ]),
            Family::Mix | Family::Attributes => {}
        }
    }
    Ok(per_customer.select(columns).collect()?)
}
