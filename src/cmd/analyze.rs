use std::path::PathBuf;

use bullseye::analyze::{Activity, PenetrationTable, MISSING_GROUP, OTHER_GROUP};
use bullseye::ingest::TableKind;
use bullseye::run::analyze::{penetration_tables, write_penetration, MarketSpec, PenetrationSpec};
use bullseye::run::{load_checked, RunError};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::inputs::TableInputs;

/// Analyses a planner reads before deciding where to spend
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(subcommand)]
    pub command: AnalyzeCommand,
}

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Which share of each group (zip code, region, age band, income band) buys, against the
    /// whole base and against the group's market size (households, population)
    Penetration(PenetrationArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye analyze penetration --transactions notebooks-data/CDNOW_sample.txt --config notebooks-data/jobs/ingest.toml \\\n      \
    --customers notebooks-data/customers.csv --as-of 1998-06-30 --by region,age_band,region+gender --out out/penetration\n  \
    bullseye analyze penetration --transactions orders.csv --customers customers.csv --as-of 2025-12-31 \\\n      \
    --by zip_code --market zip_households.csv --market-key zip_code --market-size households --out out/penetration")]
pub struct PenetrationArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// The observation ends at the end of this day (YYYY-MM-DD); nothing later is read
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// Dimensions, comma-separated: customer columns, `age_band` (from birth_date or age),
    /// `income_band` (from --income-column); `a+b` crosses two
    #[arg(long, value_name = "LIST", value_delimiter = ',', required = true)]
    pub by: Vec<String>,
    /// An active buyer bought in this many days up to the as-of day; revenue is theirs too
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    pub window_days: u32,
    /// Groups with fewer customers (and a smaller market) are pooled into `other`
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub min_group: u64,
    /// Age band edges in years
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "25,35,45,55,65"
    )]
    pub age_edges: Vec<f64>,
    /// The customers column `income_band` cuts
    #[arg(long, value_name = "COLUMN", default_value = "income")]
    pub income_column: String,
    /// Income band edges
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "25000,50000,75000,100000"
    )]
    pub income_edges: Vec<f64>,
    /// A table of market sizes per group (CSV or Parquet), e.g. households per zip code
    #[arg(long, value_name = "FILE", requires_all = ["market_key", "market_size"])]
    pub market: Option<PathBuf>,
    /// The market table's group column; also the `--by` dimension it sizes
    #[arg(long, value_name = "COLUMN", requires = "market")]
    pub market_key: Option<String>,
    /// The market table's size column (households, population)
    #[arg(long, value_name = "COLUMN", requires = "market")]
    pub market_size: Option<String>,
    /// Folder for penetration.csv and penetration.json
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    match args.command {
        AnalyzeCommand::Penetration(args) => penetration(args),
    }
}

fn penetration(args: PenetrationArgs) -> anyhow::Result<()> {
    let request = args.inputs.request()?;
    if request.path(TableKind::Customers).is_none() {
        return Err(bullseye::Error::from(RunError::missing(
            "penetration groups customers by their attributes",
            "give the customers table with `--customers FILE` (or map it in `--config`)",
        ))
        .into());
    }
    let rejects_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut warnings = String::new();
    let tx = load_checked(
        &request,
        TableKind::Transactions,
        &rejects_dir,
        &mut warnings,
    )?;
    let customers = load_checked(&request, TableKind::Customers, &rejects_dir, &mut warnings)?;
    eprint!("{warnings}");
    let spec = PenetrationSpec {
        by: args.by,
        window_days: args.window_days,
        min_group: args.min_group,
        age_edges: args.age_edges,
        income_column: args.income_column,
        income_edges: args.income_edges,
        market: match (args.market, args.market_key, args.market_size) {
            (Some(path), Some(key), Some(size_column)) => Some(MarketSpec {
                path,
                key,
                size_column,
            }),
            _ => None,
        },
    };
    let activity = Activity::from_transactions(&tx.frame, args.as_of, spec.window_days)
        .map_err(bullseye::Error::from)?;
    let tables = penetration_tables(Some(&customers.frame), &activity, &spec)?;
    print!("{}", render(&tables));
    // The atomic writes create the folder.
    if let Some(out) = &args.out {
        for file in write_penetration(out, args.as_of, &spec, &tables)? {
            println!("wrote {}", file.display());
        }
    }
    Ok(())
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.decimals$}"))
}

/// One block per dimension: the groups with their rates and indexes, then the call-outs.
fn render(tables: &[PenetrationTable]) -> String {
    let mut out = String::new();
    for t in tables {
        let market = t.market_measure.is_some();
        out.push_str(&format!(
            "{}: {} customers, {} active buyers ({} of the base), revenue {:.2}\n",
            t.dimension,
            t.totals.customers,
            t.totals.active_buyers,
            opt(t.totals.active_rate.map(|r| 100.0 * r), 1) + "%",
            t.totals.revenue
        ));
        out.push_str(&format!(
            "  {:<24} {:>9} {:>7} {:>6} {:>7} {:>10} {:>7}",
            "group", "customers", "buyers", "rate%", "index", "rev/cust", "index"
        ));
        if let Some(m) = &t.market_measure {
            out.push_str(&format!(" {:>10} {:>8} {:>7}", m, "pen.%", "index"));
        }
        out.push('\n');
        for g in &t.groups {
            let mut label = g.group.clone();
            if g.pooled_groups > 0 {
                label = format!("{label} ({} groups)", g.pooled_groups);
            }
            out.push_str(&format!(
                "  {:<24} {:>9} {:>7} {:>6} {:>7} {:>10} {:>7}",
                label,
                g.customers,
                g.active_buyers,
                opt(g.active_rate.map(|r| 100.0 * r), 1),
                opt(g.active_index, 0),
                opt(g.revenue_per_customer, 2),
                opt(g.revenue_index, 0)
            ));
            if market {
                out.push_str(&format!(
                    " {:>10} {:>8} {:>7}",
                    opt(g.market_size, 0),
                    opt(g.penetration.map(|p| 100.0 * p), 2),
                    opt(g.penetration_index, 0)
                ));
            }
            out.push('\n');
        }
        let list = |v: &[String]| v.join(", ");
        if !t.under_penetrated.is_empty() {
            out.push_str(&format!(
                "  under-penetrated: {}\n",
                list(&t.under_penetrated)
            ));
        }
        if !t.over_penetrated.is_empty() {
            out.push_str(&format!(
                "  over-penetrated: {}\n",
                list(&t.over_penetrated)
            ));
        }
        if t.customers_without_market > 0 {
            out.push_str(&format!(
                "  {} customers are in groups the market table has no row for\n",
                t.customers_without_market
            ));
        }
        if t.groups.iter().any(|g| g.small) {
            out.push_str(&format!(
                "  `-` index: fewer customers than --min-group; `{OTHER_GROUP}` pools small groups, `{MISSING_GROUP}` has no value\n"
            ));
        }
        out.push('\n');
    }
    out
}
