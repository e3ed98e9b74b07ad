//! `bullseye ingest`: validation rules, formats, the reject threshold, user-facing errors.

use polars::prelude::*;

use crate::support::{assert_ok, check_golden, root, stderr, Sandbox};

fn read_parquet(path: &std::path::Path) -> DataFrame {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(f).finish().unwrap()
}

/// The `amount` column of kept transactions.
fn amounts(tx: &DataFrame) -> Vec<f64> {
    let amount = tx.column("amount").unwrap().f64().unwrap();
    amount.into_no_null_iter().collect()
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
    assert_eq!(amounts(&t), [10.5, 12.0, 12.0]);
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

/// Runs `bullseye ARGS` in the sandbox, killed (and the test failed) after `secs` seconds.
pub(crate) fn run_limited(sb: &Sandbox, args: &[&str], secs: u64) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args(args)
        .current_dir(sb.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run bullseye");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed().as_secs() >= secs {
            child.kill().expect("kill");
            let _ = child.wait();
            panic!("bullseye {args:?} still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

pub(crate) fn mkfifo(sb: &Sandbox, name: &str) {
    let status = std::process::Command::new("mkfifo")
        .arg(sb.path(name))
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

/// A FIFO blocks whoever opens it, `/dev/zero` never ends (it grew `ingest` to 19 GB): both are
/// refused at once, as is a folder, for every table and for `read_table`'s readers.
#[test]
fn fifos_devices_and_folders_are_refused_without_hanging() {
    let sb = Sandbox::new(&["ingest/same.csv"]);
    mkfifo(&sb, "fifo.csv");
    std::fs::create_dir(sb.path("folder.csv")).unwrap();
    for (flag, file, what) in [
        ("--transactions", "fifo.csv", "a FIFO (named pipe)"),
        ("--customers", "fifo.csv", "a FIFO (named pipe)"),
        ("--transactions", "/dev/zero", "a device"),
        ("--transactions", "folder.csv", "a folder"),
    ] {
        let out = run_limited(&sb, &["ingest", flag, file, "--out", "out"], 20);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {file}: {}",
            stderr(&out)
        );
        let table = &flag[2..];
        assert_eq!(
            stderr(&out),
            format!(
                "error: `{file}`: not a regular file but {what} (the {table} table); give a file\n"
            )
        );
    }
    // A table read by `read_table` (features, scores): refused the same way.
    let out = run_limited(
        &sb,
        &[
            "segment",
            "--features",
            "fifo.csv",
            "--out",
            "s.csv",
            "--k",
            "2",
        ],
        20,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file but a FIFO (named pipe)"),
        "{}",
        stderr(&out)
    );
}

/// Runs `ingest` on `csv` as the transactions and returns (exit code, stderr).
fn ingest_text(csv: &[u8]) -> (Option<i32>, String) {
    let sb = Sandbox::new(&[]);
    std::fs::write(sb.path("t.csv"), csv).unwrap();
    let out = sb.run(&["ingest", "--transactions", "t.csv", "--out", "out"]);
    (out.status.code(), stderr(&out))
}

/// Invalid UTF-8, a ragged row, an unclosed quote and text after a quote: one line each, with the
/// line of the file (through a quoted line feed), the column, what was expected and a short,
/// escaped piece of what was found; no advice meant for Python users.
#[test]
fn parse_failures_name_line_column_expected_and_found() {
    const HEAD: &str = "customer_id,order_date,amount,category\n1,2024-01-01,5,\"home\ngarden\"\n";
    let long = "x".repeat(500);
    let mut invalid = format!("{HEAD}2,2024-01-02,6,books\n3,2024-01-03,").into_bytes();
    invalid.extend_from_slice(b"\xff7,toys\n");
    for (body, message) in [
        (
            invalid,
            "`t.csv` line 5, column `amount`: expected UTF-8 text, found `\\xFF7`".to_string(),
        ),
        (
            format!("{HEAD}2,2024-01-02,6,books,extra\n").into_bytes(),
            "`t.csv` line 4: expected 4 fields as the header, found 5".to_string(),
        ),
        (
            format!("{HEAD}2,2024-01-02,6,\"{long}\n").into_bytes(),
            format!(
                "`t.csv` line 4, column `category`: expected a closing quote, found `\"{}…`",
                "x".repeat(39)
            ),
        ),
        (
            format!("{HEAD}2,2024-01-02,\"6\"7,books\n").into_bytes(),
            "`t.csv` line 4, column `amount`: expected a separator or a line end after a closing quote, found `\"6\"7`".to_string(),
        ),
    ] {
        let (code, err) = ingest_text(&body);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(err, format!("error: {message}\n"));
    }
}

#[test]
fn a_header_naming_a_column_twice_is_an_error() {
    for header in ["amount,amount", "amount, amount ", "\"amount\",amount"] {
        let (code, err) =
            ingest_text(format!("customer_id,order_date,{header}\n1,2024-01-01,5,6\n").as_bytes());
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(
            err,
            "error: `t.csv`: the header names `amount` more than once; give each column its own name\n"
        );
    }
}

/// Runs `ingest` on the sandbox's `t.csv` as the transactions, whatever share is rejected.
fn ingest_keeping_rejects(sb: &Sandbox) -> std::process::Output {
    sb.run(&[
        "ingest",
        "--transactions",
        "t.csv",
        "--max-reject-rate",
        "1",
        "--out",
        "out",
    ])
}

/// Padded, zero-width and fullwidth spellings of an id are one id: one customer, and with an
/// order id the copies are duplicates — read whole and in pieces alike.
#[test]
fn ids_are_read_by_the_identity_rule() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("t.csv"),
        "order_id,customer_id,order_date,amount\n\
         1,00001,2024-01-01,5\n\
         1, 00001 ,2024-01-01,5\n\
         1,00001\u{200B},2024-01-01,5\n\
         1,\u{FF10}\u{FF10}\u{FF10}\u{FF10}\u{FF11},2024-01-01,5\n\
         2,\"\u{3000}00002\",2024-01-02,6\n\
         3,\u{200B},2024-01-02,6\n",
    )
    .unwrap();
    let out = ingest_keeping_rejects(&sb);
    assert_ok(&out);
    let s = &sb.json("out/ingest.json")["tables"]["transactions"];
    assert_eq!(s["customers"], 2);
    assert_eq!(s["reject_reasons"]["duplicate"], 3);
    assert_eq!(s["reject_reasons"]["missing_customer_id"], 1);
    let kept = read_parquet(&sb.path("out/transactions.parquet"));
    let ids: Vec<&str> = kept
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .no_null_iter()
        .collect();
    assert_eq!(ids, ["00001", "00002"]);
    assert!(sb
        .read("out/rejects/transactions.csv")
        .contains("same as line 2"));
}

/// A value holding line feeds makes its record span several lines: the rejects after it name the
/// line each record starts on (header = line 1), a duplicate its first copy's line.
#[test]
fn reject_lines_count_the_line_feeds_inside_quoted_values() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("t.csv"),
        "order_id,customer_id,order_date,amount,note\r\n\
         1,a,2024-01-01,5,\"gift\r\nwrap\"\r\n\
         2,b,2024-13-01,6,\r\n\
         3,c,2024-01-01,7,\"to the\r\nback\r\ndoor\"\r\n\
         3,c,2024-01-01,7,\"to the\r\nback\r\ndoor\"\r\n\
         4,d,2024-01-01,x,\r\n",
    )
    .unwrap();
    let out = ingest_keeping_rejects(&sb);
    assert_ok(&out);
    assert_eq!(
        sb.read("out/rejects/transactions.csv"),
        "file,line,column,source_column,reason,value,expected\n\
         t.csv,4,order_date,order_date,bad_date,2024-13-01,an ISO date (YYYY-MM-DD) or datetime\n\
         t.csv,8,*,*,duplicate,same as line 5,a row that differs from every earlier row\n\
         t.csv,11,amount,amount,bad_number,x,a number\n"
    );
}

/// Amounts past 10^11 and dates outside 1677-09-22..2262-04-11 are rejected with the value, not
/// wrapped, clamped or kept and ignored.
#[test]
fn amounts_and_dates_out_of_range_are_rejected() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("t.csv"),
        "customer_id,order_date,amount\n\
         1,2024-01-01,5\n\
         2,2024-01-01,500000000000000\n\
         3,2024-01-01,-1e15\n\
         4,2300-01-01,5\n\
         5,1600-01-01,5\n\
         6,2262-04-12T00:00:00,5\n\
         7,2024-01-01,100000000000\n",
    )
    .unwrap();
    let out = ingest_keeping_rejects(&sb);
    assert_ok(&out);
    let s = &sb.json("out/ingest.json")["tables"]["transactions"];
    assert_eq!(s["rows_kept"], 2);
    assert_eq!(s["reject_reasons"]["out_of_range"], 5);
    let rejects = sb.read("out/rejects/transactions.csv");
    for (line, value) in [
        (3, "500000000000000"),
        // text cells of a CSV output that begin with `-` get a `'` (spreadsheet safety)
        (4, "'-1e15"),
        (5, "2300-01-01"),
        (6, "1600-01-01"),
        (7, "2262-04-12T00:00:00"),
    ] {
        assert!(
            rejects.contains(&format!(",{line},"))
                && rejects.contains(&format!("out_of_range,{value},")),
            "line {line}: {rejects}"
        );
    }
    assert!(
        rejects.contains("a number between -1e11 and 1e11"),
        "{rejects}"
    );
    assert!(
        rejects.contains("a date from 1677-09-22 to 2262-04-11"),
        "{rejects}"
    );
}

/// In-range amounts whose sum would overflow the exact fixed-point sums fail the command with
/// the customer's id (ids are not personal; names never appear).
#[test]
fn sums_past_the_exact_range_fail_naming_the_customer() {
    let sb = Sandbox::new(&[]);
    let mut csv = String::from("customer_id,order_date,amount\n00042,2024-01-01,5\n");
    for d in 1..=28 {
        for _ in 0..400 {
            csv.push_str(&format!("00007,2024-02-{d:02},99999999999\n"));
        }
    }
    std::fs::write(sb.path("t.csv"), csv).unwrap();
    let out = sb.run(&[
        "features",
        "--transactions",
        "t.csv",
        "--as-of",
        "2024-06-30",
        "--out",
        "f.csv",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("customer `00007`"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("f.csv").exists());
}

/// `bullseye run` hashes its inputs for the manifest beside the validation: a FIFO given as
/// the transactions is refused by both, and the run ends.
#[test]
fn a_run_given_a_fifo_ends_with_exit_2() {
    let sb = Sandbox::new(&[]);
    mkfifo(&sb, "fifo.csv");
    std::fs::write(
        sb.path("job.toml"),
        "[job]\nname = \"fifo\"\nout = \"runs\"\nas_of = \"1998-06-30\"\nstages = [\"ingest\", \"features\"]\n\n\
         [sources.transactions]\npath = \"fifo.csv\"\n",
    )
    .unwrap();
    let out = run_limited(&sb, &["run", "job.toml", "--quiet"], 30);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file but a FIFO (named pipe)"),
        "{}",
        stderr(&out)
    );
}

/// A retailer's invoice-line export loads with a column mapping alone: amount = quantity × unit
/// price, cancellations (negative quantities) are returns, descriptions are trimmed and stock
/// codes differing only by case are reported, not merged.
#[test]
fn invoice_lines_load_with_a_mapping_alone() {
    let sb = Sandbox::new(&["lines/invoice_lines.csv", "lines/invoice_lines.toml"]);
    let out = sb.run(&["ingest", "--config", "invoice_lines.toml", "--out", "out"]);
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 product codes differ only by case (kept apart): 85123A/85123a"),
        "{stdout}"
    );
    let t = &sb.json("out/ingest.json")["tables"]["transactions"];
    assert_eq!(t["rows_kept"], 14);
    assert_eq!(t["returns"], 3);
    assert_eq!(
        t["product_ids_differing_by_case"],
        serde_json::json!([["85123A", "85123a"]])
    );
    let tx = read_parquet(&sb.path("out/transactions.parquet"));
    let amount = amounts(&tx);
    assert_eq!(&amount[..3], &[15.3, 20.34, 11.1]);
    assert_eq!(amount[5], -27.5);
    assert_eq!(amount[6], 0.3);
    let name = tx.column("product_name").unwrap().str().unwrap().get(0);
    assert_eq!(name, Some("WHITE HANGING HEART T-LIGHT HOLDER"));
}

/// A line with a quantity but no unit price has no amount: rejected, naming the column.
#[test]
fn an_invoice_line_without_a_unit_price_is_rejected() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("t.csv"),
        "customer_id,order_date,quantity,unit_price\na,2024-01-01,2,1.5\nb,2024-01-01,2,\n",
    )
    .unwrap();
    assert_ok(&ingest_keeping_rejects(&sb));
    let rejects = sb.read("out/rejects/transactions.csv");
    assert!(rejects.contains("unit_price,missing_value"), "{rejects}");
    let tx = read_parquet(&sb.path("out/transactions.parquet"));
    assert_eq!(amounts(&tx), [3.0]);
}

/// `[[sources.append]]` brings a zip table's columns into the customers by `zip_code`
/// (leading zeros kept as text), counts the customers without a match in the summary and
/// `ingest.json`, and refuses a zip on two rows with exit 2 naming it.
#[test]
fn an_appended_zip_table_adds_customer_attributes_and_counts_the_unmatched() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("customers.csv"),
        "customer_id,zip_code\nc1,02134\nc2,10001\nc3,99999\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("zips.csv"),
        "zip_code,households,median_income,urban\n02134,10,52000,1\n10001,20,61000,0\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("c.toml"),
        "[sources.customers]\npath = \"customers.csv\"\n\n[[sources.append]]\npath = \"zips.csv\"\nkey = \"zip_code\"\ncolumns = [\"households\", \"median_income\"]\n",
    )
    .unwrap();
    let out = sb.run(&["ingest", "--config", "c.toml", "--out", "out"]);
    assert_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("appended `zips.csv` by `zip_code`: 2 rows in, 2 kept, 0 rejected; 1 customers without a match, 0 rows matching no customer"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let joined = &sb.json("out/ingest.json")["tables"]["customers"]["joined"][0];
    assert_eq!(joined["key"], "zip_code");
    assert_eq!(joined["customers_without_row"], 1);
    let customers = read_parquet(&sb.path("out/customers.parquet"));
    let names: Vec<String> = customers
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        ["customer_id", "zip_code", "households", "median_income"]
    );
    let income: Vec<Option<f64>> = customers
        .column("median_income")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(income, [Some(52000.0), Some(61000.0), None]);

    std::fs::write(
        sb.path("zips.csv"),
        "zip_code,households,median_income\n02134,10,1\n02134,11,2\n",
    )
    .unwrap();
    let out = sb.run(&["ingest", "--config", "c.toml", "--out", "out2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("key `zip_code` value `02134` is on 2 rows"),
        "{}",
        stderr(&out)
    );
}

/// Writes `frame` as a Parquet file at `path`, creating its folders.
fn write_parquet(path: &std::path::Path, frame: &mut DataFrame) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    ParquetWriter::new(f).finish(frame).unwrap();
}

#[test]
fn a_folder_of_parquet_files_is_one_table_with_its_partition_columns() {
    let sb = Sandbox::new(&["ingest/same.csv"]);
    assert_ok(&sb.run(&["ingest", "--transactions", "same.csv", "--out", "csv"]));
    let whole = read_parquet(&sb.path("csv/transactions.parquet"));
    // A hive-partitioned lake table: two partitions, a writer's marker file beside them.
    write_parquet(
        &sb.path("lake/region=north/part-0.parquet"),
        &mut whole.slice(0, 2),
    );
    write_parquet(
        &sb.path("lake/region=south%20east/part-0.parquet"),
        &mut whole.slice(2, whole.height() - 2),
    );
    std::fs::write(sb.path("lake/_SUCCESS"), "").unwrap();
    assert_ok(&sb.run(&["ingest", "--transactions", "lake", "--out", "pq"]));
    assert_eq!(
        sorted_transactions(&sb.path("csv/transactions.parquet")),
        sorted_transactions(&sb.path("pq/transactions.parquet"))
    );
    let summary = std::fs::read_to_string(sb.path("pq/ingest.json")).unwrap();
    assert!(summary.contains("\"rows_in\": 4"), "{summary}");

    // A file whose columns differ from the first file's is named, not stacked.
    let mut short = whole.drop("quantity").unwrap();
    write_parquet(&sb.path("lake/region=west/part-0.parquet"), &mut short);
    let out = sb.run(&["ingest", "--transactions", "lake", "--out", "bad"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("region=west/part-0.parquet") && err.contains("quantity"),
        "{err}"
    );

    // A folder without Parquet files says so.
    std::fs::create_dir_all(sb.path("empty")).unwrap();
    let out = sb.run(&["ingest", "--transactions", "empty", "--out", "none"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no Parquet files"),
        "{}",
        stderr(&out)
    );
}
