//! The `plan` command's file plumbing: read every campaign and the policy, resolve each
//! campaign's candidates exactly as `select` does, call the pure planner
//! ([`crate::plan::plan`]), and write one `select`-shaped folder per campaign plus `plan.json`,
//! published as one folder swap like `select`'s.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::ingest::IngestRequest;
use crate::ledger::RunRecord;
use crate::plan::{self, CampaignInput, Plan, PlanError, PlanPolicy};
use crate::run::job::{check_distinct_folders, file_safe};
use crate::run::ledger::{self as ledger_run, LedgerSettings};
use crate::run::select::{
    campaign_dir, index_and_unscored, load_campaign, load_shared, match_options, publish_staged,
    resolve_scored, segment_column, select_owns, write_export, write_selection, write_side_rejects,
    Frames, Scored, SideTable, Written,
};
use crate::select::{resolve, CampaignConfig};
use crate::{io, Error};

/// Everything the `plan` command needs.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Scores table shared by every campaign.
    pub scores: PathBuf,
    /// Campaign TOMLs, in priority order (used only by the sequential comparison).
    pub campaigns: Vec<PathBuf>,
    /// Policy TOML (`[policy]`); `None`: the default policy.
    pub policy: Option<PathBuf>,
    /// Source of the customers table and the suppression list, as for `select`.
    pub ingest: IngestRequest,
    /// Output folder.
    pub out: PathBuf,
    /// Segment column to carry into the audiences of campaigns without `[eligibility]`.
    pub segment_column: Option<String>,
    /// How long to wait for another process publishing `out`.
    pub lock_timeout: std::time::Duration,
    /// How the CSV outputs' text cells are written.
    pub cells: io::CsvCells,
    /// The ledger the plan is recorded in and whose contacts the contact policies count.
    pub ledger: Option<LedgerSettings>,
    /// The previous plan folder, whose campaign folders `[export]`'s adds and removes compare
    /// with.
    pub previous: Option<PathBuf>,
    /// Share of all customers held out of every campaign as the ledger's global control group
    /// (the same draw as `select --global-control` and a job's `[ledger] global_control`;
    /// needs `ledger`).
    pub global_control: Option<f64>,
}

/// What the `plan` command did.
#[derive(Debug)]
pub struct PlanOutcome {
    pub plan: Plan,
    pub warnings: String,
    pub written: Vec<PathBuf>,
}

/// Reads a policy file; errors name it.
pub fn load_policy(path: &Path) -> Result<PlanPolicy, Error> {
    let text = io::read_text(path)?;
    PlanPolicy::from_toml_str(&text).map_err(|e| match e {
        PlanError::Toml { message } => Error::Plan(PlanError::Toml {
            message: format!(
                "`{}`: {}",
                path.display(),
                io::sanitize_quotes(&message.lines().collect::<Vec<_>>().join(" "))
            ),
        }),
        other => Error::Plan(other),
    })
}

/// `plan.json` and `rejects/` at the top, one `select` folder per campaign.
fn plan_owns(entry: &Path) -> bool {
    if entry.is_dir() && entry.file_name().is_some_and(|f| f != "rejects") {
        return std::fs::read_dir(entry)
            .map(|es| es.flatten().all(|e| select_owns(&e.path())))
            .unwrap_or(false);
    }
    entry.file_name().is_some_and(|f| f == "plan.json") || select_owns(entry)
}

/// The `plan` command (see the module documentation).
pub fn plan(request: &PlanRequest) -> Result<PlanOutcome, Error> {
    let w = publish_staged(
        &request.out,
        request.lock_timeout,
        &plan_owns,
        request.ledger.as_ref(),
        |dir, folder| plan_into(request, dir, folder),
    )?;
    Ok(PlanOutcome {
        plan: w.value,
        warnings: w.warnings,
        written: w.written,
    })
}

fn plan_into(request: &PlanRequest, dir: &Path, folder: &Path) -> Result<Written<Plan>, Error> {
    let policy = match &request.policy {
        Some(p) => load_policy(p)?,
        None => PlanPolicy::default(),
    };
    let mut configs = request
        .campaigns
        .iter()
        .map(|p| load_campaign(p))
        .collect::<Result<Vec<_>, Error>>()?;
    let mut send_dates = Vec::with_capacity(configs.len());
    for config in &mut configs {
        let as_of = ledger_run::command_as_of(config)?;
        send_dates.push(config.default_dates(as_of)?);
    }
    check_distinct_folders(
        configs
            .iter()
            .zip(&request.campaigns)
            .map(|(c, path)| (c.campaign.name.as_str(), path.as_path())),
        "",
    )?;
    let mut warnings = String::new();
    let shared = load_shared(&request.scores, &request.ingest, dir, &mut warnings)?;
    let mut side: Vec<SideTable> = shared.suppressions.clone().into_iter().collect();
    let mut members = Vec::new();
    let mut held_out = None;
    if let Some(l) = &request.ledger {
        side.push(ledger_run::contacts_table(l, folder)?);
        if let Some(share) = request.global_control {
            members = ledger_run::global_control(l, share, &shared.scores)?;
            held_out = Some(members.iter().cloned().collect::<HashSet<String>>());
        }
    }
    let frames = Frames {
        scores: &shared.scores,
        customers: shared.customers.as_ref(),
        side,
        options: match_options(&request.ingest, shared.directory.as_ref()),
        global_control: held_out.as_ref(),
        transaction_ids: &[],
        previous: request.previous.as_deref(),
    };
    let mut w = plan_and_write(
        &configs,
        &request.campaigns,
        frames,
        request.segment_column.as_deref(),
        &policy,
        dir,
        request.cells,
    )?;
    if request.ledger.is_some() {
        let mut inputs: Vec<(&str, &Path)> = vec![("scores", request.scores.as_path())];
        inputs.extend(request.campaigns.iter().map(|p| ("campaign", p.as_path())));
        w.ledger = Some(RunRecord {
            kind: "plan".into(),
            job_name: "plan".into(),
            as_of: send_dates.iter().copied().min().unwrap_or_default(),
            inputs: ledger_run::fingerprints(&inputs)?,
            folder: folder.to_path_buf(),
            campaigns: {
                let mut records = plan_records(&configs, &w.value, &send_dates, "");
                for record in &mut records {
                    ledger_run::add_global_control(record, &members);
                }
                records
            },
        });
    }
    warnings.push_str(&w.warnings);
    w.warnings = warnings;
    Ok(w)
}

/// What the ledger records of a plan: one campaign record per campaign, its audience in the
/// campaign's folder (under `prefix` in the published folder).
pub(crate) fn plan_records(
    configs: &[CampaignConfig],
    plan: &Plan,
    send_dates: &[chrono::NaiveDate],
    prefix: &str,
) -> Vec<crate::ledger::CampaignRecord> {
    configs
        .iter()
        .zip(&plan.selections)
        .zip(send_dates)
        .map(|((config, sel), send)| {
            let folder = file_safe(&config.campaign.name);
            let file = format!("{prefix}{folder}/audience.csv");
            ledger_run::campaign_record(config, sel, *send, &file)
        })
        .collect()
}

/// Resolves each campaign (`configs`, read from `paths`) as `select` does, plans them under
/// `policy`, and writes one `select` folder per campaign under `dir` plus `dir/plan.json`.
/// `segment`: the segment column for campaigns without `[eligibility]`.
pub(crate) fn plan_and_write(
    configs: &[CampaignConfig],
    paths: &[PathBuf],
    frames: Frames,
    segment: Option<&str>,
    policy: &PlanPolicy,
    dir: &Path,
    cells: io::CsvCells,
) -> Result<Written<Plan>, Error> {
    let folders: Vec<String> = configs
        .iter()
        .map(|c| file_safe(&c.campaign.name))
        .collect();
    let mut warnings = String::new();
    let segments = configs
        .iter()
        .map(|config| segment_column(config, segment))
        .collect::<Result<Vec<_>, Error>>()?;
    // Every campaign reads the same scored customers: indexed once, the unscored found once. On
    // an error each campaign builds its own index and reports it as `select` would.
    let (index, unscored) = index_and_unscored(&frames)?;
    let scored = Scored {
        frame: frames.scores,
        index: index.as_ref().map(Cow::Borrowed),
    };
    // Campaigns resolve independently: one task each, errors reported in campaign order.
    let mut resolved = (0..configs.len())
        .into_par_iter()
        .map(|k| {
            resolve_scored(
                &configs[k],
                campaign_dir(&paths[k]),
                scored.clone(),
                frames.customers,
                frames.side.clone(),
                segments[k].as_deref(),
                frames.options,
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<_>, Error>>()?;
    drop(index);
    if let Some(members) = frames.global_control {
        for r in &mut resolved {
            resolve::mark_global_control(&mut r.candidates, members);
        }
    }
    let inputs: Vec<CampaignInput> = configs
        .iter()
        .zip(&resolved)
        .map(|(config, r)| CampaignInput {
            config,
            candidates: &r.candidates,
        })
        .collect();
    let mut plan = plan::plan(&inputs, policy)?;
    // The selections own what the outputs need of the candidates: free them before writing
    // (on a large plan they are most of the memory).
    for r in &mut resolved {
        r.candidates = Vec::new();
    }
    if frames.global_control.is_some() {
        for sel in &mut plan.selections {
            let counts = &mut sel.summary.exclusions;
            counts.include(crate::select::ExclusionReason::GlobalControl);
        }
    }
    let used = resolve::channel_names(configs);
    // Each campaign writes its own folder: one task each, warnings and files joined in
    // campaign order.
    let parts = plan
        .selections
        .par_iter_mut()
        .zip(resolved.par_iter_mut())
        .enumerate()
        .map(|(k, (sel, r))| {
            let mut warnings = String::new();
            resolve::account_for_unscored(sel, &unscored);
            sel.summary.matching = std::mem::take(&mut r.matching);
            for w in sel.summary.matching.warnings(&sel.summary.campaign, &used) {
                warnings.push_str(&format!("warning: {w}\n"));
            }
            let sub = dir.join(&folders[k]);
            std::fs::create_dir_all(&sub).map_err(|source| io::IoError::Write {
                path: sub.clone(),
                source,
            })?;
            warnings.push_str(&write_side_rejects(
                &sub,
                &mut r.side_tables,
                frames.options.max_reject_rate,
            )?);
            let mut written = write_selection(&sub, sel, segments[k].as_deref(), cells)?;
            let before = frames.previous.map(|p| p.join(&folders[k]));
            written.extend(write_export(
                &sub,
                &configs[k],
                sel,
                &frames,
                before.as_deref(),
                cells,
            )?);
            Ok((warnings, written))
        })
        .collect::<Vec<Result<(String, Vec<PathBuf>), Error>>>();
    let mut written = Vec::new();
    for part in parts {
        let (w, files) = part?;
        warnings.push_str(&w);
        written.extend(files);
    }
    let summary = dir.join("plan.json");
    io::write_json_atomic(&summary, &plan.summary)?;
    written.push(summary);
    Ok(Written {
        value: plan,
        warnings,
        written,
        ledger: None,
    })
}
