//! The serializable fitted-model artifact: preprocessing + model(s) + provenance + drift references.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::models::classifier::{Classifier, FittedModel, ModelType};
use crate::models::drift::{column_distributions, distribution, Distribution};
use crate::models::error::{model_rule, ModelsError, Result};
use crate::models::metrics::Metrics;
use crate::models::preprocess::{ModelInput, Preprocessing};
use crate::models::uplift::{UpliftModel, UpliftScores};

/// Version of the serialized [`ModelArtifact`] layout.
pub const ARTIFACT_SCHEMA_VERSION: u32 = 1;

/// What the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// P(respond to a campaign).
    Response,
    /// P(churn).
    Churn,
    /// Treated − control response probability.
    Uplift,
}

/// The fitted estimator(s) of an artifact.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "structure", rename_all = "snake_case")]
pub enum ArtifactModel {
    /// One classifier (response, churn).
    Single {
        /// The classifier.
        model: FittedModel,
    },
    /// Two-model uplift.
    Uplift {
        /// Treated and control sub-models.
        model: UpliftModel,
    },
}

/// Training-data distributions kept for drift checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReference {
    /// One distribution per raw numeric input column (before standardization), in schema order.
    pub features: Vec<Distribution>,
    /// Distribution of the training scores (uplift for uplift models).
    pub scores: Distribution,
}

impl DriftReference {
    /// Build from the training input (raw numeric columns found by the preprocessing's names) and
    /// the model's training scores.
    pub fn from_training(
        preprocessing: &Preprocessing,
        input: &ModelInput<'_>,
        scores: ArrayView1<'_, f64>,
    ) -> Result<Self> {
        let columns = preprocessing
            .numeric
            .iter()
            .map(|t| {
                let j = input
                    .numeric_names
                    .iter()
                    .position(|c| c == &t.column)
                    .ok_or_else(|| ModelsError::MissingColumn {
                        column: t.column.clone(),
                    })?;
                Ok((t.column.as_str(), j))
            })
            .collect::<Result<Vec<_>>>()?;
        let features = column_distributions(input.numeric, &columns);
        Ok(Self {
            features,
            scores: distribution("score", scores),
        })
    }
}

/// The kind's name in files and messages (`response`, `churn`, `uplift`).
pub fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Response => "response",
        ModelKind::Churn => "churn",
        ModelKind::Uplift => "uplift",
    }
}

/// A fitted, self-contained model as saved by `bullseye` (`model.json`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// Layout version ([`ARTIFACT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Response, churn or uplift.
    pub kind: ModelKind,
    /// Logistic or forest (both sub-models of an uplift artifact share it).
    pub model_type: ModelType,
    /// The fitted feature preparation.
    pub preprocessing: Preprocessing,
    /// The fitted estimator(s).
    pub model: ArtifactModel,
    /// Rows the final model was trained on.
    pub training_rows: usize,
    /// Hash of the training data (computed by the caller).
    pub training_data_hash: String,
    /// Reference distributions for drift checks.
    pub drift: DriftReference,
    /// Holdout metrics.
    pub metrics: Metrics,
    /// Whether the model was refitted on all rows after evaluation (metrics then describe the
    /// holdout evaluation of the train-only fit).
    pub refit: bool,
    /// Version of `bullseye` that wrote the artifact (given by the caller).
    pub bullseye_version: String,
}

impl ModelArtifact {
    /// Refuse artifacts written with another layout.
    pub fn check_version(&self) -> Result<()> {
        if self.schema_version != ARTIFACT_SCHEMA_VERSION {
            return Err(ModelsError::SchemaVersion {
                expected: ARTIFACT_SCHEMA_VERSION,
                found: self.schema_version,
            });
        }
        Ok(())
    }

    /// Every rule a saved artifact must meet before it scores (fields named as in `model.json`):
    /// the layout version, the preprocessing's scales and means, the structure that goes with
    /// the kind (`uplift` two models, else one), the learner named by `model_type`, one finite
    /// coefficient per model input, and drift references over the model's own inputs.
    pub fn check(&self) -> Result<()> {
        self.check_version()?;
        self.preprocessing.check_fitted("preprocessing")?;
        let inputs = self.preprocessing.n_features();
        match (&self.model, self.kind) {
            (ArtifactModel::Single { model }, ModelKind::Response | ModelKind::Churn) => {
                self.check_classifier(model, inputs, "model.model")?
            }
            (ArtifactModel::Uplift { model }, ModelKind::Uplift) => {
                self.check_classifier(&model.treated, inputs, "model.model.treated")?;
                self.check_classifier(&model.control, inputs, "model.model.control")?;
            }
            (ArtifactModel::Single { .. }, kind) => {
                return Err(ModelsError::InvalidModel {
                    field: "model.structure".into(),
                    expected: "`uplift` (two models) for an uplift model",
                    found: format!("`single` for a {} model", kind_name(kind)),
                })
            }
            (ArtifactModel::Uplift { .. }, kind) => {
                return Err(ModelsError::InvalidModel {
                    field: "model.structure".into(),
                    expected: "`single` for a response or churn model",
                    found: format!("`uplift` for a {} model", kind_name(kind)),
                })
            }
        }
        for (i, d) in self.drift.features.iter().enumerate() {
            model_rule(
                self.preprocessing
                    .numeric
                    .iter()
                    .any(|t| t.column == d.name),
                || format!("drift.features[{i}].name"),
                "a numeric input of the model",
                format!("`{}`", d.name),
            )?;
            d.check_fitted(&format!("drift.features[{i}]"))?;
        }
        self.drift.scores.check_fitted("drift.scores")
    }

    /// Refuses an artifact of another kind than the one asked for (a churn model named as the
    /// response model would rank customers by the wrong probability).
    pub fn expect_kind(&self, kind: ModelKind) -> Result<()> {
        model_rule(
            self.kind == kind,
            || "kind".into(),
            kind_name(kind),
            kind_name(self.kind),
        )
    }

    fn check_classifier(&self, model: &FittedModel, inputs: usize, at: &str) -> Result<()> {
        model_rule(
            model.model_type() == self.model_type,
            || format!("{at}.model_type"),
            "the artifact's `model_type`",
            format!("{:?}", model.model_type()).to_lowercase(),
        )?;
        match model {
            FittedModel::Logistic(m) => m.check_fitted(inputs, at),
            FittedModel::Forest(m) => m.check_fitted(inputs, at),
        }
    }

    /// Refuses scores that could not be a score of this artifact: any NaN or infinity, a
    /// probability outside [0, 1] or an uplift outside [−1, 1]. Scores are not a place for
    /// rejects: one broken score means a broken model or broken inputs, so none is kept.
    pub fn check_scores(&self, scores: &[f64]) -> Result<()> {
        match self.kind {
            ModelKind::Uplift => check_range("scores", scores, -1.0, "uplifts in [-1, 1]"),
            ModelKind::Response | ModelKind::Churn => {
                check_range("scores", scores, 0.0, "probabilities in [0, 1]")
            }
        }
    }

    /// Design matrix of `input` under this artifact's preprocessing.
    pub fn design_matrix(&self, input: &ModelInput<'_>) -> Result<ndarray::Array2<f64>> {
        self.check_version()?;
        self.preprocessing.transform(input)
    }

    /// The score of each row: P(label = 1) for response/churn, uplift for uplift artifacts.
    pub fn score(&self, input: &ModelInput<'_>) -> Result<Array1<f64>> {
        let x = self.design_matrix(input)?;
        self.score_matrix(x.view())
    }

    /// Score an already prepared design matrix.
    pub fn score_matrix(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        match &self.model {
            ArtifactModel::Single { model } => model.predict_proba(x),
            ArtifactModel::Uplift { model } => Ok(model.predict(x)?.uplift),
        }
    }

    /// Treated, control and uplift scores (uplift artifacts only).
    pub fn score_uplift(&self, input: &ModelInput<'_>) -> Result<UpliftScores> {
        match &self.model {
            ArtifactModel::Uplift { model } => model.predict(self.design_matrix(input)?.view()),
            ArtifactModel::Single { .. } => Err(ModelsError::ArtifactMismatch {
                expected: "an uplift artifact",
                found: "a single-model artifact",
            }),
        }
    }

    /// PSI of each numeric feature of `input` against the training reference, in schema order.
    pub fn feature_psi(&self, input: &ModelInput<'_>) -> Result<Vec<(String, f64)>> {
        self.drift
            .features
            .iter()
            .map(|d| {
                let j = input
                    .numeric_names
                    .iter()
                    .position(|c| c == &d.name)
                    .ok_or_else(|| ModelsError::MissingColumn {
                        column: d.name.clone(),
                    })?;
                let v = input.numeric.index_axis(Axis(1), j);
                Ok((
                    d.name.clone(),
                    crate::models::drift::psi(&d.shares, v, &d.edges)?,
                ))
            })
            .collect()
    }
}

/// An [`ModelsError::InvalidScores`] counting the values outside [`low`, 1] (NaN included).
pub fn check_range(
    what: &'static str,
    values: &[f64],
    low: f64,
    expected: &'static str,
) -> Result<()> {
    let bad = |v: &f64| !(low..=1.0).contains(v);
    match values.iter().position(bad) {
        None => Ok(()),
        Some(row) => Err(ModelsError::InvalidScores {
            what,
            count: values[row..].iter().filter(|v| bad(v)).count(),
            rows: values.len(),
            row,
            value: values[row],
            expected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::classifier::ClassifierParams;
    use crate::models::drift::psi;
    use crate::models::forest::ForestParams;
    use crate::models::logistic::LogisticParams;
    use crate::models::metrics::{classification_metrics, METRICS_SCHEMA_VERSION};
    use crate::models::preprocess::{CategoricalColumns, PreprocessParams};
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    struct Table {
        names: Vec<String>,
        x: Array2<f64>,
        cat: CategoricalColumns,
        y: Array1<f64>,
        t: Array1<f64>,
    }

    fn table(n: usize, seed: u64) -> Table {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 2), |(_, j)| {
            if j == 1 && rng.gen::<f64>() < 0.05 {
                f64::NAN
            } else {
                rng.gen_range(0.0..10.0)
            }
        });
        let levels = ["web", "phone", "multi"];
        let cat = CategoricalColumns {
            names: vec!["channel".into()],
            values: vec![(0..n).map(|i| levels[i % 3].to_string()).collect()],
        };
        let t = Array1::from_shape_fn(n, |i| (i % 2) as f64);
        let y = Array1::from_shape_fn(n, |i| {
            let z = -1.0 + 0.2 * x[[i, 0]] + 0.5 * t[i] + if i % 3 == 0 { 0.4 } else { 0.0 };
            if rng.gen::<f64>() < crate::models::logistic::sigmoid(z) {
                1.0
            } else {
                0.0
            }
        });
        Table {
            names: vec!["recency".into(), "history".into()],
            x,
            cat,
            y,
            t,
        }
    }

    fn artifact(tb: &Table, params: &ClassifierParams, uplift: bool) -> ModelArtifact {
        let input = ModelInput {
            numeric_names: &tb.names,
            numeric: tb.x.view(),
            categorical: &tb.cat,
        };
        let pre = PreprocessParams::default().fit(&input).unwrap();
        let x = pre.transform(&input).unwrap();
        let model = if uplift {
            ArtifactModel::Uplift {
                model: UpliftModel::fit(params, x.view(), tb.y.view(), tb.t.view()).unwrap(),
            }
        } else {
            ArtifactModel::Single {
                model: params.fit(x.view(), tb.y.view()).unwrap(),
            }
        };
        let mut a = ModelArtifact {
            schema_version: ARTIFACT_SCHEMA_VERSION,
            kind: if uplift {
                ModelKind::Uplift
            } else {
                ModelKind::Response
            },
            model_type: params.model_type(),
            preprocessing: pre,
            model,
            training_rows: tb.y.len(),
            training_data_hash: "abc".into(),
            drift: DriftReference {
                features: vec![],
                scores: distribution("score", Array1::<f64>::zeros(1).view()),
            },
            metrics: Metrics {
                schema_version: METRICS_SCHEMA_VERSION,
                classification: None,
                uplift: None,
                permutation_importance: None,
            },
            refit: false,
            bullseye_version: "0.1.0".into(),
        };
        let scores = a.score_matrix(x.view()).unwrap();
        a.drift = DriftReference::from_training(&a.preprocessing, &input, scores.view()).unwrap();
        if !uplift {
            a.metrics.classification =
                Some(classification_metrics(tb.y.view(), scores.view()).unwrap());
        }
        a
    }

    #[test]
    fn save_load_score_is_identical_for_every_model() {
        let tb = table(3000, 1);
        let fresh = table(500, 2);
        let input = ModelInput {
            numeric_names: &fresh.names,
            numeric: fresh.x.view(),
            categorical: &fresh.cat,
        };
        let forest = ClassifierParams::Forest(ForestParams {
            n_trees: 15,
            ..Default::default()
        });
        let logistic = ClassifierParams::Logistic(LogisticParams::default());
        for (params, uplift) in [
            (&logistic, false),
            (&forest, false),
            (&logistic, true),
            (&forest, true),
        ] {
            let a = artifact(&tb, params, uplift);
            let before = a.score(&input).unwrap();
            let json = serde_json::to_string(&a).unwrap();
            let back: ModelArtifact = serde_json::from_str(&json).unwrap();
            let after = back.score(&input).unwrap();
            assert_eq!(before, after, "{:?} uplift={uplift}", params.model_type());
            assert_eq!(back.drift, a.drift);
            assert_eq!(back.metrics, a.metrics);
            assert_eq!(uplift, back.score_uplift(&input).is_ok());
        }
    }

    #[test]
    fn check_refuses_an_edited_artifact_naming_the_field() {
        let tb = table(800, 5);
        let logistic = ClassifierParams::Logistic(LogisticParams::default());
        let a = artifact(&tb, &logistic, false);
        assert!(a.check().is_ok());
        let forest = ClassifierParams::Forest(ForestParams {
            n_trees: 3,
            ..Default::default()
        });
        assert!(artifact(&tb, &forest, true).check().is_ok());
        let json = serde_json::to_value(&a).unwrap();
        let field_after = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = json.clone();
            edit(&mut v);
            let edited: ModelArtifact = serde_json::from_value(v).unwrap();
            match edited.check() {
                Err(ModelsError::InvalidModel { field, .. }) => field,
                other => panic!("expected an invalid model, found {other:?}"),
            }
        };
        assert_eq!(
            field_after(&|v| v["model"]["model"]["coefficients"]["data"][1] = 1e308.into()),
            "model.model.coefficients[1]"
        );
        assert_eq!(
            field_after(&|v| {
                v["model"]["model"]["coefficients"]["data"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
                v["model"]["model"]["coefficients"]["dim"][0] = 5.into();
            }),
            "model.model.coefficients"
        );
        assert_eq!(
            field_after(&|v| v["model"]["model"]["intercept"] = (-1e200).into()),
            "model.model.intercept"
        );
        for std in [0.0, -1.0] {
            assert_eq!(
                field_after(&|v| v["preprocessing"]["numeric"][0]["std"] = std.into()),
                "preprocessing.numeric[0].std (column `recency`)"
            );
        }
        assert_eq!(
            field_after(&|v| v["kind"] = "uplift".into()),
            "model.structure"
        );
        assert_eq!(
            field_after(&|v| v["model_type"] = "forest".into()),
            "model.model.model_type"
        );
        assert_eq!(
            field_after(&|v| v["drift"]["scores"]["shares"][0] = 2.0.into()),
            "drift.scores.shares"
        );
        // What the file holds is quoted short: a huge number in scientific notation, text cut.
        let message = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = json.clone();
            edit(&mut v);
            let edited: ModelArtifact = serde_json::from_value(v).unwrap();
            edited.check().unwrap_err().to_string()
        };
        assert!(
            message(&|v| v["model"]["model"]["coefficients"]["data"][1] = 1e308.into())
                .ends_with("found 1e308")
        );
        let level = message(&|v| {
            let levels = &mut v["preprocessing"]["categorical"][0]["levels"];
            let long = format!("\u{1b}[2J{}", "x".repeat(500));
            *levels = vec![long.clone(), long].into();
        });
        assert!(level.len() < 200 && !level.contains('\u{1b}'), "{level}");
        let err = a.expect_kind(ModelKind::Churn).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: `kind`: expected churn, found response"
        );
        assert!(err.is_bad_input());
    }

    #[test]
    fn scores_out_of_their_range_are_counted_and_refused() {
        let tb = table(300, 6);
        let a = artifact(
            &tb,
            &ClassifierParams::Logistic(LogisticParams::default()),
            false,
        );
        assert!(a.check_scores(&[0.0, 0.5, 1.0]).is_ok());
        let err = a
            .check_scores(&[0.2, f64::NAN, 7.0, 0.3, f64::INFINITY, -0.1])
            .unwrap_err();
        assert!(
            matches!(
                err,
                ModelsError::InvalidScores {
                    count: 4,
                    rows: 6,
                    row: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.is_bad_input());
        let u = artifact(
            &tb,
            &ClassifierParams::Logistic(LogisticParams::default()),
            true,
        );
        assert!(u.check_scores(&[-0.4, 0.0, 1.0]).is_ok());
        assert!(u.check_scores(&[-1.5]).is_err());
    }

    #[test]
    fn drift_reference_flags_a_shifted_feature() {
        let tb = table(3000, 3);
        let a = artifact(
            &tb,
            &ClassifierParams::Logistic(LogisticParams::default()),
            false,
        );
        assert_eq!(a.drift.features.len(), 2);
        assert_eq!(a.drift.features[0].name, "recency");
        let same = table(3000, 4);
        let mut shifted = table(3000, 4);
        shifted.x.column_mut(0).mapv_inplace(|v| v + 3.0);
        let psi_of = |tb: &Table| {
            let input = ModelInput {
                numeric_names: &tb.names,
                numeric: tb.x.view(),
                categorical: &tb.cat,
            };
            a.feature_psi(&input).unwrap()[0].1
        };
        assert!(psi_of(&same) < 0.02, "{}", psi_of(&same));
        assert!(psi_of(&shifted) > 0.25, "{}", psi_of(&shifted));
        let d = &a.drift.scores;
        let scores = a.score(&ModelInput {
            numeric_names: &tb.names,
            numeric: tb.x.view(),
            categorical: &tb.cat,
        });
        assert!(psi(&d.shares, scores.unwrap().view(), &d.edges).unwrap() < 1e-9);
    }
}
