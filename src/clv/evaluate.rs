//! Calibration/holdout evaluation of a fitted BG/NBD model.

use serde::{Deserialize, Serialize};

use super::bgnbd::BgNbdParams;
use super::error::ClvError;
use super::summary::CustomerSummaries;

/// Mean predicted vs mean actual holdout purchases of customers with one calibration frequency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyBucket {
    /// "0", "1", …, "6", "7+".
    pub label: String,
    /// Customers in the bucket.
    pub n: usize,
    /// Mean conditional expected holdout purchases.
    pub mean_predicted: f64,
    /// Mean actual holdout purchases.
    pub mean_actual: f64,
}

/// One decile of P(alive) against the share of customers who bought again in the holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliveDecile {
    /// 1 (lowest P(alive)) to 10.
    pub decile: usize,
    /// Customers in the decile.
    pub n: usize,
    /// Mean P(alive) at the end of calibration.
    pub mean_p_alive: f64,
    /// Share with at least one holdout purchase (a lower bound on the share alive).
    pub share_active: f64,
}

/// Holdout evaluation summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutReport {
    /// Customers evaluated.
    pub n_customers: usize,
    /// Holdout length in the model's time unit.
    pub holdout_length: f64,
    /// Σ predicted holdout purchases.
    pub total_predicted: f64,
    /// Σ actual holdout purchases.
    pub total_actual: f64,
    /// Mean absolute error per customer.
    pub mae: f64,
    /// Root mean squared error per customer.
    pub rmse: f64,
    /// By calibration frequency 0, 1, …, 6, 7+ (empty buckets omitted).
    pub by_frequency: Vec<FrequencyBucket>,
    /// P(alive) deciles (fewer than 10 when there are fewer than 10 customers).
    pub alive_deciles: Vec<AliveDecile>,
}

/// Highest frequency with its own bucket; larger ones are pooled into "7+".
const TOP_BUCKET: usize = 7;

/// Compares BG/NBD holdout predictions with actual holdout repeat-purchase counts.
pub fn evaluate_holdout(
    model: &BgNbdParams,
    calibration: &CustomerSummaries,
    holdout_length: f64,
    actual: &[f64],
) -> Result<HoldoutReport, ClvError> {
    calibration.check()?;
    let n = calibration.len();
    if actual.len() != n {
        return Err(ClvError::LengthMismatch {
            column: "actual",
            expected: n,
            found: actual.len(),
        });
    }
    if let Some(row) = actual.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(ClvError::InvalidValue {
            column: "actual",
            row,
            rule: "a finite non-negative count",
            value: actual[row],
        });
    }
    if n == 0 {
        return Err(ClvError::TooFewCustomers {
            model: "holdout evaluation",
            expected: 1,
            found: 0,
        });
    }
    if !holdout_length.is_finite() || holdout_length <= 0.0 {
        return Err(ClvError::InvalidParameter {
            name: "holdout_length",
            rule: "a finite value > 0",
            value: holdout_length,
        });
    }
    let predicted = model.expected_purchases(calibration, holdout_length)?;
    let alive = model.p_alive(calibration)?;
    let (mut abs, mut sq) = (0.0, 0.0);
    let mut sums = [(0usize, 0.0f64, 0.0f64); TOP_BUCKET + 1];
    for i in 0..n {
        let e = predicted[i] - actual[i];
        abs += e.abs();
        sq += e * e;
        let bucket = (calibration.frequency[i] as usize).min(TOP_BUCKET);
        sums[bucket].0 += 1;
        sums[bucket].1 += predicted[i];
        sums[bucket].2 += actual[i];
    }
    let by_frequency = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.0 > 0)
        .map(|(k, s)| FrequencyBucket {
            label: if k == TOP_BUCKET {
                format!("{TOP_BUCKET}+")
            } else {
                k.to_string()
            },
            n: s.0,
            mean_predicted: s.1 / s.0 as f64,
            mean_actual: s.2 / s.0 as f64,
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| alive[a].total_cmp(&alive[b]).then(a.cmp(&b)));
    let groups = n.min(10);
    let alive_deciles = (0..groups)
        .map(|d| {
            let idx = &order[d * n / groups..(d + 1) * n / groups];
            let m = idx.len() as f64;
            AliveDecile {
                decile: d + 1,
                n: idx.len(),
                mean_p_alive: idx.iter().map(|&i| alive[i]).sum::<f64>() / m,
                share_active: idx.iter().filter(|&&i| actual[i] >= 1.0).count() as f64 / m,
            }
        })
        .collect();
    Ok(HoldoutReport {
        n_customers: n,
        holdout_length,
        total_predicted: predicted.iter().sum(),
        total_actual: actual.iter().sum(),
        mae: abs / n as f64,
        rmse: (sq / n as f64).sqrt(),
        by_frequency,
        alive_deciles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_aggregates_by_hand() {
        let p = BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap();
        let s = CustomerSummaries {
            frequency: vec![0.0, 1.0, 9.0],
            recency: vec![0.0, 5.0, 30.0],
            t: vec![20.0, 30.0, 35.0],
            monetary_value: vec![],
        };
        let actual = [0.0, 2.0, 3.0];
        let r = evaluate_holdout(&p, &s, 39.0, &actual).unwrap();
        let pred = p.expected_purchases(&s, 39.0).unwrap();
        assert!((r.total_predicted - pred.iter().sum::<f64>()).abs() < 1e-12);
        assert_eq!(r.total_actual, 5.0);
        let mae = pred
            .iter()
            .zip(actual)
            .map(|(p, a)| (p - a).abs())
            .sum::<f64>()
            / 3.0;
        assert!((r.mae - mae).abs() < 1e-12);
        let labels: Vec<&str> = r.by_frequency.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["0", "1", "7+"]);
        assert_eq!(r.alive_deciles.len(), 3);
        assert!(evaluate_holdout(&p, &s, 39.0, &[1.0]).is_err());
        assert!(evaluate_holdout(&p, &s, 0.0, &actual).is_err());
    }
}
