//! The model commands' file plumbing: loading the tables training rows are made from, the
//! save → register path, the registry (`models/<kind>/<version>/` plus a `PRODUCTION` pointer)
//! and scoring files with drift.
//!
//! What a training row is, the default holdout and the fit live in
//! [`crate::models::training`]; this layer reads and writes the files around them and names the
//! file an error is about. Only the registry's `history.jsonl` reads the clock and the user: the
//! same inputs and options give the same bytes in `model.json`, `metrics.json` and the model
//! card, and the registry's version ids are a sequence.

mod inputs;
mod registry;
mod score;

pub use inputs::{
    load_tables, read_flat, rows_frame, save_or_register, training_scores, write_rows,
    LoadedTables, Saved,
};
pub use registry::{annotate, annotations, tag, Annotations};
pub use registry::{
    card, diff, feature_levels, history, list, load, load_kind, load_report, production, promote,
    register, render_list, render_metrics, render_report, resolve_model, save, show, weaknesses,
    HistoryEntry, ModelSummary, Promoted, Registered, DEFAULT_REGISTRY,
};
pub use score::{drift_report, render_drift, score_file, score_frame};

use crate::models::ModelsError;
use crate::Error;

/// A models error met on the caller's rows, as a run error so that the file it came from can be
/// named ([`crate::run::RunError::in_file`]); its exit code is still the models error's own (2 for
/// the caller's data, 1 for a failure of the code).
pub(crate) fn input_error(e: ModelsError) -> Error {
    Error::Run(crate::run::RunError::Model(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{EXIT_BAD_INPUT, EXIT_FAILURE};

    /// A model that does not fit its input, or a model file out of its rules, is bad input
    /// whichever way it reaches the top (wrapped as text or as the models error itself).
    #[test]
    fn schema_mismatches_and_refused_model_files_exit_with_bad_input() {
        let cases = [
            ModelsError::MissingColumn {
                column: "income".into(),
            },
            ModelsError::FeatureCount {
                expected: 4,
                found: 3,
            },
            ModelsError::SchemaVersion {
                expected: 1,
                found: 2,
            },
            ModelsError::InvalidModel {
                field: "kind".into(),
                expected: "churn",
                found: "response".into(),
            },
        ];
        for e in cases {
            assert_eq!(input_error(e.clone()).exit_code(), EXIT_BAD_INPUT, "{e}");
            assert_eq!(Error::Models(e.clone()).exit_code(), EXIT_BAD_INPUT, "{e}");
        }
        let bug = ModelsError::Backend {
            library: "smartcore",
            message: "x".into(),
        };
        assert_eq!(Error::Models(bug.clone()).exit_code(), EXIT_FAILURE);
        assert_eq!(input_error(bug).exit_code(), EXIT_FAILURE);
    }
}
