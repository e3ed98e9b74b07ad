//! The ledger's file plumbing for the commands: what a published run records (built from its
//! selections), the recording around the folder swap, and the ledger's target contacts as a
//! contact-history table for the contact policy.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::ingest::{TableKind, TableSummary, Validated};
use crate::ledger::{CampaignRecord, Ledger, LedgerGroup, RunRecord, SelectionRecord};
use crate::run::select::SideTable;
use crate::run::RunError;
use crate::select::{CampaignConfig, Group, Selection};
use crate::{io, Error};

/// Where a command records its runs.
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// The ledger file.
    pub path: PathBuf,
    /// How long a writer waits for another.
    pub busy_timeout: Duration,
}

impl LedgerSettings {
    /// Opens the ledger (creating and migrating it).
    pub fn open(&self) -> Result<Ledger, Error> {
        Ok(Ledger::open(&self.path, self.busy_timeout)?)
    }
}

/// The as-of date of a `select` or `plan` run, which has no as-of of its own: the campaign's
/// `send_date`, else its contact policy's `as_of`, else today.
pub fn command_as_of(config: &CampaignConfig) -> Result<NaiveDate, Error> {
    if let Some(d) = config.campaign.send_date()? {
        return Ok(d);
    }
    match &config.contact_policy {
        Some(p) if p.as_of.is_some() => Ok(p.as_of_date()?),
        _ => Ok(chrono::Local::now().date_naive()),
    }
}

/// One campaign's rows as the ledger records them. `audience_file`: the audience's path relative
/// to the run's folder (its hash is taken when the run is staged).
pub fn campaign_record(
    config: &CampaignConfig,
    selection: &Selection,
    send_date: NaiveDate,
    audience_file: &str,
) -> CampaignRecord {
    let cost = |channel: &str| {
        config
            .channels
            .iter()
            .find(|c| c.name == channel)
            .map_or(0.0, |c| c.cost)
    };
    let rows = selection
        .audience
        .iter()
        .map(|r| {
            let group = match r.group {
                Group::Target => LedgerGroup::Target,
                Group::Control => LedgerGroup::Control,
            };
            SelectionRecord {
                customer_id: r.customer_id.clone(),
                channel: r.channel.clone(),
                group,
                rank: i64::try_from(r.rank).ok(),
                score: Some(r.score),
                expected_value: Some(r.expected_value),
                // The control group costs nothing.
                cost: if group == LedgerGroup::Target {
                    cost(&r.channel)
                } else {
                    0.0
                },
                segment: r.segment.clone(),
                model: None,
                model_version: None,
            }
        })
        .collect();
    CampaignRecord {
        campaign: config.campaign.name.clone(),
        send_date,
        response_window_days: config.campaign.response_window_days(),
        control_fraction: config.campaign.control_fraction,
        audience_file: audience_file.to_string(),
        audience_hash: String::new(),
        rows,
    }
}

/// Records `run` around `publish` (the folder swap): pending before, published after, dropped
/// when the swap fails. `staging`: the folder the audience files are in before the swap.
/// `prepare` (a job's manifest: the digests of every output) runs on its own thread while the
/// run is recorded pending; its failure drops the pending run and is the error returned.
pub(crate) fn publish_recorded<T>(
    settings: Option<&LedgerSettings>,
    run: Option<RunRecord>,
    staging: &Path,
    prepare: impl FnOnce() -> Result<(), Error> + Send,
    publish: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    let (Some(settings), Some(mut run)) = (settings, run) else {
        prepare()?;
        return publish();
    };
    let (prepared, staged) = std::thread::scope(|s| {
        let prepared = s.spawn(prepare);
        let staged = (|| -> Result<_, Error> {
            for c in &mut run.campaigns {
                c.audience_hash = io::file_digest(&staging.join(&c.audience_file))?.1;
            }
            let mut ledger = settings.open()?;
            let pending = ledger.stage_run(&run)?;
            Ok((ledger, pending))
        })();
        let prepared = prepared
            .join()
            .unwrap_or_else(|_| Err(RunError::internal("the manifest's thread panicked").into()));
        (prepared, staged)
    });
    let (mut ledger, pending) = staged?;
    if let Err(e) = prepared {
        let _ = ledger.discard_run(pending);
        return Err(e);
    }
    match publish() {
        Ok(v) => {
            ledger.publish_run(pending)?;
            Ok(v)
        }
        Err(e) => {
            // The folder was not published: its rows must not count. Should this fail too, the
            // next process reconciles the pending run against the disk.
            let _ = ledger.discard_run(pending);
            Err(e)
        }
    }
}

/// The ledger's target contacts (runs of other folders than `folder`) as a contact-history
/// table, so the contact policy counts them with any contacts file.
pub fn contacts_table(settings: &LedgerSettings, folder: &Path) -> Result<SideTable, Error> {
    let contacts = settings.open()?.contacts(Some(folder))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days: Vec<i32> = contacts
        .iter()
        .map(|c| (c.date - epoch).num_days() as i32)
        .collect();
    let n = contacts.len();
    let frame = DataFrame::new(
        n,
        vec![
            Column::new(
                "customer_id".into(),
                contacts
                    .iter()
                    .map(|c| c.customer_id.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new("contact_date".into(), days)
                .cast(&DataType::Date)
                .map_err(table_err)?,
            Column::new(
                "channel".into(),
                contacts
                    .iter()
                    .map(|c| c.channel.as_str())
                    .collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(table_err)?;
    Ok(ledger_table(settings, TableKind::Contacts, frame))
}

/// A table the ledger supplies, as a side table of `kind` (nothing rejected).
fn ledger_table(settings: &LedgerSettings, kind: TableKind, frame: DataFrame) -> SideTable {
    let n = frame.height();
    SideTable {
        table: kind,
        path: settings.path.clone(),
        validated: Validated {
            table: kind,
            frame,
            rejects: DataFrame::empty(),
            summary: TableSummary {
                source: settings.path.display().to_string(),
                rows_in: n,
                rows_kept: n,
                rows_rejected: 0,
                customers: 0,
                returns: None,
                possible_duplicates: 0,
                reject_reasons: BTreeMap::new(),
                product_ids_differing_by_case: Vec::new(),
                joined: Vec::new(),
                fingerprint: None,
            },
        },
    }
}

fn table_err(e: PolarsError) -> Error {
    crate::error::polars_failure("the ledger's contacts")(e)
}

/// The input fingerprints of a run as the ledger stores them (JSON: name → SHA-256).
pub fn fingerprints(files: &[(&str, &Path)]) -> Result<String, Error> {
    let mut map = BTreeMap::new();
    for (name, path) in files {
        map.insert(
            format!("{name} {}", path.display()),
            io::input_digest(path)?.1,
        );
    }
    serde_json::to_string(&map).map_err(|e| {
        Error::from(RunError::Internal {
            what: format!("the run's input fingerprints did not serialise: {e}"),
        })
    })
}

/// What `bullseye ledger responses` did.
#[derive(Debug)]
pub struct Imported {
    pub kept: usize,
    pub rejected: usize,
    pub warnings: String,
}

/// The columns of a responses file.
const RESPONSE_COLUMNS: [&str; 4] = ["campaign_id", "customer_id", "response_date", "value"];

/// One rejected row of a responses file.
struct Reject {
    line: usize,
    column: &'static str,
    reason: &'static str,
    value: String,
    expected: &'static str,
}

/// Checks one row of a responses file.
fn response_row(cells: [Option<&str>; 4], line: usize) -> Result<crate::ledger::Response, Reject> {
    let reject = |column, reason, value: Option<&str>, expected| Reject {
        line,
        column,
        reason,
        value: value.unwrap_or_default().to_string(),
        expected,
    };
    let [campaign, customer, date, value] =
        cells.map(|c| c.map(str::trim).filter(|c| !c.is_empty()));
    let campaign =
        campaign.ok_or_else(|| reject("campaign_id", "missing", None, "a campaign name"))?;
    let customer =
        customer.ok_or_else(|| reject("customer_id", "missing", None, "a customer id"))?;
    let date = date.ok_or_else(|| reject("response_date", "missing", None, "a date YYYY-MM-DD"))?;
    let response_date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| reject("response_date", "bad date", Some(date), "a date YYYY-MM-DD"))?;
    let value = match value {
        None => 0.0,
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| reject("value", "not a number", Some(v), "a finite number"))?,
    };
    Ok(crate::ledger::Response {
        campaign: campaign.to_string(),
        send_date: None,
        customer_id: customer.to_string(),
        response_date,
        value,
    })
}

/// `bullseye ledger responses --file FILE`: imports `campaign_id, customer_id, response_date[,
/// value]`, replacing an earlier import of the same file. Bad rows go to
/// `rejects_dir/rejects/responses.csv`; past `max_reject_rate` nothing is imported (exit 2).
pub fn import_responses(
    settings: &LedgerSettings,
    file: &Path,
    rejects_dir: &Path,
    max_reject_rate: f64,
) -> Result<Imported, Error> {
    // The optional `value` is read as typed and checked below: naming it here would ask for a
    // column the file may not have.
    let df = io::read_table(file, &RESPONSE_COLUMNS[..3])?;
    let mut columns = Vec::with_capacity(4);
    for (k, name) in RESPONSE_COLUMNS.iter().enumerate() {
        match df.column(name) {
            Ok(c) => columns.push(Some(c.cast(&DataType::String).map_err(table_err)?)),
            // `value` is optional.
            Err(_) if k == 3 => columns.push(None),
            Err(_) => {
                return Err(RunError::MissingColumn {
                    table: format!("`{}`", file.display()),
                    columns: format!("`{name}`"),
                    hint:
                        " (a responses file has campaign_id, customer_id, response_date[, value])"
                            .into(),
                }
                .into())
            }
        }
    }
    let text: Vec<Option<&StringChunked>> = columns
        .iter()
        .map(|c| c.as_ref().map(|c| c.str()).transpose())
        .collect::<Result<_, _>>()
        .map_err(table_err)?;
    let (mut kept, mut rejects) = (Vec::new(), Vec::new());
    for row in 0..df.height() {
        let cell = |k: usize| text[k].and_then(|c| c.get(row));
        // Line 1 is the header.
        match response_row([cell(0), cell(1), cell(2), cell(3)], row + 2) {
            Ok(r) => kept.push(r),
            Err(r) => rejects.push(r),
        }
    }
    let mut warnings = String::new();
    let rows_in = df.height();
    if !rejects.is_empty() {
        let path = rejects_dir.join("rejects").join("responses.csv");
        let mut frame = rejects_frame(file, &rejects)?;
        let mut reasons = BTreeMap::new();
        for r in &rejects {
            *reasons.entry(r.reason.to_string()).or_insert(0) += 1;
        }
        let summary = TableSummary {
            source: file.display().to_string(),
            rows_in,
            rows_kept: kept.len(),
            rows_rejected: rejects.len(),
            customers: 0,
            returns: None,
            possible_duplicates: 0,
            reject_reasons: reasons,
            product_ids_differing_by_case: Vec::new(),
            joined: Vec::new(),
            fingerprint: None,
        };
        let what = format!("responses `{}`", file.display());
        super::write_rejects_at(&path, &what, &mut frame, &summary, &mut warnings)?;
        if summary.reject_rate() > max_reject_rate {
            return Err(RunError::InvalidData {
                what: what.clone(),
                expected: format!("at most {max_reject_rate} of the rows rejected"),
                found: format!(
                    "{} of {rows_in} (see {}); nothing was imported",
                    rejects.len(),
                    path.display()
                ),
            }
            .into());
        }
    }
    let source = format!("file {}", file.display());
    settings.open()?.replace_responses(&source, &kept)?;
    Ok(Imported {
        kept: kept.len(),
        rejected: rejects.len(),
        warnings,
    })
}

fn rejects_frame(file: &Path, rejects: &[Reject]) -> Result<DataFrame, Error> {
    let n = rejects.len();
    let text = |f: &dyn Fn(&Reject) -> String| rejects.iter().map(f).collect::<Vec<_>>();
    DataFrame::new(
        n,
        vec![
            Column::new("file".into(), vec![file.display().to_string(); n]),
            Column::new(
                "line".into(),
                rejects.iter().map(|r| r.line as u64).collect::<Vec<_>>(),
            ),
            Column::new("column".into(), text(&|r| r.column.to_string())),
            Column::new("reason".into(), text(&|r| r.reason.to_string())),
            Column::new("value".into(), text(&|r| r.value.clone())),
            Column::new("expected".into(), text(&|r| r.expected.to_string())),
        ],
    )
    .map_err(table_err)
}

/// Attribution from the transactions (`customer_id, order_date, amount`, as ingest validates
/// them): recomputes every published send's responses and replaces the earlier attribution.
/// Returns the number of responses.
pub fn attribute_transactions(
    settings: &LedgerSettings,
    transactions: &DataFrame,
) -> Result<usize, Error> {
    let mut attribution = Attribution::start(settings)?;
    attribution.push(transactions)?;
    attribution.finish(settings)
}

/// Attribution over transactions that arrive in pieces (a job validates a large file in
/// pieces and never holds it whole): the purchases of the customers the ledger selected are
/// kept as the pieces go by, then attributed at once. The same rule and result as
/// [`attribute_transactions`] over the whole table.
///
/// A kept purchase is three numbers (the customer's place among the selected, the day, the
/// amount), not a copy of its id: a year of weekly sends selects most customers, and then
/// most of the file's lines are kept.
#[derive(Debug, Default)]
pub struct Attribution {
    selected: Vec<crate::ledger::Selected>,
    /// Each selected customer's place, numbered as they first appear in `selected`.
    places: HashMap<String, u32>,
    /// Per customer code of ingest's coded path: the customer's place, or [`NOT_SELECTED`].
    /// The codes are the file's, numbered as its ids first appear, so each id is looked up once.
    coded_places: Vec<u32>,
    /// Place, epoch day, amount of each kept purchase.
    kept: Vec<(u32, i32, f64)>,
    /// The first day a purchase can answer a send: the day after the earliest send (a history
    /// of years before the first send is not kept).
    first_day: i32,
}

const NOT_SELECTED: u32 = u32::MAX;

impl Attribution {
    /// Reads who the ledger's published sends selected.
    pub fn start(settings: &LedgerSettings) -> Result<Attribution, Error> {
        let selected = settings.open()?.selected()?;
        let mut places = HashMap::new();
        for s in &selected {
            let next = places.len() as u32;
            places.entry(s.customer_id.clone()).or_insert(next);
        }
        let first_day = selected
            .iter()
            .map(|s| crate::types::epoch_day(s.send_date).saturating_add(1))
            .min()
            .unwrap_or(i32::MAX);
        Ok(Attribution {
            selected,
            places,
            first_day,
            ..Attribution::default()
        })
    }

    /// Keeps the purchases of selected customers among the next transactions.
    pub fn push(&mut self, transactions: &DataFrame) -> Result<(), Error> {
        if self.places.is_empty() {
            return Ok(());
        }
        let ids = transactions
            .column("customer_id")
            .and_then(|c| c.cast(&DataType::String))
            .map_err(table_err)?;
        let days = transactions
            .column("order_date")
            .and_then(|c| c.cast(&DataType::Int32))
            .map_err(table_err)?;
        let amounts = transactions
            .column("amount")
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(table_err)?;
        let (ids, days, amounts) = (
            ids.str().map_err(table_err)?,
            days.i32().map_err(table_err)?,
            amounts.f64().map_err(table_err)?,
        );
        for ((id, day), amount) in ids.iter().zip(days.iter()).zip(amounts.iter()) {
            let (Some(id), Some(day), Some(amount)) = (id, day, amount) else {
                continue;
            };
            if day < self.first_day {
                continue;
            }
            if let Some(&place) = self.places.get(id) {
                self.kept.push((place, day, amount));
            }
        }
        Ok(())
    }

    /// As [`Self::push`], for lines read by ingest's coded path: each line's customer a code
    /// into `ids` (the file's customer ids so far), a missing value marked as the coded path
    /// marks it ([`crate::ingest::MISSING_CODE`], [`crate::ingest::MISSING_DAY`], NaN).
    pub fn push_coded(&mut self, ids: &[String], keys: &[u32], days: &[i32], amounts: &[f64]) {
        if self.places.is_empty() {
            return;
        }
        let known = self.coded_places.len().min(ids.len());
        let places = &self.places;
        self.coded_places.extend(
            ids[known..]
                .iter()
                .map(|id| places.get(id).copied().unwrap_or(NOT_SELECTED)),
        );
        const _: () = assert!(crate::ingest::MISSING_DAY == i32::MIN);
        for ((&k, &day), &amount) in keys.iter().zip(days).zip(amounts) {
            // A missing day (the smallest i32) is before every first day.
            if day < self.first_day || amount.is_nan() {
                continue;
            }
            match self.coded_places.get(k as usize) {
                Some(&place) if place != NOT_SELECTED => self.kept.push((place, day, amount)),
                _ => {}
            }
        }
    }

    /// Forgets every purchase kept: the coded path gave the file up, and the general path reads
    /// it again from the start.
    pub fn restart(&mut self) {
        self.kept.clear();
        self.coded_places.clear();
    }

    /// The responses of the kept purchases: each customer's purchases gathered by place (a
    /// counting sort), in the order attribution wants them.
    fn responses(&self) -> Vec<crate::ledger::Response> {
        let mut starts = vec![0usize; self.places.len() + 1];
        for (place, _, _) in &self.kept {
            starts[*place as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut bought = vec![(0, 0.0); self.kept.len()];
        for &(place, day, amount) in &self.kept {
            let at = &mut next[place as usize];
            bought[*at] = (day, amount);
            *at += 1;
        }
        for w in starts.windows(2) {
            let mine = &mut bought[w[0]..w[1]];
            // Order files list a customer's purchases by day: most are in order already.
            if !mine.is_sorted_by(|a, b| crate::ledger::by_day_then_amount(a, b).is_le()) {
                mine.sort_by(crate::ledger::by_day_then_amount);
            }
        }
        crate::ledger::attribute_bought(&self.selected, |id| {
            let p = *self.places.get(id)? as usize;
            Some(&bought[starts[p]..starts[p + 1]])
        })
    }

    /// Attributes the kept purchases and replaces the ledger's earlier attribution; returns
    /// the number of responses.
    pub fn finish(self, settings: &LedgerSettings) -> Result<usize, Error> {
        let responses = self.responses();
        settings
            .open()?
            .replace_responses(crate::ledger::TRANSACTIONS_SOURCE, &responses)?;
        Ok(responses.len())
    }
}

/// The readout of `campaign`'s send on `send_date` (default: its latest send on or before
/// `as_of`), its target against `held_out` (the control, or the global control group).
pub fn readout(
    settings: &LedgerSettings,
    campaign: &str,
    send_date: Option<NaiveDate>,
    as_of: NaiveDate,
    held_out: LedgerGroup,
) -> Result<crate::readout::Readout, Error> {
    let ledger = settings.open()?;
    let send = ledger.find_send(campaign, send_date, as_of)?;
    let rows = readout_rows(&ledger, &send)?;
    Ok(crate::readout::readout(
        &crate::readout::Send {
            campaign: send.campaign.clone(),
            send_date: send.send_date,
            response_window_days: send.response_window_days,
            control_fraction: send.control_fraction,
        },
        &rows,
        as_of,
        held_out,
    ))
}

/// A send's rows with their responses, as the readout counts them.
fn readout_rows(
    ledger: &Ledger,
    send: &crate::ledger::SendRecord,
) -> Result<Vec<crate::readout::ReadoutRow>, Error> {
    Ok(ledger
        .answered_rows(send)?
        .into_iter()
        .map(|a| crate::readout::ReadoutRow {
            group: a.selection.group,
            score: a.selection.score,
            segment: a.selection.segment,
            cost: a.selection.cost,
            responded: a.responses > 0,
            value: a.value,
        })
        .collect())
}

/// The campaign name of [`global_readout`].
pub const ALL_CAMPAIGNS: &str = "all campaigns";

/// All marketing against the global control group: every published send dated from `from`
/// (default: the first) to `as_of`, pooled. Each send contributes its target rows and its
/// global-control rows (a customer counts once per send, in the group they had in it), each
/// with the responses in that send's own window; the campaigns' own control rows are left out.
/// The result's send date is the first send's, its window closes with the last window. Fails
/// (exit 2) when the period has no send or no global-control member.
pub fn global_readout(
    settings: &LedgerSettings,
    from: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Result<crate::readout::Readout, Error> {
    let ledger = settings.open()?;
    let sends: Vec<crate::ledger::SendRecord> = ledger
        .sends()?
        .into_iter()
        .filter(|s| from.is_none_or(|f| s.send_date >= f) && s.send_date <= as_of)
        .collect();
    let invalid = |expected: &str, found: &str| {
        Error::from(crate::ledger::LedgerError::Invalid {
            path: settings.path.clone(),
            what: format!(
                "the sends from {} to {as_of}",
                from.map_or("the first".to_string(), |f| f.to_string())
            ),
            expected: expected.to_string(),
            found: found.to_string(),
        })
    };
    let closes = |s: &crate::ledger::SendRecord| {
        s.send_date + chrono::Days::new(u64::from(s.response_window_days))
    };
    let (Some(first), Some(last_close)) = (
        sends.iter().map(|s| s.send_date).min(),
        sends.iter().map(closes).max(),
    ) else {
        return Err(invalid("a published send", "none"));
    };
    let mut rows = Vec::new();
    for send in &sends {
        rows.extend(
            readout_rows(&ledger, send)?
                .into_iter()
                .filter(|r| r.group != LedgerGroup::Control),
        );
    }
    if !rows.iter().any(|r| r.group == LedgerGroup::GlobalControl) {
        return Err(invalid(
            "global-control members recorded with the sends",
            "none (hold them out with `[ledger] global_control` or `--global-control`)",
        ));
    }
    let window = (last_close - first).num_days();
    Ok(crate::readout::readout(
        &crate::readout::Send {
            campaign: ALL_CAMPAIGNS.to_string(),
            send_date: first,
            response_window_days: u32::try_from(window).unwrap_or(u32::MAX),
            control_fraction: 0.0,
        },
        &rows,
        as_of,
        LedgerGroup::GlobalControl,
    ))
}

/// A send's rows as CSV, for audit: who was selected, when, on which channel, in which group,
/// at which rank and score, at what cost, and what they did.
pub fn export(
    settings: &LedgerSettings,
    campaign: &str,
    send_date: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Result<DataFrame, Error> {
    let ledger = settings.open()?;
    let send = ledger.find_send(campaign, send_date, as_of)?;
    let rows = ledger.answered_rows(&send)?;
    let n = rows.len();
    let s = |f: &dyn Fn(&crate::ledger::AnsweredRow) -> Option<String>| {
        rows.iter().map(f).collect::<Vec<_>>()
    };
    let f = |g: &dyn Fn(&crate::ledger::AnsweredRow) -> Option<f64>| {
        rows.iter().map(g).collect::<Vec<_>>()
    };
    DataFrame::new(
        n,
        vec![
            Column::new("campaign".into(), vec![send.campaign.clone(); n]),
            Column::new("send_date".into(), vec![send.send_date.to_string(); n]),
            Column::new(
                "customer_id".into(),
                s(&|r| Some(r.selection.customer_id.clone())),
            ),
            Column::new("channel".into(), s(&|r| Some(r.selection.channel.clone()))),
            Column::new(
                "group".into(),
                s(&|r| Some(r.selection.group.as_str().into())),
            ),
            Column::new(
                "rank".into(),
                rows.iter().map(|r| r.selection.rank).collect::<Vec<_>>(),
            ),
            Column::new("score".into(), f(&|r| r.selection.score)),
            Column::new("expected_value".into(), f(&|r| r.selection.expected_value)),
            Column::new("cost".into(), f(&|r| Some(r.selection.cost))),
            Column::new("segment".into(), s(&|r| r.selection.segment.clone())),
            Column::new(
                "responses".into(),
                rows.iter().map(|r| r.responses).collect::<Vec<_>>(),
            ),
            Column::new("response_value".into(), f(&|r| Some(r.value))),
        ],
    )
    .map_err(table_err)
}

/// `bullseye ledger show`: one line per published send (campaign, send date, window, groups).
pub fn show(settings: &LedgerSettings) -> Result<String, Error> {
    let ledger = settings.open()?;
    let mut out =
        String::from("campaign\tsend_date\twindow_days\ttarget\tcontrol\tglobal_control\tfolder\n");
    for send in ledger.sends()? {
        let rows = ledger.rows(&send)?;
        let count = |g: LedgerGroup| rows.iter().filter(|r| r.group == g).count();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            send.campaign,
            send.send_date,
            send.response_window_days,
            count(LedgerGroup::Target),
            count(LedgerGroup::Control),
            count(LedgerGroup::GlobalControl),
            send.folder
        ));
    }
    Ok(out)
}

/// The readouts of every published send whose response window has closed by `as_of` (for the
/// run report); none when the ledger file does not exist yet.
pub fn closed_readouts(
    settings: &LedgerSettings,
    as_of: NaiveDate,
) -> Result<Vec<crate::readout::Readout>, Error> {
    if !settings.path.exists() {
        return Ok(Vec::new());
    }
    let sends = settings.open()?.sends()?;
    sends
        .iter()
        .filter(|s| s.send_date + chrono::Days::new(u64::from(s.response_window_days)) <= as_of)
        .map(|s| {
            readout(
                settings,
                &s.campaign,
                Some(s.send_date),
                as_of,
                LedgerGroup::Control,
            )
        })
        .collect()
}

/// The global control group among the scored customers (`scores`' `customer_id`): the members'
/// canonical ids. Selection holds them out of every campaign (`excluded.csv` reason
/// `global_control`, see `select::resolve::mark_global_control`).
pub fn global_control(
    settings: &LedgerSettings,
    share: f64,
    scores: &DataFrame,
) -> Result<Vec<String>, Error> {
    if !(share.is_finite() && (0.0..=0.5).contains(&share)) {
        return Err(RunError::InvalidData {
            what: "the global control share".into(),
            expected: "a share in [0, 0.5]".into(),
            found: share.to_string(),
        }
        .into());
    }
    let salt = settings.open()?.global_control_salt()?;
    let ids = scores
        .column(crate::run::select::ID_COLUMN)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(table_err)?;
    let members: Vec<String> = ids
        .str()
        .map_err(table_err)?
        .iter()
        .flatten()
        .map(crate::ids::canonical_id)
        .filter(|id| crate::ledger::in_global_control(id, &salt, share))
        .map(|id| id.into_owned())
        .collect();
    Ok(members)
}

/// Adds the global control members to a campaign's record (group `global_control`, no channel,
/// no cost).
pub fn add_global_control(record: &mut CampaignRecord, members: &[String]) {
    record.rows.extend(members.iter().map(|id| SelectionRecord {
        customer_id: id.clone(),
        channel: String::new(),
        group: LedgerGroup::GlobalControl,
        rank: None,
        score: None,
        expected_value: None,
        cost: 0.0,
        segment: None,
        model: None,
        model_version: None,
    }));
}

/// The ledger's published sends as a contacts table for training, and what was left out.
#[derive(Debug)]
pub struct LedgerContacts {
    /// The typed columns ingest gives a contacts file (`customer_id`, `campaign_id`,
    /// `contact_date`, `channel`, `group`, `responded`, `response_value`), so the training rows
    /// are built by the same code as from a contacts file.
    pub frame: DataFrame,
    /// What was left out and why, for the training report.
    pub notes: Vec<String>,
}

/// The rows of the published sends whose response window closed by `as_of` (runs of
/// `except_folder`, the run about to be replaced, left out), as a contacts table: one row per
/// target or control member, `contact_date` the send date, `responded` 1 when a response is
/// recorded in the send's window (attributed or imported, as the readout counts them), with its
/// value. Global-control members are left out: they were drawn from every customer, not from the
/// campaign's audience, so they are neither its contacts nor a control arm comparable with its
/// target. Sends whose window is still open are left out too (their late responders would be
/// learnt as non-responders). Rows come by campaign, send date, group, rank and customer.
/// Fails (exit 2) when no send qualifies or none of their rows responded.
pub fn training_contacts(
    settings: &LedgerSettings,
    as_of: NaiveDate,
    except_folder: Option<&Path>,
) -> Result<LedgerContacts, Error> {
    let invalid = |expected: String, found: String| {
        Error::from(crate::ledger::LedgerError::Invalid {
            path: settings.path.clone(),
            what: "the ledger's training rows".into(),
            expected,
            found,
        })
    };
    if !settings.path.exists() {
        return Err(invalid(
            "an existing ledger file".into(),
            "no such file (a run with `--ledger FILE` or a job's `[ledger]` writes it)".into(),
        ));
    }
    let ledger = settings.open()?;
    let except = except_folder.map(|p| p.display().to_string());
    let mut rows = TrainingContactRows::default();
    let mut open = 0;
    for send in ledger.sends()? {
        if except.as_deref() == Some(send.folder.as_str()) {
            continue;
        }
        if send.send_date + chrono::Days::new(u64::from(send.response_window_days)) > as_of {
            open += 1;
            continue;
        }
        for a in ledger.answered_rows(&send)? {
            rows.push(&send, a);
        }
    }
    let mut notes = Vec::new();
    if open > 0 {
        notes.push(format!(
            "left out {open} sends whose response window is still open on {as_of}"
        ));
    }
    if rows.held_out > 0 {
        notes.push(format!(
            "left out {} global-control rows (not drawn from the campaigns' audiences)",
            rows.held_out
        ));
    }
    if rows.ids.is_empty() {
        return Err(invalid(
            format!("a published send whose response window closed by {as_of}"),
            format!("none ({open} still open)"),
        ));
    }
    if rows.responded.iter().all(|r| *r == 0) {
        return Err(invalid(
            "a response in the closed sends' windows".into(),
            format!(
                "no responses among {} rows; import them with `bullseye ledger responses` or \
                 attribute them with `bullseye ledger attribute`",
                rows.ids.len()
            ),
        ));
    }
    Ok(LedgerContacts {
        frame: rows.frame()?,
        notes,
    })
}

/// The columns of [`training_contacts`], filled row by row.
#[derive(Default)]
struct TrainingContactRows {
    ids: Vec<String>,
    campaigns: Vec<String>,
    days: Vec<i32>,
    channels: Vec<String>,
    groups: Vec<&'static str>,
    responded: Vec<i32>,
    values: Vec<Option<f64>>,
    held_out: usize,
}

impl TrainingContactRows {
    fn push(&mut self, send: &crate::ledger::SendRecord, a: crate::ledger::AnsweredRow) {
        if a.selection.group == LedgerGroup::GlobalControl {
            self.held_out += 1;
            return;
        }
        let responded = a.responses > 0;
        self.ids.push(a.selection.customer_id);
        self.campaigns.push(send.campaign.clone());
        self.days.push(crate::types::epoch_day(send.send_date));
        self.channels.push(a.selection.channel);
        self.groups.push(a.selection.group.as_str());
        self.responded.push(i32::from(responded));
        self.values.push(responded.then_some(a.value));
    }

    fn frame(self) -> Result<DataFrame, Error> {
        let n = self.ids.len();
        DataFrame::new(
            n,
            vec![
                Column::new("customer_id".into(), self.ids),
                Column::new("campaign_id".into(), self.campaigns),
                Column::new("contact_date".into(), self.days)
                    .cast(&DataType::Date)
                    .map_err(table_err)?,
                Column::new("channel".into(), self.channels),
                Column::new(crate::models::training::GROUP_COLUMN.into(), self.groups),
                Column::new("responded".into(), self.responded),
                Column::new("response_value".into(), self.values),
            ],
        )
        .map_err(table_err)
    }
}

/// A model that wrote a score column, as the ledger names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringModel {
    /// The scores column it wrote (`score`, `churn_score`).
    pub column: String,
    /// `response`, `churn`.
    pub name: String,
    /// The registry version (`v0003`), else `sha256:` and the first 12 hex digits of its
    /// `model.json` (a model trained in the run).
    pub version: String,
}

/// Fills the model name and version of a campaign's target and control rows from the model
/// whose column their channel ranks by (`score_column`). Rows of a channel ranked by a column no
/// model wrote, and the global control members (not ranked), keep none.
pub fn name_models(record: &mut CampaignRecord, config: &CampaignConfig, models: &[ScoringModel]) {
    for row in &mut record.rows {
        if row.group == LedgerGroup::GlobalControl {
            continue;
        }
        let model = config
            .channels
            .iter()
            .find(|c| c.name == row.channel)
            .and_then(|c| models.iter().find(|m| m.column == c.score_column));
        if let Some(m) = model {
            row.model = Some(m.name.clone());
            row.model_version = Some(m.version.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(channel: &str, group: LedgerGroup) -> SelectionRecord {
        SelectionRecord {
            customer_id: "c1".into(),
            channel: channel.into(),
            group,
            rank: None,
            score: None,
            expected_value: None,
            cost: 0.0,
            segment: None,
            model: None,
            model_version: None,
        }
    }

    /// Each row names the model whose column its channel ranks by; the global control and a
    /// channel ranked by a column no model wrote name none.
    #[test]
    fn rows_name_the_model_their_channel_ranks_by() {
        let config = CampaignConfig::from_toml_str(
            "[campaign]\nname = \"c\"\nbudget = 1.0\nobjective = \"profit\"\nvalue_per_response = 35.0\n\
             [[channel]]\nname = \"email\"\ncost = 0.1\n\
             [[channel]]\nname = \"mail\"\ncost = 1.0\nscore_column = \"churn_score\"\n\
             [[channel]]\nname = \"sms\"\ncost = 0.2\nscore_column = \"my_score\"\n",
        )
        .unwrap();
        let mut record = CampaignRecord {
            campaign: "c".into(),
            send_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            response_window_days: 14,
            control_fraction: 0.1,
            audience_file: String::new(),
            audience_hash: String::new(),
            rows: vec![
                row("email", LedgerGroup::Target),
                row("email", LedgerGroup::Control),
                row("mail", LedgerGroup::Target),
                row("sms", LedgerGroup::Target),
                row("", LedgerGroup::GlobalControl),
            ],
        };
        let model = |column: &str, name: &str, version: &str| ScoringModel {
            column: column.into(),
            name: name.into(),
            version: version.into(),
        };
        let models = [
            model("score", "response", "v0002"),
            model("churn_score", "churn", "sha256:0123456789ab"),
        ];
        name_models(&mut record, &config, &models);
        let named: Vec<(Option<&str>, Option<&str>)> = record
            .rows
            .iter()
            .map(|r| (r.model.as_deref(), r.model_version.as_deref()))
            .collect();
        assert_eq!(
            named,
            [
                (Some("response"), Some("v0002")),
                (Some("response"), Some("v0002")),
                (Some("churn"), Some("sha256:0123456789ab")),
                (None, None),
                (None, None),
            ]
        );
    }
}
