//! Training rows: one row per contact with features as of the day before the contact, one row per
//! customer for churn, or a flat table's rows as they are.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use ndarray::{Array1, Array2, Axis};
use polars::prelude::*;

use super::frame::{self, pe};
use super::TrainingError;
use crate::features::{self, top_levels, FeatureParams};
use crate::models::{CategoricalColumns, ModelInput};

/// A table ready for [`super::train`]: numeric and categorical model inputs, the 0/1 label and
/// everything else of the source rows (`extra`, row-aligned) from which the treatment and holdout
/// columns are taken by name.
#[derive(Debug, Clone)]
pub struct TrainingTable {
    /// One id per row (customer id, or the 0-based row number of a flat table without ids).
    pub ids: Vec<String>,
    pub numeric_names: Vec<String>,
    /// Rows × numeric inputs, NaN for missing.
    pub numeric: Array2<f64>,
    pub categorical: CategoricalColumns,
    /// Name of the label column.
    pub label: String,
    pub labels: Array1<f64>,
    /// Epoch day of each row's event (the contact date) for the time holdout; `None` when all rows
    /// share one date (churn) or the table has no dates.
    pub dates: Option<Vec<i64>>,
    /// The source columns of each row (contacts, or the whole flat table).
    pub extra: DataFrame,
    /// Where the rows came from, for the report.
    pub source: String,
    /// First and last as-of day of the feature rows.
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Categorical levels fixed for the feature builder (empty for flat tables).
    pub feature_levels: BTreeMap<String, Vec<String>>,
    /// What was left out and why.
    pub notes: Vec<String>,
    /// The cap the rows were sampled down to, if any ([`super::training_rows`] sets it).
    pub row_cap: Option<usize>,
}

impl TrainingTable {
    /// The model input view of the table.
    pub fn input(&self) -> ModelInput<'_> {
        ModelInput {
            numeric_names: &self.numeric_names,
            numeric: self.numeric.view(),
            categorical: &self.categorical,
        }
    }

    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// The rows where `keep` is true.
    pub fn retain(&self, keep: &[bool]) -> Result<TrainingTable, TrainingError> {
        let idx: Vec<usize> = (0..self.n_rows()).filter(|&i| keep[i]).collect();
        let mask = BooleanChunked::from_slice("keep".into(), keep);
        Ok(TrainingTable {
            row_cap: self.row_cap,
            ids: idx.iter().map(|&i| self.ids[i].clone()).collect(),
            numeric_names: self.numeric_names.clone(),
            numeric: self.numeric.select(Axis(0), &idx),
            categorical: CategoricalColumns {
                names: self.categorical.names.clone(),
                values: self
                    .categorical
                    .values
                    .iter()
                    .map(|c| idx.iter().map(|&i| c[i].clone()).collect())
                    .collect(),
            },
            label: self.label.clone(),
            labels: self.labels.select(Axis(0), &idx),
            dates: self
                .dates
                .as_ref()
                .map(|d| idx.iter().map(|&i| d[i]).collect()),
            extra: self.extra.filter(&mask).map_err(pe)?,
            source: self.source.clone(),
            window: self.window,
            feature_levels: self.feature_levels.clone(),
            notes: self.notes.clone(),
        })
    }

    /// Leaves out the rows whose `column` equals `value` (e.g. the control group of a response
    /// model: they were never contacted). A table without the column, or without such rows, is
    /// returned as is: not copied (at 1M customers the matrix alone is a gigabyte).
    pub fn without_level(self, column: &str, value: &str) -> Result<TrainingTable, TrainingError> {
        if self.extra.column(column).is_err() {
            return Ok(self);
        }
        let v = frame::text_column(&self.extra, column, "the training rows")?;
        let keep: Vec<bool> = v.iter().map(|x| x != value).collect();
        let dropped = keep.iter().filter(|k| !**k).count();
        if dropped == 0 {
            return Ok(self);
        }
        let mut t = self.retain(&keep)?;
        t.notes.push(format!(
            "left out {dropped} rows with {column} = {value} (not contacted)"
        ));
        Ok(t)
    }
}

pub(crate) use crate::types::date_of_epoch_day as date_of;

/// Levels of every categorical input of the feature builder, computed once over all customers and
/// the purchases up to `last_as_of`, so every date's feature frame has the same columns. Levels the
/// caller fixed in `params.levels` win.
pub(crate) fn fixed_levels(
    history: &features::History,
    customers: Option<&DataFrame>,
    last_as_of: NaiveDate,
    params: &FeatureParams,
) -> Result<BTreeMap<String, Vec<String>>, TrainingError> {
    let mut levels = history.mix_levels(last_as_of, params);
    if let Some(c) = customers {
        for field in c.schema().iter_fields() {
            let name = field.name().as_str();
            // Personal data never becomes a level (the levels are written into the model).
            let personal = history.excludes(name);
            if name == "customer_id" || field.dtype() != &DataType::String || personal {
                continue;
            }
            let level = col(name).str().strip_chars(lit(NULL));
            let l = top_levels(c.clone().lazy(), level, lit(1.0), params.level_cap).map_err(pe)?;
            levels.insert(name.to_string(), l);
        }
    }
    for (k, v) in &params.levels {
        levels.insert(k.clone(), v.clone());
    }
    Ok(levels)
}

fn id_strings(df: &DataFrame) -> Result<Vec<String>, TrainingError> {
    frame::text_column(df, "customer_id", "the training rows")
}

/// At most `max_rows` training rows, chosen at random with `seed` (rows keep their order): a
/// logistic model of a few dozen inputs is as good from a few million rows as from tens of
/// millions, and the rows' matrix (8 bytes × inputs × rows) is what bounds a large run's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCap {
    pub max_rows: usize,
    pub seed: u64,
}

/// The default cap of `[train] max_rows` and `train --max-rows`.
pub const DEFAULT_MAX_TRAINING_ROWS: usize = 5_000_000;

impl RowCap {
    /// The rows to keep of `n` (ascending), or `None` to keep them all.
    fn pick(self, n: usize) -> Option<Vec<IdxSize>> {
        use rand::SeedableRng;
        if n <= self.max_rows {
            return None;
        }
        let mut rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(self.seed);
        let mut rows: Vec<IdxSize> = rand::seq::index::sample(&mut rng, n, self.max_rows)
            .into_iter()
            .map(|i| i as IdxSize)
            .collect();
        rows.sort_unstable();
        Some(rows)
    }

    /// `frame`'s sampled rows, and the note that says so (`None`: every row is kept).
    fn sample(
        cap: Option<RowCap>,
        frame: &DataFrame,
        what: &str,
    ) -> Result<Option<(DataFrame, String)>, TrainingError> {
        let Some(rows) = cap.and_then(|c| c.pick(frame.height())) else {
            return Ok(None);
        };
        let note = format!(
            "trained on a seeded random sample of {} of {} {what} (max_rows)",
            rows.len(),
            frame.height()
        );
        let sampled = frame
            .take(&IdxCa::from_vec("rows".into(), rows))
            .map_err(pe)?;
        Ok(Some((sampled, note)))
    }
}

/// One training row per contact: the features of the contacted customer as of the day before the
/// contact date (a purchase on the contact day or later never enters the row), label `responded`.
///
/// Every contact's row comes from one [`features::History`] (the lines keyed and sorted once,
/// `History::rows_at`), with the categorical levels fixed across dates, so every row has the
/// same columns. Contacts of customers with no purchase before the contact day have no feature
/// row and are left out (counted in `notes`). Rows keep the order of `contacts`; `extra` holds
/// the contacts' own columns. `history` holds the purchase lines keyed and sorted once (a job's
/// ingest made them while streaming the transactions).
pub(super) fn response_rows(
    history: &features::History,
    customers: Option<&DataFrame>,
    contacts: &DataFrame,
    params: &FeatureParams,
    cap: Option<RowCap>,
) -> Result<TrainingTable, TrainingError> {
    let sampled = RowCap::sample(cap, contacts, "contacts")?;
    let contacts = sampled.as_ref().map_or(contacts, |(f, _)| f);
    let lack = frame::missing(
        contacts,
        &[
            "customer_id".to_string(),
            "contact_date".to_string(),
            "responded".to_string(),
        ],
    );
    if !lack.is_empty() {
        return Err(TrainingError::MissingColumn {
            table: "the contacts table".into(),
            columns: frame::quoted(&lack),
            hint: " (needed for training rows)".into(),
        });
    }
    let contact_days = contacts
        .column("contact_date")
        .map_err(pe)?
        .cast(&DataType::Date)
        .map_err(pe)?
        .cast(&DataType::Int32)
        .map_err(pe)?;
    let contact_days = contact_days.i32().map_err(pe)?;
    let (Some(first), Some(last)) = (contact_days.min(), contact_days.max()) else {
        return Err(TrainingError::InvalidData {
            what: "the contacts table".into(),
            expected: "at least one contact".into(),
            found: "no rows".into(),
        });
    };
    let as_of = |d: i32| date_of(i64::from(d) - 1);
    let levels = fixed_levels(history, customers, as_of(last), params)?;
    let params = FeatureParams {
        levels: levels.clone(),
        ..params.clone()
    };
    // Every contact's row at once, in contact order: the features as of the day before.
    let ids = contacts
        .column("customer_id")
        .map_err(pe)?
        .cast(&DataType::String)
        .map_err(pe)?;
    let queries: Vec<(&str, Option<NaiveDate>)> = ids
        .str()
        .map_err(pe)?
        .iter()
        .zip(contact_days.iter())
        .map(|(id, d)| (id.unwrap_or_default(), d.map(as_of)))
        .collect();
    let rows = history.rows_at(&queries, &params)?;
    if rows.kept.is_empty() {
        return Err(TrainingError::InvalidData {
            what: format!(
                "contacts from {} to {}",
                date_of(i64::from(first)),
                date_of(i64::from(last))
            ),
            expected: "a contacted customer with a purchase before their contact day".into(),
            found: "none".into(),
        });
    }
    let contact_columns: Vec<String> = contacts
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    if let Some(clash) = rows.names.iter().find(|n| contact_columns.contains(n)) {
        return Err(TrainingError::Conflict {
            what: format!("contacts column `{clash}` has the name of a feature"),
            expected: "a name of its own; rename it in the config".into(),
        });
    }
    let kept: Vec<IdxSize> = rows.kept.iter().map(|q| *q as IdxSize).collect();
    let joined = contacts
        .take(&IdxCa::from_vec("rows".into(), kept))
        .map_err(pe)?;
    let mut notes: Vec<String> = sampled.iter().map(|(_, note)| note.clone()).collect();
    notes.extend(features::excluded_note(history.excluded()));
    let dropped = contacts.height() - joined.height();
    if dropped > 0 {
        notes.push(format!(
            "left out {dropped} contacts of customers without a purchase before the contact day"
        ));
    }
    let mut contact_dates: Vec<i32> = contact_days.iter().flatten().collect();
    contact_dates.sort_unstable();
    contact_dates.dedup();
    let first_purchase = history.first_purchase();
    let skipped_days = contact_dates
        .iter()
        .filter(|d| first_purchase.is_none_or(|f| as_of(**d) < f))
        .count();
    if skipped_days > 0 {
        notes.push(format!(
            "{skipped_days} contact dates had no customer with an earlier purchase"
        ));
    }
    let width = rows.names.len();
    let numeric = Array2::from_shape_vec((rows.kept.len(), width), rows.values)
        .map_err(|e| TrainingError::internal(format!("training rows: {e}")))?;
    let feature_names = rows.names;
    let labels = frame::label_column(&joined, "responded", "the contacts table")?;
    let dates: Vec<i64> = {
        let c = joined
            .column("contact_date")
            .map_err(pe)?
            .cast(&DataType::Int32)
            .map_err(pe)?;
        c.i32()
            .map_err(pe)?
            .iter()
            .map(|v| i64::from(v.unwrap_or(0)))
            .collect()
    };
    let extra = joined.select(contact_columns).map_err(pe)?;
    Ok(TrainingTable {
        row_cap: None,
        ids: id_strings(&extra)?,
        numeric_names: feature_names,
        numeric,
        categorical: CategoricalColumns::default(),
        label: "responded".into(),
        labels: Array1::from(labels),
        dates: Some(dates),
        extra,
        source: "contacts".into(),
        window: Some((as_of(first), as_of(last))),
        feature_levels: levels,
        notes,
    })
}

/// One row per customer with a purchase on or before `as_of − horizon_days`: features as of that
/// day, label 1 when the customer makes no purchase in the `horizon_days` days after it.
pub(super) fn churn_rows(
    history: &features::History,
    customers: Option<&DataFrame>,
    as_of: NaiveDate,
    horizon_days: u32,
    params: &FeatureParams,
    cap: Option<RowCap>,
) -> Result<TrainingTable, TrainingError> {
    let start = as_of - Duration::days(i64::from(horizon_days));
    let levels = fixed_levels(history, customers, start, params)?;
    let params = FeatureParams {
        levels: levels.clone(),
        ..params.clone()
    };
    let f = history.build(start, &params)?;
    let sampled = RowCap::sample(cap, &f, "customers")?;
    let (f, notes) = match sampled {
        Some((f, note)) => (f, vec![note]),
        None => (f, Vec::new()),
    };
    let names: Vec<String> = f
        .get_column_names()
        .iter()
        .filter(|c| c.as_str() != "customer_id")
        .map(|c| c.to_string())
        .collect();
    let ids = id_strings(&f)?;
    let labels: Array1<f64> = history
        .bought_between(&ids, start, as_of)
        .into_iter()
        .map(|bought| if bought { 0.0 } else { 1.0 })
        .collect();
    let numeric = frame::numeric_matrix(&f, &names, "the feature rows")?;
    let extra = f.select(["customer_id"]).map_err(pe)?;
    Ok(TrainingTable {
        row_cap: None,
        ids,
        numeric_names: names,
        numeric,
        categorical: CategoricalColumns::default(),
        label: format!(
            "churned (no purchase {} to {as_of})",
            start + Duration::days(1)
        ),
        labels,
        dates: None,
        extra,
        source: format!("transactions, features as of {start}"),
        window: Some((start, start)),
        feature_levels: levels,
        notes: notes
            .into_iter()
            .chain(features::excluded_note(history.excluded()))
            .collect(),
    })
}

/// Which columns of a flat table are what.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    /// The 0/1 label column.
    pub label: String,
    /// Numeric inputs; `None` = every numeric column except the label, the id, the categorical
    /// columns and `exclude`.
    pub features: Option<Vec<String>>,
    /// Categorical inputs (one-hot by the model's preprocessing).
    pub categorical: Vec<String>,
    /// Columns never used as inputs (treatment, holdout flag…).
    pub exclude: Vec<String>,
    /// Id column (else rows are numbered from 0).
    pub id: Option<String>,
    /// Name of the table, for messages and the report.
    pub source: String,
}

/// A flat table's rows as training rows: columns found by name.
pub(super) fn table_rows(df: &DataFrame, spec: &TableSpec) -> Result<TrainingTable, TrainingError> {
    let mut wanted: Vec<String> = vec![spec.label.clone()];
    wanted.extend(spec.features.iter().flatten().cloned());
    wanted.extend(spec.categorical.iter().cloned());
    wanted.extend(spec.exclude.iter().cloned());
    wanted.extend(spec.id.iter().cloned());
    let lack = frame::missing(df, &wanted);
    if !lack.is_empty() {
        return Err(TrainingError::MissingColumn {
            table: format!("`{}`", spec.source),
            columns: frame::quoted(&lack),
            hint: String::new(),
        });
    }
    // Personal data never becomes an input: a named one is refused, an automatic one skipped.
    for name in spec.features.iter().flatten().chain(&spec.categorical) {
        let column = df
            .column(name)
            .map_err(|_| TrainingError::internal("a checked column"))?;
        if let Some(kind) = features::personal_input(column) {
            return Err(TrainingError::PersonalData {
                table: format!("`{}`", spec.source),
                column: name.clone(),
                kind: kind.to_string(),
            });
        }
    }
    let numeric_names: Vec<String> = match &spec.features {
        Some(f) => f.clone(),
        None => df
            .columns()
            .iter()
            .filter(|c| frame::is_numeric(c.dtype()))
            .filter(|c| features::personal_input(c).is_none())
            .map(|c| c.name().to_string())
            .filter(|n| {
                *n != spec.label
                    && Some(n) != spec.id.as_ref()
                    && !spec.categorical.contains(n)
                    && !spec.exclude.contains(n)
            })
            .collect(),
    };
    if numeric_names.is_empty() && spec.categorical.is_empty() {
        return Err(TrainingError::MissingInput {
            what: format!("`{}` has no input column", spec.source),
            hint: "name them with `--features`/`--categorical`".into(),
        });
    }
    let what = format!("`{}`", spec.source);
    let numeric = frame::numeric_matrix(df, &numeric_names, &what)?;
    let categorical = CategoricalColumns {
        names: spec.categorical.clone(),
        values: spec
            .categorical
            .iter()
            .map(|c| frame::text_column(df, c, &what))
            .collect::<Result<_, _>>()?,
    };
    let labels = frame::label_column(df, &spec.label, &what)?;
    let ids = match &spec.id {
        Some(id) => frame::text_column(df, id, &what)?,
        None => (0..df.height()).map(|i| i.to_string()).collect(),
    };
    Ok(TrainingTable {
        row_cap: None,
        ids,
        numeric_names,
        numeric,
        categorical,
        label: spec.label.clone(),
        labels: Array1::from(labels),
        dates: None,
        extra: df.clone(),
        source: spec.source.clone(),
        window: None,
        feature_levels: BTreeMap::new(),
        notes: Vec::new(),
    })
}
