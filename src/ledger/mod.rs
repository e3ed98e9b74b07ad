//! The campaign ledger: an embedded SQLite file (`bullseye.db`) that remembers every published
//! selection (run, campaign, send date, customer, channel, group, rank, score, value, cost) and
//! the responses to it, so later runs can apply the contact policy without a contacts file and
//! the readout can compare target with control.
//!
//! Consistency with the published folders: a run's rows are written as `pending` in one
//! transaction before its folder is swapped in, and marked `published` after the swap. Readers
//! see only published rows. A process killed between the two leaves a pending run; the next
//! process that opens the ledger reconciles it against the disk (the audience files' hashes
//! match what the run recorded: published; else: dropped), so the rows exist if and only if the
//! folder was published. Publishing a run drops the earlier runs of the same folder: a rerun
//! replaces, never duplicates.
//!
//! Writers take SQLite's write lock at the start of each transaction (`BEGIN IMMEDIATE`) and wait
//! up to the busy timeout for another writer; past it they fail with [`LedgerError::Busy`].

mod control;
mod error;
mod query;
mod record;
mod responses;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

pub use control::{in_global_control, SALT_KEY};
pub use error::LedgerError;
pub use query::{AnsweredRow, SendRecord};
pub use record::{CampaignRecord, PendingRun, RunRecord, SelectionRecord};
pub use responses::{
    attribute, attribute_bought, by_day_then_amount, Purchase, Response, Selected,
    TRANSACTIONS_SOURCE,
};
pub use schema::SCHEMA_VERSION;

/// The ledger's file name in a job's `out` folder.
pub const DEFAULT_FILE: &str = "bullseye.db";

/// How long a writer waits for another by default.
pub const BUSY_TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);

/// A customer's group in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerGroup {
    /// Contacted.
    Target,
    /// The campaign's own hold-out.
    Control,
    /// The ledger-wide hold-out, never contacted by any campaign.
    GlobalControl,
}

impl LedgerGroup {
    /// The name stored in the ledger and written in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerGroup::Target => "target",
            LedgerGroup::Control => "control",
            LedgerGroup::GlobalControl => "global_control",
        }
    }

    fn parse(s: &str) -> Option<LedgerGroup> {
        match s {
            "target" => Some(LedgerGroup::Target),
            "control" => Some(LedgerGroup::Control),
            "global_control" => Some(LedgerGroup::GlobalControl),
            _ => None,
        }
    }
}

/// A past target contact, as the contact policy counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerContact {
    pub customer_id: String,
    pub date: NaiveDate,
    pub channel: String,
}

/// An open ledger file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// Dates are stored as `YYYY-MM-DD` text, which sorts as dates do.
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl Ledger {
    /// Opens (creating it and its folder when missing) and migrates the ledger at `path`, then
    /// reconciles the pending runs of processes that are gone. A writer waits up to
    /// `busy_timeout` for another.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Ledger, LedgerError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| LedgerError::Sqlite {
                path: path.to_path_buf(),
                message: format!("cannot create its folder: {e}"),
            })?;
        }
        // SQLite would fail on a FIFO, a device or a folder only with "disk I/O error" (exit 1):
        // named for what it is, it is the user's input to fix (exit 2).
        if let Ok(Some(what)) = crate::io::not_a_regular_file(path) {
            return Err(LedgerError::Invalid {
                path: path.to_path_buf(),
                what: "the file".into(),
                expected: "a regular file (a ledger, or none yet)".into(),
                found: what.into(),
            });
        }
        let err = LedgerError::sqlite(path, busy_timeout);
        let mut conn = Connection::open(path).map_err(&err)?;
        conn.busy_timeout(busy_timeout).map_err(&err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(&err)?;
        // A run's selections go in in one transaction; in SQLite's default 2 MB page cache the
        // customer index's pages are evicted and read back for every row (seconds at 10M
        // customers). 64 MiB holds them.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(&err)?;
        let found = schema::version(&conn).map_err(&err)?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            schema::migrate(&mut conn).map_err(&err)?;
        }
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            busy_timeout,
        };
        ledger.reconcile()?;
        Ok(ledger)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        LedgerError::sqlite(&self.path, self.busy_timeout)
    }

    /// Runs `f` in one write transaction (taken at once, waiting for other writers).
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        let err = LedgerError::sqlite(&self.path, self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let value = f(&tx).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(value)
    }

    /// A setting kept in the ledger (e.g. the global control's salt).
    pub fn setting(&self, key: &str) -> Result<Option<String>, LedgerError> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())
    }

    /// The setting `key`, stored as `init()` on first use.
    pub fn setting_or_init(
        &mut self,
        key: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, LedgerError> {
        let value = init();
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
                [key, value.as_str()],
            )?;
            tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
        })
    }

    /// Published target contacts on every channel, from runs of folders other than
    /// `except_folder` (the run about to be replaced does not count against itself).
    pub fn contacts(
        &self,
        except_folder: Option<&Path>,
    ) -> Result<Vec<LedgerContact>, LedgerError> {
        let except = except_folder
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.customer_id, c.send_date, s.channel
                 FROM selections s
                 JOIN campaigns c ON c.run_id = s.run_id AND c.campaign = s.campaign
                 JOIN runs r ON r.run_id = s.run_id
                 WHERE r.status = 'published' AND s.grp = 'target' AND r.folder <> ?1
                 ORDER BY c.send_date, s.customer_id, s.channel",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([except], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (customer_id, date, channel) = row.map_err(self.err())?;
            out.push(LedgerContact {
                customer_id,
                date: self.parse_date(&date, "selections.send_date")?,
                channel,
            });
        }
        Ok(out)
    }

    fn parse_date(&self, text: &str, what: &str) -> Result<NaiveDate, LedgerError> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| LedgerError::Invalid {
            path: self.path.clone(),
            what: what.to_string(),
            expected: "a date YYYY-MM-DD".into(),
            found: format!("{text:?}"),
        })
    }
}

#[cfg(test)]
mod tests;
