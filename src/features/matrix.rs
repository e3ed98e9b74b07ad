//! polars → ndarray: the one place where feature frames become `FeatureMatrix`.
//!
//! Each `Float64` column is copied once into a row-major `Array2<f64>` (polars' `ndarray` feature
//! is off because it pulls an ndarray that linfa does not accept). Nulls are not expected here —
//! the feature builders never emit them — and are refused rather than silently turned into NaN.

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;

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
        None => numeric_columns(df, id_column),
    };
    let n = df.height();
    let columns = float_columns(df, &names)?;
    let slices = columns
        .iter()
        .map(|ca| ca.cont_slice())
        .collect::<PolarsResult<Vec<&[f64]>>>()?;
    let values = Array2::from_shape_vec((n, names.len()), row_major(&slices, n))
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
    Ok(FeatureMatrix {
        ids,
        columns: names,
        values,
    })
}

/// The numeric columns of a feature frame but the id, in frame order: the columns of
/// [`to_matrix`] when it is given none.
pub fn numeric_columns(df: &DataFrame, id_column: &str) -> Vec<String> {
    df.columns()
        .iter()
        .filter(|c| c.name().as_str() != id_column && c.dtype().is_primitive_numeric())
        .map(|c| c.name().to_string())
        .collect()
}

/// The named columns as contiguous `Float64` arrays (copied only when a cast or a rechunk needs
/// it); a column with nulls is refused, as by [`to_matrix`].
pub fn float_columns(
    df: &DataFrame,
    names: &[String],
) -> Result<Vec<Float64Chunked>, FeatureError> {
    names
        .iter()
        .map(|name| -> Result<Float64Chunked, FeatureError> {
            let column = df.column(name)?.cast(&DataType::Float64)?;
            let ca = column.f64()?.rechunk().into_owned();
            if ca.null_count() > 0 {
                return Err(FeatureError::Polars(PolarsError::ComputeError(
                    format!("column `{name}` has {} missing values", ca.null_count()).into(),
                )));
            }
            Ok(ca)
        })
        .collect()
}

/// The row-major `n × columns.len()` matrix of `columns` (each `n` long). Copied in blocks of
/// rows that fit in cache (column by column within a block), blocks in parallel: straight
/// column-by-column copying strides across the whole matrix on every write, and row by row
/// reads every column's stream at once — both several times slower.
pub(crate) fn row_major(columns: &[&[f64]], n: usize) -> Vec<f64> {
    const BLOCK: usize = 512;
    let p = columns.len();
    let mut buf = vec![0.0; n * p];
    if p > 0 {
        buf.par_chunks_mut(BLOCK * p)
            .enumerate()
            .for_each(|(b, block)| {
                let start = b * BLOCK;
                let rows = block.len() / p;
                for (j, column) in columns.iter().enumerate() {
                    for (r, v) in column[start..start + rows].iter().enumerate() {
                        block[r * p + j] = *v;
                    }
                }
            });
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::row_major;

    #[test]
    fn row_major_interleaves_the_columns() {
        let n = 1300;
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..n).map(|i| -(i as f64)).collect();
        let m = row_major(&[&a, &b], n);
        for i in 0..n {
            assert_eq!((m[2 * i], m[2 * i + 1]), (a[i], b[i]));
        }
        assert!(row_major(&[], 5).is_empty());
    }
}
