//! Unit tests of the report: built from small hand-made stage outputs, rendered, round-tripped.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ndarray::{array, Array1, Array2};
use polars::prelude::*;

use super::*;
use crate::models::{
    classification_metrics, ClassifierParams, LogisticParams, Metrics, ModelKind, ModelType,
};
use crate::models::{DriftReport, FeatureDrift, HoldoutInfo, TrainingReport};
use crate::segment::{segment, ClusterParams, KChoice, SegmentParams, Segmentation};
use crate::select::{CurvePoint, ExclusionCounts, ExclusionReason, Objective, Summary};
use crate::types::FeatureMatrix;

const N: usize = 60;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 31).expect("date")
}

/// 60 customers with deterministic, varied recency / frequency / monetary values.
fn features() -> (FeatureMatrix, DataFrame) {
    let ids: Vec<String> = (0..N).map(|i| format!("c{i:03}")).collect();
    let recency: Vec<f64> = (0..N).map(|i| ((i * 37) % 365) as f64).collect();
    let frequency: Vec<f64> = (0..N).map(|i| (1 + (i * 7) % 13) as f64).collect();
    let monetary: Vec<f64> = (0..N)
        .map(|i| {
            if i % 11 == 0 {
                -5.0
            } else {
                ((i * 53) % 97) as f64 * 12.5 + (i as f64).powi(2)
            }
        })
        .collect();
    let mut values = Array2::<f64>::zeros((N, 3));
    for i in 0..N {
        values[[i, 0]] = recency[i];
        values[[i, 1]] = frequency[i];
        values[[i, 2]] = monetary[i];
    }
    let fm = FeatureMatrix {
        ids: ids.clone(),
        columns: vec![
            "recency_days".into(),
            "frequency".into(),
            "monetary_total".into(),
        ],
        values,
    };
    let df = DataFrame::new(
        N,
        vec![
            Column::new("customer_id".into(), &ids),
            Column::new("recency_days".into(), recency),
            Column::new("frequency".into(), frequency),
            Column::new("monetary_total".into(), monetary),
        ],
    )
    .expect("frame");
    (fm, df)
}

fn segmentation(fm: &FeatureMatrix) -> Segmentation {
    let p = SegmentParams {
        cluster: Some(ClusterParams {
            k: KChoice::Fixed(3),
            ..ClusterParams::default()
        }),
        ..SegmentParams::default()
    };
    segment(fm, &p).expect("segment")
}

fn training_report() -> TrainingReport {
    let n = 200;
    let y: Array1<f64> = (0..n)
        .map(|i| f64::from(u8::from(i % 3 == 0 || i < 20)))
        .collect();
    let p: Array1<f64> = (0..n)
        .map(|i| {
            let base = if i % 3 == 0 || i < 20 { 0.55 } else { 0.25 };
            base + ((i * 17) % 40) as f64 / 100.0
        })
        .collect();
    let c = classification_metrics(y.view(), p.view()).expect("metrics");
    TrainingReport {
        schema_version: 1,
        kind: ModelKind::Response,
        model_type: ModelType::Logistic,
        source: "contacts".into(),
        label: "responded".into(),
        rows: 1000,
        positives: 330,
        window: None,
        holdout: HoldoutInfo {
            definition: "time:0.2".into(),
            rows: n,
            hash: "abc".into(),
        },
        training_data_hash: "def".into(),
        treatment: None,
        classifier: ClassifierParams::Logistic(LogisticParams::default()),
        settings: None,
        refit: true,
        feature_levels: BTreeMap::new(),
        notes: Vec::new(),
        metrics: Metrics {
            schema_version: 1,
            classification: Some(c),
            uplift: None,
            permutation_importance: None,
        },
        bullseye_version: "0.1.0".into(),
        cv: None,
        sweep: None,
    }
}

fn clv_frame() -> DataFrame {
    let ids: Vec<String> = (0..N).map(|i| format!("c{i:03}")).collect();
    let p_alive: Vec<f64> = (0..N).map(|i| (i as f64 / N as f64).powf(0.5)).collect();
    let mut clv: Vec<Option<f64>> = (0..N).map(|i| Some((i as f64).powi(2) * 3.0)).collect();
    clv[5] = None;
    DataFrame::new(
        N,
        vec![
            Column::new("customer_id".into(), &ids),
            Column::new("p_alive".into(), p_alive),
            Column::new("clv".into(), clv),
        ],
    )
    .expect("frame")
}

fn summary() -> Summary {
    let n = 40;
    let mut profit = 0.0;
    let mut cost = 0.0;
    let curve = (1..=n)
        .map(|d| {
            cost += 1.0;
            profit += 10.0 - d as f64 * 0.4;
            CurvePoint {
                depth: d,
                fraction: d as f64 / n as f64,
                cumulative_cost: cost,
                cumulative_expected_profit: profit,
                cutoff: d == 22,
            }
        })
        .collect();
    Summary {
        schema_version: 1,
        campaign: "spring-email".into(),
        objective: Objective::Profit,
        seed: 1,
        control_fraction: 0.1,
        budget: 20.0,
        spent: 20.0,
        candidates: 55,
        audience_size: 22,
        target_size: 20,
        control_size: 2,
        channels: Vec::new(),
        expected_responders: 7.5,
        expected_revenue: 150.0,
        expected_profit: 130.0,
        roi: Some(6.5),
        control_expected_responders: 0.7,
        budget_price: 0.0,
        capacity_prices: Vec::new(),
        profit_curve: curve,
        exclusions: [
            (ExclusionReason::Suppressed, 3),
            (ExclusionReason::NoConsent, 2),
            (ExclusionReason::Unprofitable, 10),
            (ExclusionReason::OverBudget, 18),
        ]
        .into_iter()
        .collect::<ExclusionCounts>(),
        matching: Default::default(),
    }
}

fn drift() -> DriftReport {
    DriftReport {
        rows: N,
        features: vec![
            FeatureDrift {
                name: "recency_days".into(),
                psi: Some(0.31),
            },
            FeatureDrift {
                name: "frequency".into(),
                psi: Some(0.02),
            },
            FeatureDrift {
                name: "tenure_days".into(),
                psi: Some(0.5),
            },
            FeatureDrift {
                name: "empty".into(),
                psi: None,
            },
        ],
        score_psi: Some(0.12),
    }
}

/// Net profits 50, 48, …, −68 by customer, returns the largest cost of each.
fn profit_summary() -> crate::segment::ProfitSummary {
    let ids: Vec<String> = (0..N).map(|i| format!("c{i:03}")).collect();
    let net: Vec<f64> = (0..N).map(|i| 50.0 - 2.0 * i as f64).collect();
    let costs = vec![vec![3.0; N], vec![1.0; N], vec![0.5; N]];
    crate::segment::whale(&ids, &net, &costs, &Default::default())
        .expect("whale")
        .summary
}

fn full_report() -> Report {
    let (fm, df) = features();
    let mut seg = segmentation(&fm);
    seg.report.profit = Some(profit_summary());
    let mut b = ReportBuilder::new("weekly <job> & co", as_of());
    b.generated_from(["segments.csv", "clv.csv"])
        .stage_rows("features", N)
        .stage_rows("score", N);
    b.segments(&seg, &df).expect("segments");
    b.model("response", "models/response/v0001", &training_report());
    b.clv(&clv_frame()).expect("clv");
    b.campaign_summary("spring", &summary());
    b.drift(
        "response",
        &drift(),
        &["tenure_days".to_string()],
        Some(0.25),
    );
    b.bought_together(&super::bought_together::tests::mined());
    b.plan(&super::plan::tests::summary());
    b.penetration(&penetration_tables());
    b.build()
}

/// Two regions of four customers: north buys three times as often as south.
fn penetration_tables() -> Vec<crate::analyze::PenetrationTable> {
    use crate::analyze::{
        penetration, Activity, Bands, CustomerBase, Dimension, PenetrationParams,
    };
    let ids: Vec<String> = (0..80).map(|i| format!("c{i:02}")).collect();
    let region: Vec<&str> = (0..80)
        .map(|i| if i < 40 { "north" } else { "south" })
        .collect();
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids.clone()),
        Column::new("region".into(), region),
    ])
    .expect("customers");
    let buyers: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| if *i < 40 { i % 4 != 0 } else { i % 4 == 0 })
        .map(|(_, id)| id.clone())
        .collect();
    let n = buyers.len();
    let day = crate::types::epoch_day(as_of());
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), buyers),
        Column::new("order_date".into(), vec![day; n])
            .cast(&DataType::Date)
            .expect("dates"),
        Column::new("amount".into(), vec![10.0; n]),
    ])
    .expect("transactions");
    let edges = Bands::parse("e", "30").expect("edges");
    let dim = Dimension::parse("region", &edges, "income", &edges).expect("dimension");
    let activity = Activity::from_transactions(&tx, as_of(), 365).expect("activity");
    let base = CustomerBase::build(Some(&customers), &activity, &[dim]).expect("base");
    let params = PenetrationParams {
        min_group: 1,
        market: None,
    };
    penetration(&base, &params).expect("penetration")
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn builder_collects_every_section() {
    let r = full_report();
    let p = r.pareto.as_ref().expect("pareto");
    assert_eq!(p.customers, N);
    assert_eq!(p.curve.len(), N + 1);
    assert_eq!(p.curve[0].customer_share, 0.0);
    assert_eq!(p.curve[0].value_share, 0.0);
    assert!((p.curve[N].value_share - 1.0).abs() < 1e-12);
    assert!(p
        .curve
        .windows(2)
        .all(|w| w[1].value_share >= w[0].value_share));
    let s80 = p.share_for_80pct.expect("80/20 point");
    assert!(s80 > 0.0 && s80 < 1.0);
    assert_eq!(p.tiers.iter().map(|t| t.customers).sum::<usize>(), N);
    let segs = r.segments.as_ref().expect("segments");
    assert_eq!(segs.segments.iter().map(|g| g.customers).sum::<usize>(), N);
    let rev: f64 = segs.segments.iter().map(|g| g.revenue).sum();
    assert!((rev - p.total_revenue).abs() < 1e-6);
    let hm = r.rf_heatmap.as_ref().expect("heat map");
    assert_eq!(hm.counts.iter().flatten().sum::<usize>(), N);
    let hm_rev: f64 = hm.revenue.iter().flatten().sum();
    assert!((hm_rev - p.total_revenue).abs() < 1e-6);
    let cl = r.clusters.as_ref().expect("clusters");
    assert_eq!(cl.clusters.len(), 3);
    assert_eq!(cl.columns.len(), 3);
    assert!(cl
        .clusters
        .iter()
        .all(|c| c.means.len() == 3 && c.centroid.len() == 3));
    assert_eq!(cl.clusters.iter().map(|c| c.customers).sum::<usize>(), N);
    let m = &r.models[0];
    assert_eq!(
        (m.kind.as_str(), m.model_type.as_str()),
        ("response", "logistic")
    );
    assert_eq!(m.metrics.as_ref().expect("metrics").deciles.len(), 10);
    let clv = r.clv.as_ref().expect("clv");
    assert_eq!((clv.customers, clv.missing), (N - 1, 1));
    assert_eq!(
        clv.bins.iter().map(|b| b.count).sum::<usize>() + clv.overflow,
        N - 1
    );
    assert_eq!(clv.p_alive_bins.iter().map(|b| b.count).sum::<usize>(), N);
    let c = &r.campaigns[0];
    assert_eq!(c.cutoff_depth, Some(22));
    assert_eq!(c.exclusions.len(), 8);
    assert_eq!(c.exclusions[0].reason, "no_history");
    assert_eq!(c.exclusions[1].reason, "suppressed");
    let d = &r.drift[0];
    assert!(d
        .features
        .iter()
        .any(|f| f.name == "tenure_days" && f.excluded));
    // tenure_days (0.5) is excluded: the checked maximum is recency_days' 0.31.
    assert_eq!(d.max_checked_psi, Some(0.31));
}

#[test]
fn pareto_point_hand_computed() {
    let ids: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let fm = FeatureMatrix {
        ids: ids.clone(),
        columns: vec![
            "recency_days".into(),
            "frequency".into(),
            "monetary_total".into(),
        ],
        values: array![
            [1.0, 5.0, 50.0],
            [2.0, 4.0, 30.0],
            [3.0, 3.0, 10.0],
            [4.0, 2.0, 10.0],
            [5.0, 1.0, 0.0]
        ],
    };
    let df = DataFrame::new(
        5,
        vec![
            // Another row order than the matrix: looked up by id.
            Column::new("customer_id".into(), ["e", "d", "c", "b", "a"]),
            Column::new("monetary_total".into(), [0.0, 10.0, 10.0, 30.0, 50.0]),
        ],
    )
    .expect("frame");
    let seg = segment(
        &fm,
        &SegmentParams {
            cluster: None,
            ..SegmentParams::default()
        },
    )
    .expect("segment");
    let mut b = ReportBuilder::new("t", as_of());
    b.segments(&seg, &df).expect("segments");
    let r = b.build();
    let p = r.pareto.expect("pareto");
    // Top 2 of 5 customers bring 50 + 30 = 80 of 100.
    assert_eq!(p.share_for_80pct, Some(0.4));
    assert_eq!(p.total_revenue, 100.0);
    let shares: Vec<f64> = p.curve.iter().map(|q| q.value_share).collect();
    assert_eq!(shares, vec![0.0, 0.5, 0.8, 0.9, 1.0, 1.0]);
    assert!(r.clusters.is_none());
}

#[test]
fn html_has_every_chart_and_is_self_contained() {
    let r = full_report();
    let html = render_html(&r).expect("render");
    for kind in CHART_KINDS {
        assert!(
            html.contains(&format!("data-chart=\"{kind}\"")),
            "chart {kind} missing"
        );
    }
    let ids = chart_ids(&r);
    assert_eq!(ids.len(), CHART_KINDS.len());
    for id in &ids {
        assert_eq!(count(&html, &format!("id=\"{id}\"")), 1, "figure {id}");
    }
    assert_eq!(count(&html, "<svg"), ids.len());
    assert_eq!(count(&html, "</svg>"), ids.len());
    assert_eq!(count(&html, "<figure"), count(&html, "</figure>"));
    // No network: the only URL is the SVG namespace.
    let rest = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!rest.contains("http"), "external URL in the page");
    assert!(!html.contains("<script"));
    assert!(!html.contains("NaN") && !html.contains(">inf"));
    // Titles are escaped.
    assert!(html.contains("weekly &lt;job&gt; &amp; co"));
    assert!(!html.contains("<job>"));
    // Key numbers are in the tables.
    assert!(html.contains("80/20") || html.contains("80 %"));
    assert!(html.contains("tenure_days (excluded)"));
    assert!(html.contains("cut-off: 22 customers"));
}

#[test]
fn rendering_is_deterministic_and_json_round_trips() {
    let r = full_report();
    let a = render_html(&r).expect("render");
    let b = render_html(&full_report()).expect("render");
    assert_eq!(a, b);
    let json = serde_json::to_string_pretty(&r).expect("json");
    let back: Report = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, r);
    assert_eq!(render_html(&back).expect("render"), a);
    assert_eq!(
        serde_json::to_string_pretty(&full_report()).expect("json"),
        json
    );
}

#[test]
fn sections_are_optional() {
    let r = ReportBuilder::new("empty", as_of()).build();
    let html = render_html(&r).expect("render");
    assert!(chart_ids(&r).is_empty());
    assert!(!html.contains("<figure") && !html.contains("<svg"));
    assert!(html.contains("<h1>empty</h1>"));
    // A JSON without the optional sections reads back.
    let minimal = r#"{"schema_version":1,"header":{"title":"x","as_of":"2024-01-01","bullseye_version":"0.1.0"}}"#;
    let back: Report = serde_json::from_str(minimal).expect("minimal json");
    assert!(back.pareto.is_none() && back.models.is_empty());
}

#[test]
fn uplift_model_and_duplicate_names() {
    let mut tr = training_report();
    tr.metrics.classification = None;
    let mut b = ReportBuilder::new("t", as_of());
    b.model("m", "a", &training_report())
        .model("m", "b", &training_report())
        .model("u", "c", &tr);
    let r = b.build();
    let ids = chart_ids(&r);
    assert_eq!(ids.len(), 6);
    assert!(ids.contains(&"chart-gains-m".to_string()));
    assert!(ids.contains(&"chart-gains-m-2".to_string()));
    let html = render_html(&r).expect("render");
    assert!(html.contains("No classification metrics"));
}

#[test]
fn bad_frames_name_the_column() {
    let mut b = ReportBuilder::new("t", as_of());
    let df = DataFrame::new(1, vec![Column::new("customer_id".into(), ["a"])]).expect("frame");
    let e = b.clv(&df).expect_err("no clv column");
    assert!(e.to_string().contains("`clv`"), "{e}");
    let (fm, features) = features();
    let seg = segmentation(&fm);
    let e = b
        .segments(&seg, &features.drop("monetary_total").expect("drop"))
        .expect_err("no monetary column");
    assert!(e.to_string().contains("`monetary_total`"), "{e}");
    let short = features.slice(0, 10);
    let e = b.segments(&seg, &short).expect_err("missing customers");
    assert!(e.to_string().contains("not in the features frame"), "{e}");
}

#[test]
fn files_write_and_rerender() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = full_report();
    let (json, html) = write_report(dir.path(), &r).expect("write");
    let first = std::fs::read_to_string(&html).expect("html");
    assert_eq!(read_report(&json).expect("read"), r);
    std::fs::remove_file(&html).expect("rm");
    let out = rerender(dir.path(), None).expect("rerender");
    assert_eq!(out, html);
    assert_eq!(std::fs::read_to_string(&out).expect("html"), first);
    let other = dir.path().join("sub/other.html");
    rerender(dir.path(), Some(&other)).expect("rerender elsewhere");
    assert_eq!(std::fs::read_to_string(&other).expect("html"), first);
    // A report of another layout version is refused with the file named.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("parse");
    v["schema_version"] = serde_json::json!(99);
    std::fs::write(&json, v.to_string()).expect("write");
    let e = rerender(dir.path(), None).expect_err("schema");
    assert!(e.to_string().contains("schema_version 99"), "{e}");
}

/// The drift section marks the features the job's patterns leave out of the fail check, and
/// the largest checked PSI ignores them.
#[test]
fn drift_sections_mark_excluded_features() {
    let mut b = ReportBuilder::new("t", as_of());
    b.drift(
        "m",
        &drift(),
        &["tenure_*".to_string(), "recency_days".to_string()],
        None,
    );
    let d = &b.build().drift[0];
    let excluded: Vec<&str> = (d.features.iter())
        .filter_map(|f| f.excluded.then_some(f.name.as_str()))
        .collect();
    assert_eq!(excluded, ["recency_days", "tenure_days"]);
    assert_eq!(d.max_checked_psi, Some(0.12));
}

#[test]
fn the_penetration_section_ranks_groups_and_calls_out_the_clear_ones() {
    let r = full_report();
    let html = render_html(&r).expect("render");
    assert!(html.contains("<h2>Penetration</h2>"));
    assert!(html.contains("<a href=\"#penetration\">Penetration</a>"));
    // north: 30 of 40 buy (0.75), south 10 of 40 (0.25): indexes 150 and 50, both clear.
    assert!(
        html.contains(
            "Under-penetrated (index below 80 and 1.96 standard errors below the base): south."
        ),
        "{html}"
    );
    assert!(html.contains("Over-penetrated (above 120, 1.96 standard errors above): north."));
    let json = serde_json::to_string(&r).expect("json");
    let back: Report = serde_json::from_str(&json).expect("parse");
    assert_eq!(render_html(&back).expect("render"), html);
}

#[test]
fn the_page_opens_with_what_was_decided_and_the_warnings() {
    let mut b = ReportBuilder::new("weekly", as_of());
    b.currency("EUR")
        .rejects("transactions", 1000, 12, "rejects/transactions.csv")
        .rejects("customers", 50, 0, "rejects/customers.csv");
    b.campaign_summary("spring", &summary());
    b.drift(
        "response",
        &drift(),
        &["tenure_days".to_string()],
        Some(0.25),
    );
    let r = b.build();
    // One warning per problem, in the order found; none for an input without rejects.
    let kinds: Vec<WarningKind> = r.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::Rejects, WarningKind::Drift]);
    assert!(r.warnings[0].message.contains("12 of 1,000 rows"));
    // recency_days (0.31) is over 0.25; tenure_days (0.5) is excluded from the check.
    assert!(r.warnings[1].message.contains("recency_days"));
    assert!(!r.warnings[1].message.contains("tenure_days"));

    let html = render_html(&r).expect("render");
    let decided = html.find("id=\"decided\"").expect("decisions");
    let warnings = html.find("id=\"warnings\"").expect("warnings");
    let campaigns = html.find("id=\"campaigns\"").expect("campaign section");
    assert!(decided < warnings && warnings < campaigns);
    assert!(html.contains("spent / budget (EUR)"));
    assert!(html.contains("cumulative amount (EUR)"));
    assert!(html.contains("the budget, 20.00 EUR:"));
    // A section built without a file says so rather than inventing a path.
    assert!(!html.contains("href=\"audience/"));
    assert!(!html.contains("No audience was published"));
}

#[test]
fn a_weak_model_is_a_warning() {
    let mut weak = training_report();
    let c = weak
        .metrics
        .classification
        .as_mut()
        .expect("classification");
    c.auc = 0.52;
    let mut b = ReportBuilder::new("weekly", as_of());
    b.model("good", "models/good", &training_report());
    b.model("weak", "models/weak", &weak);
    let r = b.build();
    // 200 holdout rows: 0.52 is within two standard errors of 0.5; the hand-made model's own
    // AUC is not.
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(r.warnings[0].kind, WarningKind::WeakModel);
    assert!(r.warnings[0].message.contains("\"weak\""));
}

#[test]
fn a_failed_run_says_that_nothing_was_published() {
    let mut b = ReportBuilder::new("weekly", as_of());
    b.failure(2, Some("ingest"), "12% of rows <rejected>")
        .stage_rows("ingest", 10);
    let r = b.build();
    let html = render_html(&r).expect("render");
    let banner = html.find("No audience was published").expect("banner");
    assert!(banner < html.find("Rows per stage").expect("stages"));
    assert!(html.contains("<code>ingest</code> (exit status 2): 12% of rows &lt;rejected&gt;"));
    assert!(!html.contains("id=\"decided\""));
    let json = serde_json::to_string(&r).expect("json");
    let back: Report = serde_json::from_str(&json).expect("parse");
    assert_eq!(back.failure, r.failure);
    // A report of a run that did not fail has no such key.
    let ok = serde_json::to_string(&ReportBuilder::new("w", as_of()).build()).expect("json");
    assert!(!ok.contains("failure") && !ok.contains("warnings") && !ok.contains("currency"));
}

#[test]
fn long_drift_tables_fold_after_the_top_rows() {
    let mut d = drift();
    d.features = (0..30)
        .map(|i| FeatureDrift {
            name: format!("f{i:02}"),
            psi: Some(f64::from(i) / 100.0),
        })
        .collect();
    let mut b = ReportBuilder::new("weekly", as_of());
    b.drift("response", &d, &[], Some(0.25));
    let html = render_html(&b.build()).expect("render");
    assert!(html.contains("<summary>all 31 rows</summary>"));
    // The short drift table of the full report is not folded.
    let full = render_html(&full_report()).expect("render");
    assert!(!full.contains("<summary>all "));
}

/// Net profits 50, 48, …, −68: 25 customers earn 650, one breaks even, 34 lose 1,190 (total
/// −540): the peak is at the 25th of 60 customers, every loss put down to returns.
#[test]
fn the_profit_section_draws_the_whale_curve_and_the_losses() {
    let r = full_report();
    let s = &r.profit.as_ref().expect("profit").summary;
    assert_eq!(s.total_profit, -540.0);
    assert_eq!((s.peak.customers, s.peak.cumulative_profit), (25, 650.0));
    assert_eq!(
        s.curve.last().expect("end").cumulative_profit,
        s.total_profit
    );
    assert_eq!((s.losing_customers, s.loss), (34, 1190.0));
    let html = render_html(&r).expect("render");
    assert!(html.contains("<h2>Profit</h2>"));
    assert!(html.contains("<a href=\"#profit\">Profit</a>"));
    assert!(html.contains("data-chart=\"whale-curve\""));
    assert!(html.contains("34 customers (56.7%) lose money"), "{html}");
    assert!(html.contains("<td>returns</td><td>34</td>"), "{html}");
    let json = serde_json::to_string(&r).expect("json");
    let back: Report = serde_json::from_str(&json).expect("parse");
    assert_eq!(render_html(&back).expect("render"), html);
    // A report without profit keeps its JSON free of the key.
    let mut plain = r.clone();
    plain.profit = None;
    let value = serde_json::to_value(&plain).expect("json");
    assert!(value.get("profit").is_none(), "{value}");
}
