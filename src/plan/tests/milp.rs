//! The plan against exact optima computed by a MIP solver on random small plans (issue 19,
//! "Optimality"): plans too big to enumerate, so the optima come from golden files.
//!
//! The instances (`tests/golden/plan_milp/instance_NN.json`) come from [`super::instance`]
//! with controls off (control groups are drawn after the optimisation and are no part of the
//! MIP). Their optima (`optima.csv`) were computed once by HiGHS through `scipy.optimize.milp`
//! (`tests/reference/plan_milp.py`, relative gap 0: proven optimal). To regenerate:
//!
//! ```text
//! BULLSEYE_WRITE_PLAN_MILP=1 cargo test --release --lib plan::tests::milp
//! python3 -m venv /tmp/venv-mip && /tmp/venv-mip/bin/pip install scipy numpy
//! /tmp/venv-mip/bin/python tests/reference/plan_milp.py tests/golden/plan_milp
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Instance;
use crate::plan::*;
use crate::select::*;

const INSTANCES: u64 = 20;
const CUSTOMERS: usize = 300;
const MAX_CAMPAIGNS: usize = 5;

/// One instance as the reference script reads it: everything the MIP needs, nothing more.
#[derive(Debug, Serialize, Deserialize)]
struct Golden {
    seed: u64,
    customers: usize,
    campaigns: Vec<GoldenCampaign>,
    max_contacts: usize,
    max_per_channel: BTreeMap<String, usize>,
    conflicts: Vec<[String; 2]>,
    shared: Vec<SharedLimit>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GoldenCampaign {
    name: String,
    budget: f64,
    value_per_response: f64,
    max_audience: Option<usize>,
    channels: Vec<GoldenChannel>,
    /// Per customer (`u000`, `u001`, …), per channel: the response score, `null` when absent.
    scores: Vec<Vec<Option<f64>>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GoldenChannel {
    name: String,
    cost: f64,
    capacity: Option<usize>,
}

impl Golden {
    fn of(seed: u64, inst: &Instance) -> Golden {
        let campaigns = inst
            .configs
            .iter()
            .zip(&inst.candidates)
            .map(|(cfg, cands)| GoldenCampaign {
                name: cfg.campaign.name.clone(),
                budget: cfg.campaign.budget,
                value_per_response: cfg.campaign.value_per_response.unwrap_or(0.0),
                max_audience: cfg.campaign.max_audience,
                channels: cfg
                    .channels
                    .iter()
                    .map(|c| GoldenChannel {
                        name: c.name.clone(),
                        cost: c.cost,
                        capacity: c.capacity,
                    })
                    .collect(),
                scores: cands.iter().map(|c| c.scores.to_vec()).collect(),
            })
            .collect();
        Golden {
            seed,
            customers: inst.candidates[0].len(),
            campaigns,
            max_contacts: inst.policy.max_contacts,
            max_per_channel: inst.policy.max_per_channel.clone(),
            conflicts: inst.policy.conflicts.clone(),
            shared: inst.policy.shared.clone(),
        }
    }

    /// The instance back: the generator's template with the golden numbers put in.
    fn instance(&self) -> Instance {
        let mut template = super::instance(1, 1, 2, false);
        let base = template.configs.swap_remove(0);
        let configs = self
            .campaigns
            .iter()
            .map(|g| {
                let mut cfg = base.clone();
                cfg.campaign.name = g.name.clone();
                cfg.campaign.budget = g.budget;
                cfg.campaign.value_per_response = Some(g.value_per_response);
                cfg.campaign.max_audience = g.max_audience;
                cfg.campaign.control_fraction = 0.0;
                cfg.channels = g
                    .channels
                    .iter()
                    .map(|c| ChannelConfig {
                        name: c.name.clone(),
                        cost: c.cost,
                        score_column: "score".into(),
                        consent_column: None,
                        capacity: c.capacity,
                    })
                    .collect();
                cfg
            })
            .collect();
        let candidates = self
            .campaigns
            .iter()
            .map(|g| {
                g.scores
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Candidate::new(format!("u{i:03}"), s.clone()))
                    .collect()
            })
            .collect();
        Instance {
            configs,
            candidates,
            policy: PlanPolicy {
                max_contacts: self.max_contacts,
                max_per_channel: self.max_per_channel.clone(),
                conflicts: self.conflicts.clone(),
                shared: self.shared.clone(),
                ..PlanPolicy::default()
            },
        }
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan_milp")
}

fn file_name(k: u64) -> String {
    format!("instance_{k:02}.json")
}

fn write_instances() {
    for k in 0..INSTANCES {
        let seed = 19_000 + k;
        let inst = super::instance(seed, CUSTOMERS, MAX_CAMPAIGNS, false);
        let text = serde_json::to_string(&Golden::of(seed, &inst)).unwrap();
        std::fs::write(dir().join(file_name(k)), text + "\n").unwrap();
    }
}

/// `optima.csv`: `file,optimum` per instance.
fn optima() -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(dir().join("optima.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (f, v) = l.split_once(',').unwrap();
            let v = v.split(',').next().unwrap();
            (f.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// The plan within 1 % of the HiGHS optimum, never above it, and its stated upper bound never
/// below it, on every golden instance.
#[test]
fn near_optimal_against_highs_optima() {
    if std::env::var_os("BULLSEYE_WRITE_PLAN_MILP").is_some() {
        write_instances();
        return;
    }
    let optima = optima();
    assert_eq!(optima.len() as u64, INSTANCES);
    let mut worst: f64 = 0.0;
    for (file, opt) in optima {
        let text = std::fs::read_to_string(dir().join(&file)).unwrap();
        let golden: Golden = serde_json::from_str(&text).unwrap();
        let s = golden.instance().plan().summary;
        assert!(
            s.objective <= opt + 1e-6,
            "{file}: plan {} above the optimum {opt}",
            s.objective
        );
        assert!(
            s.objective >= 0.99 * opt,
            "{file}: plan {} below 99 % of the optimum {opt}",
            s.objective
        );
        assert!(
            s.upper_bound >= opt - 1e-6,
            "{file}: bound {} below the optimum {opt}",
            s.upper_bound
        );
        let gap = super::gap_to(opt, s.objective);
        eprintln!(
            "{file}: optimum {opt:.4} plan {:.4} gap {:.4} % bound {:.4}",
            s.objective,
            100.0 * gap,
            s.upper_bound
        );
        worst = worst.max(gap);
    }
    eprintln!("worst gap to the HiGHS optimum: {:.4} %", 100.0 * worst);
}
