//! `bullseye segment` end to end on the bundled CDNOW features.

use crate::support::{assert_ok, root, Sandbox};

fn features(sb: &Sandbox) {
    let config = root().join("notebooks-data/quickstart.toml");
    assert_ok(&sb.run(&[
        "features",
        "--config",
        config.to_str().unwrap(),
        "--as-of",
        "1998-06-30",
        "--families",
        "rfm,btyd,windows,cycle",
        "--out",
        "features.parquet",
    ]));
}

#[test]
fn segments_are_reproducible_and_a_saved_model_reassigns_the_same_clusters() {
    let sb = Sandbox::new(&[]);
    features(&sb);
    for out in ["a", "b"] {
        assert_ok(&sb.run(&[
            "segment",
            "--features",
            "features.parquet",
            "--out",
            &format!("{out}/segments.csv"),
            "--k",
            "5",
            "--seed",
            "7",
            "--save-model",
            &format!("{out}/model"),
        ]));
    }
    let a = sb.read("a/segments.csv");
    assert_eq!(a, sb.read("b/segments.csv"), "same seed, same segments");
    assert_eq!(sb.read("a/model/model.json"), sb.read("b/model/model.json"));
    assert!(a.starts_with(
        "customer_id,rfm_r,rfm_f,rfm_m,rfm_cell,rfm_segment,value_tier,loyalty_grid,cluster\n"
    ));
    assert_eq!(a.lines().count(), 23_571);

    // The weekly job: assign with the saved model, same customers → same clusters.
    assert_ok(&sb.run(&[
        "segment",
        "--features",
        "features.parquet",
        "--out",
        "c/segments.csv",
        "--model",
        "a/model",
    ]));
    assert_eq!(a, sb.read("c/segments.csv"));

    let report = sb.json("a/segments.json");
    let top20 = report["pareto"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["top_customers_pct"] == 20.0)
        .unwrap();
    // CDNOW: the top 20% of customers bring about two thirds of revenue.
    let share = top20["revenue_share"].as_f64().unwrap();
    assert!((share - 0.678).abs() < 0.005, "{share}");
    assert_eq!(report["clusters"].as_array().unwrap().len(), 5);
}

#[test]
fn a_missing_model_column_is_named() {
    let sb = Sandbox::new(&[]);
    features(&sb);
    assert_ok(&sb.run(&[
        "segment",
        "--features",
        "features.parquet",
        "--out",
        "a/s.csv",
        "--k",
        "3",
        "--columns",
        "recency_days,frequency,spend_90d",
        "--save-model",
        "m",
    ]));
    let config = root().join("notebooks-data/quickstart.toml");
    assert_ok(&sb.run(&[
        "features",
        "--config",
        config.to_str().unwrap(),
        "--as-of",
        "1998-06-30",
        "--families",
        "rfm",
        "--out",
        "rfm_only.parquet",
    ]));
    let out = sb.run(&[
        "segment",
        "--features",
        "rfm_only.parquet",
        "--out",
        "b/s.csv",
        "--model",
        "m",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spend_90d"), "{err}");
}
