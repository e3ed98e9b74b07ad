//! linfa at the boundary: a fitted clustering is a linfa predictor.
//!
//! [`LloydFit`] implements linfa's `PredictInplace` on `n × d` records in the transformed
//! space, so it plugs into linfa's `predict` on arrays and `DatasetBase`s exactly like
//! `linfa_clustering::KMeans` (nearest centroid by Euclidean distance, first centroid on ties).

use linfa::traits::PredictInplace;
use ndarray::{Array1, ArrayBase, Data, Ix2};

use crate::segment::lloyd::{assign_rows, LloydFit};

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for LloydFit {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        let rows = x.as_standard_layout();
        let c = self.centroids.as_standard_layout();
        let mut labels = vec![0; rows.nrows()];
        let mut dists = vec![0.0; rows.nrows()];
        if let (Some(r), Some(c)) = (rows.as_slice(), c.as_slice()) {
            if rows.ncols() == self.centroids.ncols() && rows.ncols() > 0 {
                assign_rows(r, rows.ncols(), c, &mut labels, &mut dists);
            }
        }
        for (dst, l) in y.iter_mut().zip(labels) {
            *dst = l;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::kmeans::{fit_fixed, ClusterParams};
    use linfa::prelude::*;
    use linfa_clustering::{KMeans, KMeansInit};
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    #[test]
    fn lloyd_fit_predicts_like_linfa_kmeans_with_the_same_centroids() {
        let mut rng = Xoshiro256Plus::seed_from_u64(11);
        let x = Array2::from_shape_fn((5000, 4), |(i, _)| {
            (i % 5) as f64 * 3.0 + rng.gen_range(-2.0..2.0)
        });
        let fit = fit_fixed(x.view(), 5, &ClusterParams::default()).unwrap();
        let ours: ndarray::Array1<usize> = fit.predict(&x);
        assert_eq!(ours.to_vec(), fit.labels);
        // linfa's KMeans started on our converged centroids stays there and assigns alike.
        let ds = DatasetBase::from(x.clone());
        let linfa = KMeans::params_with_rng(5, Xoshiro256Plus::seed_from_u64(0))
            .init_method(KMeansInit::Precomputed(fit.centroids.clone()))
            .max_n_iterations(1)
            .fit(&ds)
            .unwrap();
        let diff = (linfa.centroids() - &fit.centroids).mapv(f64::abs).sum();
        assert!(diff < 1e-9, "centroids moved by {diff}");
        let theirs = linfa.predict(&x);
        assert_eq!(theirs.to_vec(), fit.labels);
    }
}
