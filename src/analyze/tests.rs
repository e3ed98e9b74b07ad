//! Hand-computed fixtures for every penetration figure.

use chrono::NaiveDate;
use polars::prelude::{Column, DataFrame, DataType};

use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dates(name: &str, values: &[Option<&str>]) -> Column {
    let days: Vec<Option<i32>> = values
        .iter()
        .map(|v| v.map(|v| crate::types::epoch_day(day(v))))
        .collect();
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .unwrap()
}

/// Customers `c1..cN` with a zip each; `active` of them bought 10.00 on 2024-06-01.
fn base_of(zips: &[&str], active: &[bool], by: &str) -> CustomerBase {
    let ids: Vec<String> = (1..=zips.len()).map(|i| format!("c{i}")).collect();
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids.clone()),
        Column::new("zip_code".into(), zips.to_vec()),
    ])
    .unwrap();
    let buyers: Vec<String> = ids
        .iter()
        .zip(active)
        .filter(|(_, a)| **a)
        .map(|(id, _)| id.clone())
        .collect();
    let n = buyers.len();
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), buyers),
        dates("order_date", &vec![Some("2024-06-01"); n]),
        Column::new("amount".into(), vec![10.0; n]),
    ])
    .unwrap();
    let edges = Bands::parse("e", "30").unwrap();
    let dim = Dimension::parse(by, &edges, "income", &edges).unwrap();
    CustomerBase::build(
        Some(&customers),
        &Activity::from_transactions(&tx, day("2024-12-31"), 365).unwrap(),
        &[dim],
    )
    .unwrap()
}

fn params(min_group: u64, market: Option<MarketSize>) -> PenetrationParams {
    PenetrationParams { min_group, market }
}

fn group<'a>(t: &'a PenetrationTable, name: &str) -> &'a GroupRow {
    t.groups.iter().find(|g| g.group == name).unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn a_zip_of_ten_households_with_three_customers_has_penetration_point_three() {
    let base = base_of(
        &["A", "A", "A", "B", "B", "B", "B", "B"],
        &[false; 8],
        "zip_code",
    );
    let market = MarketSize {
        dimension: "zip_code".into(),
        measure: "households".into(),
        sizes: vec![("A".into(), 10.0), ("B".into(), 100.0), ("C".into(), 400.0)],
    };
    let t = &penetration(&base, &params(1, Some(market))).unwrap()[0];
    let a = group(t, "A");
    assert!(close(a.penetration, 0.3));
    // The base: 8 customers in markets of 510 households.
    assert!(close(t.totals.penetration, 8.0 / 510.0));
    assert!(close(a.penetration_index, 100.0 * 0.3 / (8.0 / 510.0)));
    let base: f64 = 8.0 / 510.0;
    assert!(close(
        a.z_score,
        (0.3 - base) / (base * (1.0 - base) / 10.0).sqrt()
    ));
    // A zip with households and no customer is the most under-penetrated, not left out.
    let c = group(t, "C");
    assert_eq!((c.customers, c.penetration), (0, Some(0.0)));
    assert_eq!(t.under_penetrated.first().map(String::as_str), Some("C"));
    // B (5 of 100) is also well above the base and far enough from it to say so.
    assert_eq!(t.over_penetrated, ["A", "B"]);
    assert_eq!(t.markets_without_customers, 1);
    // Ranked by the penetration index.
    let order: Vec<&str> = t.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(order, ["A", "B", "C"]);
}

#[test]
fn an_index_of_150_is_one_and_a_half_times_the_base_rate() {
    // X: 3 of 4 buy (0.75); Y: 1 of 4 (0.25); the base: 4 of 8 (0.5).
    let base = base_of(
        &["X", "X", "X", "X", "Y", "Y", "Y", "Y"],
        &[true, true, true, false, true, false, false, false],
        "zip_code",
    );
    let t = &penetration(&base, &params(1, None)).unwrap()[0];
    assert!(close(group(t, "X").active_index, 150.0));
    assert!(close(group(t, "Y").active_index, 50.0));
    // Revenue per customer: X 30/4 = 7.5 against the base's 40/8 = 5.
    assert!(close(group(t, "X").revenue_index, 150.0));
    assert!(close(group(t, "X").revenue_share, 0.75));
    // Four customers a group: an index of 150 is one standard error from the base (z = 1),
    // noise rather than a finding, so nothing is called out...
    assert!(close(group(t, "X").z_score, 1.0));
    assert!(t.under_penetrated.is_empty() && t.over_penetrated.is_empty());
    // ...until the same rates hold for 25 times as many customers (z = 5).
    let zips: Vec<&str> = ["X"; 100].into_iter().chain(["Y"; 100]).collect();
    let active: Vec<bool> = (0..200)
        .map(|i| if i < 100 { i % 4 != 3 } else { i % 4 == 0 })
        .collect();
    let big = &penetration(&base_of(&zips, &active, "zip_code"), &params(1, None)).unwrap()[0];
    assert!(close(group(big, "X").z_score, 5.0));
    assert_eq!(big.under_penetrated, ["Y"]);
    assert_eq!(big.over_penetrated, ["X"]);
    let customers: u64 = t.groups.iter().map(|g| g.customers).sum();
    let revenue: f64 = t.groups.iter().map(|g| g.revenue).sum();
    assert_eq!((customers, revenue), (t.totals.customers, t.totals.revenue));
}

#[test]
fn small_groups_are_pooled_into_other_without_spurious_indexes() {
    let base = base_of(
        &["X", "X", "X", "X", "Y", "Z"],
        &[true, false, false, false, true, true],
        "zip_code",
    );
    let t = &penetration(&base, &params(3, None)).unwrap()[0];
    let names: Vec<&str> = t.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, ["X", OTHER_GROUP]);
    let other = group(t, OTHER_GROUP);
    assert_eq!(
        (other.customers, other.pooled_groups, other.active_buyers),
        (2, 2, 2)
    );
    // Two customers are too few for a rate against the base: flagged, no index.
    assert!(other.small);
    assert_eq!(other.active_index, None);
    assert!(t.over_penetrated.is_empty());
}

#[test]
fn nothing_after_the_as_of_day_changes_a_figure() {
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["a", "b", "late"]),
        dates(
            "signup_date",
            &[Some("2020-01-01"), None, Some("2025-02-01")],
        ),
        Column::new("region".into(), ["north", "north", "north"]),
    ])
    .unwrap();
    let tx = |with_future: bool| {
        let mut ids = vec!["a", "b", "b"];
        let mut d = vec![Some("2024-03-01"), Some("2023-01-01"), Some("2024-12-31")];
        let mut amounts = vec![20.0, 5.0, -2.5];
        if with_future {
            ids.extend(["a", "new"]);
            d.extend([Some("2025-01-01"), Some("2025-01-05")]);
            amounts.extend([1000.0, 7.0]);
        }
        DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ids),
            dates("order_date", &d),
            Column::new("amount".into(), amounts),
        ])
        .unwrap()
    };
    let edges = Bands::parse("e", "30").unwrap();
    let dim = Dimension::parse("region", &edges, "income", &edges).unwrap();
    let run = |with_future| {
        let activity =
            Activity::from_transactions(&tx(with_future), day("2024-12-31"), 365).unwrap();
        let b =
            CustomerBase::build(Some(&customers), &activity, std::slice::from_ref(&dim)).unwrap();
        penetration(&b, &params(1, None)).unwrap()
    };
    let t = run(false);
    assert_eq!(t, run(true));
    let north = group(&t[0], "north");
    // `late` signed up after the day; b's return counts against revenue, b's 2023 order is
    // outside the window, so b is not an active buyer.
    assert_eq!((north.customers, north.active_buyers), (2, 1));
    assert!((north.revenue - 17.5).abs() < 1e-12);
}

#[test]
fn ages_are_full_years_on_the_as_of_day_in_bands() {
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["a", "b", "c", "d"]),
        dates(
            "birth_date",
            &[
                Some("1994-12-31"),
                Some("1995-01-01"),
                None,
                Some("2030-01-01"),
            ],
        ),
    ])
    .unwrap();
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), Vec::<String>::new()),
        dates("order_date", &[]),
        Column::new("amount".into(), Vec::<f64>::new()),
    ])
    .unwrap();
    let ages = Bands::parse("--age-edges", "30").unwrap();
    let dim = Dimension::parse("age_band", &ages, "income", &ages).unwrap();
    let b = CustomerBase::build(
        Some(&customers),
        &Activity::from_transactions(&tx, day("2024-12-31"), 365).unwrap(),
        &[dim],
    )
    .unwrap();
    let t = &penetration(&b, &params(1, None)).unwrap()[0];
    // a turned 30 on the day; b is 29 until tomorrow; c and d (born after the day) have no age.
    let names: Vec<(&str, u64)> = t
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.customers))
        .collect();
    assert_eq!(names, [("<30", 1), ("30+", 1), (MISSING_GROUP, 2)]);
}

#[test]
fn crossed_dimensions_join_their_labels() {
    let base = base_of(&["A", "B"], &[true, false], "zip_code+zip_code");
    let t = &penetration(&base, &params(1, None)).unwrap()[0];
    assert_eq!(t.dimension, "zip_code+zip_code");
    assert!(t.groups.iter().any(|g| g.group == "A / A"));
}

#[test]
fn market_tables_are_checked() {
    let base = base_of(&["A"], &[true], "zip_code");
    let market = |dimension: &str, sizes: Vec<(String, f64)>| {
        Some(MarketSize {
            dimension: dimension.into(),
            measure: "households".into(),
            sizes,
        })
    };
    let err = penetration(&base, &params(1, market("region", vec![]))).unwrap_err();
    assert!(matches!(err, AnalyzeError::MarketKeyUnused { .. }), "{err}");
    let twice = vec![("A".to_string(), 1.0), ("A".to_string(), 2.0)];
    let err = penetration(&base, &params(1, market("zip_code", twice))).unwrap_err();
    assert!(
        matches!(err, AnalyzeError::DuplicateMarketKey { .. }),
        "{err}"
    );
    let zero = vec![("A".to_string(), 0.0)];
    let err = penetration(&base, &params(1, market("zip_code", zero))).unwrap_err();
    assert!(err.to_string().contains("positive"), "{err}");
}

#[test]
fn an_unknown_column_names_the_ones_there_are() {
    let customers =
        DataFrame::new_infer_height(vec![Column::new("customer_id".into(), ["a"])]).unwrap();
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["a"]),
        dates("order_date", &[Some("2024-01-01")]),
        Column::new("amount".into(), [1.0]),
    ])
    .unwrap();
    let e = Bands::parse("e", "1").unwrap();
    let dim = Dimension::parse("zip", &e, "income", &e).unwrap();
    let err = CustomerBase::build(
        Some(&customers),
        &Activity::from_transactions(&tx, day("2024-12-31"), 30).unwrap(),
        &[dim],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the customers table has no column `zip` to group by (it has: `customer_id`)"
    );
}

#[test]
fn the_keyed_lines_give_the_same_activity_as_the_table() {
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["b", "a", "b", "a", "c", "b"]),
        dates(
            "order_date",
            &[
                Some("2024-12-31"),
                Some("2023-06-01"),
                Some("2024-01-01"),
                Some("2025-01-01"),
                Some("2024-01-02"),
                Some("2024-05-05"),
            ],
        ),
        Column::new("amount".into(), [5.0, 7.0, 100.0, 9.0, -3.0, -1.25]),
    ])
    .unwrap();
    let as_of = day("2024-12-31");
    let mut builder = crate::features::HistoryBuilder::new(&Default::default(), false);
    builder.push(&tx).unwrap();
    let history = builder.finish(None).unwrap();
    let sorted = |a: Activity| {
        let mut rows: Vec<(String, i64, bool)> = a
            .ids
            .into_iter()
            .zip(a.revenue)
            .zip(a.active)
            .map(|((i, r), x)| (i, r, x))
            .collect();
        rows.sort();
        rows
    };
    let from_table = sorted(Activity::from_transactions(&tx, as_of, 365).unwrap());
    assert_eq!(
        from_table,
        sorted(Activity::from_history(&history, as_of, 365).unwrap())
    );
    // b: 5 and -1.25 in the window (2024-01-01 is the day before it opens); a: only 2023;
    // c: a return alone is no purchase.
    let f = crate::features::fixed_point;
    assert_eq!(
        from_table,
        [
            ("a".to_string(), 0, false),
            ("b".to_string(), f(5.0) + f(-1.25), true),
            ("c".to_string(), f(-3.0), false),
        ]
    );
}
