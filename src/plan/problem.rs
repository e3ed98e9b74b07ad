//! The joint problem: every campaign's contact options, aligned by customer, and every limit
//! (own or shared) as a select [`Limits`] with the [`Usage`] that checks it.

use std::collections::HashMap;

use crate::plan::timing::{Timing, MAX_FREQUENCY};
use crate::plan::{CampaignInput, PlanError, PlanPolicy};
use crate::select::engine::validate;
use crate::select::limits::{Limits, Usage};
use crate::select::rules::{ContactOption, Rules};
use crate::select::{ExclusionReason, Objective};

/// One (campaign, channel) way to contact one customer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt {
    pub customer: usize,
    pub campaign: usize,
    /// Index into [`Problem::channel_names`].
    pub name: usize,
    pub o: ContactOption,
    /// Past contacts per frequency cap in the window ending on the campaign's send day.
    pub past: [u16; MAX_FREQUENCY],
}

/// A set of limits: a campaign's own (budget, channel capacities, `max_audience`) or a shared
/// one (`[[policy.shared]]`, capacities by channel name).
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub name: String,
    pub limits: Limits,
    /// The campaign whose own limits these are; `None` for a shared limit.
    pub own: Option<usize>,
}

impl Bound {
    /// The channel index an option uses in this bound's capacities.
    pub fn channel(&self, o: &Opt) -> usize {
        match self.own {
            Some(_) => o.o.channel,
            None => o.name,
        }
    }
}

/// Per-customer caps of the policy.
#[derive(Debug, Clone)]
pub(crate) struct Caps {
    pub max_contacts: usize,
    /// Per channel name; `usize::MAX` when not capped.
    pub per_name: Vec<usize>,
    /// Per campaign: the campaigns it conflicts with, as a bit mask.
    pub conflicts: Vec<u64>,
}

/// Where a campaign's candidate stands before the optimisation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Status {
    Excluded(ExclusionReason),
    /// Passed the rules with at least one option.
    Pooled,
}

/// Everything the solver needs.
pub(crate) struct Problem {
    /// Customer ids, sorted; a customer's index is its position.
    pub ids: Vec<String>,
    /// Options sorted by (customer, campaign, channel); a customer's are `opts[start[i]..start[i+1]]`.
    pub opts: Vec<Opt>,
    pub start: Vec<usize>,
    pub channel_names: Vec<String>,
    pub bounds: Vec<Bound>,
    /// Per campaign, the bounds its options count against.
    pub bounds_of: Vec<Vec<usize>>,
    pub caps: Caps,
    /// Per campaign, per candidate (in the candidates' order).
    pub status: Vec<Vec<Status>>,
    /// Per campaign, per customer: the candidate index.
    pub candidate_of: Vec<Vec<Option<usize>>>,
    /// Per campaign, the best option of every candidate that passed the rules, by key (for the
    /// profit curve).
    pub ranked: Vec<Vec<ContactOption>>,
    /// Rules over time and on channels.
    pub timing: Timing,
    /// Per campaign: the `[policy.volume]` minimum of target contacts (0: none).
    pub min_volume: Vec<usize>,
}

/// Campaigns a plan can hold: masks are `u64`.
pub(crate) const MAX_CAMPAIGNS: usize = 64;

fn check_campaigns(campaigns: &[CampaignInput], policy: &PlanPolicy) -> Result<(), PlanError> {
    if campaigns.is_empty() || campaigns.len() > MAX_CAMPAIGNS {
        return Err(PlanError::CampaignCount {
            found: campaigns.len(),
        });
    }
    let names: Vec<&str> = campaigns
        .iter()
        .map(|c| c.config.campaign.name.as_str())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(PlanError::DuplicateCampaign {
                name: n.to_string(),
            });
        }
    }
    let responses = campaigns
        .iter()
        .filter(|c| c.config.campaign.objective == Objective::Responses)
        .count();
    if responses > 0 && responses < campaigns.len() {
        // Σ score of one campaign and Σ profit of another cannot be added into one objective.
        return Err(PlanError::MixedObjectives);
    }
    policy.check(Some(&names))
}

impl Problem {
    pub fn build(campaigns: &[CampaignInput], policy: &PlanPolicy) -> Result<Problem, PlanError> {
        check_campaigns(campaigns, policy)?;
        let names: Vec<&str> = campaigns
            .iter()
            .map(|c| c.config.campaign.name.as_str())
            .collect();
        let campaign_index = |n: &str| names.iter().position(|&x| x == n).unwrap_or(0);

        let mut ids: Vec<&str> = campaigns
            .iter()
            .flat_map(|c| c.candidates.iter().map(|x| x.customer_id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let customer: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, &s)| (s, i)).collect();

        let mut channel_names: Vec<String> = Vec::new();
        for ch in campaigns.iter().flat_map(|c| &c.config.channels) {
            if !channel_names.contains(&ch.name) {
                channel_names.push(ch.name.clone());
            }
        }
        let name_of = |n: &str| channel_names.iter().position(|x| x == n);
        let mut conflicts = vec![0u64; campaigns.len()];
        let timing = Timing::new(campaigns, policy, &name_of, &mut conflicts)?;
        let mut opts = Vec::new();
        let mut status = Vec::new();
        let mut candidate_of = Vec::new();
        let mut ranked = Vec::new();
        for (ci, input) in campaigns.iter().enumerate() {
            let config = input.config;
            config.check()?;
            let order = validate(config, input.candidates)?;
            let rules = Rules::new(config)?;
            let names_here: Vec<usize> = config
                .channels
                .iter()
                .map(|c| name_of(&c.name).unwrap_or(0))
                .collect();
            let mut st =
                vec![Status::Excluded(ExclusionReason::Unprofitable); input.candidates.len()];
            let mut cand_of = vec![None; ids.len()];
            let mut best = Vec::new();
            let mut buf = Vec::new();
            for &k in &order {
                let cand = &input.candidates[k];
                let cust = customer[cand.customer_id.as_str()];
                cand_of[cust] = Some(k);
                if let Some(r) = rules.rule_exclusion(cand) {
                    st[k] = Status::Excluded(r);
                    continue;
                }
                let past = match timing.past_counts(&cand.customer_id, ci) {
                    Ok(p) => p,
                    Err(r) => {
                        st[k] = Status::Excluded(r);
                        continue;
                    }
                };
                buf.clear();
                if let Some(b) = rules.options(cand, &mut buf) {
                    best.push(b);
                }
                if !buf.is_empty() {
                    st[k] = Status::Pooled;
                }
                opts.extend(buf.iter().map(|&o| Opt {
                    customer: cust,
                    campaign: ci,
                    name: names_here[o.channel],
                    o,
                    past,
                }));
            }
            // `order` is by id, so a stable sort keeps ties by id.
            best.sort_by(|a, b| b.key.total_cmp(&a.key));
            status.push(st);
            candidate_of.push(cand_of);
            ranked.push(best);
        }
        opts.sort_by(|a, b| {
            (a.customer, a.campaign, a.o.channel).cmp(&(b.customer, b.campaign, b.o.channel))
        });
        let mut start = vec![0; ids.len() + 1];
        for o in &opts {
            start[o.customer + 1] += 1;
        }
        for i in 0..ids.len() {
            start[i + 1] += start[i];
        }

        let volume = |c: &CampaignInput| policy.volume.get(&c.config.campaign.name);
        let mut bounds: Vec<Bound> = campaigns
            .iter()
            .enumerate()
            .map(|(ci, c)| Bound {
                name: c.config.campaign.name.clone(),
                limits: Limits {
                    budget: c.config.campaign.budget,
                    capacity: c
                        .config
                        .channels
                        .iter()
                        .map(|ch| ch.capacity.unwrap_or(usize::MAX))
                        .collect(),
                    max_audience: c
                        .config
                        .campaign
                        .max_audience
                        .unwrap_or(usize::MAX)
                        .min(volume(c).and_then(|v| v.max).unwrap_or(usize::MAX)),
                },
                own: Some(ci),
            })
            .collect();
        let mut bounds_of: Vec<Vec<usize>> = (0..campaigns.len()).map(|c| vec![c]).collect();
        for s in &policy.shared {
            let capacity = channel_names
                .iter()
                .map(|n| s.capacity.get(n).copied().unwrap_or(usize::MAX))
                .collect();
            for c in &s.campaigns {
                bounds_of[campaign_index(c)].push(bounds.len());
            }
            bounds.push(Bound {
                name: s.name.clone(),
                limits: Limits {
                    budget: s.budget.unwrap_or(f64::INFINITY),
                    capacity,
                    max_audience: usize::MAX,
                },
                own: None,
            });
        }
        for [a, b] in &policy.conflicts {
            let (a, b) = (campaign_index(a), campaign_index(b));
            conflicts[a] |= 1 << b;
            conflicts[b] |= 1 << a;
        }
        let per_name = channel_names
            .iter()
            .map(|n| policy.max_per_channel.get(n).copied().unwrap_or(usize::MAX))
            .collect();
        Ok(Problem {
            ids: ids.into_iter().map(str::to_string).collect(),
            opts,
            start,
            channel_names,
            bounds,
            bounds_of,
            caps: Caps {
                max_contacts: policy.max_contacts,
                per_name,
                conflicts,
            },
            status,
            candidate_of,
            ranked,
            timing,
            min_volume: campaigns
                .iter()
                .map(|c| volume(c).map_or(0, |v| v.min))
                .collect(),
        })
    }

    pub fn n_customers(&self) -> usize {
        self.ids.len()
    }

    pub fn options(&self, customer: usize) -> std::ops::Range<usize> {
        self.start[customer]..self.start[customer + 1]
    }

    /// Fresh usage of every bound.
    pub fn usage(&self) -> Vec<Usage> {
        self.bounds
            .iter()
            .map(|b| Usage::new(b.limits.capacity.len()))
            .collect()
    }
}
