//! The report layer's error.

use thiserror::Error;

use crate::io::IoError;

/// Everything that can go wrong while building or drawing the report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A frame handed to the builder lacks a column or has the wrong type.
    #[error("{what}: expected a {expected} column `{column}`, {found}")]
    Column {
        /// Which input (`features`, `clv predictions`).
        what: &'static str,
        /// Column name.
        column: String,
        /// Expected type (`numeric`, `text`).
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// The segmentation names a customer the features frame lacks, or the lengths differ.
    #[error("{what}: {message}")]
    Mismatch {
        /// Which input.
        what: &'static str,
        /// What does not match.
        message: String,
    },
    /// plotters failed to draw a chart.
    #[error("cannot draw the `{chart}` chart: {message}")]
    Chart {
        /// Chart id.
        chart: String,
        /// plotters' message.
        message: String,
    },
    /// Reading `report.json` or writing the report's files failed (the io layer's error, whose
    /// exit code it keeps: a missing `report.json` is the caller's, a full disk is not).
    #[error(transparent)]
    Io(#[from] IoError),
    /// `report.json` was written by another layout version.
    #[error("`{path}`: report schema_version {found}, this bullseye reads {expected}")]
    Schema {
        /// File read.
        path: String,
        /// Version this code reads.
        expected: u32,
        /// Version found.
        found: u32,
    },
}
