use std::path::PathBuf;

use bullseye::ingest::{IngestConfig, IngestRequest, TableKind};
use bullseye::ledger::{BUSY_TIMEOUT_DEFAULT, DEFAULT_FILE};
use bullseye::run::ledger::{self as ledger_run, LedgerSettings};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

/// The campaign ledger (SQLite): what was sent to whom, and the responses.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    Responses(ResponsesArgs),
    Attribute(AttributeArgs),
    Show(ShowArgs),
    Export(ExportArgs),
}

/// The ledger file.
#[derive(Debug, Args)]
pub struct LedgerFile {
    /// Campaign ledger (SQLite)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub ledger: PathBuf,
}

impl LedgerFile {
    pub(super) fn settings(&self) -> LedgerSettings {
        LedgerSettings {
            path: self.ledger.clone(),
            busy_timeout: BUSY_TIMEOUT_DEFAULT,
        }
    }

    /// Where rejects are written: beside the ledger.
    fn folder(&self) -> PathBuf {
        match self.ledger.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Import responses: `campaign_id, customer_id, response_date[, value]` (CSV or Parquet).
///
/// Importing the same file again replaces its responses. Bad rows go to rejects/responses.csv
/// beside the ledger.
#[derive(Debug, Args)]
pub struct ResponsesArgs {
    /// Responses file
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerFile,
    /// Fail (importing nothing) when more than this share of the rows is rejected
    #[arg(long, value_name = "RATE", default_value_t = 0.01)]
    pub max_reject_rate: f64,
}

/// Attribute responses from the transactions: a purchase by a selected customer (target or
/// control) after the send date and within the campaign's `response_window_days` is a response
/// with that revenue. Recomputed from scratch each time.
#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// Transactions file (ingest's `transactions` table)
    #[arg(long, value_name = "FILE")]
    pub transactions: Option<PathBuf>,
    /// Ingest config; its `[sources.transactions]` is used when --transactions is not given
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerFile,
}

/// List the published sends: campaign, send date, window, group sizes, folder.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub ledger: LedgerFile,
}

/// Write a send's rows as CSV, for audit: who was selected, when, on which channel, in which
/// group, at which rank and score, at what cost, and their responses.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Campaign name
    pub campaign: String,
    /// The send to export [default: the latest]
    #[arg(long, value_name = "DATE")]
    pub send_date: Option<NaiveDate>,
    /// Output CSV [default: standard output]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerFile,
}

pub fn run(args: LedgerArgs) -> anyhow::Result<()> {
    match args.command {
        LedgerCommand::Responses(a) => {
            let done = ledger_run::import_responses(
                &a.ledger.settings(),
                &a.file,
                &a.ledger.folder(),
                a.max_reject_rate,
            )?;
            eprint!("{}", done.warnings);
            println!(
                "imported {} responses ({} rows rejected) into {}",
                done.kept,
                done.rejected,
                a.ledger.ledger.display()
            );
        }
        LedgerCommand::Attribute(a) => {
            let config = match &a.config {
                Some(p) => IngestConfig::from_file(p).map_err(bullseye::Error::from)?,
                None => IngestConfig::default(),
            };
            let mut request = IngestRequest {
                config,
                ..IngestRequest::default()
            };
            if let Some(t) = &a.transactions {
                request.files.insert(TableKind::Transactions, t.clone());
            }
            let mut warnings = String::new();
            let tx = bullseye::run::load_checked(
                &request,
                TableKind::Transactions,
                &a.ledger.folder(),
                &mut warnings,
            )?;
            eprint!("{warnings}");
            let n = ledger_run::attribute_transactions(&a.ledger.settings(), &tx.frame)?;
            println!(
                "attributed {n} responses from the transactions into {}",
                a.ledger.ledger.display()
            );
        }
        LedgerCommand::Show(a) => print!("{}", ledger_run::show(&a.ledger.settings())?),
        LedgerCommand::Export(a) => {
            let today = chrono::Local::now().date_naive();
            let mut df = ledger_run::export(&a.ledger.settings(), &a.campaign, a.send_date, today)?;
            match &a.out {
                Some(p) => {
                    bullseye::io::write_table(p, &mut df).map_err(bullseye::Error::from)?;
                    println!("wrote {}", p.display());
                }
                None => {
                    print!("{}", csv_text(&mut df)?);
                }
            }
        }
    }
    Ok(())
}

/// The frame as CSV text.
fn csv_text(df: &mut polars::prelude::DataFrame) -> anyhow::Result<String> {
    use polars::prelude::{CsvWriter, SerWriter};
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf).finish(df)?;
    Ok(String::from_utf8(buf)?)
}
