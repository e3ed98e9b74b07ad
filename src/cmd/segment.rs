use std::path::PathBuf;

use bullseye::io;
use bullseye::run::segment as seg;
use bullseye::run::settings::check_cluster;
use bullseye::run::{RunError, Setting, Via};
use bullseye::segment::{render_report, KChoice, SegmentParams, Transform};
use clap::Args;

/// RFM scores and named segments, Pareto value tiers, the loyalty grid and k-means clusters.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye segment --features out/quickstart/1998-06-30/features.parquet --out segments.csv --k 5 --save-model models/segments\n  \
    bullseye segment --features features.parquet --out segments.csv --auto-k 3..8\n  \
    bullseye segment --features this_week.parquet --out segments.csv --model models/segments")]
pub struct SegmentArgs {
    /// Features file from `bullseye features` (CSV or Parquet, `customer_id` first)
    #[arg(long, value_name = "FILE")]
    pub features: PathBuf,
    /// Output file (.csv or .parquet); the report goes beside it as .json
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Number of clusters
    #[arg(long, value_name = "N", conflicts_with = "auto_k")]
    pub k: Option<usize>,
    /// Pick k in MIN..MAX by the silhouette on a seeded sample [default: 3..8]
    #[arg(long, value_name = "MIN..MAX")]
    pub auto_k: Option<String>,
    /// Columns to cluster [default: recency_days,frequency,monetary_total]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Scaling before k-means: none, standardize or log-standardize
    #[arg(long, value_name = "T", default_value = "log-standardize")]
    pub transform: String,
    /// k-means restarts (the lowest inertia wins)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub n_init: usize,
    /// Seed of k-means++ and the silhouette sample
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Assign clusters with this saved segmentation instead of fitting new ones
    #[arg(long, value_name = "DIR", conflicts_with_all = ["k", "auto_k", "save_model"])]
    pub model: Option<PathBuf>,
    /// Save the fitted segmentation as DIR/model.json
    #[arg(long, value_name = "DIR")]
    pub save_model: Option<PathBuf>,
    /// TOML file with a custom segment scheme ([[rules]] name, r, f, optional m)
    #[arg(long, value_name = "FILE")]
    pub scheme: Option<PathBuf>,
    /// Skip k-means (RFM, tiers and grid only)
    #[arg(long, conflicts_with_all = ["k", "auto_k", "model", "save_model"])]
    pub no_cluster: bool,
}

fn parse_range(s: &str) -> anyhow::Result<KChoice> {
    let bad = || {
        bullseye::Error::from(RunError::invalid(
            Setting::Flag("--auto-k"),
            "MIN..MAX such as 3..8",
            format!("`{s}`"),
        ))
    };
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let min = a.trim().parse().map_err(|_| bad())?;
    let max = b
        .trim_start_matches('=')
        .trim()
        .parse()
        .map_err(|_| bad())?;
    Ok(KChoice::Auto { min, max })
}

fn parse_transform(s: &str) -> anyhow::Result<Transform> {
    Ok(match s {
        "none" => Transform::None,
        "standardize" => Transform::Standardize,
        "log-standardize" | "log_standardize" => Transform::LogStandardize,
        other => {
            return Err(bullseye::Error::from(RunError::invalid(
                Setting::Flag("--transform"),
                "none, standardize or log-standardize",
                format!("`{other}`"),
            ))
            .into())
        }
    })
}

pub fn run(args: SegmentArgs) -> anyhow::Result<()> {
    let mut params = SegmentParams::default();
    if let Some(path) = &args.scheme {
        params.scheme = bullseye::run::segment::read_scheme(path)?;
    }
    if args.no_cluster {
        params.cluster = None;
    } else if let Some(c) = params.cluster.as_mut() {
        if let Some(k) = args.k {
            c.k = KChoice::Fixed(k);
        }
        if let Some(r) = &args.auto_k {
            c.k = parse_range(r)?;
        }
        if let Some(cols) = &args.columns {
            c.columns = cols.clone();
        }
        c.transform = parse_transform(&args.transform)?;
        c.n_init = args.n_init;
        c.seed = args.seed;
        if args.model.is_none() {
            check_cluster(c, Via::Flags).map_err(bullseye::Error::from)?;
        }
    }
    let model = args.model.as_deref().map(seg::read_model).transpose()?;
    let features =
        io::read_table(&args.features, &["customer_id"]).map_err(bullseye::Error::from)?;
    let s = seg::segment_frame(&features, &params, model.as_ref())?;
    seg::write_segmentation(&args.out, &s, args.save_model.as_deref())?;
    print!("{}", render_report(&s.report));
    println!(
        "wrote {} and {}",
        args.out.display(),
        seg::report_path(&args.out).display()
    );
    Ok(())
}
