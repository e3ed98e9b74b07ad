//! PostgreSQL sources against a real server (`pg_server`): the quickstart read back from a
//! database gives the file run's outputs, bad rows are rejected as in a file, and a wrong
//! password or an unreachable server is exit 2 without the password.

use std::path::Path;
use std::process::{Command, Output};

use crate::pg_server::PgServer;
use crate::support::{assert_ok, root, snapshot, stderr, Sandbox, CDNOW_COLUMNS};

const URL_ENV: &str = "BULLSEYE_PG_URL";

/// Runs `bullseye ARGS` in the sandbox with the database URL in `BULLSEYE_PG_URL`.
fn run_with_url(sb: &Sandbox, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args(args)
        .env(URL_ENV, url)
        .current_dir(sb.dir.path())
        .output()
        .expect("run bullseye")
}

/// The CDNOW whitespace file as CSV with ISO dates, for `\copy`.
fn cdnow_as_csv(dir: &Path) -> String {
    let text = std::fs::read_to_string(root().join("notebooks-data/CDNOW_master.txt")).unwrap();
    let mut csv = String::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let d = f[1];
        csv.push_str(&format!(
            "{},{}-{}-{},{},{}\n",
            f[0],
            &d[..4],
            &d[4..6],
            &d[6..],
            f[2],
            f[3]
        ));
    }
    let path = dir.join("orders.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

/// The quickstart's four tables in schema `crm`, typed as a database would hold them, each
/// with a serial `id` that keeps the file's order.
fn load_quickstart(pg: &PgServer, sb: &Sandbox) {
    let data = root().join("notebooks-data");
    let file = |name: &str| data.join(name).display().to_string();
    pg.psql(&format!(
        r#"CREATE SCHEMA crm;
CREATE TABLE crm.orders (id serial, customer_id text, order_date date, number_of_cds integer, dollar_value numeric);
\copy crm.orders (customer_id, order_date, number_of_cds, dollar_value) FROM '{orders}' WITH (FORMAT csv)
CREATE TABLE crm.customers (id serial, customer_id text, signup_date date, birth_date date, gender text, region text, email_opt_in smallint, sms_opt_in smallint, mail_opt_in smallint);
\copy crm.customers (customer_id, signup_date, birth_date, gender, region, email_opt_in, sms_opt_in, mail_opt_in) FROM '{customers}' WITH (FORMAT csv, HEADER true)
CREATE TABLE crm.contacts (id serial, customer_id text, campaign_id text, contact_date date, channel text, "group" text, responded smallint, response_value numeric, response_date date);
\copy crm.contacts (customer_id, campaign_id, contact_date, channel, "group", responded, response_value, response_date) FROM '{contacts}' WITH (FORMAT csv, HEADER true)
CREATE TABLE crm.suppressions (customer_id text, channel text, reason text);
\copy crm.suppressions FROM '{suppressions}' WITH (FORMAT csv, HEADER true)
GRANT USAGE ON SCHEMA crm TO bullseye;
GRANT SELECT ON ALL TABLES IN SCHEMA crm TO bullseye;
"#,
        orders = cdnow_as_csv(sb.dir.path()),
        customers = file("customers.csv"),
        contacts = file("contacts.csv"),
        suppressions = file("suppressions.csv"),
    ));
}

/// The quickstart's sources, read from the database.
fn pg_sources() -> String {
    format!(
        r#"[ingest]
as_of = "1998-06-30"
max_reject_rate = 0.01

[sources.transactions]
postgres = {{ url_env = "BULLSEYE_PG_URL", query = "SELECT customer_id, order_date AS date, number_of_cds, dollar_value FROM crm.orders ORDER BY id" }}

{CDNOW_COLUMNS}
[sources.customers]
postgres = {{ url_env = "BULLSEYE_PG_URL", query = "SELECT customer_id, signup_date, birth_date, gender, region, email_opt_in, sms_opt_in, mail_opt_in FROM crm.customers ORDER BY id" }}

[sources.contacts]
postgres = {{ url_env = "BULLSEYE_PG_URL", query = "SELECT customer_id, campaign_id, contact_date, channel, \"group\", responded, response_value, response_date FROM crm.contacts ORDER BY id" }}

[sources.suppressions]
postgres = {{ url_env = "BULLSEYE_PG_URL", table = "crm.suppressions" }}
"#
    )
}

/// The bundled quickstart job with its outputs in `out` and its sources from `sources`; the
/// other files it names stay in notebooks-data.
fn quickstart_job(sb: &Sandbox, name: &str, out: &str, sources: &Path) {
    let data = root().join("notebooks-data");
    let job = std::fs::read_to_string(data.join("jobs/quickstart.toml"))
        .unwrap()
        .replace(
            "out = \"../../out/quickstart\"",
            &format!("out = \"{out}\""),
        )
        .replace(
            "sources = \"../quickstart.toml\"",
            &format!("sources = {:?}", sources.display().to_string()),
        )
        .replace("\"../", &format!("\"{}/", data.display()));
    std::fs::write(sb.path(name), job).unwrap();
}

#[test]
fn the_quickstart_read_from_postgres_gives_the_file_runs_outputs() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    load_quickstart(&pg, &sb);
    std::fs::write(sb.path("pg-sources.toml"), pg_sources()).unwrap();
    quickstart_job(
        &sb,
        "file.toml",
        "runs-file",
        &root().join("notebooks-data/quickstart.toml"),
    );
    quickstart_job(&sb, "pg.toml", "runs-pg", &sb.path("pg-sources.toml"));
    assert_ok(&sb.run(&["run", "file.toml", "--quiet"]));
    let out = run_with_url(&sb, &pg.url(), &["run", "pg.toml", "--quiet"]);
    assert_ok(&out);

    let file_run = snapshot(&sb.path("runs-file/1998-06-30"));
    let pg_run = snapshot(&sb.path("runs-pg/1998-06-30"));
    assert_eq!(
        file_run.keys().collect::<Vec<_>>(),
        pg_run.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &file_run {
        assert!(
            pg_run[name] == *bytes,
            "{name} differs between the file run and the database run"
        );
    }

    // The manifest says where the rows came from: the variable and the query, never the URL.
    let manifest = sb.read("runs-pg/1998-06-30/manifest.json");
    assert!(!manifest.contains(&pg.url()) && !manifest.contains("s3cret"));
    let json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let orders = &json["inputs"][0];
    assert_eq!(orders["table"], "transactions");
    assert_eq!(orders["database"]["url_env"], URL_ENV);
    assert!(orders["database"]["query"]
        .as_str()
        .unwrap()
        .contains("FROM crm.orders"));
    assert_eq!(orders["rows_in"], 69659);
    assert_eq!(orders["sha256"].as_str().unwrap().len(), 64);
}

/// A small orders table with one row dated after the as-of day, in a file and in the database.
const ORDERS_CSV: &str =
    "customer_id,order_date,amount\nA,2024-01-02,10.50\nB,2030-01-01,3\nC,2024-02-01,7\n";

fn small_config(source: &str) -> String {
    format!(
        "[ingest]\nas_of = \"2024-06-30\"\nmax_reject_rate = 0.5\n[sources.transactions]\n{source}\n"
    )
}

#[test]
fn a_bad_row_in_the_database_is_rejected_like_a_bad_line_in_a_file() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    std::fs::write(sb.path("orders.csv"), ORDERS_CSV).unwrap();
    pg.psql(&format!(
        "CREATE TABLE orders (customer_id text, order_date date, amount numeric);\n\
         \\copy orders FROM '{}' WITH (FORMAT csv, HEADER true)\n\
         GRANT SELECT ON orders TO bullseye;\n",
        sb.path("orders.csv").display()
    ));
    std::fs::write(sb.path("file.toml"), small_config("path = \"orders.csv\"")).unwrap();
    std::fs::write(
        sb.path("pg.toml"),
        small_config("postgres = { url_env = \"BULLSEYE_PG_URL\", table = \"orders\" }"),
    )
    .unwrap();
    assert_ok(&sb.run(&["ingest", "--config", "file.toml", "--out", "file"]));
    assert_ok(&run_with_url(
        &sb,
        &pg.url(),
        &["ingest", "--config", "pg.toml", "--out", "pg"],
    ));
    let file_rejects = sb.read("file/rejects/transactions.csv");
    let pg_rejects = sb.read("pg/rejects/transactions.csv");
    // The same reject; the database names its source, the row of the result and the row's key
    // (the file its line, after the header).
    assert_eq!(
        pg_rejects,
        file_rejects
            .replacen("file,line,", "file,line,key,", 1)
            .replace(
                "orders.csv,3,",
                "postgres $BULLSEYE_PG_URL: orders,2,customer_id=B,"
            )
            .replace(
                &format!("{},3,", sb.path("orders.csv").display()),
                "postgres $BULLSEYE_PG_URL: orders,2,customer_id=B,"
            )
    );
    assert!(pg_rejects.contains("future_date"), "{pg_rejects}");
    // Past the reject limit, the error's example names the row by its key too.
    std::fs::write(
        sb.path("strict.toml"),
        small_config("postgres = { url_env = \"BULLSEYE_PG_URL\", table = \"orders\" }")
            .replace("max_reject_rate = 0.5", "max_reject_rate = 0.1"),
    )
    .unwrap();
    let strict = run_with_url(
        &sb,
        &pg.url(),
        &["ingest", "--config", "strict.toml", "--out", "strict"],
    );
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
    assert!(
        stderr(&strict).contains("orders` row 2 (customer_id=B), column `order_date`"),
        "{}",
        stderr(&strict)
    );
    assert_eq!(
        std::fs::read(sb.path("file/transactions.parquet")).unwrap(),
        std::fs::read(sb.path("pg/transactions.parquet")).unwrap()
    );
}

#[test]
fn a_wrong_password_or_an_unreachable_server_is_exit_2_without_the_password() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("pg.toml"),
        small_config("postgres = { url_env = \"BULLSEYE_PG_URL\", query = \"SELECT 1\" }"),
    )
    .unwrap();
    let wrong = pg.url().replace("s3cret-pw", "not-the-pw-42");
    let unreachable = {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("postgres://bullseye:not-the-pw-42@127.0.0.1:{port}/crm")
    };
    for (url, says) in [
        (wrong, "password authentication failed"),
        (unreachable, "Connection refused"),
    ] {
        let out = run_with_url(&sb, &url, &["ingest", "--config", "pg.toml", "--out", "o"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(err.contains("postgres $BULLSEYE_PG_URL"), "{err}");
        assert!(!err.contains("not-the-pw-42"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    drop(pg);
}

#[test]
fn an_unsupported_column_type_names_the_column_and_a_cast() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("pg.toml"),
        small_config(
            "postgres = { url_env = \"BULLSEYE_PG_URL\", query = \"SELECT 'A' AS customer_id, ARRAY[1, 2] AS tags\" }",
        ),
    )
    .unwrap();
    let out = run_with_url(
        &sb,
        &pg.url(),
        &["ingest", "--config", "pg.toml", "--out", "o"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("column `tags` is of type `_int4`, which is not read; cast it in the query (e.g. `tags::text`"),
        "{}",
        stderr(&out)
    );
}

/// A job on the CDNOW transactions in the sandbox (`orders.txt`) whose segments go to the
/// database too.
fn write_sink_job(sb: &Sandbox) {
    std::fs::write(
        sb.path("job.toml"),
        format!(
            r#"[job]
name = "sink"
out = "runs"
as_of = "1998-06-30"
stages = ["ingest", "features", "segment"]

[sources.transactions]
path = "orders.txt"
delimiter = "whitespace"
date_format = "%Y%m%d"

{CDNOW_COLUMNS}
[output.postgres]
url_env = "BULLSEYE_PG_URL"
schema = "marketing"
"#
        ),
    )
    .unwrap();
}

/// The sink's segments of the as-of, in a stable order, as psql prints them.
fn sink_rows(pg: &PgServer) -> String {
    pg.psql("SELECT * FROM marketing.segments WHERE as_of = '1998-06-30' ORDER BY customer_id")
}

#[test]
fn the_sink_replaces_the_as_ofs_rows_and_a_killed_write_leaves_the_previous_ones() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    let master = std::fs::read_to_string(root().join("notebooks-data/CDNOW_master.txt")).unwrap();
    std::fs::write(sb.path("orders.txt"), &master).unwrap();
    write_sink_job(&sb);
    for _ in 0..2 {
        assert_ok(&run_with_url(
            &sb,
            &pg.url(),
            &["run", "job.toml", "--quiet"],
        ));
    }
    // Rerun: the as-of's rows are replaced, not added.
    let segments = sb.read("runs/1998-06-30/segments.csv");
    let customers = segments.lines().count() - 1;
    let count = pg.psql("SELECT count(*) FROM marketing.segments WHERE as_of = '1998-06-30'");
    assert_eq!(count.trim(), customers.to_string());
    // Ids stay text: `00001`, not the number 1.
    let first = pg.psql("SELECT min(customer_id) FROM marketing.segments");
    assert_eq!(first.trim(), "00001");
    let before = sink_rows(&pg);

    // Half the customers: a run killed between staging and commit must leave the full set.
    let half: String = master
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.split_whitespace().next().unwrap() < "11800")
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(sb.path("orders.txt"), half).unwrap();
    let flag = sb.path("staged");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args(["run", "job.toml", "--quiet"])
        .env(URL_ENV, pg.url())
        .env("BULLSEYE_TEST_SINK_PAUSE", &flag)
        .current_dir(sb.dir.path())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !flag.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never staged its rows"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Staged but not committed: readers still see the previous rows.
    assert_eq!(sink_rows(&pg), before);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(sink_rows(&pg), before);

    // The same run let through replaces them.
    assert_ok(&run_with_url(
        &sb,
        &pg.url(),
        &["run", "job.toml", "--quiet"],
    ));
    let after = pg.psql("SELECT count(*) FROM marketing.segments WHERE as_of = '1998-06-30'");
    let now = sb.read("runs/1998-06-30/segments.csv").lines().count() - 1;
    assert_eq!(after.trim(), now.to_string());
    assert!(now < customers);
}

/// The quickstart job (two campaigns) writing to `[output.postgres]`: the audiences table holds
/// every audience file's rows under its campaign, and a rerun of the as-of replaces them.
#[test]
fn the_sink_writes_the_runs_audiences_and_a_rerun_replaces_them() {
    let pg = PgServer::start();
    let sb = Sandbox::new(&[]);
    let sources = root().join("notebooks-data/quickstart.toml");
    quickstart_job(&sb, "job.toml", "runs", &sources);
    let mut job = sb.read("job.toml");
    job.push_str("\n[output.postgres]\nurl_env = \"BULLSEYE_PG_URL\"\nschema = \"marketing\"\n");
    std::fs::write(sb.path("job.toml"), job).unwrap();
    // The audience files' (campaign, customer, channel, rank) rows, sorted as the query sorts.
    let expected = || {
        let mut rows = Vec::new();
        for campaign in ["spring-email", "summer-email-and-mail"] {
            let text = sb.read(&format!("runs/1998-06-30/audience/{campaign}/audience.csv"));
            for line in text.lines().skip(1) {
                let cells: Vec<&str> = line.split(',').collect();
                rows.push(format!("{campaign}|{}|{}|{}", cells[1], cells[2], cells[0]));
            }
        }
        rows.sort();
        rows
    };
    let stored = || {
        let out = pg.psql(
            "SELECT campaign, customer_id, channel, rank FROM marketing.audiences \
             WHERE as_of = '1998-06-30' ORDER BY 1, 2, 3, 4",
        );
        let mut rows: Vec<String> = out.lines().map(str::to_string).collect();
        // psql sorts text by the database's collation; compare as Rust sorts.
        rows.sort();
        rows
    };
    assert_ok(&run_with_url(
        &sb,
        &pg.url(),
        &["run", "job.toml", "--quiet"],
    ));
    let first = expected();
    assert!(first.len() > 1000, "{} audience rows", first.len());
    assert_eq!(stored(), first);
    assert_ok(&run_with_url(
        &sb,
        &pg.url(),
        &["run", "job.toml", "--quiet"],
    ));
    // Replaced, not added: the same rows once.
    assert_eq!(expected(), first);
    assert_eq!(stored(), first);
}
