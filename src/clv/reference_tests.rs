//! Reference tests on the CDNOW data (published BG/NBD / Gamma-Gamma estimates) and a timing
//! check on a simulated million-customer base. Parsing lives here because the library does no I/O.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use super::*;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_day(s: &str) -> i64 {
    let v: i64 = s.parse().unwrap();
    days_from_civil(v / 10_000, v / 100 % 100, v % 100)
}

/// customer → day → day total (several rows of one day are one purchase occasion).
type Days = BTreeMap<String, BTreeMap<i64, f64>>;

fn load(file: &str, date_col: usize, value_col: usize, skip_header: bool) -> Days {
    let path = format!("{}/notebooks-data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Days::new();
    for line in text.lines().skip(usize::from(skip_header)) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let value: f64 = f[value_col].parse().unwrap();
        *out.entry(f[0].to_string())
            .or_default()
            .entry(parse_day(f[date_col]))
            .or_default() += value;
    }
    out
}

fn calibration_end() -> i64 {
    days_from_civil(1997, 9, 30)
}

/// Weekly summaries as of 1997-09-30 and holdout repeat-purchase days to 1998-06-30.
fn summarise(days: &Days) -> (CustomerSummaries, Vec<f64>) {
    let (end, holdout_end) = (calibration_end(), days_from_civil(1998, 6, 30));
    let mut s = CustomerSummaries::default();
    let mut holdout = Vec::new();
    for per_day in days.values() {
        let cal: Vec<(i64, f64)> = per_day
            .iter()
            .filter(|(d, _)| **d <= end)
            .map(|(d, v)| (*d, *v))
            .collect();
        let Some(&(first, _)) = cal.first() else {
            continue;
        };
        let last = cal[cal.len() - 1].0;
        let x = cal.len() - 1;
        s.frequency.push(x as f64);
        s.recency.push((last - first) as f64 / 7.0);
        s.t.push((end - first) as f64 / 7.0);
        let repeat: f64 = cal[1..].iter().map(|(_, v)| v).sum();
        s.monetary_value
            .push(if x > 0 { repeat / x as f64 } else { 0.0 });
        holdout.push(
            per_day
                .keys()
                .filter(|d| **d > end && **d <= holdout_end)
                .count() as f64,
        );
    }
    (s, holdout)
}

fn within(v: f64, want: f64, rel: f64) -> bool {
    (v - want).abs() <= rel * want.abs()
}

#[test]
fn cdnow_sample_matches_published_estimates() {
    let (s, holdout) = summarise(&load("CDNOW_sample.txt", 2, 4, false));
    assert_eq!(s.len(), 2357);
    let t0 = Instant::now();
    let bg = fit_bgnbd(&s, &FitParams::default()).unwrap();
    let fit_time = t0.elapsed();
    println!("sample bg/nbd: {bg:?} in {fit_time:?}");
    for (v, want) in [
        (bg.r, 0.243),
        (bg.alpha, 4.414),
        (bg.a, 0.793),
        (bg.b, 2.426),
    ] {
        assert!(within(v, want, 0.005), "{v} vs {want}");
    }
    assert!(
        (bg.log_likelihood - -9582.4).abs() < 0.5,
        "{}",
        bg.log_likelihood
    );
    assert!(bg.converged && bg.grad_norm <= FitParams::default().gradient_tolerance);
    let se = bg.std_errors.unwrap();
    assert!(
        se.r > 0.0 && se.r < 0.1 && se.b > 0.0 && se.b < 2.0,
        "{se:?}"
    );

    let gg = fit_gamma_gamma(&s, &FitParams::default()).unwrap();
    println!("sample gamma-gamma: {gg:?}");
    assert_eq!(gg.n_customers, 946);
    for (v, want) in [(gg.p, 6.25), (gg.q, 3.74), (gg.v, 15.44)] {
        assert!(within(v, want, 0.005), "{v} vs {want}");
    }
    let rho = gg.spend_frequency_correlation.unwrap();
    assert!(rho.abs() < 0.3, "{rho}");

    let report = evaluate_holdout(&bg, &s, 39.0, &holdout).unwrap();
    println!("holdout: {report:#?}");
    assert_eq!(report.total_actual, 1882.0);
    assert!(
        within(report.total_predicted, 1653.4, 0.01),
        "{}",
        report.total_predicted
    );
    assert_eq!(report.by_frequency.len(), 8);
    assert_eq!(report.alive_deciles.len(), 10);
    assert_eq!(
        report.alive_deciles.iter().map(|d| d.n).sum::<usize>(),
        2357
    );
    assert!(report
        .alive_deciles
        .windows(2)
        .all(|w| w[0].mean_p_alive <= w[1].mean_p_alive));
    // Frequency-0 customers (P(alive) = 1, 60% of the base) rebuy least; the bucket table shows it.
    assert!(report.by_frequency[0].mean_actual < report.by_frequency[7].mean_actual);

    let model = ClvModel::fit(&s, "weeks", &FitParams::default()).unwrap();
    let json: serde_json::Value = serde_json::to_value(&model).unwrap();
    assert!(within(
        json["bgnbd"]["alpha"].as_f64().unwrap(),
        4.414,
        0.005
    ));
    assert!(within(
        json["gamma_gamma"]["q"].as_f64().unwrap(),
        3.74,
        0.005
    ));
    let clv = customer_lifetime_value(&bg, &gg, &s, &ClvSettings::default()).unwrap();
    assert!(clv.iter().all(|v| v.is_finite() && *v >= 0.0));
    println!(
        "sample mean 12-month CLV: {:.2}",
        clv.iter().sum::<f64>() / clv.len() as f64
    );
}

#[test]
fn penalizer_shrinks_the_sample_estimates() {
    let (s, _) = summarise(&load("CDNOW_sample.txt", 2, 4, false));
    let free = fit_bgnbd(&s, &FitParams::default()).unwrap();
    let pen = fit_bgnbd(
        &s,
        &FitParams {
            penalizer: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    let norm = |p: &BgNbdParams| p.theta().iter().map(|v| v * v).sum::<f64>();
    assert!(norm(&pen) < norm(&free), "{pen:?} vs {free:?}");
    assert!(pen.log_likelihood < free.log_likelihood);
    assert!(pen.converged && pen.penalizer == 0.01);
}

#[test]
fn published_point_prediction() {
    let p = BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap();
    let s = CustomerSummaries {
        frequency: vec![2.0],
        recency: vec![30.43],
        t: vec![38.86],
        monetary_value: vec![],
    };
    let v = p.expected_purchases(&s, 39.0).unwrap()[0];
    assert!((v - 1.226).abs() < 5e-4, "{v}");
}

#[test]
fn cdnow_master_matches_reference_estimates() {
    let (s, _) = summarise(&load("CDNOW_master.txt", 1, 3, true));
    assert_eq!(s.len(), 23_570);
    let t0 = Instant::now();
    let bg = fit_bgnbd(&s, &FitParams::default()).unwrap();
    println!(
        "TIMING master bg/nbd fit ({} customers): {:?}; {bg:?}",
        s.len(),
        t0.elapsed()
    );
    for (v, want) in [
        (bg.r, 0.2516),
        (bg.alpha, 4.789),
        (bg.a, 0.7234),
        (bg.b, 2.161),
    ] {
        assert!(within(v, want, 0.005), "{v} vs {want}");
    }
}

/// Marsaglia–Tsang gamma sampler (test-only; rand_distr is not an allowed dependency).
fn gamma(rng: &mut Xoshiro256Plus, shape: f64, scale: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen();
        return gamma(rng, shape + 1.0, scale) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let (u1, u2): (f64, f64) = (rng.gen(), rng.gen());
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.gen();
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v * scale;
        }
    }
}

/// BG/NBD customers acquired uniformly over 12 weeks, observed to day 273; `daily` floors purchase
/// times to days and merges same-day purchases (like real data), otherwise times are exact.
fn simulate(
    n: usize,
    seed: u64,
    (r, alpha, a, b): (f64, f64, f64, f64),
    daily: bool,
) -> CustomerSummaries {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let end_day = 273i64;
    let mut s = CustomerSummaries::default();
    for _ in 0..n {
        let first = rng.gen_range(0..84i64);
        let lambda = gamma(&mut rng, r, 1.0 / alpha) * 7.0_f64.recip(); // per day
        let (g1, g2) = (gamma(&mut rng, a, 1.0), gamma(&mut rng, b, 1.0));
        let p = g1 / (g1 + g2);
        let (mut now, mut last, mut x) = (first as f64, first as f64, 0usize);
        loop {
            let u: f64 = rng.gen();
            now += -(1.0 - u).ln() / lambda;
            let when = if daily { now.floor() } else { now };
            if when > end_day as f64 {
                break;
            }
            if when > last {
                x += 1;
                last = when;
            }
            // BG/NBD: dropout may follow any repeat purchase, never the first one.
            if rng.gen::<f64>() < p {
                break;
            }
        }
        s.frequency.push(x as f64);
        s.recency.push((last - first as f64) / 7.0);
        s.t.push((end_day - first) as f64 / 7.0);
    }
    s
}

#[test]
fn million_simulated_customers_recover_parameters_quickly() {
    let truth = (0.25, 4.0, 0.8, 2.5);
    let t0 = Instant::now();
    let s = simulate(1_000_000, 7, truth, true);
    let sim_time = t0.elapsed();
    let t1 = Instant::now();
    let bg = fit_bgnbd(&s, &FitParams::default()).unwrap();
    let fit_time = t1.elapsed();
    let t3 = Instant::now();
    let n_unique = CompressedSummaries::from_summaries(&s).len();
    let compress_time = t3.elapsed();
    println!(
        "TIMING 1M synthetic: simulate {sim_time:?}, fit {fit_time:?} of which compression {compress_time:?} ({n_unique} unique triples, {} iterations); {bg:?}",
        bg.iterations
    );
    // Daily discretisation merges same-day purchases, so allow a few percent.
    for (v, want) in [
        (bg.r, truth.0),
        (bg.alpha, truth.1),
        (bg.a, truth.2),
        (bg.b, truth.3),
    ] {
        assert!(within(v, want, 0.1), "{v} vs {want}");
    }
    let again = fit_bgnbd(&s, &FitParams::default()).unwrap();
    assert_eq!(again, bg);
    let t2 = Instant::now();
    let alive = bg.p_alive(&s).unwrap();
    let expected = bg.expected_purchases(&s, 39.0).unwrap();
    println!(
        "TIMING 1M predictions (p_alive + expected_purchases(39)): {:?}",
        t2.elapsed()
    );
    assert!(alive
        .iter()
        .chain(&expected)
        .all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn continuous_time_simulation_recovers_parameters_within_standard_errors() {
    let truth = (0.25, 4.0, 0.8, 2.5);
    let s = simulate(200_000, 11, truth, false);
    let bg = fit_bgnbd(&s, &FitParams::default()).unwrap();
    let se = bg.std_errors.unwrap();
    println!("continuous 200k: {bg:?}");
    for (v, want, se) in [
        (bg.r, truth.0, se.r),
        (bg.alpha, truth.1, se.alpha),
        (bg.a, truth.2, se.a),
        (bg.b, truth.3, se.b),
    ] {
        assert!((v - want).abs() < 4.0 * se, "{v} vs {want} (se {se})");
    }
}
