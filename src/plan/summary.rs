//! The plan's report: per campaign figures, the objective against its certified bound, and
//! what each limit costs.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

/// Version of the [`PlanSummary`] layout written to `plan.json`.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// One campaign of the plan (target group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignPlan {
    /// Campaign name.
    pub campaign: String,
    /// Contacted customers.
    pub target: usize,
    /// Held-out customers.
    pub control: usize,
    /// Target spend.
    pub cost: f64,
    /// Σ score over the target.
    pub expected_responders: f64,
    /// Σ expected profit over the target.
    pub expected_profit: f64,
}

/// One limit of the plan: a campaign's own or a shared one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintPlan {
    /// The campaign's name, or the shared limit's.
    pub scope: String,
    /// `budget`, `capacity` or `max_audience`.
    pub kind: String,
    /// The channel of a capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The limit.
    pub limit: f64,
    /// What the target groups use of it.
    pub used: f64,
    /// Whether not even the cheapest contact it covers would still fit.
    pub binding: bool,
    /// Objective gained per unit of the limit (per currency unit of a budget, per contact of a
    /// capacity), from the multipliers of the best bound; 0 when the limit does not bind.
    pub shadow_price: f64,
    /// The shadow price in words.
    pub in_words: String,
}

/// What loosening a per-customer cap of the policy by one is worth: the bound's rise at the
/// best multipliers (an estimate from above: the plan cannot gain more than the bound does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapPlan {
    /// `max_contacts`, or `max_per_channel.<channel>`.
    pub cap: String,
    /// The cap's value.
    pub limit: usize,
    /// Upper bound with the cap one higher, minus the upper bound.
    pub worth_of_one_more: f64,
    /// The same in words.
    pub in_words: String,
}

/// `plan.json`: the plan at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Per campaign, in the order given.
    pub campaigns: Vec<CampaignPlan>,
    /// Σ over campaigns of the target's objective key (expected profit, or expected responders
    /// when every campaign's objective is `responses`).
    pub objective: f64,
    /// The same before the control groups were drawn.
    pub objective_before_controls: f64,
    /// The greedy repair's objective before the improvement pass (exchange moves along the
    /// limits): what the pass added is `objective_before_controls − repair_objective`.
    pub repair_objective: f64,
    /// Lagrangian dual value: no plan within the limits and caps (control groups aside) can
    /// earn more.
    pub upper_bound: f64,
    /// Optimality gap, `(upper_bound − objective_before_controls) / |upper_bound|`: the plan
    /// (before control groups are held out) is at most this far from the best possible.
    pub gap: f64,
    /// `objective_before_controls − objective`: what holding out the control groups forgoes
    /// (the refill of the room they free included).
    pub control_cost: f64,
    /// Objective when the campaigns instead pick one after the other, in the order given, each
    /// its best customers from what is left (no control groups; compare with
    /// `objective_before_controls`).
    pub sequential_objective: f64,
    /// Customers contacted by at least one campaign.
    pub customers_contacted: usize,
    /// Customers contacted by more than one campaign.
    pub contacted_more_than_once: usize,
    /// Subgradient iterations run.
    pub iterations: usize,
    /// Every budget and capacity, own or shared.
    pub constraints: Vec<ConstraintPlan>,
    /// Every per-customer cap, with what one more contact per customer is worth.
    pub caps: Vec<CapPlan>,
}

/// The plan summary as printed by `bullseye plan`.
pub fn render_plan(s: &PlanSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "plan of {} campaigns", s.campaigns.len());
    let _ = writeln!(
        out,
        "  {:<24} {:>9} {:>8} {:>14} {:>12} {:>14}",
        "campaign", "target", "control", "cost", "responders", "profit"
    );
    for c in &s.campaigns {
        let _ = writeln!(
            out,
            "  {:<24} {:>9} {:>8} {:>14.2} {:>12.1} {:>14.2}",
            c.campaign, c.target, c.control, c.cost, c.expected_responders, c.expected_profit
        );
    }
    let _ = writeln!(out, "  objective           {:>14.2}", s.objective);
    let _ = writeln!(out, "  upper bound         {:>14.2}", s.upper_bound);
    let _ = writeln!(
        out,
        "  before controls     {:>14.2}   optimality gap {:.3}%",
        s.objective_before_controls,
        100.0 * s.gap
    );
    let _ = writeln!(
        out,
        "  greedy repair       {:>14.2}   (before the exchange pass)",
        s.repair_objective
    );
    let _ = writeln!(out, "  cost of controls    {:>14.2}", s.control_cost);
    let _ = writeln!(
        out,
        "  sequential          {:>14.2}   (campaigns one after the other, no controls)",
        s.sequential_objective
    );
    let _ = writeln!(
        out,
        "  customers contacted {:>14}   more than once {}",
        s.customers_contacted, s.contacted_more_than_once
    );
    let _ = writeln!(out, "  limits:");
    for c in &s.constraints {
        let what = match &c.channel {
            Some(ch) => format!("{} {} {}", c.scope, c.kind, ch),
            None => format!("{} {}", c.scope, c.kind),
        };
        let _ = writeln!(
            out,
            "    {:<40} {:>14.2} of {:>14.2} {:<11} shadow price {:.4}",
            what,
            c.used,
            c.limit,
            if c.binding { "binding" } else { "not binding" },
            c.shadow_price
        );
        let _ = writeln!(out, "      {}", c.in_words);
    }
    for c in &s.caps {
        let _ = writeln!(out, "    {}", c.in_words);
    }
    out
}

/// A constraint's shadow price in words ("the spring-email budget's last 100 earn ~36.55").
pub(crate) fn constraint_words(c: &ConstraintPlan) -> String {
    let what = match (c.kind.as_str(), &c.channel) {
        ("budget", _) => format!("the {} budget", c.scope),
        ("capacity", Some(ch)) => format!("the {} {ch} capacity", c.scope),
        ("min_volume", _) => format!("the {} minimum volume", c.scope),
        _ => format!("the {} audience limit", c.scope),
    };
    if !c.binding {
        return format!("{what} does not bind: more of it earns nothing");
    }
    match c.kind.as_str() {
        "budget" => format!(
            "{what} binds: its last 100 earn ~{:.2}",
            100.0 * c.shadow_price
        ),
        "min_volume" => format!(
            "{what} binds: each contact it forces costs ~{:.2}",
            c.shadow_price
        ),
        _ => format!(
            "{what} binds: one more contact is worth ~{:.2}",
            c.shadow_price
        ),
    }
}

/// A per-customer cap's worth in words.
pub(crate) fn cap_words(cap: &str, worth: f64) -> String {
    let what = match cap.strip_prefix("max_per_channel.") {
        Some(ch) => format!("one more {ch} contact per customer in this plan"),
        None => "one more contact per customer in this plan".to_string(),
    };
    format!("{what} is worth at most ~{worth:.2}")
}
