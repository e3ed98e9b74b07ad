//! Budgeted assignment of at most one channel per customer.
//!
//! Ranking customers by their best profit and giving each their most profitable affordable
//! channel is optimal with one channel, but with several channels it can spend the budget on an
//! expensive channel that is barely better than a cheap one, or fill a capacity-limited channel
//! with customers who had a nearly-as-good alternative. So the greedy ranks by a *priced* value
//! `key − λ·cost − μ_channel`: λ prices the budget and μ the channel capacities (Lagrangian
//! relaxation of the multiple-choice knapsack with capacities). λ = μ = 0 is the plain rule.
//! We run the greedy for the plain rule and for a few prices near those at which the
//! unconstrained choices just fit the limits, and keep the best total key (plain rule on ties),
//! so the result is never worse than the plain rule and equals it when no limit binds.

use rayon::prelude::*;

pub(crate) use crate::select::limits::Limits;
use crate::select::limits::Usage;
use crate::select::rules::ContactOption;

/// Customers that passed the rules and have at least one option ≥ the floor, in customer-id
/// order; options are stored flat (`opts[start[i]..start[i + 1]]`), best first.
pub(crate) struct Pool {
    pub start: Vec<usize>,
    pub opts: Vec<ContactOption>,
}

impl Pool {
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    pub fn options(&self, i: usize) -> &[ContactOption] {
        &self.opts[self.start[i]..self.start[i + 1]]
    }
}

/// Result of one greedy pass: for each pool customer, the chosen option index (within its
/// options) if selected.
pub(crate) struct Allocation {
    pub choice: Vec<Option<usize>>,
    pub total_key: f64,
    pub prices: Prices,
}

/// Shadow prices: `lambda` per unit of budget, `mu[c]` per contact on channel c.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prices {
    pub lambda: f64,
    pub mu: Vec<f64>,
}

impl Prices {
    pub(crate) fn zero(n_channels: usize) -> Prices {
        Prices {
            lambda: 0.0,
            mu: vec![0.0; n_channels],
        }
    }

    fn value(&self, o: &ContactOption) -> f64 {
        o.key - self.lambda * o.cost - self.mu[o.channel]
    }
}

/// Greedy at `prices`: customers in order of their best priced value (ties by id), each taking
/// their best-priced option that still has capacity and fits the remaining budget.
pub(crate) fn greedy(pool: &Pool, limits: &Limits, prices: &Prices) -> Allocation {
    let n = pool.len();
    let priced = |o: &ContactOption| prices.value(o);
    // Sorting (order-preserving bits, index) pairs keeps the sort cache-friendly: comparing
    // through an index into a priority array costs two cache misses per comparison at 1M rows.
    let mut order: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let p = pool
                .options(i)
                .iter()
                .map(priced)
                .fold(f64::NEG_INFINITY, f64::max);
            (descending(p), i as u32)
        })
        .collect();
    order.par_sort_unstable();
    let mut usage = Usage::new(limits.capacity.len());
    let mut total_key = 0.0_f64;
    let mut choice = vec![None; n];
    // Cheapest channel that still has capacity: once nothing that cheap fits any more, nobody
    // else can be taken and the rest of the order is skipped.
    let channel_cost = costs_by_channel(pool, limits.capacity.len());
    let min_cost = |usage: &Usage| -> Option<(usize, f64)> {
        channel_cost
            .iter()
            .enumerate()
            .filter(|&(c, _)| usage.has_room(limits, c))
            .fold(None, |best, (c, &k)| match best {
                Some((_, b)) if b <= k => best,
                _ => Some((c, k)),
            })
    };
    let mut cheapest = min_cost(&usage);
    for &(_, i) in &order {
        if !cheapest.is_some_and(|(c, k)| k.is_finite() && usage.fits(limits, c, k)) {
            break;
        }
        let i = i as usize;
        let mut pick: Option<(usize, f64)> = None;
        for (k, o) in pool.options(i).iter().enumerate() {
            if !usage.fits(limits, o.channel, o.cost) {
                continue;
            }
            // options are best-first by key, so `>` keeps the better one on equal priced value
            if pick.is_none_or(|(_, v)| priced(o) > v) {
                pick = Some((k, priced(o)));
            }
        }
        if let Some((k, _)) = pick {
            let o = pool.options(i)[k];
            usage.add(o.channel, o.cost);
            if !usage.has_room(limits, o.channel) {
                cheapest = min_cost(&usage);
            }
            total_key += o.key;
            choice[i] = Some(k);
        }
    }
    Allocation {
        choice,
        total_key,
        prices: prices.clone(),
    }
}

/// Cost per channel index as seen in the pool (channels without options get +∞).
fn costs_by_channel(pool: &Pool, n_channels: usize) -> Vec<f64> {
    let mut costs = vec![f64::INFINITY; n_channels];
    for o in &pool.opts {
        costs[o.channel] = o.cost;
    }
    costs
}

/// An integer whose ascending order is [`f64::total_cmp`]'s descending order (rank keys, best
/// first).
pub(crate) fn descending(x: f64) -> u64 {
    !ordered_bits(x)
}

/// Maps an f64 to a u64 with the same order ([`f64::total_cmp`]: -0 < +0, NaNs at the ends).
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Customers per parallel chunk; fixed so that float sums do not depend on thread scheduling.
const CHUNK: usize = 4096;

/// Budget and channel demand at `prices`, ignoring all limits: every customer whose best priced
/// value is positive takes that option. Returns (total cost, count per channel).
fn demand(pool: &Pool, prices: &Prices) -> (f64, Vec<usize>) {
    let k = prices.mu.len();
    let n = pool.len();
    let parts: Vec<(f64, Vec<usize>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut cost = 0.0;
            let mut counts = vec![0usize; k];
            for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(n) {
                let mut best: Option<(&ContactOption, f64)> = None;
                for o in pool.options(i) {
                    let v = prices.value(o);
                    if v > 0.0 && best.is_none_or(|(_, b)| v > b) {
                        best = Some((o, v));
                    }
                }
                if let Some((o, _)) = best {
                    cost += o.cost;
                    counts[o.channel] += 1;
                }
            }
            (cost, counts)
        })
        .collect();
    let mut cost = 0.0;
    let mut counts = vec![0usize; k];
    for (c, cs) in parts {
        cost += c;
        for (a, b) in counts.iter_mut().zip(cs) {
            *a += b;
        }
    }
    (cost, counts)
}

const BISECTIONS: usize = 24;

/// Smallest λ (to bisection precision) at which the budget demand fits, other prices fixed.
fn fit_lambda(pool: &Pool, limits: &Limits, prices: &mut Prices) {
    let hi0 = pool
        .opts
        .iter()
        .filter(|o| o.cost > 0.0)
        .map(|o| (o.key - prices.mu[o.channel]) / o.cost)
        .fold(0.0_f64, f64::max);
    let (mut lo, mut hi) = (0.0_f64, hi0 * 1.0001 + 1e-12);
    for _ in 0..BISECTIONS {
        prices.lambda = 0.5 * (lo + hi);
        if demand(pool, prices).0 > limits.budget {
            lo = prices.lambda;
        } else {
            hi = prices.lambda;
        }
    }
    prices.lambda = hi;
}

/// Smallest μ_c at which channel c's demand fits its capacity, other prices fixed.
fn fit_mu(pool: &Pool, limits: &Limits, prices: &mut Prices, c: usize) {
    let hi0 = pool
        .opts
        .iter()
        .filter(|o| o.channel == c)
        .map(|o| o.key - prices.lambda * o.cost)
        .fold(0.0_f64, f64::max);
    let (mut lo, mut hi) = (0.0_f64, hi0 * 1.0001 + 1e-12);
    for _ in 0..BISECTIONS {
        prices.mu[c] = 0.5 * (lo + hi);
        if demand(pool, prices).1[c] > limits.capacity[c] {
            lo = prices.mu[c];
        } else {
            hi = prices.mu[c];
        }
    }
    prices.mu[c] = hi;
}

/// Best greedy over the prices tried (see the module note).
pub(crate) fn allocate(pool: &Pool, limits: &Limits) -> Allocation {
    let k = limits.capacity.len();
    let zero = Prices::zero(k);
    let mut candidates = vec![zero.clone()];
    let one_cost_level = pool.opts.windows(2).all(|w| w[0].cost == w[1].cost);
    let (cost0, counts0) = demand(pool, &zero);
    // With one cost level budget pricing cannot change the order, and without pressure λ = 0 is exact.
    let price_budget = !one_cost_level && cost0 > limits.budget;
    let mut prices = zero.clone();
    if price_budget {
        fit_lambda(pool, limits, &mut prices);
        for m in [1.0, 0.9, 0.97, 1.03, 1.1] {
            candidates.push(Prices {
                lambda: prices.lambda * m,
                mu: zero.mu.clone(),
            });
        }
    }
    // Capacity prices only matter with a second channel to fall back to, and only for channels
    // still over capacity once the budget is priced.
    let counts = if price_budget {
        demand(pool, &prices).1
    } else {
        counts0
    };
    let capped: Vec<usize> = (0..k).filter(|&c| counts[c] > limits.capacity[c]).collect();
    if k > 1 && !capped.is_empty() {
        for _sweep in 0..2 {
            for &c in &capped {
                fit_mu(pool, limits, &mut prices, c);
            }
            if price_budget {
                fit_lambda(pool, limits, &mut prices);
            }
        }
        for m in [1.0, 0.8, 1.25] {
            let mut p = prices.clone();
            p.mu.iter_mut().for_each(|x| *x *= m);
            candidates.push(p);
        }
    }
    let runs: Vec<Allocation> = candidates
        .par_iter()
        .map(|p| greedy(pool, limits, p))
        .collect();
    let mut best: Option<Allocation> = None;
    for run in runs {
        let better = match &best {
            None => true,
            Some(b) => run.total_key > b.total_key + 1e-12 * b.total_key.abs().max(1.0),
        };
        if better {
            best = Some(run);
        }
    }
    let mut best = best.unwrap_or(Allocation {
        choice: vec![None; pool.len()],
        total_key: 0.0,
        prices: zero,
    });
    crate::select::improve::improve(pool, limits, &mut best);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(channel: usize, cost: f64, profit: f64) -> ContactOption {
        ContactOption {
            channel,
            cost,
            score: 0.0,
            expected_value: profit + cost,
            profit,
            key: profit,
        }
    }

    fn pool(customers: Vec<Vec<ContactOption>>) -> Pool {
        let mut start = vec![0];
        let mut opts = Vec::new();
        for mut c in customers {
            c.sort_by(|a, b| b.key.total_cmp(&a.key).then(a.channel.cmp(&b.channel)));
            opts.extend(c);
            start.push(opts.len());
        }
        Pool { start, opts }
    }

    #[test]
    fn plain_greedy_takes_top_and_falls_back() {
        // Capacity 1 on channel 0: customer 0 takes it, customer 1 falls back to channel 1.
        let p = pool(vec![
            vec![opt(0, 1.0, 10.0), opt(1, 1.0, 2.0)],
            vec![opt(0, 1.0, 9.0), opt(1, 1.0, 8.0)],
        ]);
        let l = Limits {
            budget: 10.0,
            capacity: vec![1, 10],
            max_audience: 10,
        };
        let a = greedy(&p, &l, &Prices::zero(l.capacity.len()));
        assert_eq!(a.choice, vec![Some(0), Some(1)]);
        assert_eq!(a.total_key, 18.0);
    }

    #[test]
    fn budget_stops_and_skips_unaffordable() {
        // Budget 3: customer 0 (cost 2, profit 10), customer 1 (cost 2, profit 9) does not fit,
        // customer 2 (cost 1, profit 1) does.
        let p = pool(vec![
            vec![opt(0, 2.0, 10.0)],
            vec![opt(0, 2.0, 9.0)],
            vec![opt(1, 1.0, 1.0)],
        ]);
        let l = Limits {
            budget: 3.0,
            capacity: vec![usize::MAX; 2],
            max_audience: 10,
        };
        let a = greedy(&p, &l, &Prices::zero(l.capacity.len()));
        assert_eq!(a.choice, vec![Some(0), None, Some(0)]);
    }

    #[test]
    fn pricing_beats_plain_greedy_when_expensive_channel_is_barely_better() {
        // 10 customers, each: cheap channel cost 1 profit 5, dear channel cost 5 profit 5.5.
        // Budget 10: plain greedy buys two dear contacts (11); pricing buys ten cheap ones (50).
        let p = pool(
            (0..10)
                .map(|_| vec![opt(0, 1.0, 5.0), opt(1, 5.0, 5.5)])
                .collect(),
        );
        let l = Limits {
            budget: 10.0,
            capacity: vec![usize::MAX; 2],
            max_audience: usize::MAX,
        };
        assert_eq!(
            greedy(&p, &l, &Prices::zero(l.capacity.len())).total_key,
            11.0
        );
        let a = allocate(&p, &l);
        assert_eq!(a.total_key, 50.0);
        assert!(a.prices.lambda > 0.0);
    }

    #[test]
    fn descending_keys_sort_as_total_cmp_reversed() {
        let xs = [
            f64::NEG_INFINITY,
            -3.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            1e-300,
            2.0,
            2.000_000_000_000_001,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(
                    descending(a).cmp(&descending(b)),
                    b.total_cmp(&a),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn ordered_bits_preserve_order() {
        let xs = [
            f64::NEG_INFINITY,
            -3.5,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            2.0,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(ordered_bits(w[0]) < ordered_bits(w[1]), "{} {}", w[0], w[1]);
        }
    }

    #[test]
    fn capacity_pricing_moves_the_customer_with_an_alternative() {
        // Channel 0 capacity 1. A: ch0 10, ch1 9; B: ch0 9.5 only. Plain greedy: A on ch0, B out
        // (10). Optimum: A on ch1, B on ch0 (18.5).
        let p = pool(vec![
            vec![opt(0, 1.0, 10.0), opt(1, 1.0, 9.0)],
            vec![opt(0, 1.0, 9.5)],
        ]);
        let l = Limits {
            budget: 100.0,
            capacity: vec![1, usize::MAX],
            max_audience: usize::MAX,
        };
        assert_eq!(greedy(&p, &l, &Prices::zero(2)).total_key, 10.0);
        let a = allocate(&p, &l);
        assert_eq!(a.total_key, 18.5);
        assert_eq!(a.choice, vec![Some(1), Some(0)]);
    }

    #[test]
    fn max_audience_stops() {
        let p = pool((0..5).map(|i| vec![opt(0, 1.0, 10.0 - i as f64)]).collect());
        let l = Limits {
            budget: 100.0,
            capacity: vec![usize::MAX],
            max_audience: 2,
        };
        let a = allocate(&p, &l);
        assert_eq!(a.choice, vec![Some(0), Some(0), None, None, None]);
    }
}
