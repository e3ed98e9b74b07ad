use std::path::PathBuf;

use bullseye::features::{self, Family, FeatureParams, TimeUnit};
use bullseye::run::settings::check_level_cap;
use bullseye::run::{RunError, Via};
use chrono::NaiveDate;
use clap::Args;

use super::inputs::TableInputs;

/// Build one row of features per customer as of a date (only data up to that day counts).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  bullseye features --list\n  \
    bullseye features --config notebooks-data/quickstart.toml --as-of 1997-09-30 --time-unit weeks --out features.parquet\n  \
    bullseye features --transactions orders.csv --customers customers.csv --as-of 2026-11-22 --families rfm,btyd --out features.csv")]
pub struct FeaturesArgs {
    /// Print every feature's name, unit and definition, and exit
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub inputs: TableInputs,
    /// The observation ends at the end of this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", required_unless_present = "list")]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_name = "LIST", value_delimiter = ',', help = Family::help())]
    pub families: Option<Vec<String>>,
    /// Unit of the btyd durations
    #[arg(long, value_name = "UNIT", default_value = "days")]
    pub time_unit: String,
    /// Most levels kept per categorical column (the rest pooled as `other`)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub level_cap: usize,
    /// Customer columns kept out of the features, besides the personal data (names, e-mails,
    /// phones, addresses, free text) always left out
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Output file (.csv or .parquet)
    #[arg(long, value_name = "FILE", required_unless_present = "list")]
    pub out: Option<PathBuf>,
}

pub fn run(args: FeaturesArgs) -> anyhow::Result<()> {
    if args.list {
        print!("{}", features::render_catalog());
        return Ok(());
    }
    let (Some(as_of), Some(out)) = (args.as_of, args.out.clone()) else {
        return Err(bullseye::Error::from(RunError::missing(
            "`--as-of DATE` and `--out FILE` are required",
            "give both, or `--list`",
        ))
        .into());
    };
    check_level_cap(args.level_cap, Via::Flags).map_err(bullseye::Error::from)?;
    let request = args.inputs.request()?;
    let families = args
        .families
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|f| Family::parse(f))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(bullseye::Error::from)?;
    let params = FeatureParams {
        families,
        time_unit: TimeUnit::parse(&args.time_unit).map_err(bullseye::Error::from)?,
        level_cap: args.level_cap,
        exclude: args.exclude.clone(),
        ..FeatureParams::default()
    };
    let built = bullseye::run::features(&request, as_of, &params, &out)?;
    eprint!("{}", built.warnings);
    println!(
        "wrote {} customers × {} features as of {as_of} to {}",
        built.rows,
        built.columns,
        out.display()
    );
    Ok(())
}
