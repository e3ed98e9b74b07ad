//! The model card: what a version is for, what it was trained and judged on, how sure its metrics
//! are, whether its scores are probabilities, and what it should not be trusted with
//! (`model_card.json` and `model_card.md` beside `model.json`).
//!
//! A card is built once, at training time, from the report, the artifact and the holdout's scores
//! of the train-only fit (the rows the metrics come from): intervals are a seeded percentile
//! bootstrap of those rows, so the same training inputs give the same card, byte for byte. Who
//! promoted a version and when is not the model's business: the registry keeps it in its history
//! file and adds it when a card is printed.

use ndarray::{Array1, ArrayView1};
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::artifact::{kind_name, ArtifactModel, ModelArtifact};
use crate::models::calibration::{logistic_recalibration, reliability, Platt, ReliabilityRow};
use crate::models::classifier::{ClassifierParams, FittedModel};
use crate::models::error::Result;
use crate::models::guard;
use crate::models::metrics::{brier, check_scored, log_loss};
use crate::models::preprocess::{FeatureSpec, FeatureTransform};
use crate::models::qini::qini_auc_score;
use crate::models::TrainingReport;

/// Layout version of [`ModelCard`].
pub const CARD_SCHEMA_VERSION: u32 = 1;
/// Bootstrap resamples of the holdout behind each interval.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;
/// How many of the strongest inputs a card lists per model.
pub const TOP_FEATURES: usize = 10;
/// Fewer holdout positives than this make a card say its intervals are wide.
pub const SMALL_HOLDOUT_POSITIVES: usize = 100;

/// The labels and scores of the holdout rows under the train-only fit (what the metrics are
/// computed from), kept for the card.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutScores {
    pub labels: Array1<f64>,
    /// P(label = 1), or the uplift of an uplift model.
    pub scores: Array1<f64>,
    /// 0/1 treatment flags (uplift models).
    pub treatment: Option<Array1<f64>>,
    /// A calibrated forest's holdout scores, cross-fitted
    /// ([`crate::models::calibration::cross_fitted`]).
    pub calibrated: Option<Array1<f64>>,
    /// The holdout rows' model inputs as they came (before preprocessing), so the registry can
    /// score another model on the same rows.
    pub inputs: HoldoutInputs,
}

impl HoldoutScores {
    /// Drops the holdout rows' inputs, once nothing will register the model: a job that saves
    /// its models without a registry would otherwise hold them (2 GB at 10M customers) through
    /// every later stage.
    pub fn release_inputs(&mut self) {
        self.inputs = HoldoutInputs::empty();
    }
}

/// Raw model inputs of the holdout rows.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutInputs {
    pub numeric_names: Vec<String>,
    pub numeric: ndarray::Array2<f64>,
    pub categorical: crate::models::preprocess::CategoricalColumns,
}

impl HoldoutInputs {
    /// No rows, no columns.
    pub fn empty() -> Self {
        Self {
            numeric_names: Vec::new(),
            numeric: ndarray::Array2::zeros((0, 0)),
            categorical: crate::models::preprocess::CategoricalColumns::default(),
        }
    }
}

/// A point estimate and its 95 % percentile-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// The headline metrics with their intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardMetrics {
    pub resamples: usize,
    pub seed: u64,
    pub auc: Option<Interval>,
    pub log_loss: Option<Interval>,
    pub brier: Option<Interval>,
    pub qini: Option<Interval>,
}

/// Reliability by score decile and the recalibration fit `logit P = a + b · logit(score)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardCalibration {
    pub reliability: Vec<ReliabilityRow>,
    /// `None` when the fit cannot be made (one class, constant scores).
    pub fit: Option<Platt>,
    /// The Platt map the model applies to its scores (calibrated forests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platt: Option<Platt>,
    /// The same figures for the calibrated scores, cross-fitted on the holdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<CalibratedScores>,
}

/// Reliability, recalibration fit, log loss and Brier of a forest's calibrated holdout scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedScores {
    pub reliability: Vec<ReliabilityRow>,
    pub fit: Option<Platt>,
    pub log_loss: f64,
    pub brier: f64,
}

/// One of the strongest inputs of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopFeature {
    /// `model`, or `treated` / `control` for the sub-models of an uplift model.
    pub model: String,
    pub name: String,
    /// `standardised coefficient`, or `AUC drop when shuffled` (permutation importance).
    pub measure: String,
    pub value: f64,
}

/// `model_card.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub schema_version: u32,
    pub kind: String,
    pub learner: String,
    pub label: String,
    pub source: String,
    pub treatment: Option<String>,
    pub training_rows: usize,
    pub training_positives: usize,
    pub window: Option<(String, String)>,
    pub training_data_hash: String,
    pub refit: bool,
    pub holdout_rule: String,
    pub holdout_rows: usize,
    pub holdout_positives: usize,
    pub holdout_hash: String,
    pub features: Vec<String>,
    pub top_features: Vec<TopFeature>,
    pub settings: Vec<(String, String)>,
    pub metrics: CardMetrics,
    pub calibration: Option<CardCalibration>,
    /// `usable`, or `weak` with the reasons in `weaknesses`.
    pub verdict: String,
    pub weaknesses: Vec<String>,
    pub limits: Vec<String>,
    pub bullseye_version: String,
}

impl ModelCard {
    /// The card of a freshly trained model.
    pub fn build(
        report: &TrainingReport,
        artifact: &ModelArtifact,
        holdout: &HoldoutScores,
    ) -> Result<Self> {
        let seed = report.settings.as_ref().map_or(0, |s| s.seed);
        let y = holdout.labels.view();
        let p = holdout.scores.view();
        let mut metrics = CardMetrics {
            resamples: BOOTSTRAP_RESAMPLES,
            seed,
            auc: None,
            log_loss: None,
            brier: None,
            qini: None,
        };
        let mut calibration = None;
        if let Some(c) = &report.metrics.classification {
            // The calibration figures are one core's sequential sums: computed beside the
            // bootstrap, whose tasks fill the other core (each figure's arithmetic unchanged).
            let (draws, figures) = rayon::join(
                || classification_draws(y, p, BOOTSTRAP_RESAMPLES, seed),
                || -> Result<_> {
                    let after = match &holdout.calibrated {
                        Some(c) => Some(CalibratedScores {
                            reliability: reliability(y, c.view())?,
                            fit: logistic_recalibration(y, c.view()),
                            log_loss: log_loss(y, c.view())?,
                            brier: brier(y, c.view())?,
                        }),
                        None => None,
                    };
                    Ok((reliability(y, p)?, logistic_recalibration(y, p), after))
                },
            );
            let b = draws?;
            let (reliability, fit, after) = figures?;
            metrics.auc = Some(b.auc.at(c.auc));
            metrics.log_loss = Some(b.log_loss.at(c.log_loss));
            metrics.brier = Some(b.brier.at(c.brier));
            calibration = Some(CardCalibration {
                reliability,
                fit,
                platt: match &artifact.model {
                    ArtifactModel::Single {
                        model: FittedModel::Forest(f),
                    } => f.calibration,
                    _ => None,
                },
                after,
            });
        }
        if let (Some(u), Some(t)) = (&report.metrics.uplift, &holdout.treatment) {
            metrics.qini =
                Some(qini_draws(y, p, t.view(), BOOTSTRAP_RESAMPLES, seed).at(u.qini_coefficient));
        }
        let holdout_positives = y.iter().filter(|&&v| v == 1.0).count();
        let weaknesses = guard::weaknesses(report, artifact.preprocessing.n_features());
        let limits = limits(report, holdout_positives);
        Ok(Self {
            schema_version: CARD_SCHEMA_VERSION,
            kind: kind_name(report.kind).to_string(),
            learner: format!("{:?}", report.model_type).to_lowercase(),
            label: report.label.clone(),
            source: report.source.clone(),
            treatment: report.treatment.clone(),
            training_rows: report.rows,
            training_positives: report.positives,
            window: report.window.clone(),
            training_data_hash: report.training_data_hash.clone(),
            refit: report.refit,
            holdout_rule: report.holdout.definition.clone(),
            holdout_rows: report.holdout.rows,
            holdout_positives,
            holdout_hash: report.holdout.hash.clone(),
            features: artifact
                .preprocessing
                .schema()
                .into_iter()
                .map(|f| f.name)
                .collect(),
            top_features: top_features(report, artifact),
            settings: settings_rows(report)
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
            metrics,
            calibration,
            verdict: if weaknesses.is_empty() {
                "usable"
            } else {
                "weak"
            }
            .into(),
            weaknesses,
            limits,
            bullseye_version: report.bullseye_version.clone(),
        })
    }

    /// The card as Markdown (without the registry's history, which the caller appends).
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "# Model card: {} model ({})\n\n## Purpose\n- predicts `{}` ({})\n- trained from: {}\n",
            self.kind,
            self.learner,
            self.label,
            match self.kind.as_str() {
                "uplift" => "treated minus control probability",
                "churn" => "probability of buying nothing over the horizon",
                _ => "probability of responding to a campaign",
            },
            self.source
        );
        if let Some(t) = &self.treatment {
            s.push_str(&format!("- treated rows: {t}\n"));
        }
        s.push_str(&format!(
            "\n## Training data\n- {} rows, {} positive\n- window: {}\n- data hash: {}\n- refit on all rows after evaluation: {}\n",
            self.training_rows,
            self.training_positives,
            self.window
                .as_ref()
                .map_or("-".into(), |(a, b)| format!("{a} to {b}")),
            self.training_data_hash,
            self.refit
        ));
        s.push_str(&format!(
            "\n## Holdout\n- rule: {}\n- {} rows, {} positive (hash {})\n",
            self.holdout_rule, self.holdout_rows, self.holdout_positives, self.holdout_hash
        ));
        s.push_str(&format!(
            "\n## Features\n{} model inputs: {}\n",
            self.features.len(),
            self.features.join(", ")
        ));
        if !self.top_features.is_empty() {
            s.push_str("\n| model | input | measure | value |\n|---|---|---|---:|\n");
            for f in &self.top_features {
                s.push_str(&format!(
                    "| {} | {} | {} | {:.4} |\n",
                    f.model, f.name, f.measure, f.value
                ));
            }
        }
        s.push_str("\n## Settings\n");
        for (n, v) in &self.settings {
            s.push_str(&format!("- {n}: {v}\n"));
        }
        let m = &self.metrics;
        s.push_str(&format!(
            "\n## Metrics (holdout, 95% interval from {} bootstrap resamples, seed {})\n| metric | estimate | 95% interval |\n|---|---:|---|\n",
            m.resamples, m.seed
        ));
        for (name, i) in [
            ("AUC", m.auc),
            ("log loss", m.log_loss),
            ("Brier", m.brier),
            ("Qini coefficient", m.qini),
        ] {
            if let Some(i) = i {
                s.push_str(&format!(
                    "| {name} | {:.4} | {:.4} to {:.4} |\n",
                    i.estimate, i.low, i.high
                ));
            }
        }
        if let Some(c) = &self.calibration {
            s.push_str("\n## Calibration (holdout, by score decile)\n| decile | rows | mean score | observed rate |\n|---:|---:|---:|---:|\n");
            for r in &c.reliability {
                s.push_str(&format!(
                    "| {} | {} | {:.4} | {:.4} |\n",
                    r.decile, r.rows, r.mean_score, r.observed_rate
                ));
            }
            s.push_str(&match &c.fit {
                Some(f) => format!(
                    "\nlogit P(y = 1) = {:.4} + {:.4} · logit(score): intercept 0 and slope 1 are perfect calibration; a slope below 1 means scores too extreme\n",
                    f.intercept, f.slope
                ),
                None => "\ncalibration slope: cannot be fitted on this holdout\n".into(),
            });
            if let (Some(map), Some(a)) = (&c.platt, &c.after) {
                s.push_str(&format!(
                    "\nThe forest's vote share goes through the Platt map logit P = {:.4} + {:.4} · logit(share), fitted on the holdout. After it (cross-fitted: each half of the holdout calibrated by the other half's map):\n\n| decile | rows | mean score | observed rate |\n|---:|---:|---:|---:|\n",
                    map.intercept, map.slope
                ));
                for r in &a.reliability {
                    s.push_str(&format!(
                        "| {} | {} | {:.4} | {:.4} |\n",
                        r.decile, r.rows, r.mean_score, r.observed_rate
                    ));
                }
                s.push_str(&format!(
                    "\nlog loss {:.4} → {:.4}, Brier {:.4} → {:.4}{}\n",
                    m.log_loss.map_or(f64::NAN, |i| i.estimate),
                    a.log_loss,
                    m.brier.map_or(f64::NAN, |i| i.estimate),
                    a.brier,
                    a.fit.map_or(String::new(), |f| format!(
                        "; calibration intercept {:.4}, slope {:.4}",
                        f.intercept, f.slope
                    ))
                ));
            }
        }
        s.push_str(&format!("\n## Guard rails\nverdict: {}\n", self.verdict));
        for w in &self.weaknesses {
            s.push_str(&format!("- {w}\n"));
        }
        s.push_str("\n## Known limits\n");
        for l in &self.limits {
            s.push_str(&format!("- {l}\n"));
        }
        s.push_str(&format!("\nbullseye {}\n", self.bullseye_version));
        s
    }
}

/// What a reader should keep in mind about a model whatever its verdict.
fn limits(report: &TrainingReport, holdout_positives: usize) -> Vec<String> {
    let mut out = Vec::new();
    if holdout_positives < SMALL_HOLDOUT_POSITIVES {
        out.push(format!(
            "small holdout: {holdout_positives} positive rows (fewer than {SMALL_HOLDOUT_POSITIVES}), so the intervals are wide"
        ));
    }
    if let Some(c) = &report.metrics.classification {
        if c.auc < 0.6 {
            out.push(format!(
                "weak ranking: holdout AUC {:.3} is below 0.6",
                c.auc
            ));
        }
    }
    if report.refit {
        out.push(
            "the saved model is refitted on all rows: the metrics are those of the fit on the training rows only"
                .into(),
        );
    }
    out.push("feature drift is not known at training time: `bullseye score` reports it on the rows it scores".into());
    out
}

/// What a version was asked to do, as (setting, value) rows: the learner's settings, then the
/// training's (`not recorded` in a report written before they were).
pub fn settings_rows(r: &TrainingReport) -> Vec<(&'static str, String)> {
    let mut rows = vec![("learner", format!("{:?}", r.model_type).to_lowercase())];
    match &r.classifier {
        ClassifierParams::Logistic(p) => rows.extend([
            ("penalty", "l2".to_string()),
            ("l2", p.l2.to_string()),
            ("solver", "newton".to_string()),
            ("max iterations", p.max_iter.to_string()),
            ("tolerance", p.tol.to_string()),
            (
                "class weight",
                format!("{:?}", p.class_weight).to_lowercase(),
            ),
        ]),
        ClassifierParams::Forest(p) => rows.extend([
            ("trees", p.n_trees.to_string()),
            (
                "max depth",
                p.max_depth.map_or("none".into(), |d| d.to_string()),
            ),
            ("min leaf rows", p.min_samples_leaf.to_string()),
            ("min split rows", p.min_samples_split.to_string()),
            (
                "split candidates",
                p.m.map_or("√inputs".into(), |m| m.to_string()),
            ),
            ("balanced", p.balanced.to_string()),
            ("forest seed", p.seed.to_string()),
        ]),
    }
    let recorded = |f: &dyn Fn(&crate::models::TrainingSettings) -> String| {
        r.settings.as_ref().map_or("not recorded".into(), f)
    };
    rows.extend([
        ("seed", recorded(&|s| s.seed.to_string())),
        (
            "level cap",
            recorded(&|s| s.preprocess.level_cap.to_string()),
        ),
        (
            "row cap",
            recorded(&|s| s.row_cap.map_or("none".into(), |c| c.to_string())),
        ),
        ("holdout", r.holdout.definition.clone()),
        (
            "training window",
            r.window
                .as_ref()
                .map_or("-".into(), |(a, b)| format!("{a} to {b}")),
        ),
        ("refit on all rows", r.refit.to_string()),
    ]);
    rows
}

/// The coefficients of each logistic model of an artifact (the single model, or the treated and
/// control models of an uplift one), largest standardised value first (ties by name): the
/// feature, the coefficient on the model's scale and per unit of the input as it comes.
pub struct RankedCoefficients {
    /// `model`, `treated` or `control`.
    pub model: &'static str,
    pub intercept: f64,
    pub rows: Vec<(FeatureSpec, f64, f64)>,
}

/// [`RankedCoefficients`] of the logistic models of `a` (none for a forest).
pub fn ranked_coefficients(a: &ModelArtifact) -> Vec<RankedCoefficients> {
    let models: Vec<(&'static str, &FittedModel)> = match &a.model {
        ArtifactModel::Single { model } => vec![("model", model)],
        ArtifactModel::Uplift { model } => {
            vec![("treated", &model.treated), ("control", &model.control)]
        }
    };
    let schema = a.preprocessing.schema();
    models
        .into_iter()
        .filter_map(|(which, m)| {
            let FittedModel::Logistic(l) = m else {
                return None;
            };
            let mut rows: Vec<(FeatureSpec, f64, f64)> = schema
                .iter()
                .zip(l.coefficients.iter().copied())
                .map(|(f, b)| {
                    let original = match &f.transform {
                        FeatureTransform::Standardized { std, .. } => b / std,
                        _ => b,
                    };
                    (f.clone(), b, original)
                })
                .collect();
            rows.sort_by(|x, y| {
                y.1.abs()
                    .total_cmp(&x.1.abs())
                    .then_with(|| x.0.name.cmp(&y.0.name))
            });
            Some(RankedCoefficients {
                model: which,
                intercept: l.intercept,
                rows,
            })
        })
        .collect()
}

/// The strongest inputs: by permutation importance when the holdout measured it (forests), else
/// by standardised coefficient.
fn top_features(report: &TrainingReport, a: &ModelArtifact) -> Vec<TopFeature> {
    if let Some(imp) = &report.metrics.permutation_importance {
        return imp
            .iter()
            .take(TOP_FEATURES)
            .map(|f| TopFeature {
                model: "model".into(),
                name: f.name.clone(),
                measure: "AUC drop when shuffled".into(),
                value: f.auc_drop,
            })
            .collect();
    }
    ranked_coefficients(a)
        .into_iter()
        .flat_map(|r| {
            r.rows
                .into_iter()
                .take(TOP_FEATURES)
                .map(move |(f, b, _)| TopFeature {
                    model: r.model.to_string(),
                    name: f.name,
                    measure: "standardised coefficient".into(),
                    value: b,
                })
        })
        .collect()
}

/// Bootstrap draws of one statistic, turned into an interval around the full-sample estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws(Vec<f64>);

impl Draws {
    /// The 2.5 % and 97.5 % percentiles of the finite draws (numpy's linear interpolation) around
    /// `estimate`; NaN bounds when no draw is finite.
    pub fn at(&self, estimate: f64) -> Interval {
        let mut v: Vec<f64> = self.0.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        Interval {
            estimate,
            low: percentile(&v, 0.025),
            high: percentile(&v, 0.975),
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bootstrap draws of AUC, log loss and Brier score.
pub struct ClassificationDraws {
    pub auc: Draws,
    pub log_loss: Draws,
    pub brier: Draws,
}

/// One seed per resample from a generator seeded with `seed`: the draws are the same whatever
/// the thread count.
fn resample_seeds(resamples: usize, seed: u64) -> Vec<u64> {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    (0..resamples).map(|_| rng.next_u64()).collect()
}

/// The cumulative distribution of Poisson(1) at 0, 1, 2, …: a draw is the first `k` whose value
/// is at least a uniform number (beyond the table's end, 1 − CDF is below 1e-16).
fn poisson1_cdf() -> Vec<f64> {
    let mut term = (-1.0f64).exp();
    let mut cdf = Vec::with_capacity(20);
    let mut sum = term;
    for k in 1..20u32 {
        cdf.push(sum);
        term /= f64::from(k);
        sum += term;
    }
    cdf
}

/// Draws of Poisson(1): how many times a row is drawn in one resample of the Poisson bootstrap
/// (inverse CDF of `rand`'s uniform `f64`, the 53 high bits of a `u64` times 2⁻⁵³).
struct Poisson1 {
    cdf: Vec<f64>,
    /// `⌊cdf[k] · 2⁵³⌋` for the first eight entries: `u > cdf[k]` exactly when the uniform's
    /// 53-bit integer exceeds it (scaling by a power of two is exact).
    head: [u64; 8],
    /// The draw for each range of uniforms with the same top [`BUCKET_BITS`] bits, or
    /// [`STRADDLES`] when a CDF entry falls inside the range (or it may draw 8 or more): one
    /// load from a 4 KiB table decides all but ~0.2% of the draws, where eight compares per row
    /// were most of a resample's time at half a billion draws per card.
    buckets: Vec<u8>,
}

/// Top bits of the 53-bit uniform that index [`Poisson1::buckets`].
const BUCKET_BITS: u32 = 12;
/// A bucket whose draws the thresholds decide one by one.
const STRADDLES: u8 = u8::MAX;

impl Poisson1 {
    fn new() -> Self {
        let cdf = poisson1_cdf();
        let mut head = [0u64; 8];
        for (t, &c) in head.iter_mut().zip(&cdf) {
            *t = (c * UNIT_BITS as f64).floor() as u64;
        }
        let shift = 53 - BUCKET_BITS;
        let buckets = (0..1u64 << BUCKET_BITS)
            .map(|b| {
                let (lo, hi) = (b << shift, ((b + 1) << shift) - 1);
                // The count rises with the uniform: equal at both ends, equal throughout.
                match (below(&head, lo), below(&head, hi)) {
                    (a, z) if a == z && a < 8 => a as u8,
                    _ => STRADDLES,
                }
            })
            .collect();
        Self { cdf, head, buckets }
    }

    /// The first `k` with `u <= cdf[k]`, i.e. the count of entries below `u`.
    #[cfg(test)]
    fn sample(&self, rng: &mut Xoshiro256Plus) -> u32 {
        self.count_of(rng.next_u64() >> 11)
    }

    /// The draw for the 53-bit uniform integer `m` (`u = m · 2⁻⁵³`).
    #[inline(always)]
    fn count_of(&self, m: u64) -> u32 {
        match self.buckets[(m >> (53 - BUCKET_BITS)) as usize] {
            STRADDLES => self.count(m),
            k => u32::from(k),
        }
    }

    #[cold]
    fn count(&self, m: u64) -> u32 {
        let below = below(&self.head, m);
        if below < 8 {
            below
        } else {
            let u = m as f64 / UNIT_BITS as f64;
            self.cdf
                .iter()
                .position(|&c| u <= c)
                .unwrap_or(self.cdf.len()) as u32
        }
    }
}

/// How many of the thresholds `head` the 53-bit uniform `m` exceeds.
fn below(head: &[u64; 8], m: u64) -> u32 {
    head.iter().filter(|&&t| m > t).count() as u32
}

/// 2⁵³: the resolution of a uniform `f64` in [0, 1).
const UNIT_BITS: u64 = 1 << 53;

/// A holdout row in score order, with what each resample adds up.
struct SortedRow {
    /// 1 for a positive row, else 0 (and `negative` the other way): a draw's count times
    /// these is what it adds to each class, without a branch.
    positive: f64,
    negative: f64,
    log_loss: f64,
    squared_error: f64,
    /// The last row of a run of tied scores.
    tie_ends: bool,
}

/// The generator states and running sums of [`LANES`] resamples, one array per quantity, so a
/// row's work for all of them is the same few instructions on neighbouring values (the compiler
/// does them two or four at a time) — a row visit was ~40 instructions one resample at a time,
/// half a billion visits per card. Each resample's generator is the `Xoshiro256Plus` its seed
/// gives (the same outputs, a unit test checks), and its sums add its rows in score order, as a
/// plain loop would: every draw has the same bits. The counts are sums of small integers, exact
/// in an `f64` (below 2⁵³), kept as `f64` so they need no conversion where the AUC's pairs are
/// counted.
struct Lanes {
    /// Xoshiro256+ state words: `s[w][lane]`.
    s: [[u64; LANES]; 4],
    neg_below: [f64; LANES],
    pos_total: [f64; LANES],
    wins: [f64; LANES],
    /// Positives and negatives drawn in the current run of tied scores.
    wp: [f64; LANES],
    wn: [f64; LANES],
    ll: [f64; LANES],
    br: [f64; LANES],
    total: [f64; LANES],
}

/// Resamples per task, drawn side by side.
const LANES: usize = 8;

/// The state `Xoshiro256Plus::seed_from_u64(seed)` starts from: four SplitMix64 outputs (rand's
/// `from_rng` fills the 32-byte seed with them, little-endian).
fn xoshiro_state(seed: u64) -> [u64; 4] {
    let mut x = seed;
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let s = [next(), next(), next(), next()];
    if s == [0; 4] {
        // rand_xoshiro's rule for an all-zero seed (SplitMix64 never gives one in practice).
        return xoshiro_state(0);
    }
    s
}

impl Lanes {
    /// Lanes for `seeds` (at most [`LANES`]); lanes without a seed draw from seed 0 and are
    /// not read.
    fn new(seeds: &[u64]) -> Self {
        let states: [[u64; 4]; LANES] =
            std::array::from_fn(|l| xoshiro_state(seeds.get(l).copied().unwrap_or(0)));
        Self {
            s: std::array::from_fn(|w| std::array::from_fn(|l| states[l][w])),
            neg_below: [0.0; LANES],
            pos_total: [0.0; LANES],
            wins: [0.0; LANES],
            wp: [0.0; LANES],
            wn: [0.0; LANES],
            ll: [0.0; LANES],
            br: [0.0; LANES],
            total: [0.0; LANES],
        }
    }

    /// Each lane's next output of Xoshiro256+, as a 53-bit uniform integer.
    #[inline(always)]
    fn next_uniforms(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut m = [0u64; LANES];
        for l in 0..LANES {
            m[l] = s0[l].wrapping_add(s3[l]) >> 11;
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        m
    }

    /// Draws row `r` (the rows come in score order) once more for every lane.
    #[inline(always)]
    fn add_row(&mut self, r: &SortedRow, draw: &Poisson1) {
        let c = self.next_uniforms().map(|m| f64::from(draw.count_of(m)));
        for (l, &c) in c.iter().enumerate() {
            self.wp[l] += c * r.positive;
            self.wn[l] += c * r.negative;
            self.ll[l] += c * r.log_loss;
            self.br[l] += c * r.squared_error;
            self.total[l] += c;
        }
        if r.tie_ends {
            for l in 0..LANES {
                self.wins[l] += self.wp[l] * (self.neg_below[l] + 0.5 * self.wn[l]);
                self.neg_below[l] += self.wn[l];
                self.pos_total[l] += self.wp[l];
                self.wp[l] = 0.0;
                self.wn[l] = 0.0;
            }
        }
    }

    /// Lane `l`'s AUC, mean log loss and mean Brier score.
    fn finish(&self, l: usize) -> (f64, f64, f64) {
        let auc = if self.pos_total[l] > 0.0 && self.neg_below[l] > 0.0 {
            self.wins[l] / (self.pos_total[l] * self.neg_below[l])
        } else {
            f64::NAN
        };
        let mean = |sum: f64| {
            if self.total[l] > 0.0 {
                sum / self.total[l]
            } else {
                f64::NAN
            }
        };
        (auc, mean(self.ll[l]), mean(self.br[l]))
    }
}

/// `resamples` percentile-bootstrap draws of the holdout's AUC, log loss and Brier score.
///
/// A Poisson bootstrap: each row is drawn Poisson(1) times, independently, which matches the
/// multinomial draw of n rows closely for any holdout worth an interval and lets a resample be
/// one sequential pass over the rows sorted by score once (tied scores count one half), with
/// no random writes. Each resample has its own generator and walks the rows in the same order
/// whatever the blocking, so the draws are the same bits on any thread count.
pub fn classification_draws(
    y: ArrayView1<'_, f64>,
    p: ArrayView1<'_, f64>,
    resamples: usize,
    seed: u64,
) -> Result<ClassificationDraws> {
    check_scored(y, p)?;
    let n = y.len();
    let mut order: Vec<usize> = (0..n).collect();
    // A total order (ties by row): the same order whatever the sort.
    order.par_sort_unstable_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let eps = crate::models::metrics::LOG_LOSS_EPS;
    let rows: Vec<SortedRow> = order
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let (yi, pi) = (y[k], p[k]);
            let q = pi.clamp(eps, 1.0 - eps);
            SortedRow {
                positive: f64::from(u8::from(yi == 1.0)),
                negative: f64::from(u8::from(yi != 1.0)),
                log_loss: -(yi * q.ln() + (1.0 - yi) * (1.0 - q).ln()),
                squared_error: (pi - yi).powi(2),
                tie_ends: order.get(i + 1).is_none_or(|&next| p[next] != pi),
            }
        })
        .collect();
    let draw = Poisson1::new();
    let draws: Vec<(f64, f64, f64)> = resample_seeds(resamples, seed)
        .par_chunks(LANES)
        .flat_map_iter(|seeds| {
            let mut lanes = Lanes::new(seeds);
            for r in &rows {
                lanes.add_row(r, &draw);
            }
            (0..seeds.len()).map(move |l| lanes.finish(l))
        })
        .collect();
    Ok(ClassificationDraws {
        auc: Draws(draws.iter().map(|d| d.0).collect()),
        log_loss: Draws(draws.iter().map(|d| d.1).collect()),
        brier: Draws(draws.iter().map(|d| d.2).collect()),
    })
}

/// `resamples` bootstrap draws of the Qini coefficient (a resample without responders counts as
/// no draw).
pub fn qini_draws(
    y: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    t: ArrayView1<'_, f64>,
    resamples: usize,
    seed: u64,
) -> Draws {
    let n = y.len();
    if n == 0 {
        return Draws(Vec::new());
    }
    Draws(
        resample_seeds(resamples, seed)
            .par_iter()
            .map(|&s| {
                let mut rng = Xoshiro256Plus::seed_from_u64(s);
                let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
                let pick =
                    |v: ArrayView1<'_, f64>| rows.iter().map(|&i| v[i]).collect::<Array1<f64>>();
                qini_auc_score(pick(y).view(), pick(u).view(), pick(t).view()).unwrap_or(f64::NAN)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::metrics::auc;

    fn holdout(n: usize, seed: u64) -> (Array1<f64>, Array1<f64>) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let p: Array1<f64> = (0..n)
            .map(|_| (rng.gen_range(1..50) as f64) / 50.0)
            .collect();
        let y: Array1<f64> = p
            .iter()
            .map(|&v| f64::from(u8::from(rng.gen::<f64>() < 0.1 + 0.6 * v)))
            .collect();
        (y, p)
    }

    /// Every interval holds its point estimate, the same seed gives the same bits, another seed
    /// other draws; the AUC of a resample where every row is drawn once is the plain AUC.
    #[test]
    fn bootstrap_intervals_hold_the_estimate_and_are_deterministic() {
        let (y, p) = holdout(2000, 1);
        let d = classification_draws(y.view(), p.view(), 400, 9).unwrap();
        let again = classification_draws(y.view(), p.view(), 400, 9).unwrap();
        assert_eq!(d.auc, again.auc);
        assert_eq!(d.brier, again.brier);
        let other = classification_draws(y.view(), p.view(), 400, 10).unwrap();
        assert_ne!(d.auc, other.auc);
        for (draws, estimate) in [
            (&d.auc, auc(y.view(), p.view()).unwrap()),
            (&d.log_loss, log_loss(y.view(), p.view()).unwrap()),
            (&d.brier, brier(y.view(), p.view()).unwrap()),
        ] {
            let i = draws.at(estimate);
            assert!(i.low < estimate && estimate < i.high, "{i:?}");
            assert!(i.high - i.low < 0.1, "{i:?}");
        }
        // 2,000 rows: the AUC's interval is about ±2 Hanley–McNeil standard errors.
        let i = d.auc.at(auc(y.view(), p.view()).unwrap());
        let se = guard::auc_standard_error(i.estimate, y.sum(), 2000.0 - y.sum());
        assert!(
            ((i.high - i.low) / (4.0 * se) - 1.0).abs() < 0.25,
            "{i:?} {se}"
        );
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
        assert_eq!(percentile(&[1.0, 2.0], 0.5), 1.5);
    }

    /// Poisson(1) draws have mean and variance 1 and the right share of zeros.
    #[test]
    fn poisson_draws_have_the_poisson_moments() {
        let draw = Poisson1::new();
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let draws: Vec<f64> = (0..200_000)
            .map(|_| f64::from(draw.sample(&mut rng)))
            .collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
        let zeros = draws.iter().filter(|&&d| d == 0.0).count() as f64 / n;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        assert!((zeros - (-1.0f64).exp()).abs() < 0.005, "{zeros}");
    }

    /// The float search the integer thresholds stand for: `rand`'s uniform `f64`, then the
    /// first CDF entry at least as large.
    fn float_poisson1(rng: &mut Xoshiro256Plus, cdf: &[f64]) -> u32 {
        let u: f64 = rng.gen();
        cdf.iter().position(|&c| u <= c).unwrap_or(cdf.len()) as u32
    }

    /// The integer head of the search gives the float search's count on every draw, at each
    /// threshold's edge too.
    #[test]
    fn integer_thresholds_draw_what_the_float_search_draws() {
        let draw = Poisson1::new();
        for (k, (&t, &c)) in draw.head.iter().zip(&draw.cdf).enumerate() {
            for m in [t.saturating_sub(1), t, t + 1] {
                let u = m as f64 / UNIT_BITS as f64;
                assert_eq!(m > t, u > c, "entry {k}, m {m}");
                // Through the bucket table as well as the thresholds.
                let as_float = draw.cdf.iter().position(|&c| u <= c).unwrap() as u32;
                let bucket = draw.buckets[(m >> (53 - BUCKET_BITS)) as usize];
                let drawn = if bucket == STRADDLES {
                    draw.count(m)
                } else {
                    u32::from(bucket)
                };
                assert_eq!(drawn, as_float, "entry {k}, m {m}");
            }
        }
        let straddling = draw.buckets.iter().filter(|&&b| b == STRADDLES).count();
        assert!(straddling <= 9, "{straddling} buckets straddle a CDF entry");
        let (mut a, mut b) = (
            Xoshiro256Plus::seed_from_u64(11),
            Xoshiro256Plus::seed_from_u64(11),
        );
        for _ in 0..1_000_000 {
            assert_eq!(draw.sample(&mut a), float_poisson1(&mut b, &draw.cdf));
        }
    }

    /// The lanes' generators are `Xoshiro256Plus::seed_from_u64`'s, output for output (the 53
    /// high bits a uniform draw takes), for seeds in every lane and a lane without one.
    #[test]
    fn lanes_draw_what_xoshiro256plus_draws() {
        let seeds: Vec<u64> = vec![0, 1, 7, u64::MAX, 0x1234_5678_9abc_def0, 42, 99];
        let mut lanes = Lanes::new(&seeds);
        let mut rngs: Vec<Xoshiro256Plus> = (0..LANES)
            .map(|l| Xoshiro256Plus::seed_from_u64(seeds.get(l).copied().unwrap_or(0)))
            .collect();
        for _ in 0..1000 {
            let m = lanes.next_uniforms();
            for (l, rng) in rngs.iter_mut().enumerate() {
                assert_eq!(m[l], rng.next_u64() >> 11, "lane {l}");
            }
        }
    }

    /// The resamples side by side are, bit for bit, one plain pass per resample over the sorted
    /// rows (ties included; a resample count that fills no task evenly).
    #[test]
    fn resamples_side_by_side_are_the_plain_row_loop() {
        let (y, p) = holdout(5_000, 2);
        let (resamples, seed) = (37, 5);
        let d = classification_draws(y.view(), p.view(), resamples, seed).unwrap();
        let mut order: Vec<usize> = (0..y.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
        let eps = crate::models::metrics::LOG_LOSS_EPS;
        let cdf = poisson1_cdf();
        for (r, &s) in resample_seeds(resamples, seed).iter().enumerate() {
            let mut rng = Xoshiro256Plus::seed_from_u64(s);
            let (mut neg_below, mut pos_total, mut wins) = (0.0, 0.0, 0.0);
            let (mut wp, mut wn) = (0.0, 0.0);
            let (mut ll, mut br, mut total) = (0.0, 0.0, 0.0);
            for (i, &k) in order.iter().enumerate() {
                let (yi, pi) = (y[k], p[k]);
                let q = pi.clamp(eps, 1.0 - eps);
                let c = f64::from(float_poisson1(&mut rng, &cdf));
                if yi == 1.0 {
                    wp += c;
                } else {
                    wn += c;
                }
                ll += c * -(yi * q.ln() + (1.0 - yi) * (1.0 - q).ln());
                br += c * (pi - yi).powi(2);
                total += c;
                if order.get(i + 1).is_none_or(|&next| p[next] != pi) {
                    wins += wp * (neg_below + 0.5 * wn);
                    neg_below += wn;
                    pos_total += wp;
                    (wp, wn) = (0.0, 0.0);
                }
            }
            let auc = wins / (pos_total * neg_below);
            assert_eq!(d.auc.0[r].to_bits(), auc.to_bits(), "resample {r}");
            assert_eq!(d.log_loss.0[r].to_bits(), (ll / total).to_bits());
            assert_eq!(d.brier.0[r].to_bits(), (br / total).to_bits());
        }
    }

    #[test]
    fn qini_draws_are_deterministic_and_hold_the_estimate() {
        let mut rng = Xoshiro256Plus::seed_from_u64(4);
        let n = 3000;
        let t: Array1<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let u: Array1<f64> = (0..n).map(|_| rng.gen_range(-0.1..0.3)).collect();
        let y: Array1<f64> = (0..n)
            .map(|i| f64::from(u8::from(rng.gen::<f64>() < 0.1 + t[i] * u[i].max(0.0))))
            .collect();
        let q = qini_auc_score(y.view(), u.view(), t.view()).unwrap();
        let d = qini_draws(y.view(), u.view(), t.view(), 200, 1);
        assert_eq!(d, qini_draws(y.view(), u.view(), t.view(), 200, 1));
        let i = d.at(q);
        assert!(i.low < q && q < i.high, "{i:?}");
    }
}
