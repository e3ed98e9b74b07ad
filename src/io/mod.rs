//! File plumbing shared by every stage: atomic writes, reading/writing tables by extension
//! (CSV outputs spreadsheet-safe), the lock of an output folder, short quotes of file content.
//!
//! Stages never open files themselves: the commands and the run orchestration call these helpers
//! at the edges, so every output in the project goes through one atomic-rename path.

mod atomic;
mod cells;
mod dataset;
mod digest;
mod lock;
mod regular;
mod sealed;
mod snippet;
mod table;

pub use atomic::{remove_stale_temporaries, write_atomic, write_json_atomic, write_string_atomic};
pub use cells::{escape_cell, unescape_cell, CsvCells};
pub use dataset::{dataset_files, is_parquet_file};
pub use digest::{file_digest, hex, input_digest};
pub(crate) use lock::process_alive;
pub use lock::{OutputLock, LOCK_TIMEOUT_DEFAULT};
pub use regular::{check_regular_file, not_a_regular_file, not_regular_error, read_text};
pub use sealed::{checksum, read_sealed_json, sealed_json, write_sealed_json, CHECKSUM_FIELD};
pub use snippet::{sanitize_quotes, snippet, SNIPPET_CHARS};
pub use table::{read_table, write_table, write_table_with, TableFormat};

use std::path::PathBuf;

/// Errors of the file layer.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table that cannot be read.
    #[error("`{path}`: {}", source.to_string().lines().next().unwrap_or_default())]
    Polars {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
    /// A table that cannot be encoded (not an I/O failure: those are [`IoError::Write`]).
    #[error("cannot write `{path}`: {}", source.to_string().lines().next().unwrap_or_default())]
    Encode {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("`{path}`: unknown table format (expected a `.csv` or `.parquet` file name)")]
    UnknownFormat { path: PathBuf },
    /// A file that must carry its checksum (a model file) has none.
    #[error("`{path}`: no `checksum` field: the file was written by an older bullseye or not by bullseye; {remedy}")]
    NoChecksum { path: PathBuf, remedy: &'static str },
    /// A file whose content no longer matches its checksum: it was changed after it was written.
    #[error("`{path}`: the content does not match its checksum (stored {stored}, computed {computed}): the file was changed after it was written; {remedy}")]
    ChecksumMismatch {
        path: PathBuf,
        stored: String,
        computed: String,
        remedy: &'static str,
    },
    /// Another process holds the lock of an output folder (see [`OutputLock`]).
    #[error(
        "`{}` is being written by another bullseye process ({}); gave up after waiting {waited} s for its lock `{}`",
        target.display(),
        holder.map_or("pid unknown".to_string(), |p| format!("pid {p}")),
        lock.display()
    )]
    Locked {
        target: PathBuf,
        lock: PathBuf,
        holder: Option<u32>,
        waited: u64,
    },
    #[error("`{path}`: not the expected JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a JSON file into a value, naming the file and the problem on failure.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, IoError> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|source| IoError::Json {
        path: path.to_path_buf(),
        source,
    })
}
