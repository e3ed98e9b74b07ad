use std::path::{Path, PathBuf};

use bullseye::clv::{FitParams, DEFAULT_ALIVE_THRESHOLD};
use bullseye::features::TimeUnit;
use bullseye::ingest::TableKind;
use bullseye::run::clv::{self as clv_run, ClvArtifact, PredictParams};
use bullseye::run::settings::check_clv;
use bullseye::run::Via;
use bullseye::{io, run};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::inputs::TableInputs;

/// Customer lifetime value: BG/NBD + Gamma-Gamma fit, predictions, holdout evaluation.
#[derive(Debug, Args)]
pub struct ClvArgs {
    #[command(subcommand)]
    pub command: ClvCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClvCommand {
    Fit(FitArgs),
    Predict(PredictArgs),
    Evaluate(EvaluateArgs),
}

/// Fit BG/NBD (purchases, dropout) and Gamma-Gamma (spend) on the history up to a date.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye clv fit --config notebooks-data/quickstart.toml --as-of 1997-09-30 --time-unit weeks --out models/clv/cdnow"
)]
pub struct FitArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// End of the calibration period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// Time unit of the model (recency, T, horizons)
    #[arg(long, value_name = "UNIT", default_value = "weeks")]
    pub time_unit: String,
    /// L2 penalty on the log-parameters (as lifetimes' penalizer_coef)
    #[arg(long, value_name = "X", default_value_t = 0.0)]
    pub penalizer: f64,
    /// Model folder (`model.json` is written there)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Per customer: P(alive), expected purchases, expected spend per purchase, CLV, next purchase date.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye clv predict --model models/clv/cdnow --config notebooks-data/quickstart.toml --as-of 1997-09-30 --horizon 39 --out clv.csv"
)]
pub struct PredictArgs {
    /// Model folder written by `clv fit`
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    #[command(flatten)]
    pub inputs: TableInputs,
    /// Score the history up to this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// Horizon of `expected_purchases`, in the model's time unit
    #[arg(long, value_name = "N")]
    pub horizon: f64,
    /// Months of discounted CLV
    #[arg(long, value_name = "M", default_value_t = 12)]
    pub clv_months: u32,
    /// Monthly discount rate of the CLV
    #[arg(long, value_name = "D", default_value_t = 0.01)]
    pub discount_rate: f64,
    /// `next_purchase_date` is left blank below this P(alive)
    #[arg(long, value_name = "P", default_value_t = DEFAULT_ALIVE_THRESHOLD)]
    pub alive_threshold: f64,
    /// Output file (.csv or .parquet)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Holdout report: predicted vs actual repeat purchases between two dates.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  bullseye clv evaluate --model models/clv/cdnow --config notebooks-data/quickstart.toml --calibration-end 1997-09-30 --holdout-end 1998-06-30"
)]
pub struct EvaluateArgs {
    /// Model folder written by `clv fit`
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    #[command(flatten)]
    pub inputs: TableInputs,
    /// End of the calibration period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub calibration_end: NaiveDate,
    /// End of the holdout period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub holdout_end: NaiveDate,
    /// Also write the report as JSON
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Loads the transactions; rejects (if any) go to `rejects_dir/rejects/transactions.csv`.
fn load_transactions(
    inputs: &TableInputs,
    rejects_dir: &Path,
) -> anyhow::Result<polars::prelude::DataFrame> {
    let request = inputs.request()?;
    let mut warnings = String::new();
    let v = run::load_checked(
        &request,
        TableKind::Transactions,
        rejects_dir,
        &mut warnings,
    )?;
    eprint!("{warnings}");
    Ok(v.frame)
}

fn load_model(dir: &Path) -> anyhow::Result<ClvArtifact> {
    Ok(clv_run::load_model(dir)?)
}

pub fn run(args: ClvArgs) -> anyhow::Result<()> {
    match args.command {
        ClvCommand::Fit(a) => {
            let tx = load_transactions(&a.inputs, &a.out)?;
            let unit = TimeUnit::parse(&a.time_unit).map_err(bullseye::Error::from)?;
            let params = FitParams {
                penalizer: a.penalizer,
                ..FitParams::default()
            };
            let artifact = clv_run::fit((&tx).into(), a.as_of, unit, &params)?;
            let path = a.out.join("model.json");
            clv_run::save_model(&a.out, &artifact)?;
            print!("{}", clv_run::render_fit(&artifact));
            println!("wrote {}", path.display());
        }
        ClvCommand::Predict(a) => {
            let params = PredictParams {
                horizon: a.horizon,
                clv_months: a.clv_months,
                monthly_discount_rate: a.discount_rate,
                alive_threshold: a.alive_threshold,
            };
            check_clv(&params, Via::Flags).map_err(bullseye::Error::from)?;
            let artifact = load_model(&a.model)?;
            let tx = load_transactions(&a.inputs, a.out.parent().unwrap_or(Path::new(".")))?;
            let mut df = clv_run::predict(&artifact, (&tx).into(), a.as_of, &params)?;
            io::write_table(&a.out, &mut df).map_err(bullseye::Error::from)?;
            println!("wrote {} customers to {}", df.height(), a.out.display());
        }
        ClvCommand::Evaluate(a) => {
            let artifact = load_model(&a.model)?;
            let tx = load_transactions(&a.inputs, &a.model)?;
            let report = clv_run::evaluate(&artifact, &tx, a.calibration_end, a.holdout_end)?;
            print!("{}", clv_run::render_holdout(&report));
            if let Some(out) = &a.out {
                io::write_json_atomic(out, &report).map_err(bullseye::Error::from)?;
                println!("wrote {}", out.display());
            }
        }
    }
    Ok(())
}
