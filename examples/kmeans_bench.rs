//! Times the k-means engines on a float64 C-order `.npy` matrix written by `bench/gen_matrix.py`.
//! Usage: `cargo run --release --example kmeans_bench -- /tmp/seg_bench_1m.npy 8 1 [lloyd|linfa|both] [n_seeds] [first_seed]`
//! runs seeds `first_seed..first_seed + n_seeds` (defaults 3 and 0) and prints one line per fit.

use std::time::Instant;

use bullseye::segment::{fit_kmeans, ClusterParams, KChoice, KMeansEngine};
use ndarray::Array2;

fn read_npy(path: &str) -> Array2<f64> {
    let bytes = std::fs::read(path).expect("read npy");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (hlen, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen]).expect("header");
    assert!(header.contains("'<f8'") && header.contains("'fortran_order': False"));
    let shape = header.split("'shape': (").nth(1).expect("shape");
    let dims: Vec<usize> = shape
        .split(')')
        .next()
        .expect("shape end")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let data: Vec<f64> = bytes[start + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Array2::from_shape_vec((dims[0], dims[1]), data).expect("shape")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let x = read_npy(&args[1]);
    let k: usize = args.get(2).map_or(8, |s| s.parse().expect("k"));
    let n_init: usize = args.get(3).map_or(1, |s| s.parse().expect("n_init"));
    let which = args.get(4).map_or("both", String::as_str);
    let engines: Vec<KMeansEngine> = match which {
        "lloyd" => vec![KMeansEngine::Lloyd],
        "linfa" => vec![KMeansEngine::Linfa],
        _ => vec![KMeansEngine::Lloyd, KMeansEngine::Linfa],
    };
    for engine in engines {
        let n_seeds: u64 = args.get(5).map_or(3, |s| s.parse().expect("seeds"));
        let first: u64 = args.get(6).map_or(0, |s| s.parse().expect("first seed"));
        for seed in first..first + n_seeds {
            let p = ClusterParams {
                k: KChoice::Fixed(k),
                n_init,
                seed,
                engine,
                ..ClusterParams::default()
            };
            let t = Instant::now();
            let (fit, _) = fit_kmeans(x.view(), &p).expect("fit");
            println!(
                "{engine:?} k={k} n_init={n_init} seed={seed}: {:.3} s, inertia {:.6e}, n_iter {}",
                t.elapsed().as_secs_f64(),
                fit.inertia,
                fit.n_iter
            );
        }
    }
}
