//! Reference distributions for drift checks and the population stability index.
//!
//! Bins: interior edges are the training deciles (10 %, …, 90 %, by the "lower" rule: the sorted
//! value at index ⌊q·(n−1)⌋), with duplicates and edges equal to the training maximum removed, so
//! a binary feature gets the single edge 0. Bin k holds values in `(e_{k−1}, e_k]`, the first bin
//! starts at −∞ and the last ends at +∞. NaN values are left out of both the reference shares and
//! the PSI (missingness drift shows in the `_missing` indicators' own distributions).
//!
//! The feature references of a large training matrix are taken from an evenly spaced,
//! fixed sample of its rows (every k-th row, at least [`REFERENCE_ROWS`]): deciles and
//! shares from a quarter of a million rows are within a fraction of a percent of the full
//! ones, far below any PSI threshold, at a fraction of the cost (56 columns × 2.2M rows took
//! 1.3 s of a 6 s fit).

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::error::{model_rule, ModelsError, Result};

/// Shares below this count as this in the PSI, so an empty bin adds a large but finite term.
pub const PSI_EPSILON: f64 = 1e-4;

/// Matrix columns per parallel task when copying columns out: each task then reads one or two
/// cache lines of every row, so the whole matrix is read about once, not once per column.
const GATHER_COLUMNS: usize = 8;

/// Rows a feature reference reads at least (all of them below twice this).
pub const REFERENCE_ROWS: usize = 256 * 1024;

/// Rows per parallel task when binning a matrix; the counts are integers, so the result does not
/// depend on how the rows are split.
const BIN_ROWS: usize = 8192;

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

impl Distribution {
    /// The rules of a saved reference (`at`: its place in the file): finite, strictly increasing
    /// edges and one share in [0, 1] per bin.
    pub fn check_fitted(&self, at: &str) -> Result<()> {
        model_rule(
            self.edges.iter().all(|e| e.is_finite()) && self.edges.windows(2).all(|w| w[0] < w[1]),
            || format!("{at}.edges"),
            "finite, strictly increasing edges",
            format!("{:?}", self.edges),
        )?;
        model_rule(
            self.shares.len() == self.edges.len() + 1
                && self.shares.iter().all(|s| (0.0..=1.0).contains(s)),
            || format!("{at}.shares"),
            "one share in [0, 1] per bin (edges + 1)",
            format!("{:?}", self.shares),
        )
    }
}

/// Bin index of `v` for the given interior edges.
fn bin_of(edges: &[f64], v: f64) -> usize {
    // Edges are ascending, so the bin is the count of edges below `v`: for the usual ten or so
    // edges a branch-free count beats a binary search, whose every step is a coin flip to the
    // branch predictor (a million rows × 56 inputs of them were most of `score`).
    if edges.len() <= 32 {
        edges.iter().map(|&e| usize::from(e < v)).sum()
    } else {
        edges.partition_point(|&e| e < v)
    }
}

/// Shares of the non-NaN values in each bin.
pub fn bin_shares(values: ArrayView1<'_, f64>, edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    for v in values.iter().copied().filter(|v| !v.is_nan()) {
        counts[bin_of(edges, v)] += 1;
    }
    shares_of_counts(&counts)
}

fn shares_of_counts(counts: &[usize]) -> Vec<f64> {
    let n: usize = counts.iter().sum();
    counts
        .iter()
        .map(|&c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
        .collect()
}

/// An integer whose order is `f64::total_cmp`'s order (the same bit trick), so the selections
/// below compare plain integers.
fn order_key(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Inverse of [`order_key`] (the trick is its own inverse).
fn from_order_key(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

/// Reference distribution of `values` (see the module doc for the edge rule).
pub fn distribution(name: &str, values: ArrayView1<'_, f64>) -> Distribution {
    let mut keys: Vec<i64> = values
        .iter()
        .filter(|v| !v.is_nan())
        .map(|&v| order_key(v))
        .collect();
    distribution_of_keys(name, &mut keys)
}

/// [`distribution`] of each named column of a row-major matrix, in the given order, over every
/// row, or every k-th row of a matrix of at least twice [`REFERENCE_ROWS`] rows (module doc).
pub fn column_distributions(
    x: ArrayView2<'_, f64>,
    columns: &[(&str, usize)],
) -> Vec<Distribution> {
    // A column of a row-major matrix is a strided read that touches one cache line per value:
    // reading tens of columns one by one would read the matrix tens of times. Each task copies a
    // few neighbouring columns in one pass over the rows instead.
    let stride = (x.nrows() / REFERENCE_ROWS).max(1);
    columns
        .par_chunks(GATHER_COLUMNS)
        .flat_map_iter(|group| {
            let mut keys: Vec<Vec<i64>> = group
                .iter()
                .map(|_| Vec::with_capacity(x.nrows() / stride + 1))
                .collect();
            for row in x.rows().into_iter().step_by(stride) {
                for (k, &(_, j)) in keys.iter_mut().zip(group) {
                    let v = row[j];
                    if !v.is_nan() {
                        k.push(order_key(v));
                    }
                }
            }
            group
                .iter()
                .zip(keys)
                .map(|(&(name, _), mut k)| distribution_of_keys(name, &mut k))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The distribution of the non-NaN values given as order keys (reordered in place).
fn distribution_of_keys(name: &str, keys: &mut [i64]) -> Distribution {
    let n = keys.len();
    let Some(&max) = keys.iter().max() else {
        return Distribution {
            name: name.to_string(),
            edges: Vec::new(),
            shares: vec![0.0],
        };
    };
    let deciles = select_deciles(keys);
    // Kept edges: below the maximum and strictly increasing, with their position in `deciles`.
    let mut kept: Vec<usize> = Vec::new();
    for (d, &(_, e)) in deciles.iter().enumerate() {
        if e < max && kept.last().is_none_or(|&last| e > deciles[last].1) {
            kept.push(d);
        }
    }
    let mut counts = Vec::with_capacity(kept.len() + 1);
    let mut below = 0;
    for &d in &kept {
        let at_most = count_at_most(keys, &deciles, d);
        counts.push(at_most - below);
        below = at_most;
    }
    counts.push(n - below);
    Distribution {
        name: name.to_string(),
        edges: kept.iter().map(|&d| from_order_key(deciles[d].1)).collect(),
        shares: shares_of_counts(&counts),
    }
}

/// The nine deciles by the lower rule, as (sorted position, key), found by successive selections
/// rather than a full sort. Afterwards no key before a returned position is larger than the key
/// there and none after it is smaller; the positions only grow.
fn select_deciles(keys: &mut [i64]) -> Vec<(usize, i64)> {
    let n = keys.len();
    let mut deciles: Vec<(usize, i64)> = Vec::with_capacity(9);
    for k in 1..10 {
        let i = (k * (n - 1)) / 10;
        let e = match deciles.last() {
            Some(&(p, e)) if p == i => e,
            last => {
                let from = last.map_or(0, |&(p, _)| p + 1);
                *keys[from..].select_nth_unstable(i - from).1
            }
        };
        deciles.push((i, e));
    }
    deciles
}

/// How many keys are at most decile `d`'s key. Everything up to its position is; after it, only
/// keys equal to it, which lie before the next decile with a larger key (everything past that
/// one is larger). The ranges of successive kept edges do not overlap, so all the counts of one
/// distribution scan the keys at most once.
fn count_at_most(keys: &[i64], deciles: &[(usize, i64)], d: usize) -> usize {
    let (p, e) = deciles[d];
    let end = deciles[d..]
        .iter()
        .find(|&&(_, k)| k > e)
        .map_or(keys.len(), |&(q, _)| q);
    p + 1 + keys[p + 1..end].iter().filter(|&&k| k == e).count()
}

/// Population stability index `Σ (aₖ − eₖ)·ln(aₖ / eₖ)` of `actual_values` binned by `edges`
/// against the training `expected_shares`; shares below [`PSI_EPSILON`] are raised to it.
pub fn psi(
    expected_shares: &[f64],
    actual_values: ArrayView1<'_, f64>,
    edges: &[f64],
) -> Result<f64> {
    check_bins(expected_shares, edges)?;
    if actual_values.iter().all(|v| v.is_nan()) {
        return Err(no_values());
    }
    Ok(psi_of_shares(
        expected_shares,
        &bin_shares(actual_values, edges),
    ))
}

/// A column's drift reference: (column of the matrix, expected shares, bin edges).
pub type ColumnReference<'a> = (usize, &'a [f64], &'a [f64]);

/// [`psi`] of each chosen column of a row-major matrix, given as (column, expected shares,
/// edges), with the errors of [`psi`] per column, in one parallel pass over the rows (column by
/// column, each strided read would touch the whole matrix).
pub fn column_psi(x: ArrayView2<'_, f64>, columns: &[ColumnReference<'_>]) -> Vec<Result<f64>> {
    psi_of_counts(columns, &column_bin_counts(x, columns))
}

/// Per chosen column, the count of non-missing values in each bin of its edges: what
/// [`column_psi`] compares. Counts of blocks of rows add up to the counts of the whole.
pub fn column_bin_counts(
    x: ArrayView2<'_, f64>,
    columns: &[ColumnReference<'_>],
) -> Vec<Vec<usize>> {
    let zero: Vec<Vec<usize>> = columns.iter().map(|c| vec![0; c.2.len() + 1]).collect();
    let per_chunk: Vec<Vec<Vec<usize>>> = x
        .axis_chunks_iter(ndarray::Axis(0), BIN_ROWS)
        .into_par_iter()
        .map(|chunk| {
            let mut counts = zero.clone();
            for row in chunk.rows() {
                for (c, &(j, _, edges)) in counts.iter_mut().zip(columns) {
                    let v = row[j];
                    if !v.is_nan() {
                        c[bin_of(edges, v)] += 1;
                    }
                }
            }
            counts
        })
        .collect();
    let mut counts = zero;
    for part in per_chunk {
        add_counts(&mut counts, &part);
    }
    counts
}

/// Adds `part` (counts per column and bin) into `total`.
pub fn add_counts(total: &mut [Vec<usize>], part: &[Vec<usize>]) {
    for (t, c) in total.iter_mut().zip(part) {
        for (t, v) in t.iter_mut().zip(c) {
            *t += v;
        }
    }
}

/// [`column_psi`] from the bin counts of [`column_bin_counts`].
pub fn psi_of_counts(columns: &[ColumnReference<'_>], counts: &[Vec<usize>]) -> Vec<Result<f64>> {
    columns
        .iter()
        .zip(counts)
        .map(|(&(_, expected, edges), c)| {
            check_bins(expected, edges)?;
            if c.iter().all(|&v| v == 0) {
                return Err(no_values());
            }
            Ok(psi_of_shares(expected, &shares_of_counts(c)))
        })
        .collect()
}

fn check_bins(expected_shares: &[f64], edges: &[f64]) -> Result<()> {
    if expected_shares.len() != edges.len() + 1 {
        return Err(ModelsError::LengthMismatch {
            what: "expected shares vs bins (edges + 1)",
            expected: edges.len() + 1,
            found: expected_shares.len(),
        });
    }
    Ok(())
}

fn no_values() -> ModelsError {
    ModelsError::Empty {
        what: "no non-missing values to compare for the psi",
    }
}

fn psi_of_shares(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(PSI_EPSILON), a.max(PSI_EPSILON));
            (a - e) * (a / e).ln()
        })
        .sum()
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
    fn order_keys_sort_as_total_cmp_and_round_trip() {
        let mut v = vec![
            -f64::INFINITY,
            -1e300,
            -1.5,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            2.5,
            f64::MAX,
            f64::INFINITY,
        ];
        let keys: Vec<i64> = v.iter().map(|&x| order_key(x)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        v.reverse();
        for x in v {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
    }

    /// A row-major matrix whose columns have few levels, many levels, NaNs or only NaNs.
    fn mixed_matrix(n: usize) -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_fn((n, 11), |(i, j)| {
            let h = (i as u64 * 2_654_435_761 + j as u64 * 40_503) % 1_000;
            match j {
                0 => f64::NAN,
                1 if h % 7 == 0 => f64::NAN,
                2 => (h % 2) as f64,
                _ => h as f64 / (j as f64) - 300.0,
            }
        })
    }

    #[test]
    fn matrix_columns_give_the_single_column_results() {
        for n in [0usize, 1, 5, 20_000] {
            let x = mixed_matrix(n);
            let names: Vec<String> = (0..x.ncols()).map(|j| format!("c{j}")).collect();
            // Columns in another order than the matrix's, one of them twice.
            let columns: Vec<(&str, usize)> = [3usize, 0, 10, 1, 2, 4, 5, 6, 7, 8, 9, 3]
                .iter()
                .map(|&j| (names[j].as_str(), j))
                .collect();
            let all = column_distributions(x.view(), &columns);
            for (d, &(name, j)) in all.iter().zip(&columns) {
                assert_eq!(*d, distribution(name, x.column(j)), "n {n} column {j}");
            }
            let refs: Vec<(usize, &[f64], &[f64])> = all
                .iter()
                .zip(&columns)
                .map(|(d, &(_, j))| (j, d.shares.as_slice(), d.edges.as_slice()))
                .collect();
            // Against the other half of the rows, so the PSIs are not all zero.
            let half = x.slice(ndarray::s![n / 2.., ..]);
            for (p, &(j, shares, edges)) in column_psi(half, &refs).iter().zip(&refs) {
                match (p, psi(shares, half.column(j), edges)) {
                    (Ok(a), Ok(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("column {j}: {a:?} vs {b:?}"),
                }
            }
        }
        let x = mixed_matrix(10);
        let bad = column_psi(x.view(), &[(2, &[1.0][..], &[0.0][..])]);
        assert!(matches!(bad[0], Err(ModelsError::LengthMismatch { .. })));
    }

    /// A large matrix's references come from every k-th row, and stay close to the full ones.
    #[test]
    fn large_matrices_use_an_evenly_spaced_sample() {
        let n = 2 * REFERENCE_ROWS + 3;
        let x =
            ndarray::Array2::from_shape_fn((n, 2), |(i, j)| ((i * 7919 + j * 31) % 10_007) as f64);
        let all = column_distributions(x.view(), &[("a", 0), ("b", 1)]);
        for (d, j) in all.iter().zip([0usize, 1]) {
            let every_other: Array1<f64> = x.column(j).iter().step_by(2).copied().collect();
            assert_eq!(*d, distribution(d.name.as_str(), every_other.view()));
            let full = distribution("full", x.column(j));
            for (s, f) in d.shares.iter().zip(&full.shares) {
                assert!((s - f).abs() < 0.002, "share {s} vs {f}");
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
