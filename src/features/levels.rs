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
