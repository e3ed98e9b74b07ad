//! K-means hyperparameters, engine choice and automatic k.

use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use crate::segment::error::{Result, SegmentError};
use crate::segment::lloyd::{assign_rows, fit_lloyd, mean_variance, LloydFit};
use crate::segment::silhouette::{sample_rows, silhouette};
use crate::segment::transform::Transform;

/// Number of clusters: fixed, or chosen by silhouette over an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KChoice {
    /// Exactly this k.
    Fixed(usize),
    /// The k in `min..=max` with the highest sampled silhouette (smaller k on ties).
    Auto {
        /// Smallest k tried (≥ 2).
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

/// Which implementation runs the Lloyd iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KMeansEngine {
    /// This module's rayon Lloyd with greedy k-means++ (default; scikit-learn speed).
    #[default]
    Lloyd,
    /// linfa-clustering's `KMeans` with k-means++ init, its tolerance converted from
    /// scikit-learn's convention to `sqrt(tol × mean variance)` (linfa compares the un-squared
    /// L2 norm of the centroid move). Kept for cross-checks.
    Linfa,
}

/// Clustering hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterParams {
    /// Feature columns clustered. Default `recency_days`, `frequency`, `monetary_total`.
    pub columns: Vec<String>,
    /// Scaling before clustering. Default [`Transform::LogStandardize`].
    pub transform: Transform,
    /// Default `Auto { min: 3, max: 8 }`: k = 2 wins the silhouette on most skewed RFM data and
    /// splits customers too coarsely to act on.
    pub k: KChoice,
    /// Seeded restarts; the lowest inertia wins. Default 3.
    pub n_init: usize,
    /// Lloyd iteration cap per restart. Default 300 (scikit-learn's).
    pub max_iter: usize,
    /// Relative tolerance: stop when the summed squared centroid shift is at most
    /// `tol × mean column variance` of the transformed data. Default 1e-4 (scikit-learn's).
    pub tol: f64,
    /// Seed of every random step. Default 42.
    pub seed: u64,
    /// Rows sampled for the silhouette when k is automatic. Default 10,000.
    pub silhouette_sample: usize,
    /// Default [`KMeansEngine::Lloyd`].
    pub engine: KMeansEngine,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            columns: vec![
                "recency_days".into(),
                "frequency".into(),
                "monetary_total".into(),
            ],
            transform: Transform::LogStandardize,
            k: KChoice::Auto { min: 3, max: 8 },
            n_init: 3,
            max_iter: 300,
            tol: 1e-4,
            seed: 42,
            silhouette_sample: 10_000,
            engine: KMeansEngine::Lloyd,
        }
    }
}

fn invalid(param: &'static str, rule: &'static str, found: impl ToString) -> SegmentError {
    SegmentError::InvalidParam {
        param,
        rule,
        found: found.to_string(),
    }
}

impl ClusterParams {
    /// Checks every documented rule.
    pub fn check(&self) -> Result<()> {
        if self.columns.is_empty() {
            return Err(invalid("cluster.columns", "at least one column", "none"));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].contains(c) {
                return Err(invalid("cluster.columns", "distinct column names", c));
            }
        }
        match self.k {
            KChoice::Fixed(k) if k == 0 => return Err(invalid("cluster.k", "k >= 1", k)),
            KChoice::Auto { min, max } if min < 2 || max < min => {
                return Err(invalid(
                    "cluster.k",
                    "2 <= min <= max",
                    format!("{min}..={max}"),
                ))
            }
            _ => {}
        }
        if self.n_init == 0 {
            return Err(invalid("cluster.n_init", "n_init >= 1", 0));
        }
        if self.max_iter == 0 {
            return Err(invalid("cluster.max_iter", "max_iter >= 1", 0));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(invalid("cluster.tol", "a finite tol >= 0", self.tol));
        }
        if self.silhouette_sample < 2 {
            return Err(invalid(
                "cluster.silhouette_sample",
                "at least 2 rows",
                self.silhouette_sample,
            ));
        }
        Ok(())
    }
}

/// Silhouette of one candidate k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    /// Candidate k.
    pub k: usize,
    /// Mean sampled silhouette (`None` if the sample held one cluster only).
    pub silhouette: Option<f64>,
    /// Inertia of the fit.
    pub inertia: f64,
}

/// One fit with a fixed k on transformed data (standard layout, finite, `n >= k`).
pub fn fit_fixed(x: ArrayView2<f64>, k: usize, p: &ClusterParams) -> Result<LloydFit> {
    if x.ncols() == 0 {
        return Err(invalid("cluster.columns", "at least one column", "none"));
    }
    if x.nrows() < k {
        return Err(SegmentError::TooFewRows {
            k,
            found: x.nrows(),
        });
    }
    match p.engine {
        KMeansEngine::Lloyd => Ok(fit_lloyd(x, k, p.n_init, p.max_iter, p.tol, p.seed)),
        KMeansEngine::Linfa => fit_linfa(x, k, p),
    }
}

fn fit_linfa(x: ArrayView2<f64>, k: usize, p: &ClusterParams) -> Result<LloydFit> {
    let tol = (p.tol * mean_variance(x)).sqrt().max(f64::MIN_POSITIVE);
    let data = x.as_standard_layout().to_owned();
    let ds = DatasetBase::from(data);
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(p.seed))
        .n_runs(p.n_init)
        .tolerance(tol)
        .max_n_iterations(p.max_iter as u64)
        .init_method(KMeansInit::KMeansPlusPlus)
        .fit(&ds)
        .map_err(|e| SegmentError::Linfa(e.to_string()))?;
    let centroids = model.centroids().clone();
    let flat = centroids.as_standard_layout().to_owned();
    let d = x.ncols();
    let mut labels = vec![0; x.nrows()];
    let mut dists = vec![0.0; x.nrows()];
    let rows = ds.records().as_slice().unwrap_or(&[]);
    assign_rows(
        rows,
        d,
        flat.as_slice().unwrap_or(&[]),
        &mut labels,
        &mut dists,
    );
    Ok(LloydFit {
        centroids,
        labels,
        inertia: dists.iter().sum(),
        n_iter: 0,
    })
}

/// Fits k-means per `p.k`; for automatic k also returns every candidate's score.
pub fn fit_kmeans(x: ArrayView2<f64>, p: &ClusterParams) -> Result<(LloydFit, Vec<KScore>)> {
    p.check()?;
    match p.k {
        KChoice::Fixed(k) => Ok((fit_fixed(x, k, p)?, Vec::new())),
        KChoice::Auto { min, max } => auto_k(x, min..=max, p),
    }
}

/// Fits every k in `range` and keeps the one with the highest silhouette on a seeded sample of
/// at most `p.silhouette_sample` rows (the same rows for every k); smaller k wins ties, and if
/// no candidate has a silhouette the smallest k is kept.
pub fn auto_k(
    x: ArrayView2<f64>,
    range: std::ops::RangeInclusive<usize>,
    p: &ClusterParams,
) -> Result<(LloydFit, Vec<KScore>)> {
    let sample = sample_rows(x.nrows(), p.silhouette_sample, p.seed);
    let mut best: Option<(f64, LloydFit)> = None;
    let mut scores = Vec::new();
    for k in range.clone() {
        if k > x.nrows() {
            break;
        }
        let fit = fit_fixed(x, k, p)?;
        let s = silhouette(x, &fit.labels, k, &sample);
        scores.push(KScore {
            k,
            silhouette: s,
            inertia: fit.inertia,
        });
        let value = s.unwrap_or(f64::NEG_INFINITY);
        if best.as_ref().is_none_or(|(b, _)| value > *b) {
            best = Some((value, fit));
        }
    }
    match best {
        Some((_, fit)) => Ok((fit, scores)),
        None => Err(SegmentError::TooFewRows {
            k: *range.start(),
            found: x.nrows(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::Rng;

    /// Three well-separated 2-D blobs of 200 points each.
    fn blobs(seed: u64) -> Array2<f64> {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        Array2::from_shape_fn((600, 2), |(i, j)| {
            let c = centres[i / 200];
            let base = if j == 0 { c.0 } else { c.1 };
            base + rng.gen_range(-1.0..1.0)
        })
    }

    #[test]
    fn auto_k_finds_three_blobs() {
        let x = blobs(3);
        let p = ClusterParams {
            k: KChoice::Auto { min: 2, max: 5 },
            ..ClusterParams::default()
        };
        let (fit, scores) = fit_kmeans(x.view(), &p).unwrap();
        assert_eq!(fit.centroids.nrows(), 3);
        assert_eq!(scores.len(), 4);
        assert!(scores[1].silhouette.unwrap() > 0.8);
    }

    #[test]
    fn lloyd_and_linfa_agree_on_separated_blobs() {
        let x = blobs(5);
        let p = ClusterParams {
            k: KChoice::Fixed(3),
            ..ClusterParams::default()
        };
        let ours = fit_fixed(x.view(), 3, &p).unwrap();
        let linfa = fit_fixed(
            x.view(),
            3,
            &ClusterParams {
                engine: KMeansEngine::Linfa,
                ..p.clone()
            },
        )
        .unwrap();
        assert!((ours.inertia - linfa.inertia).abs() / linfa.inertia < 1e-9);
        // Same seed → identical result.
        assert_eq!(ours, fit_fixed(x.view(), 3, &p).unwrap());
    }

    #[test]
    fn params_are_checked() {
        let bad = ClusterParams {
            k: KChoice::Auto { min: 1, max: 3 },
            ..ClusterParams::default()
        };
        assert!(matches!(
            bad.check(),
            Err(SegmentError::InvalidParam {
                param: "cluster.k",
                ..
            })
        ));
        let x = blobs(1);
        let p = ClusterParams {
            k: KChoice::Fixed(601),
            ..ClusterParams::default()
        };
        assert!(matches!(
            fit_kmeans(x.view(), &p),
            Err(SegmentError::TooFewRows { .. })
        ));
    }
}
