//! Types shared by every stage.

use ndarray::{Array2, ArrayView1};
use polars::prelude::PlHashMap;

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

/// Days since 1970-01-01, the integer polars stores a `Date` as.
pub fn epoch_day(d: chrono::NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

/// The date `day` days after 1970-01-01 (the inverse of [`epoch_day`]).
pub fn date_of_epoch_day(day: i64) -> chrono::NaiveDate {
    EPOCH + chrono::Duration::days(day)
}

const EPOCH: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => chrono::NaiveDate::MIN,
};

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn epoch_days_round_trip() {
        let d = chrono::NaiveDate::from_ymd_opt(1998, 6, 30).unwrap();
        assert_eq!(epoch_day(d), 10_407);
        assert_eq!(date_of_epoch_day(10_407), d);
        assert_eq!(
            date_of_epoch_day(-1),
            chrono::NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()
        );
    }
}

/// Texts numbered by first appearance: a text's code is how many distinct texts came before it
/// (basket items and owners, the levels of a coded transactions file).
#[derive(Debug, Default)]
pub struct Codebook {
    texts: Vec<String>,
    index: PlHashMap<String, u32>,
}

impl Codebook {
    /// The code of `text`, numbering it if it is new.
    pub fn code(&mut self, text: &str) -> u32 {
        if let Some(c) = self.index.get(text) {
            return *c;
        }
        let c = self.texts.len() as u32;
        self.texts.push(text.to_string());
        self.index.insert(text.to_string(), c);
        c
    }

    /// The texts, in code order.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// The texts, in code order.
    pub fn into_texts(self) -> Vec<String> {
        self.texts
    }
}
