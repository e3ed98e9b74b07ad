//! Training options, the holdout, the hash of the training data; the report (`metrics.json`) is
//! [`crate::models::TrainingReport`].

use ndarray::Array1;
use sha2::{Digest, Sha256};

use super::frame;
use super::rows::{date_of, TrainingTable};
use super::TrainingError;
use crate::io::hex;
use crate::models::split::{column_split, fraction_split, time_split};
use crate::models::{
    self, ClassifierParams, HoldoutInfo, HoldoutScores, ModelArtifact, ModelCard, ModelKind,
    PreprocessParams, TrainRequest, TrainingReport, TrainingSettings, REPORT_SCHEMA_VERSION,
};

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

/// A trained model: the artifact (`model.json`), its report (`metrics.json`), its card
/// (`model_card.json`) and its holdout rows with their scores under the train-only fit (the
/// registry keeps the rows, to score the production model on them when promoting).
#[derive(Debug)]
pub struct TrainedModel {
    pub artifact: ModelArtifact,
    pub report: TrainingReport,
    pub card: ModelCard,
    pub holdout: HoldoutScores,
}

fn hash_strings<'a>(h: &mut Sha256, v: impl IntoIterator<Item = &'a String>) {
    for s in v {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
}

/// The values' little-endian bytes, handed to the hasher 8 KiB at a time: one `update` per
/// value costs more than the hashing itself (a 2M-row matrix is 120M values).
fn hash_f64<'a>(h: &mut Sha256, v: impl IntoIterator<Item = &'a f64>) {
    const VALUES: usize = 1024;
    let mut buf = [0u8; VALUES * 8];
    let mut filled = 0;
    for x in v {
        buf[filled..filled + 8].copy_from_slice(&x.to_le_bytes());
        filled += 8;
        if filled == buf.len() {
            h.update(buf);
            filled = 0;
        }
    }
    h.update(&buf[..filled]);
}

/// [`hash_f64`] of an array: on a little-endian machine a contiguous row-major array's memory
/// is those bytes already, and is handed to the hasher as it is (a 2.2M-row training matrix
/// is a gigabyte: the copy cost a third of the hashing).
fn hash_array<D: ndarray::Dimension>(h: &mut Sha256, a: &ndarray::Array<f64, D>) {
    match a.as_slice() {
        Some(values) if cfg!(target_endian = "little") => {
            h.update(bytemuck::cast_slice::<f64, u8>(values))
        }
        _ => hash_f64(h, a.iter()),
    }
}

/// SHA-256 of the training matrix: column names, numeric values (row-major, little-endian f64),
/// categorical values, labels and treatment flags.
pub(crate) fn training_hash(t: &TrainingTable, treatment: Option<&Array1<f64>>) -> String {
    let mut h = Sha256::new();
    hash_strings(&mut h, &t.numeric_names);
    h.update((t.numeric.nrows() as u64).to_le_bytes());
    hash_array(&mut h, &t.numeric);
    hash_strings(&mut h, &t.categorical.names);
    for c in &t.categorical.values {
        hash_strings(&mut h, c);
    }
    hash_array(&mut h, &t.labels);
    if let Some(tr) = treatment {
        hash_array(&mut h, tr);
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

pub(super) fn holdout_mask(
    t: &TrainingTable,
    choice: &HoldoutChoice,
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<(Vec<bool>, String), TrainingError> {
    let n = t.n_rows();
    let random = |fraction: f64| -> Result<(Vec<bool>, String), TrainingError> {
        Ok((
            fraction_split(n, fraction, seed)?,
            format!("fraction {fraction} (random, seed {seed})"),
        ))
    };
    match choice {
        HoldoutChoice::Fraction { fraction } => random(*fraction),
        HoldoutChoice::Time { fraction } => match &t.dates {
            Some(d) => {
                let mask = time_split(d, *fraction)?;
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
            Ok((column_split(&v)?, format!("column `{c}` (1 = holdout)")))
        }
    }
}

/// The 0/1 treatment flag of each row of an uplift model (`None` for the other kinds).
pub(super) fn treatment_flags(
    t: &TrainingTable,
    opts: &TrainOptions,
) -> Result<Option<Array1<f64>>, TrainingError> {
    match (opts.kind, &opts.treatment) {
        (ModelKind::Uplift, Some(spec)) => {
            let v = frame::text_column(&t.extra, &spec.column, "the training rows")?;
            Ok(Some(
                v.iter()
                    .map(|x| f64::from(u8::from(*x != spec.control_value)))
                    .collect::<Array1<f64>>(),
            ))
        }
        (ModelKind::Uplift, None) => Err(TrainingError::internal(
            "an uplift model without a treatment column",
        )),
        _ => Ok(None),
    }
}

/// The fit's request over every row of `t`, `mask` marking the holdout.
pub(super) fn request<'a>(
    t: &'a TrainingTable,
    opts: &TrainOptions,
    mask: &'a [bool],
    treatment: Option<&'a Array1<f64>>,
) -> TrainRequest<'a> {
    TrainRequest {
        kind: opts.kind,
        input: t.input(),
        labels: t.labels.view(),
        treatment: treatment.map(|x| x.view()),
        holdout: mask,
        preprocess: opts.preprocess.clone(),
        classifier: opts.classifier.clone(),
        refit: opts.refit,
        // Filled in by `train`: the hash is metadata the fit does not read.
        training_data_hash: String::new(),
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Splits, fits, evaluates and (optionally) refits; the artifact and its report.
pub fn train(t: &TrainingTable, opts: &TrainOptions) -> Result<TrainedModel, TrainingError> {
    let mut notes = t.notes.clone();
    let (mask, definition) = holdout_mask(t, &opts.holdout, opts.seed, &mut notes)?;
    let treatment = treatment_flags(t, opts)?;
    let req = request(t, opts, &mask, treatment.as_ref());
    // SHA-256 over the whole matrix is one core's work for most of a second at 2M rows; it
    // runs beside the fit, whose serial steps leave a core free.
    let (training_data_hash, artifact) = std::thread::scope(|s| {
        let hashing = s.spawn(|| training_hash(t, treatment.as_ref()));
        let artifact = models::train_evaluated(&req);
        (hashing.join(), artifact)
    });
    let training_data_hash = training_data_hash
        .map_err(|_| TrainingError::internal("hashing the training rows failed"))?;
    let (mut artifact, holdout) = artifact?;
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
        settings: Some(TrainingSettings {
            seed: opts.seed,
            preprocess: opts.preprocess.clone(),
            row_cap: t.row_cap,
        }),
        refit: opts.refit,
        feature_levels: t.feature_levels.clone(),
        notes,
        metrics: artifact.metrics.clone(),
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
        cv: None,
        sweep: None,
    };
    let card = ModelCard::build(&report, &artifact, &holdout)?;
    Ok(TrainedModel {
        artifact,
        report,
        card,
        holdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    /// An array's memory handed over as bytes hashes as its values one by one in row-major
    /// order; a column-major array (whose memory is in another order) takes the value loop.
    #[test]
    fn arrays_hash_as_their_values_in_row_major_order() {
        let digest = |f: &dyn Fn(&mut Sha256)| {
            let mut h = Sha256::new();
            f(&mut h);
            hex(h.finalize())
        };
        let rows = Array2::from_shape_fn((5, 3), |(i, j)| i as f64 * 1.5 - j as f64 / 3.0);
        let columns = Array2::from_shape_fn((5, 3).f(), |(i, j)| rows[[i, j]]);
        let values: Vec<f64> = rows.iter().copied().collect();
        let expected = digest(&|h| hash_f64(h, values.iter()));
        assert_eq!(digest(&|h| hash_array(h, &rows)), expected);
        assert_eq!(digest(&|h| hash_array(h, &columns)), expected);
        let labels = Array1::from(vec![1.0, 0.0, -0.0, f64::MAX]);
        assert_eq!(
            digest(&|h| hash_array(h, &labels)),
            digest(&|h| hash_f64(h, labels.iter()))
        );
    }
}
