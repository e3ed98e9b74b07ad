//! `bullseye ingest`: validation rules, formats, the reject threshold, user-facing errors.

use polars::prelude::*;

use crate::support::{assert_ok, check_golden, root, stderr, Sandbox};

fn read_parquet(path: &std::path::Path) -> DataFrame {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(f).finish().unwrap()
}

#[test]
fn cdnow_loads_through_the_bundled_config() {
    let sb = Sandbox::new(&[]);
    let config = root().join("notebooks-data/quickstart.toml");
    let out = sb.run(&[
        "ingest",
        "--config",
        config.to_str().unwrap(),
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let summary = sb.json("out/ingest.json");
    let t = &summary["tables"]["transactions"];
    assert_eq!(t["rows_in"], 69_659);
    assert_eq!(t["rows_kept"], 69_659);
    assert_eq!(t["rows_rejected"], 0);
    assert_eq!(t["customers"], 23_570);
    assert_eq!(t["possible_duplicates"], 255);
    let tx = read_parquet(&sb.path("out/transactions.parquet"));
    assert_eq!(tx.height(), 69_659);
    // Customer ids are strings: leading zeros survive.
    let first = tx
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    assert_eq!(first, "00001");
    assert_eq!(tx.column("order_date").unwrap().dtype(), &DataType::Date);
    for table in ["customers", "contacts", "suppressions"] {
        assert_eq!(summary["tables"][table]["rows_rejected"], 0, "{table}");
        assert!(sb.path(&format!("out/{table}.parquet")).exists());
    }
    assert_eq!(summary["tables"]["customers"]["customers"], 23_570);
}

#[test]
fn each_defect_is_rejected_with_its_reason_and_nothing_is_lost() {
    let sb = Sandbox::new(&["ingest/defects.csv"]);
    let out = sb.run(&[
        "ingest",
        "--transactions",
        "defects.csv",
        "--as-of",
        "2024-02-29",
        "--max-reject-rate",
        "1",
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let s = &sb.json("out/ingest.json")["tables"]["transactions"];
    assert_eq!(s["rows_in"], 10);
    assert_eq!(s["rows_kept"], 4);
    assert_eq!(s["rows_rejected"], 6);
    assert_eq!(s["returns"], 1);
    let reasons = &s["reject_reasons"];
    for (reason, n) in [
        ("missing_customer_id", 1),
        ("bad_date", 1),
        ("bad_number", 1),
        ("future_date", 1),
        ("duplicate", 1),
        ("missing_value", 1),
    ] {
        assert_eq!(reasons[reason], n, "{reason}");
    }
    check_golden(
        "ingest_defects_rejects.csv",
        &sb.read("out/rejects/transactions.csv"),
    );
    let kept = read_parquet(&sb.path("out/transactions.parquet"));
    let ids: Vec<&str> = kept
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .no_null_iter()
        .collect();
    assert_eq!(ids, ["00001", "00007", "00007", "00008"]);
}

#[test]
fn too_many_rejects_exit_with_code_2_and_name_the_reasons() {
    let sb = Sandbox::new(&["ingest/defects.csv"]);
    let out = sb.run(&[
        "ingest",
        "--transactions",
        "defects.csv",
        "--as-of",
        "2024-02-29",
        "--out",
        "out",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("6 of 10 rows rejected"), "{err}");
    assert!(err.contains("bad_date (1)"), "{err}");
    // The rejects are there to look at; the table itself is not written.
    assert!(sb.path("out/rejects/transactions.csv").exists());
    assert!(!sb.path("out/transactions.parquet").exists());
}

fn sorted_transactions(path: &std::path::Path) -> DataFrame {
    read_parquet(path)
        .select(["customer_id", "order_date", "amount", "quantity"])
        .unwrap()
        .sort(
            ["customer_id", "order_date"],
            SortMultipleOptions::default(),
        )
        .unwrap()
}

#[test]
fn headerless_whitespace_parquet_and_csv_load_to_the_same_table() {
    let sb = Sandbox::new(&[
        "ingest/same.csv",
        "ingest/same_headerless.txt",
        "ingest/same_headerless.toml",
    ]);
    assert_ok(&sb.run(&["ingest", "--transactions", "same.csv", "--out", "csv"]));
    assert_ok(&sb.run(&["ingest", "--config", "same_headerless.toml", "--out", "ws"]));
    // A Parquet file with native types (dates as dates, numbers as floats).
    let mut native = read_parquet(&sb.path("csv/transactions.parquet"));
    let f = std::fs::File::create(sb.path("same.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut native).unwrap();
    assert_ok(&sb.run(&["ingest", "--transactions", "same.parquet", "--out", "pq"]));

    let csv = sorted_transactions(&sb.path("csv/transactions.parquet"));
    assert_eq!(csv.height(), 4);
    assert_eq!(
        csv,
        sorted_transactions(&sb.path("ws/transactions.parquet"))
    );
    assert_eq!(
        csv,
        sorted_transactions(&sb.path("pq/transactions.parquet"))
    );
}

#[test]
fn semicolons_and_crlf_are_read() {
    let sb = Sandbox::new(&["ingest/semicolon_crlf.csv"]);
    assert_ok(&sb.run(&[
        "ingest",
        "--transactions",
        "semicolon_crlf.csv",
        "--out",
        "out",
    ]));
    let s = &sb.json("out/ingest.json")["tables"]["transactions"];
    assert_eq!(s["rows_kept"], 3);
    // No order id: an identical row is kept and counted, not rejected.
    assert_eq!(s["possible_duplicates"], 1);
    let t = read_parquet(&sb.path("out/transactions.parquet"));
    let amounts: Vec<f64> = t
        .column("amount")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(amounts, [10.5, 12.0, 12.0]);
}

#[test]
fn error_missing_file() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&["ingest", "--transactions", "nope.csv", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    check_golden("ingest_missing_file.stderr", &stderr(&out));
}

#[test]
fn error_missing_required_column() {
    let sb = Sandbox::new(&["ingest/no_amount.csv"]);
    let out = sb.run(&["ingest", "--transactions", "no_amount.csv", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    check_golden("ingest_missing_column.stderr", &stderr(&out));
}

#[test]
fn error_bad_date_format() {
    let sb = Sandbox::new(&["ingest/bad_dates.csv"]);
    let out = sb.run(&["ingest", "--transactions", "bad_dates.csv", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    check_golden("ingest_bad_date.stderr", &stderr(&out));
}
