//! Whether a score can be read as a probability, and making a forest's score one.
//!
//! The selector multiplies scores by values, so a score of 0.3 must mean three buyers in ten.
//! [`reliability`] sets the mean score of each score decile beside its observed rate;
//! [`logistic_recalibration`] fits `logit P(y = 1) = a + b · logit(score)`: a perfectly calibrated
//! score has intercept 0 and slope 1, a slope below 1 means scores too extreme. The same two-number
//! fit, used as a map from score to probability, is Platt scaling ([`Platt`]), which the forest's
//! vote shares need (balanced trees and vote counting make them neither sharp nor centred).

use ndarray::{Array1, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::models::error::Result;
use crate::models::metrics::deciles;

/// Scores are clipped to `[CLIP, 1 − CLIP]` before their logit, so a forest's unanimous vote (0 or
/// 1) has a finite logit.
pub const CLIP: f64 = 1e-4;

/// One score decile (1 = highest scores): mean score against the observed rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityRow {
    pub decile: u32,
    pub rows: usize,
    pub mean_score: f64,
    pub observed_rate: f64,
}

/// The reliability table of a score on labelled rows, by score decile (the deciles of
/// [`crate::models::metrics`]).
pub fn reliability(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<Vec<ReliabilityRow>> {
    Ok(deciles(y, p)?
        .into_iter()
        .map(|d| ReliabilityRow {
            decile: d.decile,
            rows: d.rows,
            mean_score: d.mean_predicted,
            observed_rate: d.observed_rate,
        })
        .collect())
}

/// `logit P(y = 1) = intercept + slope · logit(score)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub intercept: f64,
    pub slope: f64,
}

/// The logit of a score clipped by [`CLIP`].
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(CLIP, 1.0 - CLIP);
    (p / (1.0 - p)).ln()
}

impl Platt {
    /// The calibrated probability of a score.
    pub fn apply(&self, p: f64) -> f64 {
        crate::models::logistic::sigmoid(self.intercept + self.slope * logit(p))
    }

    /// [`Self::apply`] to each score.
    pub fn apply_all(&self, p: ArrayView1<'_, f64>) -> Array1<f64> {
        p.mapv(|v| self.apply(v))
    }

    /// Whether the fit is usable as a calibration map: finite and increasing (a map that turns
    /// the order round would rank customers backwards).
    pub fn is_usable(&self) -> bool {
        self.intercept.is_finite() && self.slope.is_finite() && self.slope > 0.0
    }
}

/// The maximum-likelihood `(intercept, slope)` of `y` on `logit(p)`: Newton's method on the two
/// parameters from the base rate (slope 0), each step halved until the likelihood does not fall,
/// since a forest's clipped unanimous votes make the first full steps overshoot. `None` when the
/// rows hold one class only, every score is the same or the fit does not converge (no maximum:
/// the scores separate the classes).
pub fn logistic_recalibration(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Option<Platt> {
    let n1 = y.iter().filter(|&&v| v == 1.0).count();
    if y.len() != p.len() || n1 == 0 || n1 == y.len() {
        return None;
    }
    let z: Vec<f64> = p.iter().map(|&v| logit(v)).collect();
    let loglik = |a: f64, b: f64| -> f64 {
        z.iter()
            .zip(y.iter())
            .map(|(&zi, &yi)| {
                let eta = a + b * zi;
                // log σ(η) = −ln(1 + e^{−η}), written to stay finite for large |η|.
                let log1pexp = |t: f64| {
                    if t > 0.0 {
                        t + (-t).exp().ln_1p()
                    } else {
                        t.exp().ln_1p()
                    }
                };
                -(yi * log1pexp(-eta) + (1.0 - yi) * log1pexp(eta))
            })
            .sum()
    };
    let base = n1 as f64 / y.len() as f64;
    let (mut a, mut b) = ((base / (1.0 - base)).ln(), 0.0f64);
    let mut current = loglik(a, b);
    for _ in 0..200 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&zi, &yi) in z.iter().zip(y.iter()) {
            let q = crate::models::logistic::sigmoid(a + b * zi);
            let w = q * (1.0 - q);
            ga += yi - q;
            gb += (yi - q) * zi;
            haa += w;
            hab += w * zi;
            hbb += w * zi * zi;
        }
        let det = haa * hbb - hab * hab;
        if det.is_nan() || det.abs() <= 1e-12 {
            return None;
        }
        let (mut da, mut db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        let mut next = loglik(a + da, b + db);
        let mut halvings = 0;
        while (next.is_nan() || current.is_nan() || next < current) && halvings < 40 {
            da /= 2.0;
            db /= 2.0;
            next = loglik(a + da, b + db);
            halvings += 1;
        }
        a += da;
        b += db;
        current = next;
        if da.abs().max(db.abs()) < 1e-9 {
            return Some(Platt {
                intercept: a,
                slope: b,
            })
            .filter(|f| f.intercept.is_finite() && f.slope.is_finite());
        }
    }
    None
}

/// Scores of `p` calibrated without ever seeing their own label: the rows are cut into two
/// seeded halves, a Platt map fitted on each half calibrates the other. `None` when a half
/// cannot be fitted (one class, constant scores) or its map is not usable.
pub fn cross_fitted(
    y: ArrayView1<'_, f64>,
    p: ArrayView1<'_, f64>,
    seed: u64,
) -> Option<Array1<f64>> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let n = y.len();
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed));
    let (a, b) = rows.split_at(n / 2);
    let mut out = Array1::zeros(n);
    for (fit_on, apply_to) in [(a, b), (b, a)] {
        let pick = |v: ArrayView1<'_, f64>| fit_on.iter().map(|&i| v[i]).collect::<Array1<f64>>();
        let map =
            logistic_recalibration(pick(y).view(), pick(p).view()).filter(Platt::is_usable)?;
        for &i in apply_to {
            out[i] = map.apply(p[i]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// 20 rows, two per decile: the table is the mean score and the observed rate of each pair,
    /// highest scores first.
    #[test]
    fn reliability_table_by_hand() {
        let p: Array1<f64> = (0..20).map(|i| i as f64 / 20.0).collect();
        // Positives at scores 0.95, 0.9, 0.85 (decile 1 twice, decile 2 once) and 0.05.
        let y: Array1<f64> = (0..20)
            .map(|i| f64::from(u8::from([19, 18, 17, 1].contains(&i))))
            .collect();
        let t = reliability(y.view(), p.view()).unwrap();
        assert_eq!(t.len(), 10);
        assert_eq!((t[0].decile, t[0].rows), (1, 2));
        assert!((t[0].mean_score - 0.925).abs() < 1e-12);
        assert_eq!(t[0].observed_rate, 1.0);
        assert!((t[1].mean_score - 0.825).abs() < 1e-12);
        assert_eq!(t[1].observed_rate, 0.5);
        assert_eq!(t[5].observed_rate, 0.0);
        assert!((t[9].mean_score - 0.025).abs() < 1e-12);
        assert_eq!(t[9].observed_rate, 0.5);
    }

    /// Labels drawn from the score itself give slope ≈ 1 and intercept ≈ 0; from a sharpened
    /// score, a slope near the sharpening factor; Platt then maps the score back.
    #[test]
    fn recalibration_recovers_the_slope() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(3);
        let n = 40_000;
        let p: Array1<f64> = (0..n).map(|_| rng.gen_range(0.02..0.98)).collect();
        let draw = |k: f64, rng: &mut rand_xoshiro::Xoshiro256Plus| -> Array1<f64> {
            p.iter()
                .map(|&v| {
                    let q = crate::models::logistic::sigmoid(k * logit(v));
                    f64::from(u8::from(rng.gen::<f64>() < q))
                })
                .collect()
        };
        let y = draw(1.0, &mut rng);
        let f = logistic_recalibration(y.view(), p.view()).unwrap();
        assert!((f.slope - 1.0).abs() < 0.05, "{f:?}");
        assert!(f.intercept.abs() < 0.05, "{f:?}");
        let y2 = draw(2.0, &mut rng);
        let g = logistic_recalibration(y2.view(), p.view()).unwrap();
        assert!((g.slope - 2.0).abs() < 0.1, "{g:?}");
        assert!(g.is_usable());
        assert!((g.apply(0.5) - 0.5).abs() < 0.03);
        assert!(logistic_recalibration(array![1.0, 1.0].view(), array![0.2, 0.3].view()).is_none());
        assert!(logistic_recalibration(array![1.0, 0.0].view(), array![0.3, 0.3].view()).is_none());
        // Cross-fitted: each row's calibrated score comes from the other half's map, so it is
        // not the whole holdout's map applied to it, but close to it on this many rows.
        let c = cross_fitted(y2.view(), p.view(), 5).unwrap();
        let whole = g.apply_all(p.view());
        assert_ne!(c, whole);
        let gap = c
            .iter()
            .zip(whole.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(gap < 0.05, "{gap}");
        let after = logistic_recalibration(y2.view(), c.view()).unwrap();
        assert!((after.slope - 1.0).abs() < 0.1, "{after:?}");
    }
}
