//! Two-model uplift: one classifier on treated rows, one on control rows; uplift = p_t − p_c.
//!
//! Both sub-models share one design matrix layout (the caller fits one preprocessing on all rows),
//! so a customer is scored by both on identical features.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::models::classifier::{Classifier, ClassifierParams, FittedModel};
use crate::models::error::{ModelsError, Result};

/// A fitted two-model uplift estimator.
#[derive(Debug, Serialize, Deserialize)]
pub struct UpliftModel {
    /// Model of P(label = 1 | treated).
    pub treated: FittedModel,
    /// Model of P(label = 1 | control).
    pub control: FittedModel,
}

/// Scores of an uplift model for each row.
#[derive(Debug, Clone, PartialEq)]
pub struct UpliftScores {
    /// P(label = 1) if treated.
    pub p_treated: Array1<f64>,
    /// P(label = 1) if not treated.
    pub p_control: Array1<f64>,
    /// `p_treated − p_control`.
    pub uplift: Array1<f64>,
}

impl UpliftModel {
    /// Fit both sub-models with the same parameters; `treatment` is 0/1 per row.
    pub fn fit(
        params: &ClassifierParams,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        treatment: ArrayView1<'_, f64>,
    ) -> Result<Self> {
        if treatment.len() != x.nrows() {
            return Err(ModelsError::LengthMismatch {
                what: "treatment flags vs design-matrix rows",
                expected: x.nrows(),
                found: treatment.len(),
            });
        }
        if y.len() != x.nrows() {
            return Err(ModelsError::LengthMismatch {
                what: "labels vs design-matrix rows",
                expected: x.nrows(),
                found: y.len(),
            });
        }
        let mut treated_rows = Vec::new();
        let mut control_rows = Vec::new();
        for (row, &t) in treatment.iter().enumerate() {
            match t {
                1.0 => treated_rows.push(row),
                0.0 => control_rows.push(row),
                _ => {
                    return Err(ModelsError::NotBinary {
                        what: "treatment",
                        row,
                        found: t,
                    })
                }
            }
        }
        if treated_rows.is_empty() || control_rows.is_empty() {
            return Err(ModelsError::SingleClass {
                what: "treatment",
                found: if treated_rows.is_empty() { "0" } else { "1" }.into(),
            });
        }
        let fit_group = |rows: &[usize]| {
            let xg = x.select(Axis(0), rows);
            let yg = y.select(Axis(0), rows);
            params.fit(xg.view(), yg.view())
        };
        Ok(Self {
            treated: fit_group(&treated_rows)?,
            control: fit_group(&control_rows)?,
        })
    }

    /// Score every row with both sub-models.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<UpliftScores> {
        let p_treated = self.treated.predict_proba(x)?;
        let p_control = self.control.predict_proba(x)?;
        let uplift = &p_treated - &p_control;
        Ok(UpliftScores {
            p_treated,
            p_control,
            uplift,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::logistic::LogisticParams;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    #[test]
    fn recovers_a_positive_effect_only_where_it_exists() {
        // Treatment adds +1.5 to the logit only when x0 > 0.
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        let n = 20_000;
        let x = Array2::from_shape_fn((n, 2), |_| rng.gen_range(-1.0..1.0));
        let t = Array1::from_shape_fn(n, |_| if rng.gen::<bool>() { 1.0 } else { 0.0 });
        let y = Array1::from_shape_fn(n, |i| {
            let x0: f64 = x[[i, 0]];
            let z = -1.0
                + 0.5 * x[[i, 1]]
                + if t[i] == 1.0 {
                    1.5 * x0.max(0.0) * 2.0
                } else {
                    0.0
                };
            if rng.gen::<f64>() < crate::models::logistic::sigmoid(z) {
                1.0
            } else {
                0.0
            }
        });
        let params = ClassifierParams::Logistic(LogisticParams::default());
        let m = UpliftModel::fit(&params, x.view(), y.view(), t.view()).unwrap();
        let s = m.predict(x.view()).unwrap();
        assert_eq!(s.uplift, &s.p_treated - &s.p_control);
        let mean_in = |lo: f64, hi: f64| {
            let v: Vec<f64> = (0..n)
                .filter(|&i| x[[i, 0]] > lo && x[[i, 0]] < hi)
                .map(|i| s.uplift[i])
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (high, low) = (mean_in(0.5, 1.0), mean_in(-1.0, -0.5));
        assert!(high > 0.25, "{high}");
        assert!(low < high - 0.2, "{low} vs {high}");
        let bad = Array1::from_elem(n, 2.0);
        assert!(UpliftModel::fit(&params, x.view(), y.view(), bad.view()).is_err());
    }
}
