//! The `mix` family: what, where and how a customer buys (category, channel, payment shares,
//! returns and discounts). Levels are the most important ones overall (by spend, or by line count
//! for payment methods), capped, with the rest pooled as `other`; a caller can fix the levels
//! (a model's training levels) so the schema is the same at every date.

use polars::prelude::*;

use super::key::KEY;
use super::levels::top_levels;
use super::purchase::fixed_point;
use super::{FeatureError, FeatureParams};

/// The transaction columns the mix family uses beyond amounts.
const COLUMNS: [&str; 4] = ["category", "channel", "payment_method", "discount"];

/// Whether the transactions carry any column the mix family uses beyond amounts.
pub(super) fn available(transactions: &DataFrame) -> bool {
    COLUMNS.iter().any(|c| transactions.column(c).is_ok())
}

/// The columns of `transactions` the mix family reads.
pub(super) fn columns(transactions: &DataFrame) -> Vec<&'static str> {
    COLUMNS
        .into_iter()
        .filter(|c| transactions.column(c).is_ok())
        .collect()
}

/// Lower-case ASCII letters, digits and underscores: safe in column names and in SQL.
pub(crate) fn sanitize(level: &str) -> String {
    let mut s: String = level
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() {
        "blank".to_string()
    } else {
        s
    }
}

/// The kept levels of a categorical column: fixed by the caller, else the top `cap` by `weight`
/// (ties by level name).
fn levels(
    lines: &LazyFrame,
    column: &str,
    weight: Expr,
    params: &FeatureParams,
) -> PolarsResult<Vec<String>> {
    match params.levels.get(column) {
        Some(fixed) => Ok(fixed.clone()),
        None => top_levels(lines.clone(), col(column), weight, params.level_cap),
    }
}

/// `params` with the levels of every categorical mix column fixed to those `build` would find
/// in `lines`, so a build over a subset of the lines keeps the whole table's levels.
pub(super) fn fix_levels(lines: &LazyFrame, params: &FeatureParams) -> PolarsResult<FeatureParams> {
    let schema = lines.clone().collect_schema()?;
    let mut params = params.clone();
    for (column, weight) in [
        ("category", col("amount")),
        ("channel", col("amount")),
        ("payment_method", lit(1.0)),
    ] {
        if schema.contains(column) && !params.levels.contains_key(column) {
            let lv = levels(lines, column, weight, &params)?;
            params.levels.insert(column.to_string(), lv);
        }
    }
    Ok(params)
}

/// Shares per kept level plus `other`, weighted by `weight` per line, over the customer's total.
/// Each part is summed inside the aggregation (`sums`), so no line-length column per level is
/// ever held; the shares are ratios of those sums (`ratios`). Weights are whole numbers (spend in
/// fixed-point units, or one per line), so the sums are exact and `other` is the total minus the
/// kept levels.
struct Shares {
    sums: Vec<Expr>,
    ratios: Vec<Expr>,
}

fn shares(column: &str, prefix: &str, levels: &[String], weight: Expr, out: &mut Shares) {
    let total = format!("__{prefix}_total");
    out.sums.push(weight.clone().sum().alias(total.as_str()));
    let ratio = |part: Expr, name: String| {
        when(col(total.as_str()).gt(lit(0.0)))
            .then(part / col(total.as_str()))
            .otherwise(lit(0.0))
            .alias(name)
    };
    let mut kept = Vec::with_capacity(levels.len());
    for level in levels {
        let name = format!("{prefix}_{}", sanitize(level));
        let part = format!("__{name}");
        let is = col(column).eq(lit(level.as_str())).fill_null(lit(false));
        out.sums.push(
            when(is)
                .then(weight.clone())
                .otherwise(lit(0.0))
                .sum()
                .alias(part.as_str()),
        );
        out.ratios.push(ratio(col(part.as_str()), name));
        kept.push(col(part.as_str()));
    }
    let other = kept
        .into_iter()
        .fold(col(total.as_str()), |rest, part| rest - part);
    out.ratios.push(ratio(other, format!("{prefix}_other")));
}

/// `lines`: sorted by customer (see `key::sorted_lines`).
pub(super) fn build(lines: &DataFrame, params: &FeatureParams) -> Result<DataFrame, FeatureError> {
    let schema = lines.schema().clone();
    let lines = lines.clone().lazy();
    let has = |c: &str| schema.contains(c);
    // One per order line (amount is a required column, never null).
    let line = col("amount").is_not_null().cast(DataType::Float64);
    // Positive spend in exact fixed-point units (order-independent sums, like the rfm family).
    let spend = fixed_point(col("amount"))
        .clip_min(lit(0i64))
        .cast(DataType::Float64);
    let mut sh = Shares {
        sums: vec![],
        ratios: vec![],
    };
    let mut aggs = vec![col("amount")
        .lt(lit(0.0))
        .cast(DataType::Float64)
        .mean()
        .alias("returns_rate")];
    let mut order = vec![col(KEY), col("returns_rate")];
    if has("category") {
        let lv = levels(&lines, "category", col("amount"), params)?;
        aggs.push(
            col("category")
                .drop_nulls()
                .n_unique()
                .cast(DataType::Float64)
                .alias("n_categories"),
        );
        order.push(col("n_categories"));
        let first = sh.ratios.len();
        shares("category", "share_category", &lv, spend.clone(), &mut sh);
        order.extend(sh.ratios[first..].iter().map(output_name));
    }
    if has("channel") {
        let lv = levels(&lines, "channel", col("amount"), params)?;
        let n = col("channel").drop_nulls().n_unique();
        aggs.push(n.clone().cast(DataType::Float64).alias("n_channels"));
        aggs.push(n.gt(lit(1)).cast(DataType::Float64).alias("multichannel"));
        order.extend([col("n_channels"), col("multichannel")]);
        let first = sh.ratios.len();
        shares("channel", "share_channel", &lv, spend, &mut sh);
        order.extend(sh.ratios[first..].iter().map(output_name));
    }
    if has("discount") {
        aggs.push(
            col("discount")
                .fill_null(lit(0.0))
                .gt(lit(0.0))
                .cast(DataType::Float64)
                .mean()
                .alias("discount_share"),
        );
        order.push(col("discount_share"));
    }
    if has("payment_method") {
        let lv = levels(&lines, "payment_method", lit(1.0), params)?;
        let first = sh.ratios.len();
        shares("payment_method", "share_payment", &lv, line, &mut sh);
        order.extend(sh.ratios[first..].iter().map(output_name));
    }
    aggs.extend(sh.sums);
    Ok(lines
        .group_by_stable([col(KEY)])
        .agg(aggs)
        .with_columns(sh.ratios)
        .select(order)
        .collect()?)
}

/// The output column an aliased expression produces.
fn output_name(e: &Expr) -> Expr {
    match e {
        Expr::Alias(_, name) => col(name.clone()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn level_names_are_safe_column_names() {
        assert_eq!(sanitize("Home & Garden"), "home_garden");
        assert_eq!(sanitize("  Web "), "web");
        assert_eq!(sanitize("€"), "blank");
    }
}
