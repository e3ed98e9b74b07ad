//! Output records: audience rows, exclusions, and the serializable summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::select::resolve::MatchReport;

use crate::select::{ExclusionReason, Objective};

/// Version of the [`Summary`] layout written to `summary.json`.
pub const SUMMARY_SCHEMA_VERSION: u32 = 2;

/// Target customers are contacted; control customers are held out and never contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Contacted.
    Target,
    /// Held out (costs nothing).
    Control,
}

/// One customer of the audience (target or control).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceRow {
    /// 1-based position by expected key (profit, or score for `responses`) descending, ties by id.
    pub rank: usize,
    /// Customer id.
    pub customer_id: String,
    /// Assigned channel name.
    pub channel: String,
    /// Target or control.
    pub group: Group,
    /// Score on the assigned channel.
    pub score: f64,
    /// score × response value.
    pub expected_value: f64,
    /// expected_value − channel cost.
    pub expected_profit: f64,
    /// Segment label, if the candidate had one.
    pub segment: Option<String>,
}

/// One candidate left out, with the first reason that applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionRow {
    /// Customer id.
    pub customer_id: String,
    /// Reason.
    pub reason: ExclusionReason,
}

/// Counts per channel and group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelCounts {
    /// Channel name.
    pub channel: String,
    /// Contacted customers on this channel.
    pub target: usize,
    /// Control customers assigned to this channel (not contacted).
    pub control: usize,
    /// Spend of the target group on this channel.
    pub target_cost: f64,
}

/// One point of the profit curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Number of ranked candidates taken.
    pub depth: usize,
    /// `depth` / number of ranked candidates.
    pub fraction: f64,
    /// Cumulative cost of contacting them on their best channel.
    pub cumulative_cost: f64,
    /// Cumulative expected profit on their best channel.
    pub cumulative_expected_profit: f64,
    /// True at the selection's cut-off (depth = audience size, target + control).
    pub cutoff: bool,
}

/// Exclusion counts by reason, in precedence order; every reason is always present (written as
/// `{"suppressed": n, …}`). A new reason is a new [`ExclusionReason`] variant, nothing here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExclusionCounts(BTreeMap<ExclusionReason, usize>);

impl Default for ExclusionCounts {
    fn default() -> ExclusionCounts {
        ExclusionCounts(ExclusionReason::ALL.iter().map(|&r| (r, 0)).collect())
    }
}

impl FromIterator<(ExclusionReason, usize)> for ExclusionCounts {
    /// Counts for some reasons, the others 0.
    fn from_iter<I: IntoIterator<Item = (ExclusionReason, usize)>>(iter: I) -> ExclusionCounts {
        let mut counts = ExclusionCounts::default();
        counts.0.extend(iter);
        counts
    }
}

impl ExclusionCounts {
    /// Count for one reason.
    pub fn get(&self, r: ExclusionReason) -> usize {
        self.0.get(&r).copied().unwrap_or(0)
    }

    pub(crate) fn add(&mut self, r: ExclusionReason) {
        *self.0.entry(r).or_insert(0) += 1;
    }

    /// Lists a reason that is not always present (a plan's, the global control), at 0 if unused,
    /// so a reader sees the rule was in force.
    pub fn include(&mut self, r: ExclusionReason) {
        self.0.entry(r).or_insert(0);
    }
}

/// Campaign summary, written as `summary.json`. Expected figures are over the target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Campaign name.
    pub campaign: String,
    /// Objective.
    pub objective: Objective,
    /// Seed of the control draw.
    pub seed: u64,
    /// Configured control fraction.
    pub control_fraction: f64,
    /// Budget (target spend limit).
    pub budget: f64,
    /// Target spend.
    pub spent: f64,
    /// Number of candidates given.
    pub candidates: usize,
    /// Target + control.
    pub audience_size: usize,
    /// Contacted customers.
    pub target_size: usize,
    /// Held-out customers.
    pub control_size: usize,
    /// Counts per channel and group, in config order.
    pub channels: Vec<ChannelCounts>,
    /// Σ score over the target (incremental responders for `uplift_profit`).
    pub expected_responders: f64,
    /// Σ expected value over the target.
    pub expected_revenue: f64,
    /// Σ expected profit over the target (= revenue − spent).
    pub expected_profit: f64,
    /// (revenue − cost) / cost; `None` when nothing was spent.
    pub roi: Option<f64>,
    /// Σ score over the control group: responders expected had they been contacted.
    pub control_expected_responders: f64,
    /// Budget price λ (key per unit cost) the allocation used; 0 = plain greedy.
    pub budget_price: f64,
    /// Capacity price μ per channel (key per contact) the allocation used; all 0 = plain greedy.
    pub capacity_prices: Vec<f64>,
    /// Profit by audience depth over the ranked candidate list (see [`CurvePoint`]).
    pub profit_curve: Vec<CurvePoint>,
    /// Exclusions by reason.
    pub exclusions: ExclusionCounts,
    /// How the suppression lists, contact history and scores matched the scored customers
    /// (filled by the caller that resolved them; empty for candidates built in code).
    #[serde(default)]
    pub matching: MatchReport,
}

/// Everything the selector returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Audience in rank order.
    pub audience: Vec<AudienceRow>,
    /// Excluded candidates, by customer id.
    pub exclusions: Vec<ExclusionRow>,
    /// Summary.
    pub summary: Summary,
}
