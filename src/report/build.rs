//! [`ReportBuilder`]: the stages hand over what they computed, the builder keeps the numbers.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::models::report::excluded;
use crate::models::{ClassificationMetrics, Metrics};
use crate::models::{DriftReport, TrainingReport};
use crate::segment::{Segmentation, ValueTier};
use crate::select::{ExclusionReason, Selection, Summary};

use super::error::ReportError;
use super::model::*;
use super::stats::{bins, quantile_sorted, unit_bins};

/// Most points kept on the Pareto curve.
pub const PARETO_POINTS: usize = 200;
/// Regular bins of the CLV histogram (plus one overflow bin above the 99th percentile).
pub const CLV_BINS: usize = 20;
/// The monetary column the segment sections read from the features frame.
pub const MONETARY_COLUMN: &str = "monetary_total";

/// Collects the report's sections; [`ReportBuilder::build`] returns the [`Report`].
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    report: Report,
}

/// The lowercase serde name of a unit enum (`ModelKind::Response` → `response`).
fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        0.0
    }
}

/// A numeric column of `df` as f64 (nulls as NaN).
fn numeric(df: &DataFrame, name: &str, what: &'static str) -> Result<Vec<f64>, ReportError> {
    let err = |found: String| ReportError::Column {
        what,
        column: name.to_string(),
        expected: "numeric",
        found,
    };
    let c = df.column(name).map_err(|_| {
        err(format!(
            "found only {}",
            df.get_column_names()
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if !c.dtype().is_primitive_numeric() {
        return Err(err(format!("found type {}", c.dtype())));
    }
    let c = c.cast(&DataType::Float64).map_err(|e| err(e.to_string()))?;
    let ca = c.f64().map_err(|e| err(e.to_string()))?;
    Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// A text column of `df` (nulls as the empty string).
fn text(df: &DataFrame, name: &str, what: &'static str) -> Result<Vec<String>, ReportError> {
    let err = |found: String| ReportError::Column {
        what,
        column: name.to_string(),
        expected: "text",
        found,
    };
    let c = df
        .column(name)
        .map_err(|_| err("the frame has none".to_string()))?;
    let c = c.cast(&DataType::String).map_err(|e| err(e.to_string()))?;
    let ca = c.str().map_err(|e| err(e.to_string()))?;
    Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// `monetary_total` per segmentation row, aligned with `seg.ids` (looked up by id unless the
/// frame's ids are already in the same order).
fn monetary_for(seg: &Segmentation, features: &DataFrame) -> Result<Vec<f64>, ReportError> {
    let ids = text(features, "customer_id", "features")?;
    let values = numeric(features, MONETARY_COLUMN, "features")?;
    let aligned = if ids == seg.ids {
        values
    } else {
        let index: HashMap<&str, f64> = ids.iter().map(String::as_str).zip(values).collect();
        seg.ids
            .iter()
            .map(|id| {
                index
                    .get(id.as_str())
                    .copied()
                    .ok_or_else(|| ReportError::Mismatch {
                        what: "features",
                        message: format!(
                            "customer `{id}` of the segmentation is not in the features frame"
                        ),
                    })
            })
            .collect::<Result<Vec<f64>, ReportError>>()?
    };
    if let Some(i) = aligned.iter().position(|v| !v.is_finite()) {
        return Err(ReportError::Mismatch {
            what: "features",
            message: format!(
                "`{MONETARY_COLUMN}` of customer `{}` is empty or not finite",
                seg.ids[i]
            ),
        });
    }
    Ok(aligned)
}

/// Groups `labels` (in `order`, then first-seen) with their revenue.
fn groups(labels: &[&str], revenue: &[f64], order: &[String]) -> Vec<GroupRow> {
    let mut names: Vec<String> = order.to_vec();
    let mut pos: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let mut counts = vec![0usize; names.len()];
    let mut rev = vec![0.0; names.len()];
    for (l, r) in labels.iter().zip(revenue) {
        let i = match pos.get(*l) {
            Some(&i) => i,
            None => {
                names.push(l.to_string());
                pos.insert(l.to_string(), names.len() - 1);
                counts.push(0);
                rev.push(0.0);
                names.len() - 1
            }
        };
        counts[i] += 1;
        rev[i] += r;
    }
    let n = labels.len() as f64;
    let total: f64 = rev.iter().sum();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| GroupRow {
            name,
            customers: counts[i],
            customer_share: share(counts[i] as f64, n),
            revenue: rev[i],
            revenue_share: share(rev[i], total),
        })
        .collect()
}

/// The Pareto curve: customers ranked by `monetary` descending, ties by id ascending (the
/// order of `segment::pareto`), sampled at most [`PARETO_POINTS`] + 1 times.
fn pareto_curve(ids: &[String], monetary: &[f64]) -> (Vec<ParetoPoint>, Option<f64>, f64) {
    let n = monetary.len();
    // The value tiers' ranking (revenue descending, ties by id): the runs of one value ≤ 0 it
    // leaves in row order add nothing to the cumulative revenue.
    let order = crate::segment::pareto::by_revenue(ids, monetary);
    let mut cum = Vec::with_capacity(n + 1);
    cum.push(0.0);
    let mut s = 0.0;
    for &i in &order {
        s += monetary[i].max(0.0);
        cum.push(s);
    }
    let total = s;
    if n == 0 {
        return (Vec::new(), None, 0.0);
    }
    let m = n.min(PARETO_POINTS);
    let curve = (0..=m)
        .map(|i| {
            let k = (i * n).div_ceil(m);
            ParetoPoint {
                customer_share: k as f64 / n as f64,
                value_share: share(cum[k], total),
            }
        })
        .collect();
    let at80 = if total > 0.0 {
        let target = 0.8 * total * (1.0 - 1e-12);
        cum.iter()
            .position(|&c| c >= target)
            .map(|k| k as f64 / n as f64)
    } else {
        None
    };
    (curve, at80, total)
}

fn decile_rows(c: &ClassificationMetrics) -> Vec<DecileRow> {
    c.deciles
        .iter()
        .map(|d| DecileRow {
            decile: d.decile,
            rows: d.rows,
            mean_predicted: d.mean_predicted,
            observed_rate: d.observed_rate,
            cumulative_gain: d.cumulative_gain,
            lift: finite(d.lift),
            cumulative_lift: finite(d.cumulative_lift),
        })
        .collect()
}

fn model_metrics(m: &Metrics) -> Option<ModelMetrics> {
    m.classification.as_ref().map(|c| ModelMetrics {
        holdout_rows: c.n_rows,
        base_rate: c.base_rate,
        auc: finite(c.auc),
        log_loss: finite(c.log_loss),
        brier: finite(c.brier),
        top_decile_lift: finite(c.top_decile_lift),
        deciles: decile_rows(c),
        importance: m
            .permutation_importance
            .iter()
            .flatten()
            .map(|f| (f.name.clone(), f.auc_drop))
            .collect(),
    })
}

impl ReportBuilder {
    /// An empty report titled `title` (the job's name) for the run as of `as_of`.
    pub fn new(title: &str, as_of: NaiveDate) -> Self {
        Self {
            report: Report {
                schema_version: REPORT_SCHEMA_VERSION,
                header: Header {
                    title: title.to_string(),
                    as_of: as_of.format("%Y-%m-%d").to_string(),
                    bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
                    generated_from: Vec::new(),
                    currency: None,
                },
                stages: Vec::new(),
                pareto: None,
                segments: None,
                rf_heatmap: None,
                clusters: None,
                models: Vec::new(),
                clv: None,
                campaigns: Vec::new(),
                drift: Vec::new(),
                bought_together: None,
                campaign_results: Vec::new(),
                plan: None,
                penetration: None,
                failure: None,
                warnings: Vec::new(),
                profit: None,
            },
        }
    }

    /// The currency every amount is in, shown on money columns and axes.
    pub fn currency(&mut self, code: &str) -> &mut Self {
        self.report.header.currency = Some(code.to_string());
        self
    }

    /// Marks the report as the report of a failed run: it opens with a banner saying that no
    /// audience was published, and why.
    pub fn failure(&mut self, exit_status: u8, stage: Option<&str>, reason: &str) -> &mut Self {
        self.report.failure = Some(RunFailure {
            exit_status,
            stage: stage.map(str::to_string),
            reason: reason.to_string(),
        });
        self
    }

    /// Rows of input `table` rejected by validation, with the file holding the reasons; a
    /// warning when any were.
    pub fn rejects(
        &mut self,
        table: &str,
        rows_in: usize,
        rejected: usize,
        file: &str,
    ) -> &mut Self {
        self.report
            .warnings
            .extend(super::decisions::rejects(table, rows_in, rejected, file));
        self
    }

    /// The "Bought together" section from mined baskets (`src/report/bought_together.rs`).
    pub fn bought_together(&mut self, mined: &crate::basket::Mined) -> &mut Self {
        self.report.bought_together = Some(
            super::bought_together::BoughtTogetherSection::from_mined(mined),
        );
        self
    }

    /// The "Plan" section from a joint plan's summary (`src/report/plan.rs`).
    pub fn plan(&mut self, summary: &crate::plan::PlanSummary) -> &mut Self {
        self.report.plan = Some(super::plan::PlanSection {
            summary: summary.clone(),
        });
        self
    }

    /// The "Penetration" section from the analysis' tables (`src/report/penetration.rs`).
    pub fn penetration(&mut self, tables: &[crate::analyze::PenetrationTable]) -> &mut Self {
        self.report.penetration = Some(super::penetration::PenetrationSection {
            tables: tables.to_vec(),
        });
        self
    }

    /// Adds output files the report was built from (names as the caller wants them shown;
    /// prefer paths relative to the run folder so reruns elsewhere give the same bytes).
    pub fn generated_from<S: Into<String>>(
        &mut self,
        files: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.report
            .header
            .generated_from
            .extend(files.into_iter().map(Into::into));
        self
    }

    /// Adds a stage's row count (from the manifest; never timings).
    pub fn stage_rows(&mut self, stage: &str, rows: usize) -> &mut Self {
        self.report.stages.push(StageRows {
            stage: stage.to_string(),
            rows,
        });
        self
    }

    /// The Pareto, RFM segment, R×F and cluster sections from a segmentation and the features
    /// frame it was computed from (`customer_id` and `monetary_total` are read by name).
    pub fn segments(
        &mut self,
        seg: &Segmentation,
        features: &DataFrame,
    ) -> Result<&mut Self, ReportError> {
        let n = seg.ids.len();
        for (what, len) in [
            ("rfm_r", seg.rfm_r.len()),
            ("rfm_f", seg.rfm_f.len()),
            ("rfm_segment", seg.rfm_segment.len()),
            ("value_tier", seg.value_tier.len()),
        ] {
            if len != n {
                return Err(ReportError::Mismatch {
                    what: "segmentation",
                    message: format!("{what} has {len} rows, expected {n} (one per id)"),
                });
            }
        }
        self.report.profit = seg
            .report
            .profit
            .clone()
            .map(|summary| super::profit::ProfitSection { summary });
        let monetary = monetary_for(seg, features)?;
        let revenue: Vec<f64> = monetary.iter().map(|m| m.max(0.0)).collect();

        let (curve, share_for_80pct, total_revenue) = pareto_curve(&seg.ids, &monetary);
        let tier_labels: Vec<&str> = seg.value_tier.iter().map(ValueTier::as_str).collect();
        let tier_order: Vec<String> = ValueTier::ALL.iter().map(|t| t.as_str().into()).collect();
        self.report.pareto = Some(ParetoSection {
            customers: n,
            total_revenue,
            curve,
            share_for_80pct,
            top: seg
                .report
                .pareto
                .iter()
                .map(|r| TopShare {
                    top_customers_pct: r.top_customers_pct,
                    customers: r.customers,
                    revenue_share: r.revenue_share,
                })
                .collect(),
            tiers: groups(&tier_labels, &revenue, &tier_order),
        });

        let seg_labels: Vec<&str> = seg.rfm_segment.iter().collect();
        let seg_order: Vec<String> = seg.report.segments.iter().map(|g| g.name.clone()).collect();
        let mut segments = groups(&seg_labels, &revenue, &seg_order);
        segments.retain(|g| g.customers > 0 || seg_order.contains(&g.name));
        self.report.segments = Some(SegmentsSection {
            customers: n,
            segments,
        });

        let mut counts = vec![vec![0usize; 5]; 5];
        let mut rev = vec![vec![0.0f64; 5]; 5];
        for (i, ((&r, &f), rv)) in seg.rfm_r.iter().zip(&seg.rfm_f).zip(&revenue).enumerate() {
            if !(1..=5).contains(&r) || !(1..=5).contains(&f) {
                return Err(ReportError::Mismatch {
                    what: "segmentation",
                    message: format!(
                        "customer `{}` has R/F scores {r}/{f}, expected 1–5",
                        seg.ids[i]
                    ),
                });
            }
            counts[r as usize - 1][f as usize - 1] += 1;
            rev[r as usize - 1][f as usize - 1] += rv;
        }
        self.report.rf_heatmap = Some(RfHeatmap {
            counts,
            revenue: rev,
        });

        self.report.clusters = seg.model.as_ref().map(|model| {
            let columns: Vec<String> = model.columns().iter().map(|c| c.to_string()).collect();
            ClustersSection {
                transform: serde_name(&model.transform).replace('_', "-"),
                clusters: seg
                    .report
                    .clusters
                    .iter()
                    .map(|p| ClusterRow {
                        cluster: p.cluster,
                        customers: p.customers,
                        customer_share: p.customer_share,
                        revenue_share: p.revenue_share,
                        means: columns
                            .iter()
                            .map(|c| {
                                p.means
                                    .iter()
                                    .find(|(name, _)| name == c)
                                    .map(|(_, m)| *m)
                                    .unwrap_or(0.0)
                            })
                            .collect(),
                        centroid: if p.cluster < model.centroids.nrows() {
                            model.centroids.row(p.cluster).to_vec()
                        } else {
                            vec![0.0; columns.len()]
                        },
                    })
                    .collect(),
                columns,
            }
        });
        Ok(self)
    }

    /// A model's section from its `metrics.json` (`TrainingReport`); `name` is the job's name for
    /// the model, `source` where it came from (e.g. `models/response/v0003`).
    pub fn model(&mut self, name: &str, source: &str, report: &TrainingReport) -> &mut Self {
        self.report.models.push(ModelSection {
            name: name.to_string(),
            kind: serde_name(&report.kind),
            model_type: serde_name(&report.model_type),
            source: source.to_string(),
            label: report.label.clone(),
            rows: report.rows,
            positives: report.positives,
            holdout: report.holdout.definition.clone(),
            metrics: model_metrics(&report.metrics),
            qini_coefficient: report
                .metrics
                .uplift
                .as_ref()
                .and_then(|u| finite(u.qini_coefficient)),
        });
        let added = self
            .report
            .models
            .last()
            .and_then(super::decisions::weak_model);
        self.report.warnings.extend(added);
        self
    }

    /// The CLV section from the frame of `run::clv::predict` (`clv`, and `p_alive` when present).
    pub fn clv(&mut self, frame: &DataFrame) -> Result<&mut Self, ReportError> {
        let clv = numeric(frame, "clv", "clv predictions")?;
        let mut values: Vec<f64> = clv.iter().copied().filter(|v| v.is_finite()).collect();
        values.sort_by(f64::total_cmp);
        let missing = clv.len() - values.len();
        let n = values.len();
        let total: f64 = values.iter().sum();
        let p99 = quantile_sorted(&values, 0.99);
        let lo = values.first().copied().unwrap_or(0.0).min(0.0);
        let (bins_v, overflow) = bins(&values, lo, p99, CLV_BINS);
        let (p_alive_bins, mean_p_alive) = if frame.column("p_alive").is_ok() {
            let p = numeric(frame, "p_alive", "clv predictions")?;
            let p: Vec<f64> = p.into_iter().filter(|v| v.is_finite()).collect();
            let mean = (!p.is_empty()).then(|| p.iter().sum::<f64>() / p.len() as f64);
            (unit_bins(&p, 10), mean)
        } else {
            (Vec::new(), None)
        };
        self.report.clv = Some(ClvSection {
            customers: n,
            missing,
            mean: share(total, n as f64),
            median: quantile_sorted(&values, 0.5),
            p90: quantile_sorted(&values, 0.9),
            p99,
            total,
            bins: bins_v,
            overflow,
            p_alive_bins,
            mean_p_alive,
        });
        Ok(self)
    }

    /// A row of the "Campaign results" section (a closed campaign's readout).
    pub fn campaign_result(&mut self, readout: &crate::readout::Readout) -> &mut Self {
        self.report
            .campaign_results
            .push(super::results::CampaignResult::of(readout));
        self
    }

    /// A campaign's section from its selection, whose audience file is `audience_file`
    /// (relative to the report).
    pub fn campaign(
        &mut self,
        name: &str,
        selection: &Selection,
        audience_file: &str,
    ) -> &mut Self {
        self.campaign_summary(name, &selection.summary);
        if let Some(c) = self.report.campaigns.last_mut() {
            c.audience_file = Some(audience_file.to_string());
        }
        self
    }

    /// A campaign's section from its summary (`audience/summary.json`).
    pub fn campaign_summary(&mut self, name: &str, s: &Summary) -> &mut Self {
        self.report.campaigns.push(CampaignSection {
            name: name.to_string(),
            campaign: s.campaign.clone(),
            objective: s.objective.as_str().to_string(),
            budget: s.budget,
            spent: s.spent,
            candidates: s.candidates,
            audience_size: s.audience_size,
            target_size: s.target_size,
            control_size: s.control_size,
            expected_responders: s.expected_responders,
            expected_revenue: s.expected_revenue,
            expected_profit: s.expected_profit,
            roi: s.roi.and_then(finite),
            curve: s
                .profit_curve
                .iter()
                .map(|p| ProfitPoint {
                    depth: p.depth,
                    cumulative_cost: p.cumulative_cost,
                    cumulative_profit: p.cumulative_expected_profit,
                })
                .collect(),
            cutoff_depth: s.profit_curve.iter().find(|p| p.cutoff).map(|p| p.depth),
            exclusions: ExclusionReason::ALL
                .iter()
                .map(|r| ExclusionCount {
                    reason: r.as_str().to_string(),
                    count: s.exclusions.get(*r),
                })
                .collect(),
            audience_file: None,
        });
        self
    }

    /// A model's drift section; `exclude` lists the features the job leaves out of the fail
    /// check (names, or patterns with `*` such as `days_since_*`), `fail_above` is the job's
    /// threshold.
    pub fn drift(
        &mut self,
        model: &str,
        drift: &DriftReport,
        exclude: &[String],
        fail_above: Option<f64>,
    ) -> &mut Self {
        let features: Vec<FeaturePsi> = drift
            .features
            .iter()
            .map(|f| FeaturePsi {
                name: f.name.clone(),
                psi: f.psi.and_then(finite),
                excluded: excluded(exclude, &f.name),
            })
            .collect();
        let score_psi = drift.score_psi.and_then(finite);
        let max_checked_psi = features
            .iter()
            .filter(|f| !f.excluded)
            .filter_map(|f| f.psi)
            .chain(score_psi)
            .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))));
        self.report.drift.push(DriftSection {
            model: model.to_string(),
            rows: drift.rows,
            score_psi,
            features,
            fail_above: fail_above.and_then(finite),
            max_checked_psi,
        });
        let added = self.report.drift.last().and_then(super::decisions::drift);
        self.report.warnings.extend(added);
        self
    }

    /// The report collected so far.
    pub fn build(&self) -> Report {
        self.report.clone()
    }
}
