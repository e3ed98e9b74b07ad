//! Profit concentration: the whale curve, profit tiers and the customers who lose money.
//!
//! Customers are ranked by net profit descending, ties by id ascending (as the Pareto ranking
//! is). The whale curve is the running sum of their profits against the share of customers
//! ranked so far: it rises while customers earn money, peaks where the profitable ones end — above
//! 100 % of the total when some customers lose money — and falls back to exactly the total (the
//! end point is the sum of every profit). The curve is kept at every whole percent of customers
//! (`ceil(pct × n / 100)` customers), plus its peak exactly.
//!
//! Profit tiers apply the value-tier rule ([`pareto`]) to net profit instead of revenue, with the
//! same thresholds; a customer whose net profit is below zero is `unprofitable`. Each of them is
//! listed with the reason for the loss: the largest of the costs the `profit` family counts
//! ([`COST_COMPONENTS`]: returns, the handling of small orders, contacts), or `low margin` when
//! none of them is above zero.

use serde::{Deserialize, Serialize};

use crate::features::profit::{COST_COMPONENTS, NET_PROFIT};
use crate::segment::error::Result;
use crate::segment::input::finite_column;
use crate::segment::pareto::{pareto, TierThresholds, ValueTier};
use crate::types::FeatureMatrix;

/// The profit tier of a customer whose net profit is below zero.
pub const UNPROFITABLE: &str = "unprofitable";
/// The reason given for a loss that no cost component explains.
pub const LOW_MARGIN: &str = "low margin";

/// One point of the whale curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhalePoint {
    /// Share of customers ranked so far, in percent.
    pub customers_pct: f64,
    /// Customers ranked so far (the most profitable first).
    pub customers: usize,
    /// Their net profit together.
    pub cumulative_profit: f64,
    /// `cumulative_profit` ÷ total profit; `None` when the total is not above zero.
    pub profit_share: Option<f64>,
}

/// Customers and profit of one profit tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitTier {
    pub name: String,
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// The tier's net profit together.
    pub profit: f64,
}

/// Unprofitable customers per reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossReason {
    pub reason: String,
    pub customers: usize,
    /// What they lose together (above zero).
    pub loss: f64,
}

/// The serializable summary (in the segment report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitSummary {
    /// Sum of every customer's net profit: the curve's end point.
    pub total_profit: f64,
    /// The highest point of the curve.
    pub peak: WhalePoint,
    /// Customers with net profit below zero.
    pub losing_customers: usize,
    /// Their share of all customers, 0–1.
    pub losing_share: f64,
    /// What they lose together (above zero).
    pub loss: f64,
    /// The curve at 0, 1, …, 100 % of customers.
    pub curve: Vec<WhalePoint>,
    /// Platinum, gold, silver, bronze, unprofitable.
    pub tiers: Vec<ProfitTier>,
    /// Unprofitable customers per reason, the largest loss first.
    pub reasons: Vec<LossReason>,
}

/// A customer who loses money, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unprofitable {
    pub id: String,
    pub net_profit: f64,
    pub reason: String,
    /// The cost components, in [`COST_COMPONENTS`] order.
    pub costs: Vec<f64>,
}

/// Per-customer results and the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitAnalysis {
    /// Profit tier per input row.
    pub tiers: Vec<String>,
    /// The unprofitable customers, the largest loss first (ties by id).
    pub unprofitable: Vec<Unprofitable>,
    pub summary: ProfitSummary,
}

/// The analysis of the matrix's [`NET_PROFIT`] and cost columns; `None` without `net_profit`
/// (no `profit` family in the features).
pub fn profit_of(fm: &FeatureMatrix, th: &TierThresholds) -> Result<Option<ProfitAnalysis>> {
    if fm.column(NET_PROFIT).is_none() {
        return Ok(None);
    }
    let net = finite_column(fm, NET_PROFIT)?.to_vec();
    let costs = COST_COMPONENTS
        .iter()
        .map(|(c, _)| Ok(finite_column(fm, c)?.to_vec()))
        .collect::<Result<Vec<_>>>()?;
    whale(&fm.ids, &net, &costs, th).map(Some)
}

/// Ranks `ids` by `net` (aligned, finite); `costs`: one column per [`COST_COMPONENTS`] entry.
pub fn whale(
    ids: &[String],
    net: &[f64],
    costs: &[Vec<f64>],
    th: &TierThresholds,
) -> Result<ProfitAnalysis> {
    let n = net.len();
    let tiers: Vec<String> = pareto(ids, net, th)?
        .tiers
        .iter()
        .zip(net)
        .map(|(t, p)| if *p < 0.0 { UNPROFITABLE } else { t.as_str() }.to_string())
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| net[b].total_cmp(&net[a]).then_with(|| ids[a].cmp(&ids[b])));
    // cumulative[k]: the profit of the k most profitable customers.
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    for &i in &order {
        cumulative.push(cumulative[cumulative.len() - 1] + net[i]);
    }
    let total = cumulative[n];
    let point = |k: usize| WhalePoint {
        customers_pct: if n == 0 {
            0.0
        } else {
            100.0 * k as f64 / n as f64
        },
        customers: k,
        cumulative_profit: cumulative[k],
        profit_share: (total > 0.0).then(|| cumulative[k] / total),
    };
    let curve = (0..=100usize)
        .map(|pct| WhalePoint {
            customers_pct: pct as f64,
            ..point((pct * n).div_ceil(100))
        })
        .collect();
    let peak_at = (0..=n).fold(0, |best, k| {
        if cumulative[k] > cumulative[best] {
            k
        } else {
            best
        }
    });
    let mut unprofitable: Vec<Unprofitable> = order
        .iter()
        .rev()
        .take_while(|&&i| net[i] < 0.0)
        .map(|&i| {
            let row: Vec<f64> = costs.iter().map(|c| c[i]).collect();
            Unprofitable {
                id: ids[i].clone(),
                net_profit: net[i],
                reason: reason(&row).to_string(),
                costs: row,
            }
        })
        .collect();
    // Reversing the ranking reverses the id ties too: the largest loss first, ties by id.
    unprofitable.sort_by(|a, b| {
        a.net_profit
            .total_cmp(&b.net_profit)
            .then_with(|| a.id.cmp(&b.id))
    });
    let loss = -unprofitable.iter().map(|u| u.net_profit).sum::<f64>();
    let summary = ProfitSummary {
        total_profit: total,
        peak: point(peak_at),
        losing_customers: unprofitable.len(),
        losing_share: share(unprofitable.len(), n),
        loss,
        curve,
        tiers: tier_summary(&tiers, net),
        reasons: reasons(&unprofitable),
    };
    Ok(ProfitAnalysis {
        tiers,
        unprofitable,
        summary,
    })
}

fn share(part: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        part as f64 / n as f64
    }
}

/// The reason of the largest cost component above zero (the first on a tie), else low margin.
fn reason(costs: &[f64]) -> &'static str {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in costs.iter().enumerate() {
        if *c > 0.0 && best.is_none_or(|(_, b)| *c > b) {
            best = Some((i, *c));
        }
    }
    best.map_or(LOW_MARGIN, |(i, _)| COST_COMPONENTS[i].1)
}

fn tier_summary(tiers: &[String], net: &[f64]) -> Vec<ProfitTier> {
    ValueTier::ALL
        .iter()
        .map(|t| t.as_str())
        .chain([UNPROFITABLE])
        .map(|name| {
            let members: Vec<usize> = (0..tiers.len()).filter(|&i| tiers[i] == name).collect();
            ProfitTier {
                name: name.to_string(),
                customers: members.len(),
                customer_share: share(members.len(), tiers.len()),
                profit: members.iter().map(|&i| net[i]).sum(),
            }
        })
        .collect()
}

fn reasons(unprofitable: &[Unprofitable]) -> Vec<LossReason> {
    let mut out: Vec<LossReason> = Vec::new();
    for u in unprofitable {
        match out.iter_mut().find(|r| r.reason == u.reason) {
            Some(r) => {
                r.customers += 1;
                r.loss -= u.net_profit;
            }
            None => out.push(LossReason {
                reason: u.reason.clone(),
                customers: 1,
                loss: -u.net_profit,
            }),
        }
    }
    out.sort_by(|a, b| {
        b.loss
            .total_cmp(&a.loss)
            .then_with(|| a.reason.cmp(&b.reason))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    /// Profits 60, 30, 20, 0, −5, −5 (total 100): the curve peaks at the three profitable
    /// customers with 110 (110 % of the total, at 50 % of customers) and ends at 100; two
    /// customers (a third) lose 10.
    #[test]
    fn whale_curve_by_hand() {
        let net = [-5.0, 60.0, 0.0, 20.0, -5.0, 30.0];
        let costs = vec![
            vec![8.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            vec![2.0, 3.0, 0.0, 0.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.0, 0.0, 4.0, 0.0],
        ];
        let a = whale(&ids(6), &net, &costs, &TierThresholds::default()).unwrap();
        let s = &a.summary;
        assert_eq!(s.total_profit, 100.0);
        assert_eq!(s.peak.customers, 3);
        assert_eq!(s.peak.customers_pct, 50.0);
        assert_eq!(s.peak.cumulative_profit, 110.0);
        assert_eq!(s.peak.profit_share, Some(1.1));
        assert_eq!((s.losing_customers, s.loss), (2, 10.0));
        assert!((s.losing_share - 1.0 / 3.0).abs() < 1e-12);
        // 17 % of 6 customers: ceil(1.02) = 2 → 60 + 30.
        assert_eq!(s.curve[17].customers, 2);
        assert_eq!(s.curve[17].cumulative_profit, 90.0);
        assert_eq!(s.curve.len(), 101);
        let end = s.curve.last().unwrap();
        assert_eq!((end.customers, end.cumulative_profit), (6, 100.0));
        assert_eq!(end.profit_share, Some(1.0));
        // Tiers: 60 → platinum (before 0), 30 → gold (before 60 ≥ 50), 20 → silver (before
        // 90 ≥ 80), 0 → bronze, the losses unprofitable.
        assert_eq!(
            a.tiers,
            [
                "unprofitable",
                "platinum",
                "bronze",
                "silver",
                "unprofitable",
                "gold"
            ]
        );
        let profits: Vec<(usize, f64)> = s.tiers.iter().map(|t| (t.customers, t.profit)).collect();
        assert_eq!(
            profits,
            [(1, 60.0), (1, 30.0), (1, 20.0), (1, 0.0), (2, -10.0)]
        );
        // c0's largest cost is its returns, c4's its contacts; equal losses, by id.
        let listed: Vec<(&str, &str)> = a
            .unprofitable
            .iter()
            .map(|u| (u.id.as_str(), u.reason.as_str()))
            .collect();
        assert_eq!(listed, [("c0", "returns"), ("c4", "contact costs")]);
        assert_eq!(a.unprofitable[1].costs, [1.0, 1.0, 4.0]);
        assert_eq!(s.reasons.len(), 2);
    }

    /// The curve's end point is the total profit (the plain sum in row order, to rounding),
    /// whatever the row order.
    #[test]
    fn the_end_point_is_the_total_profit() {
        let net: Vec<f64> = (0..37)
            .map(|i| ((i * 7919) % 101) as f64 / 3.0 - 12.0)
            .collect();
        let costs = vec![vec![0.0; 37]; 3];
        let a = whale(&ids(37), &net, &costs, &TierThresholds::default()).unwrap();
        let direct: f64 = net.iter().sum();
        let end = a.summary.curve.last().unwrap().cumulative_profit;
        assert_eq!(end, a.summary.total_profit);
        assert!((end - direct).abs() < 1e-9, "{end} != {direct}");
        assert!(a.summary.peak.cumulative_profit >= end);
        let mut rev_ids = ids(37);
        rev_ids.reverse();
        let mut rev_net = net.clone();
        rev_net.reverse();
        let b = whale(&rev_ids, &rev_net, &costs, &TierThresholds::default()).unwrap();
        assert_eq!(b.summary.curve, a.summary.curve);
        assert_eq!(b.unprofitable, a.unprofitable);
    }

    #[test]
    fn no_cost_above_zero_is_a_low_margin_and_no_profit_has_no_shares() {
        let net = [-3.0, -1.0];
        let costs = vec![vec![0.0; 2]; 3];
        let a = whale(&ids(2), &net, &costs, &TierThresholds::default()).unwrap();
        assert!(a.unprofitable.iter().all(|u| u.reason == LOW_MARGIN));
        assert_eq!(a.summary.peak.customers, 0);
        assert!(a.summary.curve.iter().all(|p| p.profit_share.is_none()));
    }
}
