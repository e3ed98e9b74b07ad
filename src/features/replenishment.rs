//! The `replenishment` family: when each customer will need a category again.
//!
//! A category's repeat cycle is the distribution of the gaps between a customer's consecutive
//! purchase days of it, over every customer (median and quartiles, [`category_cycles`]). A
//! customer's own cycle is the mean of their gaps, which is noise with one or two repeats; it is
//! shrunk toward the category's median the way a credibility weight does:
//!
//! `cycle = (n · own_mean + K · category_median) / (n + K)`, `n` = the customer's gaps, `K` = [`PRIOR_GAPS`]
//!
//! so one repeat counts for a quarter, three for a half and nine for three quarters, and a
//! customer who bought once gets the category's median. The due date is the last purchase day of
//! the category plus the cycle, rounded to a whole day; days until due is that date minus the
//! as-of day (negative: overdue).
//!
//! Point in time like every family: the gaps, the category medians and the kept categories are
//! found over the lines dated on or before the as-of day only. Opt-in (not in the default set):
//! it adds columns to every build that has a `category`.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::catalog::{doc, Doc};
use super::family::{Columns, Customer, Definition, LineColumns, Prepared, Source};
use super::lines::{Codes, Lines, MISSING};
use super::mix::{sanitize, top_levels};
use super::{date_of, epoch_day, FeatureError, FeatureParams, History};

/// How many gaps the category's median is worth in a customer's cycle (see the module doc).
pub const PRIOR_GAPS: f64 = 3.0;

/// The column the family reads.
const CATEGORY: &str = "category";

/// The `replenishment` family.
pub(super) struct Replenishment;

#[rustfmt::skip]
const DOCS: &[Doc] = &[
    doc("replen_defined_<level>", "0/1", "1 when the customer bought the category and someone has bought it twice (a cycle exists); the other replen columns of the level are 0 when it is 0 (needs `category`; levels as share_category)"),
    doc("replen_days_since_<level>", "days", "as-of day − the customer's last purchase day of the category"),
    doc("replen_cycle_days_<level>", "days", "the customer's mean gap between purchase days of the category, shrunk toward the category's median gap: (n·mean + 3·median) ÷ (n + 3), n = the customer's gaps"),
    doc("replen_due_in_days_<level>", "days", "last purchase day + cycle (rounded to a day) − as-of day; negative = overdue"),
];

impl Definition for Replenishment {
    fn name(&self) -> &'static str {
        "replenishment"
    }

    fn docs(&self) -> &'static [Doc] {
        DOCS
    }

    fn by_default(&self) -> bool {
        false
    }

    fn lacks(
        &self,
        transactions: &DataFrame,
        _has_customers: bool,
    ) -> Option<(&'static str, &'static str)> {
        transactions
            .column(CATEGORY)
            .is_err()
            .then_some(("transactions", CATEGORY))
    }

    fn line_columns(&self, _transactions: &DataFrame) -> LineColumns {
        LineColumns {
            categorical: vec![CATEGORY],
            discount: false,
            cost: false,
        }
    }

    fn prepare(&self, _: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError> {
        Ok(Box::new(Replenishment))
    }
}

/// The category codes of the lines (the family asked for them, so they are there).
fn codes(lines: &Lines) -> Option<&Codes> {
    lines.codes.iter().find(|c| c.column == CATEGORY)
}

/// The categories with columns: fixed in `params`, else the top `level_cap` by spend (as the
/// mix family's `share_category_<level>`, so both agree).
fn kept(lines: &Lines, day: i32, params: &FeatureParams) -> Vec<String> {
    match (params.levels.get(CATEGORY), codes(lines)) {
        (Some(fixed), _) => fixed.clone(),
        (None, Some(c)) => top_levels(lines, c, day, true, params.level_cap),
        (None, None) => Vec::new(),
    }
}

impl Prepared for Replenishment {
    fn levels(
        &self,
        lines: &Lines,
        day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([(CATEGORY.to_string(), kept(lines, day, params))])
    }

    fn at<'h>(
        &'h self,
        lines: &'h Lines,
        day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError> {
        let kept = kept(lines, day, params);
        let medians: Vec<Option<f64>> = gaps_by_code(lines, day)
            .into_iter()
            .map(|g| quartiles(&g).map(|q| q[1]))
            .collect();
        let codes = codes(lines);
        let mut slot_of_code = vec![None; codes.map_or(0, |c| c.levels.len())];
        let mut slot_median = Vec::with_capacity(kept.len());
        for (slot, level) in kept.iter().enumerate() {
            let code = codes.and_then(|c| c.code_of(level));
            if let Some(code) = code {
                slot_of_code[code as usize] = Some(slot);
            }
            slot_median.push(code.and_then(|c| medians[c as usize]));
        }
        let names = kept
            .iter()
            .flat_map(|level| {
                let level = sanitize(level);
                DOCS.iter().map(move |d| d.name.replace("<level>", &level))
            })
            .collect();
        Ok(Box::new(Layout {
            slot_of_code,
            slot_median,
            names,
        }))
    }
}

/// The columns as of one day: the kept categories and their median gaps.
struct Layout {
    /// The slot of every category code among the kept ones.
    slot_of_code: Vec<Option<usize>>,
    /// Per slot, the category's median gap (`None`: nobody bought it twice by the day).
    slot_median: Vec<Option<f64>>,
    names: Vec<String>,
}

/// One customer's purchase days of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Tally {
    /// Distinct purchase days.
    days: i64,
    first: i64,
    last: i64,
}

impl Tally {
    fn add(&mut self, day: i32) {
        let day = i64::from(day);
        if self.days == 0 {
            self.first = day;
        }
        if self.days == 0 || day != self.last {
            self.days += 1;
        }
        self.last = day;
    }

    /// The cycle shrunk toward the category's median (see the module doc).
    fn cycle(&self, category_median: f64) -> f64 {
        let n = (self.days - 1) as f64;
        // The mean gap is the span over the gaps; with none, the median alone.
        let own_sum = (self.last - self.first) as f64;
        (own_sum + PRIOR_GAPS * category_median) / (n + PRIOR_GAPS)
    }

    /// The due day: the last purchase plus the cycle, rounded to a whole day.
    fn due(&self, category_median: f64) -> i64 {
        self.last + self.cycle(category_median).round() as i64
    }
}

impl Columns for Layout {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn write(&self, c: &mut Customer<'_>, out: &mut Vec<f64>) {
        let start = out.len();
        let width = DOCS.len();
        out.resize(start + self.slot_median.len() * width, 0.0);
        let Some(codes) = codes(c.lines) else {
            return;
        };
        let as_of = i64::from(c.day);
        for (code, t) in tallies(c.lines, codes, c.range.clone()) {
            let Some(slot) = self.slot_of_code[code as usize] else {
                continue;
            };
            let Some(median) = self.slot_median[slot] else {
                continue;
            };
            let values = [
                1.0,
                (as_of - t.last) as f64,
                t.cycle(median),
                (t.due(median) - as_of) as f64,
            ];
            out[start + slot * width..start + (slot + 1) * width].copy_from_slice(&values);
        }
    }
}

/// Per category code, the gaps (days) between every customer's consecutive purchase days of it,
/// over the lines dated on or before `day`, ascending.
fn gaps_by_code(lines: &Lines, day: i32) -> Vec<Vec<i64>> {
    let Some(codes) = codes(lines) else {
        return Vec::new();
    };
    let n_levels = codes.levels.len();
    let n_keys = lines.starts.len() - 1;
    let mut gaps = (0..n_keys)
        .into_par_iter()
        .fold(
            || vec![Vec::new(); n_levels],
            |mut gaps, k| {
                let range = lines.until(k, day);
                // The last purchase day of every category the customer bought so far.
                let mut last: Vec<(u32, i32)> = Vec::new();
                for (d, code) in lines.day[range.clone()].iter().zip(codes.codes.iter(range)) {
                    if code == MISSING {
                        continue;
                    }
                    match last.iter_mut().find(|(c, _)| *c == code) {
                        Some((_, l)) if *l != *d => {
                            gaps[code as usize].push(i64::from(*d - *l));
                            *l = *d;
                        }
                        Some(_) => {}
                        None => last.push((code, *d)),
                    }
                }
                gaps
            },
        )
        .reduce(
            || vec![Vec::new(); n_levels],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.extend(y);
                }
                a
            },
        );
    gaps.par_iter_mut().for_each(|g| g.sort_unstable());
    gaps
}

/// A customer's tally per category code they bought, from their lines `range` (day order).
fn tallies(lines: &Lines, codes: &Codes, range: Range<usize>) -> Vec<(u32, Tally)> {
    let mut out: Vec<(u32, Tally)> = Vec::new();
    for (day, code) in lines.day[range.clone()].iter().zip(codes.codes.iter(range)) {
        if code == MISSING {
            continue;
        }
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, t)) => t.add(*day),
            None => {
                let mut t = Tally::default();
                t.add(*day);
                out.push((code, t));
            }
        }
    }
    out
}

/// The first quartile, the median and the third quartile of `sorted` (ascending), linear
/// between the closest ranks (numpy's default, R's type 7); `None` when empty.
fn quartiles(sorted: &[i64]) -> Option<[f64; 3]> {
    let last = sorted.len().checked_sub(1)?;
    let at = |p: f64| {
        let h = last as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(last);
        let (a, b) = (sorted[lo] as f64, sorted[hi] as f64);
        a + (b - a) * (h - lo as f64)
    };
    Some([at(0.25), at(0.5), at(0.75)])
}

/// A category's repeat cycle as of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryCycle {
    pub category: String,
    /// Customers who bought it at least twice (on different days).
    pub repeat_buyers: usize,
    /// Gaps between consecutive purchase days, over every customer.
    pub gaps: usize,
    pub q1_days: f64,
    pub median_days: f64,
    pub q3_days: f64,
}

/// One customer due (or overdue) to buy a category again.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub customer_id: String,
    pub category: String,
    pub last_purchase: NaiveDate,
    /// Distinct days the customer bought the category on.
    pub purchase_days: u32,
    /// The customer's cycle, shrunk toward the category's median.
    pub cycle_days: f64,
    pub due_date: NaiveDate,
    /// `due_date − as_of`; negative = overdue.
    pub days_until_due: i64,
}

/// Which customers [`due`] lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DueParams {
    /// Due on or before `as_of + within` days (overdue ones included).
    pub within: u32,
    /// Leave out customers overdue by more than this many days (lapsed rather than due).
    pub max_overdue: Option<u32>,
    /// Only these categories (all when empty).
    pub categories: Vec<String>,
}

impl History {
    /// The repeat cycle of every category with at least one repeat purchase by `as_of`, by
    /// category name.
    pub fn category_cycles(&self, as_of: NaiveDate) -> Result<Vec<CategoryCycle>, FeatureError> {
        let codes = self.replenishment_codes()?;
        let day = epoch_day(as_of);
        let gaps = gaps_by_code(&self.lines, day);
        let mut buyers = vec![0usize; codes.levels.len()];
        for k in 0..self.ids.len() {
            for (code, t) in tallies(&self.lines, codes, self.lines.until(k, day)) {
                if t.days > 1 {
                    buyers[code as usize] += 1;
                }
            }
        }
        let mut out: Vec<CategoryCycle> = codes
            .levels
            .iter()
            .zip(&gaps)
            .zip(buyers)
            .filter_map(|((category, g), repeat_buyers)| {
                let [q1_days, median_days, q3_days] = quartiles(g)?;
                Some(CategoryCycle {
                    category: category.clone(),
                    repeat_buyers,
                    gaps: g.len(),
                    q1_days,
                    median_days,
                    q3_days,
                })
            })
            .collect();
        out.sort_by(|a, b| a.category.cmp(&b.category));
        Ok(out)
    }

    /// Every customer due to buy a category again within `params.within` days of `as_of`, by
    /// category, then days until due (most overdue first), then id.
    pub fn due(&self, as_of: NaiveDate, params: &DueParams) -> Result<Vec<Due>, FeatureError> {
        let codes = self.replenishment_codes()?;
        let day = epoch_day(as_of);
        let medians: Vec<Option<f64>> = gaps_by_code(&self.lines, day)
            .iter()
            .map(|g| quartiles(g).map(|q| q[1]))
            .collect();
        let wanted = |code: u32| {
            params.categories.is_empty() || params.categories.contains(&codes.levels[code as usize])
        };
        let within = i64::from(params.within);
        let max_overdue = params.max_overdue.map(i64::from);
        let mut out: Vec<Due> = self
            .by_id
            .par_iter()
            .flat_map_iter(|&k| {
                let range = self.lines.until(k as usize, day);
                let medians = &medians;
                tallies(&self.lines, codes, range)
                    .into_iter()
                    .filter(move |(code, _)| wanted(*code))
                    .filter_map(move |(code, t)| {
                        let median = medians[code as usize]?;
                        let due = t.due(median);
                        let until = due - i64::from(day);
                        let lapsed = max_overdue.is_some_and(|m| -until > m);
                        (until <= within && !lapsed).then(|| Due {
                            customer_id: self.ids[k as usize].clone(),
                            category: codes.levels[code as usize].clone(),
                            last_purchase: date_of(t.last as i32),
                            purchase_days: t.days as u32,
                            cycle_days: t.cycle(median),
                            due_date: date_of(due as i32),
                            days_until_due: until,
                        })
                    })
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.category, a.days_until_due, &a.customer_id).cmp(&(
                &b.category,
                b.days_until_due,
                &b.customer_id,
            ))
        });
        Ok(out)
    }

    /// The category codes, when the lines were prepared for the replenishment family.
    fn replenishment_codes(&self) -> Result<&Codes, FeatureError> {
        let prepared = self
            .families
            .iter()
            .any(|(f, _)| *f == super::Family::Replenishment);
        match codes(&self.lines) {
            Some(c) if prepared => Ok(c),
            _ => Err(FeatureError::NotPrepared(Replenishment.name())),
        }
    }
}

/// [`History::due`] and [`History::category_cycles`] of transactions: the history is built for
/// the replenishment family alone.
pub fn due(
    transactions: &DataFrame,
    as_of: NaiveDate,
    params: &DueParams,
) -> Result<(Vec<Due>, Vec<CategoryCycle>), FeatureError> {
    let feature_params = FeatureParams {
        families: Some(vec![super::Family::Replenishment]),
        ..FeatureParams::default()
    };
    let history = History::new(transactions, None, &feature_params)?;
    Ok((history.due(as_of, params)?, history.category_cycles(as_of)?))
}

/// The due list as a table: one row per customer and category.
pub fn due_frame(due: &[Due]) -> Result<DataFrame, FeatureError> {
    let dates = |f: fn(&Due) -> NaiveDate, name: &str| {
        DateChunked::from_naive_date(name.into(), due.iter().map(f)).into_column()
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "customer_id".into(),
            due.iter()
                .map(|d| d.customer_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            due.iter().map(|d| d.category.as_str()).collect::<Vec<_>>(),
        ),
        dates(|d| d.last_purchase, "last_purchase"),
        Column::new(
            "purchase_days".into(),
            due.iter().map(|d| d.purchase_days).collect::<Vec<_>>(),
        ),
        Column::new(
            "cycle_days".into(),
            due.iter().map(|d| d.cycle_days).collect::<Vec<_>>(),
        ),
        dates(|d| d.due_date, "due_date"),
        Column::new(
            "days_until_due".into(),
            due.iter().map(|d| d.days_until_due).collect::<Vec<_>>(),
        ),
    ])?)
}

/// `scores` with the due columns of `category` added for a campaign to select on: `due_status`
/// (`due` for the customers in `due`, else `not_due`: an `[eligibility]` segment column) and
/// `days_until_due` (empty when not due).
pub fn with_due(
    scores: &DataFrame,
    due: &[Due],
    category: &str,
) -> Result<DataFrame, FeatureError> {
    let until: std::collections::HashMap<&str, i64> = due
        .iter()
        .filter(|d| d.category == category)
        .map(|d| (d.customer_id.as_str(), d.days_until_due))
        .collect();
    let ids = scores.column("customer_id")?.cast(&DataType::String)?;
    let days: Vec<Option<i64>> = ids
        .str()?
        .iter()
        .map(|id| id.and_then(|id| until.get(id).copied()))
        .collect();
    let status: Vec<&str> = days
        .iter()
        .map(|d| if d.is_some() { "due" } else { "not_due" })
        .collect();
    let mut out = scores.clone();
    out.with_column(Column::new("due_status".into(), status))?;
    out.with_column(Column::new("days_until_due".into(), days))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{build, Family};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Orders of (customer, day, category), amount 1 each.
    fn orders(rows: &[(&str, &str, &str)]) -> DataFrame {
        let dates: Vec<NaiveDate> = rows.iter().map(|r| date(r.1)).collect();
        DataFrame::new_infer_height(vec![
            Column::new(
                "customer_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            DateChunked::from_naive_date("order_date".into(), dates).into_column(),
            Column::new("amount".into(), vec![1.0; rows.len()]),
            Column::new(
                "category".into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
        ])
        .unwrap()
    }

    fn params() -> FeatureParams {
        FeatureParams {
            families: Some(vec![Family::Replenishment]),
            ..FeatureParams::default()
        }
    }

    fn value(df: &DataFrame, id: &str, column: &str) -> f64 {
        let ids = df.column("customer_id").unwrap().str().unwrap();
        let row = ids.iter().position(|v| v == Some(id)).unwrap();
        df.column(column).unwrap().f64().unwrap().get(row).unwrap()
    }

    /// `a` buys coffee every 30 days: Jan 1, Jan 31, Mar 1 2024 (a leap year).
    const COFFEE: [(&str, &str, &str); 3] = [
        ("a", "2024-01-01", "coffee"),
        ("a", "2024-01-31", "coffee"),
        ("a", "2024-03-01", "coffee"),
    ];

    #[test]
    fn a_30_day_buyer_is_due_30_days_after_the_last_purchase() {
        let f = build(&orders(&COFFEE), None, date("2024-03-10"), &params()).unwrap();
        assert_eq!(value(&f, "a", "replen_defined_coffee"), 1.0);
        assert_eq!(value(&f, "a", "replen_days_since_coffee"), 9.0);
        assert_eq!(value(&f, "a", "replen_cycle_days_coffee"), 30.0);
        // Due on Mar 31: 21 days after the as-of day.
        assert_eq!(value(&f, "a", "replen_due_in_days_coffee"), 21.0);

        let tx = orders(&COFFEE);
        let within = |within| DueParams {
            within,
            ..DueParams::default()
        };
        let (due, cycles) = due(&tx, date("2024-03-10"), &within(21)).unwrap();
        assert_eq!(
            due,
            vec![Due {
                customer_id: "a".into(),
                category: "coffee".into(),
                last_purchase: date("2024-03-01"),
                purchase_days: 3,
                cycle_days: 30.0,
                due_date: date("2024-03-31"),
                days_until_due: 21,
            }]
        );
        assert_eq!(cycles[0].median_days, 30.0);
        assert_eq!((cycles[0].repeat_buyers, cycles[0].gaps), (1, 2));
        assert!(super::due(&tx, date("2024-03-10"), &within(20))
            .unwrap()
            .0
            .is_empty());
        // Overdue by 9 days on Apr 9: listed with a negative count, unless lapsed.
        let (late, _) = super::due(&tx, date("2024-04-09"), &within(0)).unwrap();
        assert_eq!(late[0].days_until_due, -9);
        let lapsed = DueParams {
            max_overdue: Some(8),
            ..within(0)
        };
        assert!(super::due(&tx, date("2024-04-09"), &lapsed)
            .unwrap()
            .0
            .is_empty());
    }

    #[test]
    fn few_repeats_are_shrunk_toward_the_category_median() {
        // b: tea every 10 days, 9 gaps; c: tea twice, 30 days apart; d: tea once.
        let start = date("2024-01-01");
        let mut rows: Vec<(String, String)> = (0..10)
            .map(|i| ("b".into(), (start + chrono::Days::new(10 * i)).to_string()))
            .collect();
        rows.push(("c".into(), "2024-01-01".into()));
        rows.push(("c".into(), "2024-01-31".into()));
        rows.push(("d".into(), "2024-02-01".into()));
        let rows: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|(id, d)| (id.as_str(), d.as_str(), "tea"))
            .collect();
        let f = build(&orders(&rows), None, date("2024-04-01"), &params()).unwrap();
        // Gaps: nine of 10 and one of 30 → median 10.
        assert_eq!(
            value(&f, "b", "replen_cycle_days_tea"),
            (90.0 + 3.0 * 10.0) / 12.0
        );
        assert_eq!(
            value(&f, "c", "replen_cycle_days_tea"),
            (30.0 + 3.0 * 10.0) / 4.0
        );
        assert_eq!(value(&f, "d", "replen_cycle_days_tea"), 10.0);
        // d bought on Feb 1: due Feb 11, 50 days before Apr 1.
        assert_eq!(value(&f, "d", "replen_due_in_days_tea"), -50.0);
    }

    #[test]
    fn nothing_after_the_as_of_day_counts() {
        let mut later = COFFEE.to_vec();
        // a's next purchase and another customer's fast cycle, both after the as-of day.
        later.extend([
            ("a", "2024-03-20", "coffee"),
            ("e", "2024-03-11", "coffee"),
            ("e", "2024-03-12", "coffee"),
            ("e", "2024-03-13", "coffee"),
        ]);
        let as_of = date("2024-03-10");
        let f = build(&orders(&later), None, as_of, &params()).unwrap();
        let g = build(&orders(&COFFEE), None, as_of, &params()).unwrap();
        assert_eq!(f, g);
        let params = DueParams {
            within: 30,
            ..DueParams::default()
        };
        assert_eq!(
            due(&orders(&later), as_of, &params).unwrap(),
            due(&orders(&COFFEE), as_of, &params).unwrap()
        );
    }

    #[test]
    fn no_repeat_in_a_category_means_no_due_date() {
        let rows = [
            ("a", "2024-01-01", "machine"),
            ("b", "2024-02-01", "machine"),
        ];
        let f = build(&orders(&rows), None, date("2024-03-01"), &params()).unwrap();
        assert_eq!(value(&f, "a", "replen_defined_machine"), 0.0);
        assert_eq!(value(&f, "a", "replen_due_in_days_machine"), 0.0);
        let (due, cycles) = due(&orders(&rows), date("2024-03-01"), &DueParams::default()).unwrap();
        assert!(due.is_empty() && cycles.is_empty());
    }

    #[test]
    fn opt_in_and_needs_a_category() {
        let f = build(
            &orders(&COFFEE),
            None,
            date("2024-03-10"),
            &FeatureParams::default(),
        )
        .unwrap();
        assert!(f
            .get_column_names()
            .iter()
            .all(|n| !n.starts_with("replen_")));
        let mut tx = orders(&COFFEE);
        tx.drop_in_place("category").unwrap();
        let err = build(&tx, None, date("2024-03-10"), &params()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "feature family `replenishment` needs the `category` column, which the transactions table does not have"
        );
    }

    #[test]
    fn quartiles_interpolate_between_ranks() {
        assert_eq!(quartiles(&[1, 2, 3, 4]), Some([1.75, 2.5, 3.25]));
        assert_eq!(quartiles(&[7]), Some([7.0, 7.0, 7.0]));
        assert_eq!(quartiles(&[]), None);
    }

    #[test]
    fn the_due_columns_join_a_scores_table() {
        let scores = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ["a", "z"]),
            Column::new("score".into(), [0.5, 0.2]),
        ])
        .unwrap();
        let params = DueParams {
            within: 30,
            ..DueParams::default()
        };
        let (due, _) = due(&orders(&COFFEE), date("2024-03-10"), &params).unwrap();
        let out = with_due(&scores, &due, "coffee").unwrap();
        let status: Vec<_> = out
            .column("due_status")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(status, [Some("due"), Some("not_due")]);
        let days: Vec<_> = out
            .column("days_until_due")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(days, [Some(21), None]);
    }
}
