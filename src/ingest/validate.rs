//! Validation: text columns → typed canonical columns, every bad row quarantined with a reason.
//!
//! One lazy query parses every column, computes a reason per column (null when fine) and keeps
//! the first reason of each row; the frame is collected once and split into kept and rejected
//! rows, so `rows_in = rows_kept + rows_rejected` holds by construction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::config::{ColumnRef, SourceSpec};
use super::read::RawTable;
use super::schema::{ColumnType, TableKind};
use super::summary::TableSummary;
use super::IngestError;

const ROW: &str = "__row";
const REASON: &str = "__reason";
const COLUMN: &str = "__column";
const VALUE: &str = "__value";
const FIRST_SEEN: &str = "__first_seen";
const SAME_AS_EARLIER: &str = "__same_as_earlier";

/// Why a row was rejected.
pub mod reason {
    pub const MISSING_CUSTOMER_ID: &str = "missing_customer_id";
    pub const MISSING_VALUE: &str = "missing_value";
    pub const BAD_DATE: &str = "bad_date";
    pub const BAD_NUMBER: &str = "bad_number";
    pub const BAD_FLAG: &str = "bad_flag";
    pub const FUTURE_DATE: &str = "future_date";
    pub const DUPLICATE: &str = "duplicate";
}

/// A validated table: the good rows typed, the bad rows with reasons.
#[derive(Debug)]
pub struct Validated {
    pub table: TableKind,
    /// Canonical columns (typed) followed by carried-along extra columns.
    pub frame: DataFrame,
    /// `file, line, column, reason, value, expected` — one row per rejected source row.
    pub rejects: DataFrame,
    pub summary: TableSummary,
}

/// A canonical column and where it comes from in the source.
struct Mapped {
    canonical: String,
    source: String,
    kind: ColumnType,
    required: bool,
}

/// Validates a raw table against its canonical schema.
pub fn validate(
    raw: RawTable,
    table: TableKind,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
) -> Result<Validated, IngestError> {
    let mapped = map_columns(&raw, table, spec)?;
    let date_format = spec.date_format.as_deref();
    let source_names: Vec<String> = raw
        .frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows_in = raw.frame.height();

    let mut parsed = Vec::with_capacity(mapped.len());
    let mut reasons = Vec::with_capacity(mapped.len());
    let mut columns = Vec::with_capacity(mapped.len());
    let mut values = Vec::with_capacity(mapped.len());
    for m in &mapped {
        let text = cleaned(col(m.source.as_str()));
        let (value, reason) = parse_column(text.clone(), m, table, date_format, as_of);
        let reason_name = format!("__r_{}", m.canonical);
        // Parsed values get a private name until the end: a canonical column often has the same
        // name as its source column, which the reason expressions still read as text.
        parsed.push(value.alias(format!("__p_{}", m.canonical)));
        reasons.push(reason.clone().alias(reason_name.as_str()));
        columns.push(
            when(col(reason_name.as_str()).is_not_null())
                .then(lit(m.canonical.clone()))
                .otherwise(lit(NULL).cast(DataType::String)),
        );
        values.push(
            when(col(reason_name.as_str()).is_not_null())
                .then(text)
                .otherwise(lit(NULL).cast(DataType::String)),
        );
    }

    // A row identical (in every source column) to an earlier one. With an order id this is the
    // same order line delivered twice; without one it may be two equal purchases on one day.
    let whole_row = as_struct(source_names.iter().map(|n| col(n.as_str())).collect());
    let has_order_id = mapped.iter().any(|m| m.canonical == "order_id");
    let first_seen = col(ROW)
        .min()
        .over([whole_row])
        .map_err(|source| IngestError::Polars {
            path: raw.path.clone(),
            source,
        })?;
    let mut lf = raw
        .frame
        .clone()
        .lazy()
        .with_row_index(ROW, None)
        .with_columns([first_seen.alias(FIRST_SEEN)])
        .with_column(col(ROW).neq(col(FIRST_SEEN)).alias(SAME_AS_EARLIER))
        .with_columns(parsed)
        .with_columns(reasons);

    let mut reason_exprs: Vec<Expr> = mapped
        .iter()
        .map(|m| col(format!("__r_{}", m.canonical).as_str()))
        .collect();
    let first_line = raw.first_line as i64;
    if has_order_id {
        reason_exprs.push(
            when(col(SAME_AS_EARLIER))
                .then(lit(reason::DUPLICATE))
                .otherwise(lit(NULL).cast(DataType::String)),
        );
        columns.push(
            when(col(SAME_AS_EARLIER))
                .then(lit("*"))
                .otherwise(lit(NULL).cast(DataType::String)),
        );
        values.push(
            when(col(SAME_AS_EARLIER))
                .then(
                    lit("same as line ")
                        + (col(FIRST_SEEN).cast(DataType::Int64) + lit(first_line))
                            .cast(DataType::String),
                )
                .otherwise(lit(NULL).cast(DataType::String)),
        );
    }
    lf = lf.with_columns([
        coalesce(&reason_exprs).alias(REASON),
        coalesce(&columns).alias(COLUMN),
        coalesce(&values).alias(VALUE),
    ]);

    let all = lf.collect().map_err(|source| IngestError::Polars {
        path: raw.path.clone(),
        source,
    })?;
    let polars_err = |source| IngestError::Polars {
        path: raw.path.clone(),
        source,
    };
    let reason_col = all
        .column(REASON)
        .map_err(polars_err)?
        .str()
        .map_err(polars_err)?;
    let bad_mask = reason_col.is_not_null();
    let good_mask = !&bad_mask;

    // Kept rows: canonical columns in schema order, then the extras under their own names.
    let extras = extra_columns(&raw_names_used(&mapped), &source_names, table, &mapped);
    let mut keep: Vec<Expr> = mapped
        .iter()
        .map(|m| col(format!("__p_{}", m.canonical)).alias(m.canonical.as_str()))
        .collect();
    keep.extend(extras.iter().map(|s| col(s.as_str())));
    let good = all.filter(&good_mask).map_err(polars_err)?;
    let possible_duplicates = if has_order_id {
        0
    } else {
        good.column(SAME_AS_EARLIER)
            .map_err(polars_err)?
            .bool()
            .map_err(polars_err)?
            .sum()
            .unwrap_or(0) as usize
    };
    let frame = good.lazy().select(keep).collect().map_err(polars_err)?;
    let frame = type_extra_columns(frame, &extras).map_err(polars_err)?;

    let bad = all.filter(&bad_mask).map_err(polars_err)?;
    let rejects = rejects_frame(&bad, &raw, &mapped, date_format, as_of).map_err(polars_err)?;

    let summary = TableSummary::from_frames(
        table,
        &raw.path,
        rows_in,
        &frame,
        &rejects,
        possible_duplicates,
    )
    .map_err(polars_err)?;
    Ok(Validated {
        table,
        frame,
        rejects,
        summary,
    })
}

/// Trims surrounding whitespace; an empty field is a missing value.
fn cleaned(e: Expr) -> Expr {
    let trimmed = e.str().strip_chars(lit(NULL));
    when(trimmed.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(trimmed)
}

fn null_reason() -> Expr {
    lit(NULL).cast(DataType::String)
}

/// The parsed value of a column and the reason (or null) its row is rejected.
fn parse_column(
    text: Expr,
    m: &Mapped,
    table: TableKind,
    date_format: Option<&str>,
    as_of: Option<NaiveDate>,
) -> (Expr, Expr) {
    let missing = if m.kind == ColumnType::Id {
        reason::MISSING_CUSTOMER_ID
    } else {
        reason::MISSING_VALUE
    };
    let missing_reason = |r: Expr| {
        if m.required {
            when(text.clone().is_null()).then(lit(missing)).otherwise(r)
        } else {
            r
        }
    };
    match m.kind {
        ColumnType::Id | ColumnType::Text => (text.clone(), missing_reason(null_reason())),
        ColumnType::Number => {
            let value = text.clone().cast(DataType::Float64);
            let bad = text
                .clone()
                .is_not_null()
                .and(value.clone().is_null().or(value.clone().is_finite().not()));
            let reason = when(bad)
                .then(lit(reason::BAD_NUMBER))
                .otherwise(null_reason());
            (value, missing_reason(reason))
        }
        ColumnType::Flag => {
            let lower = text.clone().str().to_lowercase();
            let any_of = |words: &[&str]| {
                words
                    .iter()
                    .map(|w| lower.clone().eq(lit(*w)))
                    .reduce(|a, b| a.or(b))
                    .unwrap_or_else(|| lit(false))
            };
            let value = when(any_of(&["1", "true", "yes", "y", "t"]))
                .then(lit(1i32))
                .when(any_of(&["0", "false", "no", "n", "f"]))
                .then(lit(0i32))
                .otherwise(lit(NULL).cast(DataType::Int32));
            let reason = when(text.clone().is_not_null().and(value.clone().is_null()))
                .then(lit(reason::BAD_FLAG))
                .otherwise(null_reason());
            (value, missing_reason(reason))
        }
        ColumnType::Date => {
            let value = parse_date(text.clone(), date_format);
            let future = match as_of {
                Some(d) if table.event_date_columns().contains(&m.canonical.as_str()) => {
                    value.clone().gt(lit(d))
                }
                _ => lit(false),
            };
            let reason = when(text.clone().is_not_null().and(value.clone().is_null()))
                .then(lit(reason::BAD_DATE))
                .when(future)
                .then(lit(reason::FUTURE_DATE))
                .otherwise(null_reason());
            (value, missing_reason(reason))
        }
    }
}

fn strptime(format: &str) -> StrptimeOptions {
    StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    }
}

/// Parses dates: the configured format, or ISO dates and datetimes (a trailing `Z` allowed).
/// Datetimes keep their calendar day: features work at day resolution.
fn parse_date(text: Expr, format: Option<&str>) -> Expr {
    let datetime = |e: Expr, f: &str| {
        e.str()
            .to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                strptime(f),
                lit("raise"),
            )
            .dt()
            .date()
    };
    match format {
        Some(f) if f.contains("%H") || f.contains("%T") || f.contains("%s") => datetime(text, f),
        Some(f) => text.str().to_date(strptime(f)),
        None => {
            let t = text.str().strip_suffix(lit("Z"));
            coalesce(&[
                t.clone().str().to_date(strptime("%Y-%m-%d")),
                datetime(t.clone(), "%Y-%m-%dT%H:%M:%S"),
                datetime(t.clone(), "%Y-%m-%d %H:%M:%S"),
                datetime(t.clone(), "%Y-%m-%dT%H:%M:%S%.f"),
                datetime(t.clone(), "%Y-%m-%d %H:%M:%S%.f"),
                datetime(t.clone(), "%Y-%m-%dT%H:%M"),
                datetime(t, "%Y-%m-%d %H:%M"),
            ])
        }
    }
}

/// Resolves the canonical columns to source columns: the config's mapping (by name or
/// position), else the canonical name itself when the file has it.
fn map_columns(
    raw: &RawTable,
    table: TableKind,
    spec: &SourceSpec,
) -> Result<Vec<Mapped>, IngestError> {
    let names: Vec<String> = raw
        .frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let resolve =
        |canonical: &str, r: &ColumnRef| -> Result<String, IngestError> {
            match r {
                ColumnRef::Name(n) if names.iter().any(|x| x == n) => Ok(n.clone()),
                ColumnRef::Name(n) => Err(IngestError::MissingColumn {
                    table,
                    path: raw.path.clone(),
                    column: n.clone(),
                    canonical: canonical.to_string(),
                    found: names.clone(),
                }),
                ColumnRef::Position(p) => names.get(p.wrapping_sub(1)).cloned().ok_or_else(|| {
                    IngestError::MissingColumn {
                        table,
                        path: raw.path.clone(),
                        column: format!("#{p}"),
                        canonical: canonical.to_string(),
                        found: names.clone(),
                    }
                }),
            }
        };
    let mut mapped = Vec::new();
    for c in table.columns() {
        let source = match spec.columns.get(c.name) {
            Some(r) => Some(resolve(c.name, r)?),
            None if raw.has_header && names.iter().any(|n| n == c.name) => Some(c.name.to_string()),
            None => None,
        };
        match source {
            Some(source) => mapped.push(Mapped {
                canonical: c.name.to_string(),
                source,
                kind: c.kind,
                required: c.required,
            }),
            None if c.required => {
                return Err(IngestError::MissingColumn {
                    table,
                    path: raw.path.clone(),
                    column: c.name.to_string(),
                    canonical: c.name.to_string(),
                    found: names.clone(),
                })
            }
            None => {}
        }
    }
    // Extra columns the config renames (customer attributes such as `age = "AGE"`).
    for (canonical, r) in &spec.columns {
        if table.columns().iter().all(|c| c.name != canonical) {
            mapped.push(Mapped {
                canonical: canonical.clone(),
                source: resolve(canonical, r)?,
                kind: ColumnType::Text,
                required: false,
            });
        }
    }
    Ok(mapped)
}

fn raw_names_used(mapped: &[Mapped]) -> Vec<String> {
    mapped.iter().map(|m| m.source.clone()).collect()
}

/// Source columns carried along unchanged (customer attributes, extra contact fields).
fn extra_columns(
    used: &[String],
    source_names: &[String],
    table: TableKind,
    mapped: &[Mapped],
) -> Vec<String> {
    if !table.keeps_extra_columns() {
        return Vec::new();
    }
    source_names
        .iter()
        .filter(|n| !used.contains(n) && mapped.iter().all(|m| &m.canonical != *n))
        .cloned()
        .collect()
}

/// Extra columns whose every value is a number become `Float64`; the rest stay text.
/// Empty strings are missing values either way.
fn type_extra_columns(mut frame: DataFrame, extras: &[String]) -> PolarsResult<DataFrame> {
    let mut exprs = Vec::new();
    for name in extras {
        exprs.push(cleaned(col(name.as_str())).alias(name.as_str()));
    }
    if exprs.is_empty() {
        return Ok(frame);
    }
    frame = frame.lazy().with_columns(exprs).collect()?;
    for name in extras {
        let c = frame.column(name)?;
        let as_num = c.cast(&DataType::Float64)?;
        if c.null_count() == as_num.null_count() && c.null_count() < c.len() {
            frame.replace(name, as_num)?;
        }
    }
    Ok(frame)
}

fn rejects_frame(
    bad: &DataFrame,
    raw: &RawTable,
    mapped: &[Mapped],
    date_format: Option<&str>,
    as_of: Option<NaiveDate>,
) -> PolarsResult<DataFrame> {
    let expected: BTreeMap<&str, String> = mapped
        .iter()
        .map(|m| (m.canonical.as_str(), m.kind.expected(date_format)))
        .collect();
    let source_of: BTreeMap<&str, &str> = mapped
        .iter()
        .map(|m| (m.canonical.as_str(), m.source.as_str()))
        .collect();
    let n = bad.height();
    let file = raw.path.display().to_string();
    let rows = bad.column(ROW)?.cast(&DataType::Int64)?;
    let line = rows
        .i64()?
        .apply_values(|r| r + raw.first_line as i64)
        .with_name("line".into());
    let column = bad.column(COLUMN)?.str()?.clone();
    let source_column: StringChunked = column
        .iter()
        .map(|c| c.map(|c| source_of.get(c).copied().unwrap_or(c).to_string()))
        .collect();
    let reasons = bad.column(REASON)?.str()?.clone();
    let expected_col: StringChunked = column
        .iter()
        .zip(reasons.iter())
        .map(|(c, r)| {
            Some(match (c, r, as_of) {
                (Some("*") | None, _, _) => "a row that differs from every earlier row".to_string(),
                (Some(_), Some(reason::FUTURE_DATE), Some(d)) => {
                    format!("a date on or before the as-of date {d}")
                }
                (Some(c), _, _) => expected.get(c).cloned().unwrap_or_default(),
            })
        })
        .collect();
    DataFrame::new(
        n,
        vec![
            Column::new_scalar("file".into(), Scalar::from(PlSmallStr::from(file)), n),
            line.into_series().into_column(),
            column.with_name("column".into()).into_column(),
            source_column
                .with_name("source_column".into())
                .into_column(),
            bad.column(REASON)?.clone().with_name("reason".into()),
            bad.column(VALUE)?.clone().with_name("value".into()),
            expected_col.with_name("expected".into()).into_column(),
        ],
    )
}
