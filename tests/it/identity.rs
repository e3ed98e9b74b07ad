//! Identities (README "Identities"): do-not-contact lists keyed by e-mail address.

use std::collections::BTreeMap;

use crate::support::{assert_ok, Sandbox};

const FIXTURES: &[&str] = &[
    "select/scores.csv",
    "select/customers.csv",
    "select/suppressions.csv",
    "select/contacts.csv",
    "select/campaign.toml",
];

/// The select fixture's customers with an `email` column: `c<id>@example.com`, 005's written
/// in mixed case.
fn add_emails(sb: &Sandbox) {
    let text = sb.read("customers.csv");
    let mut lines = text.lines();
    let mut out = format!("{},email\n", lines.next().unwrap());
    for line in lines.filter(|l| !l.is_empty()) {
        let id = line.split(',').next().unwrap();
        let email = match id {
            "005" => "Mixed.Case@Example.COM".to_string(),
            _ => format!("c{id}@example.com"),
        };
        out.push_str(&format!("{line},{email}\n"));
    }
    std::fs::write(sb.path("customers.csv"), out).unwrap();
}

fn reasons(sb: &Sandbox, out: &str) -> BTreeMap<String, String> {
    sb.read(&format!("{out}/excluded.csv"))
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(id, r)| (id.to_string(), r.to_string()))
        .collect()
}

#[test]
fn an_unsubscribe_list_of_addresses_suppresses_those_customers_in_select() {
    let sb = Sandbox::new(FIXTURES);
    add_emails(&sb);
    std::fs::write(
        sb.path("unsubscribe.csv"),
        "email\n  C001@EXAMPLE.com \nmixed.case@example.com\nnobody@example.com\n",
    )
    .unwrap();
    let campaign = sb.read("campaign.toml").replace(
        "files = [\"suppressions.csv\"]",
        "files = [\"suppressions.csv\", \"unsubscribe.csv\"]",
    );
    std::fs::write(sb.path("campaign.toml"), campaign).unwrap();
    let select = |out: &str| {
        sb.run(&[
            "select",
            "--scores",
            "scores.csv",
            "--customers",
            "customers.csv",
            "--campaign",
            "campaign.toml",
            "--out",
            out,
        ])
    };
    assert_ok(&select("out"));
    let got = reasons(&sb, "out");
    for id in ["001", "005"] {
        assert_eq!(got.get(id).map(String::as_str), Some("suppressed"), "{id}");
    }
    let matching = &sb.json("out/summary.json")["matching"];
    assert_eq!(matching["suppression_keys_unmatched"], 1, "{matching}");
    // Never the address itself in the outputs.
    for (name, text) in ["summary.json", "audience.csv", "excluded.csv"]
        .iter()
        .map(|f| (f, sb.read(&format!("out/{f}"))))
    {
        assert!(!text.to_lowercase().contains("example.com"), "{name}");
    }
}

const PLANNER: [&str; 4] = [
    "planner/planner.toml",
    "planner/customers.csv",
    "planner/consent.csv",
    "planner/orders.csv",
];

/// The `frequency` feature per customer of a run's features.
fn frequencies(sb: &Sandbox, path: &str) -> BTreeMap<String, f64> {
    use polars::prelude::*;
    let f = std::fs::File::open(sb.path(path)).unwrap();
    let df = ParquetReader::new(f).finish().unwrap();
    let ids = df.column("customer_id").unwrap().str().unwrap().clone();
    let freq = df
        .column("frequency")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let freq = freq.f64().unwrap().clone();
    ids.iter()
        .zip(freq.iter())
        .filter_map(|(id, f)| Some((id?.to_string(), f?)))
        .collect()
}

#[test]
fn a_run_merges_two_records_of_one_person_before_the_features() {
    let sb = Sandbox::new(&PLANNER);
    // P900 is P001 again (same address in other case), signed up later, with orders of its own.
    let mut customers = sb.read("customers.csv");
    customers.push_str("P900;Anna;Schmidt; ANNA.Schmidt0@Example.com;01/01/2026;south\n");
    std::fs::write(sb.path("customers.csv"), customers).unwrap();
    let mut orders = sb.read("orders.csv");
    orders.push_str("P900;02/02/2026;10,00\nP900;03/03/2026;12,50\n");
    std::fs::write(sb.path("orders.csv"), orders).unwrap();
    let config = sb.read("planner.toml").replace(
        "signup_date = \"Signup\"",
        "signup_date = \"Signup\"\nemail = \"Email\"",
    );
    std::fs::write(sb.path("separate.toml"), &config).unwrap();
    std::fs::write(
        sb.path("merged.toml"),
        format!("{config}\n[identity]\nmatch = [\"email\"]\n"),
    )
    .unwrap();
    let job = |name: &str, sources: &str| {
        std::fs::write(
            sb.path(&format!("{name}.job.toml")),
            format!(
                "[job]\nname = \"{name}\"\nout = \"{name}\"\nas_of = \"2026-06-30\"\n\
                 stages = [\"ingest\", \"features\"]\nsources = \"{sources}\"\n"
            ),
        )
        .unwrap();
        assert_ok(&sb.run(&["run", &format!("{name}.job.toml")]));
    };
    job("separate", "separate.toml");
    job("merged", "merged.toml");
    let separate = frequencies(&sb, "separate/2026-06-30/features.parquet");
    let merged = frequencies(&sb, "merged/2026-06-30/features.parquet");
    assert!(separate.contains_key("P900"));
    assert!(!merged.contains_key("P900"), "P900 was merged into P001");
    assert!(
        merged["P001"] > separate["P001"],
        "P900's orders count for P001"
    );
    let manifest = sb.json("merged/2026-06-30/manifest.json");
    assert_eq!(manifest["merges"]["email"], 1, "{}", manifest["merges"]);
    assert!(sb
        .json("separate/2026-06-30/manifest.json")
        .get("merges")
        .is_none());
    assert_eq!(
        sb.read("merged/2026-06-30/rejects/merge_map.csv"),
        "old_id,surviving_id,rule\nP900,P001,email\n"
    );
}

#[test]
fn customers_dedupe_prints_the_counts_and_writes_the_map() {
    let sb = Sandbox::new(&PLANNER);
    let mut customers = sb.read("customers.csv");
    customers.push_str("P900;Anna;Schmidt;Anna.Schmidt0@example.com ;01/01/2026;south\n");
    std::fs::write(sb.path("customers.csv"), customers).unwrap();
    let config = sb.read("planner.toml").replace(
        "signup_date = \"Signup\"",
        "signup_date = \"Signup\"\nemail = \"Email\"",
    );
    std::fs::write(
        sb.path("merged.toml"),
        format!("{config}\n[identity]\nmatch = [\"email\"]\n"),
    )
    .unwrap();
    let o = sb.run(&[
        "customers",
        "dedupe",
        "--config",
        "merged.toml",
        "--out",
        "map.csv",
    ]);
    assert_ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("1 customer records merged"), "{stdout}");
    assert!(!stdout.to_lowercase().contains("example.com"), "{stdout}");
    assert_eq!(
        sb.read("map.csv"),
        "old_id,surviving_id,rule\nP900,P001,email\n"
    );
    // No rule, no map: said so.
    let o = sb.run(&["customers", "dedupe", "--config", "planner.toml"]);
    assert!(!o.status.success());
}

/// Two records of one person merged by phone, the address on the merged-away record only: a
/// campaign's own list naming that address still suppresses the survivor (the list is matched
/// against every record before the merge, not against the merged customers table).
#[test]
fn a_campaign_list_reaches_the_survivor_through_a_merged_away_address() {
    let sb = Sandbox::new(FIXTURES);
    let text = sb.read("customers.csv");
    let mut lines = text.lines();
    let mut customers = format!("{},email,phone\n", lines.next().unwrap());
    for line in lines.filter(|l| !l.is_empty()) {
        let id = line.split(',').next().unwrap();
        let (email, phone) = match id {
            // 001 and 002 are one person (same phone); 001, the smaller id, survives.
            "001" => ("", "030 1234567"),
            "002" => ("old.address@example.com", "0301234567"),
            _ => ("", ""),
        };
        customers.push_str(&format!("{line},{email},{phone}\n"));
    }
    std::fs::write(sb.path("customers.csv"), customers).unwrap();
    // Scores of a run after the merge: keyed by surviving ids.
    let scores: String = sb
        .read("scores.csv")
        .lines()
        .filter(|l| !l.starts_with("002,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
    std::fs::write(
        sb.path("unsubscribe.csv"),
        "email\nOld.Address@example.com\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("sources.toml"),
        "[sources.customers]\npath = \"customers.csv\"\n\n[identity]\nmatch = [\"phone\"]\n",
    )
    .unwrap();
    let campaign = sb.read("campaign.toml").replace(
        "files = [\"suppressions.csv\"]",
        "files = [\"suppressions.csv\", \"unsubscribe.csv\"]",
    );
    std::fs::write(sb.path("campaign.toml"), campaign).unwrap();
    assert_ok(&sb.run(&[
        "select",
        "--scores",
        "scores.csv",
        "--config",
        "sources.toml",
        "--campaign",
        "campaign.toml",
        "--out",
        "out",
    ]));
    let got = reasons(&sb, "out");
    assert_eq!(got.get("001").map(String::as_str), Some("suppressed"));
    let matching = &sb.json("out/summary.json")["matching"];
    assert!(
        matching.get("suppression_keys_unmatched").is_none(),
        "{matching}"
    );
}
