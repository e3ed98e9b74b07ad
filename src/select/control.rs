//! Control group: a seeded, stratified hold-out from the customers the greedy chose.
//!
//! How the control is formed, so that the target group still spends the budget:
//! 1. the greedy runs with every contact limit inflated by `1/(1 − f)` (budget, per-channel
//!    capacities and `max_audience`, rounded down), giving the chosen set S in rank order;
//! 2. S is split into strata = (decile of rank within S, channel); each stratum holds out
//!    `round(f·cum_end) − round(f·cum_start)` customers, the cumulative rounding running over the
//!    strata in (decile, channel) order, so the overall control count is `round(f·|S|)` and every
//!    decile and every stratum is within one customer of `f` times its size;
//! 3. because costs are per channel, the target cost and per-channel target counts follow from
//!    those counts alone; while they break a real limit, the lowest-ranked member of S on an
//!    over-capacity channel (else the lowest-ranked with a positive cost for the budget, else the
//!    lowest-ranked for `max_audience`) leaves S (reason `over_budget`) and the counts are redone;
//! 4. only then the seed picks *which* members of each stratum are control (uniform sample).
//!
//! Hence the seed changes only the target/control split within strata: S, every customer's
//! channel and rank, the per-stratum, per-channel and overall group counts, and the target
//! cost are seed-invariant.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use crate::select::allocate::Limits;
use crate::select::limits::{Breach, Usage};

/// Number of rank strata.
pub(crate) const DECILES: usize = 10;

/// Decile of position `pos` (0-based, rank order) in a list of `len`.
pub(crate) fn decile(pos: usize, len: usize) -> usize {
    pos * DECILES / len.max(1)
}

fn round_half_up(x: f64) -> usize {
    (x + 0.5).floor().max(0.0) as usize
}

/// Control count per stratum `decile * n_channels + channel`, by cumulative rounding.
fn control_counts(channels: &[usize], n_channels: usize, f: f64) -> (Vec<usize>, Vec<usize>) {
    let len = channels.len();
    let mut size = vec![0usize; DECILES * n_channels];
    for (pos, &c) in channels.iter().enumerate() {
        size[decile(pos, len) * n_channels + c] += 1;
    }
    let mut ctrl = vec![0usize; size.len()];
    let mut cum = 0usize;
    for (s, &n) in size.iter().enumerate() {
        ctrl[s] = round_half_up(f * (cum + n) as f64) - round_half_up(f * cum as f64);
        cum += n;
    }
    (size, ctrl)
}

/// Steps 2–3: drops members from the end of the rank order until the target group fits the
/// real limits. `channels[pos]` is the channel of the customer at rank `pos`. Returns the kept
/// positions in rank order (the removed ones are the complement).
pub(crate) fn fit_target(channels: &[usize], costs: &[f64], f: f64, limits: &Limits) -> Vec<usize> {
    let n_channels = costs.len();
    let mut kept: Vec<usize> = (0..channels.len()).collect();
    loop {
        let ch: Vec<usize> = kept.iter().map(|&p| channels[p]).collect();
        let (size, ctrl) = control_counts(&ch, n_channels, f);
        let mut target = vec![0usize; n_channels];
        for s in 0..size.len() {
            target[s % n_channels] += size[s] - ctrl[s];
        }
        let usage = Usage {
            spent: (0..n_channels).map(|c| target[c] as f64 * costs[c]).sum(),
            taken: target.iter().sum(),
            per_channel: target,
        };
        let remove = match usage.breach(limits) {
            Some(Breach::Capacity(c)) => kept.iter().rposition(|&p| channels[p] == c),
            Some(Breach::Budget) => kept.iter().rposition(|&p| costs[channels[p]] > 0.0),
            Some(Breach::Audience) => kept.len().checked_sub(1),
            None => return kept,
        };
        match remove {
            Some(i) => {
                kept.remove(i);
            }
            None => return kept,
        }
    }
}

/// Step 4: which positions (rank order, after [`fit_target`]) are control.
pub(crate) fn assign_control(
    channels: &[usize],
    n_channels: usize,
    f: f64,
    seed: u64,
) -> Vec<bool> {
    let len = channels.len();
    let (_, ctrl) = control_counts(channels, n_channels, f);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); ctrl.len()];
    for (pos, &c) in channels.iter().enumerate() {
        members[decile(pos, len) * n_channels + c].push(pos);
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut is_control = vec![false; len];
    for (s, m) in members.iter().enumerate() {
        if ctrl[s] == 0 {
            continue;
        }
        for k in rand::seq::index::sample(&mut rng, m.len(), ctrl[s]).iter() {
            is_control[m[k]] = true;
        }
    }
    is_control
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_rounding_hits_overall_and_per_decile() {
        let channels: Vec<usize> = (0..1000).map(|i| i % 3).collect();
        let (size, ctrl) = control_counts(&channels, 3, 0.1);
        assert_eq!(ctrl.iter().sum::<usize>(), 100);
        for d in 0..DECILES {
            let n: usize = size[d * 3..d * 3 + 3].iter().sum();
            let c: usize = ctrl[d * 3..d * 3 + 3].iter().sum();
            assert_eq!(n, 100);
            assert_eq!(c, 10);
        }
        // every stratum within one of f × size
        for s in 0..size.len() {
            assert!((ctrl[s] as f64 - 0.1 * size[s] as f64).abs() < 1.0);
        }
    }

    #[test]
    fn fit_target_drops_lowest_ranked() {
        // 12 customers at cost 1, f = 0.25: control 3, target 9; budget 8 → drop one or two.
        let channels = vec![0usize; 12];
        let limits = Limits {
            budget: 8.0,
            capacity: vec![usize::MAX],
            max_audience: usize::MAX,
        };
        let kept = fit_target(&channels, &[1.0], 0.25, &limits);
        // 11 kept → control round(2.75) = 3, target 8 ≤ 8.
        assert_eq!(kept, (0..11).collect::<Vec<_>>());
    }

    #[test]
    fn seeds_change_only_membership() {
        let channels: Vec<usize> = (0..500).map(|i| i % 2).collect();
        let a = assign_control(&channels, 2, 0.2, 1);
        let b = assign_control(&channels, 2, 0.2, 2);
        assert_ne!(a, b);
        assert_eq!(a.iter().filter(|&&x| x).count(), 100);
        assert_eq!(b.iter().filter(|&&x| x).count(), 100);
        assert_eq!(a, assign_control(&channels, 2, 0.2, 1));
    }
}
