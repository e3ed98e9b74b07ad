//! Input flags shared by the commands that read the canonical tables.

use std::path::PathBuf;

use bullseye::ingest::{IngestConfig, IngestRequest, TableKind};
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct TableInputs {
    /// Purchase history (CSV or Parquet; overrides the config's path)
    #[arg(long, value_name = "FILE")]
    pub transactions: Option<PathBuf>,
    /// Customer attributes (enables the `attributes` features)
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Ingest config mapping the sources (see `bullseye ingest --help`)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Fail when a table rejects more than this share of its rows [default: 0.01]
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
}

impl TableInputs {
    /// The ingest request these flags describe (tables named on the command line override the
    /// config's paths).
    pub fn request(&self) -> anyhow::Result<IngestRequest> {
        let config = match &self.config {
            Some(p) => IngestConfig::from_file(p).map_err(bullseye::Error::from)?,
            None => IngestConfig::default(),
        };
        let mut request = IngestRequest {
            config,
            max_reject_rate: self.max_reject_rate,
            ..IngestRequest::default()
        };
        if let Some(t) = &self.transactions {
            request.files.insert(TableKind::Transactions, t.clone());
        }
        if let Some(c) = &self.customers {
            request.files.insert(TableKind::Customers, c.clone());
        }
        Ok(request)
    }
}
