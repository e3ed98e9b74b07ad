use std::path::PathBuf;

use bullseye::ingest::{IngestConfig, IngestRequest};
use clap::{Args, Subcommand};

/// The customers table's identities: which records are one person (README "Identities").
#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(subcommand)]
    pub command: CustomersCommand,
}

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    Dedupe(DedupeArgs),
}

/// Print how many customer records `[identity]` merges, per rule, and write the merge map
/// (old_id, surviving_id, rule: ids only, never an address or a number).
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye customers dedupe --config planner.toml --out merge_map.csv"
)]
pub struct DedupeArgs {
    /// Ingest config with `[sources.customers]` and `[identity]`
    #[arg(long, value_name = "CONFIG")]
    pub config: PathBuf,
    /// Where the merge map goes (CSV or Parquet by extension)
    #[arg(long, value_name = "FILE", default_value = "merge_map.csv")]
    pub out: PathBuf,
}

pub fn run(args: CustomersArgs) -> anyhow::Result<()> {
    let CustomersCommand::Dedupe(args) = args.command;
    let request = IngestRequest {
        config: IngestConfig::from_file(&args.config).map_err(bullseye::Error::from)?,
        ..IngestRequest::default()
    };
    let map = bullseye::run::identity::dedupe(&request)?;
    let counts = map.counts();
    println!("{} customer records merged into another id", map.len());
    for (rule, n) in &counts {
        println!("  {rule:<14} {n}");
    }
    let mut frame = map
        .frame()
        .map_err(|e| anyhow::anyhow!("the merge map: {e}"))?;
    bullseye::io::write_table(&args.out, &mut frame).map_err(bullseye::Error::from)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
