use std::path::PathBuf;

use bullseye::io;
use bullseye::run::models as m;
use bullseye::run::RunError;
use clap::Args;

/// Score a table with a saved model: one row per input row with its id (or `row`) and `score`
/// = P(label = 1) (uplift models: the uplift, plus p_treated and p_control); prints the largest
/// PSI drifts against the training data.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye features --config notebooks-data/quickstart.toml --as-of 1998-06-30 --out features.csv\n  \
    bullseye score --model response --features features.csv --out scores.csv\n  \
    bullseye score --model models/churn/v0001 --features features.parquet --out churn.parquet --drift-out drift.json")]
pub struct ScoreArgs {
    /// A model folder (with model.json), KIND (the production version in the registry) or KIND/VERSION
    #[arg(long, value_name = "DIR|KIND")]
    pub model: String,
    /// Feature table written by `bullseye features` (id column customer_id)
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "table",
        required_unless_present = "table"
    )]
    pub features: Option<PathBuf>,
    /// Any table holding the model's input columns (found by name; extra columns are ignored)
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// Id column copied to the output [--features: customer_id; --table: a 0-based `row`]
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
    /// A categorical level the model never saw is an error (else it counts as `other`)
    #[arg(long)]
    pub strict: bool,
    /// Model registry root
    #[arg(long, value_name = "DIR", default_value = m::DEFAULT_REGISTRY)]
    pub registry: PathBuf,
    /// Also write the PSI of every input and of the score as JSON
    #[arg(long, value_name = "FILE")]
    pub drift_out: Option<PathBuf>,
    /// Output file (.csv or .parquet)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Write CSV cells as they are: no `'` before ids starting with `=`, `+`, `-`, `@` (for
    /// machines; Parquet is always raw)
    #[arg(long)]
    pub raw_csv: bool,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let dir = m::resolve_model(&args.model, &args.registry)?;
    let artifact = m::load(&dir)?;
    let (input, default_id) = match (&args.features, &args.table) {
        (Some(f), _) => (f, Some("customer_id")),
        (None, Some(t)) => (t, None),
        (None, None) => {
            return Err(bullseye::Error::from(RunError::missing(
                "no rows to score",
                "give `--features FILE` or `--table FILE`",
            ))
            .into())
        }
    };
    let id = args.id.as_deref().or(default_id);
    let cells = super::csv_cells(args.raw_csv);
    let (rows, drift) = m::score_file(&artifact, input, id, args.strict, &args.out, cells)?;
    println!(
        "scored {rows} rows with {} into {}",
        dir.display(),
        args.out.display()
    );
    print!("{}", m::render_drift(&drift, 5));
    if let Some(p) = &args.drift_out {
        io::write_json_atomic(p, &drift).map_err(bullseye::Error::from)?;
        println!("wrote {}", p.display());
    }
    Ok(())
}
