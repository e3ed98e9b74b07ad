//! `bullseye report`: a report built with the library from the quickstart's real outputs,
//! saved as `report.json`, re-rendered by the binary. (The end-to-end "run job → report.html has
//! every chart" test lives with `bullseye run`.)

use std::path::Path;

use bullseye::report::{chart_ids, write_report, Report, ReportBuilder, CHART_KINDS};
use bullseye::run::{models, segment};
use bullseye::segment::SegmentParams;
use bullseye::select::Summary;
use chrono::NaiveDate;

use crate::support::{assert_ok, stderr, Sandbox};

/// Builds the report the `report` stage would build, from the files the quickstart wrote in `qs`.
fn report_from_quickstart(qs: &Path) -> Report {
    let feats =
        bullseye::io::read_table(&qs.join("features.parquet"), &["customer_id"]).expect("features");
    let seg_model = segment::read_model(&qs.join("models/segments")).expect("segments model");
    let seg = segment::segment_frame(&feats, &SegmentParams::default(), Some(&seg_model))
        .expect("segmentation");
    let clv = bullseye::io::read_table(&qs.join("clv.csv"), &["customer_id"]).expect("clv");
    let as_of = NaiveDate::from_ymd_opt(1998, 6, 30).expect("date");
    let mut b = ReportBuilder::new("quickstart", as_of);
    b.generated_from([
        "features.parquet",
        "segments.csv",
        "clv.csv",
        "audience/summary.json",
    ])
    .stage_rows("features", feats.height())
    .stage_rows("clv", clv.height());
    b.segments(&seg, &feats).expect("segments section");
    b.clv(&clv).expect("clv section");
    for name in ["response", "churn"] {
        let dir = qs.join("models").join(name);
        let report = models::load_report(&dir).expect("metrics.json");
        b.model(name, &format!("models/{name}"), &report);
        let artifact = models::load(&dir).expect("model.json");
        let drift = models::drift_report(&artifact, &feats).expect("drift");
        b.drift(name, &drift, &["tenure_days".to_string()], Some(0.25));
    }
    for campaign in ["spring-email", "summer-email-and-mail"] {
        let summary: Summary =
            bullseye::io::read_json(&qs.join("audience").join(campaign).join("summary.json"))
                .expect("summary");
        b.campaign_summary(campaign, &summary);
    }
    // The quickstart's two campaigns are one joint plan: the report has its section.
    let plan: bullseye::plan::PlanSummary =
        bullseye::io::read_json(&qs.join("audience").join("plan.json")).expect("plan");
    b.plan(&plan);
    // And its `[analyze.penetration]`: the tables as penetration.json holds them.
    let penetration: serde_json::Value =
        bullseye::io::read_json(&qs.join("penetration.json")).expect("penetration.json");
    let tables: Vec<bullseye::analyze::PenetrationTable> =
        serde_json::from_value(penetration["tables"].clone()).expect("tables");
    b.penetration(&tables);
    b.build()
}

#[test]
fn report_rerenders_the_html_of_a_run_folder() {
    let sb = Sandbox::new(&[]);
    assert_ok(&sb.run(&["quickstart", "--out", "qs", "--quiet"]));
    // The quickstart is the bundled job: its run folder is OUT/<as-of>/.
    let report = report_from_quickstart(&sb.path("qs/1998-06-30"));
    let run = sb.path("run");
    let (_, html_path) = write_report(&run, &report).expect("write report");
    let written = std::fs::read_to_string(&html_path).expect("html");

    // Default output: RUN_DIR/report.html, byte-identical to what the stage wrote.
    std::fs::remove_file(&html_path).expect("rm");
    let out = sb.run(&["report", "run"]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("report.html"));
    let html = sb.read("run/report.html");
    assert_eq!(html, written);
    // The quickstart's transactions have no products: no "Bought together".
    for kind in CHART_KINDS.iter().filter(|k| **k != "item-affinity") {
        assert!(
            html.contains(&format!("data-chart=\"{kind}\"")),
            "chart {kind} missing"
        );
    }
    let ids = chart_ids(&report);
    // pareto, segments, heat map, clusters, 2 × (gains, lift, calibration), clv, p_alive,
    // two profit curves, 2 × drift, the plan's campaign bars, penetration by region and by age,
    // the whale curve (the job's `[profit]`).
    assert_eq!(ids.len(), 20);
    for id in &ids {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "figure {id} missing"
        );
    }
    assert_eq!(html.matches("<svg").count(), ids.len());
    assert_eq!(html.matches("</svg>").count(), ids.len());
    assert!(!html
        .replace("http://www.w3.org/2000/svg", "")
        .contains("http"));
    assert!(!html.contains("<script"));

    // --out elsewhere, and a second run gives the same bytes.
    assert_ok(&sb.run(&["report", "run", "--out", "copy/r.html"]));
    assert_eq!(sb.read("copy/r.html"), html);
    assert_ok(&sb.run(&["report", "run", "--out", "copy/r.html"]));
    assert_eq!(sb.read("copy/r.html"), html);

    // The JSON holds the same numbers the page shows.
    let json = sb.json("run/report.json");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(
        json["pareto"]["customers"].as_u64(),
        Some(report.pareto.as_ref().expect("pareto").customers as u64)
    );
    assert_eq!(json["models"].as_array().map(Vec::len), Some(2));
}

#[test]
fn report_without_report_json_is_bad_input() {
    let sb = Sandbox::new(&[]);
    std::fs::create_dir_all(sb.path("empty")).expect("mkdir");
    let out = sb.run(&["report", "empty"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("report.json"), "{}", stderr(&out));

    std::fs::write(sb.path("empty/report.json"), "{\"schema_version\": 1}").expect("write");
    let out = sb.run(&["report", "empty"]);
    assert_ok_not(&out);
    assert!(stderr(&out).contains("report.json"), "{}", stderr(&out));
    assert!(!sb.path("empty/report.html").exists());
}

fn assert_ok_not(out: &std::process::Output) {
    assert!(!out.status.success(), "expected a failure");
}
