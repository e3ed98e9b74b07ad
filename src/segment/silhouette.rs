//! Silhouette score on a seeded row sample, used to choose k.
//!
//! The exact silhouette is O(n²); on a sample of `m` rows (default 10,000) it costs m² distance
//! evaluations, shared between both cores, and the same sample serves every candidate k so the
//! scores are comparable.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

/// Sorted row indices of a seeded sample of at most `m` rows (all rows when `n <= m`).
pub fn sample_rows(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if n <= m {
        return (0..n).collect();
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut idx = rand::seq::index::sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    idx
}

/// Mean silhouette (Euclidean) of the rows `sample` of `x` with labels `labels` (indexed like
/// `x`'s rows). As in scikit-learn a point alone in its cluster scores 0. Returns `None` when the
/// sample holds fewer than two clusters, or when a sample index or a label is out of range.
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize], k: usize, sample: &[usize]) -> Option<f64> {
    let n = x.nrows().min(labels.len());
    if sample.iter().any(|&i| i >= n || labels[i] >= k) {
        return None;
    }
    let mut counts = vec![0usize; k];
    for &i in sample {
        counts[labels[i]] += 1;
    }
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        return None;
    }
    let total: f64 = sample
        .par_iter()
        .map_init(
            || vec![0.0; k],
            |sums, &i| {
                sums.iter_mut().for_each(|s| *s = 0.0);
                let xi = x.row(i);
                for &j in sample {
                    if j != i {
                        let d: f64 = xi
                            .iter()
                            .zip(x.row(j).iter())
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum();
                        sums[labels[j]] += d.sqrt();
                    }
                }
                let own = labels[i];
                if counts[own] <= 1 {
                    return 0.0;
                }
                let a = sums[own] / (counts[own] - 1) as f64;
                let b = (0..k)
                    .filter(|&c| c != own && counts[c] > 0)
                    .map(|c| sums[c] / counts[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                let den = a.max(b);
                if den > 0.0 {
                    (b - a) / den
                } else {
                    0.0
                }
            },
        )
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    Some(total / sample.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed_silhouette() {
        // 1-D points 0, 1 | 4 with labels 0, 0, 1.
        // p0: a = 1, b = 4 → 0.75; p1: a = 1, b = 3 → 2/3; p2: singleton → 0.
        let x = array![[0.0], [1.0], [4.0]];
        let s = silhouette(x.view(), &[0, 0, 1], 2, &[0, 1, 2]).unwrap();
        assert!((s - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!(silhouette(x.view(), &[0, 0, 0], 2, &[0, 1, 2]).is_none());
    }

    #[test]
    fn sample_is_seeded_and_sorted() {
        let a = sample_rows(1000, 10, 7);
        assert_eq!(a, sample_rows(1000, 10, 7));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_rows(5, 10, 7), vec![0, 1, 2, 3, 4]);
    }
}
