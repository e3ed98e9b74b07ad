use std::path::PathBuf;

use bullseye::ingest::{IngestRequest, TableKind};
use bullseye::run::RunError;
use chrono::NaiveDate;
use clap::Args;

use super::inputs::TableInputs;

/// Read, validate and store the canonical tables (transactions, customers, contacts,
/// suppressions) as Parquet, with every bad row in `OUT/rejects/<table>.csv`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye ingest --config notebooks-data/quickstart.toml --out out/ingest\n  \
    bullseye ingest --transactions orders.csv --customers customers.csv --as-of 2026-11-22 --out out/ingest"
)]
pub struct IngestArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// Campaign history: who was contacted when, and who responded
    #[arg(long, value_name = "FILE")]
    pub contacts: Option<PathBuf>,
    /// Do-not-contact list
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Reject rows dated after this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output folder
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl IngestArgs {
    /// The library request these flags describe.
    pub fn request(&self) -> anyhow::Result<IngestRequest> {
        let mut request = self.inputs.request()?;
        for (table, path) in [
            (TableKind::Contacts, &self.contacts),
            (TableKind::Suppressions, &self.suppressions),
        ] {
            if let Some(p) = path {
                request.files.insert(table, p.clone());
            }
        }
        request.as_of = self.as_of;
        if request.tables().is_empty() {
            return Err(bullseye::Error::from(RunError::missing(
                "nothing to ingest",
                "give at least `--transactions FILE` or a config with [sources.*] paths",
            ))
            .into());
        }
        Ok(request)
    }
}

pub fn run(args: IngestArgs) -> anyhow::Result<()> {
    let request = args.request()?;
    let ingested = bullseye::ingest::run(&request, &args.out).map_err(bullseye::Error::from)?;
    print!("{}", ingested.summary().render());
    println!("wrote {}", args.out.display());
    Ok(())
}
