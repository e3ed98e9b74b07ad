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
use super::FeatureError;

/// Amounts are summed exactly as integers in units of 1/10,000 of the currency, so sums (and
/// every feature built on them) do not depend on the order of the lines, as floating-point sums
/// would.
pub(super) const FIXED_POINT_SCALE: f64 = 10_000.0;

/// The code of a missing categorical value.
pub(super) const MISSING: u32 = u32::MAX;

/// `amount` in fixed-point units, rounded half to even (polars' default rounding).
pub(super) fn fixed_point(amount: f64) -> i64 {
    (amount * FIXED_POINT_SCALE).round_ties_even() as i64
}

/// A fixed-point sum back in currency units, correctly rounded.
pub(super) fn from_fixed(sum: i64) -> f64 {
    sum as f64 / FIXED_POINT_SCALE
}

/// A categorical line column (`category`, `channel`, `payment_method`) as codes.
pub(super) struct Codes {
    pub column: &'static str,
    /// Per line, in [`Lines`] order; [`MISSING`] for a missing value.
    pub codes: Vec<u32>,
    /// The text of every code.
    pub levels: Vec<String>,
}

impl Codes {
    /// The code of `level`, if any line has it.
    pub fn code_of(&self, level: &str) -> Option<u32> {
        self.levels
            .iter()
            .position(|l| l == level)
            .map(|c| c as u32)
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
    /// The categorical columns the transactions have, in `mix::COLUMNS` order.
    pub codes: Vec<Codes>,
}

impl Lines {
    /// The lines of `transactions` (with `keys`, the key of every row; `n_keys` keys in all).
    /// Rows without an `order_date` count at no date and are left out. `categorical`: the
    /// categorical columns to encode.
    pub fn new(
        transactions: &DataFrame,
        keys: &[u32],
        n_keys: usize,
        categorical: &[&'static str],
        with_discount: bool,
    ) -> Result<Lines, FeatureError> {
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
        let order = sort_order(keys, days);
        let order = order.as_deref();
        let mut starts = vec![0usize; n_keys + 1];
        match order {
            None => keys.iter().for_each(|k| starts[*k as usize + 1] += 1),
            Some(order) => order
                .iter()
                .for_each(|row| starts[keys[*row as usize] as usize + 1] += 1),
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let day_values = flat_values(days);
        let amount_values = flat_values(amounts);
        let amount: Vec<f64> = gather(order, amount_values);
        let discounted = if with_discount {
            let d = transactions
                .column("discount")?
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0) > 0.0)
                .collect::<Vec<_>>();
            Some(gather(order, d))
        } else {
            None
        };
        let codes = categorical
            .iter()
            .map(|c| -> Result<Codes, FeatureError> {
                let text = transactions.column(c)?.cast(&DataType::String)?;
                let (codes, levels) = encode_levels(text.str()?);
                Ok(Codes {
                    column: c,
                    codes: gather(order, codes),
                    levels,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Lines {
            starts,
            day: gather(order, day_values),
            negative: amount.par_iter().map(|a| *a < 0.0).collect(),
            amount: amount.par_iter().map(|a| fixed_point(*a)).collect(),
            discounted,
            codes,
        })
    }

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

/// The dated rows in customer-then-day order; `None` when that is every row in file order (a
/// file grouped by customer with its days in order — most exports — needs no sort, and one scan
/// without allocation tells). Ties keep row order, so the order is the same however the sort
/// runs.
fn sort_order(keys: &[u32], days: &Int32Chunked) -> Option<Vec<u32>> {
    let customer_day = |k: u32, d: i32| (u64::from(k) << 32) | u64::from((d as u32) ^ (1 << 31));
    if days.null_count() == 0 {
        let mut previous = 0u64;
        let in_order = keys.iter().zip(days.into_no_null_iter()).all(|(&k, d)| {
            let cd = customer_day(k, d);
            let ok = cd >= previous;
            previous = cd;
            ok
        });
        if in_order {
            return None;
        }
    }
    let mut pairs: Vec<(u64, u32)> = keys
        .iter()
        .zip(days.iter())
        .enumerate()
        .filter_map(|(row, (&k, d))| d.map(|d| (customer_day(k, d), row as u32)))
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
    let mut code_of: std::collections::HashMap<String, u32> = Default::default();
    let mut codes = Vec::with_capacity(n);
    for (local, local_levels) in slices {
        let map: Vec<u32> = local_levels
            .into_iter()
            .map(|l| {
                *code_of.entry(l.clone()).or_insert_with(|| {
                    levels.push(l);
                    (levels.len() - 1) as u32
                })
            })
            .collect();
        codes.extend(local.into_iter().map(|c| {
            if c == MISSING {
                MISSING
            } else {
                map[c as usize]
            }
        }));
    }
    (codes, levels)
}

/// The key of every row of `transactions` and the id of every key.
pub(super) fn keys(transactions: &DataFrame) -> Result<(Vec<u32>, Vec<String>), FeatureError> {
    let ids = transactions
        .column("customer_id")?
        .cast(&DataType::String)?;
    let (codes, ids) = key::encode(ids.str()?)?;
    Ok((codes, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lines_are_sorted_by_customer_then_day_without_undated_rows() {
        let keys = [1u32, 0, 1, 0, 1];
        let days = Int32Chunked::new("d".into(), &[Some(5), Some(3), Some(2), None, Some(5)]);
        assert_eq!(sort_order(&keys, &days), Some(vec![1, 2, 0, 4]));
        let sorted = Int32Chunked::new("d".into(), &[Some(1), Some(4), Some(2)]);
        assert_eq!(sort_order(&[0, 0, 1], &sorted), None);
        let undated = Int32Chunked::new("d".into(), &[Some(1), None, Some(2)]);
        assert_eq!(sort_order(&[0, 0, 1], &undated), Some(vec![0, 2]));
    }
}
