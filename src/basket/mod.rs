//! Market baskets: which items are bought together (frequent itemsets and association rules by
//! FP-growth), and which customer to offer which item (cross-sell affinity).
//!
//! Shaped as the other stages: baskets in (`Baskets`, from transactions or a basket-per-line
//! file), values out (`Mined`, `Affinity`); files only in `output`. Thresholds are exact decimal
//! fractions compared on counts (`Threshold`), so a rule at exactly the minimum confidence is
//! kept whatever the float nearest the threshold is. Memory is one integer per (basket, item)
//! pair and the FP-tree: no basket × item matrix.

mod affinity;
mod baskets;
mod fpgrowth;
mod output;
#[cfg(test)]
mod reference_tests;
mod rules;
pub mod run;
mod threshold;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use affinity::{
    affinity, affinity_item, holdout, item_affinity, with_item_affinity, Affinity, Holdout,
    HoldoutScores, Recommendation, AFFINITY_COLUMN_PREFIX,
};
pub use baskets::{BasketBuilder, Baskets, Level, Owners};
pub use fpgrowth::{frequent_itemsets, Itemset};
pub use output::{
    itemsets_frame, render_top_rules, rules_frame, summary_json, write_outputs, OUTPUT_FILES,
};
pub use rules::{fisher_p, rules, significant, Correction, Rule, RuleFilter};
pub use threshold::Threshold;

use polars::prelude::PolarsError;

/// Errors of the basket stage.
#[derive(Debug, thiserror::Error)]
pub enum BasketError {
    #[error("`{value}` is not a threshold: expected a plain decimal such as `0.01` or `2.5`")]
    BadThreshold { value: String },
    #[error("{name} must be {rule}, found {found}")]
    InvalidParam {
        name: &'static str,
        rule: &'static str,
        found: String,
    },
    #[error("unknown basket level `{found}`: expected `product` or `category`")]
    UnknownLevel { found: String },
    #[error("unknown correction `{found}`: expected `holm`, `bonferroni`, `fdr` or `none`")]
    UnknownCorrection { found: String },
    #[error("the transactions have no `{expected}` column: map one in the ingest config")]
    NoItemColumn { expected: String },
    #[error(
        "unknown item `{item}` in `affinity:{item}`: the baskets have {known} items{}; the names are in itemsets.csv",
        closest.as_ref().map(|c| format!(", the closest is `{c}`")).unwrap_or_default()
    )]
    UnknownItem {
        item: String,
        known: usize,
        closest: Option<String>,
    },
    #[error("affinity needs customers: baskets read from a basket-per-line file have none; give transactions")]
    NoOwners,
    #[error("cannot read baskets from `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("{0} (this is a bug)")]
    Bug(String),
}

impl BasketError {
    pub(crate) fn bug(what: &str) -> BasketError {
        BasketError::Bug(what.to_string())
    }

    /// Whether the error is about the user's input (exit code 2) rather than a failure.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, BasketError::Polars(_) | BasketError::Bug(_))
    }
}

/// What to mine. Defaults: support 0.01, confidence 0.5, no lift floor, any length, every
/// consequent size, every rule, no significance filter.
#[derive(Debug, Clone)]
pub struct BasketParams {
    pub min_support: Threshold,
    pub min_confidence: Threshold,
    pub min_lift: Threshold,
    /// Most items in an itemset (and so in a rule).
    pub max_len: Option<usize>,
    /// Most items on a rule's right-hand side.
    pub max_consequent: Option<usize>,
    /// Most rules kept (the strongest, in `rules.csv` order).
    pub max_rules: Option<usize>,
    /// Keep only rules whose corrected Fisher p-value is at most this.
    pub significance: Option<f64>,
    pub correction: Correction,
}

impl Default for BasketParams {
    fn default() -> BasketParams {
        BasketParams {
            min_support: Threshold::ratio(1, 100),
            min_confidence: Threshold::ratio(1, 2),
            min_lift: Threshold::ZERO,
            max_len: None,
            max_consequent: None,
            max_rules: None,
            significance: None,
            correction: Correction::default(),
        }
    }
}

impl BasketParams {
    /// The params if every rule holds, else an error naming the first broken one.
    pub fn check(self) -> Result<BasketParams, BasketError> {
        let invalid =
            |name, rule, found: String| Err(BasketError::InvalidParam { name, rule, found });
        if self.min_support == Threshold::ZERO || !self.min_support.is_share() {
            return invalid(
                "min_support",
                "above 0 and at most 1",
                self.min_support.to_string(),
            );
        }
        if !self.min_confidence.is_share() {
            return invalid(
                "min_confidence",
                "at most 1",
                self.min_confidence.to_string(),
            );
        }
        for (name, v) in [
            ("max_len", self.max_len),
            ("max_consequent", self.max_consequent),
        ] {
            if v == Some(0) {
                return invalid(name, "at least 1", "0".to_string());
            }
        }
        if let Some(a) = self.significance.filter(|a| !(*a > 0.0 && *a <= 1.0)) {
            return invalid("significance", "above 0 and at most 1", a.to_string());
        }
        Ok(self)
    }
}

/// Frequent itemsets and rules of a set of baskets.
#[derive(Debug, Clone)]
pub struct Mined {
    /// Item names by code.
    pub items: Vec<String>,
    pub baskets: u64,
    /// By length, then descending count, then names.
    pub itemsets: Vec<Itemset>,
    /// Strongest first: lift, confidence, count, then names.
    pub rules: Vec<Rule>,
    /// Rules that passed the thresholds before `significance` and `max_rules`.
    pub rules_considered: usize,
    pub params: BasketParams,
}

impl Mined {
    /// `{a,b}`: the names of `codes`, sorted, as arules prints an itemset.
    pub fn label(&self, codes: &[u32]) -> String {
        label(&self.items, codes)
    }

    /// Number of itemsets per length.
    pub fn itemsets_by_length(&self) -> BTreeMap<usize, usize> {
        let mut by = BTreeMap::new();
        for s in &self.itemsets {
            *by.entry(s.items.len()).or_insert(0) += 1;
        }
        by
    }
}

pub(crate) fn label(items: &[String], codes: &[u32]) -> String {
    let mut names: Vec<&str> = codes.iter().map(|&c| items[c as usize].as_str()).collect();
    names.sort_unstable();
    format!("{{{}}}", names.join(","))
}

/// Mines `baskets` with checked params.
pub fn mine(baskets: &Baskets, params: &BasketParams) -> Mined {
    let n = baskets.len() as u64;
    let min_count = params.min_support.min_count(n);
    let max_len = params.max_len.unwrap_or(usize::MAX);
    let mut itemsets = frequent_itemsets(baskets, min_count, max_len);
    let names = |codes: &[u32]| label(&baskets.items, codes);
    itemsets.sort_by_cached_key(|s| (s.items.len(), std::cmp::Reverse(s.count), names(&s.items)));
    let filter = RuleFilter {
        min_confidence: params.min_confidence,
        min_lift: params.min_lift,
        max_consequent: params.max_consequent.unwrap_or(usize::MAX),
    };
    let mut found = rules(&itemsets, n, &filter);
    let rules_considered = found.len();
    if let Some(alpha) = params.significance {
        found = significant(found, alpha, params.correction);
    }
    found.sort_by_cached_key(|r| {
        (
            std::cmp::Reverse(Ordered(r.lift())),
            std::cmp::Reverse(Ordered(r.confidence())),
            std::cmp::Reverse(r.count),
            names(&r.antecedent),
            names(&r.consequent),
        )
    });
    if let Some(k) = params.max_rules {
        found.truncate(k);
    }
    Mined {
        items: baskets.items.clone(),
        baskets: n,
        itemsets,
        rules: found,
        rules_considered,
        params: params.clone(),
    }
}

/// An `f64` ordered by `total_cmp` (metrics are finite or +∞, never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ordered(f64);

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
