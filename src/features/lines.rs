//! The purchase lines in the compact form the families read: per customer key, the lines sorted
//! by day, as plain vectors of small numbers.
//!
//! Every family is a fold over one customer's lines in day order. Holding the lines as integer
//! keys, days, fixed-point amounts and categorical codes (instead of a frame of text columns)
//! lets a build walk each customer's slice once, in parallel over customers, with no hashing,
//! no per-family group-by and no text comparison — and lets one sort serve every as-of date: the
//! lines of a customer up to a date are a prefix of its slice.

use polars::prelude::*;
use rayon::prelude::*;

use super::key;
use super::{FeatureError, KeyIndex};

/// Amounts are summed exactly as integers in units of 1/10,000 of the currency, so sums (and
/// every feature built on them) do not depend on the order of the lines, as floating-point sums
/// would.
pub(crate) const FIXED_POINT_SCALE: f64 = 10_000.0;

/// The code of a missing categorical value.
pub(super) const MISSING: u32 = u32::MAX;

/// The cost of a line without a `unit_cost` (the `profit` family prices it by margin instead).
pub(super) const NO_COST: i64 = i64::MIN;

/// `amount` in fixed-point units, rounded half to even (polars' default rounding).
pub(crate) fn fixed_point(amount: f64) -> i64 {
    (amount * FIXED_POINT_SCALE).round_ties_even() as i64
}

/// The amount of an invoice line, quantity × unit_price, computed exactly on their fixed-point
/// values (i128: no overflow for any pair ingest keeps) and rounded half to even once, so the
/// amount's fixed-point value is the exact product's rather than a float product's.
pub(crate) fn line_amount(quantity: f64, unit_price: f64) -> f64 {
    let scale = FIXED_POINT_SCALE as i128;
    let product = fixed_point(quantity) as i128 * fixed_point(unit_price) as i128;
    let (quotient, remainder) = (product.div_euclid(scale), product.rem_euclid(scale));
    let up = 2 * remainder > scale || (2 * remainder == scale && quotient % 2 != 0);
    from_fixed((quotient + i128::from(up)) as i64)
}

/// Whether `amount` has a fixed-point value (`as i64` would clamp anything beyond).
fn fits_fixed_point(amount: f64) -> bool {
    (amount * FIXED_POINT_SCALE).abs() < i64::MAX as f64
}

/// A fixed-point sum back in currency units, correctly rounded.
pub(crate) fn from_fixed(sum: i64) -> f64 {
    sum as f64 / FIXED_POINT_SCALE
}

/// A categorical line column (`category`, `channel`, `payment_method`) as codes: in [`Lines`]
/// as [`LineCodes`], while the lines are built as plain `u32`s.
pub(super) struct Codes<C = LineCodes> {
    pub column: &'static str,
    /// Per line, in [`Lines`] order; [`MISSING`] for a missing value.
    pub codes: C,
    /// The text of every code.
    pub levels: Vec<String>,
}

impl<C> Codes<C> {
    /// The code of `level`, if any line has it.
    pub fn code_of(&self, level: &str) -> Option<u32> {
        self.levels
            .iter()
            .position(|l| l == level)
            .map(|c| c as u32)
    }
}

/// A categorical column's code of every line: one byte each while the column has fewer than
/// 255 levels (categories, channels, payment methods), else four. At 10M customers (232M lines)
/// that is 0.7 GB less per column.
pub(super) enum LineCodes {
    Narrow(Vec<u8>),
    Wide(Vec<u32>),
}

/// [`MISSING`] among narrow codes.
const NARROW_MISSING: u8 = u8::MAX;

impl LineCodes {
    /// The codes of `codes` at the rows of `order` (all of them when `None`) for a column of
    /// `levels` levels, narrow when they fit.
    fn gathered(order: Option<&[u32]>, codes: Vec<u32>, levels: usize) -> LineCodes {
        if levels >= usize::from(NARROW_MISSING) {
            return LineCodes::Wide(gather(order, codes));
        }
        // Every code is below `levels` or MISSING.
        let narrow = |c: u32| {
            if c == MISSING {
                NARROW_MISSING
            } else {
                c as u8
            }
        };
        LineCodes::Narrow(match order {
            None => codes.par_iter().map(|c| narrow(*c)).collect(),
            Some(order) => order
                .par_iter()
                .map(|r| narrow(codes[*r as usize]))
                .collect(),
        })
    }

    /// The code of line `i` ([`MISSING`]: none).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            LineCodes::Narrow(c) => widen(c[i]),
            LineCodes::Wide(c) => c[i],
        }
    }

    /// The codes of the lines in `range`, in order.
    #[inline]
    pub fn iter(&self, range: std::ops::Range<usize>) -> CodeIter<'_> {
        match self {
            LineCodes::Narrow(c) => CodeIter::Narrow(c[range].iter()),
            LineCodes::Wide(c) => CodeIter::Wide(c[range].iter()),
        }
    }
}

#[inline]
fn widen(code: u8) -> u32 {
    if code == NARROW_MISSING {
        MISSING
    } else {
        u32::from(code)
    }
}

/// The codes of a range of lines ([`LineCodes::iter`]).
pub(super) enum CodeIter<'a> {
    Narrow(std::slice::Iter<'a, u8>),
    Wide(std::slice::Iter<'a, u32>),
}

impl Iterator for CodeIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            CodeIter::Narrow(i) => i.next().map(|c| widen(*c)),
            CodeIter::Wide(i) => i.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            CodeIter::Narrow(i) => i.size_hint(),
            CodeIter::Wide(i) => i.size_hint(),
        }
    }
}

/// Every dated purchase line, sorted by customer key, then day.
pub(super) struct Lines {
    /// Lines of key `k`: `starts[k] .. starts[k + 1]`.
    pub starts: Vec<usize>,
    /// Purchase day (days since 1970-01-01).
    pub day: Vec<i32>,
    /// Amount in fixed-point units.
    pub amount: Vec<i64>,
    /// Whether the amount is below zero (a return).
    pub negative: Vec<bool>,
    /// Whether the line had a discount above zero; `None` without a `discount` column.
    pub discounted: Option<Vec<bool>>,
    /// What the line's goods cost the seller, quantity × `unit_cost` in fixed-point units
    /// ([`NO_COST`] where `unit_cost` is missing); `None` unless asked for and mapped.
    pub cost: Option<Vec<i64>>,
    /// The categorical columns the transactions have, in `mix::COLUMNS` order.
    pub codes: Vec<Codes>,
}

/// Purchase lines as they arrive, in file order (one frame, or the pieces of one file in turn):
/// keyed, coded and converted, not yet sorted. [`LineParts::finish`] sorts them into [`Lines`].
/// Keys and codes number ids and levels in order of first appearance over every piece, so a file
/// pushed in pieces gives the same lines as the whole file pushed at once.
pub(super) struct LineParts {
    /// Id of every key.
    ids: Vec<String>,
    /// Key of every id, from the second piece on (one piece needs no lookup).
    index: Option<KeyIndex>,
    keys: Vec<u32>,
    day: Vec<i32>,
    amount: Vec<i64>,
    negative: Vec<bool>,
    discounted: Option<Vec<bool>>,
    cost: Option<Vec<i64>>,
    codes: Vec<Codes<Vec<u32>>>,
}

impl LineParts {
    /// `categorical`: the categorical columns to encode; `with_discount`: read `discount`.
    pub fn new(categorical: Vec<&'static str>, with_discount: bool) -> LineParts {
        LineParts {
            codes: categorical
                .into_iter()
                .map(|c| Codes {
                    column: c,
                    codes: Vec::new(),
                    levels: Vec::new(),
                })
                .collect(),
            ids: Vec::new(),
            index: None,
            keys: Vec::new(),
            day: Vec::new(),
            amount: Vec::new(),
            negative: Vec::new(),
            discounted: with_discount.then(Vec::new),
            cost: None,
        }
    }

    /// Also reads each line's cost (quantity × `unit_cost`) from transactions that have a
    /// `unit_cost` column.
    pub fn with_cost(mut self) -> LineParts {
        self.cost = Some(Vec::new());
        self
    }

    /// Adds the lines of `transactions`, the next rows of the file. Rows without an
    /// `order_date` count at no date and are left out (their ids and levels are still numbered).
    pub fn push(&mut self, transactions: &DataFrame) -> Result<(), FeatureError> {
        let ids = transactions
            .column("customer_id")?
            .cast(&DataType::String)?;
        let (local, local_ids) = key::encode(ids.str()?)?;
        let keys = self.global_keys(local, local_ids);
        let days = transactions
            .column("order_date")?
            .cast(&DataType::Date)?
            .cast(&DataType::Int32)?;
        let days = days.i32()?;
        let amounts = transactions.column("amount")?.cast(&DataType::Float64)?;
        let amounts = amounts.f64()?;
        if amounts.null_count() > 0 {
            return Err(polars_err!(ComputeError: "amount has missing values").into());
        }
        let dated: Option<Vec<bool>> =
            (days.null_count() > 0).then(|| days.iter().map(|d| d.is_some()).collect());
        let dated = dated.as_deref();
        let amount = flat_values(amounts);
        // Ingest rejects amounts past `ingest::MAX_NUMBER`; a frame from elsewhere is checked
        // too, since a clamped amount would be summed without a word.
        if let Some(row) = amount.par_iter().position_first(|a| !fits_fixed_point(*a)) {
            return Err(FeatureError::AmountOverflow {
                customer_id: ids.str()?.get(row).unwrap_or_default().to_string(),
            });
        }
        extend_only(&mut self.keys, dated, &keys);
        extend_only(&mut self.day, dated, &flat_values(days));
        let negative: Vec<bool> = amount.par_iter().map(|a| *a < 0.0).collect();
        extend_only(&mut self.negative, dated, &negative);
        let fixed: Vec<_> = amount.par_iter().map(|a| fixed_point(*a)).collect();
        extend_only(&mut self.amount, dated, &fixed);
        if let Some(out) = self.discounted.as_mut() {
            let d = transactions
                .column("discount")?
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0) > 0.0)
                .collect::<Vec<_>>();
            extend_only(out, dated, &d);
        }
        if let Some(out) = self.cost.as_mut() {
            extend_only(out, dated, &line_costs(transactions)?);
        }
        for c in self.codes.iter_mut() {
            let text = transactions.column(c.column)?.cast(&DataType::String)?;
            let (local, local_levels) = encode_levels(text.str()?);
            let codes = recode(&mut c.levels, local_levels, local);
            extend_only(&mut c.codes, dated, &codes);
        }
        Ok(())
    }

    /// Adds lines already keyed and coded (ingest's coded path, [`CodedLines`]). Their keys and
    /// codes are the file's numbering by first appearance, which is this one, so they are kept
    /// as they are; the ids and levels come once at the end ([`LineParts::set_levels`]), and
    /// nothing may be pushed otherwise. `id_of` names a key in an error.
    pub fn push_coded(
        &mut self,
        lines: &CodedLines<'_>,
        id_of: &dyn Fn(u32) -> String,
    ) -> Result<(), FeatureError> {
        let amounts = lines.amounts;
        if amounts.par_iter().any(|a| a.is_nan()) {
            return Err(polars_err!(ComputeError: "amount has missing values").into());
        }
        if let Some(row) = amounts.par_iter().position_first(|a| !fits_fixed_point(*a)) {
            return Err(FeatureError::AmountOverflow {
                customer_id: id_of(lines.keys[row]),
            });
        }
        let dated: Option<Vec<bool>> = lines
            .days
            .par_iter()
            .any(|d| *d == CODED_MISSING_DAY)
            .then(|| lines.days.iter().map(|d| *d != CODED_MISSING_DAY).collect());
        let Some(dated) = dated.as_deref() else {
            // Every line is dated (the rule): each column is appended on every core, straight
            // into the room `reserve_total` made.
            self.keys.par_extend(lines.keys.par_iter().copied());
            self.day.par_extend(lines.days.par_iter().copied());
            self.negative
                .par_extend(amounts.par_iter().map(|a| *a < 0.0));
            self.amount
                .par_extend(amounts.par_iter().map(|a| fixed_point(*a)));
            if let Some(out) = self.discounted.as_mut() {
                match lines.discounts {
                    Some(d) => out.par_extend(d.par_iter().map(|v| *v > 0.0)),
                    None => out.par_extend(rayon::iter::repeat_n(false, lines.keys.len())),
                }
            }
            for (c, codes) in self.codes.iter_mut().zip(&lines.codes) {
                c.codes.par_extend(codes.par_iter().copied());
            }
            return Ok(());
        };
        let dated = Some(dated);
        extend_only(&mut self.keys, dated, lines.keys);
        extend_only(&mut self.day, dated, lines.days);
        let negative: Vec<bool> = amounts.iter().map(|a| *a < 0.0).collect();
        extend_only(&mut self.negative, dated, &negative);
        drop(negative);
        let fixed: Vec<i64> = amounts.iter().map(|a| fixed_point(*a)).collect();
        extend_only(&mut self.amount, dated, &fixed);
        drop(fixed);
        if let Some(out) = self.discounted.as_mut() {
            let d: Vec<bool> = match lines.discounts {
                Some(d) => d.iter().map(|v| *v > 0.0).collect(),
                None => vec![false; lines.keys.len()],
            };
            extend_only(out, dated, &d);
        }
        for (c, codes) in self.codes.iter_mut().zip(&lines.codes) {
            extend_only(&mut c.codes, dated, codes);
        }
        Ok(())
    }

    /// Room for `lines` lines in all (the lines expected of the whole file), allocated exactly:
    /// a table grown by doubling would briefly hold one and a half times its size.
    pub fn reserve_total(&mut self, lines: usize) {
        fn exact<T>(v: &mut Vec<T>, total: usize) {
            v.reserve_exact(total.saturating_sub(v.len()));
        }
        exact(&mut self.keys, lines);
        exact(&mut self.day, lines);
        exact(&mut self.amount, lines);
        exact(&mut self.negative, lines);
        if let Some(d) = self.discounted.as_mut() {
            exact(d, lines);
        }
        for c in self.codes.iter_mut() {
            exact(&mut c.codes, lines);
        }
    }

    /// The ids of the keys and the levels of each categorical column (in the order of
    /// [`LineParts::categorical`]) of lines pushed by [`LineParts::push_coded`].
    pub fn set_levels(&mut self, ids: Vec<String>, levels: Vec<Vec<String>>) {
        self.ids = ids;
        for (c, l) in self.codes.iter_mut().zip(levels) {
            c.levels = l;
        }
    }

    /// The categorical columns the lines read, in order.
    pub fn categorical(&self) -> Vec<&'static str> {
        self.codes.iter().map(|c| c.column).collect()
    }

    /// Whether the lines read `discount`; whether they read costs.
    pub fn reads(&self) -> (bool, bool) {
        (self.discounted.is_some(), self.cost.is_some())
    }

    /// The keys of a piece's rows over every piece so far: the first piece's keys are its own;
    /// a later piece's ids are looked up (new ones get the next keys).
    fn global_keys(&mut self, local: Vec<u32>, local_ids: Vec<String>) -> Vec<u32> {
        if self.ids.is_empty() {
            self.ids = local_ids;
            return local;
        }
        let index = self.index.get_or_insert_with(|| KeyIndex::new(&self.ids));
        let map: Vec<u32> = local_ids
            .into_iter()
            .map(|id| match index.get(&self.ids, &id) {
                Some(k) => k,
                None => {
                    let k = self.ids.len() as u32;
                    index.insert(&id, k);
                    self.ids.push(id);
                    k
                }
            })
            .collect();
        local.into_iter().map(|c| map[c as usize]).collect()
    }

    /// The lines sorted by key and day; the ids of the keys. Fails when a customer's amounts
    /// could overflow a fixed-point sum (see [`first_overflowing_key`]).
    pub fn finish(self) -> Result<(Lines, Vec<String>), FeatureError> {
        let n_keys = self.ids.len();
        let order = sort_order(&self.keys, &self.day);
        let order = order.as_deref();
        let mut starts = vec![0usize; n_keys + 1];
        self.keys.iter().for_each(|k| starts[*k as usize + 1] += 1);
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        drop(self.keys);
        let lines = Lines {
            starts,
            day: gather(order, self.day),
            amount: gather(order, self.amount),
            negative: gather(order, self.negative),
            discounted: self.discounted.map(|d| gather(order, d)),
            cost: self.cost.map(|c| gather(order, c)),
            codes: self
                .codes
                .into_iter()
                .map(|c| Codes {
                    codes: LineCodes::gathered(order, c.codes, c.levels.len()),
                    column: c.column,
                    levels: c.levels,
                })
                .collect(),
        };
        if let Some(k) = first_overflowing_key(&lines) {
            return Err(FeatureError::AmountOverflow {
                customer_id: self.ids[k].clone(),
            });
        }
        Ok((lines, self.ids))
    }
}

/// Per row, quantity × `unit_cost` in fixed-point units (a missing quantity counts as one unit),
/// or [`NO_COST`] where the table has no `unit_cost` or the row lacks one.
fn line_costs(transactions: &DataFrame) -> Result<Vec<i64>, FeatureError> {
    let Ok(unit_cost) = transactions.column("unit_cost") else {
        return Ok(vec![NO_COST; transactions.height()]);
    };
    let unit_cost = unit_cost.cast(&DataType::Float64)?;
    let quantity = match transactions.column("quantity") {
        Ok(q) => Some(q.cast(&DataType::Float64)?),
        Err(_) => None,
    };
    let quantity = quantity.as_ref().map(|q| q.f64()).transpose()?;
    Ok(unit_cost
        .f64()?
        .iter()
        .enumerate()
        .map(|(row, cost)| {
            let units = quantity.and_then(|q| q.get(row)).unwrap_or(1.0);
            match cost {
                Some(c) if fits_fixed_point(units * c) => fixed_point(line_amount(units, c)),
                _ => NO_COST,
            }
        })
        .collect())
}

/// The first key whose absolute amounts sum past `i64`. Every sum the families take (a day, a
/// window, a total, a share's part) is a sum over some of one customer's lines, so bounded by
/// the sum of their magnitudes: when that fits, no sum can wrap, and the folds stay plain
/// integer additions. Checked once here rather than at every addition.
fn first_overflowing_key(lines: &Lines) -> Option<usize> {
    (0..lines.starts.len().saturating_sub(1))
        .into_par_iter()
        .find_first(|&k| {
            lines.amount[lines.starts[k]..lines.starts[k + 1]]
                .iter()
                .try_fold(0i64, |sum, a| sum.checked_add(a.checked_abs()?))
                .is_none()
        })
}

/// The day of a line without a date in [`CodedLines`] (ingest's coded path's own mark).
pub const CODED_MISSING_DAY: i32 = i32::MIN;

/// Purchase lines keyed and coded by ingest's coded path: per line its customer's key and each
/// categorical column's code, numbered by first appearance over the file (as [`LineParts`]
/// numbers them; `u32::MAX`: missing), and its day ([`CODED_MISSING_DAY`]: none), amount and
/// discount (NaN: missing).
pub struct CodedLines<'a> {
    pub keys: &'a [u32],
    pub days: &'a [i32],
    pub amounts: &'a [f64],
    pub discounts: Option<&'a [f64]>,
    /// In the order of [`LineParts::categorical`].
    pub codes: Vec<&'a [u32]>,
}

/// Appends `values` at the dated rows (all of them when `dated` is `None`).
fn extend_only<T: Copy>(out: &mut Vec<T>, dated: Option<&[bool]>, values: &[T]) {
    match dated {
        None => out.extend_from_slice(values),
        Some(d) => out.extend(values.iter().zip(d).filter(|(_, k)| **k).map(|(v, _)| *v)),
    }
}

impl Lines {
    /// The lines of key `k` dated on or before `day`: a prefix of its slice.
    pub fn until(&self, k: usize, day: i32) -> std::ops::Range<usize> {
        let (lo, hi) = (self.starts[k], self.starts[k + 1]);
        lo..lo + self.day[lo..hi].partition_point(|d| *d <= day)
    }

    /// The first day of key `k`, if it has a line.
    pub fn first_day(&self, k: usize) -> Option<i32> {
        let lo = self.starts[k];
        (lo < self.starts[k + 1]).then(|| self.day[lo])
    }
}

/// The lines in customer-then-day order; `None` when that is their order already (a file
/// grouped by customer with its days in order — most exports — needs no sort, and one scan
/// without allocation tells). Ties keep line order, so the order is the same however the sort
/// runs.
fn sort_order(keys: &[u32], days: &[i32]) -> Option<Vec<u32>> {
    let customer_day = |k: u32, d: i32| (u64::from(k) << 32) | u64::from((d as u32) ^ (1 << 31));
    let mut previous = 0u64;
    let in_order = keys.iter().zip(days).all(|(&k, &d)| {
        let cd = customer_day(k, d);
        let ok = cd >= previous;
        previous = cd;
        ok
    });
    if in_order {
        return None;
    }
    let mut pairs: Vec<(u64, u32)> = keys
        .iter()
        .zip(days)
        .enumerate()
        .map(|(row, (&k, &d))| (customer_day(k, d), row as u32))
        .collect();
    if !pairs.is_sorted() {
        pairs.par_sort_unstable();
    }
    Some(pairs.into_iter().map(|(_, row)| row).collect())
}

/// The values of a numeric column without nulls (those rows are never gathered).
fn flat_values<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Vec<T::Native> {
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        out.extend_from_slice(arr.values());
    }
    out
}

/// `values` at the rows of `order` (all of them, in place, when `None`), in parallel.
fn gather<T: Copy + Send + Sync>(order: Option<&[u32]>, values: Vec<T>) -> Vec<T> {
    match order {
        None => values,
        Some(order) => order.par_iter().map(|r| values[*r as usize]).collect(),
    }
}

/// Per row, the code of its text; and the text of every code (first appearance order).
/// Categorical line columns have few distinct values, so a short list searched linearly beats
/// hashing every line; slices of rows are encoded in parallel and their lists merged in order.
fn encode_levels(text: &StringChunked) -> (Vec<u32>, Vec<String>) {
    let n = text.len();
    let slices = crate::parallel::per_slice(n, |start, len| {
        let slice = text.slice(start as i64, len);
        let mut levels: Vec<&str> = Vec::new();
        let mut codes = Vec::with_capacity(len);
        let mut index: std::collections::HashMap<&str, u32> = Default::default();
        for v in slice.iter() {
            codes.push(match v {
                None => MISSING,
                Some(v) => match levels.iter().position(|l| *l == v) {
                    Some(c) => c as u32,
                    None if levels.len() < 32 => {
                        levels.push(v);
                        (levels.len() - 1) as u32
                    }
                    None => *index.entry(v).or_insert_with(|| {
                        levels.push(v);
                        (levels.len() - 1) as u32
                    }),
                },
            });
        }
        (
            codes,
            levels.into_iter().map(str::to_string).collect::<Vec<_>>(),
        )
    });
    let mut levels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(n);
    for (local, local_levels) in slices {
        codes.extend(recode(&mut levels, local_levels, local));
    }
    (codes, levels)
}

/// `local` codes (numbered by `local_levels`) renumbered into `levels`, which gains the levels
/// it lacks in their local order: slices or pieces merged in order keep first-appearance codes.
fn recode(levels: &mut Vec<String>, local_levels: Vec<String>, local: Vec<u32>) -> Vec<u32> {
    let mut code_of: std::collections::HashMap<String, u32> = levels
        .iter()
        .enumerate()
        .map(|(c, l)| (l.clone(), c as u32))
        .collect();
    let map: Vec<u32> = local_levels
        .into_iter()
        .map(|l| {
            *code_of.entry(l.clone()).or_insert_with(|| {
                levels.push(l);
                (levels.len() - 1) as u32
            })
        })
        .collect();
    local
        .into_iter()
        .map(|c| {
            if c == MISSING {
                MISSING
            } else {
                map[c as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_codes_are_narrow_below_255_levels_and_give_back_every_code() {
        for levels in [1usize, 2, 254, 255, 256, 70_000] {
            let codes: Vec<u32> = (0..1000u32)
                .map(|i| {
                    if i % 7 == 3 {
                        MISSING
                    } else {
                        (i * 31) % levels as u32
                    }
                })
                .collect();
            let order: Vec<u32> = (0..1000u32).rev().collect();
            for order in [None, Some(order.as_slice())] {
                let expected: Vec<u32> = match order {
                    None => codes.clone(),
                    Some(o) => o.iter().map(|r| codes[*r as usize]).collect(),
                };
                let got = LineCodes::gathered(order, codes.clone(), levels);
                assert_eq!(
                    matches!(got, LineCodes::Narrow(_)),
                    levels < 255,
                    "{levels}"
                );
                assert_eq!(got.iter(0..1000).collect::<Vec<u32>>(), expected);
                assert_eq!(got.iter(10..20).collect::<Vec<u32>>(), expected[10..20]);
                assert!((0..1000).all(|i| got.get(i) == expected[i]));
            }
        }
    }

    #[test]
    fn fixed_point_rounds_half_to_even_and_sums_exactly() {
        assert_eq!(fixed_point(6.3), 63_000);
        assert_eq!(fixed_point(12.345_67), 123_457);
        // 1/32 and 3/32 are exact in binary and land on exact ties (312.5, 937.5): they go
        // to the even neighbour, as with polars' default rounding.
        assert_eq!(fixed_point(0.031_25), 312);
        assert_eq!(fixed_point(0.093_75), 938);
        assert_eq!(fixed_point(-0.031_25), -312);
        assert_eq!(fixed_point(-2.5), -25_000);
        assert_eq!(from_fixed(63_000), 6.3);
    }

    /// The float product is off for these (3 × 0.1 = 0.30000000000000004, 1.015 × 0.5 =
    /// 0.5074999…); the line amount is the exact product's fixed point, ties to even.
    #[test]
    fn line_amounts_are_exact_products() {
        let fp = |q, p| fixed_point(line_amount(q, p));
        assert_eq!(fp(3.0, 0.1), 3_000);
        assert_eq!(fp(1.015, 0.5), 5_075);
        assert_eq!(fp(0.0001, 0.5), 0);
        assert_eq!(fp(0.0003, 0.5), 2);
        assert_eq!(fp(-12.0, 2.55), -306_000);
        assert_eq!(fp(-0.0003, 0.5), -2);
        assert_eq!(fp(80_995.0, 2.08), 1_684_696_000);
        assert_eq!(fp(1e7, 1e4), 1_000_000_000_000_000);
    }

    /// Amounts whose sum would wrap (two orders of 5e14 wrapped to −844 trillion) are an error
    /// naming the customer, as is an amount a fixed-point value cannot hold.
    #[test]
    fn sums_that_could_wrap_are_an_error() {
        let frame = |amounts: &[f64]| {
            df!(
                "customer_id" => vec!["00007"; amounts.len()],
                "order_date" => vec![Some(1); amounts.len()],
                "amount" => amounts,
            )
            .unwrap()
        };
        let finish = |amounts: &[f64]| {
            let mut p = LineParts::new(vec![], false);
            p.push(&frame(amounts))?;
            p.finish().map(|_| ())
        };
        assert!(finish(&[1e11, -1e11, 5.0]).is_ok());
        for amounts in [&[5e14, 5e14][..], &[1e15], &[f64::NAN]] {
            let err = finish(amounts).unwrap_err();
            assert!(
                matches!(&err, FeatureError::AmountOverflow { customer_id } if customer_id == "00007"),
                "{amounts:?}: {err}"
            );
        }
        // Many lines of in-range amounts: the sum of magnitudes decides, not the net sum.
        let many = vec![1e11; 10_000];
        let mut signed = many.clone();
        signed.iter_mut().step_by(2).for_each(|a| *a = -*a);
        assert!(finish(&signed).is_err());
    }

    #[test]
    fn levels_are_coded_in_order_of_first_appearance_across_slices() {
        let values: Vec<Option<String>> = (0..100)
            .map(|i| (i % 7 != 3).then(|| format!("l{}", (i * 37) % 41)))
            .collect();
        let text = StringChunked::new("c".into(), &values);
        let (codes, levels) = encode_levels(&text);
        let mut expected_levels: Vec<String> = Vec::new();
        for v in values.iter().flatten() {
            if !expected_levels.contains(v) {
                expected_levels.push(v.clone());
            }
        }
        assert_eq!(levels, expected_levels);
        for (v, c) in values.iter().zip(&codes) {
            match v {
                None => assert_eq!(*c, MISSING),
                Some(v) => assert_eq!(&levels[*c as usize], v),
            }
        }
    }

    #[test]
    fn lines_are_sorted_by_customer_then_day() {
        assert_eq!(
            sort_order(&[1, 0, 1, 1], &[5, 3, 2, 5]),
            Some(vec![1, 2, 0, 3])
        );
        assert_eq!(sort_order(&[0, 0, 1], &[1, 4, 2]), None);
    }

    /// A frame pushed in pieces gives the lines and ids of the whole frame pushed at once,
    /// undated rows left out either way.
    #[test]
    fn pieces_give_the_lines_of_the_whole() {
        let ids = ["b", "a", "b", "c", "a", "d", "b", "e"];
        let days = [
            Some(5),
            Some(3),
            None,
            Some(2),
            Some(1),
            Some(9),
            Some(4),
            Some(7),
        ];
        let amounts = [1.5, -2.0, 3.0, 4.25, 5.0, 6.0, 7.0, 8.0];
        let cats = [
            Some("x"),
            Some("y"),
            Some("z"),
            None,
            Some("x"),
            Some("w"),
            Some("y"),
            Some("x"),
        ];
        let frame = df!(
            "customer_id" => ids,
            "order_date" => days,
            "amount" => amounts,
            "category" => cats,
        )
        .unwrap();
        let whole = {
            let mut p = LineParts::new(vec!["category"], false);
            p.push(&frame).unwrap();
            p.finish().unwrap()
        };
        for cut in [1, 3, 5] {
            let mut p = LineParts::new(vec!["category"], false);
            p.push(&frame.slice(0, cut)).unwrap();
            p.push(&frame.slice(cut as i64, ids.len() - cut)).unwrap();
            let (lines, got_ids) = p.finish().unwrap();
            assert_eq!(got_ids, whole.1, "cut {cut}");
            assert_eq!(lines.starts, whole.0.starts, "cut {cut}");
            assert_eq!(lines.day, whole.0.day, "cut {cut}");
            assert_eq!(lines.amount, whole.0.amount, "cut {cut}");
            assert_eq!(lines.negative, whole.0.negative, "cut {cut}");
            assert_eq!(lines.codes[0].levels, whole.0.codes[0].levels, "cut {cut}");
            let all = |l: &Lines| l.codes[0].codes.iter(0..l.day.len()).collect::<Vec<u32>>();
            assert_eq!(all(&lines), all(&whole.0), "cut {cut}");
        }
        assert_eq!(whole.1, ["b", "a", "c", "d", "e"]);
        // Key 0 ("b"): the undated line is left out, days sorted.
        assert_eq!(&whole.0.day[..2], &[4, 5]);
        assert_eq!(whole.0.codes[0].levels, ["x", "y", "z", "w"]);
    }
}
