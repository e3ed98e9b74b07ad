//! Types shared by every stage.

use ndarray::{Array2, ArrayView1};
use std::hash::BuildHasher;

use polars::prelude::PlFixedStateQuality;

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
/// (basket items and owners, the levels of a coded transactions file). The index holds codes
/// only, hashed by their text: each text is kept once (a million customer ids are a million
/// allocations, not two).
#[derive(Debug, Default)]
pub struct Codebook {
    texts: Vec<String>,
    index: hashbrown::HashTable<u32>,
}

impl Codebook {
    /// The hash [`Codebook::code_hashed`] takes: callers may compute it on other threads.
    pub fn hash(text: &[u8]) -> u64 {
        PlFixedStateQuality::default().hash_one(text)
    }

    /// The code of `text`, numbering it if it is new.
    pub fn code(&mut self, text: &str) -> u32 {
        self.code_hashed(text, Codebook::hash(text.as_bytes()))
    }

    /// [`Codebook::code`] of a text whose [`Codebook::hash`] is `hash`.
    pub fn code_hashed(&mut self, text: &str, hash: u64) -> u32 {
        let texts = &self.texts;
        let found = self
            .index
            .find(hash, |c| texts[*c as usize].as_bytes() == text.as_bytes());
        if let Some(c) = found {
            return *c;
        }
        let c = self.texts.len() as u32;
        let texts = &self.texts;
        self.index
            .insert_unique(hash, c, |c| Codebook::hash(texts[*c as usize].as_bytes()));
        self.texts.push(text.to_string());
        c
    }

    /// Room for `more` new texts without growing.
    pub fn reserve(&mut self, more: usize) {
        let texts = &self.texts;
        self.index
            .reserve(more, |c| Codebook::hash(texts[*c as usize].as_bytes()));
        self.texts.reserve(more);
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

#[cfg(test)]
mod codebook_tests {
    use super::*;

    #[test]
    fn a_codebook_numbers_texts_by_first_appearance() {
        let mut book = Codebook::default();
        book.reserve(2);
        let texts: Vec<String> = (0..1000).map(|i| format!("c{}", i % 300)).collect();
        let codes: Vec<u32> = texts.iter().map(|t| book.code(t)).collect();
        let expected: Vec<u32> = (0..1000).map(|i| (i % 300) as u32).collect();
        assert_eq!(codes, expected);
        assert_eq!(book.texts().len(), 300);
        assert_eq!(book.texts()[299], "c299");
        let hash = Codebook::hash(b"c7");
        assert_eq!(book.code_hashed("c7", hash), 7);
        assert_eq!(book.code(""), 300);
        assert_eq!(book.into_texts().len(), 301);
    }
}
