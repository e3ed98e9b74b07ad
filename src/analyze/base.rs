//! The customer base as of a day: every customer known then (a customers-table row that signed
//! up on or before the day, or a buyer with a line on or before it), their revenue and whether
//! they bought in the window that ends on the day, and their group on each dimension. A line or a
//! signup after the day is never read.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::{AnalyzeError, Bands};
use crate::features::{epoch_day, fixed_point, History};
use crate::types::date_of_epoch_day;

/// Where a dimension's group comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DimensionSource {
    /// A customers-table column taken as it is (text as written, numbers without a trailing
    /// `.0`, dates in ISO form).
    Column(String),
    /// Age in full years on the as-of day, from `birth_date` (or a numeric `age` column), in bands.
    AgeBands(Bands),
    /// A numeric customers-table column in bands.
    NumericBands { column: String, bands: Bands },
}

/// A way of grouping customers: one source, or several crossed (`region+age_band`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub name: String,
    pub parts: Vec<DimensionSource>,
}

impl Dimension {
    /// One `--by` entry: `age_band` (ages cut at `age_edges`), `income_band` (`income_column`
    /// cut at `income_edges`), any other name a customers-table column; `a+b` crosses them.
    pub fn parse(
        spec: &str,
        age_edges: &Bands,
        income_column: &str,
        income_edges: &Bands,
    ) -> Result<Dimension, AnalyzeError> {
        let parts = spec
            .split('+')
            .map(str::trim)
            .map(|name| match name {
                "" => Err(AnalyzeError::InvalidParam {
                    name: "--by",
                    rule: "a comma-separated list of dimensions, crossed with `+`",
                    found: format!("`{spec}`"),
                }),
                "age_band" => Ok(DimensionSource::AgeBands(age_edges.clone())),
                "income_band" => Ok(DimensionSource::NumericBands {
                    column: income_column.to_string(),
                    bands: income_edges.clone(),
                }),
                column => Ok(DimensionSource::Column(column.to_string())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Dimension {
            name: spec.split('+').map(str::trim).collect::<Vec<_>>().join("+"),
            parts,
        })
    }

    /// The band labels in order when every part is banded (groups are then shown in band order
    /// rather than ranked), crossed parts joined as the group labels are.
    pub fn band_order(&self) -> Option<Vec<String>> {
        let mut order = vec![String::new()];
        for part in &self.parts {
            let labels = match part {
                DimensionSource::AgeBands(b) | DimensionSource::NumericBands { bands: b, .. } => {
                    b.labels()
                }
                DimensionSource::Column(_) => return None,
            };
            order = order
                .iter()
                .flat_map(|prefix| {
                    labels.iter().map(move |l| {
                        if prefix.is_empty() {
                            l.clone()
                        } else {
                            format!("{prefix}{CROSS}{l}")
                        }
                    })
                })
                .collect();
        }
        Some(order)
    }
}

/// How crossed dimensions' labels are joined.
pub(super) const CROSS: &str = " / ";

/// One dimension's group of every customer of the base.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub dimension: Dimension,
    /// Group labels; `None` is the customers with no value.
    pub levels: Vec<Option<String>>,
    /// `codes[i]` indexes `levels` for customer `i`.
    pub codes: Vec<u32>,
}

/// The base as of a day (see the module documentation).
#[derive(Debug, Clone)]
pub struct CustomerBase {
    pub as_of: NaiveDate,
    pub window_days: u32,
    /// Net revenue in the window (returns subtracted), fixed point.
    pub revenue: Vec<i64>,
    /// Whether the customer has a purchase (a line with a positive amount) in the window.
    pub active: Vec<bool>,
    pub groupings: Vec<Grouping>,
}

impl CustomerBase {
    pub fn len(&self) -> usize {
        self.revenue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revenue.is_empty()
    }

    /// The base from the customers table (may be absent: every buyer is then in the missing
    /// group of every dimension) and the buyers' activity as of the same day.
    pub fn build(
        customers: Option<&DataFrame>,
        activity: &Activity,
        dimensions: &[Dimension],
    ) -> Result<CustomerBase, AnalyzeError> {
        let last = epoch_day(activity.as_of);
        let mut index: HashMap<&str, usize> = HashMap::new();
        // The customers-table row of each customer of the base, when they have one.
        let mut table_row: Vec<Option<usize>> = Vec::new();
        let ids = match customers {
            Some(c) => Some(c.column("customer_id")?.cast(&DataType::String)?),
            None => None,
        };
        if let (Some(customers), Some(ids)) = (customers, &ids) {
            let signup = match customers.column("signup_date") {
                Ok(c) => Some(c.cast(&DataType::Date)?.cast(&DataType::Int32)?),
                Err(_) => None,
            };
            let signup = signup.as_ref().map(|s| s.i32()).transpose()?;
            for (row, id) in ids.str()?.iter().enumerate() {
                let Some(id) = id else { continue };
                let later = signup.and_then(|s| s.get(row)).is_some_and(|d| d > last);
                if later || index.contains_key(id) {
                    continue;
                }
                index.insert(id, table_row.len());
                table_row.push(Some(row));
            }
        }
        let mut revenue = vec![0i64; table_row.len()];
        let mut active = vec![false; table_row.len()];
        for (i, id) in activity.ids.iter().enumerate() {
            let at = match index.get(id.as_str()) {
                Some(at) => *at,
                None => {
                    table_row.push(None);
                    revenue.push(0);
                    active.push(false);
                    table_row.len() - 1
                }
            };
            revenue[at] = activity.revenue[i];
            active[at] = activity.active[i];
        }
        let groupings = dimensions
            .iter()
            .map(|d| grouping(d, customers, &table_row, activity.as_of))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CustomerBase {
            as_of: activity.as_of,
            window_days: activity.window_days,
            revenue,
            active,
            groupings,
        })
    }
}

/// Every buyer with a line on or before the as-of day, once: their net revenue in the window of
/// `window_days` ending on that day (fixed point) and whether they bought in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub as_of: NaiveDate,
    pub window_days: u32,
    pub ids: Vec<String>,
    pub revenue: Vec<i64>,
    pub active: Vec<bool>,
}

impl Activity {
    fn window(as_of: NaiveDate, window_days: u32) -> Result<NaiveDate, AnalyzeError> {
        if window_days == 0 {
            return Err(AnalyzeError::InvalidParam {
                name: "the activity window",
                rule: "at least 1 day",
                found: "0".into(),
            });
        }
        Ok(as_of - chrono::Days::new(u64::from(window_days) - 1))
    }

    /// From a canonical transactions table.
    pub fn from_transactions(
        transactions: &DataFrame,
        as_of: NaiveDate,
        window_days: u32,
    ) -> Result<Activity, AnalyzeError> {
        let first = epoch_day(Activity::window(as_of, window_days)?);
        let last = epoch_day(as_of);
        let ids = transactions
            .column("customer_id")?
            .cast(&DataType::String)?;
        let days = transactions
            .column("order_date")?
            .cast(&DataType::Date)?
            .cast(&DataType::Int32)?;
        let amounts = transactions.column("amount")?.cast(&DataType::Float64)?;
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut out = Activity {
            as_of,
            window_days,
            ids: Vec::new(),
            revenue: Vec::new(),
            active: Vec::new(),
        };
        for ((id, day), amount) in ids
            .str()?
            .iter()
            .zip(days.i32()?.iter())
            .zip(amounts.f64()?.iter())
        {
            let (Some(id), Some(day)) = (id, day) else {
                continue;
            };
            if day > last {
                continue;
            }
            let i = *index.entry(id).or_insert_with(|| {
                out.ids.push(id.to_string());
                out.revenue.push(0);
                out.active.push(false);
                out.ids.len() - 1
            });
            if day >= first {
                let amount = amount.unwrap_or(0.0);
                out.revenue[i] = out.revenue[i].saturating_add(fixed_point(amount));
                out.active[i] |= amount > 0.0;
            }
        }
        Ok(out)
    }

    /// From the keyed purchase lines a job holds instead of a transactions table.
    pub fn from_history(
        history: &History,
        as_of: NaiveDate,
        window_days: u32,
    ) -> Result<Activity, AnalyzeError> {
        let first = Activity::window(as_of, window_days)?;
        let totals = history.window_totals(first, as_of);
        Ok(Activity {
            as_of,
            window_days,
            ids: totals.iter().map(|(id, _, _)| id.to_string()).collect(),
            revenue: totals.iter().map(|(_, r, _)| *r).collect(),
            active: totals.iter().map(|(_, _, a)| *a).collect(),
        })
    }
}

/// Each customer's group on one dimension.
fn grouping(
    dimension: &Dimension,
    customers: Option<&DataFrame>,
    table_row: &[Option<usize>],
    as_of: NaiveDate,
) -> Result<Grouping, AnalyzeError> {
    let parts = dimension
        .parts
        .iter()
        .map(|p| part_values(p, customers, as_of))
        .collect::<Result<Vec<_>, _>>()?;
    let mut levels: Vec<Option<String>> = Vec::new();
    let mut code_of: HashMap<Option<String>, u32> = HashMap::new();
    let mut label = String::new();
    let codes = table_row
        .iter()
        .map(|row| {
            label.clear();
            let mut missing = row.is_none();
            for (k, values) in parts.iter().enumerate() {
                match row.and_then(|r| values[r].as_deref()) {
                    Some(v) => {
                        if k > 0 {
                            label.push_str(CROSS);
                        }
                        label.push_str(v);
                    }
                    None => missing = true,
                }
            }
            let key = (!missing).then(|| label.clone());
            *code_of.entry(key.clone()).or_insert_with(|| {
                levels.push(key);
                (levels.len() - 1) as u32
            })
        })
        .collect();
    Ok(Grouping {
        dimension: dimension.clone(),
        levels,
        codes,
    })
}

/// One part's label for every customers-table row (`None`: no value).
fn part_values(
    part: &DimensionSource,
    customers: Option<&DataFrame>,
    as_of: NaiveDate,
) -> Result<Vec<Option<String>>, AnalyzeError> {
    let Some(customers) = customers else {
        return Ok(Vec::new());
    };
    let column = |name: &str| {
        customers.column(name).map_err(|_| AnalyzeError::NoColumn {
            column: name.to_string(),
            available: available(customers),
        })
    };
    Ok(match part {
        DimensionSource::Column(name) => as_text(column(name)?)?,
        DimensionSource::AgeBands(bands) => {
            let ages = match customers.column("birth_date") {
                Ok(births) => ages_at(births, as_of)?,
                Err(_) => numbers(column("age").map_err(|_| AnalyzeError::NoColumn {
                    column: "birth_date` or `age".into(),
                    available: available(customers),
                })?)?,
            };
            ages.into_iter()
                .map(|a| a.and_then(|a| bands.label(a)))
                .collect()
        }
        DimensionSource::NumericBands {
            column: name,
            bands,
        } => numbers(column(name)?)?
            .into_iter()
            .map(|v| v.and_then(|v| bands.label(v)))
            .collect(),
    })
}

fn available(customers: &DataFrame) -> String {
    customers
        .get_column_names()
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Full years from each birth date to `as_of` (`None` for a birth after it).
fn ages_at(births: &Column, as_of: NaiveDate) -> Result<Vec<Option<f64>>, AnalyzeError> {
    let days = births.cast(&DataType::Date)?.cast(&DataType::Int32)?;
    Ok(days
        .i32()?
        .iter()
        .map(|d| {
            let born = date_of_epoch_day(i64::from(d?));
            let mut years = as_of.year() - born.year();
            if (as_of.month(), as_of.day()) < (born.month(), born.day()) {
                years -= 1;
            }
            (years >= 0).then_some(f64::from(years))
        })
        .collect())
}

fn numbers(column: &Column) -> Result<Vec<Option<f64>>, AnalyzeError> {
    if !column.dtype().is_primitive_numeric() {
        return Err(AnalyzeError::InvalidParam {
            name: "a banded column",
            rule: "numeric in every row",
            found: format!("`{}` of type {}", column.name(), column.dtype()),
        });
    }
    let v = column.cast(&DataType::Float64)?;
    Ok(v.f64()?
        .iter()
        .map(|x| x.filter(|x| x.is_finite()))
        .collect())
}

/// A column's values as group labels: text trimmed (empty = no value), whole numbers without
/// `.0`, dates in ISO form.
fn as_text(column: &Column) -> Result<Vec<Option<String>>, AnalyzeError> {
    let text = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    Ok(match column.dtype() {
        DataType::String => column.str()?.iter().map(text).collect(),
        DataType::Date => {
            let d = column.cast(&DataType::Int32)?;
            d.i32()?
                .iter()
                .map(|d| d.map(|d| date_of_epoch_day(i64::from(d)).to_string()))
                .collect()
        }
        dt if dt.is_primitive_numeric() => numbers(column)?
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    if v.fract() == 0.0 && v.abs() < 1e15 {
                        format!("{}", v as i64)
                    } else {
                        format!("{v}")
                    }
                })
            })
            .collect(),
        _ => {
            let s = column.cast(&DataType::String)?;
            s.str()?.iter().map(text).collect()
        }
    })
}
