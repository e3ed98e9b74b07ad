//! Holdout splits (the `--holdout` choice lives in `training::HoldoutChoice`). Every
//! split returns a mask with `true` = test (holdout) row.
//!
//! - [`fraction_split`]: exactly `round(f·n)` rows drawn without replacement by a seeded shuffle.
//! - [`column_split`]: the caller's 0/1 mask, used as given (1 = test).
//! - [`time_split`]: rows of the latest dates form the test set. Dates are never split: the cutoff is the
//!   date `c` for which the share of rows with `date ≥ c` is closest to `f` (the later date wins a
//!   tie), keeping at least one date on each side, so the test share is only *about* `f` when
//!   many rows share a date.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use crate::models::error::{ModelsError, Result};

fn check_fraction(fraction: f64) -> Result<()> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(ModelsError::InvalidParam {
            name: "fraction",
            expected: "a number strictly between 0 and 1",
            found: fraction.to_string(),
        });
    }
    Ok(())
}

fn check_both_sides(mask: &[bool]) -> Result<()> {
    let test = mask.iter().filter(|&&m| m).count();
    if test == 0 || test == mask.len() {
        return Err(ModelsError::SingleClass {
            what: "holdout split (train and test both need rows)",
            found: if test == 0 { "train only" } else { "test only" }.into(),
        });
    }
    Ok(())
}

/// Seeded random split of `n` rows with exactly `round(fraction·n)` test rows.
pub fn fraction_split(n: usize, fraction: f64, seed: u64) -> Result<Vec<bool>> {
    check_fraction(fraction)?;
    let k = (fraction * n as f64).round() as usize;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut Xoshiro256Plus::seed_from_u64(seed));
    let mut mask = vec![false; n];
    for &i in &idx[..k.min(n)] {
        mask[i] = true;
    }
    check_both_sides(&mask)?;
    Ok(mask)
}

/// The caller's 0/1 column as a mask (1 = test); values other than 0/1 are an error.
pub fn column_split(values: &[f64]) -> Result<Vec<bool>> {
    let mask = values
        .iter()
        .enumerate()
        .map(|(row, &v)| match v {
            1.0 => Ok(true),
            0.0 => Ok(false),
            _ => Err(ModelsError::NotBinary {
                what: "holdout flag",
                row,
                found: v,
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    check_both_sides(&mask)?;
    Ok(mask)
}

/// Latest dates as the test set, about `fraction` of the rows (dates are never split).
pub fn time_split<T: Ord + Copy>(dates: &[T], fraction: f64) -> Result<Vec<bool>> {
    check_fraction(fraction)?;
    let n = dates.len();
    let mut sorted: Vec<T> = dates.to_vec();
    sorted.sort_unstable();
    // Distinct dates with the count of rows at or after each.
    let mut cutoffs: Vec<(T, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        cutoffs.push((sorted[i], n - i));
        let d = sorted[i];
        while i < n && sorted[i] == d {
            i += 1;
        }
    }
    if cutoffs.len() < 2 {
        return Err(ModelsError::SingleClass {
            what: "time split (needs at least two distinct dates)",
            found: format!("{} distinct date(s)", cutoffs.len()),
        });
    }
    let target = fraction * n as f64;
    // Skip the earliest date: it would put every row in the test set.
    let mut best = cutoffs[1];
    for &(d, at_or_after) in &cutoffs[1..] {
        if (at_or_after as f64 - target).abs() <= (best.1 as f64 - target).abs() {
            best = (d, at_or_after);
        }
    }
    Ok(dates.iter().map(|d| *d >= best.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_exact_and_seeded() {
        let a = fraction_split(1000, 0.2, 7).unwrap();
        assert_eq!(a.iter().filter(|&&m| m).count(), 200);
        assert_eq!(a, fraction_split(1000, 0.2, 7).unwrap());
        assert_ne!(a, fraction_split(1000, 0.2, 8).unwrap());
        assert!(fraction_split(10, 1.0, 1).is_err());
    }

    #[test]
    fn time_split_takes_latest_whole_dates() {
        // 10 rows on dates 1..=4 with counts 4, 3, 2, 1; 30 % → dates ≥ 3 (3 rows) exactly.
        let dates = [1, 1, 1, 1, 2, 2, 2, 3, 3, 4];
        let m = time_split(&dates, 0.3).unwrap();
        assert_eq!(
            m,
            vec![false, false, false, false, false, false, false, true, true, true]
        );
        // 50 % → closest is dates ≥ 2 (6 rows, |6−5| = 1) vs ≥ 3 (3 rows, 2).
        let m = time_split(&dates, 0.5).unwrap();
        assert_eq!(m.iter().filter(|&&v| v).count(), 6);
        // 95 % never takes every row: the earliest date stays in training.
        let m = time_split(&dates, 0.95).unwrap();
        assert_eq!(m.iter().filter(|&&v| v).count(), 6);
        assert!(time_split(&[5, 5], 0.5).is_err());
    }

    #[test]
    fn column_split_validates() {
        assert_eq!(column_split(&[0.0, 1.0]).unwrap(), vec![false, true]);
        assert!(column_split(&[0.0, 2.0]).is_err());
        assert!(column_split(&[1.0, 1.0]).is_err());
    }
}
