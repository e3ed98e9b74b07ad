//! The "Plan" section: a job whose `select` stage planned several campaigns jointly shows each
//! campaign's volume and expected profit, what each limit and cap costs, and the joint plan
//! against the campaigns picked one after the other.

use serde::{Deserialize, Serialize};

use super::format::{esc, int, money, pct};
use crate::plan::PlanSummary;

/// The plan as the report keeps it: `plan.json`'s numbers, unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSection {
    pub summary: PlanSummary,
}

/// Per-campaign bars: volume (target size) on the left, expected profit on the right, each
/// scaled to its own largest value. Plain SVG, like the item-affinity chart: deterministic.
pub fn campaigns_svg(s: &PlanSection) -> String {
    let (row, left, bar, gap) = (28usize, 190usize, 300usize, 40usize);
    let camps = &s.summary.campaigns;
    let (w, h) = (left + 2 * bar + gap + 90, 36 + camps.len() * row + 10);
    let max_volume = camps.iter().map(|c| c.target).max().unwrap_or(0).max(1) as f64;
    let max_profit = camps
        .iter()
        .map(|c| c.expected_profit.abs())
        .fold(0.0, f64::max);
    let max_profit = if max_profit > 0.0 { max_profit } else { 1.0 };
    let profit_x = left + bar + gap;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"18\">volume (customers contacted)</text>\n<text x=\"{profit_x}\" y=\"18\">expected profit</text>\n"
    ));
    for (i, c) in camps.iter().enumerate() {
        let y = 30 + i * row;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            left - 6,
            y + 15,
            esc(&c.campaign)
        ));
        let vw = (bar as f64 * c.target as f64 / max_volume).round() as usize;
        out.push_str(&format!(
            "<rect x=\"{left}\" y=\"{y}\" width=\"{vw}\" height=\"20\" fill=\"#1f77b4\"/>\n<text x=\"{}\" y=\"{}\">{}</text>\n",
            left + vw + 4,
            y + 15,
            int(c.target)
        ));
        let pw = (bar as f64 * c.expected_profit.abs() / max_profit).round() as usize;
        let fill = if c.expected_profit >= 0.0 {
            "#2ca02c"
        } else {
            "#d62728"
        };
        out.push_str(&format!(
            "<rect x=\"{profit_x}\" y=\"{y}\" width=\"{pw}\" height=\"20\" fill=\"{fill}\"/>\n<text x=\"{}\" y=\"{}\">{}</text>\n",
            profit_x + pw + 4,
            y + 15,
            money(c.expected_profit)
        ));
    }
    out.push_str("</svg>");
    out
}

/// The rows of the per-campaign table.
pub fn campaign_rows(s: &PlanSection) -> Vec<Vec<String>> {
    s.summary
        .campaigns
        .iter()
        .map(|c| {
            vec![
                c.campaign.clone(),
                int(c.target),
                int(c.control),
                money(c.cost),
                format!("{:.1}", c.expected_responders),
                money(c.expected_profit),
            ]
        })
        .collect()
}

/// Joint against sequential, and how close to the bound.
pub fn objective_rows(s: &PlanSection) -> Vec<Vec<String>> {
    let p = &s.summary;
    vec![
        vec!["joint plan".to_string(), money(p.objective)],
        vec![
            "joint plan before control groups".to_string(),
            money(p.objective_before_controls),
        ],
        vec![
            "sequential (one campaign after the other, no controls)".to_string(),
            money(p.sequential_objective),
        ],
        vec![
            "joint minus sequential (before controls)".to_string(),
            money(p.objective_before_controls - p.sequential_objective),
        ],
        vec!["certified upper bound".to_string(), money(p.upper_bound)],
        vec!["optimality gap".to_string(), pct(p.gap)],
    ]
}

/// Every limit and cap: binding or not, and its price in words.
pub fn rule_rows(s: &PlanSection) -> Vec<Vec<String>> {
    let limits = s.summary.constraints.iter().map(|c| {
        let what = match &c.channel {
            Some(ch) => format!("{} {} {ch}", c.scope, c.kind),
            None => format!("{} {}", c.scope, c.kind),
        };
        vec![
            what,
            format!("{} of {}", money(c.used), money(c.limit)),
            if c.binding { "binding" } else { "not binding" }.to_string(),
            c.in_words.clone(),
        ]
    });
    let caps = s.summary.caps.iter().map(|c| {
        vec![
            c.cap.clone(),
            c.limit.to_string(),
            "per customer".to_string(),
            c.in_words.clone(),
        ]
    });
    limits.chain(caps).collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::plan::{CampaignPlan, CapPlan, ConstraintPlan, PLAN_SCHEMA_VERSION};
    use crate::report::{chart_ids, render_html, ReportBuilder};

    /// Two campaigns, one binding budget, one cap.
    pub fn summary() -> PlanSummary {
        let camp = |name: &str, target, profit| CampaignPlan {
            campaign: name.to_string(),
            target,
            control: 10,
            cost: 100.0,
            expected_responders: 12.5,
            expected_profit: profit,
        };
        PlanSummary {
            schema_version: PLAN_SCHEMA_VERSION,
            campaigns: vec![
                camp("spring", 400, 900.0),
                camp("summer <mail>", 200, -50.0),
            ],
            objective: 850.0,
            objective_before_controls: 870.0,
            repair_objective: 860.0,
            upper_bound: 880.0,
            gap: 0.0114,
            control_cost: 20.0,
            sequential_objective: 700.0,
            customers_contacted: 600,
            contacted_more_than_once: 0,
            iterations: 40,
            constraints: vec![ConstraintPlan {
                scope: "spring".to_string(),
                kind: "budget".to_string(),
                channel: None,
                limit: 100.0,
                used: 99.5,
                binding: true,
                shadow_price: 0.3655,
                in_words: "the spring budget binds: its last 100 earn ~36.55".to_string(),
            }],
            caps: vec![CapPlan {
                cap: "max_contacts".to_string(),
                limit: 1,
                worth_of_one_more: 12.0,
                in_words: "one more contact per customer in this plan is worth at most ~12.00"
                    .to_string(),
            }],
        }
    }

    #[test]
    fn the_page_shows_the_plan_and_reports_without_it_keep_their_json() {
        let as_of = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        let plain = ReportBuilder::new("t", as_of).build();
        assert!(!serde_json::to_string(&plain).unwrap().contains("\"plan\""));
        assert!(!render_html(&plain).unwrap().contains("<h2>Plan</h2>"));
        let mut b = ReportBuilder::new("t", as_of);
        b.plan(&summary());
        let r = b.build();
        let html = render_html(&r).unwrap();
        assert!(html.contains("<h2>Plan</h2>"));
        assert!(html.contains("its last 100 earn ~36.55"));
        assert!(html.contains("summer &lt;mail&gt;"));
        assert!(html.contains("<td>binding</td>"));
        assert!(html.contains("worth at most ~12.00"));
        assert_eq!(chart_ids(&r), ["chart-plan-campaigns"]);
        let back: crate::report::Report =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bars_scale_to_the_largest_campaign_and_losses_show_red() {
        let svg = campaigns_svg(&PlanSection { summary: summary() });
        // spring: the largest volume and profit, full width; summer: half the volume.
        assert_eq!(svg.matches("width=\"300\"").count(), 2);
        assert!(svg.contains("width=\"150\" height=\"20\" fill=\"#1f77b4\""));
        assert!(svg.contains("fill=\"#d62728\""));
    }
}
