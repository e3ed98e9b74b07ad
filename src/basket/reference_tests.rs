//! Groceries (notebooks-data/groceries.csv, arules' `Groceries`): the published figures of
//! issue 21 and notebooks-data's README, and equality with mlxtend's `fpgrowth` +
//! `association_rules` to 1e-9. The mlxtend goldens are committed in tests/golden/groceries/ and
//! written by the script there (`make_goldens.py`, mlxtend 0.25); these tests do not run Python.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use polars::prelude::*;

use super::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn groceries() -> Baskets {
    let text = std::fs::read_to_string(root().join("notebooks-data/groceries.csv")).unwrap();
    Baskets::from_text(&text, &HashSet::new())
}

fn params(support: &str, confidence: &str) -> BasketParams {
    BasketParams {
        min_support: support.parse().unwrap(),
        min_confidence: confidence.parse().unwrap(),
        ..BasketParams::default()
    }
    .check()
    .unwrap()
}

fn golden(file: &str) -> DataFrame {
    let path = root().join("tests/golden/groceries").join(file);
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path))
        .unwrap()
        .finish()
        .unwrap()
}

fn strings(frame: &DataFrame, column: &str) -> Vec<String> {
    frame
        .column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

fn numbers(frame: &DataFrame, column: &str) -> Vec<f64> {
    let c = frame
        .column(column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    c.f64().unwrap().into_no_null_iter().collect()
}

fn close(a: f64, b: f64) -> bool {
    (a == b) || (a - b).abs() <= 1e-9
}

/// Rules keyed by `antecedent => consequent`, with support, confidence, lift, leverage and
/// conviction.
fn by_rule(frame: &DataFrame) -> BTreeMap<String, [f64; 5]> {
    let (a, c) = (strings(frame, "antecedent"), strings(frame, "consequent"));
    let m: Vec<Vec<f64>> = ["support", "confidence", "lift", "leverage", "conviction"]
        .iter()
        .map(|k| numbers(frame, k))
        .collect();
    (0..frame.height())
        .map(|i| {
            (
                format!("{} => {}", a[i], c[i]),
                [m[0][i], m[1][i], m[2][i], m[3][i], m[4][i]],
            )
        })
        .collect()
}

fn assert_rules_match(ours: &BTreeMap<String, [f64; 5]>, theirs: &BTreeMap<String, [f64; 5]>) {
    for (rule, want) in theirs {
        let got = ours.get(rule).unwrap_or_else(|| panic!("{rule} missing"));
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(close(*g, *w), "{rule} metric {k}: ours {g}, mlxtend {w}");
        }
    }
}

#[test]
fn support_001_gives_the_published_itemsets_and_mlxtends() {
    let mined = mine(&groceries(), &params("0.01", "0.5"));
    assert_eq!(mined.baskets, 9_835);
    assert_eq!(mined.items.len(), 169);
    assert_eq!(mined.itemsets.len(), 333);
    let by_length: Vec<(usize, usize)> = mined.itemsets_by_length().into_iter().collect();
    assert_eq!(by_length, [(1, 88), (2, 213), (3, 32)]);

    let ours: BTreeMap<String, (u64, f64)> = mined
        .itemsets
        .iter()
        .map(|s| (mined.label(&s.items), (s.count, s.count as f64 / 9_835.0)))
        .collect();
    let g = golden("itemsets_0.01.csv");
    let (names, counts, supports) = (
        strings(&g, "itemset"),
        numbers(&g, "count"),
        numbers(&g, "support"),
    );
    assert_eq!(names.len(), 333);
    for i in 0..names.len() {
        let (count, support) = ours
            .get(&names[i])
            .unwrap_or_else(|| panic!("{} missing", names[i]));
        assert_eq!(*count as f64, counts[i], "{}", names[i]);
        assert!(close(*support, supports[i]), "{}", names[i]);
    }
    // "whole milk" is in 2,513 baskets.
    assert_eq!(ours["{whole milk}"].0, 2_513);
}

#[test]
fn confidence_05_gives_15_rules_one_at_exactly_a_half() {
    let mined = mine(&groceries(), &params("0.01", "0.5"));
    assert_eq!(mined.rules.len(), 15);
    let halves: Vec<&Rule> = mined
        .rules
        .iter()
        .filter(|r| 2 * r.count == r.antecedent_count)
        .collect();
    assert_eq!(halves.len(), 1);
    assert_eq!((halves[0].count, halves[0].antecedent_count), (127, 254));
    let frame = rules_frame(&mined).unwrap();
    let ours = by_rule(&frame);
    let theirs = by_rule(&golden("rules_0.01_0.5.csv"));
    assert_eq!(ours.len(), theirs.len());
    assert_rules_match(&ours, &theirs);
    let r = ours["{citrus fruit,root vegetables} => {other vegetables}"];
    assert!(
        (r[0] - 0.010371).abs() < 5e-7
            && (r[1] - 0.5862).abs() < 5e-5
            && (r[2] - 3.0296).abs() < 5e-5
    );
}

/// arules' published 410 rules, equal to mlxtend 0.25's. Issue 21 expected mlxtend to find 406
/// (a float comparison losing the 4 rules at exactly 4/5); mlxtend 0.25.0 keeps all 410 (its
/// confidence prints exactly 0.8 there), so the goldens hold 410. The exact comparison matters
/// all the same: the confidence as a quotient of float supports — ours, to report — is below
/// 0.8 for those 4 rules, and a threshold compared on it would drop them.
#[test]
fn support_0001_confidence_08_gives_arules_410_rules() {
    let p = BasketParams {
        max_consequent: Some(1),
        ..params("0.001", "0.8")
    };
    let mined = mine(&groceries(), &p);
    assert_eq!(mined.rules.len(), 410);
    let best = &mined.rules[0];
    assert_eq!(
        (mined.label(&best.antecedent), mined.label(&best.consequent)),
        (
            "{liquor,red/blush wine}".to_string(),
            "{bottled beer}".to_string()
        )
    );
    assert!((best.support() - 0.001_931_876).abs() < 5e-10);
    assert!((best.confidence() - 0.904_761_9).abs() < 5e-8);
    assert!((best.lift() - 11.235_27).abs() < 5e-6);

    let ours = by_rule(&rules_frame(&mined).unwrap());
    let theirs = by_rule(&golden("rules_0.001_0.8.csv"));
    assert_eq!(theirs.len(), 410);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    assert_rules_match(&ours, &theirs);
    let at_four_fifths = mined
        .rules
        .iter()
        .filter(|r| 5 * r.count == 4 * r.antecedent_count);
    let float_drops = at_four_fifths.filter(|r| r.confidence() < 0.8).count();
    assert_eq!(float_drops, FLOAT_DROPS);
}

/// Rules at exactly 4/5 whose float confidence (support ÷ antecedent support) is below 0.8.
const FLOAT_DROPS: usize = 4;

/// The other published counts of notebooks-data's README.
#[test]
fn the_other_published_rule_counts() {
    let baskets = groceries();
    let single = BasketParams {
        max_consequent: Some(1),
        ..params("0.001", "0.5")
    };
    assert_eq!(mine(&baskets, &single).rules.len(), 5_668);
    let mined = mine(&baskets, &params("0.006", "0.25"));
    let mut by_len = BTreeMap::new();
    for r in mined.rules.iter().filter(|r| r.consequent.len() == 1) {
        *by_len.entry(r.antecedent.len() + 1).or_insert(0) += 1;
    }
    assert_eq!(
        by_len.into_iter().collect::<Vec<_>>(),
        [(2, 150), (3, 297), (4, 16)]
    );
}

#[test]
fn max_len_max_rules_lift_and_significance_narrow_the_rules() {
    let baskets = groceries();
    let base = params("0.001", "0.8");
    let all = mine(&baskets, &base);
    let short = mine(
        &baskets,
        &BasketParams {
            max_len: Some(2),
            ..base.clone()
        },
    );
    assert!(short.itemsets.iter().all(|s| s.items.len() <= 2));
    assert!(short
        .rules
        .iter()
        .all(|r| r.antecedent.len() + r.consequent.len() <= 2));
    let top = mine(
        &baskets,
        &BasketParams {
            max_rules: Some(7),
            ..base.clone()
        },
    );
    assert_eq!(top.rules, all.rules[..7]);
    let lift = mine(
        &baskets,
        &BasketParams {
            min_lift: "5".parse().unwrap(),
            ..base.clone()
        },
    );
    assert!(!lift.rules.is_empty() && lift.rules.len() < all.rules.len());
    assert_eq!(
        lift.rules.len(),
        all.rules.iter().filter(|r| r.lift() >= 5.0).count()
    );
    // Weak rules (confidence 0.1) include many near independence: the test drops them.
    let weak = params("0.005", "0.1");
    let untested = mine(&baskets, &weak);
    let tested = mine(
        &baskets,
        &BasketParams {
            significance: Some(0.05),
            ..weak
        },
    );
    assert!(tested.rules.len() < untested.rules.len());
    assert_eq!(tested.rules_considered, untested.rules.len());
    assert!(tested
        .rules
        .iter()
        .all(|r| r.p_adjusted.is_some_and(|q| q <= 0.05)));
    assert!(tested.rules.iter().all(|r| r.lift() > 1.0));
}
