//! The fitted, serializable clustering model.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::segment::error::{Result, SegmentError};
use crate::segment::input::check_matrix;
use crate::segment::kmeans::{fit_kmeans, ClusterParams, KMeansEngine, KScore};
use crate::segment::lloyd::assign_rows;
use crate::segment::transform::{apply_transforms, fit_and_apply, ColumnTransform, Transform};
use crate::types::FeatureMatrix;

/// Schema version written by this code.
pub const MODEL_SCHEMA_VERSION: u32 = 1;

/// K-means clusters with everything needed to assign new customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationModel {
    /// Always [`MODEL_SCHEMA_VERSION`] when written by this code.
    pub schema_version: u32,
    /// Transform family used at fit time.
    pub transform: Transform,
    /// Per clustered column, in centroid column order: name, log1p flag, mean and std.
    pub transforms: Vec<ColumnTransform>,
    /// `k × d` centroids in transformed space.
    pub centroids: Array2<f64>,
    /// Number of clusters.
    pub k: usize,
    /// Restarts used.
    pub n_init: usize,
    /// Seed used.
    pub seed: u64,
    /// Relative tolerance used.
    pub tol: f64,
    /// Engine used.
    pub engine: KMeansEngine,
    /// Sum of squared distances of the training rows to their centroids (transformed space).
    pub inertia: f64,
    /// Silhouette per candidate k when k was chosen automatically, else empty.
    pub k_scores: Vec<KScore>,
}

impl SegmentationModel {
    /// Fits transforms and k-means on `fm`; returns the model and each training row's cluster.
    pub fn fit(fm: &FeatureMatrix, p: &ClusterParams) -> Result<(Self, Vec<usize>)> {
        p.check()?;
        check_matrix(fm)?;
        let (transforms, x) = fit_and_apply(fm, &p.columns, p.transform)?;
        let (fit, k_scores) = fit_kmeans(x.view(), p)?;
        let model = Self {
            schema_version: MODEL_SCHEMA_VERSION,
            transform: p.transform,
            transforms,
            k: fit.centroids.nrows(),
            centroids: fit.centroids,
            n_init: p.n_init,
            seed: p.seed,
            tol: p.tol,
            engine: p.engine,
            inertia: fit.inertia,
            k_scores,
        };
        Ok((model, fit.labels))
    }

    /// Clustered column names, in order.
    pub fn columns(&self) -> Vec<&str> {
        self.transforms.iter().map(|t| t.column.as_str()).collect()
    }

    /// Errors when the schema version or centroid shape does not match this code.
    pub fn check(&self) -> Result<()> {
        if self.schema_version != MODEL_SCHEMA_VERSION {
            return Err(SegmentError::SchemaVersion {
                expected: MODEL_SCHEMA_VERSION,
                found: self.schema_version,
            });
        }
        let (k, d) = self.centroids.dim();
        if k != self.k || d != self.transforms.len() || k == 0 || d == 0 {
            return Err(SegmentError::Malformed {
                expected: format!("{} × {} centroids", self.k, self.transforms.len()),
                found: format!("{k} × {d}"),
            });
        }
        // A scale of zero or below, or a non-finite number, would put every customer in one
        // cluster (or none) without an error.
        let invalid = |field: String, expected, found: f64| {
            Err(SegmentError::InvalidModel {
                field,
                expected,
                found: found.to_string(),
            })
        };
        for (i, t) in self.transforms.iter().enumerate() {
            let field = |name: &str| format!("transforms[{i}].{name} (column `{}`)", t.column);
            if !t.mean.is_finite() {
                return invalid(field("mean"), "a finite number", t.mean);
            }
            if !(t.std.is_finite() && t.std > 0.0) {
                return invalid(field("std"), "a finite number > 0", t.std);
            }
        }
        if let Some(((c, j), v)) = self.centroids.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return invalid(format!("centroids[{c}][{j}]"), "a finite number", *v);
        }
        Ok(())
    }

    /// Applies the fitted transforms to `fm` and returns each row's nearest centroid; a missing
    /// column is reported by name.
    pub fn assign(&self, fm: &FeatureMatrix) -> Result<Vec<usize>> {
        self.check()?;
        check_matrix(fm)?;
        let x = apply_transforms(fm, &self.transforms)?;
        let c = self.centroids.as_standard_layout().to_owned();
        let mut labels = vec![0; x.nrows()];
        let mut dists = vec![0.0; x.nrows()];
        assign_rows(
            x.as_slice().unwrap_or(&[]),
            x.ncols(),
            c.as_slice().unwrap_or(&[]),
            &mut labels,
            &mut dists,
        );
        Ok(labels)
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    //! A synthetic three-group customer fixture shared by tests.
    use crate::types::FeatureMatrix;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    pub(crate) fn customers(n: usize, seed: u64) -> FeatureMatrix {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let mut values = Array2::zeros((n, 3));
        for i in 0..n {
            let group = i % 3;
            values[[i, 0]] = [20.0, 200.0, 500.0][group] * rng.gen_range(0.5..1.5);
            values[[i, 1]] = [8.0, 2.0, 1.0][group] + f64::from(rng.gen_range(0u8..3));
            values[[i, 2]] = [900.0, 90.0, 15.0][group] * rng.gen_range(0.5..2.0);
        }
        FeatureMatrix {
            ids: (0..n).map(|i| format!("{i:05}")).collect(),
            columns: vec![
                "recency_days".into(),
                "frequency".into(),
                "monetary_total".into(),
            ],
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::kmeans::KChoice;

    use super::tests_support::customers;

    fn params() -> ClusterParams {
        ClusterParams {
            k: KChoice::Fixed(4),
            ..ClusterParams::default()
        }
    }

    #[test]
    fn assign_reproduces_training_clusters_and_seed_is_deterministic() {
        let fm = customers(3000, 9);
        let (model, labels) = SegmentationModel::fit(&fm, &params()).unwrap();
        assert_eq!(model.assign(&fm).unwrap(), labels);
        let (again, labels2) = SegmentationModel::fit(&fm, &params()).unwrap();
        assert_eq!(labels, labels2);
        assert_eq!(model, again);
        // JSON round trip keeps the model and its assignments.
        let json = serde_json::to_string(&model).unwrap();
        let back: SegmentationModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.assign(&fm).unwrap(), labels);
    }

    #[test]
    fn every_point_is_nearest_its_centroid() {
        let fm = customers(1000, 4);
        let (model, labels) = SegmentationModel::fit(&fm, &params()).unwrap();
        let x = apply_transforms(&fm, &model.transforms).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let d = |j: usize| -> f64 {
                row.iter()
                    .zip(model.centroids.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum()
            };
            for j in 0..model.k {
                assert!(d(labels[i]) <= d(j), "row {i}");
            }
        }
        // Inertia is the sum of those distances.
        let total: f64 = (0..fm.n_rows())
            .map(|i| {
                x.row(i)
                    .iter()
                    .zip(model.centroids.row(labels[i]))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
            })
            .sum();
        assert!((total - model.inertia).abs() < 1e-9 * total);
    }

    #[test]
    fn missing_column_and_bad_schema_are_reported() {
        let fm = customers(300, 1);
        let (mut model, _) = SegmentationModel::fit(&fm, &params()).unwrap();
        let mut other = fm.clone();
        other.columns[1] = "visits".into();
        let err = model.assign(&other).unwrap_err();
        assert!(
            matches!(err, SegmentError::MissingColumn { ref column, .. } if column == "frequency")
        );
        let mut bad = model.clone();
        bad.transforms[1].std = -1.0;
        let err = bad.check().unwrap_err();
        assert!(
            matches!(&err, SegmentError::InvalidModel { field, .. } if field.starts_with("transforms[1].std")),
            "{err}"
        );
        let mut bad = model.clone();
        bad.centroids[[0, 2]] = f64::NAN;
        assert!(matches!(
            bad.assign(&fm),
            Err(SegmentError::InvalidModel { .. })
        ));
        model.schema_version = 99;
        assert!(matches!(
            model.assign(&fm),
            Err(SegmentError::SchemaVersion { found: 99, .. })
        ));
    }
}
