//! Times the pure CLV model (no CSV reading of transactions, no summary building) on a summary
//! written by lifetimes' `summary_data_from_transaction_data` (`bench/clv.py` saves it).
//!
//! `cargo run --release --example bench_clv_fit -- summary.csv [horizon]` reads the CSV
//! (header `customer_id,frequency,recency,T,monetary_value`), then times `ClvModel::fit`
//! (BG/NBD + Gamma-Gamma) and the per-customer predictions (P(alive), expected purchases over
//! `horizon` periods (default 30), 12-month CLV with 30 periods a month, i.e. days), and prints
//! one JSON line with the timings and the fitted parameters.

use std::time::Instant;

use bullseye::clv::{
    customer_lifetime_value, fit_bgnbd, fit_gamma_gamma, ClvModel, ClvSettings, CustomerSummaries,
    FitParams,
};

fn read_summary(path: &str) -> Result<(CustomerSummaries, usize), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty summary file")?
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("{path}: no column {name}"))
    };
    let (fi, ri, ti, mi) = (
        col("frequency")?,
        col("recency")?,
        col("T")?,
        col("monetary_value")?,
    );
    let mut s = CustomerSummaries::default();
    let mut dropped = 0usize;
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let get = |i: usize| -> Result<f64, String> {
            fields
                .get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{path}: line {}: bad number in column {i}", n + 2))
        };
        // lifetimes keeps customers first seen on the as-of day (T = 0); their BG/NBD likelihood
        // is 1 whatever the parameters, so leaving them out does not move the estimate.
        if get(ti)? <= 0.0 {
            dropped += 1;
            continue;
        }
        s.frequency.push(get(fi)?);
        s.recency.push(get(ri)?);
        s.t.push(get(ti)?);
        s.monetary_value.push(get(mi)?);
    }
    Ok((s, dropped))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: bench_clv_fit summary.csv [horizon]")?;
    let horizon: f64 = args.get(2).map_or(Ok(30.0), |h| h.parse())?;
    let t0 = Instant::now();
    let (s, dropped_t0) = read_summary(path)?;
    let read_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let model = ClvModel::fit(&s, "days", &FitParams::default())?;
    let fit_s = t1.elapsed().as_secs_f64();
    // The two halves separately (same code path as ClvModel::fit).
    let tb = Instant::now();
    fit_bgnbd(&s, &FitParams::default())?;
    let bgnbd_s = tb.elapsed().as_secs_f64();
    let tg = Instant::now();
    fit_gamma_gamma(&s, &FitParams::default())?;
    let gg_s = tg.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let alive = model.bgnbd.p_alive(&s)?;
    let expected = model.bgnbd.expected_purchases(&s, horizon)?;
    let predict_s = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    let clv = match &model.gamma_gamma {
        Some(gg) => {
            let settings = ClvSettings {
                periods_per_month: 30.0,
                ..ClvSettings::default()
            };
            customer_lifetime_value(&model.bgnbd, gg, &s, &settings)?
        }
        None => Vec::new(),
    };
    let clv_s = t3.elapsed().as_secs_f64();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let bg = &model.bgnbd;
    let gg = model.gamma_gamma.as_ref();
    println!(
        "{{\"customers\": {}, \"dropped_t0\": {dropped_t0}, \"read_s\": {read_s:.4}, \"fit_s\": {fit_s:.4}, \"bgnbd_s\": {bgnbd_s:.4}, \"gg_s\": {gg_s:.4}, \
         \"predict_alive_expected_s\": {predict_s:.4}, \"clv12_s\": {clv_s:.4}, \
         \"r\": {}, \"alpha\": {}, \"a\": {}, \"b\": {}, \"bgnbd_ll\": {}, \
         \"p\": {}, \"q\": {}, \"v\": {}, \"mean_p_alive\": {}, \"mean_expected\": {}, \"mean_clv\": {}}}",
        s.len(),
        bg.r,
        bg.alpha,
        bg.a,
        bg.b,
        bg.log_likelihood,
        gg.map_or(f64::NAN, |g| g.p),
        gg.map_or(f64::NAN, |g| g.q),
        gg.map_or(f64::NAN, |g| g.v),
        mean(&alive),
        mean(&expected),
        mean(&clv),
    );
    Ok(())
}
