//! The campaign ledger end to end: `select` records what it publishes, a rerun replaces, the
//! next week's contact policy counts the ledger, a `kill -9` leaves rows and folder together,
//! and a second writer waits or fails with a clear message.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use bullseye::ledger::Ledger;

use crate::support::{assert_ok, stderr, Sandbox};

const FIXTURES: &[&str] = &[
    "ledger/scores.csv",
    "ledger/week1.toml",
    "ledger/week2.toml",
];

fn select(sb: &Sandbox, campaign: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "select",
        "--scores",
        "scores.csv",
        "--campaign",
        campaign,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// The ids of `group` in an audience file.
fn audience(sb: &Sandbox, file: &str, group: &str) -> BTreeSet<String> {
    sb.read(file)
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(3) == Some(group))
        .filter_map(|l| l.split(',').nth(1).map(str::to_string))
        .collect()
}

/// The published target contacts of the ledger.
fn ledger_targets(path: &std::path::Path) -> BTreeSet<String> {
    Ledger::open(path, Duration::from_secs(5))
        .expect("open ledger")
        .contacts(None)
        .expect("contacts")
        .into_iter()
        .map(|c| c.customer_id)
        .collect()
}

#[test]
fn select_records_what_it_publishes_and_a_rerun_replaces_it() {
    let sb = Sandbox::new(FIXTURES);
    for _ in 0..2 {
        assert_ok(&select(&sb, "week1.toml", "w1", &["--ledger", "l.db"]));
    }
    let targets = audience(&sb, "w1/audience.csv", "target");
    assert!(targets.len() >= 8, "{targets:?}");
    assert_eq!(ledger_targets(&sb.path("l.db")), targets);
    // Replaced, not duplicated.
    let rows = Ledger::open(&sb.path("l.db"), Duration::from_secs(5))
        .unwrap()
        .contacts(None)
        .unwrap();
    assert_eq!(rows.len(), targets.len());
    // Without --ledger nothing is recorded.
    assert_ok(&select(&sb, "week1.toml", "other", &[]));
    assert_eq!(ledger_targets(&sb.path("l.db")), targets);
}

#[test]
fn week_two_skips_the_customers_week_one_contacted_within_the_cool_down() {
    let sb = Sandbox::new(FIXTURES);
    assert_ok(&select(&sb, "week1.toml", "w1", &["--ledger", "l.db"]));
    let week1 = audience(&sb, "w1/audience.csv", "target");
    assert_ok(&select(&sb, "week2.toml", "w2", &["--ledger", "l.db"]));
    let week2 = audience(&sb, "w2/audience.csv", "target");
    assert!(!week2.is_empty());
    assert!(week1.is_disjoint(&week2), "{week1:?} {week2:?}");
    // Without the ledger week 2 would contact them again.
    assert_ok(&select(&sb, "week2.toml", "w2-blind", &[]));
    assert_eq!(audience(&sb, "w2-blind/audience.csv", "target"), week1);
    // Control rows are not contacts: week 1's control may be targeted in week 2.
    let control1 = audience(&sb, "w1/audience.csv", "control");
    assert!(!control1.is_empty());
    let picked2: BTreeSet<String> = week2
        .union(&audience(&sb, "w2/audience.csv", "control"))
        .cloned()
        .collect();
    assert!(picked2.intersection(&control1).count() > 0);
}

/// `kill -9` at random moments of `select` runs that alternate between two campaigns: after
/// each, the ledger (once reconciled) holds exactly the targets of the published folder.
#[test]
fn a_kill_at_any_moment_leaves_the_rows_and_the_folder_together() {
    use rand::{Rng, SeedableRng};
    let sb = Sandbox::new(FIXTURES);
    // Week 2's campaign without a cool-down: a different audience for the same folder.
    std::fs::write(
        sb.path("other.toml"),
        sb.read("week2.toml")
            .replace("budget = 6.0", "budget = 4.0")
            .replace("[contact_policy]\ncooldown_days = 14\n", ""),
    )
    .unwrap();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
    // How long one run takes, to spread the kills over it.
    let started = std::time::Instant::now();
    assert_ok(&select(&sb, "week1.toml", "out", &["--ledger", "l.db"]));
    let span = started.elapsed().as_millis().max(20) as u64;
    let mut killed = 0;
    for i in 0..16 {
        let campaign = if i % 2 == 0 {
            "other.toml"
        } else {
            "week1.toml"
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_bullseye"))
            .args([
                "select",
                "--scores",
                "scores.csv",
                "--campaign",
                campaign,
                "--out",
                "out",
                "--ledger",
                "l.db",
                "--lock-timeout",
                "10",
            ])
            .current_dir(sb.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..span)));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let on_disk = audience(&sb, "out/audience.csv", "target");
        assert_eq!(ledger_targets(&sb.path("l.db")), on_disk, "after run {i}");
    }
    assert!(killed > 0, "no run was killed before it ended");
}

#[test]
fn a_second_writer_fails_with_a_clear_message_or_waits() {
    let sb = Sandbox::new(FIXTURES);
    assert_ok(&select(&sb, "week1.toml", "w1", &["--ledger", "l.db"]));
    let holder = rusqlite::Connection::open(sb.path("l.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let o = select(&sb, "week2.toml", "w2", &["--ledger", "l.db"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ledger `l.db` is busy: another bullseye process is writing it"),
        "{}",
        stderr(&o)
    );
    assert!(!sb.path("w2").exists());
    // Released while the second one waits: it goes through.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        holder.execute_batch("COMMIT").unwrap();
    });
    assert_ok(&select(&sb, "week2.toml", "w2", &["--ledger", "l.db"]));
    release.join().unwrap();
    let both: BTreeSet<String> = audience(&sb, "w1/audience.csv", "target")
        .union(&audience(&sb, "w2/audience.csv", "target"))
        .cloned()
        .collect();
    assert_eq!(ledger_targets(&sb.path("l.db")), both);
}

/// The loop: week 1 recorded, responses attributed from the transactions, week 2 skips week 1's
/// targets through the ledger alone, the readout of week 1 counts the purchases in its window;
/// the whole loop again in a fresh folder gives byte-identical files.
#[test]
fn the_loop_selects_attributes_and_reads_out_deterministically() {
    let run_loop = || {
        let sb = Sandbox::new(&[
            "ledger/scores.csv",
            "ledger/week1.toml",
            "ledger/week2.toml",
            "ledger/transactions.csv",
        ]);
        assert_ok(&select(&sb, "week1.toml", "w1", &["--ledger", "l.db"]));
        let o = sb.run(&[
            "ledger",
            "attribute",
            "--transactions",
            "transactions.csv",
            "--ledger",
            "l.db",
        ]);
        assert_ok(&o);
        assert_ok(&select(&sb, "week2.toml", "w2", &["--ledger", "l.db"]));
        let o = sb.run(&[
            "readout",
            "weekly-email",
            "--ledger",
            "l.db",
            "--send-date",
            "2026-01-05",
            "--as-of",
            "2026-01-25",
            "--out",
            "r",
        ]);
        assert_ok(&o);
        let printed = String::from_utf8_lossy(&o.stdout).into_owned();
        (sb, printed)
    };
    let (sb, printed) = run_loop();
    let week1: BTreeSet<String> = audience(&sb, "w1/audience.csv", "target");
    assert!(week1.is_disjoint(&audience(&sb, "w2/audience.csv", "target")));
    let r = sb.json("r/readout.json");
    let o = &r["overall"];
    // Responders: a purchase after 2026-01-05 and by 2026-01-19 (every third customer; c40's
    // purchase on the 25th is outside the window, the send-day purchases do not count).
    let responded = |group: &str| {
        audience(&sb, "w1/audience.csv", group)
            .iter()
            .filter(|id| id[1..].parse::<u32>().unwrap() % 3 == 0)
            .count() as u64
    };
    assert_eq!(o["target"]["customers"], week1.len() as u64);
    assert_eq!(o["target"]["responders"], responded("target"));
    assert_eq!(o["control"]["responders"], responded("control"));
    assert_eq!(o["contact_cost"], 0.5 * week1.len() as f64);
    assert_eq!(r["window_open"], false);
    assert!(printed.contains("incremental response rate"), "{printed}");
    // Before the window closes the readout says so.
    let early = sb.run(&[
        "readout",
        "weekly-email",
        "--ledger",
        "l.db",
        "--send-date",
        "2026-01-05",
        "--as-of",
        "2026-01-10",
    ]);
    assert_ok(&early);
    assert!(String::from_utf8_lossy(&early.stdout).contains("the response window is still open"));
    // The export lists every selected customer with their responses.
    let export = sb.run(&[
        "ledger",
        "export",
        "weekly-email",
        "--send-date",
        "2026-01-05",
        "--ledger",
        "l.db",
    ]);
    assert_ok(&export);
    let text = String::from_utf8_lossy(&export.stdout).into_owned();
    assert!(
        text.starts_with("campaign,send_date,customer_id,channel,group,rank,score"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        1 + week1.len() + audience(&sb, "w1/audience.csv", "control").len()
    );
    // Reruns are byte-identical.
    let (again, _) = run_loop();
    for f in ["w1/audience.csv", "w2/audience.csv", "r/readout.json"] {
        assert_eq!(sb.read(f), again.read(f), "{f}");
    }
}

#[test]
fn bad_response_rows_go_to_rejects_and_past_the_threshold_nothing_is_imported() {
    let sb = Sandbox::new(FIXTURES);
    assert_ok(&select(&sb, "week1.toml", "w1", &["--ledger", "l.db"]));
    std::fs::write(
        sb.path("responses.csv"),
        "campaign_id,customer_id,response_date,value\nweekly-email,c40,2026-01-07,12.5\nweekly-email,c39,07/01/2026,1\n",
    )
    .unwrap();
    let o = sb.run(&[
        "ledger",
        "responses",
        "--file",
        "responses.csv",
        "--ledger",
        "l.db",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(sb
        .read("rejects/responses.csv")
        .contains("response_date,bad date,07/01/2026"));
    let o = sb.run(&[
        "ledger",
        "responses",
        "--file",
        "responses.csv",
        "--ledger",
        "l.db",
        "--max-reject-rate",
        "0.5",
    ]);
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("imported 1 responses (1 rows rejected)"));
    let r = sb.run(&[
        "readout",
        "weekly-email",
        "--ledger",
        "l.db",
        "--as-of",
        "2026-01-31",
    ]);
    assert_ok(&r);
}

/// `--global-control`: the same stable share of customers is held out of every campaign and
/// week, recorded as `global_control`, and `readout --global` compares the target with it.
#[test]
fn the_global_control_group_is_held_out_of_every_week_and_read_out() {
    let sb = Sandbox::new(FIXTURES);
    let gc = ["--ledger", "l.db", "--global-control", "0.25"];
    assert_ok(&select(&sb, "week1.toml", "w1", &gc));
    assert_ok(&select(&sb, "week2.toml", "w2", &gc));
    let members = |week: &str| -> BTreeSet<String> {
        let o = sb.run(&[
            "ledger",
            "export",
            "weekly-email",
            "--send-date",
            week,
            "--ledger",
            "l.db",
        ]);
        assert_ok(&o);
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.split(',').nth(4) == Some("global_control"))
            .filter_map(|l| l.split(',').nth(2).map(str::to_string))
            .collect()
    };
    let (m1, m2) = (members("2026-01-05"), members("2026-01-12"));
    assert!(!m1.is_empty() && m1.len() < 20, "{m1:?}");
    assert_eq!(m1, m2);
    for w in ["w1", "w2"] {
        let f = format!("{w}/audience.csv");
        let picked: BTreeSet<String> = audience(&sb, &f, "target")
            .union(&audience(&sb, &f, "control"))
            .cloned()
            .collect();
        assert!(picked.is_disjoint(&m1), "{w}");
        // Members are excluded as what they are, not as do-not-contact customers.
        let excluded = sb.read(&format!("{w}/excluded.csv"));
        let held: BTreeSet<String> = excluded
            .lines()
            .filter(|l| l.ends_with(",global_control"))
            .filter_map(|l| l.split(',').next().map(str::to_string))
            .collect();
        assert_eq!(held, m1, "{w}");
        assert!(sb
            .read(&format!("{w}/summary.json"))
            .contains("\"global_control\""));
    }
    let o = sb.run(&[
        "readout",
        "weekly-email",
        "--global",
        "--send-date",
        "2026-01-05",
        "--as-of",
        "2026-01-31",
        "--ledger",
        "l.db",
    ]);
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("target against global_control"));
}

/// A job whose `select` stage plans two campaigns jointly holds the ledger's global control group
/// out of both: the same members, excluded as `global_control` by each campaign, in neither
/// audience, and recorded in the ledger.
#[test]
fn a_jobs_joint_plan_holds_the_global_control_out_of_every_campaign() {
    let sb = Sandbox::new(&[]);
    let data = crate::support::root().join("notebooks-data");
    std::fs::write(
        sb.path("job.toml"),
        format!(
            r#"[job]
name = "plan-with-global-control"
out = "runs"
as_of = "1998-06-30"
stages = ["ingest", "features", "segment", "clv", "score", "select"]
sources = "{}"

[clv]
time_unit = "weeks"
horizon = 26
months = 12

[models]
registry = "{}"
score = ["response"]

[select]
campaigns = ["{}", "{}"]

[drift]
action = "warn"

[ledger]
global_control = 0.05
"#,
            data.join("quickstart.toml").display(),
            crate::support::root().join("models").display(),
            data.join("campaigns/spring-email.toml").display(),
            data.join("campaigns/email-and-mail.toml").display(),
        ),
    )
    .unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let dir = "runs/1998-06-30/audience";
    assert!(sb.path(&format!("{dir}/plan.json")).is_file());
    let reasons = |campaign: &str| -> std::collections::BTreeMap<String, String> {
        sb.read(&format!("{dir}/{campaign}/excluded.csv"))
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(id, reason)| (id.to_string(), reason.to_string()))
            .collect()
    };
    let campaigns = ["spring-email", "summer-email-and-mail"];
    let members: BTreeSet<String> = campaigns
        .iter()
        .flat_map(|c| reasons(c))
        .filter(|(_, r)| r == "global_control")
        .map(|(id, _)| id)
        .collect();
    assert!(members.len() > 100, "{}", members.len());
    for c in campaigns {
        // Every member is excluded by every campaign: as `global_control`, or as `suppressed`
        // when also on a do-not-contact list (safety is named first).
        let excluded = reasons(c);
        for m in &members {
            let r = excluded.get(m).map(String::as_str);
            assert!(
                matches!(r, Some("global_control" | "suppressed")),
                "{c}: {m} {r:?}"
            );
        }
        let f = format!("{dir}/{c}/audience.csv");
        assert!(audience(&sb, &f, "target").is_disjoint(&members), "{c}");
        assert!(audience(&sb, &f, "control").is_disjoint(&members), "{c}");
    }
    let recorded = Ledger::open(&sb.path("runs/bullseye.db"), Duration::from_secs(5))
        .expect("open ledger")
        .contacts(None)
        .expect("contacts");
    assert!(!recorded.is_empty());
    assert!(recorded.iter().all(|c| !members.contains(&c.customer_id)));
}
