//! The basket commands' I/O: read the baskets (a basket-per-line file, or transactions through
//! ingest's validation), mine, write the outputs. The rules live in the rest of the module.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::{
    affinity as recommend, holdout, mine as mine_baskets, write_outputs, BasketError, BasketParams,
    Baskets, Holdout, HoldoutScores, Level, Mined,
};
use crate::ingest::{IngestRequest, TableKind};
use crate::{io, Error};

/// Where the baskets come from.
#[derive(Debug, Clone)]
pub enum BasketSource {
    /// One basket a line, items comma-separated (Groceries).
    Lists(PathBuf),
    /// Transactions, validated by ingest.
    Transactions(IngestRequest),
}

#[derive(Debug, Clone)]
pub struct BasketRequest {
    pub source: BasketSource,
    pub level: Level,
    pub exclude: HashSet<String>,
    pub params: BasketParams,
    /// Output folder.
    pub out: PathBuf,
}

/// What a basket command did.
#[derive(Debug)]
pub struct BasketDone {
    pub mined: Mined,
    /// Ingest's warnings (rejected rows), for stderr.
    pub warnings: String,
    pub holdout: Option<Holdout>,
    pub recommendations: usize,
    pub customers: usize,
}

fn load(request: &BasketRequest, warnings: &mut String) -> Result<Baskets, Error> {
    match &request.source {
        BasketSource::Lists(path) => {
            io::check_regular_file(path)?;
            let text = std::fs::read_to_string(path).map_err(|source| BasketError::Read {
                path: path.clone(),
                source,
            })?;
            Ok(Baskets::from_text(&text, &request.exclude))
        }
        BasketSource::Transactions(ingest) => {
            let tx =
                crate::run::load_checked(ingest, TableKind::Transactions, &request.out, warnings)?;
            Ok(Baskets::from_transactions(
                &tx.frame,
                request.level,
                &request.exclude,
            )?)
        }
    }
}

/// `bullseye basket`: itemsets.csv, rules.csv and basket.json in the output folder.
pub fn mine(request: &BasketRequest) -> Result<BasketDone, Error> {
    let mut warnings = String::new();
    let baskets = load(request, &mut warnings)?;
    let mined = mine_baskets(&baskets, &request.params);
    write_outputs(&request.out, &mined, None)?;
    Ok(BasketDone {
        mined,
        warnings,
        holdout: None,
        recommendations: 0,
        customers: 0,
    })
}

/// `bullseye basket affinity`: the mining outputs plus affinity.parquet (the top `per_customer`
/// items of every customer) and, from `holdout_from`, the holdout check in basket.json.
pub fn affinity(
    request: &BasketRequest,
    per_customer: usize,
    holdout_from: Option<NaiveDate>,
    scores: Option<&ScoresWithAffinity>,
) -> Result<BasketDone, Error> {
    let mut warnings = String::new();
    let baskets = load(request, &mut warnings)?;
    let check = holdout_from
        .map(|d| {
            holdout(
                &baskets,
                &request.params,
                crate::types::epoch_day(d),
                per_customer,
            )
        })
        .transpose()?;
    let done = recommend_and_write(
        &baskets,
        &request.params,
        per_customer,
        &request.out,
        check.as_ref(),
    )?;
    if let Some(s) = scores {
        let table = io::read_table(&s.scores, &["customer_id"])?;
        let mut joined = super::with_item_affinity(&table, &baskets, &done.mined.rules, &s.item)?;
        io::write_table(&s.out, &mut joined)?;
    }
    Ok(BasketDone {
        recommendations: done.recommendations,
        customers: done.customers,
        mined: done.mined,
        warnings,
        holdout: check,
    })
}

/// A scores table to copy with one item's affinity added (`affinity:<item>`), so that a
/// campaign outside a job can rank by it.
#[derive(Debug, Clone)]
pub struct ScoresWithAffinity {
    pub scores: PathBuf,
    pub item: String,
    pub out: PathBuf,
}

/// What [`recommend_and_write`] found.
#[derive(Debug)]
pub struct Recommended {
    pub mined: Mined,
    pub recommendations: usize,
    pub customers: usize,
}

/// Mines `baskets`, recommends the top `per_customer` items of every customer, and writes
/// itemsets.csv, rules.csv, basket.json (with the holdout check when given) and
/// affinity.parquet into `out`: `bullseye basket affinity` and a job's `basket` stage.
pub fn recommend_and_write(
    baskets: &Baskets,
    params: &BasketParams,
    per_customer: usize,
    out: &Path,
    check: Option<&Holdout>,
) -> Result<Recommended, Error> {
    let mined = mine_baskets(baskets, params);
    let found = recommend(baskets, &mined.rules, per_customer)?;
    let mut frame = found.frame(baskets, &mined.rules)?;
    io::write_table(&out.join(AFFINITY_FILE), &mut frame)?;
    write_outputs(out, &mined, check.map(|h| ("holdout", holdout_json(h))))?;
    let customers: HashSet<u32> = found.recommendations.iter().map(|r| r.customer).collect();
    Ok(Recommended {
        recommendations: found.recommendations.len(),
        customers: customers.len(),
        mined,
    })
}

/// The per-customer recommendations file of `bullseye basket affinity`.
pub const AFFINITY_FILE: &str = "affinity.parquet";

fn scores_json(s: &HoldoutScores) -> Value {
    json!({"hit_rate": s.hit_rate, "precision": s.precision, "coverage": s.coverage})
}

fn holdout_json(h: &Holdout) -> Value {
    json!({
        "from": crate::types::date_of_epoch_day(h.cutoff.into()).to_string(),
        "top": h.top,
        "customers": h.customers,
        "rules_mined": h.rules_mined,
        "rules": scores_json(&h.rules),
        "popularity": scores_json(&h.popularity),
    })
}

/// The holdout check for a person.
pub fn render_holdout(h: &Holdout) -> String {
    let line = |name: &str, s: &HoldoutScores| {
        format!(
            "  {name:<10} hit rate {:.4}  precision {:.4}  coverage {:.4}",
            s.hit_rate, s.precision, s.coverage
        )
    };
    format!(
        "holdout from {}: top {} for {} customers ({} rules mined before)\n{}\n{}",
        crate::types::date_of_epoch_day(h.cutoff.into()),
        h.top,
        h.customers,
        h.rules_mined,
        line("rules", &h.rules),
        line("popularity", &h.popularity)
    )
}
