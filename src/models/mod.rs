//! Predictive models of Bullseye: campaign response, churn and uplift, as pure functions over
//! `ndarray` values (no file I/O), and the rules that turn a campaign history into their
//! training rows ([`training`], which takes polars frames).
//!
//! The module is cut along the life of a model. [`preprocess`] turns named numeric and categorical
//! columns into a design matrix with a serializable, name-addressed schema, so an artifact can
//! score tables whose columns arrive in any order. [`logistic`] is the champion: linfa-logistic's
//! objective and types at the boundary, but a hand-written parallel Newton solver, because linfa's
//! L-BFGS is ~20× slower than scikit-learn on a million rows. [`forest`] is the smartcore challenger,
//! and [`classifier`] puts both behind one trait whose score is always P(label = 1). [`uplift`]
//! combines two classifiers. [`metrics`], [`qini`] and [`drift`] evaluate holdouts and monitor
//! inputs; [`split`] makes the holdouts; [`artifact`] ties it all into the saved `model.json`,
//! and [`pipeline`] runs split → fit → evaluate → refit in one call. [`training`] says what a
//! training row is and trains on the rows; [`report`] holds what a model says about itself
//! (`metrics.json`, drift) and the drift fail rule; [`card`] the model card built at training time
//! and [`calibration`] the reliability of a score and the Platt map that makes it a probability.
//! Everything stochastic takes a seed, and every parallel sum is taken in a fixed order, so the
//! same input and seed give the same bits.

pub mod artifact;
pub mod calibration;
pub mod card;
pub mod cholesky;
pub mod classifier;
pub mod cv;
pub mod drift;
pub mod error;
pub mod forest;
pub mod guard;
pub mod importance;
pub mod logistic;
pub mod metrics;
pub mod pipeline;
pub mod preprocess;
pub mod qini;
pub mod report;
pub mod split;
pub mod training;
pub mod uplift;

#[cfg(test)]
mod reference_tests;

pub use artifact::{
    ArtifactModel, DriftReference, ModelArtifact, ModelKind, ARTIFACT_SCHEMA_VERSION,
};
pub use card::{HoldoutScores, ModelCard};
pub use classifier::{Classifier, ClassifierParams, FittedModel, ModelType};
pub use drift::{distribution, psi, Distribution, PSI_EPSILON};
pub use error::{ModelsError, Result};
pub use forest::{ForestModel, ForestParams};
pub use logistic::{ClassWeight, LogisticModel, LogisticParams};
pub use metrics::{classification_metrics, ClassificationMetrics, DecileRow, Metrics};
pub use pipeline::{train, train_evaluated, TrainRequest};
pub use preprocess::{
    CategoricalColumns, FeatureSpec, FeatureTransform, ModelInput, PreprocessParams, Preprocessing,
};
pub use qini::{qini_auc_score, qini_curve, uplift_metrics, QiniCurve, UpliftMetrics};
pub use report::{
    DriftReport, FeatureDrift, HoldoutInfo, TrainingReport, TrainingSettings, REPORT_SCHEMA_VERSION,
};
pub use uplift::{UpliftModel, UpliftScores};
