//! Deterministic parallel helpers: fixed-size chunks summed in chunk order, so the floating-point
//! result does not depend on how rayon schedules the work (same input → identical output).

use rayon::prelude::*;

use super::error::ClvError;

/// Rows per chunk; below `PARALLEL_MIN` rows everything runs on the calling thread.
const CHUNK: usize = 4096;
const PARALLEL_MIN: usize = 4 * CHUNK;

/// Σ_i f(i) and Σ_i grad_i over `0..n`, where `f` returns the value and adds its gradient into
/// the accumulator it is given.
pub(crate) fn chunked_sum<const K: usize, F>(n: usize, f: F) -> (f64, [f64; K])
where
    F: Fn(usize, &mut [f64; K]) -> f64 + Sync,
{
    let chunk = |c: usize| {
        let mut g = [0.0; K];
        let mut v = 0.0;
        for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
            v += f(i, &mut g);
        }
        (v, g)
    };
    let n_chunks = n.div_ceil(CHUNK);
    let parts: Vec<(f64, [f64; K])> = if n >= PARALLEL_MIN {
        (0..n_chunks).into_par_iter().map(chunk).collect()
    } else {
        (0..n_chunks).map(chunk).collect()
    };
    let mut total = (0.0, [0.0; K]);
    for (v, g) in parts {
        total.0 += v;
        for (acc, gk) in total.1.iter_mut().zip(g) {
            *acc += gk;
        }
    }
    total
}

/// `(0..n).map(f)` collected, in parallel for large `n`; the first error (by index) wins.
pub(crate) fn map_rows<T, F>(n: usize, f: F) -> Result<Vec<T>, ClvError>
where
    T: Send,
    F: Fn(usize) -> Result<T, ClvError> + Sync,
{
    if n >= PARALLEL_MIN {
        (0..n)
            .into_par_iter()
            .with_min_len(CHUNK / 4)
            .map(&f)
            .collect()
    } else {
        (0..n).map(f).collect()
    }
}
