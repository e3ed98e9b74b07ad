use std::collections::HashSet;
use std::path::PathBuf;

use bullseye::basket::run::{BasketRequest, BasketSource, ScoresWithAffinity};
use bullseye::basket::{BasketParams, Correction, Level, Threshold};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::inputs::TableInputs;

/// Which items are bought together: frequent itemsets and association rules (FP-growth) over
/// baskets = orders (else a customer's day), and per customer the items to offer next.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  bullseye basket --baskets notebooks-data/groceries.csv --min-support 0.001 --min-confidence 0.8 --max-consequent 1 --out out/basket\n  \
    bullseye basket --transactions lines.csv --level category --exclude POST,DOT --out out/basket\n  \
    bullseye basket affinity --transactions lines.csv --top 5 --holdout-from 2011-10-01 --out out/basket\n  \
    bullseye basket affinity --transactions lines.csv --scores scores.csv --item 85123A --scores-out scores-affinity.csv --out out/basket"
)]
pub struct BasketArgs {
    #[command(subcommand)]
    pub command: Option<BasketCommand>,
    #[command(flatten)]
    pub mine: MineArgs,
}

#[derive(Debug, Subcommand)]
pub enum BasketCommand {
    /// Per customer, the top items they have not bought that the rules their history triggers
    /// point to (affinity.parquet), with an optional holdout check against popularity
    Affinity(Box<AffinityArgs>),
    /// Who is due to buy a category again (the replenishment cycles): customers whose next
    /// purchase of a category is due within N days, overdue ones included
    Due(super::due::DueArgs),
}

#[derive(Debug, Args)]
pub struct MineArgs {
    /// One basket a line, items separated by commas, no header (the Groceries layout)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["transactions", "config"])]
    pub baskets: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: TableInputs,
    /// What an item is: `product` (product_id, else product_name) or `category`
    #[arg(long, value_name = "LEVEL", default_value = "product")]
    pub level: String,
    /// Smallest share of baskets an itemset is in (inclusive, on exact counts)
    #[arg(long, value_name = "SHARE", default_value = "0.01")]
    pub min_support: Threshold,
    /// Smallest confidence of a rule (inclusive, on exact counts: 0.8 keeps 4/5)
    #[arg(long, value_name = "SHARE", default_value = "0.5")]
    pub min_confidence: Threshold,
    /// Smallest lift of a rule (inclusive)
    #[arg(long, value_name = "LIFT", default_value = "0")]
    pub min_lift: Threshold,
    /// Most items in an itemset [default: no limit]
    #[arg(long, value_name = "N")]
    pub max_len: Option<usize>,
    /// Most items on a rule's right-hand side (arules: 1) [default: no limit]
    #[arg(long, value_name = "N")]
    pub max_consequent: Option<usize>,
    /// Keep the strongest N rules (by lift, then confidence) [default: all]
    #[arg(long, value_name = "N")]
    pub max_rules: Option<usize>,
    /// Keep only rules significant at this level by Fisher's exact test, corrected
    #[arg(long, value_name = "ALPHA")]
    pub significance: Option<f64>,
    /// Multiple-testing correction of --significance: holm, bonferroni, fdr or none
    #[arg(long, value_name = "NAME", default_value = "holm")]
    pub correction: String,
    /// Items to leave out (postage, fees), comma-separated
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Rules printed
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Output folder (itemsets.csv, rules.csv, basket.json)
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AffinityArgs {
    #[command(flatten)]
    pub mine: MineArgs,
    /// Items per customer in affinity.parquet
    #[arg(long = "per-customer", value_name = "N", default_value_t = 5)]
    pub per_customer: usize,
    /// Also mine the baskets before this day and score the recommendations on the purchases
    /// from it on, against the most popular items
    #[arg(long, value_name = "DATE")]
    pub holdout_from: Option<NaiveDate>,
    /// A scores table to copy with the column `affinity:<--item>` added (the item's affinity per
    /// customer, 0 without a rule for it), so a campaign can rank by it (`--scores-out`)
    #[arg(long, value_name = "FILE", requires_all = ["item", "scores_out"])]
    pub scores: Option<PathBuf>,
    /// The item of `--scores`
    #[arg(long, value_name = "NAME", requires = "scores")]
    pub item: Option<String>,
    /// Where the scores table with the affinity column goes (.csv or .parquet)
    #[arg(long, value_name = "FILE", requires = "scores")]
    pub scores_out: Option<PathBuf>,
}

impl MineArgs {
    fn request(&self) -> anyhow::Result<BasketRequest> {
        let correction = Correction::parse(&self.correction).ok_or_else(|| {
            bullseye::Error::from(bullseye::basket::BasketError::UnknownCorrection {
                found: self.correction.clone(),
            })
        })?;
        let params = BasketParams {
            min_support: self.min_support,
            min_confidence: self.min_confidence,
            min_lift: self.min_lift,
            max_len: self.max_len,
            max_consequent: self.max_consequent,
            max_rules: self.max_rules,
            significance: self.significance,
            correction,
        }
        .check()
        .map_err(bullseye::Error::from)?;
        let source = match &self.baskets {
            Some(path) => BasketSource::Lists(path.clone()),
            None => BasketSource::Transactions(self.inputs.request()?),
        };
        Ok(BasketRequest {
            source,
            level: Level::parse(&self.level).map_err(bullseye::Error::from)?,
            exclude: self
                .exclude
                .iter()
                .map(|e| e.trim().to_string())
                .collect::<HashSet<_>>(),
            params,
            out: self.out.clone().unwrap_or_default(),
        })
    }
}

pub fn run(args: BasketArgs) -> anyhow::Result<()> {
    match args.command {
        Some(BasketCommand::Affinity(a)) => affinity(*a),
        Some(BasketCommand::Due(a)) => super::due::run(a),
        None => mine(args.mine),
    }
}

fn mine(args: MineArgs) -> anyhow::Result<()> {
    let request = args.request()?;
    let done = bullseye::basket::run::mine(&request)?;
    eprint!("{}", done.warnings);
    print!(
        "{}",
        bullseye::basket::render_top_rules(&done.mined, args.top)
    );
    println!("wrote {}", request.out.display());
    Ok(())
}

fn affinity(args: AffinityArgs) -> anyhow::Result<()> {
    let request = args.mine.request()?;
    let scores = match (args.scores, args.item, args.scores_out) {
        (Some(scores), Some(item), Some(out)) => Some(ScoresWithAffinity { scores, item, out }),
        _ => None,
    };
    let done = bullseye::basket::run::affinity(
        &request,
        args.per_customer,
        args.holdout_from,
        scores.as_ref(),
    )?;
    eprint!("{}", done.warnings);
    print!(
        "{}",
        bullseye::basket::render_top_rules(&done.mined, args.mine.top)
    );
    if let Some(h) = &done.holdout {
        println!("{}", bullseye::basket::run::render_holdout(h));
    }
    println!(
        "{} recommendations for {} customers; wrote {}",
        done.recommendations,
        done.customers,
        request.out.display()
    );
    if let Some(s) = &scores {
        println!(
            "wrote the scores with `affinity:{}` to {}",
            s.item,
            s.out.display()
        );
    }
    Ok(())
}
