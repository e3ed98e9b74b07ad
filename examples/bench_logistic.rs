//! Benchmark of the Newton logistic solver against scikit-learn's lbfgs on the same matrix.
//!
//! `cargo run --release --example bench_logistic -- gen PATH` generates 1,000,000 × 20 seeded rows
//! and writes them to PATH (u64 n, u64 d, then n·d f64 row-major X, then n f64 labels, all
//! little-endian). `… -- run PATH` reads that file, times training, then times scoring
//! 10,000,000 rows (X tiled 10 times), and prints one JSON line. `bench/logistic/bench_logistic.py`
//! reads the same file and times scikit-learn; `bench/logistic/bench.py` alternates the two.

use std::io::{Read, Write};
use std::time::Instant;

use bullseye::models::logistic::{sigmoid, LogisticParams};
use bullseye::models::metrics::log_loss;
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

const N: usize = 1_000_000;
const D: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_logistic gen|run PATH";
    let mode = args.get(1).ok_or(usage)?;
    let path = args.get(2).ok_or(usage)?;
    match mode.as_str() {
        "gen" => generate(path),
        "run" => run(path),
        _ => Err(usage.into()),
    }
}

fn generate(path: &str) -> Result<(), Box<dyn std::error::Error>> {
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
    write_matrix(path, &x, &y)?;
    println!(
        "data: {N} x {D}, base rate {:.4}, written to {path}",
        y.mean().unwrap_or(0.0)
    );
    Ok(())
}

fn run(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = read_matrix(path)?;
    let t0 = Instant::now();
    let model = LogisticParams::default().fit(x.view(), y.view())?;
    let train_s = t0.elapsed().as_secs_f64();
    let p = model.predict_proba(x.view())?;
    let loss = log_loss(y.view(), p.view())?;

    let big = concatenate(Axis(0), &vec![x.view(); 10])?;
    let t1 = Instant::now();
    let scores = model.predict_proba(big.view())?;
    let score_s = t1.elapsed().as_secs_f64();
    let coef = model.coefficients.to_vec();
    println!(
        "{{\"impl\": \"bullseye-newton\", \"train_s\": {train_s:.4}, \"iterations\": {}, \
         \"converged\": {}, \"log_loss\": {loss:.10}, \"intercept\": {:.8}, \
         \"coef0\": {:.8}, \"coef1\": {:.8}, \"coef2\": {:.8}, \"score_rows\": {}, \
         \"score_s\": {score_s:.4}, \"mean_score\": {:.8}}}",
        model.iterations,
        model.converged,
        model.intercept,
        coef[0],
        coef[1],
        coef[2],
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

fn read_matrix(path: &str) -> Result<(Array2<f64>, Array1<f64>), Box<dyn std::error::Error>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let word = |i: usize| -> Result<u64, Box<dyn std::error::Error>> {
        let b = bytes.get(8 * i..8 * i + 8).ok_or("truncated header")?;
        Ok(u64::from_le_bytes(b.try_into()?))
    };
    let (n, d) = (word(0)? as usize, word(1)? as usize);
    if bytes.len() != 16 + 8 * (n * d + n) {
        return Err(format!(
            "{path}: expected {} bytes for {n} x {d}",
            16 + 8 * (n * d + n)
        )
        .into());
    }
    let values: Vec<f64> = bytes[16..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    let y = Array1::from(values[n * d..].to_vec());
    let mut xs = values;
    xs.truncate(n * d);
    Ok((Array2::from_shape_vec((n, d), xs)?, y))
}
