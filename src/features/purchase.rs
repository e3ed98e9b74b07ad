//! The purchase-history families (rfm, btyd, windows, cycle) of one customer, from its lines in
//! day order.
//!
//! A day is one purchase occasion (as in the CLV literature): the lines of a day are summed
//! first, then every family is a fold over the customer's days. Amounts are fixed-point integers
//! and gaps whole days, so every sum is exact and the results do not depend on how lines or
//! customers are split over threads; only the final divisions round.

use std::ops::Range;

use super::lines::{from_fixed, Lines};
use super::{Family, TimeUnit};

/// Window lengths of the `windows` family, in days.
const WINDOWS: [i32; 3] = [30, 90, 365];

/// The output columns of `families`' purchase features, in catalogue order.
pub(super) fn columns(families: &[Family]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for family in families {
        out.extend_from_slice(match family {
            Family::Rfm => &[
                "recency_days",
                "frequency",
                "monetary_total",
                "monetary_avg",
                "tenure_days",
            ][..],
            Family::Btyd => &[
                "btyd_frequency",
                "btyd_recency",
                "btyd_t",
                "btyd_monetary_value",
            ],
            Family::Windows => &[
                "occasions_30d",
                "spend_30d",
                "occasions_90d",
                "spend_90d",
                "occasions_365d",
                "spend_365d",
                "trend_90d",
            ],
            Family::Cycle => &[
                "cycle_defined",
                "cycle_mean_gap_days",
                "cycle_median_gap_days",
                "cycle_std_gap_days",
                "overdue_ratio",
            ],
            Family::Mix | Family::Attributes => &[],
        });
    }
    out
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
        if day > as_of_day - 180 && day <= as_of_day - 90 {
            self.spend_previous_90 += total;
        }
    }
}

/// The median of `v` (not empty): the middle value, or the mean of the two middle ones.
fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let m = v.len();
    if m % 2 == 1 {
        v[m / 2]
    } else {
        let (a, b) = (v[m / 2 - 1], v[m / 2]);
        a + (b - a) * 0.5
    }
}

/// Writes the purchase features of the customer whose lines (as of `as_of_day`, not empty) are
/// `range` into `out`, in [`columns`] order. `gaps`: scratch space, reused across customers.
pub(super) fn write(
    lines: &Lines,
    range: Range<usize>,
    as_of_day: i32,
    families: &[Family],
    unit: TimeUnit,
    gaps: &mut Vec<f64>,
    out: &mut Vec<f64>,
) {
    gaps.clear();
    let mut days = Days::default();
    let (day, amount) = (&lines.day[range.clone()], &lines.amount[range]);
    let mut i = 0;
    while i < day.len() {
        let d = day[i];
        let mut total = 0i64;
        while i < day.len() && day[i] == d {
            total += amount[i];
            i += 1;
        }
        days.add(d, total, as_of_day, gaps);
    }

    let n = f64::from(days.n);
    let recency = f64::from(as_of_day - days.last_day);
    let tenure = f64::from(as_of_day - days.first_day);
    let has_gap = days.n > 1;
    let monetary_total = from_fixed(days.total);
    let k = f64::from(days.n - 1);
    let gap_mean = days.gap_sum / k;
    for family in families {
        match family {
            Family::Rfm => out.extend([recency, n, monetary_total, monetary_total / n, tenure]),
            Family::Btyd => out.extend([
                n - 1.0,
                f64::from(days.last_day - days.first_day) / unit.days(),
                tenure / unit.days(),
                if has_gap {
                    from_fixed(days.total - days.first_total) / k
                } else {
                    0.0
                },
            ]),
            Family::Windows => {
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
            Family::Cycle if has_gap => {
                // Population variance of k gaps: (k·Σg² − (Σg)²) / k², from exact sums.
                let variance = (k * days.gap_sq_sum - days.gap_sum * days.gap_sum) / (k * k);
                out.extend([
                    1.0,
                    gap_mean,
                    median(gaps),
                    variance.max(0.0).sqrt(),
                    recency / gap_mean,
                ]);
            }
            Family::Cycle => out.extend([0.0; 5]),
            Family::Mix | Family::Attributes => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [9.0, 1.0, 4.0]), 4.0);
        assert_eq!(median(&mut [9.0, 1.0, 4.0, 2.0]), 3.0);
        assert_eq!(median(&mut [7.0]), 7.0);
    }
}
