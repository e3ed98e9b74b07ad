//! `bullseye run JOB.toml`: the stages a job names, one after the other, into a staging folder
//! that is published atomically as `OUT/<as-of>/` (or `OUT/<as-of>.failed/` when the run fails),
//! with `manifest.json` recording inputs, models, row counts, timings, drift and warnings.
//!
//! The library does not print: progress goes to an [`Observer`] the caller supplies (the CLI's
//! progress bars or JSON log lines).

mod background;
mod coded;
mod config;
mod manifest;
mod publish;
mod sink;
mod stages;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;

use crate::ledger::RunRecord;
use crate::run::ledger::{publish_recorded, LedgerSettings};
use crate::{io, Error};

pub(crate) use config::check_distinct_folders;
pub use config::{
    BasketJob, BasketSettings, ClvSettings, DriftAction, DriftSettings, Job, JobConfig, JobModel,
    JobSettings, KSetting, LedgerJobSettings, ModelSettings, OutputSettings, SegmentSettings,
    SelectSettings, Stage, ThresholdValue, TrainSettings, BASKET_TOP_N_DEFAULT,
};
pub use manifest::{
    list_outputs, DriftRecord, InputRecord, JobRecord, Manifest, ModelDriftRecord, ModelRecord,
    OutputRecord, StagePart, StageRecord, MANIFEST_FILE, MANIFEST_SCHEMA_VERSION,
};
pub use publish::Staging;
pub use sink::PostgresSink;
pub(crate) use stages::file_safe;

/// Receives a run's progress. Every method has an empty default.
pub trait Observer: Sync {
    /// Stage `index` (0-based) of `total` starts.
    fn stage_started(&self, _stage: Stage, _index: usize, _total: usize) {}
    /// A stage finished.
    fn stage_finished(&self, _stage: Stage, _record: &StageRecord) {}
    /// Something the reader of the manifest should know (also recorded there).
    fn warning(&self, _message: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Overrides of the job file from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub as_of: Option<NaiveDate>,
    pub out: Option<PathBuf>,
    /// How long to wait for another process publishing the same `OUT/<as-of>/` (default: fail at
    /// once).
    pub lock_timeout: std::time::Duration,
}

/// A published successful run.
#[derive(Debug)]
pub struct RunOutcome {
    /// `OUT/<as-of>/`.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// What the stages found, as text for a terminal.
    pub summary: String,
}

/// The ledger a job records in, unless `[ledger] enabled = false`: `[ledger] path`, else
/// `bullseye.db` in `out`.
pub fn ledger_settings(job: &Job, out: &Path) -> Option<LedgerSettings> {
    let l = &job.config.ledger;
    l.enabled.then(|| LedgerSettings {
        path: l
            .path
            .clone()
            .unwrap_or_else(|| out.join(crate::ledger::DEFAULT_FILE)),
        busy_timeout: crate::ledger::BUSY_TIMEOUT_DEFAULT,
    })
}

/// The as-of date of a run: the command line's, the job's, else today (local time).
pub fn as_of_date(job: &Job, opts: &RunOptions) -> NaiveDate {
    opts.as_of
        .or(job.config.job.as_of)
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Runs a job. On failure the partial outputs and a manifest with the exit status and the error
/// are published to `OUT/<as-of>.failed/` and the error says so; `OUT/<as-of>/` is not touched.
pub fn run_job(job: &Job, opts: &RunOptions, observer: &dyn Observer) -> Result<RunOutcome, Error> {
    let started = Instant::now();
    let as_of = as_of_date(job, opts);
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| job.config.job.out.clone());
    let staging = Staging::create(&out, &as_of.to_string(), opts.lock_timeout)?;
    let ledger = ledger_settings(job, &out);
    let mut manifest = Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
        job: JobRecord {
            name: job.name().to_string(),
            file: job.file.display().to_string(),
            as_of: as_of.to_string(),
            stages: job.stages.iter().map(|s| s.name().to_string()).collect(),
        },
        started_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ..Manifest::default()
    };
    let folder = staging.final_dir();
    let ledger_target = ledger.as_ref().map(|l| (l, folder.as_path()));
    let result = stages::execute(
        job,
        as_of,
        staging.dir(),
        ledger_target,
        &mut manifest,
        observer,
    )
    .and_then(|done| {
        // Last, so a failed stage writes nothing to the database; a failed write fails the run.
        if let Some(sink) = &job.config.output.postgres {
            let t0 = Instant::now();
            let rows = sink.write(staging.dir(), as_of)?;
            manifest.stages.push(StageRecord {
                name: "output.postgres".into(),
                seconds: round_ms(t0.elapsed().as_secs_f64()),
                rows: Some(rows),
                parts: Vec::new(),
            });
        }
        Ok(done)
    });
    manifest.total_seconds = round_ms(started.elapsed().as_secs_f64());
    match result {
        Ok((summary, campaigns)) => {
            // A job without `select` records nothing.
            let run = (!campaigns.is_empty()).then(|| RunRecord {
                kind: "job".into(),
                job_name: job.name().to_string(),
                as_of,
                inputs: serde_json::to_string(&manifest.inputs).unwrap_or_default(),
                folder: folder.clone(),
                campaigns,
            });
            let staging_dir = staging.dir().to_path_buf();
            // The manifest hashes the outputs while the ledger records the run pending.
            let dir = publish_recorded(
                ledger.as_ref(),
                run,
                &staging_dir,
                || finish_manifest(&staging_dir, &mut manifest),
                || staging.publish().map_err(Error::from),
            )?;
            Ok(RunOutcome {
                dir,
                manifest,
                summary,
            })
        }
        Err(e) => {
            let code = e.exit_code();
            let staging_text = staging.dir().display().to_string();
            let failed_text = staging.failed_dir().display().to_string();
            // Paths inside the staging folder (e.g. a rejects file) are named where the reader
            // will find them.
            let message = e.to_string().replace(&staging_text, &failed_text);
            manifest.exit_status = code;
            manifest.error = Some(message.clone());
            // A run that fails before its report stage still leaves a report saying so; a
            // failure to write it must not hide the run's own error.
            if job.stages.contains(&Stage::Report)
                && !staging.dir().join(crate::report::REPORT_JSON).exists()
            {
                let _ = failure_report(job, as_of, &manifest, staging.dir());
            }
            // On a full disk the manifest may not fit: the run's own error is still the one
            // reported, with that failure after it.
            let message = match finish_manifest(staging.dir(), &mut manifest) {
                Ok(()) => message,
                Err(m) => format!(
                    "{message}; and the manifest: {}",
                    m.to_string().replace(&staging_text, &failed_text)
                ),
            };
            let dir = staging.publish_failed()?;
            Err(Error::RunFailed { message, dir, code })
        }
    }
}

/// The report of a run that failed before its report stage: the banner, the rows each finished
/// stage produced and the rejects found.
fn failure_report(
    job: &Job,
    as_of: NaiveDate,
    manifest: &Manifest,
    dir: &Path,
) -> Result<(), crate::report::ReportError> {
    let mut b = report_builder(job, as_of, manifest);
    b.failure(
        manifest.exit_status,
        manifest.failed_stage.as_deref(),
        manifest.error.as_deref().unwrap_or_default(),
    );
    crate::report::write_report(dir, &b.build())?;
    Ok(())
}

/// A report of the job with what the manifest knows so far: the currency, the rows each
/// finished stage produced and the rejects of the inputs.
pub(super) fn report_builder(
    job: &Job,
    as_of: NaiveDate,
    manifest: &Manifest,
) -> crate::report::ReportBuilder {
    let mut b = crate::report::ReportBuilder::new(job.name(), as_of);
    if let Some(c) = &job.config.report.currency {
        b.currency(c);
    }
    for s in &manifest.stages {
        if let Some(rows) = s.rows {
            b.stage_rows(&s.name, rows);
        }
    }
    for i in &manifest.inputs {
        if let Some(file) = &i.rejects {
            b.rejects(&i.table, i.rows_in, i.rows_rejected, file);
        }
    }
    b
}

fn finish_manifest(dir: &Path, manifest: &mut Manifest) -> Result<(), Error> {
    // The files written beside the stages were hashed by their writer (`finish_writes`).
    manifest.outputs = list_outputs(dir, MANIFEST_FILE, &manifest.outputs)?;
    io::write_json_atomic(&dir.join(MANIFEST_FILE), manifest)?;
    Ok(())
}

/// Seconds rounded to the millisecond, so the manifest does not carry clock noise.
fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}
