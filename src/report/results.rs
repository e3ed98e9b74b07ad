//! The "Campaign results" section: the readout of every recorded campaign whose response window
//! has closed (target against control, from the ledger), one row each.

use serde::{Deserialize, Serialize};

use super::format::{esc, num};
use crate::readout::{Interval, Readout};

/// One campaign send's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResult {
    pub campaign: String,
    pub send_date: String,
    pub window_closes: String,
    pub target_customers: u64,
    pub control_customers: u64,
    pub target_response_rate: Option<f64>,
    pub control_response_rate: Option<f64>,
    /// Estimate, low, high (95%).
    pub incremental_response_rate: Option<[f64; 3]>,
    pub incremental_revenue_per_customer: Option<[f64; 3]>,
    pub incremental_profit: Option<[f64; 3]>,
    pub roi: Option<[f64; 3]>,
    /// The sample-ratio check failed: the split is not the one planned.
    pub sample_ratio_mismatch: bool,
}

fn triple(i: Option<Interval>) -> Option<[f64; 3]> {
    i.map(|i| [i.estimate, i.low, i.high])
}

impl CampaignResult {
    /// The row of a readout.
    pub fn of(r: &Readout) -> CampaignResult {
        let o = &r.overall;
        CampaignResult {
            campaign: r.campaign.clone(),
            send_date: r.send_date.clone(),
            window_closes: r.window_closes.clone(),
            target_customers: o.target.customers,
            control_customers: o.control.customers,
            target_response_rate: o.target.response_rate,
            control_response_rate: o.control.response_rate,
            incremental_response_rate: triple(o.incremental_response_rate),
            incremental_revenue_per_customer: triple(o.incremental_revenue_per_customer),
            incremental_profit: triple(o.incremental_profit),
            roi: triple(o.roi),
            sample_ratio_mismatch: r.sample_ratio.is_some_and(|s| s.mismatch),
        }
    }
}

fn interval(i: &Option<[f64; 3]>, digits: usize) -> String {
    match i {
        Some([e, l, h]) => format!(
            "{} [{}, {}]",
            num(Some(*e), digits),
            num(Some(*l), digits),
            num(Some(*h), digits)
        ),
        None => "–".into(),
    }
}

/// The section's HTML (empty without results).
pub fn html(results: &[CampaignResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"campaign-results\">\n<h2>Campaign results</h2>\n\
         <p>Target against control for every recorded campaign whose response window has closed \
         (95% intervals: Newcombe for the rate, Welch for revenue).</p>\n<table><thead><tr>",
    );
    for h in [
        "campaign",
        "sent",
        "window closed",
        "target",
        "control",
        "target rate",
        "control rate",
        "incremental rate",
        "incremental revenue / customer",
        "incremental profit",
        "ROI",
        "sample ratio",
    ] {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in results {
        let cells = [
            r.campaign.clone(),
            r.send_date.clone(),
            r.window_closes.clone(),
            r.target_customers.to_string(),
            r.control_customers.to_string(),
            num(r.target_response_rate, 4),
            num(r.control_response_rate, 4),
            interval(&r.incremental_response_rate, 4),
            interval(&r.incremental_revenue_per_customer, 2),
            interval(&r.incremental_profit, 2),
            interval(&r.roi, 2),
            if r.sample_ratio_mismatch {
                "MISMATCH"
            } else {
                "ok"
            }
            .to_string(),
        ];
        out.push_str("<tr>");
        for c in cells {
            out.push_str(&format!("<td>{}</td>", esc(&c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n</section>\n");
    out
}
