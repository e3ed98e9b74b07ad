//! One call from a prepared table to a saved-ready [`ModelArtifact`]: split, fit, evaluate, refit.
//!
//! Order of work: the preprocessing and the model are fitted on the training rows only and scored
//! on the holdout rows for the metrics (so the metrics never see holdout statistics); with
//! `refit = true` both are then refitted on all rows and that final fit is what the artifact
//! holds, its drift reference describing all rows. A logistic refit starts from the train-only
//! coefficients (re-expressed for the refitted standardization): the same optimum in about half
//! the Newton passes over the data. Without refit the artifact holds the
//! train-only fit and the drift reference describes the training rows.

use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::models::artifact::{
    ArtifactModel, DriftReference, ModelArtifact, ModelKind, ARTIFACT_SCHEMA_VERSION,
};
use crate::models::calibration::{cross_fitted, logistic_recalibration, Platt};
use crate::models::card::{HoldoutInputs, HoldoutScores};
use crate::models::classifier::{Classifier, ClassifierParams, FittedModel};
use crate::models::drift::distribution;
use crate::models::error::{ModelsError, Result};
use crate::models::importance::permutation_importance;
use crate::models::logistic::LogisticModel;
use crate::models::metrics::{classification_metrics, Metrics, METRICS_SCHEMA_VERSION};
use crate::models::preprocess::{
    check_fit_values, CategoricalColumns, FeatureTransform, ModelInput, PreprocessParams,
    Preprocessing,
};
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
        numeric: select_rows(input.numeric, rows),
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

/// `x`'s rows at `rows`, in that order (`select(Axis(0), rows)`), copied on every core: the
/// holdout's half a million rows are a few hundred MB of new memory.
fn select_rows(x: ArrayView2<'_, f64>, rows: &[usize]) -> Array2<f64> {
    const ROWS_PER_TASK: usize = 4096;
    let cols = x.ncols();
    if cols == 0 || rows.is_empty() {
        return x.select(Axis(0), rows);
    }
    let mut out = vec![0.0; rows.len() * cols];
    out.par_chunks_mut(ROWS_PER_TASK * cols)
        .zip(rows.par_chunks(ROWS_PER_TASK))
        .for_each(|(chunk, rows)| {
            for (to, &r) in chunk.chunks_exact_mut(cols).zip(rows) {
                for (t, v) in to.iter_mut().zip(x.row(r)) {
                    *t = *v;
                }
            }
        });
    // The vector holds `rows.len()` rows of `cols` values.
    Array2::from_shape_vec((rows.len(), cols), out).unwrap_or_else(|_| x.select(Axis(0), rows))
}

/// A fitted preprocessing + model, and the scores on the rows it was fitted on when asked for.
struct Fit {
    preprocessing: Preprocessing,
    model: ArtifactModel,
    train_scores: Option<Array1<f64>>,
}

impl Fit {
    /// The scores on the training rows (see [`fit_on`]'s `with_scores`).
    fn train_scores(&self) -> Result<ArrayView1<'_, f64>> {
        self.train_scores
            .as_ref()
            .map(Array1::view)
            .ok_or(ModelsError::Empty {
                what: "the training rows' scores of a fit made without them",
            })
    }
}

/// The logistic coefficients of `previous` re-expressed for the design matrix of `next`, as a
/// starting point for the refit: the linear predictor is unchanged for every row without missing
/// values. A standardized feature's coefficient scales by the ratio of the stds and the intercept
/// absorbs the shift of the means; other features keep their coefficient by name, and a feature
/// `previous` lacked starts at 0.
fn carried_start(previous: &Fit, next: &Preprocessing) -> Option<LogisticModel> {
    let ArtifactModel::Single {
        model: FittedModel::Logistic(m),
    } = &previous.model
    else {
        return None;
    };
    let old: HashMap<String, (usize, FeatureTransform)> = previous
        .preprocessing
        .schema()
        .into_iter()
        .enumerate()
        .map(|(k, f)| (f.name, (k, f.transform)))
        .collect();
    let mut intercept = m.intercept;
    let coefficients = next
        .schema()
        .iter()
        .map(|f| match (old.get(&f.name), &f.transform) {
            (
                Some((
                    k,
                    FeatureTransform::Standardized {
                        mean: old_mean,
                        std: old_std,
                        ..
                    },
                )),
                FeatureTransform::Standardized { mean, std, .. },
            ) => {
                let w = m.coefficients[*k];
                intercept += w * (mean - old_mean) / old_std;
                w * std / old_std
            }
            (Some((k, _)), _) => m.coefficients[*k],
            (None, _) => 0.0,
        })
        .collect();
    Some(LogisticModel {
        coefficients,
        intercept,
        iterations: 0,
        converged: false,
    })
}

/// Fits the preprocessing and the model on the rows `rows` of the request's table (all rows
/// when `None`), read in place: no copy of the rows besides the design matrix. `with_scores`:
/// also score the training rows (a pass over the design matrix that a train-only fit replaced
/// by a refit, or a cross-validation fold, has no use for).
fn fit_on(
    req: &TrainRequest<'_>,
    rows: Option<&[usize]>,
    previous: Option<&Fit>,
    with_scores: bool,
) -> Result<Fit> {
    let preprocessing = req.preprocess.fit_rows(&req.input, rows)?;
    let x = preprocessing.transform_rows(&req.input, rows)?;
    let pick = |v: ArrayView1<'_, f64>| match rows {
        Some(rows) => v.select(Axis(0), rows),
        None => v.to_owned(),
    };
    let y = pick(req.labels);
    let model = match req.kind {
        ModelKind::Uplift => {
            let t = req.treatment.ok_or(ModelsError::Empty {
                what: "an uplift model needs the treatment flags",
            })?;
            let t = pick(t);
            ArtifactModel::Uplift {
                model: UpliftModel::fit(&req.classifier, x.view(), y.view(), t.view())?,
            }
        }
        ModelKind::Response | ModelKind::Churn => {
            let start = previous.and_then(|p| carried_start(p, &preprocessing));
            ArtifactModel::Single {
                model: req
                    .classifier
                    .fit_from(x.view(), y.view(), start.as_ref())?,
            }
        }
    };
    let train_scores = with_scores
        .then(|| match &model {
            ArtifactModel::Single { model } => model.predict_proba(x.view()),
            ArtifactModel::Uplift { model } => model.predict(x.view()).map(|p| p.uplift),
        })
        .transpose()?;
    Ok(Fit {
        preprocessing,
        model,
        train_scores,
    })
}

/// The metrics of `fit` on the holdout rows.
/// `importance`: also measure a forest's permutation importance (the model's own holdout; a
/// cross-validation fold has no use for it and would pay for it once per fold).
fn holdout_metrics(
    req: &TrainRequest<'_>,
    fit: &Fit,
    test_rows: &[usize],
    importance: bool,
) -> Result<(Metrics, HoldoutScores)> {
    let x_test = fit
        .preprocessing
        .transform_rows(&req.input, Some(test_rows))?;
    // The inputs are attached by `train_evaluated` after the refit: held through it, they
    // would add their size to its peak (and a cross-validation fold never needs them).
    let inputs = HoldoutInputs::empty();
    let y_test = req.labels.select(Axis(0), test_rows);
    Ok(match &fit.model {
        ArtifactModel::Single { model } => {
            let scores = model.predict_proba(x_test.view())?;
            let permutation_importance = match (model, &req.classifier) {
                (FittedModel::Forest(_), ClassifierParams::Forest(p)) if importance => {
                    let names: Vec<String> = fit
                        .preprocessing
                        .schema()
                        .into_iter()
                        .map(|f| f.name)
                        .collect();
                    Some(permutation_importance(
                        model,
                        x_test.view(),
                        y_test.view(),
                        &names,
                        p.seed,
                    )?)
                }
                _ => None,
            };
            let metrics = Metrics {
                schema_version: METRICS_SCHEMA_VERSION,
                classification: Some(classification_metrics(y_test.view(), scores.view())?),
                uplift: None,
                permutation_importance,
            };
            (
                metrics,
                HoldoutScores {
                    labels: y_test,
                    scores,
                    treatment: None,
                    calibrated: None,
                    inputs,
                },
            )
        }
        ArtifactModel::Uplift { model } => {
            let t = req.treatment.ok_or(ModelsError::Empty {
                what: "an uplift model needs the treatment flags",
            })?;
            let t_test = t.select(Axis(0), test_rows);
            let scores = model.predict(x_test.view())?.uplift;
            let metrics = Metrics {
                schema_version: METRICS_SCHEMA_VERSION,
                classification: None,
                uplift: Some(uplift_metrics(y_test.view(), scores.view(), t_test.view())?),
                permutation_importance: None,
            };
            (
                metrics,
                HoldoutScores {
                    labels: y_test,
                    scores,
                    treatment: Some(t_test),
                    calibrated: None,
                    inputs,
                },
            )
        }
    })
}

/// The metrics of a model fitted (preprocessing included) on `train_rows` of `req`'s table and
/// scored on `valid_rows`: one fold of a cross-validation. `req.holdout` and `req.refit` are not
/// read.
pub fn fold_metrics(
    req: &TrainRequest<'_>,
    train_rows: &[usize],
    valid_rows: &[usize],
) -> Result<Metrics> {
    let fit = fit_on(req, Some(train_rows), None, false)?;
    holdout_metrics(req, &fit, valid_rows, false).map(|(metrics, _)| metrics)
}

/// Split, fit on training rows, evaluate on holdout rows, optionally refit, and assemble the artifact.
pub fn train(req: &TrainRequest<'_>) -> Result<ModelArtifact> {
    Ok(train_evaluated(req)?.0)
}

/// [`train`], with the holdout's labels and scores under the train-only fit (for the model card).
pub fn train_evaluated(req: &TrainRequest<'_>) -> Result<(ModelArtifact, HoldoutScores)> {
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
    check_fit_values(req.input.numeric_names, req.input.numeric)?;
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
    // The training rows are read in place; the train-only fit's design matrix is dropped
    // before the refit, which transforms every row, so the two never coexist.
    let (fit, (metrics, mut holdout), train_only_drift) = {
        let fit = fit_on(req, Some(&train_rows), None, !req.refit)?;
        let drift = if req.refit {
            None
        } else {
            // The reference describes the training rows: a copy of them, only here.
            let train_tab = subset(&req.input, &train_rows);
            let train_input = ModelInput {
                numeric_names: req.input.numeric_names,
                numeric: train_tab.numeric.view(),
                categorical: &train_tab.categorical,
            };
            Some(DriftReference::from_training(
                &fit.preprocessing,
                &train_input,
                fit.train_scores()?,
            )?)
        };
        let metrics = holdout_metrics(req, &fit, &test_rows, true)?;
        (fit, metrics, drift)
    };

    // A forest's vote share becomes a probability through a Platt map fitted on the holdout
    // scores of the train-only fit; the card judges it by cross-fitting (each half of the holdout
    // calibrated by the other half's map), never on the rows a map was fitted on.
    let platt = match &fit.model {
        ArtifactModel::Single {
            model: FittedModel::Forest(_),
        } => logistic_recalibration(holdout.labels.view(), holdout.scores.view())
            .filter(Platt::is_usable),
        _ => None,
    };
    if platt.is_some() {
        let seed = match &req.classifier {
            ClassifierParams::Forest(p) => p.seed,
            ClassifierParams::Logistic(_) => 0,
        };
        holdout.calibrated = cross_fitted(holdout.labels.view(), holdout.scores.view(), seed);
    }
    let (mut final_fit, mut drift, training_rows) = match train_only_drift {
        None => {
            let refit = fit_on(req, None, Some(&fit), true)?;
            let drift = DriftReference::from_training(
                &refit.preprocessing,
                &req.input,
                refit.train_scores()?,
            )?;
            (refit, drift, n)
        }
        Some(drift) => (fit, drift, train_rows.len()),
    };
    if let (
        Some(map),
        ArtifactModel::Single {
            model: FittedModel::Forest(forest),
        },
    ) = (platt, &mut final_fit.model)
    {
        forest.calibration = Some(map);
        // The score reference of the drift check is that of the scores the model now gives.
        drift.scores = distribution("score", map.apply_all(final_fit.train_scores()?).view());
    }
    let holdout_tab = subset(&req.input, &test_rows);
    holdout.inputs = HoldoutInputs {
        numeric_names: req.input.numeric_names.to_vec(),
        numeric: holdout_tab.numeric,
        categorical: holdout_tab.categorical,
    };
    let artifact = ModelArtifact {
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
    };
    Ok((artifact, holdout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::logistic::LogisticParams;
    use crate::models::split::fraction_split;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    /// A response model's request over `input`, with the defaults the tests share.
    fn response_request<'a>(
        input: ModelInput<'a>,
        y: &'a Array1<f64>,
        holdout: &'a [bool],
        classifier: ClassifierParams,
        refit: bool,
    ) -> TrainRequest<'a> {
        TrainRequest {
            kind: ModelKind::Response,
            input,
            labels: y.view(),
            treatment: None,
            holdout,
            preprocess: PreprocessParams::default(),
            classifier,
            refit,
            training_data_hash: "h".into(),
            bullseye_version: "0.1.0".into(),
        }
    }

    /// The parallel copy gives ndarray's `select`: rows in any order, repeated, a strided
    /// view, no rows and no columns.
    #[test]
    fn select_rows_is_ndarrays_select() {
        let x = Array2::from_shape_fn((9000, 7), |(i, j)| (i * 7 + j) as f64 * 0.5);
        let rows: Vec<usize> = (0..9000).rev().step_by(3).chain([0, 0, 8999]).collect();
        assert_eq!(select_rows(x.view(), &rows), x.select(Axis(0), &rows));
        // A transposed view (columns strided) and the empty cases.
        let t = x.t();
        let few = [6usize, 0, 3];
        assert_eq!(select_rows(t, &few), t.select(Axis(0), &few));
        assert_eq!(select_rows(x.view(), &[]).dim(), (0, 7));
        let none = Array2::<f64>::zeros((5, 0));
        assert_eq!(select_rows(none.view(), &[1, 2]).dim(), (2, 0));
    }

    /// A forest trained through the pipeline carries a Platt map fitted on its holdout: its
    /// scores are the map of its vote shares, the holdout's calibrated scores are cross-fitted,
    /// and its metrics stay those of the raw vote shares (the AUC does not move, the map being
    /// increasing); a logistic model gets no map.
    #[test]
    fn a_forest_is_calibrated_on_its_holdout_and_a_logistic_model_is_not() {
        let n = 3000;
        let mut rng = Xoshiro256Plus::seed_from_u64(12);
        let x = Array2::from_shape_fn((n, 2), |_| rng.gen_range(-2.0..2.0));
        let y: Array1<f64> = (0..n)
            .map(|i| {
                let z = 1.5 * x[[i, 0]] - 1.0;
                f64::from(u8::from(
                    rng.gen::<f64>() < crate::models::logistic::sigmoid(z),
                ))
            })
            .collect();
        let names: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let cat = CategoricalColumns {
            names: vec![],
            values: vec![],
        };
        let holdout = fraction_split(n, 0.3, 1).unwrap();
        let input = ModelInput {
            numeric_names: &names,
            numeric: x.view(),
            categorical: &cat,
        };
        let request = |classifier| response_request(input, &y, &holdout, classifier, false);
        let forest = ClassifierParams::Forest(crate::models::ForestParams {
            n_trees: 15,
            ..Default::default()
        });
        let (a, h) = train_evaluated(&request(forest)).unwrap();
        let ArtifactModel::Single {
            model: FittedModel::Forest(f),
        } = &a.model
        else {
            panic!("expected a forest");
        };
        let map = f.calibration.expect("a calibrated forest");
        assert!(map.is_usable());
        let calibrated = h.calibrated.as_ref().expect("cross-fitted scores");
        assert_ne!(calibrated, &map.apply_all(h.scores.view()));
        let c = a.metrics.classification.as_ref().unwrap();
        assert_eq!(
            c.auc,
            crate::models::metrics::auc(h.labels.view(), h.scores.view()).unwrap()
        );
        // Scoring applies the map: the holdout's scores are the map of the raw vote shares.
        let test_rows: Vec<usize> = (0..n).filter(|&i| holdout[i]).collect();
        let xt = a
            .preprocessing
            .transform(&ModelInput {
                numeric_names: &names,
                numeric: x.select(Axis(0), &test_rows).view(),
                categorical: &cat,
            })
            .unwrap();
        let scored = a.score_matrix(xt.view()).unwrap();
        for (s, r) in scored.iter().zip(map.apply_all(h.scores.view()).iter()) {
            assert!((s - r).abs() < 1e-12);
        }
        assert!(
            crate::models::metrics::log_loss(h.labels.view(), calibrated.view()).unwrap()
                < c.log_loss
        );
        let (l, lh) = train_evaluated(&request(ClassifierParams::Logistic(
            LogisticParams::default(),
        )))
        .unwrap();
        assert!(lh.calibrated.is_none());
        assert!(serde_json::to_string(&l)
            .unwrap()
            .find("calibration")
            .is_none());
    }

    #[test]
    fn carried_start_keeps_the_linear_predictor_and_the_refit_optimum() {
        let n = 3000;
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => rng.gen_range(-2.0..2.0),
            1 => 50.0 + 10.0 * rng.gen_range(-1.0..1.0) + (i % 7) as f64,
            _ => f64::from(u8::from(rng.gen::<f64>() < 0.3)),
        });
        let y: Array1<f64> = (0..n)
            .map(|i| {
                let z = x[[i, 0]] + 0.05 * (x[[i, 1]] - 50.0) - x[[i, 2]];
                f64::from(rng.gen::<f64>() < crate::models::logistic::sigmoid(z))
            })
            .collect();
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let cat = CategoricalColumns {
            names: vec!["k".into()],
            values: vec![(0..n).map(|i| format!("l{}", i % 3)).collect()],
        };
        let holdout = fraction_split(n, 0.3, 1).unwrap();
        let input = ModelInput {
            numeric_names: &names,
            numeric: x.view(),
            categorical: &cat,
        };
        let req = response_request(
            input,
            &y,
            &holdout,
            ClassifierParams::Logistic(LogisticParams::default()),
            true,
        );
        let train_rows: Vec<usize> = (0..n).filter(|&i| !holdout[i]).collect();
        let first = fit_on(&req, Some(&train_rows), None, true).unwrap();
        // Fitted in place, the training rows give the bits of a fit on their copy.
        let train_tab = subset(&req.input, &train_rows);
        let train_y = y.select(Axis(0), &train_rows);
        let copy_holdout = vec![false; train_rows.len()];
        let on_copy = response_request(
            ModelInput {
                numeric_names: &names,
                numeric: train_tab.numeric.view(),
                categorical: &train_tab.categorical,
            },
            &train_y,
            &copy_holdout,
            ClassifierParams::Logistic(LogisticParams::default()),
            true,
        );
        let copied = fit_on(&on_copy, None, None, true).unwrap();
        assert_eq!(first.preprocessing, copied.preprocessing);
        assert_eq!(
            serde_json::to_string(&first.model).unwrap(),
            serde_json::to_string(&copied.model).unwrap()
        );
        assert_eq!(first.train_scores, copied.train_scores);
        let cold = fit_on(&req, None, None, true).unwrap();
        let start = carried_start(&first, &cold.preprocessing).unwrap();
        // The carried start scores every row as the first fit did.
        let logistic = |m: &ArtifactModel| match m {
            ArtifactModel::Single {
                model: FittedModel::Logistic(l),
            } => l.clone(),
            other => panic!("expected a logistic model, found {other:?}"),
        };
        let before = logistic(&first.model)
            .predict_proba(first.preprocessing.transform(&req.input).unwrap().view())
            .unwrap();
        let after = start
            .predict_proba(cold.preprocessing.transform(&req.input).unwrap().view())
            .unwrap();
        for (a, b) in before.iter().zip(&after) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // The warm refit reaches the cold refit's optimum, in no more Newton iterations here
        // (fewer on large tables, where the cold start needs more).
        let warm = fit_on(&req, None, Some(&first), true).unwrap();
        let (w, c) = (logistic(&warm.model), logistic(&cold.model));
        assert!(
            w.converged && w.iterations <= c.iterations,
            "{w:?} vs {c:?}"
        );
        // Both stop at the gradient tolerance (1e-8 on the mean loss), so they agree to about
        // that, not to the last bit.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        for (a, b) in w.coefficients.iter().zip(&c.coefficients) {
            assert!(close(*a, *b), "{a} vs {b}");
        }
        assert!(close(w.intercept, c.intercept));
    }

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
