//! Joint planning: several campaigns over the same customers, so that no customer is contacted
//! more than the policy allows, no conflicting campaigns reach the same customer, shared limits
//! hold, and no member of any campaign's control group is contacted by any campaign.
//!
//! The module is pure, like [`crate::select`]: the caller resolves each campaign's
//! [`Candidate`]s (as `select` does) and writes the returned [`Selection`]s and
//! [`PlanSummary`]. Each campaign keeps everything of its own — rules (suppression, consent,
//! cooldown, frequency cap, eligibility, `min_expected_profit`), objective, budget, channel
//! capacities, `max_audience`, control fraction and seed; the [`PlanPolicy`] adds what couples
//! them: `max_contacts` per customer overall and per channel, conflict pairs, and budgets or
//! capacities shared by a group of campaigns.
//!
//! Method (maximise Σ key = expected profit, or responders when every campaign's objective is
//! `responses`):
//! 1. every budget, capacity and `max_audience` (own or shared) is relaxed with a multiplier;
//!    what remains splits by customer, and each customer's best set of (campaign, channel)
//!    options within the caps and conflicts is found exactly (branch and bound over the few
//!    options with a positive priced value). The relaxation's value at any multipliers ≥ 0 is
//!    an upper bound on every plan; the lowest one found is reported (`upper_bound`);
//! 2. multipliers by projected subgradient on limits scaled to 1 (so money and counts share a
//!    scale), Polyak steps towards the best plan known, the step halved after 8 iterations
//!    without a better bound; at most 300 iterations, and on large plans (400 million option
//!    evaluations done) it stops once the bound is within 0.01 % of the best plan known;
//! 3. repair: options in order of priced value (ties by customer id, campaign, channel), each
//!    taken while the customer's caps and every limit allow, through select's `Usage`; the
//!    best of the multipliers of the bound, ±10 % and zero is kept;
//! 4. control groups: each campaign's audience, in rank order, is split by select's stratified,
//!    seeded draw (decile × channel). Controls are drawn *after* the optimisation, from what each
//!    campaign was given, so each control group is a random part of the very customers that
//!    campaign would have contacted (drawn before, they would be a sample of customers the
//!    plan might give to someone else). Every control member is then withdrawn from every
//!    other campaign, and the repair fills the freed room (those customers become targets).
//!    The control share is therefore `control_fraction` of the optimised audience, a little
//!    less of the final one.
//!
//! Every float sum runs in a fixed order (fixed chunks, summed in order), so a plan is the same
//! bits on any number of threads. Options are compact (32 bytes: key, cost, customer, campaign,
//! channel); what they use of each limit is kept per campaign channel, where it is the same for
//! every option; the full contact option of the chosen ones is rebuilt from the rules for the
//! outputs. The bound certifies the plan before control groups (the gap
//! compares the two); what the controls then cost is reported on its own.

mod policy;
mod problem;
mod solve;
mod summary;
mod timing;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::select::control::assign_control;
use crate::select::engine::{audience_row, summarize};
use crate::select::rules::{ContactOption, Rules};
use crate::select::{
    CampaignConfig, Candidate, ExclusionCounts, ExclusionReason, ExclusionRow, SelectError,
    Selection,
};

pub use policy::{ConflictRule, FrequencyCap, PlanPolicy, PolicyFile, SharedLimit, Volume};
pub use summary::{
    render_plan, CampaignPlan, CapPlan, ConstraintPlan, PlanSummary, PLAN_SCHEMA_VERSION,
};

use problem::{Problem, Status, MAX_CAMPAIGNS};
use solve::{
    improve, minimums_first, reach_minimums, repair, sequential, subgradient, Relaxation, Resource,
    State,
};

/// Everything that can go wrong while planning.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum PlanError {
    /// The policy TOML could not be parsed (unknown key, wrong type…).
    #[error("invalid policy toml: {message}")]
    Toml { message: String },
    /// A policy value broke a rule.
    #[error("invalid policy `{key}`: expected {expected}, found {found}")]
    InvalidPolicy {
        key: String,
        expected: String,
        found: String,
    },
    /// Two campaigns with one name (names identify campaigns in the policy and the outputs).
    #[error("campaign name `{name}` used twice: expected distinct campaign names")]
    DuplicateCampaign { name: String },
    #[error("expected between 1 and 64 campaigns in a plan, found {found}")]
    CampaignCount { found: usize },
    /// Responders and money cannot be added into one objective.
    #[error("expected every campaign's objective to be `responses`, or none: a plan adds the campaigns' objectives")]
    MixedObjectives,
    /// A campaign or its candidates broke a selection rule.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// More than the solver's compact option layout holds.
    #[error("expected at most {max} {what} in a plan, found {found}")]
    TooLarge {
        what: &'static str,
        found: usize,
        max: usize,
    },
    /// A campaign's `[policy.volume]` minimum cannot be reached within the rules and limits.
    #[error("campaign `{campaign}` reaches {reached} target contacts, expected at least {min} (`policy.volume.{campaign}.min`): the rules and limits leave no more; lower the minimum or raise the limits")]
    MinVolume {
        campaign: String,
        min: usize,
        reached: usize,
    },
}

/// One campaign of a plan with its resolved candidates (all from the same scores table).
#[derive(Debug, Clone, Copy)]
pub struct CampaignInput<'a> {
    pub config: &'a CampaignConfig,
    pub candidates: &'a [Candidate],
}

/// A plan: one selection per campaign (in the order given) and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub selections: Vec<Selection>,
    pub summary: PlanSummary,
}

/// Plans the campaigns jointly. See the module documentation.
pub fn plan(campaigns: &[CampaignInput], policy: &PlanPolicy) -> Result<Plan, PlanError> {
    let mut clock = Phases::from_env();
    let mut p = Problem::build(campaigns, policy)?;
    check_channel_names(&p, policy)?;
    let rel = Relaxation::new(&p);
    clock.mark("build");
    let mut repairs = Repairs::default();
    let dual = subgradient(&p, &rel, |l| repairs.objective(&p, &rel, l));
    clock.mark("subgradient");
    let scaled = |m: f64| dual.lambda.iter().map(|x| x * m).collect::<Vec<f64>>();
    let (repaired, mut optimised, order, lambda) = repairs.best(
        &p,
        &rel,
        vec![scaled(1.0), scaled(0.9), scaled(1.1), scaled(0.0)],
    );
    drop(repairs);
    clock.mark("repairs");
    improve(&p, &rel, &lambda, &order, &mut optimised);
    let before_controls = optimised.objective(&p);
    clock.mark("improve");

    let control = draw_controls(&p, campaigns, &optimised);
    // An empty plan with the control groups held out of every campaign.
    let controls_held = || {
        let mut s = State::new(&p);
        for (k, o) in p.opts.iter().enumerate() {
            if control[k] {
                s.hold_out(o.customer());
            }
        }
        s
    };
    let mut state = controls_held();
    for (k, o) in p.opts.iter().enumerate() {
        // A subset of a feasible plan: it fits.
        if optimised.chosen[k] && !state.held_out(o.customer()) {
            state.take(&p, k);
        }
    }
    reach_minimums(&p, &rel, &order, &mut state);
    improve(&p, &rel, &lambda, &order, &mut state);
    let short = |s: &State| (0..p.min_volume.len()).any(|c| s.usage[c].taken < p.min_volume[c]);
    if short(&state) {
        // The other campaigns hold the room a minimum needs: the minimums go first instead.
        let mut first = minimums_first(&p, &rel, &order, &optimised, controls_held());
        improve(&p, &rel, &lambda, &order, &mut first);
        if !short(&first) {
            state = first;
        }
    }
    // What the outputs do not read, freed before they are built (a large plan's peak).
    drop((order, optimised));
    for (c, &min) in p.min_volume.iter().enumerate() {
        if state.usage[c].taken < min {
            return Err(PlanError::MinVolume {
                campaign: campaigns[c].config.campaign.name.clone(),
                min,
                reached: state.usage[c].taken,
            });
        }
    }

    clock.mark("controls");
    // The selections (one task per campaign) and the sequential baseline (a sort and a
    // sequential fill) read the plan only: they share the cores.
    let (selections, sequential_objective) = rayon::join(
        || {
            (0..campaigns.len())
                .into_par_iter()
                .map(|c| selection(&p, &rel, &dual.lambda, campaigns[c], c, &state, &control))
                .collect::<Vec<Result<Selection, PlanError>>>()
        },
        || sequential(&p, &rel).objective(&p),
    );
    // In campaign order, so the first campaign's error is the one reported.
    let selections = selections
        .into_iter()
        .collect::<Result<Vec<Selection>, PlanError>>()?;
    let objective = state.objective(&p);
    let masks = (0..p.n_customers()).map(|i| state.mask(i).count_ones());
    let summary = PlanSummary {
        schema_version: PLAN_SCHEMA_VERSION,
        campaigns: selections
            .iter()
            .map(|s| CampaignPlan {
                campaign: s.summary.campaign.clone(),
                target: s.summary.target_size,
                control: s.summary.control_size,
                cost: s.summary.spent,
                expected_responders: s.summary.expected_responders,
                expected_profit: s.summary.expected_profit,
            })
            .collect(),
        objective,
        objective_before_controls: before_controls,
        repair_objective: repaired,
        upper_bound: dual.upper_bound,
        gap: (dual.upper_bound - before_controls) / dual.upper_bound.abs().max(f64::MIN_POSITIVE),
        control_cost: before_controls - objective,
        sequential_objective,
        customers_contacted: masks.clone().filter(|&m| m > 0).count(),
        contacted_more_than_once: masks.filter(|&m| m > 1).count(),
        iterations: dual.iterations,
        constraints: constraints(&p, &rel, &dual.lambda, campaigns, &state),
        caps: cap_prices(&mut p, &rel, &dual.lambda, dual.upper_bound),
    };
    clock.mark("selections and summary");
    Ok(Plan {
        selections,
        summary,
    })
}

/// The repair's objective per multipliers already tried (the repair is deterministic: the same
/// multipliers, bit for bit, give the same plan). The subgradient asks again at each step
/// halving whose best multipliers have not changed, and the final choice asks again for the
/// zero multipliers the subgradient started from; each repair sorts every option and fills.
#[derive(Default)]
struct Repairs {
    tried: Vec<(Vec<u64>, f64)>,
}

impl Repairs {
    fn key(lambda: &[f64]) -> Vec<u64> {
        lambda.iter().map(|x| x.to_bits()).collect()
    }

    fn known(&self, lambda: &[f64]) -> Option<f64> {
        let key = Repairs::key(lambda);
        self.tried.iter().find(|(k, _)| *k == key).map(|t| t.1)
    }

    fn objective(&mut self, p: &Problem, rel: &Relaxation, lambda: &[f64]) -> f64 {
        if let Some(v) = self.known(lambda) {
            return v;
        }
        let v = repair(p, rel, lambda).0.objective(p);
        self.tried.push((Repairs::key(lambda), v));
        v
    }

    /// The best repair over `candidates` (the first on ties): its objective, plan, order and
    /// multipliers. Plans already tried are not rebuilt unless one of them is the best.
    fn best(
        &mut self,
        p: &Problem,
        rel: &Relaxation,
        mut candidates: Vec<Vec<f64>>,
    ) -> (f64, State, Vec<u32>, Vec<f64>) {
        let mut best: Option<(f64, usize)> = None;
        let mut built: Option<(State, Vec<u32>)> = None;
        for (j, lambda) in candidates.iter().enumerate() {
            let (v, fresh) = match self.known(lambda) {
                Some(v) => (v, None),
                None => {
                    let (s, order) = repair(p, rel, lambda);
                    let v = s.objective(p);
                    self.tried.push((Repairs::key(lambda), v));
                    (v, Some((s, order)))
                }
            };
            if best.is_none_or(|b| v > b.0) {
                best = Some((v, j));
                built = fresh;
            }
        }
        let Some((v, j)) = best else {
            unreachable!("the plan tries four multipliers")
        };
        let lambda = candidates.swap_remove(j);
        let (s, order) = built.unwrap_or_else(|| repair(p, rel, &lambda));
        (v, s, order, lambda)
    }
}

/// Wall and CPU time per phase on stderr when `BULLSEYE_PLAN_TIMES` is set (for profiling
/// large plans: the CPU time says whether a phase used both cores, and is the figure to compare
/// when other processes share the machine).
struct Phases {
    last: Option<(std::time::Instant, f64)>,
}

impl Phases {
    fn from_env() -> Phases {
        Phases {
            last: std::env::var_os("BULLSEYE_PLAN_TIMES")
                .map(|_| (std::time::Instant::now(), cpu_seconds())),
        }
    }

    fn mark(&mut self, phase: &str) {
        if let Some((t, cpu)) = self.last {
            let now = cpu_seconds();
            eprintln!(
                "plan: {phase}: {:.2} s ({:.2} s CPU)",
                t.elapsed().as_secs_f64(),
                now - cpu
            );
            self.last = Some((std::time::Instant::now(), now));
        }
    }
}

/// User and system CPU time of the process so far, every thread (0 when it cannot be read).
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the `rusage` it is given; a zeroed one is valid if it fails.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// What one more contact per customer (overall, and per capped channel) is worth: the rise of
/// the Lagrangian at the bound's multipliers when the cap is one higher. `bound`: the
/// Lagrangian at `lambda` under the policy's caps (the subgradient's best, bit for bit: the dual
/// is deterministic).
fn cap_prices(p: &mut Problem, rel: &Relaxation, lambda: &[f64], bound: f64) -> Vec<CapPlan> {
    let base = p.caps.clone();
    let at = |p: &Problem| solve::dual(p, rel, lambda).0;
    let mut out = Vec::new();
    let mut price = |p: &mut Problem, cap: String, limit: usize| {
        let worth = (at(p) - bound).max(0.0);
        p.caps = base.clone();
        out.push(CapPlan {
            in_words: summary::cap_words(&cap, worth),
            cap,
            limit,
            worth_of_one_more: worth,
        });
    };
    if base.max_contacts < MAX_CAMPAIGNS {
        p.caps.max_contacts += 1;
        price(p, "max_contacts".into(), base.max_contacts);
    }
    for (n, &cap) in base.per_name.iter().enumerate() {
        if cap != usize::MAX {
            p.caps.per_name[n] += 1;
            let name = format!("max_per_channel.{}", p.channel_names[n]);
            price(p, name, cap);
        }
    }
    out
}

/// Channel names of the policy must be channels of the plan's campaigns: a typo would
/// otherwise lift the cap silently.
fn check_channel_names(p: &Problem, policy: &PlanPolicy) -> Result<(), PlanError> {
    let keys = policy
        .max_per_channel
        .keys()
        .map(|k| ("policy.max_per_channel".to_string(), k))
        .chain(policy.shared.iter().enumerate().flat_map(|(i, s)| {
            s.capacity
                .keys()
                .map(move |k| (format!("policy.shared[{i}].capacity"), k))
        }));
    for (key, name) in keys {
        if !p.channel_names.contains(name) {
            return Err(PlanError::InvalidPolicy {
                key,
                expected: format!(
                    "a channel of the plan's campaigns ({})",
                    p.channel_names.join(", ")
                ),
                found: format!("{name:?}"),
            });
        }
    }
    Ok(())
}

/// A campaign's chosen options in rank order: key descending, ties by customer id.
fn ranked_choice(p: &Problem, campaign: usize, chosen: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut ks: Vec<usize> = p.by_campaign[campaign]
        .iter()
        .map(|&k| k as usize)
        .filter(|&k| chosen(k))
        .collect();
    // A total order (ties by option): the unstable sort is deterministic.
    ks.par_sort_unstable_by(|&a, &b| p.opts[b].key.total_cmp(&p.opts[a].key).then(a.cmp(&b)));
    ks
}

/// Per option: drawn into its campaign's control group.
fn draw_controls(p: &Problem, campaigns: &[CampaignInput], plan: &State) -> Vec<bool> {
    let mut control = vec![false; p.opts.len()];
    for (c, input) in campaigns.iter().enumerate() {
        let camp = &input.config.campaign;
        if camp.control_fraction <= 0.0 {
            continue;
        }
        let ks = ranked_choice(p, c, |k| plan.chosen[k]);
        let channels: Vec<usize> = ks.iter().map(|&k| p.opts[k].channel()).collect();
        let drawn = assign_control(
            &channels,
            input.config.channels.len(),
            camp.control_fraction,
            camp.seed,
        );
        for (&k, d) in ks.iter().zip(drawn) {
            control[k] = d;
        }
    }
    control
}

/// Why a pooled customer of `campaign` is not in its audience.
fn reason(
    p: &Problem,
    rel: &Relaxation,
    state: &State,
    campaign: usize,
    i: usize,
) -> ExclusionReason {
    let mask = state.mask(i);
    if state.held_out(i) {
        ExclusionReason::ControlElsewhere
    } else if mask & p.caps.conflicts[campaign] != 0 {
        ExclusionReason::Conflict
    } else if mask != 0
        && p.options(i)
            .filter(|&k| p.opts[k].campaign() == campaign && !rel.blocked(p, k))
            .all(|k| !state.customer_allows(p, k))
    {
        ExclusionReason::AssignedElsewhere
    } else {
        ExclusionReason::OverBudget
    }
}

/// The multiplier of `res` per unit of its limit (0 when it was not relaxed).
fn price(p: &Problem, rel: &Relaxation, lambda: &[f64], res: Resource) -> f64 {
    match rel.resources.iter().position(|&r| r == res) {
        Some(i) => per_unit(lambda[i], res.limit(p)),
        None => 0.0,
    }
}

/// A normalized multiplier per unit of a limit (a limit of 0 is never relaxed: 0).
fn per_unit(lambda: f64, limit: f64) -> f64 {
    if limit > 0.0 {
        lambda / limit
    } else {
        0.0
    }
}

fn selection(
    p: &Problem,
    rel: &Relaxation,
    lambda: &[f64],
    input: CampaignInput,
    c: usize,
    state: &State,
    control: &[bool],
) -> Result<Selection, PlanError> {
    let config = input.config;
    let cand_of = |i: usize| p.candidate_of[c][i].map(|k| &input.candidates[k as usize]);
    let ks = ranked_choice(p, c, |k| state.chosen[k] || control[k]);
    let mut audience = Vec::with_capacity(ks.len());
    let mut contacts = Vec::with_capacity(ks.len());
    let mut in_audience = vec![false; p.n_customers()];
    let rules = Rules::new(config)?;
    let mut buf = Vec::new();
    for (pos, &k) in ks.iter().enumerate() {
        let i = p.opts[k].customer();
        in_audience[i] = true;
        // Every option comes from a candidate, so `cand_of` finds it.
        if let Some(cand) = cand_of(i) {
            let o = contact_option(&rules, cand, p.opts[k].channel(), &mut buf);
            let id = cand.customer_id.clone();
            audience.push(audience_row(config, pos + 1, cand, id, &o, control[k]));
            contacts.push((o, control[k]));
        }
    }
    let mut counts: ExclusionCounts = ExclusionReason::PLAN.iter().map(|&r| (r, 0)).collect();
    let mut exclusions = Vec::new();
    for (i, &k) in p.candidate_of[c].iter().enumerate() {
        let Some(k) = k.map(|k| k as usize) else {
            continue;
        };
        let r = match p.status[c][k] {
            Status::Excluded(r) => r,
            Status::NoOption => ExclusionReason::Unprofitable,
            Status::Pooled if in_audience[i] => continue,
            Status::Pooled => reason(p, rel, state, c, i),
        };
        counts.add(r);
        exclusions.push(ExclusionRow {
            customer_id: input.candidates[k].customer_id.clone(),
            reason: r,
        });
    }
    let prices = (
        price(p, rel, lambda, Resource::Budget(c)),
        (0..config.channels.len())
            .map(|ch| price(p, rel, lambda, Resource::Capacity(c, ch)))
            .collect(),
    );
    let summary = summarize(
        config,
        input.candidates.len(),
        &contacts,
        &ranked(p, c, input, &rules, &mut buf),
        counts,
        prices,
    );
    Ok(Selection {
        audience,
        exclusions,
        summary,
    })
}

/// The best option of every candidate of campaign `c` that passed the rules, by key, ties by id
/// (for the profit curve). Rebuilt per campaign rather than kept for all: a large plan holds
/// tens of millions of candidates.
fn ranked(
    p: &Problem,
    c: usize,
    input: CampaignInput,
    rules: &Rules,
    buf: &mut Vec<ContactOption>,
) -> Vec<ContactOption> {
    let mut best: Vec<ContactOption> = p.candidate_of[c]
        .iter()
        .flatten()
        .map(|&k| k as usize)
        .filter(|&k| matches!(p.status[c][k], Status::Pooled | Status::NoOption))
        .filter_map(|k| {
            buf.clear();
            rules.options(&input.candidates[k], buf)
        })
        .collect();
    // Customers are in id order, so a stable sort keeps ties by id.
    best.sort_by(|a, b| b.key.total_cmp(&a.key));
    best
}

/// The full option of `cand` on `channel`, as the problem was built from it (options keep only
/// what the solver reads).
fn contact_option(
    rules: &Rules,
    cand: &Candidate,
    channel: usize,
    buf: &mut Vec<ContactOption>,
) -> ContactOption {
    buf.clear();
    rules.options(cand, buf);
    match buf.iter().find(|o| o.channel == channel) {
        Some(&o) => o,
        None => unreachable!("the rules are deterministic: the option was built from them"),
    }
}

fn constraints(
    p: &Problem,
    rel: &Relaxation,
    lambda: &[f64],
    campaigns: &[CampaignInput],
    state: &State,
) -> Vec<ConstraintPlan> {
    rel.resources
        .iter()
        .enumerate()
        .map(|(r, &res)| {
            let b = res.bound();
            let bound = &p.bounds[b];
            let u = &state.usage[b];
            let (kind, channel, used) = match res {
                Resource::Budget(_) => ("budget", None, u.spent),
                Resource::Capacity(_, ch) => (
                    "capacity",
                    Some(match bound.own {
                        Some(c) => campaigns[c].config.channels[ch].name.clone(),
                        None => p.channel_names[ch].clone(),
                    }),
                    u.per_channel[ch] as f64,
                ),
                Resource::Audience(_) => ("max_audience", None, u.taken as f64),
                Resource::MinVolume(_) => ("min_volume", None, u.taken as f64),
            };
            let limit = res.limit(p);
            // What an option uses depends on its class only: one option of each class stands
            // for all of them (a class of another campaign uses 0 of this bound).
            let smallest = p
                .first_of_class
                .iter()
                .flatten()
                .filter(|&&k| !rel.blocked(p, k))
                .map(|&k| res.amount(p, &p.opts[k]))
                .filter(|&a| a > 0.0)
                .fold(f64::INFINITY, f64::min);
            let mut c = ConstraintPlan {
                scope: bound.name.clone(),
                kind: kind.to_string(),
                channel,
                limit,
                used,
                binding: match res {
                    Resource::MinVolume(_) => used <= limit,
                    _ => limit - used < smallest,
                },
                shadow_price: per_unit(lambda[r], limit),
                in_words: String::new(),
            };
            c.in_words = summary::constraint_words(&c);
            c
        })
        .collect()
}
