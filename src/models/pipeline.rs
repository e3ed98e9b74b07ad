//! One call from a prepared table to a saved-ready [`ModelArtifact`]: split, fit, evaluate, refit.
//!
//! Order of work: the preprocessing and the model are fitted on the training rows only and scored
//! on the holdout rows for the metrics (so the metrics never see holdout statistics); with
//! `refit = true` both are then refitted on all rows and that final fit is what the artifact
//! holds, its drift reference describing all rows. Without refit the artifact holds the
//! train-only fit and the drift reference describes the training rows.

use ndarray::{Array1, Array2, ArrayView1, Axis};

use crate::models::artifact::{
    ArtifactModel, DriftReference, ModelArtifact, ModelKind, ARTIFACT_SCHEMA_VERSION,
};
use crate::models::classifier::{Classifier, ClassifierParams};
use crate::models::error::{ModelsError, Result};
use crate::models::metrics::{classification_metrics, Metrics, METRICS_SCHEMA_VERSION};
use crate::models::preprocess::{CategoricalColumns, ModelInput, PreprocessParams, Preprocessing};
use crate::models::qini::uplift_metrics;
use crate::models::uplift::UpliftModel;

/// Everything needed to train one model.
#[derive(Debug, Clone)]
pub struct TrainRequest<'a> {
    /// Response, churn or uplift.
    pub kind: ModelKind,
    /// Feature table (all rows, training and holdout).
    pub input: ModelInput<'a>,
    /// 0/1 label per row.
    pub labels: ArrayView1<'a, f64>,
    /// 0/1 treatment flag per row (required for uplift, ignored otherwise).
    pub treatment: Option<ArrayView1<'a, f64>>,
    /// `true` = holdout row (see [`crate::models::split`]).
    pub holdout: &'a [bool],
    /// Feature preparation parameters.
    pub preprocess: PreprocessParams,
    /// Learner and its parameters.
    pub classifier: ClassifierParams,
    /// Refit on all rows after evaluation.
    pub refit: bool,
    /// Hash of the training data, computed by the caller.
    pub training_data_hash: String,
    /// Version string of `bullseye`.
    pub bullseye_version: String,
}

/// An owned subset of an input table.
struct OwnedInput {
    numeric: Array2<f64>,
    categorical: CategoricalColumns,
}

fn subset(input: &ModelInput<'_>, rows: &[usize]) -> OwnedInput {
    OwnedInput {
        numeric: input.numeric.select(Axis(0), rows),
        categorical: CategoricalColumns {
            names: input.categorical.names.clone(),
            values: input
                .categorical
                .values
                .iter()
                .map(|c| rows.iter().map(|&i| c[i].clone()).collect())
                .collect(),
        },
    }
}

/// A fitted preprocessing + model, and the scores on the rows it was fitted on.
struct Fit {
    preprocessing: Preprocessing,
    model: ArtifactModel,
    train_scores: Array1<f64>,
}

fn fit_on(req: &TrainRequest<'_>, input: &ModelInput<'_>, rows: &[usize]) -> Result<Fit> {
    let preprocessing = req.preprocess.fit(input)?;
    let x = preprocessing.transform(input)?;
    let y = req.labels.select(Axis(0), rows);
    let model = match req.kind {
        ModelKind::Uplift => {
            let t = req.treatment.ok_or(ModelsError::Empty {
                what: "an uplift model needs the treatment flags",
            })?;
            let t = t.select(Axis(0), rows);
            ArtifactModel::Uplift {
                model: UpliftModel::fit(&req.classifier, x.view(), y.view(), t.view())?,
            }
        }
        ModelKind::Response | ModelKind::Churn => ArtifactModel::Single {
            model: req.classifier.fit(x.view(), y.view())?,
        },
    };
    let train_scores = match &model {
        ArtifactModel::Single { model } => model.predict_proba(x.view())?,
        ArtifactModel::Uplift { model } => model.predict(x.view())?.uplift,
    };
    Ok(Fit {
        preprocessing,
        model,
        train_scores,
    })
}

/// Split, fit on training rows, evaluate on holdout rows, optionally refit, and assemble the artifact.
pub fn train(req: &TrainRequest<'_>) -> Result<ModelArtifact> {
    let n = req.input.n_rows()?;
    for (what, len) in [
        ("labels vs table rows", req.labels.len()),
        ("holdout mask vs table rows", req.holdout.len()),
    ] {
        if len != n {
            return Err(ModelsError::LengthMismatch {
                what,
                expected: n,
                found: len,
            });
        }
    }
    if let Some(t) = req.treatment {
        if t.len() != n {
            return Err(ModelsError::LengthMismatch {
                what: "treatment flags vs table rows",
                expected: n,
                found: t.len(),
            });
        }
    }
    let train_rows: Vec<usize> = (0..n).filter(|&i| !req.holdout[i]).collect();
    let test_rows: Vec<usize> = (0..n).filter(|&i| req.holdout[i]).collect();
    if train_rows.is_empty() || test_rows.is_empty() {
        return Err(ModelsError::SingleClass {
            what: "holdout split (train and test both need rows)",
            found: if test_rows.is_empty() {
                "train only"
            } else {
                "test only"
            }
            .into(),
        });
    }
    let train_tab = subset(&req.input, &train_rows);
    let train_input = ModelInput {
        numeric_names: req.input.numeric_names,
        numeric: train_tab.numeric.view(),
        categorical: &train_tab.categorical,
    };
    let fit = fit_on(req, &train_input, &train_rows)?;

    let test_tab = subset(&req.input, &test_rows);
    let test_input = ModelInput {
        numeric_names: req.input.numeric_names,
        numeric: test_tab.numeric.view(),
        categorical: &test_tab.categorical,
    };
    let x_test = fit.preprocessing.transform(&test_input)?;
    let y_test = req.labels.select(Axis(0), &test_rows);
    let metrics = match &fit.model {
        ArtifactModel::Single { model } => Metrics {
            schema_version: METRICS_SCHEMA_VERSION,
            classification: Some(classification_metrics(
                y_test.view(),
                model.predict_proba(x_test.view())?.view(),
            )?),
            uplift: None,
        },
        ArtifactModel::Uplift { model } => {
            let t = req.treatment.ok_or(ModelsError::Empty {
                what: "an uplift model needs the treatment flags",
            })?;
            let t_test = t.select(Axis(0), &test_rows);
            Metrics {
                schema_version: METRICS_SCHEMA_VERSION,
                classification: None,
                uplift: Some(uplift_metrics(
                    y_test.view(),
                    model.predict(x_test.view())?.uplift.view(),
                    t_test.view(),
                )?),
            }
        }
    };

    let (final_fit, drift, training_rows) = if req.refit {
        let all: Vec<usize> = (0..n).collect();
        let refit = fit_on(req, &req.input, &all)?;
        let drift = DriftReference::from_training(
            &refit.preprocessing,
            &req.input,
            refit.train_scores.view(),
        )?;
        (refit, drift, n)
    } else {
        let drift = DriftReference::from_training(
            &fit.preprocessing,
            &train_input,
            fit.train_scores.view(),
        )?;
        (fit, drift, train_rows.len())
    };
    Ok(ModelArtifact {
        schema_version: ARTIFACT_SCHEMA_VERSION,
        kind: req.kind,
        model_type: req.classifier.model_type(),
        preprocessing: final_fit.preprocessing,
        model: final_fit.model,
        training_rows,
        training_data_hash: req.training_data_hash.clone(),
        drift,
        metrics,
        refit: req.refit,
        bullseye_version: req.bullseye_version.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::logistic::LogisticParams;
    use crate::models::split::fraction_split;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    #[test]
    fn trains_evaluates_and_refits() {
        let n = 4000;
        let mut rng = Xoshiro256Plus::seed_from_u64(11);
        let x = Array2::from_shape_fn((n, 1), |_| rng.gen_range(-2.0..2.0));
        let t: Array1<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let y: Array1<f64> = (0..n)
            .map(|i| {
                let z = x[[i, 0]]
                    + if t[i] == 1.0 {
                        0.8 * f64::max(x[[i, 0]], 0.0)
                    } else {
                        0.0
                    };
                f64::from(rng.gen::<f64>() < crate::models::logistic::sigmoid(z))
            })
            .collect();
        let names = vec!["x".to_string()];
        let cat = CategoricalColumns {
            names: vec!["c".into()],
            values: vec![(0..n).map(|i| format!("l{}", i % 4)).collect()],
        };
        let holdout = fraction_split(n, 0.25, 3).unwrap();
        let mut req = TrainRequest {
            kind: ModelKind::Response,
            input: ModelInput {
                numeric_names: &names,
                numeric: x.view(),
                categorical: &cat,
            },
            labels: y.view(),
            treatment: Some(t.view()),
            holdout: &holdout,
            preprocess: PreprocessParams::default(),
            classifier: ClassifierParams::Logistic(LogisticParams::default()),
            refit: false,
            training_data_hash: "h".into(),
            bullseye_version: "0.1.0".into(),
        };
        let a = train(&req).unwrap();
        let m = a.metrics.classification.as_ref().unwrap();
        assert_eq!(m.n_rows, 1000);
        assert_eq!(a.training_rows, 3000);
        assert!(m.auc > 0.7, "{}", m.auc);
        req.refit = true;
        let b = train(&req).unwrap();
        assert_eq!(b.training_rows, n);
        // Refit changes the model but not the holdout evaluation.
        assert_eq!(b.metrics, a.metrics);
        req.kind = ModelKind::Uplift;
        let u = train(&req).unwrap();
        let um = u.metrics.uplift.as_ref().unwrap();
        assert!(um.qini_coefficient.is_finite());
        assert_eq!(um.n_rows, 1000);
        req.treatment = None;
        assert!(train(&req).is_err());
    }
}
