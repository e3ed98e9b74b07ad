//! Hand-computed values for every family, and the point-in-time property.

use chrono::NaiveDate;
use polars::prelude::*;
use proptest::prelude::*;

use super::TimeUnit;
use super::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn transactions(rows: &[(&str, &str, f64)]) -> DataFrame {
    let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let dates: Vec<NaiveDate> = rows.iter().map(|r| date(r.1)).collect();
    let amounts: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let dates = DateChunked::from_naive_date(PlSmallStr::from("order_date"), dates);
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        dates.into_column(),
        Column::new("amount".into(), amounts),
    ])
    .unwrap()
}

fn value(df: &DataFrame, id: &str, column: &str) -> f64 {
    let ids = df.column("customer_id").unwrap().str().unwrap();
    let row = ids.iter().position(|v| v == Some(id)).unwrap();
    df.column(column).unwrap().f64().unwrap().get(row).unwrap()
}

fn fixture() -> DataFrame {
    transactions(&[
        // a: three purchase days, two lines on 2024-01-10.
        ("a", "2024-01-01", 10.0),
        ("a", "2024-01-10", 5.0),
        ("a", "2024-01-10", 15.0),
        ("a", "2024-03-01", 30.0),
        // b: one purchase, and one after the as-of date (must not count).
        ("b", "2024-02-15", 8.0),
        ("b", "2024-04-15", 100.0),
        // c: only after the as-of date: no row.
        ("c", "2024-05-01", 50.0),
    ])
}

#[test]
fn rfm_btyd_windows_cycle_by_hand() {
    let as_of = date("2024-03-31");
    let params = FeatureParams {
        time_unit: TimeUnit::Weeks,
        ..FeatureParams::default()
    };
    let f = build(&fixture(), None, as_of, &params).unwrap();
    assert_eq!(
        f.height(),
        2,
        "c has no purchase on or before the as-of date"
    );
    // a: days 2024-01-01 (10), 2024-01-10 (20), 2024-03-01 (30); as-of 2024-03-31.
    assert_eq!(value(&f, "a", "recency_days"), 30.0);
    assert_eq!(value(&f, "a", "frequency"), 3.0);
    assert_eq!(value(&f, "a", "monetary_total"), 60.0);
    assert_eq!(value(&f, "a", "monetary_avg"), 20.0);
    assert_eq!(value(&f, "a", "tenure_days"), 90.0);
    assert_eq!(value(&f, "a", "btyd_frequency"), 2.0);
    assert!((value(&f, "a", "btyd_recency") - 60.0 / 7.0).abs() < 1e-12);
    assert!((value(&f, "a", "btyd_t") - 90.0 / 7.0).abs() < 1e-12);
    assert_eq!(value(&f, "a", "btyd_monetary_value"), 25.0);
    // Windows end on the as-of day: 2024-03-01 is 30 days back, outside (as-of − 30, as-of].
    assert_eq!(value(&f, "a", "occasions_30d"), 0.0);
    assert_eq!(value(&f, "a", "occasions_90d"), 2.0);
    assert_eq!(value(&f, "a", "spend_90d"), 50.0);
    assert_eq!(value(&f, "a", "occasions_365d"), 3.0);
    // The 90 days before the last 90 (2023-10-04 … 2024-01-01) hold the 10 of 2024-01-01.
    assert!((value(&f, "a", "trend_90d") - (50.0 - 10.0) / 60.0).abs() < 1e-12);
    // Gaps 9 and 51 days.
    assert_eq!(value(&f, "a", "cycle_defined"), 1.0);
    assert_eq!(value(&f, "a", "cycle_mean_gap_days"), 30.0);
    assert_eq!(value(&f, "a", "cycle_median_gap_days"), 30.0);
    assert_eq!(value(&f, "a", "cycle_std_gap_days"), 21.0);
    assert_eq!(value(&f, "a", "overdue_ratio"), 1.0);
    // b: one purchase of 8 on 2024-02-15 (45 days before the as-of day).
    assert_eq!(value(&f, "b", "recency_days"), 45.0);
    assert_eq!(value(&f, "b", "monetary_total"), 8.0);
    assert_eq!(value(&f, "b", "btyd_frequency"), 0.0);
    assert_eq!(value(&f, "b", "btyd_monetary_value"), 0.0);
    assert_eq!(value(&f, "b", "trend_90d"), 1.0);
    assert_eq!(value(&f, "b", "cycle_defined"), 0.0);
    assert_eq!(value(&f, "b", "overdue_ratio"), 0.0);
    // Stable, documented column order.
    let names: Vec<String> = f.get_column_names().iter().map(|s| s.to_string()).collect();
    let expected: Vec<&str> = CATALOG
        .iter()
        .filter(|d| {
            matches!(
                d.family,
                Family::Rfm | Family::Btyd | Family::Windows | Family::Cycle
            )
        })
        .map(|d| d.name)
        .collect();
    assert_eq!(names[0], "customer_id");
    assert_eq!(&names[1..], expected.as_slice());
}

#[test]
fn mix_shares_by_hand() {
    let mut tx = transactions(&[
        ("a", "2024-01-01", 30.0),
        ("a", "2024-01-02", 10.0),
        ("a", "2024-01-03", -5.0),
        ("b", "2024-01-01", 20.0),
    ]);
    tx.with_column(Column::new(
        "category".into(),
        ["music", "books", "music", "music"],
    ))
    .unwrap();
    tx.with_column(Column::new(
        "channel".into(),
        ["web", "store", "web", "web"],
    ))
    .unwrap();
    tx.with_column(Column::new("discount".into(), [0.0, 2.0, 0.0, 0.0]))
        .unwrap();
    let params = FeatureParams {
        families: Some(vec![Family::Mix]),
        level_cap: 1,
        ..FeatureParams::default()
    };
    let f = build(&tx, None, date("2024-01-31"), &params).unwrap();
    // Overall spend: music 45, books 10 → the one kept level is music; books pools as other.
    // Shares use positive spend: a bought 30 music + 10 books (the −5 return is not spend).
    assert_eq!(value(&f, "a", "share_category_music"), 0.75);
    assert_eq!(value(&f, "a", "share_category_other"), 0.25);
    assert_eq!(value(&f, "a", "n_categories"), 2.0);
    assert_eq!(value(&f, "a", "multichannel"), 1.0);
    assert_eq!(value(&f, "a", "share_channel_web"), 0.75);
    assert!((value(&f, "a", "returns_rate") - 1.0 / 3.0).abs() < 1e-12);
    assert!((value(&f, "a", "discount_share") - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(value(&f, "b", "multichannel"), 0.0);
    assert_eq!(value(&f, "b", "share_category_music"), 1.0);
}

#[test]
fn attributes_impute_and_flag_missing_values() {
    let tx = transactions(&[
        ("a", "2024-01-01", 1.0),
        ("b", "2024-01-01", 1.0),
        ("c", "2024-01-01", 1.0),
    ]);
    let signup = DateChunked::from_naive_date(
        PlSmallStr::from("signup_date"),
        [date("2023-12-01"), date("2024-06-01")],
    );
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["a", "b"]),
        signup.into_column(),
        Column::new("income".into(), [Some(10.0), None]),
        Column::new("region".into(), [Some("north"), Some("")]),
    ])
    .unwrap();
    let params = FeatureParams {
        families: Some(vec![Family::Attributes]),
        ..FeatureParams::default()
    };
    let f = build(&tx, Some(&customers), date("2024-01-31"), &params).unwrap();
    assert_eq!(value(&f, "a", "days_since_signup"), 61.0);
    // b's signup is after the as-of day and c has no customer row: both imputed with a's value.
    assert_eq!(value(&f, "b", "days_since_signup"), 61.0);
    assert_eq!(value(&f, "b", "days_since_signup_missing"), 1.0);
    assert_eq!(value(&f, "c", "days_since_signup_missing"), 1.0);
    assert_eq!(value(&f, "a", "days_since_signup_missing"), 0.0);
    assert_eq!(value(&f, "b", "income"), 10.0);
    assert_eq!(value(&f, "b", "income_missing"), 1.0);
    assert_eq!(value(&f, "a", "region_north"), 1.0);
    assert_eq!(value(&f, "b", "region_north"), 0.0);
    assert_eq!(value(&f, "b", "region_missing"), 1.0);
    assert_eq!(value(&f, "c", "region_missing"), 1.0);
    for c in f.columns().iter().skip(1) {
        assert_eq!(c.null_count(), 0, "{} has nulls", c.name());
    }
}

fn arb_rows() -> impl Strategy<Value = Vec<(u8, i32, i32)>> {
    // (customer, day offset from 2024-01-01 in −200..200, amount in cents)
    prop::collection::vec((0u8..6, -200i32..200, -500i32..5000), 1..40)
}

fn frame_of(rows: &[(u8, i32, i32)]) -> DataFrame {
    let base = date("2024-01-01");
    let ids: Vec<String> = rows.iter().map(|r| format!("c{}", r.0)).collect();
    let dates: Vec<NaiveDate> = rows
        .iter()
        .map(|r| base + chrono::Duration::days(r.1 as i64))
        .collect();
    let amounts: Vec<f64> = rows.iter().map(|r| r.2 as f64 / 100.0).collect();
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        DateChunked::from_naive_date(PlSmallStr::from("order_date"), dates).into_column(),
        Column::new("amount".into(), amounts),
    ])
    .unwrap()
}

/// A line without a date counts at no date, in `History` as in `build` — also when it is a
/// customer's only line (that customer has no row).
#[test]
fn undated_lines_count_nowhere() {
    let mut tx = transactions(&[
        ("a", "2024-01-01", 10.0),
        ("z", "2024-01-02", 99.0),
        ("a", "2024-01-05", 5.0),
    ]);
    let undated = DateChunked::from_naive_date_options(
        "order_date".into(),
        [Some(date("2024-01-01")), None, Some(date("2024-01-05"))],
    );
    tx.with_column(undated.into_column()).unwrap();
    let params = FeatureParams::default();
    let as_of = date("2024-02-01");
    let ids = Series::new("customer_id".into(), ["a", "z"]);
    let history = History::new(&tx, None, &params).unwrap();
    let part = history.build_for(as_of, &params, &ids).unwrap();
    let full = build(&tx, None, as_of, &params).unwrap();
    assert_eq!(part, full);
    assert_eq!(part.height(), 1);
    assert_eq!(value(&part, "a", "frequency"), 2.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Features as of D do not change when transactions after D are appended or rows shuffled.
    #[test]
    fn point_in_time(rows in arb_rows(), later in arb_rows(), seed in any::<u64>()) {
        let as_of = date("2024-01-01");
        let before: Vec<_> = rows.iter().copied().filter(|r| r.1 <= 0).collect();
        prop_assume!(!before.is_empty());
        let params = FeatureParams::default();
        let base = build(&frame_of(&before), None, as_of, &params).unwrap();
        // Append rows dated strictly after D, then shuffle deterministically.
        let mut all = before.clone();
        all.extend(later.iter().map(|r| (r.0, r.1.abs() + 1, r.2)));
        let mut rng = seed;
        for i in (1..all.len()).rev() {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            all.swap(i, (rng >> 33) as usize % (i + 1));
        }
        let after = build(&frame_of(&all), None, as_of, &params).unwrap();
        prop_assert_eq!(base, after);
    }
}

/// `frame_of` plus a category and a channel, and a customers table with an income for some.
fn with_mix_and_customers(rows: &[(u8, i32, i32)]) -> (DataFrame, DataFrame) {
    let mut tx = frame_of(rows);
    let category: Vec<&str> = rows
        .iter()
        .map(|r| ["books", "music", "toys"][(r.2.rem_euclid(3)) as usize])
        .collect();
    let channel: Vec<&str> = rows
        .iter()
        .map(|r| ["web", "store"][(r.1.rem_euclid(2)) as usize])
        .collect();
    tx.with_column(Column::new("category".into(), category))
        .unwrap();
    tx.with_column(Column::new("channel".into(), channel))
        .unwrap();
    let ids: Vec<String> = (0..6).map(|c| format!("c{c}")).collect();
    let income: Vec<Option<f64>> = (0..6)
        .map(|c| (c % 3 != 0).then_some(10.0 * c as f64))
        .collect();
    let region: Vec<&str> = (0..6).map(|c| ["north", "south"][c % 2]).collect();
    let customers = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        Column::new("income".into(), income),
        Column::new("region".into(), region),
    ])
    .unwrap();
    (tx, customers)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Features restricted to some customers are the rows of the features of everyone, levels
    /// and imputed values included.
    #[test]
    fn build_for_is_build_restricted(rows in arb_rows(), wanted in prop::collection::vec(0u8..8, 0..5)) {
        let (tx, customers) = with_mix_and_customers(&rows);
        let params = FeatureParams { level_cap: 1, ..FeatureParams::default() };
        let as_of = date("2024-01-01");
        let ids = Series::new(
            "customer_id".into(),
            wanted.iter().map(|c| format!("c{c}")).collect::<Vec<_>>(),
        );
        let history = History::new(&tx, Some(&customers), &params).unwrap();
        // One history serves every date (here: a date with fewer purchases first).
        let earlier = date("2023-10-01");
        for (as_of, part) in [
            (earlier, history.build_for(earlier, &params, &ids)),
            (as_of, build_for(&tx, Some(&customers), as_of, &params, &ids)),
            (as_of, history.build_for(as_of, &params, &ids)),
        ] {
            let full = build(&tx, Some(&customers), as_of, &params);
            match (full, part) {
                (Ok(full), Ok(part)) => {
                    let expected = full
                        .lazy()
                        .filter(col("customer_id").is_in(lit(ids.clone()).implode(false), false))
                        .collect()
                        .unwrap();
                    for (a, b) in expected.columns().iter().zip(part.columns()) {
                        prop_assert_eq!(a, b, "column {}", a.name());
                    }
                    prop_assert_eq!(expected, part);
                }
                (Err(FeatureError::NoCustomers { .. }), Err(FeatureError::NoCustomers { .. })) => {}
                (full, part) => prop_assert!(false, "{:?} vs {:?}", full.map(|f| f.height()), part.map(|f| f.height())),
            }
        }
    }
}

/// The frame of a build (columns written block by block) holds the values of the row-major
/// rows of the same customers and day, over several blocks of customers.
#[test]
fn built_columns_equal_the_row_major_rows() {
    let n = 2 * super::ROWS_PER_TASK + 37;
    let mut rows = Vec::new();
    let ids: Vec<String> = (0..n).map(|i| format!("c{i:05}")).collect();
    for (i, id) in ids.iter().enumerate() {
        for k in 0..(1 + i % 4) {
            let day = format!("2024-0{}-{:02}", 1 + k, 1 + (i * 7 + k) % 28);
            rows.push((id.as_str(), day, (i % 13) as f64 + k as f64 * 0.25));
        }
    }
    let rows: Vec<(&str, &str, f64)> = rows.iter().map(|(i, d, a)| (*i, d.as_str(), *a)).collect();
    let tx = transactions(&rows);
    let params = FeatureParams::default();
    let as_of = date("2024-06-30");
    let history = History::new(&tx, None, &params).unwrap();
    let frame = history.build(as_of, &params).unwrap();
    let queries: Vec<(&str, Option<NaiveDate>)> =
        ids.iter().map(|id| (id.as_str(), Some(as_of))).collect();
    let point = history.rows_at(&queries, &params).unwrap();
    assert_eq!(frame.height(), n);
    assert_eq!(point.kept.len(), n);
    let width = point.names.len();
    for (j, name) in point.names.iter().enumerate() {
        let column: Vec<f64> = frame
            .column(name)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let expected: Vec<f64> = (0..n).map(|i| point.values[i * width + j]).collect();
        assert_eq!(column, expected, "{name}");
    }
}

#[test]
fn families_are_named_parsed_and_listed_from_the_registry() {
    for f in Family::ALL {
        assert_eq!(Family::parse(f.name()).unwrap(), *f);
        assert!(
            CATALOG.iter().any(|d| d.family == *f),
            "{f:?} has no catalogue entry"
        );
    }
    assert_eq!(
        Family::parse("rfn").unwrap_err().to_string(),
        "unknown feature family `rfn` (expected rfm, btyd, windows, cycle, mix, attributes, replenishment or profit)"
    );
    assert_eq!(
        Family::help(),
        "Comma-separated families: rfm,btyd,windows,cycle,mix,attributes,replenishment,profit \
         (replenishment, profit only when named) [default: all available]"
    );
    // The catalogue is in family order, the output order.
    let order: Vec<Family> = CATALOG.iter().map(|d| d.family).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
    let list = render_catalog();
    assert!(list.starts_with("family         name "), "{list}");
}
