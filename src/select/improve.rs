//! Exchange moves after the priced greedy, for small pools where a channel capacity binds.
//!
//! Shadow prices leave about one misplaced customer per binding limit, which is noise in a
//! large audience but several percent of a small one (a capacity of 3 on a channel). So for
//! pools up to [`MAX_POOL`] customers we apply, best gain first, the moves that keep every limit:
//! *replace* (an unselected customer takes a full channel's slot from a selected one with a
//! lower key), *shift-insert* (a selected customer moves from a full channel to one with room,
//! and an unselected one takes the freed slot) and *upgrade* (a selected customer moves to a
//! channel with room and a higher key, budget permitting). Every move strictly raises the total
//! key, so the loop ends; ties go to the lowest customer index, so it is deterministic.

use crate::select::allocate::{Allocation, Limits, Pool};
use crate::select::limits::Usage;

/// Largest pool the exchange pass runs on (its cost is pool × channels² per move).
pub(crate) const MAX_POOL: usize = 5000;

#[derive(Clone, Copy)]
enum Move {
    /// Unselected `j` takes option `oj`; selected `i` leaves.
    Replace { j: usize, oj: usize, i: usize },
    /// Selected `i` moves to option `oi`; unselected `j` takes option `oj`.
    ShiftInsert {
        j: usize,
        oj: usize,
        i: usize,
        oi: usize,
    },
    /// Selected `i` moves to option `oi`.
    Upgrade { i: usize, oi: usize },
}

/// Improves `alloc` in place (see the module note); no-op for large pools or one channel.
pub(crate) fn improve(pool: &Pool, limits: &Limits, alloc: &mut Allocation) {
    let n = pool.len();
    let k = limits.capacity.len();
    if n > MAX_POOL || k < 2 {
        return;
    }
    let opt = |i: usize, o: usize| pool.options(i)[o];
    let find = |i: usize, c: usize| pool.options(i).iter().position(|o| o.channel == c);
    let mut usage = Usage::new(k);
    for (i, ch) in alloc.choice.iter().enumerate() {
        if let Some(o) = ch {
            let o = opt(i, *o);
            usage.add(o.channel, o.cost);
        }
    }
    let eps = 1e-12 * alloc.total_key.abs().max(1.0);
    for _ in 0..n * k {
        let mut best: Option<(f64, Move)> = None;
        let mut consider = |gain: f64, m: Move| {
            if gain > eps && best.is_none_or(|(g, _)| gain > g) {
                best = Some((gain, m));
            }
        };
        for c in (0..k).filter(|&c| !usage.has_room(limits, c)) {
            // Best outsider for channel c.
            let Some((j, oj)) = (0..n)
                .filter(|&j| alloc.choice[j].is_none())
                .filter_map(|j| find(j, c).map(|o| (j, o)))
                .fold(None, |b: Option<(usize, usize)>, (j, o)| match b {
                    Some((bj, bo)) if opt(bj, bo).key >= opt(j, o).key => b,
                    _ => Some((j, o)),
                })
            else {
                continue;
            };
            let kj = opt(j, oj).key;
            for i in 0..n {
                let Some(oi_cur) = alloc.choice[i] else {
                    continue;
                };
                let cur = opt(i, oi_cur);
                if cur.channel != c {
                    continue;
                }
                consider(kj - cur.key, Move::Replace { j, oj, i });
                for (oi, o) in pool.options(i).iter().enumerate() {
                    // i moves to o's channel and j takes i's slot on c: one more contact, at
                    // o's cost (j's cost on c equals i's: one cost per channel).
                    if o.channel != c && usage.fits(limits, o.channel, o.cost) {
                        consider(kj - (cur.key - o.key), Move::ShiftInsert { j, oj, i, oi });
                    }
                }
            }
        }
        for i in 0..n {
            let Some(oi_cur) = alloc.choice[i] else {
                continue;
            };
            let cur = opt(i, oi_cur);
            for (oi, o) in pool.options(i).iter().enumerate() {
                if usage.fits_switch(limits, (cur.channel, cur.cost), (o.channel, o.cost)) {
                    consider(o.key - cur.key, Move::Upgrade { i, oi });
                }
            }
        }
        let Some((gain, m)) = best else { break };
        match m {
            Move::Replace { j, oj, i } => {
                alloc.choice[i] = None;
                alloc.choice[j] = Some(oj);
            }
            Move::ShiftInsert { j, oj, i, oi } => {
                usage.add(opt(i, oi).channel, opt(i, oi).cost);
                alloc.choice[i] = Some(oi);
                alloc.choice[j] = Some(oj);
            }
            Move::Upgrade { i, oi } => {
                let cur = opt(i, alloc.choice[i].unwrap_or(oi));
                let to = opt(i, oi);
                usage.switch((cur.channel, cur.cost), (to.channel, to.cost));
                alloc.choice[i] = Some(oi);
            }
        }
        alloc.total_key += gain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::allocate::{greedy, Prices};
    use crate::select::rules::ContactOption;

    fn opt(channel: usize, cost: f64, key: f64) -> ContactOption {
        ContactOption {
            channel,
            cost,
            score: 0.0,
            expected_value: key + cost,
            profit: key,
            key,
        }
    }

    #[test]
    fn shift_insert_and_upgrade() {
        // ch0 capacity 1. A: ch0 10 / ch1 9; B: ch0 9.5. Plain greedy: A on ch0, B out (10).
        // Shift-insert: A → ch1, B → ch0 (18.5).
        let pool = Pool {
            start: vec![0, 2, 3],
            opts: vec![opt(0, 1.0, 10.0), opt(1, 1.0, 9.0), opt(0, 1.0, 9.5)],
        };
        let limits = Limits {
            budget: 10.0,
            capacity: vec![1, 5],
            max_audience: 10,
        };
        let mut a = greedy(&pool, &limits, &Prices::zero(2));
        assert_eq!(a.total_key, 10.0);
        improve(&pool, &limits, &mut a);
        assert_eq!(a.choice, vec![Some(1), Some(0)]);
        assert!((a.total_key - 18.5).abs() < 1e-12);
        // Upgrade: one customer priced onto the cheap channel while budget is left for the dear one.
        let pool = Pool {
            start: vec![0, 2],
            opts: vec![opt(1, 5.0, 6.0), opt(0, 1.0, 5.0)],
        };
        let limits = Limits {
            budget: 10.0,
            capacity: vec![5, 5],
            max_audience: 10,
        };
        let mut a = Allocation {
            choice: vec![Some(1)],
            total_key: 5.0,
            prices: Prices::zero(2),
        };
        improve(&pool, &limits, &mut a);
        assert_eq!(a.choice, vec![Some(0)]);
        assert_eq!(a.total_key, 6.0);
    }
}
