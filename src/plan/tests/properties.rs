//! Property tests of the policy's rules over time and per campaign (issue 19, "Checks that must
//! exist"): random plans from [`super::instance`] gain send dates, past contacts, a cool-down,
//! frequency caps, conflict rules with channels and lags, and volume bounds; every plan must
//! keep all of them (counting past contacts and this plan's sends), or fail with the
//! documented `MinVolume` error when a minimum cannot be reached.

use std::collections::BTreeMap;

use chrono::Duration;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use super::{check, contacts_of, date, Instance};
use crate::plan::*;
use crate::select::*;

/// The earliest send day; past contacts all fall before it (a history records the past).
const FIRST_SEND: &str = "2026-03-02";

/// Days since [`FIRST_SEND`] of a campaign's send date.
fn send_offset(cfg: &CampaignConfig) -> i64 {
    let d = cfg.campaign.send_date.as_deref().map_or(FIRST_SEND, |s| s);
    (date(d) - date(FIRST_SEND)).num_days()
}

/// `instance(seed, customers, 4, true)` with the time rules and volume bounds added, drawn
/// from a second generator so the base instance stays the one the other tests know.
fn timed_instance(seed: u64, customers: usize) -> Instance {
    let mut inst = super::instance(seed, customers, 4, true);
    let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0x7153_7e57);
    let first = date(FIRST_SEND);
    for cfg in &mut inst.configs {
        let d = first + Duration::days(rng.gen_range(0..14));
        cfg.campaign.send_date = Some(d.format("%Y-%m-%d").to_string());
    }
    // One history per customer, read by every campaign (as from one contacts file).
    for i in 0..customers {
        let n = if rng.gen_bool(0.5) {
            rng.gen_range(1..=3)
        } else {
            0
        };
        let past: Vec<PastContact> = (0..n)
            .map(|_| PastContact {
                date: first - Duration::days(rng.gen_range(1..=40)),
                channel: None,
            })
            .collect();
        for cands in &mut inst.candidates {
            cands[i].contacts = past.clone();
        }
    }
    let names: Vec<String> = inst
        .configs
        .iter()
        .map(|c| c.campaign.name.clone())
        .collect();
    let p = &mut inst.policy;
    p.max_contacts = rng.gen_range(1..=3);
    if rng.gen_bool(0.4) {
        p.cooldown_days = Some(rng.gen_range(1..=10));
    }
    if rng.gen_bool(0.5) {
        p.frequency = (0..rng.gen_range(1..=2))
            .map(|_| FrequencyCap {
                max_contacts: rng.gen_range(1..=3),
                window_days: rng.gen_range(7..=30),
            })
            .collect();
    }
    if rng.gen_bool(0.6) {
        for _ in 0..rng.gen_range(1..=2) {
            let a = rng.gen_range(0..names.len());
            let b = (a + rng.gen_range(1..names.len())) % names.len();
            let channel = |c: usize, rng: &mut Xoshiro256Plus| {
                let chs = &inst.configs[c].channels;
                rng.gen_bool(0.4)
                    .then(|| chs[rng.gen_range(0..chs.len())].name.clone())
            };
            let rule = ConflictRule {
                a: names[a].clone(),
                a_channel: channel(a, &mut rng),
                b: names[b].clone(),
                b_channel: channel(b, &mut rng),
                lag_days: rng.gen_bool(0.6).then(|| rng.gen_range(1..=10)),
            };
            p.conflict.push(rule);
        }
    }
    if rng.gen_bool(0.6) {
        for name in &names {
            if rng.gen_bool(0.5) {
                let min = if rng.gen_bool(0.6) {
                    rng.gen_range(0..=customers / 3)
                } else {
                    0
                };
                let max = rng
                    .gen_bool(0.5)
                    .then(|| rng.gen_range(min..=customers.max(min)));
                p.volume.insert(name.clone(), Volume { min, max });
            }
        }
    }
    inst
}

/// The time rules, conflict rules and volume bounds, on a plan that `check` already passed.
fn check_rules(inst: &Instance, plan: &Plan) -> Result<(), TestCaseError> {
    let p = &inst.policy;
    let send: Vec<i64> = inst.configs.iter().map(send_offset).collect();
    let first = date(FIRST_SEND);
    let past_of = |id: &str| -> Vec<i64> {
        let k = inst.candidates[0]
            .iter()
            .position(|c| c.customer_id == id)
            .unwrap_or(usize::MAX);
        inst.candidates[0]
            .get(k)
            .map(|c| {
                c.contacts
                    .iter()
                    .map(|x| (x.date - first).num_days())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (id, planned) in contacts_of(plan) {
        let past = past_of(&id);
        let days: Vec<i64> = planned.iter().map(|x| send[x.0]).collect();
        if let Some(cd) = p.cooldown_days.map(i64::from) {
            for (k, &(c, _)) in planned.iter().enumerate() {
                let age = |d: i64| send[c] - d;
                prop_assert!(
                    !past.iter().any(|&d| (0..cd).contains(&age(d))),
                    "{} contacted by {} within the cool-down of a past contact",
                    id,
                    c
                );
                for &(q, _) in &planned[k + 1..] {
                    prop_assert!(
                        q == c || (send[c] - send[q]).abs() >= cd,
                        "{} contacted by {} and {} within the cool-down",
                        id,
                        c,
                        q
                    );
                }
            }
        }
        for (f, cap) in p.frequency.iter().enumerate() {
            let window = i64::from(cap.window_days);
            for &end in &days {
                let within = |d: &i64| (0..window).contains(&(end - d));
                let n = past.iter().filter(|d| within(d)).count()
                    + days.iter().filter(|d| within(d)).count();
                prop_assert!(
                    n <= cap.max_contacts,
                    "{}: {} contacts in the {}-day window ending on day {} (frequency[{}])",
                    id,
                    n,
                    window,
                    end,
                    f
                );
            }
        }
        for (r, rule) in p.conflict.iter().enumerate() {
            let side = |name: &str, channel: &Option<String>, x: &(usize, String)| {
                inst.configs[x.0].campaign.name == name
                    && channel.as_ref().is_none_or(|ch| *ch == x.1)
            };
            for x in &planned {
                for y in &planned {
                    let lagged = rule
                        .lag_days
                        .is_some_and(|lag| (send[x.0] - send[y.0]).abs() >= i64::from(lag));
                    prop_assert!(
                        !(side(&rule.a, &rule.a_channel, x)
                            && side(&rule.b, &rule.b_channel, y)
                            && !lagged),
                        "{}: conflict[{}] broken by {:?} and {:?}",
                        id,
                        r,
                        x,
                        y
                    );
                }
            }
        }
    }
    for (c, sel) in plan.selections.iter().enumerate() {
        let v = p.volume.get(&inst.configs[c].campaign.name);
        let n = sel.summary.target_size;
        prop_assert!(
            n >= v.map_or(0, |v| v.min),
            "campaign {} under its minimum",
            c
        );
        prop_assert!(n <= v.and_then(|v| v.max).unwrap_or(usize::MAX));
    }
    Ok(())
}

/// Target contacts that campaign `c` alone can surely reach, every other campaign empty: a
/// greedy feasible selection (profitable options the customer's history allows, within the
/// campaign's own and shared limits and its volume maximum).
fn reachable_alone(inst: &Instance, c: usize) -> usize {
    let cfg = &inst.configs[c];
    let p = &inst.policy;
    let send = send_offset(cfg);
    let first = date(FIRST_SEND);
    let shared: Vec<&SharedLimit> = p
        .shared
        .iter()
        .filter(|s| s.campaigns.contains(&cfg.campaign.name))
        .collect();
    let max = cfg.campaign.max_audience.unwrap_or(usize::MAX).min(
        p.volume
            .get(&cfg.campaign.name)
            .and_then(|v| v.max)
            .unwrap_or(usize::MAX),
    );
    let (mut spent, mut taken) = (0.0, 0);
    let mut per_channel = vec![0usize; cfg.channels.len()];
    let mut shared_spent = vec![0.0; shared.len()];
    let mut shared_count: Vec<BTreeMap<&str, usize>> = vec![BTreeMap::new(); shared.len()];
    for cand in &inst.candidates[c] {
        let ages: Vec<i64> = cand
            .contacts
            .iter()
            .map(|x| send - (x.date - first).num_days())
            .collect();
        let cooled = p
            .cooldown_days
            .map(i64::from)
            .is_none_or(|cd| ages.iter().all(|&a| a >= cd));
        let capped = p.frequency.iter().all(|f| {
            ages.iter()
                .filter(|&&a| a < i64::from(f.window_days))
                .count()
                < f.max_contacts
        });
        if !cooled || !capped || taken >= max {
            continue;
        }
        let v = cfg.campaign.value_per_response.unwrap_or(0.0);
        let mut order: Vec<usize> = (0..cfg.channels.len()).collect();
        order.sort_by(|&a, &b| cfg.channels[a].cost.total_cmp(&cfg.channels[b].cost));
        for ch in order {
            let chc = &cfg.channels[ch];
            let profitable = cand.scores[ch].is_some_and(|s| s * v - chc.cost > 1e-9);
            let fits = profitable
                && spent + chc.cost <= cfg.campaign.budget
                && per_channel[ch] < chc.capacity.unwrap_or(usize::MAX)
                && shared.iter().enumerate().all(|(k, s)| {
                    shared_spent[k] + chc.cost <= s.budget.unwrap_or(f64::INFINITY)
                        && s.capacity.get(&chc.name).is_none_or(|&cap| {
                            shared_count[k].get(chc.name.as_str()).copied().unwrap_or(0) < cap
                        })
                });
            if fits {
                spent += chc.cost;
                taken += 1;
                per_channel[ch] += 1;
                for k in 0..shared.len() {
                    shared_spent[k] += chc.cost;
                    *shared_count[k].entry(chc.name.as_str()).or_default() += 1;
                }
                break;
            }
        }
    }
    taken
}

/// A failed plan must be the documented `MinVolume` error, and only when the minimum could not
/// be reached; with one campaign holding a minimum and no control groups, a minimum that
/// campaign reaches alone is reachable, so the error would be wrong.
fn check_min_volume_error(inst: &Instance, e: &PlanError) -> Result<(), TestCaseError> {
    let PlanError::MinVolume {
        campaign,
        min,
        reached,
    } = e
    else {
        return Err(TestCaseError::fail(format!("unexpected error: {e}")));
    };
    let v = inst.policy.volume.get(campaign);
    prop_assert_eq!(v.map(|v| v.min), Some(*min));
    prop_assert!(reached < min);
    let with_min: Vec<usize> = (0..inst.configs.len())
        .filter(|&c| {
            inst.policy
                .volume
                .get(&inst.configs[c].campaign.name)
                .is_some_and(|v| v.min > 0)
        })
        .collect();
    let controls = inst
        .configs
        .iter()
        .any(|c| c.campaign.control_fraction > 0.0);
    if let ([c], false) = (with_min.as_slice(), controls) {
        let alone = reachable_alone(inst, *c);
        prop_assert!(
            alone < *min,
            "{} reaches {} alone, but the plan says its minimum {} is unreachable ({} reached)",
            campaign,
            alone,
            min,
            reached
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn time_rules_conflicts_and_volumes_hold(seed in any::<u64>(), n in 1usize..120) {
        let inst = timed_instance(seed, n);
        let result = plan(&inst.inputs(), &inst.policy);
        match &result {
            Ok(plan) => {
                check(&inst, plan)?;
                check_rules(&inst, plan)?;
            }
            Err(e) => check_min_volume_error(&inst, e)?,
        }
        prop_assert_eq!(&result, &plan(&inst.inputs(), &inst.policy), "a rerun gives the same plan");
    }
}

#[test]
fn the_generator_exercises_every_rule() {
    // A property that never meets a rule proves nothing: the seeds the proptest draws from
    // must produce binding time rules, conflicts, volume bounds and the minimum's error.
    let (mut cooldown, mut frequency, mut lagged, mut volume, mut errors) = (0, 0, 0, 0, 0);
    for seed in 0..200 {
        let inst = timed_instance(seed, 60);
        let Ok(plan) = plan(&inst.inputs(), &inst.policy) else {
            errors += 1;
            continue;
        };
        let reasons: Vec<ExclusionReason> = plan
            .selections
            .iter()
            .flat_map(|s| s.exclusions.iter().map(|e| e.reason))
            .collect();
        cooldown += usize::from(reasons.contains(&ExclusionReason::Cooldown));
        frequency += usize::from(reasons.contains(&ExclusionReason::FrequencyCap));
        lagged += usize::from(inst.policy.conflict.iter().any(|r| r.lag_days.is_some()));
        volume += usize::from(inst.policy.volume.values().any(|v| v.min > 0));
    }
    for (what, n) in [
        ("cool-down exclusions", cooldown),
        ("frequency-cap exclusions", frequency),
        ("lagged conflicts", lagged),
        ("volume minimums", volume),
        ("MinVolume errors", errors),
    ] {
        assert!(n >= 5, "only {n} of 200 plans with {what}");
    }
}
