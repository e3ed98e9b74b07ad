//! Plain-text rendering of a [`SegmentReport`] for the terminal.

use std::fmt::Write;

use crate::segment::pipeline::SegmentReport;
use crate::segment::profile::GroupSummary;
use crate::segment::whale::ProfitSummary;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn groups(out: &mut String, title: &str, rows: &[GroupSummary]) {
    let width = rows.iter().map(|g| g.name.len()).max().unwrap_or(0).max(8);
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<width$}  {:>10}  {:>8}  {:>8}",
        "group", "customers", "share", "revenue"
    );
    for g in rows {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>10}  {:>8}  {:>8}",
            g.name,
            g.customers,
            pct(g.customer_share),
            pct(g.revenue_share)
        );
    }
}

/// The whale curve's figures and the profit tiers.
fn profit(out: &mut String, p: &ProfitSummary) {
    let share = |s: Option<f64>| s.map_or("n/a".to_string(), pct);
    let _ = writeln!(
        out,
        "\nProfit (whale curve)\n  total net profit {:.2}; peak {:.2} ({} of the total) at the top {} of customers\n  {} customers ({}) lose money: {:.2}",
        p.total_profit,
        p.peak.cumulative_profit,
        share(p.peak.profit_share),
        pct(p.peak.customers_pct / 100.0),
        p.losing_customers,
        pct(p.losing_share),
        p.loss
    );
    for r in &p.reasons {
        let _ = writeln!(
            out,
            "    {}: {} customers, {:.2}",
            r.reason, r.customers, r.loss
        );
    }
    let _ = writeln!(
        out,
        "  {:<12}  {:>10}  {:>8}  {:>12}",
        "profit tier", "customers", "share", "profit"
    );
    for t in &p.tiers {
        let _ = writeln!(
            out,
            "  {:<12}  {:>10}  {:>8}  {:>12.2}",
            t.name,
            t.customers,
            pct(t.customer_share),
            t.profit
        );
    }
}

/// Human-readable tables: Pareto, segments, tiers, loyalty grid, k choice and clusters.
pub fn render_report(r: &SegmentReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Customers: {}   revenue (positive totals): {:.2}",
        r.customers, r.total_revenue
    );
    let _ = writeln!(out, "\nRevenue concentration");
    for row in &r.pareto {
        let _ = writeln!(
            out,
            "  top {:>4}% ({:>9} customers): {:>6} of revenue",
            row.top_customers_pct,
            row.customers,
            pct(row.revenue_share)
        );
    }
    groups(&mut out, "RFM segments", &r.segments);
    if !r.scheme.uncovered.is_empty() || !r.scheme.shadowed.is_empty() {
        let _ = writeln!(
            out,
            "  scheme warnings: uncovered cells {:?}; rules that never match {:?}",
            r.scheme.uncovered, r.scheme.shadowed
        );
    }
    groups(&mut out, "Value tiers", &r.tiers);
    groups(
        &mut out,
        &format!(
            "Loyalty grid (heavy = spend above {:.2})",
            r.loyalty_spend_split
        ),
        &r.loyalty,
    );
    if let Some(p) = &r.profit {
        profit(&mut out, p);
    }
    if !r.k_scores.is_empty() {
        let _ = writeln!(out, "\nChoice of k (sampled silhouette)");
        for s in &r.k_scores {
            let sil = s
                .silhouette
                .map_or("n/a".to_string(), |v| format!("{v:.4}"));
            let _ = writeln!(
                out,
                "  k = {:>2}: silhouette {sil}, inertia {:.4e}",
                s.k, s.inertia
            );
        }
    }
    if !r.clusters.is_empty() {
        let _ = writeln!(out, "\nClusters (feature means in original units)");
        for c in &r.clusters {
            let means: Vec<String> = c
                .means
                .iter()
                .map(|(name, m)| format!("{name}={m:.2}"))
                .collect();
            let _ = writeln!(
                out,
                "  #{:<2} {:>9} customers ({:>6}), revenue {:>6}: {}",
                c.cluster,
                c.customers,
                pct(c.customer_share),
                pct(c.revenue_share),
                means.join(", ")
            );
        }
    }
    out
}
