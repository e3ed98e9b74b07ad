//! The `select` command's file plumbing: read the campaign, the scores, the consent columns, the
//! suppression lists and the contact history; resolve them into [`Candidate`]s; call the pure
//! selector ([`crate::select::select_audience`]); write the audience, the summary and the
//! exclusions atomically.
//!
//! The outputs are written into a staging folder and published as one folder swap (the same
//! [`Staging`] as `bullseye run`), under the lock of the output folder.
//!
//! Resolution rules (documented in the README):
//! - Every row of the scores table is one candidate (`customer_id`, read as a string). Score,
//!   value and segment columns are looked up by the names the campaign gives.
//! - Consent: a channel's `consent_column` is read from the customers table when one is given
//!   (flags parsed by ingest), else from the scores table. A scored customer absent from the
//!   customers table, or whose flag is empty, has **no consent** on that channel.
//! - Every customer of the customers table (and of a job's transactions) without a score is
//!   excluded as `no_history`, so audience and exclusions together hold everyone known.
//! - The suppressions table of the sources (`--config`, a job's `[sources.suppressions]`) applies
//!   to every campaign, named by the campaign file or not.
//! - Suppressions (`[suppression] files`) and the contact history (`[contact_policy] history`)
//!   are relative to the campaign file's folder and read through ingest's validation, so bad rows
//!   are written to `DIR/rejects/` and counted against `--max-reject-rate`, never dropped
//!   silently.
//! - Ids and channel names of every table are matched by the identity rule and the id policy,
//!   and everything that does not match is counted: see [`crate::select::resolve`], which also
//!   holds the fail-closed rules (near-matching suppression entries, scores out of range).
//! - Contacts dated after `as_of` are kept by ingest (no as-of check) and ignored by the rules.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use crate::error::polars_failure;
use crate::ids::IdPolicy;
use crate::ingest::{self, IngestRequest, SourceSpec, TableKind, Validated};
use crate::ledger::RunRecord;
use crate::run::job::Staging;
use crate::run::ledger::{self as ledger_run, LedgerSettings};
use crate::run::RunError;
use crate::select::resolve::{self, ContactEntry, SuppressionEntry};
use crate::select::{
    select_audience_owned, CampaignConfig, Candidate, Group, IdIndex, MatchReport, PastContact,
    SelectError, Selection, Suppression,
};
use crate::types::date_of_epoch_day;
use crate::{io, Error};

/// Id column of the scores table.
pub const ID_COLUMN: &str = "customer_id";

/// A side table the campaign names (a suppression list or the contact history), validated.
#[derive(Debug, Clone)]
pub struct SideTable {
    /// Suppressions or contacts.
    pub table: TableKind,
    /// The file, resolved against the campaign's folder.
    pub path: PathBuf,
    /// Kept rows, rejects and counts.
    pub validated: Validated,
}

/// What [`select_from_frames`] returns: the selection and the side tables it read (whose rejects
/// the caller writes with [`write_side_rejects`]).
#[derive(Debug)]
pub struct Selected {
    pub selection: Selection,
    pub side_tables: Vec<SideTable>,
    /// The segment column carried into the audience, if any.
    pub segment_column: Option<String>,
    /// Seconds of each step, in order (a job's manifest lists them as the stage's parts).
    pub steps: Vec<(&'static str, f64)>,
}

/// Everything the `select` command needs.
#[derive(Debug, Clone)]
pub struct SelectRequest {
    /// Scores table (CSV or Parquet) with `customer_id` and the campaign's columns.
    pub scores: PathBuf,
    /// Campaign TOML.
    pub campaign: PathBuf,
    /// Source of the customers table (consent flags), if any: `--customers` and/or `--config`.
    pub ingest: IngestRequest,
    /// Output folder.
    pub out: PathBuf,
    /// Segment column to carry into the audience when the campaign has no `[eligibility]`.
    pub segment_column: Option<String>,
    /// Overrides `campaign.seed`.
    pub seed: Option<u64>,
    /// How long to wait for another process publishing `out` (see [`io::OutputLock`]).
    pub lock_timeout: std::time::Duration,
    /// How the CSV outputs' text cells are written.
    pub cells: io::CsvCells,
    /// The ledger the selection is recorded in and whose contacts the contact policy counts.
    pub ledger: Option<LedgerSettings>,
    /// The share of all customers held out as the ledger's global control group.
    pub global_control: Option<f64>,
    /// The previous output folder of the campaign, which `[export]`'s adds and removes compare
    /// with (none: the first export, everyone is an add).
    pub previous: Option<PathBuf>,
}

/// What the `select` command did.
#[derive(Debug)]
pub struct SelectOutcome {
    pub selection: Selection,
    /// Reject warnings of the customers table and the side tables (one line each).
    pub warnings: String,
    /// The files written.
    pub written: Vec<PathBuf>,
}

fn in_folder(out: &Path, message: String) -> Error {
    Error::from(RunError::InvalidFile {
        path: out.to_path_buf(),
        message,
    })
}

fn invalid(key: String, expected: String, found: String) -> Error {
    Error::Select(SelectError::InvalidConfig {
        key,
        expected,
        found,
    })
}

/// Reads and checks a campaign file. Errors name the file; TOML errors are put on one line,
/// without the excerpt of the file and with quotes of its content cut short (the user may have
/// named any file).
pub fn load_campaign(path: &Path) -> Result<CampaignConfig, Error> {
    let text = io::read_text(path)?;
    CampaignConfig::from_toml_str(&text).map_err(|e| match e {
        SelectError::Toml { message } => Error::Select(SelectError::Toml {
            message: format!(
                "`{}`: {}",
                path.display(),
                io::sanitize_quotes(&one_line_toml(&message))
            ),
        }),
        other => Error::Select(other),
    })
}

/// A toml error on one line: the position line and the message, without the source excerpt
/// (`10 | sede = 8` and the caret line).
fn one_line_toml(message: &str) -> String {
    let excerpt = |l: &str| {
        let t = l.trim_start();
        t.starts_with('|')
            || t.split_once(" |")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
    };
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !excerpt(l))
        .collect::<Vec<_>>()
        .join(": ")
}

/// The segment column of a campaign: `[eligibility] segment_column` when the campaign has an
/// eligibility table, else `flag` (the command's `--segment-column`). Both given and different
/// is an error, because the filters and the audience must use the same labels.
pub fn segment_column(
    config: &CampaignConfig,
    flag: Option<&str>,
) -> Result<Option<String>, Error> {
    match (&config.eligibility, flag) {
        (Some(e), Some(f)) if e.segment_column != f => Err(invalid(
            "eligibility.segment_column".into(),
            format!("the same column as --segment-column `{f}`"),
            format!("{:?}", e.segment_column),
        )),
        (Some(e), _) => Ok(Some(e.segment_column.clone())),
        (None, f) => Ok(f.map(str::to_string)),
    }
}

pub(crate) fn column_names(df: &DataFrame) -> String {
    df.get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn require_column<'a>(
    df: &'a DataFrame,
    name: &str,
    key: &str,
    table: &str,
) -> Result<&'a Column, Error> {
    df.column(name).map_err(|_| {
        invalid(
            key.to_string(),
            format!("a column of the {table} (columns: {})", column_names(df)),
            format!("{name:?}"),
        )
    })
}

/// A numeric column as `Option<f64>` per row, non-finite values kept (null → None), so that the
/// caller can count them.
fn numeric_raw(
    df: &DataFrame,
    name: &str,
    key: &str,
    table: &str,
) -> Result<Vec<Option<f64>>, Error> {
    let col = require_column(df, name, key, table)?;
    let dt = col.dtype();
    if !(dt.is_primitive_numeric() || dt.is_bool() || dt == &DataType::Null) {
        return Err(invalid(
            key.to_string(),
            format!("a numeric column `{name}` in the {table}"),
            format!("type {dt}"),
        ));
    }
    let cast = col
        .cast(&DataType::Float64)
        .map_err(polars_failure(&format!("{table} column `{name}`")))?;
    let ca = cast
        .f64()
        .map_err(polars_failure(&format!("{table} column `{name}`")))?;
    Ok(ca.iter().collect())
}

/// A numeric column as `Option<f64>` per row (null and non-finite → None).
fn numeric(df: &DataFrame, name: &str, key: &str, table: &str) -> Result<Vec<Option<f64>>, Error> {
    Ok(numeric_raw(df, name, key, table)?
        .into_iter()
        .map(|v| v.filter(|x| x.is_finite()))
        .collect())
}

/// A column as text per row (numbers are rendered; null → None).
fn text(df: &DataFrame, name: &str, key: &str, table: &str) -> Result<Vec<Option<String>>, Error> {
    let col = text_column(df, name, key, table)?;
    let ca = col
        .str()
        .map_err(polars_failure(&format!("{table} column `{name}`")))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column cast to text (numbers are rendered), for reading its values in place: see [`text`].
fn text_column(df: &DataFrame, name: &str, key: &str, table: &str) -> Result<Column, Error> {
    let col = require_column(df, name, key, table)?;
    let cast = col
        .cast(&DataType::String)
        .map_err(polars_failure(&format!("{table} column `{name}`")))?;
    cast.str()
        .map_err(polars_failure(&format!("{table} column `{name}`")))?;
    Ok(cast)
}

/// The text values of a column from [`text_column`].
fn text_values(col: &Column) -> Result<&StringChunked, Error> {
    col.str()
        .map_err(polars_failure(&format!("column `{}`", col.name())))
}

/// A 0/1 consent column: 1 → true, 0 or empty → false, anything else is an error.
fn consent_flags(df: &DataFrame, name: &str, key: &str, table: &str) -> Result<Vec<bool>, Error> {
    let values = numeric(df, name, key, table)?;
    values
        .into_iter()
        .map(|v| match v {
            Some(1.0) => Ok(true),
            Some(0.0) => Ok(false),
            None => Ok(false),
            Some(x) => Err(invalid(
                key.to_string(),
                format!("0/1 values in the {table} column `{name}`"),
                x.to_string(),
            )),
        })
        .collect()
}

/// Reads the campaign's suppression files and contact history (relative to `campaign_dir`)
/// through ingest's validation.
pub fn load_side_tables(
    config: &CampaignConfig,
    campaign_dir: &Path,
) -> Result<Vec<SideTable>, Error> {
    let mut files: Vec<(TableKind, PathBuf)> = Vec::new();
    if let Some(s) = &config.suppression {
        for f in &s.files {
            files.push((TableKind::Suppressions, campaign_dir.join(f)));
        }
    }
    if let Some(h) = config
        .contact_policy
        .as_ref()
        .and_then(|p| p.history.as_ref())
    {
        files.push((TableKind::Contacts, campaign_dir.join(h)));
    }
    files
        .into_iter()
        .map(|(table, path)| {
            let validated = ingest::load_table(table, &path, &SourceSpec::default(), None)?;
            Ok(SideTable {
                table,
                path,
                validated,
            })
        })
        .collect()
}

/// How [`candidates`] matches the tables: the id policy and the share of rows without a finite
/// score above which the command fails.
#[derive(Debug, Clone, Copy)]
pub struct MatchOptions<'a> {
    pub id_policy: IdPolicy,
    pub max_reject_rate: f64,
    /// `[identity] default_country_code`: how national phone numbers of a do-not-contact list
    /// and of the customers are matched.
    pub default_country_code: Option<u16>,
    /// The e-mail and phone values of every customer record before `[identity]` merged them,
    /// filed under the surviving ids: a list keyed by e-mail or phone is matched against it,
    /// so an address of a merged-away record still reaches its survivor. `None`: built from the
    /// customers table given.
    pub directory: Option<&'a crate::identity::Directory>,
}

/// A text column of a validated side table (null where the column is absent).
fn side_text(df: &DataFrame, name: &str, what: &str) -> Result<Vec<Option<String>>, Error> {
    match df.column(name) {
        Ok(c) => Ok(c
            .str()
            .map_err(polars_failure(what))?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()),
        Err(_) => Ok(vec![None; df.height()]),
    }
}

/// The directory of the customers' e-mail and phone values, for lists keyed by them: without
/// the customers table such a list cannot be matched, and the selection is refused rather than
/// sent to people on it.
fn keyed_directory(
    customers: Option<&DataFrame>,
    options: MatchOptions,
    list: &Path,
) -> Result<crate::identity::Directory, Error> {
    let Some(customers) = customers else {
        return Err(RunError::MissingInput {
            what: format!(
                "`{}` names people by e-mail or phone, which only the customers table can match",
                list.display()
            ),
            hint: "give the customers table (`--customers` or `[sources.customers]`) with its `email`/`phone` columns".into(),
        }
        .into());
    };
    let settings = crate::identity::IdentitySettings {
        default_country_code: options.default_country_code.map(|c| c.to_string()),
        ..Default::default()
    };
    Ok(super::identity::identities(customers, &settings)?.1)
}

/// Suppression state per scored customer, from the validated suppression tables; entries keyed
/// by e-mail or phone name the customers with that value (see [`super::identity`]).
fn suppressions(
    config: &CampaignConfig,
    index: &IdIndex,
    side: &[SideTable],
    customers: Option<&DataFrame>,
    options: MatchOptions,
    report: &mut MatchReport,
) -> Result<Vec<Suppression>, Error> {
    let mut rows: Vec<(String, Option<String>)> = Vec::new();
    let mut directory = None;
    for t in side.iter().filter(|t| t.table == TableKind::Suppressions) {
        let keyed = ["email", "phone"]
            .iter()
            .any(|k| t.validated.frame.column(k).is_ok());
        let resolved;
        let df = if keyed {
            if directory.is_none() && options.directory.is_none() {
                directory = Some(keyed_directory(customers, options, &t.path)?);
            }
            let dir = options
                .directory
                .or(directory.as_ref())
                .ok_or_else(|| RunError::internal("no directory"))?;
            resolved = super::identity::resolve_keyed(&t.validated.frame, dir)?;
            let unmatched = super::identity::unmatched_keyed(&resolved)?;
            report.suppression_entries += unmatched;
            report.suppression_keys_unmatched += unmatched;
            &resolved
        } else {
            &t.validated.frame
        };
        let what = format!("`{}`", t.path.display());
        let ids = side_text(df, "customer_id", &what)?;
        let channels = side_text(df, "channel", &what)?;
        rows.extend(
            ids.into_iter()
                .zip(channels)
                .filter_map(|(id, ch)| id.map(|id| (id, ch))),
        );
    }
    let entries = rows.iter().map(|(id, ch)| SuppressionEntry {
        id,
        channel: ch.as_deref(),
    });
    Ok(resolve::resolve_suppressions(
        config, index, entries, report,
    )?)
}

/// Past contacts per scored customer, from the validated contact history.
fn contacts(
    config: &CampaignConfig,
    index: &IdIndex,
    side: &[SideTable],
    report: &mut MatchReport,
) -> Result<Vec<Vec<PastContact>>, Error> {
    let mut rows: Vec<(String, NaiveDate, Option<String>)> = Vec::new();
    for t in side.iter().filter(|t| t.table == TableKind::Contacts) {
        let df = &t.validated.frame;
        let what = format!("`{}`", t.path.display());
        let ids = side_text(df, "customer_id", &what)?;
        let days = df
            .column("contact_date")
            .and_then(|c| c.cast(&DataType::Int32))
            .map_err(polars_failure(&what))?;
        let days = days.i32().map_err(polars_failure(&what))?;
        let channels = side_text(df, "channel", &what)?;
        for ((id, d), ch) in ids.into_iter().zip(days.iter()).zip(channels) {
            if let (Some(id), Some(d)) = (id, d) {
                rows.push((id, date_of_epoch_day(i64::from(d)), ch));
            }
        }
    }
    let entries = rows.iter().map(|(id, date, ch)| ContactEntry {
        id,
        date: *date,
        channel: ch.as_deref(),
    });
    Ok(resolve::resolve_contacts(config, index, entries, report))
}

/// The scores table and its id index when built already ([`scores_index`]; `None`: the
/// resolution builds it): shared when several campaigns resolve from it, owned when one campaign
/// does (its candidates then take the index's ids instead of copies).
#[derive(Clone)]
pub struct Scored<'a> {
    pub frame: &'a DataFrame,
    pub index: Option<Cow<'a, IdIndex>>,
}

/// Indexes the scored customers (their canonical ids), failing on a missing, blank or
/// duplicated id.
pub fn scores_index(scores: &DataFrame, options: MatchOptions) -> Result<IdIndex, Error> {
    let col = text_column(scores, ID_COLUMN, "--scores", SCORES)?;
    let ids = text_values(&col)?;
    if ids.null_count() > 0 {
        let row = ids.iter().position(|v| v.is_none()).unwrap_or_default();
        return Err(RunError::InvalidData {
            what: SCORES.into(),
            expected: "a customer_id on every row".into(),
            found: format!("an empty one on data row {}", row + 1),
        }
        .into());
    }
    let index = IdIndex::from_ids(ids.iter().flatten(), ids.len(), options.id_policy)?;
    if let Some(row) = index.ids().iter().position(String::is_empty) {
        return Err(RunError::InvalidData {
            what: SCORES.into(),
            expected: "a customer_id on every row".into(),
            found: format!("only blank or invisible characters on data row {}", row + 1),
        }
        .into());
    }
    Ok(index)
}

const SCORES: &str = "scores table";

/// Resolves the scores table, the customers table (consent) and the side tables into candidates,
/// one per row of `scores`, in the scores table's order, and reports what did not match.
pub fn candidates(
    config: &CampaignConfig,
    scores: &DataFrame,
    customers: Option<&DataFrame>,
    side: &[SideTable],
    segment_column: Option<&str>,
    options: MatchOptions,
) -> Result<(Vec<Candidate>, MatchReport), Error> {
    let scored = Scored {
        frame: scores,
        index: None,
    };
    candidates_of(config, scored, customers, side, segment_column, options)
}

/// [`candidates`] from a scores table whose index may be built already.
fn candidates_of(
    config: &CampaignConfig,
    scored: Scored,
    customers: Option<&DataFrame>,
    side: &[SideTable],
    segment_column: Option<&str>,
    options: MatchOptions,
) -> Result<(Vec<Candidate>, MatchReport), Error> {
    let scores = scored.frame;
    let index = match scored.index {
        Some(index) => index,
        None => Cow::Owned(scores_index(scores, options)?),
    };
    let n = index.ids().len();
    let mut report = MatchReport {
        id_policy: options.id_policy,
        ..MatchReport::default()
    };

    let score_cols: Vec<Vec<Option<f64>>> = config
        .channels
        .iter()
        .enumerate()
        .map(|(i, ch)| {
            let raw = numeric_raw(
                scores,
                &ch.score_column,
                &format!("channel[{i}].score_column"),
                SCORES,
            )?;
            Ok(resolve::check_scores(
                config.campaign.objective,
                &ch.score_column,
                &raw,
                options.max_reject_rate,
                &mut report,
            )?)
        })
        .collect::<Result<_, Error>>()?;
    let values = match &config.campaign.value_column {
        Some(c) => numeric(scores, c, "campaign.value_column", SCORES)?,
        None => vec![None; n],
    };
    let segment_values = match segment_column {
        Some(c) => Some(text_column(
            scores,
            c,
            if config.eligibility.is_some() {
                "eligibility.segment_column"
            } else {
                "--segment-column"
            },
            SCORES,
        )?),
        None => None,
    };
    let segments: Vec<Option<&str>> = match &segment_values {
        Some(col) => text_values(col)?.iter().collect(),
        None => vec![None; n],
    };

    // Consent: from the customers table when given (missing customer → no consent), else from the
    // scores table.
    // Only a consent column reads them.
    let consent = config.channels.iter().any(|ch| ch.consent_column.is_some());
    let customer_ids = match customers {
        Some(c) if consent => Some(text(c, "customer_id", "--customers", "customers table")?),
        _ => None,
    };
    let mut consent_cols: Vec<Option<Vec<bool>>> = Vec::with_capacity(config.channels.len());
    for (i, ch) in config.channels.iter().enumerate() {
        let Some(col) = &ch.consent_column else {
            consent_cols.push(None);
            continue;
        };
        let key = format!("channel[{i}].consent_column");
        let flags = match (customers, &customer_ids) {
            (Some(c), Some(cids)) => {
                let by_row = consent_flags(c, col, &key, "customers table")?;
                resolve::resolve_consent(&index, cids, &by_row)
            }
            _ => {
                if scores.column(col).is_err() {
                    return Err(invalid(
                        key,
                        format!(
                            "a column of the customers table (--customers or the config's [sources.customers]) or of the scores table (columns: {})",
                            column_names(scores)
                        ),
                        format!("{col:?}"),
                    ));
                }
                consent_flags(scores, col, &key, SCORES)?
            }
        };
        consent_cols.push(Some(flags));
    }

    let supp = suppressions(config, &index, side, customers, options, &mut report)?;
    let hist = contacts(config, &index, side, &mut report)?;
    let ids = match index {
        Cow::Owned(index) => index.into_ids(),
        Cow::Borrowed(index) => index.ids().to_vec(),
    };
    // On every core: a candidate is a handful of small allocations (a million of them took a
    // fifth of a selection on one).
    let mut out = Vec::with_capacity(n);
    ids.into_par_iter()
        .zip(supp)
        .zip(hist)
        .zip(segments)
        .enumerate()
        .map(|(r, (((id, suppression), contacts), segment))| Candidate {
            scores: score_cols.iter().map(|c| c[r]).collect(),
            value: values[r],
            segment: segment.map(str::to_string),
            consent: consent_cols
                .iter()
                .map(|c| c.as_ref().map(|v| v[r]))
                .collect(),
            suppression,
            contacts,
            customer_id: id,
            global_control: false,
        })
        .collect_into_vec(&mut out);
    Ok((out, report))
}

/// The in-memory tables every campaign of a selection or a plan reads: `scores` (`customer_id` +
/// the campaigns' score, value and segment columns), `customers` (consent flags, as ingest
/// returns them), `side`: the tables that apply to every campaign whether or not its file names
/// them (the sources' do-not-contact list, the ledger's contacts), how ids match, and the
/// canonical ids of the ledger's global control group, held out of every campaign.
pub struct Frames<'a> {
    pub scores: &'a DataFrame,
    pub customers: Option<&'a DataFrame>,
    pub side: Vec<SideTable>,
    pub options: MatchOptions<'a>,
    pub global_control: Option<&'a HashSet<String>>,
    /// The ids of the transactions (a job's run; empty for `select` and `plan`): with the
    /// customers table's, the customers every campaign must account for.
    pub transaction_ids: &'a [String],
    /// The previous output folder, which `[export]`'s adds and removes compare with: a
    /// campaign's folder (`select`), or the folder holding the campaign folders (a plan).
    pub previous: Option<&'a Path>,
}

/// The scores' id index and the customers of the customers table or the transactions that were
/// not scored (see [`resolve::unscored_ids`]), whom every campaign of a selection or a plan
/// excludes as `no_history`. An index that fails is `None` (and no one unscored): the
/// resolution then builds its own and reports the error after the side files' errors.
pub(crate) fn index_and_unscored(frames: &Frames) -> Result<(Option<IdIndex>, Vec<String>), Error> {
    match scores_index(frames.scores, frames.options) {
        Ok(index) => {
            let unscored = unscored(frames, &index)?;
            Ok((Some(index), unscored))
        }
        Err(_) => Ok((None, Vec::new())),
    }
}

/// The known customers never scored, from the scores' index.
fn unscored(frames: &Frames, index: &IdIndex) -> Result<Vec<String>, Error> {
    let customers = match frames.customers {
        Some(c) => Some(text_column(c, ID_COLUMN, "--customers", "customers table")?),
        None => None,
    };
    let customers = customers.as_ref().map(text_values).transpose()?;
    let customer_ids = || customers.iter().flat_map(|c| c.iter().flatten());
    // A customers table and transactions sorted alike (one system's exports): every
    // transaction's customer is then a customer met before, in the same spelling, and looking
    // them up again would find nothing new.
    let transactions = frames.transaction_ids.iter().map(String::as_str);
    let transactions = if resolve::is_subsequence(transactions.clone(), customer_ids()) {
        None
    } else {
        Some(transactions)
    };
    let known = customer_ids().chain(transactions.into_iter().flatten());
    Ok(resolve::unscored_ids(index, known))
}

/// Selects one campaign's audience from [`Frames`] and the campaign's side files read from
/// `campaign_dir`. `segment_column`: see [`segment_column`].
pub fn select_from_frames(
    config: &CampaignConfig,
    campaign_dir: &Path,
    frames: &Frames,
    segment_column: Option<&str>,
) -> Result<Selected, Error> {
    let global_control = frames.global_control;
    let mut steps = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        steps.push((name, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    // Built here, not by the resolution, because the unscored customers are found from it.
    let (index, unscored) = index_and_unscored(frames)?;
    lap("unscored customers");
    let scored = Scored {
        frame: frames.scores,
        index: index.map(Cow::Owned),
    };
    let mut resolved = resolve_scored(
        config,
        campaign_dir,
        scored,
        frames.customers,
        frames.side.clone(),
        segment_column,
        frames.options,
    )?;
    if let Some(members) = global_control {
        resolve::mark_global_control(&mut resolved.candidates, members);
    }
    lap("candidates");
    let mut selection = select_audience_owned(config, resolved.candidates)?;
    resolve::account_for_unscored(&mut selection, &unscored);
    lap("audience");
    if global_control.is_some() {
        let counts = &mut selection.summary.exclusions;
        counts.include(crate::select::ExclusionReason::GlobalControl);
    }
    selection.summary.matching = resolved.matching;
    Ok(Selected {
        selection,
        side_tables: resolved.side_tables,
        segment_column: segment_column.map(str::to_string),
        steps,
    })
}

/// A campaign's candidates, resolved from in-memory tables (see [`select_from_frames`]).
#[derive(Debug)]
pub struct Resolved {
    pub candidates: Vec<Candidate>,
    /// How the tables matched the scored customers.
    pub matching: MatchReport,
    /// The campaign's own side tables (whose rejects the caller writes).
    pub side_tables: Vec<SideTable>,
}

/// The candidates of [`select_from_frames`] (and each campaign of a plan), before selection,
/// from a scores table whose index may be built already.
pub fn resolve_scored(
    config: &CampaignConfig,
    campaign_dir: &Path,
    scored: Scored,
    customers: Option<&DataFrame>,
    shared: Vec<SideTable>,
    segment_column: Option<&str>,
    options: MatchOptions,
) -> Result<Resolved, Error> {
    let mut side_tables = load_side_tables(config, campaign_dir)?;
    let own = side_tables.len();
    side_tables.extend(shared);
    let (candidates, matching) = candidates_of(
        config,
        scored,
        customers,
        &side_tables,
        segment_column,
        options,
    )?;
    // The shared tables were validated (and their rejects written) where they were loaded.
    side_tables.truncate(own);
    Ok(Resolved {
        candidates,
        matching,
        side_tables,
    })
}

/// Where the rejects of side table number `k` go: `DIR/rejects/<table>.csv` for the first table
/// of a kind, `<table>-2.csv`, … for further suppression files.
fn side_rejects_path(dir: &Path, table: TableKind, nth: usize) -> PathBuf {
    if nth == 0 {
        ingest::rejects_path(dir, table)
    } else {
        dir.join("rejects")
            .join(format!("{}-{}.csv", table.name(), nth + 1))
    }
}

/// Writes the rejects of the side tables under `dir/rejects/`, returns one warning line per
/// table with rejects, and fails past `max_reject_rate` (exit code 2).
pub fn write_side_rejects(
    dir: &Path,
    side: &mut [SideTable],
    max_reject_rate: f64,
) -> Result<String, Error> {
    let mut warnings = String::new();
    let mut seen: HashMap<TableKind, usize> = HashMap::new();
    for t in side.iter_mut() {
        let nth = seen.entry(t.table).or_insert(0);
        let path = side_rejects_path(dir, t.table, *nth);
        *nth += 1;
        let v = &mut t.validated;
        let what = format!("{} `{}`", t.table, t.path.display());
        if !super::write_rejects_at(&path, &what, &mut v.rejects, &v.summary, &mut warnings)? {
            continue;
        }
        ingest::check_reject_rate(v.table, &v.summary, &v.rejects, max_reject_rate, &path)?;
    }
    Ok(warnings)
}

/// The audience as a table: `rank, customer_id, channel, group, score, expected_value,
/// expected_profit` and, when `segment_column` is given, that column.
pub fn audience_frame(sel: &Selection, segment_column: Option<&str>) -> Result<DataFrame, Error> {
    let a = &sel.audience;
    let mut cols = vec![
        Column::new(
            "rank".into(),
            a.iter().map(|r| r.rank as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "customer_id".into(),
            a.iter().map(|r| r.customer_id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "channel".into(),
            a.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "group".into(),
            a.iter()
                .map(|r| match r.group {
                    Group::Target => "target",
                    Group::Control => "control",
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            a.iter().map(|r| r.score).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_value".into(),
            a.iter().map(|r| r.expected_value).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_profit".into(),
            a.iter().map(|r| r.expected_profit).collect::<Vec<_>>(),
        ),
    ];
    if let Some(name) = segment_column {
        if cols.iter().any(|c| c.name().as_str() == name) {
            return Err(RunError::Conflict {
                what: format!("segment column `{name}`"),
                expected: "a name other than the audience's own columns".into(),
            }
            .into());
        }
        cols.push(Column::new(
            name.into(),
            a.iter().map(|r| r.segment.as_deref()).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(a.len(), cols).map_err(polars_failure("audience"))
}

/// The exclusions as a table: `customer_id, reason`, by customer id.
pub fn excluded_frame(sel: &Selection) -> Result<DataFrame, Error> {
    let e = &sel.exclusions;
    DataFrame::new(
        e.len(),
        vec![
            Column::new(
                "customer_id".into(),
                e.iter().map(|r| r.customer_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason".into(),
                e.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(polars_failure("exclusions"))
}

/// Writes `dir/audience.csv`, `dir/excluded.csv` and `dir/summary.json`, each atomically, their
/// text cells as `cells` says.
pub fn write_selection(
    dir: &Path,
    sel: &Selection,
    segment_column: Option<&str>,
    cells: io::CsvCells,
) -> Result<Vec<PathBuf>, Error> {
    let audience = dir.join("audience.csv");
    let excluded = dir.join("excluded.csv");
    let summary = dir.join("summary.json");
    io::write_table_with(&audience, &mut audience_frame(sel, segment_column)?, cells)?;
    io::write_table_with(&excluded, &mut excluded_frame(sel)?, cells)?;
    io::write_json_atomic(&summary, &sel.summary)?;
    Ok(vec![audience, excluded, summary])
}

/// What `select` writes into its folder; anything else there means the folder is not its own.
const SELECT_OUTPUTS: [&str; 5] = [
    "audience.csv",
    "excluded.csv",
    "summary.json",
    "rejects",
    "export",
];

/// Writes the campaign's `[export]` files into `out/export/` (nothing without `[export]`), from
/// the selection's target group and the customers table; adds and removes compare with the
/// target group of `previous/audience.csv`, the campaign's previous output folder (missing:
/// the first export).
pub(crate) fn write_export(
    out: &Path,
    config: &CampaignConfig,
    selection: &Selection,
    frames: &Frames,
    previous: Option<&Path>,
    cells: io::CsvCells,
) -> Result<Vec<PathBuf>, Error> {
    let Some(export) = &config.export else {
        return Ok(Vec::new());
    };
    let customers = frames.customers.ok_or_else(|| {
        Error::from(RunError::missing(
            format!(
                "`[export]` of campaign `{}` reads its columns from the customers table",
                config.campaign.name
            ),
            "give it with `--customers FILE` or `[sources.customers]`",
        ))
    })?;
    let contacts = crate::export::Contacts::new(customers, frames.options.id_policy)?;
    let targets: Vec<&str> = selection
        .audience
        .iter()
        .filter(|r| r.group == Group::Target)
        .map(|r| r.customer_id.as_str())
        .collect();
    let previous = match previous.map(|p| p.join("audience.csv")) {
        Some(path) if path.is_file() => Some(previous_targets(&path)?),
        _ => None,
    };
    let files = crate::export::build(export, &contacts, &targets, previous.as_deref())?;
    let dir = out.join("export");
    std::fs::create_dir_all(&dir).map_err(|source| io::IoError::Write {
        path: dir.clone(),
        source,
    })?;
    let mut written = Vec::with_capacity(files.len());
    for mut file in files {
        let path = dir.join(&file.name);
        io::write_table_with(&path, &mut file.frame, cells)?;
        written.push(path);
    }
    Ok(written)
}

/// The target group of a published audience file.
fn previous_targets(path: &Path) -> Result<Vec<String>, Error> {
    const PREVIOUS: &str = "previous audience";
    let df = io::read_table(path, &[ID_COLUMN, "group"])?;
    let ids = text(&df, ID_COLUMN, "--previous", PREVIOUS)?;
    let groups = text(&df, "group", "--previous", PREVIOUS)?;
    Ok(ids
        .into_iter()
        .zip(groups)
        .filter(|(_, g)| g.as_deref() == Some("target"))
        .filter_map(|(id, _)| id)
        .collect())
}

/// Whether `entry` of an output folder is something `select` writes there (or a temporary file
/// of older versions, which wrote into the folder itself).
pub(crate) fn select_owns(entry: &Path) -> bool {
    let file = entry
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    SELECT_OUTPUTS.contains(&file.as_str()) || (file.starts_with('.') && file.contains(".tmp-"))
}

/// The folder a command publishes (`out`, made absolute) as parent and name, after checking
/// that every entry already in it is one the command `owns`: publishing replaces the whole
/// folder.
fn publish_target(out: &Path, owns: &dyn Fn(&Path) -> bool) -> Result<(PathBuf, String), Error> {
    let abs = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| in_folder(out, "expected a folder name".into()))?;
    if abs.exists() {
        let entries = std::fs::read_dir(&abs)
            .map_err(|e| in_folder(out, format!("expected a folder: {e}")))?;
        for entry in entries.flatten() {
            if !owns(&entry.path()) {
                let file = entry.file_name().to_string_lossy().into_owned();
                return Err(in_folder(
                    out,
                    format!(
                        "expected a folder of its own for the selection (it is replaced as a whole), found `{}` in it",
                        io::snippet(&file, io::SNIPPET_CHARS)
                    ),
                ));
            }
        }
    }
    let parent = match abs.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// What a staged command wrote: its result, its warnings and the files it wrote.
pub(crate) struct Written<T> {
    pub value: T,
    pub warnings: String,
    pub written: Vec<PathBuf>,
    /// What the ledger records of the run, when it records one.
    pub ledger: Option<RunRecord>,
}

/// Runs `write` into a staging folder beside `out` and publishes it with one folder swap, under
/// the output lock, so `out` holds the previous complete result or the new one, never a mix.
/// Paths in warnings and in the list of written files are renamed to `out`. A failure that
/// wrote rejects publishes them as `<out>.failed/`. `owns`: see [`publish_target`]. `write`
/// gets the staging folder and the final one; the run it returns in [`Written::ledger`] is
/// recorded in `ledger` around the swap.
pub(crate) fn publish_staged<T>(
    out: &Path,
    lock_timeout: std::time::Duration,
    owns: &dyn Fn(&Path) -> bool,
    ledger: Option<&LedgerSettings>,
    write: impl FnOnce(&Path, &Path) -> Result<Written<T>, Error>,
) -> Result<Written<T>, Error> {
    let (parent, name) = publish_target(out, owns)?;
    let staging = Staging::create(&parent, &name, lock_timeout)?;
    let staging_dir = staging.dir().to_path_buf();
    let staging_text = staging_dir.display().to_string();
    match write(&staging_dir, &staging.final_dir()) {
        Ok(mut w) => {
            let run = w.ledger.take();
            ledger_run::publish_recorded(
                ledger,
                run,
                &staging_dir,
                || Ok(()),
                || staging.publish().map_err(Error::from),
            )?;
            let out_text = out.display().to_string();
            w.warnings = w.warnings.replace(&staging_text, &out_text);
            w.written = w
                .written
                .iter()
                .filter_map(|p| p.strip_prefix(&staging_dir).ok())
                .map(|f| out.join(f))
                .collect();
            Ok(w)
        }
        Err(e) => Err(fail(e, staging)),
    }
}

/// The `select` command: load everything, select, write the rejects (failing past the
/// threshold), then the outputs, published as one folder (see [`publish_staged`]).
pub fn select(request: &SelectRequest) -> Result<SelectOutcome, Error> {
    let w = publish_staged(
        &request.out,
        request.lock_timeout,
        &select_owns,
        request.ledger.as_ref(),
        |dir, folder| select_into(request, dir, folder),
    )?;
    Ok(SelectOutcome {
        selection: w.value,
        warnings: w.warnings,
        written: w.written,
    })
}

/// A failed selection: rejects, if any were written, are published alone as `<out>.failed/` for
/// the user to read (any partial output is dropped); paths in the message are renamed to where
/// the user finds the files, never the staging folder that is gone.
fn fail(e: Error, staging: Staging) -> Error {
    let staging_text = staging.dir().display().to_string();
    let message = e.to_string();
    if !message.contains(&staging_text) {
        return e;
    }
    let code = e.exit_code();
    let final_text = staging.final_dir().display().to_string();
    let has_rejects = staging.dir().join("rejects").is_dir();
    let published = if has_rejects && keep_only(staging.dir(), "rejects") {
        let failed_text = staging.failed_dir().display().to_string();
        staging.publish_failed().ok().map(|_| failed_text)
    } else {
        None
    };
    let to = published.unwrap_or(final_text);
    Error::Reported {
        message: message.replace(&staging_text, &to),
        code,
    }
}

/// Removes every entry of `dir` but `keep`; false when one cannot be removed.
fn keep_only(dir: &Path, keep: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries
        .flatten()
        .filter(|e| e.file_name() != keep)
        .all(|e| {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).is_ok()
            } else {
                std::fs::remove_file(&p).is_ok()
            }
        })
}

/// The folder a campaign file's relative paths are resolved against.
pub(crate) fn campaign_dir(campaign: &Path) -> &Path {
    campaign
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

/// How the command's ingest settings match the tables.
pub(crate) fn match_options<'a>(
    ingest: &IngestRequest,
    directory: Option<&'a crate::identity::Directory>,
) -> MatchOptions<'a> {
    MatchOptions {
        id_policy: ingest.config.ids.policy,
        max_reject_rate: ingest.max_reject_rate(),
        default_country_code: country_code(&ingest.config),
        directory,
    }
}

/// `[identity] default_country_code` as a number (checked to be 1 to 3 digits when read).
pub(crate) fn country_code(config: &ingest::IngestConfig) -> Option<u16> {
    config
        .identity
        .default_country_code
        .as_deref()
        .and_then(|c| c.parse().ok())
}

/// The tables every campaign of a command reads: the scores, the customers table (consent) and
/// the sources' suppression list, the latter two validated with their rejects under `dir`.
pub(crate) struct SharedInputs {
    pub scores: DataFrame,
    pub customers: Option<DataFrame>,
    pub suppressions: Option<SideTable>,
    /// Every record's e-mail and phone before `[identity]` merged them (see [`MatchOptions`]).
    pub directory: Option<crate::identity::Directory>,
}

pub(crate) fn load_shared(
    scores_path: &Path,
    ingest: &IngestRequest,
    dir: &Path,
    warnings: &mut String,
) -> Result<SharedInputs, Error> {
    let scores = io::read_table(scores_path, &[ID_COLUMN])?;
    if scores.column(ID_COLUMN).is_err() {
        return Err(RunError::MissingColumn {
            table: format!("`{}`", scores_path.display()),
            columns: format!("`{ID_COLUMN}`"),
            hint: format!(" (found columns: {})", column_names(&scores)),
        }
        .into());
    }
    let mut customers = match ingest.source(TableKind::Customers) {
        Some(_) => Some(super::load_checked(ingest, TableKind::Customers, dir, warnings)?.frame),
        None => None,
    };
    let mut suppressions = match ingest.path(TableKind::Suppressions) {
        Some(path) => Some(SideTable {
            table: TableKind::Suppressions,
            validated: super::load_checked(ingest, TableKind::Suppressions, dir, warnings)?,
            path,
        }),
        None => None,
    };
    // The scores are keyed by surviving ids when a run merged identities: the same merge
    // applies here, and the sources' list is matched against every record before it.
    let identity = &ingest.config.identity;
    let frame = customers.take_if(|_| identity.is_active());
    let mut kept_directory = None;
    if let Some(frame) = frame {
        let (merges, directory) = super::identity::identities(&frame, identity)?;
        if let Some(s) = suppressions.as_mut() {
            let resolved = super::identity::resolve_keyed(&s.validated.frame, &directory)?;
            s.validated.frame = super::identity::remap(resolved, &merges)?;
        }
        customers = Some(super::identity::merge_customers(frame, &merges)?);
        kept_directory = Some(directory);
    }
    Ok(SharedInputs {
        scores,
        customers,
        suppressions,
        directory: kept_directory,
    })
}

/// [`select`] writing into `dir`, to be published as `folder`.
fn select_into(
    request: &SelectRequest,
    dir: &Path,
    folder: &Path,
) -> Result<Written<Selection>, Error> {
    let mut config = load_campaign(&request.campaign)?;
    if let Some(seed) = request.seed {
        config.campaign.seed = seed;
    }
    let as_of = ledger_run::command_as_of(&config)?;
    let send_date = config.default_dates(as_of)?;
    let seg = segment_column(&config, request.segment_column.as_deref())?;
    let mut warnings = String::new();
    let shared = load_shared(&request.scores, &request.ingest, dir, &mut warnings)?;
    let mut tables: Vec<SideTable> = shared.suppressions.into_iter().collect();
    let mut members = Vec::new();
    let mut held_out = None;
    if let Some(l) = &request.ledger {
        tables.push(ledger_run::contacts_table(l, folder)?);
        if let Some(share) = request.global_control {
            members = ledger_run::global_control(l, share, &shared.scores)?;
            held_out = Some(members.iter().cloned().collect::<HashSet<String>>());
        }
    }
    let frames = Frames {
        scores: &shared.scores,
        customers: shared.customers.as_ref(),
        side: tables,
        options: match_options(&request.ingest, shared.directory.as_ref()),
        global_control: held_out.as_ref(),
        transaction_ids: &[],
        previous: request.previous.as_deref(),
    };
    let mut selected = select_from_frames(
        &config,
        campaign_dir(&request.campaign),
        &frames,
        seg.as_deref(),
    )?;
    let summary = &selected.selection.summary;
    let used = resolve::channel_names([&config]);
    for w in summary.matching.warnings(&summary.campaign, &used) {
        warnings.push_str(&format!("warning: {w}\n"));
    }
    warnings.push_str(&write_side_rejects(
        dir,
        &mut selected.side_tables,
        request.ingest.max_reject_rate(),
    )?);
    let mut written = write_selection(dir, &selected.selection, seg.as_deref(), request.cells)?;
    written.extend(write_export(
        dir,
        &config,
        &selected.selection,
        &frames,
        frames.previous,
        request.cells,
    )?);
    let ledger = match &request.ledger {
        Some(_) => Some(RunRecord {
            kind: "select".into(),
            job_name: "select".into(),
            as_of,
            inputs: ledger_run::fingerprints(&[
                ("scores", request.scores.as_path()),
                ("campaign", request.campaign.as_path()),
            ])?,
            folder: folder.to_path_buf(),
            campaigns: vec![{
                let mut record = ledger_run::campaign_record(
                    &config,
                    &selected.selection,
                    send_date,
                    "audience.csv",
                );
                ledger_run::add_global_control(&mut record, &members);
                record
            }],
        }),
        None => None,
    };
    Ok(Written {
        value: selected.selection,
        warnings,
        written,
        ledger,
    })
}
