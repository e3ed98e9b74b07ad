//! A table written on its own thread while the next stages run. polars' Parquet writer encodes
//! and compresses on one core (`features.parquet`: 1 s at 1M customers, 9.5 s at 10M), and
//! the stages after `features` (segment, score) leave that core partly idle; `segments.csv`
//! (0.25 s at 1M) goes beside select, whose single-core stretches leave room.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Instant;

use polars::prelude::DataFrame;

use crate::io::{self, IoError};
use crate::run::RunError;
use crate::Error;

/// A table being written (atomically, as every table) on its own thread. [`Self::finish`]
/// waits for it; dropped unfinished (a later stage failed), it still waits, so that no write
/// outlives the run that started it.
pub(super) struct BackgroundWrite {
    path: PathBuf,
    handle: Option<JoinHandle<Result<f64, IoError>>>,
}

impl BackgroundWrite {
    /// Starts writing `frame` to `path` (a clone of a frame is cheap: its columns are shared).
    pub(super) fn start(path: PathBuf, mut frame: DataFrame) -> Result<Self, Error> {
        let target = path.clone();
        let handle = std::thread::Builder::new()
            .name("bullseye-write".into())
            .spawn(move || {
                let t0 = Instant::now();
                io::write_table(&target, &mut frame)?;
                Ok(t0.elapsed().as_secs_f64())
            })
            .map_err(|e| {
                RunError::internal(format!("could not start writing {}: {e}", path.display()))
            })?;
        Ok(Self {
            path,
            handle: Some(handle),
        })
    }

    /// Waits for the write: its error, or the seconds it took.
    pub(super) fn finish(mut self) -> Result<f64, Error> {
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
        drop(BackgroundWrite::start(path.clone(), frame()).unwrap());
        let back = io::read_table(&path, &[]).unwrap();
        assert!(back.equals(&frame()));
        // A folder that cannot be made: a file stands in its place.
        std::fs::write(dir.path().join("blocker"), "").unwrap();
        let bad = dir.path().join("blocker").join("features.parquet");
        let e = BackgroundWrite::start(bad, frame())
            .unwrap()
            .finish()
            .unwrap_err();
        assert!(e.to_string().contains("blocker"), "{e}");
    }
}
