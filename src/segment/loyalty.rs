//! Spend × loyalty grid.
//!
//! Heavy means `monetary_total` strictly above the split (default: the median, so customers
//! exactly at the median are light and a population with half its customers tied at the median
//! is not pushed into "heavy"); loyal means `frequency >= min_frequency` (default 2, i.e. a repeat
//! customer).

use serde::{Deserialize, Serialize};

use crate::segment::error::{Result, SegmentError};

/// Quadrant of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyQuadrant {
    /// Above the spend split and a repeat customer.
    HeavyLoyal,
    /// Above the spend split, below the frequency threshold.
    HeavyOccasional,
    /// At or below the spend split, repeat customer.
    LightLoyal,
    /// At or below the spend split, below the frequency threshold.
    LightOccasional,
}

impl LoyaltyQuadrant {
    /// All quadrants, heavy first.
    pub const ALL: [LoyaltyQuadrant; 4] = [
        Self::HeavyLoyal,
        Self::HeavyOccasional,
        Self::LightLoyal,
        Self::LightOccasional,
    ];

    /// Snake-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HeavyLoyal => "heavy_loyal",
            Self::HeavyOccasional => "heavy_occasional",
            Self::LightLoyal => "light_loyal",
            Self::LightOccasional => "light_occasional",
        }
    }
}

/// Where heavy spend starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum SpendSplit {
    /// The median of `monetary_total` (mean of the two middle values for even n).
    Median,
    /// A quantile in (0, 1), linear interpolation between order statistics (numpy's default).
    Quantile(f64),
    /// A fixed amount.
    Fixed(f64),
}

/// Grid settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyParams {
    /// Default [`SpendSplit::Median`].
    pub spend_split: SpendSplit,
    /// Smallest frequency counted as loyal. Default 2.
    pub min_frequency: f64,
}

impl Default for LoyaltyParams {
    fn default() -> Self {
        Self {
            spend_split: SpendSplit::Median,
            min_frequency: 2.0,
        }
    }
}

impl LoyaltyParams {
    /// Quantile in (0, 1); finite fixed split and frequency threshold.
    pub fn check(&self) -> Result<()> {
        match self.spend_split {
            SpendSplit::Quantile(q) if !(q > 0.0 && q < 1.0) => {
                return Err(SegmentError::InvalidParam {
                    param: "loyalty.spend_split",
                    rule: "a quantile strictly between 0 and 1",
                    found: q.to_string(),
                })
            }
            SpendSplit::Fixed(v) if !v.is_finite() => {
                return Err(SegmentError::InvalidParam {
                    param: "loyalty.spend_split",
                    rule: "a finite fixed amount",
                    found: v.to_string(),
                })
            }
            _ => {}
        }
        if !self.min_frequency.is_finite() {
            return Err(SegmentError::InvalidParam {
                param: "loyalty.min_frequency",
                rule: "a finite number",
                found: self.min_frequency.to_string(),
            });
        }
        Ok(())
    }
}

/// Linear-interpolation quantile of `values` (NaN when empty).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Grid quadrant per customer, plus the spend split actually used.
pub fn loyalty_grid(
    monetary: &[f64],
    frequency: &[f64],
    p: &LoyaltyParams,
) -> Result<(Vec<LoyaltyQuadrant>, f64)> {
    p.check()?;
    if monetary.is_empty() {
        return Err(SegmentError::Empty);
    }
    if monetary.len() != frequency.len() {
        return Err(SegmentError::Malformed {
            expected: format!("{} frequency values", monetary.len()),
            found: format!("{}", frequency.len()),
        });
    }
    let split = match p.spend_split {
        SpendSplit::Median => quantile(monetary, 0.5),
        SpendSplit::Quantile(q) => quantile(monetary, q),
        SpendSplit::Fixed(v) => v,
    };
    let grid = monetary
        .iter()
        .zip(frequency)
        .map(|(&m, &f)| match (m > split, f >= p.min_frequency) {
            (true, true) => LoyaltyQuadrant::HeavyLoyal,
            (true, false) => LoyaltyQuadrant::HeavyOccasional,
            (false, true) => LoyaltyQuadrant::LightLoyal,
            (false, false) => LoyaltyQuadrant::LightOccasional,
        })
        .collect();
    Ok((grid, split))
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoyaltyQuadrant::*;

    #[test]
    fn median_split_and_repeat_rule() {
        let m = [10.0, 20.0, 30.0, 40.0];
        let f = [1.0, 3.0, 1.0, 2.0];
        let (g, split) = loyalty_grid(&m, &f, &LoyaltyParams::default()).unwrap();
        assert_eq!(split, 25.0);
        assert_eq!(
            g,
            vec![LightOccasional, LightLoyal, HeavyOccasional, HeavyLoyal]
        );
    }

    #[test]
    fn at_median_is_light() {
        let (g, split) =
            loyalty_grid(&[1.0, 2.0, 3.0], &[1.0; 3], &LoyaltyParams::default()).unwrap();
        assert_eq!(split, 2.0);
        assert_eq!(g[1], LightOccasional);
        assert_eq!(g[2], HeavyOccasional);
    }

    #[test]
    fn configurable_thresholds() {
        let p = LoyaltyParams {
            spend_split: SpendSplit::Fixed(5.0),
            min_frequency: 3.0,
        };
        let (g, _) = loyalty_grid(&[5.0, 6.0], &[2.0, 3.0], &p).unwrap();
        assert_eq!(g, vec![LightOccasional, HeavyLoyal]);
        assert_eq!(quantile(&[0.0, 10.0], 0.25), 2.5);
        let bad = LoyaltyParams {
            spend_split: SpendSplit::Quantile(1.0),
            ..p
        };
        assert!(bad.check().is_err());
    }
}
