use std::path::PathBuf;
use std::time::Duration;

use bullseye::plan::render_plan;
use bullseye::run::plan::{self as plan_run, PlanRequest};
use clap::Args;

use super::select::{ingest_request, IdPolicyArg};

/// Plan several campaigns jointly: no customer over the policy's contact caps, no conflicting
/// campaigns sent to the same customer, shared budgets and capacities respected, and no member
/// of any campaign's control group contacted by any campaign.
///
/// Writes DIR/<campaign>/audience.csv, excluded.csv and summary.json exactly as `select` does,
/// plus DIR/plan.json (per-campaign figures, objective, certified upper bound and gap, every
/// limit with its shadow price), and prints the plan summary. DIR is replaced as a whole.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye plan --scores scores.csv --config notebooks-data/quickstart.toml \\\n      --campaign notebooks-data/campaigns/spring-email.toml \\\n      --campaign notebooks-data/campaigns/winback-direct-mail.toml --out out/plan"
)]
pub struct PlanArgs {
    /// Scores table (CSV or Parquet) shared by every campaign: `customer_id` plus each
    /// campaign's score, value and segment columns
    #[arg(long, value_name = "FILE")]
    pub scores: PathBuf,
    /// Campaign file (TOML), once per campaign, in priority order (used by the sequential
    /// comparison only)
    #[arg(long, value_name = "FILE", required = true)]
    pub campaign: Vec<PathBuf>,
    /// Policy file (TOML, `[policy]`): contact caps, conflicts, shared limits [default: at most
    /// one contact per customer]
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Customer attributes holding the consent flags, as for `select`
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Ingest config; its `[sources.customers]` and `[sources.suppressions]` are used as for
    /// `select`
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output folder
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Segment column of the scores table to copy into the audiences of campaigns without
    /// `[eligibility]`
    #[arg(long, value_name = "NAME")]
    pub segment_column: Option<String>,
    /// Reject threshold, as for `select` [default: 0.01]
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
    /// Write CSV cells as they are (see `select --raw-csv`)
    #[arg(long)]
    pub raw_csv: bool,
    /// Seconds to wait while another bullseye writes the same --out [default: 0, fail at once]
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// How ids are matched, as for `select` [default: the config's `[ids] policy`, else text]
    #[arg(long, value_enum, value_name = "POLICY")]
    pub id_policy: Option<IdPolicyArg>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<()> {
    let ingest = ingest_request(
        args.config.as_ref(),
        args.id_policy,
        args.max_reject_rate,
        args.customers.as_ref(),
    )?;
    let request = PlanRequest {
        scores: args.scores,
        campaigns: args.campaign,
        policy: args.policy,
        ingest,
        out: args.out,
        segment_column: args.segment_column,
        lock_timeout: Duration::from_secs(args.lock_timeout),
        cells: super::csv_cells(args.raw_csv),
    };
    let outcome = plan_run::plan(&request)?;
    eprint!("{}", outcome.warnings);
    print!("{}", render_plan(&outcome.plan.summary));
    for p in &outcome.written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
