use std::path::PathBuf;

use bullseye::features::replenishment::{self, CategoryCycle, Due, DueParams};
use bullseye::ingest::TableKind;
use bullseye::run::{load_checked, RunError};
use chrono::NaiveDate;
use clap::Args;

use super::inputs::TableInputs;

/// List the customers due to buy a category again: their last purchase of it plus their own
/// repeat cycle, shrunk toward the category's (the `replenishment` feature family)
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye basket due --transactions notebooks-data/replenishment.csv --as-of 2025-12-31 --within 14 --out due.csv\n  \
    bullseye basket due --transactions orders.csv --as-of 2025-12-31 --category coffee \\\n      \
    --scores scores.csv --scores-out scores-due.csv   # due_status, days_until_due for a campaign")]
pub struct DueArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// The observation ends at the end of this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// List customers due on or before this many days after the as-of day (overdue ones too)
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub within: u32,
    /// Leave out customers overdue by more than this many days (lapsed rather than due)
    #[arg(long, value_name = "DAYS")]
    pub max_overdue: Option<u32>,
    /// Only these categories (comma-separated)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub category: Vec<String>,
    /// Write the whole list (.csv or .parquet): customer_id, category, last_purchase,
    /// purchase_days, cycle_days, due_date, days_until_due
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A scores table to copy with `due_status` (`due` or `not_due`) and `days_until_due` added
    /// for one `--category`, so a campaign can select on them (`--scores-out`)
    #[arg(long, value_name = "FILE", requires = "scores_out")]
    pub scores: Option<PathBuf>,
    /// Where the scores table with the due columns goes (.csv or .parquet)
    #[arg(long, value_name = "FILE", requires = "scores")]
    pub scores_out: Option<PathBuf>,
}

/// Rows of the list printed on the terminal (the file holds them all).
const SHOWN: usize = 20;

pub fn run(args: DueArgs) -> anyhow::Result<()> {
    if args.inputs.customers.is_some() {
        return Err(bullseye::Error::from(RunError::missing(
            "`due` reads only the transactions; `--customers` is not used",
            "leave out `--customers`",
        ))
        .into());
    }
    if args.scores.is_some() && args.category.len() != 1 {
        return Err(bullseye::Error::from(RunError::missing(
            "`--scores` adds the due columns of one category",
            "name it with `--category NAME`",
        ))
        .into());
    }
    let request = args.inputs.request()?;
    let rejects_dir = args
        .out
        .as_deref()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut warnings = String::new();
    let tx = load_checked(
        &request,
        TableKind::Transactions,
        &rejects_dir,
        &mut warnings,
    )?;
    eprint!("{warnings}");
    let params = DueParams {
        within: args.within,
        max_overdue: args.max_overdue,
        categories: args.category.clone(),
    };
    let (due, cycles) =
        replenishment::due(&tx.frame, args.as_of, &params).map_err(bullseye::Error::from)?;
    print!("{}", render(&cycles, &due, &params, args.as_of));
    if let Some(out) = &args.out {
        let mut frame = replenishment::due_frame(&due).map_err(bullseye::Error::from)?;
        bullseye::io::write_table(out, &mut frame).map_err(bullseye::Error::from)?;
        println!("wrote {} rows to {}", due.len(), out.display());
    }
    if let (Some(scores), Some(out), [category]) =
        (&args.scores, &args.scores_out, &args.category[..])
    {
        let table =
            bullseye::io::read_table(scores, &["customer_id"]).map_err(bullseye::Error::from)?;
        let mut joined =
            replenishment::with_due(&table, &due, category).map_err(bullseye::Error::from)?;
        bullseye::io::write_table(out, &mut joined).map_err(bullseye::Error::from)?;
        println!(
            "wrote {} scores with the due columns of `{category}` to {}",
            joined.height(),
            out.display()
        );
    }
    Ok(())
}

/// The category cycles, then the first [`SHOWN`] customers due.
fn render(cycles: &[CategoryCycle], due: &[Due], params: &DueParams, as_of: NaiveDate) -> String {
    let mut out = format!(
        "{:<16} {:>9} {:>6} {:>6} {:>6} {:>6}\n",
        "category", "repeaters", "gaps", "q1", "median", "q3"
    );
    for c in cycles {
        out.push_str(&format!(
            "{:<16} {:>9} {:>6} {:>6.1} {:>6.1} {:>6.1}\n",
            c.category, c.repeat_buyers, c.gaps, c.q1_days, c.median_days, c.q3_days
        ));
    }
    out.push_str(&format!(
        "\n{} due on or before {} ({} days after {as_of}; negative days = overdue)\n",
        due.len(),
        as_of + chrono::Days::new(u64::from(params.within)),
        params.within
    ));
    for d in due.iter().take(SHOWN) {
        out.push_str(&format!(
            "{:<16} {:<16} last {} cycle {:>6.1} due {} ({:+} days)\n",
            d.customer_id, d.category, d.last_purchase, d.cycle_days, d.due_date, d.days_until_due
        ));
    }
    if due.len() > SHOWN {
        out.push_str(&format!("… and {} more\n", due.len() - SHOWN));
    }
    out
}
