//! Permutation importance on the holdout: how much the holdout AUC falls when one model input is
//! shuffled across the rows, breaking its link with the label while keeping its distribution.
//!
//! A forest has no coefficients to read, so this is how `models show`, the card and the report
//! say what it relies on. It is measured on the holdout (a forest can memorise its training rows,
//! and an input it overfits would look important there), per column of the design matrix (each
//! one-hot level on its own), as the mean over [`IMPORTANCE_REPEATS`] seeded shuffles.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use crate::models::classifier::Classifier;
use crate::models::error::Result;
use crate::models::metrics::auc;

/// Shuffles per input.
pub const IMPORTANCE_REPEATS: usize = 3;
/// Most holdout rows the importance is measured on (a seeded sample of a larger holdout): each
/// input costs the model [`IMPORTANCE_REPEATS`] passes over them.
pub const IMPORTANCE_MAX_ROWS: usize = 20_000;

/// The drop in holdout AUC when one model input is shuffled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    pub name: String,
    pub auc_drop: f64,
}

/// The permutation importance of every column of `x` (named by `names`), largest drop first
/// (ties by name).
pub fn permutation_importance(
    model: &dyn Classifier,
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    names: &[String],
    seed: u64,
) -> Result<Vec<FeatureImportance>> {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..x.nrows()).collect();
    if rows.len() > IMPORTANCE_MAX_ROWS {
        rows.shuffle(&mut rng);
        rows.truncate(IMPORTANCE_MAX_ROWS);
        rows.sort_unstable();
    }
    let x = x.select(Axis(0), &rows);
    let y = y.select(Axis(0), &rows);
    let base = auc(y.view(), model.predict_proba(x.view())?.view())?;
    let mut out = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate().take(x.ncols()) {
        let mut shuffled = x.clone();
        let mut drop = 0.0;
        for _ in 0..IMPORTANCE_REPEATS {
            let mut column: Vec<f64> = x.column(j).to_vec();
            column.shuffle(&mut rng);
            shuffled
                .column_mut(j)
                .iter_mut()
                .zip(column)
                .for_each(|(v, c)| *v = c);
            drop += base - auc(y.view(), model.predict_proba(shuffled.view())?.view())?;
        }
        out.push(FeatureImportance {
            name: name.clone(),
            auc_drop: drop / IMPORTANCE_REPEATS as f64,
        });
    }
    out.sort_by(|a, b| {
        b.auc_drop
            .total_cmp(&a.auc_drop)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::forest::ForestParams;
    use ndarray::{Array1, Array2};
    use rand::Rng;

    /// Only the first of three inputs carries the label: it alone loses AUC when shuffled, and
    /// the same seed gives the same figures.
    #[test]
    fn the_input_that_carries_the_signal_is_the_important_one() {
        let mut rng = Xoshiro256Plus::seed_from_u64(8);
        let n = 1200;
        let x = Array2::from_shape_fn((n, 3), |_| rng.gen_range(0.0..1.0));
        let y: Array1<f64> = x.column(0).mapv(|v| f64::from(u8::from(v > 0.5)));
        let train = 800;
        let forest = ForestParams {
            n_trees: 20,
            ..Default::default()
        }
        .fit(
            x.slice(ndarray::s![..train, ..]),
            y.slice(ndarray::s![..train]),
        )
        .unwrap();
        let names: Vec<String> = ["signal", "noise_a", "noise_b"].map(String::from).to_vec();
        let (xh, yh) = (
            x.slice(ndarray::s![train.., ..]),
            y.slice(ndarray::s![train..]),
        );
        let imp = permutation_importance(&forest, xh, yh, &names, 1).unwrap();
        assert_eq!(imp[0].name, "signal");
        assert!(imp[0].auc_drop > 0.3, "{imp:?}");
        for other in &imp[1..] {
            assert!(other.auc_drop.abs() < 0.02, "{imp:?}");
        }
        assert_eq!(
            imp,
            permutation_importance(&forest, xh, yh, &names, 1).unwrap()
        );
    }
}
