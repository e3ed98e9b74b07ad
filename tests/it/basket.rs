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
    let out = sb.run(&all);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
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
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no `category` column"),
        "{}",
        stderr(&out)
    );
}

/// Coffee buyers buy milk: before the cutoff the customer with coffee only is offered milk, and
/// buys it after (the holdout hit); over the whole history they are offered bread.
#[test]
fn affinity_writes_recommendations_and_the_holdout() {
    let sb = Sandbox::new(&[]);
    let mut csv = String::from("customer_id,order_date,product_id,amount\n");
    for (c, day, items) in [
        ("a", "2024-01-02", "coffee milk bread"),
        ("b", "2024-01-02", "coffee milk"),
        ("c", "2024-01-03", "coffee milk bread"),
        ("d", "2024-01-03", "bread jam"),
        ("e", "2024-01-04", "bread"),
        ("f", "2024-01-04", "bread jam"),
        ("g", "2024-01-05", "coffee"),
        ("h", "2024-01-05", "tea"),
        ("g", "2024-02-01", "milk"),
        ("h", "2024-02-01", "bread"),
    ] {
        for item in items.split(' ') {
            csv.push_str(&format!("{c},{day},{item},1\n"));
        }
    }
    std::fs::write(sb.path("t.csv"), csv).unwrap();
    let out = sb.run(&[
        "basket",
        "affinity",
        "--transactions",
        "t.csv",
        "--min-support",
        "0.2",
        "--min-confidence",
        "0.6",
        "--per-customer",
        "1",
        "--holdout-from",
        "2024-02-01",
        "--out",
        "out",
    ]);
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
