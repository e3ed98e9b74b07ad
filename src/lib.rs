//! Bullseye: a campaign-targeting and predictive-response engine.
//!
//! The library is a pipeline of stages, each a module with a typed input and output:
//! `ingest` (files → validated canonical tables), `features` (tables → one numeric row per
//! customer as of a date), then segments, models, CLV, scoring, selection and the run report
//! (`report`), the joint `plan`, the campaign `ledger` and its `readout`, market `basket`s and
//! the planner's analyses (`analyze`: penetration).
//! `io` holds the file plumbing (atomic writes); `run` strings stages together for the commands,
//! and `run::job` is `bullseye run JOB.toml`. The stages take values and return values; only
//! `ingest` (sources), `io`, `ledger` (its SQLite file), `run`, `basket::run` and the report's
//! file helpers touch the file system. See ARCHITECTURE.md for the map.

pub mod analyze;
pub mod basket;
pub mod clv;
pub mod error;
pub mod export;
pub mod features;
pub mod identity;
pub mod ids;
pub mod ingest;
pub mod io;
pub mod ledger;
pub mod models;
mod parallel;
pub mod plan;
pub mod readout;
pub mod report;
pub mod run;
pub mod segment;
pub mod select;
pub mod sql;
pub mod types;

pub use error::Error;
