//! Penetration by group: per group of a dimension, its customers, active buyers and revenue in
//! the window, its shares of the base, and indexes against the whole base (100 = the base's rate;
//! 150 = one and a half times it). With a market size per group (households or population per
//! zip from an appended table), penetration = customers ÷ market size and its index against all
//! the markets together.
//!
//! Small groups give spurious indexes (3 buyers of 4 customers is an index of 300), so a group
//! with fewer than `min_group` customers — and, when it has a market size, a market smaller than
//! that too — is pooled into one `other` row; a kept group with too few customers for a rate
//! still shows its penetration but no activity or revenue index. The missing group (customers
//! with no value) is never pooled, since it says something about the data.

use serde::{Deserialize, Serialize};

use super::base::{CustomerBase, Grouping};
use super::AnalyzeError;
use crate::features::from_fixed;

/// The row of customers with no value on the dimension.
pub const MISSING_GROUP: &str = "(missing)";
/// The row small groups are pooled into.
pub const OTHER_GROUP: &str = "other";
/// Groups whose index is below this are called under-penetrated.
pub const UNDER_INDEX: f64 = 80.0;
/// Groups whose index is above this are called over-penetrated.
pub const OVER_INDEX: f64 = 120.0;
/// A group is called out only when its rate also differs from the base's by at least this many
/// standard errors (two-sided 5%): 58 buyers of 133 customers is an index of 123 and noise.
pub const CALLOUT_Z: f64 = 1.96;

/// The size of each group's market on one dimension (an appended table's column).
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSize {
    /// The dimension (a `--by` name) whose groups the keys are.
    pub dimension: String,
    /// What the size counts (`households`), for labels.
    pub measure: String,
    /// (group label, size), one row per key.
    pub sizes: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PenetrationParams {
    /// Groups below this many customers (and market) are pooled into `other`.
    pub min_group: u64,
    pub market: Option<MarketSize>,
}

/// One group of a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub group: String,
    pub customers: u64,
    pub active_buyers: u64,
    /// Net revenue in the window.
    pub revenue: f64,
    pub revenue_per_customer: Option<f64>,
    /// Share of the base's customers.
    pub customer_share: f64,
    /// Share of the base's revenue (none when the base's revenue is not positive).
    pub revenue_share: Option<f64>,
    /// Active buyers ÷ customers: the share of the group that buys.
    pub active_rate: Option<f64>,
    /// The active rate against the base's (100 = the base's rate).
    pub active_index: Option<f64>,
    /// Revenue per customer against the base's.
    pub revenue_index: Option<f64>,
    pub market_size: Option<f64>,
    /// Customers ÷ market size.
    pub penetration: Option<f64>,
    /// Penetration against all the markets' together (100 = average).
    pub penetration_index: Option<f64>,
    /// The ranking index's rate against the base's in standard errors of a binomial share
    /// (customers who buy, or customers among the market's households), for the call-outs.
    pub z_score: Option<f64>,
    /// How many groups were pooled into this row (0 for a group of its own).
    pub pooled_groups: u64,
    /// Too few customers for the activity and revenue indexes (shown without them).
    pub small: bool,
}

/// The whole base on one dimension (every customer once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub customers: u64,
    pub active_buyers: u64,
    pub revenue: f64,
    pub active_rate: Option<f64>,
    pub revenue_per_customer: Option<f64>,
    /// The markets' total size and the base's penetration of them (customers in a group with a
    /// market size ÷ that total).
    pub market_size: Option<f64>,
    pub penetration: Option<f64>,
}

/// One dimension's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenetrationTable {
    pub dimension: String,
    /// What the market size counts, when this dimension has one.
    pub market_measure: Option<String>,
    pub groups: Vec<GroupRow>,
    pub totals: Totals,
    /// Groups (not `other`, not missing) whose ranking index is below [`UNDER_INDEX`] / above
    /// [`OVER_INDEX`] with a z-score beyond [`CALLOUT_Z`], lowest / highest first. The ranking
    /// index is the penetration index when the dimension has market sizes, else the active index.
    pub under_penetrated: Vec<String>,
    pub over_penetrated: Vec<String>,
    /// Customers in a group the market table has no row for.
    pub customers_without_market: u64,
    /// Market rows no customer belongs to (shown as groups with 0 customers).
    pub markets_without_customers: u64,
}

impl GroupRow {
    /// The index groups are ranked and called out by.
    pub fn ranking_index(&self) -> Option<f64> {
        if self.market_size.is_some() {
            self.penetration_index
        } else {
            self.active_index
        }
    }
}

/// Group sums before the ratios.
#[derive(Debug, Clone, Default)]
struct Sums {
    customers: u64,
    active: u64,
    revenue: i128,
    market: Option<f64>,
    pooled: u64,
}

/// One table per dimension of the base.
pub fn penetration(
    base: &CustomerBase,
    params: &PenetrationParams,
) -> Result<Vec<PenetrationTable>, AnalyzeError> {
    if params.min_group == 0 {
        return Err(AnalyzeError::InvalidParam {
            name: "the minimum group size",
            rule: "at least 1",
            found: "0".into(),
        });
    }
    if let Some(m) = &params.market {
        if !base
            .groupings
            .iter()
            .any(|g| g.dimension.name == m.dimension)
        {
            return Err(AnalyzeError::MarketKeyUnused {
                key: m.dimension.clone(),
                by: names(base),
            });
        }
    }
    base.groupings
        .iter()
        .map(|g| {
            let market = params
                .market
                .as_ref()
                .filter(|m| m.dimension == g.dimension.name);
            table(base, g, params.min_group, market)
        })
        .collect()
}

fn names(base: &CustomerBase) -> String {
    base.groupings
        .iter()
        .map(|g| g.dimension.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn table(
    base: &CustomerBase,
    grouping: &Grouping,
    min_group: u64,
    market: Option<&MarketSize>,
) -> Result<PenetrationTable, AnalyzeError> {
    let mut sums = vec![Sums::default(); grouping.levels.len()];
    for (i, code) in grouping.codes.iter().enumerate() {
        let s = &mut sums[*code as usize];
        s.customers += 1;
        s.active += u64::from(base.active[i]);
        s.revenue += i128::from(base.revenue[i]);
    }
    let mut groups: Vec<(Option<String>, Sums)> =
        grouping.levels.iter().cloned().zip(sums).collect();
    let mut customers_without_market = 0;
    let mut markets_without_customers = 0;
    if let Some(m) = market {
        let mut seen = std::collections::HashSet::new();
        for (key, size) in &m.sizes {
            if !seen.insert(key.as_str()) {
                return Err(AnalyzeError::DuplicateMarketKey {
                    key: m.dimension.clone(),
                    value: key.clone(),
                });
            }
            if !(size.is_finite() && *size > 0.0) {
                return Err(AnalyzeError::BadMarketSize {
                    key: m.dimension.clone(),
                    value: key.clone(),
                    found: size.to_string(),
                });
            }
            match groups.iter_mut().find(|(g, _)| g.as_deref() == Some(key)) {
                Some((_, s)) => s.market = Some(*size),
                None => {
                    markets_without_customers += 1;
                    groups.push((
                        Some(key.clone()),
                        Sums {
                            market: Some(*size),
                            ..Sums::default()
                        },
                    ));
                }
            }
        }
        customers_without_market = groups
            .iter()
            .filter(|(g, s)| g.is_some() && s.market.is_none())
            .map(|(_, s)| s.customers)
            .sum();
    }
    let total = groups.iter().fold(Sums::default(), |mut t, (_, s)| {
        t.customers += s.customers;
        t.active += s.active;
        t.revenue += s.revenue;
        t
    });
    let market_total = market.map(|m| m.sizes.iter().map(|(_, s)| s).sum::<f64>());
    let customers_in_markets: u64 = groups
        .iter()
        .filter(|(_, s)| s.market.is_some())
        .map(|(_, s)| s.customers)
        .sum();
    let base_penetration = market_total.map(|m| customers_in_markets as f64 / m);

    // Pool the small named groups into `other`.
    let is_small =
        |s: &Sums| s.customers < min_group && s.market.is_none_or(|m| m < min_group as f64);
    let mut other = Sums::default();
    let mut kept: Vec<(String, Sums)> = Vec::new();
    for (g, s) in groups {
        match g {
            None => kept.push((MISSING_GROUP.to_string(), s)),
            Some(_) if is_small(&s) => {
                other.customers += s.customers;
                other.active += s.active;
                other.revenue += s.revenue;
                other.pooled += 1;
                if let Some(m) = s.market {
                    *other.market.get_or_insert(0.0) += m;
                }
            }
            Some(g) => kept.push((g, s)),
        }
    }
    let banded = grouping.dimension.band_order();
    let rate = |a: u64, n: u64| (n > 0).then(|| a as f64 / n as f64);
    let base_active = rate(total.active, total.customers);
    let base_rpc = (total.customers > 0).then(|| money(total.revenue) / total.customers as f64);
    let index = |x: Option<f64>, of: Option<f64>| match (x, of) {
        (Some(x), Some(of)) if of != 0.0 => Some(100.0 * x / of),
        _ => None,
    };
    let row = |group: String, s: &Sums| {
        let small = s.customers < min_group;
        let active_rate = rate(s.active, s.customers);
        let rpc = (s.customers > 0).then(|| money(s.revenue) / s.customers as f64);
        let penetration = s.market.map(|m| s.customers as f64 / m);
        let penetration_index = if s.market.is_some_and(|m| m >= min_group as f64) {
            index(penetration, base_penetration)
        } else {
            None
        };
        let active_index = if small {
            None
        } else {
            index(active_rate, base_active)
        };
        let z_score = match (market.is_some(), s.market) {
            (true, Some(m)) if penetration_index.is_some() => z(penetration, base_penetration, m),
            (true, _) => None,
            (false, _) if active_index.is_some() => z(active_rate, base_active, s.customers as f64),
            (false, _) => None,
        };
        GroupRow {
            group,
            customers: s.customers,
            active_buyers: s.active,
            revenue: money(s.revenue),
            revenue_per_customer: rpc,
            customer_share: rate(s.customers, total.customers).unwrap_or(0.0),
            revenue_share: (total.revenue > 0).then(|| money(s.revenue) / money(total.revenue)),
            active_rate,
            active_index: if small {
                None
            } else {
                index(active_rate, base_active)
            },
            revenue_index: if small { None } else { index(rpc, base_rpc) },
            market_size: s.market,
            penetration,
            penetration_index,
            z_score,
            pooled_groups: s.pooled,
            small,
        }
    };
    let mut rows: Vec<GroupRow> = kept
        .iter()
        .filter(|(g, _)| g != MISSING_GROUP)
        .map(|(g, s)| row(g.clone(), s))
        .collect();
    match &banded {
        Some(order) => rows.sort_by_key(|r| order.iter().position(|o| *o == r.group)),
        None => rows.sort_by(|a, b| {
            b.ranking_index()
                .partial_cmp(&a.ranking_index())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.group.cmp(&b.group))
        }),
    }
    let mut under: Vec<&GroupRow> = rows
        .iter()
        .filter(|r| r.ranking_index().is_some_and(|i| i < UNDER_INDEX))
        .filter(|r| r.z_score.is_some_and(|z| z <= -CALLOUT_Z))
        .collect();
    under.sort_by(|a, b| {
        a.ranking_index()
            .partial_cmp(&b.ranking_index())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut over: Vec<&GroupRow> = rows
        .iter()
        .filter(|r| r.ranking_index().is_some_and(|i| i > OVER_INDEX))
        .filter(|r| r.z_score.is_some_and(|z| z >= CALLOUT_Z))
        .collect();
    over.sort_by(|a, b| {
        b.ranking_index()
            .partial_cmp(&a.ranking_index())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let (under, over) = (
        under.iter().map(|r| r.group.clone()).collect(),
        over.iter().map(|r| r.group.clone()).collect(),
    );
    if other.pooled > 0 {
        rows.push(row(OTHER_GROUP.to_string(), &other));
    }
    if let Some((g, s)) = kept.iter().find(|(g, _)| g == MISSING_GROUP) {
        rows.push(row(g.clone(), s));
    }
    Ok(PenetrationTable {
        dimension: grouping.dimension.name.clone(),
        market_measure: market.map(|m| m.measure.clone()),
        groups: rows,
        totals: Totals {
            customers: total.customers,
            active_buyers: total.active,
            revenue: money(total.revenue),
            active_rate: base_active,
            revenue_per_customer: base_rpc,
            market_size: market_total,
            penetration: base_penetration,
        },
        under_penetrated: under,
        over_penetrated: over,
        customers_without_market,
        markets_without_customers,
    })
}

/// A share against the base's share in standard errors of a binomial share of `n` (none when
/// the base's share is 0 or 1: no spread to measure against).
fn z(share: Option<f64>, base: Option<f64>, n: f64) -> Option<f64> {
    let (share, base) = (share?, base?);
    let spread = (base * (1.0 - base) / n).sqrt();
    (spread > 0.0 && spread.is_finite()).then(|| (share - base) / spread)
}

/// A fixed-point sum in currency units.
fn money(sum: i128) -> f64 {
    from_fixed(i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX }))
}
