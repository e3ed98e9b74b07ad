//! `bullseye clv fit|predict|evaluate` end to end on the CDNOW sample (published figures).

use polars::prelude::*;

use crate::support::{assert_ok, write_cdnow_sample_config, Sandbox};

fn sample_sandbox() -> Sandbox {
    let sb = Sandbox::new(&[]);
    write_cdnow_sample_config(&sb);
    sb
}

fn close(found: f64, published: f64, rel: f64) -> bool {
    ((found - published) / published).abs() <= rel
}

#[test]
fn fit_predict_evaluate_reproduce_the_published_figures() {
    let sb = sample_sandbox();
    assert_ok(&sb.run(&[
        "clv",
        "fit",
        "--config",
        "sample.toml",
        "--as-of",
        "1997-09-30",
        "--time-unit",
        "weeks",
        "--out",
        "model",
    ]));
    let m = sb.json("model/model.json");
    for (key, published) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        let v = m["bgnbd"][key].as_f64().unwrap();
        assert!(
            close(v, published, 0.005),
            "bgnbd.{key} = {v}, published {published}"
        );
    }
    assert!((m["bgnbd"]["log_likelihood"].as_f64().unwrap() + 9582.4).abs() < 0.5);
    for (key, published) in [("p", 6.25), ("q", 3.74), ("v", 15.44)] {
        let v = m["gamma_gamma"][key].as_f64().unwrap();
        assert!(
            close(v, published, 0.005),
            "gamma_gamma.{key} = {v}, published {published}"
        );
    }
    assert_eq!(m["gamma_gamma"]["n_customers"], 946);

    let out = sb.run(&[
        "clv",
        "evaluate",
        "--model",
        "model",
        "--config",
        "sample.toml",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--out",
        "holdout.json",
    ]);
    assert_ok(&out);
    let h = sb.json("holdout.json");
    assert!(
        close(h["total_predicted"].as_f64().unwrap(), 1653.4, 0.01),
        "{h}"
    );
    assert_eq!(h["total_actual"].as_f64().unwrap(), 1882.0);

    assert_ok(&sb.run(&[
        "clv",
        "predict",
        "--model",
        "model",
        "--config",
        "sample.toml",
        "--as-of",
        "1997-09-30",
        "--horizon",
        "39",
        "--out",
        "clv.parquet",
    ]));
    let df = ParquetReader::new(std::fs::File::open(sb.path("clv.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), 2_357);
    let ids = df.column("customer_id").unwrap().str().unwrap();
    let row = ids.iter().position(|v| v == Some("00004")).unwrap();
    // Frequency 2, recency 30.43, T 38.86 weeks: 1.226 expected purchases in 39 weeks (published).
    let e = df
        .column("expected_purchases")
        .unwrap()
        .f64()
        .unwrap()
        .get(row)
        .unwrap();
    assert!((e - 1.226).abs() < 5e-4, "{e}");
    let p = df.column("p_alive").unwrap().f64().unwrap();
    assert!(p.into_no_null_iter().all(|v| (0.0..=1.0).contains(&v)));
    let clv = df.column("clv").unwrap().f64().unwrap();
    assert!(clv.into_no_null_iter().all(|v| v >= 0.0 && v.is_finite()));
}
