//! A table written on its own thread while the next stages run. polars' Parquet writer encodes
//! and compresses on one core (`features.parquet`: 1 s at 1M customers, 9.5 s at 10M), and
//! the stages after `features` (segment, score) leave that core partly idle; `segments.csv`
//! (0.25 s at 1M) and `scores.csv` (0.2 s) go beside select, whose single-core stretches leave
//! room.
//!
//! The thread hashes the file it wrote for the manifest while the bytes are fresh in the page
//! cache. The CSV files are written at the lowest CPU priority ([`Share::Idle`]): it takes the
//! time select leaves idle, not the cores select uses. `features.parquet` is not: starved
//! through segment and score (both cores), its write ran on into select at 10M customers and
//! held the features table (~4 GB) under select's peak (12.8 GiB against 8.9).

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Instant;

use polars::prelude::DataFrame;

use crate::io::{self, IoError};
use crate::run::job::OutputRecord;
use crate::run::RunError;
use crate::Error;

/// A table being written (atomically, as every table) on its own thread. [`Self::finish`]
/// waits for it; dropped unfinished (a later stage failed), it still waits, so that no write
/// outlives the run that started it.
pub(super) struct BackgroundWrite {
    path: PathBuf,
    handle: Option<JoinHandle<Result<Written, IoError>>>,
}

/// A finished background write: the seconds the write took and the file's size and SHA-256.
#[derive(Debug)]
pub(super) struct Written {
    pub seconds: f64,
    pub bytes: u64,
    pub sha256: String,
}

impl Written {
    /// The manifest's record of the file, `rel` its path inside the run folder.
    pub(super) fn output(&self, rel: &str) -> OutputRecord {
        OutputRecord {
            path: rel.to_string(),
            bytes: self.bytes,
            sha256: self.sha256.clone(),
        }
    }
}

/// How a background write shares the cores with the stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    /// An even share with every other thread.
    Even,
    /// Only the time no stage's thread wants (the lowest priority).
    Idle,
}

/// Puts the calling thread at the lowest CPU priority (Linux: nice is per thread). Best effort:
/// a refusal leaves it where it was, which only costs speed.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take and return plain integers; no memory is shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

impl BackgroundWrite {
    /// Starts writing `frame` to `path` (a clone of a frame is cheap: its columns are shared),
    /// a CSV file's cells under `cells`.
    pub(super) fn start(
        path: PathBuf,
        mut frame: DataFrame,
        share: Share,
        cells: io::CsvCells,
    ) -> Result<Self, Error> {
        let target = path.clone();
        let handle = std::thread::Builder::new()
            .name("bullseye-write".into())
            .spawn(move || {
                if share == Share::Idle {
                    lowest_priority();
                }
                let t0 = Instant::now();
                io::write_table_with(&target, &mut frame, cells)?;
                let seconds = t0.elapsed().as_secs_f64();
                drop(frame);
                let (bytes, sha256) = io::file_digest(&target)?;
                Ok(Written {
                    seconds,
                    bytes,
                    sha256,
                })
            })
            .map_err(|e| {
                RunError::internal(format!("could not start writing {}: {e}", path.display()))
            })?;
        Ok(Self {
            path,
            handle: Some(handle),
        })
    }

    /// The file's path inside `dir`, `/`-separated (as the manifest lists it).
    pub(super) fn relative_path(&self, dir: &Path) -> String {
        super::manifest::relative_path(dir, &self.path)
    }

    /// Waits for the write: its error, or the seconds it took and the file's digest.
    pub(super) fn finish(mut self) -> Result<Written, Error> {
        let Some(handle) = self.handle.take() else {
            return Err(RunError::internal(format!(
                "{} was waited for twice",
                self.path.display()
            ))
            .into());
        };
        match handle.join() {
            Ok(written) => Ok(written?),
            Err(_) => Err(RunError::internal(format!(
                "the thread writing {} panicked",
                self.path.display()
            ))
            .into()),
        }
    }
}

impl Drop for BackgroundWrite {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // A run that failed: its error is the one reported, the write's is not news.
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn frame() -> DataFrame {
        df!("customer_id" => ["a", "b"], "x" => [1.0, 2.0]).unwrap()
    }

    /// A write dropped unfinished is waited for: the whole file is there once the drop returns.
    /// `finish` gives the write's own error, naming where it failed.
    #[test]
    fn a_dropped_write_is_waited_for_and_a_failed_one_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.parquet");
        drop(
            BackgroundWrite::start(path.clone(), frame(), Share::Even, io::CsvCells::default())
                .unwrap(),
        );
        let back = io::read_table(&path, &[]).unwrap();
        assert!(back.equals(&frame()));
        // A finished write gives the digest of the file it left.
        let w = BackgroundWrite::start(path.clone(), frame(), Share::Even, io::CsvCells::default())
            .unwrap();
        assert_eq!(w.relative_path(dir.path()), "features.parquet");
        let written = w.finish().unwrap();
        let (bytes, sha256) = io::file_digest(&path).unwrap();
        assert_eq!((written.bytes, written.sha256), (bytes, sha256));
        // A folder that cannot be made: a file stands in its place.
        std::fs::write(dir.path().join("blocker"), "").unwrap();
        let bad = dir.path().join("blocker").join("features.parquet");
        let e = BackgroundWrite::start(bad, frame(), Share::Idle, io::CsvCells::default())
            .unwrap()
            .finish()
            .unwrap_err();
        assert!(e.to_string().contains("blocker"), "{e}");
    }
}
