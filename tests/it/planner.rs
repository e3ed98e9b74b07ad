//! A planner's files as they come (`tests/fixtures/planner/`): `;`-separated, dates as
//! dd/mm/yyyy, amounts with decimal commas, consent flags in their own file; and no name or
//! e-mail address of theirs in any model, report or manifest.

use polars::prelude::*;

use crate::support::{assert_ok, stderr, Sandbox};

const FILES: [&str; 4] = [
    "planner/planner.toml",
    "planner/customers.csv",
    "planner/consent.csv",
    "planner/orders.csv",
];

fn read_parquet(sb: &Sandbox, rel: &str) -> DataFrame {
    let f = std::fs::File::open(sb.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    ParquetReader::new(f).finish().unwrap()
}

/// The fixture's names and e-mail addresses (every value of those columns).
fn personal_values(sb: &Sandbox) -> Vec<String> {
    let text = sb.read("customers.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let wanted: Vec<usize> = ["First Name", "Last Name", "Email"]
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut values: Vec<String> = lines
        .flat_map(|l| {
            let fields: Vec<&str> = l.split(';').collect();
            wanted
                .iter()
                .map(move |i| fields[*i].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    values.sort();
    values.dedup();
    values
}

/// Every file under `dir` (recursively) with its text.
fn texts_under(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(texts_under(&path));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((path.display().to_string(), text));
        }
    }
    out
}

fn assert_no_personal_data(sb: &Sandbox, dir: &str) {
    let values = personal_values(sb);
    let files = texts_under(&sb.path(dir));
    assert!(!files.is_empty(), "no files under {dir}");
    for (path, text) in &files {
        for v in &values {
            assert!(!text.contains(v.as_str()), "{path} holds `{v}`");
        }
    }
}

#[test]
fn a_planners_files_load_as_they_come() {
    let sb = Sandbox::new(&FILES);
    assert_ok(&sb.run(&["ingest", "--config", "planner.toml", "--out", "out"]));
    let summary = sb.json("out/ingest.json");
    let t = &summary["tables"]["transactions"];
    assert_eq!(
        (t["rows_in"].as_u64(), t["rows_rejected"].as_u64()),
        (Some(300), Some(0))
    );
    let c = &summary["tables"]["customers"];
    assert_eq!(c["rows_kept"], 50);
    let joined = &c["joined"][0];
    assert_eq!(joined["rows_in"], 49);
    assert_eq!(joined["rows_rejected"], 0);
    assert_eq!(joined["customers_without_row"], 2);
    assert_eq!(joined["rows_without_customer"], 1);

    // Amounts exactly as written (`1.203,35` is 1203.35), dates day first.
    let tx = read_parquet(&sb, "out/transactions.parquet");
    let amounts: Vec<f64> = tx
        .column("amount")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let written: Vec<f64> = sb
        .read("orders.csv")
        .lines()
        .skip(1)
        .map(|l| {
            l.split(';')
                .nth(2)
                .unwrap()
                .replace('.', "")
                .replace(',', ".")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(amounts, written);
    assert_eq!(amounts[0], 1203.35);
    let first_day = tx.column("order_date").unwrap().get(0).unwrap().to_string();
    assert_eq!(first_day, "2026-05-26");

    // Consent in any spelling, by customer; customers without a consent row have none.
    let customers = read_parquet(&sb, "out/customers.parquet");
    let consent: Vec<Option<i32>> = customers
        .column("email_opt_in")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .collect();
    let spelled = [Some(1), Some(0)];
    assert!(
        consent[..48]
            .iter()
            .enumerate()
            .all(|(i, c)| *c == spelled[i % 2]),
        "{consent:?}"
    );
    assert_eq!(&consent[48..], [None, None]);
}

/// `bullseye features` on the planner's files as of 2026-06-30, with `args`.
fn features(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "features",
        "--config",
        "planner.toml",
        "--as-of",
        "2026-06-30",
    ];
    all.extend_from_slice(args);
    sb.run(&all)
}

#[test]
fn names_and_email_addresses_never_reach_a_feature_model_or_manifest() {
    let sb = Sandbox::new(&FILES);
    let out = features(&sb, &["--out", "f/features.csv"]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("`First Name` (names), `Last Name` (names), `Email` (e-mail addresses)"),
        "{err}"
    );
    assert!(sb.read("f/features.csv").contains("Region_"));
    assert_no_personal_data(&sb, "f");

    // `--exclude` leaves out a column of the user's choice too.
    let out = features(&sb, &["--exclude", "Region", "--out", "g/features.csv"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("`Region` (excluded by request)"));
    assert!(!sb.read("g/features.csv").contains("Region_"));

    let out = sb.run(&[
        "train",
        "churn",
        "--config",
        "planner.toml",
        "--as-of",
        "2026-06-30",
        "--horizon-days",
        "90",
        "--out",
        "churn",
    ]);
    assert_ok(&out);
    let notes = sb.json("churn/metrics.json")["notes"].to_string();
    assert!(notes.contains("`Email` (e-mail addresses)"), "{notes}");
    assert_no_personal_data(&sb, "churn");

    // A job: its models, scores, report and manifest.
    std::fs::write(
        sb.path("job.toml"),
        "[job]\nname = \"planner\"\nout = \"out\"\nas_of = \"2026-06-30\"\n\
         stages = [\"ingest\", \"features\", \"segment\", \"train\", \"score\", \"report\"]\n\
         sources = \"planner.toml\"\n[train]\nmodels = [\"churn\"]\nchurn_horizon_days = 90\n\
         [models]\nallow_weak_model = true\n\
         [drift]\naction = \"warn\"\n",
    )
    .unwrap();
    assert_ok(&sb.run(&["run", "job.toml"]));
    let warnings = sb.json("out/2026-06-30/manifest.json")["warnings"].to_string();
    assert!(warnings.contains("`First Name` (names)"), "{warnings}");
    assert_no_personal_data(&sb, "out");
}

/// The planner's week through a job: the campaign's e-mail export in one run (every customer in
/// the audience or excluded), and the next week's run, after an unsubscribe, lists that customer
/// in `removes.csv` only: never in the e-mail platform file or the adds.
#[test]
fn a_job_exports_the_target_group_and_next_weeks_removes() {
    let sb = Sandbox::new(&FILES);
    let campaign = "[campaign]\nname = \"winback\"\nbudget = 1000.0\nobjective = \"profit\"\n\
                    value_per_response = 50.0\n\n[[channel]]\nname = \"email\"\ncost = 0.1\n\
                    score_column = \"churn_score\"\nconsent_column = \"email_opt_in\"\n\n\
                    [export]\nemail_platform = { columns = [\"Email\", \"First Name\"] }\n";
    std::fs::write(sb.path("campaign.toml"), campaign).unwrap();
    std::fs::write(
        sb.path("job.toml"),
        "[job]\nname = \"week\"\nout = \"out\"\n\
         stages = [\"ingest\", \"features\", \"train\", \"score\", \"select\"]\n\
         sources = \"planner.toml\"\n[train]\nmodels = [\"churn\"]\nchurn_horizon_days = 90\n\
         [models]\nallow_weak_model = true\n\
         [drift]\naction = \"warn\"\n[select]\ncampaigns = [\"campaign.toml\"]\n",
    )
    .unwrap();
    // Fifty customers train a churn model no better than chance: without the override the job
    // refuses to choose an audience with it and publishes nothing.
    let job = sb.read("job.toml");
    std::fs::write(
        sb.path("job.toml"),
        job.replace("[models]\nallow_weak_model = true\n", ""),
    )
    .unwrap();
    let refused = sb.run(&["run", "job.toml", "--as-of", "2026-06-30"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("refused to use the churn model trained in this run")
            && stderr(&refused).contains("allow_weak_model = true"),
        "{}",
        stderr(&refused)
    );
    assert!(!sb.path("out/2026-06-30").exists());
    std::fs::write(sb.path("job.toml"), job).unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--as-of", "2026-06-30"]));
    let week1 = "out/2026-06-30/audience/winback";
    let export = sb.read(&format!("{week1}/export/email_platform.csv"));
    assert_eq!(export.lines().next(), Some("customer_id,Email,First Name"));
    let targets: Vec<String> = export
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert!(targets.len() >= 5, "{export}");
    assert_eq!(sb.read(&format!("{week1}/export/adds.csv")), export);
    // Everyone of the customers table is in the audience or excluded, once.
    let audience = sb.read(&format!("{week1}/audience.csv"));
    let excluded = sb.read(&format!("{week1}/excluded.csv"));
    assert_eq!(audience.lines().count() + excluded.lines().count() - 2, 50);

    // The first target unsubscribes; the next week's run drops them.
    let gone = &targets[0];
    let email = export
        .lines()
        .find(|l| l.starts_with(&format!("{gone},")))
        .and_then(|l| l.split(',').nth(1))
        .unwrap()
        .to_string();
    std::fs::write(
        sb.path("unsubscribed.csv"),
        format!("customer_id,channel,reason\n{gone},email,unsubscribed\n"),
    )
    .unwrap();
    std::fs::write(
        sb.path("campaign.toml"),
        format!("{campaign}\n[suppression]\nfiles = [\"unsubscribed.csv\"]\n"),
    )
    .unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--as-of", "2026-07-07"]));
    let week2 = "out/2026-07-07/audience/winback";
    let removes = sb.read(&format!("{week2}/export/removes.csv"));
    assert!(removes.contains(&format!("{gone},{email},")), "{removes}");
    for file in ["email_platform.csv", "adds.csv"] {
        let text = sb.read(&format!("{week2}/export/{file}"));
        assert!(
            !text.contains(&email),
            "{file} holds the unsubscribed address"
        );
    }
    let reasons = sb.read(&format!("{week2}/excluded.csv"));
    assert!(reasons.contains(&format!("{gone},suppressed")), "{reasons}");
}

/// Every text file of a run folder except the explicit export files, which hold contact
/// columns on purpose.
fn assert_no_personal_data_outside_exports(sb: &Sandbox, dir: &str) {
    let values = personal_values(sb);
    for (path, text) in texts_under(&sb.path(dir)) {
        if path.contains("/export/") {
            continue;
        }
        for v in &values {
            assert!(!text.contains(v.as_str()), "{path} holds `{v}`");
        }
    }
}

/// The planner's week end to end: a second record of Anna (her address in other case, her own
/// consent and order) is merged into P001, an unsubscribe list of addresses (in other case and
/// spacing, one matching nobody) keeps her out, and one job run reaches the e-mail export with
/// everyone accounted for and no name or address outside the export folder.
#[test]
fn a_planners_week_merges_a_duplicate_and_honours_an_address_list() {
    let sb = Sandbox::new(&FILES);
    let append = |file: &str, rows: &str| {
        let mut text = sb.read(file);
        text.push_str(rows);
        std::fs::write(sb.path(file), text).unwrap();
    };
    append(
        "customers.csv",
        "P900;Anna;Schmidt; ANNA.Schmidt0@Example.com;01/01/2026;south\n",
    );
    append("consent.csv", "P900;Yes\n");
    append("orders.csv", "P900;02/02/2026;10,00\n");
    let config = sb.read("planner.toml").replace(
        "signup_date = \"Signup\"",
        "signup_date = \"Signup\"\nemail = \"Email\"",
    );
    std::fs::write(
        sb.path("planner.toml"),
        format!("{config}\n[identity]\nmatch = [\"email\"]\n"),
    )
    .unwrap();
    std::fs::write(
        sb.path("unsubscribe.csv"),
        "email\n  Anna.Schmidt0@EXAMPLE.com \nnobody@example.com\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("campaign.toml"),
        "[campaign]\nname = \"winback\"\nbudget = 1000.0\nobjective = \"profit\"\n\
         value_per_response = 50.0\n\n[[channel]]\nname = \"email\"\ncost = 0.1\n\
         score_column = \"churn_score\"\nconsent_column = \"email_opt_in\"\n\n\
         [suppression]\nfiles = [\"unsubscribe.csv\"]\n\n\
         [export]\nemail_platform = { columns = [\"email\", \"First Name\"] }\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("job.toml"),
        "[job]\nname = \"week\"\nout = \"out\"\n\
         stages = [\"ingest\", \"features\", \"train\", \"score\", \"select\", \"report\"]\n\
         sources = \"planner.toml\"\n[train]\nmodels = [\"churn\"]\nchurn_horizon_days = 90\n\
         [models]\nallow_weak_model = true\n\
         [drift]\naction = \"warn\"\n[select]\ncampaigns = [\"campaign.toml\"]\n",
    )
    .unwrap();
    let out = sb.run(&["run", "job.toml", "--as-of", "2026-06-30"]);
    assert_ok(&out);
    let run = "out/2026-06-30";
    assert_eq!(
        sb.json(&format!("{run}/manifest.json"))["merges"]["email"],
        1
    );
    let folder = format!("{run}/audience/winback");
    // Anna is one customer, P001, suppressed; P900 is no customer of its own any more.
    let excluded = sb.read(&format!("{folder}/excluded.csv"));
    let audience = sb.read(&format!("{folder}/audience.csv"));
    assert!(excluded.contains("P001,suppressed"), "{excluded}");
    assert!(!excluded.contains("P900") && !audience.contains("P900"));
    // Everyone of the 50 customers is in the audience or excluded, once.
    assert_eq!(audience.lines().count() + excluded.lines().count() - 2, 50);
    let export = sb.read(&format!("{folder}/export/email_platform.csv"));
    assert_eq!(export.lines().next(), Some("customer_id,email,First Name"));
    assert!(export.lines().count() > 1, "{export}");
    assert!(!export.to_lowercase().contains("anna.schmidt0"), "{export}");
    let matching = &sb.json(&format!("{folder}/summary.json"))["matching"];
    assert_eq!(matching["suppression_keys_unmatched"], 1, "{matching}");
    assert_no_personal_data_outside_exports(&sb, "out");
}
