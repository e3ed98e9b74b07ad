//! Training options, the holdout, the hash of the training data and the report (`metrics.json`).

use std::collections::BTreeMap;

use ndarray::Array1;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::frame;
use super::input_error;
use super::rows::{date_of, TrainingTable};
use crate::io::hex;
use crate::models::split::{column_split, fraction_split, time_split};
use crate::models::{
    self, ClassifierParams, Metrics, ModelArtifact, ModelKind, ModelType, PreprocessParams,
    TrainRequest,
};
use crate::run::settings::HOLDOUT;
use crate::run::{RunError, Via};
use crate::Error;

/// Layout version of [`TrainingReport`].
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Which rows evaluate the model.
#[derive(Debug, Clone, PartialEq)]
pub enum HoldoutChoice {
    /// The rows of the latest dates (whole dates), about `fraction` of the rows. Rows without
    /// dates (churn, flat tables) fall back to a random `fraction` drawn with the seed.
    Time { fraction: f64 },
    /// A random `fraction` of the rows, drawn with the seed.
    Fraction { fraction: f64 },
    /// A 0/1 column of the source rows: 1 = holdout.
    Column(String),
}

impl HoldoutChoice {
    /// `time`, `time:F`, `fraction:F` or `column:COL`; the share F is checked with the other
    /// training settings ([`crate::run::settings::check_train`]).
    pub fn parse(s: &str, via: Via) -> Result<HoldoutChoice, RunError> {
        let bad = || {
            RunError::invalid(
                HOLDOUT.named(via),
                "time, time:F, fraction:F (0 < F < 1) or column:COL",
                format!("`{s}`"),
            )
        };
        let fraction = |f: &str| f.trim().parse::<f64>().map_err(|_| bad());
        match s.split_once(':') {
            None if s == "time" => Ok(HoldoutChoice::Time { fraction: 0.2 }),
            Some(("time", f)) => Ok(HoldoutChoice::Time {
                fraction: fraction(f)?,
            }),
            Some(("fraction", f)) => Ok(HoldoutChoice::Fraction {
                fraction: fraction(f)?,
            }),
            Some(("column", c)) if !c.is_empty() => Ok(HoldoutChoice::Column(c.to_string())),
            _ => Err(bad()),
        }
    }
}

/// The treatment flag of an uplift model: rows whose `column` is not `control_value` are treated.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentSpec {
    pub column: String,
    pub control_value: String,
}

/// Everything [`train`] needs besides the rows.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub kind: ModelKind,
    pub classifier: ClassifierParams,
    pub preprocess: PreprocessParams,
    pub holdout: HoldoutChoice,
    /// Seed of the random holdout (the forest carries its own seed in `classifier`).
    pub seed: u64,
    /// Refit on all rows after the holdout evaluation.
    pub refit: bool,
    /// Required for uplift models, ignored otherwise.
    pub treatment: Option<TreatmentSpec>,
}

/// How the holdout was drawn, so two models' metrics can be compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutInfo {
    pub definition: String,
    pub rows: usize,
    /// SHA-256 of the holdout rows' ids and labels.
    pub hash: String,
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
    pub refit: bool,
    /// Categorical levels the feature builder was fixed to (build scoring features with them).
    pub feature_levels: BTreeMap<String, Vec<String>>,
    pub notes: Vec<String>,
    pub metrics: Metrics,
    pub bullseye_version: String,
}

/// A trained model: the artifact (`model.json`) and its report (`metrics.json`).
#[derive(Debug)]
pub struct TrainedModel {
    pub artifact: ModelArtifact,
    pub report: TrainingReport,
}

fn hash_strings<'a>(h: &mut Sha256, v: impl IntoIterator<Item = &'a String>) {
    for s in v {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
}

fn hash_f64<'a>(h: &mut Sha256, v: impl IntoIterator<Item = &'a f64>) {
    for x in v {
        h.update(x.to_le_bytes());
    }
}

/// SHA-256 of the training matrix: column names, numeric values (row-major, little-endian f64),
/// categorical values, labels and treatment flags.
pub(crate) fn training_hash(t: &TrainingTable, treatment: Option<&Array1<f64>>) -> String {
    let mut h = Sha256::new();
    hash_strings(&mut h, &t.numeric_names);
    h.update((t.numeric.nrows() as u64).to_le_bytes());
    hash_f64(&mut h, t.numeric.iter());
    hash_strings(&mut h, &t.categorical.names);
    for c in &t.categorical.values {
        hash_strings(&mut h, c);
    }
    hash_f64(&mut h, t.labels.iter());
    if let Some(tr) = treatment {
        hash_f64(&mut h, tr.iter());
    }
    hex(h.finalize())
}

fn holdout_hash(t: &TrainingTable, mask: &[bool]) -> String {
    let mut h = Sha256::new();
    for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
        h.update((t.ids[i].len() as u64).to_le_bytes());
        h.update(t.ids[i].as_bytes());
        h.update(t.labels[i].to_le_bytes());
    }
    hex(h.finalize())
}

fn holdout_mask(
    t: &TrainingTable,
    choice: &HoldoutChoice,
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<(Vec<bool>, String), Error> {
    let n = t.n_rows();
    let random = |fraction: f64| -> Result<(Vec<bool>, String), Error> {
        Ok((
            fraction_split(n, fraction, seed).map_err(input_error)?,
            format!("fraction {fraction} (random, seed {seed})"),
        ))
    };
    match choice {
        HoldoutChoice::Fraction { fraction } => random(*fraction),
        HoldoutChoice::Time { fraction } => match &t.dates {
            Some(d) => {
                let mask = time_split(d, *fraction).map_err(input_error)?;
                let from = d
                    .iter()
                    .zip(&mask)
                    .filter(|(_, m)| **m)
                    .map(|(d, _)| *d)
                    .min()
                    .unwrap_or_default();
                Ok((
                    mask,
                    format!(
                        "time: contact dates from {} (target {fraction})",
                        date_of(from)
                    ),
                ))
            }
            None => {
                notes.push(format!(
                    "the rows have no dates of their own: the time holdout fell back to a random fraction {fraction}"
                ));
                random(*fraction)
            }
        },
        HoldoutChoice::Column(c) => {
            let v = frame::label_column(&t.extra, c, "the training rows")?;
            Ok((
                column_split(&v).map_err(input_error)?,
                format!("column `{c}` (1 = holdout)"),
            ))
        }
    }
}

/// Splits, fits, evaluates and (optionally) refits; the artifact and its report.
pub fn train(t: &TrainingTable, opts: &TrainOptions) -> Result<TrainedModel, Error> {
    let mut notes = t.notes.clone();
    let (mask, definition) = holdout_mask(t, &opts.holdout, opts.seed, &mut notes)?;
    let treatment = match (opts.kind, &opts.treatment) {
        (ModelKind::Uplift, Some(spec)) => {
            let v = frame::text_column(&t.extra, &spec.column, "the training rows")?;
            Some(
                v.iter()
                    .map(|x| f64::from(u8::from(*x != spec.control_value)))
                    .collect::<Array1<f64>>(),
            )
        }
        (ModelKind::Uplift, None) => {
            return Err(RunError::internal("an uplift model without a treatment column").into())
        }
        _ => None,
    };
    let req = TrainRequest {
        kind: opts.kind,
        input: t.input(),
        labels: t.labels.view(),
        treatment: treatment.as_ref().map(|x| x.view()),
        holdout: &mask,
        preprocess: opts.preprocess.clone(),
        classifier: opts.classifier.clone(),
        refit: opts.refit,
        // Filled in below: the hash is metadata the fit does not read.
        training_data_hash: String::new(),
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    // SHA-256 over the whole matrix is one core's work for most of a second at 2M rows; it
    // runs beside the fit, whose serial steps leave a core free.
    let (training_data_hash, artifact) = std::thread::scope(|s| {
        let hashing = s.spawn(|| training_hash(t, treatment.as_ref()));
        let artifact = models::train(&req);
        (hashing.join(), artifact)
    });
    let training_data_hash =
        training_data_hash.map_err(|_| RunError::internal("hashing the training rows failed"))?;
    let mut artifact = artifact.map_err(input_error)?;
    artifact.training_data_hash = training_data_hash.clone();
    let report = TrainingReport {
        schema_version: REPORT_SCHEMA_VERSION,
        kind: opts.kind,
        model_type: opts.classifier.model_type(),
        source: t.source.clone(),
        label: t.label.clone(),
        rows: t.n_rows(),
        positives: t.labels.iter().filter(|&&y| y == 1.0).count(),
        window: t.window.map(|(a, b)| (a.to_string(), b.to_string())),
        holdout: HoldoutInfo {
            definition,
            rows: mask.iter().filter(|m| **m).count(),
            hash: holdout_hash(t, &mask),
        },
        training_data_hash,
        treatment: opts
            .treatment
            .as_ref()
            .filter(|_| opts.kind == ModelKind::Uplift)
            .map(|s| format!("{} != {}", s.column, s.control_value)),
        classifier: opts.classifier.clone(),
        refit: opts.refit,
        feature_levels: t.feature_levels.clone(),
        notes,
        metrics: artifact.metrics.clone(),
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    Ok(TrainedModel { artifact, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_specs_parse() {
        assert_eq!(
            HoldoutChoice::parse("time", Via::Flags).unwrap(),
            HoldoutChoice::Time { fraction: 0.2 }
        );
        assert_eq!(
            HoldoutChoice::parse("time:0.3", Via::Flags).unwrap(),
            HoldoutChoice::Time { fraction: 0.3 }
        );
        assert_eq!(
            HoldoutChoice::parse("fraction:0.25", Via::Flags).unwrap(),
            HoldoutChoice::Fraction { fraction: 0.25 }
        );
        assert_eq!(
            HoldoutChoice::parse("column:test", Via::Flags).unwrap(),
            HoldoutChoice::Column("test".into())
        );
        for bad in ["", "fraction:x", "column:", "latest"] {
            let e = HoldoutChoice::parse(bad, Via::Flags)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("`--holdout`: expected time"), "{e}");
        }
    }
}
