//! End-to-end and property tests of `select_audience`, and the exact solver the greedy is
//! compared with.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use crate::select::*;

fn base_config(channels: &[(f64, Option<usize>)], budget: f64) -> CampaignConfig {
    CampaignConfig {
        campaign: Campaign {
            name: "t".into(),
            budget,
            objective: Objective::Profit,
            value_per_response: Some(45.0),
            value_column: None,
            min_expected_profit: 0.0,
            max_audience: None,
            control_fraction: 0.0,
            seed: 0,
            send_date: None,
            response_window_days: None,
        },
        channels: channels
            .iter()
            .enumerate()
            .map(|(i, &(cost, capacity))| ChannelConfig {
                name: format!("ch{i}"),
                cost,
                score_column: "score".into(),
                consent_column: None,
                capacity,
            })
            .collect(),
        eligibility: None,
        suppression: None,
        contact_policy: None,
        export: None,
    }
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

// ---------- hand fixtures ----------

#[test]
fn hand_fixture_single_channel() {
    // cost 1, value 45; profits: a 44 (0.1·45−1=3.5 no…) computed below.
    let mut cfg = base_config(&[(1.0, None)], 2.0);
    cfg.campaign.min_expected_profit = 0.5;
    let mk = |id: &str, s: f64| Candidate::new(id, vec![Some(s)]);
    // profits: a 0.2·45−1 = 8, b 0.1·45−1 = 3.5, c 0.03·45−1 = 0.35 (< 0.5), d 0.3·45−1 = 12.5,
    // e suppressed, f 0.1 → 3.5 (tie with b, id later).
    let mut e = mk("e", 0.9);
    e.suppression = Suppression::AllChannels;
    let cands = vec![
        mk("a", 0.2),
        mk("b", 0.1),
        mk("c", 0.03),
        mk("d", 0.3),
        e,
        mk("f", 0.1),
    ];
    let s = select_audience(&cfg, &cands).unwrap();
    let ids: Vec<&str> = s.audience.iter().map(|r| r.customer_id.as_str()).collect();
    assert_eq!(ids, vec!["d", "a"]);
    assert_eq!(s.audience[0].rank, 1);
    assert!((s.audience[0].expected_profit - 12.5).abs() < 1e-12);
    assert!((s.audience[0].expected_value - 13.5).abs() < 1e-12);
    let ex: BTreeMap<&str, ExclusionReason> = s
        .exclusions
        .iter()
        .map(|e| (e.customer_id.as_str(), e.reason))
        .collect();
    assert_eq!(ex["b"], ExclusionReason::OverBudget);
    assert_eq!(ex["c"], ExclusionReason::Unprofitable);
    assert_eq!(ex["e"], ExclusionReason::Suppressed);
    assert_eq!(ex["f"], ExclusionReason::OverBudget);
    let sm = &s.summary;
    assert_eq!(sm.spent, 2.0);
    assert!((sm.expected_revenue - 22.5).abs() < 1e-12);
    assert!((sm.expected_profit - 20.5).abs() < 1e-12);
    assert!((sm.roi.unwrap() - 10.25).abs() < 1e-12);
    assert!((sm.expected_responders - 0.5).abs() < 1e-12);
    assert_eq!(sm.exclusions.get(ExclusionReason::OverBudget), 2);
    assert_eq!(sm.exclusions.get(ExclusionReason::Unprofitable), 1);
    assert_eq!(sm.exclusions.get(ExclusionReason::Suppressed), 1);
    assert_eq!(sm.exclusions.get(ExclusionReason::Cooldown), 0);
    // curve over 5 ranked candidates (d a b f c): cut-off at depth 2 has profit 20.5
    let cut = sm.profit_curve.iter().find(|p| p.cutoff).unwrap();
    assert_eq!(cut.depth, 2);
    assert!((cut.cumulative_expected_profit - 20.5).abs() < 1e-12);
    let last = sm.profit_curve.last().unwrap();
    assert_eq!(last.depth, 5);
    assert!((last.cumulative_expected_profit - (12.5 + 8.0 + 3.5 + 3.5 + 0.35)).abs() < 1e-9);
    // summary.json round trip; every reason present
    let json = serde_json::to_string(sm).unwrap();
    for r in ExclusionReason::ALL {
        assert!(json.contains(&format!("\"{}\":", r.as_str())), "{json}");
    }
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, sm);
    let text = render_summary(sm);
    assert!(
        text.contains("over_budget") && text.contains("cut-off") && text.contains("ROI"),
        "{text}"
    );
}

#[test]
fn hand_fixture_two_channels_fallback_and_objectives() {
    // email cost 0.1 capacity 1, sms cost 1.
    let cfg = base_config(&[(0.1, Some(1)), (1.0, None)], 100.0);
    let x = Candidate::new("x", vec![Some(0.2), Some(0.21)]); // email 8.9, sms 8.45
    let y = Candidate::new("y", vec![Some(0.19), Some(0.2)]); // email 8.45, sms 8.0
    let s = select_audience(&cfg, &[y.clone(), x.clone()]).unwrap();
    let got: Vec<(&str, &str)> = s
        .audience
        .iter()
        .map(|r| (r.customer_id.as_str(), r.channel.as_str()))
        .collect();
    assert_eq!(got, vec![("x", "ch0"), ("y", "ch1")]);
    // responses objective: rank by score; best channel = highest score
    let mut cfg2 = cfg.clone();
    cfg2.campaign.objective = Objective::Responses;
    cfg2.channels[0].capacity = None;
    let s = select_audience(&cfg2, &[y, x]).unwrap();
    let got: Vec<(&str, &str)> = s
        .audience
        .iter()
        .map(|r| (r.customer_id.as_str(), r.channel.as_str()))
        .collect();
    assert_eq!(got, vec![("x", "ch1"), ("y", "ch1")]);
    assert!(
        (s.audience[0].expected_profit - 8.45).abs() < 1e-12,
        "profit still reported"
    );
}

#[test]
fn value_column_and_uplift() {
    let mut cfg = base_config(&[(1.0, None)], 100.0);
    cfg.campaign.value_per_response = None;
    cfg.campaign.value_column = Some("clv".into());
    cfg.campaign.objective = Objective::UpliftProfit;
    let mut a = Candidate::new("a", vec![Some(0.05)]);
    a.value = Some(100.0); // 5 − 1 = 4
    let mut b = Candidate::new("b", vec![Some(-0.02)]);
    b.value = Some(100.0); // negative uplift: −3
    let c = Candidate::new("c", vec![Some(0.5)]); // no value: unprofitable
    let s = select_audience(&cfg, &[a, b, c]).unwrap();
    assert_eq!(s.audience.len(), 1);
    assert!((s.audience[0].expected_profit - 4.0).abs() < 1e-12);
    assert_eq!(s.summary.exclusions.get(ExclusionReason::Unprofitable), 2);
}

#[test]
fn input_errors() {
    let cfg = base_config(&[(1.0, None)], 10.0);
    let a = Candidate::new("a", vec![Some(0.5)]);
    assert!(matches!(
        select_audience(&cfg, &[a.clone(), a.clone()]),
        Err(SelectError::DuplicateCustomer { .. })
    ));
    let bad = Candidate::new("b", vec![Some(0.5), None]);
    assert!(matches!(
        select_audience(&cfg, &[bad]),
        Err(SelectError::ChannelArity {
            field: "scores",
            ..
        })
    ));
    let mut bad = Candidate::new("b", vec![Some(0.5)]);
    bad.suppression = Suppression::Channels([3usize].into_iter().collect());
    assert!(matches!(
        select_audience(&cfg, &[bad]),
        Err(SelectError::ChannelIndex { .. })
    ));
}

#[test]
fn control_group_shares_and_budget() {
    let mut cfg = base_config(&[(0.5, None), (2.0, Some(3000))], 5000.0);
    cfg.campaign.control_fraction = 0.1;
    cfg.campaign.seed = 3;
    let cands: Vec<Candidate> = (0..20000)
        .map(|i| {
            let u = ((i * 7919) % 10007) as f64 / 10007.0;
            let v = ((i * 104729) % 9973) as f64 / 9973.0;
            Candidate::new(format!("c{i:05}"), vec![Some(0.2 * u), Some(0.3 * v)])
        })
        .collect();
    let s = select_audience(&cfg, &cands).unwrap();
    let sm = &s.summary;
    assert!(sm.spent <= 5000.0 + 1e-9, "{}", sm.spent);
    assert!(
        sm.spent > 5000.0 - 2.0 * 20.0,
        "target still spends the budget: {}",
        sm.spent
    );
    assert!(sm.channels[1].target <= 3000);
    let share = sm.control_size as f64 / sm.audience_size as f64;
    assert!((share - 0.1).abs() <= 0.01, "{share}");
    let n = s.audience.len();
    let mut dec = [(0usize, 0usize); 10];
    for r in &s.audience {
        let d = (r.rank - 1) * 10 / n;
        dec[d].0 += 1;
        dec[d].1 += usize::from(r.group == Group::Control);
    }
    for (size, ctrl) in dec {
        assert!(
            (ctrl as f64 / size as f64 - 0.1).abs() <= 0.01,
            "{ctrl}/{size}"
        );
    }
    eprintln!(
        "control test: audience {n}, spent {:.2}, control {}",
        sm.spent, sm.control_size
    );
}

// ---------- exact solver (budget only, integer costs) ----------

/// Exact maximum of Σ profit over at most one option per customer with Σ cost ≤ budget
/// (multiple-choice knapsack by dynamic programming over integer budget).
fn exact_optimum(options: &[Vec<(usize, f64)>], budget: usize) -> f64 {
    let mut dp = vec![0.0_f64; budget + 1];
    for opts in options {
        let prev = dp.clone();
        for b in 0..=budget {
            for &(c, p) in opts {
                if c <= b && prev[b - c] + p > dp[b] {
                    dp[b] = prev[b - c] + p;
                }
            }
        }
    }
    dp[budget]
}

#[test]
fn exact_solver_hand_check() {
    // budget 5; A: (2, 5) or (4, 7); B: (3, 6); C: (1, 1) → best A(2,5)+B(3,6) = 11
    let o = vec![vec![(2, 5.0), (4, 7.0)], vec![(3, 6.0)], vec![(1, 1.0)]];
    assert_eq!(exact_optimum(&o, 5), 11.0);
    assert_eq!(exact_optimum(&o, 8), 14.0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Multi-channel greedy within 1 % of the exact optimum when every contact costs < 1 % of
    /// the budget.
    #[test]
    fn greedy_within_one_percent_of_optimum(
        costs in prop::collection::vec(1usize..=9, 2..=3),
        n in 150usize..400,
        budget_extra in 0usize..600,
        seed in any::<u64>(),
    ) {
        let max_cost = *costs.iter().max().unwrap();
        let budget = 100 * max_cost + 1 + budget_extra;
        let cfg = base_config(&costs.iter().map(|&c| (c as f64, None)).collect::<Vec<_>>(), budget as f64);
        let mut rng = <rand_xoshiro::Xoshiro256Plus as rand::SeedableRng>::seed_from_u64(seed);
        use rand::Rng;
        let cands: Vec<Candidate> = (0..n).map(|i| {
            Candidate::new(format!("c{i:04}"), costs.iter().map(|&c| Some(rng.gen_range(0.0..(c as f64 * 0.06)))).collect())
        }).collect();
        let s = select_audience(&cfg, &cands).unwrap();
        let opts: Vec<Vec<(usize, f64)>> = cands.iter().map(|c| {
            c.scores.iter().zip(&costs).map(|(s, &k)| (k, s.unwrap() * 45.0 - k as f64)).filter(|o| o.1 >= 0.0).collect()
        }).collect();
        let opt = exact_optimum(&opts, budget);
        let got = s.summary.expected_profit;
        prop_assert!(s.summary.spent <= budget as f64 + 1e-9);
        prop_assert!(got >= 0.99 * opt - 1e-9, "greedy {} vs optimum {} ({:.3}%)", got, opt, 100.0 * (1.0 - got / opt));
    }
}

// ---------- random instances for the invariants ----------

#[derive(Debug, Clone)]
struct Instance {
    config: CampaignConfig,
    candidates: Vec<Candidate>,
}

fn instance(max_n: usize, max_channels: usize) -> impl Strategy<Value = Instance> {
    (
        1..=max_channels,
        0..=max_n,
        any::<u64>(),
        0usize..4,
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(move |(k, n, seed, control_kind, with_policy, with_elig)| {
            use rand::Rng;
            let mut rng = <rand_xoshiro::Xoshiro256Plus as rand::SeedableRng>::seed_from_u64(seed);
            let channels: Vec<(f64, Option<usize>)> = (0..k)
                .map(|_| {
                    let cost = [0.1, 0.5, 1.0, 2.5][rng.gen_range(0..4)];
                    let cap = if rng.gen_bool(0.4) {
                        Some(rng.gen_range(0..n.max(1)))
                    } else {
                        None
                    };
                    (cost, cap)
                })
                .collect();
            let budget = rng.gen_range(0.0..=(n as f64 * 1.5));
            let mut config = base_config(&channels, budget);
            config.campaign.control_fraction = [0.0, 0.1, 0.25, 0.5][control_kind];
            config.campaign.seed = rng.gen();
            config.campaign.min_expected_profit = [0.0, -1.0, 2.0][rng.gen_range(0..3)];
            if rng.gen_bool(0.3) {
                config.campaign.max_audience = Some(rng.gen_range(1..n.max(1) + 1));
            }
            if rng.gen_bool(0.3) {
                config.campaign.objective =
                    [Objective::Responses, Objective::UpliftProfit][rng.gen_range(0..2)];
            }
            if with_policy {
                config.contact_policy = Some(ContactPolicy {
                    history: Some("h.csv".into()),
                    as_of: Some("2026-11-22".into()),
                    cooldown_days: Some(rng.gen_range(0..20)),
                    max_contacts: Some(rng.gen_range(1..4)),
                    window_days: Some(rng.gen_range(1..60)),
                });
            }
            if with_elig {
                config.eligibility = Some(Eligibility {
                    include_segments: if rng.gen_bool(0.5) {
                        vec!["a".into(), "b".into()]
                    } else {
                        vec![]
                    },
                    exclude_segments: vec!["c".into()],
                    segment_column: "seg".into(),
                });
            }
            let candidates = (0..n)
                .map(|i| {
                    let mut c = Candidate::new(
                        format!("id{:07}_{i:05}", rng.gen_range(0..10_000_000)),
                        (0..k)
                            .map(|_| {
                                if rng.gen_bool(0.9) {
                                    Some(rng.gen_range(-0.05..0.4))
                                } else {
                                    None
                                }
                            })
                            .collect(),
                    );
                    c.consent = (0..k)
                        .map(|_| [None, Some(true), Some(false)][rng.gen_range(0..3)])
                        .collect();
                    c.segment = [None, Some("a"), Some("b"), Some("c")][rng.gen_range(0..4)]
                        .map(String::from);
                    c.suppression = match rng.gen_range(0..10) {
                        0 => Suppression::AllChannels,
                        1 => Suppression::Channels([rng.gen_range(0..k)].into_iter().collect()),
                        _ => Suppression::None,
                    };
                    c.contacts = (0..rng.gen_range(0..4))
                        .map(|_| PastContact {
                            date: as_of() - Days::new(rng.gen_range(0..90)),
                            channel: None,
                        })
                        .collect();
                    c
                })
                .collect();
            Instance { config, candidates }
        })
}

fn channel_index(cfg: &CampaignConfig, name: &str) -> usize {
    cfg.channels.iter().position(|c| c.name == name).unwrap()
}

/// Independent check of rules 1–5 for a member of the audience on its channel.
fn allowed(cfg: &CampaignConfig, c: &Candidate, ch: usize) -> bool {
    if c.is_suppressed_on(ch) || c.consent[ch] == Some(false) {
        return false;
    }
    if let Some(p) = &cfg.contact_policy {
        let as_of = p.as_of_date().unwrap();
        let cd = i64::from(p.cooldown_days.unwrap_or(0));
        let recent = |days: i64| {
            c.contacts
                .iter()
                .filter(|x| x.date <= as_of && x.date > as_of - Days::new(days as u64))
                .count()
        };
        if cd > 0 && recent(cd) > 0 {
            return false;
        }
        if let (Some(m), Some(w)) = (p.max_contacts, p.window_days) {
            if recent(i64::from(w)) >= m as usize {
                return false;
            }
        }
    }
    if let Some(e) = &cfg.eligibility {
        let seg = c.segment.clone();
        if !e.include_segments.is_empty()
            && !seg.as_ref().is_some_and(|s| e.include_segments.contains(s))
        {
            return false;
        }
        if seg.is_some_and(|s| e.exclude_segments.contains(&s)) {
            return false;
        }
    }
    true
}

fn check_invariants(inst: &Instance, s: &Selection) -> Result<(), TestCaseError> {
    let cfg = &inst.config;
    let by_id: HashMap<&str, &Candidate> = inst
        .candidates
        .iter()
        .map(|c| (c.customer_id.as_str(), c))
        .collect();
    // budget, capacity, max_audience on the target group
    let mut spent = 0.0;
    let mut per_channel = vec![0usize; cfg.channels.len()];
    for r in s.audience.iter().filter(|r| r.group == Group::Target) {
        let ch = channel_index(cfg, &r.channel);
        spent += cfg.channels[ch].cost;
        per_channel[ch] += 1;
    }
    prop_assert!(
        spent <= cfg.campaign.budget * (1.0 + 1e-9) + 1e-9,
        "spent {} > budget {}",
        spent,
        cfg.campaign.budget
    );
    for (ch, &n) in per_channel.iter().enumerate() {
        prop_assert!(n <= cfg.channels[ch].capacity.unwrap_or(usize::MAX));
    }
    prop_assert!(s.summary.target_size <= cfg.campaign.max_audience.unwrap_or(usize::MAX));
    // nobody excluded by a rule is in either group; profit floor respected
    for r in &s.audience {
        let c = by_id[r.customer_id.as_str()];
        prop_assert!(
            allowed(cfg, c, channel_index(cfg, &r.channel)),
            "{} should not be selected",
            r.customer_id
        );
        prop_assert!(r.expected_profit >= cfg.campaign.min_expected_profit);
    }
    // every candidate exactly once
    let mut seen = HashSet::new();
    for id in s
        .audience
        .iter()
        .map(|r| &r.customer_id)
        .chain(s.exclusions.iter().map(|e| &e.customer_id))
    {
        prop_assert!(seen.insert(id.clone()), "{} twice", id);
    }
    prop_assert_eq!(seen.len(), inst.candidates.len());
    // exclusion counts agree with rows; ranks are 1..n
    for reason in ExclusionReason::ALL {
        prop_assert_eq!(
            s.exclusions.iter().filter(|e| e.reason == reason).count(),
            s.summary.exclusions.get(reason)
        );
    }
    for (i, r) in s.audience.iter().enumerate() {
        prop_assert_eq!(r.rank, i + 1);
    }
    // control share: each decile (and overall) within one customer of f × size
    let f = cfg.campaign.control_fraction;
    let n = s.audience.len();
    let mut dec = [(0usize, 0usize); 10];
    for r in &s.audience {
        let d = (r.rank - 1) * 10 / n;
        dec[d].0 += 1;
        dec[d].1 += usize::from(r.group == Group::Control);
    }
    prop_assert!((s.summary.control_size as f64 - f * n as f64).abs() <= 1.0);
    for (size, ctrl) in dec {
        prop_assert!(
            (ctrl as f64 - f * size as f64).abs() <= 1.0 + 1e-9,
            "decile {}/{} at f {}",
            ctrl,
            size,
            f
        );
    }
    Ok(())
}

fn shuffled(v: &[Candidate], seed: u64) -> Vec<Candidate> {
    use rand::seq::SliceRandom;
    let mut rng = <rand_xoshiro::Xoshiro256Plus as rand::SeedableRng>::seed_from_u64(seed);
    let mut v = v.to_vec();
    v.shuffle(&mut rng);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(inst in instance(300, 3), perm in any::<u64>()) {
        let s = select_audience(&inst.config, &inst.candidates).unwrap();
        check_invariants(&inst, &s)?;
        // determinism and input order
        prop_assert_eq!(&s, &select_audience(&inst.config, &inst.candidates).unwrap());
        prop_assert_eq!(&s, &select_audience(&inst.config, &shuffled(&inst.candidates, perm)).unwrap());
        // Candidates handed over give the same selection, their ids moved instead of copied.
        let owned = crate::select::select_audience_owned(&inst.config, inst.candidates.clone());
        prop_assert_eq!(&s, &owned.unwrap());
    }

    #[test]
    fn seed_changes_only_control_membership(inst in instance(300, 3), other in any::<u64>()) {
        let a = select_audience(&inst.config, &inst.candidates).unwrap();
        let mut cfg = inst.config.clone();
        cfg.campaign.seed = other;
        let b = select_audience(&cfg, &inst.candidates).unwrap();
        let strip = |s: &Selection| s.audience.iter().map(|r| (r.rank, r.customer_id.clone(), r.channel.clone())).collect::<Vec<_>>();
        prop_assert_eq!(strip(&a), strip(&b));
        prop_assert_eq!(&a.exclusions, &b.exclusions);
        prop_assert_eq!(&a.summary.exclusions, &b.summary.exclusions);
        prop_assert_eq!(a.summary.spent.to_bits() == b.summary.spent.to_bits() || (a.summary.spent - b.summary.spent).abs() < 1e-9, true);
        let counts = |s: &Selection| s.summary.channels.iter().map(|c| (c.target, c.control)).collect::<Vec<_>>();
        prop_assert_eq!(counts(&a), counts(&b));
        prop_assert_eq!(&a.summary.profit_curve, &b.summary.profit_curve);
    }

    /// Single channel: the audience is the top of the profit ranking of the customers who pass
    /// the rules and the floor, and a bigger budget gives a superset.
    #[test]
    fn single_channel_top_of_ranking_and_monotone(inst in instance(300, 1), more in 0.0f64..200.0) {
        let s = select_audience(&inst.config, &inst.candidates).unwrap();
        let selected: HashSet<&str> = s.audience.iter().map(|r| r.customer_id.as_str()).collect();
        let over: Vec<&str> = s.exclusions.iter().filter(|e| e.reason == ExclusionReason::OverBudget).map(|e| e.customer_id.as_str()).collect();
        let by_id: HashMap<&str, &Candidate> = inst.candidates.iter().map(|c| (c.customer_id.as_str(), c)).collect();
        let key = |id: &str| {
            let c = by_id[id];
            let sc = c.scores[0].unwrap();
            match inst.config.campaign.objective { Objective::Responses => sc, _ => sc * 45.0 - inst.config.channels[0].cost }
        };
        if let Some(last) = s.audience.last() {
            let last_key = key(&last.customer_id);
            for id in &over {
                let k = key(id);
                prop_assert!(k < last_key || (k == last_key && *id > last.customer_id.as_str()), "{} ranked above the cut-off but left out", id);
            }
        }
        let mut cfg = inst.config.clone();
        cfg.campaign.budget += more;
        let bigger = select_audience(&cfg, &inst.candidates).unwrap();
        let big: HashSet<&str> = bigger.audience.iter().map(|r| r.customer_id.as_str()).collect();
        prop_assert!(selected.is_subset(&big));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Large audiences: control share within ±1 point overall and within each decile.
    #[test]
    fn control_share_large(inst in instance(6000, 3).prop_filter("large", |i| i.candidates.len() > 4000)) {
        let mut cfg = inst.config.clone();
        cfg.campaign.budget = 1e9;
        cfg.campaign.max_audience = None;
        for c in &mut cfg.channels { c.capacity = None; }
        cfg.campaign.control_fraction = 0.15;
        cfg.eligibility = None;
        cfg.contact_policy = None;
        let s = select_audience(&cfg, &inst.candidates).unwrap();
        let n = s.audience.len();
        prop_assume!(n >= 2000);
        prop_assert!((s.summary.control_size as f64 / n as f64 - 0.15).abs() <= 0.01);
        let mut dec = [(0usize, 0usize); 10];
        for r in &s.audience {
            let d = (r.rank - 1) * 10 / n;
            dec[d].0 += 1;
            dec[d].1 += usize::from(r.group == Group::Control);
        }
        for (size, ctrl) in dec {
            prop_assert!((ctrl as f64 / size as f64 - 0.15).abs() <= 0.01);
        }
    }
}

/// Exact optimum with per-channel capacities by enumeration (tiny n only); budget not binding.
fn brute_force_with_capacity(options: &[Vec<(usize, f64)>], capacity: &[usize]) -> f64 {
    fn go(i: usize, options: &[Vec<(usize, f64)>], left: &mut Vec<usize>) -> f64 {
        if i == options.len() {
            return 0.0;
        }
        let mut best = go(i + 1, options, left);
        for &(ch, p) in &options[i] {
            if left[ch] > 0 {
                left[ch] -= 1;
                best = best.max(p + go(i + 1, options, left));
                left[ch] += 1;
            }
        }
        best
    }
    go(0, options, &mut capacity.to_vec())
}

/// Gap to exact optima over many random instances (figures quoted in the module docs).
#[test]
fn optimality_report() {
    use rand::Rng;
    let mut rng = <rand_xoshiro::Xoshiro256Plus as rand::SeedableRng>::seed_from_u64(42);
    let (mut worst, mut sum, mut worst_plain, trials) = (0.0_f64, 0.0, 0.0_f64, 500);
    for _ in 0..trials {
        let k = rng.gen_range(2..=3);
        let costs: Vec<usize> = (0..k).map(|_| rng.gen_range(1..=9)).collect();
        let budget = 100 * costs.iter().max().unwrap() + 1 + rng.gen_range(0..600);
        let n = rng.gen_range(150..400);
        let cfg = base_config(
            &costs.iter().map(|&c| (c as f64, None)).collect::<Vec<_>>(),
            budget as f64,
        );
        let cands: Vec<Candidate> = (0..n)
            .map(|i| {
                Candidate::new(
                    format!("c{i:04}"),
                    costs
                        .iter()
                        .map(|&c| Some(rng.gen_range(0.0..(c as f64 * 0.06))))
                        .collect(),
                )
            })
            .collect();
        let opts: Vec<Vec<(usize, f64)>> = cands
            .iter()
            .map(|c| {
                c.scores
                    .iter()
                    .zip(&costs)
                    .map(|(s, &k)| (k, s.unwrap() * 45.0 - k as f64))
                    .filter(|o| o.1 >= 0.0)
                    .collect()
            })
            .collect();
        let opt = exact_optimum(&opts, budget);
        let got = select_audience(&cfg, &cands)
            .unwrap()
            .summary
            .expected_profit;
        // plain greedy: pool built by hand, λ = 0
        let mut pool = crate::select::allocate::Pool {
            start: vec![0],
            opts: Vec::new(),
        };
        let rules = crate::select::rules::Rules::new(&cfg).unwrap();
        for c in &cands {
            rules.options(c, &mut pool.opts);
            pool.start.push(pool.opts.len());
        }
        let limits = crate::select::allocate::Limits {
            budget: budget as f64,
            capacity: vec![usize::MAX; k],
            max_audience: usize::MAX,
        };
        let plain = crate::select::allocate::greedy(
            &pool,
            &limits,
            &crate::select::allocate::Prices::zero(k),
        )
        .total_key;
        let gap = 1.0 - got / opt;
        worst = worst.max(gap);
        worst_plain = worst_plain.max(1.0 - plain / opt);
        sum += gap;
    }
    eprintln!("budget-bound, {trials} instances: mean gap {:.4}%, worst {:.4}% (plain λ=0 greedy worst {:.2}%)", 100.0 * sum / trials as f64, 100.0 * worst, 100.0 * worst_plain);
    assert!(worst < 0.01, "budget-bound worst gap {worst}");
    assert!(
        worst_plain > 0.05,
        "these instances should defeat the plain greedy"
    );
    let (mut worst_cap, mut sum_cap) = (0.0_f64, 0.0);
    for _ in 0..trials {
        let k = rng.gen_range(2..=3);
        let n = rng.gen_range(3..=8);
        let caps: Vec<usize> = (0..k).map(|_| rng.gen_range(1..=n)).collect();
        let cfg = base_config(
            &caps.iter().map(|&c| (1.0, Some(c))).collect::<Vec<_>>(),
            1e6,
        );
        let cands: Vec<Candidate> = (0..n)
            .map(|i| {
                Candidate::new(
                    format!("c{i}"),
                    (0..k).map(|_| Some(rng.gen_range(0.0..0.3))).collect(),
                )
            })
            .collect();
        let opts: Vec<Vec<(usize, f64)>> = cands
            .iter()
            .map(|c| {
                c.scores
                    .iter()
                    .enumerate()
                    .map(|(ch, s)| (ch, s.unwrap() * 45.0 - 1.0))
                    .filter(|o| o.1 >= 0.0)
                    .collect()
            })
            .collect();
        let opt = brute_force_with_capacity(&opts, &caps);
        let got = select_audience(&cfg, &cands)
            .unwrap()
            .summary
            .expected_profit;
        let gap = if opt > 0.0 { 1.0 - got / opt } else { 0.0 };
        worst_cap = worst_cap.max(gap);
        sum_cap += gap;
    }
    eprintln!(
        "capacity-bound, {trials} tiny instances: mean gap {:.3}%, worst {:.2}%",
        100.0 * sum_cap / trials as f64,
        100.0 * worst_cap
    );
    let (mut worst_mid, mut sum_mid) = (0.0_f64, 0.0);
    for _ in 0..trials {
        let n = rng.gen_range(40..=100);
        let caps = [rng.gen_range(1..=n / 2), rng.gen_range(1..=n / 2)];
        let cfg = base_config(&[(1.0, Some(caps[0])), (1.0, Some(caps[1]))], 1e6);
        let cands: Vec<Candidate> = (0..n)
            .map(|i| {
                Candidate::new(
                    format!("c{i:03}"),
                    (0..2).map(|_| Some(rng.gen_range(0.0..0.3))).collect(),
                )
            })
            .collect();
        let opt = exact_two_channel_capacity(&cands, caps);
        let got = select_audience(&cfg, &cands)
            .unwrap()
            .summary
            .expected_profit;
        let gap = if opt > 0.0 { 1.0 - got / opt } else { 0.0 };
        worst_mid = worst_mid.max(gap);
        sum_mid += gap;
    }
    eprintln!("capacity-bound, {trials} instances of 40–100 customers, 2 channels: mean gap {:.3}%, worst {:.2}%", 100.0 * sum_mid / trials as f64, 100.0 * worst_mid);
    assert!(
        sum_mid / (trials as f64) < 0.005,
        "capacity-bound mean gap {}",
        sum_mid / trials as f64
    );
}

/// Exact optimum with two capacity-limited channels (cost 1, value 45, floor 0), budget not
/// binding: DP over (customers seen, contacts used on each channel).
fn exact_two_channel_capacity(cands: &[Candidate], caps: [usize; 2]) -> f64 {
    let w = caps[1] + 1;
    let mut dp = vec![f64::NEG_INFINITY; (caps[0] + 1) * w];
    dp[0] = 0.0;
    for c in cands {
        let p: Vec<f64> = c.scores.iter().map(|s| s.unwrap() * 45.0 - 1.0).collect();
        let prev = dp.clone();
        for a in 0..=caps[0] {
            for b in 0..=caps[1] {
                let cur = prev[a * w + b];
                if cur == f64::NEG_INFINITY {
                    continue;
                }
                if a < caps[0] && p[0] >= 0.0 {
                    let t = &mut dp[(a + 1) * w + b];
                    *t = t.max(cur + p[0]);
                }
                if b < caps[1] && p[1] >= 0.0 {
                    let t = &mut dp[a * w + b + 1];
                    *t = t.max(cur + p[1]);
                }
            }
        }
    }
    dp.into_iter().fold(f64::NEG_INFINITY, f64::max)
}
