//! `bullseye export sql`: the exported query, run on DuckDB and PostgreSQL over the canonical
//! transactions, gives Bullseye's own features, scores, clusters and RFM segments (the engines
//! run through `bench/sql_check.py`, which compares and reports).

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::pg_server::PgServer;
use crate::support::{assert_ok, root, stderr, Sandbox};

/// The purchase families: every feature they build has an SQL form.
const FAMILIES: &str = "rfm,btyd,windows,cycle";

/// The Python with duckdb (and pyspark) that `scripts/test` sets up.
fn python() -> PathBuf {
    match std::env::var_os("BULLSEYE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "BULLSEYE_PYTHON is not set: run the tests with scripts/test, which installs a Python with duckdb and pyspark"
        ),
    }
}

fn pg_bin() -> PathBuf {
    match std::env::var_os("BULLSEYE_PG_BIN") {
        Some(p) => PathBuf::from(p),
        None => panic!("BULLSEYE_PG_BIN is not set: run the tests with scripts/test, which installs PostgreSQL"),
    }
}

/// Bullseye's own outputs for a transactions table and the exported query: features of the
/// purchase families, a logistic response model trained on them (a label made up from the
/// features, with noise), its scores, and a 4-cluster segmentation.
/// `sources`: the ingest flags naming the transactions.
fn pipeline(sb: &Sandbox, sources: &[&str], as_of: &str, dialect: &str) {
    let mut ingest = vec!["ingest"];
    ingest.extend(sources);
    ingest.extend(["--as-of", as_of, "--out", "ingest"]);
    assert_ok(&sb.run(&ingest));
    assert_ok(&sb.run(&[
        "features",
        "--transactions",
        "ingest/transactions.parquet",
        "--as-of",
        as_of,
        "--families",
        FAMILIES,
        "--out",
        "features.csv",
    ]));
    write_training_table(sb);
    assert_ok(&sb.run(&[
        "train",
        "response",
        "--table",
        "train.csv",
        "--label",
        "y",
        "--id",
        "customer_id",
        "--out",
        "model",
    ]));
    assert_ok(&sb.run(&[
        "score",
        "--model",
        "model",
        "--features",
        "features.csv",
        "--out",
        "scores.csv",
    ]));
    assert_ok(&sb.run(&[
        "segment",
        "--features",
        "features.csv",
        "--k",
        "4",
        "--save-model",
        "segmentation",
        "--out",
        "segments.csv",
    ]));
    export(sb, dialect, as_of);
}

/// `query.sql` from the model and segmentation [`pipeline`] made.
fn export(sb: &Sandbox, dialect: &str, as_of: &str) {
    assert_ok(&sb.run(&[
        "export",
        "sql",
        "--model",
        "model",
        "--segments",
        "segmentation",
        "--dialect",
        dialect,
        "--as-of",
        as_of,
        "--out",
        "query.sql",
    ]));
}

/// `train.csv`: the features and a 0/1 label that depends on them, flipped for one row in seven.
fn write_training_table(sb: &Sandbox) {
    let text = sb.read("features.csv");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let names: Vec<&str> = header.split(',').collect();
    let col = |name: &str| names.iter().position(|n| *n == name).expect(name);
    let (frequency, recency) = (col("frequency"), col("recency_days"));
    let mut out = format!("{header},y\n");
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let f: f64 = cells[frequency].parse().expect("frequency");
        let r: f64 = cells[recency].parse().expect("recency");
        let label = (f >= 2.0 && r < 180.0) != (i % 7 == 3);
        out.push_str(&format!("{line},{}\n", u8::from(label)));
    }
    std::fs::write(sb.path("train.csv"), out).expect("write train.csv");
}

/// Runs `bench/sql_check.py` on an engine over `query.sql` and the ingested transactions; its
/// JSON findings, asserted to agree.
fn run_check(sb: &Sandbox, engine: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(python())
        .arg(root().join("bench/sql_check.py"))
        .args(["--engine", engine, "--query", "query.sql"])
        .args(["--transactions", "ingest/transactions.parquet"])
        .args(args)
        .current_dir(sb.dir.path())
        .output()
        .expect("run bench/sql_check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{engine} disagrees with bullseye or failed:\n{stdout}\n{}",
        stderr(&out)
    );
    serde_json::from_str(stdout.trim()).expect("JSON findings")
}

/// [`run_check`] against the outputs [`pipeline`] made.
fn check(sb: &Sandbox, engine: &str, extra: &[String]) -> serde_json::Value {
    let mut args = vec![
        "--features",
        "features.csv",
        "--scores",
        "response=scores.csv",
        "--segments",
        "segments.csv",
    ];
    args.extend(extra.iter().map(String::as_str));
    let findings = run_check(sb, engine, &args);
    // Not vacuous: every feature was compared, on every customer.
    assert_eq!(
        findings["features_checked"].as_array().map(Vec::len),
        Some(21),
        "{findings}"
    );
    findings
}

/// A synthetic history: `n` customers, 1–12 orders each over two years, amounts with cents,
/// some returns and several orders on one day.
fn write_synthetic(sb: &Sandbox, n: u64) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let mut out = String::from("customer_id,order_date,amount\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    for c in 0..n {
        let orders = 1 + next(12);
        let first = next(700);
        for _ in 0..orders {
            let day = start + chrono::Days::new(first + next(731 - first));
            let cents = 199 + next(25_000) as i64;
            let amount = if next(20) == 0 { -cents } else { cents };
            out.push_str(&format!(
                "C{c:06},{day},{}.{:02}\n",
                amount / 100,
                (amount % 100).abs()
            ));
        }
    }
    std::fs::write(sb.path("transactions.csv"), out).expect("write transactions.csv");
}

#[test]
fn duckdb_query_agrees_with_bullseye_on_cdnow() {
    let sb = Sandbox::new(&[]);
    // The bundled CDNOW data through the quickstart's own ingest config.
    let config = root().join("notebooks-data/quickstart.toml");
    let config = config.to_str().expect("utf-8 path");
    pipeline(&sb, &["--config", config], "1998-06-30", "duckdb");
    let f = check(&sb, "duckdb", &[]);
    assert_eq!(f["rows"], 23_570, "{f}");
}

/// The synthetic set's as-of day.
const SYNTHETIC_AS_OF: &str = "2025-12-31";

/// [`pipeline`] over a synthetic set of `n` customers, its query exported for `dialect`.
fn synthetic_pipeline(sb: &Sandbox, n: u64, dialect: &str) {
    write_synthetic(sb, n);
    pipeline(
        sb,
        &["--transactions", "transactions.csv"],
        SYNTHETIC_AS_OF,
        dialect,
    );
}

/// `bench/sql_check.py`'s arguments for the server `pg`.
fn postgres_args(pg: &PgServer) -> Vec<String> {
    vec![
        "--psql".into(),
        pg_bin().join("psql").to_string_lossy().into_owned(),
        "--url".into(),
        pg.url(),
    ]
}

/// One pipeline run over a synthetic 100,000-customer set, its query exported for DuckDB,
/// PostgreSQL and Spark (pyspark `local[2]`, Java 17) in turn: about 30 s on a free machine for
/// the first two, generation included, and about a minute more for Spark, most of it the
/// session's start.
#[test]
fn duckdb_postgres_and_spark_agree_with_bullseye_on_a_100k_synthetic_set() {
    let sb = Sandbox::new(&[]);
    synthetic_pipeline(&sb, 100_000, "duckdb");
    let f = check(&sb, "duckdb", &[]);
    assert_eq!(f["rows"], 100_000, "{f}");

    export(&sb, "postgres", SYNTHETIC_AS_OF);
    let pg = PgServer::start();
    let f = check(&sb, "postgres", &postgres_args(&pg));
    assert_eq!(f["rows"], 100_000, "{f}");

    export(&sb, "spark", SYNTHETIC_AS_OF);
    let f = check(&sb, "spark", &[]);
    assert_eq!(f["rows"], 100_000, "{f}");
}

/// The bundled quickstart job (purchase families, customer attributes and the `profit` family
/// priced by its `[profit]` table, with the contacts' costs): its own run, the canonical tables
/// ingested alone, the exported query on DuckDB and PostgreSQL against the run's features,
/// both models' scores, clusters and RFM segments; on DuckDB, PostgreSQL and Spark.
#[test]
fn the_quickstart_jobs_query_agrees_with_its_run_on_duckdb_postgres_and_spark() {
    let sb = Sandbox::new(&[]);
    let quickstart = root().join("notebooks-data/jobs/quickstart.toml");
    let quickstart = quickstart.to_str().expect("utf-8 path");
    assert_ok(&sb.run(&["run", quickstart, "--out", "runs"]));
    let config = root().join("notebooks-data/quickstart.toml");
    let config = config.to_str().expect("utf-8 path");
    assert_ok(&sb.run(&[
        "ingest",
        "--config",
        config,
        "--as-of",
        "1998-06-30",
        "--out",
        "ingest",
    ]));
    let run = "runs/1998-06-30";
    let outputs = [
        "--customers".to_string(),
        "ingest/customers.parquet".into(),
        "--contacts".into(),
        "ingest/contacts.parquet".into(),
        "--features".into(),
        format!("{run}/features.parquet"),
        "--scores".into(),
        format!("response={run}/scores.csv"),
        "--scores".into(),
        format!("churn={run}/scores.csv:churn_score"),
        "--segments".into(),
        format!("{run}/segments.csv"),
    ];
    let pg = PgServer::start();
    for (engine, extra) in [
        ("duckdb", vec![]),
        ("postgres", postgres_args(&pg)),
        ("spark", vec![]),
    ] {
        // `--runs`: the run is where `run --out` put it, not in the job's `out`.
        assert_ok(&sb.run(&[
            "export",
            "sql",
            "--job",
            quickstart,
            "--runs",
            "runs",
            "--dialect",
            engine,
            "--out",
            "query.sql",
        ]));
        let mut args: Vec<&str> = outputs.iter().map(String::as_str).collect();
        args.extend(extra.iter().map(String::as_str));
        let f = run_check(&sb, engine, &args);
        assert_eq!(f["rows"], 23_570, "{engine}: {f}");
        let checked = f["features_checked"].as_array().expect("a list");
        // Every input of the models, the profit figures and the attributes among them.
        assert_eq!(checked.len(), 52, "{engine}: {f}");
        for feature in [
            "net_profit_12m",
            "contact_costs",
            "gender_f",
            "region_other",
        ] {
            assert!(
                checked.iter().any(|c| c == feature),
                "{engine}: {feature}: {f}"
            );
        }
    }
}

/// Exit 2 with `message` on stderr.
fn assert_refused(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(message), "{}", stderr(out));
}

#[test]
fn the_bundled_model_reads_customers_with_its_training_levels() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&[
        "export",
        "sql",
        "--model",
        &root().join("models/response/v0001").to_string_lossy(),
        "--dialect",
        "spark",
        "--as-of",
        "1998-06-30",
        "--customers",
        "crm.customers",
        "--out",
        "q.sql",
    ]);
    assert_ok(&out);
    let q = sb.read("q.sql");
    assert!(q.contains("LEFT JOIN crm.customers AS c"), "{q}");
    // The levels come from the model's metrics.json: `gender_f` is the level `F`.
    assert!(q.contains("a5 = 'F' THEN"), "{q}");
}

#[test]
fn an_unknown_dialect_lists_the_known_ones() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&[
        "export",
        "sql",
        "--dialect",
        "mysql",
        "--as-of",
        "1998-06-30",
        "--out",
        "q.sql",
    ]);
    assert_refused(
        &out,
        "unknown SQL dialect `mysql` (expected spark, postgres, duckdb, bigquery, snowflake)",
    );
}

#[test]
fn a_jobs_registry_model_with_customer_attributes_exports() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("job.toml"),
        format!(
            "[job]\nname = \"sql\"\nout = \"out\"\nas_of = \"1998-06-30\"\nstages = [\"ingest\", \"features\", \"score\"]\n\
             [sources.transactions]\npath = \"t.csv\"\n[models]\nregistry = {:?}\nscore = [\"response\"]\n",
            root().join("models").to_str().expect("utf-8 path")
        ),
    )
    .expect("write job.toml");
    let out = sb.run(&[
        "export",
        "sql",
        "--job",
        "job.toml",
        "--dialect",
        "postgres",
        "--out",
        "q.sql",
    ]);
    assert_ok(&out);
    assert!(sb.read("q.sql").contains("LEFT JOIN customers AS c"));
}
