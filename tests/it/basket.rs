//! `bullseye basket`: Groceries through the CLI, transactions at both levels, thresholds'
//! errors, and `basket affinity` with its holdout check.

use polars::prelude::*;

use crate::support::{assert_ok, root, stderr, Sandbox};

fn groceries() -> String {
    root()
        .join("notebooks-data/groceries.csv")
        .display()
        .to_string()
}

#[test]
fn groceries_gives_the_published_counts_and_three_files() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&[
        "basket",
        "--baskets",
        &groceries(),
        "--top",
        "3",
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("9835 baskets, 169 items: 333 frequent itemsets, 15 rules\n"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.contains(" => ")).count(), 3);
    let summary = sb.json("out/basket.json");
    assert_eq!(
        summary["itemsets_by_length"],
        serde_json::json!({"1": 88, "2": 213, "3": 32})
    );
    assert_eq!(summary["rules"], 15);
    assert_eq!(sb.read("out/rules.csv").lines().count(), 16);
    assert_eq!(sb.read("out/itemsets.csv").lines().count(), 334);
    // No temporary file is left beside the outputs.
    let names: Vec<String> = std::fs::read_dir(sb.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn the_liquor_rule_leads_at_support_0001() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&[
        "basket",
        "--baskets",
        &groceries(),
        "--min-support",
        "0.001",
        "--min-confidence",
        "0.8",
        "--max-consequent",
        "1",
        "--max-rules",
        "5",
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let summary = sb.json("out/basket.json");
    assert_eq!(summary["rules_before_significance_and_max_rules"], 410);
    assert_eq!(summary["rules"], 5);
    let top = &summary["top_rules"][0];
    assert_eq!(top["antecedent"], "{liquor,red/blush wine}");
    assert_eq!(top["consequent"], "{bottled beer}");
    assert_eq!(top["count"], 19);
}

#[test]
fn significance_adds_p_values_and_exclude_drops_items() {
    let sb = Sandbox::new(&[]);
    let out = sb.run(&[
        "basket",
        "--baskets",
        &groceries(),
        "--significance",
        "0.01",
        "--correction",
        "fdr",
        "--exclude",
        "whole milk",
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let rules = sb.read("out/rules.csv");
    assert!(
        rules
            .lines()
            .next()
            .unwrap()
            .ends_with(",p_value,p_adjusted"),
        "{rules}"
    );
    assert!(!rules.contains("whole milk"));
    assert_eq!(sb.json("out/basket.json")["items"], 168);
}

/// `basket --baskets groceries ARGS --out o` exits 2 with `message` on stderr.
fn refused(args: &[&str], message: &str) {
    let sb = Sandbox::new(&[]);
    let groceries = groceries();
    let mut all = vec!["basket", "--baskets", groceries.as_str()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", "o"]);
    assert_bad_input(&sb.run(&all), message);
}

/// The command exited 2 with `message` on stderr.
fn assert_bad_input(out: &std::process::Output, message: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(message), "{}", stderr(out));
}

#[test]
fn thresholds_must_be_plain_decimals_within_range() {
    refused(&["--min-support", "1e-3"], "`1e-3` is not a threshold");
    refused(
        &["--min-confidence", "1.5"],
        "min_confidence must be at most 1, found 1.5",
    );
    refused(&["--transactions", "t.csv"], "cannot be used with");
    refused(&["--correction", "sidak"], "unknown correction `sidak`");
}

#[test]
fn invoice_lines_mine_by_order_skipping_cancellations() {
    let sb = Sandbox::new(&["lines/invoice_lines.csv", "lines/invoice_lines.toml"]);
    let out = sb.run(&[
        "basket",
        "--config",
        "invoice_lines.toml",
        "--min-support",
        "0.1",
        "--min-confidence",
        "1",
        "--out",
        "out",
    ]);
    assert_ok(&out);
    let summary = sb.json("out/basket.json");
    // 12 invoices, of which 3 cancellations (negative quantities) are no purchase.
    assert_eq!(summary["baskets"], 9);
    let rules = sb.read("out/rules.csv");
    assert!(rules.contains("{71053},{85123A}"), "{rules}");
    let out = sb.run(&[
        "basket",
        "--config",
        "invoice_lines.toml",
        "--level",
        "category",
        "--out",
        "c",
    ]);
    assert_bad_input(&out, "no `category` column");
}

/// Coffee buyers buy milk: before the cutoff the customer with coffee only is offered milk, and
/// buys it after (the holdout hit); over the whole history they are offered bread.
#[test]
fn affinity_writes_recommendations_and_the_holdout() {
    let sb = Sandbox::new(&[]);
    coffee_transactions(
        &sb,
        &[("g", "2024-02-01", "milk"), ("h", "2024-02-01", "bread")],
    );
    let out = sb.run(
        &[
            &COFFEE_AFFINITY[..],
            &[
                "--per-customer",
                "1",
                "--holdout-from",
                "2024-02-01",
                "--out",
                "out",
            ],
        ]
        .concat(),
    );
    assert_ok(&out);
    let f = std::fs::File::open(sb.path("out/affinity.parquet")).unwrap();
    let affinity = ParquetReader::new(f).finish().unwrap();
    let names: Vec<&str> = affinity
        .get_column_names()
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        names,
        ["customer_id", "item", "score", "lift", "rank", "rule"]
    );
    let g = affinity
        .lazy()
        .filter(col("customer_id").eq(lit("g")))
        .collect()
        .unwrap();
    // Over the whole history g has bought coffee and milk: {coffee,milk} ⇒ {bread} (2 of 3).
    assert_eq!(
        g.column("item").unwrap().str().unwrap().get(0),
        Some("bread")
    );
    assert_eq!(
        g.column("rule").unwrap().str().unwrap().get(0),
        Some("{coffee,milk} => {bread}")
    );
    let holdout = &sb.json("out/basket.json")["holdout"];
    assert_eq!(holdout["customers"], 2);
    assert_eq!(holdout["rules"]["hit_rate"], 0.5);
    assert_eq!(holdout["popularity"]["hit_rate"], 0.5);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("holdout from 2024-02-01"), "{stdout}");
}

/// `basket affinity` over `t.csv` ([`coffee_transactions`]) at support 0.2, confidence 0.6.
const COFFEE_AFFINITY: [&str; 8] = [
    "basket",
    "affinity",
    "--transactions",
    "t.csv",
    "--min-support",
    "0.2",
    "--min-confidence",
    "0.6",
];

/// `t.csv`: coffee buyers buy milk (customers a–h, one basket each in early January 2024), then
/// the `later` (customer, day, items) baskets.
fn coffee_transactions(sb: &Sandbox, later: &[(&str, &str, &str)]) {
    let mut csv = String::from("customer_id,order_date,product_id,amount\n");
    let first = [
        ("a", "2024-01-02", "coffee milk bread"),
        ("b", "2024-01-02", "coffee milk"),
        ("c", "2024-01-03", "coffee milk bread"),
        ("d", "2024-01-03", "bread jam"),
        ("e", "2024-01-04", "bread"),
        ("f", "2024-01-04", "bread jam"),
        ("g", "2024-01-05", "coffee"),
        ("h", "2024-01-05", "tea"),
    ];
    for (c, day, items) in first.iter().chain(later) {
        for item in items.split(' ') {
            csv.push_str(&format!("{c},{day},{item},1\n"));
        }
    }
    std::fs::write(sb.path("t.csv"), csv).unwrap();
}

/// A job over the coffee transactions as of 2024-01-31, with `extra` appended.
fn basket_job(sb: &Sandbox, extra: &str) {
    let job = format!(
        "[job]\nname = \"b\"\nout = \"runs\"\nas_of = \"2024-01-31\"\nstages = [\"ingest\", \"report\"]\n\
         [sources.transactions]\npath = \"t.csv\"\n\
         [sources.transactions.columns]\ncustomer_id = \"customer_id\"\norder_date = \"order_date\"\n\
         product_id = \"product_id\"\namount = \"amount\"\n{extra}"
    );
    std::fs::write(sb.path("job.toml"), job).unwrap();
}

const BASKET_RUN_FILES: [&str; 4] = [
    "itemsets.csv",
    "rules.csv",
    "basket.json",
    "affinity.parquet",
];

#[test]
fn a_job_with_basket_mines_its_baskets_as_of_its_date() {
    let sb = Sandbox::new(&[]);
    // One basket after the as-of date, which the job must not see.
    coffee_transactions(&sb, &[("h", "2024-03-01", "tea jam")]);
    basket_job(
        &sb,
        "[basket]\nmin_support = 0.2\nmin_confidence = 0.6\ntop_n = 1\n",
    );
    let out = sb.run(&["run", "job.toml"]);
    assert_ok(&out);
    let run = "runs/2024-01-31";
    for f in BASKET_RUN_FILES {
        assert!(sb.path(&format!("{run}/{f}")).is_file(), "{f}");
    }
    // 8 baskets on or before the as-of date; the one of March is not seen.
    let summary = sb.json(&format!("{run}/basket.json"));
    assert_eq!(summary["baskets"], 8);
    assert_eq!(summary["parameters"]["min_support"], "0.2");
    let rules = sb.read(&format!("{run}/rules.csv"));
    assert!(rules.contains("{coffee},{milk}"), "{rules}");
    let html = sb.read(&format!("{run}/report.html"));
    assert!(html.contains("<h2>Bought together</h2>"), "basket section");
    assert!(html.contains("{coffee} ⇒ {milk}"), "top rule");
    let manifest = sb.json(&format!("{run}/manifest.json"));
    assert_eq!(
        manifest["job"]["stages"],
        serde_json::json!(["ingest", "basket", "report"])
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("== basket =="), "{stdout}");
}

#[test]
fn a_job_without_basket_has_no_basket_files_and_bad_keys_are_refused() {
    let sb = Sandbox::new(&[]);
    coffee_transactions(&sb, &[]);
    basket_job(&sb, "");
    assert_ok(&sb.run(&["run", "job.toml"]));
    let run = "runs/2024-01-31";
    for f in BASKET_RUN_FILES {
        assert!(!sb.path(&format!("{run}/{f}")).exists(), "{f}");
    }
    assert!(!sb
        .read(&format!("{run}/report.html"))
        .contains("Bought together"));
    basket_job(&sb, "[basket]\nmin_suport = 0.2\n");
    let out = sb.run(&["run", "job.toml"]);
    assert_bad_input(&out, "min_suport");
    basket_job(&sb, "[basket]\nlevel = \"category\"\n");
    let out = sb.run(&["run", "job.toml"]);
    assert_bad_input(&out, "no `category` column");
}

/// A campaign ranks by an item's affinity: `basket affinity --scores --item milk` adds
/// `affinity:milk` to a scores table, and the audience is the customers the rules point to milk,
/// best first — not the order of the table's own `score`.
#[test]
fn a_campaign_ranks_by_an_items_affinity_and_unknown_items_are_named() {
    let sb = Sandbox::new(&[]);
    coffee_transactions(&sb, &[("i", "2024-01-05", "coffee bread")]);
    // h has the best generic score, but no rule points it to milk.
    std::fs::write(
        sb.path("scores.csv"),
        "customer_id,score\nd,0.1\ne,0.2\nf,0.3\ng,0.4\nh,0.9\ni,0.5\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("campaign.toml"),
        "[campaign]\nname = \"milk\"\nbudget = 100.0\nobjective = \"profit\"\n\
         value_per_response = 20.0\n[[channel]]\nname = \"email\"\ncost = 1.0\n\
         score_column = \"affinity:milk\"\n",
    )
    .unwrap();
    let affinity = |item: &str| {
        sb.run(
            &[
                &COFFEE_AFFINITY[..],
                &[
                    "--scores",
                    "scores.csv",
                    "--item",
                    item,
                    "--scores-out",
                    "scores-milk.csv",
                    "--out",
                    "out",
                ],
            ]
            .concat(),
        )
    };
    assert_ok(&affinity("milk"));
    let out = sb.run(&[
        "select",
        "--scores",
        "scores-milk.csv",
        "--campaign",
        "campaign.toml",
        "--out",
        "audience",
    ]);
    assert_ok(&out);
    let audience: Vec<(String, f64)> = sb
        .read("audience/audience.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[1].to_string(), cells[4].parse().unwrap())
        })
        .collect();
    // i: {bread,coffee} ⇒ {milk}, 2 of 3; g: {coffee} ⇒ {milk}, 3 of 5 (exactly the minimum).
    let ids: Vec<&str> = audience.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["i", "g"]);
    assert!((audience[0].1 - 2.0 / 3.0).abs() < 1e-3, "{audience:?}");
    assert!((audience[1].1 - 0.6).abs() < 1e-9, "{audience:?}");
    assert_bad_input(
        &affinity("Milk "),
        "unknown item `Milk ` in `affinity:Milk `: the baskets have 5 items, the closest is `milk`",
    );
}

/// In a job, a campaign ranking by `affinity:vinyl` gets the `basket` stage's scores: CDNOW
/// sample customers split in three kinds by id — {cd, tape} baskets, {cd} baskets, {tape, vinyl}
/// baskets — so {tape} ⇒ {vinyl} reaches the first kind only, and the audience is exactly them,
/// whatever the response model's scores say.
#[test]
fn a_jobs_campaign_ranks_by_the_basket_stages_affinity() {
    let sb = Sandbox::new(&[]);
    let data = root().join("notebooks-data");
    let sample = std::fs::read_to_string(data.join("CDNOW_sample.txt")).unwrap();
    let mut csv = String::from("customer_id,order_date,quantity,amount,product_id\n");
    let mut first_kind = std::collections::BTreeSet::new();
    for line in sample.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (id, day, cds, value) = (f[0], f[2], f[3], f[4].parse::<f64>().unwrap());
        let kind = id.parse::<u32>().unwrap() % 3;
        let items: &[&str] = match kind {
            0 => &["cd", "tape"],
            1 => &["cd"],
            _ => &["tape", "vinyl"],
        };
        if kind == 0 {
            first_kind.insert(id.to_string());
        }
        for item in items {
            let share = value / items.len() as f64;
            csv.push_str(&format!("{id},{day},{cds},{share:.2},{item}\n"));
        }
    }
    std::fs::write(sb.path("t.csv"), csv).unwrap();
    std::fs::write(
        sb.path("campaign.toml"),
        "[campaign]\nname = \"vinyl\"\nbudget = 100000.0\nobjective = \"profit\"\n\
         value_per_response = 20.0\n[[channel]]\nname = \"email\"\ncost = 1.0\n\
         score_column = \"affinity:vinyl\"\n",
    )
    .unwrap();
    let job = |basket: &str| {
        format!(
            "[job]\nname = \"v\"\nout = \"runs\"\nas_of = \"1998-06-30\"\n\
             stages = [\"ingest\", \"features\", \"score\", \"select\"]\n\
             [sources.transactions]\npath = \"t.csv\"\ndate_format = \"%Y%m%d\"\n\
             [sources.transactions.columns]\ncustomer_id = \"customer_id\"\norder_date = \"order_date\"\n\
             quantity = \"quantity\"\namount = \"amount\"\nproduct_id = \"product_id\"\n\
             [sources.customers]\npath = {:?}\n\
             [models]\nregistry = {:?}\nscore = [\"response\"]\n\
             [drift]\naction = \"warn\"\n[ledger]\nenabled = false\n\
             [select]\ncampaigns = [\"campaign.toml\"]\n{basket}",
            data.join("customers.csv").display().to_string(),
            root().join("models").display().to_string(),
        )
    };
    std::fs::write(sb.path("job.toml"), job("")).unwrap();
    assert_bad_input(
        &sb.run(&["run", "job.toml"]),
        "ranks by `affinity:vinyl`, which the `basket` stage computes",
    );
    std::fs::write(
        sb.path("job.toml"),
        job("[basket]\nmin_support = 0.05\nmin_confidence = 0.3\n"),
    )
    .unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    let audience = sb.read("runs/1998-06-30/audience/vinyl/audience.csv");
    let rows: Vec<Vec<&str>> = audience
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let ids: std::collections::BTreeSet<String> = rows.iter().map(|r| r[1].to_string()).collect();
    assert_eq!(ids, first_kind);
    let score: f64 = rows[0][4].parse().unwrap();
    assert!(score > 0.3 && score < 1.0, "{score}");
}
