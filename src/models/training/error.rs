//! The error of building training rows and training on them.

use crate::features::FeatureError;
use crate::models::ModelsError;

/// Everything that can go wrong between the caller's tables and a trained model: the tables
/// lack a column or hold values out of the rule, or a lower layer (features, the model maths)
/// failed. Messages name the table and column as the caller wrote them.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// A table without the columns the rows need.
    #[error("{table} lacks {columns}{hint}")]
    MissingColumn {
        table: String,
        /// The missing columns, quoted.
        columns: String,
        /// What to do (empty or starting with a separator).
        hint: String,
    },
    /// Values of a table that break a rule of the rows.
    #[error("{what}: expected {expected}, found {found}")]
    InvalidData {
        what: String,
        expected: String,
        found: String,
    },
    /// Two names that cannot both hold.
    #[error("{what}: expected {expected}")]
    Conflict { what: String, expected: String },
    /// A column named as a model input that holds personal data.
    #[error(
        "{table}: column `{column}` holds {kind}: personal data never becomes a model input; \
         leave it out of `--features`/`--categorical`"
    )]
    PersonalData {
        table: String,
        column: String,
        kind: String,
    },
    /// An input the rows need and were not given, and how to give it.
    #[error("{what}: {hint}")]
    MissingInput { what: String, hint: String },
    /// A state the code should never reach.
    #[error("{what}; this is a bug")]
    Internal { what: String },
    /// One fold of a cross-validation failed.
    #[error("cross-validation fold {fold} of {k}: {error}")]
    Fold {
        fold: usize,
        k: usize,
        error: Box<TrainingError>,
    },
    /// The model maths refused the rows (or failed).
    #[error(transparent)]
    Model(#[from] ModelsError),
    /// The feature builder refused the history (or polars failed while reshaping a frame).
    #[error(transparent)]
    Features(#[from] FeatureError),
}

impl TrainingError {
    /// Whether the caller can fix it (exit 2) rather than it being our failure (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            TrainingError::Internal { .. } => false,
            TrainingError::Model(e) => e.is_bad_input(),
            TrainingError::Fold { error, .. } => error.is_bad_input(),
            TrainingError::Features(e) => crate::error::feature_error_is_bad_input(e),
            _ => true,
        }
    }

    pub(crate) fn internal(what: impl Into<String>) -> Self {
        TrainingError::Internal { what: what.into() }
    }
}
