use std::path::{Path, PathBuf};

use bullseye::features::profit::ProfitParams;
use bullseye::features::TimeUnit;
use bullseye::io;
use bullseye::models::artifact::kind_name;
use bullseye::run::job::{Job, JobModel};
use bullseye::run::models as m;
use bullseye::run::segment as seg;
use bullseye::run::RunError;
use bullseye::segment::SegmentScheme;
use bullseye::sql::{self, Dialect, SqlError, TableColumns};
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
    /// A job file: its as-of day, the models its score stage uses (those its run trained, else
    /// the registry's) and the segmentation and segment scheme of its run folder
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "segments"])]
    pub job: Option<PathBuf>,
    /// With --job: the folder its runs are in, when `bullseye run --out DIR` put them there
    /// [default: the job's `out`]
    #[arg(long, value_name = "DIR", requires = "job")]
    pub runs: Option<PathBuf>,
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
    /// The as-of day written into the query's `params` (YYYY-MM-DD) [--job: the job's]
    #[arg(long, value_name = "DATE", required_unless_present = "job")]
    pub as_of: Option<NaiveDate>,
    /// Unit of the btyd durations the models were trained with
    #[arg(long, value_name = "UNIT", default_value = "days")]
    pub time_unit: String,
    /// The transactions table as the engine names it (e.g. `shop.transactions`)
    #[arg(long, value_name = "NAME", default_value = "transactions")]
    pub transactions: String,
    /// The customers table as the engine names it (read when the models use customer attributes)
    #[arg(long, value_name = "NAME", default_value = "customers")]
    pub customers: String,
    /// The contacts table as the engine names it (read for the `profit` family's contact costs)
    #[arg(long, value_name = "NAME", default_value = "contacts")]
    pub contacts: String,
    /// The product cost table (product_id, unit_cost) as the engine names it (read for the
    /// `profit` family when the job sets `[profit] product_costs`)
    #[arg(long, value_name = "NAME", default_value = "product_costs")]
    pub product_costs: String,
    /// The optional columns the tables have, which the `profit` family prices by: any of
    /// quantity, unit_cost, category, product_id (transactions) and contacts.cost [--job: also
    /// those its transactions source maps]
    #[arg(long, value_name = "LIST", default_value = "")]
    pub columns: String,
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
    let mut columns = TableColumns::parse(&args.columns).map_err(bullseye::Error::from)?;
    let inputs = match &args.job {
        Some(job) => from_job(job, args.as_of, args.runs.as_deref())?,
        None => Inputs {
            as_of: args
                .as_of
                .ok_or_else(|| anyhow::anyhow!("--as-of is required"))?,
            models: args
                .model
                .iter()
                .map(|spec| m::resolve_model(spec, &args.registry))
                .collect::<Result<_, _>>()?,
            segments: args.segments.clone(),
            scheme: SegmentScheme::default(),
            profit: None,
            mapped: Vec::new(),
        },
    };
    for name in &inputs.mapped {
        // A mapped column the pricing does not read (e.g. `amount`) is not an optional one.
        let _ = columns.add(name);
    }
    let artifacts = inputs
        .models
        .iter()
        .map(|dir| m::load(dir))
        .collect::<Result<Vec<_>, bullseye::Error>>()?;
    let segmentation = inputs
        .segments
        .as_deref()
        .map(seg::read_model)
        .transpose()?;
    let scheme = inputs.scheme;
    let levels = m::feature_levels(&inputs.models)?;
    let query = sql::export(&sql::Export {
        dialect,
        as_of: inputs.as_of,
        time_unit,
        transactions: &args.transactions,
        customers: &args.customers,
        contacts: &args.contacts,
        product_costs: &args.product_costs,
        columns: &columns,
        profit: inputs.profit.as_ref(),
        levels: &levels,
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

/// What a query is exported from.
struct Inputs {
    as_of: NaiveDate,
    /// Model folders.
    models: Vec<PathBuf>,
    /// A segmentation folder.
    segments: Option<PathBuf>,
    scheme: SegmentScheme,
    /// The job's `[profit]` settings.
    profit: Option<ProfitParams>,
    /// The canonical columns the job's transactions source maps.
    mapped: Vec<String>,
}

/// A job's models, segmentation and scheme: from its run folder for `as_of` (in `runs`, else
/// the job's `out`; the job's own
/// as-of day by default) where that run trained or fitted them, else the registry's production
/// models of the kinds it scores.
fn from_job(
    path: &Path,
    as_of: Option<NaiveDate>,
    runs: Option<&Path>,
) -> Result<Inputs, bullseye::Error> {
    let job = Job::from_file(path)?;
    let config = &job.config;
    let as_of = as_of.or(config.job.as_of).ok_or_else(|| {
        bullseye::Error::from(RunError::missing(
            "no as-of day",
            "give `--as-of` or `as_of` in the job's `[job]` table",
        ))
    })?;
    let run_dir = runs
        .unwrap_or(&config.job.out)
        .join(as_of.format("%Y-%m-%d").to_string());
    let kinds = config
        .models
        .score
        .clone()
        .unwrap_or_else(|| config.train.models.clone());
    let mut models = Vec::new();
    for kind in kinds {
        let trained = run_dir.join("models").join(kind.name());
        let spec = match kind {
            JobModel::Response => config.models.response.clone(),
            JobModel::Churn => config.models.churn.clone(),
        };
        models.push(if trained.join("model.json").is_file() {
            trained
        } else {
            m::resolve_model(
                spec.as_deref().unwrap_or(kind.name()),
                &config.models.registry,
            )?
        });
    }
    let segments = run_dir.join("models/segments");
    let scheme = match &config.segment.scheme {
        Some(p) => seg::read_scheme(p)?,
        None => SegmentScheme::default(),
    };
    Ok(Inputs {
        as_of,
        models,
        segments: segments.join("model.json").is_file().then_some(segments),
        scheme,
        profit: config.profit.clone(),
        mapped: job
            .ingest
            .sources
            .get("transactions")
            .map(|s| s.columns.keys().cloned().collect())
            .unwrap_or_default(),
    })
}
