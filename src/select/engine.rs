//! The selection pipeline: validate, apply rules, allocate, hold out control, report.

use rayon::prelude::*;

use crate::select::allocate::{allocate, descending, Limits, Pool};
use crate::select::control::{assign_control, fit_target};
use crate::select::curve::profit_curve;
use crate::select::rules::{ContactOption, Rules};
use crate::select::{
    AudienceRow, CampaignConfig, Candidate, ChannelCounts, ExclusionCounts, ExclusionReason,
    ExclusionRow, Group, SelectError, Selection, Summary, SUMMARY_SCHEMA_VERSION,
};

pub(crate) fn validate(
    config: &CampaignConfig,
    candidates: &[Candidate],
) -> Result<Vec<usize>, SelectError> {
    let n_channels = config.channels.len();
    for c in candidates {
        for (field, found) in [("scores", c.scores.len()), ("consent", c.consent.len())] {
            if found != n_channels {
                return Err(SelectError::ChannelArity {
                    customer_id: c.customer_id.clone(),
                    field,
                    expected: n_channels,
                    found,
                });
            }
        }
        let bad_supp = match &c.suppression {
            crate::select::Suppression::Channels(set) => {
                set.iter().copied().find(|&i| i >= n_channels)
            }
            _ => None,
        };
        let bad_contact = c
            .contacts
            .iter()
            .filter_map(|p| p.channel)
            .find(|&i| i >= n_channels);
        for (field, bad) in [("suppression", bad_supp), ("contacts", bad_contact)] {
            if let Some(found) = bad {
                return Err(SelectError::ChannelIndex {
                    customer_id: c.customer_id.clone(),
                    field,
                    n_channels,
                    found,
                });
            }
        }
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // Candidates resolved from a table in id order (a job's scores are) are in order already:
    // one pass over neighbours instead of a sort.
    let in_order = candidates
        .par_windows(2)
        .all(|w| w[0].customer_id < w[1].customer_id);
    if in_order {
        return Ok(order);
    }
    order.par_sort_unstable_by(|&a, &b| candidates[a].customer_id.cmp(&candidates[b].customer_id));
    if let Some(w) = order
        .windows(2)
        .find(|w| candidates[w[0]].customer_id == candidates[w[1]].customer_id)
    {
        return Err(SelectError::DuplicateCustomer {
            customer_id: candidates[w[0]].customer_id.clone(),
        });
    }
    Ok(order)
}

/// Result of the rules for one candidate (in customer-id order).
enum Status {
    Excluded(ExclusionReason),
    /// Index into the pool.
    Pooled(usize),
}

fn scaled(limit: usize, f: f64) -> usize {
    if limit == usize::MAX {
        limit
    } else {
        (limit as f64 / (1.0 - f)).floor() as usize
    }
}

/// Selects the audience. See the module documentation for the rules; the result does not depend
/// on the order of `candidates`.
pub fn select_audience(
    config: &CampaignConfig,
    candidates: &[Candidate],
) -> Result<Selection, SelectError> {
    let chosen = choose(config, candidates)?;
    Ok(chosen.into_selection(config, candidates, |i| candidates[i].customer_id.clone()))
}

/// [`select_audience`] of candidates the caller has no more use for: the audience and the
/// exclusions take the candidates' ids instead of copies (at ten million customers the copies
/// were half a gigabyte beside the candidates).
pub fn select_audience_owned(
    config: &CampaignConfig,
    mut candidates: Vec<Candidate>,
) -> Result<Selection, SelectError> {
    let chosen = choose(config, &candidates)?;
    let mut ids: Vec<String> = candidates
        .iter_mut()
        .map(|c| std::mem::take(&mut c.customer_id))
        .collect();
    // Every candidate is listed once (in the audience or the exclusions), so each id is taken
    // once.
    let selection = chosen.into_selection(config, &candidates, |i| std::mem::take(&mut ids[i]));
    // A candidate's few allocations freed on every core.
    candidates.into_par_iter().for_each(drop);
    Ok(selection)
}

fn choose(config: &CampaignConfig, candidates: &[Candidate]) -> Result<Chosen, SelectError> {
    config.check()?;
    let order = validate(config, candidates)?;
    let rules = Rules::new(config)?;
    let camp = &config.campaign;
    let f = camp.control_fraction;
    let costs: Vec<f64> = config.channels.iter().map(|c| c.cost).collect();

    // Rules and options, in id order; the pool holds customers with an option ≥ the floor.
    let mut status = Vec::with_capacity(order.len());
    let mut pool = Pool {
        start: vec![0],
        opts: Vec::new(),
    };
    let mut pool_cand: Vec<usize> = Vec::new();
    // Every pooled candidate's best option, and its rank key (descending) with its position:
    // the sort moves the 16-byte keys, not the options.
    let mut best_options: Vec<ContactOption> = Vec::new();
    let mut ranked: Vec<(u64, usize)> = Vec::new();
    for &ci in &order {
        let cand = &candidates[ci];
        if let Some(r) = rules.rule_exclusion(cand) {
            status.push(Status::Excluded(r));
            continue;
        }
        let best = rules.options(cand, &mut pool.opts);
        if let Some(b) = best {
            ranked.push((descending(b.key), ranked.len()));
            best_options.push(b);
        }
        if pool.opts.len() > *pool.start.last().unwrap_or(&0) {
            pool.start.push(pool.opts.len());
            status.push(Status::Pooled(pool_cand.len()));
            pool_cand.push(ci);
        } else {
            status.push(Status::Excluded(ExclusionReason::Unprofitable));
        }
    }

    let real = Limits {
        budget: camp.budget,
        capacity: config
            .channels
            .iter()
            .map(|c| c.capacity.unwrap_or(usize::MAX))
            .collect(),
        max_audience: camp.max_audience.unwrap_or(usize::MAX),
    };
    let inflated = Limits {
        budget: camp.budget / (1.0 - f),
        capacity: real.capacity.iter().map(|&c| scaled(c, f)).collect(),
        max_audience: scaled(real.max_audience, f),
    };
    let alloc = allocate(&pool, if f > 0.0 { &inflated } else { &real });

    // Chosen set in rank order: key desc, then id (pool index follows id order).
    let mut chosen: Vec<(usize, ContactOption)> = alloc
        .choice
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.map(|k| (i, pool.options(i)[k])))
        .collect();
    chosen.sort_by(|a, b| b.1.key.total_cmp(&a.1.key).then(a.0.cmp(&b.0)));
    let mut is_control = vec![false; chosen.len()];
    if f > 0.0 {
        let channels: Vec<usize> = chosen.iter().map(|c| c.1.channel).collect();
        let kept = fit_target(&channels, &costs, f, &real);
        chosen = kept.iter().map(|&p| chosen[p]).collect();
        let channels: Vec<usize> = chosen.iter().map(|c| c.1.channel).collect();
        is_control = assign_control(&channels, costs.len(), f, camp.seed);
    }

    let mut in_audience = vec![false; pool.len()];
    let mut audience = Vec::with_capacity(chosen.len());
    for (pos, &(pi, o)) in chosen.iter().enumerate() {
        in_audience[pi] = true;
        audience.push((pool_cand[pi], o, is_control[pos]));
    }

    let mut exclusions = Vec::new();
    let mut counts = ExclusionCounts::default();
    for (k, s) in status.iter().enumerate() {
        let reason = match *s {
            Status::Excluded(r) => r,
            Status::Pooled(pi) if !in_audience[pi] => ExclusionReason::OverBudget,
            Status::Pooled(_) => continue,
        };
        counts.add(reason);
        exclusions.push((order[k], reason));
    }

    // Key descending, then position: the positions are distinct, so the order is total and an
    // unstable sort gives it.
    ranked.par_sort_unstable();
    let ranked_opts: Vec<ContactOption> = ranked.iter().map(|&(_, i)| best_options[i]).collect();
    drop(best_options);
    let contacts: Vec<(ContactOption, bool)> = chosen
        .iter()
        .zip(&is_control)
        .map(|(&(_, o), &c)| (o, c))
        .collect();
    let summary = summarize(
        config,
        candidates.len(),
        &contacts,
        &ranked_opts,
        counts,
        (alloc.prices.lambda, alloc.prices.mu.clone()),
    );
    Ok(Chosen {
        audience,
        exclusions,
        summary,
    })
}

/// What [`choose`] decided, by candidate index: the audience in rank order (candidate, option,
/// control), the exclusions in customer-id order (candidate, reason), and the summary.
struct Chosen {
    audience: Vec<(usize, ContactOption, bool)>,
    exclusions: Vec<(usize, ExclusionReason)>,
    summary: Summary,
}

impl Chosen {
    /// The selection's rows, each candidate's id from `id` (given its index).
    fn into_selection(
        self,
        config: &CampaignConfig,
        candidates: &[Candidate],
        mut id: impl FnMut(usize) -> String,
    ) -> Selection {
        let audience = self
            .audience
            .iter()
            .enumerate()
            .map(|(pos, &(ci, o, control))| {
                audience_row(config, pos + 1, &candidates[ci], id(ci), &o, control)
            })
            .collect();
        let exclusions = self
            .exclusions
            .iter()
            .map(|&(ci, reason)| ExclusionRow {
                customer_id: id(ci),
                reason,
            })
            .collect();
        Selection {
            audience,
            exclusions,
            summary: self.summary,
        }
    }
}

/// One audience row: the customer (under `customer_id`), the option chosen, the group.
pub(crate) fn audience_row(
    config: &CampaignConfig,
    rank: usize,
    cand: &Candidate,
    customer_id: String,
    o: &ContactOption,
    control: bool,
) -> AudienceRow {
    AudienceRow {
        rank,
        customer_id,
        channel: config.channels[o.channel].name.clone(),
        group: if control {
            Group::Control
        } else {
            Group::Target
        },
        score: o.score,
        expected_value: o.expected_value,
        expected_profit: o.profit,
        segment: cand.segment.clone(),
    }
}

/// The summary of an audience: `contacts` are (option, is control) in rank order, `ranked` the
/// best option of every candidate by key (for the profit curve), `prices` the budget price and
/// the capacity prices the allocation used.
pub(crate) fn summarize(
    config: &CampaignConfig,
    n_candidates: usize,
    contacts: &[(ContactOption, bool)],
    ranked: &[ContactOption],
    counts: ExclusionCounts,
    prices: (f64, Vec<f64>),
) -> Summary {
    let camp = &config.campaign;
    let mut per_channel: Vec<ChannelCounts> = config
        .channels
        .iter()
        .map(|c| ChannelCounts {
            channel: c.name.clone(),
            target: 0,
            control: 0,
            target_cost: 0.0,
        })
        .collect();
    let (mut responders, mut revenue, mut spent, mut control_responders) = (0.0, 0.0, 0.0, 0.0);
    for &(o, control) in contacts {
        let pc = &mut per_channel[o.channel];
        if control {
            pc.control += 1;
            control_responders += o.score;
        } else {
            pc.target += 1;
            pc.target_cost += o.cost;
            responders += o.score;
            revenue += o.expected_value;
            spent += o.cost;
        }
    }
    let control_size = contacts.iter().filter(|c| c.1).count();
    Summary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        campaign: camp.name.clone(),
        objective: camp.objective,
        seed: camp.seed,
        control_fraction: camp.control_fraction,
        budget: camp.budget,
        spent,
        candidates: n_candidates,
        audience_size: contacts.len(),
        target_size: contacts.len() - control_size,
        control_size,
        channels: per_channel,
        expected_responders: responders,
        expected_revenue: revenue,
        expected_profit: revenue - spent,
        roi: (spent > 0.0).then(|| (revenue - spent) / spent),
        control_expected_responders: control_responders,
        budget_price: prices.0,
        capacity_prices: prices.1,
        profit_curve: profit_curve(ranked, contacts.len()),
        exclusions: counts,
        matching: Default::default(),
    }
}
