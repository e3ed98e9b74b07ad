//! The campaign readout: target against control, from the ledger's rows and responses, as pure
//! functions (no I/O: `run::ledger` reads the ledger, `cmd::readout` prints).
//!
//! Every figure comes with a 95% interval: the incremental response rate by Newcombe's hybrid
//! score interval, the incremental revenue per customer by Welch's interval; the totals
//! (responders, revenue, profit, ROI) are those intervals scaled by the target's size and
//! shifted by the known contact cost. The split is checked against the planned control share
//! (chi-square; flagged below p = 0.001), and the same comparison is made per score decile and
//! per segment.

pub mod dist;
pub mod stats;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::ledger::LedgerGroup;
pub use stats::{Interval, SampleRatio};

/// The confidence of every interval of the readout.
pub const CONFIDENCE: f64 = 0.95;

/// One selected customer and what they did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadoutRow {
    pub group: LedgerGroup,
    pub score: Option<f64>,
    pub segment: Option<String>,
    /// The contact's cost (0 when held out).
    pub cost: f64,
    pub responded: bool,
    /// Revenue of the responses (0 without).
    pub value: f64,
}

/// The campaign as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub campaign: String,
    pub send_date: NaiveDate,
    pub response_window_days: u32,
    pub control_fraction: f64,
}

/// One arm's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    pub customers: u64,
    pub responders: u64,
    pub response_rate: Option<f64>,
    pub revenue: f64,
    pub revenue_per_customer: Option<f64>,
}

/// Treated (`target`) against held out (`control`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub target: Arm,
    pub control: Arm,
    /// Target rate − control rate (Newcombe).
    pub incremental_response_rate: Option<Interval>,
    /// Pooled two-proportion z-test.
    pub response_p_value: Option<f64>,
    /// Target − control revenue per customer (Welch).
    pub incremental_revenue_per_customer: Option<Interval>,
    /// Welch's t-test.
    pub revenue_p_value: Option<f64>,
    /// The rate's interval × target customers.
    pub incremental_responders: Option<Interval>,
    /// The revenue per customer's interval × target customers.
    pub incremental_revenue: Option<Interval>,
    /// What contacting the target cost.
    pub contact_cost: f64,
    /// Incremental revenue − contact cost.
    pub incremental_profit: Option<Interval>,
    /// Incremental profit / contact cost (None without cost).
    pub roi: Option<Interval>,
}

/// A comparison within one decile or segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slice {
    pub label: String,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// Everything `bullseye readout` reports about one campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readout {
    pub campaign: String,
    pub send_date: String,
    /// What the target is compared with: `control` or `global_control`.
    pub baseline: &'static str,
    pub response_window_days: u32,
    /// The last day a response counts.
    pub window_closes: String,
    pub as_of: String,
    /// The as-of date is before the window closes: responses are still coming in.
    pub window_open: bool,
    pub confidence: f64,
    pub overall: Comparison,
    pub sample_ratio: Option<SampleRatio>,
    /// Deciles of the score (1 = highest), target and control ranked together.
    pub by_decile: Vec<Slice>,
    pub by_segment: Vec<Slice>,
}

fn arm(rows: &[&ReadoutRow]) -> Arm {
    let customers = rows.len() as u64;
    let responders = rows.iter().filter(|r| r.responded).count() as u64;
    let revenue: f64 = rows.iter().map(|r| r.value).sum();
    let per = |x: f64| (customers > 0).then(|| x / customers as f64);
    Arm {
        customers,
        responders,
        response_rate: per(responders as f64),
        revenue,
        revenue_per_customer: per(revenue),
    }
}

/// `treated` against `held_out` among `rows`.
pub fn compare_groups(
    rows: &[&ReadoutRow],
    treated: LedgerGroup,
    held_out: LedgerGroup,
) -> Comparison {
    let t: Vec<&ReadoutRow> = rows
        .iter()
        .copied()
        .filter(|r| r.group == treated)
        .collect();
    let c: Vec<&ReadoutRow> = rows
        .iter()
        .copied()
        .filter(|r| r.group == held_out)
        .collect();
    let (at, ac) = (arm(&t), arm(&c));
    let rate = stats::newcombe(
        at.responders,
        at.customers,
        ac.responders,
        ac.customers,
        CONFIDENCE,
    );
    let values = |rs: &[&ReadoutRow]| rs.iter().map(|r| r.value).collect::<Vec<_>>();
    let welch = stats::welch(
        stats::Moments::of(&values(&t)),
        stats::Moments::of(&values(&c)),
        CONFIDENCE,
    );
    let n = at.customers as f64;
    let cost: f64 = t.iter().map(|r| r.cost).sum();
    let revenue = welch.map(|(i, _)| i.scale(n));
    let profit = revenue.map(|i| i.shift(-cost));
    Comparison {
        response_p_value: stats::proportions_p_value(
            at.responders,
            at.customers,
            ac.responders,
            ac.customers,
        ),
        incremental_response_rate: rate,
        incremental_responders: rate.map(|i| i.scale(n)),
        incremental_revenue_per_customer: welch.map(|(i, _)| i),
        revenue_p_value: welch.map(|(_, p)| p),
        incremental_revenue: revenue,
        contact_cost: cost,
        incremental_profit: profit,
        roi: profit.filter(|_| cost > 0.0).map(|i| i.scale(1.0 / cost)),
        target: at,
        control: ac,
    }
}

/// The readout of `send` from its rows, as of `as_of`: the target against `held_out` (the
/// campaign's control, or the global control group).
pub fn readout(
    send: &Send,
    rows: &[ReadoutRow],
    as_of: NaiveDate,
    held_out: LedgerGroup,
) -> Readout {
    let all: Vec<&ReadoutRow> = rows.iter().collect();
    let compare = |rs: &[&ReadoutRow]| compare_groups(rs, LedgerGroup::Target, held_out);
    let overall = compare(&all[..]);
    let closes = send.send_date + chrono::Days::new(u64::from(send.response_window_days));
    let scored: Vec<&ReadoutRow> = all.iter().copied().filter(|r| r.score.is_some()).collect();
    let ranks = stats::deciles(
        &scored
            .iter()
            .map(|r| r.score.unwrap_or(f64::NEG_INFINITY))
            .collect::<Vec<_>>(),
    );
    let mut deciles: BTreeMap<u8, Vec<&ReadoutRow>> = BTreeMap::new();
    for (r, d) in scored.iter().copied().zip(ranks) {
        deciles.entry(d).or_default().push(r);
    }
    let mut segments: BTreeMap<String, Vec<&ReadoutRow>> = BTreeMap::new();
    for r in all.iter().copied() {
        if let Some(s) = &r.segment {
            segments.entry(s.clone()).or_default().push(r);
        }
    }
    let slices = |groups: Vec<(String, Vec<&ReadoutRow>)>| {
        groups
            .into_iter()
            .map(|(label, rs)| Slice {
                label,
                comparison: compare(&rs[..]),
            })
            .collect()
    };
    Readout {
        campaign: send.campaign.clone(),
        send_date: send.send_date.to_string(),
        baseline: held_out.as_str(),
        response_window_days: send.response_window_days,
        window_closes: closes.to_string(),
        as_of: as_of.to_string(),
        window_open: as_of < closes,
        confidence: CONFIDENCE,
        // The planned split is the campaign's own; the global group's share is of all customers.
        sample_ratio: (held_out == LedgerGroup::Control)
            .then(|| {
                stats::sample_ratio(
                    overall.target.customers,
                    overall.control.customers,
                    send.control_fraction,
                )
            })
            .flatten(),
        overall,
        by_decile: slices(
            deciles
                .into_iter()
                .map(|(d, rs)| (d.to_string(), rs))
                .collect(),
        ),
        by_segment: slices(segments.into_iter().collect()),
    }
}

fn fmt_interval(i: Option<Interval>, digits: usize) -> String {
    match i {
        Some(i) => format!(
            "{:+.d$} [{:+.d$}, {:+.d$}]",
            i.estimate,
            i.low,
            i.high,
            d = digits
        ),
        None => "n/a".into(),
    }
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

fn render_slice(out: &mut String, title: &str, slices: &[Slice]) {
    if slices.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\nby {title}:\n  {:<12} {:>8} {:>8} {:>9} {:>9}  incremental rate [95% CI]\n",
        title, "target", "control", "t rate", "c rate"
    ));
    for s in slices {
        let c = &s.comparison;
        out.push_str(&format!(
            "  {:<12} {:>8} {:>8} {:>9} {:>9}  {}\n",
            s.label,
            c.target.customers,
            c.control.customers,
            fmt_opt(c.target.response_rate, 4),
            fmt_opt(c.control.response_rate, 4),
            fmt_interval(c.incremental_response_rate, 4)
        ));
    }
}

/// The readout for a terminal.
pub fn render(r: &Readout) -> String {
    let mut out = format!(
        "readout of `{}` sent {} (window {} days, closes {}), as of {}; target against {}\n",
        r.campaign, r.send_date, r.response_window_days, r.window_closes, r.as_of, r.baseline
    );
    if r.window_open {
        out.push_str(&format!(
            "warning: the response window is still open until {}: responses are still coming in\n",
            r.window_closes
        ));
    }
    let o = &r.overall;
    out.push_str(&format!(
        "\n  {:<8} {:>9} {:>10} {:>9} {:>12}\n",
        "group", "customers", "responders", "rate", "revenue/cust"
    ));
    for (name, a) in [("target", &o.target), (r.baseline, &o.control)] {
        out.push_str(&format!(
            "  {:<8} {:>9} {:>10} {:>9} {:>12}\n",
            name,
            a.customers,
            a.responders,
            fmt_opt(a.response_rate, 6),
            fmt_opt(a.revenue_per_customer, 6)
        ));
    }
    let lines = [
        (
            "incremental response rate",
            fmt_interval(o.incremental_response_rate, 6),
        ),
        ("  p-value", fmt_opt(o.response_p_value, 6)),
        (
            "incremental revenue per customer",
            fmt_interval(o.incremental_revenue_per_customer, 6),
        ),
        ("  p-value", fmt_opt(o.revenue_p_value, 6)),
        (
            "incremental responders",
            fmt_interval(o.incremental_responders, 1),
        ),
        (
            "incremental revenue",
            fmt_interval(o.incremental_revenue, 2),
        ),
        ("contact cost", format!("{:.2}", o.contact_cost)),
        ("incremental profit", fmt_interval(o.incremental_profit, 2)),
        ("ROI", fmt_interval(o.roi, 4)),
    ];
    out.push_str("\n95% confidence intervals:\n");
    for (k, v) in lines {
        out.push_str(&format!("  {k:<34} {v}\n"));
    }
    if let Some(s) = &r.sample_ratio {
        out.push_str(&format!(
            "\nsample ratio: control {:.4} observed vs {:.4} planned (chi-square {:.3}, p {:.4}){}\n",
            s.observed_control_share,
            s.planned_control_share,
            s.chi_square,
            s.p_value,
            if s.mismatch {
                ": MISMATCH, the split is not the one planned; do not trust this readout"
            } else {
                ""
            }
        ));
    }
    render_slice(&mut out, "decile", &r.by_decile);
    render_slice(&mut out, "segment", &r.by_segment);
    out
}

#[cfg(test)]
mod tests;
