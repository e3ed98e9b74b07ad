//! `bullseye analyze penetration` and a job's `analyze` stage: the market table read from its
//! file, the penetration tables computed by `analyze`, and `penetration.csv` / `penetration.json`
//! written atomically.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::analyze::{
    penetration, Activity, AnalyzeError, Bands, CustomerBase, Dimension, MarketSize,
    PenetrationParams, PenetrationTable,
};
use crate::error::polars_failure;
use crate::{io, Error};

use super::RunError;

/// The market table: one row per group of a dimension, with its size.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSpec {
    pub path: PathBuf,
    /// The column of the market table that holds the group, also the `--by` dimension it sizes.
    pub key: String,
    /// The column that holds the size (households, population).
    pub size_column: String,
}

/// What to analyse; every field has the default the README states.
#[derive(Debug, Clone, PartialEq)]
pub struct PenetrationSpec {
    pub by: Vec<String>,
    pub window_days: u32,
    pub min_group: u64,
    pub age_edges: Vec<f64>,
    pub income_column: String,
    pub income_edges: Vec<f64>,
    pub market: Option<MarketSpec>,
}

impl Default for PenetrationSpec {
    fn default() -> Self {
        PenetrationSpec {
            by: Vec::new(),
            window_days: 365,
            min_group: 30,
            age_edges: vec![25.0, 35.0, 45.0, 55.0, 65.0],
            income_column: "income".into(),
            income_edges: vec![25_000.0, 50_000.0, 75_000.0, 100_000.0],
            market: None,
        }
    }
}

impl PenetrationSpec {
    /// Every setting under its rule, before any work (a job checks it when its file is read).
    pub fn check(&self) -> Result<(), Error> {
        if self.by.is_empty() {
            return Err(RunError::missing(
                "penetration needs at least one dimension",
                "name customer columns with `--by` (e.g. `--by region,age_band`)",
            )
            .into());
        }
        self.bands()?;
        for (name, value) in [
            ("the activity window", u64::from(self.window_days)),
            ("the minimum group size", self.min_group),
        ] {
            if value == 0 {
                return Err(AnalyzeError::InvalidParam {
                    name,
                    rule: "at least 1",
                    found: "0".into(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The age and income bands.
    fn bands(&self) -> Result<(Bands, Bands), AnalyzeError> {
        let bands = |name: &str, edges: &[f64]| {
            Bands::new(edges.to_vec()).ok_or_else(|| AnalyzeError::BadEdges {
                name: name.to_string(),
                found: format!("{edges:?}"),
            })
        };
        Ok((
            bands("age edges", &self.age_edges)?,
            bands("income edges", &self.income_edges)?,
        ))
    }
}

/// The penetration tables of the customer base as of the activity's day, one per `spec.by`
/// dimension. The activity comes from a transactions table (`Activity::from_transactions`) or,
/// in a job, from the keyed lines (`Activity::from_history`), over `spec.window_days`.
pub fn penetration_tables(
    customers: Option<&DataFrame>,
    activity: &Activity,
    spec: &PenetrationSpec,
) -> Result<Vec<PenetrationTable>, Error> {
    spec.check()?;
    let (age, income) = spec.bands()?;
    let dimensions = spec
        .by
        .iter()
        .map(|b| Dimension::parse(b, &age, &spec.income_column, &income))
        .collect::<Result<Vec<_>, _>>()?;
    let base = CustomerBase::build(customers, activity, &dimensions)?;
    let market = spec.market.as_ref().map(read_market).transpose()?;
    Ok(penetration(
        &base,
        &PenetrationParams {
            min_group: spec.min_group,
            market,
        },
    )?)
}

/// The market table's rows as (group, size); a key read as text so that `02134` stays a zip.
fn read_market(spec: &MarketSpec) -> Result<MarketSize, Error> {
    let frame = io::read_table(&spec.path, &[spec.key.as_str()])?;
    let column = |name: &str| {
        frame.column(name).map_err(|_| {
            Error::from(
                RunError::MissingColumn {
                    table: "the market table".into(),
                    columns: format!("`{name}`"),
                    hint: format!(
                        "; it has {}",
                        frame
                            .get_column_names()
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
                .in_file(&spec.path),
            )
        })
    };
    let keys = column(&spec.key)?
        .cast(&DataType::String)
        .map_err(polars_failure("the market table's keys"))?;
    let sizes = column(&spec.size_column)?
        .cast(&DataType::Float64)
        .map_err(|_| {
            RunError::InvalidData {
                what: format!("column `{}`", spec.size_column),
                expected: "numbers (the size of each market)".into(),
                found: "text".into(),
            }
            .in_file(&spec.path)
        })?;
    let keys = keys
        .str()
        .map_err(polars_failure("the market table's keys"))?;
    let sizes = sizes.f64().map_err(polars_failure("the market sizes"))?;
    let mut rows = Vec::with_capacity(frame.height());
    for (line, (key, size)) in keys.iter().zip(sizes.iter()).enumerate() {
        let key = key.map(str::trim).unwrap_or_default();
        if key.is_empty() {
            return Err(RunError::InvalidData {
                what: format!("line {}, column `{}`", line + 2, spec.key),
                expected: "a group name".into(),
                found: "an empty cell".into(),
            }
            .in_file(&spec.path)
            .into());
        }
        let size = size.ok_or_else(|| AnalyzeError::BadMarketSize {
            key: spec.key.clone(),
            value: key.to_string(),
            found: "an empty cell".into(),
        })?;
        rows.push((key.to_string(), size));
    }
    Ok(MarketSize {
        dimension: spec.key.clone(),
        measure: spec.size_column.clone(),
        sizes: rows,
    })
}

/// `penetration.json`: the tables and what they were computed with.
#[derive(Debug, Serialize)]
struct PenetrationFile<'a> {
    as_of: NaiveDate,
    window_days: u32,
    min_group: u64,
    tables: &'a [PenetrationTable],
}

/// Writes `penetration.csv` (one row per group of every dimension) and `penetration.json` into
/// `dir`, each atomically; returns the files written.
pub fn write_penetration(
    dir: &Path,
    as_of: NaiveDate,
    spec: &PenetrationSpec,
    tables: &[PenetrationTable],
) -> Result<Vec<PathBuf>, Error> {
    let csv = dir.join("penetration.csv");
    let mut frame = penetration_frame(tables).map_err(polars_failure("penetration.csv"))?;
    io::write_table(&csv, &mut frame)?;
    let json = dir.join("penetration.json");
    io::write_json_atomic(
        &json,
        &PenetrationFile {
            as_of,
            window_days: spec.window_days,
            min_group: spec.min_group,
            tables,
        },
    )?;
    Ok(vec![csv, json])
}

fn penetration_frame(tables: &[PenetrationTable]) -> PolarsResult<DataFrame> {
    let rows = || {
        tables
            .iter()
            .flat_map(|t| t.groups.iter().map(move |g| (t, g)))
    };
    let text = |f: &dyn Fn(&PenetrationTable, &crate::analyze::GroupRow) -> String| {
        rows().map(|(t, g)| f(t, g)).collect::<Vec<String>>()
    };
    let count = |f: &dyn Fn(&crate::analyze::GroupRow) -> u64| {
        rows().map(|(_, g)| f(g)).collect::<Vec<u64>>()
    };
    let number = |f: &dyn Fn(&crate::analyze::GroupRow) -> Option<f64>| {
        rows().map(|(_, g)| f(g)).collect::<Vec<Option<f64>>>()
    };
    DataFrame::new_infer_height(vec![
        Column::new("dimension".into(), text(&|t, _| t.dimension.clone())),
        Column::new("group".into(), text(&|_, g| g.group.clone())),
        Column::new("customers".into(), count(&|g| g.customers)),
        Column::new("active_buyers".into(), count(&|g| g.active_buyers)),
        Column::new("revenue".into(), number(&|g| Some(g.revenue))),
        Column::new(
            "revenue_per_customer".into(),
            number(&|g| g.revenue_per_customer),
        ),
        Column::new("customer_share".into(), number(&|g| Some(g.customer_share))),
        Column::new("revenue_share".into(), number(&|g| g.revenue_share)),
        Column::new("active_rate".into(), number(&|g| g.active_rate)),
        Column::new("active_index".into(), number(&|g| g.active_index)),
        Column::new("revenue_index".into(), number(&|g| g.revenue_index)),
        Column::new("market_size".into(), number(&|g| g.market_size)),
        Column::new("penetration".into(), number(&|g| g.penetration)),
        Column::new("penetration_index".into(), number(&|g| g.penetration_index)),
        Column::new("z_score".into(), number(&|g| g.z_score)),
        Column::new("pooled_groups".into(), count(&|g| g.pooled_groups)),
        Column::new(
            "small".into(),
            rows().map(|(_, g)| g.small).collect::<Vec<bool>>(),
        ),
    ])
}
