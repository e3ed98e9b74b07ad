//! Choosing honestly: cross-validation on the training rows and a sweep of the learner's
//! settings chosen by cross-validated log loss.
//!
//! The folds cut the rows the model trains on, never the holdout: the holdout stays unseen by
//! the choice, so its metrics remain an honest judge of the chosen model. Rows with dates of their
//! own (contacts) get time-ordered folds, the others stratified random folds drawn with the seed
//! ([`crate::models::cv`]). Cross-validation is an estimate: the saved model is fitted exactly as
//! without it (with the chosen settings after a sweep), so `model.json` does not change.
//!
//! The folds are fitted in parallel; each fold's fit is deterministic and the results are
//! gathered in fold order, so the report is the same bits on any number of cores.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::fit::{holdout_mask, request, train, treatment_flags, TrainOptions, TrainedModel};
use super::rows::TrainingTable;
use super::TrainingError;
use crate::models::cv::{
    self, CvReport, FoldReport, Spread, SweepPoint, SweepReport, DEFAULT_SWEEP_FOLDS,
};
use crate::models::pipeline::fold_metrics;
use crate::models::{ClassifierParams, Metrics, ModelKind};

/// A cross-validation's report and the fold of each row.
#[derive(Debug, Clone)]
pub struct CrossValidation {
    pub report: CvReport,
    /// Per row of the table: the 1-based fold whose validation holds it; `None` for the holdout
    /// rows and the rows only ever trained on (the first block of time-ordered folds).
    pub fold_of_row: Vec<Option<usize>>,
}

/// What [`train_selected`] should do besides the plain fit.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Folds of a cross-validation (`None`: none, unless a sweep needs one).
    pub cv: Option<usize>,
    /// The settings to sweep (empty: no sweep).
    pub sweep: Vec<SweepAxis>,
}

/// A learner setting a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepParam {
    /// The logistic model's L2 penalty.
    L2,
    /// The forest's trees.
    Trees,
    /// The forest's maximum depth.
    Depth,
}

impl SweepParam {
    fn name(self) -> &'static str {
        match self {
            SweepParam::L2 => "l2",
            SweepParam::Trees => "trees",
            SweepParam::Depth => "depth",
        }
    }
}

/// One setting and the values to try, in order (`l2=0.01,0.1,1`).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAxis {
    pub param: SweepParam,
    pub values: Vec<f64>,
}

impl SweepAxis {
    /// Parses `NAME=V1,V2,…` (names: `l2`, `trees`, `depth`).
    pub fn parse(spec: &str) -> Result<SweepAxis, TrainingError> {
        let invalid = |expected: &str| TrainingError::InvalidData {
            what: "sweep".into(),
            expected: expected.into(),
            found: format!("`{spec}`"),
        };
        let (name, list) = spec
            .split_once('=')
            .ok_or_else(|| invalid("NAME=V1,V2,… (l2, trees or depth)"))?;
        let param = match name.trim() {
            "l2" => SweepParam::L2,
            "trees" => SweepParam::Trees,
            "depth" => SweepParam::Depth,
            _ => return Err(invalid("a setting named l2, trees or depth")),
        };
        let values = list
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<Vec<f64>, _>>()
            .map_err(|_| invalid("a comma-separated list of numbers after `=`"))?;
        let whole = |v: &f64| v.fract() == 0.0 && *v >= 1.0 && *v <= f64::from(u16::MAX);
        let ok = match param {
            SweepParam::L2 => values.iter().all(|v| v.is_finite() && *v >= 0.0),
            SweepParam::Trees | SweepParam::Depth => values.iter().all(whole),
        };
        if values.is_empty() || !ok {
            return Err(invalid(match param {
                SweepParam::L2 => "penalties ≥ 0",
                _ => "whole numbers from 1 to 65535",
            }));
        }
        Ok(SweepAxis { param, values })
    }
}

/// One point of a sweep: its settings by name, and the learner's parameters with them.
pub type GridPoint = (BTreeMap<String, f64>, ClassifierParams);

/// Every combination of the axes' values (the first axis varies slowest), as the settings
/// reported and the learner's parameters; the axes must suit `kind` and `base`'s learner.
pub fn sweep_grid(
    kind: ModelKind,
    base: &ClassifierParams,
    axes: &[SweepAxis],
) -> Result<Vec<GridPoint>, TrainingError> {
    if kind == ModelKind::Uplift && !axes.is_empty() {
        return Err(TrainingError::Conflict {
            what: "a sweep of an uplift model".into(),
            expected: "a response or churn model: a sweep chooses by log loss, which an uplift score does not have".into(),
        });
    }
    let mut grid = vec![(BTreeMap::new(), base.clone())];
    for axis in axes {
        let mut next = Vec::new();
        for (settings, params) in &grid {
            for &v in &axis.values {
                let mut s: BTreeMap<String, f64> = settings.clone();
                s.insert(axis.param.name().to_string(), v);
                next.push((s, with_setting(params, axis.param, v)?));
            }
        }
        grid = next;
    }
    Ok(grid)
}

fn with_setting(
    params: &ClassifierParams,
    param: SweepParam,
    v: f64,
) -> Result<ClassifierParams, TrainingError> {
    let mut p = params.clone();
    match (&mut p, param) {
        (ClassifierParams::Logistic(l), SweepParam::L2) => l.l2 = v,
        (ClassifierParams::Forest(f), SweepParam::Trees) => f.n_trees = v as u16,
        (ClassifierParams::Forest(f), SweepParam::Depth) => f.max_depth = Some(v as u16),
        (ClassifierParams::Logistic(_), _) => {
            return Err(TrainingError::Conflict {
                what: format!("a sweep of `{}` for the logistic model", param.name()),
                expected: "`l2` (trees and depth are the forest's)".into(),
            })
        }
        (ClassifierParams::Forest(_), _) => {
            return Err(TrainingError::Conflict {
                what: "a sweep of `l2` for the forest".into(),
                expected: "`trees` or `depth` (l2 is the logistic model's)".into(),
            })
        }
    }
    Ok(p)
}

/// The metrics a fold reports: AUC, log loss and Brier, or an uplift model's Qini coefficient.
fn fold_values(m: &Metrics) -> BTreeMap<String, f64> {
    let mut v = BTreeMap::new();
    if let Some(c) = &m.classification {
        v.insert("auc".to_string(), c.auc);
        v.insert("log_loss".to_string(), c.log_loss);
        v.insert("brier".to_string(), c.brier);
    }
    if let Some(u) = &m.uplift {
        v.insert("qini_coefficient".to_string(), u.qini_coefficient);
    }
    v
}

/// `k`-fold cross-validation of `opts`' learner on the training rows of `t` (its holdout left
/// out).
pub fn cross_validate(
    t: &TrainingTable,
    opts: &TrainOptions,
    k: usize,
) -> Result<CrossValidation, TrainingError> {
    let (mask, _) = holdout_mask(t, &opts.holdout, opts.seed, &mut Vec::new())?;
    let rows: Vec<usize> = (0..t.n_rows()).filter(|&i| !mask[i]).collect();
    let (folds, rule) = match &t.dates {
        Some(d) => {
            let dates: Vec<i64> = rows.iter().map(|&i| d[i]).collect();
            (
                cv::time_folds(&dates, k)?,
                format!(
                    "time-ordered: the dates cut into {} blocks of whole dates, fold i trained on blocks before block i and validated on it",
                    k + 1
                ),
            )
        }
        None => {
            let labels: Vec<f64> = rows.iter().map(|&i| t.labels[i]).collect();
            (
                cv::stratified_folds(&labels, k, opts.seed)?,
                format!("stratified random, seed {}", opts.seed),
            )
        }
    };
    let treatment = treatment_flags(t, opts)?;
    let req = request(t, opts, &mask, treatment.as_ref());
    let reports = folds
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let train_rows: Vec<usize> = f.train.iter().map(|&p| rows[p]).collect();
            let valid: Vec<usize> = f.valid.iter().map(|&p| rows[p]).collect();
            let metrics =
                fold_metrics(&req, &train_rows, &valid).map_err(|e| TrainingError::Fold {
                    fold: i + 1,
                    k,
                    error: Box::new(e.into()),
                })?;
            Ok(FoldReport {
                fold: i + 1,
                train_rows: train_rows.len(),
                rows: valid.len(),
                positives: valid.iter().filter(|&&r| t.labels[r] == 1.0).count(),
                metrics: fold_values(&metrics),
            })
        })
        .collect::<Result<Vec<FoldReport>, TrainingError>>()?;
    let mut fold_of_row = vec![None; t.n_rows()];
    for (i, f) in folds.iter().enumerate() {
        for &p in &f.valid {
            fold_of_row[rows[p]] = Some(i + 1);
        }
    }
    Ok(CrossValidation {
        report: CvReport::new(k, rule, rows.len(), reports),
        fold_of_row,
    })
}

/// The sweep of `axes` by `k`-fold cross-validation: the options with the chosen settings, the
/// curve, and the chosen point's cross-validation.
fn sweep(
    t: &TrainingTable,
    opts: &TrainOptions,
    k: usize,
    axes: &[SweepAxis],
) -> Result<(TrainOptions, SweepReport, CrossValidation), TrainingError> {
    let mut curve = Vec::new();
    let mut tried = Vec::new();
    for (settings, classifier) in sweep_grid(opts.kind, &opts.classifier, axes)? {
        let o = TrainOptions {
            classifier,
            ..opts.clone()
        };
        let cv = cross_validate(t, &o, k)?;
        let spread = |name: &str| {
            cv.report
                .summary
                .get(name)
                .cloned()
                .unwrap_or_else(|| Spread::of(&[f64::NAN]))
        };
        curve.push(SweepPoint {
            settings,
            log_loss: spread("log_loss"),
            auc: spread("auc"),
        });
        tried.push((o, cv));
    }
    let report = SweepReport::new(k, curve)
        .ok_or_else(|| TrainingError::internal("a sweep with no point to try"))?;
    let chosen = report
        .curve
        .iter()
        .position(|p| p.settings == report.chosen)
        .ok_or_else(|| TrainingError::internal("the sweep's choice is not on its curve"))?;
    let (o, cv) = tried.swap_remove(chosen);
    Ok((o, report, cv))
}

/// [`train`] after the cross-validation or sweep `selection` asks for; the report carries them,
/// and the fold of each row comes back when folds were cut.
pub fn train_selected(
    t: &TrainingTable,
    opts: &TrainOptions,
    selection: &Selection,
) -> Result<(TrainedModel, Option<CrossValidation>), TrainingError> {
    if !selection.sweep.is_empty() {
        let k = selection.cv.unwrap_or(DEFAULT_SWEEP_FOLDS);
        let (chosen, report, cv) = sweep(t, opts, k, &selection.sweep)?;
        let mut model = train(t, &chosen)?;
        model.report.cv = Some(cv.report.clone());
        model.report.sweep = Some(report);
        return Ok((model, Some(cv)));
    }
    match selection.cv {
        Some(k) => {
            let cv = cross_validate(t, opts, k)?;
            let mut model = train(t, opts)?;
            model.report.cv = Some(cv.report.clone());
            Ok((model, Some(cv)))
        }
        None => Ok((train(t, opts)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ForestParams, LogisticParams};

    #[test]
    fn sweep_specs_parse_and_suit_their_learner() {
        let a = SweepAxis::parse("l2=0.01, 0.1,1,10").unwrap();
        assert_eq!(a.values, [0.01, 0.1, 1.0, 10.0]);
        for bad in [
            "l2",
            "alpha=1",
            "l2=a",
            "l2=-1",
            "trees=0",
            "depth=2.5",
            "l2=",
        ] {
            assert!(SweepAxis::parse(bad).is_err(), "{bad}");
        }
        let logistic = ClassifierParams::Logistic(LogisticParams::default());
        let grid = sweep_grid(ModelKind::Response, &logistic, std::slice::from_ref(&a)).unwrap();
        assert_eq!(grid.len(), 4);
        assert_eq!(
            grid[2].1,
            ClassifierParams::Logistic(LogisticParams {
                l2: 1.0,
                ..LogisticParams::default()
            })
        );
        let trees = SweepAxis::parse("trees=10,20").unwrap();
        let depth = SweepAxis::parse("depth=3,5,7").unwrap();
        assert!(sweep_grid(ModelKind::Response, &logistic, std::slice::from_ref(&trees)).is_err());
        assert!(sweep_grid(ModelKind::Uplift, &logistic, std::slice::from_ref(&a)).is_err());
        let forest = ClassifierParams::Forest(ForestParams::default());
        assert!(sweep_grid(ModelKind::Churn, &forest, &[a]).is_err());
        let grid = sweep_grid(ModelKind::Churn, &forest, &[trees, depth]).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[1].0["depth"], 5.0);
        assert_eq!(grid[1].0["trees"], 10.0);
    }
}
