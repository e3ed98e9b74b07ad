//! The purchase-history families (rfm, btyd, windows, cycle) of one customer, from its lines in
//! day order.
//!
//! A day is one purchase occasion (as in the CLV literature): the lines of a day are summed
//! first, then every family is a fold over the customer's days. Amounts are fixed-point integers
//! and gaps whole days, so every sum is exact and the results do not depend on how lines or
//! customers are split over threads; only the final divisions round.

use super::catalog::{doc, Doc, SqlForm};
use super::family::{Columns, Customer, Definition, Prepared, Source};
use super::lines::{from_fixed, Lines};
use super::{FeatureError, FeatureParams, TimeUnit};

/// Window lengths of the `windows` family, in days.
const WINDOWS: [i32; 3] = [30, 90, 365];

/// The window of `trend_90d`: the last 90 days against the 90 days before.
const TREND_WINDOW: i32 = 90;

/// One of the purchase-history families: each reads the customer's days folded once
/// ([`Folded`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum Purchase {
    Rfm,
    Btyd,
    Windows,
    Cycle,
}

#[rustfmt::skip]
const RFM_DOCS: &[Doc] = &[
    doc("recency_days", "days", "as-of day − last purchase day").sql(SqlForm::DaysSinceLast),
    doc("frequency", "count", "purchase occasions: distinct days with a purchase").sql(SqlForm::Occasions { window: None }),
    doc("monetary_total", "currency", "sum of amounts (returns subtract)").sql(SqlForm::Spend { window: None }),
    doc("monetary_avg", "currency", "monetary_total ÷ frequency (spend per occasion)").sql(SqlForm::SpendPerOccasion),
    doc("tenure_days", "days", "as-of day − first purchase day").sql(SqlForm::DaysSinceFirst { per_unit: false }),
];

#[rustfmt::skip]
const BTYD_DOCS: &[Doc] = &[
    doc("btyd_frequency", "count", "distinct purchase days − 1 (repeat occasions; lifetimes' frequency)").sql(SqlForm::RepeatOccasions),
    doc("btyd_recency", "time unit", "last purchase day − first purchase day (lifetimes' recency)").sql(SqlForm::FirstToLast { per_unit: true }),
    doc("btyd_t", "time unit", "as-of day − first purchase day (lifetimes' T)").sql(SqlForm::DaysSinceFirst { per_unit: true }),
    doc("btyd_monetary_value", "currency", "mean day total over the repeat days (first day excluded); 0 when btyd_frequency is 0").sql(SqlForm::RepeatSpendPerOccasion),
];

#[rustfmt::skip]
const WINDOWS_DOCS: &[Doc] = &[
    doc("occasions_30d", "count", "purchase days in the last 30 days (as-of day included)").sql(SqlForm::Occasions { window: Some(WINDOWS[0]) }),
    doc("spend_30d", "currency", "spend in the last 30 days").sql(SqlForm::Spend { window: Some(WINDOWS[0]) }),
    doc("occasions_90d", "count", "purchase days in the last 90 days").sql(SqlForm::Occasions { window: Some(WINDOWS[1]) }),
    doc("spend_90d", "currency", "spend in the last 90 days").sql(SqlForm::Spend { window: Some(WINDOWS[1]) }),
    doc("occasions_365d", "count", "purchase days in the last 365 days").sql(SqlForm::Occasions { window: Some(WINDOWS[2]) }),
    doc("spend_365d", "currency", "spend in the last 365 days").sql(SqlForm::Spend { window: Some(WINDOWS[2]) }),
    doc("trend_90d", "ratio in [−1, 1]", "(spend last 90 days − spend the 90 days before) ÷ (|recent| + |previous|); 0 when both are 0").sql(SqlForm::Trend { window: TREND_WINDOW }),
];

#[rustfmt::skip]
const CYCLE_DOCS: &[Doc] = &[
    doc("cycle_defined", "0/1", "1 when the customer has at least two purchase days (a gap exists); the other cycle features are 0 when it is 0").sql(SqlForm::GapDefined),
    doc("cycle_mean_gap_days", "days", "mean gap between consecutive purchase days").sql(SqlForm::GapMean),
    doc("cycle_median_gap_days", "days", "median gap between consecutive purchase days").sql(SqlForm::GapMedian),
    doc("cycle_std_gap_days", "days", "population standard deviation of the gaps (0 with one gap)").sql(SqlForm::GapStd),
    doc("overdue_ratio", "ratio", "recency_days ÷ cycle_mean_gap_days: above 1 = later than the customer's own rhythm").sql(SqlForm::Overdue),
];

impl Definition for Purchase {
    fn name(&self) -> &'static str {
        match self {
            Purchase::Rfm => "rfm",
            Purchase::Btyd => "btyd",
            Purchase::Windows => "windows",
            Purchase::Cycle => "cycle",
        }
    }

    fn docs(&self) -> &'static [Doc] {
        match self {
            Purchase::Rfm => RFM_DOCS,
            Purchase::Btyd => BTYD_DOCS,
            Purchase::Windows => WINDOWS_DOCS,
            Purchase::Cycle => CYCLE_DOCS,
        }
    }

    fn prepare(&self, _: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError> {
        Ok(Box::new(*self))
    }
}

impl Prepared for Purchase {
    fn at<'h>(
        &'h self,
        _lines: &'h Lines,
        _day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError> {
        Ok(Box::new((*self, params.time_unit)))
    }
}

impl Columns for (Purchase, TimeUnit) {
    fn names(&self) -> Vec<String> {
        self.0.docs().iter().map(|d| d.name.to_string()).collect()
    }

    fn write(&self, customer: &mut Customer<'_>, out: &mut Vec<f64>) {
        let day = customer.day;
        let folded = fold(customer);
        write(folded, day, self.0, self.1, out);
    }
}

/// One customer's days folded into the sums every family is built from.
#[derive(Default)]
struct Days {
    n: u32,
    first_day: i32,
    last_day: i32,
    total: i64,
    first_total: i64,
    occasions: [u32; 3],
    spend: [i64; 3],
    /// Spend in the 90 days before the last 90.
    spend_previous_90: i64,
    gap_sum: f64,
    gap_sq_sum: f64,
}

impl Days {
    fn add(&mut self, day: i32, total: i64, as_of_day: i32, gaps: &mut Vec<f64>) {
        if self.n == 0 {
            self.first_day = day;
            self.first_total = total;
        } else {
            let gap = f64::from(day - self.last_day);
            gaps.push(gap);
            self.gap_sum += gap;
            self.gap_sq_sum += gap * gap;
        }
        self.n += 1;
        self.last_day = day;
        self.total += total;
        for (w, window) in WINDOWS.iter().enumerate() {
            if day > as_of_day - window {
                self.occasions[w] += 1;
                self.spend[w] += total;
            }
        }
        if day > as_of_day - 2 * TREND_WINDOW && day <= as_of_day - TREND_WINDOW {
            self.spend_previous_90 += total;
        }
    }
}

/// The median of `v` (not empty): the middle value, or the mean of the two middle ones.
///
/// The middle values are selected, not sorted for: under `total_cmp` equal values have equal
/// bits, so the selected ones are those a sort puts in the middle (the lower one of an even
/// count is the largest of the lower half).
fn median(v: &mut [f64]) -> f64 {
    let m = v.len();
    let (lower, &mut b, _) = v.select_nth_unstable_by(m / 2, f64::total_cmp);
    if m % 2 == 1 {
        b
    } else {
        let a = lower.iter().copied().max_by(f64::total_cmp).unwrap_or(b);
        a + (b - a) * 0.5
    }
}

/// A customer's purchase days folded once per row, shared by every purchase family of the row.
#[derive(Default)]
pub(super) struct Folded {
    ready: bool,
    days: Days,
    /// The gaps between consecutive purchase days, in day order until `median` sorts them.
    gaps: Vec<f64>,
}

impl Folded {
    /// Forgets the previous customer.
    pub fn clear(&mut self) {
        self.ready = false;
    }
}

/// The customer's days folded (on the first family of the row that asks).
fn fold<'c>(customer: &'c mut Customer<'_>) -> &'c mut Folded {
    let folded = &mut customer.scratch.purchases;
    if !folded.ready {
        folded.gaps.clear();
        folded.days = Days::default();
        let range = customer.range.clone();
        let (day, amount) = (
            &customer.lines.day[range.clone()],
            &customer.lines.amount[range],
        );
        let mut i = 0;
        while i < day.len() {
            let d = day[i];
            let mut total = 0i64;
            while i < day.len() && day[i] == d {
                total += amount[i];
                i += 1;
            }
            folded.days.add(d, total, customer.day, &mut folded.gaps);
        }
        folded.ready = true;
    }
    folded
}

/// Writes `family`'s features of a customer's folded days (as of `as_of_day`, not empty) into
/// `out`, in catalogue order.
fn write(
    folded: &mut Folded,
    as_of_day: i32,
    family: Purchase,
    unit: TimeUnit,
    out: &mut Vec<f64>,
) {
    let days = &folded.days;
    let n = f64::from(days.n);
    let recency = f64::from(as_of_day - days.last_day);
    let tenure = f64::from(as_of_day - days.first_day);
    let has_gap = days.n > 1;
    let monetary_total = from_fixed(days.total);
    let k = f64::from(days.n - 1);
    let gap_mean = days.gap_sum / k;
    match family {
        Purchase::Rfm => out.extend([recency, n, monetary_total, monetary_total / n, tenure]),
        Purchase::Btyd => out.extend([
            n - 1.0,
            f64::from(days.last_day - days.first_day) / unit.days(),
            tenure / unit.days(),
            if has_gap {
                from_fixed(days.total - days.first_total) / k
            } else {
                0.0
            },
        ]),
        Purchase::Windows => {
            for w in 0..WINDOWS.len() {
                out.extend([f64::from(days.occasions[w]), from_fixed(days.spend[w])]);
            }
            let recent = from_fixed(days.spend[1]);
            let previous = from_fixed(days.spend_previous_90);
            let denom = recent.abs() + previous.abs();
            out.push(if denom > 0.0 {
                (recent - previous) / denom
            } else {
                0.0
            });
        }
        Purchase::Cycle if has_gap => {
            // Population variance of k gaps: (k·Σg² − (Σg)²) / k², from exact sums.
            let variance = (k * days.gap_sq_sum - days.gap_sum * days.gap_sum) / (k * k);
            out.extend([
                1.0,
                gap_mean,
                median(&mut folded.gaps),
                variance.max(0.0).sqrt(),
                recency / gap_mean,
            ]);
        }
        Purchase::Cycle => out.extend([0.0; 5]),
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        // Selected as a sort would place them, at every length and with ties.
        for len in 1..40usize {
            let v: Vec<f64> = (0..len).map(|i| ((i * 7919) % 13) as f64 * 0.5).collect();
            let mut sorted = v.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let expected = if len % 2 == 1 {
                sorted[len / 2]
            } else {
                let (a, b) = (sorted[len / 2 - 1], sorted[len / 2]);
                a + (b - a) * 0.5
            };
            assert_eq!(
                median(&mut v.clone()).to_bits(),
                expected.to_bits(),
                "{len}"
            );
        }
        assert_eq!(median(&mut [9.0, 1.0, 4.0]), 4.0);
        assert_eq!(median(&mut [9.0, 1.0, 4.0, 2.0]), 3.0);
        assert_eq!(median(&mut [7.0]), 7.0);
    }
}
