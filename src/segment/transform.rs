//! Column transforms applied before k-means, fitted once and replayed at assignment.
//!
//! `log_standardize` applies the signed log1p `sign(x)·ln(1 + |x|)` to every chosen column, then
//! standardizes. On non-negative columns (money, counts, days — the usual RFM inputs) this is
//! exactly `log1p`; on columns with negatives (net spend after returns) it stays monotone and
//! defined where plain `log1p` is not. Standardizing uses the population standard deviation
//! (ddof = 0, as scikit-learn's `StandardScaler`), and a constant column keeps std = 1 so it maps
//! to 0 instead of dividing by zero.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::segment::error::Result;
use crate::segment::input::finite_column;
use crate::types::FeatureMatrix;

/// How the chosen columns are scaled before clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Raw values.
    None,
    /// `(x − mean) / std`.
    Standardize,
    /// Signed log1p, then standardize (the default: RFM columns are heavily right-skewed).
    #[default]
    LogStandardize,
}

/// Fitted transform of one column: `((log1p? slog1p(x) : x) − mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnTransform {
    /// Source column name.
    pub column: String,
    /// Whether the signed log1p is applied first.
    pub log1p: bool,
    /// Mean subtracted (after the log step); 0 for [`Transform::None`].
    pub mean: f64,
    /// Divisor (after the log step); 1 for [`Transform::None`] and constant columns.
    pub std: f64,
}

/// Signed log1p: `sign(x)·ln(1 + |x|)`.
pub fn signed_log1p(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

impl ColumnTransform {
    /// Transforms one value.
    #[inline]
    pub fn apply(&self, x: f64) -> f64 {
        let v = if self.log1p { signed_log1p(x) } else { x };
        (v - self.mean) / self.std
    }
}

/// Fits the transform of each named column on `fm`.
pub fn fit_transforms(
    fm: &FeatureMatrix,
    columns: &[String],
    transform: Transform,
) -> Result<Vec<ColumnTransform>> {
    columns
        .iter()
        .map(|name| {
            let col = finite_column(fm, name)?;
            let log1p = transform == Transform::LogStandardize;
            if transform == Transform::None {
                return Ok(ColumnTransform {
                    column: name.clone(),
                    log1p,
                    mean: 0.0,
                    std: 1.0,
                });
            }
            let stepped: Vec<f64> = if log1p {
                col.iter().map(|&x| signed_log1p(x)).collect()
            } else {
                col.to_vec()
            };
            Ok(fitted(name, log1p, &stepped))
        })
        .collect()
}

/// The standardizing transform of a column from its values after the log step: their mean and
/// standard deviation (1 when that is 0 or not finite).
fn fitted(column: &str, log1p: bool, stepped: &[f64]) -> ColumnTransform {
    let n = stepped.len() as f64;
    let mean = stepped.iter().sum::<f64>() / n;
    let var = stepped.iter().map(|&v| (v - mean).powi(2)).sum::<f64>() / n;
    let std = var.sqrt();
    ColumnTransform {
        column: column.to_string(),
        log1p,
        mean,
        std: if std > 0.0 && std.is_finite() {
            std
        } else {
            1.0
        },
    }
}

/// [`fit_transforms`] and [`apply_transforms`] in one go, with the same results: each column
/// is read once (the matrix is row-major, so a column read strides across all of it) and its
/// log taken once, instead of a read per check, per moment and per application.
pub fn fit_and_apply(
    fm: &FeatureMatrix,
    columns: &[String],
    transform: Transform,
) -> Result<(Vec<ColumnTransform>, Array2<f64>)> {
    let log1p = transform == Transform::LogStandardize;
    let mut transforms = Vec::with_capacity(columns.len());
    // Per column: the values after the log step.
    let mut stepped: Vec<Vec<f64>> = Vec::with_capacity(columns.len());
    for name in columns {
        let values = finite_values(fm, name)?;
        if transform == Transform::None {
            transforms.push(ColumnTransform {
                column: name.clone(),
                log1p,
                mean: 0.0,
                std: 1.0,
            });
            stepped.push(values);
            continue;
        }
        let values: Vec<f64> = if log1p {
            values.into_iter().map(signed_log1p).collect()
        } else {
            values
        };
        transforms.push(fitted(name, log1p, &values));
        stepped.push(values);
    }
    let (n, d) = (fm.n_rows(), transforms.len());
    let mut out = Array2::<f64>::zeros((n, d));
    if d == 0 {
        return Ok((transforms, out));
    }
    if let Some(slice) = out.as_slice_mut() {
        slice.par_chunks_mut(d).enumerate().for_each(|(i, row)| {
            for ((dst, t), col) in row.iter_mut().zip(&transforms).zip(&stepped) {
                // `ColumnTransform::apply` after its log step.
                *dst = (col[i] - t.mean) / t.std;
            }
        });
    }
    Ok((transforms, out))
}

/// The named column copied out of the matrix, every value checked finite (the error of
/// [`finite_column`] otherwise).
fn finite_values(fm: &FeatureMatrix, name: &str) -> Result<Vec<f64>> {
    let Some(col) = fm.column(name) else {
        return finite_column(fm, name).map(|c| c.to_vec());
    };
    let values = col.to_vec();
    if values.iter().all(|v| v.is_finite()) {
        Ok(values)
    } else {
        finite_column(fm, name).map(|c| c.to_vec())
    }
}

/// The transformed `n × d` matrix (standard layout) for the fitted columns; errors name a
/// missing or non-finite column.
pub fn apply_transforms(fm: &FeatureMatrix, transforms: &[ColumnTransform]) -> Result<Array2<f64>> {
    let cols = transforms
        .iter()
        .map(|t| finite_column(fm, &t.column))
        .collect::<Result<Vec<_>>>()?;
    let (n, d) = (fm.n_rows(), transforms.len());
    let mut out = Array2::<f64>::zeros((n, d));
    if d == 0 {
        return Ok(out);
    }
    if let Some(slice) = out.as_slice_mut() {
        slice.par_chunks_mut(d).enumerate().for_each(|(i, row)| {
            for ((dst, t), col) in row.iter_mut().zip(transforms).zip(&cols) {
                *dst = t.apply(col[i]);
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn fm() -> FeatureMatrix {
        FeatureMatrix {
            ids: vec!["a".into(), "b".into(), "c".into()],
            columns: vec!["x".into(), "y".into()],
            values: array![[0.0, -3.0], [std::f64::consts::E - 1.0, 5.0], [0.0, 5.0]],
        }
    }

    #[test]
    fn log_standardize_hand_computed() {
        let t = fit_transforms(&fm(), &["x".into()], Transform::LogStandardize).unwrap();
        // log1p values 0, 1, 0 → mean 1/3, population std sqrt(2/9).
        assert!((t[0].mean - 1.0 / 3.0).abs() < 1e-12);
        assert!((t[0].std - (2.0f64 / 9.0).sqrt()).abs() < 1e-12);
        let x = apply_transforms(&fm(), &t).unwrap();
        assert!((x[[1, 0]] - (2.0 / 3.0) / (2.0f64 / 9.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn signed_log_on_negatives() {
        assert!((signed_log1p(-3.0) + 4.0f64.ln()).abs() < 1e-15);
        assert_eq!(signed_log1p(0.0), 0.0);
    }

    #[test]
    fn none_keeps_values_and_constant_std_is_one() {
        let t = fit_transforms(&fm(), &["y".into()], Transform::None).unwrap();
        let x = apply_transforms(&fm(), &t).unwrap();
        assert_eq!(x.column(0).to_vec(), vec![-3.0, 5.0, 5.0]);
        let mut c = fm();
        c.values.column_mut(0).fill(2.0);
        let t = fit_transforms(&c, &["x".into()], Transform::Standardize).unwrap();
        assert_eq!(t[0].std, 1.0);
    }

    /// Fitting and applying in one go gives the same transforms and matrix, bit for bit.
    #[test]
    fn fit_and_apply_is_fit_then_apply() {
        for t in [
            Transform::None,
            Transform::Standardize,
            Transform::LogStandardize,
        ] {
            let cols = ["y".to_string(), "x".to_string()];
            let fitted = fit_transforms(&fm(), &cols, t).unwrap();
            let x = apply_transforms(&fm(), &fitted).unwrap();
            let (both, y) = fit_and_apply(&fm(), &cols, t).unwrap();
            assert_eq!(both, fitted);
            let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x), bits(&y));
        }
        let mut bad = fm();
        bad.values[[1, 1]] = f64::NAN;
        let cols = ["y".to_string()];
        let a = fit_transforms(&bad, &cols, Transform::LogStandardize).unwrap_err();
        let b = fit_and_apply(&bad, &cols, Transform::LogStandardize).unwrap_err();
        assert_eq!(a.to_string(), b.to_string());
        let missing = ["z".to_string()];
        let a = fit_transforms(&bad, &missing, Transform::None).unwrap_err();
        let b = fit_and_apply(&bad, &missing, Transform::None).unwrap_err();
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn missing_column_is_named() {
        let err = fit_transforms(&fm(), &["z".into()], Transform::None).unwrap_err();
        assert!(err.to_string().contains("`z`"));
    }
}
