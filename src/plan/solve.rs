//! The solver: Lagrangian relaxation of every budget and capacity (own or shared) with an exact
//! per-customer subproblem, multipliers by projected subgradient, and a greedy repair that
//! checks every limit through select's [`Usage`].

use rayon::prelude::*;

use crate::plan::problem::{Opt, Problem};
use crate::select::allocate::descending;
use crate::select::limits::Usage;

/// One coupling constraint of the relaxation: a bound's budget, one of its channel
/// capacities, or its `max_audience`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resource {
    Budget(usize),
    Capacity(usize, usize),
    Audience(usize),
    /// A campaign's `[policy.volume]` minimum: a lower bound, so its multiplier is a bonus.
    MinVolume(usize),
}

impl Resource {
    pub fn bound(self) -> usize {
        match self {
            Resource::Budget(b)
            | Resource::Capacity(b, _)
            | Resource::Audience(b)
            | Resource::MinVolume(b) => b,
        }
    }

    /// +1 for an upper limit, −1 for a lower one (amounts are stored times this).
    pub fn sign(self) -> f64 {
        match self {
            Resource::MinVolume(_) => -1.0,
            _ => 1.0,
        }
    }

    pub fn limit(self, p: &Problem) -> f64 {
        let l = &p.bounds[self.bound()].limits;
        match self {
            Resource::Budget(_) => l.budget,
            Resource::Capacity(_, c) => l.capacity[c] as f64,
            Resource::Audience(_) => l.max_audience as f64,
            Resource::MinVolume(c) => p.min_volume[c] as f64,
        }
    }

    /// What one contact `o` uses of it (0 when the bound does not cover `o`).
    pub fn amount(self, p: &Problem, o: &Opt) -> f64 {
        let b = self.bound();
        if !p.bounds_of[o.campaign()].contains(&b) {
            return 0.0;
        }
        match self {
            Resource::Budget(_) => o.cost,
            Resource::Capacity(_, c) => f64::from(u8::from(p.bounds[b].channel(o) == c)),
            Resource::Audience(_) | Resource::MinVolume(_) => 1.0,
        }
    }
}

/// The relaxation's data: resources and, per option class ([`Opt::class`]: every option of a
/// campaign's channel uses the same resources by the same amounts), its use of each (divided
/// by the limit, so multipliers of money and of counts are on one scale).
pub(crate) struct Relaxation {
    pub resources: Vec<Resource>,
    /// Per class: (resource, amount / limit), in resource order.
    uses: Vec<Vec<(usize, f64)>>,
    /// Per class: uses a resource whose limit is 0, so its options are never taken.
    blocked: Vec<bool>,
}

impl Relaxation {
    pub fn new(p: &Problem) -> Relaxation {
        let mut all = Vec::new();
        for (b, bound) in p.bounds.iter().enumerate() {
            let l = &bound.limits;
            if l.budget.is_finite() {
                all.push(Resource::Budget(b));
            }
            for (c, &cap) in l.capacity.iter().enumerate() {
                if cap != usize::MAX {
                    all.push(Resource::Capacity(b, c));
                }
            }
            if l.max_audience != usize::MAX {
                all.push(Resource::Audience(b));
            }
        }
        all.extend(
            (0..p.min_volume.len())
                .filter(|&c| p.min_volume[c] > 0)
                .map(Resource::MinVolume),
        );
        let classes = p.class_start[p.class_start.len() - 1];
        let mut uses = vec![Vec::new(); classes];
        let mut blocked = vec![false; classes];
        let mut seen = vec![false; classes];
        for o in &p.opts {
            let class = o.class(p);
            if std::mem::replace(&mut seen[class], true) {
                continue;
            }
            for (r, res) in all.iter().enumerate() {
                let a = res.amount(p, o);
                if a <= 0.0 {
                    continue;
                }
                let limit = res.limit(p);
                if limit <= 0.0 {
                    blocked[class] = true;
                } else {
                    uses[class].push((r, res.sign() * a / limit));
                }
            }
        }
        Relaxation {
            resources: all,
            uses,
            blocked,
        }
    }

    pub fn uses(&self, p: &Problem, k: usize) -> &[(usize, f64)] {
        &self.uses[p.opts[k].class(p)]
    }

    /// Whether option `k` uses a resource whose limit is 0 (it is never taken).
    pub fn blocked(&self, p: &Problem, k: usize) -> bool {
        self.blocked[p.opts[k].class(p)]
    }

    /// Per class: the price at `lambda` of what one of its options uses (the same for every
    /// option of the class, so it is summed once); infinite for a blocked class, so that its
    /// options are never worth taking.
    pub fn prices(&self, lambda: &[f64]) -> Vec<f64> {
        self.uses
            .iter()
            .zip(&self.blocked)
            .map(|(u, &blocked)| {
                if blocked {
                    f64::INFINITY
                } else {
                    u.iter().map(|&(r, a)| lambda[r] * a).sum::<f64>()
                }
            })
            .collect()
    }

    /// Key of option `k` less the price of what it uses (`prices` from [`Relaxation::prices`]).
    pub fn priced(&self, p: &Problem, k: usize, prices: &[f64]) -> f64 {
        let o = &p.opts[k];
        o.key - prices[o.class(p)]
    }
}

/// Per-thread scratch space of the per-customer subproblem (no allocation per customer).
#[derive(Default)]
struct Scratch {
    /// The customer's options with a positive priced value, `(value, option)`, best first.
    cands: Vec<(f64, usize)>,
    prefix: Vec<f64>,
    chosen: Vec<usize>,
    per_name: Vec<usize>,
    /// The best set found.
    best_set: Vec<usize>,
}

/// Exact best set of the options in `s.cands` within the per-customer caps, left in
/// `s.best_set`, and its value: branch and bound, include-first, so ties keep earlier options.
fn best_set(p: &Problem, s: &mut Scratch) -> f64 {
    struct Search<'a> {
        p: &'a Problem,
        s: &'a mut Scratch,
        best: f64,
    }
    impl Search<'_> {
        fn timing_allows(&self, o: &Opt) -> bool {
            let t = &self.p.timing;
            if !t.active() {
                return true;
            }
            let chosen: Vec<&Opt> = self.s.chosen.iter().map(|&q| &self.p.opts[q]).collect();
            t.allows(o, &chosen)
        }

        fn go(&mut self, i: usize, cur: f64, mask: u64) {
            if cur > self.best {
                self.best = cur;
                self.s.best_set.clone_from(&self.s.chosen);
            }
            let caps = &self.p.caps;
            let room = caps.max_contacts.saturating_sub(self.s.chosen.len());
            let n = self.s.cands.len();
            if i == n || room == 0 {
                return;
            }
            let end = (i + room).min(n);
            if cur + self.s.prefix[end] - self.s.prefix[i] <= self.best {
                return;
            }
            let (v, k) = self.s.cands[i];
            let o = &self.p.opts[k];
            let bit = 1u64 << o.campaign();
            if mask & bit == 0
                && mask & caps.conflicts[o.campaign()] == 0
                && self.s.per_name[o.name()] < caps.per_name[o.name()]
                && self.timing_allows(o)
            {
                self.s.chosen.push(k);
                self.s.per_name[o.name()] += 1;
                self.go(i + 1, cur + v, mask | bit);
                self.s.per_name[o.name()] -= 1;
                self.s.chosen.pop();
            }
            self.go(i + 1, cur, mask);
        }
    }
    s.prefix.clear();
    s.prefix.push(0.0);
    for &(v, _) in &s.cands {
        s.prefix.push(s.prefix[s.prefix.len() - 1] + v);
    }
    s.chosen.clear();
    s.best_set.clear();
    s.per_name.clear();
    s.per_name.resize(p.channel_names.len(), 0);
    let mut search = Search { p, s, best: 0.0 };
    search.go(0, 0.0, 0);
    search.best
}

/// Customer `i`'s best set at the class `prices` (left in `s.best_set`) and its priced value.
fn customer_best(p: &Problem, rel: &Relaxation, prices: &[f64], i: usize, s: &mut Scratch) -> f64 {
    s.cands.clear();
    // Blocked options are priced at −∞ (see `Relaxation::prices`): the filter drops them.
    s.cands.extend(
        p.options(i)
            .map(|k| (rel.priced(p, k, prices), k))
            .filter(|&(v, _)| v > 0.0),
    );
    s.cands
        .sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    best_set(p, s)
}

/// Per option: in its customer's best set at `lambda` (the relaxation's solution).
fn relaxed_choice(p: &Problem, rel: &Relaxation, lambda: &[f64]) -> Vec<bool> {
    let n = p.n_customers();
    let prices = rel.prices(lambda);
    let sets: Vec<Vec<usize>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut s = Scratch::default();
            let mut out = Vec::new();
            for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(n) {
                customer_best(p, rel, &prices, i, &mut s);
                out.extend_from_slice(&s.best_set);
            }
            out
        })
        .collect();
    let mut chosen = vec![false; p.opts.len()];
    for k in sets.into_iter().flatten() {
        chosen[k] = true;
    }
    chosen
}

/// Customers per parallel chunk; fixed so that float sums do not depend on thread scheduling.
const CHUNK: usize = 2048;

/// The Lagrangian at `lambda`: its value (an upper bound on every feasible plan) and the
/// relaxed solution's use of each resource (as a share of its limit).
pub(crate) fn dual(p: &Problem, rel: &Relaxation, lambda: &[f64]) -> (f64, Vec<f64>) {
    let n = p.n_customers();
    let r = lambda.len();
    let prices = rel.prices(lambda);
    let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut value = 0.0;
            let mut used = vec![0.0; r];
            let mut s = Scratch::default();
            for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(n) {
                value += customer_best(p, rel, &prices, i, &mut s);
                for &k in &s.best_set {
                    for &(res, a) in rel.uses(p, k) {
                        used[res] += a;
                    }
                }
            }
            (value, used)
        })
        .collect();
    let mut value: f64 = lambda
        .iter()
        .zip(&rel.resources)
        .map(|(l, r)| l * r.sign())
        .sum();
    let mut used = vec![0.0; r];
    for (v, u) in parts {
        value += v;
        for (a, b) in used.iter_mut().zip(u) {
            *a += b;
        }
    }
    (value, used)
}

/// What the subgradient found: the best (lowest) dual value and its multipliers.
pub(crate) struct Dual {
    pub upper_bound: f64,
    /// Normalized multipliers (key per share of the limit).
    pub lambda: Vec<f64>,
    pub iterations: usize,
}

const MAX_ITERATIONS: usize = 300;
/// Iterations without a better bound before the step is halved.
const PATIENCE: usize = 8;
/// The subgradient stops once the bound is within this share of the best plan known…
const GAP_TOLERANCE: f64 = 1e-4;
/// …once it has evaluated this many options (iterations × options): on a large plan each
/// iteration is a pass over tens of millions of options, and closing the last 0.01 % takes as
/// many passes again; a small plan runs to [`CONVERGED`] at no cost worth saving.
const WORK_BEFORE_TOLERANCE: usize = 400_000_000;
/// The relative gap at which the bound is as good as the plan.
const CONVERGED: f64 = 1e-9;

/// Projected subgradient with Polyak steps towards `lower` (the best feasible objective known),
/// the step factor halved after [`PATIENCE`] iterations without a better bound.
pub(crate) fn subgradient(p: &Problem, rel: &Relaxation, lower: impl FnMut(&[f64]) -> f64) -> Dual {
    subgradient_with(p, rel, WORK_BEFORE_TOLERANCE, lower)
}

/// [`subgradient`], stopping at [`GAP_TOLERANCE`] once `work` options have been evaluated.
pub(crate) fn subgradient_with(
    p: &Problem,
    rel: &Relaxation,
    work: usize,
    mut lower: impl FnMut(&[f64]) -> f64,
) -> Dual {
    let r = rel.resources.len();
    let mut lambda = vec![0.0; r];
    let mut lb = lower(&lambda);
    let mut best = Dual {
        upper_bound: f64::INFINITY,
        lambda: lambda.clone(),
        iterations: 0,
    };
    let (mut theta, mut stale) = (2.0_f64, 0usize);
    for it in 1..=MAX_ITERATIONS {
        best.iterations = it;
        let (value, used) = dual(p, rel, &lambda);
        if value < best.upper_bound {
            best.upper_bound = value;
            best.lambda.clone_from(&lambda);
            stale = 0;
        } else {
            stale += 1;
            if stale >= PATIENCE {
                theta /= 2.0;
                stale = 0;
                lb = lb.max(lower(&best.lambda));
                if std::env::var_os("BULLSEYE_PLAN_TIMES").is_some() {
                    eprintln!("plan: iteration {it}: bound {} plan {lb}", best.upper_bound);
                }
            }
        }
        let g: Vec<f64> = used
            .iter()
            .zip(&rel.resources)
            .map(|(u, r)| u - r.sign())
            .collect();
        let norm2: f64 = (0..r)
            .filter(|&i| lambda[i] > 0.0 || g[i] > 0.0)
            .map(|i| g[i] * g[i])
            .sum();
        let gap = best.upper_bound - lb;
        let tolerance = if it.saturating_mul(p.opts.len()) >= work {
            GAP_TOLERANCE
        } else {
            CONVERGED
        };
        if norm2 <= 1e-18 || gap <= tolerance * best.upper_bound.abs().max(1.0) || theta < 1e-4 {
            break;
        }
        let step = theta * (value - lb).max(gap * 0.01) / norm2;
        for i in 0..r {
            lambda[i] = (lambda[i] + step * g[i]).max(0.0);
        }
    }
    best
}

/// Per-customer state of a plan being built, and the usage of every bound.
#[derive(Clone)]
pub(crate) struct State {
    pub chosen: Vec<bool>,
    /// Per customer, [`State::stride`] words: the campaigns contacting it as a bit mask, then
    /// one byte saying it is held out (a control member no campaign may contact) and one count
    /// per channel name. One record per customer, so that checking a customer's caps (once per
    /// option in every fill, in an order that jumps between customers) reads one cache line.
    customers: Vec<u64>,
    stride: usize,
    /// Options chosen and customers held out: a fill on a state with neither skips its prefilter.
    marked: usize,
    pub usage: Vec<Usage>,
}

impl State {
    pub fn new(p: &Problem) -> State {
        // The held-out byte and a count per name (each at most the number of campaigns, ≤ 64).
        let stride = 1 + (1 + p.channel_names.len()).div_ceil(8);
        State {
            chosen: vec![false; p.opts.len()],
            customers: vec![0; p.n_customers() * stride],
            stride,
            marked: 0,
            usage: p.usage(),
        }
    }

    /// Campaigns contacting the customer, as a bit mask.
    pub fn mask(&self, customer: usize) -> u64 {
        self.customers[customer * self.stride]
    }

    /// Byte `b` of the customer's record after its mask (0: held out, 1 + n: name n's count).
    fn byte(&self, customer: usize, b: usize) -> u64 {
        (self.customers[customer * self.stride + 1 + b / 8] >> (8 * (b % 8))) & 0xff
    }

    /// Adds `delta` (wrapping, so −1 is `u64::MAX`) to byte `b`, which never overflows (see
    /// [`State::byte`]).
    fn add_byte(&mut self, customer: usize, b: usize, delta: u64) {
        let w = &mut self.customers[customer * self.stride + 1 + b / 8];
        *w = w.wrapping_add(delta.wrapping_shl(8 * (b % 8) as u32));
    }

    fn per_name(&self, customer: usize, name: usize) -> usize {
        self.byte(customer, 1 + name) as usize
    }

    /// Whether the customer is held out of every campaign (a control member).
    pub fn held_out(&self, customer: usize) -> bool {
        self.byte(customer, 0) != 0
    }

    /// Holds the customer out of every campaign (it must not be contacted yet).
    pub fn hold_out(&mut self, customer: usize) {
        if !self.held_out(customer) {
            self.add_byte(customer, 0, 1);
            self.marked += 1;
        }
    }

    /// Whether the per-customer caps and conflicts let option `k` in.
    pub fn customer_allows(&self, p: &Problem, k: usize) -> bool {
        let o = &p.opts[k];
        let i = o.customer();
        self.caps_allow(p, o)
            && (!p.timing.active() || {
                let chosen: Vec<&Opt> = p
                    .options(i)
                    .filter(|&q| self.chosen[q])
                    .map(|q| &p.opts[q])
                    .collect();
                p.timing.allows(o, &chosen)
            })
    }

    /// The caps and conflicts of [`State::customer_allows`] without the rules over time. Taking
    /// options only tightens them: an option they refuse stays refused until one is dropped.
    fn caps_allow(&self, p: &Problem, o: &Opt) -> bool {
        self.caps_allow_as(p, o.customer(), o)
    }

    /// [`State::caps_allow`] for an option of customer `i` in the class of `like`.
    fn caps_allow_as(&self, p: &Problem, i: usize, like: &Opt) -> bool {
        let o = like;
        let m = self.mask(i);
        !self.held_out(i)
            && m & (1 << o.campaign()) == 0
            && m & p.caps.conflicts[o.campaign()] == 0
            && (m.count_ones() as usize) < p.caps.max_contacts
            && self.per_name(i, o.name()) < p.caps.per_name[o.name()]
    }

    /// [`State::customer_allows`] for a fill's entry, `like` an option of its class: without
    /// rules over time, the customer's record is all it reads.
    fn entry_allows(&self, p: &Problem, e: Entry, like: &Opt) -> bool {
        if p.timing.active() {
            self.customer_allows(p, e.option as usize)
        } else {
            self.caps_allow_as(p, e.customer as usize, like)
        }
    }

    /// Per option, a bit: neither chosen nor blocked, and its customer's caps let it in.
    fn open_options(&self, p: &Problem, rel: &Relaxation) -> Vec<u64> {
        (0..p.opts.len().div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let ks = w * 64..((w + 1) * 64).min(p.opts.len());
                ks.filter(|&k| {
                    let o = &p.opts[k];
                    !rel.blocked[o.class(p)] && !self.chosen[k] && self.caps_allow(p, o)
                })
                .fold(0u64, |bits, k| bits | 1 << (k % 64))
            })
            .collect()
    }

    /// Whether withdrawing option `k` keeps its campaign at or above its minimum volume.
    pub fn may_drop(&self, p: &Problem, k: usize) -> bool {
        let c = p.opts[k].campaign();
        self.usage[c].taken > p.min_volume[c]
    }

    /// Whether option `k` fits every bound it counts against.
    pub fn limits_allow(&self, p: &Problem, k: usize) -> bool {
        let o = &p.opts[k];
        p.bounds_of[o.campaign()].iter().all(|&b| {
            let bound = &p.bounds[b];
            self.usage[b].fits(&bound.limits, bound.channel(o), o.cost)
        })
    }

    pub fn take(&mut self, p: &Problem, k: usize) {
        let o = &p.opts[k];
        self.chosen[k] = true;
        self.marked += 1;
        self.customers[o.customer() * self.stride] |= 1 << o.campaign();
        self.add_byte(o.customer(), 1 + o.name(), 1);
        for &b in &p.bounds_of[o.campaign()] {
            self.usage[b].add(p.bounds[b].channel(o), o.cost);
        }
    }

    /// Withdraws option `k` (chosen) from the plan.
    pub fn drop(&mut self, p: &Problem, k: usize) {
        let o = &p.opts[k];
        self.chosen[k] = false;
        self.marked -= 1;
        self.customers[o.customer() * self.stride] &= !(1 << o.campaign());
        self.add_byte(o.customer(), 1 + o.name(), u64::MAX);
        for &b in &p.bounds_of[o.campaign()] {
            self.usage[b].remove(p.bounds[b].channel(o), o.cost);
        }
    }

    /// Σ key of the chosen options, in option order.
    pub fn objective(&self, p: &Problem) -> f64 {
        p.opts
            .iter()
            .zip(&self.chosen)
            .filter(|(_, &c)| c)
            .map(|(o, _)| o.key)
            .sum()
    }
}

/// An option of a fill's order that may enter, with what the sequential pass reads of it: the
/// pass then reads its entries in order and, at random, only the customer's record.
#[derive(Clone, Copy)]
struct Entry {
    option: u32,
    customer: u32,
    class: u32,
}

impl Entry {
    fn of(p: &Problem, k: u32) -> Entry {
        let o = &p.opts[k as usize];
        Entry {
            option: k,
            // Customers fit a `u32` (`Problem::build` checks).
            customer: o.customer() as u32,
            // Classes are fewer than options (`Problem::build` checks those fit a `u32`).
            class: o.class(p) as u32,
        }
    }
}

/// Takes the options in `order` (no option twice), each when the customer's caps and every
/// limit allow it.
pub(crate) fn fill(p: &Problem, rel: &Relaxation, order: &[u32], state: &mut State) {
    // The options of a class use the same limits by the same amounts, and taking only adds to
    // the usage: once one does not fit, none of its class will in this pass.
    // Once every class is full the rest of the order cannot add anything: stop there (on a
    // large plan the limits bind long before the last of tens of millions of options).
    let mut full = rel.blocked.clone();
    let mut open = full.iter().filter(|&&f| !f).count();
    // Options that cannot enter whatever this pass takes before them (chosen, blocked, or their
    // customer's caps already refuse them: taking only tightens those) are dropped first, on
    // every core, so the sequential pass reads only the rest. A class is then found full at a
    // later option of it, if at all: the same options are taken. Which options can enter is
    // read in option order (by customer) into a bit set small enough to stay in cache, which
    // `order` then reads; on an empty plan (the sequential baseline, a repair's first fill)
    // only the blocked ones go. The entries are built one block of the order at a time, so a
    // fill holds a block's entries, not the whole order's (on a large plan a fill runs beside
    // the outputs' rows, at the peak of memory).
    let can = (state.marked > 0).then(|| state.open_options(p, rel));
    let may_enter = |k: u32| match &can {
        Some(can) => can[k as usize / 64] >> (k % 64) & 1 == 1,
        None => !rel.blocked[p.opts[k as usize].class(p)],
    };
    for block in order.chunks(FILL_BLOCK) {
        let entries: Vec<Entry> = block
            .par_iter()
            .filter(|&&k| may_enter(k))
            .map(|&k| Entry::of(p, k))
            .collect();
        for e in entries {
            if open == 0 {
                return;
            }
            let class = e.class as usize;
            // Not chosen: the order holds each option once, and the chosen ones were dropped.
            let Some(first) = p.first_of_class[class].filter(|_| !full[class]) else {
                continue;
            };
            if !state.limits_allow(p, first) {
                full[class] = true;
                open -= 1;
            } else if state.entry_allows(p, e, &p.opts[first]) {
                state.take(p, e.option as usize);
            }
        }
    }
}

/// Options of a fill's order whose entries are built at once (see [`fill`]).
const FILL_BLOCK: usize = 1 << 20;

/// Options by priced value at `lambda`, best first (ties by customer id, campaign, channel).
/// Option indices fit a `u32` (`Problem::build` checks): half the memory of `usize`.
fn priced_order(p: &Problem, rel: &Relaxation, lambda: &[f64]) -> Vec<u32> {
    let prices = rel.prices(lambda);
    // (priced value descending, option ascending) as one integer: a total order, so the
    // unstable sort is deterministic, and integers sort faster than a comparator on floats.
    let mut keyed: Vec<u128> = (0..p.opts.len())
        .into_par_iter()
        .map(|k| (u128::from(descending(rel.priced(p, k, &prices))) << 64) | k as u128)
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|x| x as u32).collect()
}

/// The repair at `lambda` from an empty plan: first the relaxation's own choices (each
/// customer's best set, which a greedy over single options misses when two cheaper options of
/// a customer beat one dear one), in priced order while they fit, then every other option in
/// priced order. Returns the plan and the order.
pub(crate) fn repair(p: &Problem, rel: &Relaxation, lambda: &[f64]) -> (State, Vec<u32>) {
    let order = priced_order(p, rel, lambda);
    let relaxed = relaxed_choice(p, rel, lambda);
    let first: Vec<u32> = order
        .iter()
        .copied()
        .filter(|&k| relaxed[k as usize])
        .collect();
    let mut s = State::new(p);
    reach_minimums(p, rel, &order, &mut s);
    fill(p, rel, &first, &mut s);
    fill(p, rel, &order, &mut s);
    (s, order)
}

/// Takes each campaign's options in `order` while it is under its minimum volume and they fit.
pub(crate) fn reach_minimums(p: &Problem, rel: &Relaxation, order: &[u32], s: &mut State) {
    for (c, &min) in p.min_volume.iter().enumerate() {
        let of_c = order
            .iter()
            .map(|&k| k as usize)
            .filter(|&k| p.opts[k].campaign() == c);
        take_until_minimum(p, rel, c, min, of_c, s);
    }
}

/// Takes the options of campaign `c` in `options`, in turn, while it has fewer than `min`
/// contacts: each one the relaxation leaves open, not chosen yet, and let in by its customer's
/// rules and by every limit.
fn take_until_minimum(
    p: &Problem,
    rel: &Relaxation,
    c: usize,
    min: usize,
    options: impl IntoIterator<Item = usize>,
    s: &mut State,
) {
    for k in options {
        if s.usage[c].taken >= min {
            break;
        }
        if !rel.blocked(p, k) && !s.chosen[k] && s.customer_allows(p, k) && s.limits_allow(p, k) {
            s.take(p, k);
        }
    }
}

/// A plan started again from the campaigns' minimums, for when the plan's other campaigns took
/// the room a minimum needs ([`reach_minimums`] only adds to a plan). On `s` (the control groups
/// held out, nothing chosen), each campaign with a minimum takes its allowed options cheapest
/// first (the most contacts its budgets buy; ties in `order`) until the minimum; then the
/// options of `plan` that still fit join, in `order`.
pub(crate) fn minimums_first(
    p: &Problem,
    rel: &Relaxation,
    order: &[u32],
    plan: &State,
    mut s: State,
) -> State {
    for (c, &min) in p.min_volume.iter().enumerate().filter(|(_, m)| **m > 0) {
        let mut cheapest: Vec<usize> = order
            .iter()
            .map(|&k| k as usize)
            .filter(|&k| p.opts[k].campaign() == c)
            .collect();
        cheapest.sort_by(|&a, &b| p.opts[a].cost.total_cmp(&p.opts[b].cost));
        take_until_minimum(p, rel, c, min, cheapest, &mut s);
    }
    for k in order.iter().map(|&k| k as usize) {
        if plan.chosen[k] && !s.chosen[k] && s.customer_allows(p, k) && s.limits_allow(p, k) {
            s.take(p, k);
        }
    }
    s
}

/// Sequential arbitration: campaigns in the given order, each taking its best customers (by
/// key) from what the earlier ones left.
pub(crate) fn sequential(p: &Problem, rel: &Relaxation) -> State {
    // (campaign, key descending, option) as one integer, as `priced_order`: campaigns fit 6
    // bits and options 32 (`Problem::build` checks), so the three fit a `u128`.
    let mut keyed: Vec<u128> = p
        .opts
        .par_iter()
        .enumerate()
        .map(|(k, o)| {
            (o.campaign() as u128) << 96 | u128::from(descending(o.key)) << 32 | k as u128
        })
        .collect();
    keyed.par_sort_unstable();
    let order: Vec<u32> = keyed.into_iter().map(|x| x as u32).collect();
    let mut s = State::new(p);
    fill(p, rel, &order, &mut s);
    s
}

/// Options leaving the plan for one entering: at most this many (bounds the work per attempt).
const MAX_LEAVING: usize = 16;

/// Exchange moves along every relaxed limit, then a refill in priced order: an option the plan
/// left out for want of room on a limit enters when the chosen options it displaces on that
/// limit earn less in total. Candidates are ranked by their value per unit of the limit net of
/// the other limits' prices (`lambda`), entering best first, leaving worst first, the knapsack
/// exchange the greedy misses when the prices are not exact. Only improving moves are made, so
/// the objective never drops.
pub(crate) fn improve(p: &Problem, rel: &Relaxation, lambda: &[f64], order: &[u32], s: &mut State) {
    for r in 0..rel.resources.len() {
        if !matches!(rel.resources[r], Resource::MinVolume(_)) {
            exchange_on(p, rel, lambda, r, s);
        }
    }
    fill(p, rel, order, s);
}

/// Value of option `k` per unit of resource `r` (its normalized use `a`), net of the prices of
/// the other resources it uses.
fn ratio(p: &Problem, rel: &Relaxation, lambda: &[f64], r: usize, k: usize, a: f64) -> f64 {
    let others: f64 = rel
        .uses(p, k)
        .iter()
        .filter(|u| u.0 != r)
        .map(|&(q, b)| lambda[q] * b)
        .sum();
    (p.opts[k].key - others) / a
}

fn exchange_on(p: &Problem, rel: &Relaxation, lambda: &[f64], r: usize, s: &mut State) {
    let use_of = |k: usize| rel.uses(p, k).iter().find(|u| u.0 == r).map(|u| u.1);
    // Read-only passes over the bound's options, one campaign at a time on every core; both
    // lists keep the options' order, and ties in the sorts are broken by option.
    let b = rel.resources[r].bound();
    let campaigns = || {
        (0..p.by_campaign.len())
            .filter(|&c| p.bounds_of[c].contains(&b))
            .map(|c| &p.by_campaign[c])
    };
    let with_use = |k: &u32| use_of(*k as usize).map(|a| (*k as usize, a));
    let mut leave: Vec<(f64, usize)> = Vec::new();
    for ks in campaigns() {
        leave.par_extend(
            ks.par_iter()
                .filter_map(with_use)
                .filter(|&(k, _)| s.chosen[k])
                .map(|(k, a)| (ratio(p, rel, lambda, r, k, a), k)),
        );
    }
    leave.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // The exchanges below stop at the first entering option whose ratio is not above the
    // cheapest leaving one's: only those above it are worth sorting (on a large plan, a few
    // of the millions left out).
    let floor = leave.first().map_or(f64::INFINITY, |l| l.0);
    let mut enter: Vec<(f64, usize)> = Vec::new();
    for ks in campaigns() {
        enter.par_extend(
            ks.par_iter()
                .filter_map(with_use)
                .filter(|&(k, _)| !s.chosen[k] && !rel.blocked(p, k) && p.opts[k].key > 0.0)
                .map(|(k, a)| (ratio(p, rel, lambda, r, k, a), k))
                .filter(|&(rk, k)| rk > floor && s.customer_allows(p, k)),
        );
    }
    enter.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut next = 0;
    let mut out: Vec<usize> = Vec::with_capacity(MAX_LEAVING);
    for &(rk, k) in &enter {
        if next == leave.len() || leave[next].0 >= rk {
            break;
        }
        if s.chosen[k] || !s.customer_allows(p, k) {
            continue;
        }
        let gain = p.opts[k].key;
        let (mut lost, start) = (0.0, next);
        out.clear();
        let mut fits = s.limits_allow(p, k);
        while !fits && next < leave.len() && out.len() < MAX_LEAVING && leave[next].0 < rk {
            let j = leave[next].1;
            next += 1;
            if !s.chosen[j] || !s.may_drop(p, j) {
                continue;
            }
            lost += p.opts[j].key;
            if lost >= gain {
                break;
            }
            s.drop(p, j);
            out.push(j);
            fits = s.customer_allows(p, k) && s.limits_allow(p, k);
        }
        if fits && lost < gain {
            s.take(p, k);
        } else {
            for &j in out.iter().rev() {
                s.take(p, j);
            }
            next = start;
        }
    }
}
