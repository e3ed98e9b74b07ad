//! The stages of a job, in order, over one in-memory state: each stage reads what earlier stages
//! left in [`State`], writes its files into the staging folder and records itself in the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;

use super::background::{BackgroundWrite, Share};
use super::config::{BasketJob, DriftAction, Job, JobModel, Stage};
use super::manifest::{
    DatabaseRecord, DriftRecord, InputRecord, Manifest, ModelDriftRecord, ModelRecord, StagePart,
    StageRecord,
};
use super::{round_ms, Observer};
use crate::basket::{BasketBuilder, Baskets, Mined};
use crate::clv::FitParams;
use crate::features::{self, Family, FeatureParams, HistoryBuilder};
use crate::ingest::{self, IngestRequest, Source, TableKind, Validated};
use crate::io::{file_digest, input_digest, CsvCells};
use crate::ledger::CampaignRecord;
use crate::models::training;
use crate::models::{
    ClassifierParams, DriftReport, LogisticParams, ModelArtifact, PreprocessParams, TrainingReport,
};
use crate::run::ledger::{self as ledger_run, LedgerSettings};
use crate::run::scores::{self, JobScores};
use crate::run::{clv, models, segment, select, write_rejects, RunError};
use crate::segment::{SegmentParams, Segmentation};
use crate::select::{render_summary, Selection};
use crate::{io, Error};

/// The merge map's file, in the run's `rejects/` folder.
pub const MERGE_MAP_FILE: &str = "merge_map.csv";

/// Validates the transactions (in pieces when the file is large) into the features' keyed lines.
fn stream_transactions(
    request: &IngestRequest,
    params: &FeatureParams,
    with_customers: bool,
    mut baskets: Option<&mut BasketBuilder>,
    mut attribution: Option<&mut ledger_run::Attribution>,
    merges: &crate::identity::MergeMap,
) -> Result<(ingest::Streamed, HistoryBuilder, Vec<StagePart>), Error> {
    let table = TableKind::Transactions;
    let source = request
        .source(table)
        .ok_or(ingest::IngestError::NoSource { table })?;
    let mut builder = HistoryBuilder::new(params, with_customers);
    // Straight from the bytes into the keyed lines when nothing else needs the rows as a frame.
    if let (Source::File(path), None, true) = (&source, baskets.as_ref(), merges.is_empty()) {
        let read = super::coded::read_transactions(
            path,
            request,
            &mut builder,
            attribution.as_deref_mut(),
        )?;
        if let (None, Some(a)) = (&read, attribution.as_deref_mut()) {
            a.restart();
        }
        if let Some(read) = read {
            let parts = vec![
                StagePart {
                    name: "transactions: read and validate (coded)".to_string(),
                    seconds: round_ms(read.read_seconds),
                },
                StagePart {
                    name: "transactions: keyed lines (coded)".to_string(),
                    seconds: round_ms(read.key_seconds),
                },
            ];
            return Ok((read.streamed, builder, parts));
        }
    }
    let mut keying = 0.0;
    let mut basket_seconds = 0.0;
    let t0 = Instant::now();
    let streamed = ingest::load_source_in_pieces::<Error>(
        table,
        &source,
        &request.config.source(table),
        request.as_of(),
        request.config.piece_bytes(),
        &mut |frame: DataFrame| {
            let t = Instant::now();
            let frame = crate::run::identity::remap(frame, merges)?;
            builder.push(&frame).map_err(Error::from)?;
            if let Some(a) = attribution.as_deref_mut() {
                a.push(&frame)?;
            }
            keying += t.elapsed().as_secs_f64();
            if let Some(b) = baskets.as_deref_mut() {
                let t = Instant::now();
                b.push(&frame).map_err(Error::from)?;
                basket_seconds += t.elapsed().as_secs_f64();
            }
            Ok(())
        },
    )?;
    let total = t0.elapsed().as_secs_f64();
    let name = |what: &str| format!("transactions: {what}");
    let mut parts = Vec::new();
    if streamed.pieces > 1 {
        parts.push(StagePart {
            name: name("duplicates over the whole file"),
            seconds: round_ms(streamed.duplicate_seconds),
        });
    }
    parts.push(StagePart {
        name: name(&match streamed.pieces {
            1 => "read and validate".to_string(),
            n => format!("read and validate in {n} pieces"),
        }),
        seconds: round_ms(total - streamed.duplicate_seconds - keying - basket_seconds),
    });
    parts.push(StagePart {
        name: name("keyed lines"),
        seconds: round_ms(keying),
    });
    if baskets.is_some() {
        parts.push(StagePart {
            name: name("baskets"),
            seconds: round_ms(basket_seconds),
        });
    }
    Ok((streamed, builder, parts))
}

/// Whether `feats` lacks one of the model's numeric input columns (the model was trained with
/// other categorical levels than today's features have).
fn lacks_columns(artifact: &ModelArtifact, feats: &DataFrame) -> bool {
    artifact
        .preprocessing
        .numeric
        .iter()
        .any(|t| feats.column(&t.column).is_err())
}

/// A stage that found no output of a stage it needs: the job loader orders the stages and
/// [`State::release_unneeded`] keeps what is left to need, so this is a bug.
fn missing_stage(stage: Stage, needs: Stage) -> Error {
    RunError::internal(format!(
        "stage `{stage}` ran without the output of stage `{needs}`"
    ))
    .into()
}

/// A model the score stage used.
pub(super) struct ScoredModel {
    pub model: JobModel,
    /// The version the ledger records with the rows it ranked (see `ledger_run::ScoringModel`).
    pub version: String,
    /// Where the model came from, as the report shows it.
    pub source: String,
    pub report: TrainingReport,
    pub drift: DriftReport,
}

/// What the stages have produced so far.
pub(super) struct State<'a> {
    /// Every customer record's e-mail and phone before `[identity]` merged them, filed under
    /// the surviving ids: campaign lists keyed by e-mail or phone are matched against it.
    directory: Option<crate::identity::Directory>,
    job: &'a Job,
    as_of: NaiveDate,
    dir: &'a Path,
    request: IngestRequest,
    feature_params: FeatureParams,
    tables: BTreeMap<TableKind, Validated>,
    features: Option<DataFrame>,
    /// The purchase lines keyed and sorted by the features stage, for the training rows.
    history: Option<features::History>,
    /// The transactions' customer ids, kept when the history is released before `select`,
    /// which accounts for every customer (`no_history`).
    transaction_ids: Vec<String>,
    segmentation: Option<Segmentation>,
    /// `segments.csv` as a table, kept from `segment` until `score` adds it to the scores.
    segments_table: Option<DataFrame>,
    clv: Option<DataFrame>,
    trained: BTreeMap<JobModel, training::TrainedModel>,
    scores: Option<DataFrame>,
    scored: Vec<ScoredModel>,
    selections: Vec<Selection>,
    /// The ledger and the folder the run is published as, when the job records its selections.
    ledger: Option<(&'a LedgerSettings, &'a Path)>,
    /// What the ledger records of each selection.
    ledger_campaigns: Vec<CampaignRecord>,
    /// Set by the score stage when a checked PSI crosses the threshold and the action is `fail`.
    drift_failure: Option<String>,
    /// Timed steps of the running stage, moved into its record when it ends.
    parts: Vec<StagePart>,
    summary: String,
    /// The joint plan of a `select` stage naming several campaigns, for the report.
    plan: Option<crate::plan::PlanSummary>,
    /// `[basket]`, checked.
    basket_settings: Option<BasketJob>,
    /// The baskets `ingest` builds while it streams the transactions, for the `basket` stage.
    basket_builder: Option<BasketBuilder>,
    /// What the `basket` stage mined, for `select` and `report`.
    basket: Option<(Baskets, Mined)>,
    /// The `analyze` stage's penetration tables, for the report.
    penetration: Option<Vec<crate::analyze::PenetrationTable>>,
    /// Tables being written beside the stages after the one that made them (`features.parquet`,
    /// `segments.csv`): the stage, what the manifest calls the write, the write.
    background: Vec<(Stage, &'static str, BackgroundWrite)>,
    /// `segments.csv`, to be written beside the first stage after `segment` other than `score`
    /// (score runs on both cores; select's single-core stretches leave room): the table and
    /// where it goes.
    segments_file: Option<(PathBuf, DataFrame)>,
}

/// Runs the job's stages; returns the text summary. Drift over the threshold (action `fail`)
/// skips `select`, still runs `report`, then fails with exit code 3. Also returns what the
/// ledger records of the selections (`ledger`: the ledger and the folder the run is published as).
pub(super) fn execute<'a>(
    job: &'a Job,
    as_of: NaiveDate,
    dir: &'a Path,
    ledger: Option<(&'a LedgerSettings, &'a Path)>,
    manifest: &mut Manifest,
    observer: &dyn Observer,
) -> Result<(String, Vec<CampaignRecord>), Error> {
    let mut st = State {
        directory: None,
        job,
        as_of,
        dir,
        request: IngestRequest {
            config: job.ingest.clone(),
            ..IngestRequest::default()
        },
        feature_params: FeatureParams {
            families: job.families.clone(),
            level_cap: job
                .config
                .features
                .level_cap
                .unwrap_or(FeatureParams::default().level_cap),
            exclude: job.config.features.exclude.clone(),
            profit: job.config.profit.clone(),
            ..FeatureParams::default()
        },
        tables: BTreeMap::new(),
        features: None,
        history: None,
        transaction_ids: Vec::new(),
        segmentation: None,
        segments_table: None,
        clv: None,
        trained: BTreeMap::new(),
        scores: None,
        scored: Vec::new(),
        selections: Vec::new(),
        ledger,
        ledger_campaigns: Vec::new(),
        drift_failure: None,
        parts: Vec::new(),
        summary: format!("run `{}` as of {as_of}\n", job.name()),
        plan: None,
        basket_settings: job
            .config
            .basket
            .as_ref()
            .map(|b| b.checked())
            .transpose()?,
        basket_builder: None,
        basket: None,
        penetration: None,
        background: Vec::new(),
        segments_file: None,
    };
    let total = job.stages.len();
    for (i, &stage) in job.stages.iter().enumerate() {
        if stage == Stage::Select && st.drift_failure.is_some() {
            let w = "warning: stage `select` skipped: drift over the threshold".to_string();
            observer.warning(&w);
            manifest.warnings.push(w);
            continue;
        }
        observer.stage_started(stage, i, total);
        let t0 = Instant::now();
        let mut warnings: Vec<String> = Vec::new();
        if stage != Stage::Score {
            st.start_segments_file()?;
        }
        if stage == Stage::Report {
            // The report lists the files the run wrote.
            st.finish_writes(manifest)?;
        }
        let rows = match stage {
            Stage::Ingest => st.ingest(manifest, &mut warnings),
            Stage::Basket => st.basket(),
            Stage::Analyze => st.analyze(),
            Stage::Features => st.build_features(),
            Stage::Segment => st.segment(),
            Stage::Clv => st.clv(),
            Stage::Train => st.train(),
            Stage::Score => st.score(manifest, &mut warnings),
            Stage::Select => st.select(&mut warnings),
            Stage::Report => st.report(manifest),
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                manifest.failed_stage = Some(stage.name().to_string());
                // A failed run's folder keeps what the stages before made, as when every file
                // was written in its own stage (the write is waited for as `st` drops).
                let _ = st.start_segments_file();
                return Err(e);
            }
        };
        let record = StageRecord {
            name: stage.name().to_string(),
            seconds: round_ms(t0.elapsed().as_secs_f64()),
            rows,
            parts: std::mem::take(&mut st.parts),
        };
        for w in warnings {
            observer.warning(&w);
            manifest.warnings.push(w);
        }
        st.release_unneeded(&job.stages[i + 1..]);
        observer.stage_finished(stage, &record);
        manifest.stages.push(record);
    }
    st.finish_writes(manifest)?;
    match st.drift_failure.take() {
        Some(message) => {
            manifest.failed_stage = Some(Stage::Score.name().to_string());
            Err(Error::Drift(message))
        }
        None => Ok((st.summary, st.ledger_campaigns)),
    }
}

impl State<'_> {
    fn table(&self, t: TableKind, stage: Stage) -> Result<&DataFrame, Error> {
        self.tables.get(&t).map(|v| &v.frame).ok_or_else(|| {
            Error::from(RunError::missing(
                format!("stage `{stage}` needs the {t} table"),
                format!("add `[sources.{t}]` to the job"),
            ))
        })
    }

    fn customers(&self) -> Option<&DataFrame> {
        self.tables.get(&TableKind::Customers).map(|v| &v.frame)
    }

    /// Reads and validates every source the job names, hashing the files meanwhile. The
    /// transactions are validated in pieces when large (`[ingest] piece_mib`) and go straight
    /// into the features' keyed lines (`features::History`): the run never holds them as a
    /// table, so its memory grows with ~21 bytes per order line, not with the file's text.
    fn ingest(
        &mut self,
        manifest: &mut Manifest,
        warnings: &mut Vec<String>,
    ) -> Result<Option<usize>, Error> {
        let tables = self.request.tables();
        if !tables.contains(&TableKind::Transactions) {
            return Err(RunError::missing(
                "the job names no transactions",
                "add `[sources.transactions]`",
            )
            .into());
        }
        let sources: Vec<(TableKind, Source)> = tables
            .iter()
            .filter_map(|t| self.request.source(*t).map(|s| (*t, s)))
            .collect();
        let rejects_dir = self.dir.to_path_buf();
        if let Some(profit) = self.feature_params.profit.as_mut() {
            let mut notes = String::new();
            crate::run::profit::load_product_costs(profit, &mut notes)?;
            warnings.extend(notes.lines().map(str::to_string));
        }
        let request = &self.request;
        let history_params = self.history_params();
        let with_customers = tables.contains(&TableKind::Customers);
        self.basket_builder = self.basket_settings.as_ref().map(|b| {
            BasketBuilder::new(
                b.level,
                b.exclude.clone(),
                Some(crate::types::epoch_day(self.as_of)),
            )
        });
        // Merged identities are known before the transactions stream, so every order line
        // is keyed by its surviving id (README "Identities").
        let identity = request.config.identity.clone();
        let merging = identity.is_active() && with_customers;
        let early = match merging {
            true => Some(request.load(TableKind::Customers)?),
            false => None,
        };
        let (merges, directory) = match &early {
            Some(v) => crate::run::identity::identities(&v.frame, &identity)?,
            None => Default::default(),
        };
        let baskets = self.basket_builder.as_mut();
        // Responses are attributed from the transactions as they stream by, so the readouts
        // (and training from the ledger) see them with no manual `ledger attribute`.
        let mut attribution = match self.ledger {
            Some((l, _)) if l.path.exists() => Some(ledger_run::Attribution::start(l)?),
            _ => None,
        };
        let (digests, streamed, loaded) = std::thread::scope(|s| {
            // Hashing is I/O and one core; it overlaps with the validation's polars queries.
            // A database's rows are fingerprinted as they are read (`None` here).
            let hashing = s.spawn(|| {
                sources
                    .iter()
                    .map(|(_, source)| match source {
                        Source::File(p) => input_digest(p).map(Some),
                        Source::Postgres(_) => Ok(None),
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            // The smaller tables load beside the transactions: each load has stretches on
            // one core (reading, duplicate narrowing) that another table's work fills.
            let loading: Vec<_> = tables
                .iter()
                .filter(|t| **t != TableKind::Transactions)
                .filter(|t| !(early.is_some() && **t == TableKind::Customers))
                .map(|t| s.spawn(move || request.load(*t).map_err(Error::from)))
                .collect();
            let streamed = stream_transactions(
                request,
                &history_params,
                with_customers,
                baskets,
                attribution.as_mut(),
                &merges,
            );
            let loaded: Result<Vec<Validated>, Error> = loading
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(RunError::internal("loading a table failed").into())
                    })
                })
                .collect();
            (hashing.join(), streamed, loaded)
        });
        let (mut streamed, mut builder, mut parts) = streamed?;
        let mut loaded = loaded?;
        if let Some(customers) = early {
            loaded.insert(0, customers);
        }
        let digests = digests
            .map_err(|_| RunError::internal("hashing the inputs failed"))?
            .map_err(Error::from)?;
        // Every input is recorded before the reject thresholds apply, so the manifest of a run
        // that fails on bad rows still says what was read.
        let mut text = String::new();
        let mut checks = Vec::new();
        for ((table, source), digest) in sources.iter().zip(digests) {
            let (rejects, summary) = match loaded.iter_mut().find(|v| v.table == *table) {
                Some(v) => (&mut v.rejects, &v.summary),
                None => (&mut streamed.rejects, &streamed.summary),
            };
            let (bytes, sha256) = match (digest, &summary.fingerprint) {
                (Some(d), _) => d,
                (None, Some(f)) => (f.bytes, f.sha256.clone()),
                (None, None) => Err(RunError::internal(format!(
                    "the {table} table was read from a database without a fingerprint"
                )))?,
            };
            let written = write_rejects(*table, rejects, summary, &rejects_dir, &mut text)?;
            let (path, database) = match source {
                Source::File(path) => (
                    std::fs::canonicalize(path)
                        .unwrap_or_else(|_| path.clone())
                        .display()
                        .to_string(),
                    None,
                ),
                Source::Postgres(pg) => (
                    source.label(),
                    Some(DatabaseRecord {
                        url_env: pg.url_env.clone(),
                        query: pg.query(*table)?,
                    }),
                ),
            };
            manifest.inputs.push(InputRecord {
                table: table.name().to_string(),
                path,
                database,
                bytes,
                sha256,
                rows_in: summary.rows_in,
                rows_kept: summary.rows_kept,
                rows_rejected: summary.rows_rejected,
                rejects: written.as_ref().map(|_| format!("rejects/{table}.csv")),
            });
            checks.push((*table, written));
        }
        warnings.extend(text.lines().map(str::to_string));
        for (table, written) in &checks {
            if let Some(path) = written {
                let (rejects, summary) = match loaded.iter().find(|v| v.table == *table) {
                    Some(v) => (&v.rejects, &v.summary),
                    None => (&streamed.rejects, &streamed.summary),
                };
                ingest::check_reject_rate(
                    *table,
                    summary,
                    rejects,
                    self.request.max_reject_rate(),
                    path,
                )?;
            }
        }
        let mut rows = 0;
        self.summary.push_str("\n== ingest ==\n");
        let mut line = |table: TableKind, s: &ingest::TableSummary| {
            self.summary.push_str(&format!(
                "{:<13} {:>10} rows in  {:>10} kept  {:>8} rejected\n",
                table, s.rows_in, s.rows_kept, s.rows_rejected
            ));
            rows += s.rows_kept;
        };
        line(TableKind::Transactions, &streamed.summary);
        for v in &loaded {
            line(v.table, &v.summary);
        }
        self.record_merges(&merges, manifest)?;
        for mut v in loaded {
            v.frame = match v.table {
                TableKind::Customers => crate::run::identity::merge_customers(v.frame, &merges)?,
                TableKind::Suppressions if identity.is_active() => {
                    // Matched against every record before the merge: an address of a record
                    // merged into another id reaches the survivor.
                    let resolved = crate::run::identity::resolve_keyed(&v.frame, &directory)?;
                    crate::run::identity::remap(resolved, &merges)?
                }
                _ => crate::run::identity::remap(v.frame, &merges)?,
            };
            self.tables.insert(v.table, v);
        }
        if merging {
            self.directory = Some(directory);
        }
        let t0 = Instant::now();
        // What each contact cost counts in the profit family's net profit: the contacts file
        // and the ledger's sends of other runs, as the contact policy counts them.
        if self.feature_params.profit.is_some() {
            if let Some(contacts) = self.tables.get(&TableKind::Contacts) {
                builder.contacts(&contacts.frame)?;
            }
            if let Some((l, folder)) = self.ledger.filter(|(l, _)| l.path.exists()) {
                builder.contacts(&ledger_run::contacts_table(l, folder)?.validated.frame)?;
            }
        }
        // The responses are attributed and written into the ledger (one core, a few tenths of a
        // second at 1M) while the lines are sorted.
        let customers = self.customers();
        let (history, attributed) = std::thread::scope(|s| {
            let attributing = match (attribution, self.ledger) {
                (Some(a), Some((l, _))) => Some(s.spawn(move || a.finish(l))),
                _ => None,
            };
            let history = builder.finish(customers);
            let attributed = attributing.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(RunError::internal("attributing the responses failed").into())
                })
            });
            (history, attributed)
        });
        attributed.transpose()?;
        let history = history?;
        warnings.extend(features::excluded_note(history.excluded()));
        warnings.extend(history.cost_tally().and_then(|t| t.note()));
        self.history = Some(history);
        parts.push(StagePart {
            name: "transactions: lines sorted by customer and day".into(),
            seconds: round_ms(t0.elapsed().as_secs_f64()),
        });
        self.parts = parts;
        Ok(Some(rows))
    }

    /// The merge counts in the manifest and the summary, and `rejects/merge_map.csv` (ids and
    /// rules only, never the matched values).
    fn record_merges(
        &mut self,
        merges: &crate::identity::MergeMap,
        manifest: &mut Manifest,
    ) -> Result<(), Error> {
        if merges.is_empty() {
            return Ok(());
        }
        let counts = merges.counts();
        self.summary.push_str(&format!(
            "identities: {} customer records merged ({}) → rejects/merge_map.csv\n",
            merges.len(),
            counts
                .iter()
                .map(|(rule, n)| format!("{rule} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        manifest.merges = counts
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        let mut frame = merges
            .frame()
            .map_err(crate::error::polars_failure("the merge map"))?;
        io::write_table(&self.dir.join("rejects").join(MERGE_MAP_FILE), &mut frame)?;
        Ok(())
    }

    /// Mines the baskets `ingest` built (purchases on or before the as-of date): itemsets.csv,
    /// rules.csv, basket.json and affinity.parquet, as `bullseye basket affinity` writes them.
    fn basket(&mut self) -> Result<Option<usize>, Error> {
        let (Some(settings), Some(builder)) =
            (self.basket_settings.as_ref(), self.basket_builder.take())
        else {
            return Err(missing_stage(Stage::Basket, Stage::Ingest));
        };
        let baskets = builder.finish();
        let done = crate::basket::run::recommend_and_write(
            &baskets,
            &settings.params,
            settings.top_n,
            self.dir,
            None,
        )?;
        self.summary.push_str("\n== basket ==\n");
        self.summary
            .push_str(&crate::basket::render_top_rules(&done.mined, 5));
        self.summary.push_str(&format!(
            "{} recommendations for {} customers → {}, {}\n",
            done.recommendations,
            done.customers,
            crate::basket::OUTPUT_FILES.join(", "),
            crate::basket::run::AFFINITY_FILE
        ));
        let rows = done.mined.rules.len();
        self.basket = Some((baskets, done.mined));
        Ok(Some(rows))
    }

    /// Penetration by the job's dimensions as of the run's day, from the keyed lines and the
    /// customers table: `penetration.csv` and `penetration.json` in the run folder.
    fn analyze(&mut self) -> Result<Option<usize>, Error> {
        let Some(settings) = &self.job.config.analyze.penetration else {
            return Err(RunError::internal("the analyze stage runs without its settings").into());
        };
        let spec = settings.spec();
        let history = self.history(Stage::Analyze)?;
        let activity =
            crate::analyze::Activity::from_history(history, self.as_of, spec.window_days)?;
        let tables = crate::run::analyze::penetration_tables(self.customers(), &activity, &spec)?;
        crate::run::analyze::write_penetration(self.dir, self.as_of, &spec, &tables)?;
        self.summary.push_str("\n== analyze ==\n");
        let listed = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        for t in &tables {
            self.summary.push_str(&format!(
                "penetration by {}: {} groups; under-penetrated: {}; over-penetrated: {}\n",
                t.dimension,
                t.groups.len(),
                listed(&t.under_penetrated),
                listed(&t.over_penetrated),
            ));
        }
        self.summary.push_str("penetration.csv, penetration.json\n");
        let rows = tables.iter().map(|t| t.groups.len()).sum();
        self.penetration = Some(tables);
        Ok(Some(rows))
    }

    /// The feature settings the run's keyed lines are built with: the job's families, plus
    /// `btyd` for the `clv` stage (its summaries are that family).
    fn history_params(&self) -> FeatureParams {
        let mut params = self.feature_params.clone();
        if let Some(families) = params.families.as_mut() {
            if self.job.stages.contains(&Stage::Clv) && !families.contains(&Family::Btyd) {
                families.push(Family::Btyd);
            }
        }
        params
    }

    /// Drops what no stage left reads, so that the next stages' peaks do not stand on it.
    /// The keyed purchase lines (~21 bytes an order line: 4 GB at 200M lines): `train`, `clv`
    /// and `features` read them, and `score` only to rebuild features for a model whose columns
    /// today's features lack. The features table (~4 GB at 10M customers): `segment`, `score`
    /// and `report` read it, so a job ending in `select` drops it before selecting. The segments
    /// table when no `score` is left to add it to the scores.
    fn release_unneeded(&mut self, left: &[Stage]) {
        if !left.contains(&Stage::Score) {
            self.segments_table = None;
        }
        if !left
            .iter()
            .any(|s| matches!(s, Stage::Segment | Stage::Score | Stage::Report))
        {
            self.features = None;
        }
        let needed = left.iter().any(|s| {
            matches!(
                s,
                Stage::Analyze | Stage::Train | Stage::Clv | Stage::Features
            )
        }) || (left.contains(&Stage::Score) && self.score_rebuilds());
        if !needed {
            if let Some(history) = self.history.take() {
                if left.contains(&Stage::Select) {
                    self.transaction_ids = history.into_ids();
                }
            }
        }
    }

    /// Whether a model the score stage will use needs features the features table lacks (it
    /// was trained with other categorical levels), so that `score` rebuilds them. When that
    /// cannot be told (no features yet, a model that does not load) the answer is yes, and
    /// `score` reports any error itself.
    fn score_rebuilds(&self) -> bool {
        let Some(feats) = &self.features else {
            return true;
        };
        let wanted = &self.job.config.models.score;
        for m in scores::JOB_MODELS {
            if wanted.as_ref().is_some_and(|w| !w.contains(&m)) {
                continue;
            }
            let lacks = match self.trained.get(&m) {
                Some(t) => lacks_columns(&t.artifact, feats),
                None => match self.model_for(m, &mut BTreeMap::new()) {
                    Ok(Some((artifact, _, _))) => lacks_columns(&artifact, feats),
                    Ok(None) => continue,
                    Err(_) => return true,
                },
            };
            if lacks {
                return true;
            }
        }
        false
    }

    /// The `audience` folder of the job's latest published run before this one's as-of date,
    /// which `[export]`'s adds and removes compare with.
    fn previous_run(&self) -> Option<PathBuf> {
        let out = self.dir.parent()?;
        std::fs::read_dir(out)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let date = NaiveDate::parse_from_str(&name, "%Y-%m-%d").ok()?;
                (date < self.as_of && e.path().join("audience").is_dir()).then_some(date)
            })
            .max()
            .map(|d| out.join(d.to_string()).join("audience"))
    }

    /// The transactions' customer ids, from the history or what was kept of it.
    fn transaction_ids(&self) -> &[String] {
        match &self.history {
            Some(h) => h.ids(),
            None => &self.transaction_ids,
        }
    }

    fn history(&self, stage: Stage) -> Result<&features::History, Error> {
        self.history
            .as_ref()
            .ok_or_else(|| missing_stage(stage, Stage::Ingest))
    }

    fn build_features(&mut self) -> Result<Option<usize>, Error> {
        let history = self.history(Stage::Features)?;
        let f = history.build(self.as_of, &self.feature_params)?;
        // polars' Parquet writer holds one core; `segment` and `score` after this leave it
        // partly idle, so the file is written beside them (same bytes; see `finish_writes`).
        self.background.push((
            Stage::Features,
            "features.parquet written beside the next stages",
            BackgroundWrite::start(
                self.dir.join("features.parquet"),
                f.clone(),
                Share::Even,
                CsvCells::default(),
            )?,
        ));
        self.summary.push_str(&format!(
            "\n== features ==\n{} customers × {} features → features.parquet\n",
            f.height(),
            f.width() - 1
        ));
        let rows = f.height();
        self.features = Some(f);
        Ok(Some(rows))
    }

    /// Waits for the files being written beside the stages; the time each took becomes a part
    /// of the stage that started it.
    fn finish_writes(&mut self, manifest: &mut Manifest) -> Result<(), Error> {
        self.start_segments_file()?;
        for (stage, name, w) in std::mem::take(&mut self.background) {
            let rel = w.relative_path(self.dir);
            let written = w.finish().inspect_err(|_| {
                manifest.failed_stage = Some(stage.name().to_string());
            })?;
            if let Some(r) = manifest.stages.iter_mut().find(|r| r.name == stage.name()) {
                r.parts.push(StagePart {
                    name: name.into(),
                    seconds: round_ms(written.seconds),
                });
            }
            manifest.outputs.push(written.output(&rel));
        }
        Ok(())
    }

    /// Starts writing `segments.csv` beside the next stages, when the segment stage left it.
    fn start_segments_file(&mut self) -> Result<(), Error> {
        if let Some((path, frame)) = self.segments_file.take() {
            self.background.push((
                Stage::Segment,
                "segments.csv written beside the next stages",
                BackgroundWrite::start(path, frame, Share::Idle, self.job.config.output.cells())?,
            ));
        }
        Ok(())
    }

    fn features(&self, stage: Stage) -> Result<&DataFrame, Error> {
        self.features
            .as_ref()
            .ok_or_else(|| missing_stage(stage, Stage::Features))
    }

    fn segment(&mut self) -> Result<Option<usize>, Error> {
        let settings = &self.job.config.segment;
        let mut params = SegmentParams::default();
        if let Some(path) = &settings.scheme {
            params.scheme = segment::read_scheme(path)?;
        }
        if let Some(c) = params.cluster.as_mut() {
            settings.apply(c, self.job.config.job.seed);
        }
        let seg = segment::segment_frame(self.features(Stage::Segment)?, &params, None)?;
        let frame = segment::segmentation_frame(&seg)?;
        let path = self.dir.join("segments.csv");
        segment::write_segmentation_beside(&path, &seg, Some(&self.dir.join("models/segments")))?;
        // A CSV of every customer: written on its own thread beside select (same bytes).
        self.segments_file = Some((path, frame.clone()));
        self.segments_table = Some(frame);
        self.summary.push_str("\n== segments ==\n");
        self.summary
            .push_str(&crate::segment::render_report(&seg.report));
        let rows = seg.ids.len();
        self.segmentation = Some(seg);
        Ok(Some(rows))
    }

    fn clv(&mut self) -> Result<Option<usize>, Error> {
        let s = &self.job.config.clv;
        let lines = clv::Purchases::Lines(self.history(Stage::Clv)?);
        let model = clv::fit(lines, self.as_of, s.time_unit, &FitParams::default())?;
        clv::save_model(&self.dir.join("models/clv"), &model)?;
        let mut frame = clv::predict(&model, lines, self.as_of, &s.predict_params())?;
        io::write_table_with(
            &self.dir.join("clv.csv"),
            &mut frame,
            self.job.config.output.cells(),
        )?;
        self.summary.push_str("\n== clv ==\n");
        self.summary.push_str(&clv::render_fit(&model));
        let rows = frame.height();
        self.clv = Some(frame);
        Ok(Some(rows))
    }

    fn train(&mut self) -> Result<Option<usize>, Error> {
        let settings = &self.job.config.train;
        let history = self.history(Stage::Train)?;
        let customers = self.customers();
        let mut rows = 0;
        let mut text = String::from("\n== train ==\n");
        let mut trained_models = Vec::new();
        let mut parts = Vec::new();
        let cap = (settings.max_rows > 0).then_some(training::RowCap {
            max_rows: settings.max_rows,
            seed: self.job.config.job.seed,
        });
        let from_ledger = match self.ledger {
            Some((l, folder)) if settings.from_ledger => {
                Some(ledger_run::training_contacts(l, self.as_of, Some(folder))?)
            }
            None if settings.from_ledger => {
                return Err(RunError::missing(
                    "`[train] from_ledger = true` but the job has no ledger",
                    "remove `[ledger] enabled = false`",
                )
                .into())
            }
            _ => None,
        };
        for &m in &settings.models {
            let t0 = Instant::now();
            let source = match m {
                JobModel::Response => training::RowSource::Contacts {
                    history,
                    customers,
                    contacts: match &from_ledger {
                        Some(l) => &l.frame,
                        None => self.table(TableKind::Contacts, Stage::Train)?,
                    },
                },
                JobModel::Churn => training::RowSource::Customers {
                    history,
                    customers,
                    as_of: self.as_of,
                    horizon_days: settings.churn_horizon_days,
                },
            };
            let mut table = training::training_rows(m.kind(), source, &self.feature_params, cap)?;
            if m == JobModel::Response {
                table
                    .notes
                    .extend(from_ledger.iter().flat_map(|l| l.notes.clone()));
            }
            let options = training::TrainOptions {
                kind: m.kind(),
                classifier: ClassifierParams::Logistic(LogisticParams::default()),
                preprocess: PreprocessParams::default(),
                holdout: training::default_holdout(source.dated(), settings.holdout),
                seed: self.job.config.job.seed,
                refit: true,
                treatment: None,
            };
            parts.push(StagePart {
                name: format!("{} rows", m.name()),
                seconds: round_ms(t0.elapsed().as_secs_f64()),
            });
            let t0 = Instant::now();
            let mut trained = training::train(&table, &options)?;
            parts.push(StagePart {
                name: format!("{} fit", m.name()),
                seconds: round_ms(t0.elapsed().as_secs_f64()),
            });
            models::save(&self.dir.join("models").join(m.name()), &trained)?;
            // A job saves its models and registers none: the rows a registry would keep go.
            trained.holdout.release_inputs();
            text.push_str(&format!("{}: ", m.name()));
            text.push_str(&models::render_metrics(&trained.report));
            rows += trained.report.rows;
            trained_models.push((m, trained));
        }
        self.summary.push_str(&text);
        self.trained.extend(trained_models);
        self.parts = parts;
        Ok(Some(rows))
    }

    /// The model of `m` to score with: trained in this run, named in `[models]`, else the
    /// registry's production version; `None` when there is none.
    fn model_for(
        &self,
        m: JobModel,
        trained: &mut BTreeMap<JobModel, training::TrainedModel>,
    ) -> Result<Option<(ModelArtifact, TrainingReport, ModelRecord)>, Error> {
        let settings = &self.job.config.models;
        // A weak model chooses no audience unless the job says so, whether it was trained in
        // this run or comes from the registry: a worse-than-random ranking would still fill
        // the budget.
        let refuse_weak = |what: String, weak: Vec<String>| -> Result<(), Error> {
            if weak.is_empty() || settings.allow_weak_model {
                return Ok(());
            }
            Err(RunError::Refused {
                what: format!("refused to use {what}: {}", weak.join("; ")),
                hint: "retrain it, or set `[models] allow_weak_model = true` to use it anyway"
                    .into(),
            }
            .into())
        };
        if let Some(t) = trained.remove(&m) {
            refuse_weak(
                format!("the {} model trained in this run", m.name()),
                crate::models::guard::weaknesses(&t.report, t.artifact.preprocessing.n_features()),
            )?;
            let rel = format!("models/{}", m.name());
            let (_, sha256) = file_digest(&self.dir.join(&rel).join("model.json"))?;
            let record = ModelRecord {
                name: m.name().to_string(),
                source: "trained".into(),
                path: rel,
                version: None,
                sha256,
            };
            return Ok(Some((t.artifact, t.report, record)));
        }
        let spec = match m {
            JobModel::Response => settings.response.clone(),
            JobModel::Churn => settings.churn.clone(),
        };
        let spec = match spec {
            Some(s) => s,
            None => match models::production(&settings.registry, m.kind())? {
                Some(_) => m.name().to_string(),
                None => return Ok(None),
            },
        };
        let dir = models::resolve_model(&spec, &settings.registry)?;
        let artifact = models::load_kind(&dir, m.kind())?;
        let report = models::load_report(&dir)?;
        refuse_weak(
            format!("the {} model `{}`", m.name(), dir.display()),
            crate::models::guard::weaknesses(&report, artifact.preprocessing.n_features()),
        )?;
        let (_, sha256) = file_digest(&dir.join("model.json"))?;
        let version = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|v| v.starts_with('v'));
        Ok(Some((
            artifact,
            report,
            ModelRecord {
                name: m.name().to_string(),
                source: "registry".into(),
                path: dir.display().to_string(),
                version,
                sha256,
            },
        )))
    }

    /// Scores every customer with every available model, joins CLV and segments, checks drift.
    fn score(
        &mut self,
        manifest: &mut Manifest,
        warnings: &mut Vec<String>,
    ) -> Result<Option<usize>, Error> {
        let mut trained = std::mem::take(&mut self.trained);
        let feats = self.features(Stage::Score)?;
        let mut scores = JobScores::new(feats)?;
        let mut scored = Vec::new();
        let wanted = self.job.config.models.score.clone();
        for m in [JobModel::Response, JobModel::Churn] {
            if wanted.as_ref().is_some_and(|w| !w.contains(&m)) {
                continue;
            }
            let Some((artifact, report, record)) = self.model_for(m, &mut trained)? else {
                if wanted.is_some() {
                    return Err(RunError::ModelNotFound {
                        what: format!("`models.score` names `{}`, but the run trained none and the registry `{}` has no production version", m.name(), self.job.config.models.registry.display()),
                        hint: String::new(),
                    }
                    .into());
                }
                continue;
            };
            // A model trained with other categorical levels needs features built with them.
            let rebuilt;
            let input = if !lacks_columns(&artifact, feats) {
                feats
            } else {
                let params = FeatureParams {
                    levels: report.feature_levels.clone(),
                    ..self.feature_params.clone()
                };
                // The run's keyed lines serve any levels.
                rebuilt = self.history(Stage::Score)?.build(self.as_of, &params)?;
                &rebuilt
            };
            let (s, drift) = models::score_frame(&artifact, input, Some(scores::ID), false)?;
            scores.add_model(m, s);
            let source = match &record.version {
                Some(v) => format!("registry {}/{v}", m.name()),
                None => format!("{} ({})", record.source, record.path),
            };
            let version = record.version.clone().unwrap_or_else(|| {
                format!("sha256:{}", record.sha256.get(..12).unwrap_or_default())
            });
            manifest.models.push(record);
            scored.push(ScoredModel {
                model: m,
                version,
                source,
                report,
                drift,
            });
        }
        self.scored = scored;
        if self.scored.is_empty() {
            return Err(RunError::ModelNotFound {
                what: "stage `score` found no model".into(),
                hint: format!(": add stage `train`, name one in `[models]`, or promote one in the registry `{}`", self.job.config.models.registry.display()),
            }
            .into());
        }
        if let Some(c) = &self.clv {
            scores.add_clv(c);
        }
        if let Some(seg) = &self.segmentation {
            // The table `segment` wrote; the scores are its last reader.
            let table = match self.segments_table.take() {
                Some(t) => t,
                None => segment::segmentation_frame(seg)?,
            };
            scores.add_segments(table, seg.cluster.is_some());
        }
        let scores = scores.finish()?;
        // Written beside the next stage, as `segments.csv` is: select's single-core stretches
        // leave room (same bytes; a failed later stage still waits for the whole file).
        self.background.push((
            Stage::Score,
            "scores.csv written beside the next stages",
            BackgroundWrite::start(
                self.dir.join(scores::SCORES_FILE),
                scores.clone(),
                Share::Idle,
                self.job.config.output.cells(),
            )?,
        ));
        self.summary.push_str(&format!(
            "\n== scores ==\n{} customers scored → {}\n",
            scores.height(),
            scores::SCORES_FILE
        ));
        for s in &self.scored {
            self.summary.push_str(&format!("{}: ", s.model.name()));
            self.summary.push_str(&models::render_drift(&s.drift, 3));
        }
        let rows = scores.height();
        self.scores = Some(scores);
        let record = self.drift_record();
        if !record.over_threshold.is_empty() {
            let message = format!(
                "drift over the threshold (PSI > {}): {}",
                record.fail_above,
                record.over_threshold.join(", ")
            );
            match self.job.config.drift.action {
                DriftAction::Fail => self.drift_failure = Some(message),
                DriftAction::Warn => warnings.push(format!("warning: {message}")),
            }
        }
        manifest.drift = Some(record);
        Ok(Some(rows))
    }

    /// The models the score stage used, as the ledger names them.
    fn scoring_models(&self) -> Vec<ledger_run::ScoringModel> {
        self.scored
            .iter()
            .map(|s| ledger_run::ScoringModel {
                column: scores::model_column(s.model).to_string(),
                name: s.model.name().to_string(),
                version: s.version.clone(),
            })
            .collect()
    }

    fn drift_record(&self) -> DriftRecord {
        let d = &self.job.config.drift;
        let mut over = Vec::new();
        for s in &self.scored {
            let name = s.model.name();
            let drifted = s
                .drift
                .over_threshold(d.fail_above, d.check_scores, &d.exclude);
            over.extend(drifted.into_iter().map(|what| format!("{name}: {what}")));
        }
        DriftRecord {
            fail_above: d.fail_above,
            action: match d.action {
                DriftAction::Fail => "fail".into(),
                DriftAction::Warn => "warn".into(),
            },
            exclude: d.exclude.clone(),
            models: self
                .scored
                .iter()
                .map(|s| ModelDriftRecord {
                    model: s.model.name().to_string(),
                    rows: s.drift.rows,
                    score_psi: s.drift.score_psi,
                    features: s.drift.features.clone(),
                })
                .collect(),
            over_threshold: over,
        }
    }

    fn select(&mut self, warnings: &mut Vec<String>) -> Result<Option<usize>, Error> {
        let default_segment = self
            .job
            .config
            .select
            .segment_column
            .clone()
            .or_else(|| self.segmentation.as_ref().map(|_| "rfm_segment".into()));
        let mut rows = 0;
        let campaigns = self
            .job
            .config
            .select
            .campaigns
            .iter()
            .map(|path| Ok((path, select::load_campaign(path)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        let scores = &self.with_affinity_columns(campaigns.iter().map(|(_, c)| c))?;
        if campaigns.len() > 1 {
            return self.plan(campaigns, scores, default_segment.as_deref(), warnings);
        }
        let used = crate::select::resolve::channel_names(campaigns.iter().map(|(_, c)| c));
        let (side, global) = self.shared_side(scores)?;
        let held_out: Option<std::collections::HashSet<String>> =
            global.as_ref().map(|m| m.iter().cloned().collect());
        let previous_run = self.previous_run();
        let mut parts = Vec::new();
        for (path, mut campaign) in campaigns {
            let send_date = campaign.default_dates(self.as_of)?;
            let seg_col = select::segment_column(&campaign, default_segment.as_deref())?;
            let campaign_dir = path.parent().unwrap_or_else(|| Path::new("."));
            let frames = select::Frames {
                scores,
                customers: self.customers(),
                side: side.clone(),
                options: select::MatchOptions {
                    id_policy: self.job.ingest.ids.policy,
                    max_reject_rate: self.request.max_reject_rate(),
                    default_country_code: select::country_code(&self.request.config),
                    directory: self.directory.as_ref(),
                },
                global_control: held_out.as_ref(),
                transaction_ids: self.transaction_ids(),
                previous: previous_run.as_deref(),
            };
            let mut selected =
                select::select_from_frames(&campaign, campaign_dir, &frames, seg_col.as_deref())?;
            let t0 = Instant::now();
            let summary = &selected.selection.summary;
            warnings.extend(
                summary
                    .matching
                    .warnings(&summary.campaign, &used)
                    .into_iter()
                    .map(|w| format!("warning: {w}")),
            );
            let out = self
                .dir
                .join("audience")
                .join(file_safe(&campaign.campaign.name));
            let text = select::write_side_rejects(
                &out,
                &mut selected.side_tables,
                self.request.max_reject_rate(),
            )?;
            warnings.extend(text.lines().map(str::to_string));
            select::write_selection(
                &out,
                &selected.selection,
                seg_col.as_deref(),
                self.job.config.output.cells(),
            )?;
            let folder = file_safe(&campaign.campaign.name);
            let previous = frames.previous.map(|p| p.join(&folder));
            select::write_export(
                &out,
                &campaign,
                &selected.selection,
                &frames,
                previous.as_deref(),
                self.job.config.output.cells(),
            )?;
            let name = &campaign.campaign.name;
            let steps = selected.steps.iter().copied();
            let written = ("files written", t0.elapsed().as_secs_f64());
            parts.extend(steps.chain([written]).map(|(step, seconds)| StagePart {
                name: format!("{name}: {step}"),
                seconds: round_ms(seconds),
            }));
            self.summary.push_str(&format!(
                "\n== audience: {} ==\n",
                selected.selection.summary.campaign
            ));
            self.summary
                .push_str(&render_summary(&selected.selection.summary));
            if self.ledger.is_some() {
                let file = format!(
                    "audience/{}/audience.csv",
                    file_safe(&campaign.campaign.name)
                );
                let mut record =
                    ledger_run::campaign_record(&campaign, &selected.selection, send_date, &file);
                ledger_run::name_models(&mut record, &campaign, &self.scoring_models());
                if let Some(members) = &global {
                    ledger_run::add_global_control(&mut record, members);
                }
                self.ledger_campaigns.push(record);
            }
            rows += selected.selection.summary.audience_size;
            self.selections.push(selected.selection);
        }
        self.parts = parts;
        Ok(Some(rows))
    }

    /// The scores table the campaigns read: the `score` stage's, plus an `affinity:<item>`
    /// column (from the `basket` stage's baskets and rules) for every channel that ranks by one.
    fn with_affinity_columns<'c>(
        &self,
        campaigns: impl Iterator<Item = &'c crate::select::CampaignConfig>,
    ) -> Result<DataFrame, Error> {
        let mut scores = self
            .scores
            .clone()
            .ok_or_else(|| missing_stage(Stage::Select, Stage::Score))?;
        for c in campaigns {
            for ch in &c.channels {
                let Some(item) = crate::basket::affinity_item(&ch.score_column) else {
                    continue;
                };
                if scores.column(&ch.score_column).is_ok() {
                    continue;
                }
                let (baskets, mined) = self
                    .basket
                    .as_ref()
                    .ok_or_else(|| missing_stage(Stage::Select, Stage::Basket))?;
                scores = crate::basket::with_item_affinity(&scores, baskets, &mined.rules, item)?;
            }
        }
        Ok(scores)
    }

    /// What every campaign of the `select` stage reads besides the scores, whether one campaign
    /// or a plan: the side tables (the sources' suppression list, the ledger's contacts) and the
    /// ledger's global control members.
    fn shared_side(
        &self,
        scores: &DataFrame,
    ) -> Result<(Vec<select::SideTable>, Option<Vec<String>>), Error> {
        let mut side: Vec<select::SideTable> = self.suppression_table().into_iter().collect();
        let mut global = None;
        if let Some((l, folder)) = self.ledger {
            side.push(ledger_run::contacts_table(l, folder)?);
            if let Some(share) = self.job.config.ledger.global_control {
                global = Some(ledger_run::global_control(l, share, scores)?);
            }
        }
        Ok((side, global))
    }

    /// The sources' suppression list, as every campaign of the `select` stage reads it.
    fn suppression_table(&self) -> Option<select::SideTable> {
        self.tables
            .get(&TableKind::Suppressions)
            .map(|v| select::SideTable {
                table: TableKind::Suppressions,
                path: self
                    .request
                    .path(TableKind::Suppressions)
                    .unwrap_or_default(),
                validated: v.clone(),
            })
    }

    /// The `select` stage of a job naming several campaigns: one joint plan under the job's
    /// `[policy]`, written as `audience/<campaign>/` folders plus `audience/plan.json`.
    fn plan(
        &mut self,
        campaigns: Vec<(&PathBuf, crate::select::CampaignConfig)>,
        scores: &DataFrame,
        segment: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<usize>, Error> {
        let (paths, mut configs): (Vec<PathBuf>, Vec<_>) =
            campaigns.into_iter().map(|(p, c)| (p.clone(), c)).unzip();
        let send_dates = configs
            .iter_mut()
            .map(|c| c.default_dates(self.as_of))
            .collect::<Result<Vec<_>, _>>()?;
        let (side, global) = self.shared_side(scores)?;
        let held_out: Option<std::collections::HashSet<String>> =
            global.as_ref().map(|m| m.iter().cloned().collect());
        let previous_run = self.previous_run();
        let frames = select::Frames {
            scores,
            customers: self.customers(),
            side,
            options: select::MatchOptions {
                id_policy: self.job.ingest.ids.policy,
                max_reject_rate: self.request.max_reject_rate(),
                default_country_code: select::country_code(&self.request.config),
                directory: self.directory.as_ref(),
            },
            global_control: held_out.as_ref(),
            transaction_ids: self.transaction_ids(),
            previous: previous_run.as_deref(),
        };
        let policy = self.job.config.policy.clone().unwrap_or_default();
        let w = crate::run::plan::plan_and_write(
            &configs,
            &paths,
            frames,
            segment,
            &policy,
            &self.dir.join("audience"),
            self.job.config.output.cells(),
        )?;
        warnings.extend(w.warnings.lines().map(str::to_string));
        if self.ledger.is_some() {
            let mut records =
                crate::run::plan::plan_records(&configs, &w.value, &send_dates, "audience/");
            let models = self.scoring_models();
            for (record, config) in records.iter_mut().zip(&configs) {
                ledger_run::name_models(record, config, &models);
            }
            if let Some(members) = &global {
                for record in &mut records {
                    ledger_run::add_global_control(record, members);
                }
            }
            self.ledger_campaigns.extend(records);
        }
        let mut rows = 0;
        for sel in w.value.selections {
            self.summary
                .push_str(&format!("\n== audience: {} ==\n", sel.summary.campaign));
            self.summary.push_str(&render_summary(&sel.summary));
            rows += sel.summary.audience_size;
            self.selections.push(sel);
        }
        self.summary.push_str("\n== plan ==\n");
        self.summary
            .push_str(&crate::plan::render_plan(&w.value.summary));
        self.plan = Some(w.value.summary);
        Ok(Some(rows))
    }

    /// `report.json` and `report.html` from everything the earlier stages left.
    fn report(&mut self, manifest: &Manifest) -> Result<Option<usize>, Error> {
        let mut b = super::report_builder(self.job, self.as_of, manifest);
        if let Some(m) = &self.drift_failure {
            b.failure(crate::error::EXIT_DRIFT, Some(Stage::Score.name()), m);
        }
        let mut from: Vec<String> = [
            "features.parquet",
            "segments.csv",
            "clv.csv",
            scores::SCORES_FILE,
            "rules.csv",
            "penetration.csv",
        ]
        .into_iter()
        .filter(|f| self.dir.join(f).is_file())
        .map(String::from)
        .collect();
        from.extend(
            self.selections
                .iter()
                .map(|s| format!("audience/{}/summary.json", file_safe(&s.summary.campaign))),
        );
        b.generated_from(from);
        if let (Some(seg), Some(f)) = (&self.segmentation, &self.features) {
            b.segments(seg, f)?;
        }
        for s in &self.scored {
            b.model(s.model.name(), &s.source, &s.report);
        }
        // Trained but not scored (a job without `score`).
        for (m, t) in &self.trained {
            b.model(
                m.name(),
                &format!("trained (models/{})", m.name()),
                &t.report,
            );
        }
        if let Some(c) = &self.clv {
            b.clv(c)?;
        }
        for sel in &self.selections {
            let folder = file_safe(&sel.summary.campaign);
            let file = format!("audience/{folder}/audience.csv");
            b.campaign(&folder, sel, &file);
        }
        let d = &self.job.config.drift;
        for s in &self.scored {
            b.drift(s.model.name(), &s.drift, &d.exclude, Some(d.fail_above));
        }
        if let Some((l, _)) = self.ledger {
            for r in ledger_run::closed_readouts(l, self.as_of)? {
                b.campaign_result(&r);
            }
        }
        if let Some(p) = &self.plan {
            b.plan(p);
        }
        if let Some(t) = &self.penetration {
            b.penetration(t);
        }
        if let Some((_, mined)) = &self.basket {
            b.bought_together(mined);
        }
        crate::report::write_report(self.dir, &b.build())?;
        self.summary
            .push_str("\n== report ==\nreport.html, report.json\n");
        Ok(None)
    }
}

/// A campaign name as a folder name: letters, digits, `-`, `_` and `.` kept, the rest `_`.
pub(crate) fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_matches('.') {
        "" => "campaign".to_string(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::file_safe;

    #[test]
    fn campaign_names_become_safe_folder_names() {
        assert_eq!(file_safe("spring-email"), "spring-email");
        assert_eq!(file_safe("Spring / 2026"), "Spring___2026");
        assert_eq!(file_safe(".."), "campaign");
    }
}
