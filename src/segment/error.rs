//! The module's single error type.

use thiserror::Error;

/// Everything that can go wrong while segmenting customers.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SegmentError {
    /// A column the step needs is not in the feature matrix.
    #[error(
        "missing column `{column}`: expected it among the feature matrix columns {available:?}"
    )]
    MissingColumn {
        /// The column that was asked for.
        column: String,
        /// The columns the matrix has.
        available: Vec<String>,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value in column `{column}` for customer `{id}`: expected a finite number, found {value}")]
    NonFinite {
        /// Column holding the value.
        column: String,
        /// Customer id of the row.
        id: String,
        /// The offending value.
        value: f64,
    },
    /// The matrix has no rows.
    #[error("empty feature matrix: expected at least one customer, found none")]
    Empty,
    /// The matrix is inconsistent (ids vs rows, columns vs width).
    #[error("malformed feature matrix: expected {expected}, found {found}")]
    Malformed {
        /// What the shape should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// A saved segmentation model breaks one of its rules (the file was edited or damaged).
    #[error("invalid model: `{field}`: expected {expected}, found {found}")]
    InvalidModel {
        /// The field, as a path into `model.json`.
        field: String,
        /// The rule it must satisfy.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A hyperparameter breaks a documented rule.
    #[error("invalid parameter `{param}`: expected {rule}, found {found}")]
    InvalidParam {
        /// Parameter name.
        param: &'static str,
        /// The rule it must satisfy.
        rule: &'static str,
        /// The value given.
        found: String,
    },
    /// A rule of a segment scheme is malformed.
    #[error("invalid segment rule #{index} (`{name}`): {reason}")]
    InvalidRule {
        /// Position of the rule in the scheme (0-based).
        index: usize,
        /// Rule name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Fewer rows than clusters.
    #[error("too few customers for k-means: expected at least k = {k} rows, found {found}")]
    TooFewRows {
        /// Requested cluster count.
        k: usize,
        /// Number of rows.
        found: usize,
    },
    /// A serialized model has a schema this code does not read.
    #[error("unsupported segmentation model schema: expected version {expected}, found {found}")]
    SchemaVersion {
        /// Version this code writes.
        expected: u32,
        /// Version found.
        found: u32,
    },
    /// linfa refused a fit or a conversion.
    #[error("linfa k-means failed: {0}")]
    Linfa(String),
}

/// Result alias for the module.
pub type Result<T> = std::result::Result<T, SegmentError>;
