//! Command-line arguments (clap derive) and their dispatch: one file per subcommand, each turning
//! its flags into library types and calling the library. Library signatures never mention clap.

mod analyze;
mod basket;
mod clv;
mod customers;
mod due;
mod export;
mod features;
mod ingest;
mod inputs;
mod ledger;
mod models;
mod plan;
mod quickstart;
mod readout;
mod report;
mod run;
mod score;
mod segment;
mod select;
mod train;

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
    Run(run::RunArgs),
    Segment(segment::SegmentArgs),
    // Boxed: by far the largest arguments (clippy::large_enum_variant).
    Train(Box<train::TrainArgs>),
    Score(score::ScoreArgs),
    Models(models::ModelsArgs),
    Clv(clv::ClvArgs),
    Customers(customers::CustomersArgs),
    Select(select::SelectArgs),
    Plan(plan::PlanArgs),
    Report(report::ReportArgs),
    Basket(Box<basket::BasketArgs>),
    Ledger(ledger::LedgerArgs),
    Readout(readout::ReadoutArgs),
    Analyze(analyze::AnalyzeArgs),
    Export(export::ExportArgs),
}

impl Cli {
    /// Whether errors are reported as JSON lines (`run --log-format json`): a scheduler reading
    /// the log then parses every line, the error included.
    pub fn json_errors(&self) -> bool {
        matches!(&self.command, Command::Run(a) if a.log_format == run::LogFormat::Json)
    }
}

/// The CSV cell policy of a command's `--raw-csv` flag.
fn csv_cells(raw: bool) -> bullseye::io::CsvCells {
    if raw {
        bullseye::io::CsvCells::Raw
    } else {
        bullseye::io::CsvCells::SpreadsheetSafe
    }
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Features(args) => features::run(args),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Run(args) => run::run(args),
        Command::Segment(args) => segment::run(args),
        Command::Train(args) => train::run(*args),
        Command::Score(args) => score::run(args),
        Command::Models(args) => models::run(args),
        Command::Clv(args) => clv::run(args),
        Command::Customers(args) => customers::run(args),
        Command::Select(args) => select::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Report(args) => report::run(args),
        Command::Basket(args) => basket::run(*args),
        Command::Ledger(args) => ledger::run(args),
        Command::Readout(args) => readout::run(args),
        Command::Export(args) => export::run(args),
    }
}
