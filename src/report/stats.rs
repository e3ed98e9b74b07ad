//! Small deterministic statistics for the report: quantiles and fixed bins.

use super::model::Bin;

/// Quantile `q` of ascending, finite `sorted` values by linear interpolation (numpy's default);
/// 0 for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let i = pos.floor() as usize;
            let frac = pos - i as f64;
            if i + 1 < n {
                sorted[i] + (sorted[i + 1] - sorted[i]) * frac
            } else {
                sorted[n - 1]
            }
        }
    }
}

/// `k` equal-width bins over `[lo, hi]` (a degenerate range becomes `[lo, lo + 1]`) and the count
/// of values above `hi`; values below `lo` go to the first bin.
pub fn bins(values: &[f64], lo: f64, hi: f64, k: usize) -> (Vec<Bin>, usize) {
    let k = k.max(1);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let width = (hi - lo) / k as f64;
    let mut counts = vec![0usize; k];
    let mut overflow = 0;
    for &v in values {
        if v > hi {
            overflow += 1;
        } else {
            let i = (((v - lo) / width).floor().max(0.0) as usize).min(k - 1);
            counts[i] += 1;
        }
    }
    let bins = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            lo: lo + width * i as f64,
            hi: if i + 1 == k {
                hi
            } else {
                lo + width * (i + 1) as f64
            },
            count,
        })
        .collect();
    (bins, overflow)
}

/// `k` bins of width `1/k` over `[0, 1]` (values are clamped into it).
pub fn unit_bins(values: &[f64], k: usize) -> Vec<Bin> {
    let clamped: Vec<f64> = values.iter().map(|v| v.clamp(0.0, 1.0)).collect();
    bins(&clamped, 0.0, 1.0, k).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert!((quantile_sorted(&v, 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[], 0.5), 0.0);
    }

    #[test]
    fn bins_count_everything_once() {
        let v = [0.0, 0.5, 1.0, 9.99, 10.0, 11.0, -1.0];
        let (b, over) = bins(&v, 0.0, 10.0, 10);
        assert_eq!(over, 1);
        assert_eq!(b.iter().map(|b| b.count).sum::<usize>() + over, v.len());
        assert_eq!(b[0].count, 3); // -1, 0, 0.5
        assert_eq!(b[9].count, 2); // 9.99 and 10 (the last bin is closed)
        assert_eq!(b[9].hi, 10.0);
        let u = unit_bins(&[0.0, 0.05, 0.95, 1.0], 10);
        assert_eq!(u[0].count, 2);
        assert_eq!(u[9].count, 2);
    }
}
