//! Planner-readable text rendering of a [`Summary`].

use std::fmt::Write;

use crate::select::{ExclusionReason, Summary};

/// Multi-line summary for the terminal: spend, counts, expected results, exclusions and a
/// coarse profit curve (every 10 % plus the cut-off).
pub fn render_summary(s: &Summary) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail, so the fmt::Result values are ignored.
    let _ = writeln!(
        out,
        "Campaign {} (objective {}, seed {})",
        s.campaign,
        s.objective.as_str(),
        s.seed
    );
    let used = if s.budget > 0.0 {
        100.0 * s.spent / s.budget
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "  budget        {:>14.2}   spent {:.2} ({used:.1}%)",
        s.budget, s.spent
    );
    let _ = writeln!(
        out,
        "  audience      {:>14}   target {} / control {} ({:.1}% control, asked {:.1}%)",
        s.audience_size,
        s.target_size,
        s.control_size,
        if s.audience_size > 0 {
            100.0 * s.control_size as f64 / s.audience_size as f64
        } else {
            0.0
        },
        100.0 * s.control_fraction
    );
    let _ = writeln!(out, "  candidates    {:>14}", s.candidates);
    let _ = writeln!(
        out,
        "  {:<12} {:>10} {:>10} {:>14}",
        "channel", "target", "control", "target cost"
    );
    for c in &s.channels {
        let _ = writeln!(
            out,
            "  {:<12} {:>10} {:>10} {:>14.2}",
            c.channel, c.target, c.control, c.target_cost
        );
    }
    let _ = writeln!(out, "  expected responders {:>14.1}", s.expected_responders);
    let _ = writeln!(out, "  expected revenue    {:>14.2}", s.expected_revenue);
    let _ = writeln!(out, "  expected profit     {:>14.2}", s.expected_profit);
    match s.roi {
        Some(r) => {
            let _ = writeln!(out, "  ROI                 {:>13.1}%", 100.0 * r);
        }
        None => {
            let _ = writeln!(out, "  ROI                 {:>14}", "n/a (no spend)");
        }
    }
    let _ = writeln!(out, "  exclusions:");
    for r in ExclusionReason::ALL {
        let _ = writeln!(out, "    {:<14} {:>10}", r.as_str(), s.exclusions.get(r));
    }
    if !s.profit_curve.is_empty() {
        let _ = writeln!(out, "  profit curve (best channel, no limits):");
        let _ = writeln!(
            out,
            "    {:>7} {:>10} {:>14} {:>16}",
            "depth%", "customers", "cum. cost", "cum. profit"
        );
        let mut last_decile = 0;
        for p in &s.profit_curve {
            let pct = (p.fraction * 100.0).round() as usize;
            let show = p.cutoff || (pct % 10 == 0 && pct > last_decile);
            if pct % 10 == 0 {
                last_decile = last_decile.max(pct);
            }
            if show {
                let _ = writeln!(
                    out,
                    "    {:>6.1}% {:>10} {:>14.2} {:>16.2}{}",
                    100.0 * p.fraction,
                    p.depth,
                    p.cumulative_cost,
                    p.cumulative_expected_profit,
                    if p.cutoff { "  <- cut-off" } else { "" }
                );
            }
        }
    }
    out
}
