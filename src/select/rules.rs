//! Per-customer rules: exclusion reasons in precedence order, and the contact options
//! (channel, cost, expected value, expected profit) a customer who passes them has.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::select::{CampaignConfig, Candidate, Objective, SelectError};

/// Why a candidate is not in the audience. A customer gets the first reason that applies, in
/// the order of [`ExclusionReason::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// Known to the run (customers table, transactions) but not scored: no purchase by `as_of`,
    /// so no features and no score. Not a candidate, so no other rule is tried on them.
    NoHistory,
    /// Suppressed on every configured channel (a suppression without channel, or one per channel).
    Suppressed,
    /// In the ledger's global control group (`[ledger] global_control`): never contacted by any
    /// campaign. Counted only when a global control group is in use.
    GlobalControl,
    /// Every channel that is not suppressed has consent `Some(false)`.
    NoConsent,
    /// A past contact (any channel) with `as_of − cooldown_days < date ≤ as_of`.
    Cooldown,
    /// Already `max_contacts` or more contacts (any channel) with `as_of − window_days < date ≤ as_of`,
    /// so one more would exceed the cap.
    FrequencyCap,
    /// Segment not in a non-empty `include_segments` (missing segment included), or in `exclude_segments`.
    NotEligible,
    /// No usable channel (consented, not suppressed, score and value present) gives an expected
    /// profit ≥ `min_expected_profit`.
    Unprofitable,
    /// Planned jointly with other campaigns (`bullseye plan`): in another campaign's control
    /// group, so no campaign of the plan contacts the customer.
    ControlElsewhere,
    /// Planned jointly: contacted by a campaign the policy says never to send together with
    /// this one.
    Conflict,
    /// Planned jointly: contacted by other campaigns, and the policy's per-customer caps
    /// (`max_contacts`, `max_per_channel`) leave no room for this one.
    AssignedElsewhere,
    /// Had a channel with profit ≥ the floor, but budget, channel capacity or `max_audience` ran out
    /// before the customer's turn (or no channel with capacity left was affordable).
    OverBudget,
}

impl ExclusionReason {
    /// The reasons a single campaign's selection gives, in precedence order (always present in
    /// a summary's counts, even at 0).
    pub const ALL: [ExclusionReason; 8] = [
        ExclusionReason::NoHistory,
        ExclusionReason::Suppressed,
        ExclusionReason::NoConsent,
        ExclusionReason::Cooldown,
        ExclusionReason::FrequencyCap,
        ExclusionReason::NotEligible,
        ExclusionReason::Unprofitable,
        ExclusionReason::OverBudget,
    ];

    /// The further reasons of a joint plan (`crate::plan`), in precedence order: they rank
    /// between `unprofitable` and `over_budget`.
    pub const PLAN: [ExclusionReason; 3] = [
        ExclusionReason::ControlElsewhere,
        ExclusionReason::Conflict,
        ExclusionReason::AssignedElsewhere,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::NoHistory => "no_history",
            ExclusionReason::Suppressed => "suppressed",
            ExclusionReason::GlobalControl => "global_control",
            ExclusionReason::NoConsent => "no_consent",
            ExclusionReason::Cooldown => "cooldown",
            ExclusionReason::FrequencyCap => "frequency_cap",
            ExclusionReason::NotEligible => "not_eligible",
            ExclusionReason::Unprofitable => "unprofitable",
            ExclusionReason::ControlElsewhere => "control_elsewhere",
            ExclusionReason::Conflict => "conflict",
            ExclusionReason::AssignedElsewhere => "assigned_elsewhere",
            ExclusionReason::OverBudget => "over_budget",
        }
    }
}

/// One way to contact a customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ContactOption {
    pub channel: usize,
    pub cost: f64,
    pub score: f64,
    /// score × response value.
    pub expected_value: f64,
    /// expected_value − cost.
    pub profit: f64,
    /// What the selection maximizes: profit, or score for the `responses` objective.
    pub key: f64,
}

/// The config's rules, resolved once (dates parsed, segment lists hashed).
pub(crate) struct Rules<'a> {
    config: &'a CampaignConfig,
    as_of: Option<NaiveDate>,
    cooldown_days: i64,
    cap: Option<(usize, i64)>,
    include: HashSet<&'a str>,
    exclude: HashSet<&'a str>,
}

impl<'a> Rules<'a> {
    pub fn new(config: &'a CampaignConfig) -> Result<Rules<'a>, SelectError> {
        let (as_of, cooldown_days, cap) = match &config.contact_policy {
            Some(p) => (
                Some(p.as_of_date()?),
                i64::from(p.cooldown_days.unwrap_or(0)),
                match (p.max_contacts, p.window_days) {
                    (Some(m), Some(w)) => Some((m as usize, i64::from(w))),
                    _ => None,
                },
            ),
            None => (None, 0, None),
        };
        let (include, exclude) = match &config.eligibility {
            Some(e) => (
                e.include_segments.iter().map(String::as_str).collect(),
                e.exclude_segments.iter().map(String::as_str).collect(),
            ),
            None => (HashSet::new(), HashSet::new()),
        };
        Ok(Rules {
            config,
            as_of,
            cooldown_days,
            cap,
            include,
            exclude,
        })
    }

    /// The first of the pre-profit reasons that applies, if any (a do-not-contact customer in the
    /// global control group is `suppressed`: safety is named first).
    pub fn rule_exclusion(&self, cand: &Candidate) -> Option<ExclusionReason> {
        let n = self.config.channels.len();
        if (0..n).all(|c| cand.is_suppressed_on(c)) {
            return Some(ExclusionReason::Suppressed);
        }
        if cand.global_control {
            return Some(ExclusionReason::GlobalControl);
        }
        if (0..n)
            .filter(|&c| !cand.is_suppressed_on(c))
            .all(|c| cand.consent[c] == Some(false))
        {
            return Some(ExclusionReason::NoConsent);
        }
        if let Some(as_of) = self.as_of {
            // Days before as_of; contacts after as_of (negative) are ignored by both rules.
            let ages = cand
                .contacts
                .iter()
                .map(|p| (as_of - p.date).num_days())
                .filter(|&d| d >= 0);
            if self.cooldown_days > 0 && ages.clone().any(|d| d < self.cooldown_days) {
                return Some(ExclusionReason::Cooldown);
            }
            if let Some((max, window)) = self.cap {
                if ages.filter(|&d| d < window).count() >= max {
                    return Some(ExclusionReason::FrequencyCap);
                }
            }
        }
        if !self.include.is_empty() || !self.exclude.is_empty() {
            let seg = cand.segment.as_deref();
            let included = self.include.is_empty() || seg.is_some_and(|s| self.include.contains(s));
            let excluded = seg.is_some_and(|s| self.exclude.contains(s));
            if !included || excluded {
                return Some(ExclusionReason::NotEligible);
            }
        }
        None
    }

    /// Appends the candidate's usable options with profit ≥ the floor to `out`, best first (see
    /// [`better`]), and returns the best usable option regardless of the floor (for the profit
    /// curve); `None` when no channel is usable or the response value is missing.
    pub fn options(&self, cand: &Candidate, out: &mut Vec<ContactOption>) -> Option<ContactOption> {
        let campaign = &self.config.campaign;
        let value = self.config.response_value(cand.value)?;
        let start = out.len();
        let mut best: Option<ContactOption> = None;
        for (c, ch) in self.config.channels.iter().enumerate() {
            if cand.is_suppressed_on(c) || cand.consent[c] == Some(false) {
                continue;
            }
            let Some(score) = cand.scores[c].filter(|s| s.is_finite()) else {
                continue;
            };
            let expected_value = score * value;
            let profit = expected_value - ch.cost;
            let key = match campaign.objective {
                Objective::Profit | Objective::UpliftProfit => profit,
                Objective::Responses => score,
            };
            let o = ContactOption {
                channel: c,
                cost: ch.cost,
                score,
                expected_value,
                profit,
                key,
            };
            if best.is_none_or(|b| better(&o, &b)) {
                best = Some(o);
            }
            if profit >= campaign.min_expected_profit {
                out.push(o);
            }
        }
        out[start..].sort_by(|a, b| {
            if better(a, b) {
                std::cmp::Ordering::Less
            } else if better(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        best
    }
}

/// Strict preference between two options of one customer: higher key, then higher profit,
/// then lower channel index.
pub(crate) fn better(a: &ContactOption, b: &ContactOption) -> bool {
    (a.key, a.profit, std::cmp::Reverse(a.channel))
        > (b.key, b.profit, std::cmp::Reverse(b.channel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::{PastContact, Suppression};

    fn config(extra: &str) -> CampaignConfig {
        CampaignConfig::from_toml_str(&format!(
            "[campaign]\nname='t'\nbudget=100.0\nobjective='profit'\nvalue_per_response=10.0\nmin_expected_profit=0.5\n\
             [[channel]]\nname='email'\ncost=0.1\n[[channel]]\nname='sms'\ncost=1.0\n{extra}"
        ))
        .unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn with_contacts(dates: &[&str]) -> Candidate {
        let mut c = Candidate::new("a", vec![Some(0.5), Some(0.5)]);
        c.contacts = dates
            .iter()
            .map(|s| PastContact {
                date: d(s),
                channel: None,
            })
            .collect();
        c
    }

    const POLICY: &str = "[contact_policy]\nhistory='h.csv'\nas_of='2026-11-22'\ncooldown_days=14\nmax_contacts=2\nwindow_days=30\n";

    #[test]
    fn cooldown_boundary_is_strict() {
        let cfg = config(POLICY);
        let r = Rules::new(&cfg).unwrap();
        // as_of − 14 days = 2026-11-08: a contact that day is allowed, the day after is not.
        assert_eq!(r.rule_exclusion(&with_contacts(&["2026-11-08"])), None);
        assert_eq!(
            r.rule_exclusion(&with_contacts(&["2026-11-09"])),
            Some(ExclusionReason::Cooldown)
        );
        assert_eq!(
            r.rule_exclusion(&with_contacts(&["2026-11-22"])),
            Some(ExclusionReason::Cooldown)
        );
        // future contacts are ignored
        assert_eq!(r.rule_exclusion(&with_contacts(&["2026-11-23"])), None);
    }

    #[test]
    fn frequency_cap_window_counts_as_of() {
        let cfg = config(POLICY);
        let r = Rules::new(&cfg).unwrap();
        // window of 30 days counting as_of: 2026-10-24 ..= 2026-11-22.
        assert_eq!(
            r.rule_exclusion(&with_contacts(&["2026-10-24", "2026-11-01"])),
            Some(ExclusionReason::FrequencyCap)
        );
        assert_eq!(
            r.rule_exclusion(&with_contacts(&["2026-10-23", "2026-11-01"])),
            None
        );
        assert_eq!(r.rule_exclusion(&with_contacts(&["2026-11-01"])), None);
    }

    #[test]
    fn precedence_and_consent() {
        let cfg = config(&format!(
            "{POLICY}[eligibility]\ninclude_segments=['gold']\n"
        ));
        let r = Rules::new(&cfg).unwrap();
        let mut c = with_contacts(&["2026-11-20"]);
        c.suppression = Suppression::Channels([0usize, 1].into_iter().collect());
        c.consent = vec![Some(false), Some(false)].into();
        c.global_control = true;
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::Suppressed));
        c.suppression = Suppression::Channels([0usize].into_iter().collect());
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::GlobalControl));
        c.global_control = false;
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::NoConsent));
        c.consent = vec![Some(false), None].into();
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::Cooldown));
        c.contacts.clear();
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::NotEligible));
        c.segment = Some("gold".into());
        assert_eq!(r.rule_exclusion(&c), None);
        // the only usable channel is sms: 0.5 × 10 − 1 = 4
        let mut out = Vec::new();
        let best = r.options(&c, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(best.channel, 1);
        assert!((best.profit - 4.0).abs() < 1e-12);
    }

    #[test]
    fn options_profit_and_floor() {
        let cfg = config("");
        let r = Rules::new(&cfg).unwrap();
        let c = Candidate::new("a", vec![Some(0.06), Some(0.2)]);
        let mut out = Vec::new();
        let best = r.options(&c, &mut out).unwrap();
        // email: 0.6 − 0.1 = 0.5 (≥ floor 0.5), sms: 2 − 1 = 1.0
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].channel, 1);
        assert!((out[1].profit - 0.5).abs() < 1e-12);
        assert_eq!(best.channel, 1);
        let c = Candidate::new("b", vec![Some(0.05), None]);
        out.clear();
        let best = r.options(&c, &mut out).unwrap();
        assert!(out.is_empty(), "0.5 − 0.1 = 0.4 is below the floor");
        assert!((best.profit - 0.4).abs() < 1e-12);
    }

    #[test]
    fn exclude_segments() {
        let cfg = config("[eligibility]\nexclude_segments=['lost']\n");
        let r = Rules::new(&cfg).unwrap();
        let mut c = Candidate::new("a", vec![Some(0.5), Some(0.5)]);
        assert_eq!(
            r.rule_exclusion(&c),
            None,
            "missing segment is fine without include list"
        );
        c.segment = Some("lost".into());
        assert_eq!(r.rule_exclusion(&c), Some(ExclusionReason::NotEligible));
    }
}
