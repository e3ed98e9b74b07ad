//! Revenue concentration (Pareto) and value tiers.
//!
//! Customers are ranked by `monetary_total` descending, ties broken by id ascending, so the
//! ranking is a total order independent of row order. Revenue is the *positive part* of each
//! total: a customer whose returns exceed purchases (negative net total) or who spent nothing
//! counts as zero revenue, otherwise shares could exceed 100 % and "top x % of customers"
//! would mix in customers who cost money.
//!
//! Tier rule: with `before` = revenue of all customers ranked above a customer, the customer is
//! platinum if `before < platinum × total`, else gold if `before < gold × total`, else silver if
//! `before < silver × total`, else bronze. So the customer whose addition reaches or crosses a
//! threshold belongs to the higher tier. Customers with zero revenue are always bronze (also when
//! the thresholds would let them in), and when nobody has positive revenue everyone is bronze.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::segment::error::{Result, SegmentError};
use crate::segment::rfm::total_order_key;

/// Value tier of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTier {
    /// Together the top `platinum` share of revenue.
    Platinum,
    /// Up to the `gold` cumulative share.
    Gold,
    /// Up to the `silver` cumulative share.
    Silver,
    /// The rest, and everyone with zero revenue.
    Bronze,
}

impl ValueTier {
    /// Lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Platinum => "platinum",
            Self::Gold => "gold",
            Self::Silver => "silver",
            Self::Bronze => "bronze",
        }
    }

    /// All tiers, best first.
    pub const ALL: [ValueTier; 4] = [Self::Platinum, Self::Gold, Self::Silver, Self::Bronze];
}

/// Cumulative revenue shares closing each tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierThresholds {
    /// Default 0.5.
    pub platinum: f64,
    /// Default 0.8.
    pub gold: f64,
    /// Default 0.95.
    pub silver: f64,
}

impl Default for TierThresholds {
    fn default() -> Self {
        Self {
            platinum: 0.5,
            gold: 0.8,
            silver: 0.95,
        }
    }
}

impl TierThresholds {
    /// Requires `0 < platinum < gold < silver <= 1`.
    pub fn check(&self) -> Result<()> {
        let ok = 0.0 < self.platinum
            && self.platinum < self.gold
            && self.gold < self.silver
            && self.silver <= 1.0;
        if ok {
            Ok(())
        } else {
            Err(SegmentError::InvalidParam {
                param: "tier_thresholds",
                rule: "0 < platinum < gold < silver <= 1",
                found: format!("{} / {} / {}", self.platinum, self.gold, self.silver),
            })
        }
    }
}

/// One line of the Pareto table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoRow {
    /// Top share of customers, in percent (e.g. 20.0).
    pub top_customers_pct: f64,
    /// Number of customers in that top group: `ceil(pct/100 × n)`, at least 1.
    pub customers: usize,
    /// Their share of (positive) revenue, 0–1.
    pub revenue_share: f64,
}

/// Customer percentages of the Pareto table.
pub const PARETO_PCTS: [f64; 5] = [1.0, 5.0, 10.0, 20.0, 50.0];

/// Ranking and tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pareto {
    /// Revenue shares of the top 1/5/10/20/50 % of customers.
    pub table: Vec<ParetoRow>,
    /// Tier per row of the input.
    pub tiers: Vec<ValueTier>,
    /// Sum of positive totals.
    pub total_revenue: f64,
}

/// Rows by `monetary` descending, ties by id, then by row. Sorts (order key, row) pairs, then
/// each run of equal values by id: comparing ids only within ties keeps the sort off the
/// strings for most of a million customers. A run of one value ≤ 0 stays in row order: its
/// customers are all bronze and add nothing to the revenue before the next one, so their order
/// changes no tier and no sum (and it is the largest run: customers without revenue).
pub(crate) fn by_revenue(ids: &[String], monetary: &[f64]) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = monetary
        .iter()
        .enumerate()
        .map(|(i, &m)| (!total_order_key(m), i))
        .collect();
    // Each index appears once, so the order is total and a parallel sort gives it.
    keyed.par_sort_unstable();
    let mut order: Vec<usize> = keyed.iter().map(|&(_, i)| i).collect();
    // Rows in id order (a features table is): the pair sort has put every run in row order,
    // which is then id order, and the runs need no string comparisons (at a million customers
    // with cents-rounded totals, 870,000 of them sit in runs: ~0.15 s of scattered reads).
    if ids.windows(2).all(|w| w[0] <= w[1]) {
        return order;
    }
    let mut start = 0;
    while start < keyed.len() {
        let end = start + keyed[start..].partition_point(|&(k, _)| k == keyed[start].0);
        if end - start > 1 && monetary[order[start]] > 0.0 {
            order[start..end].sort_by(|&a, &b| ids[a].cmp(&ids[b]).then(a.cmp(&b)));
        }
        start = end;
    }
    order
}

/// Each customer's tier from the revenue of the customers ranked before it (`order`: best first;
/// `total`: the positive revenue).
fn tiers_in_order(
    order: &[usize],
    monetary: &[f64],
    total: f64,
    th: &TierThresholds,
) -> Vec<ValueTier> {
    let mut tiers = vec![ValueTier::Bronze; monetary.len()];
    let mut before = 0.0;
    for &i in order {
        let rev = monetary[i].max(0.0);
        tiers[i] = if rev <= 0.0 {
            ValueTier::Bronze
        } else if before < th.platinum * total {
            ValueTier::Platinum
        } else if before < th.gold * total {
            ValueTier::Gold
        } else if before < th.silver * total {
            ValueTier::Silver
        } else {
            ValueTier::Bronze
        };
        before += rev;
    }
    tiers
}

/// Ranks customers and assigns tiers; `ids` and `monetary` are aligned and finite.
pub fn pareto(ids: &[String], monetary: &[f64], th: &TierThresholds) -> Result<Pareto> {
    th.check()?;
    let n = monetary.len();
    if ids.len() != n {
        return Err(SegmentError::Malformed {
            expected: format!("{n} ids"),
            found: format!("{}", ids.len()),
        });
    }
    let revenue = |i: usize| monetary[i].max(0.0);
    let order = by_revenue(ids, monetary);
    let total: f64 = order.iter().map(|&i| revenue(i)).sum();
    let tiers = tiers_in_order(&order, monetary, total, th);
    let table = PARETO_PCTS
        .iter()
        .map(|&pct| {
            let customers = ((pct / 100.0 * n as f64).ceil() as usize).clamp(1.min(n), n);
            let top: f64 = order[..customers].iter().map(|&i| revenue(i)).sum();
            ParetoRow {
                top_customers_pct: pct,
                customers,
                revenue_share: if total > 0.0 { top / total } else { 0.0 },
            }
        })
        .collect();
    Ok(Pareto {
        table,
        tiers,
        total_revenue: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueTier::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i:02}")).collect()
    }

    #[test]
    fn hand_computed_boundaries() {
        // Total 100. Sorted: 40 (c00), 10 (c01), 10 (c02) ... shares before: 0, .40, .50, .60 ...
        let m = [40.0, 10.0, 10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 5.0, 0.0, -3.0];
        let p = pareto(&ids(m.len()), &m, &TierThresholds::default()).unwrap();
        assert_eq!(p.total_revenue, 100.0);
        // c00: before 0 → P; c01: before 40 < 50 → P (its addition reaches 50 %);
        // c02: before 50 → not < 50 → gold; c03: 60 → gold; c04: 70 → gold;
        // c05: 80 → silver; c06: 85 → silver; c07: 90 → silver; c08: 95 → bronze;
        // c09 (zero) and c10 (negative) → bronze.
        assert_eq!(
            p.tiers,
            vec![
                Platinum, Platinum, Gold, Gold, Gold, Silver, Silver, Silver, Bronze, Bronze,
                Bronze
            ]
        );
        // Top 1 % of 11 = 1 customer: 40 %; 5 % → 1; 10 % → 2 (50 %); 20 % → 3 (60 %);
        // 50 % → 6 customers: 40+10+10+10+10+5 = 85 %.
        let shares: Vec<(usize, f64)> = p
            .table
            .iter()
            .map(|r| (r.customers, r.revenue_share))
            .collect();
        assert_eq!(
            shares,
            vec![(1, 0.4), (1, 0.4), (2, 0.5), (3, 0.6), (6, 0.85)]
        );
    }

    #[test]
    fn crossing_customer_is_in_the_higher_tier() {
        // 30, 30, 20, 20: before = 0, 30, 60, 80 → P, P (crosses 50), G (crosses 80 exactly), S.
        let m = [20.0, 30.0, 20.0, 30.0];
        let p = pareto(&ids(4), &m, &TierThresholds::default()).unwrap();
        assert_eq!(p.tiers, vec![Gold, Platinum, Silver, Platinum]);
    }

    /// The pair sort gives the order of the comparison sort it replaced (revenue descending by
    /// `total_cmp`, ties by id, then by row) wherever the order can matter: the positive
    /// revenues. Runs of one value ≤ 0 keep row order, and the tiers come out as the comparison
    /// sort gives them.
    #[test]
    fn revenue_order_matches_the_comparison_sort() {
        let ids: Vec<String> = (0..400).map(|i| format!("c{}", (i * 37) % 100)).collect();
        let monetary: Vec<f64> = (0..400)
            .map(|i| match i % 7 {
                0 => 0.0,
                1 => -0.0,
                2 => -5.5,
                _ => ((i * 13) % 29 + 1) as f64,
            })
            .collect();
        let mut expected: Vec<usize> = (0..ids.len()).collect();
        expected.sort_by(|&a, &b| {
            monetary[b]
                .total_cmp(&monetary[a])
                .then_with(|| ids[a].cmp(&ids[b]))
        });
        let order = by_revenue(&ids, &monetary);
        let positive = expected.iter().take_while(|&&i| monetary[i] > 0.0).count();
        assert_eq!(order[..positive], expected[..positive]);
        let values = |o: &[usize]| o.iter().map(|&i| monetary[i].to_bits()).collect::<Vec<_>>();
        assert_eq!(values(&order), values(&expected));
        let negative: Vec<usize> = order[positive..]
            .iter()
            .filter(|&&i| monetary[i] == -5.5)
            .copied()
            .collect();
        assert!(negative.windows(2).all(|w| w[0] < w[1]), "{negative:?}");
        let th = TierThresholds::default();
        let total: f64 = monetary.iter().map(|m| m.max(0.0)).sum();
        assert_eq!(
            pareto(&ids, &monetary, &th).unwrap().tiers,
            tiers_in_order(&expected, &monetary, total, &th)
        );
    }

    /// Rows already in id order (repeated ids too) skip the runs' sort: the order is the
    /// comparison sort's, row for row.
    #[test]
    fn rows_in_id_order_rank_as_the_comparison_sort() {
        let mut ids: Vec<String> = (0..300).map(|i| format!("c{}", (i * 37) % 120)).collect();
        ids.sort();
        let monetary: Vec<f64> = (0..300).map(|i| ((i * 11) % 13) as f64 + 0.5).collect();
        let mut expected: Vec<usize> = (0..ids.len()).collect();
        expected.sort_by(|&a, &b| {
            monetary[b]
                .total_cmp(&monetary[a])
                .then_with(|| ids[a].cmp(&ids[b]))
                .then(a.cmp(&b))
        });
        assert_eq!(by_revenue(&ids, &monetary), expected);
    }

    #[test]
    fn ties_broken_by_id_not_row_order() {
        let m = [10.0, 10.0];
        let a = pareto(&["b".into(), "a".into()], &m, &TierThresholds::default()).unwrap();
        // a ranks first: before 0 → platinum; b: before 10 of 20 = 50 % → gold.
        assert_eq!(a.tiers, vec![Gold, Platinum]);
    }

    #[test]
    fn no_positive_revenue_is_all_bronze() {
        let p = pareto(&ids(3), &[0.0, -1.0, 0.0], &TierThresholds::default()).unwrap();
        assert_eq!(p.tiers, vec![Bronze; 3]);
        assert!(p.table.iter().all(|r| r.revenue_share == 0.0));
    }

    #[test]
    fn thresholds_are_checked() {
        let bad = TierThresholds {
            platinum: 0.8,
            gold: 0.5,
            silver: 0.95,
        };
        assert!(bad.check().is_err());
    }
}
