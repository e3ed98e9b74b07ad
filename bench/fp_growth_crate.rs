//! The `fp-growth` crate (crates.io, 0.1.6) on a basket-per-line file, for `bench/basket.py
//! --fp-growth-bin`: prints the itemset count and the mining time, writes `{a,b}<TAB>count`
//! lines to compare with `bullseye basket`'s itemsets.csv. Not part of the build: copy it into a
//! scratch project outside the repository as its `src/main.rs`, with
//! `[dependencies] fp-growth = "=0.1.6"`, and `cargo build --release` there.
//!
//!     fp_growth_crate BASKETS.csv SUPPORT ITEMSETS_OUT
use fp_growth::algorithm::FPGrowth;
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let support: f64 = args[2].parse().unwrap();
    let out = &args[3];
    let t0 = Instant::now();
    let text = std::fs::read_to_string(path).unwrap();
    let baskets: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut v: Vec<&str> = l.split(',').filter(|s| !s.is_empty()).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    let n = baskets.len();
    let min_count = (support * n as f64 - 1e-9).ceil() as usize;
    let t1 = Instant::now();
    let fp = FPGrowth::<&str>::new(baskets, min_count);
    let result = fp.find_frequent_patterns();
    let mine = t1.elapsed().as_secs_f64();
    let total = t0.elapsed().as_secs_f64();
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    for (pattern, count) in result.frequent_patterns().iter() {
        let mut p: Vec<&str> = pattern.clone();
        p.sort_unstable();
        writeln!(f, "{{{}}}\t{}", p.join(","), count).unwrap();
    }
    println!(
        "baskets {n} min_count {min_count} itemsets {} mine_s {mine:.3} total_s {total:.3}",
        result.frequent_patterns_num()
    );
}
