//! What the commands leave on disk and on stderr when things go wrong: spreadsheet-safe CSV
//! cells, `select` published as one folder, the output-folder lock, one campaign per audience
//! folder, JSON errors, the cause of a write failure, short quotes of a file's content.

use std::fs::{File, OpenOptions};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{assert_ok, root, stderr, Sandbox};

/// A campaign without consent, eligibility or contact policy: every scored, unsuppressed
/// customer is selected (the budget does not bind).
const OPEN_CAMPAIGN: &str = r#"[campaign]
name = "open"
budget = 1000.0
objective = "profit"
value_per_response = 35.0

[[channel]]
name = "email"
cost = 0.10
score_column = "score"

[suppression]
files = ["suppressions.csv"]
"#;

/// A sandbox holding `campaign.toml`, `scores.csv` with these ids, and `suppressions.csv` with
/// these suppressed ids (every channel).
fn select_sandbox(ids: &[&str], suppressed: &[&str]) -> Sandbox {
    let sb = Sandbox::new(&[]);
    std::fs::write(sb.path("campaign.toml"), OPEN_CAMPAIGN).unwrap();
    let mut scores = String::from("customer_id,score\n");
    for id in ids {
        scores.push_str(&format!("{id},0.5\n"));
    }
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
    let mut supp = String::from("customer_id,channel\n");
    for id in suppressed {
        supp.push_str(&format!("{id},\n"));
    }
    std::fs::write(sb.path("suppressions.csv"), supp).unwrap();
    sb
}

fn select(sb: &Sandbox, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "select",
        "--scores",
        "scores.csv",
        "--campaign",
        "campaign.toml",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// The ids of an audience or exclusions file (second or first column, no quoted fields).
fn column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(i).unwrap().to_string())
        .collect()
}

#[test]
fn formula_cells_are_text_in_csv_outputs_unless_raw_csv() {
    let ids = ["=1+1", "+4412345", "-7", "@SUM(A1)", "007"];
    let sb = select_sandbox(&ids, &["=2+2"]);
    std::fs::write(sb.path("scores.csv"), sb.read("scores.csv") + "=2+2,0.9\n").unwrap();
    assert_ok(&select(&sb, "safe", &[]));
    let mut audience = column(&sb.read("safe/audience.csv"), "customer_id");
    audience.sort();
    assert_eq!(audience, ["'+4412345", "'-7", "'=1+1", "'@SUM(A1)", "007"]);
    assert_eq!(
        column(&sb.read("safe/excluded.csv"), "customer_id"),
        ["'=2+2"]
    );
    // Numbers stay numbers.
    assert!(sb.read("safe/audience.csv").contains(",0.5,17.5,17.4"));

    assert_ok(&select(&sb, "raw", &["--raw-csv"]));
    let mut audience = column(&sb.read("raw/audience.csv"), "customer_id");
    audience.sort();
    assert_eq!(audience, ["+4412345", "-7", "007", "=1+1", "@SUM(A1)"]);
}

/// `score` writes spreadsheet-safe ids; `select` reading that file must see the ids as they were,
/// or `+4412345` on the do-not-contact list would not match `'+4412345` and be selected.
#[test]
fn escaped_ids_read_back_as_written_so_suppressions_still_match() {
    let sb = select_sandbox(&["001"], &["+4412345", "-7"]);
    std::fs::write(
        sb.path("scores.csv"),
        "customer_id,score\n'+4412345,0.9\n'-7,0.8\n001,0.5\n",
    )
    .unwrap();
    assert_ok(&select(&sb, "out", &[]));
    assert_eq!(column(&sb.read("out/audience.csv"), "customer_id"), ["001"]);
    assert_eq!(
        sb.read("out/excluded.csv"),
        "customer_id,reason\n'+4412345,suppressed\n'-7,suppressed\n"
    );
}

/// A job on the CDNOW sample with the `ingest`, `features`, `segment` and `clv` stages (clv.csv
/// and segments.csv carry the ids), one customer's id made formula-like.
fn write_clv_job(sb: &Sandbox, extra: &str) {
    let sample = std::fs::read_to_string(root().join("notebooks-data/CDNOW_sample.txt")).unwrap();
    let sample = sample.replace(" 00004 ", " -00004 ");
    std::fs::write(sb.path("t.txt"), sample).unwrap();
    std::fs::write(
        sb.path("job.toml"),
        format!(
            r#"[job]
name = "clv"
out = "runs"
as_of = "1998-06-30"
stages = ["ingest", "features", "segment", "clv"]
{extra}
[sources.transactions]
path = "t.txt"
delimiter = "whitespace"
header = false
date_format = "%Y%m%d"
[sources.transactions.columns]
customer_id = 1
order_date = 3
quantity = 4
amount = 5
"#
        ),
    )
    .unwrap();
}

#[test]
fn run_csv_outputs_are_safe_and_raw_with_the_output_key() {
    let sb = Sandbox::new(&[]);
    write_clv_job(&sb, "");
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let clv = sb.read("runs/1998-06-30/clv.csv");
    assert!(clv.contains("\n'-00004,"), "{}", &clv[..200]);
    let segments = sb.read("runs/1998-06-30/segments.csv");
    assert!(segments.contains("\n'-00004,"), "{}", &segments[..200]);

    write_clv_job(&sb, "[output]\nraw_csv = true\n");
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let clv = sb.read("runs/1998-06-30/clv.csv");
    assert!(clv.contains("\n-00004,"), "{}", &clv[..200]);
    // segments.csv is written beside the later stages; it takes the job's cell policy too.
    let segments = sb.read("runs/1998-06-30/segments.csv");
    assert!(segments.contains("\n-00004,"), "{}", &segments[..200]);
}

#[test]
fn select_publishes_its_folder_whole_and_a_failure_beside_it() {
    let sb = select_sandbox(&["001", "002", "003"], &["003"]);
    assert_ok(&select(&sb, "out", &[]));
    let before: Vec<(String, String)> = ["audience.csv", "excluded.csv", "summary.json"]
        .iter()
        .map(|f| (f.to_string(), sb.read(&format!("out/{f}"))))
        .collect();

    // A stale temporary file of a killed writer and a staging folder of a killed select.
    std::fs::write(sb.path("out/.audience.csv.tmp-4294967294"), "half").unwrap();
    std::fs::create_dir(sb.path(".out.staging-4294967294")).unwrap();

    // Half the suppression rows are bad: the command fails after writing the rejects, and the
    // published selection is untouched.
    std::fs::write(
        sb.path("suppressions.csv"),
        "customer_id,channel\n003,\n,email\n",
    )
    .unwrap();
    let o = select(&sb, "out", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("out.failed/rejects/suppressions.csv"), "{err}");
    assert!(!err.contains(".staging-"), "{err}");
    for (f, text) in &before {
        assert_eq!(&sb.read(&format!("out/{f}")), text, "{f} changed");
    }
    assert!(!sb.path("out/rejects").exists());
    assert!(sb.path("out.failed/rejects/suppressions.csv").is_file());
    assert!(!sb.path(".out.staging-4294967294").exists());

    // A good run replaces the folder whole and clears the failure.
    std::fs::write(sb.path("suppressions.csv"), "customer_id,channel\n002,\n").unwrap();
    let o = select(&sb, "out", &[]);
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote out/audience.csv"));
    assert_eq!(column(&sb.read("out/excluded.csv"), "customer_id"), ["002"]);
    assert!(!sb.path("out.failed").exists());
    let mut left: Vec<String> = std::fs::read_dir(sb.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["audience.csv", "excluded.csv", "summary.json"]);
}

#[test]
fn select_refuses_a_folder_that_holds_other_files() {
    let sb = select_sandbox(&["001"], &[]);
    let o = select(&sb, ".", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected a folder of its own"),
        "{}",
        stderr(&o)
    );
    assert!(sb.path("scores.csv").is_file() && !sb.path("audience.csv").exists());
}

/// Takes the lock of publishing `parent/<name>` in this process, as another bullseye would.
fn hold_lock(parent: &std::path::Path, name: &str) -> File {
    std::fs::create_dir_all(parent).unwrap();
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(parent.join(format!(".{name}.lock")))
        .unwrap();
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor is open for the call.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    use std::io::Write;
    writeln!(f, "{}", std::process::id()).unwrap();
    f
}

#[test]
fn a_busy_output_folder_fails_at_once_or_is_waited_for() {
    let sb = select_sandbox(&["001"], &[]);
    let lock = hold_lock(sb.dir.path(), "out");
    let o = select(&sb, "out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("pid {}", std::process::id())) && err.contains(".out.lock"),
        "{err}"
    );
    assert!(!sb.path("out").exists());

    // With a timeout, the second process waits for the first to finish.
    let child = Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args([
            "select",
            "--scores",
            "scores.csv",
            "--campaign",
            "campaign.toml",
            "--out",
            "out",
            "--lock-timeout",
            "30",
        ])
        .current_dir(sb.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !sb.path("out").exists(),
        "published while the lock was held"
    );
    drop(lock);
    let o = child.wait_with_output().unwrap();
    assert_ok(&o);
    assert!(sb.path("out/audience.csv").is_file());
}

#[test]
fn a_busy_run_folder_exits_4_before_any_work() {
    let sb = Sandbox::new(&[]);
    write_clv_job(&sb, "");
    let _lock = hold_lock(&sb.path("runs"), "1998-06-30");
    let started = Instant::now();
    let o = sb.run(&["run", "job.toml", "--quiet"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("pid {}", std::process::id())),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!sb.path("runs/1998-06-30").exists());
}

#[test]
fn campaigns_that_share_an_audience_folder_are_refused_before_any_work() {
    let sb = Sandbox::new(&[]);
    for (file, name) in [("a.toml", "x/y"), ("b.toml", "x_y")] {
        std::fs::write(
            sb.path(file),
            OPEN_CAMPAIGN
                .replace("name = \"open\"", &format!("name = {name:?}"))
                .replace("[suppression]\nfiles = [\"suppressions.csv\"]\n", ""),
        )
        .unwrap();
    }
    std::fs::write(
        sb.path("job.toml"),
        "[job]\nname = \"j\"\nout = \"runs\"\nstages = [\"ingest\", \"features\", \"score\", \"select\"]\n\
         [sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"a.toml\", \"b.toml\"]\n",
    )
    .unwrap();
    let o = sb.run(&["run", "job.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("\"x/y\"") && err.contains("\"x_y\"") && err.contains("audience/x_y/"),
        "{err}"
    );
    assert!(!sb.path("runs").exists());
}

/// The one stderr line of a failed `run --log-format json`, parsed.
fn json_error(o: &Output) -> serde_json::Value {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("not JSON ({e}): {err}"))
}

#[test]
fn every_run_error_is_json_under_log_format_json() {
    let sb = Sandbox::new(&[]);
    std::fs::write(sb.path("broken.toml"), "[job\nname = \"x\"\n").unwrap();
    for (args, code, words) in [
        (vec!["missing.toml"], 2, "missing.toml"),
        (vec!["broken.toml"], 2, "line 1"),
        (vec!["broken.toml", "--quiet"], 2, "broken.toml"),
        (vec!["job.toml", "--as-of", "someday"], 2, "someday"),
    ] {
        let mut all = vec!["run"];
        all.extend(&args);
        all.extend(["--log-format", "json"]);
        let o = sb.run(&all);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let event = json_error(&o);
        assert_eq!(event["event"], "run_failed", "{event}");
        assert_eq!(event["exit_status"], code, "{event}");
        let text = event["error"].as_str().unwrap();
        assert!(text.contains(words), "{args:?}: {text}");
    }
    // Text stays text.
    let o = sb.run(&["run", "missing.toml"]);
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}

#[test]
fn unreadable_inputs_exit_2() {
    let sb = select_sandbox(&["001"], &[]);
    // A folder where a table is expected.
    std::fs::create_dir(sb.path("folder.csv")).unwrap();
    let o = sb.run(&[
        "select",
        "--scores",
        "folder.csv",
        "--campaign",
        "campaign.toml",
        "--out",
        "out",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A write that the system refuses keeps its cause in the one-line error: the file-size limit
/// (`ulimit -f`) stands in for a full disk (same path through the writers, `File too large`
/// instead of `No space left on device`).
#[test]
fn the_cause_of_a_failed_write_is_kept() {
    let ids: Vec<String> = (0..3000).map(|i| format!("{i:06}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let sb = select_sandbox(&ids, &[]);
    let bin = env!("CARGO_BIN_EXE_bullseye");
    let o = Command::new("sh")
        .args([
            "-c",
            // SIGXFSZ ignored: the write fails with EFBIG instead of killing the process.
            "trap '' XFSZ; ulimit -f 8; exec \"$0\" select --scores scores.csv --campaign campaign.toml --out out",
            bin,
        ])
        .current_dir(sb.dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    // Named where the user expects the file, not in a staging folder that is gone.
    assert!(
        err.contains("File too large") && err.contains("/out/audience.csv`"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("out") || f.contains(".staging-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_campaign_that_is_not_toml_is_quoted_short_and_printable() {
    let sb = select_sandbox(&["001"], &[]);
    let secret =
        "root:$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ:19000:0:99999:7:::";
    std::fs::write(
        sb.path("shadow"),
        format!("{secret}\ndaemon:*:19000:0:99999:7:::\n"),
    )
    .unwrap();
    std::fs::write(
        sb.path("binary.toml"),
        b"name = \"\x1b[2J\x1b[31mgotcha\x07\" \x00\x01\xff\n".as_slice(),
    )
    .unwrap();
    std::fs::write(
        sb.path("value.toml"),
        format!("[campaign]\nname = \"x\"\nbudget = \"{secret}\"\n"),
    )
    .unwrap();
    for file in ["shadow", "binary.toml", "value.toml"] {
        let o = sb.run(&[
            "select",
            "--scores",
            "scores.csv",
            "--campaign",
            file,
            "--out",
            "out",
        ]);
        assert_eq!(o.status.code(), Some(2), "{file}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        assert!(
            !err.contains("ABCDEFGHIJ") && !err.contains("99999"),
            "{file}: {err}"
        );
        assert!(
            !err.contains('\x1b') && !err.contains('\x07'),
            "{file}: {err:?}"
        );
    }
    // A job file is quoted as shortly.
    std::fs::write(
        sb.path("job.toml"),
        format!("[job]\nname = \"{secret}\nout = 1\n"),
    )
    .unwrap();
    let o = sb.run(&["run", "job.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("99999"), "{}", stderr(&o));
}

/// Two `bullseye select` processes into one folder: while the first works, the second exits 4
/// naming the first's pid; the first publishes its complete selection.
#[test]
fn a_second_select_into_the_same_folder_exits_4_while_the_first_works() {
    let sb = select_sandbox(&[], &[]);
    write_million_scores(&sb);
    let first = Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args([
            "select",
            "--scores",
            "scores.csv",
            "--campaign",
            "campaign.toml",
        ])
        .args(["--out", "out"])
        .current_dir(sb.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first holds the lock once its pid is in the lock file.
    let pid = first.id().to_string();
    let started = Instant::now();
    while std::fs::read_to_string(sb.path(".out.lock")).map_or(true, |t| t.trim() != pid) {
        assert!(started.elapsed() < Duration::from_secs(30), "no lock taken");
        std::thread::sleep(Duration::from_millis(2));
    }
    let second = select(&sb, "out", &[]);
    let first = first.wait_with_output().unwrap();
    assert_ok(&first);
    assert_eq!(second.status.code(), Some(4), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("(pid {pid})")),
        "{}",
        stderr(&second)
    );
    let audience = sb.read("out/audience.csv");
    let excluded = sb.read("out/excluded.csv");
    assert_eq!(
        audience.lines().count() + excluded.lines().count(),
        1_000_002
    );
}

/// The files of a folder by name, with their text.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// `kill -9` of a standalone `select` at any moment leaves the previous complete selection or the
/// new one, never a new audience beside an old summary; the next select cleans up.
#[test]
fn a_killed_select_leaves_the_old_or_the_new_selection_whole() {
    let sb = select_sandbox(&[], &[]);
    write_million_scores(&sb);
    // The new selection: a smaller budget.
    std::fs::write(
        sb.path("campaign2.toml"),
        OPEN_CAMPAIGN.replace("budget = 1000.0", "budget = 500.0"),
    )
    .unwrap();
    let new_args = ["--scores", "scores.csv", "--campaign", "campaign2.toml"];
    assert_ok(&select(&sb, "out", &[]));
    let old = files(&sb.path("out"));
    assert_ok(&sb.run(&[&["select"][..], &new_args, &["--out", "new"]].concat()));
    let new = files(&sb.path("new"));
    assert_ne!(old, new);
    for delay_ms in [20, 80, 200, 400, 700, 1000, 1500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bullseye"))
            .arg("select")
            .args(new_args)
            .args(["--out", "out"])
            .current_dir(sb.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let now = files(&sb.path("out"));
        assert!(
            now == old || now == new,
            "after a kill at {delay_ms} ms `out` is neither selection"
        );
    }
    assert_ok(&sb.run(&[&["select"][..], &new_args, &["--out", "out"]].concat()));
    assert_eq!(files(&sb.path("out")), new);
    let stale: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.contains(".staging-") || f.contains(".tmp-"))
        .collect();
    assert!(stale.is_empty(), "{stale:?}");
}

/// A scores file of a million customers: large enough that `select` takes a moment.
fn write_million_scores(sb: &Sandbox) {
    let mut scores = String::from("customer_id,score\n");
    for i in 0..1_000_000 {
        scores.push_str(&format!("{i:07},0.{}\n", i % 97 + 1));
    }
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
}
