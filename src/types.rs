//! Types shared by every stage.

use ndarray::{Array2, ArrayView1};

/// A numeric table with one row per entity (customer, contact…) and named `f64` columns.
///
/// This is the hand-off between the polars world (ingest, features) and the ndarray world
/// (segment, models, clv): the columns are copied once into a row-major `Array2`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Row identifiers (customer ids), one per row of `values`.
    pub ids: Vec<String>,
    /// Column names, one per column of `values`, in order.
    pub columns: Vec<String>,
    /// `ids.len()` × `columns.len()` values.
    pub values: Array2<f64>,
}

impl FeatureMatrix {
    /// Position of the named column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The named column as a view.
    pub fn column(&self, name: &str) -> Option<ArrayView1<'_, f64>> {
        self.column_index(name).map(|i| self.values.column(i))
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.values.nrows()
    }
}
