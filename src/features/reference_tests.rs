//! `build` against an independent polars formulation of the rfm, btyd, windows, cycle and mix
//! families, bit for bit, on random transactions.
//!
//! `build` folds each customer's compact, sorted lines by hand (`lines`, `purchase`, `mix`). The
//! reference below states the same definitions declaratively, as the polars implementation the
//! fold replaced did: group-bys by the text `customer_id` and by (customer, day) straight over the
//! transactions, with no keys, no pre-sorting and no sorted flags, so it shares none of the fold's
//! machinery. A fold that drifts from the definitions (a window edge, a tie among the levels, a
//! division rounded another way) then shows up as a differing bit.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use polars::series::ops::NullBehavior;
use proptest::prelude::*;

use super::mix::sanitize;
use super::{build, epoch_day, Family, FeatureError, FeatureParams, TimeUnit};

const SCALE: f64 = 10_000.0;
const WINDOWS: [i32; 3] = [30, 90, 365];

/// Amounts in 1/10,000 units, rounded half to even, so sums are exact.
fn fixed_point(amount: Expr) -> Expr {
    (amount * lit(SCALE))
        .round(0, RoundMode::HalfToEven)
        .cast(DataType::Int64)
}

/// `e / d`, correctly rounded on every row: polars divides a column by a scalar as a
/// multiplication by `1 / d` (63000 / 10000 → 6.2999999999999998), but a column by a column
/// exactly.
fn div_exact(e: Expr, d: f64) -> Expr {
    e.clone() / (e * lit(0.0) + lit(d))
}

fn from_fixed(sum: Expr) -> Expr {
    div_exact(sum.cast(DataType::Float64), SCALE)
}

fn f64c(e: Expr) -> Expr {
    e.cast(DataType::Float64)
}

/// The rfm, btyd, windows and cycle features of every customer in `lines` (the transactions
/// dated on or before `as_of_day`, with `day` and fixed-point `fp` columns).
fn purchase_reference(lines: LazyFrame, as_of_day: i32, unit: TimeUnit) -> LazyFrame {
    // A day is one purchase occasion: its lines are summed first.
    let daily = lines
        .group_by([col("customer_id"), col("day")])
        .agg([col("fp").sum().alias("day_total")]);
    let inside = |w: i32| col("day").gt(lit(as_of_day - w));
    let previous_90 = col("day")
        .gt(lit(as_of_day - 180))
        .and(col("day").lt_eq(lit(as_of_day - 90)));
    // The group's rows come in no particular order: sort the days before taking differences.
    let gap = col("day")
        .sort(SortOptions::default())
        .diff(lit(1), NullBehavior::Ignore)
        .cast(DataType::Float64);
    let mut aggs = vec![
        len().alias("n_days"),
        col("day").min().alias("first_day"),
        col("day").max().alias("last_day"),
        col("day_total").sum().alias("total_fp"),
        col("day_total")
            .sort_by([col("day")], SortMultipleOptions::default())
            .first()
            .alias("first_total_fp"),
        col("day_total")
            .filter(previous_90)
            .sum()
            .alias("spend_prev_fp"),
        gap.clone().mean().alias("gap_mean"),
        gap.clone().median().alias("gap_median"),
        gap.clone().sum().alias("gap_sum"),
        (gap.clone() * gap).sum().alias("gap_sq_sum"),
    ];
    for w in WINDOWS {
        aggs.push(
            inside(w)
                .cast(DataType::Int64)
                .sum()
                .alias(format!("in_{w}")),
        );
        aggs.push(
            col("day_total")
                .filter(inside(w))
                .sum()
                .alias(format!("spend_fp_{w}")),
        );
    }

    let n = f64c(col("n_days"));
    let k = n.clone() - lit(1.0);
    let has_gap = col("n_days").gt(lit(1));
    let zero_unless_gap = |e: Expr| {
        when(has_gap.clone())
            .then(e.fill_null(lit(0.0)))
            .otherwise(lit(0.0))
    };
    let monetary_total = from_fixed(col("total_fp"));
    let recency = f64c(lit(as_of_day) - col("last_day"));
    let tenure = f64c(lit(as_of_day) - col("first_day"));
    let recent = from_fixed(col("spend_fp_90"));
    let previous = from_fixed(col("spend_prev_fp"));
    let denom = recent.clone().abs() + previous.clone().abs();
    let variance =
        (k.clone() * col("gap_sq_sum") - col("gap_sum") * col("gap_sum")) / (k.clone() * k.clone());
    let mut columns = vec![
        col("customer_id"),
        recency.clone().alias("recency_days"),
        n.clone().alias("frequency"),
        monetary_total.clone().alias("monetary_total"),
        (monetary_total / n.clone()).alias("monetary_avg"),
        tenure.clone().alias("tenure_days"),
        (n - lit(1.0)).alias("btyd_frequency"),
        div_exact(f64c(col("last_day") - col("first_day")), unit.days()).alias("btyd_recency"),
        div_exact(tenure, unit.days()).alias("btyd_t"),
        when(has_gap.clone())
            .then(from_fixed(col("total_fp") - col("first_total_fp")) / k)
            .otherwise(lit(0.0))
            .alias("btyd_monetary_value"),
    ];
    for w in WINDOWS {
        columns.push(f64c(col(format!("in_{w}"))).alias(format!("occasions_{w}d")));
        columns.push(from_fixed(col(format!("spend_fp_{w}"))).alias(format!("spend_{w}d")));
    }
    columns.extend([
        when(denom.clone().gt(lit(0.0)))
            .then((recent - previous) / denom)
            .otherwise(lit(0.0))
            .alias("trend_90d"),
        f64c(has_gap.clone()).alias("cycle_defined"),
        zero_unless_gap(col("gap_mean")).alias("cycle_mean_gap_days"),
        zero_unless_gap(col("gap_median")).alias("cycle_median_gap_days"),
        zero_unless_gap(variance.clip_min(lit(0.0)).sqrt()).alias("cycle_std_gap_days"),
        zero_unless_gap(recency / col("gap_mean")).alias("overdue_ratio"),
    ]);
    daily
        .group_by([col("customer_id")])
        .agg(aggs)
        .select(columns)
}

/// The categorical mix columns: output prefix, and whether levels and shares weigh lines by
/// spend (else one per line).
const CATEGORICAL: [(&str, &str, bool); 3] = [
    ("category", "share_category", true),
    ("channel", "share_channel", true),
    ("payment_method", "share_payment", false),
];

/// The top `cap` levels of `column` in `lines`: by summed fixed-point amount (or line count),
/// ties by name; missing and empty levels never kept.
fn top_levels(lines: LazyFrame, column: &str, by_spend: bool, cap: usize) -> Vec<String> {
    let weight = if by_spend { col("fp").sum() } else { len() };
    let top = lines
        .filter(col(column).is_not_null().and(col(column).neq(lit(""))))
        .group_by([col(column)])
        .agg([weight.cast(DataType::Int64).alias("w")])
        .sort_by_exprs(
            [col("w"), col(column)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(cap as IdxSize)
        .collect()
        .unwrap();
    top.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// Per-customer sums, then ratios: the share of each kept level and of the rest.
#[derive(Default)]
struct Mix {
    sums: Vec<Expr>,
    ratios: Vec<Expr>,
    order: Vec<Expr>,
}

impl Mix {
    fn shares(&mut self, column: &str, prefix: &str, kept: &[String], weight: Expr) {
        let total = format!("__{prefix}_total");
        self.sums.push(weight.clone().sum().alias(total.as_str()));
        let ratio = |part: Expr, name: &str| {
            when(col(total.as_str()).gt(lit(0.0)))
                .then(part / col(total.as_str()))
                .otherwise(lit(0.0))
                .alias(name)
        };
        let mut other = col(total.as_str());
        for (i, level) in kept.iter().enumerate() {
            let part = format!("__{prefix}_{i}");
            let is = col(column).eq(lit(level.as_str())).fill_null(lit(false));
            self.sums.push(
                when(is)
                    .then(weight.clone())
                    .otherwise(lit(0.0))
                    .sum()
                    .alias(part.as_str()),
            );
            let name = format!("{prefix}_{}", sanitize(level));
            self.ratios.push(ratio(col(part.as_str()), &name));
            self.order.push(col(name.as_str()));
            other = other - col(part.as_str());
        }
        let name = format!("{prefix}_other");
        self.ratios.push(ratio(other, &name));
        self.order.push(col(name.as_str()));
    }

    /// The distinct non-null levels of `column` as `n_<plural>`, and for channels whether more
    /// than one.
    fn distinct(&mut self, column: &str, plural: &str, multi: bool) {
        let n = col(column).drop_nulls().n_unique();
        let name = format!("n_{plural}");
        self.sums.push(f64c(n.clone()).alias(name.as_str()));
        self.order.push(col(name.as_str()));
        if multi {
            self.sums.push(f64c(n.gt(lit(1))).alias("multichannel"));
            self.order.push(col("multichannel"));
        }
    }
}

/// The mix features of every customer in `lines`; levels fixed in `fixed` or, for a column not
/// there, the top `cap` found in `lines`.
fn mix_reference(
    lines: LazyFrame,
    schema: &Schema,
    fixed: &BTreeMap<String, Vec<String>>,
    cap: usize,
) -> LazyFrame {
    let kept = |column: &str, by_spend: bool| match fixed.get(column) {
        Some(levels) => levels.clone(),
        None => top_levels(lines.clone(), column, by_spend, cap),
    };
    let spend = f64c(col("fp").clip_min(lit(0i64)));
    let one_per_line = f64c(col("amount").is_not_null());
    let mut mix = Mix::default();
    mix.sums.push(
        f64c(col("amount").lt(lit(0.0)))
            .mean()
            .alias("returns_rate"),
    );
    mix.order.push(col("returns_rate"));
    for (column, prefix, by_spend) in CATEGORICAL {
        if column == "payment_method" && schema.contains("discount") {
            mix.sums.push(
                f64c(col("discount").fill_null(lit(0.0)).gt(lit(0.0)))
                    .mean()
                    .alias("discount_share"),
            );
            mix.order.push(col("discount_share"));
        }
        if !schema.contains(column) {
            continue;
        }
        match column {
            "category" => mix.distinct(column, "categories", false),
            "channel" => mix.distinct(column, "channels", true),
            _ => {}
        }
        let weight = if by_spend {
            spend.clone()
        } else {
            one_per_line.clone()
        };
        mix.shares(column, prefix, &kept(column, by_spend), weight);
    }
    let mut order = vec![col("customer_id")];
    order.extend(mix.order);
    lines
        .group_by([col("customer_id")])
        .agg(mix.sums)
        .with_columns(mix.ratios)
        .select(order)
}

/// What `build` should give for families rfm, btyd, windows, cycle and mix, rows by id.
fn reference(
    tx: &DataFrame,
    as_of: NaiveDate,
    unit: TimeUnit,
    fixed: &BTreeMap<String, Vec<String>>,
    cap: usize,
) -> DataFrame {
    let as_of_day = epoch_day(as_of);
    let lines = tx
        .clone()
        .lazy()
        .with_columns([
            col("order_date").cast(DataType::Int32).alias("day"),
            fixed_point(col("amount")).alias("fp"),
        ])
        .filter(col("day").lt_eq(lit(as_of_day)));
    let purchase = purchase_reference(lines.clone(), as_of_day, unit);
    let mix = mix_reference(lines, tx.schema(), fixed, cap);
    purchase
        .join(
            mix,
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .unwrap()
}

/// Same columns in the same order, same customers, and every value the same bits.
fn assert_same(built: &DataFrame, expected: &DataFrame) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        built.get_column_names(),
        expected.get_column_names(),
        "column names"
    );
    prop_assert_eq!(
        built.column("customer_id").unwrap(),
        expected.column("customer_id").unwrap(),
        "customers"
    );
    let ids = built.column("customer_id").unwrap().str().unwrap();
    for (b, e) in built.columns().iter().zip(expected.columns()).skip(1) {
        let (b, e) = (b.f64().unwrap(), e.f64().unwrap());
        for (row, (x, y)) in b.iter().zip(e.iter()).enumerate() {
            prop_assert!(
                x.map(f64::to_bits) == y.map(f64::to_bits),
                "column {} customer {}: build {:?} ≠ reference {:?}",
                b.name(),
                ids.get(row).unwrap_or_default(),
                x,
                y
            );
        }
    }
    Ok(())
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
}

/// Customer ids whose text order differs from their order of first appearance.
const IDS: [&str; 8] = ["c2", "c10", "B", "a_1", "c0", "b", "z", "c1"];

/// The levels of category, channel and payment_method (distinct column names once sanitized).
const POOLS: [[&str; 4]; 3] = [
    ["Books", "music", "Home & Garden", "toys"],
    ["web", "store", "App", "call centre"],
    ["card", "cash", "voucher", "gift card"],
];

/// A fixed level no line has.
const NEVER_SEEN: &str = "never seen";

/// Day offsets from the as-of date on the windows' edges and just either side of them.
const EDGES: [i32; 14] = [
    1, 0, -29, -30, -31, -89, -90, -91, -179, -180, -181, -364, -365, -366,
];

#[derive(Debug, Clone)]
struct Line {
    customer: u8,
    /// Days after the as-of date.
    day: i32,
    amount: f64,
    /// Level pickers for category, channel and payment_method (see `level`).
    levels: [u8; 3],
    discount: Option<f64>,
}

#[derive(Debug, Clone)]
struct Case {
    lines: Vec<Line>,
    /// Levels occurring per categorical column: the first ones of its pool.
    n_levels: [usize; 3],
    /// Whether the transactions have category, channel, payment_method, discount.
    present: [bool; 4],
    /// Fixed levels per categorical column: a subset of the pool (bit mask, so possibly levels
    /// no line has), whether to add [`NEVER_SEEN`], whether to reverse the order.
    fixed: [(u8, bool, bool); 3],
    weeks: bool,
    level_cap: usize,
}

fn arb_line() -> impl Strategy<Value = Line> {
    let day = prop_oneof![3 => -400i32..=400, 1 => prop::sample::select(EDGES.to_vec())];
    // 2 to 4 decimals; a "negative" zero amount is −0.0, not a return.
    let amount = (prop::bool::weighted(0.25), 0i64..200_000, 2i32..=4).prop_map(|(neg, m, d)| {
        let a = m as f64 / 10f64.powi(d);
        if neg {
            -a
        } else {
            a
        }
    });
    let discount = prop_oneof![
        Just(None),
        Just(Some(0.0)),
        Just(Some(-1.0)),
        (1i32..2000).prop_map(|c| Some(f64::from(c) / 100.0)),
    ];
    (
        any::<u8>(),
        day,
        amount,
        prop::array::uniform3(0u8..12),
        discount,
    )
        .prop_map(|(customer, day, amount, levels, discount)| Line {
            customer,
            day,
            amount,
            levels,
            discount,
        })
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        1u8..=8,
        prop::collection::vec(arb_line(), 1..=60),
        prop::array::uniform3(0usize..=4),
        prop::array::uniform4(prop::bool::weighted(0.8)),
        prop::array::uniform3((0u8..16, any::<bool>(), any::<bool>())),
        any::<bool>(),
        0usize..=4,
    )
        .prop_map(
            |(customers, mut lines, n_levels, mut present, fixed, weeks, level_cap)| {
                for l in &mut lines {
                    l.customer %= customers;
                }
                // The mix family needs one of its columns.
                if !present.contains(&true) {
                    present[0] = true;
                }
                Case {
                    lines,
                    n_levels,
                    present,
                    fixed,
                    weeks,
                    level_cap,
                }
            },
        )
}

/// A line's level: missing or empty now and then, else one of the first `n` of `pool`.
fn level(pool: &[&'static str; 4], n: usize, r: u8) -> Option<&'static str> {
    match r {
        0 | 1 => None,
        2 => Some(""),
        _ if n == 0 => None,
        r => Some(pool[r as usize % n]),
    }
}

fn transactions(case: &Case) -> DataFrame {
    let lines = &case.lines;
    let dates: Vec<NaiveDate> = lines
        .iter()
        .map(|l| as_of() + chrono::Duration::days(i64::from(l.day)))
        .collect();
    let mut columns = vec![
        Column::new(
            "customer_id".into(),
            lines
                .iter()
                .map(|l| IDS[l.customer as usize])
                .collect::<Vec<_>>(),
        ),
        DateChunked::from_naive_date("order_date".into(), dates).into_column(),
        Column::new(
            "amount".into(),
            lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        ),
    ];
    for (i, (column, _, _)) in CATEGORICAL.iter().enumerate() {
        if case.present[i] {
            let values: Vec<Option<&str>> = lines
                .iter()
                .map(|l| level(&POOLS[i], case.n_levels[i], l.levels[i]))
                .collect();
            columns.push(Column::new((*column).into(), values));
        }
    }
    if case.present[3] {
        columns.push(Column::new(
            "discount".into(),
            lines.iter().map(|l| l.discount).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(columns).unwrap()
}

fn fixed_levels(case: &Case) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (i, (column, _, _)) in CATEGORICAL.iter().enumerate() {
        if !case.present[i] {
            continue;
        }
        let (mask, never_seen, reversed) = case.fixed[i];
        let mut levels: Vec<String> = (0..4)
            .filter(|b| mask >> b & 1 == 1)
            .map(|b| POOLS[i][b].to_string())
            .collect();
        if never_seen {
            levels.push(NEVER_SEEN.to_string());
        }
        if reversed {
            levels.reverse();
        }
        out.insert(column.to_string(), levels);
    }
    out
}

/// `build` with the case's levels fixed (or not) against the reference.
fn check(case: &Case, fix: bool) -> Result<(), TestCaseError> {
    let tx = transactions(case);
    let unit = if case.weeks {
        TimeUnit::Weeks
    } else {
        TimeUnit::Days
    };
    let levels = if fix {
        fixed_levels(case)
    } else {
        BTreeMap::new()
    };
    let params = FeatureParams {
        families: Some(vec![
            Family::Rfm,
            Family::Btyd,
            Family::Windows,
            Family::Cycle,
            Family::Mix,
        ]),
        time_unit: unit,
        level_cap: case.level_cap,
        levels: levels.clone(),
        exclude: Vec::new(),
        profit: None,
    };
    let expected = reference(&tx, as_of(), unit, &levels, case.level_cap);
    match build(&tx, None, as_of(), &params) {
        Ok(built) => assert_same(&built, &expected),
        Err(FeatureError::NoCustomers { .. }) => {
            prop_assert_eq!(expected.height(), 0);
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(format!("build failed: {e}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Levels fixed by the caller (a subset of the data's, sometimes one no line has).
    #[test]
    fn build_matches_the_polars_reference_with_fixed_levels(case in arb_case()) {
        check(&case, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Levels found in the data: the top `level_cap` by spend (payment methods by lines).
    #[test]
    fn build_matches_the_polars_reference_with_found_levels(case in arb_case()) {
        check(&case, false)?;
    }
}

/// The reference itself on a hand-checked case, so a reference bug cannot hide a build bug by
/// making the same mistake.
#[test]
fn reference_by_hand() {
    let dates: Vec<NaiveDate> = [-120, -60, -60, -10, -95]
        .iter()
        .map(|d| as_of() + chrono::Duration::days(*d))
        .collect();
    let tx = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ["a", "a", "a", "a", "b"]),
        DateChunked::from_naive_date("order_date".into(), dates).into_column(),
        Column::new("amount".into(), [10.0, 6.3, -2.0, 30.0, 5.0]),
        Column::new(
            "category".into(),
            [Some("x"), None, Some("y"), Some("x"), Some("")],
        ),
    ])
    .unwrap();
    let f = reference(&tx, as_of(), TimeUnit::Days, &BTreeMap::new(), 1);
    let row = |name: &str| -> Vec<f64> {
        f.column(name)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    // a: days −120 (10), −60 (4.3), −10 (30); gaps 60 and 50.
    assert_eq!(row("frequency"), [3.0, 1.0]);
    assert_eq!(row("monetary_total"), [44.3, 5.0]);
    assert_eq!(row("btyd_monetary_value")[0], 34.3 / 2.0);
    assert_eq!(row("spend_90d"), [34.3, 0.0]);
    assert_eq!(row("cycle_median_gap_days")[0], 55.0);
    assert_eq!(row("cycle_std_gap_days")[0], 5.0);
    assert_eq!(row("overdue_ratio")[0], 10.0 / 55.0);
    // b: 5 in the previous 90 days only.
    assert_eq!(row("trend_90d"), [(34.3 - 10.0) / (34.3 + 10.0), -1.0]);
    // Category x (40 spent) beats y (−2); shares are of a's positive spend, 10 + 6.3 + 30, in
    // fixed-point units.
    assert_eq!(row("share_category_x"), [400_000.0 / 463_000.0, 0.0]);
    assert_eq!(row("share_category_other"), [63_000.0 / 463_000.0, 1.0]);
    assert_eq!(row("n_categories"), [2.0, 1.0]);
    assert_eq!(row("returns_rate"), [0.25, 0.0]);
}
