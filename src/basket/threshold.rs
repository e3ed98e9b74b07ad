//! Thresholds as exact decimal fractions: `--min-confidence 0.8` is 8/10, not the float nearest
//! 0.8, so a rule at exactly 4/5 passes (a float comparison of 4/5 with 0.8 can go either way:
//! mlxtend loses four of arules' 410 Groceries rules to it).

use std::fmt;
use std::str::FromStr;

use super::BasketError;

/// Decimals kept: counts times the denominator stay far inside `u128`.
const MAX_DECIMALS: u32 = 12;

/// A non-negative decimal number held as `num / den` (`den` a power of ten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    num: u128,
    den: u128,
}

impl Threshold {
    pub const ZERO: Threshold = Threshold { num: 0, den: 1 };

    /// The threshold `num / den` (for code; users write decimals).
    pub fn ratio(num: u64, den: u64) -> Threshold {
        Threshold {
            num: num.into(),
            den: den.max(1).into(),
        }
    }

    /// Whether `part / whole ≥ self`, exactly (`whole` = 0 passes only a zero threshold).
    pub fn admits(self, part: u64, whole: u64) -> bool {
        u128::from(part) * self.den >= self.num * u128::from(whole)
    }

    /// Whether `a·b / (c·d) ≥ self`, exactly (lift: count·n / (antecedent · consequent)).
    pub fn admits_product(self, a: u64, b: u64, c: u64, d: u64) -> bool {
        let (top, bottom) = (u128::from(a) * u128::from(b), u128::from(c) * u128::from(d));
        // top·den ≥ num·bottom without overflow: both sides fit while counts stay below 2^32.
        top.checked_mul(self.den)
            .zip(self.num.checked_mul(bottom))
            .map_or_else(
                || top as f64 / bottom as f64 >= self.value(),
                |(l, r)| l >= r,
            )
    }

    /// The smallest count `c` with `c / whole ≥ self`.
    pub fn min_count(self, whole: u64) -> u64 {
        let need = self.num * u128::from(whole);
        need.div_ceil(self.den) as u64
    }

    pub fn value(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Whether the threshold is at most 1 (supports and confidences).
    pub fn is_share(self) -> bool {
        self.num <= self.den
    }
}

impl FromStr for Threshold {
    type Err = BasketError;

    /// A plain decimal: `0.8`, `.001`, `2`, `1.5`.
    fn from_str(s: &str) -> Result<Threshold, BasketError> {
        let bad = || BasketError::BadThreshold {
            value: s.to_string(),
        };
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty())
            || !digits(whole)
            || !digits(frac)
            || frac.len() as u32 > MAX_DECIMALS
            || whole.len() > 12
        {
            return Err(bad());
        }
        let den = 10u128.pow(frac.len() as u32);
        let parse = |d: &str| {
            if d.is_empty() {
                Ok(0)
            } else {
                d.parse::<u128>()
            }
        };
        let num = parse(whole).map_err(|_| bad())? * den + parse(frac).map_err(|_| bad())?;
        Ok(Threshold { num, den })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        let t: Threshold = "0.8".parse().unwrap();
        assert!(t.admits(4, 5));
        assert!(!t.admits(3_999_999, 5_000_000));
        assert!(t.admits(8, 10));
        let s: Threshold = ".001".parse().unwrap();
        assert_eq!(s.min_count(9_835), 10);
        assert_eq!("0.01".parse::<Threshold>().unwrap().min_count(9_835), 99);
        assert_eq!("0.01".parse::<Threshold>().unwrap().min_count(9_800), 98);
        assert!("2".parse::<Threshold>().unwrap().admits_product(2, 1, 1, 1));
        assert!(!"2.5"
            .parse::<Threshold>()
            .unwrap()
            .admits_product(2, 1, 1, 1));
    }

    #[test]
    fn anything_but_a_plain_decimal_is_refused() {
        for bad in ["", ".", "-0.1", "1e-3", "0.5x", "0,5", "0.1234567890123"] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad}");
        }
    }
}
