//! The policy's rules over time and on channels: each campaign's send day, the cool-down and
//! frequency caps counted over past contacts plus this plan's sends, and conflict rules that
//! name a channel. Rules between whole campaigns whose send days are fixed reduce to campaign
//! conflicts (bit masks); what depends on a customer's history or on channels is checked per
//! option here.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::plan::policy::{invalid, PlanPolicy};
use crate::plan::problem::Opt;
use crate::plan::{CampaignInput, PlanError};
use crate::select::ExclusionReason;

/// Frequency caps a policy may hold (each option carries its past count per cap).
pub(crate) const MAX_FREQUENCY: usize = 4;

/// Days since the common era of a date.
fn day(d: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&d))
}

/// A conflict between two (campaign, optional channel name) that names a channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairRule {
    a: (usize, Option<usize>),
    b: (usize, Option<usize>),
}

impl PairRule {
    fn side(s: (usize, Option<usize>), o: &Opt) -> bool {
        s.0 == o.campaign() && s.1.is_none_or(|n| n == o.name())
    }

    fn forbids(&self, x: &Opt, y: &Opt) -> bool {
        (Self::side(self.a, x) && Self::side(self.b, y))
            || (Self::side(self.a, y) && Self::side(self.b, x))
    }
}

/// The time and channel rules of a plan.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timing {
    /// Per campaign: send day (days since the common era), when one is needed.
    send: Vec<i64>,
    cooldown: Option<i64>,
    /// `(max_contacts, window_days)` per frequency cap.
    caps: Vec<(usize, i64)>,
    pub pairs: Vec<PairRule>,
    /// Per customer id: past contact days, from every campaign's history (deduplicated).
    past: HashMap<String, Vec<i64>>,
}

impl Timing {
    /// Resolves the rules; `conflicts` (per campaign, bit masks) gains the campaign pairs that
    /// the cool-down or a lagged conflict forbids. `channel` maps a channel name to its index.
    pub fn new(
        campaigns: &[CampaignInput],
        policy: &PlanPolicy,
        channel: &dyn Fn(&str) -> Option<usize>,
        conflicts: &mut [u64],
    ) -> Result<Timing, PlanError> {
        let names: Vec<&str> = campaigns
            .iter()
            .map(|c| c.config.campaign.name.as_str())
            .collect();
        let index = |n: &str| names.iter().position(|&x| x == n).unwrap_or(0);
        let needs_dates = policy.cooldown_days.is_some()
            || !policy.frequency.is_empty()
            || policy.conflict.iter().any(|r| r.lag_days.is_some());
        let mut t = Timing {
            cooldown: policy.cooldown_days.map(i64::from),
            caps: policy
                .frequency
                .iter()
                .map(|f| (f.max_contacts, i64::from(f.window_days)))
                .collect(),
            ..Timing::default()
        };
        if needs_dates {
            t.send = campaigns
                .iter()
                .map(|c| send_day(c).map(day))
                .collect::<Result<_, _>>()?;
            t.past = past_contacts(campaigns);
        }
        if let Some(cd) = t.cooldown {
            for (a, mask) in conflicts.iter_mut().enumerate() {
                for (b, &day_b) in t.send.iter().enumerate() {
                    if a != b && (t.send[a] - day_b).abs() < cd {
                        *mask |= 1 << b;
                    }
                }
            }
        }
        for (i, r) in policy.conflict.iter().enumerate() {
            let (a, b) = (index(&r.a), index(&r.b));
            if r.lag_days
                .is_some_and(|lag| (t.send[a] - t.send[b]).abs() >= i64::from(lag))
            {
                continue;
            }
            let name = |side: &str, n: &Option<String>| -> Result<Option<usize>, PlanError> {
                n.as_deref()
                    .map(|n| {
                        channel(n).ok_or_else(|| {
                            invalid(
                                format!("policy.conflict[{i}].{side}_channel"),
                                "a channel of the plan's campaigns",
                                format!("{n:?}"),
                            )
                        })
                    })
                    .transpose()
            };
            let (na, nb) = (name("a", &r.a_channel)?, name("b", &r.b_channel)?);
            if na.is_none() && nb.is_none() {
                conflicts[a] |= 1 << b;
                conflicts[b] |= 1 << a;
            } else {
                t.pairs.push(PairRule {
                    a: (a, na),
                    b: (b, nb),
                });
            }
        }
        Ok(t)
    }

    /// Whether any rule needs a per-option check beyond the campaign masks.
    pub fn active(&self) -> bool {
        !self.pairs.is_empty() || !self.caps.is_empty()
    }

    /// A customer's past contacts counted by each frequency cap in the window ending on
    /// `campaign`'s send day, or the reason the history alone excludes the customer.
    pub fn past_counts(
        &self,
        customer_id: &str,
        campaign: usize,
    ) -> Result<[u16; MAX_FREQUENCY], ExclusionReason> {
        let mut counts = [0u16; MAX_FREQUENCY];
        let Some(days) = self.past.get(customer_id) else {
            return Ok(counts);
        };
        let send = self.send[campaign];
        // Contacts after the send day do not count (as in select's rules).
        let ages = days.iter().map(|d| send - d).filter(|&a| a >= 0);
        if let Some(cd) = self.cooldown {
            if ages.clone().any(|a| a < cd) {
                return Err(ExclusionReason::Cooldown);
            }
        }
        for (f, &(max, window)) in self.caps.iter().enumerate() {
            let n = ages.clone().filter(|&a| a < window).count();
            if n >= max {
                return Err(ExclusionReason::FrequencyCap);
            }
            counts[f] = u16::try_from(n).unwrap_or(u16::MAX);
        }
        Ok(counts)
    }

    /// Whether option `o` may join a customer's `chosen` options under the channel conflicts and
    /// the frequency caps (the window ending on every send day of the customer's plan that
    /// holds `o`'s, past contacts included).
    pub fn allows(&self, o: &Opt, chosen: &[&Opt]) -> bool {
        if chosen
            .iter()
            .any(|q| self.pairs.iter().any(|r| r.forbids(o, q)))
        {
            return false;
        }
        let d = |x: &Opt| self.send[x.campaign()];
        for (f, &(max, window)) in self.caps.iter().enumerate() {
            for e in std::iter::once(o).chain(chosen.iter().copied()) {
                let end = d(e);
                if end < d(o) || end - d(o) >= window {
                    continue;
                }
                let planned = chosen
                    .iter()
                    .filter(|q| d(q) <= end && end - d(q) < window)
                    .count();
                if usize::from(e.past[f]) + planned + 1 > max {
                    return false;
                }
            }
        }
        true
    }
}

/// A campaign's send day: `[campaign] send_date`, else its `[contact_policy] as_of`.
fn send_day(c: &CampaignInput) -> Result<NaiveDate, PlanError> {
    let camp = &c.config.campaign;
    if let Some(d) = camp.send_date()? {
        return Ok(d);
    }
    match &c.config.contact_policy {
        Some(p) => Ok(p.as_of_date()?),
        None => Err(invalid(
            format!("campaign.send_date` of `{}", camp.name),
            "a send date (or a `[contact_policy] as_of`): the policy's time rules need one",
            "none",
        )),
    }
}

/// Every campaign's past contacts per customer id, as days, sorted. The same history read by
/// two campaigns counts once, but every contact of it counts (two contacts on one day are two,
/// as in select's rules): per (day, channel name), the most any one campaign's history holds.
fn past_contacts(campaigns: &[CampaignInput]) -> HashMap<String, Vec<i64>> {
    type Counts<'a> = BTreeMap<(i64, Option<&'a str>), usize>;
    let mut past: HashMap<String, Counts> = HashMap::new();
    for c in campaigns {
        let channels = &c.config.channels;
        for cand in c.candidates.iter().filter(|x| !x.contacts.is_empty()) {
            // Keyed by channel name: channel indices differ between campaigns.
            let mut mine = Counts::new();
            for p in &cand.contacts {
                let name = p
                    .channel
                    .and_then(|ch| channels.get(ch))
                    .map(|ch| ch.name.as_str());
                *mine.entry((day(p.date), name)).or_default() += 1;
            }
            let all = past.entry(cand.customer_id.clone()).or_default();
            for (key, n) in mine {
                let kept = all.entry(key).or_default();
                *kept = (*kept).max(n);
            }
        }
    }
    past.into_iter()
        .map(|(id, counts)| {
            let days = counts
                .into_iter()
                .flat_map(|((d, _), n)| std::iter::repeat_n(d, n))
                .collect();
            (id, days)
        })
        .collect()
}
