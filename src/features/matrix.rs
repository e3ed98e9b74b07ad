//! polars → ndarray: the one place where feature frames become `FeatureMatrix`.
//!
//! Each `Float64` column is copied once into a row-major `Array2<f64>` (polars' `ndarray` feature
//! is off because it pulls an ndarray that linfa does not accept). Nulls are not expected here —
//! the feature builders never emit them — and are refused rather than silently turned into NaN.

use ndarray::Array2;
use polars::prelude::*;

use crate::types::FeatureMatrix;

use super::FeatureError;

/// Copies `columns` (all numeric columns but the id when `None`) of a feature frame into a matrix.
pub fn to_matrix(
    df: &DataFrame,
    id_column: &str,
    columns: Option<&[String]>,
) -> Result<FeatureMatrix, FeatureError> {
    let ids: Vec<String> = df
        .column(id_column)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect();
    let names: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => df
            .columns()
            .iter()
            .filter(|c| c.name().as_str() != id_column && c.dtype().is_primitive_numeric())
            .map(|c| c.name().to_string())
            .collect(),
    };
    let n = df.height();
    let mut values = Array2::<f64>::zeros((n, names.len()));
    for (j, name) in names.iter().enumerate() {
        let column = df.column(name)?.cast(&DataType::Float64)?;
        let ca = column.f64()?;
        if ca.null_count() > 0 {
            return Err(FeatureError::Polars(PolarsError::ComputeError(
                format!("column `{name}` has {} missing values", ca.null_count()).into(),
            )));
        }
        for (dst, v) in values.column_mut(j).iter_mut().zip(ca.into_no_null_iter()) {
            *dst = v;
        }
    }
    Ok(FeatureMatrix {
        ids,
        columns: names,
        values,
    })
}
