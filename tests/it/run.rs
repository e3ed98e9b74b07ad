//! `bullseye run JOB.toml` (and `bullseye quickstart`, the bundled job): every stage end to end,
//! byte-identical reruns, bad input (exit 2) and drift (exit 3) that leave the published run alone,
//! and `kill -9` at any moment leaving only complete outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{assert_ok, check_golden, root, snapshot, stderr, Sandbox, CDNOW_COLUMNS};

const AS_OF: &str = "1998-06-30";

/// The manifest without what is measured (start time, durations) or machine-specific (paths).
fn stable_manifest(m: &Value) -> Value {
    let mut m = m.clone();
    let o = m.as_object_mut().unwrap();
    o.remove("started_at");
    o.remove("total_seconds");
    for s in o["stages"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.remove("seconds");
        for p in s
            .get_mut("parts")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            p.as_object_mut().unwrap().remove("seconds");
        }
    }
    m
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// What a reader relies on in a manifest, without hashes that depend on floating point details or
/// paths of this machine: the golden file.
fn manifest_digest(m: &Value) -> String {
    let mut lines = vec![
        format!("job {} as of {}", m["job"]["name"], m["job"]["as_of"]),
        format!("stages {}", m["job"]["stages"]),
        format!("exit_status {} error {}", m["exit_status"], m["error"]),
    ];
    for i in m["inputs"].as_array().unwrap() {
        lines.push(format!(
            "input {} bytes {} sha256 {} rows in {} kept {} rejected {} rejects {}",
            i["table"],
            i["bytes"],
            i["sha256"],
            i["rows_in"],
            i["rows_kept"],
            i["rows_rejected"],
            i["rejects"]
        ));
    }
    for x in m["models"].as_array().unwrap() {
        lines.push(format!("model {} {} {}", x["name"], x["source"], x["path"]));
    }
    for s in m["stages"].as_array().unwrap() {
        lines.push(format!("stage {} rows {}", s["name"], s["rows"]));
    }
    for o in m["outputs"].as_array().unwrap() {
        lines.push(format!("output {}", o["path"]));
    }
    let d = &m["drift"];
    lines.push(format!(
        "drift fail_above {} action {} over {}",
        d["fail_above"], d["action"], d["over_threshold"]
    ));
    lines.join("\n") + "\n"
}

fn customers_on_do_not_contact_list(channel: &str) -> std::collections::HashSet<String> {
    std::fs::read_to_string(root().join("notebooks-data/suppressions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].is_empty() || f[1] == channel).then(|| f[0].to_string())
        })
        .collect()
}

#[test]
fn quickstart_job_runs_every_stage_and_reruns_byte_identical() {
    let sb = Sandbox::new(&[]);
    let job = root().join("notebooks-data/jobs/quickstart.toml");
    let out = sb.run(&["run", job.to_str().unwrap(), "--out", "runs"]);
    assert_ok(&out);
    let dir = sb.path(&format!("runs/{AS_OF}"));
    let first = snapshot(&dir);
    let m = manifest(&dir);
    // The golden manifest records drift over the threshold on purpose: CDNOW is one cohort that
    // goes quiet, so mid-1998 recency and scores are far from the campaign-time training rows
    // (PSI 1–2). The job says so and sets `drift.action = "warn"`, so the run still selects;
    // the run must report the drift, not hide it.
    assert_eq!(m["drift"]["action"], "warn");
    assert!(!m["drift"]["over_threshold"].as_array().unwrap().is_empty());
    check_golden("run_quickstart_manifest.txt", &manifest_digest(&m));
    assert_eq!(m["bullseye_version"], env!("CARGO_PKG_VERSION"));
    // The outputs listed in the manifest are the files on disk, with their hashes.
    let listed: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed, first.keys().map(String::as_str).collect::<Vec<_>>());

    // Audiences within budget, with a control group, and nobody on the do-not-contact list.
    let audience = sb.read(&format!("runs/{AS_OF}/audience/spring-email/audience.csv"));
    assert!(audience.lines().count() > 1_000, "audience is nearly empty");
    assert!(audience.contains(",control,") && audience.contains(",target,"));
    let summary = sb.json(&format!("runs/{AS_OF}/audience/spring-email/summary.json"));
    assert!(summary["spent"].as_f64().unwrap() <= 800.0);
    let suppressed = customers_on_do_not_contact_list("email");
    assert!(suppressed.len() > 500);
    for line in audience.lines().skip(1) {
        let id = line.split(',').nth(1).unwrap();
        assert!(
            !suppressed.contains(id),
            "suppressed customer {id} in the audience"
        );
    }
    // Two campaigns: one joint plan. Nobody in both target groups, no control member contacted.
    let lists: Vec<Vec<(String, String)>> = ["spring-email", "summer-email-and-mail"]
        .iter()
        .map(|c| crate::plan::audience(&sb, &format!("runs/{AS_OF}/audience/{c}/audience.csv")))
        .collect();
    let in_group = |g: &str| -> Vec<std::collections::HashSet<&str>> {
        lists
            .iter()
            .map(|l| {
                l.iter()
                    .filter(|r| r.1 == g)
                    .map(|r| r.0.as_str())
                    .collect()
            })
            .collect()
    };
    let (targets, controls) = (in_group("target"), in_group("control"));
    assert_eq!(targets[0].intersection(&targets[1]).count(), 0);
    assert!(!controls[0].is_empty() && !controls[1].is_empty());
    for t in &targets {
        for c in &controls {
            assert_eq!(t.intersection(c).count(), 0, "control members contacted");
        }
    }
    assert!(sb
        .path(&format!("runs/{AS_OF}/audience/plan.json"))
        .is_file());

    // The HTML report holds every chart.
    let html = sb.read(&format!("runs/{AS_OF}/report.html"));
    // It opens with what was decided, each campaign linking to its audience file, which exists.
    assert!(html.find("id=\"decided\"") < html.find("id=\"pareto\""));
    for campaign in ["spring-email", "summer-email-and-mail"] {
        let file = format!("audience/{campaign}/audience.csv");
        assert!(html.contains(&format!("href=\"{file}\"")), "{file}");
        assert!(sb.path(&format!("runs/{AS_OF}/{file}")).is_file(), "{file}");
    }
    for chart in [
        "pareto",
        "rfm-segments",
        "rf-heatmap",
        "cluster-profiles",
        "gains",
        "lift",
        "calibration",
        "clv-histogram",
        "p-alive",
        "profit-curve",
        "drift",
        "plan-campaigns",
        "whale-curve",
    ] {
        assert!(
            html.contains(&format!("data-chart=\"{chart}\"")),
            "report.html lacks the {chart} chart"
        );
    }
    check_profit_outputs(&dir);
    value_by_profit(&sb, &dir);
    // Two campaigns make a joint plan: the report carries its section, numbers as plan.json.
    assert!(html.contains("<h2>Plan</h2>"));
    let plan = sb.json(&format!("runs/{AS_OF}/audience/plan.json"));
    let report = sb.json(&format!("runs/{AS_OF}/report.json"));
    assert_eq!(report["plan"]["summary"], plan);
    assert_eq!(plan["campaigns"].as_array().map(Vec::len), Some(2));

    // The quickstart command is the same job: same bytes, published over the first run.
    let again = sb.run(&["quickstart", "--out", "runs", "--quiet"]);
    assert_ok(&again);
    assert!(again.stdout.is_empty(), "--quiet printed something");
    let second = snapshot(&dir);
    for (file, bytes) in &first {
        assert!(
            second.get(file) == Some(bytes),
            "{file} differs between runs"
        );
    }
    assert_eq!(first.len(), second.len());
    assert_eq!(stable_manifest(&m), stable_manifest(&manifest(&dir)));
    // Nothing else is left in the output folder: no staging folder, no temporary file.
    let entries: Vec<String> = std::fs::read_dir(sb.path("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        // The lock file of the output folder stays (see `io::OutputLock`), and so does the
        // campaign ledger of a job that selects (with its journal after a kill).
        .filter(|f| f != &format!(".{AS_OF}.lock") && !f.starts_with("bullseye.db"))
        .collect();
    assert_eq!(entries, vec![AS_OF.to_string()]);
    assert!(first.keys().all(|f| !f.contains(".tmp-")));
}

/// The quickstart's `[profit]`: the whale curve ends at the features' total net profit,
/// `unprofitable.csv` lists exactly the customers below zero (ids and costs only), the
/// segments carry a profit tier and the scores the profit columns a campaign can value by.
fn check_profit_outputs(dir: &Path) {
    let feats = bullseye::io::read_table(&dir.join("features.parquet"), &["customer_id"])
        .expect("features");
    let column = |name: &str| -> Vec<f64> {
        let c = feats.column(name).expect(name);
        c.f64().expect("f64").into_no_null_iter().collect()
    };
    let net = column("net_profit");
    let total: f64 = net.iter().sum();
    let curve = std::fs::read_to_string(dir.join("whale_curve.csv")).expect("whale_curve.csv");
    let mut rows = curve.lines();
    assert_eq!(
        rows.next(),
        Some("customers_pct,customers,cumulative_profit,profit_share")
    );
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 101);
    let end: f64 = rows[100][2].parse().expect("number");
    assert!(
        (end - total).abs() <= 1e-6 * total.abs().max(1.0),
        "the curve ends at {end}, the customers' profits sum to {total}"
    );
    assert_eq!(rows[100][1], net.len().to_string());
    let peak = rows
        .iter()
        .map(|r| r[2].parse::<f64>().expect("number"))
        .fold(f64::MIN, f64::max);
    let losing = net.iter().filter(|p| **p < 0.0).count();
    assert!(
        losing > 0 && peak > total,
        "no whale: {losing} losing, peak {peak}"
    );
    let listed = std::fs::read_to_string(dir.join("unprofitable.csv")).expect("unprofitable");
    let mut lines = listed.lines();
    assert_eq!(
        lines.next(),
        Some("customer_id,net_profit,reason,returns_cost,order_costs,contact_costs")
    );
    let ids = feats
        .column("customer_id")
        .expect("ids")
        .str()
        .expect("str")
        .clone();
    let mut expected: Vec<&str> = (0..net.len())
        .filter(|&i| net[i] < 0.0)
        .map(|i| ids.get(i).expect("id"))
        .collect();
    let mut got: Vec<&str> = lines.map(|l| l.split(',').next().expect("id")).collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    let segments = std::fs::read_to_string(dir.join("segments.csv")).expect("segments");
    assert!(segments
        .lines()
        .next()
        .expect("header")
        .ends_with(",profit_tier"));
    assert!(segments.contains(",unprofitable\n"));
    let scores = std::fs::read_to_string(dir.join("scores.csv")).expect("scores");
    assert!(scores
        .lines()
        .next()
        .expect("header")
        .ends_with(",gross_profit,net_profit,net_profit_12m"));
}

/// A campaign valued by each customer's net profit of the last 12 months reads it from the
/// run's scores: customers who lose money are worth nothing to contact, so the audience is only
/// customers who made money.
fn value_by_profit(sb: &Sandbox, dir: &Path) {
    let data = root().join("notebooks-data");
    std::fs::write(
        sb.path("by-profit.toml"),
        format!(
            "[campaign]\nname = \"by-profit\"\nbudget = 100.0\nobjective = \"profit\"\nvalue_column = \"net_profit_12m\"\n\n[[channel]]\nname = \"email\"\ncost = 0.10\nscore_column = \"score\"\nconsent_column = \"email_opt_in\"\n\n[suppression]\nfiles = [\"{}\"]\n",
            data.join("suppressions.csv").display()
        ),
    )
    .unwrap();
    let scores = dir.join("scores.csv");
    let config = data.join("quickstart.toml");
    let out = sb.run(&[
        "select",
        "--scores",
        scores.to_str().unwrap(),
        "--campaign",
        "by-profit.toml",
        "--config",
        config.to_str().unwrap(),
        "--out",
        "by-profit",
    ]);
    assert_ok(&out);
    let scores = std::fs::read_to_string(&scores).unwrap();
    let header: Vec<&str> = scores.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|c| *c == "net_profit_12m").unwrap();
    let profit: std::collections::HashMap<&str, f64> = scores
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0], cells[at].parse().unwrap_or(f64::NAN))
        })
        .collect();
    let audience = sb.read("by-profit/audience.csv");
    let targets: Vec<&str> = audience
        .lines()
        .skip(1)
        .filter(|l| l.contains(",target,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(targets.len() > 100, "{} targets", targets.len());
    assert!(
        targets.iter().all(|id| profit[id] > 0.0),
        "a customer who lost money over the last year is in the audience"
    );
}

/// A job on a copy of the CDNOW transactions in the sandbox, so the test can corrupt them.
fn write_small_job(sb: &Sandbox, stages: &str) -> PathBuf {
    std::fs::copy(
        root().join("notebooks-data/CDNOW_master.txt"),
        sb.path("transactions.txt"),
    )
    .unwrap();
    let job = sb.path("job.toml");
    std::fs::write(
        &job,
        format!(
            r#"[job]
name = "small"
out = "runs"
as_of = "{AS_OF}"
stages = [{stages}]

[ingest]
max_reject_rate = 0.01

[sources.transactions]
path = "transactions.txt"
delimiter = "whitespace"
date_format = "%Y%m%d"
{CDNOW_COLUMNS}"#
        ),
    )
    .unwrap();
    job
}

/// `segments.csv` is written beside a later stage; when that stage fails, the failed run's
/// folder still holds it, whole, as when the segment stage wrote it itself.
#[test]
fn a_run_failing_after_segment_keeps_its_segments_file() {
    let sb = Sandbox::new(&[]);
    let job = write_small_job(&sb, r#""ingest", "features", "segment""#);
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let whole = sb.read(&format!("runs/{AS_OF}/segments.csv"));
    assert!(whole.lines().count() > 1_000);
    let text = std::fs::read_to_string(&job).unwrap().replace(
        r#"stages = ["ingest", "features", "segment"]"#,
        r#"stages = ["ingest", "features", "segment", "score"]"#,
    );
    // A model folder whose file is not a model: found when the job starts, refused in `score`.
    std::fs::create_dir_all(sb.path("bad-model")).unwrap();
    std::fs::write(sb.path("bad-model/model.json"), "{}").unwrap();
    std::fs::write(
        &job,
        format!("{text}\n[models]\nresponse = \"bad-model\"\nscore = [\"response\"]\n"),
    )
    .unwrap();
    let out = sb.run(&["run", "job.toml", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let failed = format!("runs/{AS_OF}.failed");
    assert_eq!(manifest(&sb.path(&failed))["failed_stage"], "score");
    assert_eq!(sb.read(&format!("{failed}/segments.csv")), whole);
}

#[test]
fn too_many_bad_rows_exit_2_and_leave_the_previous_run_untouched() {
    let sb = Sandbox::new(&[]);
    write_small_job(&sb, r#""ingest", "features", "segment", "clv""#);
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let dir = sb.path(&format!("runs/{AS_OF}"));
    let before = snapshot(&dir);
    let manifest_before = std::fs::read(dir.join("manifest.json")).unwrap();

    corrupt_every_50th_row(&sb);
    let out = sb.run(&["run", "job.toml", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let failed = format!("runs/{AS_OF}.failed");
    assert!(
        err.contains("rejected") && err.contains(&format!("{failed}/rejects/transactions.csv")),
        "{err}"
    );
    // The published run is exactly as it was; the failed one is beside it, with its reasons.
    assert!(snapshot(&dir) == before, "the previous run was modified");
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        manifest_before
    );
    let m = manifest(&sb.path(&failed));
    assert_eq!(m["exit_status"], 2);
    assert_eq!(m["failed_stage"], "ingest");
    assert!(m["error"].as_str().unwrap().contains("rejected"));
    // The manifest of the failed run still says what was read.
    assert_eq!(m["inputs"][0]["rows_rejected"], 1393);
    assert_eq!(m["inputs"][0]["rejects"], "rejects/transactions.csv");
    let rejects = sb.read(&format!("{failed}/rejects/transactions.csv"));
    assert!(
        rejects.contains("transactions.txt,51,order_date,date,bad_date,1997010l"),
        "{rejects}"
    );
}

#[test]
fn a_failed_run_leaves_a_report_saying_that_nothing_was_published() {
    // Bad input before the report stage: the run writes the report itself.
    let sb = Sandbox::new(&[]);
    write_small_job(&sb, r#""ingest", "features", "report""#);
    corrupt_every_50th_row(&sb);
    let out = sb.run(&["run", "job.toml", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let html = sb.read(&format!("runs/{AS_OF}.failed/report.html"));
    assert!(html.contains("No audience was published"), "{html}");
    assert!(html.contains("stage <code>ingest</code> (exit status 2)"));
    assert!(html.contains("1,393 of"), "the rejects warning");

    // Drift: the report stage still runs, and says why nothing was published.
    write_churn_job(&sb);
    let job = sb.read("churn.toml").replace(
        r#"stages = ["ingest", "features", "score"]"#,
        r#"stages = ["ingest", "features", "score", "report"]"#,
    );
    std::fs::write(sb.path("churn.toml"), job).unwrap();
    let out = sb.run(&["run", "churn.toml", "--as-of", AS_OF, "--quiet"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let html = sb.read(&format!("runs/{AS_OF}.failed/report.html"));
    assert!(html.contains("(exit status 3): drift over the threshold"));
    assert!(html.contains("Drift in model &quot;churn&quot;"), "{html}");
}

/// Gives 2% of the sandbox's transactions an order date that is not a date.
fn corrupt_every_50th_row(sb: &Sandbox) {
    let text = std::fs::read_to_string(sb.path("transactions.txt")).unwrap();
    let corrupted: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i > 0 && i % 50 == 0 {
                format!(
                    "{} 1997010l 1 12,34\n",
                    l.split_whitespace().next().unwrap()
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(sb.path("transactions.txt"), corrupted).unwrap();
}

/// A job scoring the bundled customers with the registry's production churn model, trained on
/// features as of 1998-04-01.
fn write_churn_job(sb: &Sandbox) {
    let data = root().join("notebooks-data");
    std::fs::write(
        sb.path("churn.toml"),
        format!(
            r#"[job]
name = "churn-weekly"
out = "runs"
stages = ["ingest", "features", "score"]
sources = "{}"

[models]
registry = "{}"
score = ["churn"]

[drift]
fail_above = 0.25
"#,
            data.join("quickstart.toml").display(),
            root().join("models").display()
        ),
    )
    .unwrap();
}

#[test]
fn drift_over_the_threshold_exits_3() {
    let sb = Sandbox::new(&[]);
    write_churn_job(&sb);
    // Scoring on the training date: the population is the training population.
    let ok = sb.run(&[
        "run",
        "churn.toml",
        "--as-of",
        "1998-04-01",
        "--log-format",
        "json",
    ]);
    assert_ok(&ok);
    let events: Vec<Value> = stderr(&ok)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "stage_finished")
            .count(),
        3
    );
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    let m = manifest(&sb.path("runs/1998-04-01"));
    assert_eq!(m["models"][0]["source"], "registry");
    assert_eq!(m["models"][0]["version"], "v0001");
    let drift = &m["drift"]["models"][0];
    assert!(drift["score_psi"].as_f64().unwrap() < 0.01, "{drift}");

    // Three months later the cohort has gone quiet: recency and the score shift.
    let json = sb.run(&[
        "run",
        "churn.toml",
        "--as-of",
        AS_OF,
        "--log-format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(3), "{}", stderr(&json));
    let events: Vec<Value> = stderr(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_failed");
    assert_eq!(last["exit_status"], 3);
    let out = sb.run(&["run", "churn.toml", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("churn: recency_days"), "{err}");
    assert!(!sb.path(&format!("runs/{AS_OF}")).exists());
    let m = manifest(&sb.path(&format!("runs/{AS_OF}.failed")));
    assert_eq!(m["exit_status"], 3);
    assert_eq!(m["failed_stage"], "score");
    let over = m["drift"]["over_threshold"].to_string();
    assert!(over.contains("churn: score") && over.contains("recency_days"));
    // Features that grow with the calendar are reported but not checked.
    assert!(!over.contains("tenure_days"), "{over}");
}

#[test]
fn a_killed_run_leaves_the_previous_or_the_new_outputs_complete() {
    let sb = Sandbox::new(&[]);
    write_small_job(&sb, r#""ingest", "features", "segment", "clv""#);
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let dir = sb.path(&format!("runs/{AS_OF}"));
    let reference = snapshot(&dir);
    for delay_ms in [30, 120, 250, 400, 600, 800, 1100, 1500, 2000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bullseye"))
            .args(["run", "job.toml", "--quiet"])
            .current_dir(sb.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SIGKILL: no destructor, no cleanup.
        let _ = child.kill();
        child.wait().unwrap();
        let now = snapshot(&dir);
        assert!(
            now == reference,
            "after a kill at {delay_ms} ms the published run is not a complete run"
        );
        assert_eq!(manifest(&dir)["exit_status"], 0);
    }
    // The next run cleans up the staging folders of killed runs.
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let entries: Vec<String> = std::fs::read_dir(sb.path("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        // The lock file of the output folder stays (see `io::OutputLock`), and so does the
        // campaign ledger of a job that selects (with its journal after a kill).
        .filter(|f| f != &format!(".{AS_OF}.lock") && !f.starts_with("bullseye.db"))
        .collect();
    assert_eq!(entries, vec![AS_OF.to_string()]);
}

#[test]
fn job_files_are_checked_before_anything_runs() {
    let sb = Sandbox::new(&[]);
    std::fs::write(
        sb.path("bad.toml"),
        "[job]\nname = \"x\"\nout = \"runs\"\nstages = [\"ingest\", \"select\"]\n[sources.transactions]\npath = \"t.csv\"\n",
    )
    .unwrap();
    let out = sb.run(&["run", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("stage `select` needs stage `score`"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("runs").exists());
}

#[test]
fn the_sources_do_not_contact_list_applies_to_every_campaign() {
    let sb = Sandbox::new(&[]);
    let data = root().join("notebooks-data");
    // A campaign that names no suppression file and no contact policy.
    std::fs::write(
        sb.path("open.toml"),
        r#"[campaign]
name = "open"
budget = 2000.0
objective = "profit"
value_per_response = 35.0
control_fraction = 0.0
seed = 1

[[channel]]
name = "email"
cost = 0.10
score_column = "score"
consent_column = "email_opt_in"
"#,
    )
    .unwrap();
    std::fs::write(
        sb.path("job.toml"),
        format!(
            r#"[job]
name = "open"
out = "runs"
as_of = "{AS_OF}"
stages = ["ingest", "features", "score", "select", "report"]
sources = "{}"

[models]
registry = "{}"

[drift]
action = "warn"

[select]
campaigns = ["open.toml"]
"#,
            data.join("quickstart.toml").display(),
            root().join("models").display()
        ),
    )
    .unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let audience = sb.read(&format!("runs/{AS_OF}/audience/open/audience.csv"));
    assert!(audience.lines().count() > 5_000, "audience is nearly empty");
    let suppressed = customers_on_do_not_contact_list("email");
    for line in audience.lines().skip(1) {
        let id = line.split(',').nth(1).unwrap();
        assert!(
            !suppressed.contains(id),
            "suppressed customer {id} in the audience"
        );
    }
    let summary = sb.json(&format!("runs/{AS_OF}/audience/open/summary.json"));
    assert!(summary.to_string().contains("suppressed"), "{summary}");
    // One campaign is a plain selection, not a plan: the report has no Plan section.
    let html = sb.read(&format!("runs/{AS_OF}/report.html"));
    assert!(html.contains("data-chart=\"profit-curve\""));
    assert!(!html.contains("data-chart=\"plan-campaigns\""));
    assert!(!html.contains("<h2>Plan</h2>"));
    assert!(sb
        .json(&format!("runs/{AS_OF}/report.json"))
        .get("plan")
        .is_none());
}

/// Writes and runs `NAME.toml`: ingest, features, segment, clv and a churn model on CDNOW-like
/// transactions (`transactions` holds the source's `path` and settings, `ingest` the
/// `[ingest]` settings); returns the run folder.
fn churn_job(sb: &Sandbox, name: &str, ingest: &str, transactions: &str) -> PathBuf {
    std::fs::write(
        sb.path(&format!("{name}.toml")),
        format!(
            r#"[job]
name = "{name}"
out = "{name}"
as_of = "{AS_OF}"
stages = ["ingest", "features", "segment", "clv", "train"]

[ingest]
{ingest}

[sources.transactions]
{transactions}
{CDNOW_COLUMNS}
[train]
models = ["churn"]
"#
        ),
    )
    .unwrap();
    assert_ok(&sb.run(&["run", &format!("{name}.toml"), "--quiet"]));
    sb.path(&format!("{name}/{AS_OF}"))
}

/// CDNOW's order lines as CSV rows `order_id,customer_id,date,number_of_cds,dollar_value`
/// (order ids from 1), each date (`YYYYMMDD`) written by `date`.
fn cdnow_rows(date: impl Fn(&str) -> String) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("notebooks-data/CDNOW_master.txt")).unwrap();
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{},{},{},{},{}", i + 1, f[0], date(f[1]), f[2], f[3])
        })
        .collect()
}

/// A large transactions file is validated in pieces (`[ingest] piece_mib`) and its kept rows
/// go straight into the feature builders: the outputs must be exactly those of the file read
/// whole, duplicates across pieces and bad rows included, and the rejects name the lines of the
/// file through notes that hold a line feed.
#[test]
fn transactions_read_in_pieces_give_the_outputs_of_the_whole_file() {
    let sb = Sandbox::new(&[]);
    // CDNOW as a CSV with an order id; a few bad rows and a few order lines delivered twice,
    // the copies far from their first delivery (so in another piece).
    let lines = cdnow_rows(|d| d.to_string());
    let note = |k: usize| {
        if k % 3_000 == 1_500 || k % 10_000 == 999 {
            ",\"gift\nwrap\"\n"
        } else {
            ",\n"
        }
    };
    let mut csv = String::from("order_id,customer_id,date,number_of_cds,dollar_value,note\n");
    // The line each order line starts on, and the last bad row's.
    let mut line = 2;
    let mut line_of = Vec::new();
    let mut bad_line = 0;
    for (i, l) in lines.iter().enumerate() {
        line_of.push(line);
        csv.push_str(l);
        csv.push_str(note(i));
        line += note(i).matches('\n').count();
        if i % 5_000 == 4_999 {
            csv.push_str(&lines[i - 4_000]);
            csv.push_str(note(i - 4_000));
            line += note(i - 4_000).matches('\n').count();
            csv.push_str(&format!("x{i},00001,1997013x,1,9.99,\n"));
            bad_line = line;
            line += 1;
        }
    }
    std::fs::write(sb.path("transactions.csv"), csv).unwrap();
    let job = |name: &str, piece: &str| {
        let ingest = format!("max_reject_rate = 0.01\n{piece}");
        churn_job(
            &sb,
            name,
            &ingest,
            "path = \"transactions.csv\"\ndate_format = \"%Y%m%d\"",
        )
    };
    let whole = job("whole", "");
    let pieces = job("pieces", "piece_mib = 0.05");
    let (a, b) = (snapshot(&whole), snapshot(&pieces));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (file, bytes) in &a {
        assert!(b[file] == *bytes, "{file} differs when read in pieces");
    }
    let (ma, mb) = (manifest(&whole), manifest(&pieces));
    assert_eq!(ma["inputs"][0]["rows_rejected"], 26);
    assert_eq!(ma["inputs"][0]["rows_in"], mb["inputs"][0]["rows_in"]);
    assert_eq!(ma["inputs"][0]["rows_kept"], mb["inputs"][0]["rows_kept"]);
    let parts = mb["stages"][0]["parts"][1]["name"].as_str().unwrap();
    let n: usize = parts
        .strip_prefix("transactions: read and validate in ")
        .and_then(|p| p.strip_suffix(" pieces"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(n > 20, "{parts}");
    let rejects = sb.read(&format!("pieces/{AS_OF}/rejects/transactions.csv"));
    for want in [
        ",duplicate,same as line 1001,".to_string(),
        format!(",duplicate,same as line {},", line_of[60_999]),
        format!(",{bad_line},order_date,date,bad_date,1997013x,"),
    ] {
        assert!(rejects.contains(&want), "{want} in {rejects}");
    }
    assert_ne!(line_of[60_999], 61_001);
}

/// A plain transactions file (no quotes, ISO dates, no bad row) is read by ingest's coded path
/// straight into the keyed lines, whole or in pieces; the same rows with CRLF line ends go the
/// general way (validation, then the lines). Every output must be the same.
#[test]
fn the_coded_path_gives_the_outputs_of_validation() {
    let sb = Sandbox::new(&[]);
    let rows = cdnow_rows(|d| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]));
    let header = "order_id,customer_id,date,number_of_cds,dollar_value";
    for (name, end) in [("lf", "\n"), ("crlf", "\r\n")] {
        let mut csv = format!("{header}{end}");
        for r in &rows {
            csv.push_str(r);
            csv.push_str(end);
        }
        std::fs::write(sb.path(&format!("{name}.csv")), csv).unwrap();
    }
    let job = |name: &str, file: &str, piece: &str| {
        churn_job(&sb, name, piece, &format!("path = \"{file}\""))
    };
    let runs = [
        (
            job("whole", "lf.csv", ""),
            "transactions: read and validate (coded)",
        ),
        (
            job("pieces", "lf.csv", "piece_mib = 0.05"),
            "transactions: read and validate (coded)",
        ),
        (
            job("general", "crlf.csv", ""),
            "transactions: read and validate",
        ),
    ];
    let reference = snapshot(&runs[2].0);
    assert!(reference.contains_key("features.parquet"));
    for (dir, part) in &runs {
        let m = manifest(dir);
        let parts: Vec<&str> = m["stages"][0]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(parts.contains(part), "{parts:?}");
        assert_eq!(m["inputs"][0]["rows_in"], rows.len());
        assert_eq!(m["inputs"][0]["rows_kept"], rows.len());
        let got = snapshot(dir);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            reference.keys().collect::<Vec<_>>()
        );
        for (file, bytes) in &reference {
            assert!(got[file] == *bytes, "{file} differs in {}", dir.display());
        }
    }
}

/// Outside the repository, `quickstart` reads the bundled data of the source tree but writes
/// into the folder it was started in, never into the source tree.
#[test]
fn quickstart_outside_the_repository_writes_where_it_runs() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&["quickstart", "--quiet"]);
    assert_ok(&out);
    assert!(sb
        .path(&format!("out/quickstart/{AS_OF}/manifest.json"))
        .is_file());
}

/// A job's `select` stage, one campaign or a joint plan, lists every customer of the customers
/// table and the transactions in the audience or the exclusions (`no_history`: no order by
/// `as_of`), each once.
#[test]
fn every_customer_of_a_job_is_in_the_audience_or_excluded() {
    let sb = Sandbox::new(&[]);
    let data = root().join("notebooks-data");
    let mut customers = std::fs::read_to_string(data.join("customers.csv")).unwrap();
    customers
        .push_str("90001,1998-05-01,1970-01-01,F,north,1,1,1\n90002,1998-05-02,,,south,1,0,0\n");
    std::fs::write(sb.path("customers.csv"), &customers).unwrap();
    let campaign = |name: &str| {
        format!(
            "[campaign]\nname = \"{name}\"\nbudget = 500.0\nobjective = \"profit\"\n\
             value_per_response = 35.0\ncontrol_fraction = 0.1\nseed = 1\n\n[[channel]]\n\
             name = \"email\"\ncost = 0.10\nscore_column = \"score\"\n\
             consent_column = \"email_opt_in\"\n"
        )
    };
    std::fs::write(sb.path("a.toml"), campaign("a")).unwrap();
    std::fs::write(sb.path("b.toml"), campaign("b")).unwrap();
    let mut known: std::collections::BTreeSet<String> = customers
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let transactions = std::fs::read_to_string(data.join("CDNOW_master.txt")).unwrap();
    known.extend(
        transactions
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string)),
    );
    for (job, campaigns) in [("one", "\"a.toml\""), ("two", "\"a.toml\", \"b.toml\"")] {
        std::fs::write(
            sb.path(&format!("{job}.toml")),
            format!(
                r#"[job]
name = "{job}"
out = "{job}"
as_of = "{AS_OF}"
stages = ["ingest", "features", "score", "select"]

[ingest]
max_reject_rate = 0.01

[sources.transactions]
path = "{}"
delimiter = "whitespace"
date_format = "%Y%m%d"
{CDNOW_COLUMNS}
[sources.customers]
path = "customers.csv"

[models]
registry = "{}"

[drift]
action = "warn"

[select]
campaigns = [{campaigns}]
"#,
                data.join("CDNOW_master.txt").display(),
                root().join("models").display()
            ),
        )
        .unwrap();
        assert_ok(&sb.run(&["run", &format!("{job}.toml"), "--quiet"]));
        let names: &[&str] = if job == "one" { &["a"] } else { &["a", "b"] };
        for name in names {
            let dir = format!("{job}/{AS_OF}/audience/{name}");
            let excluded = sb.read(&format!("{dir}/excluded.csv"));
            assert!(
                excluded.contains("90001,no_history\n90002,no_history\n"),
                "{job}/{name}"
            );
            crate::select::assert_everyone_accounted_for(
                &sb.read(&format!("{dir}/audience.csv")),
                &excluded,
                &known,
            );
        }
    }
}
