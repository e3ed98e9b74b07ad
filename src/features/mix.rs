//! The `mix` family: what, where and how a customer buys (category, channel, payment shares,
//! returns and discounts). Levels are the most important ones overall (by spend, or by line count
//! for payment methods), capped, with the rest pooled as `other`; a caller can fix the levels
//! (a model's training levels) so the schema is the same at every date.

use std::collections::BTreeMap;
use std::ops::Range;

use polars::prelude::*;
use rayon::prelude::*;

use super::catalog::{doc, Doc};
use super::family::{Columns, Customer, Definition, LineColumns, Prepared, Source};
use super::levels::rank_levels;
use super::lines::{Codes, Lines, MISSING};
use super::{FeatureError, FeatureParams};

/// The transaction columns the mix family uses beyond amounts.
const COLUMNS: [&str; 4] = ["category", "channel", "payment_method", "discount"];

/// The categorical ones among them, encoded as codes in `Lines`.
pub(super) const CATEGORICAL: [&str; 3] = ["category", "channel", "payment_method"];

/// The `mix` family.
pub(super) struct Mix;

#[rustfmt::skip]
const DOCS: &[Doc] = &[
    doc("returns_rate", "share", "share of order lines with a negative amount"),
    doc("n_categories", "count", "distinct categories bought (needs `category`)"),
    doc("share_category_<level>", "share", "spend share per category, top levels by overall spend, the rest as `other` (needs `category`)"),
    doc("n_channels", "count", "distinct channels used (needs `channel`)"),
    doc("multichannel", "0/1", "1 when more than one channel was used (needs `channel`)"),
    doc("share_channel_<level>", "share", "spend share per channel, top levels, rest as `other` (needs `channel`)"),
    doc("discount_share", "share", "share of order lines bought with a discount > 0 (needs `discount`)"),
    doc("share_payment_<level>", "share", "share of order lines per payment method, top levels, rest as `other` (needs `payment_method`)"),
];

impl Definition for Mix {
    fn name(&self) -> &'static str {
        "mix"
    }

    fn docs(&self) -> &'static [Doc] {
        DOCS
    }

    /// Any one of its columns is enough; without one, the family would be `returns_rate` alone.
    fn lacks(
        &self,
        transactions: &DataFrame,
        _has_customers: bool,
    ) -> Option<(&'static str, &'static str)> {
        let any = COLUMNS.iter().any(|c| transactions.column(c).is_ok());
        (!any).then_some(("transactions", "category"))
    }

    fn line_columns(&self, transactions: &DataFrame) -> LineColumns {
        let present = |c: &&str| transactions.column(c).is_ok();
        LineColumns {
            categorical: CATEGORICAL.into_iter().filter(present).collect(),
            discount: present(&"discount"),
            cost: false,
        }
    }

    fn prepare(&self, _: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError> {
        Ok(Box::new(Mix))
    }
}

impl Prepared for Mix {
    fn levels(
        &self,
        lines: &Lines,
        day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        levels(lines, day, params)
    }

    fn at<'h>(
        &'h self,
        lines: &'h Lines,
        day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError> {
        Ok(Box::new(Layout::new(lines, &levels(lines, day, params))))
    }
}

impl Columns for Layout {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn write(&self, c: &mut Customer<'_>, out: &mut Vec<f64>) {
        self.write_lines(c.lines, c.range.clone(), &mut c.scratch.ints, out);
    }
}

/// Lower-case ASCII letters, digits and underscores: safe in column names and in SQL.
pub(crate) fn sanitize(level: &str) -> String {
    let mut s: String = level
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() {
        "blank".to_string()
    } else {
        s
    }
}

/// A categorical column's share features: its kept levels' slots and how lines are weighed.
struct ShareSet {
    /// Index into `Lines::codes`.
    codes: usize,
    /// The slot of every code among the kept levels (`None`: pooled as `other`).
    slot_of_code: Vec<Option<usize>>,
    kept: usize,
    /// Spend (positive fixed-point amount) per line, else one per line.
    by_spend: bool,
    /// Also the distinct count (and, for channels, whether more than one).
    counts: Count,
}

#[derive(Clone, Copy, PartialEq)]
enum Count {
    None,
    Distinct,
    DistinctAndMulti,
}

/// One part of the mix features, in output order.
enum Part {
    Returns,
    Shares(ShareSet),
    Discount,
}

/// The mix features to build: column names and how each part is computed.
pub(super) struct Layout {
    names: Vec<String>,
    parts: Vec<Part>,
}

/// The kept levels of every categorical mix column the lines have: fixed by `params` (a model's
/// training levels), else the top `level_cap` by spend (lines for payment methods) over the lines
/// dated on or before `as_of_day`, ties by level name; missing and empty levels are never kept.
fn levels(lines: &Lines, as_of_day: i32, params: &FeatureParams) -> BTreeMap<String, Vec<String>> {
    lines
        .codes
        .iter()
        .filter(|c| CATEGORICAL.contains(&c.column))
        .map(|c| {
            let kept = match params.levels.get(c.column) {
                Some(fixed) => fixed.clone(),
                None => top_levels(
                    lines,
                    c,
                    as_of_day,
                    c.column != "payment_method",
                    params.level_cap,
                ),
            };
            (c.column.to_string(), kept)
        })
        .collect()
}

/// The most important `cap` levels of `c` (see [`levels`]). Amounts are summed in fixed point,
/// so the ranking does not depend on the order of the lines.
pub(super) fn top_levels(
    lines: &Lines,
    c: &Codes,
    as_of_day: i32,
    by_amount: bool,
    cap: usize,
) -> Vec<String> {
    let n_levels = c.levels.len();
    const CHUNK: usize = 1 << 16;
    let sums = lines
        .day
        .par_chunks(CHUNK)
        .zip(lines.amount.par_chunks(CHUNK))
        .enumerate()
        .map(|(chunk, (days, amounts))| {
            let mut sums = vec![(0i128, false); n_levels];
            let first = chunk * CHUNK;
            let codes = c.codes.iter(first..first + days.len());
            for ((d, code), a) in days.iter().zip(codes).zip(amounts) {
                if *d <= as_of_day && code != MISSING {
                    let s = &mut sums[code as usize];
                    s.0 += if by_amount { i128::from(*a) } else { 1 };
                    s.1 = true;
                }
            }
            sums
        })
        .reduce(
            || vec![(0i128, false); n_levels],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.0 += y.0;
                    x.1 |= y.1;
                }
                a
            },
        );
    let weighted = sums
        .iter()
        .zip(&c.levels)
        .filter(|((_, seen), level)| *seen && !level.is_empty())
        .map(|((w, _), level)| (*w, level.as_str()));
    rank_levels(weighted, cap)
}

impl Layout {
    /// The mix features of `lines` with the kept levels `levels` (from [`levels`]).
    pub fn new(lines: &Lines, levels: &BTreeMap<String, Vec<String>>) -> Layout {
        let mut layout = Layout {
            names: vec!["returns_rate".to_string()],
            parts: vec![Part::Returns],
        };
        layout.add_shares(lines, levels, "category", Count::Distinct);
        layout.add_shares(lines, levels, "channel", Count::DistinctAndMulti);
        if lines.discounted.is_some() {
            layout.names.push("discount_share".into());
            layout.parts.push(Part::Discount);
        }
        layout.add_shares(lines, levels, "payment_method", Count::None);
        layout
    }

    fn add_shares(
        &mut self,
        lines: &Lines,
        levels: &BTreeMap<String, Vec<String>>,
        column: &str,
        counts: Count,
    ) {
        let Some(index) = lines.codes.iter().position(|c| c.column == column) else {
            return;
        };
        let (prefix, plural) = match column {
            "category" => ("share_category", "categories"),
            "channel" => ("share_channel", "channels"),
            _ => ("share_payment", ""),
        };
        if counts != Count::None {
            self.names.push(format!("n_{plural}"));
        }
        if counts == Count::DistinctAndMulti {
            self.names.push("multichannel".into());
        }
        let c = &lines.codes[index];
        let kept = levels.get(column).cloned().unwrap_or_default();
        let mut slot_of_code = vec![None; c.levels.len()];
        for (slot, level) in kept.iter().enumerate() {
            if let Some(code) = c.code_of(level) {
                slot_of_code[code as usize] = Some(slot);
            }
            self.names.push(format!("{prefix}_{}", sanitize(level)));
        }
        self.names.push(format!("{prefix}_other"));
        self.parts.push(Part::Shares(ShareSet {
            codes: index,
            slot_of_code,
            kept: kept.len(),
            // Payment methods are shared by line count, the others by spend.
            by_spend: column != "payment_method",
            counts,
        }));
    }

    /// Writes the mix features of the customer whose lines are `range` (not empty) into `out`,
    /// in `names` order. `scratch`: reused across customers.
    fn write_lines(
        &self,
        lines: &Lines,
        range: Range<usize>,
        scratch: &mut Vec<i64>,
        out: &mut Vec<f64>,
    ) {
        let n = range.len() as f64;
        for part in &self.parts {
            match part {
                Part::Returns => {
                    let returns = lines.negative[range.clone()].iter().filter(|r| **r).count();
                    out.push(returns as f64 / n);
                }
                Part::Discount => {
                    let d = lines.discounted.as_deref().unwrap_or_default();
                    out.push(d[range.clone()].iter().filter(|x| **x).count() as f64 / n);
                }
                Part::Shares(set) => set.write(lines, range.clone(), scratch, out),
            }
        }
    }
}

impl ShareSet {
    fn write(&self, lines: &Lines, range: Range<usize>, parts: &mut Vec<i64>, out: &mut Vec<f64>) {
        let codes = lines.codes[self.codes].codes.iter(range.clone());
        parts.clear();
        parts.resize(self.kept, 0);
        let mut total = 0i64;
        // Distinct levels as a bit set while the codes are small (every realistic column).
        let mut seen = 0u128;
        let mut many: Vec<u32> = Vec::new();
        for (code, amount) in codes.zip(&lines.amount[range]) {
            let w = if self.by_spend { (*amount).max(0) } else { 1 };
            total += w;
            if code == MISSING {
                continue;
            }
            if let Some(slot) = self.slot_of_code[code as usize] {
                parts[slot] += w;
            }
            if self.counts != Count::None {
                if code < 128 {
                    seen |= 1 << code;
                } else {
                    many.push(code);
                }
            }
        }
        if self.counts != Count::None {
            many.sort_unstable();
            many.dedup();
            let distinct = seen.count_ones() as usize + many.len();
            out.push(distinct as f64);
            if self.counts == Count::DistinctAndMulti {
                out.push(f64::from(u8::from(distinct > 1)));
            }
        }
        let total_f = total as f64;
        let share = |part: i64| {
            if total_f > 0.0 {
                part as f64 / total_f
            } else {
                0.0
            }
        };
        out.extend(parts.iter().map(|p| share(*p)));
        out.push(share(total - parts.iter().sum::<i64>()));
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn level_names_are_safe_column_names() {
        assert_eq!(sanitize("Home & Garden"), "home_garden");
        assert_eq!(sanitize("  Web "), "web");
        assert_eq!(sanitize("€"), "blank");
    }
}
