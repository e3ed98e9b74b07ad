//! The one shape of a feature family, and the per-customer context its columns are written from.
//!
//! A family is a [`Definition`] (its name, its catalogue entries, whether it is built by default,
//! the columns it needs), listed once in `mod.rs`'s `families!` table: names, parsing, the
//! catalogue, the error texts and the `--families` help are read from that table, so a new family
//! is one new file plus one line. A build then asks each family, in table order, for its state
//! over the keyed lines ([`Definition::prepare`]), for the columns of one as-of day
//! ([`Prepared::at`]), and for each customer's values ([`Columns::write`]) — one pass over the
//! customer's lines per row, whatever the families.

use std::collections::BTreeMap;
use std::ops::Range;

use polars::prelude::*;

use super::catalog::Doc;
use super::lines::Lines;
use super::purchase;
use super::{FeatureError, FeatureParams};

/// A column a family needs and the tables lack: (table, column), for the error.
pub(super) type Lack = (&'static str, &'static str);

/// The line columns a family reads beyond days and amounts (encoded once in [`Lines`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct LineColumns {
    /// Categorical columns, as codes in `Lines::codes`.
    pub categorical: Vec<&'static str>,
    /// Whether `Lines::discounted` is read.
    pub discount: bool,
    /// Whether `Lines::cost` is read (quantity × `unit_cost`).
    pub cost: bool,
}

impl LineColumns {
    /// Both sets of columns, `self`'s first.
    pub fn union(mut self, other: LineColumns) -> LineColumns {
        for c in other.categorical {
            if !self.categorical.contains(&c) {
                self.categorical.push(c);
            }
        }
        self.discount |= other.discount;
        self.cost |= other.cost;
        self
    }
}

/// What a feature family is: the entry of the registration table.
pub(super) trait Definition: Sync {
    /// The name in `--families`, job files, the catalogue and errors.
    fn name(&self) -> &'static str;

    /// Its features in output order (patterns like `<level>` stand for data-dependent columns).
    fn docs(&self) -> &'static [Doc];

    /// Built when no family is named (given its columns). A family whose columns would change
    /// the outputs of existing jobs is opt-in.
    fn by_default(&self) -> bool {
        true
    }

    /// The column it needs and these tables lack (`has_customers`: a customers table is given).
    fn lacks(&self, _transactions: &DataFrame, _has_customers: bool) -> Option<Lack> {
        None
    }

    /// The line columns it reads, of those `transactions` has.
    fn line_columns(&self, _transactions: &DataFrame) -> LineColumns {
        LineColumns::default()
    }

    /// Its state for a history (the lines are handed to `Prepared`'s methods).
    fn prepare(&self, source: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError>;
}

/// What a family prepares its state from.
pub(super) struct Source<'a> {
    /// The id of every key.
    pub ids: &'a [String],
    /// The customers table, when one was given.
    pub customers: Option<&'a DataFrame>,
    /// The contacts history, when one was given (`HistoryBuilder::contacts`).
    pub contacts: Option<&'a super::profit::Contacts>,
}

/// A family's state over one history's lines.
pub(super) trait Prepared: Send + Sync {
    /// The categorical levels it would keep as of `day` over `population` (the keys active on
    /// that day), those fixed in `params` included: fixed in `params.levels`, builds at several
    /// dates get the same columns.
    fn levels(
        &self,
        _lines: &Lines,
        _day: i32,
        _population: &[u32],
        _params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        BTreeMap::new()
    }

    /// Its columns as of `day`, with what every row of that day shares (levels, imputation
    /// values) found over `population`.
    fn at<'h>(
        &'h self,
        lines: &'h Lines,
        day: i32,
        population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError>;
}

/// A family's columns as of one day.
pub(super) trait Columns: Send + Sync {
    /// The column names, in output order.
    fn names(&self) -> Vec<String>;

    /// Appends the customer's values, in `names` order.
    fn write(&self, customer: &mut Customer<'_>, out: &mut Vec<f64>);
}

/// One customer as of one day, as the families read it.
pub(super) struct Customer<'a> {
    pub key: u32,
    pub lines: &'a Lines,
    /// The customer's lines as of `day` (not empty).
    pub range: Range<usize>,
    pub day: i32,
    pub scratch: &'a mut Scratch,
}

/// Buffers reused from customer to customer (allocating per row costs more than the features).
#[derive(Default)]
pub(super) struct Scratch {
    /// The purchase days folded once per customer, shared by the purchase families.
    pub purchases: purchase::Folded,
    /// Free integer space for a family's per-customer sums.
    pub ints: Vec<i64>,
}

impl<'a> Customer<'a> {
    pub fn new(
        key: u32,
        lines: &'a Lines,
        range: Range<usize>,
        day: i32,
        scratch: &'a mut Scratch,
    ) -> Customer<'a> {
        scratch.purchases.clear();
        Customer {
            key,
            lines,
            range,
            day,
            scratch,
        }
    }
}
