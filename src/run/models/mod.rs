//! The model commands' file plumbing: training rows from canonical tables or a flat table, the
//! train → save → register path, the registry (`models/<kind>/<version>/` plus a `PRODUCTION`
//! pointer) and scoring with drift.
//!
//! The pure module `crate::models` takes `ndarray` values; this layer is where polars frames
//! become [`TrainingTable`]s (features as of the day before each contact, so a purchase on or
//! after the contact day never enters its row) and where a schema mismatch becomes a bad-input
//! error naming the columns. Nothing here reads the clock: the same inputs and options give the
//! same bytes in `model.json` and `metrics.json`, and the registry's version ids are a sequence.

mod fit;
mod frame;
mod inputs;
mod registry;
mod rows;
mod score;

pub use fit::{
    train, HoldoutChoice, HoldoutInfo, TrainOptions, TrainedModel, TrainingReport, TreatmentSpec,
    REPORT_SCHEMA_VERSION,
};
pub use inputs::{
    load_history, read_flat, rows_frame, save_or_register, training_scores, write_rows, History,
    Saved,
};
pub use registry::{
    diff, list, load, load_report, production, promote, register, render_list, render_metrics,
    render_report, resolve_model, save, show, ModelSummary, Registered, DEFAULT_REGISTRY,
};
pub use rows::{
    churn_rows, churn_rows_from, response_rows, response_rows_from, table_rows, RowCap, TableSpec,
    TrainingTable, DEFAULT_MAX_TRAINING_ROWS,
};
pub use score::{drift_report, render_drift, score_file, score_frame, DriftReport, FeatureDrift};

use crate::models::ModelsError;
use crate::Error;

/// Errors of the models module that describe the caller's data (a missing column, an unseen level,
/// a label that is not 0/1…) are bad input (exit code 2); the rest stay model failures (exit 1).
pub(crate) fn input_error(e: ModelsError) -> Error {
    match e {
        ModelsError::MissingColumn { .. }
        | ModelsError::DuplicateColumn { .. }
        | ModelsError::UnseenLevel { .. }
        | ModelsError::NonFinite { .. }
        | ModelsError::NotBinary { .. }
        | ModelsError::SingleClass { .. }
        | ModelsError::Empty { .. }
        | ModelsError::InvalidParam { .. } => Error::Usage(e.to_string()),
        other => Error::Models(other),
    }
}
