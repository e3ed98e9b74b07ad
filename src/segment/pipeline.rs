//! The one-call segmentation of a feature matrix.

use serde::{Deserialize, Serialize};

use crate::features::profit::{COST_COMPONENTS, NET_PROFIT};
use crate::segment::error::{Result, SegmentError};
use crate::segment::input::{check_matrix, finite_column};
use crate::segment::kmeans::{ClusterParams, KScore};
use crate::segment::labels::Labels;
use crate::segment::loyalty::{loyalty_grid, LoyaltyParams, LoyaltyQuadrant};
use crate::segment::model::SegmentationModel;
use crate::segment::pareto::{pareto, ParetoRow, TierThresholds, ValueTier};
use crate::segment::profile::{
    cluster_profiles, cluster_profiles_of_columns, group_summary, ClusterProfile, GroupSummary,
};
use crate::segment::rfm::{rfm_scores, RfmColumns};
use crate::segment::scheme::{SchemeAnalysis, SegmentScheme, UNASSIGNED};
use crate::segment::whale::{profit_of, ProfitAnalysis, ProfitSummary};
use crate::types::FeatureMatrix;

/// Schema version of [`SegmentReport`].
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Everything [`segment`] needs; every field has a documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentParams {
    /// Columns read for R, F and M (also the monetary column of tiers and grid, and the
    /// frequency column of the grid).
    pub rfm_columns: RfmColumns,
    /// Named segment rules. Default: the R×F scheme of [`SegmentScheme::default`].
    pub scheme: SegmentScheme,
    /// Value tier thresholds. Default 0.5 / 0.8 / 0.95.
    pub tiers: TierThresholds,
    /// Spend × loyalty grid settings.
    pub loyalty: LoyaltyParams,
    /// K-means settings; `None` skips clustering (set by the caller: a missing TOML table
    /// means the defaults). Default `Some(ClusterParams::default())`.
    pub cluster: Option<ClusterParams>,
}

impl Default for SegmentParams {
    fn default() -> Self {
        Self {
            rfm_columns: RfmColumns::default(),
            scheme: SegmentScheme::default(),
            tiers: TierThresholds::default(),
            loyalty: LoyaltyParams::default(),
            cluster: Some(ClusterParams::default()),
        }
    }
}

impl SegmentParams {
    /// Checks every part.
    pub fn check(&self) -> Result<()> {
        self.scheme.check()?;
        self.tiers.check()?;
        self.loyalty.check()?;
        if let Some(c) = &self.cluster {
            c.check()?;
        }
        Ok(())
    }
}

/// The serializable summary of a segmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReport {
    /// Always [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Number of customers.
    pub customers: usize,
    /// Sum of positive `monetary_total`.
    pub total_revenue: f64,
    /// Revenue share of the top 1/5/10/20/50 % of customers.
    pub pareto: Vec<ParetoRow>,
    /// Coverage of the segment scheme used.
    pub scheme: SchemeAnalysis,
    /// Size and revenue per RFM segment, in rule order, then `unassigned` if any.
    pub segments: Vec<GroupSummary>,
    /// Size and revenue per value tier, platinum first.
    pub tiers: Vec<GroupSummary>,
    /// Size and revenue per loyalty quadrant.
    pub loyalty: Vec<GroupSummary>,
    /// Spend split the grid used (the median by default).
    pub loyalty_spend_split: f64,
    /// Profiles per cluster (empty when clustering is off).
    pub clusters: Vec<ClusterProfile>,
    /// Silhouette per candidate k when k was automatic.
    pub k_scores: Vec<KScore>,
    /// Inertia of the kept clustering (transformed space).
    pub cluster_inertia: Option<f64>,
    /// The whale curve and profit tiers, when the features have the `profit` family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit: Option<ProfitSummary>,
}

/// Per-customer results, aligned with the input rows, plus the report and the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segmentation {
    /// Customer ids (copied from the matrix).
    pub ids: Vec<String>,
    /// Recency scores 1–5.
    pub rfm_r: Vec<u8>,
    /// Frequency scores 1–5.
    pub rfm_f: Vec<u8>,
    /// Monetary scores 1–5.
    pub rfm_m: Vec<u8>,
    /// `"RFM"` digits, e.g. `"545"`.
    pub rfm_cell: Labels,
    /// Segment names (or `unassigned`).
    pub rfm_segment: Labels,
    /// Value tiers.
    pub value_tier: Vec<ValueTier>,
    /// Loyalty quadrants.
    pub loyalty_grid: Vec<LoyaltyQuadrant>,
    /// Cluster index per customer, when clustering ran.
    pub cluster: Option<Vec<usize>>,
    /// The fitted clustering, when clustering ran (serialize it to re-assign later).
    pub model: Option<SegmentationModel>,
    /// Profit tiers and the unprofitable customers, when the features have the `profit` family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit: Option<ProfitAnalysis>,
    /// The summary.
    pub report: SegmentReport,
}

/// Where the clusters' profiles take their means from.
pub enum ProfileColumns<'a> {
    /// Every column of the matrix segmented.
    Matrix,
    /// Columns held apart (e.g. a feature frame's own), the matrix then holding only the
    /// columns the segmentation reads ([`columns_read`]).
    Given {
        names: &'a [String],
        columns: Vec<&'a [f64]>,
    },
}

/// The columns a segmentation with `p` reads, profiles aside: R, F and M, the clustering's
/// columns (`fitted`'s when given) and, when `available` has the `profit` family, its columns.
pub fn columns_read(
    p: &SegmentParams,
    fitted: Option<&SegmentationModel>,
    available: &[String],
) -> Vec<String> {
    let r = &p.rfm_columns;
    let mut wanted = vec![r.recency.clone(), r.frequency.clone(), r.monetary.clone()];
    match (fitted, &p.cluster) {
        (Some(m), _) => wanted.extend(m.transforms.iter().map(|t| t.column.clone())),
        (None, Some(c)) => wanted.extend(c.columns.iter().cloned()),
        (None, None) => {}
    }
    if available.iter().any(|c| c == NET_PROFIT) {
        wanted.push(NET_PROFIT.to_string());
        wanted.extend(COST_COMPONENTS.iter().map(|(c, _)| c.to_string()));
    }
    let mut read: Vec<String> = Vec::new();
    for w in wanted {
        if !read.contains(&w) {
            read.push(w);
        }
    }
    read
}

/// Runs RFM scoring, named segments, Pareto tiers, the loyalty grid and (optionally) k-means.
pub fn segment(fm: &FeatureMatrix, p: &SegmentParams) -> Result<Segmentation> {
    segment_inner(fm, p, None, ProfileColumns::Matrix).map(|s| s.with_ids(fm.ids.clone()))
}

/// As [`segment`] (or [`segment_with_model`] with `fitted`), the profiles' means taken from
/// `profiles`; the segmentation takes the matrix's ids (a million of them were 60 ms to copy).
pub fn segment_profiled(
    fm: FeatureMatrix,
    p: &SegmentParams,
    fitted: Option<&SegmentationModel>,
    profiles: ProfileColumns<'_>,
) -> Result<Segmentation> {
    segment_inner(&fm, p, fitted, profiles).map(|s| s.with_ids(fm.ids))
}

/// As [`segment`], but customers are assigned to the clusters of an already fitted model (the
/// weekly job re-uses last quarter's clusters) instead of fitting new ones.
pub fn segment_with_model(
    fm: &FeatureMatrix,
    p: &SegmentParams,
    model: &SegmentationModel,
) -> Result<Segmentation> {
    segment_inner(fm, p, Some(model), ProfileColumns::Matrix).map(|s| s.with_ids(fm.ids.clone()))
}

impl Segmentation {
    fn with_ids(self, ids: Vec<String>) -> Segmentation {
        Segmentation { ids, ..self }
    }
}

/// The segmentation of `fm`, its `ids` left empty for the caller to fill.
fn segment_inner(
    fm: &FeatureMatrix,
    p: &SegmentParams,
    fitted: Option<&SegmentationModel>,
    profile_columns: ProfileColumns<'_>,
) -> Result<Segmentation> {
    p.check()?;
    check_matrix(fm)?;
    if let ProfileColumns::Given { names, columns } = &profile_columns {
        let rows = fm.n_rows();
        if names.len() != columns.len() || columns.iter().any(|c| c.len() != rows) {
            return Err(SegmentError::Malformed {
                expected: format!(
                    "{} profile column names, each column {rows} long",
                    columns.len()
                ),
                found: format!(
                    "{} names, column lengths {:?}",
                    names.len(),
                    columns.iter().map(|c| c.len()).collect::<Vec<_>>()
                ),
            });
        }
    }
    let scores = rfm_scores(fm, &p.rfm_columns)?;
    let monetary = finite_column(fm, &p.rfm_columns.monetary)?.to_vec();
    let frequency = finite_column(fm, &p.rfm_columns.frequency)?.to_vec();
    let profiles = |labels: &[usize], k: usize| match &profile_columns {
        ProfileColumns::Matrix => cluster_profiles(fm, labels, k, &monetary),
        ProfileColumns::Given { names, columns } => {
            cluster_profiles_of_columns(names, columns, labels, k, &monetary)
        }
    };
    // The clusters and the descriptive segments read the same matrix and nothing of each
    // other: side by side, the sorts and labels of one fill the other's single-core stretches.
    let (described, clustered) = rayon::join(
        || -> Result<_> {
            let rfm_segment = p.scheme.label_all(&scores.r, &scores.f, &scores.m);
            let par = pareto(&fm.ids, &monetary, &p.tiers)?;
            let (grid, split) = loyalty_grid(&monetary, &frequency, &p.loyalty)?;
            let profit = profit_of(fm, &p.tiers)?;
            Ok((rfm_segment, par, grid, split, profit))
        },
        || -> Result<_> {
            Ok(match (fitted, &p.cluster) {
                (Some(m), _) => {
                    let labels = m.assign(fm)?;
                    let profiles = profiles(&labels, m.k);
                    (Some(labels), Some(m.clone()), profiles)
                }
                (None, Some(cp)) => {
                    let (model, labels) = SegmentationModel::fit(fm, cp)?;
                    let profiles = profiles(&labels, model.k);
                    (Some(labels), Some(model), profiles)
                }
                (None, None) => (None, None, Vec::new()),
            })
        },
    );
    let (rfm_segment, par, grid, split, profit) = described?;
    let (cluster, model, clusters) = clustered?;

    let mut seg_order: Vec<&str> = Vec::new();
    for r in &p.scheme.rules {
        if !seg_order.contains(&r.name.as_str()) {
            seg_order.push(&r.name);
        }
    }
    let seg_labels: Vec<&str> = rfm_segment.iter().collect();
    let mut segments = group_summary(&seg_labels, &monetary, &seg_order);
    segments.retain(|g| g.name != UNASSIGNED || g.customers > 0);
    let tier_labels: Vec<&str> = par.tiers.iter().map(ValueTier::as_str).collect();
    let tiers = group_summary(&tier_labels, &monetary, &ValueTier::ALL.map(|t| t.as_str()));
    let grid_labels: Vec<&str> = grid.iter().map(LoyaltyQuadrant::as_str).collect();
    let loyalty = group_summary(
        &grid_labels,
        &monetary,
        &LoyaltyQuadrant::ALL.map(|q| q.as_str()),
    );

    let report = SegmentReport {
        schema_version: REPORT_SCHEMA_VERSION,
        customers: fm.n_rows(),
        total_revenue: par.total_revenue,
        pareto: par.table,
        scheme: p.scheme.analyze(),
        segments,
        tiers,
        loyalty,
        loyalty_spend_split: split,
        clusters,
        k_scores: model
            .as_ref()
            .map(|m| m.k_scores.clone())
            .unwrap_or_default(),
        cluster_inertia: model.as_ref().map(|m| m.inertia),
        profit: profit.as_ref().map(|a| a.summary.clone()),
    };
    Ok(Segmentation {
        ids: Vec::new(),
        rfm_cell: scores.cells(),
        rfm_r: scores.r,
        rfm_f: scores.f,
        rfm_m: scores.m,
        rfm_segment,
        value_tier: par.tiers,
        loyalty_grid: grid,
        cluster,
        model,
        profit,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::kmeans::KChoice;
    use crate::segment::model::tests_support::customers;

    #[test]
    fn end_to_end_is_consistent() {
        let fm = customers(900, 2);
        let mut p = SegmentParams::default();
        if let Some(c) = p.cluster.as_mut() {
            c.k = KChoice::Auto { min: 2, max: 4 };
        }
        let s = segment(&fm, &p).unwrap();
        assert_eq!(s.rfm_cell.len(), 900);
        assert!(s.rfm_segment.iter().all(|x| x != UNASSIGNED));
        let sizes: usize = s.report.segments.iter().map(|g| g.customers).sum();
        assert_eq!(sizes, 900);
        let tier_share: f64 = s.report.tiers.iter().map(|g| g.revenue_share).sum();
        assert!((tier_share - 1.0).abs() < 1e-12);
        let model = s.model.as_ref().unwrap();
        assert_eq!(model.assign(&fm).unwrap(), *s.cluster.as_ref().unwrap());
        assert_eq!(s.report.clusters.len(), model.k);
        assert_eq!(s.report.k_scores.len(), 3);
        // Deterministic and JSON-serializable.
        assert_eq!(segment(&fm, &p).unwrap(), s);
        let json = serde_json::to_string(&s.report).unwrap();
        let back: SegmentReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s.report);
        let text = crate::segment::render::render_report(&s.report);
        assert!(text.contains("champions") && text.contains("platinum"));
    }

    #[test]
    fn row_order_does_not_change_results() {
        let fm = customers(300, 3);
        let p = SegmentParams {
            cluster: None,
            ..SegmentParams::default()
        };
        let a = segment(&fm, &p).unwrap();
        let mut rev = fm.clone();
        rev.ids.reverse();
        rev.values.invert_axis(ndarray::Axis(0));
        let b = segment(&rev, &p).unwrap();
        let mut cells_b: Vec<&str> = b.rfm_cell.iter().collect();
        cells_b.reverse();
        assert_eq!(a.rfm_cell.iter().collect::<Vec<_>>(), cells_b);
        let mut tiers_b = b.value_tier.clone();
        tiers_b.reverse();
        assert_eq!(a.value_tier, tiers_b);
        assert_eq!(a.report.pareto, b.report.pareto);
    }

    #[test]
    fn params_deserialize_from_toml_with_defaults() {
        let p: SegmentParams = toml::from_str(
            "[tiers]\nplatinum = 0.4\ngold = 0.7\nsilver = 0.9\n[cluster]\nk = { fixed = 5 }\n",
        )
        .unwrap();
        assert_eq!(p.tiers.platinum, 0.4);
        assert_eq!(p.cluster.as_ref().unwrap().k, KChoice::Fixed(5));
        assert_eq!(p.cluster.as_ref().unwrap().n_init, 3);
        assert_eq!(p.scheme, SegmentScheme::default());
        let empty: SegmentParams = toml::from_str("").unwrap();
        assert_eq!(empty, SegmentParams::default());
        assert!(empty.cluster.is_some());
    }
}
