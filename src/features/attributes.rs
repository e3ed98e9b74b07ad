//! The `attributes` family: customer columns as features. Numbers as they are, dates as ages,
//! text one-hot. A missing value (no customer row, an empty cell, a date after the as-of day) is
//! imputed — the median of the output rows for numbers, all-zero for one-hot — and flagged in an
//! `<name>_missing` column that is always present, so the schema does not depend on whether this
//! particular date happened to have gaps.

use chrono::NaiveDate;
use polars::prelude::*;

use super::levels::top_levels;
use super::mix::sanitize;
use super::purchase::div_exact;
use super::{epoch_day, FeatureError, FeatureParams, CATALOG};

pub(super) fn build(
    base: &DataFrame,
    customers: &DataFrame,
    as_of: NaiveDate,
    params: &FeatureParams,
) -> Result<DataFrame, FeatureError> {
    let as_of_day = epoch_day(as_of);
    // One row per output customer; a customer listed twice keeps their first row.
    let ids = base.select(["customer_id"])?;
    let joined = ids
        .lazy()
        .join(
            customers
                .clone()
                .lazy()
                .unique_stable(Some(cols(["customer_id"])), UniqueKeepStrategy::First),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()?;

    let mut raw: Vec<(String, Expr)> = Vec::new(); // numeric values with nulls for missing
    let mut onehot: Vec<(String, Vec<String>)> = Vec::new();
    for field in customers.schema().iter_fields() {
        let name = field.name().as_str();
        if name == "customer_id" {
            continue;
        }
        let days = || {
            let d = col(name).cast(DataType::Int32);
            when(d.clone().lt_eq(lit(as_of_day)))
                .then((lit(as_of_day) - d).cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
        };
        match field.dtype() {
            DataType::Date if name == "signup_date" => {
                raw.push(("days_since_signup".into(), days()))
            }
            DataType::Date if name == "birth_date" => {
                raw.push(("age_years".into(), div_exact(days(), 365.25)))
            }
            DataType::Date => raw.push((format!("days_since_{name}"), days())),
            DataType::String => {
                let levels = match params.levels.get(name) {
                    Some(l) => l.clone(),
                    None => top_levels(
                        joined.clone().lazy(),
                        col(name).str().strip_chars(lit(NULL)),
                        lit(1.0),
                        params.level_cap,
                    )?,
                };
                onehot.push((name.to_string(), levels));
            }
            dt if dt.is_primitive_numeric() || dt.is_bool() => {
                raw.push((name.to_string(), col(name).cast(DataType::Float64)))
            }
            _ => {}
        }
    }

    let mut exprs = vec![col("customer_id")];
    for (name, value) in &raw {
        check_name(name)?;
        exprs.push(value.clone().alias(name.as_str()));
    }
    let mut lf = joined.clone().lazy().select(exprs);
    let mut out_exprs = vec![col("customer_id")];
    for (name, _) in &raw {
        let c = col(name.as_str());
        // The median of the rows that have a value; 0 when none has one.
        out_exprs.push(
            c.clone()
                .fill_null(c.clone().median().fill_null(lit(0.0)))
                .alias(name.as_str()),
        );
        out_exprs.push(
            c.is_null()
                .cast(DataType::Float64)
                .alias(format!("{name}_missing")),
        );
    }
    lf = lf.select(out_exprs);
    let mut out = lf.collect()?;

    // One-hot columns come from the joined frame (text values), in the same row order.
    let mut text_exprs = Vec::new();
    for (name, levels) in &onehot {
        let c = col(name.as_str()).str().strip_chars(lit(NULL));
        let present = c.clone().is_not_null().and(c.clone().neq(lit("")));
        let mut known = lit(false);
        for level in levels {
            let column = format!("{name}_{}", sanitize(level));
            check_name(&column)?;
            let is = c.clone().eq(lit(level.as_str())).fill_null(lit(false));
            known = known.or(is.clone());
            text_exprs.push(is.cast(DataType::Float64).alias(column));
        }
        text_exprs.push(
            present
                .clone()
                .and(known.not())
                .fill_null(lit(false))
                .cast(DataType::Float64)
                .alias(format!("{name}_other")),
        );
        text_exprs.push(
            present
                .not()
                .fill_null(lit(true))
                .cast(DataType::Float64)
                .alias(format!("{name}_missing")),
        );
    }
    if !text_exprs.is_empty() {
        let text = joined.lazy().select(text_exprs).collect()?;
        out = out.hstack(text.columns())?;
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), FeatureError> {
    if CATALOG.iter().any(|d| d.name == name) && !matches!(name, "days_since_signup" | "age_years")
    {
        return Err(FeatureError::NameClash(name.to_string()));
    }
    Ok(())
}
