//! Random-forest challenger on smartcore, with probabilities as the share of trees voting 1.
//!
//! smartcore 0.7's `RandomForestClassifier` only returns majority-vote labels and keeps its trees
//! private, so the forest is held as `n_trees` one-tree smartcore forests, each with its own seed:
//! every member does exactly what a tree of the big forest does (stratified bootstrap, `m` random
//! split candidates), and P(label = 1) is the share of members that vote 1. Members are fitted and
//! evaluated in parallel; their seeds come from one `Xoshiro256Plus` seeded with `seed`, so the
//! forest is reproducible and independent of the thread count.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::models::calibration::Platt;
use crate::models::error::{model_rule, ModelsError, Result};

type Member = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// Hyperparameters of [`ForestModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees (default 100, ≥ 1).
    pub n_trees: u16,
    /// Maximum depth (default `Some(10)`; `None` = grow until pure, ≥ 1 when set).
    pub max_depth: Option<u16>,
    /// Minimum rows in a leaf (default 20, ≥ 1); larger leaves give smoother probabilities.
    pub min_samples_leaf: usize,
    /// Minimum rows to split a node (default 40, ≥ 2).
    pub min_samples_split: usize,
    /// Split candidates per node (default `None` = ⌊√d⌋, ≥ 1 when set).
    pub m: Option<usize>,
    /// Grow each tree on a class-balanced subsample and prior-correct the vote share (default true).
    pub balanced: bool,
    /// Seed of the member seeds (default 42).
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_depth: Some(10),
            min_samples_leaf: 20,
            min_samples_split: 40,
            m: None,
            balanced: true,
            seed: 42,
        }
    }
}

/// A fitted forest; its score is the share of trees voting label 1.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestModel {
    /// Features the forest was fitted on.
    pub n_features: usize,
    /// Odds ratio `n₁/n₀` applied to the vote share (1 when trees saw the raw class balance).
    pub prior_odds: f64,
    members: Vec<Member>,
    /// The Platt map fitted on the holdout ([`crate::models::calibration`]) that turns the vote
    /// share into a probability; `None`: the vote share as it is (an uplift sub-model, or a model
    /// saved before forests were calibrated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Platt>,
}

impl ForestParams {
    /// Validate every rule stated on the fields.
    pub fn check(&self) -> Result<&Self> {
        let bad = |name, expected, found: String| {
            Err(ModelsError::InvalidParam {
                name,
                expected,
                found,
            })
        };
        if self.n_trees == 0 {
            return bad("n_trees", "at least 1", "0".into());
        }
        if self.max_depth == Some(0) {
            return bad("max_depth", "at least 1 when set", "0".into());
        }
        if self.min_samples_leaf == 0 {
            return bad("min_samples_leaf", "at least 1", "0".into());
        }
        if self.min_samples_split < 2 {
            return bad(
                "min_samples_split",
                "at least 2",
                self.min_samples_split.to_string(),
            );
        }
        if self.m == Some(0) {
            return bad("m", "at least 1 when set", "0".into());
        }
        Ok(self)
    }

    /// Fit on a design matrix (n × d) and 0/1 labels.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<ForestModel> {
        self.check()?;
        let (n, d) = x.dim();
        if y.len() != n {
            return Err(ModelsError::LengthMismatch {
                what: "labels vs design-matrix rows",
                expected: n,
                found: y.len(),
            });
        }
        if d == 0 {
            return Err(ModelsError::Empty {
                what: "design matrix has no columns",
            });
        }
        // smartcore compares with `<=`: a NaN or an infinity would make splits that no row
        // follows as the training rows did.
        if let Some(((row, j), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(ModelsError::NonFinite {
                column: format!("design matrix column {j}"),
                row,
                value,
            });
        }
        if let Some(m) = self.m {
            if m > d {
                return Err(ModelsError::InvalidParam {
                    name: "m",
                    expected: "at most the number of features",
                    found: m.to_string(),
                });
            }
        }
        let mut labels = Vec::with_capacity(n);
        for (row, &v) in y.iter().enumerate() {
            labels.push(match v {
                0.0 => 0u32,
                1.0 => 1u32,
                _ => {
                    return Err(ModelsError::NotBinary {
                        what: "label",
                        row,
                        found: v,
                    })
                }
            });
        }
        let n1 = labels.iter().filter(|&&l| l == 1).count();
        if n1 == 0 || n1 == n {
            return Err(ModelsError::SingleClass {
                what: "labels",
                found: if n1 == 0 { "0".into() } else { "1".into() },
            });
        }
        // Balanced members copy their own subsample; the others share one copy of `x`.
        let dm = if self.balanced {
            None
        } else {
            Some(to_dense(x)?)
        };
        let positives: Vec<usize> = (0..n).filter(|&i| labels[i] == 1).collect();
        let negatives: Vec<usize> = (0..n).filter(|&i| labels[i] == 0).collect();
        let mut rng = Xoshiro256Plus::seed_from_u64(self.seed);
        let seeds: Vec<u64> = (0..self.n_trees).map(|_| rng.next_u64()).collect();
        let members = seeds
            .par_iter()
            .map(|&seed| {
                let mut p = RandomForestClassifierParameters::default()
                    .with_n_trees(1)
                    .with_min_samples_leaf(self.min_samples_leaf)
                    .with_min_samples_split(self.min_samples_split)
                    .with_seed(seed);
                if let Some(depth) = self.max_depth {
                    p = p.with_max_depth(depth);
                }
                if let Some(m) = self.m {
                    p = p.with_m(m);
                }
                if self.balanced {
                    let rows = balanced_rows(&positives, &negatives, seed);
                    let xs = to_dense(x.select(Axis(0), &rows).view())?;
                    let ys: Vec<u32> = rows.iter().map(|&i| labels[i]).collect();
                    RandomForestClassifier::fit(&xs, &ys, p).map_err(smartcore_err)
                } else {
                    match &dm {
                        Some(dm) => {
                            RandomForestClassifier::fit(dm, &labels, p).map_err(smartcore_err)
                        }
                        None => Err(ModelsError::Empty {
                            what: "design matrix could not be copied for smartcore",
                        }),
                    }
                }
            })
            .collect::<Result<Vec<Member>>>()?;
        let prior_odds = if self.balanced {
            positives.len() as f64 / negatives.len() as f64
        } else {
            1.0
        };
        Ok(ForestModel {
            n_features: d,
            prior_odds,
            members,
            calibration: None,
        })
    }
}

impl ForestModel {
    /// The rules of a saved forest (`at`: its place in the file): fitted on the model's inputs,
    /// at least one tree, a finite positive prior odds ratio.
    pub fn check_fitted(&self, n_features: usize, at: &str) -> Result<()> {
        model_rule(
            self.n_features == n_features,
            || format!("{at}.n_features"),
            "the number of model inputs",
            format!("{} for {n_features} inputs", self.n_features),
        )?;
        model_rule(
            self.prior_odds.is_finite() && self.prior_odds > 0.0,
            || format!("{at}.prior_odds"),
            "a finite number > 0",
            self.prior_odds,
        )?;
        model_rule(
            !self.members.is_empty(),
            || format!("{at}.members"),
            "at least one tree",
            "none",
        )?;
        model_rule(
            self.calibration.as_ref().is_none_or(Platt::is_usable),
            || format!("{at}.calibration"),
            "a finite intercept and a slope > 0",
            format!("{:?}", self.calibration),
        )
    }

    /// P(label = 1): the prior-corrected share of trees voting 1, through the Platt map when the
    /// forest has one.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<f64>> {
        let share = self.vote_share(x)?;
        Ok(match &self.calibration {
            Some(c) => c.apply_all(share.view()),
            None => share,
        })
    }

    /// The prior-corrected share of trees voting 1.
    fn vote_share(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<f64>> {
        if x.ncols() != self.n_features {
            return Err(ModelsError::FeatureCount {
                expected: self.n_features,
                found: x.ncols(),
            });
        }
        let n = x.nrows();
        if n == 0 {
            return Ok(ndarray::Array1::zeros(0));
        }
        let dm = to_dense(x)?;
        let votes = self
            .members
            .par_iter()
            .map(|m| m.predict(&dm).map_err(smartcore_err))
            .try_fold(
                || vec![0u32; n],
                |mut acc, pred| {
                    for (a, p) in acc.iter_mut().zip(pred?) {
                        *a += p;
                    }
                    Ok::<_, ModelsError>(acc)
                },
            )
            .try_reduce(
                || vec![0u32; n],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    Ok(a)
                },
            )?;
        // Integer vote counts: the sum is exact whatever the reduction order.
        let k = self.members.len() as f64;
        let r = self.prior_odds;
        Ok(votes
            .into_iter()
            .map(|v| {
                let share = f64::from(v) / k;
                let num = share * r;
                if num + (1.0 - share) > 0.0 {
                    num / (num + 1.0 - share)
                } else {
                    0.0
                }
            })
            .collect())
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.members.len()
    }
}

/// All minority rows plus as many majority rows drawn without replacement, in row order.
fn balanced_rows(positives: &[usize], negatives: &[usize], seed: u64) -> Vec<usize> {
    let (minority, majority) = if positives.len() <= negatives.len() {
        (positives, negatives)
    } else {
        (negatives, positives)
    };
    let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut rows: Vec<usize> = majority
        .choose_multiple(&mut rng, minority.len())
        .copied()
        .chain(minority.iter().copied())
        .collect();
    rows.sort_unstable();
    rows
}

fn to_dense(x: ArrayView2<'_, f64>) -> Result<DenseMatrix<f64>> {
    let (n, d) = x.dim();
    let values: Vec<f64> = x.iter().copied().collect();
    DenseMatrix::new(n, d, values, false).map_err(smartcore_err)
}

fn smartcore_err(e: smartcore::error::Failed) -> ModelsError {
    ModelsError::Backend {
        library: "smartcore",
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::Rng;

    fn data(seed: u64) -> (Array2<f64>, ndarray::Array1<f64>) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let x = Array2::from_shape_fn((1500, 3), |_| rng.gen_range(0.0..1.0));
        // Label 1 whenever x0 > 0.3 (70 % majority), with 5 % flipped labels.
        let y = x.column(0).mapv(|v| {
            let base = if v > 0.3 { 1.0 } else { 0.0 };
            if rng.gen::<f64>() < 0.05 {
                1.0 - base
            } else {
                base
            }
        });
        (x, y)
    }

    #[test]
    fn probability_is_share_voting_one_and_tracks_label_one() {
        let (x, y) = data(1);
        let raw = ForestParams {
            n_trees: 25,
            balanced: false,
            ..Default::default()
        };
        let f = raw.fit(x.view(), y.view()).unwrap();
        let p = f.predict_proba(x.view()).unwrap();
        // Without balancing the score is the plain share of 25 trees: multiples of 1/25.
        assert!(p
            .iter()
            .all(|v| ((v * 25.0) - (v * 25.0).round()).abs() < 1e-9));
        let balanced = ForestParams {
            n_trees: 25,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let r = balanced.prior_odds;
        let n1 = y.sum();
        assert!((r - n1 / (y.len() as f64 - n1)).abs() < 1e-12);
        // Balanced scores are prior-corrected shares: inverting the odds map gives multiples of 1/25.
        let pb = balanced.predict_proba(x.view()).unwrap();
        assert!(pb.iter().all(|&q| {
            let share = q / (r * (1.0 - q) + q);
            ((share * 25.0) - (share * 25.0).round()).abs() < 1e-9
        }));
        // Label 1 is the majority here; the score must still be high for x0 > 0.3 (P(1) ≈ 0.95).
        let (mut hi, mut nhi, mut lo, mut nlo) = (0.0, 0.0, 0.0, 0.0);
        for (row, &pi) in x.rows().into_iter().zip(p.iter()) {
            if row[0] > 0.35 {
                hi += pi;
                nhi += 1.0;
            } else if row[0] < 0.25 {
                lo += pi;
                nlo += 1.0;
            }
        }
        assert!(hi / nhi > 0.85, "{}", hi / nhi);
        assert!(lo / nlo < 0.15, "{}", lo / nlo);
    }

    #[test]
    fn seeded_and_serde_round_trip_scores_identically() {
        let (x, y) = data(2);
        let params = ForestParams {
            n_trees: 10,
            ..Default::default()
        };
        let a = params.fit(x.view(), y.view()).unwrap();
        let b = params.fit(x.view(), y.view()).unwrap();
        let pa = a.predict_proba(x.view()).unwrap();
        assert_eq!(pa, b.predict_proba(x.view()).unwrap());
        let json = serde_json::to_string(&a).unwrap();
        let back: ForestModel = serde_json::from_str(&json).unwrap();
        assert_eq!(pa, back.predict_proba(x.view()).unwrap());
        assert!(ForestParams {
            min_samples_split: 1,
            ..Default::default()
        }
        .check()
        .is_err());
    }
}
