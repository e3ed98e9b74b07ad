//! The `mix` family: what, where and how a customer buys (category, channel, payment shares,
//! returns and discounts). Levels are the most important ones overall (by spend, or by line count
//! for payment methods), capped, with the rest pooled as `other`; a caller can fix the levels
//! (a model's training levels) so the schema is the same at every date.

use polars::prelude::*;

use super::levels::top_levels;
use super::purchase::fixed_point;
use super::{collect_streaming, FeatureError, FeatureParams};

/// Whether the transactions carry any column the mix family uses beyond amounts.
pub(super) fn available(transactions: &DataFrame) -> bool {
    ["category", "channel", "payment_method", "discount"]
        .iter()
        .any(|c| transactions.column(c).is_ok())
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
/// The weighted parts become plain columns of the lines (`flat`) so the group-by only sums
/// columns; the shares are ratios of those sums (`ratios`).
struct Shares {
    flat: Vec<Expr>,
    sums: Vec<Expr>,
    ratios: Vec<Expr>,
}

fn shares(column: &str, prefix: &str, levels: &[String], weight: Expr, out: &mut Shares) {
    let total = format!("__{prefix}_total");
    out.flat.push(weight.clone().alias(total.as_str()));
    out.sums.push(col(total.as_str()).sum());
    let mut push = |mask: Expr, name: String| {
        let part = format!("__{name}");
        out.flat.push(
            when(mask)
                .then(weight.clone())
                .otherwise(lit(0.0))
                .alias(part.as_str()),
        );
        out.sums.push(col(part.as_str()).sum());
        out.ratios.push(
            when(col(total.as_str()).gt(lit(0.0)))
                .then(col(part.as_str()) / col(total.as_str()))
                .otherwise(lit(0.0))
                .alias(name),
        );
    };
    let mut known = lit(false);
    for level in levels {
        let is = col(column).eq(lit(level.as_str())).fill_null(lit(false));
        known = known.or(is.clone());
        push(is, format!("{prefix}_{}", sanitize(level)));
    }
    push(known.not(), format!("{prefix}_other"));
}

pub(super) fn build(lines: LazyFrame, params: &FeatureParams) -> Result<DataFrame, FeatureError> {
    let schema = lines.clone().collect_schema()?;
    let has = |c: &str| schema.contains(c);
    // One per order line (amount is a required column, never null).
    let line = col("amount").is_not_null().cast(DataType::Float64);
    // Positive spend in exact fixed-point units (order-independent sums, like the rfm family).
    let spend = fixed_point(col("amount"))
        .clip_min(lit(0i64))
        .cast(DataType::Float64);
    let mut sh = Shares {
        flat: vec![col("amount")
            .lt(lit(0.0))
            .cast(DataType::Float64)
            .alias("__returned")],
        sums: vec![],
        ratios: vec![],
    };
    let mut aggs = vec![col("__returned").mean().alias("returns_rate")];
    let mut order = vec![col("customer_id"), col("returns_rate")];
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
        sh.flat.push(
            col("discount")
                .fill_null(lit(0.0))
                .gt(lit(0.0))
                .cast(DataType::Float64)
                .alias("__discounted"),
        );
        aggs.push(col("__discounted").mean().alias("discount_share"));
        order.push(col("discount_share"));
    }
    if has("payment_method") {
        let lv = levels(&lines, "payment_method", lit(1.0), params)?;
        let first = sh.ratios.len();
        shares("payment_method", "share_payment", &lv, line, &mut sh);
        order.extend(sh.ratios[first..].iter().map(output_name));
    }
    aggs.extend(sh.sums);
    Ok(collect_streaming(
        lines
            .with_columns(sh.flat)
            .group_by([col("customer_id")])
            .agg(aggs)
            .with_columns(sh.ratios)
            .select(order)
            .sort(["customer_id"], SortMultipleOptions::default()),
    )?)
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
