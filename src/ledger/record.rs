//! Recording runs: pending before the folder swap, published after it, reconciled against the
//! disk when a process died in between (see the module documentation of [`crate::ledger`]).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, Transaction};

use super::{date_text, Ledger, LedgerError, LedgerGroup};

/// One run about to be published.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// `select`, `plan` or `job`.
    pub kind: String,
    /// The job's name, or the command's.
    pub job_name: String,
    pub as_of: NaiveDate,
    /// Input fingerprints (name → SHA-256), as JSON.
    pub inputs: String,
    /// The folder the run publishes (absolute): a rerun into it replaces the run.
    pub folder: PathBuf,
    pub campaigns: Vec<CampaignRecord>,
}

/// One campaign of a run.
#[derive(Debug, Clone)]
pub struct CampaignRecord {
    pub campaign: String,
    pub send_date: NaiveDate,
    pub response_window_days: u32,
    /// The campaign's planned control share.
    pub control_fraction: f64,
    /// The audience file, relative to the run's folder.
    pub audience_file: String,
    /// Its SHA-256: how a pending run is recognised on disk.
    pub audience_hash: String,
    pub rows: Vec<SelectionRecord>,
}

/// One selected customer.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionRecord {
    pub customer_id: String,
    pub channel: String,
    pub group: LedgerGroup,
    pub rank: Option<i64>,
    pub score: Option<f64>,
    pub expected_value: Option<f64>,
    /// The contact's cost (0 for held-out customers).
    pub cost: f64,
    pub segment: Option<String>,
    pub model: Option<String>,
    pub model_version: Option<String>,
}

/// A run written as pending; [`Ledger::publish_run`] or [`Ledger::discard_run`] ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingRun(pub i64);

fn insert_run(tx: &Transaction<'_>, run: &RunRecord) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO runs (kind, job_name, as_of, bullseye_version, inputs, folder, status, pid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
        params![
            run.kind,
            run.job_name,
            date_text(run.as_of),
            env!("CARGO_PKG_VERSION"),
            run.inputs,
            run.folder.display().to_string(),
            std::process::id(),
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    let mut campaign = tx.prepare(
        "INSERT INTO campaigns (run_id, campaign, send_date, response_window_days,
             control_fraction, audience_file, audience_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut row = tx.prepare(
        "INSERT INTO selections (run_id, campaign, customer_id, channel, grp, rank, score,
             expected_value, cost, segment, model, model_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for c in &run.campaigns {
        campaign.execute(params![
            run_id,
            c.campaign,
            date_text(c.send_date),
            c.response_window_days,
            c.control_fraction,
            c.audience_file,
            c.audience_hash,
        ])?;
        // In customer order, each row's entries in the two customer indexes (the primary key's
        // and `selections_customer`) go in next to the previous row's instead of at a random
        // page: at 55,000 rows in rank order the inserts were most of the ledger's time. The
        // queries order what they read (or sort it, as attribution does), so the order the rows
        // are stored in is not seen.
        let mut rows: Vec<&SelectionRecord> = c.rows.iter().collect();
        rows.sort_unstable_by(|a, b| a.customer_id.cmp(&b.customer_id));
        for r in rows {
            row.execute(params![
                run_id,
                c.campaign,
                r.customer_id,
                r.channel,
                r.group.as_str(),
                r.rank,
                r.score,
                r.expected_value,
                r.cost,
                r.segment,
                r.model,
                r.model_version,
            ])?;
        }
    }
    Ok(run_id)
}

/// Marks a run published and drops the earlier runs of its folder.
fn publish(tx: &Transaction<'_>, run_id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE runs SET status = 'published' WHERE run_id = ?1",
        [run_id],
    )?;
    tx.execute(
        "DELETE FROM runs WHERE run_id <> ?1
           AND folder = (SELECT folder FROM runs WHERE run_id = ?1)",
        [run_id],
    )?;
    Ok(())
}

/// Whether every audience file a pending run recorded is on disk with the recorded hash: the
/// run's folder swap happened.
fn on_disk(tx: &Transaction<'_>, run_id: i64, folder: &Path) -> rusqlite::Result<bool> {
    let mut stmt =
        tx.prepare("SELECT audience_file, audience_hash FROM campaigns WHERE run_id = ?1")?;
    let files = stmt
        .query_map([run_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(files.iter().all(|(file, hash)| {
        crate::io::file_digest(&folder.join(file)).is_ok_and(|(_, h)| &h == hash)
    }))
}

impl Ledger {
    /// Writes `run` as pending, in one transaction.
    pub fn stage_run(&mut self, run: &RunRecord) -> Result<PendingRun, LedgerError> {
        self.write(|tx| insert_run(tx, run)).map(PendingRun)
    }

    /// Marks a pending run published (its folder was swapped in) and drops the runs it replaces.
    pub fn publish_run(&mut self, run: PendingRun) -> Result<(), LedgerError> {
        self.write(|tx| publish(tx, run.0))
    }

    /// Drops a pending run whose folder was not published.
    pub fn discard_run(&mut self, run: PendingRun) -> Result<(), LedgerError> {
        self.write(|tx| {
            tx.execute("DELETE FROM runs WHERE run_id = ?1", [run.0])
                .map(|_| ())
        })
    }

    /// Settles the pending runs of processes that are gone: published when their audience files
    /// are on disk, dropped otherwise. Returns how many were published and dropped.
    pub fn reconcile(&mut self) -> Result<(usize, usize), LedgerError> {
        self.write(|tx| {
            let pending = {
                let mut stmt =
                    tx.prepare("SELECT run_id, folder, pid FROM runs WHERE status = 'pending'")?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, u32>(2)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                rows
            };
            let (mut published, mut dropped) = (0, 0);
            for (run_id, folder, pid) in pending {
                if pid == std::process::id() || crate::io::process_alive(pid) {
                    continue;
                }
                if on_disk(tx, run_id, Path::new(&folder))? {
                    publish(tx, run_id)?;
                    published += 1;
                } else {
                    tx.execute("DELETE FROM runs WHERE run_id = ?1", [run_id])?;
                    dropped += 1;
                }
            }
            Ok((published, dropped))
        })
    }
}
