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
    ] {
        let a = std::fs::read(sb.path(&format!("a/{file}"))).unwrap();
        let b = std::fs::read(sb.path(&format!("b/{file}"))).unwrap();
        assert!(a == b, "{file} differs between two runs");
    }
    let summary = sb.json("a/ingest/ingest.json");
    assert_eq!(summary["tables"]["transactions"]["rows_kept"], 69_659);
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
