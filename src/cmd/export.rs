use std::path::PathBuf;

use bullseye::features::TimeUnit;
use bullseye::io;
use bullseye::models::artifact::kind_name;
use bullseye::run::models as m;
use bullseye::run::segment as seg;
use bullseye::segment::SegmentScheme;
use bullseye::sql::{self, Dialect, SqlError};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

/// Export the fitted pipeline to run elsewhere.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportKind,
}

#[derive(Debug, Subcommand)]
pub enum ExportKind {
    Sql(SqlArgs),
}

/// One SQL query from the canonical transactions table to one row per customer: the features the
/// models use, each model's score, the k-means cluster, the RFM scores and segment — the numbers
/// `bullseye features`, `score` and `segment` give.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    bullseye export sql --model out/models/response --segments out/segments --dialect spark --as-of 1998-06-30 --out score.sql")]
pub struct SqlArgs {
    /// A logistic model folder (with model.json), KIND (the production version in the registry)
    /// or KIND/VERSION; repeat for several models
    #[arg(long, value_name = "DIR|KIND")]
    pub model: Vec<String>,
    /// A segmentation saved by `bullseye segment --save-model DIR`: adds the k-means cluster
    #[arg(long, value_name = "DIR")]
    pub segments: Option<PathBuf>,
    /// spark, postgres, duckdb, bigquery or snowflake
    #[arg(long, value_name = "ENGINE")]
    pub dialect: String,
    /// The as-of day written into the query's `params` (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// Unit of the btyd durations the models were trained with
    #[arg(long, value_name = "UNIT", default_value = "days")]
    pub time_unit: String,
    /// The transactions table as the engine names it (e.g. `shop.transactions`)
    #[arg(long, value_name = "NAME", default_value = "transactions")]
    pub transactions: String,
    /// Model registry root
    #[arg(long, value_name = "DIR", default_value = m::DEFAULT_REGISTRY)]
    pub registry: PathBuf,
    /// Output file (written atomically)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let ExportKind::Sql(args) = args.what;
    let dialect = Dialect::parse(&args.dialect)
        .ok_or_else(|| bullseye::Error::from(SqlError::UnknownDialect(args.dialect.clone())))?;
    let time_unit = TimeUnit::parse(&args.time_unit).map_err(bullseye::Error::from)?;
    let artifacts = args
        .model
        .iter()
        .map(|spec| m::load(&m::resolve_model(spec, &args.registry)?))
        .collect::<Result<Vec<_>, bullseye::Error>>()?;
    let segmentation = args.segments.as_deref().map(seg::read_model).transpose()?;
    let scheme = SegmentScheme::default();
    let query = sql::export(&sql::Export {
        dialect,
        as_of: args.as_of,
        time_unit,
        transactions: &args.transactions,
        models: artifacts
            .iter()
            .map(|a| (kind_name(a.kind).to_string(), a))
            .collect(),
        segmentation: segmentation.as_ref(),
        scheme: &scheme,
    })
    .map_err(bullseye::Error::from)?;
    io::write_string_atomic(&args.out, &query).map_err(bullseye::Error::from)?;
    println!("wrote {} ({dialect})", args.out.display());
    Ok(())
}
