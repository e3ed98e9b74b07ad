//! The model registry: `REGISTRY/<kind>/<version>/{model.json,metrics.json}` and a
//! `REGISTRY/<kind>/PRODUCTION` file holding the version in production. Versions are `v0001`,
//! `v0002`… in registration order; registering a model whose files are byte-identical to an
//! existing version returns that version instead of a copy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::io::{self, IoError};
use crate::models::card::{self, settings_rows};
use crate::models::guard;
use crate::models::training::TrainedModel;
use crate::models::{FeatureTransform, ModelArtifact, ModelCard, ModelKind, TrainingReport};
use crate::run::{RunError, Setting};
use crate::Error;

/// The registry root when none is given.
pub const DEFAULT_REGISTRY: &str = "models";

const MODEL_FILE: &str = "model.json";
const METRICS_FILE: &str = "metrics.json";
const PRODUCTION_FILE: &str = "PRODUCTION";
const CARD_JSON: &str = "model_card.json";
const CARD_MARKDOWN: &str = "model_card.md";
/// The registry's append-only log of who registered and promoted what, and when: the one file
/// of the registry that reads the clock and the user, so the model files never do.
const HISTORY_FILE: &str = "history.jsonl";
/// A registered version's holdout rows: its model inputs, the label and (uplift) the treatment
/// flag, so `promote` can score the production model on the candidate's holdout.
const HOLDOUT_FILE: &str = "holdout.parquet";
const HOLDOUT_LABEL: &str = "_label";
const HOLDOUT_TREATMENT: &str = "_treatment";
/// Tags and notes of a version: kept apart from `model.json` and `metrics.json`, which stay the
/// same bytes for the same inputs (a note is not part of the model).
const ANNOTATIONS_FILE: &str = "annotations.json";

/// `annotations.json`: what people said about a version.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Annotations {
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The tags and notes of the version in `dir` (none when it has no annotations file).
pub fn annotations(dir: &Path) -> Result<Annotations, Error> {
    let path = dir.join(ANNOTATIONS_FILE);
    if !path.is_file() {
        return Ok(Annotations::default());
    }
    Ok(io::read_json(&path)?)
}

/// Adds `tags` (each once) and `note` to the version in `dir`.
pub fn annotate(dir: &Path, tags: &[String], note: Option<&str>) -> Result<Annotations, Error> {
    let mut a = annotations(dir)?;
    for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !a.tags.iter().any(|x| x == t) {
            a.tags.push(t.to_string());
        }
    }
    a.notes.extend(note.map(str::to_string));
    io::write_json_atomic(&dir.join(ANNOTATIONS_FILE), &a)?;
    Ok(a)
}

/// [`annotate`] for `KIND VERSION` of the registry.
pub fn tag(
    registry: &Path,
    kind: &str,
    version: &str,
    tags: &[String],
    note: Option<&str>,
) -> Result<Annotations, Error> {
    kind_or_usage(kind)?;
    annotate(&version_dir(registry, kind, version)?, tags, note)
}

pub(crate) use crate::models::artifact::kind_name;

pub(crate) fn parse_kind(s: &str) -> Option<ModelKind> {
    match s {
        "response" => Some(ModelKind::Response),
        "churn" => Some(ModelKind::Churn),
        "uplift" => Some(ModelKind::Uplift),
        _ => None,
    }
}

fn kind_or_usage(s: &str) -> Result<ModelKind, Error> {
    parse_kind(s).ok_or_else(|| {
        RunError::invalid(
            Setting::Argument("KIND"),
            "response, churn or uplift",
            format!("`{s}`"),
        )
        .into()
    })
}

fn json_text<T: serde::Serialize>(path: &Path, v: &T) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(v).map_err(|source| IoError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    s.push('\n');
    Ok(s)
}

/// What to do about a model file that is refused.
const RETRAIN: &str = "train the model again with `bullseye train` (the README's models section lists the commands that made the bundled models)";

/// Writes `dir/model.json` (sealed with its checksum), `dir/metrics.json` and the model card
/// (`model_card.json`, `model_card.md`), atomically.
pub fn save(dir: &Path, model: &TrainedModel) -> Result<(), Error> {
    io::write_sealed_json(&dir.join(MODEL_FILE), &model.artifact)?;
    io::write_json_atomic(&dir.join(METRICS_FILE), &model.report)?;
    save_card(dir, &model.card)
}

fn save_card(dir: &Path, card: &ModelCard) -> Result<(), Error> {
    io::write_json_atomic(&dir.join(CARD_JSON), card)?;
    io::write_string_atomic(&dir.join(CARD_MARKDOWN), &card.to_markdown())?;
    Ok(())
}

/// One line of the registry's `history.jsonl`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    pub kind: String,
    pub version: String,
    /// `registered` or `promoted`.
    pub action: String,
    pub user: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Who acts: `by` when given, else `$USER`, else `unknown`.
fn user(by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn append_history(
    registry: &Path,
    kind: &str,
    version: &str,
    action: &str,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<(), Error> {
    use std::io::Write;
    let entry = HistoryEntry {
        kind: kind.into(),
        version: version.into(),
        action: action.into(),
        user: user(by),
        time: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        note: note.map(str::to_string),
    };
    let path = registry.join(HISTORY_FILE);
    let line = serde_json::to_string(&entry).map_err(|source| IoError::Json {
        path: path.clone(),
        source,
    })?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{line}"))
        .map_err(|source| IoError::Write { path, source })?;
    Ok(())
}

/// The history entries of `kind/version`, oldest first (none when the registry has no history).
pub fn history(registry: &Path, kind: &str, version: &str) -> Result<Vec<HistoryEntry>, Error> {
    let path = registry.join(HISTORY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(IoError::Read { path, source }.into()),
    };
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: HistoryEntry = serde_json::from_str(line).map_err(|e| RunError::InvalidFile {
            path: path.clone(),
            message: format!("line {}: {e}", i + 1),
        })?;
        if e.kind == kind && e.version == version {
            out.push(e);
        }
    }
    Ok(out)
}

/// Reads `dir/model.json`: its checksum must match its content and the artifact must meet its
/// rules ([`ModelArtifact::check`]); a refusal names the file (exit code 2).
pub fn load(dir: &Path) -> Result<ModelArtifact, Error> {
    let path = dir.join(MODEL_FILE);
    let a: ModelArtifact = io::read_sealed_json(&path, RETRAIN)?;
    a.check().map_err(|e| in_file(&path, e))?;
    Ok(a)
}

/// [`load`], refusing a model of another kind than `kind`.
pub fn load_kind(dir: &Path, kind: ModelKind) -> Result<ModelArtifact, Error> {
    let a = load(dir)?;
    a.expect_kind(kind)
        .map_err(|e| in_file(&dir.join(MODEL_FILE), e))?;
    Ok(a)
}

fn in_file(path: &Path, e: crate::models::ModelsError) -> Error {
    RunError::InvalidFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
    .into()
}

/// Reads `dir/metrics.json`.
pub fn load_report(dir: &Path) -> Result<TrainingReport, Error> {
    Ok(io::read_json(&dir.join(METRICS_FILE))?)
}

/// The categorical levels the features of the models in `dirs` were built with (their training
/// reports' `feature_levels`; a model without `metrics.json` adds none, the first model to
/// name a column decides its levels).
pub fn feature_levels(dirs: &[PathBuf]) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut levels = BTreeMap::new();
    for dir in dirs {
        if dir.join(METRICS_FILE).is_file() {
            for (column, kept) in load_report(dir)?.feature_levels {
                levels.entry(column).or_insert(kept);
            }
        }
    }
    Ok(levels)
}

/// Versions of a kind, oldest first.
fn versions(registry: &Path, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(registry.join(kind))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join(MODEL_FILE).is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn sequence(version: &str) -> Option<u32> {
    version.strip_prefix('v')?.parse().ok()
}

/// Where [`register`] put a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub version: String,
    pub dir: PathBuf,
    /// False when an identical model was already registered under `version`.
    pub new: bool,
}

/// Saves a model as the next version of its kind under `registry` (or finds it already there).
pub fn register(registry: &Path, model: &TrainedModel) -> Result<Registered, Error> {
    let kind = kind_name(model.artifact.kind);
    let existing = versions(registry, kind);
    let model_text = io::sealed_json(Path::new(MODEL_FILE), &model.artifact)?;
    let metrics_text = json_text(Path::new(METRICS_FILE), &model.report)?;
    for v in &existing {
        let dir = registry.join(kind).join(v);
        let same =
            |f: &str, text: &str| std::fs::read_to_string(dir.join(f)).is_ok_and(|t| t == text);
        if same(MODEL_FILE, &model_text) && same(METRICS_FILE, &metrics_text) {
            return Ok(Registered {
                version: v.clone(),
                dir,
                new: false,
            });
        }
    }
    let next = existing
        .iter()
        .filter_map(|v| sequence(v))
        .max()
        .unwrap_or(0)
        + 1;
    let version = format!("v{next:04}");
    let dir = registry.join(kind).join(&version);
    io::write_string_atomic(&dir.join(MODEL_FILE), &model_text)?;
    io::write_string_atomic(&dir.join(METRICS_FILE), &metrics_text)?;
    save_card(&dir, &model.card)?;
    io::write_table(&dir.join(HOLDOUT_FILE), &mut holdout_frame(&model.holdout)?)?;
    append_history(registry, kind, &version, "registered", None, None)?;
    Ok(Registered {
        version,
        dir,
        new: true,
    })
}

/// The version in production for a kind, if any.
pub fn production(registry: &Path, kind: ModelKind) -> Result<Option<String>, Error> {
    let path = registry.join(kind_name(kind)).join(PRODUCTION_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(IoError::Read { path, source }.into()),
    }
}

fn version_dir(registry: &Path, kind: &str, version: &str) -> Result<PathBuf, Error> {
    let dir = registry.join(kind).join(version);
    if !dir.join(MODEL_FILE).is_file() {
        let known = versions(registry, kind);
        return Err(RunError::ModelNotFound {
            what: format!("no model `{kind}/{version}` in `{}`", registry.display()),
            hint: format!(
                " (versions: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        }
        .into());
    }
    Ok(dir)
}

/// What [`promote`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Promoted {
    pub dir: PathBuf,
    /// What was compared, and what `force` let through.
    pub notes: Vec<String>,
}

/// Why a version should not be used ([`crate::models::guard::weaknesses`]), from its files.
pub fn weaknesses(dir: &Path, kind: ModelKind) -> Result<Vec<String>, Error> {
    let artifact = load_kind(dir, kind)?;
    let report = load_report(dir)?;
    Ok(guard::weaknesses(
        &report,
        artifact.preprocessing.n_features(),
    ))
}

/// Marks `version` as the production model of `kind`. Refused, unless `force`, for a weak
/// model ([`weaknesses`]) and for one worse than the version in production on the same
/// holdout (its headline metric lower: AUC, or the Qini coefficient of an uplift model).
/// When the two were judged on different holdouts, the production model is scored on the
/// candidate's holdout rows (kept in its `holdout.parquet`) and compared there.
/// The registry's history records who promoted it (`by`, else `$USER`), when, and `note`.
pub fn promote(
    registry: &Path,
    kind: &str,
    version: &str,
    force: bool,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<Promoted, Error> {
    let k = kind_or_usage(kind)?;
    let dir = version_dir(registry, kind, version)?;
    let name = format!("`{kind}/{version}`");
    let mut notes = Vec::new();
    let weak = weaknesses(&dir, k)?;
    if !weak.is_empty() {
        let what = format!("{name} is weak: {}", weak.join("; "));
        if !force {
            return Err(RunError::Refused {
                what: format!("refused to promote {what}"),
                hint: "retrain it, or promote it anyway with `--force`".into(),
            }
            .into());
        }
        notes.push(format!("promoted with `--force` although {what}"));
    }
    if let Some(current) = production(registry, k)?.filter(|p| p != version) {
        let candidate = load_report(&dir)?;
        let current_dir = version_dir(registry, kind, &current)?;
        let incumbent = load_report(&current_dir)?;
        let (comparison, on) = match compare(&candidate, &incumbent) {
            Comparison::NotComparable(_) if dir.join(HOLDOUT_FILE).is_file() => (
                compare_on_holdout(&dir, &candidate, &load_kind(&current_dir, k)?)?,
                "the candidate's holdout, production scored on its rows",
            ),
            c => (c, "the same holdout"),
        };
        match comparison {
            Comparison::NotComparable(why) => notes.push(format!(
                "not compared with production `{kind}/{current}`: {why}"
            )),
            Comparison::Compared { metric, new, old } => {
                let what = format!(
                    "{name} against production `{kind}/{current}` on {on} ({} rows, hash {}): {metric} {new:.4} vs {old:.4}",
                    candidate.holdout.rows,
                    short_hash(&candidate.holdout.hash)
                );
                if new >= old {
                    notes.push(format!("compared {what}"));
                } else if force {
                    notes.push(format!("promoted with `--force` although worse: {what}"));
                } else {
                    return Err(RunError::Refused {
                        what: format!("refused to promote a worse model: {what}"),
                        hint: "keep the production model, or promote it anyway with `--force`"
                            .into(),
                    }
                    .into());
                }
            }
        }
    }
    io::write_string_atomic(
        &registry.join(kind).join(PRODUCTION_FILE),
        &format!("{version}\n"),
    )?;
    append_history(registry, kind, version, "promoted", by, note)?;
    Ok(Promoted { dir, notes })
}

/// A candidate's headline metric against production's.
enum Comparison {
    Compared {
        metric: &'static str,
        new: f64,
        old: f64,
    },
    NotComparable(String),
}

/// The two versions' headline metrics, when they were measured on the same holdout rows (the
/// metrics files hold no rows to score the production model on another holdout).
fn compare(candidate: &TrainingReport, incumbent: &TrainingReport) -> Comparison {
    if candidate.holdout.hash != incumbent.holdout.hash {
        return Comparison::NotComparable(format!(
            "the holdouts differ (candidate: {}; production: {}); compare them with `models diff`",
            candidate.holdout.definition, incumbent.holdout.definition
        ));
    }
    let c = (&candidate.metrics, &incumbent.metrics);
    match c {
        (m, p) if m.classification.is_some() && p.classification.is_some() => {
            Comparison::Compared {
                metric: "AUC",
                new: m.classification.as_ref().map_or(0.0, |x| x.auc),
                old: p.classification.as_ref().map_or(0.0, |x| x.auc),
            }
        }
        (m, p) if m.uplift.is_some() && p.uplift.is_some() => Comparison::Compared {
            metric: "Qini coefficient",
            new: m.uplift.as_ref().map_or(0.0, |x| x.qini_coefficient),
            old: p.uplift.as_ref().map_or(0.0, |x| x.qini_coefficient),
        },
        _ => Comparison::NotComparable("they have no holdout metric in common".into()),
    }
}

/// The holdout rows as a table: the model inputs, [`HOLDOUT_LABEL`] and, for uplift,
/// [`HOLDOUT_TREATMENT`].
fn holdout_frame(h: &crate::models::HoldoutScores) -> Result<polars::prelude::DataFrame, Error> {
    use polars::prelude::{Column, DataFrame};
    let i = &h.inputs;
    let mut columns: Vec<Column> = i
        .numeric_names
        .iter()
        .enumerate()
        .map(|(j, name)| Column::new(name.into(), i.numeric.column(j).to_vec()))
        .collect();
    columns.extend(
        i.categorical
            .names
            .iter()
            .zip(&i.categorical.values)
            .map(|(name, v)| Column::new(name.into(), v.clone())),
    );
    columns.push(Column::new(HOLDOUT_LABEL.into(), h.labels.to_vec()));
    if let Some(t) = &h.treatment {
        columns.push(Column::new(HOLDOUT_TREATMENT.into(), t.to_vec()));
    }
    DataFrame::new_infer_height(columns).map_err(crate::error::polars_failure("the holdout rows"))
}

/// The production model scored on the candidate's holdout rows against the candidate's own
/// holdout metric (AUC, or the Qini coefficient of an uplift model).
fn compare_on_holdout(
    dir: &Path,
    candidate: &TrainingReport,
    production: &ModelArtifact,
) -> Result<Comparison, Error> {
    let path = dir.join(HOLDOUT_FILE);
    let df = io::read_table(&path, &[])?;
    let scored = match super::score_frame(production, &df, None, false) {
        Ok((scored, _)) => scored,
        Err(e) => {
            return Ok(Comparison::NotComparable(format!(
                "production cannot score the candidate's holdout rows ({e})"
            )))
        }
    };
    let what = format!("`{}`", path.display());
    let column = |frame: &polars::prelude::DataFrame, name: &str| {
        crate::models::training::frame::numeric_column(frame, name, &what)
            .map_err(|e| Error::from(RunError::Training(e)))
    };
    let (labels, scores) = (column(&df, HOLDOUT_LABEL)?, column(&scored, "score")?);
    let (y, p) = (
        ndarray::ArrayView1::from(&labels),
        ndarray::ArrayView1::from(&scores),
    );
    let found = |m: crate::models::Result<f64>| m.map_err(|e| in_file(&path, e));
    Ok(
        match (&candidate.metrics.classification, &candidate.metrics.uplift) {
            (Some(c), _) => Comparison::Compared {
                metric: "AUC",
                new: c.auc,
                old: found(crate::models::metrics::auc(y, p))?,
            },
            (None, Some(u)) => {
                let t = column(&df, HOLDOUT_TREATMENT)?;
                Comparison::Compared {
                    metric: "Qini coefficient",
                    new: u.qini_coefficient,
                    old: found(crate::models::qini_auc_score(
                        y,
                        p,
                        ndarray::ArrayView1::from(&t),
                    ))?,
                }
            }
            _ => Comparison::NotComparable("the candidate has no holdout metric".into()),
        },
    )
}

/// A model folder from `--model`: an existing folder holding `model.json`, else `KIND` (its
/// production version) or `KIND/VERSION` in the registry.
pub fn resolve_model(spec: &str, registry: &Path) -> Result<PathBuf, Error> {
    let direct = Path::new(spec);
    if direct.join(MODEL_FILE).is_file() {
        return Ok(direct.to_path_buf());
    }
    let (kind, version) = match spec.split_once('/') {
        Some((k, v)) => (k, Some(v)),
        None => (spec, None),
    };
    let Some(k) = parse_kind(kind) else {
        return Err(RunError::ModelNotFound {
            what: format!("no model at `{spec}`"),
            hint: format!(
                ": expected a folder with {MODEL_FILE}, or response, churn or uplift (optionally /VERSION)"
            ),
        }
        .into());
    };
    let version = match version {
        Some(v) => v.to_string(),
        None => production(registry, k)?.ok_or_else(|| {
            Error::from(RunError::ModelNotFound {
                what: format!("no production `{kind}` model in `{}`", registry.display()),
                hint: format!(": run `bullseye models promote {kind} VERSION`"),
            })
        })?,
    };
    version_dir(registry, kind, &version)
}

/// One registered version, for `models list`.
#[derive(Debug, Clone)]
pub struct ModelSummary {
    pub kind: String,
    pub version: String,
    pub production: bool,
    pub report: Option<TrainingReport>,
    pub annotations: Annotations,
}

/// Every version of every kind in the registry.
pub fn list(registry: &Path) -> Result<Vec<ModelSummary>, Error> {
    let mut out = Vec::new();
    for kind in ["response", "churn", "uplift"] {
        let prod = parse_kind(kind)
            .map(|k| production(registry, k))
            .transpose()?
            .flatten();
        for v in versions(registry, kind) {
            let dir = registry.join(kind).join(&v);
            out.push(ModelSummary {
                kind: kind.to_string(),
                production: prod.as_deref() == Some(v.as_str()),
                report: load_report(&dir).ok(),
                annotations: annotations(&dir).unwrap_or_default(),
                version: v,
            });
        }
    }
    Ok(out)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.4}"))
}

/// The headline figure of a report: AUC, or the Qini coefficient of an uplift model.
pub(crate) fn headline(r: &TrainingReport) -> String {
    match (&r.metrics.classification, &r.metrics.uplift) {
        (Some(c), _) => format!("AUC {:.4}", c.auc),
        (None, Some(u)) => format!("Qini {:.4}", u.qini_coefficient),
        _ => "-".into(),
    }
}

/// `models list` as text.
pub fn render_list(models: &[ModelSummary]) -> String {
    if models.is_empty() {
        return "no models registered\n".into();
    }
    let mut s = format!(
        "{:<9} {:<8} {:<9} {:>8} {:<12} {}\n",
        "kind", "version", "model", "rows", "holdout", "production"
    );
    for m in models {
        let (model, rows, head) = match &m.report {
            Some(r) => (
                format!("{:?}", r.model_type).to_lowercase(),
                r.rows.to_string(),
                headline(r),
            ),
            None => ("?".into(), "?".into(), "-".into()),
        };
        let line = format!(
            "{:<9} {:<8} {:<9} {:>8} {:<12} {}",
            m.kind,
            m.version,
            model,
            rows,
            head,
            if m.production { "*" } else { "" }
        );
        s.push_str(&line);
        if !m.annotations.tags.is_empty() {
            s.push_str(&format!("  [{}]", m.annotations.tags.join(", ")));
        }
        s.push('\n');
        for n in &m.annotations.notes {
            s.push_str(&format!("    note: {n}\n"));
        }
    }
    s
}

/// `models show`: report, metrics by decile and the feature schema.
pub fn render_report(r: &TrainingReport, a: &ModelArtifact) -> String {
    let mut s = format!(
        "{} model ({}), bullseye {}\n  source: {}\n  label: {} ({} of {} rows positive)\n",
        kind_name(r.kind),
        format!("{:?}", r.model_type).to_lowercase(),
        r.bullseye_version,
        r.source,
        r.label,
        r.positives,
        r.rows
    );
    if let Some((a, b)) = &r.window {
        s.push_str(&format!("  features as of: {a} to {b}\n"));
    }
    if let Some(t) = &r.treatment {
        s.push_str(&format!("  treatment: {t}\n"));
    }
    s.push_str(&format!(
        "  holdout: {} ({} rows, hash {})\n  training data hash: {}\n  refit on all rows: {}\n",
        r.holdout.definition,
        r.holdout.rows,
        short_hash(&r.holdout.hash),
        r.training_data_hash,
        r.refit
    ));
    for n in &r.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s.push_str("settings:\n");
    for (name, value) in settings_rows(r) {
        s.push_str(&format!("  {name:<18} {value}\n"));
    }
    s.push_str(&render_metrics(r));
    s.push_str(&render_coefficients(a));
    if let Some(imp) = &r.metrics.permutation_importance {
        s.push_str(&format!(
            "\npermutation importance on the holdout (drop in AUC when the input is shuffled, mean of {} shuffles), largest first:\n",
            crate::models::importance::IMPORTANCE_REPEATS
        ));
        for f in imp {
            s.push_str(&format!("  {:<32} {:>10.4}\n", f.name, f.auc_drop));
        }
    }
    let schema = a.preprocessing.schema();
    s.push_str(&format!("\nschema ({} model features):\n", schema.len()));
    for f in schema {
        s.push_str(&format!("  {:<32} {}\n", f.name, describe(&f.transform)));
    }
    s
}

/// The coefficients of a logistic model (of each sub-model of an uplift one), largest first:
/// on the model's scale (per standard deviation of a numeric input, per switch of a 0/1 one)
/// and per unit of the input as it comes.
fn render_coefficients(a: &ModelArtifact) -> String {
    let mut s = String::new();
    for r in card::ranked_coefficients(a) {
        let which = match r.model {
            "model" => String::new(),
            m => format!(" of the {m} model"),
        };
        s.push_str(&format!(
            "\ncoefficients{which}, largest first (intercept {:.6}):\n  {:<32} {:>14} {:>16}\n",
            r.intercept, "feature", "standardised", "original units"
        ));
        for (f, b, original) in r.rows {
            s.push_str(&format!("  {:<32} {b:>14.6} {original:>16.6}\n", f.name));
        }
    }
    s
}

fn describe(t: &FeatureTransform) -> String {
    match t {
        FeatureTransform::Standardized { column, mean, std } => {
            format!("({column} - {mean:.6}) / {std:.6}")
        }
        FeatureTransform::MissingIndicator { column } => format!("1 when {column} is missing"),
        FeatureTransform::OneHot { column, level } => format!("1 when {column} = {level:?}"),
        FeatureTransform::Other { column } => {
            format!("1 when {column} is another level")
        }
    }
}

/// The holdout metrics as text.
pub fn render_metrics(r: &TrainingReport) -> String {
    let mut s = String::new();
    if let Some(c) = &r.metrics.classification {
        s.push_str(&format!(
            "holdout metrics ({} rows, base rate {:.4}): AUC {:.4}  log loss {:.4}  Brier {:.4}  top-decile lift {:.2}\n",
            c.n_rows, c.base_rate, c.auc, c.log_loss, c.brier, c.top_decile_lift
        ));
        s.push_str("  decile   rows   mean predicted   observed   cum. gain   lift\n");
        for d in &c.deciles {
            s.push_str(&format!(
                "  {:>6} {:>6} {:>16.4} {:>10.4} {:>11.3} {:>6.2}\n",
                d.decile, d.rows, d.mean_predicted, d.observed_rate, d.cumulative_gain, d.lift
            ));
        }
    }
    if let Some(u) = &r.metrics.uplift {
        s.push_str(&format!(
            "holdout uplift metrics ({} rows: {} treated, {} control): Qini coefficient {:.4}\n",
            u.n_rows, u.n_treated, u.n_control, u.qini_coefficient
        ));
        s.push_str("  decile   treated   control   predicted uplift   observed uplift\n");
        for d in &u.uplift_by_decile {
            s.push_str(&format!(
                "  {:>6} {:>9} {:>9} {:>18.4} {:>17}\n",
                d.decile,
                d.n_treated,
                d.n_control,
                d.mean_predicted_uplift,
                fmt(d.uplift)
            ));
        }
    }
    s
}

/// `models show KIND[/VERSION]`: the version named, else production, else the latest.
pub fn show(registry: &Path, spec: &str) -> Result<String, Error> {
    let (k, version, dir) = pick_version(registry, spec)?;
    let kind = kind_name(k);
    let prod = production(registry, k)?.as_deref() == Some(version.as_str());
    let a = annotations(&dir)?;
    let mut head = String::new();
    if !a.tags.is_empty() {
        head.push_str(&format!("tags: {}\n", a.tags.join(", ")));
    }
    for n in &a.notes {
        head.push_str(&format!("note: {n}\n"));
    }
    for w in weaknesses(&dir, k)? {
        head.push_str(&format!("WEAK: {w}\n"));
    }
    let report = load_report(&dir)?;
    let mut body = render_report(&report, &load_kind(&dir, k)?);
    // How the settings were chosen (`train --cv`, `--sweep`), when they were.
    for part in [
        report.cv.as_ref().map(|c| c.render()),
        report.sweep.as_ref().map(|s| s.render()),
    ]
    .into_iter()
    .flatten()
    {
        body.push_str(&part);
    }
    Ok(format!(
        "{kind}/{version}{}\n{head}{body}",
        if prod { " (production)" } else { "" },
    ))
}

/// `KIND`, `KIND/VERSION` or `KIND@VERSION`: the version named, else production, else the
/// latest; its kind, version and folder.
fn pick_version(registry: &Path, spec: &str) -> Result<(ModelKind, String, PathBuf), Error> {
    let (kind, version) = match spec.split_once(['/', '@']) {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (spec, None),
    };
    let k = kind_or_usage(kind)?;
    let version = match version {
        Some(v) => v,
        None => match production(registry, k)? {
            Some(v) => v,
            None => versions(registry, kind).pop().ok_or_else(|| {
                Error::from(RunError::ModelNotFound {
                    what: format!("no `{kind}` model in `{}`", registry.display()),
                    hint: String::new(),
                })
            })?,
        },
    };
    let dir = version_dir(registry, kind, &version)?;
    Ok((k, version, dir))
}

/// A version's card with the registry's history of it, as Markdown or (`json`) JSON: the card
/// written at training time, then who registered and promoted the version and when.
pub fn card(registry: &Path, spec: &str, json: bool) -> Result<String, Error> {
    let (k, version, dir) = pick_version(registry, spec)?;
    let kind = kind_name(k);
    let path = dir.join(CARD_JSON);
    if !path.is_file() {
        return Err(RunError::ModelNotFound {
            what: format!("no model card for `{kind}/{version}`"),
            hint: format!(": it was trained before model cards; {RETRAIN}"),
        }
        .into());
    }
    let c: ModelCard = io::read_json(&path)?;
    let history = history(registry, kind, &version)?;
    if json {
        let mut v = serde_json::to_value(&c).map_err(|source| IoError::Json {
            path: path.clone(),
            source,
        })?;
        v["version"] = version.clone().into();
        v["history"] = serde_json::to_value(&history).map_err(|source| IoError::Json {
            path: path.clone(),
            source,
        })?;
        return json_text(&path, &v);
    }
    let mut s = c
        .to_markdown()
        .replacen("\n", &format!(" — `{kind}/{version}`\n"), 1);
    s.push_str("\n## History\n");
    if history.is_empty() {
        s.push_str("no registry history for this version\n");
    }
    for e in &history {
        s.push_str(&format!(
            "- {} {} by {}{}\n",
            e.time,
            e.action,
            e.user,
            e.note.as_ref().map_or(String::new(), |n| format!(": {n}"))
        ));
    }
    Ok(s)
}

/// `models diff KIND V1 V2`: metrics side by side, and whether the holdouts are the same.
pub fn diff(registry: &Path, kind: &str, v1: &str, v2: &str) -> Result<String, Error> {
    kind_or_usage(kind)?;
    let a = load_report(&version_dir(registry, kind, v1)?)?;
    let b = load_report(&version_dir(registry, kind, v2)?)?;
    let mut rows: Vec<(&str, String, String)> = vec![
        (
            "model",
            format!("{:?}", a.model_type).to_lowercase(),
            format!("{:?}", b.model_type).to_lowercase(),
        ),
        ("rows", a.rows.to_string(), b.rows.to_string()),
        (
            "holdout rows",
            a.holdout.rows.to_string(),
            b.holdout.rows.to_string(),
        ),
    ];
    let c = |r: &TrainingReport, f: fn(&crate::models::ClassificationMetrics) -> f64| {
        fmt(r.metrics.classification.as_ref().map(f))
    };
    if a.metrics.classification.is_some() || b.metrics.classification.is_some() {
        rows.push(("base rate", c(&a, |m| m.base_rate), c(&b, |m| m.base_rate)));
        rows.push(("AUC", c(&a, |m| m.auc), c(&b, |m| m.auc)));
        rows.push(("log loss", c(&a, |m| m.log_loss), c(&b, |m| m.log_loss)));
        rows.push(("Brier", c(&a, |m| m.brier), c(&b, |m| m.brier)));
        rows.push((
            "top-decile lift",
            c(&a, |m| m.top_decile_lift),
            c(&b, |m| m.top_decile_lift),
        ));
    }
    if a.metrics.uplift.is_some() || b.metrics.uplift.is_some() {
        let q = |r: &TrainingReport| fmt(r.metrics.uplift.as_ref().map(|u| u.qini_coefficient));
        rows.push(("Qini coefficient", q(&a), q(&b)));
    }
    let mut s = format!("{:<18} {:>12} {:>12}\n", kind, v1, v2);
    for (name, x, y) in rows {
        s.push_str(&format!("{name:<18} {x:>12} {y:>12}\n"));
    }
    s.push_str(&render_settings_diff(&a, &b, v1, v2));
    if a.training_data_hash == b.training_data_hash {
        s.push_str("same training data (the same rows, inputs and labels)\n");
    } else {
        s.push_str(&format!(
            "the training data differ ({v1}: {}; {v2}: {})\n",
            short_hash(&a.training_data_hash),
            short_hash(&b.training_data_hash)
        ));
    }
    if a.holdout.hash == b.holdout.hash {
        s.push_str(&format!(
            "same holdout ({}, {} rows): the metrics are directly comparable\n",
            a.holdout.definition, a.holdout.rows
        ));
    } else {
        s.push_str(&format!(
            "the holdouts differ ({v1}: {}; {v2}: {}): compare the metrics with care\n",
            a.holdout.definition, b.holdout.definition
        ));
    }
    Ok(s)
}

fn short_hash(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// The settings of two versions, each once: `*` marks one that differs, with both values.
fn render_settings_diff(a: &TrainingReport, b: &TrainingReport, v1: &str, v2: &str) -> String {
    let (sa, sb) = (settings_rows(a), settings_rows(b));
    let mut names: Vec<&str> = sa.iter().map(|(n, _)| *n).collect();
    names.extend(
        sb.iter()
            .map(|(n, _)| *n)
            .filter(|n| !sa.iter().any(|(m, _)| m == n)),
    );
    let value = |rows: &[(&str, String)], name: &str| {
        rows.iter()
            .find(|(n, _)| *n == name)
            .map_or("-".to_string(), |(_, v)| v.clone())
    };
    let mut differ = Vec::new();
    let mut s = String::from("settings (* = differs):\n");
    for name in names {
        let (x, y) = (value(&sa, name), value(&sb, name));
        if x == y {
            s.push_str(&format!("  {name:<18} {x}\n"));
        } else {
            s.push_str(&format!("* {name:<18} {v1}: {x}  {v2}: {y}\n"));
            differ.push(name);
        }
    }
    s.push_str(&match differ.is_empty() {
        true => "the settings are the same\n".to_string(),
        false => format!("settings that differ: {}\n", differ.join(", ")),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_versions() {
        for k in ["response", "churn", "uplift"] {
            assert_eq!(parse_kind(k).map(kind_name), Some(k));
        }
        assert!(parse_kind("clv").is_none());
        assert_eq!(sequence("v0012"), Some(12));
        assert_eq!(sequence("latest"), None);
    }

    #[test]
    fn resolve_refuses_unknown_specs() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve_model("nothing-here", dir.path()).unwrap_err();
        assert!(e.to_string().contains("no model at `nothing-here`"), "{e}");
        let e = resolve_model("churn", dir.path()).unwrap_err();
        assert!(e.to_string().contains("models promote churn"), "{e}");
        assert_eq!(e.exit_code(), crate::error::EXIT_BAD_INPUT);
    }
}
