//! Per-customer BTYD summaries (lifetimes' conventions) and their compressed histogram.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::error::ClvError;

/// Per-customer recency/frequency/monetary summary, one entry per customer in each column.
///
/// Conventions are those of `lifetimes.utils.summary_data_from_transaction_data`:
/// all times are in the model's time unit (e.g. weeks = days / 7).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomerSummaries {
    /// Repeat purchase periods: distinct purchase periods − 1 (non-negative integer).
    pub frequency: Vec<f64>,
    /// Last − first purchase time (0 when `frequency` is 0).
    pub recency: Vec<f64>,
    /// As-of time − first purchase time (≥ `recency`).
    pub t: Vec<f64>,
    /// Mean value of the repeat periods (0 when `frequency` is 0). May be left empty when only
    /// the BG/NBD model is used.
    pub monetary_value: Vec<f64>,
}

/// Tolerance for `recency <= t`, absorbing rounding of day → week conversions.
const RECENCY_SLACK: f64 = 1e-9;

impl CustomerSummaries {
    /// Number of customers.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// True when there are no customers.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// True when a monetary column is present.
    pub fn has_monetary(&self) -> bool {
        !self.monetary_value.is_empty()
    }

    /// Validates lengths and the BTYD rules: finite values, integer `frequency ≥ 0`,
    /// `0 ≤ recency ≤ t`, `t > 0`, `recency = 0` when `frequency = 0`, `monetary_value ≥ 0`.
    pub fn check(&self) -> Result<(), ClvError> {
        let n = self.len();
        for (column, len) in [("recency", self.recency.len()), ("t", self.t.len())] {
            if len != n {
                return Err(ClvError::LengthMismatch {
                    column,
                    expected: n,
                    found: len,
                });
            }
        }
        if self.has_monetary() && self.monetary_value.len() != n {
            return Err(ClvError::LengthMismatch {
                column: "monetary_value",
                expected: n,
                found: self.monetary_value.len(),
            });
        }
        let bad = |column, row, rule, value| ClvError::InvalidValue {
            column,
            row,
            rule,
            value,
        };
        for i in 0..n {
            let (x, tx, t) = (self.frequency[i], self.recency[i], self.t[i]);
            if !x.is_finite() || x < 0.0 || x != x.floor() {
                return Err(bad("frequency", i, "a non-negative integer", x));
            }
            if !tx.is_finite() || tx < 0.0 {
                return Err(bad("recency", i, "a finite non-negative time", tx));
            }
            if !t.is_finite() || t <= 0.0 {
                return Err(bad("t", i, "a finite positive time", t));
            }
            if tx > t + RECENCY_SLACK {
                return Err(bad("recency", i, "recency <= t", tx));
            }
            if x == 0.0 && tx != 0.0 {
                return Err(bad("recency", i, "0 when frequency is 0", tx));
            }
            if self.has_monetary() {
                let m = self.monetary_value[i];
                if !m.is_finite() || m < 0.0 {
                    return Err(bad("monetary_value", i, "a finite non-negative value", m));
                }
            }
        }
        Ok(())
    }
}

/// Unique `(frequency, recency, t)` triples with their customer counts (fields private so the
/// level codes cannot drift from the values; read them through the accessors).
///
/// The BG/NBD likelihood depends on a customer only through the triple, and with daily data the
/// number of distinct triples is bounded by (days)² × frequencies, so a million customers collapse
/// to a few ten thousand rows and every likelihood evaluation gets that much cheaper.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompressedSummaries {
    /// Frequency of each unique triple.
    pub(crate) frequency: Vec<f64>,
    /// Recency of each unique triple.
    pub(crate) recency: Vec<f64>,
    /// T of each unique triple.
    pub(crate) t: Vec<f64>,
    /// Number of customers sharing the triple.
    pub(crate) weight: Vec<f64>,
    /// Distinct recency values; `recency[i] == recency_levels[recency_code[i]]`. Lets the
    /// likelihood take one logarithm per distinct value instead of one per row.
    pub(crate) recency_levels: Vec<f64>,
    /// Level index of each row's recency.
    pub(crate) recency_code: Vec<u32>,
    /// Distinct T values; `t[i] == t_levels[t_code[i]]`.
    pub(crate) t_levels: Vec<f64>,
    /// Level index of each row's T.
    pub(crate) t_code: Vec<u32>,
}

/// Index of `v` among `levels`, adding it when new.
fn level(map: &mut HashMap<u64, u32>, levels: &mut Vec<f64>, v: f64) -> u32 {
    *map.entry(v.to_bits()).or_insert_with(|| {
        levels.push(v);
        (levels.len() - 1) as u32
    })
}

impl CompressedSummaries {
    /// Groups identical triples (bitwise-equal values), keeping first-seen order so the result is
    /// deterministic. Call [`CustomerSummaries::check`] first.
    pub fn from_summaries(s: &CustomerSummaries) -> Self {
        let mut index: HashMap<[u64; 3], usize> = HashMap::with_capacity(1024);
        let mut out = CompressedSummaries::default();
        let (mut rec_map, mut t_map) = (HashMap::new(), HashMap::new());
        for i in 0..s.len() {
            let key = [
                s.frequency[i].to_bits(),
                s.recency[i].to_bits(),
                s.t[i].to_bits(),
            ];
            match index.get(&key) {
                Some(&k) => out.weight[k] += 1.0,
                None => {
                    index.insert(key, out.weight.len());
                    out.frequency.push(s.frequency[i]);
                    out.recency.push(s.recency[i]);
                    out.t.push(s.t[i]);
                    out.weight.push(1.0);
                    let rc = level(&mut rec_map, &mut out.recency_levels, s.recency[i]);
                    out.recency_code.push(rc);
                    let tc = level(&mut t_map, &mut out.t_levels, s.t[i]);
                    out.t_code.push(tc);
                }
            }
        }
        out
    }

    /// Frequency of each unique triple.
    pub fn frequency(&self) -> &[f64] {
        &self.frequency
    }

    /// Recency of each unique triple.
    pub fn recency(&self) -> &[f64] {
        &self.recency
    }

    /// T of each unique triple.
    pub fn t(&self) -> &[f64] {
        &self.t
    }

    /// Customers per unique triple.
    pub fn weight(&self) -> &[f64] {
        &self.weight
    }

    /// Number of unique triples.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// Total number of customers represented.
    pub fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &[f64], tx: &[f64], t: &[f64]) -> CustomerSummaries {
        CustomerSummaries {
            frequency: x.to_vec(),
            recency: tx.to_vec(),
            t: t.to_vec(),
            monetary_value: vec![],
        }
    }

    #[test]
    fn check_rejects_rule_violations() {
        assert!(s(&[0.0, 2.0], &[0.0, 3.0], &[5.0, 5.0]).check().is_ok());
        let e = s(&[1.5], &[1.0], &[2.0]).check().unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidValue {
                column: "frequency",
                row: 0,
                ..
            }
        ));
        let e = s(&[1.0], &[3.0], &[2.0]).check().unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidValue {
                column: "recency",
                ..
            }
        ));
        let e = s(&[0.0], &[1.0], &[2.0]).check().unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidValue {
                column: "recency",
                ..
            }
        ));
        let e = s(&[0.0], &[0.0], &[0.0]).check().unwrap_err();
        assert!(matches!(e, ClvError::InvalidValue { column: "t", .. }));
        let e = s(&[0.0, 1.0], &[0.0], &[1.0, 1.0]).check().unwrap_err();
        assert!(matches!(
            e,
            ClvError::LengthMismatch {
                column: "recency",
                expected: 2,
                found: 1
            }
        ));
        let mut m = s(&[1.0], &[1.0], &[2.0]);
        m.monetary_value = vec![-1.0];
        assert!(m.check().is_err());
    }

    #[test]
    fn compression_groups_identical_triples() {
        let c = CompressedSummaries::from_summaries(&s(
            &[0.0, 1.0, 0.0, 1.0, 1.0],
            &[0.0, 2.0, 0.0, 2.0, 3.0],
            &[5.0, 5.0, 5.0, 5.0, 5.0],
        ));
        assert_eq!(c.len(), 3);
        assert_eq!(c.weight, vec![2.0, 2.0, 1.0]);
        assert_eq!(c.recency, vec![0.0, 2.0, 3.0]);
        assert_eq!(c.total_weight(), 5.0);
        assert_eq!(c.t_levels, vec![5.0]);
        assert_eq!(c.t_code, vec![0, 0, 0]);
        assert_eq!(c.recency_levels, vec![0.0, 2.0, 3.0]);
        assert_eq!(c.recency_code, vec![0, 1, 2]);
    }
}
