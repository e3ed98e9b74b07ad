//! The kept levels of a categorical column: the most important ones, capped, ties by name.

use polars::prelude::*;

/// The levels of `level` with the largest summed `weight` (one per row for a count), ties by
/// level ascending, at most `cap`; missing and empty levels are never kept.
pub fn top_levels(
    lf: LazyFrame,
    level: Expr,
    weight: Expr,
    cap: usize,
) -> PolarsResult<Vec<String>> {
    let top = lf
        .select([level.alias("level"), weight.alias("w")])
        .filter(col("level").is_not_null().and(col("level").neq(lit(""))))
        .group_by([col("level")])
        .agg([col("w").sum()])
        .sort_by_exprs(
            [col("w"), col("level")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(cap as IdxSize)
        .collect()?;
    Ok(top
        .column("level")?
        .str()?
        .no_null_iter()
        .map(str::to_string)
        .collect())
}

/// The `cap` levels with the largest weight, ties by level ascending: the one ranking rule of
/// the native builders (mix levels by spend or line count, text attributes by count).
pub(super) fn rank_levels<'a, W: Ord>(
    weighted: impl Iterator<Item = (W, &'a str)>,
    cap: usize,
) -> Vec<String> {
    let mut ranked: Vec<(W, &str)> = weighted.collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    ranked
        .into_iter()
        .take(cap)
        .map(|(_, l)| l.to_string())
        .collect()
}
