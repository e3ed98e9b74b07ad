//! `bullseye basket due`: who is due to buy a category again, and a campaign selecting on it.

use std::collections::BTreeMap;
use std::process::Output;

use crate::support::{assert_ok, root, Sandbox};

/// The rows of a small CSV (no quoted cells) as maps by column name.
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// `bullseye basket due` on the bundled orders as of 2025-06-30, with `extra` flags.
fn due_bundled(sb: &Sandbox, extra: &[&str]) -> Output {
    let orders = root().join("notebooks-data/replenishment.csv");
    let mut args = vec![
        "basket",
        "due",
        "--transactions",
        orders.to_str().unwrap(),
        "--as-of",
        "2025-06-30",
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

#[test]
fn due_lists_the_customers_due_within_the_window_sorted() {
    let sb = Sandbox::new(&[]);
    let out = due_bundled(
        &sb,
        &["--within", "14", "--max-overdue", "30", "--out", "due.csv"],
    );
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("coffee"), "{stdout}");
    let due = rows(&sb.read("due.csv"));
    assert!(!due.is_empty());
    let keys: Vec<(String, i64, String)> = due
        .iter()
        .map(|r| {
            let days: i64 = r["days_until_due"].parse().unwrap();
            assert!((-30..=14).contains(&days), "{r:?}");
            // Nothing after the as-of day is a purchase.
            assert!(r["last_purchase"].as_str() <= "2025-06-30", "{r:?}");
            (r["category"].clone(), days, r["customer_id"].clone())
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "by category, days until due, id");
}

#[test]
fn a_campaign_selects_the_customers_due() {
    let sb = Sandbox::new(&[]);
    // a: coffee every 30 days; b: coffee every 10 days, last on 2024-01-21; c: never coffee.
    std::fs::write(
        sb.path("orders.csv"),
        "customer_id,order_date,amount,category\n\
         a,2024-01-01,10,coffee\na,2024-01-31,10,coffee\na,2024-03-01,10,coffee\n\
         b,2024-01-01,10,coffee\nb,2024-01-11,10,coffee\nb,2024-01-21,10,coffee\n\
         c,2024-03-01,10,tea\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("scores.csv"),
        "customer_id,score\na,0.5\nb,0.6\nc,0.7\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("campaign.toml"),
        "[campaign]\nname = \"coffee-due\"\nbudget = 100.0\nobjective = \"profit\"\n\
         value_per_response = 20.0\n[[channel]]\nname = \"email\"\ncost = 0.1\n\
         [eligibility]\nsegment_column = \"due_status\"\ninclude_segments = [\"due\"]\n",
    )
    .unwrap();
    let out = sb.run(&[
        "basket",
        "due",
        "--transactions",
        "orders.csv",
        "--as-of",
        "2024-03-25",
        "--within",
        "7",
        "--max-overdue",
        "30",
        "--category",
        "coffee",
        "--scores",
        "scores.csv",
        "--scores-out",
        "scores-due.csv",
    ]);
    assert_ok(&out);
    let scored = rows(&sb.read("scores-due.csv"));
    let status: Vec<(&str, &str, &str)> = scored
        .iter()
        .map(|r| {
            (
                r["customer_id"].as_str(),
                r["due_status"].as_str(),
                r["days_until_due"].as_str(),
            )
        })
        .collect();
    // Coffee gaps 10, 10, 30, 30: median 20. a: (60 + 3·20) / 5 = 24 days after Mar 1, due
    // on Mar 25 itself. b: (20 + 3·20) / 5 = 16 days after Jan 21, due Feb 6: 48 days overdue,
    // lapsed past --max-overdue 30.
    assert_eq!(
        status,
        [
            ("a", "due", "0"),
            ("b", "not_due", ""),
            ("c", "not_due", "")
        ]
    );
    let out = sb.run(&[
        "select",
        "--scores",
        "scores-due.csv",
        "--campaign",
        "campaign.toml",
        "--out",
        "audience",
    ]);
    assert_ok(&out);
    let audience = rows(&sb.read("audience/audience.csv"));
    let ids: Vec<&str> = audience.iter().map(|r| r["customer_id"].as_str()).collect();
    assert_eq!(ids, ["a"]);
}

#[test]
fn scores_need_one_category() {
    let sb = Sandbox::new(&[]);
    let out = due_bundled(&sb, &["--scores", "scores.csv", "--scores-out", "x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--category NAME"), "{stderr}");
}
