//! The "Profit" section: the whale curve (cumulative net profit against customers ranked from
//! most to least profitable) with the total's line and the peak marked, the profit tiers and
//! why the unprofitable customers lose money. Present when the features had the `profit`
//! family (a job's `[profit]`); no customer id is shown (they are in `unprofitable.csv`).

use serde::{Deserialize, Serialize};

use super::format::{int, money, pct};
use crate::segment::ProfitSummary;

/// The segmentation's profit summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitSection {
    pub summary: ProfitSummary,
}

/// The whale curve: cumulative profit (y) at each percent of customers (x), a dashed line at
/// the total (100 %), a dot and its label at the peak.
pub fn whale_svg(s: &ProfitSummary) -> String {
    let (left, top, width, height) = (70.0, 20.0, 560.0, 260.0);
    let (w, h) = (left + width + 30.0, top + height + 40.0);
    let hi = s
        .curve
        .iter()
        .map(|p| p.cumulative_profit)
        .fold(s.total_profit.max(0.0), f64::max);
    let lo = s
        .curve
        .iter()
        .map(|p| p.cumulative_profit)
        .fold(s.total_profit.min(0.0), f64::min);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x = |pct: f64| left + width * pct / 100.0;
    let y = |v: f64| top + height * (hi - v) / span;
    let points: Vec<String> = s
        .curve
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.customers_pct), y(p.cumulative_profit)))
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    // Axes: x at zero profit, y at the left.
    out.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>\n<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#888\"/>\n",
        y(0.0),
        left + width,
        y(0.0),
        top + height
    ));
    for pct in [0.0, 25.0, 50.0, 75.0, 100.0] {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{pct:.0}%</text>\n",
            x(pct),
            top + height + 16.0
        ));
    }
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">customers, most profitable first</text>\n",
        left + width / 2.0,
        top + height + 34.0
    ));
    let total = y(s.total_profit);
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">0</text>\n<line x1=\"{left}\" y1=\"{total:.1}\" x2=\"{:.1}\" y2=\"{total:.1}\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">total = 100% ({})</text>\n",
        left - 4.0,
        y(0.0) + 4.0,
        left + width,
        left + 4.0,
        total - 4.0,
        money(s.total_profit)
    ));
    out.push_str(&format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n",
        points.join(" ")
    ));
    let (px, py) = (x(s.peak.customers_pct), y(s.peak.cumulative_profit));
    let share = s
        .peak
        .profit_share
        .map_or_else(String::new, |v| format!(" = {}", pct(v)));
    // The label sits below the peak, toward the middle, so it stays inside the chart and off
    // the total's line.
    let (lx, anchor) = if px > left + width / 2.0 {
        (px - 6.0, "end")
    } else {
        (px + 6.0, "start")
    };
    out.push_str(&format!(
        "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"#d62728\"/>\n<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">peak {}{share} at {} of customers</text>\n</svg>",
        (py + 32.0).min(top + height - 6.0),
        money(s.peak.cumulative_profit),
        pct(s.peak.customers_pct / 100.0)
    ));
    out
}

/// The sentence under the chart.
pub fn caption(s: &ProfitSummary) -> String {
    let peak = s
        .peak
        .profit_share
        .map_or_else(|| money(s.peak.cumulative_profit), pct);
    format!(
        "Cumulative net profit of the customers ranked from most to least profitable. The top {} \
         of customers earn {peak} of the total {}; the dashed line is the total (100%). {} \
         customers ({}) lose money, {} together.",
        pct(s.peak.customers_pct / 100.0),
        money(s.total_profit),
        int(s.losing_customers),
        pct(s.losing_share),
        money(s.loss)
    )
}

/// Rows of the profit tier table: tier, customers, share, net profit.
pub fn tier_rows(s: &ProfitSummary) -> Vec<Vec<String>> {
    s.tiers
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                int(t.customers),
                pct(t.customer_share),
                money(t.profit),
            ]
        })
        .collect()
}

/// Rows of the reasons table: reason, customers, loss.
pub fn reason_rows(s: &ProfitSummary) -> Vec<Vec<String>> {
    s.reasons
        .iter()
        .map(|r| vec![r.reason.clone(), int(r.customers), money(r.loss)])
        .collect()
}
