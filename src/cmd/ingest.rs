use std::collections::BTreeMap;
use std::path::PathBuf;

use bullseye::ingest::{IngestConfig, IngestRequest, TableKind};
use chrono::NaiveDate;
use clap::Args;

/// Read, validate and store the canonical tables (transactions, customers, contacts,
/// suppressions) as Parquet, with every bad row in `OUT/rejects/<table>.csv`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye ingest --config notebooks-data/cdnow.toml --out out/ingest\n  \
    bullseye ingest --transactions orders.csv --customers customers.csv --as-of 2026-11-22 --out out/ingest"
)]
pub struct IngestArgs {
    /// Purchase history (CSV or Parquet; overrides the config's path)
    #[arg(long, value_name = "FILE")]
    pub transactions: Option<PathBuf>,
    /// Customer attributes and consent flags
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Campaign history: who was contacted when, and who responded
    #[arg(long, value_name = "FILE")]
    pub contacts: Option<PathBuf>,
    /// Do-not-contact list
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// TOML file mapping sources to the canonical tables (see README)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Reject rows dated after this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Fail (exit code 2) when a table rejects more than this share of its rows [default: 0.01]
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
    /// Output folder
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl IngestArgs {
    /// The library request these flags describe.
    pub fn request(&self) -> anyhow::Result<IngestRequest> {
        let config = match &self.config {
            Some(p) => IngestConfig::from_file(p).map_err(bullseye::Error::from)?,
            None => IngestConfig::default(),
        };
        let mut files = BTreeMap::new();
        for (table, path) in [
            (TableKind::Transactions, &self.transactions),
            (TableKind::Customers, &self.customers),
            (TableKind::Contacts, &self.contacts),
            (TableKind::Suppressions, &self.suppressions),
        ] {
            if let Some(p) = path {
                files.insert(table, p.clone());
            }
        }
        let request = IngestRequest {
            config,
            files,
            as_of: self.as_of,
            max_reject_rate: self.max_reject_rate,
        };
        if request.tables().is_empty() {
            return Err(bullseye::Error::Usage(
                "nothing to ingest: give at least `--transactions FILE` or a config with [sources.*] paths".into(),
            )
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
