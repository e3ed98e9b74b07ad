//! The campaign ledger end to end: `select` records what it publishes, a rerun replaces, the
//! next week's contact policy counts the ledger, a `kill -9` leaves rows and folder together,
//! and a second writer waits or fails with a clear message.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use bullseye::ledger::{Ledger, LedgerGroup};

use crate::support::{assert_ok, stderr, Sandbox, CDNOW_COLUMNS};

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

/// `ledger attribute` of `l.db` from the `transactions` file.
fn attribute(sb: &Sandbox, transactions: &str) {
    assert_ok(&sb.run(&[
        "ledger",
        "attribute",
        "--transactions",
        transactions,
        "--ledger",
        "l.db",
    ]));
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
    // The salt is drawn from the clock on first use; fixed here so the group, and the test, are
    // the same on every run.
    Ledger::open(&sb.path("l.db"), Duration::from_secs(5))
        .unwrap()
        .setting_or_init(bullseye::ledger::SALT_KEY, || "fixed-test-salt".into())
        .unwrap();
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

/// A small campaign history to train on: 400 customers with purchases in December 2025, scores
/// for two weekly e-mails (sent 2026-01-05 and 2026-01-12), and purchases after the sends by a
/// share of customers that grows with their December spend (so the model has a signal).
fn training_sandbox() -> Sandbox {
    let sb = Sandbox::new(&[]);
    let (mut tx, mut scores) = (
        String::from("customer_id,order_date,amount\n"),
        String::from("customer_id,score,clv,segment\n"),
    );
    let mut state: u64 = 20_260_105;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    for c in 0..400 {
        let orders = 1 + (next() * 4.0) as u32;
        let mut spent = 0.0;
        for k in 0..orders {
            let amount = (5.0 + next() * 60.0).round();
            spent += amount;
            tx.push_str(&format!("c{c:03},2025-12-{:02},{amount}\n", 1 + 7 * k));
        }
        if next() < 0.1 + spent / 400.0 {
            let day = 6 + (next() * 20.0) as u32;
            tx.push_str(&format!("c{c:03},2026-01-{day:02},{}\n", 10 + c % 7));
        }
        scores.push_str(&format!("c{c:03},{:.4},{spent},s{}\n", next(), c % 3));
    }
    std::fs::write(sb.path("t.csv"), tx).unwrap();
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
    for (week, send) in [("1", "2026-01-05"), ("2", "2026-01-12")] {
        std::fs::write(
            sb.path(&format!("week{week}.toml")),
            format!(
                "[campaign]\nname = \"weekly-email\"\nbudget = 60.0\nobjective = \"profit\"\n\
                 value_column = \"clv\"\ncontrol_fraction = 0.25\nseed = 7\nsend_date = \"{send}\"\n\
                 response_window_days = 14\n[[channel]]\nname = \"email\"\ncost = 0.5\n\
                 [contact_policy]\ncooldown_days = 14\n"
            ),
        )
        .unwrap();
        assert_ok(&select(
            &sb,
            &format!("week{week}.toml"),
            &format!("w{week}"),
            &["--ledger", "l.db"],
        ));
    }
    sb
}

fn train_response(sb: &Sandbox, rows: &[&str], out: &str) -> std::process::Output {
    let mut args = vec![
        "train",
        "response",
        "--transactions",
        "t.csv",
        "--holdout",
        "fraction:0.3",
        "--out",
        out,
    ];
    args.extend_from_slice(rows);
    sb.run(&args)
}

/// The fields of the rows of the ledger `l.db`'s send of `weekly-email` on `send`, from
/// `ledger export`: campaign, send_date, customer_id, channel, group, rank, score,
/// expected_value, cost, segment, responses, response_value.
fn exported_rows(sb: &Sandbox, send: &str) -> Vec<Vec<String>> {
    let o = sb.run(&[
        "ledger",
        "export",
        "weekly-email",
        "--send-date",
        send,
        "--ledger",
        "l.db",
    ]);
    assert_ok(&o);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The ledger's sends as a contacts file, by hand from `ledger export`: the file the ledger's
/// rows stand for.
fn contacts_file_of_the_ledger(sb: &Sandbox) -> String {
    let mut contacts = String::from(
        "customer_id,campaign_id,contact_date,channel,group,responded,response_value\n",
    );
    for send in ["2026-01-05", "2026-01-12"] {
        for f in exported_rows(sb, send) {
            let responded = f[10] != "0";
            let value = if responded { f[11].as_str() } else { "" };
            contacts.push_str(&format!(
                "{},{},{},{},{},{},{value}\n",
                f[2],
                f[0],
                f[1],
                f[3],
                f[4],
                u8::from(responded)
            ));
        }
    }
    contacts
}

#[test]
fn a_response_model_from_the_ledger_equals_one_from_the_same_contacts_file() {
    let sb = training_sandbox();
    attribute(&sb, "t.csv");
    std::fs::write(sb.path("contacts.csv"), contacts_file_of_the_ledger(&sb)).unwrap();
    let from_ledger = train_response(&sb, &["--from-ledger", "l.db"], "m-ledger");
    assert_ok(&from_ledger);
    assert_ok(&train_response(
        &sb,
        &["--contacts", "contacts.csv"],
        "m-file",
    ));
    let (a, b) = (sb.json("m-ledger/model.json"), sb.json("m-file/model.json"));
    assert!(
        a["training_rows"].as_u64().unwrap() > 150,
        "{}",
        a["training_rows"]
    );
    for key in ["model", "preprocessing", "training_rows", "metrics"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    // The uplift model learns from the same rows, target against control.
    let uplift = sb.run(&[
        "train",
        "uplift",
        "--transactions",
        "t.csv",
        "--from-ledger",
        "l.db",
        "--holdout",
        "fraction:0.3",
        "--out",
        "u",
    ]);
    assert_ok(&uplift);
    assert!(sb.path("u/model.json").is_file());
}

#[test]
fn training_from_a_ledger_without_responses_fails_with_a_clear_message() {
    let sb = training_sandbox();
    let o = train_response(&sb, &["--from-ledger", "l.db"], "m");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("no responses among"), "{e}");
    assert!(e.contains("bullseye ledger attribute"), "{e}");
    // A ledger that does not exist is not created.
    let o = train_response(&sb, &["--from-ledger", "none.db"], "m");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!sb.path("none.db").exists());
}

/// A job on the bundled data selecting `campaign` (a file of notebooks-data/campaigns), scored
/// by the registry's production response model, recording into `runs/bullseye.db`.
fn loop_job(sb: &Sandbox, file: &str, campaign: &str) {
    loop_job_on(sb, file, campaign, "runs", &cdnow_source());
}

/// [`loop_job`] writing into `out`, its transactions source the table `transactions`.
fn loop_job_on(sb: &Sandbox, file: &str, campaign: &str, out: &str, transactions: &str) {
    let data = crate::support::root().join("notebooks-data");
    let rest = format!(
        "[models]\nregistry = \"{}\"\nscore = [\"response\"]\n\n[select]\ncampaigns = [\"{}\"]\n\n\
         [drift]\naction = \"warn\"\n",
        crate::support::root().join("models").display(),
        data.join("campaigns").join(campaign).display(),
    );
    job_on(
        sb,
        file,
        &format!(
            "out = \"{out}\"\nstages = [\"ingest\", \"features\", \"score\", \"select\", \"report\"]"
        ),
        transactions,
        &rest,
    );
}

/// The bundled CDNOW transactions as a source table.
fn cdnow_source() -> String {
    let data = crate::support::root().join("notebooks-data");
    format!(
        "[sources.transactions]\npath = \"{}\"\ndelimiter = \"whitespace\"\n\
         date_format = \"%Y%m%d\"\n\n{CDNOW_COLUMNS}",
        data.join("CDNOW_master.txt").display()
    )
}

/// A job named `loop` on the bundled transactions and customers: `job` holds the rest of its
/// `[job]` table, `rest` the tables after the sources.
fn bundled_job(sb: &Sandbox, file: &str, job: &str, rest: &str) {
    job_on(sb, file, job, &cdnow_source(), rest);
}

/// [`bundled_job`] with the transactions source table `transactions`.
fn job_on(sb: &Sandbox, file: &str, job: &str, transactions: &str, rest: &str) {
    let data = crate::support::root().join("notebooks-data");
    std::fs::write(
        sb.path(file),
        format!(
            r#"[job]
name = "loop"
{job}

[ingest]
# A run as of a past date rejects the later purchases as `future_date`.
max_reject_rate = 0.9

{transactions}

[sources.customers]
path = "{customers}"

{rest}"#,
            customers = data.join("customers.csv").display(),
        ),
    )
    .unwrap();
}

/// The rows of the loop's week-1 send in `ledger` with their responses, in the ledger's order.
fn answered(ledger: &std::path::Path) -> Vec<bullseye::ledger::AnsweredRow> {
    let l = Ledger::open(ledger, Duration::from_secs(5)).expect("open ledger");
    let send = l
        .find_send(
            "loop-email",
            "1998-05-01".parse().ok(),
            "1998-06-30".parse().unwrap(),
        )
        .expect("send");
    l.answered_rows(&send).expect("rows")
}

/// A weekly job attributes last week's responses as the transactions stream by, whether ingest
/// reads them by its coded path (a plain CSV), the general way (the same rows with CRLF line
/// ends), or both (the coded path gives the file up in its last piece, at a quoted field, after
/// keeping the purchases of the pieces before): the same responses, and those of `ledger
/// attribute` by hand.
#[test]
fn the_coded_path_attributes_last_weeks_responses_as_the_general_path_does() {
    let sb = Sandbox::new(&[]);
    let text =
        std::fs::read_to_string(crate::support::root().join("notebooks-data/CDNOW_master.txt"))
            .unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    // (name, line end, last line's amount quoted, the ingest table's piece size)
    let variants = [
        ("lf", "\n", false, ""),
        ("crlf", "\r\n", false, ""),
        ("late", "\n", true, "piece_mib = 0.05\n\n"),
    ];
    for (name, end, quoted, piece) in variants {
        // An order id per line: CDNOW repeats some lines, which ingest rejects as duplicates
        // (and so by the general way).
        let mut csv = format!("order_id,customer_id,date,number_of_cds,dollar_value{end}");
        for (i, l) in lines.iter().enumerate() {
            let f: Vec<&str> = l.split_whitespace().collect();
            let d = f[1];
            let amount = if quoted && i + 1 == lines.len() {
                format!("\"{}\"", f[3])
            } else {
                f[3].to_string()
            };
            csv.push_str(&format!(
                "{},{},{}-{}-{},{},{amount}{end}",
                i + 1,
                f[0],
                &d[..4],
                &d[4..6],
                &d[6..],
                f[2],
            ));
        }
        std::fs::write(sb.path(&format!("{name}.csv")), csv).unwrap();
        let source = format!("[sources.transactions]\npath = \"{name}.csv\"\n\n{CDNOW_COLUMNS}");
        std::fs::write(sb.path(&format!("{name}-ingest.toml")), &source).unwrap();
        let out = format!("runs-{name}");
        // `piece` lands in the job's `[ingest]` table, just above the source.
        let source = format!("{piece}{source}");
        for week in ["1", "2"] {
            let campaign = format!("loop-week{week}.toml");
            loop_job_on(&sb, &format!("{name}{week}.toml"), &campaign, &out, &source);
        }
        for (week, as_of) in [("1", "1998-05-01"), ("2", "1998-06-30")] {
            let job = format!("{name}{week}.toml");
            assert_ok(&sb.run(&["run", &job, "--as-of", as_of, "--quiet"]));
        }
        let m = sb.json(&format!("{out}/1998-06-30/manifest.json"));
        let parts = m["stages"][0]["parts"].to_string();
        let coded = parts.contains("transactions: read and validate (coded)");
        assert_eq!(coded, name == "lf", "{name}: {parts}");
        if name == "late" {
            assert!(parts.contains("pieces"), "{parts}");
        }
    }
    let lf = answered(&sb.path("runs-lf/bullseye.db"));
    assert!(lf.iter().any(|a| a.responses > 0), "no response attributed");
    for other in ["runs-crlf", "runs-late"] {
        assert_eq!(
            answered(&sb.path(&format!("{other}/bullseye.db"))),
            lf,
            "{other}"
        );
    }
    // By hand, from the same file: the same responses (week 2's send, recorded after its
    // job's ingest, gets its own).
    assert_ok(&sb.run(&[
        "ledger",
        "attribute",
        "--config",
        "lf-ingest.toml",
        "--ledger",
        "runs-lf/bullseye.db",
    ]));
    assert_eq!(answered(&sb.path("runs-lf/bullseye.db")), lf);
}

/// Week 1 (sent 1998-05-01, window 14 days) then week 2 as of 1998-06-30: the job attributes
/// week 1's responses from the transactions itself, so week 2's report has its results with no
/// `ledger attribute`; the ledger rows name the model that ranked them.
#[test]
fn a_jobs_report_reads_out_last_weeks_campaign_with_no_manual_step() {
    let sb = Sandbox::new(&[]);
    loop_job(&sb, "week1.toml", "loop-week1.toml");
    loop_job(&sb, "week2.toml", "loop-week2.toml");
    assert_ok(&sb.run(&["run", "week1.toml", "--as-of", "1998-05-01", "--quiet"]));
    let results =
        |as_of: &str| sb.json(&format!("runs/{as_of}/report.json"))["campaign_results"].clone();
    // Nothing closed yet: the section is left out.
    assert!(results("1998-05-01").is_null());
    assert_ok(&sb.run(&["run", "week2.toml", "--as-of", "1998-06-30", "--quiet"]));
    let r = results("1998-06-30");
    let rows = r.as_array().expect("campaign_results");
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(rows[0]["campaign"], "loop-email");
    assert_eq!(rows[0]["send_date"], "1998-05-01");
    assert!(
        rows[0]["target_response_rate"].as_f64().unwrap() > 0.0,
        "{r}"
    );
    assert!(sb
        .read("runs/1998-06-30/report.html")
        .contains("Campaign results"));
    // The job's attribution is `ledger attribute`'s: attributing by hand changes nothing.
    let ledger = sb.path("runs/bullseye.db");
    let responses = || answered(&ledger);
    let by_job = responses();
    let data = crate::support::root().join("notebooks-data/quickstart.toml");
    assert_ok(&sb.run(&[
        "ledger",
        "attribute",
        "--config",
        data.to_str().unwrap(),
        "--ledger",
        "runs/bullseye.db",
    ]));
    assert_eq!(responses(), by_job);
    // Every target and control row names the registry's production response model.
    let production =
        std::fs::read_to_string(crate::support::root().join("models/response/PRODUCTION"))
            .unwrap()
            .trim()
            .to_string();
    assert!(!by_job.is_empty());
    for a in &by_job {
        assert_eq!(a.selection.model.as_deref(), Some("response"));
        assert_eq!(
            a.selection.model_version.as_deref(),
            Some(production.as_str())
        );
    }
    // A job's `train` stage learns from the ledger: one row per target of both weeks (the
    // control left out), responses attributed by the job itself.
    bundled_job(
        &sb,
        "retrain.toml",
        "out = \"retrain\"\nstages = [\"ingest\", \"train\"]",
        "[ledger]\npath = \"runs/bullseye.db\"\n\n[train]\nmodels = [\"response\"]\nfrom_ledger = true\n",
    );
    assert_ok(&sb.run(&["run", "retrain.toml", "--as-of", "1998-06-30", "--quiet"]));
    let l = Ledger::open(&ledger, Duration::from_secs(5)).expect("open ledger");
    let targets: usize = l
        .sends()
        .expect("sends")
        .iter()
        .map(|s| {
            let rows = l.rows(s).expect("rows");
            rows.iter()
                .filter(|r| r.group == LedgerGroup::Target)
                .count()
        })
        .sum();
    let model = sb.json("retrain/1998-06-30/models/response/model.json");
    assert_eq!(model["training_rows"], targets as u64);
}

/// `readout --global` without a campaign pools the period's sends: every send's target rows
/// against its global-control rows, the campaigns' own control rows left out.
#[test]
fn the_global_readout_pools_every_sends_target_against_the_global_control() {
    let sb = Sandbox::new(&[
        "ledger/scores.csv",
        "ledger/week1.toml",
        "ledger/week2.toml",
        "ledger/transactions.csv",
    ]);
    let gc = ["--ledger", "l.db", "--global-control", "0.25"];
    assert_ok(&select(&sb, "week1.toml", "w1", &gc));
    assert_ok(&select(&sb, "week2.toml", "w2", &gc));
    attribute(&sb, "transactions.csv");
    // (customers, responders) of `group` in a send, from its export.
    let counts = |send: &str, group: &str| -> (u64, u64) {
        let rows: Vec<Vec<String>> = exported_rows(&sb, send)
            .into_iter()
            .filter(|f| f[4] == group)
            .collect();
        let responders = rows.iter().filter(|f| f[10] != "0").count() as u64;
        (rows.len() as u64, responders)
    };
    let readout = |extra: &[&str]| {
        let mut args = vec![
            "readout",
            "--global",
            "--as-of",
            "2026-01-31",
            "--ledger",
            "l.db",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", "r"]);
        assert_ok(&sb.run(&args));
        sb.json("r/readout.json")
    };
    let sends = ["2026-01-05", "2026-01-12"];
    let sum = |group: &str, sends: &[&str]| {
        sends.iter().fold((0, 0), |(c, r), s| {
            let (c2, r2) = counts(s, group);
            (c + c2, r + r2)
        })
    };
    for (extra, period) in [
        (&[][..], &sends[..]),
        (&["--from", "2026-01-10"][..], &sends[1..]),
    ] {
        let r = readout(extra);
        assert_eq!(r["campaign"], "all campaigns");
        assert_eq!(r["baseline"], "global_control");
        assert_eq!(r["send_date"], period[0]);
        let o = &r["overall"];
        let (targets, target_responders) = sum("target", period);
        let (members, member_responders) = sum("global_control", period);
        assert!(targets > 0 && members > 0, "{o}");
        assert_eq!(o["target"]["customers"], targets, "{extra:?}");
        assert_eq!(o["target"]["responders"], target_responders, "{extra:?}");
        assert_eq!(o["control"]["customers"], members, "{extra:?}");
        assert_eq!(o["control"]["responders"], member_responders, "{extra:?}");
    }
    assert!(sum("global_control", &sends).1 + sum("target", &sends).1 > 0);
    // The last window (2026-01-12 + 14 days) closes the pooled one.
    assert_eq!(readout(&[])["window_closes"], "2026-01-26");
    // A ledger without a global control group says so.
    assert_ok(&select(&sb, "week1.toml", "w3", &["--ledger", "plain.db"]));
    let o = sb.run(&[
        "readout",
        "--global",
        "--ledger",
        "plain.db",
        "--as-of",
        "2026-01-31",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("global_control"), "{}", stderr(&o));
}
