//! What a model says about itself once trained (`metrics.json`, [`TrainingReport`]) and once it
//! scores a table ([`DriftReport`]), and the rule that says when drift is too much
//! ([`DriftReport::over_threshold`]).
//!
//! These are values of the models layer, not of the commands that write them: the report page,
//! the job's manifest, the registry and the error that stops a drifting run all read them, so they
//! live here, below every one of their readers, and none of those readers has to reach up into
//! the run layer for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::models::cv::{CvReport, SweepReport};
use crate::models::{ClassifierParams, Metrics, ModelKind, ModelType, PreprocessParams};

/// Layout version of [`TrainingReport`].
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// How the holdout was drawn, so two models' metrics can be compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutInfo {
    pub definition: String,
    pub rows: usize,
    /// SHA-256 of the holdout rows' ids and labels.
    pub hash: String,
}

/// The training settings besides the learner's (`classifier`), so two versions can be told
/// apart by what they were asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSettings {
    /// Seed of the random holdout and of the row cap's sample.
    pub seed: u64,
    pub preprocess: PreprocessParams,
    /// Most training rows kept (a seeded sample of them); `None`: every row.
    pub row_cap: Option<usize>,
}

/// `metrics.json`: what the model was trained on, how it was evaluated, and the metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub schema_version: u32,
    pub kind: ModelKind,
    pub model_type: ModelType,
    pub source: String,
    pub label: String,
    pub rows: usize,
    pub positives: usize,
    /// First and last as-of day of the feature rows (YYYY-MM-DD).
    pub window: Option<(String, String)>,
    pub holdout: HoldoutInfo,
    pub training_data_hash: String,
    pub treatment: Option<String>,
    pub classifier: ClassifierParams,
    /// `None` in reports written before the settings were recorded.
    #[serde(default)]
    pub settings: Option<TrainingSettings>,
    pub refit: bool,
    /// Categorical levels the feature builder was fixed to (build scoring features with them).
    pub feature_levels: BTreeMap<String, Vec<String>>,
    pub notes: Vec<String>,
    pub metrics: Metrics,
    pub bullseye_version: String,
    /// Cross-validation on the training rows (`train --cv`); absent otherwise, so a report
    /// without it reads and writes as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<CvReport>,
    /// The sweep that chose the learner's settings (`train --sweep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepReport>,
}

/// PSI of one input column against its training distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub name: String,
    /// `None` when the column has no non-missing value.
    pub psi: Option<f64>,
}

/// Population stability of a scored table: per numeric input, in the model's schema order, and
/// for the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub rows: usize,
    pub features: Vec<FeatureDrift>,
    pub score_psi: Option<f64>,
}

impl DriftReport {
    /// The `k` features with the largest PSI, largest first (ties by name).
    pub fn largest(&self, k: usize) -> Vec<&FeatureDrift> {
        let mut v: Vec<&FeatureDrift> = self.features.iter().filter(|f| f.psi.is_some()).collect();
        v.sort_by(|a, b| {
            b.psi
                .unwrap_or(0.0)
                .total_cmp(&a.psi.unwrap_or(0.0))
                .then_with(|| a.name.cmp(&b.name))
        });
        v.truncate(k);
        v
    }

    /// The largest PSI over the features and the score.
    pub fn max_psi(&self) -> f64 {
        self.features
            .iter()
            .filter_map(|f| f.psi)
            .chain(self.score_psi)
            .fold(0.0, f64::max)
    }

    /// The drift fail rule: what drifted past `fail_above` (strictly), as `score (0.412)` and
    /// `feature (0.301)`, the score first and the features in schema order. The score counts only
    /// when `check_scores`; a feature matching one of the `exclude` patterns
    /// ([`wildcard_match`]) never counts. An empty list means the check passes.
    pub fn over_threshold(
        &self,
        fail_above: f64,
        check_scores: bool,
        exclude: &[String],
    ) -> Vec<String> {
        let mut over = Vec::new();
        if check_scores {
            if let Some(p) = self.score_psi.filter(|p| *p > fail_above) {
                over.push(format!("score ({p:.3})"));
            }
        }
        for f in &self.features {
            if let Some(p) = f.psi.filter(|p| *p > fail_above) {
                if !excluded(exclude, &f.name) {
                    over.push(format!("{} ({p:.3})", f.name));
                }
            }
        }
        over
    }
}

/// Whether one of the `exclude` patterns matches `feature`.
pub fn excluded(exclude: &[String], feature: &str) -> bool {
    exclude.iter().any(|p| wildcard_match(p, feature))
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name.ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drift(score: Option<f64>, features: &[(&str, Option<f64>)]) -> DriftReport {
        DriftReport {
            rows: 10,
            features: features
                .iter()
                .map(|(n, p)| FeatureDrift {
                    name: n.to_string(),
                    psi: *p,
                })
                .collect(),
            score_psi: score,
        }
    }

    /// Strictly above the threshold fails, at it passes; the score counts only when asked;
    /// excluded patterns and columns without a PSI never count.
    #[test]
    fn the_fail_rule_names_what_drifted_past_the_threshold() {
        let d = drift(
            Some(0.5),
            &[
                ("recency", Some(0.31)),
                ("days_since_signup", Some(0.9)),
                ("frequency", Some(0.25)),
                ("empty", None),
            ],
        );
        let exclude = vec!["days_since_*".to_string()];
        assert_eq!(
            d.over_threshold(0.25, true, &exclude),
            vec!["score (0.500)", "recency (0.310)"]
        );
        assert_eq!(
            d.over_threshold(0.25, false, &exclude),
            vec!["recency (0.310)"]
        );
        assert_eq!(
            d.over_threshold(0.25, false, &[]),
            vec!["recency (0.310)", "days_since_signup (0.900)"]
        );
        assert!(d.over_threshold(1.0, true, &[]).is_empty());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("days_since_*", "days_since_signup"));
        assert!(wildcard_match("*_missing", "gender_missing"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(wildcard_match("tenure_days", "tenure_days"));
        assert!(!wildcard_match("tenure_days", "tenure_days_x"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(!wildcard_match("days_*", "btyd_t"));
    }
}
