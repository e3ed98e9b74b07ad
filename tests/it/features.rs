//! `bullseye features`: the btyd family against an independent reimplementation of lifetimes'
//! `summary_data_from_transaction_data` (daily periods), and the published sample figures.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::support::{assert_ok, root, write_cdnow_sample_config, Sandbox};

/// lifetimes' summary, computed the plain way: per customer, sum amounts per day; frequency =
/// days − 1, recency = last − first, T = as-of − first (in weeks), monetary = mean of the repeat
/// day totals (0 without repeats).
fn lifetimes_summary(
    rows: &[(String, NaiveDate, f64)],
    as_of: NaiveDate,
) -> BTreeMap<String, [f64; 4]> {
    let mut days: HashMap<&str, BTreeMap<NaiveDate, f64>> = HashMap::new();
    for (id, d, amount) in rows {
        if *d <= as_of {
            *days.entry(id).or_default().entry(*d).or_insert(0.0) += amount;
        }
    }
    days.into_iter()
        .map(|(id, per_day)| {
            let first = *per_day.keys().next().unwrap();
            let last = *per_day.keys().next_back().unwrap();
            let repeats: Vec<f64> = per_day.values().skip(1).copied().collect();
            let monetary = if repeats.is_empty() {
                0.0
            } else {
                repeats.iter().sum::<f64>() / repeats.len() as f64
            };
            let weeks = |a: NaiveDate, b: NaiveDate| (a - b).num_days() as f64 / 7.0;
            (
                id.to_string(),
                [
                    (per_day.len() - 1) as f64,
                    weeks(last, first),
                    weeks(as_of, first),
                    monetary,
                ],
            )
        })
        .collect()
}

fn parse_cdnow(
    path: &std::path::Path,
    id_col: usize,
    date_col: usize,
    amount_col: usize,
    header: bool,
) -> Vec<(String, NaiveDate, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(usize::from(header))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[id_col].to_string(),
                NaiveDate::parse_from_str(f[date_col], "%Y%m%d").unwrap(),
                f[amount_col].parse().unwrap(),
            )
        })
        .collect()
}

fn read_features(path: &std::path::Path) -> BTreeMap<String, [f64; 4]> {
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let ids = df.column("customer_id").unwrap().str().unwrap().clone();
    let cols: Vec<Float64Chunked> = [
        "btyd_frequency",
        "btyd_recency",
        "btyd_t",
        "btyd_monetary_value",
    ]
    .iter()
    .map(|c| df.column(c).unwrap().f64().unwrap().clone())
    .collect();
    (0..df.height())
        .map(|i| {
            (
                ids.get(i).unwrap().to_string(),
                [0, 1, 2, 3].map(|k| cols[k].get(i).unwrap()),
            )
        })
        .collect()
}

#[test]
fn btyd_matches_lifetimes_on_cdnow_master() {
    let sb = Sandbox::new(&[]);
    let config = root().join("notebooks-data/quickstart.toml");
    let out = sb.run(&[
        "features",
        "--config",
        config.to_str().unwrap(),
        "--as-of",
        "1997-09-30",
        "--time-unit",
        "weeks",
        "--families",
        "rfm,btyd",
        "--out",
        "f.parquet",
    ]);
    assert_ok(&out);
    let ours = read_features(&sb.path("f.parquet"));
    let rows = parse_cdnow(
        &root().join("notebooks-data/CDNOW_master.txt"),
        0,
        1,
        3,
        true,
    );
    let expected = lifetimes_summary(&rows, NaiveDate::from_ymd_opt(1997, 9, 30).unwrap());
    assert_eq!(ours.len(), 23_570);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (id, e) in &expected {
        let o = ours[id];
        assert_eq!(o[0], e[0], "frequency of {id}");
        for k in 1..4 {
            assert!(
                (o[k] - e[k]).abs() < 1e-9,
                "{id} field {k}: {} vs {}",
                o[k],
                e[k]
            );
        }
    }
}

#[test]
fn btyd_reproduces_the_published_sample_summary() {
    let sb = Sandbox::new(&[]);
    write_cdnow_sample_config(&sb);
    let out = sb.run(&[
        "features",
        "--config",
        "sample.toml",
        "--as-of",
        "1997-09-30",
        "--time-unit",
        "weeks",
        "--families",
        "btyd",
        "--out",
        "f.parquet",
    ]);
    assert_ok(&out);
    let f = read_features(&sb.path("f.parquet"));
    assert_eq!(f.len(), 2_357);
    let frequency: f64 = f.values().map(|v| v[0]).sum();
    let repeaters = f.values().filter(|v| v[0] > 0.0).count();
    let mean_t = f.values().map(|v| v[2]).sum::<f64>() / f.len() as f64;
    let mean_recency = f.values().map(|v| v[1]).sum::<f64>() / f.len() as f64;
    assert_eq!(frequency, 2_457.0);
    assert_eq!(repeaters, 946);
    assert!((mean_t - 32.7159).abs() < 5e-5, "{mean_t}");
    assert!((mean_recency - 6.8458).abs() < 5e-5, "{mean_recency}");
    let c = f["00004"];
    assert_eq!(c[0], 2.0);
    assert!((c[1] - 30.428571).abs() < 1e-6);
    assert!((c[2] - 38.857143).abs() < 1e-6);
    assert!((c[3] - 22.345).abs() < 1e-9);
}

#[test]
fn list_names_every_family() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&["features", "--list"]);
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "recency_days",
        "btyd_monetary_value",
        "trend_90d",
        "overdue_ratio",
        "share_category_<level>",
        "<attribute>_missing",
    ] {
        assert!(text.contains(name), "{name} missing from --list");
    }
}

/// Invoice lines (with cancellations) whose amounts ingest computes give the same features as
/// the same lines with the amounts precomputed.
#[test]
fn invoice_lines_give_the_features_of_precomputed_amounts() {
    let sb = Sandbox::new(&[
        "lines/invoice_lines.csv",
        "lines/invoice_lines.toml",
        "lines/invoice_amounts.csv",
        "lines/invoice_amounts.toml",
    ]);
    let features = |config: &str| {
        let out_file = format!("{config}.parquet");
        let out = sb.run(&[
            "features",
            "--config",
            &format!("{config}.toml"),
            "--as-of",
            "2011-01-31",
            "--out",
            &out_file,
        ]);
        assert_ok(&out);
        let f = std::fs::File::open(sb.path(&out_file)).unwrap();
        ParquetReader::new(f).finish().unwrap()
    };
    let derived = features("invoice_lines");
    let given = features("invoice_amounts");
    assert_eq!(derived.height(), 4);
    assert!(derived.equals_missing(&given), "{derived}\n{given}");
}
