//! Strings the stages together for the commands that read files: load and check the inputs, call
//! the pure stages, write the outputs atomically. The `run` command's jobs live in `job`.

pub mod analyze;
pub mod clv;
pub mod error;
pub mod identity;
pub mod job;
pub mod ledger;
pub mod models;
pub mod plan;
pub mod profit;
pub mod scores;
pub mod segment;
pub mod select;
pub mod settings;

pub use error::{Param, RunError, Setting, Via};

use std::path::Path;

use chrono::NaiveDate;

use crate::features::{self, FeatureParams};
use crate::ingest::{self, IngestRequest, TableKind, TableSummary, Validated};
use crate::{io, Error};
use polars::prelude::DataFrame;

/// The features of `transactions`; with `[profit]` (the params' or else the ingest config's),
/// its product cost table read and the contacts counted for their costs.
fn build_features(
    request: &IngestRequest,
    transactions: &DataFrame,
    customers: Option<&DataFrame>,
    as_of: NaiveDate,
    params: &FeatureParams,
    rejects_dir: &Path,
    warnings: &mut String,
) -> Result<DataFrame, Error> {
    let mut params = params.clone();
    if params.profit.is_none() {
        params.profit = request.config.profit.as_deref().cloned();
    }
    if let Some(profit) = params.profit.as_mut() {
        profit::load_product_costs(profit, warnings)?;
    }
    let mut builder = features::HistoryBuilder::new(&params, customers.is_some());
    if params.profit.is_some() && request.path(TableKind::Contacts).is_some() {
        let contacts = load_checked(request, TableKind::Contacts, rejects_dir, warnings)?;
        builder.contacts(&contacts.frame)?;
    }
    builder.push(transactions)?;
    let history = builder.finish(customers)?;
    if let Some(note) = history.cost_tally().and_then(|t| t.note()) {
        warnings.push_str(&format!("{note}\n"));
    }
    Ok(history.build(as_of, &params)?)
}

/// Loads one table through ingest's validation. Rejects are written under `rejects_dir` when
/// there are any, and the threshold applies: past it the load fails (exit code 2).
pub fn load_checked(
    request: &IngestRequest,
    table: TableKind,
    rejects_dir: &Path,
    warnings: &mut String,
) -> Result<Validated, Error> {
    let mut v = request.load(table)?;
    if let Some(path) = write_rejects(v.table, &mut v.rejects, &v.summary, rejects_dir, warnings)? {
        ingest::check_reject_rate(
            v.table,
            &v.summary,
            &v.rejects,
            request.max_reject_rate(),
            &path,
        )?;
    }
    Ok(v)
}

/// Writes a table's rejects to `rejects_dir/rejects/<table>.csv` when there are any, with a
/// warning line naming the top reasons; returns the file written.
pub fn write_rejects(
    table: TableKind,
    rejects: &mut DataFrame,
    summary: &TableSummary,
    rejects_dir: &Path,
    warnings: &mut String,
) -> Result<Option<std::path::PathBuf>, Error> {
    let path = ingest::rejects_path(rejects_dir, table);
    let written = write_rejects_at(&path, &table.to_string(), rejects, summary, warnings)?;
    Ok(written.then_some(path))
}

/// Writes rejects to `path` when there are any and adds one warning line for them (`what`
/// names the table as the user knows it); returns whether it wrote. The one place rejects are
/// written and announced (the threshold is `ingest::check_reject_rate`).
pub fn write_rejects_at(
    path: &Path,
    what: &str,
    rejects: &mut DataFrame,
    summary: &TableSummary,
    warnings: &mut String,
) -> Result<bool, Error> {
    if summary.rows_rejected == 0 {
        return Ok(false);
    }
    io::write_table(path, rejects)?;
    warnings.push_str(&format!(
        "warning: {what}: {} of {} rows rejected ({}); see {}\n",
        summary.rows_rejected,
        summary.rows_in,
        summary
            .top_reasons(3)
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        path.display()
    ));
    Ok(true)
}

/// What `features` built.
#[derive(Debug)]
pub struct FeaturesBuilt {
    pub rows: usize,
    pub columns: usize,
    pub warnings: String,
}

/// The `features` command: load transactions (and customers when given), build, write `out`.
pub fn features(
    request: &IngestRequest,
    as_of: NaiveDate,
    params: &FeatureParams,
    out: &Path,
) -> Result<FeaturesBuilt, Error> {
    let rejects_dir = out.parent().unwrap_or_else(|| Path::new("."));
    let mut warnings = String::new();
    let tx = load_checked(request, TableKind::Transactions, rejects_dir, &mut warnings)?;
    let customers = match request.source(TableKind::Customers) {
        Some(_) => Some(load_checked(
            request,
            TableKind::Customers,
            rejects_dir,
            &mut warnings,
        )?),
        None => None,
    };
    let customers = customers.as_ref().map(|c| &c.frame);
    if let Some(note) = customers
        .and_then(|c| features::excluded_note(&features::personal_columns(c, &params.exclude)))
    {
        warnings.push_str(&format!("{note}\n"));
    }
    let mut df = build_features(
        request,
        &tx.frame,
        customers,
        as_of,
        params,
        rejects_dir,
        &mut warnings,
    )?;
    io::write_table(out, &mut df)?;
    Ok(FeaturesBuilt {
        rows: df.height(),
        columns: df.width() - 1,
        warnings,
    })
}
