//! Size and revenue summaries of clusters, segments and tiers.
//!
//! Revenue shares use the positive part of `monetary_total`, as in the Pareto table, so that
//! the shares of a partition sum to 1 even when some customers are net negative.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::types::FeatureMatrix;

/// Size and revenue of one named group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Group name (segment, tier, quadrant).
    pub name: String,
    /// Customers in the group.
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// Share of positive revenue, 0–1 (0 when there is no positive revenue).
    pub revenue_share: f64,
}

/// One cluster's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfile {
    /// Cluster index (row of the model's centroids).
    pub cluster: usize,
    /// Customers in the cluster.
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// Share of positive revenue, 0–1.
    pub revenue_share: f64,
    /// Mean of every feature-matrix column over the cluster, original units, as
    /// `(column, mean)` in matrix column order; NaN-free (an empty cluster has no profile).
    pub means: Vec<(String, f64)>,
}

fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        0.0
    }
}

/// Summaries of the groups named in `order` (groups absent from `order` are appended in
/// first-seen order; groups in `order` with no customers are listed with zero size).
pub fn group_summary(labels: &[&str], revenue: &[f64], order: &[&str]) -> Vec<GroupSummary> {
    let mut names: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    let mut counts = vec![0usize; names.len()];
    let mut rev = vec![0.0; names.len()];
    // One pass: a label's group found (or added, in order of first appearance) once per row.
    for (row, l) in labels.iter().enumerate() {
        let i = match names.iter().position(|n| n == l) {
            Some(i) => i,
            None => {
                names.push(l.to_string());
                counts.push(0);
                rev.push(0.0);
                names.len() - 1
            }
        };
        if let Some(r) = revenue.get(row) {
            counts[i] += 1;
            rev[i] += r.max(0.0);
        }
    }
    let n = labels.len() as f64;
    let total: f64 = rev.iter().sum();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| GroupSummary {
            name,
            customers: counts[i],
            customer_share: share(counts[i] as f64, n),
            revenue_share: share(rev[i], total),
        })
        .collect()
}

/// Profiles of clusters `0..k` from the labels and the original (untransformed) matrix;
/// `labels` and `revenue` are aligned with the matrix rows (extra entries are ignored, labels
/// `>= k` are skipped).
pub fn cluster_profiles(
    fm: &FeatureMatrix,
    labels: &[usize],
    k: usize,
    revenue: &[f64],
) -> Vec<ClusterProfile> {
    let d = fm.columns.len();
    let mut sums = ClusterSums::new(k, d, labels, revenue, fm.n_rows());
    // Row by row: the matrix is row-major.
    for (&c, row) in labels
        .iter()
        .zip(revenue)
        .map(|(c, _)| c)
        .zip(fm.values.rows())
    {
        if c < k {
            for (s, v) in sums.means[c * d..(c + 1) * d].iter_mut().zip(row) {
                *s += v;
            }
        }
    }
    sums.profiles(&fm.columns)
}

/// [`cluster_profiles`] of columns held apart from the matrix that was clustered (a feature
/// frame's own columns, not copied into one more matrix): the same sums, each added in row
/// order, so the same bits.
pub fn cluster_profiles_of_columns(
    names: &[String],
    columns: &[&[f64]],
    labels: &[usize],
    k: usize,
    revenue: &[f64],
) -> Vec<ClusterProfile> {
    let d = names.len();
    let rows = columns.first().map_or(labels.len(), |c| c.len());
    let mut sums = ClusterSums::new(k, d, labels, revenue, rows);
    // A column per task: each sum still starts at zero and adds its rows in order.
    let per_column: Vec<Vec<f64>> = columns
        .par_iter()
        .map(|column| {
            let mut s = vec![0.0; k];
            for (&c, v) in labels
                .iter()
                .zip(revenue)
                .map(|(c, _)| c)
                .zip(column.iter())
            {
                if c < k {
                    s[c] += v;
                }
            }
            s
        })
        .collect();
    for (j, column_sums) in per_column.iter().enumerate() {
        for (c, v) in column_sums.iter().enumerate() {
            sums.means[c * d + j] = *v;
        }
    }
    sums.profiles(names)
}

/// Per cluster: its size, positive revenue and (being summed) column totals.
struct ClusterSums {
    k: usize,
    d: usize,
    rows: usize,
    counts: Vec<usize>,
    revenue: Vec<f64>,
    /// `k × d`, cluster-major; sums until [`ClusterSums::profiles`] divides them.
    means: Vec<f64>,
}

impl ClusterSums {
    /// Sizes and revenue over the first `rows` labels (those with a row of values).
    fn new(k: usize, d: usize, labels: &[usize], revenue: &[f64], rows: usize) -> Self {
        let mut counts = vec![0usize; k];
        let mut rev = vec![0.0; k];
        for (&c, r) in labels.iter().zip(revenue).take(rows) {
            if c < k {
                counts[c] += 1;
                rev[c] += r.max(0.0);
            }
        }
        Self {
            k,
            d,
            rows: labels.len(),
            counts,
            revenue: rev,
            means: vec![0.0; k * d],
        }
    }

    fn profiles(self, names: &[String]) -> Vec<ClusterProfile> {
        let n = self.rows as f64;
        let total: f64 = self.revenue.iter().sum();
        (0..self.k)
            .map(|c| ClusterProfile {
                cluster: c,
                customers: self.counts[c],
                customer_share: share(self.counts[c] as f64, n),
                revenue_share: share(self.revenue[c], total),
                means: names
                    .iter()
                    .enumerate()
                    .map(|(j, name)| {
                        let m = if self.counts[c] > 0 {
                            self.means[c * self.d + j] / self.counts[c] as f64
                        } else {
                            0.0
                        };
                        (name.clone(), m)
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn group_summary_hand_computed() {
        let s = group_summary(
            &["a", "b", "a", "c"],
            &[10.0, 30.0, -5.0, 0.0],
            &["b", "a", "z"],
        );
        let got: Vec<(&str, usize, f64, f64)> = s
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.customers,
                    g.customer_share,
                    g.revenue_share,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("b", 1, 0.25, 0.75),
                ("a", 2, 0.5, 0.25),
                ("z", 0, 0.0, 0.0),
                ("c", 1, 0.25, 0.0)
            ]
        );
    }

    #[test]
    fn cluster_profile_means_in_original_units() {
        let fm = FeatureMatrix {
            ids: vec!["x".into(), "y".into(), "z".into()],
            columns: vec!["monetary_total".into(), "frequency".into()],
            values: array![[10.0, 1.0], [30.0, 3.0], [60.0, 2.0]],
        };
        let p = cluster_profiles(&fm, &[0, 0, 1], 2, &[10.0, 30.0, 60.0]);
        assert_eq!(p[0].customers, 2);
        assert_eq!(
            p[0].means,
            vec![("monetary_total".into(), 20.0), ("frequency".into(), 2.0)]
        );
        assert_eq!(p[0].revenue_share, 0.4);
        assert_eq!(p[1].revenue_share, 0.6);
    }

    /// Profiles from columns held apart are the bits of the profiles from the row-major
    /// matrix: sums of values of many magnitudes (where the order of additions shows), a label
    /// past `k`, an empty cluster.
    #[test]
    fn profiles_of_columns_are_the_bits_of_the_matrix_profiles() {
        let n: usize = 1000;
        let a: Vec<f64> = (0..n)
            .map(|i| (i as f64 * 0.37).sin() * 1e6_f64.powi((i % 3) as i32))
            .collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let labels: Vec<usize> = (0..n).map(|i| (i * 7 % 5) % 4).collect();
        let revenue: Vec<f64> = (0..n).map(|i| i as f64 - 300.0).collect();
        let values =
            ndarray::Array2::from_shape_fn((n, 2), |(i, j)| if j == 0 { a[i] } else { b[i] });
        let names = vec!["a".to_string(), "b".to_string()];
        let fm = FeatureMatrix {
            ids: (0..n).map(|i| i.to_string()).collect(),
            columns: names.clone(),
            values,
        };
        // k = 3: label 3 is past k; k = 5: cluster 4 is empty.
        for k in [3, 5] {
            let from_matrix = cluster_profiles(&fm, &labels, k, &revenue);
            let from_columns = cluster_profiles_of_columns(&names, &[&a, &b], &labels, k, &revenue);
            assert_eq!(from_matrix.len(), k);
            for (m, c) in from_matrix.iter().zip(&from_columns) {
                assert_eq!(m.customers, c.customers);
                assert_eq!(m.revenue_share.to_bits(), c.revenue_share.to_bits());
                for ((na, va), (nb, vb)) in m.means.iter().zip(&c.means) {
                    assert_eq!(na, nb);
                    assert_eq!(
                        va.to_bits(),
                        vb.to_bits(),
                        "cluster {} column {na}",
                        m.cluster
                    );
                }
            }
        }
    }
}
