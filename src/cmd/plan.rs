use std::path::PathBuf;
use std::time::Duration;

use bullseye::plan::render_plan;
use bullseye::run::plan::{self as plan_run, PlanRequest};
use clap::Args;

use super::select::AudienceArgs;

/// Plan several campaigns jointly: no customer over the policy's contact caps, no conflicting
/// campaigns sent to the same customer, shared budgets and capacities respected, and no member
/// of any campaign's control group contacted by any campaign.
///
/// Writes DIR/<campaign>/audience.csv, excluded.csv and summary.json exactly as `select` does,
/// plus DIR/plan.json (per-campaign figures, objective, certified upper bound and gap, every
/// limit with its shadow price), and prints the plan summary. DIR is replaced as a whole.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye plan --scores scores.csv --config notebooks-data/quickstart.toml \\\n      --campaign notebooks-data/campaigns/spring-email.toml \\\n      --campaign notebooks-data/campaigns/email-and-mail.toml --out out/plan"
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
    #[command(flatten)]
    pub audience: AudienceArgs,
}

pub fn run(args: PlanArgs) -> anyhow::Result<()> {
    let shared = args.audience;
    let previous = shared.previous_folder()?;
    let request = PlanRequest {
        ledger: shared.ledger(),
        global_control: shared.global_control,
        ingest: shared.ingest_request()?,
        scores: args.scores,
        campaigns: args.campaign,
        policy: args.policy,
        out: shared.out,
        segment_column: shared.segment_column,
        lock_timeout: Duration::from_secs(shared.lock_timeout),
        cells: super::csv_cells(shared.raw_csv),
        previous,
    };
    let outcome = plan_run::plan(&request)?;
    eprint!("{}", outcome.warnings);
    print!("{}", render_plan(&outcome.plan.summary));
    for p in &outcome.written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
