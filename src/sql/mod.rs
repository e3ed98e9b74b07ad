//! The fitted pipeline as one SQL query (`bullseye export sql`): from the canonical
//! transactions table to one row per customer with the features the models use, each logistic
//! model's score, the k-means cluster and the RFM scores and segment, as of a date — the numbers
//! `bullseye features`, `score` and `segment` give, computed inside Spark, PostgreSQL, DuckDB,
//! BigQuery or Snowflake.
//!
//! [`dialect`] holds what differs between engines, in one table; [`query`] builds the query.
//! Feature definitions are not restated here: each catalogue entry carries its
//! [`SqlForm`](crate::features::SqlForm), declared in its family's file beside the Rust builder,
//! and a feature without one is an error naming it.

pub mod dialect;
mod profit;
mod query;

pub use dialect::Dialect;
pub use profit::TableColumns;
pub use query::{export, Export};

/// Why a pipeline cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(
        "feature `{feature}`{} has no SQL form; export models trained on the families that have one (rfm, btyd, windows, cycle, attributes, profit)",
        family.map(|f| format!(" (family `{f}`)")).unwrap_or_default()
    )]
    NoSqlForm {
        feature: String,
        family: Option<&'static str>,
    },
    #[error("model `{model}` is {found} model; only single logistic models export to SQL")]
    NotLogistic { model: String, found: String },
    #[error("model `{model}` has a categorical input (`{column}`); categorical inputs do not export to SQL yet")]
    Categorical { model: String, column: String },
    #[error("model `{model}`: the standardisation of `{column}` has std {std}; a scale that is not a finite number > 0 does not export (retrain the model)")]
    ZeroScale {
        model: String,
        column: String,
        std: f64,
    },
    #[error("model `{model}`: {field} is {value}, expected a finite number (retrain the model)")]
    NonFinite {
        model: String,
        field: String,
        value: f64,
    },
    #[error("model `{model}` has {found} coefficients for {expected} inputs; the file is damaged (retrain the model)")]
    CoefficientCount {
        model: String,
        expected: usize,
        found: usize,
    },
    #[error("the segmentation model: {0}")]
    Segmentation(String),
    #[error("feature `{feature}` is priced by a job's `[profit]` settings; export it with `--job` (a job with `[profit]`)")]
    NoProfitSettings { feature: String },
    #[error("unknown optional column `{name}` (expected one of {known})")]
    UnknownColumn { name: String, known: String },
    #[error("unknown SQL dialect `{}` (expected {})", .0, Dialect::names())]
    UnknownDialect(String),
}
