//! The library's top-level error and the exit codes the CLI maps it to.
//!
//! Polars errors follow one rule: a failure while reading the caller's file is the caller's
//! (exit 2), and `ingest` and `io` report it with the file (and line) it met; any other polars
//! failure happens on frames we built or already validated (a join, a cast, a sort), so it is
//! ours (exit 1). Above ingest it is mapped in one place per layer that cannot see this one:
//! [`polars_failure`] for the run layer, `FeatureError::Polars` for features and the training rows
//! built from them (`models::training`), both exit 1 by [`Error::exit_code`].

use crate::analyze::AnalyzeError;
use crate::basket::BasketError;
use crate::clv::ClvError;
use crate::features::FeatureError;
use crate::ingest::IngestError;
use crate::io::IoError;
use crate::ledger::LedgerError;
use crate::models::ModelsError;
use crate::report::ReportError;
use crate::run::RunError;
use crate::segment::SegmentError;
use crate::select::SelectError;

/// Exit code for bad input: too many rejects, a missing file or column, an invalid config.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for drift above the configured threshold.
pub const EXIT_DRIFT: u8 = 3;
/// Exit code for anything else.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for an output folder that another process is writing (try again later).
pub const EXIT_BUSY: u8 = 4;

/// Any error of a bullseye stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error(transparent)]
    Clv(#[from] ClvError),
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(transparent)]
    Models(#[from] ModelsError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Run(#[from] RunError),
    /// A polars failure on a frame the code built (see the module documentation).
    #[error("{what}: polars failed: {message}")]
    Polars { what: String, message: String },
    #[error(transparent)]
    Basket(#[from] BasketError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
    /// A model input or score drifted past the job's threshold.
    #[error("{0}")]
    Drift(String),
    /// An error whose message the caller completed (paths renamed to where the files were
    /// published), with the exit code of the original error.
    #[error("{message}")]
    Reported { message: String, code: u8 },
    /// A `bullseye run` that failed: its outputs and manifest went to `dir`.
    #[error("{message}\n(the run's outputs and manifest are in `{}`)", dir.display())]
    RunFailed {
        message: String,
        dir: std::path::PathBuf,
        code: u8,
    },
}

impl Error {
    /// The process exit code for this error (documented in the README).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Ingest(IngestError::Io(e)) | Error::Io(e) => io_exit_code(e),
            Error::Ingest(IngestError::Bug { .. } | IngestError::PieceMismatch { .. }) => {
                EXIT_FAILURE
            }
            Error::Ingest(_) => EXIT_BAD_INPUT,
            Error::Run(e) => e.exit_code(),
            Error::Features(e) if feature_error_is_bad_input(e) => EXIT_BAD_INPUT,
            Error::Features(_) => EXIT_FAILURE,
            Error::Clv(e) if e.is_bad_input() => EXIT_BAD_INPUT,
            Error::Clv(_) => EXIT_FAILURE,
            // Segment and selection errors are about their inputs: missing or non-finite
            // columns, invalid configs, duplicate ids.
            Error::Segment(_) | Error::Select(_) | Error::Plan(_) => EXIT_BAD_INPUT,
            Error::Models(e) if e.is_bad_input() => EXIT_BAD_INPUT,
            Error::Models(_) => EXIT_FAILURE,
            Error::Report(ReportError::Io(e)) => io_exit_code(e),
            Error::Report(_) => EXIT_FAILURE,
            Error::Polars { .. } => EXIT_FAILURE,
            Error::Basket(e) if e.is_bad_input() => EXIT_BAD_INPUT,
            Error::Basket(_) => EXIT_FAILURE,
            Error::Analyze(e) if e.is_bad_input() => EXIT_BAD_INPUT,
            Error::Analyze(_) => EXIT_FAILURE,
            // The models or segmentation given cannot be written as SQL.
            Error::Sql(_) => EXIT_BAD_INPUT,
            Error::Ledger(LedgerError::Invalid { .. }) => EXIT_BAD_INPUT,
            // A busy ledger fails like any other write (exit 1), as the brief of issue 20 asks.
            Error::Ledger(_) => EXIT_FAILURE,
            Error::Drift(_) => EXIT_DRIFT,
            Error::RunFailed { code, .. } | Error::Reported { code, .. } => *code,
        }
    }
}

/// The run layer's one mapping of a polars failure (ours, exit 1): `what` names the frame, the
/// message keeps polars' first line.
pub(crate) fn polars_failure(
    what: impl Into<String>,
) -> impl FnOnce(polars::error::PolarsError) -> Error {
    move |e| Error::Polars {
        what: what.into(),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

/// Whether a feature error is the caller's to fix (exit 2): every one but a polars failure and a
/// family used unprepared, which are ours (exit 1). The one rule, also for feature errors met
/// while building training rows ([`crate::models::training::TrainingError`]).
pub(crate) fn feature_error_is_bad_input(e: &FeatureError) -> bool {
    !matches!(e, FeatureError::Polars(_) | FeatureError::NotPrepared(_))
}

/// Reading is about the user's files (2); writing is about the disk (1); a busy output folder is
/// worth a retry (4).
fn io_exit_code(e: &IoError) -> u8 {
    match e {
        IoError::Read { .. }
        | IoError::Polars { .. }
        | IoError::UnknownFormat { .. }
        | IoError::Json { .. }
        | IoError::NoChecksum { .. }
        | IoError::ChecksumMismatch { .. } => EXIT_BAD_INPUT,
        IoError::Write { .. } | IoError::Encode { .. } => EXIT_FAILURE,
        IoError::Locked { .. } => EXIT_BUSY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::error::PolarsError;

    /// A polars failure above ingest is ours whichever layer met it: the run layer's mapping
    /// and the features' (also reached through the training rows) both exit 1, and the run
    /// layer's names the frame and keeps only polars' first line.
    #[test]
    fn polars_failures_exit_1_in_every_layer() {
        let failure = || PolarsError::ComputeError("lengths differ\nbacktrace".into());
        let e = polars_failure("the scores")(failure());
        assert_eq!(e.exit_code(), EXIT_FAILURE);
        assert_eq!(e.to_string(), "the scores: polars failed: lengths differ");
        let features = Error::Features(FeatureError::Polars(failure()));
        assert_eq!(features.exit_code(), EXIT_FAILURE);
        let training =
            crate::models::training::TrainingError::Features(FeatureError::Polars(failure()));
        assert!(!training.is_bad_input());
        assert_eq!(Error::from(training).exit_code(), EXIT_FAILURE);
    }
}
