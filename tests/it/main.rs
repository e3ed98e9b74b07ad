//! One integration-test binary: each module drives one command of the real `bullseye` executable
//! in a temporary folder.

mod analyze;
mod basket;
mod clv;
mod due;
mod export;
mod features;
mod identity;
mod ingest;
mod ledger;
mod models;
mod models_card;
mod models_cv;
mod outputs;
mod pg;
mod pg_server;
mod plan;
mod planner;
mod readme;
mod report;
mod run;
mod safety;
mod segment;
mod select;
mod settings;
mod sql_export;
mod support;
