//! Profit curve by audience depth.

use crate::select::rules::ContactOption;
use crate::select::CurvePoint;

/// Points at every 1 % of `ranked` (candidates that passed the rules, each on its best channel
/// ignoring limits and the profit floor, best first) and at depth `cutoff`, in depth order.
/// Depth `k` at percent `p` is `ceil(p·N/100)`; duplicates (small N) are merged.
pub(crate) fn profit_curve(ranked: &[ContactOption], cutoff: usize) -> Vec<CurvePoint> {
    let n = ranked.len();
    if n == 0 {
        return Vec::new();
    }
    let cutoff = cutoff.min(n);
    let mut depths: Vec<usize> = (1..=100).map(|p| (p * n).div_ceil(100)).collect();
    depths.push(cutoff);
    depths.sort_unstable();
    depths.dedup();
    let mut points = Vec::with_capacity(depths.len());
    let (mut cost, mut profit, mut taken) = (0.0, 0.0, 0usize);
    for d in depths {
        for o in &ranked[taken..d] {
            cost += o.cost;
            profit += o.profit;
        }
        taken = d;
        points.push(CurvePoint {
            depth: d,
            fraction: d as f64 / n as f64,
            cumulative_cost: cost,
            cumulative_expected_profit: profit,
            cutoff: d == cutoff,
        });
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(profit: f64) -> ContactOption {
        ContactOption {
            channel: 0,
            cost: 1.0,
            score: 0.0,
            expected_value: profit + 1.0,
            profit,
            key: profit,
        }
    }

    #[test]
    fn small_list_points() {
        let ranked = vec![o(5.0), o(3.0), o(-1.0)];
        let c = profit_curve(&ranked, 2);
        assert_eq!(c.iter().map(|p| p.depth).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(c[1].cumulative_expected_profit, 8.0);
        assert!(c[1].cutoff && !c[0].cutoff && !c[2].cutoff);
        assert_eq!(c[2].cumulative_cost, 3.0);
        assert_eq!(c[2].cumulative_expected_profit, 7.0);
    }

    #[test]
    fn hundred_points_for_large_lists() {
        let ranked: Vec<_> = (0..1000).map(|i| o(1000.0 - i as f64)).collect();
        let c = profit_curve(&ranked, 1000);
        assert_eq!(c.len(), 100);
        assert_eq!(c[0].depth, 10);
        assert!(c[99].cutoff);
        assert!((c[9].fraction - 0.10).abs() < 1e-12);
    }
}
