//! The joint problem: every campaign's contact options, aligned by customer, and every limit
//! (own or shared) as a select [`Limits`] with the [`Usage`] that checks it.

use rayon::prelude::*;

use crate::plan::timing::{Timing, MAX_FREQUENCY};
use crate::plan::{CampaignInput, PlanError, PlanPolicy};
use crate::select::engine::validate;
use crate::select::limits::{Limits, Usage};
use crate::select::rules::Rules;
use crate::select::{ExclusionReason, Objective};

/// One (campaign, channel) way to contact one customer: 32 bytes, since a large plan holds
/// tens of millions (the full [`ContactOption`] of the chosen ones is rebuilt for the outputs
/// by [`Problem::contact_option`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt {
    /// What the plan maximizes (the option's `ContactOption::key`).
    pub key: f64,
    pub cost: f64,
    customer: u32,
    /// Past contacts per frequency cap in the window ending on the campaign's send day.
    pub past: [u16; MAX_FREQUENCY],
    campaign: u8,
    /// Index into [`Problem::channel_names`].
    name: u8,
    /// Index into the campaign's channels.
    channel: u8,
}

impl Opt {
    pub fn customer(&self) -> usize {
        self.customer as usize
    }

    pub fn campaign(&self) -> usize {
        usize::from(self.campaign)
    }

    pub fn name(&self) -> usize {
        usize::from(self.name)
    }

    pub fn channel(&self) -> usize {
        usize::from(self.channel)
    }

    /// A campaign's own-channels class: options of one class share cost and limits.
    pub fn class(&self, p: &Problem) -> usize {
        p.class_start[self.campaign()] + self.channel()
    }
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
            Some(_) => o.channel(),
            None => o.name(),
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
    /// Passed the rules, but no option reaches `min_expected_profit` (`unprofitable`; its best
    /// option still counts in the campaign's profit curve).
    NoOption,
}

/// Everything the solver needs.
pub(crate) struct Problem {
    /// Customer ids, sorted; a customer's index is its position.
    pub ids: Vec<String>,
    /// Options sorted by (customer, campaign, channel); a customer's are `opts[start[i]..start[i+1]]`.
    pub opts: Vec<Opt>,
    pub start: Vec<usize>,
    /// Per campaign: its options, ascending.
    pub by_campaign: Vec<Vec<u32>>,
    /// Per campaign: the class of its first channel (see [`Opt::class`]); one more entry at
    /// the end, the number of classes.
    pub class_start: Vec<usize>,
    /// Per class: its first option, which stands for all of them wherever only the class
    /// matters (the limits an option uses, and by how much); `None` for a class without one.
    pub first_of_class: Vec<Option<usize>>,
    pub channel_names: Vec<String>,
    pub bounds: Vec<Bound>,
    /// Per campaign, the bounds its options count against.
    pub bounds_of: Vec<Vec<usize>>,
    pub caps: Caps,
    /// Per campaign, per candidate (in the candidates' order).
    pub status: Vec<Vec<Status>>,
    /// Per campaign, per customer: the candidate index.
    pub candidate_of: Vec<Vec<Option<u32>>>,
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

/// Every customer id of the campaigns, sorted and distinct: the campaigns' id-sorted candidate
/// lists (`orders`, from `validate`) merged.
fn merged_ids<'a>(campaigns: &[CampaignInput<'a>], orders: &[Vec<usize>]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for (input, order) in campaigns.iter().zip(orders) {
        let next: Vec<&str> = order
            .iter()
            .map(|&k| input.candidates[k].customer_id.as_str())
            .collect();
        if next == ids {
            continue;
        }
        let mut merged = Vec::with_capacity(ids.len().max(next.len()));
        let (mut a, mut b) = (ids.iter().peekable(), next.iter().peekable());
        loop {
            let take = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (Some(x), Some(y)) => match x.cmp(y) {
                    std::cmp::Ordering::Less => a.next(),
                    std::cmp::Ordering::Greater => b.next(),
                    std::cmp::Ordering::Equal => {
                        b.next();
                        a.next()
                    }
                },
            };
            merged.extend(take.copied());
        }
        ids = merged;
    }
    ids
}

/// Every campaign's options in one list sorted by (customer, campaign, channel), and where each
/// customer's start: each part is sorted by (customer, channel), so a counting placement in
/// campaign order sorts them.
fn by_customer(
    customers: usize,
    parts: &[CampaignPart],
) -> Result<(Vec<Opt>, Vec<usize>), PlanError> {
    let total: usize = parts.iter().map(|p| p.opts.len()).sum();
    if total > u32::MAX as usize {
        return Err(PlanError::TooLarge {
            what: "contact options (customers × channels)",
            found: total,
            max: u32::MAX as usize,
        });
    }
    let mut start = vec![0; customers + 1];
    for o in parts.iter().flat_map(|p| &p.opts) {
        start[o.customer() + 1] += 1;
    }
    for i in 0..customers {
        start[i + 1] += start[i];
    }
    let Some(&filler) = parts.iter().find_map(|p| p.opts.first()) else {
        return Ok((Vec::new(), start));
    };
    let mut opts = vec![filler; total];
    let mut next = start.clone();
    for o in parts.iter().flat_map(|p| &p.opts) {
        opts[next[o.customer()]] = *o;
        next[o.customer()] += 1;
    }
    Ok((opts, start))
}

/// One campaign's share of the problem.
struct CampaignPart {
    opts: Vec<Opt>,
    status: Vec<Status>,
    candidate_of: Vec<Option<u32>>,
}

/// Campaign `ci`'s options, candidate statuses and ranked best options; `order`: its
/// candidates by id, `ids`: every customer id of the plan, sorted.
fn campaign_part(
    ci: usize,
    input: &CampaignInput,
    rules: &Rules,
    order: &[usize],
    ids: &[&str],
    timing: &Timing,
    name_of: &(dyn Fn(&str) -> Option<usize> + Sync),
) -> Result<CampaignPart, PlanError> {
    let config = input.config;
    let names_here: Vec<usize> = config
        .channels
        .iter()
        .map(|c| name_of(&c.name).unwrap_or(0))
        .collect();
    let mut st = vec![Status::Excluded(ExclusionReason::Unprofitable); input.candidates.len()];
    let mut cand_of = vec![None; ids.len()];
    let mut opts = Vec::new();
    let mut buf = Vec::new();
    // Both lists are sorted by id: the customer index advances with the candidates.
    let mut cust = 0;
    for &k in order {
        let cand = &input.candidates[k];
        while ids[cust] != cand.customer_id.as_str() {
            cust += 1;
        }
        // Fewer candidates than customers, and customers fit a `u32` (`check_sizes`).
        cand_of[cust] = Some(k as u32);
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
        if rules.options(cand, &mut buf).is_some() {
            st[k] = if buf.is_empty() {
                Status::NoOption
            } else {
                Status::Pooled
            };
        }
        let first = opts.len();
        opts.extend(buf.iter().map(|o| Opt {
            key: o.key,
            cost: o.cost,
            customer: cust as u32,
            past,
            campaign: ci as u8,
            name: names_here[o.channel] as u8,
            channel: o.channel as u8,
        }));
        opts[first..].sort_unstable_by_key(|o| o.channel);
    }
    Ok(CampaignPart {
        opts,
        status: st,
        candidate_of: cand_of,
    })
}

/// Options store customers as `u32` and channels as `u8` (see [`Opt`]).
fn check_sizes(
    campaigns: &[CampaignInput],
    customers: usize,
    names: usize,
) -> Result<(), PlanError> {
    let most = campaigns
        .iter()
        .map(|c| c.config.channels.len())
        .max()
        .unwrap_or(0)
        .max(names);
    if most > usize::from(u8::MAX) {
        return Err(PlanError::TooLarge {
            what: "channel names",
            found: most,
            max: usize::from(u8::MAX),
        });
    }
    if customers > u32::MAX as usize {
        return Err(PlanError::TooLarge {
            what: "customers",
            found: customers,
            max: u32::MAX as usize,
        });
    }
    Ok(())
}

impl Problem {
    pub fn build(campaigns: &[CampaignInput], policy: &PlanPolicy) -> Result<Problem, PlanError> {
        check_campaigns(campaigns, policy)?;
        let names: Vec<&str> = campaigns
            .iter()
            .map(|c| c.config.campaign.name.as_str())
            .collect();
        let campaign_index = |n: &str| names.iter().position(|&x| x == n).unwrap_or(0);

        let mut channel_names: Vec<String> = Vec::new();
        for ch in campaigns.iter().flat_map(|c| &c.config.channels) {
            if !channel_names.contains(&ch.name) {
                channel_names.push(ch.name.clone());
            }
        }
        let name_of = |n: &str| channel_names.iter().position(|x| x == n);
        let mut conflicts = vec![0u64; campaigns.len()];
        let timing = Timing::new(campaigns, policy, &name_of, &mut conflicts)?;
        let mut orders = Vec::with_capacity(campaigns.len());
        let mut rules = Vec::with_capacity(campaigns.len());
        for input in campaigns {
            input.config.check()?;
            orders.push(validate(input.config, input.candidates)?);
            rules.push(Rules::new(input.config)?);
        }
        let ids = merged_ids(campaigns, &orders);
        check_sizes(campaigns, ids.len(), channel_names.len())?;
        // Campaigns are independent until their options are merged: one task each, joined in
        // campaign order (so the first campaign's error is the one reported).
        let parts: Vec<Result<CampaignPart, PlanError>> = (0..campaigns.len())
            .into_par_iter()
            .map(|ci| {
                campaign_part(
                    ci,
                    &campaigns[ci],
                    &rules[ci],
                    &orders[ci],
                    &ids,
                    &timing,
                    &name_of,
                )
            })
            .collect();
        let parts = parts.into_iter().collect::<Result<Vec<_>, PlanError>>()?;
        let (opts, start) = by_customer(ids.len(), &parts)?;
        let mut status = Vec::new();
        let mut candidate_of = Vec::new();
        for part in parts {
            status.push(part.status);
            candidate_of.push(part.candidate_of);
        }
        let mut by_campaign = vec![Vec::new(); campaigns.len()];
        for (k, o) in opts.iter().enumerate() {
            by_campaign[o.campaign()].push(k as u32);
        }
        let mut class_start = vec![0];
        for c in campaigns {
            class_start.push(class_start[class_start.len() - 1] + c.config.channels.len());
        }
        let mut first_of_class = vec![None; class_start[campaigns.len()]];
        for (k, o) in opts.iter().enumerate() {
            first_of_class[class_start[o.campaign()] + o.channel()].get_or_insert(k);
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
            by_campaign,
            class_start,
            first_of_class,
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
