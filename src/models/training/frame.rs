//! polars columns → the plain vectors the models module takes, with errors that name the column.

use ndarray::Array2;
use polars::prelude::*;

use super::TrainingError;
use crate::features::FeatureError;

/// `what` has no column `name`.
pub(crate) fn lacks(what: &str, name: &str) -> TrainingError {
    TrainingError::MissingColumn {
        table: what.to_string(),
        columns: format!("`{name}`"),
        hint: String::new(),
    }
}

/// A polars failure while reshaping a frame (an internal error, exit 1).
pub(crate) fn pe(e: PolarsError) -> TrainingError {
    TrainingError::Features(FeatureError::Polars(e))
}

/// The columns of `names` that `df` lacks, in the given order.
pub(crate) fn missing<'a>(
    df: &DataFrame,
    names: impl IntoIterator<Item = &'a String>,
) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| df.column(n).is_err())
        .cloned()
        .collect()
}

/// `a`, `b` and `c` for messages.
pub(crate) fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn is_numeric(dt: &DataType) -> bool {
    dt.is_primitive_numeric() || dt.is_bool()
}

/// A numeric (or boolean) column as f64, nulls as NaN.
pub(crate) fn numeric_column(
    df: &DataFrame,
    name: &str,
    what: &str,
) -> Result<Vec<f64>, TrainingError> {
    let c = df.column(name).map_err(|_| lacks(what, name))?;
    if !is_numeric(c.dtype()) {
        return Err(TrainingError::InvalidData {
            what: format!("column `{name}` of {what}"),
            expected: "numbers".into(),
            found: format!("type {}", c.dtype()),
        });
    }
    let c = c.cast(&DataType::Float64).map_err(pe)?;
    let ca = c.f64().map_err(pe)?;
    // Chunk by chunk: the values copied as they are where a chunk has no null (polars' own
    // row iterator was most of scoring a million customers), nulls as NaN elsewhere.
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let values = arr.values().as_slice();
        match arr.validity().filter(|v| v.unset_bits() > 0) {
            None => out.extend_from_slice(values),
            Some(valid) => {
                out.extend(
                    values
                        .iter()
                        .zip(valid.iter())
                        .map(|(&v, ok)| if ok { v } else { f64::NAN }),
                )
            }
        }
    }
    Ok(out)
}

/// Numeric columns as a row-major matrix (nulls as NaN).
pub(crate) fn numeric_matrix(
    df: &DataFrame,
    names: &[String],
    what: &str,
) -> Result<Array2<f64>, TrainingError> {
    let columns = names
        .iter()
        .map(|name| numeric_column(df, name, what))
        .collect::<Result<Vec<_>, _>>()?;
    let (n, p) = (df.height(), names.len());
    let slices: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    let buf = crate::features::row_major(&slices, n);
    let m = Array2::from_shape_vec((n, p), buf)
        .map_err(|e| TrainingError::internal(format!("{what}: {e}")))?;
    Ok(m)
}

/// Any column as text (numbers and dates rendered), nulls as the empty string.
pub(crate) fn text_column(
    df: &DataFrame,
    name: &str,
    what: &str,
) -> Result<Vec<String>, TrainingError> {
    let c = df.column(name).map_err(|_| lacks(what, name))?;
    let c = c.cast(&DataType::String).map_err(pe)?;
    let ca = c.str().map_err(pe)?;
    Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// A 0/1 label column: every value must be present.
pub(crate) fn label_column(
    df: &DataFrame,
    name: &str,
    what: &str,
) -> Result<Vec<f64>, TrainingError> {
    let v = numeric_column(df, name, what)?;
    let empty = v.iter().filter(|x| x.is_nan()).count();
    if empty > 0 {
        return Err(TrainingError::InvalidData {
            what: format!("label `{name}` of {what}"),
            expected: "0 or 1 in every row".into(),
            found: format!("{empty} empty rows"),
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_holds_every_column_in_every_row_across_blocks() {
        let n = 1_300; // two whole blocks and a partial one
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let b: Vec<Option<i64>> = (0..n)
            .map(|i| (i % 7 != 0).then_some(-(i as i64)))
            .collect();
        let df = DataFrame::new_infer_height(vec![
            Column::new("a".into(), &a),
            Column::new("b".into(), &b),
        ])
        .unwrap();
        let names = vec!["b".to_string(), "a".to_string()];
        let m = numeric_matrix(&df, &names, "the test rows").unwrap();
        assert_eq!(m.dim(), (n, 2));
        for i in 0..n {
            assert_eq!(m[[i, 1]], i as f64);
            if i % 7 == 0 {
                assert!(m[[i, 0]].is_nan());
            } else {
                assert_eq!(m[[i, 0]], -(i as f64));
            }
        }
    }
}
