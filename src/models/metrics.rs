//! Holdout metrics of a binary score: AUC, log loss, Brier, calibration, gains and lift by decile.
//!
//! Deciles: rows are ordered by score descending (ties in reverse row order, as numpy's reversed
//! stable `argsort`, the convention of scikit-uplift) and cut into 10 consecutive groups with
//! `numpy.array_split` sizes (the first `n mod 10` groups hold one extra row). Decile 1 holds the
//! highest scores. Rows tied across a boundary are split by that order, not pooled.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::models::error::{ModelsError, Result};
use crate::models::importance::FeatureImportance;
use crate::models::qini::UpliftMetrics;

/// Version of the serialized [`Metrics`] layout.
pub const METRICS_SCHEMA_VERSION: u32 = 1;

/// Probabilities are clipped to `[EPS, 1 − EPS]` inside the log loss so a confident miss costs
/// `−ln(1e−15) ≈ 34.5` instead of infinity.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// One decile of a scored holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1 = highest scores … 10 = lowest.
    pub decile: u32,
    /// Rows in the decile.
    pub rows: usize,
    /// Mean predicted probability (calibration: compare with `observed_rate`).
    pub mean_predicted: f64,
    /// Share of label-1 rows.
    pub observed_rate: f64,
    /// Label-1 rows.
    pub positives: usize,
    /// Share of all positives captured by deciles 1..=this one (cumulative gain).
    pub cumulative_gain: f64,
    /// `observed_rate / base_rate`.
    pub lift: f64,
    /// Observed rate of deciles 1..=this one over the base rate.
    pub cumulative_lift: f64,
}

/// Metrics of a response or churn score on a holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Holdout rows.
    pub n_rows: usize,
    /// Share of label-1 rows.
    pub base_rate: f64,
    /// Area under the ROC curve (ties count one half).
    pub auc: f64,
    /// Mean log loss (natural log), probabilities clipped by [`LOG_LOSS_EPS`].
    pub log_loss: f64,
    /// Mean squared error of the probability.
    pub brier: f64,
    /// Calibration, gains and lift by decile.
    pub deciles: Vec<DecileRow>,
    /// Lift of decile 1.
    pub top_decile_lift: f64,
}

/// Everything written to `metrics.json` for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Layout version ([`METRICS_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Response/churn metrics (for an uplift model: none).
    pub classification: Option<ClassificationMetrics>,
    /// Uplift metrics (uplift models only).
    pub uplift: Option<UpliftMetrics>,
    /// Permutation importance on the holdout (forests; absent for logistic models, whose
    /// coefficients say it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permutation_importance: Option<Vec<FeatureImportance>>,
}

/// Check labels are 0/1 and scores are finite with equal lengths; returns the label-1 count.
pub(crate) fn check_scored(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<usize> {
    if y.len() != p.len() {
        return Err(ModelsError::LengthMismatch {
            what: "labels vs scores",
            expected: y.len(),
            found: p.len(),
        });
    }
    if y.is_empty() {
        return Err(ModelsError::Empty {
            what: "no holdout rows to evaluate",
        });
    }
    let mut n1 = 0;
    for (row, (&yi, &pi)) in y.iter().zip(p.iter()).enumerate() {
        match yi {
            1.0 => n1 += 1,
            0.0 => {}
            _ => {
                return Err(ModelsError::NotBinary {
                    what: "label",
                    row,
                    found: yi,
                })
            }
        }
        if !pi.is_finite() {
            return Err(ModelsError::NonFinite {
                column: "score".into(),
                row,
                value: pi,
            });
        }
    }
    Ok(n1)
}

/// Row order by score descending, ties in reverse row order (numpy `argsort(kind="mergesort")[::-1]`).
pub(crate) fn descending_order(p: ArrayView1<'_, f64>) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(b.cmp(&a)));
    idx
}

/// `numpy.array_split(range(n), bins)` boundaries.
pub(crate) fn split_bounds(n: usize, bins: usize) -> Vec<(usize, usize)> {
    let (q, r) = (n / bins, n % bins);
    let mut start = 0;
    (0..bins)
        .map(|k| {
            let len = q + usize::from(k < r);
            let b = (start, start + len);
            start += len;
            b
        })
        .collect()
}

/// ROC AUC via the Mann–Whitney statistic with mid-ranks for ties; O(n log n).
pub fn auc(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<f64> {
    let n1 = check_scored(y, p)?;
    let n = y.len();
    let n0 = n - n1;
    if n1 == 0 || n0 == 0 {
        return Err(ModelsError::SingleClass {
            what: "auc labels",
            found: if n1 == 0 { "0" } else { "1" }.into(),
        });
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        // Ranks i+1..=j+1 share their mean.
        let mid = (i + j) as f64 / 2.0 + 1.0;
        let pos = idx[i..=j].iter().filter(|&&k| y[k] == 1.0).count();
        rank_sum_pos += mid * pos as f64;
        i = j + 1;
    }
    let n1f = n1 as f64;
    Ok((rank_sum_pos - n1f * (n1f + 1.0) / 2.0) / (n1f * n0 as f64))
}

/// Mean log loss with probabilities clipped to `[LOG_LOSS_EPS, 1 − LOG_LOSS_EPS]`.
pub fn log_loss(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<f64> {
    check_scored(y, p)?;
    let s: f64 = y
        .iter()
        .zip(p.iter())
        .map(|(&yi, &pi)| {
            let q = pi.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            -(yi * q.ln() + (1.0 - yi) * (1.0 - q).ln())
        })
        .sum();
    Ok(s / y.len() as f64)
}

/// Mean of `(p − y)²`.
pub fn brier(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<f64> {
    check_scored(y, p)?;
    let s: f64 = y
        .iter()
        .zip(p.iter())
        .map(|(&yi, &pi)| (pi - yi).powi(2))
        .sum();
    Ok(s / y.len() as f64)
}

/// Calibration, gains and lift by decile (see the module doc for the decile rule).
pub fn deciles(y: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> Result<Vec<DecileRow>> {
    let n1 = check_scored(y, p)?;
    let n = y.len();
    let base = n1 as f64 / n as f64;
    let order = descending_order(p);
    let mut cum_rows = 0usize;
    let mut cum_pos = 0usize;
    Ok(split_bounds(n, 10)
        .into_iter()
        .enumerate()
        .map(|(k, (a, b))| {
            let rows = b - a;
            let pos = order[a..b].iter().filter(|&&i| y[i] == 1.0).count();
            let sum_p: f64 = order[a..b].iter().map(|&i| p[i]).sum();
            cum_rows += rows;
            cum_pos += pos;
            let rate = ratio(pos as f64, rows as f64);
            DecileRow {
                decile: k as u32 + 1,
                rows,
                mean_predicted: ratio(sum_p, rows as f64),
                observed_rate: rate,
                positives: pos,
                cumulative_gain: ratio(cum_pos as f64, n1 as f64),
                lift: ratio(rate, base),
                cumulative_lift: ratio(ratio(cum_pos as f64, cum_rows as f64), base),
            }
        })
        .collect())
}

/// `a / b`, or 0 when `b` is 0 (an empty decile or a holdout without positives).
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// All classification metrics of a holdout score.
pub fn classification_metrics(
    y: ArrayView1<'_, f64>,
    p: ArrayView1<'_, f64>,
) -> Result<ClassificationMetrics> {
    let n1 = check_scored(y, p)?;
    let deciles = deciles(y, p)?;
    Ok(ClassificationMetrics {
        n_rows: y.len(),
        base_rate: n1 as f64 / y.len() as f64,
        auc: auc(y, p)?,
        log_loss: log_loss(y, p)?,
        brier: brier(y, p)?,
        top_decile_lift: deciles.first().map_or(0.0, |d| d.lift),
        deciles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn auc_matches_hand_count_with_ties() {
        // Pairs (pos, neg): pos scores {0.8, 0.4, 0.4}, neg {0.4, 0.1}.
        // Wins: 0.8 beats both (2); each 0.4 ties 0.4 (½) and beats 0.1 (1) → 1.5 each. 5/6.
        let y = array![1.0, 1.0, 1.0, 0.0, 0.0];
        let p = array![0.8, 0.4, 0.4, 0.4, 0.1];
        assert!((auc(y.view(), p.view()).unwrap() - 5.0 / 6.0).abs() < 1e-15);
        let constant = array![0.3, 0.3, 0.3, 0.3, 0.3];
        assert!((auc(y.view(), constant.view()).unwrap() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn log_loss_and_brier_by_hand() {
        let y = array![1.0, 0.0];
        let p = array![0.8, 0.4];
        let ll = -(0.8f64.ln() + 0.6f64.ln()) / 2.0;
        assert!((log_loss(y.view(), p.view()).unwrap() - ll).abs() < 1e-15);
        assert!((brier(y.view(), p.view()).unwrap() - (0.04 + 0.16) / 2.0).abs() < 1e-15);
        let certain = array![0.0, 0.0];
        let clipped = log_loss(y.view(), certain.view()).unwrap();
        assert!((clipped - (-(1e-15f64).ln() / 2.0)).abs() < 1e-9);
    }

    #[test]
    fn deciles_follow_array_split_and_gains_add_up() {
        // 12 rows: sizes 2,2,1,1,…; scores descending 11..0, positives at the top 3 rows.
        let p: ndarray::Array1<f64> = (0..12).map(|i| (11 - i) as f64 / 11.0).collect();
        let y: ndarray::Array1<f64> = (0..12).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect();
        let d = deciles(y.view(), p.view()).unwrap();
        let sizes: Vec<usize> = d.iter().map(|r| r.rows).collect();
        assert_eq!(sizes, vec![2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
        assert_eq!(d[0].positives, 2);
        assert!((d[0].lift - 1.0 / 0.25).abs() < 1e-12);
        assert!((d[1].cumulative_gain - 1.0).abs() < 1e-12);
        assert!((d[9].cumulative_lift - 1.0).abs() < 1e-12);
        let m = classification_metrics(y.view(), p.view()).unwrap();
        assert_eq!(m.top_decile_lift, d[0].lift);
        assert_eq!(m.auc, 1.0);
        assert_eq!(split_bounds(3, 10)[2], (2, 3));
    }

    #[test]
    fn rejects_non_binary_and_nan() {
        let y = array![1.0, 0.5];
        let p = array![0.1, 0.2];
        assert!(matches!(
            auc(y.view(), p.view()),
            Err(ModelsError::NotBinary { row: 1, .. })
        ));
        let y = array![1.0, 0.0];
        let p = array![f64::NAN, 0.2];
        assert!(matches!(
            brier(y.view(), p.view()),
            Err(ModelsError::NonFinite { row: 0, .. })
        ));
    }
}
