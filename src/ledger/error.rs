//! The ledger's errors.

use std::path::PathBuf;

/// What can go wrong with the ledger file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Another process holds the write lock past the busy timeout.
    #[error("ledger `{}` is busy: another bullseye process is writing it (waited {waited_ms} ms); try again when it has finished", path.display())]
    Busy { path: PathBuf, waited_ms: u128 },
    /// The file is not a ledger this version can read.
    #[error("ledger `{}` has schema version {found}, newer than this bullseye understands (up to {supported}); use a newer bullseye", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// SQLite failed (a corrupt file, a full disk, not a database).
    #[error("ledger `{}`: {message}", path.display())]
    Sqlite { path: PathBuf, message: String },
    /// A value the ledger holds or is asked for is not what it must be.
    #[error("ledger `{}`: {what}: expected {expected}, found {found}", path.display())]
    Invalid {
        path: PathBuf,
        what: String,
        expected: String,
        found: String,
    },
}

impl LedgerError {
    /// Wraps a SQLite error of the file at `path`; "database is locked" becomes [`LedgerError::Busy`].
    pub(crate) fn sqlite(
        path: &std::path::Path,
        waited: std::time::Duration,
    ) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |e| {
            let busy = matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            );
            if busy {
                LedgerError::Busy {
                    path: path.to_path_buf(),
                    waited_ms: waited.as_millis(),
                }
            } else {
                LedgerError::Sqlite {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            }
        }
    }
}
