//! Dense Cholesky factorization and solve for the small (d+1)×(d+1) Newton systems.
//!
//! Written by hand because the systems are tiny (tens of unknowns) and the allowed dependencies
//! carry no LAPACK; a textbook O(d³/3) factorization is microseconds here.

use ndarray::{Array1, Array2};

/// Solve `a · x = b` for symmetric positive-definite `a` via `a = L·Lᵀ`.
///
/// Returns `None` when `a` is not square, `b` does not match, or a pivot is not strictly positive
/// (the matrix is not numerically positive definite).
pub fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    if a.ncols() != n || b.len() != n {
        return None;
    }
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut diag = a[[j, j]];
        for k in 0..j {
            diag -= l[[j, k]] * l[[j, k]];
        }
        // NaN pivots fail `is_finite`; non-positive ones mean the matrix is not definite.
        if diag <= 0.0 || !diag.is_finite() {
            return None;
        }
        let ljj = diag.sqrt();
        l[[j, j]] = ljj;
        for i in (j + 1)..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / ljj;
        }
    }
    // Forward substitution L·y = b, then back substitution Lᵀ·x = y.
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[[i, k]] * y[k];
        }
        y[i] = s / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= l[[k, i]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solves_known_spd_system() {
        // a = L Lᵀ with L = [[2,0,0],[1,3,0],[4,-1,5]] (hand-built), x = [1,-2,3].
        let a = array![[4.0, 2.0, 8.0], [2.0, 10.0, 1.0], [8.0, 1.0, 42.0]];
        let x = array![1.0, -2.0, 3.0];
        let b = a.dot(&x);
        let got = cholesky_solve(&a, &b).unwrap();
        for (g, e) in got.iter().zip(x.iter()) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
    }

    #[test]
    fn rejects_indefinite_and_mismatched() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(cholesky_solve(&a, &array![1.0, 1.0]).is_none());
        assert!(cholesky_solve(&array![[1.0]], &array![1.0, 2.0]).is_none());
    }
}
