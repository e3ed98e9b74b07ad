use std::path::PathBuf;
use std::time::Duration;

use bullseye::ids::IdPolicy;
use bullseye::ingest::{IngestConfig, IngestRequest, TableKind};
use bullseye::run::ledger::LedgerSettings;
use bullseye::run::select::{self as select_run, SelectRequest};
use bullseye::select::render_summary;
use clap::Args;

/// Choose a campaign's audience: eligibility rules, the most profitable customers within the
/// budget and channel capacities, and a seeded control group.
///
/// Writes DIR/audience.csv (rank, customer_id, channel, group, score, expected_value,
/// expected_profit[, segment]), DIR/excluded.csv (customer_id, reason) and DIR/summary.json, and
/// prints the summary; with `[export]` in the campaign file, also the activation files in
/// DIR/export/. DIR is replaced as a whole, in one step; a failure that wrote rejects
/// publishes them as DIR.failed/.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye select --scores scores.csv --config notebooks-data/quickstart.toml \\\n      --campaign notebooks-data/campaigns/spring-email.toml --out out/spring-email"
)]
pub struct SelectArgs {
    /// Scores table (CSV or Parquet): `customer_id` plus the campaign's score columns, and
    /// optionally its value (`value_column`) and segment columns
    #[arg(long, value_name = "FILE")]
    pub scores: PathBuf,
    /// Campaign file (TOML): budget, objective, channels, eligibility, suppression, contact policy
    #[arg(long, value_name = "FILE")]
    pub campaign: PathBuf,
    /// Seed of the control draw (overrides `campaign.seed`)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub audience: AudienceArgs,
}

/// The inputs and output settings `select` and `plan` share.
#[derive(Debug, Args)]
pub struct AudienceArgs {
    /// Customer attributes holding the consent flags (`consent_column`); a scored customer
    /// missing from this table has no consent
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Ingest config; its `[sources.customers]` is used when --customers is not given, and its
    /// `[sources.suppressions]` applies to every campaign
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output folder (replaced as a whole)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Segment column of the scores table to copy into the audience of a campaign without
    /// `[eligibility]` (whose `segment_column` is used otherwise)
    #[arg(long, value_name = "NAME")]
    pub segment_column: Option<String>,
    /// Fail when the customers table, a suppression list or the contact history rejects more
    /// than this share of its rows, or a score column is empty or not finite on more than this
    /// share of the customers [default: 0.01]
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
    /// Write CSV cells as they are: no `'` before text starting with `=`, `+`, `-`, `@` (for
    /// machines; see the README's "Safety")
    #[arg(long)]
    pub raw_csv: bool,
    /// Seconds to wait while another bullseye writes the same --out [default: 0, fail at once]
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// How ids of the scores, customers, suppression and contact files are matched: `text`
    /// (leading zeros and case significant; a suppression entry matching a customer only
    /// without them makes the command refuse) or `numeric` (leading zeros insignificant)
    /// [default: the config's `[ids] policy`, else text]
    #[arg(long, value_enum, value_name = "POLICY")]
    pub id_policy: Option<IdPolicyArg>,
    /// Campaign ledger (SQLite, created when missing): the published audience is recorded in it
    /// and its target contacts count towards every `[contact_policy]`
    #[arg(long, value_name = "FILE", conflicts_with = "no_ledger")]
    pub ledger: Option<PathBuf>,
    /// Record nothing and read no ledger (the default without --ledger)
    #[arg(long)]
    pub no_ledger: bool,
    /// Hold out this share of all customers from every campaign as the ledger's global control
    /// group (stable across runs: a hash of the id and the ledger's salt; `select` and `plan`)
    #[arg(long, value_name = "SHARE", requires = "ledger")]
    pub global_control: Option<f64>,
    /// The previous output folder of the same command, which the `[export]` adds and removes
    /// files compare with (without it: the first export, everyone is an add)
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
}

/// `--id-policy` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IdPolicyArg {
    Text,
    Numeric,
}

impl AudienceArgs {
    /// The ledger settings: --ledger, waiting for another writer as long as --lock-timeout (at
    /// least the ledger's default).
    pub(super) fn ledger(&self) -> Option<LedgerSettings> {
        let path = self.ledger.clone().filter(|_| !self.no_ledger)?;
        Some(LedgerSettings {
            path,
            busy_timeout: Duration::from_secs(self.lock_timeout)
                .max(bullseye::ledger::BUSY_TIMEOUT_DEFAULT),
        })
    }

    /// `--previous`, which must be a folder (a typo would make every customer an add).
    pub(super) fn previous_folder(&self) -> anyhow::Result<Option<PathBuf>> {
        match &self.previous {
            Some(p) if !p.is_dir() => Err(anyhow::anyhow!(
                "`--previous {}`: expected the folder of a previous output, found none",
                p.display()
            )),
            other => Ok(other.clone()),
        }
    }

    /// The ingest request: the config (or the default), the id policy override, the reject
    /// threshold and the customers table.
    pub(super) fn ingest_request(&self) -> anyhow::Result<IngestRequest> {
        let mut config = match &self.config {
            Some(p) => IngestConfig::from_file(p).map_err(bullseye::Error::from)?,
            None => IngestConfig::default(),
        };
        match self.id_policy {
            Some(IdPolicyArg::Text) => config.ids.policy = IdPolicy::Text,
            Some(IdPolicyArg::Numeric) => config.ids.policy = IdPolicy::Numeric,
            None => {}
        }
        let mut ingest = IngestRequest {
            config,
            max_reject_rate: self.max_reject_rate,
            ..IngestRequest::default()
        };
        if let Some(c) = &self.customers {
            ingest.files.insert(TableKind::Customers, c.clone());
        }
        Ok(ingest)
    }
}

pub fn run(args: SelectArgs) -> anyhow::Result<()> {
    let shared = args.audience;
    let previous = shared.previous_folder()?;
    let request = SelectRequest {
        ledger: shared.ledger(),
        global_control: shared.global_control,
        ingest: shared.ingest_request()?,
        scores: args.scores,
        campaign: args.campaign,
        out: shared.out,
        segment_column: shared.segment_column,
        seed: args.seed,
        lock_timeout: Duration::from_secs(shared.lock_timeout),
        cells: super::csv_cells(shared.raw_csv),
        previous,
    };
    let outcome = select_run::select(&request)?;
    eprint!("{}", outcome.warnings);
    print!("{}", render_summary(&outcome.selection.summary));
    for p in &outcome.written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
