//! L2-regularized logistic regression fitted by Newton's method (IRLS) with step halving.
//!
//! Objective (identical to linfa-logistic's `alpha` and to scikit-learn with `C = 1 / l2`):
//!
//! ```text
//!   L(w, b) = Σᵢ sᵢ · [ −yᵢ·log pᵢ − (1−yᵢ)·log(1−pᵢ) ]  +  ½ · l2 · ‖w‖²,   pᵢ = σ(xᵢ·w + b)
//! ```
//!
//! The penalty is on the sum (not the mean) of the log losses, so its weight relative to the data
//! shrinks as n grows, exactly as in scikit-learn; the intercept `b` is never penalized. `sᵢ` is 1
//! unless balanced class weights are asked for (see [`ClassWeight`]).
//!
//! Why Newton: d is small (tens) and n is large (millions), so one pass that accumulates the
//! gradient and the (d+1)×(d+1) Hessian `Xᵀ·diag(s·p·(1−p))·X` over row chunks (rayon, BLAS-like
//! `ndarray` products per chunk) costs about one gradient evaluation, and Newton needs ~6 of them
//! where a first-order solver needs hundreds. Chunks have a fixed size and their partial sums are
//! added in chunk order, so the result does not depend on the thread count or scheduling.

use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa_logistic::FittedLogisticRegression;
use ndarray::{s, Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Data, Ix2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::cholesky::cholesky_solve;
use crate::models::error::{model_rule, ModelsError, Result};
use crate::models::preprocess::MAX_MAGNITUDE;

/// Rows per parallel work item; fixed so that sums are reproducible.
const CHUNK: usize = 2048;

/// Class weighting of the log-loss terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row weighs 1 (default): probabilities are calibrated as fitted.
    #[default]
    None,
    /// Class c weighs `n / (2 · n_c)` during fitting. Weighting multiplies the fitted odds by
    /// `w₁/w₀ = n₀/n₁`, so after fitting the intercept is prior-corrected by `+ln(n₁/n₀)`
    /// (King & Zeng 2001) and the returned probabilities stay calibrated to the training base rate.
    Balanced,
}

/// Hyperparameters of [`LogisticModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// L2 penalty weight on the coefficients (default 1.0 = scikit-learn's `C = 1`; ≥ 0, finite).
    pub l2: f64,
    /// Most Newton iterations (default 50, ≥ 1).
    pub max_iter: usize,
    /// Convergence when `‖∇L‖∞ ≤ tol · Σsᵢ`, i.e. on the gradient of the mean loss (default 1e-8, > 0).
    pub tol: f64,
    /// Class weighting (default [`ClassWeight::None`]).
    pub class_weight: ClassWeight,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            l2: 1.0,
            max_iter: 50,
            tol: 1e-8,
            class_weight: ClassWeight::None,
        }
    }
}

/// A fitted logistic regression; its score is always P(label = 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// One coefficient per design-matrix column.
    pub coefficients: Array1<f64>,
    /// Intercept (prior-corrected when fitted with balanced weights).
    pub intercept: f64,
    /// Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient criterion was met within `max_iter`.
    pub converged: bool,
}

impl LogisticParams {
    /// Validate every rule stated on the fields.
    pub fn check(&self) -> Result<&Self> {
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(ModelsError::InvalidParam {
                name: "l2",
                expected: "a finite number >= 0",
                found: self.l2.to_string(),
            });
        }
        if self.max_iter == 0 {
            return Err(ModelsError::InvalidParam {
                name: "max_iter",
                expected: "at least 1",
                found: "0".into(),
            });
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(ModelsError::InvalidParam {
                name: "tol",
                expected: "a finite number > 0",
                found: self.tol.to_string(),
            });
        }
        Ok(self)
    }

    /// Fit on a linfa dataset with boolean targets (`true` = label 1).
    pub fn fit_dataset<D, T>(&self, ds: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<LogisticModel>
    where
        D: Data<Elem = f64>,
        T: AsSingleTargets<Elem = bool>,
    {
        let y: Array1<f64> = ds.as_single_targets().mapv(|b| if b { 1.0 } else { 0.0 });
        self.fit(ds.records().view(), y.view())
    }

    /// Fit on a design matrix `x` (n × d, finite) and labels `y` (0/1).
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<LogisticModel> {
        self.fit_from(x, y, None)
    }

    /// As [`Self::fit`], with Newton started from `start` (a model over the same design-matrix
    /// columns, e.g. a fit on a subset of the rows) instead of from zero coefficients and the
    /// base-rate intercept. The objective is strictly convex, so the optimum is the same; a
    /// start near it needs fewer Newton passes over the data.
    pub fn fit_from(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        start: Option<&LogisticModel>,
    ) -> Result<LogisticModel> {
        self.check()?;
        let (n, d) = x.dim();
        if y.len() != n {
            return Err(ModelsError::LengthMismatch {
                what: "labels vs design-matrix rows",
                expected: n,
                found: y.len(),
            });
        }
        let n1 = check_labels(y)?;
        let n0 = n - n1;
        // Fast scan first (in parallel over the rows of a standard-layout matrix); the position
        // is only looked up on failure.
        // Values beyond MAX_MAGNITUDE overflow the Hessian's sums of squares.
        let usable = |v: &f64| v.abs() <= MAX_MAGNITUDE;
        let all_usable = match x.as_slice() {
            Some(values) => values.par_iter().all(usable),
            None => x.iter().all(usable),
        };
        if !all_usable {
            let ((row, j), &value) = x
                .indexed_iter()
                .find(|(_, v)| !usable(v))
                .unwrap_or(((0, 0), &f64::NAN));
            let column = format!("design matrix column {j}");
            return Err(if value.is_finite() {
                ModelsError::TooLarge {
                    column,
                    row,
                    value,
                    limit: MAX_MAGNITUDE,
                }
            } else {
                ModelsError::NonFinite { column, row, value }
            });
        }
        let (s0, s1) = match self.class_weight {
            ClassWeight::None => (1.0, 1.0),
            ClassWeight::Balanced => (n as f64 / (2.0 * n0 as f64), n as f64 / (2.0 * n1 as f64)),
        };
        let total_weight = s0 * n0 as f64 + s1 * n1 as f64;
        let weighted_rate = s1 * n1 as f64 / total_weight;

        let objective = Objective {
            x,
            y,
            s0,
            s1,
            l2: self.l2,
        };
        let (mut w, mut b) = match start {
            None => (
                Array1::<f64>::zeros(d),
                (weighted_rate / (1.0 - weighted_rate)).ln(),
            ),
            Some(m) if m.coefficients.len() == d => {
                // A returned intercept carries the balanced weights' prior correction: undo it.
                let correction = match self.class_weight {
                    ClassWeight::None => 0.0,
                    ClassWeight::Balanced => (n1 as f64 / n0 as f64).ln(),
                };
                (m.coefficients.clone(), m.intercept - correction)
            }
            Some(m) => {
                return Err(ModelsError::FeatureCount {
                    expected: d,
                    found: m.coefficients.len(),
                })
            }
        };
        // Far from the optimum the Hessian only needs to point the step, so it is estimated
        // from a subset of the rows (`hessian_stride`); once the gradient is small, the exact
        // Hessian gives Newton's quadratic convergence for the last steps.
        let exact_below = self.tol.sqrt() * total_weight;
        let mut current = objective.evaluate(&w, b, false);
        current.check_finite(0)?;
        let mut iterations = 0;
        let mut converged = false;
        let grad_limit = self.tol * total_weight;
        // From far away, the step that passes the gradient test is a full quadratic step and
        // lands orders of magnitude below the tolerance. From a start already near the optimum
        // the test passes just under the tolerance, about 1e-4 relative on the smallest
        // coefficients at 1M rows; one more step makes the warm fit as exact as the cold one.
        let mut polish = start.is_some();
        loop {
            let grad_norm = current.grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if grad_norm <= grad_limit {
                converged = true;
                if !polish {
                    break;
                }
                polish = false;
            }
            if iterations == self.max_iter {
                break;
            }
            iterations += 1;
            let step = solve_damped(&current.hess, &current.grad)?;
            let slope = current.grad.dot(&step);
            if !slope.is_finite() {
                return Err(non_finite("newton step", Some(iterations)));
            }
            // Step halving with an Armijo test. Each trial point is evaluated with the full
            // gradient and Hessian, so an accepted step (the full Newton step, almost always)
            // costs exactly one pass over the data, including the final convergence test.
            let mut t = 1.0;
            let mut accepted = false;
            while t > 1e-10 {
                let w_new = &w - &(t * &step.slice(s![..d]));
                let b_new = b - t * step[d];
                let trial = objective.evaluate(&w_new, b_new, grad_norm <= exact_below);
                // A trial point where the objective overflows is not a decrease: the step halves.
                if trial.loss <= current.loss - 1e-4 * t * slope && trial.is_finite() {
                    w = w_new;
                    b = b_new;
                    current = trial;
                    accepted = true;
                    break;
                }
                t *= 0.5;
            }
            if !accepted {
                // No decrease is representable any more: we sit at the optimum to rounding error.
                converged = grad_norm <= self.tol.sqrt() * total_weight;
                break;
            }
        }
        if self.class_weight == ClassWeight::Balanced {
            b += (n1 as f64 / n0 as f64).ln();
        }
        Ok(LogisticModel {
            coefficients: w,
            intercept: b,
            iterations,
            converged,
        })
    }
}

impl LogisticModel {
    /// The rules of a saved model (`at`: its place in the file): one coefficient per model input,
    /// and coefficients and intercept finite and within [`MAX_MAGNITUDE`] (a larger one only
    /// comes from an edited file and overflows the linear predictor into NaN scores).
    pub fn check_fitted(&self, n_features: usize, at: &str) -> Result<()> {
        model_rule(
            self.coefficients.len() == n_features,
            || format!("{at}.coefficients"),
            "one coefficient per model input",
            format!(
                "{} coefficients for {n_features} inputs",
                self.coefficients.len()
            ),
        )?;
        let usable = |v: f64| v.abs() <= MAX_MAGNITUDE;
        if let Some((j, v)) = self
            .coefficients
            .iter()
            .enumerate()
            .find(|(_, v)| !usable(**v))
        {
            return model_rule(
                false,
                || format!("{at}.coefficients[{j}]"),
                "a finite number of magnitude at most 1e150",
                v,
            );
        }
        model_rule(
            usable(self.intercept),
            || format!("{at}.intercept"),
            "a finite number of magnitude at most 1e150",
            self.intercept,
        )
    }

    /// P(label = 1) for each row of a design matrix built by the same preprocessing.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let d = self.coefficients.len();
        if x.ncols() != d {
            return Err(ModelsError::FeatureCount {
                expected: d,
                found: x.ncols(),
            });
        }
        let n = x.nrows();
        let mut out = vec![0.0; n];
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
            let start = c * CHUNK;
            let xc = x.slice(s![start..start + o.len(), ..]);
            let z = xc.dot(&self.coefficients);
            for (oi, zi) in o.iter_mut().zip(z.iter()) {
                *oi = sigmoid(zi + self.intercept);
            }
        });
        Ok(Array1::from_vec(out))
    }

    /// The same model as a linfa-logistic fitted model with `true` (label 1) as its positive class,
    /// so that its `predict_probabilities` also returns P(label = 1).
    ///
    /// linfa offers no public constructor, so the value is built through its serde representation.
    pub fn to_linfa(&self) -> Result<FittedLogisticRegression<f64, bool>> {
        let backend = |e: serde_json::Error| ModelsError::Backend {
            library: "linfa",
            message: e.to_string(),
        };
        let value = serde_json::json!({
            "threshold": 0.5,
            "intercept": self.intercept,
            "params": serde_json::to_value(&self.coefficients).map_err(backend)?,
            "labels": {
                "pos": { "class": true, "label": 1.0 },
                "neg": { "class": false, "label": -1.0 },
            },
        });
        serde_json::from_value(value).map_err(backend)
    }
}

/// The logistic function `1 / (1 + e^−z)`, without overflow for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Count of label-1 rows, checking labels are 0/1 and both present.
fn check_labels(y: ArrayView1<'_, f64>) -> Result<usize> {
    let mut n1 = 0;
    for (row, &v) in y.iter().enumerate() {
        if v == 1.0 {
            n1 += 1;
        } else if v != 0.0 {
            return Err(ModelsError::NotBinary {
                what: "label",
                row,
                found: v,
            });
        }
    }
    if n1 == 0 || n1 == y.len() {
        return Err(ModelsError::SingleClass {
            what: "labels",
            found: if n1 == 0 { "0".into() } else { "1".into() },
        });
    }
    Ok(n1)
}

fn n_chunks(n: usize) -> usize {
    n.div_ceil(CHUNK)
}

/// The penalized objective on one data set.
struct Objective<'x, 'y> {
    x: ArrayView2<'x, f64>,
    y: ArrayView1<'y, f64>,
    s0: f64,
    s1: f64,
    l2: f64,
}

/// Objective value, gradient (w then b) and Hessian at one point.
struct Evaluation {
    loss: f64,
    grad: Array1<f64>,
    hess: Array2<f64>,
}

impl Evaluation {
    fn is_finite(&self) -> bool {
        self.loss.is_finite()
            && self.grad.iter().all(|v| v.is_finite())
            && self.hess.iter().all(|v| v.is_finite())
    }

    /// An overflowed loss, gradient or Hessian ends the fit: every later step would be computed
    /// from infinities (and a ridge scaled by an infinite diagonal never stops growing).
    fn check_finite(&self, iteration: usize) -> Result<()> {
        if self.is_finite() {
            Ok(())
        } else {
            Err(non_finite("loss, gradient or hessian", Some(iteration)))
        }
    }
}

/// The solver's error for an overflow: the inputs are checked before fitting, so what remains
/// is a design matrix whose products overflow (`iteration`: where, when known).
fn non_finite(what: &str, iteration: Option<usize>) -> ModelsError {
    let at = iteration.map_or(String::new(), |i| format!(" at newton iteration {i}"));
    ModelsError::Solver {
        reason: format!(
            "the {what} is not finite{at}: some model input is too large; rescale it (e.g. to thousands) or leave it out"
        ),
    }
}

impl Objective<'_, '_> {
    /// `exact`: the Hessian from every row, else from [`hessian_stride`]'s subset.
    fn evaluate(&self, w: &Array1<f64>, b: f64, exact: bool) -> Evaluation {
        let d = w.len();
        let stride = if exact {
            1
        } else {
            hessian_stride(self.x.nrows())
        };
        let (mut loss, mut grad, mut hess) =
            newton_pass(self.x, self.y, w, b, (self.s0, self.s1), stride);
        loss += 0.5 * self.l2 * w.dot(w);
        grad.slice_mut(s![..d]).scaled_add(self.l2, w);
        for j in 0..d {
            hess[[j, j]] += self.l2;
        }
        Evaluation { loss, grad, hess }
    }
}

/// Rows the Hessian is estimated from, at least (see [`hessian_stride`]).
const HESSIAN_ROWS: usize = 256 * 1024;

/// Every how many chunks of rows a Hessian estimate reads: 1 (every row) up to
/// 2 × [`HESSIAN_ROWS`] rows, then a fixed, evenly spread subset of at least that many rows.
///
/// Why: the Hessian is the costly part of a pass (a d × d product per row against two
/// matrix-vector products for the loss and gradient), and far from the optimum Newton only
/// needs it to point the step. The gradient, the line search and the convergence test are
/// always exact over every row, and the last steps use the exact Hessian, so the optimum and
/// the tolerance are those of plain Newton. The subset depends on the row count alone, so fits
/// stay deterministic.
fn hessian_stride(n: usize) -> usize {
    (n / HESSIAN_ROWS).max(1)
}

/// Weighted log loss and gradient (w then b) at (w, b) over every row, and the Hessian from the
/// chunks `c` with `c % stride == 0`, scaled to all rows; without the penalty.
fn newton_pass(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: &Array1<f64>,
    b: f64,
    (s0, s1): (f64, f64),
    stride: usize,
) -> (f64, Array1<f64>, Array2<f64>) {
    let (n, d) = x.dim();
    type Part = (f64, Array1<f64>, Option<Array2<f64>>);
    let parts: Vec<Part> = (0..n_chunks(n))
        .into_par_iter()
        .map(|c| {
            let start = c * CHUNK;
            let end = (start + CHUNK).min(n);
            let xc = x.slice(s![start..end, ..]);
            let z = xc.dot(w);
            let m = end - start;
            let mut r = Array1::<f64>::zeros(m);
            let mut hw = Array1::<f64>::zeros(m);
            let mut loss = 0.0;
            for i in 0..m {
                let zi = z[i] + b;
                let yi = y[start + i];
                let si = if yi == 1.0 { s1 } else { s0 };
                // One exponential serves both σ(z) and log(1 + e^z).
                let e = (-zi.abs()).exp();
                let p = if zi >= 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                loss += si * (zi.max(0.0) + e.ln_1p() - yi * zi);
                r[i] = si * (p - yi);
                hw[i] = si * p * (1.0 - p);
            }
            let mut g = Array1::<f64>::zeros(d + 1);
            g.slice_mut(s![..d]).assign(&transposed_dot(xc, &r));
            g[d] = r.sum();
            if c % stride != 0 {
                return (loss, g, None);
            }
            let mut scaled = xc.to_owned();
            for (mut row, &h) in scaled.rows_mut().into_iter().zip(hw.iter()) {
                row *= h;
            }
            let mut h = Array2::<f64>::zeros((d + 1, d + 1));
            h.slice_mut(s![..d, ..d]).assign(&xc.t().dot(&scaled));
            let xh = transposed_dot(xc, &hw);
            h.slice_mut(s![..d, d]).assign(&xh);
            h.slice_mut(s![d, ..d]).assign(&xh);
            h[[d, d]] = hw.sum();
            (loss, g, Some(h))
        })
        .collect();
    let mut loss = 0.0;
    let mut g = Array1::<f64>::zeros(d + 1);
    let mut h = Array2::<f64>::zeros((d + 1, d + 1));
    for (l, gc, hc) in parts {
        loss += l;
        g += &gc;
        if let Some(hc) = hc {
            h += &hc;
        }
    }
    if stride > 1 {
        let sampled: usize = (0..n_chunks(n))
            .step_by(stride)
            .map(|c| (n - c * CHUNK).min(CHUNK))
            .sum();
        h *= n as f64 / sampled as f64;
    }
    (loss, g, h)
}

/// `xcᵀ·v` with the bits of ndarray's `xc.t().dot(v)`, faster.
///
/// Why: ndarray sums each column's products in row order with one accumulator, striding down
/// the column (the slowest loop of a Newton pass: ~10% of the job's training time). Summing row
/// by row, every column in its own accumulator, does the same additions in the same order, and
/// the columns vectorize. ndarray takes its eight-accumulator dot instead when a column is
/// contiguous in memory (one column, or a column-major matrix); those cases keep its call.
fn transposed_dot(xc: ArrayView2<'_, f64>, v: &Array1<f64>) -> Array1<f64> {
    let (m, d) = xc.dim();
    let contiguous_column = d == 0 || xc.column(0).as_slice().is_some();
    match (xc.as_slice(), v.as_slice()) {
        (Some(values), Some(v)) if !contiguous_column && m == v.len() => {
            let mut sums = vec![0.0; d];
            for (row, &vi) in values.chunks_exact(d).zip(v) {
                for (s, &x) in sums.iter_mut().zip(row) {
                    *s += x * vi;
                }
            }
            Array1::from_vec(sums)
        }
        _ => xc.t().dot(v),
    }
}

/// Newton direction `H⁻¹·g`; if `H` is numerically singular (e.g. `l2 = 0` with collinear
/// one-hot blocks) a growing ridge is added to its diagonal before giving up.
///
/// The ridge grows by 100× from 1e-12 to 1e-2 of the largest diagonal: at most 6 tries, and none
/// at all when the system is not finite (an infinite scale would make the ridge infinite and
/// the `ridge <= limit` test true for ever).
fn solve_damped(h: &Array2<f64>, g: &Array1<f64>) -> Result<Array1<f64>> {
    if !(h.iter().all(|v| v.is_finite()) && g.iter().all(|v| v.is_finite())) {
        return Err(non_finite("newton system", None));
    }
    if let Some(step) = cholesky_solve(h, g).filter(|s| s.iter().all(|v| v.is_finite())) {
        return Ok(step);
    }
    let scale = (0..h.nrows())
        .map(|j| h[[j, j]].abs())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let mut ridge = 1e-12 * scale;
    while ridge <= 1e-2 * scale {
        let mut hd = h.clone();
        for j in 0..hd.nrows() {
            hd[[j, j]] += ridge;
        }
        if let Some(step) = cholesky_solve(&hd, g).filter(|s| s.iter().all(|v| v.is_finite())) {
            return Ok(step);
        }
        ridge *= 100.0;
    }
    Err(ModelsError::Solver {
        reason: "the newton hessian is not positive definite even with a ridge of 1e-2 × its largest diagonal".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    /// Synthetic set with known coefficients; `shift` moves the base rate.
    fn synth(n: usize, d: usize, shift: f64, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-2.0..2.0));
        let beta: Array1<f64> = (0..d).map(|j| 0.5 - 0.3 * j as f64).collect();
        let y = x.dot(&beta).mapv(|z| {
            let p = sigmoid(z + shift);
            if rng.gen::<f64>() < p {
                1.0
            } else {
                0.0
            }
        });
        (x, y)
    }

    /// The row-by-row transposed product has ndarray's bits in every layout it meets: chunks
    /// of one row, one column, fewer than eight rows, a full chunk, column-major, signed zeros.
    #[test]
    fn transposed_dot_has_ndarrays_bits() {
        let mut rng = Xoshiro256Plus::seed_from_u64(11);
        for (m, d) in [
            (1, 5),
            (7, 3),
            (9, 1),
            (CHUNK, 56),
            (CHUNK + 3, 4),
            (5, 0),
            (0, 3),
        ] {
            let x = Array2::from_shape_fn((m, d), |(i, j)| {
                if (i + j) % 5 == 0 {
                    -0.0
                } else {
                    rng.gen_range(-3.0..3.0) * 10f64.powi(rng.gen_range(-8..8))
                }
            });
            let v: Array1<f64> = (0..m)
                .map(|i| {
                    if i % 4 == 0 {
                        -0.0
                    } else {
                        rng.gen_range(-1.0..1.0)
                    }
                })
                .collect();
            let bits = |a: &Array1<f64>| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&transposed_dot(x.view(), &v)),
                bits(&x.t().dot(&v)),
                "{m} × {d}"
            );
            let f = x.t().as_standard_layout().t().to_owned();
            assert_eq!(
                bits(&transposed_dot(f.view(), &v)),
                bits(&f.t().dot(&v)),
                "{m} × {d} column-major"
            );
        }
    }

    /// Above 2 × HESSIAN_ROWS rows the first steps estimate the Hessian from a subset of the
    /// chunks: the scaled estimate is close to the exact Hessian, and the fit still ends at the
    /// exact optimum (zero gradient over every row).
    #[test]
    fn sampled_hessian_steps_reach_the_exact_optimum() {
        let n = 2 * HESSIAN_ROWS + 5 * CHUNK + 17;
        assert_eq!(hessian_stride(n), 2);
        let (x, y) = synth(n, 4, -1.0, 3);
        let w = Array1::from(vec![0.1, -0.2, 0.3, 0.0]);
        let (_, g_all, h_all) = newton_pass(x.view(), y.view(), &w, -0.5, (1.0, 1.0), 1);
        let (_, g_half, h_half) = newton_pass(x.view(), y.view(), &w, -0.5, (1.0, 1.0), 2);
        assert_eq!(g_all, g_half, "the gradient always reads every row");
        let norm = |m: &Array2<f64>| m.iter().map(|v| v * v).sum::<f64>().sqrt();
        let off = norm(&(&h_all - &h_half)) / norm(&h_all);
        assert!(
            off < 0.01,
            "sampled Hessian off by {off} (Frobenius, relative)"
        );
        let m = LogisticParams::default().fit(x.view(), y.view()).unwrap();
        assert!(m.converged);
        let (_, g, _) = newton_pass(
            x.view(),
            y.view(),
            &m.coefficients,
            m.intercept,
            (1.0, 1.0),
            1,
        );
        let mut g = g;
        g.slice_mut(s![..4])
            .scaled_add(LogisticParams::default().l2, &m.coefficients);
        let g_max = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(
            g_max <= LogisticParams::default().tol * n as f64,
            "gradient {g_max}"
        );
    }

    #[test]
    fn gradient_is_zero_at_solution_and_penalty_convention_holds() {
        let (x, y) = synth(2000, 3, 0.2, 1);
        let l2 = 5.0;
        let m = LogisticParams {
            l2,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert!(m.converged);
        // Stationarity of Σ log loss + ½·l2·‖w‖²: Xᵀ(p−y) + l2·w = 0 and Σ(p−y) = 0.
        let p = m.predict_proba(x.view()).unwrap();
        let r = &p - &y;
        let gw = x.t().dot(&r) + l2 * &m.coefficients;
        assert!(gw.iter().all(|v| v.abs() < 1e-6), "{gw}");
        assert!(r.sum().abs() < 1e-6);
    }

    #[test]
    fn matches_linfa_logistic_when_label_one_is_the_majority() {
        // shift 2.0 makes label 1 the majority (about 80 %): linfa then takes `true` as positive,
        // but our probabilities must be P(1) in every case, checked with both orientations.
        for shift in [2.0, -2.0] {
            let (x, y) = synth(600, 3, shift, 7);
            let yb = y.mapv(|v| v == 1.0);
            let ds = Dataset::new(x.clone(), yb);
            let ours = LogisticParams::default().fit_dataset(&ds).unwrap();
            let theirs = linfa_logistic::LogisticRegression::default()
                .alpha(1.0)
                .gradient_tolerance(1e-10)
                .max_iterations(1000)
                .fit(&ds)
                .unwrap();
            // linfa's positive class is the majority class: `true` only when label 1 dominates.
            assert_eq!(theirs.labels().pos.class, shift > 0.0);
            let sign = if theirs.labels().pos.class { 1.0 } else { -1.0 };
            for (a, b) in ours.coefficients.iter().zip(theirs.params().iter()) {
                assert!((a - sign * b).abs() < 1e-4, "shift {shift}: {a} vs {b}");
            }
            assert!((ours.intercept - sign * theirs.intercept()).abs() < 1e-4);
            let p = ours.predict_proba(x.view()).unwrap();
            // Our score tracks the observed rate of label 1, whichever class is the majority.
            let mean_p = p.mean().unwrap();
            assert!((mean_p - y.mean().unwrap()).abs() < 1e-6);
            let converted = ours.to_linfa().unwrap().predict_probabilities(&x);
            for (a, b) in p.iter().zip(converted.iter()) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn balanced_weights_with_prior_correction_keep_calibration() {
        let (x, y) = synth(20_000, 2, -3.0, 3);
        let plain = LogisticParams::default().fit(x.view(), y.view()).unwrap();
        let bal = LogisticParams {
            class_weight: ClassWeight::Balanced,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let rate = y.mean().unwrap();
        let pb = bal.predict_proba(x.view()).unwrap().mean().unwrap();
        let pp = plain.predict_proba(x.view()).unwrap().mean().unwrap();
        assert!((pp - rate).abs() < 1e-9);
        // Prior correction keeps the mean score near the base rate (within 10 % relative).
        assert!((pb - rate).abs() < 0.1 * rate, "{pb} vs {rate}");
    }

    #[test]
    fn a_warm_start_reaches_the_cold_optimum() {
        let (x, y) = synth(5000, 4, -1.0, 21);
        for class_weight in [ClassWeight::None, ClassWeight::Balanced] {
            let p = LogisticParams {
                class_weight,
                ..Default::default()
            };
            let cold = p.fit(x.view(), y.view()).unwrap();
            // Started at its own optimum the fit only polishes: one step, to rounding error.
            let again = p.fit_from(x.view(), y.view(), Some(&cold)).unwrap();
            assert!(again.converged && again.iterations <= 1, "{class_weight:?}");
            for (a, b) in again.coefficients.iter().zip(&cold.coefficients) {
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
            }
            assert!((again.intercept - cold.intercept).abs() < 1e-9);
            // From a nearby point: the same optimum to the gradient tolerance, in no more passes
            // (the polishing step included).
            let mut near = cold.clone();
            near.coefficients.mapv_inplace(|w| w * 1.1 + 0.01);
            near.intercept -= 0.05;
            let warm = p.fit_from(x.view(), y.view(), Some(&near)).unwrap();
            assert!(warm.converged && warm.iterations <= cold.iterations);
            for (a, b) in warm.coefficients.iter().zip(&cold.coefficients) {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
        let short = LogisticModel {
            coefficients: Array1::zeros(2),
            intercept: 0.0,
            iterations: 0,
            converged: false,
        };
        assert!(matches!(
            LogisticParams::default().fit_from(x.view(), y.view(), Some(&short)),
            Err(ModelsError::FeatureCount {
                expected: 4,
                found: 2
            })
        ));
    }

    /// A value ≥ ~1.35e154 once made the damping infinite and the ridge loop endless: the fit
    /// now refuses the value before the first step, and an infinite system ends the solver.
    #[test]
    fn huge_or_overflowing_inputs_end_the_fit_with_an_error() {
        let (mut x, y) = synth(500, 3, 0.0, 4);
        x[[7, 2]] = 1e200;
        let err = LogisticParams::default()
            .fit(x.view(), y.view())
            .unwrap_err();
        assert!(
            matches!(err, ModelsError::TooLarge { row: 7, value, .. } if value == 1e200),
            "{err}"
        );
        assert!(err.to_string().contains("column 2"), "{err}");
        let mut h = Array2::<f64>::eye(3);
        h[[1, 1]] = f64::INFINITY;
        let g = Array1::from(vec![1.0, 1.0, 1.0]);
        assert!(matches!(
            solve_damped(&h, &g),
            Err(ModelsError::Solver { .. })
        ));
        // A singular (not infinite) system still gets its ridge.
        let singular = Array2::<f64>::zeros((2, 2));
        assert!(solve_damped(&singular, &Array1::from(vec![1.0, 0.0])).is_ok());
    }

    #[test]
    fn deterministic_and_rejects_bad_input() {
        let (x, y) = synth(10_000, 4, 0.0, 9);
        let a = LogisticParams::default().fit(x.view(), y.view()).unwrap();
        let b = LogisticParams::default().fit(x.view(), y.view()).unwrap();
        assert_eq!(a, b);
        let mut bad = y.clone();
        bad[3] = 2.0;
        assert!(matches!(
            LogisticParams::default().fit(x.view(), bad.view()),
            Err(ModelsError::NotBinary { row: 3, .. })
        ));
        let ones = Array1::<f64>::ones(y.len());
        assert!(matches!(
            LogisticParams::default().fit(x.view(), ones.view()),
            Err(ModelsError::SingleClass { .. })
        ));
        assert!(LogisticParams {
            l2: -1.0,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(matches!(
            a.predict_proba(x.slice(s![.., ..2])),
            Err(ModelsError::FeatureCount {
                expected: 4,
                found: 2
            })
        ));
    }
}
