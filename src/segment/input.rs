//! Column access with the checks every step shares.

use ndarray::ArrayView1;

use crate::segment::error::{Result, SegmentError};
use crate::types::FeatureMatrix;

/// Checks that ids, columns and values agree in shape and that there is at least one row.
pub fn check_matrix(fm: &FeatureMatrix) -> Result<()> {
    let (rows, cols) = fm.values.dim();
    if fm.ids.len() != rows || fm.columns.len() != cols {
        return Err(SegmentError::Malformed {
            expected: format!("{} ids × {} column names", rows, cols),
            found: format!("{} ids × {} column names", fm.ids.len(), fm.columns.len()),
        });
    }
    if rows == 0 {
        return Err(SegmentError::Empty);
    }
    Ok(())
}

/// The named column, or an error naming it; every value must be finite.
pub fn finite_column<'a>(fm: &'a FeatureMatrix, name: &str) -> Result<ArrayView1<'a, f64>> {
    let col = fm.column(name).ok_or_else(|| SegmentError::MissingColumn {
        column: name.to_string(),
        available: fm.columns.clone(),
    })?;
    if let Some((i, v)) = col.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SegmentError::NonFinite {
            column: name.to_string(),
            id: fm.ids.get(i).cloned().unwrap_or_default(),
            value: *v,
        });
    }
    Ok(col)
}
