//! The report's data: every number behind every chart, serialized as `report.json`.
//!
//! Sections are optional (`Option` or an empty `Vec`): a job that skipped a stage omits its
//! section and the HTML leaves out its charts. Nothing here depends on the clock, so the same
//! inputs give the same bytes. Values that can be undefined (a ROI without spend, a PSI of an
//! empty column) are `Option<f64>`, so the JSON never holds NaN.

use serde::{Deserialize, Serialize};

/// Version of the `report.json` layout written by this code.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// PSI above this is a moderate shift (the lower band of the drift chart).
pub const PSI_MODERATE: f64 = 0.1;
/// PSI above this is a major shift (the upper band of the drift chart).
pub const PSI_MAJOR: f64 = 0.25;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA_VERSION`] when written by this code.
    pub schema_version: u32,
    /// Title, as-of date, version, source files.
    pub header: Header,
    /// Rows per stage, in the order the caller gave them (no timings: the report must be
    /// byte-identical across reruns).
    #[serde(default)]
    pub stages: Vec<StageRows>,
    /// Revenue concentration: the Pareto curve and the value tiers.
    #[serde(default)]
    pub pareto: Option<ParetoSection>,
    /// Named RFM segments: size and revenue.
    #[serde(default)]
    pub segments: Option<SegmentsSection>,
    /// Customers and revenue per (R, F) score pair.
    #[serde(default)]
    pub rf_heatmap: Option<RfHeatmap>,
    /// k-means cluster profiles.
    #[serde(default)]
    pub clusters: Option<ClustersSection>,
    /// One section per model (response, churn, …), in the order added.
    #[serde(default)]
    pub models: Vec<ModelSection>,
    /// Distribution of the predicted customer lifetime value.
    #[serde(default)]
    pub clv: Option<ClvSection>,
    /// One section per campaign selection, in the order added.
    #[serde(default)]
    pub campaigns: Vec<CampaignSection>,
    /// One section per scored model: population stability per feature and for the score.
    #[serde(default)]
    pub drift: Vec<DriftSection>,
    /// Market baskets: the strongest rules and the item-affinity chart. Left out of the JSON
    /// when absent, so reports without it keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bought_together: Option<super::bought_together::BoughtTogetherSection>,
    /// The readouts of the ledger's campaigns whose response window has closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaign_results: Vec<super::results::CampaignResult>,
    /// The joint plan of a job's several campaigns. Left out of the JSON when absent, so
    /// reports without it keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<super::plan::PlanSection>,
    /// Penetration by group (a job's `[analyze.penetration]`); left out of the JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penetration: Option<super::penetration::PenetrationSection>,
    /// The whale curve and profit tiers (features with the `profit` family); left out of the
    /// JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit: Option<super::profit::ProfitSection>,
    /// Set when the run failed: the page opens with a banner saying that no audience was
    /// published and why. Left out of the JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<RunFailure>,
    /// What whoever acts on the report must know before using it (drift past the threshold,
    /// rejected rows, a model no better than random), in the order found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ReportWarning>,
}

/// Why a run published nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    /// The run's exit status (2 bad input, 3 drift, …; see the README's exit codes).
    pub exit_status: u8,
    /// The stage that failed, when one did.
    pub stage: Option<String>,
    /// The run's error message, as in the manifest.
    pub reason: String,
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A model input or score moved past the job's drift threshold.
    Drift,
    /// Rows of an input were rejected (they are in the run's `rejects/`).
    Rejects,
    /// A model whose holdout shows it no better than random (AUC ≤ 0.5, Qini ≤ 0).
    WeakModel,
}

/// One warning at the top of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportWarning {
    /// What it is about.
    pub kind: WarningKind,
    /// One sentence saying what happened and what to do.
    pub message: String,
}

/// The title block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Report title (the job's name).
    pub title: String,
    /// As-of date of the run, `YYYY-MM-DD`.
    pub as_of: String,
    /// Version of bullseye that built the report.
    pub bullseye_version: String,
    /// Output files the report was built from, as the caller names them.
    #[serde(default)]
    pub generated_from: Vec<String>,
    /// The currency of every amount (`USD`, `EUR`…), shown on money columns and axes; left out
    /// of the JSON when the job names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Rows of one stage (from the run's manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRows {
    /// Stage name (`ingest`, `features`, …).
    pub stage: String,
    /// Rows the stage produced.
    pub rows: usize,
}

/// One point of the Pareto curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoPoint {
    /// Cumulative share of customers, best first, 0–1.
    pub customer_share: f64,
    /// Their cumulative share of revenue, 0–1.
    pub value_share: f64,
}

/// One line of the "top x % of customers" table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopShare {
    /// Top share of customers, in percent.
    pub top_customers_pct: f64,
    /// Customers in that top group.
    pub customers: usize,
    /// Their share of revenue, 0–1.
    pub revenue_share: f64,
}

/// Size and revenue of a named group (segment, tier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Group name.
    pub name: String,
    /// Customers in the group.
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// Revenue of the group: sum of the positive part of `monetary_total`.
    pub revenue: f64,
    /// Share of revenue, 0–1.
    pub revenue_share: f64,
}

/// Revenue concentration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoSection {
    /// Customers ranked.
    pub customers: usize,
    /// Sum of the positive part of `monetary_total`.
    pub total_revenue: f64,
    /// The curve from (0, 0) to (1, 1), at most ~200 points, customers ranked by value.
    pub curve: Vec<ParetoPoint>,
    /// Smallest share of customers (best first) bringing 80 % of the revenue; `None` when
    /// nobody has positive revenue.
    pub share_for_80pct: Option<f64>,
    /// Revenue share of the top 1/5/10/20/50 % of customers.
    pub top: Vec<TopShare>,
    /// Value tiers, platinum first.
    pub tiers: Vec<GroupRow>,
}

/// Named RFM segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentsSection {
    /// Customers segmented.
    pub customers: usize,
    /// One row per segment, in the scheme's rule order (`unassigned` last when present).
    pub segments: Vec<GroupRow>,
}

/// Customers and revenue per (recency score, frequency score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfHeatmap {
    /// `counts[r − 1][f − 1]`: customers with recency score r and frequency score f (1–5).
    pub counts: Vec<Vec<usize>>,
    /// `revenue[r − 1][f − 1]`: their revenue (positive part of `monetary_total`).
    pub revenue: Vec<Vec<f64>>,
}

/// One k-means cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRow {
    /// Cluster index.
    pub cluster: usize,
    /// Customers in the cluster.
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// Share of revenue, 0–1.
    pub revenue_share: f64,
    /// Mean of each clustered column, original units, aligned with [`ClustersSection::columns`].
    pub means: Vec<f64>,
    /// The centroid in the clustering's own space (log1p and standardized by default), aligned
    /// with [`ClustersSection::columns`]: how far above or below the average the cluster sits.
    pub centroid: Vec<f64>,
}

/// k-means cluster profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClustersSection {
    /// The clustered columns, in model order.
    pub columns: Vec<String>,
    /// How `centroid` values are scaled (`log-standardize`, `standardize`, `none`).
    pub transform: String,
    /// One row per cluster, by index.
    pub clusters: Vec<ClusterRow>,
}

/// One decile of a model's holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1 = highest scores … 10 = lowest.
    pub decile: u32,
    /// Rows in the decile.
    pub rows: usize,
    /// Mean predicted probability.
    pub mean_predicted: f64,
    /// Observed share of label-1 rows.
    pub observed_rate: f64,
    /// Share of all positives captured by deciles 1..=this one.
    pub cumulative_gain: f64,
    /// Observed rate over the base rate.
    pub lift: Option<f64>,
    /// Observed rate of deciles 1..=this one over the base rate.
    pub cumulative_lift: Option<f64>,
}

/// Holdout metrics of a classification model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Holdout rows.
    pub holdout_rows: usize,
    /// Share of label-1 rows.
    pub base_rate: f64,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Brier score.
    pub brier: Option<f64>,
    /// Lift of the top decile.
    pub top_decile_lift: Option<f64>,
    /// Calibration, gains and lift by decile.
    pub deciles: Vec<DecileRow>,
    /// Permutation importance on the holdout, largest first (forests only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importance: Vec<(String, f64)>,
}

/// One model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSection {
    /// Name the job gives the model (e.g. `response`).
    pub name: String,
    /// `response`, `churn` or `uplift`.
    pub kind: String,
    /// `logistic` or `forest`.
    pub model_type: String,
    /// Where the model came from (registry version, folder), as the caller names it.
    pub source: String,
    /// Label column.
    pub label: String,
    /// Training rows.
    pub rows: usize,
    /// Label-1 training rows.
    pub positives: usize,
    /// Holdout definition (e.g. `time:0.2`).
    pub holdout: String,
    /// Classification metrics (`None` for an uplift model).
    pub metrics: Option<ModelMetrics>,
    /// Qini coefficient (uplift models only).
    pub qini_coefficient: Option<f64>,
}

/// One histogram bin `[lo, hi)` (the last regular bin includes `hi`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Values in the bin.
    pub count: usize,
}

/// Predicted customer lifetime value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvSection {
    /// Customers with a finite CLV.
    pub customers: usize,
    /// Customers without one (no Gamma-Gamma model, or not finite).
    pub missing: usize,
    /// Mean CLV.
    pub mean: f64,
    /// Median CLV.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile: the histogram's cap.
    pub p99: f64,
    /// Sum of CLV.
    pub total: f64,
    /// Equal-width bins from the minimum (or 0) to the 99th percentile.
    pub bins: Vec<Bin>,
    /// Customers above the 99th percentile (the overflow bar).
    pub overflow: usize,
    /// P(alive) in ten bins of width 0.1, when the frame has `p_alive`.
    pub p_alive_bins: Vec<Bin>,
    /// Mean P(alive), when the frame has `p_alive`.
    pub mean_p_alive: Option<f64>,
}

/// One point of a campaign's profit curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitPoint {
    /// Ranked candidates taken.
    pub depth: usize,
    /// Cumulative cost.
    pub cumulative_cost: f64,
    /// Cumulative expected profit.
    pub cumulative_profit: f64,
}

/// Excluded candidates for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExclusionCount {
    /// Reason (`suppressed`, `no_consent`, …).
    pub reason: String,
    /// Candidates excluded for it.
    pub count: usize,
}

/// One campaign selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSection {
    /// Name the job gives the campaign.
    pub name: String,
    /// Campaign name from its config.
    pub campaign: String,
    /// `profit`, `responses` or `uplift_profit`.
    pub objective: String,
    /// Budget.
    pub budget: f64,
    /// Target spend.
    pub spent: f64,
    /// Candidates given.
    pub candidates: usize,
    /// Target + control.
    pub audience_size: usize,
    /// Contacted customers.
    pub target_size: usize,
    /// Held-out customers.
    pub control_size: usize,
    /// Expected responders in the target group.
    pub expected_responders: f64,
    /// Expected revenue of the target group.
    pub expected_revenue: f64,
    /// Expected profit of the target group.
    pub expected_profit: f64,
    /// (revenue − cost) / cost; `None` when nothing was spent.
    pub roi: Option<f64>,
    /// Profit curve by audience depth.
    pub curve: Vec<ProfitPoint>,
    /// Depth of the chosen cut-off (target + control), when the curve marks one.
    pub cutoff_depth: Option<usize>,
    /// Exclusions by reason, every reason listed.
    pub exclusions: Vec<ExclusionCount>,
    /// Where the campaign's audience file is, relative to the report (a job's run folder);
    /// left out of the JSON when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_file: Option<String>,
}

/// PSI of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturePsi {
    /// Input column.
    pub name: String,
    /// Population stability index against training; `None` for an all-missing column.
    pub psi: Option<f64>,
    /// True when the job leaves this feature out of the drift fail check.
    pub excluded: bool,
}

/// Drift of one scored model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSection {
    /// Model name.
    pub model: String,
    /// Rows scored.
    pub rows: usize,
    /// PSI of the score.
    pub score_psi: Option<f64>,
    /// PSI per input, in the model's schema order.
    pub features: Vec<FeaturePsi>,
    /// The job's fail threshold (`drift.fail_above`), when it has one.
    pub fail_above: Option<f64>,
    /// Largest PSI over the score and the features not excluded.
    pub max_checked_psi: Option<f64>,
}
