//! Uplift evaluation: Qini curve and Qini coefficient exactly as scikit-uplift's
//! `qini_curve` / `perfect_qini_curve` / `qini_auc_score` (with `negative_effect=True`), and uplift by
//! decile as its `uplift_by_percentile(strategy="overall", bins=10)`.
//!
//! Qini curve: order rows by predicted uplift descending (numpy's reversed stable argsort); at the
//! last row of each run of equal scores (threshold k, with N = k+1 rows above it) take the
//! cumulative treated count Nₜ, control count N_c = N − Nₜ, treated responders Yₜ and control
//! responders Y_c, and plot
//!
//! ```text
//!   x = N,   q(N) = Yₜ − Y_c · Nₜ / N_c        (q = Yₜ when N_c = 0)
//! ```
//!
//! prefixed with the point (0, 0). The perfect curve is the same curve for the score
//! `y·t − y·(1−t)` (treated responders first, control responders last). With A(·) the trapezoid
//! area and the random line from (0, 0) to the perfect curve's last point (x_last, q_last):
//!
//! ```text
//!   qini_auc_score = (A(model) − x_last·q_last/2) / (A(perfect) − x_last·q_last/2)
//! ```

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::models::error::{ModelsError, Result};
use crate::models::metrics::{descending_order, split_bounds};

/// Points of a Qini curve (x = rows targeted, y = incremental responders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QiniCurve {
    /// Rows targeted, ascending, starting at 0.
    pub x: Vec<f64>,
    /// Qini value at each x.
    pub y: Vec<f64>,
}

/// One decile of predicted uplift (decile 1 = highest predicted uplift).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftDecileRow {
    /// 1 …= 10.
    pub decile: u32,
    /// Treated rows in the decile.
    pub n_treated: usize,
    /// Control rows in the decile.
    pub n_control: usize,
    /// Mean predicted uplift.
    pub mean_predicted_uplift: f64,
    /// Response rate of treated rows (`None` when the decile has none).
    pub response_rate_treated: Option<f64>,
    /// Response rate of control rows (`None` when the decile has none).
    pub response_rate_control: Option<f64>,
    /// Observed uplift: treated rate − control rate (`None` when either is missing).
    pub uplift: Option<f64>,
}

/// Uplift metrics for `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftMetrics {
    /// Holdout rows.
    pub n_rows: usize,
    /// Treated holdout rows.
    pub n_treated: usize,
    /// Control holdout rows.
    pub n_control: usize,
    /// scikit-uplift's `qini_auc_score`.
    pub qini_coefficient: f64,
    /// The Qini curve sampled at 0 %, 1 %, …, 100 % of the rows (last point at or before each).
    pub qini_curve: QiniCurve,
    /// Observed uplift by decile of predicted uplift.
    pub uplift_by_decile: Vec<UpliftDecileRow>,
}

fn check(y: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, t: ArrayView1<'_, f64>) -> Result<()> {
    for (what, len) in [
        ("uplift scores vs labels", u.len()),
        ("treatment vs labels", t.len()),
    ] {
        if len != y.len() {
            return Err(ModelsError::LengthMismatch {
                what,
                expected: y.len(),
                found: len,
            });
        }
    }
    if y.is_empty() {
        return Err(ModelsError::Empty {
            what: "no holdout rows to evaluate",
        });
    }
    for row in 0..y.len() {
        for (what, v) in [("label", y[row]), ("treatment", t[row])] {
            if v != 0.0 && v != 1.0 {
                return Err(ModelsError::NotBinary {
                    what,
                    row,
                    found: v,
                });
            }
        }
        if !u[row].is_finite() {
            return Err(ModelsError::NonFinite {
                column: "uplift score".into(),
                row,
                value: u[row],
            });
        }
    }
    let nt = t.iter().filter(|&&v| v == 1.0).count();
    if nt == 0 || nt == t.len() {
        return Err(ModelsError::SingleClass {
            what: "treatment",
            found: if nt == 0 { "0" } else { "1" }.into(),
        });
    }
    Ok(())
}

/// scikit-uplift's `qini_curve` (see the module doc).
pub fn qini_curve(
    y: ArrayView1<'_, f64>,
    uplift: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> Result<QiniCurve> {
    check(y, uplift, treatment)?;
    Ok(curve_unchecked(y, uplift, treatment))
}

fn curve_unchecked(
    y: ArrayView1<'_, f64>,
    uplift: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> QiniCurve {
    let order = descending_order(uplift);
    let n = order.len();
    let mut xs = vec![0.0];
    let mut qs = vec![0.0];
    let (mut nt, mut yt, mut yc) = (0.0, 0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if treatment[i] == 1.0 {
            nt += 1.0;
            yt += y[i];
        } else {
            yc += y[i];
        }
        let last_of_run = k + 1 == n || uplift[order[k + 1]] != uplift[i];
        if last_of_run {
            let all = (k + 1) as f64;
            let nc = all - nt;
            let q = if nc > 0.0 { yt - yc * nt / nc } else { yt };
            xs.push(all);
            qs.push(q);
        }
    }
    QiniCurve { x: xs, y: qs }
}

/// scikit-uplift's `perfect_qini_curve(negative_effect=True)`.
pub fn perfect_qini_curve(
    y: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> Result<QiniCurve> {
    let perfect: ndarray::Array1<f64> = y
        .iter()
        .zip(treatment.iter())
        .map(|(&yi, &ti)| yi * ti - yi * (1.0 - ti))
        .collect();
    qini_curve(y, perfect.view(), treatment)
}

/// Trapezoid area under a curve with ascending x (sklearn's `auc`).
fn area(c: &QiniCurve) -> f64 {
    c.x.windows(2)
        .zip(c.y.windows(2))
        .map(|(x, q)| (x[1] - x[0]) * (q[0] + q[1]) / 2.0)
        .sum()
}

/// scikit-uplift's `qini_auc_score` (negative_effect=True): see the formula in the module doc.
pub fn qini_auc_score(
    y: ArrayView1<'_, f64>,
    uplift: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> Result<f64> {
    let actual = qini_curve(y, uplift, treatment)?;
    let perfect = perfect_qini_curve(y, treatment)?;
    let x_last = perfect.x.last().copied().unwrap_or(0.0);
    let q_last = perfect.y.last().copied().unwrap_or(0.0);
    let baseline = x_last * q_last / 2.0;
    let denom = area(&perfect) - baseline;
    if denom == 0.0 {
        return Err(ModelsError::Empty {
            what: "the perfect qini curve has no area above the random line (no responders)",
        });
    }
    Ok((area(&actual) - baseline) / denom)
}

/// Observed uplift by decile of predicted uplift (scikit-uplift's `uplift_by_percentile`,
/// strategy "overall", 10 bins).
pub fn uplift_by_decile(
    y: ArrayView1<'_, f64>,
    uplift: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> Result<Vec<UpliftDecileRow>> {
    check(y, uplift, treatment)?;
    let order = descending_order(uplift);
    Ok(split_bounds(order.len(), 10)
        .into_iter()
        .enumerate()
        .map(|(k, (a, b))| {
            let rows = &order[a..b];
            let (mut nt, mut nc, mut yt, mut yc, mut su) = (0usize, 0usize, 0.0, 0.0, 0.0);
            for &i in rows {
                su += uplift[i];
                if treatment[i] == 1.0 {
                    nt += 1;
                    yt += y[i];
                } else {
                    nc += 1;
                    yc += y[i];
                }
            }
            let rt = (nt > 0).then(|| yt / nt as f64);
            let rc = (nc > 0).then(|| yc / nc as f64);
            UpliftDecileRow {
                decile: k as u32 + 1,
                n_treated: nt,
                n_control: nc,
                mean_predicted_uplift: if rows.is_empty() {
                    0.0
                } else {
                    su / rows.len() as f64
                },
                response_rate_treated: rt,
                response_rate_control: rc,
                uplift: rt.zip(rc).map(|(a, b)| a - b),
            }
        })
        .collect())
}

/// Curve points at 0 %, 1 %, …, 100 % of the rows: the last point with x at or before each mark.
fn sample_percent(c: &QiniCurve, n: usize) -> QiniCurve {
    let mut out = QiniCurve {
        x: Vec::with_capacity(101),
        y: Vec::with_capacity(101),
    };
    let mut j = 0;
    for pct in 0..=100usize {
        let mark = (pct * n) as f64 / 100.0;
        while j + 1 < c.x.len() && c.x[j + 1] <= mark {
            j += 1;
        }
        out.x.push(c.x[j]);
        out.y.push(c.y[j]);
    }
    out
}

/// All uplift metrics of a holdout.
pub fn uplift_metrics(
    y: ArrayView1<'_, f64>,
    uplift: ArrayView1<'_, f64>,
    treatment: ArrayView1<'_, f64>,
) -> Result<UpliftMetrics> {
    let curve = qini_curve(y, uplift, treatment)?;
    let n_treated = treatment.iter().filter(|&&t| t == 1.0).count();
    Ok(UpliftMetrics {
        n_rows: y.len(),
        n_treated,
        n_control: y.len() - n_treated,
        qini_coefficient: qini_auc_score(y, uplift, treatment)?,
        qini_curve: sample_percent(&curve, y.len()),
        uplift_by_decile: uplift_by_decile(y, uplift, treatment)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn curve_by_hand() {
        // Sorted by uplift: rows (t, y) = (1,1), (0,0), (1,0), (0,1).
        let y = array![1.0, 0.0, 0.0, 1.0];
        let t = array![1.0, 0.0, 1.0, 0.0];
        let u = array![0.9, 0.5, 0.3, 0.1];
        let c = qini_curve(y.view(), u.view(), t.view()).unwrap();
        assert_eq!(c.x, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        // N=1: Yt=1, Nc=0 → 1. N=2: 1 − 0·1/1 = 1. N=3: 1 − 0 = 1. N=4: 1 − 1·2/2 = 0.
        assert_eq!(c.y, vec![0.0, 1.0, 1.0, 1.0, 0.0]);
        // Perfect: score (1, 0, 0, −1) → ties at 0 collapse into one threshold.
        let p = perfect_qini_curve(y.view(), t.view()).unwrap();
        assert_eq!(p.x, vec![0.0, 1.0, 3.0, 4.0]);
        assert_eq!(p.y, vec![0.0, 1.0, 1.0, 0.0]);
        // Areas: model 0.5+1+1+0.5 = 3; perfect 0.5+2+0.5 = 3; baseline 0 → score 1.
        assert!((qini_auc_score(y.view(), u.view(), t.view()).unwrap() - 1.0).abs() < 1e-15);
        let rev = array![0.1, 0.5, 0.3, 0.9];
        // Reversed order (0,1),(0,0),(1,0),(1,1): q = 0, 0, 0 − 1·1/2, 1 − 1·2/2 → area −0.5.
        let s = qini_auc_score(y.view(), rev.view(), t.view()).unwrap();
        assert!((s - (-0.5 / 3.0)).abs() < 1e-15, "{s}");
    }

    #[test]
    fn matches_python_reimplementation_of_sklift_with_ties() {
        // Values printed by examples/sklift_qini_reference.py (`formula_fixture`): 17 distinct
        // scores over 200 rows, so the tie handling is exercised.
        let n = 200;
        let y: ndarray::Array1<f64> = (0..n).map(|i| f64::from((i * 7) % 3 == 0)).collect();
        let t: ndarray::Array1<f64> = (0..n)
            .map(|i| f64::from((i * 5 + i / 3) % 2 == 1))
            .collect();
        let u: ndarray::Array1<f64> = (0..n).map(|i| ((i * 13) % 17) as f64 / 17.0).collect();
        let c = qini_curve(y.view(), u.view(), t.view()).unwrap();
        assert_eq!(c.x.len(), 18);
        assert_eq!(c.x[17], 200.0);
        assert!((c.y[17] - -33.75187969924812).abs() < 1e-12);
        assert!((area(&c) - -3391.825798507251).abs() < 1e-9);
        let s = qini_auc_score(y.view(), u.view(), t.view()).unwrap();
        assert!((s - -0.007412710439937).abs() < 1e-14, "{s}");
    }

    #[test]
    fn uplift_deciles_and_sampling() {
        let n = 20;
        let u: ndarray::Array1<f64> = (0..n).map(|i| -(i as f64)).collect();
        let t: ndarray::Array1<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let y: ndarray::Array1<f64> = (0..n)
            .map(|i| if i < 4 && i % 2 == 1 { 1.0 } else { 0.0 })
            .collect();
        let d = uplift_by_decile(y.view(), u.view(), t.view()).unwrap();
        assert_eq!(d.len(), 10);
        assert_eq!((d[0].n_treated, d[0].n_control), (1, 1));
        assert_eq!(d[0].uplift, Some(1.0));
        assert_eq!(d[5].uplift, Some(0.0));
        let m = uplift_metrics(y.view(), u.view(), t.view()).unwrap();
        assert_eq!(m.qini_curve.x.len(), 101);
        assert_eq!(m.qini_curve.x[100], 20.0);
        assert_eq!(m.qini_curve.x[0], 0.0);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<UpliftMetrics>(&json).unwrap(), m);
    }
}
