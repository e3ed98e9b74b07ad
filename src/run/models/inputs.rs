//! Loading the tables the model commands train from.

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};

use super::registry::{self, Registered};
use crate::features::{FeatureParams, History};
use crate::ingest::{IngestRequest, TableKind};
use crate::models::training::{TrainedModel, TrainingTable};
use crate::{io, Error};

/// Canonical tables for training rows (validated by ingest), as read from the files.
///
/// Not one with [`crate::features::History`]: that one is the purchase lines keyed and sorted
/// for feature builds (no customers' attributes, no contacts, no reject warnings), made from the
/// `transactions` frame here by [`LoadedTables::history`]; a job makes it while streaming the
/// transactions and never holds these frames.
#[derive(Debug)]
pub struct LoadedTables {
    pub transactions: DataFrame,
    pub customers: Option<DataFrame>,
    pub contacts: Option<DataFrame>,
    /// Reject warnings to print.
    pub warnings: String,
}

/// Loads the transactions, the customers when the request names them, and the contacts when
/// `contacts` is true (then required). Rejects go under `rejects_dir/rejects/`.
pub fn load_tables(
    request: &IngestRequest,
    contacts: bool,
    rejects_dir: &Path,
) -> Result<LoadedTables, Error> {
    let mut warnings = String::new();
    let mut load =
        |t: TableKind| super::super::load_checked(request, t, rejects_dir, &mut warnings);
    let transactions = load(TableKind::Transactions)?.frame;
    let customers = match request.source(TableKind::Customers) {
        Some(_) => Some(load(TableKind::Customers)?.frame),
        None => None,
    };
    let contacts = if contacts {
        Some(load(TableKind::Contacts)?.frame)
    } else {
        None
    };
    Ok(LoadedTables {
        transactions,
        customers,
        contacts,
        warnings,
    })
}

impl LoadedTables {
    /// The purchase lines keyed and sorted for the training rows' feature builds.
    pub fn history(&self, params: &FeatureParams) -> Result<History, Error> {
        Ok(History::new(
            &self.transactions,
            self.customers.as_ref(),
            params,
        )?)
    }
}

/// Reads a flat table (CSV or Parquet); `text_columns` are read as text.
pub fn read_flat(path: &Path, text_columns: &[&str]) -> Result<DataFrame, Error> {
    Ok(io::read_table(path, text_columns)?)
}

/// Where a trained model went.
#[derive(Debug, Clone)]
pub enum Saved {
    /// Written to the folder given.
    Dir(PathBuf),
    /// Registered.
    Registry(Registered),
}

/// Saves into `out` when given, else registers under `registry`.
pub fn save_or_register(
    model: &TrainedModel,
    out: Option<&Path>,
    registry: &Path,
) -> Result<Saved, Error> {
    match out {
        Some(dir) => {
            registry::save(dir, model)?;
            Ok(Saved::Dir(dir.to_path_buf()))
        }
        None => Ok(Saved::Registry(registry::register(registry, model)?)),
    }
}

/// The training rows as a table: the source columns (`extra`), then every model input not among
/// them, a `label` column when the label is not a source column (churn), and `score` when given
/// (the training-time prediction of each row), and `cv_fold` when folds were cut (the 1-based
/// fold whose validation holds the row; empty for rows no fold validates).
pub fn rows_frame(
    t: &TrainingTable,
    scores: Option<&[f64]>,
    folds: Option<&[Option<usize>]>,
) -> Result<DataFrame, Error> {
    let mut df = t.extra.clone();
    let has = |df: &DataFrame, name: &str| df.column(name).is_ok();
    let add = |df: &mut DataFrame, c: Column| -> Result<(), Error> {
        df.with_column(c)
            .map_err(crate::error::polars_failure("the training rows"))?;
        Ok(())
    };
    for (j, name) in t.numeric_names.iter().enumerate() {
        if !has(&df, name) {
            add(
                &mut df,
                Column::new(name.into(), t.numeric.column(j).to_vec()),
            )?;
        }
    }
    for (name, values) in t.categorical.names.iter().zip(&t.categorical.values) {
        if !has(&df, name) {
            add(&mut df, Column::new(name.into(), values.clone()))?;
        }
    }
    if !has(&df, &t.label) {
        add(&mut df, Column::new("label".into(), t.labels.to_vec()))?;
    }
    if let Some(s) = scores {
        add(&mut df, Column::new("score".into(), s.to_vec()))?;
    }
    if let Some(f) = folds {
        let f: Vec<Option<u32>> = f.iter().map(|x| x.map(|x| x as u32)).collect();
        add(&mut df, Column::new("cv_fold".into(), f))?;
    }
    Ok(df)
}

/// Writes [`rows_frame`] to `path` (CSV or Parquet).
pub fn write_rows(
    path: &Path,
    t: &TrainingTable,
    scores: Option<&[f64]>,
    folds: Option<&[Option<usize>]>,
) -> Result<(), Error> {
    let mut df = rows_frame(t, scores, folds)?;
    Ok(io::write_table(path, &mut df)?)
}

/// The trained model's score of each training row (P(label = 1), or the uplift).
pub fn training_scores(model: &TrainedModel, t: &TrainingTable) -> Result<Vec<f64>, Error> {
    Ok(model
        .artifact
        .score(&t.input())
        .map_err(super::input_error)?
        .to_vec())
}
