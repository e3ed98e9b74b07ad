//! Reference distributions for drift checks and the population stability index.
//!
//! Bins: interior edges are the training deciles (10 %, …, 90 %, by the "lower" rule: the sorted
//! value at index ⌊q·(n−1)⌋), with duplicates and edges equal to the training maximum removed, so
//! a binary feature gets the single edge 0. Bin k holds values in `(e_{k−1}, e_k]`, the first bin
//! starts at −∞ and the last ends at +∞. NaN values are left out of both the reference shares and
//! the PSI (missingness drift shows in the `_missing` indicators' own distributions).

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::models::error::{ModelsError, Result};

/// Shares below this count as this in the PSI, so an empty bin adds a large but finite term.
pub const PSI_EPSILON: f64 = 1e-4;

/// Decile-binned distribution of one variable in the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Variable (feature name, or `score`).
    pub name: String,
    /// Interior bin edges, strictly increasing.
    pub edges: Vec<f64>,
    /// Share of training values in each of the `edges.len() + 1` bins.
    pub shares: Vec<f64>,
}

/// Bin index of `v` for the given interior edges.
fn bin_of(edges: &[f64], v: f64) -> usize {
    edges.partition_point(|&e| e < v)
}

/// Shares of the non-NaN values in each bin.
pub fn bin_shares(values: ArrayView1<'_, f64>, edges: &[f64]) -> Vec<f64> {
    shares_of(values.iter().copied().filter(|v| !v.is_nan()), edges)
}

fn shares_of(values: impl Iterator<Item = f64>, edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    let mut n = 0usize;
    for v in values {
        counts[bin_of(edges, v)] += 1;
        n += 1;
    }
    counts
        .into_iter()
        .map(|c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
        .collect()
}

/// Reference distribution of `values` (see the module doc for the edge rule).
pub fn distribution(name: &str, values: ArrayView1<'_, f64>) -> Distribution {
    // One copy of the column (a strided read when it is a matrix column); the deciles are order
    // statistics, found by successive selections rather than a full sort.
    let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let mut edges: Vec<f64> = Vec::new();
    if let Some(max) = present.iter().copied().max_by(f64::total_cmp) {
        let n = present.len();
        // Once `placed` is Some(p), present[p] is the p-th smallest value, with no larger value
        // before it and no smaller one after it; the indices only grow.
        let mut placed: Option<usize> = None;
        for k in 1..10 {
            let i = (k * (n - 1)) / 10;
            let e = match placed {
                Some(p) if p == i => present[p],
                _ => {
                    let from = placed.map_or(0, |p| p + 1);
                    let (_, e, _) =
                        present[from..].select_nth_unstable_by(i - from, f64::total_cmp);
                    let e = *e;
                    placed = Some(i);
                    e
                }
            };
            if e < max && edges.last().is_none_or(|&last| e > last) {
                edges.push(e);
            }
        }
    }
    let shares = shares_of(present.iter().copied(), &edges);
    Distribution {
        name: name.to_string(),
        edges,
        shares,
    }
}

/// Population stability index `Σ (aₖ − eₖ)·ln(aₖ / eₖ)` of `actual_values` binned by `edges`
/// against the training `expected_shares`; shares below [`PSI_EPSILON`] are raised to it.
pub fn psi(
    expected_shares: &[f64],
    actual_values: ArrayView1<'_, f64>,
    edges: &[f64],
) -> Result<f64> {
    if expected_shares.len() != edges.len() + 1 {
        return Err(ModelsError::LengthMismatch {
            what: "expected shares vs bins (edges + 1)",
            expected: edges.len() + 1,
            found: expected_shares.len(),
        });
    }
    if actual_values.iter().all(|v| v.is_nan()) {
        return Err(ModelsError::Empty {
            what: "no non-missing values to compare for the psi",
        });
    }
    let actual = bin_shares(actual_values, edges);
    Ok(expected_shares
        .iter()
        .zip(&actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(PSI_EPSILON), a.max(PSI_EPSILON));
            (a - e) * (a / e).ln()
        })
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    /// The definition: deciles of the sorted values, then the shares.
    fn by_sorting(values: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = Vec::new();
        if let Some(&max) = sorted.last() {
            let n = sorted.len();
            for k in 1..10 {
                let e = sorted[(k * (n - 1)) / 10];
                if e < max && edges.last().is_none_or(|&last| e > last) {
                    edges.push(e);
                }
            }
        }
        let shares = bin_shares(ndarray::ArrayView1::from(values), &edges);
        (edges, shares)
    }

    #[test]
    fn deciles_by_selection_equal_deciles_by_sorting() {
        let mut state = 0x1234_5678_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [0usize, 1, 2, 3, 9, 10, 11, 57, 1000] {
            for levels in [2u64, 5, 1000] {
                let values: Vec<f64> = (0..n)
                    .map(|_| match next() % 50 {
                        0 => f64::NAN,
                        _ => (next() % levels) as f64 - 1.0,
                    })
                    .collect();
                let d = distribution("x", ndarray::ArrayView1::from(&values[..]));
                assert_eq!(
                    (d.edges, d.shares),
                    by_sorting(&values),
                    "n {n} levels {levels}"
                );
            }
        }
    }

    #[test]
    fn decile_edges_and_binary_feature() {
        let v: Array1<f64> = (1..=100).map(f64::from).collect();
        let d = distribution("x", v.view());
        // Lower rule: index ⌊k·99/10⌋ → 9, 19, …, 89 → values 10, 20, …, 90.
        assert_eq!(
            d.edges,
            (1..10).map(|k| f64::from(k * 10)).collect::<Vec<_>>()
        );
        assert!(d.shares.iter().all(|&s| (s - 0.1).abs() < 1e-12));
        let b = array![0.0, 0.0, 0.0, 1.0, f64::NAN];
        let d = distribution("b", b.view());
        assert_eq!(d.edges, vec![0.0]);
        assert_eq!(d.shares, vec![0.75, 0.25]);
    }

    #[test]
    fn psi_by_hand() {
        let edges = [0.0];
        let expected = [0.5, 0.5];
        let same = array![0.0, 1.0];
        assert_eq!(psi(&expected, same.view(), &edges).unwrap(), 0.0);
        // Actual shares 0.25 / 0.75: (−0.25)·ln(0.5) + 0.25·ln(1.5).
        let shifted = array![0.0, 1.0, 1.0, 1.0];
        let want = -0.25 * 0.5f64.ln() + 0.25 * 1.5f64.ln();
        assert!((psi(&expected, shifted.view(), &edges).unwrap() - want).abs() < 1e-15);
        // Empty bin uses the epsilon: a = 1e-4 for bin 0.
        let all_high = array![1.0, 1.0];
        let want = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + 0.5 * 2.0f64.ln();
        assert!((psi(&expected, all_high.view(), &edges).unwrap() - want).abs() < 1e-12);
        assert!(psi(&[1.0], same.view(), &edges).is_err());
    }
}
