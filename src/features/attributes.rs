//! The `attributes` family: customer columns as features. Numbers as they are, dates as ages,
//! text one-hot. A missing value (no customer row, an empty cell, a date after the as-of day) is
//! imputed — the median of the population (every customer with a purchase as of the date) for
//! numbers, all-zero for one-hot — and flagged in an `<name>_missing` column that is always
//! present, so the schema does not depend on whether this particular date happened to have gaps.
//!
//! The customers table is matched to the purchase keys once ([`Attributes::new`]); a build at a
//! date then only reads vectors: the training rows build twelve dates over a million customers.

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::catalog::{doc, Doc};
use super::family::{Columns, Customer, Definition, Prepared, Source};
use super::levels::rank_levels;
use super::lines::{Lines, MISSING};
use super::mix::sanitize;
use super::{FeatureError, FeatureParams, CATALOG};

/// The `attributes` family.
pub(super) struct AttributesFamily;

#[rustfmt::skip]
const DOCS: &[Doc] = &[
    doc("days_since_signup", "days", "as-of day − signup_date (needs `signup_date`); imputed as below"),
    doc("age_years", "years", "(as-of day − birth_date) ÷ 365.25 (needs `birth_date`); imputed as below"),
    doc("<numeric attribute>", "as given", "numeric customer columns (consent flags, income…) as they are"),
    doc("<text attribute>_<level>", "0/1", "one-hot of text customer columns, top levels by count, rest as `<name>_other`"),
    doc("<attribute>_missing", "0/1", "1 when the value was missing (no customer row, empty, or a date after the as-of day); numeric values are then imputed with the median of the output rows, one-hot columns are all 0"),
];

impl Definition for AttributesFamily {
    fn name(&self) -> &'static str {
        "attributes"
    }

    fn docs(&self) -> &'static [Doc] {
        DOCS
    }

    fn lacks(
        &self,
        _transactions: &DataFrame,
        has_customers: bool,
    ) -> Option<(&'static str, &'static str)> {
        (!has_customers).then_some(("customers", "customer_id"))
    }

    /// Without a customers table (a history built for other families' sake), no columns.
    fn prepare(&self, source: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError> {
        Ok(Box::new(match source.customers {
            Some(c) => Some(Attributes::new(c, source.ids)?),
            None => None,
        }))
    }
}

impl Prepared for Option<Attributes> {
    fn levels(
        &self,
        _lines: &Lines,
        _day: i32,
        population: &[u32],
        params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        self.as_ref()
            .map(|a| a.levels(population, params))
            .unwrap_or_default()
    }

    fn at<'h>(
        &'h self,
        _lines: &'h Lines,
        day: i32,
        population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError> {
        Ok(match self {
            Some(a) => Box::new(a.at(day, population, params)?),
            None => Box::new(AttributesAt::none()),
        })
    }
}

impl Columns for AttributesAt<'_> {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn write(&self, c: &mut Customer<'_>, out: &mut Vec<f64>) {
        self.write_key(c.key, out);
    }
}

/// The values of one customer column, per purchase key.
enum Values {
    /// Numbers (and flags) as they are.
    Number(Vec<Option<f64>>),
    /// Dates (days since 1970-01-01): days to the as-of day, or years for `birth_date`.
    Date { days: Vec<Option<i32>>, years: bool },
    /// Text (surrounding whitespace stripped) as codes into `levels`; empty text is missing.
    Text {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

/// One customer column and its feature name.
struct Attribute {
    /// The customer column.
    column: String,
    /// The feature: the column itself, `days_since_<column>`, or `age_years`.
    name: String,
    values: Values,
}

/// The customer columns, matched to the purchase keys.
pub(super) struct Attributes {
    attributes: Vec<Attribute>,
}

impl Attributes {
    /// `ids`: the id of every purchase key. A customer listed twice keeps their first row; a key
    /// without a customer row has every value missing.
    pub fn new(customers: &DataFrame, ids: &[String]) -> Result<Attributes, FeatureError> {
        // One chunk each: a value by row is then one index, not a search of the chunks.
        let mut customers = customers.clone();
        customers.rechunk_mut_par();
        let customer_ids = customers.column("customer_id")?.cast(&DataType::String)?;
        let mut row_of: PlHashMap<&str, usize> = PlHashMap::with_capacity(customers.height());
        for (row, id) in customer_ids.str()?.iter().enumerate() {
            if let Some(id) = id {
                row_of.entry(id).or_insert(row);
            }
        }
        let rows: Vec<Option<usize>> = ids
            .par_iter()
            .map(|id| row_of.get(id.as_str()).copied())
            .collect();
        drop(row_of);
        let mut attributes = Vec::new();
        for column in customers.columns() {
            let name = column.name().as_str();
            if name == "customer_id" {
                continue;
            }
            let (feature, values) = match column.dtype() {
                DataType::Date => {
                    let d = column.cast(&DataType::Int32)?;
                    let d = d.i32()?;
                    let days = rows.par_iter().map(|r| r.and_then(|r| d.get(r))).collect();
                    let (feature, years) = date_feature(name);
                    (feature, Values::Date { days, years })
                }
                DataType::String => {
                    let text = column.str()?;
                    let mut levels: Vec<String> = Vec::new();
                    let mut code_of: PlHashMap<&str, u32> = PlHashMap::default();
                    let codes = rows
                        .iter()
                        .map(|r| match r.and_then(|r| text.get(r)).map(str::trim) {
                            None | Some("") => MISSING,
                            Some(v) => *code_of.entry(v).or_insert_with(|| {
                                levels.push(v.to_string());
                                (levels.len() - 1) as u32
                            }),
                        })
                        .collect();
                    (name.to_string(), Values::Text { codes, levels })
                }
                dt if dt.is_primitive_numeric() || dt.is_bool() => {
                    let v = column.cast(&DataType::Float64)?;
                    let v = v.f64()?;
                    let values = rows.par_iter().map(|r| r.and_then(|r| v.get(r))).collect();
                    (name.to_string(), Values::Number(values))
                }
                _ => continue,
            };
            attributes.push(Attribute {
                column: name.to_string(),
                name: feature,
                values,
            });
        }
        Ok(Attributes { attributes })
    }

    /// The attributes as of `day`: numbers imputed with their median over `population` (the
    /// keys of every customer with a purchase by then), text levels fixed by `params` or the
    /// most frequent ones in the population. Columns: every number and date (value, then
    /// `_missing`), then every text column (one per kept level, `_other`, `_missing`).
    pub fn at(
        &self,
        day: i32,
        population: &[u32],
        params: &FeatureParams,
    ) -> Result<AttributesAt<'_>, FeatureError> {
        let mut at = AttributesAt {
            attributes: self,
            day,
            fills: Vec::new(),
            slots: Vec::new(),
            names: Vec::new(),
        };
        for a in &self.attributes {
            if matches!(a.values, Values::Text { .. }) {
                continue;
            }
            check_name(&a.name)?;
            let mut known: Vec<f64> = population.iter().filter_map(|k| a.value(*k, day)).collect();
            at.fills.push(median(&mut known).unwrap_or(0.0));
            at.names.push(a.name.clone());
            at.names.push(format!("{}_missing", a.name));
        }
        for a in &self.attributes {
            let Values::Text { codes, levels } = &a.values else {
                continue;
            };
            let kept = match params.levels.get(&a.column) {
                Some(fixed) => fixed.clone(),
                None => top_levels(codes, levels, population, params.level_cap),
            };
            let mut slot_of_code = vec![None; levels.len()];
            for (slot, level) in kept.iter().enumerate() {
                if let Some(code) = levels.iter().position(|l| l == level) {
                    slot_of_code[code] = Some(slot);
                }
            }
            at.names
                .extend(kept.iter().map(|l| format!("{}_{}", a.column, sanitize(l))));
            at.names.push(format!("{}_other", a.column));
            at.names.push(format!("{}_missing", a.column));
            at.slots.push((slot_of_code, kept.len()));
        }
        for name in &at.names {
            check_name(name)?;
        }
        Ok(at)
    }

    /// The kept levels of the text columns not fixed in `params`, as [`Attributes::at`] would
    /// find them over `population`.
    pub fn levels(
        &self,
        population: &[u32],
        params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        self.attributes
            .iter()
            .filter(|a| !params.levels.contains_key(&a.column))
            .filter_map(|a| match &a.values {
                Values::Text { codes, levels } => Some((
                    a.column.clone(),
                    top_levels(codes, levels, population, params.level_cap),
                )),
                _ => None,
            })
            .collect()
    }
}

impl Attribute {
    /// The value of key `k` as of `day` (numbers and dates; `None` when missing).
    fn value(&self, k: u32, day: i32) -> Option<f64> {
        match &self.values {
            Values::Number(v) => v[k as usize],
            Values::Date { days, years } => days[k as usize]
                .filter(|d| *d <= day)
                .map(|d| f64::from(day - d))
                .map(|d| if *years { d / DAYS_PER_YEAR } else { d }),
            Values::Text { .. } => None,
        }
    }
}

/// The year of `age_years`, in days.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Date columns whose features have their own names: (column, feature, in years).
const NAMED_DATES: [(&str, &str, bool); 2] = [
    ("signup_date", "days_since_signup", false),
    ("birth_date", "age_years", true),
];

/// The feature of a date column, and whether it counts years (else days).
fn date_feature(column: &str) -> (String, bool) {
    match NAMED_DATES.iter().find(|(c, _, _)| *c == column) {
        Some((_, feature, years)) => (feature.to_string(), *years),
        None => (format!("days_since_{column}"), false),
    }
}

/// What an `attributes` feature reads of its customer column (`bullseye export sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKind {
    /// A number (or flag) as it is.
    Number,
    /// Days from the date to the as-of day (a later date is missing), or years (÷ 365.25).
    Date { years: bool },
    /// Text, surrounding whitespace stripped; empty text is missing.
    Text,
}

/// Which column of an attribute an `attributes` feature is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributePart {
    /// The number or date, missing values imputed with the median over the population (every
    /// customer with a purchase by the as-of day).
    Value,
    /// 1 when the value is missing (no customer row, empty, or a date after the as-of day).
    Missing,
    /// 1 when the text is this level.
    Level(String),
    /// 1 when the text is present but none of these (the kept) levels.
    Other(Vec<String>),
}

/// An `attributes` feature as SQL computes it from the customers table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeSql {
    /// The customer column.
    pub column: String,
    pub kind: AttributeKind,
    pub part: AttributePart,
}

/// The `attributes` feature called `name`, read back from the names [`Attributes::at`] gives:
/// `levels` are the kept levels of the text columns (a model's training report records them),
/// a date feature names its column (`days_since_<column>`, `age_years`, `days_since_signup`),
/// and any other name is a numeric customer column (or its `_missing` flag).
pub fn attribute_sql(name: &str, levels: &BTreeMap<String, Vec<String>>) -> AttributeSql {
    for (column, kept) in levels {
        let part = if name == format!("{column}_other") {
            Some(AttributePart::Other(kept.clone()))
        } else if name == format!("{column}_missing") {
            Some(AttributePart::Missing)
        } else {
            kept.iter()
                .find(|l| name == format!("{column}_{}", sanitize(l)))
                .map(|l| AttributePart::Level(l.clone()))
        };
        if let Some(part) = part {
            return AttributeSql {
                column: column.clone(),
                kind: AttributeKind::Text,
                part,
            };
        }
    }
    let (base, part) = match name.strip_suffix("_missing") {
        Some(base) => (base, AttributePart::Missing),
        None => (name, AttributePart::Value),
    };
    let (column, kind) = match NAMED_DATES.iter().find(|(_, f, _)| *f == base) {
        Some((column, _, years)) => (column.to_string(), AttributeKind::Date { years: *years }),
        None => match base.strip_prefix("days_since_") {
            Some(column) => (column.to_string(), AttributeKind::Date { years: false }),
            None => (base.to_string(), AttributeKind::Number),
        },
    };
    AttributeSql { column, kind, part }
}

/// The codes of a text attribute.
fn text_codes(a: &Attribute) -> Option<&[u32]> {
    match &a.values {
        Values::Text { codes, .. } => Some(codes),
        _ => None,
    }
}

/// The attributes at one as-of day (see [`Attributes::at`]).
pub(super) struct AttributesAt<'a> {
    attributes: &'a Attributes,
    day: i32,
    /// The imputed value of every number and date, in order.
    fills: Vec<f64>,
    /// Per text column: the slot of every code among the kept levels, and how many are kept.
    slots: Vec<(Vec<Option<usize>>, usize)>,
    names: Vec<String>,
}

impl AttributesAt<'_> {
    /// No attributes (no customers table).
    fn none() -> AttributesAt<'static> {
        static EMPTY: Attributes = Attributes {
            attributes: Vec::new(),
        };
        AttributesAt {
            attributes: &EMPTY,
            day: 0,
            fills: Vec::new(),
            slots: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Writes the attributes of key `k` into `out`, in `names` order.
    fn write_key(&self, k: u32, out: &mut Vec<f64>) {
        let all = &self.attributes.attributes;
        let numbers = all
            .iter()
            .filter(|a| !matches!(a.values, Values::Text { .. }));
        for (a, fill) in numbers.zip(&self.fills) {
            let v = a.value(k, self.day);
            out.extend([v.unwrap_or(*fill), f64::from(u8::from(v.is_none()))]);
        }
        for (codes, (slot_of_code, kept)) in all.iter().filter_map(text_codes).zip(&self.slots) {
            let start = out.len();
            out.resize(start + kept + 2, 0.0);
            let code = codes[k as usize];
            let hot = if code == MISSING {
                kept + 1
            } else {
                slot_of_code[code as usize].unwrap_or(*kept)
            };
            out[start + hot] = 1.0;
        }
    }
}

/// The most frequent `cap` levels among the population, ties by level name.
fn top_levels(codes: &[u32], levels: &[String], population: &[u32], cap: usize) -> Vec<String> {
    let mut counts = vec![0usize; levels.len()];
    for k in population {
        let code = codes[*k as usize];
        if code != MISSING {
            counts[code as usize] += 1;
        }
    }
    let weighted = counts
        .into_iter()
        .zip(levels)
        .filter(|(n, _)| *n > 0)
        .map(|(n, l)| (n, l.as_str()));
    rank_levels(weighted, cap)
}

/// The median (the mean of the two middle values for an even count, interpolated as polars
/// does); `None` for no values.
pub(super) fn median(v: &mut [f64]) -> Option<f64> {
    let m = v.len();
    if m == 0 {
        return None;
    }
    let (_, upper, _) = v.select_nth_unstable_by(m / 2, f64::total_cmp);
    let upper = *upper;
    if m % 2 == 1 {
        return Some(upper);
    }
    let lower = v[..m / 2].iter().copied().max_by(f64::total_cmp)?;
    Some(if lower == upper {
        lower
    } else {
        0.5 * (upper - lower) + lower
    })
}

fn check_name(name: &str) -> Result<(), FeatureError> {
    if CATALOG.iter().any(|d| d.name == name) && !matches!(name, "days_since_signup" | "age_years")
    {
        return Err(FeatureError::NameClash(name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_read_back_to_their_columns() {
        let levels = BTreeMap::from([("gender".to_string(), vec!["F".into(), "M x".into()])]);
        let read = |name: &str| {
            let a = attribute_sql(name, &levels);
            (a.column, a.kind, a.part)
        };
        let date = |years| AttributeKind::Date { years };
        use AttributePart::*;
        assert_eq!(read("age_years"), ("birth_date".into(), date(true), Value));
        assert_eq!(
            read("days_since_signup_missing"),
            ("signup_date".into(), date(false), Missing)
        );
        assert_eq!(
            read("days_since_last_visit"),
            ("last_visit".into(), date(false), Value)
        );
        assert_eq!(
            read("email_opt_in"),
            ("email_opt_in".into(), AttributeKind::Number, Value)
        );
        let gender = |part| ("gender".to_string(), AttributeKind::Text, part);
        assert_eq!(read("gender_f"), gender(Level("F".into())));
        assert_eq!(read("gender_m_x"), gender(Level("M x".into())));
        assert_eq!(
            read("gender_other"),
            gender(Other(vec!["F".into(), "M x".into()]))
        );
        assert_eq!(read("gender_missing"), gender(Missing));
        // Every date feature the builder names reads back to its column.
        for column in ["signup_date", "birth_date", "renewal"] {
            let (feature, years) = date_feature(column);
            assert_eq!(read(&feature), (column.into(), date(years), Value));
        }
    }

    #[test]
    fn median_interpolates_between_the_middle_values() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [5.0, 1.0, 9.0]), Some(5.0));
        assert_eq!(median(&mut [0.1, 0.7]), Some(0.5 * (0.7 - 0.1) + 0.1));
    }
}
