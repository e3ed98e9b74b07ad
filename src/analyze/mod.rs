//! Analyses a planner reads before deciding where to spend: penetration (which share of each zip
//! code, age group or income group buys, against the whole base and, with a market size, against
//! the households or population there).
//!
//! `base.rs` turns the canonical customers and transactions tables into one row of facts per
//! customer as of a day (no line after it is read); `bands.rs` cuts numbers into labelled bands;
//! `penetration.rs` is the arithmetic over groups. Files are written by `run::analyze`.

mod bands;
mod base;
mod penetration;

pub use bands::Bands;
pub use base::{Activity, CustomerBase, Dimension, DimensionSource};
pub use penetration::{
    penetration, GroupRow, MarketSize, PenetrationParams, PenetrationTable, Totals, MISSING_GROUP,
    OTHER_GROUP, OVER_INDEX, UNDER_INDEX,
};

use polars::error::PolarsError;

/// What can go wrong in an analysis: the caller's request (exit 2) or a frame we built (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("{name} must be {rule}, found {found}")]
    InvalidParam {
        name: &'static str,
        rule: &'static str,
        found: String,
    },
    #[error("the customers table has no column `{column}` to group by (it has: {available})")]
    NoColumn { column: String, available: String },
    #[error("band edges of `{name}` must be increasing numbers, found `{found}`")]
    BadEdges { name: String, found: String },
    #[error(
        "the market table's key `{key}` names no dimension of `--by` ({by}): \
         add `{key}` to `--by` or map the market table's key to one of them"
    )]
    MarketKeyUnused { key: String, by: String },
    #[error("the market table has `{key}` = `{value}` on two rows: a key must name one market")]
    DuplicateMarketKey { key: String, value: String },
    #[error("market size of `{key}` = `{value}` must be a positive number, found {found}")]
    BadMarketSize {
        key: String,
        value: String,
        found: String,
    },
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

impl AnalyzeError {
    /// Every error but a polars failure on our own frames is the caller's to fix.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, AnalyzeError::Polars(_))
    }
}

#[cfg(test)]
mod tests;
