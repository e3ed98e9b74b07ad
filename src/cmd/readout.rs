use std::path::PathBuf;

use bullseye::ledger::LedgerGroup;
use bullseye::readout::render;
use bullseye::run::ledger as ledger_run;
use chrono::NaiveDate;
use clap::Args;

use super::ledger::LedgerFile;

/// Measure a campaign: target against control — response rate, revenue per customer, the
/// incremental responders, revenue, profit and ROI with 95% intervals, a sample-ratio check,
/// the same by score decile and segment.
///
/// Warns while the response window is still open. Writes DIR/readout.json with --out.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  bullseye readout spring-email --ledger out/bullseye.db --as-of 2026-02-01 --out readout\n  \
    bullseye readout --global --from 2026-01-01 --as-of 2026-03-01 --ledger out/bullseye.db"
)]
pub struct ReadoutArgs {
    /// Campaign name (`[campaign] name`); without it, `--global` reads out all campaigns
    #[arg(required_unless_present = "global")]
    pub campaign: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerFile,
    /// The day of the readout [default: today]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// The send to read out [default: the latest on or before --as-of]
    #[arg(long, value_name = "DATE")]
    pub send_date: Option<NaiveDate>,
    /// Folder for readout.json
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Compare the target with the global control group (`[ledger] global_control`, customers
    /// no campaign contacts) instead of the campaign's own control; without CAMPAIGN, every
    /// campaign's targets of the sends from --from to --as-of, pooled
    #[arg(long)]
    pub global: bool,
    /// With --global and no CAMPAIGN: the first send date of the period [default: the first send]
    #[arg(long, value_name = "DATE", requires = "global", conflicts_with_all = ["campaign", "send_date"])]
    pub from: Option<NaiveDate>,
}

pub fn run(args: ReadoutArgs) -> anyhow::Result<()> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let held_out = if args.global {
        LedgerGroup::GlobalControl
    } else {
        LedgerGroup::Control
    };
    let settings = args.ledger.settings();
    let r = match &args.campaign {
        Some(campaign) => {
            ledger_run::readout(&settings, campaign, args.send_date, as_of, held_out)?
        }
        None => ledger_run::global_readout(&settings, args.from, as_of)?,
    };
    print!("{}", render(&r));
    if let Some(dir) = &args.out {
        let path = dir.join("readout.json");
        std::fs::create_dir_all(dir)?;
        bullseye::io::write_json_atomic(&path, &r).map_err(bullseye::Error::from)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
