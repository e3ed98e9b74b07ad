//! `[export]` of a campaign file: the e-mail platform and ad platform files of the target group,
//! adds and removes against the previous export, and no personal data anywhere else.

use std::collections::BTreeSet;

use crate::select::{fixture_args, run_fixture as select, run_fixture_plan, FIXTURES};
use crate::support::Sandbox;

const EXPORT: &str = r#"
[export]
email_platform = { columns = ["email", "first_name"] }
ad_platforms = ["meta", "google"]
identifiers = { email = "email", phone = "phone" }
default_country_code = "44"
"#;

/// The fixture's customers table with an e-mail address, a first name and a phone number for
/// every customer (`c<id>@example.com`, `Name<id>`, `+44 7700 900<id>`).
fn with_contacts(sb: &Sandbox) {
    let text = sb.read("customers.csv");
    let mut lines = text.lines();
    let mut out = format!("{},email,first_name,phone\n", lines.next().unwrap());
    for line in lines {
        let id = line.split(',').next().unwrap();
        out.push_str(&format!(
            "{line},C{id}@Example.com ,Name{id},+44 7700 900{id}\n"
        ));
    }
    std::fs::write(sb.path("customers.csv"), out).unwrap();
    let campaign = sb.read("campaign.toml") + EXPORT;
    std::fs::write(sb.path("campaign.toml"), campaign).unwrap();
}

/// Removes a customer's row from the scores (no longer scored, so not selected).
fn drop_from_scores(sb: &Sandbox, id: &str) {
    let scores: String = sb
        .read("scores.csv")
        .lines()
        .filter(|l| !l.starts_with(&format!("{id},")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
}

/// The first column of a CSV's rows.
fn first_column(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect()
}

/// The target group of an audience file, in its order.
fn targets(audience: &str) -> Vec<String> {
    audience
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(3) == Some("target"))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn a_campaign_with_export_writes_the_activation_files() {
    let sb = Sandbox::new(FIXTURES);
    with_contacts(&sb);
    let o = select(&sb, "out", &[]);
    let target = targets(&sb.read("out/audience.csv"));
    assert!(target.len() >= 3, "{target:?}");

    let email = sb.read("out/export/email_platform.csv");
    assert_eq!(email.lines().next(), Some("customer_id,email,first_name"));
    assert_eq!(first_column(&email), target);
    let first = &target[0];
    assert!(
        email.contains(&format!("{first},C{first}@Example.com")),
        "{email}"
    );

    let meta = sb.read("out/export/meta_audience.csv");
    let google = sb.read("out/export/google_audience.csv");
    assert_eq!(meta.lines().next(), Some("EMAIL,PHONE"));
    assert_eq!(google.lines().next(), Some("Email,Phone"));
    assert_eq!(meta.lines().count(), target.len() + 1);
    // Hashes only: 64 hex digits per cell.
    for line in meta.lines().skip(1).chain(google.lines().skip(1)) {
        for cell in line.split(',') {
            assert!(cell.len() == 64 && cell.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    // The first export: everyone is an add.
    assert_eq!(first_column(&sb.read("out/export/adds.csv")), target);
    assert!(first_column(&sb.read("out/export/removes.csv")).is_empty());

    // Suppressed customers (003 on every channel, 004 on e-mail) never reach an export, and no
    // e-mail address or name is anywhere but in the export files.
    for file in ["email_platform.csv", "adds.csv", "meta_audience.csv"] {
        let text = sb.read(&format!("out/export/{file}"));
        assert!(!text.contains("003") && !text.contains("004"), "{file}");
    }
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for (what, text) in [
        ("summary.json", sb.read("out/summary.json")),
        ("excluded.csv", sb.read("out/excluded.csv")),
        ("audience.csv", sb.read("out/audience.csv")),
        ("output", printed),
    ] {
        assert!(
            !text.contains("@example.com") && !text.contains("Name0"),
            "{what}"
        );
    }
}

#[test]
fn a_rerun_without_a_customer_lists_them_in_removes() {
    let sb = Sandbox::new(FIXTURES);
    with_contacts(&sb);
    select(&sb, "week1", &[]);
    let before = targets(&sb.read("week1/audience.csv"));
    // The best target customer leaves the scores (no longer scored, so not selected).
    let gone = before[0].clone();
    drop_from_scores(&sb, &gone);
    select(&sb, "week2", &["--previous", "week1"]);
    let after: BTreeSet<String> = targets(&sb.read("week2/audience.csv"))
        .into_iter()
        .collect();
    assert!(!after.contains(&gone));
    let removes = sb.read("week2/export/removes.csv");
    assert_eq!(removes.lines().next(), Some("customer_id,email,first_name"));
    let removed: BTreeSet<String> = first_column(&removes).into_iter().collect();
    let expected: BTreeSet<String> = before
        .iter()
        .filter(|id| !after.contains(*id))
        .cloned()
        .collect();
    assert!(removed.contains(&gone), "{removes}");
    assert_eq!(removed, expected);
    let added: BTreeSet<String> = first_column(&sb.read("week2/export/adds.csv"))
        .into_iter()
        .collect();
    let before: BTreeSet<String> = before.into_iter().collect();
    assert_eq!(added, after.difference(&before).cloned().collect());

    // A --previous that is no folder is refused rather than making everyone an add.
    let o = sb.run(&fixture_args("week3", &["--previous", "week9"]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_plan_exports_each_campaign_against_its_previous_folder() {
    let sb = Sandbox::new(FIXTURES);
    with_contacts(&sb);
    run_fixture_plan(&sb, "p1", &[]);
    let before = targets(&sb.read("p1/fixture-email/audience.csv"));
    assert_eq!(
        first_column(&sb.read("p1/fixture-email/export/email_platform.csv")),
        before
    );
    let gone = before[0].clone();
    drop_from_scores(&sb, &gone);
    run_fixture_plan(&sb, "p2", &["--previous", "p1"]);
    for folder in ["fixture-email", "fixture-other"] {
        let was: BTreeSet<String> = targets(&sb.read(&format!("p1/{folder}/audience.csv")))
            .into_iter()
            .collect();
        let now: BTreeSet<String> = targets(&sb.read(&format!("p2/{folder}/audience.csv")))
            .into_iter()
            .collect();
        let removed: BTreeSet<String> =
            first_column(&sb.read(&format!("p2/{folder}/export/removes.csv")))
                .into_iter()
                .collect();
        assert_eq!(removed, was.difference(&now).cloned().collect(), "{folder}");
    }
    let removed = sb.read("p2/fixture-email/export/removes.csv");
    assert!(removed.contains(&format!("{gone},")), "{removed}");
}
