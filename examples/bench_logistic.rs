//! Benchmark of the Newton logistic solver against scikit-learn's lbfgs on the same matrix.
//!
//! `cargo run --release --example bench_logistic [path]` generates 1,000,000 × 20 seeded rows,
//! writes them to `path` (default `target/bench_logistic.bin`: u64 n, u64 d, then n·d f64 row-major
//! X, then n f64 labels, all little-endian), times training, then times scoring 10,000,000 rows
//! (X tiled 10 times). `bench_logistic.py` beside this file reads the same file and times sklearn.

use std::io::Write;
use std::time::Instant;

use bullseye::models::logistic::{sigmoid, LogisticParams};
use bullseye::models::metrics::log_loss;
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

const N: usize = 1_000_000;
const D: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench_logistic.bin").into()
    });
    let mut rng = Xoshiro256Plus::seed_from_u64(2024);
    let half_width = 3f64.sqrt();
    let x = Array2::from_shape_fn((N, D), |_| rng.gen_range(-half_width..half_width));
    let beta: Array1<f64> = (0..D).map(|j| ((j % 5) as f64 - 2.0) * 0.3).collect();
    let y = x.dot(&beta).mapv(|z| {
        if rng.gen::<f64>() < sigmoid(z - 1.5) {
            1.0
        } else {
            0.0
        }
    });
    write_matrix(&path, &x, &y)?;
    println!(
        "data: {N} x {D}, base rate {:.4}, written to {path}",
        y.mean().unwrap_or(0.0)
    );

    let t0 = Instant::now();
    let model = LogisticParams::default().fit(x.view(), y.view())?;
    let train_s = t0.elapsed().as_secs_f64();
    let p = model.predict_proba(x.view())?;
    println!(
        "rust newton train: {train_s:.3} s, {} iterations, converged {}, mean log loss {:.8}",
        model.iterations,
        model.converged,
        log_loss(y.view(), p.view())?
    );
    println!(
        "intercept {:.6}, coef[0..3] {:?}",
        model.intercept,
        &model.coefficients.to_vec()[..3]
    );

    let big = concatenate(Axis(0), &vec![x.view(); 10])?;
    let t1 = Instant::now();
    let scores = model.predict_proba(big.view())?;
    let score_s = t1.elapsed().as_secs_f64();
    println!(
        "rust score: {} rows in {score_s:.3} s (mean score {:.6})",
        scores.len(),
        scores.mean().unwrap_or(0.0)
    );
    Ok(())
}

fn write_matrix(path: &str, x: &Array2<f64>, y: &Array1<f64>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(&(x.nrows() as u64).to_le_bytes())?;
    f.write_all(&(x.ncols() as u64).to_le_bytes())?;
    for v in x.iter().chain(y.iter()) {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()
}
