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

/// An ingest config's `[profit]` lets a standalone `features --families profit` price the lines
/// by its product cost table (a product the table lacks by its category's margin, counted) and
/// the contacts by their channel. a: 150 − (2 × 30 + 10) − 2 (an order) − 0.5 (an e-mail) =
/// 77.5; b: 20 − 20 × 0.8 − 2 − 0.5 = 1.5.
#[test]
fn an_ingest_config_with_profit_builds_the_profit_family() {
    let sb = Sandbox::new(&[]);
    let write = |name: &str, text: &str| std::fs::write(sb.path(name), text).unwrap();
    write(
        "tx.csv",
        "customer_id,order_date,amount,quantity,product_id,category\n\
         a,2024-01-10,100,2,bk,books\na,2024-01-10,50,1,gr,grocery\nb,2024-06-01,20,1,zz,grocery\n",
    );
    write(
        "contacts.csv",
        "customer_id,campaign_id,contact_date,channel\na,c1,2024-02-01,email\nb,c1,2024-02-01,email\n",
    );
    write("costs.csv", "product_id,unit_cost\nbk,30\ngr,10\nbad,x\n");
    let config = "[sources.transactions]\npath = \"tx.csv\"\n[sources.contacts]\npath = \"contacts.csv\"\n\
                  [profit]\nmargin = { default = 0.4, categories = { grocery = 0.2 } }\norder_cost = 2.0\n\
                  contact_cost = { email = 0.5 }\nproduct_costs = \"costs.csv\"\n";
    write("c.toml", config);
    let args = [
        "features",
        "--config",
        "c.toml",
        "--as-of",
        "2024-06-30",
        "--families",
        "profit",
        "--out",
        "f.parquet",
    ];
    let out = sb.run(&args);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 4: `unit_cost` is `x`"), "{stderr}");
    assert!(
        stderr.contains("priced 2 lines; 1 lines were priced by the margin instead (1 of 1 products the table does not list: `zz`"),
        "{stderr}"
    );
    let f = ParquetReader::new(std::fs::File::open(sb.path("f.parquet")).unwrap())
        .finish()
        .unwrap();
    let net: Vec<Option<f64>> = f
        .column("net_profit")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(net, [Some(77.5), Some(1.5)]);
    // A product on two rows is an error naming both lines.
    write("costs.csv", "product_id,unit_cost\nbk,30\ngr,10\nbk,31\n");
    let out = sb.run(&args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "costs.csv`: product `bk`: expected one row per product, found rows on lines 2 and 4"
        ),
        "{stderr}"
    );
}
