//! The common scoring interface of the response/churn models and the serializable model union.

use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::models::error::Result;
use crate::models::forest::{ForestModel, ForestParams};
use crate::models::logistic::{LogisticModel, LogisticParams};

/// A fitted binary classifier over a design matrix.
pub trait Classifier {
    /// P(label = 1) for each row, whatever the class balance was in training.
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>>;
}

impl Classifier for LogisticModel {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        LogisticModel::predict_proba(self, x)
    }
}

impl Classifier for ForestModel {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        ForestModel::predict_proba(self, x)
    }
}

/// Which learner a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    /// [`LogisticModel`].
    Logistic,
    /// [`ForestModel`].
    Forest,
}

/// Hyperparameters of either learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model_type", rename_all = "snake_case")]
pub enum ClassifierParams {
    /// Logistic regression.
    Logistic(LogisticParams),
    /// Random forest.
    Forest(ForestParams),
}

impl ClassifierParams {
    /// The learner these parameters fit.
    pub fn model_type(&self) -> ModelType {
        match self {
            Self::Logistic(_) => ModelType::Logistic,
            Self::Forest(_) => ModelType::Forest,
        }
    }

    /// Fit on a design matrix and 0/1 labels.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<FittedModel> {
        self.fit_from(x, y, None)
    }

    /// As [`Self::fit`], starting a logistic fit from `start` (see
    /// [`LogisticParams::fit_from`]); the forest has no starting point and ignores it.
    pub fn fit_from(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        start: Option<&LogisticModel>,
    ) -> Result<FittedModel> {
        Ok(match self {
            Self::Logistic(p) => FittedModel::Logistic(p.fit_from(x, y, start)?),
            Self::Forest(p) => FittedModel::Forest(p.fit(x, y)?),
        })
    }
}

/// A fitted model of either type, serializable as part of an artifact.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "model_type", rename_all = "snake_case")]
pub enum FittedModel {
    /// Logistic regression (coefficients and intercept).
    Logistic(LogisticModel),
    /// Random forest (smartcore trees).
    Forest(ForestModel),
}

impl FittedModel {
    /// The learner of this model.
    pub fn model_type(&self) -> ModelType {
        match self {
            Self::Logistic(_) => ModelType::Logistic,
            Self::Forest(_) => ModelType::Forest,
        }
    }
}

impl Classifier for FittedModel {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        match self {
            Self::Logistic(m) => m.predict_proba(x),
            Self::Forest(m) => m.predict_proba(x),
        }
    }
}
