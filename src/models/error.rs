//! The single error type of the models module.

use thiserror::Error;

/// Everything that can go wrong while preparing data, fitting, scoring or evaluating a model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelsError {
    /// A hyperparameter broke its documented rule.
    #[error("invalid parameter `{name}`: expected {expected}, found {found}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// The rule it must satisfy.
        expected: &'static str,
        /// The offending value, formatted.
        found: String,
    },
    /// Two inputs that must have the same length (or row count) do not.
    #[error("length mismatch for {what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// What was compared.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Found length.
        found: usize,
    },
    /// A column required by the fitted preprocessing is absent from the table being transformed.
    #[error("missing column `{column}`: the fitted preprocessing expects it")]
    MissingColumn {
        /// Column name.
        column: String,
    },
    /// The same column name appears twice in one input table.
    #[error("duplicate column `{column}` in the input table")]
    DuplicateColumn {
        /// Column name.
        column: String,
    },
    /// A categorical level not seen during training, under the `strict` option.
    #[error("unseen level `{level}` in column `{column}` (strict mode): expected one of the training levels")]
    UnseenLevel {
        /// Column name.
        column: String,
        /// The level found.
        level: String,
    },
    /// An infinite value where a finite number (or NaN for missing) was expected.
    #[error("non-finite value {value} in column `{column}` at row {row}: expected a finite number or NaN")]
    NonFinite {
        /// Column name.
        column: String,
        /// 0-based row.
        row: usize,
        /// The value found.
        value: f64,
    },
    /// A finite value so large that its square, and the solver's sums of squares, would overflow.
    #[error("value {value:e} in column `{column}` at row {row} of the training rows (0-based) is too large to fit a model on: expected a magnitude of at most {limit:e}; rescale the column (e.g. to thousands) or leave it out")]
    TooLarge {
        /// Column name.
        column: String,
        /// 0-based row.
        row: usize,
        /// The value found.
        value: f64,
        /// The largest magnitude accepted.
        limit: f64,
    },
    /// A column whose training mean or standard deviation overflows: its values are too large
    /// or too spread for a standardization to be finite.
    #[error("column `{column}` cannot be standardized: its {statistic} is {value}, expected a finite number; rescale the column (e.g. to thousands) or leave it out")]
    NonFiniteStatistic {
        /// Column name.
        column: String,
        /// `mean` or `standard deviation`.
        statistic: &'static str,
        /// The value found.
        value: f64,
    },
    /// A label or treatment flag other than 0 or 1.
    #[error("invalid {what} at row {row}: expected 0 or 1, found {found}")]
    NotBinary {
        /// `label` or `treatment`.
        what: &'static str,
        /// 0-based row.
        row: usize,
        /// The value found.
        found: f64,
    },
    /// Training needs both classes (or both groups) present.
    #[error("{what} needs both values 0 and 1 present: found only {found}")]
    SingleClass {
        /// What lacked a class (`labels`, `treatment`, `split`…).
        what: &'static str,
        /// The only value present, formatted.
        found: String,
    },
    /// An input with no rows (or no columns) where some are required.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// The Newton system could not be solved (Hessian not positive definite even after damping).
    #[error("solver failure: {reason}")]
    Solver {
        /// Why.
        reason: String,
    },
    /// The feature count of a matrix does not match the fitted model.
    #[error("feature count mismatch: the model expects {expected} features, found {found}")]
    FeatureCount {
        /// Features the model was fitted with.
        expected: usize,
        /// Features in the input.
        found: usize,
    },
    /// An error reported by smartcore or linfa, kept as text.
    #[error("{library} error: {message}")]
    Backend {
        /// `smartcore` or `linfa`.
        library: &'static str,
        /// The backend's message.
        message: String,
    },
    /// An artifact carries a schema version this code does not read.
    #[error("unsupported schema version {found}: expected {expected}")]
    SchemaVersion {
        /// Version this code writes and reads.
        expected: u32,
        /// Version found.
        found: u32,
    },
    /// A saved model breaks one of its rules (a coefficient that is not finite, a scale that is
    /// not positive, a count of coefficients other than the inputs', a kind other than the one
    /// asked for): the file was edited, damaged, or written for something else.
    #[error("invalid model: `{field}`: expected {expected}, found {found}")]
    InvalidModel {
        /// The field, as a path into `model.json` (e.g. `preprocessing.numeric[2].std`).
        field: String,
        /// The rule it must satisfy.
        expected: &'static str,
        /// The value found, formatted.
        found: String,
    },
    /// Scores outside their range (probabilities in [0, 1], uplift in [−1, 1]) or not finite:
    /// none is written.
    #[error("{count} of {rows} {what} are not {expected} (the first at row {row}: {value}): the model or its inputs are broken, so nothing was written")]
    InvalidScores {
        /// `scores`, `p_treated` or `p_control`.
        what: &'static str,
        /// How many values break the rule.
        count: usize,
        /// Rows scored.
        rows: usize,
        /// 0-based row of the first one.
        row: usize,
        /// Its value.
        value: f64,
        /// The rule.
        expected: &'static str,
    },
    /// The artifact's model does not match its declared kind (e.g. uplift scoring on a single model).
    #[error("artifact mismatch: expected {expected}, found {found}")]
    ArtifactMismatch {
        /// What the operation needs.
        expected: &'static str,
        /// What the artifact holds.
        found: &'static str,
    },
}

/// A [`ModelsError::InvalidModel`] for `field` unless `ok`.
pub(crate) fn model_rule(
    ok: bool,
    field: impl FnOnce() -> String,
    expected: &'static str,
    found: impl std::fmt::Display,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(ModelsError::InvalidModel {
            field: field(),
            expected,
            found: shown(found.to_string()),
        })
    }
}

/// A value read from a model file as an error quotes it: a long number in scientific notation
/// (an edited `1e308` prints as 309 digits), other text cut to a short printable snippet (the
/// file may hold anything, escape sequences included).
fn shown(found: String) -> String {
    match found.parse::<f64>() {
        Ok(v) if found.len() > crate::io::SNIPPET_CHARS => format!("{v:e}"),
        _ => crate::io::snippet(&found, crate::io::SNIPPET_CHARS),
    }
}

impl ModelsError {
    /// Whether the error is about the caller's data, parameters or model file (exit code 2)
    /// rather than a failure of the code or a library (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            ModelsError::LengthMismatch { .. } | ModelsError::Backend { .. }
        )
    }
}

/// Result alias of the module.
pub type Result<T> = std::result::Result<T, ModelsError>;
