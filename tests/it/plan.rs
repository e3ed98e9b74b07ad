//! `bullseye plan` on the bundled data: the quickstart's two campaigns planned jointly.

use std::collections::{HashMap, HashSet};

use crate::support::*;

/// (customer_id, group) of an audience file.
pub(crate) fn audience(sb: &Sandbox, rel: &str) -> Vec<(String, String)> {
    let text = sb.read(rel);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let id = header
        .iter()
        .position(|&h| h == "customer_id")
        .expect("customer_id");
    let group = header.iter().position(|&h| h == "group").expect("group");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[id].to_string(), f[group].to_string())
        })
        .collect()
}

fn plan_args<'a>(out: &'a str, campaigns: &'a [String], extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "plan".into(),
        "--scores".into(),
        "qs/1998-06-30/scores.csv".into(),
        "--config".into(),
        root()
            .join("notebooks-data/quickstart.toml")
            .display()
            .to_string(),
        "--out".into(),
        out.into(),
    ];
    for c in campaigns {
        args.push("--campaign".into());
        args.push(c.clone());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(sb: &Sandbox, args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&a)
}

/// A sandbox holding the quickstart's outputs (`qs/`), and the paths of its two campaigns.
fn quickstart() -> (Sandbox, Vec<String>) {
    let sb = Sandbox::new(&[]);
    assert_ok(&sb.run(&["quickstart", "--out", "qs", "--quiet"]));
    let campaigns = ["spring-email", "email-and-mail"]
        .iter()
        .map(|c| {
            root()
                .join(format!("notebooks-data/campaigns/{c}.toml"))
                .display()
                .to_string()
        })
        .collect();
    (sb, campaigns)
}

#[test]
fn quickstart_campaigns_planned_jointly() {
    let (sb, campaigns) = quickstart();
    let out = run(&sb, &plan_args("plan", &campaigns, &[]));
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("upper bound") && stdout.contains("more than once 0"),
        "{stdout}"
    );

    let folders = ["spring-email", "summer-email-and-mail"];
    let lists: Vec<Vec<(String, String)>> = folders
        .iter()
        .map(|f| audience(&sb, &format!("plan/{f}/audience.csv")))
        .collect();
    let targets: Vec<HashSet<&str>> = lists
        .iter()
        .map(|l| {
            l.iter()
                .filter(|r| r.1 == "target")
                .map(|r| r.0.as_str())
                .collect()
        })
        .collect();
    let controls: HashSet<&str> = lists
        .iter()
        .flatten()
        .filter(|r| r.1 == "control")
        .map(|r| r.0.as_str())
        .collect();
    assert!(!targets[0].is_empty() && !targets[1].is_empty() && !controls.is_empty());
    assert_eq!(
        targets[0].intersection(&targets[1]).count(),
        0,
        "customers in both target groups"
    );
    for t in &targets {
        assert_eq!(
            t.intersection(&controls).count(),
            0,
            "control members contacted"
        );
    }
    // Every scored customer once per campaign, in the audience or the exclusions.
    let scored = sb.read("qs/1998-06-30/scores.csv").lines().count() - 1;
    for (f, list) in folders.iter().zip(&lists) {
        let excluded = sb.read(&format!("plan/{f}/excluded.csv"));
        let mut seen: HashMap<String, usize> = HashMap::new();
        for id in list.iter().map(|r| r.0.clone()).chain(
            excluded
                .lines()
                .skip(1)
                .map(|l| l.split(',').next().unwrap_or("").to_string()),
        ) {
            *seen.entry(id).or_default() += 1;
        }
        assert_eq!(seen.len(), scored, "{f}");
        assert!(seen.values().all(|&n| n == 1), "{f}");
        let s = sb.json(&format!("plan/{f}/summary.json"));
        assert!(
            s["exclusions"]["assigned_elsewhere"].as_u64().unwrap() > 0,
            "{f}"
        );
    }
    let p = sb.json("plan/plan.json");
    let (obj, ub) = (
        p["objective"].as_f64().unwrap(),
        p["upper_bound"].as_f64().unwrap(),
    );
    assert!(ub >= obj && p["gap"].as_f64().unwrap() < 0.01, "{p}");
    assert_eq!(p["contacted_more_than_once"], 0);

    // A rerun writes the same files.
    assert_ok(&run(&sb, &plan_args("again", &campaigns, &[])));
    for f in folders {
        for file in ["audience.csv", "excluded.csv", "summary.json"] {
            assert_eq!(
                sb.read(&format!("plan/{f}/{file}")),
                sb.read(&format!("again/{f}/{file}"))
            );
        }
    }
    assert_eq!(sb.read("plan/plan.json"), sb.read("again/plan.json"));

    // A policy allowing two contacts but declaring the campaigns in conflict: still nobody in both.
    std::fs::write(
        sb.path("policy.toml"),
        "[policy]\nmax_contacts = 2\nconflicts = [[\"spring-email\", \"summer-email-and-mail\"]]\n",
    )
    .unwrap();
    assert_ok(&run(
        &sb,
        &plan_args("conflict", &campaigns, &["--policy", "policy.toml"]),
    ));
    let a = audience(&sb, "conflict/spring-email/audience.csv");
    let b = audience(&sb, "conflict/summer-email-and-mail/audience.csv");
    let a: HashSet<&str> = a
        .iter()
        .filter(|r| r.1 == "target")
        .map(|r| r.0.as_str())
        .collect();
    assert!(b
        .iter()
        .filter(|r| r.1 == "target")
        .all(|r| !a.contains(r.0.as_str())));
    let s = sb.json("conflict/summer-email-and-mail/summary.json");
    assert!(s["exclusions"]["conflict"].as_u64().unwrap() > 0);

    // An unknown policy key is refused, naming it.
    std::fs::write(sb.path("bad.toml"), "[policy]\nmax_contact = 2\n").unwrap();
    let out = run(
        &sb,
        &plan_args("bad", &campaigns, &["--policy", "bad.toml"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("max_contact"), "{}", stderr(&out));
}

/// `plan --ledger FILE --global-control SHARE` holds the ledger's global control group out of
/// every campaign: the same members `select --global-control` draws from that ledger (a job's
/// `[ledger] global_control` draws through the same function), in no audience, and in each
/// campaign's `excluded.csv` as `global_control` (or `suppressed`: safety is named first),
/// counted in its summary and recorded in the ledger.
#[test]
fn the_plan_holds_the_ledgers_global_control_out_of_every_campaign() {
    let (sb, campaigns) = quickstart();
    let gc = ["--ledger", "l.db", "--global-control", "0.05"];
    assert_ok(&run(&sb, &plan_args("plan", &campaigns, &gc)));
    // The members the ledger records with the plan's send (before `select` records its own).
    let out = sb.run(&["ledger", "export", "spring-email", "--ledger", "l.db"]);
    assert_ok(&out);
    let recorded: HashSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split(',').nth(4) == Some("global_control"))
        .filter_map(|l| l.split(',').nth(2).map(str::to_string))
        .collect();
    let mut select = plan_args("sel", &campaigns[..1], &gc);
    select[0] = "select".into();
    assert_ok(&run(&sb, &select));

    let reasons = |file: &str| -> HashMap<String, String> {
        sb.read(file)
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(id, r)| (id.to_string(), r.to_string()))
            .collect()
    };
    let with = |m: &HashMap<String, String>, reason: &str| -> HashSet<String> {
        m.iter()
            .filter(|(_, r)| *r == reason)
            .map(|(id, _)| id.clone())
            .collect()
    };
    // `select` names a member who is also on its campaign's do-not-contact list `suppressed`:
    // the ledger's record is the whole group.
    let drawn = with(&reasons("sel/excluded.csv"), "global_control");
    assert!(drawn.len() > 100, "{}", drawn.len());
    assert!(drawn.is_subset(&recorded));
    for f in ["spring-email", "summer-email-and-mail"] {
        let excluded = reasons(&format!("plan/{f}/excluded.csv"));
        let members = with(&excluded, "global_control");
        if f == "spring-email" {
            assert_eq!(members, drawn, "the plan and select draw the same members");
        }
        assert!(members.is_subset(&recorded), "{f}");
        for m in &recorded {
            let r = excluded.get(m).map(String::as_str);
            assert!(
                matches!(r, Some("global_control" | "suppressed")),
                "{f}: {m} {r:?}"
            );
        }
        let listed = audience(&sb, &format!("plan/{f}/audience.csv"));
        assert!(listed.iter().all(|(id, _)| !recorded.contains(id)), "{f}");
        let s = sb.json(&format!("plan/{f}/summary.json"));
        assert_eq!(
            s["exclusions"]["global_control"].as_u64(),
            Some(members.len() as u64),
            "{f}"
        );
    }
}
