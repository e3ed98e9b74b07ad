//! `bullseye quickstart`: every stage on the bundled data, twice, byte-identical.

use crate::support::{assert_ok, root, Sandbox};

#[test]
fn quickstart_runs_every_stage_and_is_deterministic() {
    let sb = Sandbox::new(&[]);
    let data = root().join("notebooks-data");
    for out in ["a", "b"] {
        assert_ok(&sb.run(&["quickstart", "--data", data.to_str().unwrap(), "--out", out]));
    }
    for file in [
        "ingest/ingest.json",
        "ingest/transactions.parquet",
        "ingest/customers.parquet",
        "ingest/contacts.parquet",
        "ingest/suppressions.parquet",
        "ingest/rejects/transactions.csv",
        "features.parquet",
        "segments.csv",
        "segments.json",
        "models/segments/model.json",
        "models/clv/model.json",
        "clv.csv",
        "models/response/model.json",
        "models/response/metrics.json",
        "models/churn/model.json",
        "scores.csv",
        "audience/audience.csv",
        "audience/excluded.csv",
        "audience/summary.json",
    ] {
        let a = std::fs::read(sb.path(&format!("a/{file}"))).unwrap();
        let b = std::fs::read(sb.path(&format!("b/{file}"))).unwrap();
        assert!(a == b, "{file} differs between two runs");
    }
    let summary = sb.json("a/ingest/ingest.json");
    assert_eq!(summary["tables"]["transactions"]["rows_kept"], 69_659);

    // The pipeline ends in an audience within budget, with a control group, and nobody on the
    // do-not-contact list.
    let audience = sb.read("a/audience/audience.csv");
    assert!(audience.lines().count() > 1_000, "audience is nearly empty");
    let campaign = sb.json("a/audience/summary.json");
    assert!(campaign["spent"].as_f64().unwrap() <= 800.0);
    let suppressed: std::collections::HashSet<String> =
        std::fs::read_to_string(data.join("suppressions.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1].is_empty() || f[1] == "email").then(|| f[0].to_string())
            })
            .collect();
    assert!(suppressed.len() > 500);
    for line in audience.lines().skip(1) {
        let id = line.split(',').nth(1).unwrap();
        assert!(
            !suppressed.contains(id),
            "suppressed customer {id} in the audience"
        );
    }
    assert!(audience.contains(",control,") && audience.contains(",target,"));
    // No temporary files are left behind.
    for entry in walk(&sb.path("a")) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.contains(".tmp-"), "left over: {}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
