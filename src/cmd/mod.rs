//! Command-line arguments (clap derive) and their dispatch: one file per subcommand, each turning
//! its flags into library types and calling the library. Library signatures never mention clap.

mod clv;
mod features;
mod ingest;
mod inputs;
mod quickstart;

use clap::{Parser, Subcommand};

/// Campaign targeting and predictive response: features, segments, models and budgeted audiences
/// from a customer database.
#[derive(Debug, Parser)]
#[command(name = "bullseye", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Ingest(ingest::IngestArgs),
    Features(features::FeaturesArgs),
    Quickstart(quickstart::QuickstartArgs),
    Clv(clv::ClvArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args),
        Command::Features(args) => features::run(args),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Clv(args) => clv::run(args),
    }
}
