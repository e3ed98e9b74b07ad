//! The quickstart: every stage that exists, on the bundled data.

use std::path::Path;

use chrono::NaiveDate;

use crate::features::{self, FeatureParams};
use crate::ingest::{self, IngestConfig, IngestRequest, TableKind};
use crate::{io, Error};

/// Runs every stage on the bundled data in `data_dir` (configured by `data_dir/quickstart.toml`)
/// and writes the outputs under `out`. Returns what to print.
pub fn quickstart(data_dir: &Path, out: &Path) -> Result<String, Error> {
    let config = IngestConfig::from_file(&data_dir.join("quickstart.toml"))?;
    let as_of = config
        .ingest
        .as_of
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(1998, 6, 30).unwrap_or_default());
    let request = IngestRequest {
        config,
        ..IngestRequest::default()
    };
    let mut report = String::new();

    let ingest_dir = out.join("ingest");
    let ingested = ingest::run(&request, &ingest_dir)?;
    let summary = ingested.summary();
    report.push_str("== ingest ==\n");
    report.push_str(&summary.render());

    let tx = ingested
        .frame(TableKind::Transactions)
        .ok_or(ingest::IngestError::NoSource {
            table: TableKind::Transactions,
        })?;
    let customers = ingested.frame(TableKind::Customers);
    let mut feats = features::build(tx, customers, as_of, &FeatureParams::default())?;
    let features_path = out.join("features.parquet");
    io::write_table(&features_path, &mut feats)?;
    report.push_str(&format!(
        "== features ==\n{} customers × {} features as of {as_of} → {}\n",
        feats.height(),
        feats.width() - 1,
        features_path.display()
    ));
    Ok(report)
}
