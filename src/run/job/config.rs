//! The job file of `bullseye run`: which sources, which stages, where the outputs go, and the
//! settings of each stage. TOML with unknown keys rejected; relative paths are relative to the job
//! file's folder, so a job can be run from anywhere (cron, systemd).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::stages::file_safe;
use crate::basket::{BasketError, BasketParams, Correction, Level, Threshold};
use crate::features::{Family, TimeUnit};
use crate::identity::IdentitySettings;
use crate::ids::IdSettings;
use crate::ingest::{IngestConfig, IngestSettings, SourceSpec};
use crate::io::{sanitize_quotes, CsvCells};
use crate::models::training::HoldoutChoice;
use crate::models::ModelKind;
use crate::run::analyze::{MarketSpec, PenetrationSpec};
use crate::run::clv::PredictParams;
use crate::run::settings::{self, TrainChecks};
use crate::run::{RunError, Setting, Via};
use crate::segment::{ClusterParams, KChoice};
use crate::Error;

/// One step of a job, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    // Run order (the derived `Ord`). `train` and `clv` read the keyed purchase lines, not the
    // features table, so they run before `features`: the training rows' matrices never coexist
    // with the features table, and the lines can be released before `segment` (see
    // `stages::State::release_unneeded`).
    Ingest,
    // Runs when the job has a `[basket]` table. Its baskets are built while `ingest` streams the
    // transactions; it comes before `select`, whose campaigns may rank by its affinity.
    Basket,
    // Runs when the job has an `[analyze.penetration]` table; reads the keyed lines and the
    // customers, so it runs while `ingest`'s lines are held.
    Analyze,
    Train,
    Clv,
    Features,
    Segment,
    Score,
    Select,
    Report,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Ingest,
        Stage::Basket,
        Stage::Analyze,
        Stage::Train,
        Stage::Clv,
        Stage::Features,
        Stage::Segment,
        Stage::Score,
        Stage::Select,
        Stage::Report,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Features => "features",
            Stage::Segment => "segment",
            Stage::Clv => "clv",
            Stage::Train => "train",
            Stage::Score => "score",
            Stage::Select => "select",
            Stage::Report => "report",
            Stage::Basket => "basket",
            Stage::Analyze => "analyze",
        }
    }

    /// Stages whose outputs this one reads.
    fn needs(self) -> &'static [Stage] {
        match self {
            Stage::Ingest => &[],
            Stage::Features | Stage::Clv | Stage::Train | Stage::Basket | Stage::Analyze => {
                &[Stage::Ingest]
            }
            Stage::Segment | Stage::Score => &[Stage::Features],
            Stage::Select => &[Stage::Score],
            Stage::Report => &[],
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The whole job file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    pub job: JobSettings,
    /// As in an ingest config (`max_reject_rate`; the as-of date is the job's).
    #[serde(default)]
    pub ingest: IngestSettings,
    /// As in an ingest config; or `job.sources` names an ingest config file.
    #[serde(default, deserialize_with = "crate::ingest::sources_with_append")]
    pub sources: BTreeMap<String, SourceSpec>,
    /// As in an ingest config: how ids of different files are matched; overrides the sources
    /// file's `[ids]` when `job.sources` names one.
    pub ids: Option<IdSettings>,
    /// As in an ingest config: which customer records are one person; overrides the sources
    /// file's `[identity]` when `job.sources` names one.
    pub identity: Option<IdentitySettings>,
    #[serde(default)]
    pub features: FeaturesSettings,
    #[serde(default)]
    pub segment: SegmentSettings,
    #[serde(default)]
    pub clv: ClvSettings,
    #[serde(default)]
    pub train: TrainSettings,
    #[serde(default)]
    pub models: ModelSettings,
    #[serde(default)]
    pub drift: DriftSettings,
    #[serde(default)]
    pub select: SelectSettings,
    #[serde(default)]
    pub output: OutputSettings,
    #[serde(default)]
    pub report: ReportSettings,
    #[serde(default)]
    pub ledger: LedgerJobSettings,
    /// `[policy]`, as in a `bullseye plan` policy file: used when `select.campaigns` names more
    /// than one campaign (they are then planned jointly).
    pub policy: Option<crate::plan::PlanPolicy>,
    /// `[basket]`: mine the job's baskets (the keys of `bullseye basket`'s flags); absent, no
    /// `basket` stage.
    pub basket: Option<BasketSettings>,
    /// `[analyze]`: the planner's analyses; with `penetration`, the `analyze` stage.
    #[serde(default)]
    pub analyze: AnalyzeSettings,
    /// `[profit]`: margins and costs; present, the features include the `profit` family and
    /// `segment` the whale curve.
    pub profit: Option<crate::features::profit::ProfitParams>,
}

/// `[analyze]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeSettings {
    /// `[analyze.penetration]`: the keys of `bullseye analyze penetration`'s flags.
    pub penetration: Option<PenetrationSettings>,
}

/// `[analyze.penetration]`; absent keys take the command's defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PenetrationSettings {
    pub by: Vec<String>,
    pub window_days: Option<u32>,
    pub min_group: Option<u64>,
    pub age_edges: Option<Vec<f64>>,
    pub income_column: Option<String>,
    pub income_edges: Option<Vec<f64>>,
    /// `{ path = "households.csv", key = "region", size = "households" }`.
    pub market: Option<MarketSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSettings {
    /// Relative to the job file.
    pub path: PathBuf,
    pub key: String,
    pub size: String,
}

impl PenetrationSettings {
    pub fn spec(&self) -> PenetrationSpec {
        let d = PenetrationSpec::default();
        PenetrationSpec {
            by: self.by.clone(),
            window_days: self.window_days.unwrap_or(d.window_days),
            min_group: self.min_group.unwrap_or(d.min_group),
            age_edges: self.age_edges.clone().unwrap_or(d.age_edges),
            income_column: self.income_column.clone().unwrap_or(d.income_column),
            income_edges: self.income_edges.clone().unwrap_or(d.income_edges),
            market: self.market.as_ref().map(|m| MarketSpec {
                path: m.path.clone(),
                key: m.key.clone(),
                size_column: m.size.clone(),
            }),
        }
    }
}

/// `[ledger]`: where the job records its selections (see [`crate::ledger`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerJobSettings {
    /// Default true: the job records every published selection and its contact policies count
    /// the ledger's contacts.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The ledger file, relative to the job file. Default `bullseye.db` in the job's `out`.
    pub path: Option<PathBuf>,
    /// Share of all customers held out from every campaign as the global control group.
    pub global_control: Option<f64>,
}

impl Default for LedgerJobSettings {
    fn default() -> Self {
        LedgerJobSettings {
            enabled: true,
            path: None,
            global_control: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    pub name: String,
    /// Folder under which each run writes `<as-of>/`.
    pub out: PathBuf,
    /// Observation date; default today (local time). `--as-of` overrides.
    pub as_of: Option<NaiveDate>,
    /// Stages to run; default every stage but `train` (a weekly job scores with the registry's
    /// production models).
    pub stages: Option<Vec<Stage>>,
    /// An ingest config file whose `[ingest]` and `[sources]` are used instead of this file's.
    pub sources: Option<PathBuf>,
    /// Seed of k-means and model training.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    7
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesSettings {
    /// Families to build (default: every family the columns allow).
    pub families: Option<Vec<String>>,
    /// Level cap of categorical columns (default 10).
    pub level_cap: Option<usize>,
    /// Customer columns kept out of the features besides the personal data found.
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSettings {
    /// Number of k-means clusters, or `"auto"` (silhouette over 3..=8). Default 5.
    #[serde(default = "default_k")]
    pub k: KSetting,
    /// Seeded k-means restarts (default 3).
    pub n_init: Option<usize>,
    /// A custom segment scheme (TOML `[[rules]]`, as `bullseye segment --scheme`).
    pub scheme: Option<PathBuf>,
}

impl Default for SegmentSettings {
    fn default() -> Self {
        SegmentSettings {
            k: default_k(),
            n_init: None,
            scheme: None,
        }
    }
}

impl SegmentSettings {
    /// The job's k, restarts and seed over the k-means defaults (`"auto"` keeps the default
    /// range).
    pub fn apply(&self, c: &mut ClusterParams, seed: u64) {
        if let KSetting::Fixed(k) = self.k {
            c.k = KChoice::Fixed(k);
        }
        if let Some(n) = self.n_init {
            c.n_init = n;
        }
        c.seed = seed;
    }
}

fn default_k() -> KSetting {
    KSetting::Fixed(5)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KSetting {
    Fixed(usize),
    Auto(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClvSettings {
    /// Period of the BG/NBD fit: `days` or `weeks` (default weeks).
    #[serde(default = "default_clv_unit")]
    pub time_unit: TimeUnit,
    /// Horizon of `expected_purchases`, in `time_unit` (default 26).
    #[serde(default = "default_horizon")]
    pub horizon: f64,
    /// Months of the discounted CLV (default 12).
    #[serde(default = "default_months")]
    pub months: u32,
    /// Monthly discount rate of the CLV (default 0.01).
    #[serde(default = "default_discount")]
    pub monthly_discount_rate: f64,
}

impl Default for ClvSettings {
    fn default() -> Self {
        ClvSettings {
            time_unit: default_clv_unit(),
            horizon: default_horizon(),
            months: default_months(),
            monthly_discount_rate: default_discount(),
        }
    }
}

impl ClvSettings {
    /// The prediction parameters these settings give (the alive threshold is the default).
    pub fn predict_params(&self) -> PredictParams {
        PredictParams {
            horizon: self.horizon,
            clv_months: self.months,
            monthly_discount_rate: self.monthly_discount_rate,
            alive_threshold: crate::clv::DEFAULT_ALIVE_THRESHOLD,
        }
    }
}

fn default_clv_unit() -> TimeUnit {
    TimeUnit::Weeks
}
fn default_horizon() -> f64 {
    26.0
}
fn default_months() -> u32 {
    12
}
fn default_discount() -> f64 {
    0.01
}

/// A model a job trains or scores with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobModel {
    /// Response to a campaign, trained on the contact history; scores go to `score`
    /// (`crate::run::scores`).
    Response,
    /// No purchase within `churn_horizon_days`; scores go to `churn_score`.
    Churn,
}

impl JobModel {
    pub fn name(self) -> &'static str {
        match self {
            JobModel::Response => "response",
            JobModel::Churn => "churn",
        }
    }

    /// The registry's kind of this model.
    pub fn kind(self) -> ModelKind {
        match self {
            JobModel::Response => ModelKind::Response,
            JobModel::Churn => ModelKind::Churn,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Models the `train` stage fits (default both).
    #[serde(default = "default_train_models")]
    pub models: Vec<JobModel>,
    /// Label window of the churn model (default 90 days).
    #[serde(default = "default_churn_days")]
    pub churn_horizon_days: u32,
    /// Share of rows held out for the metrics (response: the latest contacts; churn: random).
    #[serde(default = "default_holdout")]
    pub holdout: f64,
    /// Most training rows per model, a seeded random sample above it (0 = every row).
    #[serde(default = "default_max_rows")]
    pub max_rows: usize,
    /// Train the response model on the job's ledger (its closed sends, target and control rows,
    /// responses in the window) instead of the contacts table.
    #[serde(default)]
    pub from_ledger: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            models: default_train_models(),
            churn_horizon_days: default_churn_days(),
            holdout: default_holdout(),
            max_rows: default_max_rows(),
            from_ledger: false,
        }
    }
}

fn default_train_models() -> Vec<JobModel> {
    vec![JobModel::Response, JobModel::Churn]
}
fn default_churn_days() -> u32 {
    90
}
fn default_holdout() -> f64 {
    crate::models::training::DEFAULT_HOLDOUT_FRACTION
}
fn default_max_rows() -> usize {
    crate::models::training::DEFAULT_MAX_TRAINING_ROWS
}

/// Where `score` finds its models when the job does not train them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Model registry root (default `models`, relative to the job file).
    #[serde(default = "default_registry")]
    pub registry: PathBuf,
    /// Models the `score` stage uses. Default: every model trained in this run, else every kind
    /// named below or with a production version in the registry.
    pub score: Option<Vec<JobModel>>,
    /// Response model: `response` (the production version), `response/v0003` or a folder.
    pub response: Option<String>,
    /// Churn model, as `response`.
    pub churn: Option<String>,
    /// Use a registry model the guard rails call weak (`models::guard`) anyway (default false:
    /// the run stops and says why).
    #[serde(default)]
    pub allow_weak_model: bool,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            registry: default_registry(),
            score: None,
            response: None,
            churn: None,
            allow_weak_model: false,
        }
    }
}

fn default_registry() -> PathBuf {
    PathBuf::from("models")
}

/// What a crossed drift threshold does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftAction {
    /// Exit 3, publish nothing (the run goes to `<as-of>.failed/`).
    Fail,
    /// Record a warning and go on.
    Warn,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSettings {
    /// Largest acceptable PSI of any checked feature or of a score (default 0.25, "major shift").
    #[serde(default = "default_fail_above")]
    pub fail_above: f64,
    /// `fail` (default) or `warn`.
    #[serde(default = "default_action")]
    pub action: DriftAction,
    /// Features left out of the check (still reported): names, or prefixes ending in `*`. Default:
    /// the features that grow with the calendar for every customer (tenure, `btyd_t`, days since a
    /// date attribute), which drift by construction between training and scoring dates.
    #[serde(default = "default_exclude")]
    pub exclude: Vec<String>,
    /// Whether the scores' PSI is checked too (default true).
    #[serde(default = "default_true")]
    pub check_scores: bool,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            fail_above: default_fail_above(),
            action: default_action(),
            exclude: default_exclude(),
            check_scores: true,
        }
    }
}

fn default_fail_above() -> f64 {
    0.25
}
fn default_action() -> DriftAction {
    DriftAction::Fail
}
fn default_exclude() -> Vec<String> {
    ["tenure_days", "btyd_t", "days_since_*"]
        .map(String::from)
        .to_vec()
}
fn default_true() -> bool {
    true
}

impl DriftSettings {
    /// Whether `feature` is left out of the check (`*` in a pattern stands for any run of
    /// characters).
    pub fn excludes(&self, feature: &str) -> bool {
        crate::models::report::excluded(&self.exclude, feature)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectSettings {
    /// Campaign files (`bullseye select`'s format), one audience each.
    #[serde(default)]
    pub campaigns: Vec<PathBuf>,
    /// Column of the scores table carried into the audience as the segment (default `rfm_segment`
    /// when the segment stage runs).
    pub segment_column: Option<String>,
}

/// `[report]`: how the report shows its numbers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// The currency of the amounts (`USD`, `EUR`…), shown on money columns and axes.
    pub currency: Option<String>,
}

/// How the run's files are written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSettings {
    /// CSV outputs without the spreadsheet escape of formula-like text cells (default false).
    #[serde(default)]
    pub raw_csv: bool,
    /// Also write the scores, segments and audiences to PostgreSQL (`[output.postgres]`).
    pub postgres: Option<super::sink::PostgresSink>,
}

impl OutputSettings {
    /// The cell policy of the run's CSV outputs.
    pub fn cells(&self) -> CsvCells {
        if self.raw_csv {
            CsvCells::Raw
        } else {
            CsvCells::SpreadsheetSafe
        }
    }
}

/// A job read from its file, with paths resolved and settings checked.
#[derive(Debug, Clone)]
pub struct Job {
    pub file: PathBuf,
    pub config: JobConfig,
    /// The sources, as an ingest config.
    pub ingest: IngestConfig,
    pub stages: Vec<Stage>,
    /// Feature families named by the job (parsed).
    pub families: Option<Vec<Family>>,
}

impl Job {
    /// Reads and checks a job file.
    pub fn from_file(path: &Path) -> Result<Job, Error> {
        let text = crate::io::read_text(path)?;
        let invalid = |message: String| RunError::InvalidJob {
            path: path.to_path_buf(),
            message,
        };
        let in_job = |e: RunError| Error::from(e.in_job(path));
        let mut config: JobConfig =
            toml::from_str(&text).map_err(|e| invalid(toml_error(&text, &e)))?;
        let base = path.parent().unwrap_or_else(|| Path::new("")).to_path_buf();
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut config.job.out);
        if let Some(p) = config.ledger.path.as_mut() {
            resolve(p);
        }
        resolve(&mut config.models.registry);
        if let Some(m) = config
            .analyze
            .penetration
            .as_mut()
            .and_then(|p| p.market.as_mut())
        {
            resolve(&mut m.path);
        }
        config.select.campaigns.iter_mut().for_each(resolve);
        if let Some(p) = config
            .profit
            .as_mut()
            .and_then(|p| p.product_costs.as_mut())
        {
            resolve(p);
        }
        if let Some(s) = config.segment.scheme.as_mut() {
            resolve(s);
        }
        let mut ingest = match config.job.sources.as_mut() {
            Some(file) => {
                resolve(file);
                if !config.sources.is_empty() {
                    return Err(in_job(RunError::Conflict {
                        what: "the sources are given inline (`[sources.*]`) and as `job.sources`"
                            .into(),
                        expected: "one of the two".into(),
                    }));
                }
                IngestConfig::from_file(file)?
            }
            None => {
                let mut ingest =
                    IngestConfig::from_parts(config.ingest.clone(), config.sources.clone())
                        .map_err(|e| invalid(e.to_string()))?;
                for s in ingest.sources.values_mut() {
                    let joined = s.join.iter_mut().map(|j| &mut j.path);
                    let appended = s.append.iter_mut().map(|a| &mut a.path);
                    let paths = std::iter::once(&mut s.path).chain(joined).chain(appended);
                    paths.flatten().for_each(resolve);
                }
                ingest
            }
        };
        if let Some(ids) = config.ids {
            ingest.ids = ids;
        }
        if let Some(identity) = config.identity.clone() {
            if let Some(message) = identity.problem() {
                return Err(invalid(message).into());
            }
            ingest.identity = identity;
        }
        let configured: Vec<Stage> = [
            (Stage::Basket, config.basket.is_some()),
            (Stage::Analyze, config.analyze.penetration.is_some()),
        ]
        .into_iter()
        .filter_map(|(stage, set)| set.then_some(stage))
        .collect();
        let stages = check_stages(config.job.stages.clone(), &configured).map_err(in_job)?;
        if let Some(p) = &config.analyze.penetration {
            p.spec().check().map_err(|e| match e {
                Error::Run(e) => in_job(e),
                other => other,
            })?;
        }
        let families = config
            .features
            .families
            .as_ref()
            .map(|names| names.iter().map(|n| Family::parse(n)).collect())
            .transpose()?;
        check_settings(&config).map_err(in_job)?;
        if let Some(p) = &config.profit {
            p.check().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(b) = &config.basket {
            b.checked().map_err(in_job)?;
        }
        if stages.contains(&Stage::Select) {
            if config.select.campaigns.is_empty() {
                return Err(in_job(RunError::missing(
                    "the `select` stage needs campaigns",
                    "add `select.campaigns = [\"campaign.toml\", …]`",
                )));
            }
            if let Some(policy) = &config.policy {
                check_policy_campaigns(config.select.campaigns.len()).map_err(in_job)?;
                policy.check(None)?;
            }
            check_campaign_folders(&config.select.campaigns, config.basket.is_some()).map_err(
                |e| match e {
                    Error::Run(e) => in_job(e),
                    other => other,
                },
            )?;
        }
        Ok(Job {
            file: path.to_path_buf(),
            config,
            ingest,
            stages,
            families,
        })
    }

    pub fn runs(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }

    pub fn name(&self) -> &str {
        &self.config.job.name
    }
}

/// `[basket]`: what the `basket` stage mines, as `bullseye basket`'s flags (same names, same
/// defaults, same checks: [`BasketParams::check`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketSettings {
    /// `product` (default) or `category`.
    pub level: Option<String>,
    pub min_support: Option<ThresholdValue>,
    pub min_confidence: Option<ThresholdValue>,
    pub min_lift: Option<ThresholdValue>,
    pub max_len: Option<usize>,
    pub max_consequent: Option<usize>,
    pub max_rules: Option<usize>,
    pub significance: Option<f64>,
    /// Correction of `significance`: `holm` (default), `bonferroni`, `fdr` or `none`.
    pub correction: Option<String>,
    /// Items left out (postage, fees).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Items per customer in `affinity.parquet` (default 5, as `--per-customer`).
    pub top_n: Option<usize>,
}

/// A threshold as TOML gives it: a number (`0.01`) or a string (`"0.01"`), read as the exact
/// decimal it prints as.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ThresholdValue {
    Int(u64),
    Float(f64),
    Text(String),
}

/// The checked `[basket]` settings.
#[derive(Debug, Clone)]
pub struct BasketJob {
    pub level: Level,
    pub params: BasketParams,
    pub exclude: std::collections::HashSet<String>,
    pub top_n: usize,
}

/// Items per customer in a job's `affinity.parquet` unless `basket.top_n` says otherwise.
pub const BASKET_TOP_N_DEFAULT: usize = 5;

impl BasketSettings {
    /// The settings under the basket stage's rules; errors name the `basket.*` key.
    pub fn checked(&self) -> Result<BasketJob, RunError> {
        let threshold = |key: &'static str, v: &Option<ThresholdValue>, default: Threshold| {
            let text = match v {
                None => return Ok(default),
                Some(ThresholdValue::Int(i)) => i.to_string(),
                Some(ThresholdValue::Float(f)) => f.to_string(),
                Some(ThresholdValue::Text(t)) => t.clone(),
            };
            text.parse::<Threshold>().map_err(|_| {
                RunError::invalid(
                    Setting::Key(key),
                    "a plain decimal such as 0.01 or 2.5",
                    format!("{text:?}"),
                )
            })
        };
        let defaults = BasketParams::default();
        let level = self.level.as_deref().unwrap_or("product");
        let level = Level::parse(level).map_err(|_| {
            RunError::invalid(
                Setting::Key("basket.level"),
                "\"product\" or \"category\"",
                format!("{level:?}"),
            )
        })?;
        let correction = self.correction.as_deref().unwrap_or("holm");
        let correction = Correction::parse(correction).ok_or_else(|| {
            RunError::invalid(
                Setting::Key("basket.correction"),
                "\"holm\", \"bonferroni\", \"fdr\" or \"none\"",
                format!("{correction:?}"),
            )
        })?;
        let params = BasketParams {
            min_support: threshold(
                "basket.min_support",
                &self.min_support,
                defaults.min_support,
            )?,
            min_confidence: threshold(
                "basket.min_confidence",
                &self.min_confidence,
                defaults.min_confidence,
            )?,
            min_lift: threshold("basket.min_lift", &self.min_lift, defaults.min_lift)?,
            max_len: self.max_len,
            max_consequent: self.max_consequent,
            max_rules: self.max_rules,
            significance: self.significance,
            correction,
        }
        .check()
        .map_err(|e| match e {
            BasketError::InvalidParam { name, rule, found } => {
                RunError::invalid(Setting::Key(basket_key(name)), rule, found)
            }
            other => RunError::internal(other.to_string()),
        })?;
        let top_n = self.top_n.unwrap_or(BASKET_TOP_N_DEFAULT);
        if top_n == 0 {
            return Err(RunError::invalid(
                Setting::Key("basket.top_n"),
                "at least 1",
                0,
            ));
        }
        Ok(BasketJob {
            level,
            params,
            exclude: self.exclude.iter().map(|e| e.trim().to_string()).collect(),
            top_n,
        })
    }
}

/// The job key of a basket parameter (the library's name under `basket.`).
fn basket_key(param: &str) -> &'static str {
    match param {
        "min_support" => "basket.min_support",
        "min_confidence" => "basket.min_confidence",
        "max_len" => "basket.max_len",
        "max_consequent" => "basket.max_consequent",
        "significance" => "basket.significance",
        _ => "basket",
    }
}

/// Every stage's settings under the stage's own rules ([`crate::run::settings`]), named as the
/// job file names them, so a bad value stops the job when its file is read, before any work.
fn check_settings(config: &JobConfig) -> Result<(), RunError> {
    if let KSetting::Auto(s) = &config.segment.k {
        if s != "auto" {
            return Err(RunError::invalid(
                Setting::Key("segment.k"),
                "a number of clusters or \"auto\"",
                format!("\"{s}\""),
            ));
        }
    }
    let mut cluster = ClusterParams::default();
    config.segment.apply(&mut cluster, config.job.seed);
    settings::check_cluster(&cluster, Via::Job)?;
    if let Some(cap) = config.features.level_cap {
        settings::check_level_cap(cap, Via::Job)?;
    }
    let train = &config.train;
    settings::check_train(
        &TrainChecks {
            holdout: &HoldoutChoice::Fraction {
                fraction: train.holdout,
            },
            horizon_days: Some(train.churn_horizon_days),
            classifier: None,
            preprocess: None,
        },
        Via::Job,
    )?;
    settings::check_clv(&config.clv.predict_params(), Via::Job)?;
    let fail_above = config.drift.fail_above;
    if fail_above.is_nan() || fail_above <= 0.0 {
        return Err(RunError::invalid(
            Setting::Key("drift.fail_above"),
            "a PSI above 0",
            fail_above,
        ));
    }
    Ok(())
}

/// A job-file error on one line: where, and the parser's message with any quote of the file's
/// content cut short (the file may be anything the user pointed at).
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    // The parser's message may run over lines; each is sanitised alone, since sanitising
    // escapes a newline to a visible `\n` and the message is meant to read as one line.
    let message = e
        .message()
        .trim()
        .lines()
        .map(|line| sanitize_quotes(line.trim()))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// A `[policy]` couples campaigns: it needs at least two.
fn check_policy_campaigns(campaigns: usize) -> Result<(), RunError> {
    if campaigns < 2 {
        return Err(RunError::invalid(
            Setting::Key("policy"),
            "at least two campaigns in `select.campaigns` (a `[policy]` couples campaigns)",
            campaigns,
        ));
    }
    Ok(())
}

/// Loads the campaigns a job selects for and checks that each gets its own audience folder
/// ([`check_distinct_folders`]) and that a channel ranking by `affinity:<item>` has the
/// `basket` stage to compute it (`basket`: the job has a `[basket]` table).
fn check_campaign_folders(paths: &[PathBuf], basket: bool) -> Result<(), Error> {
    let campaigns = paths
        .iter()
        .map(|path| Ok((crate::run::select::load_campaign(path)?, path.as_path())))
        .collect::<Result<Vec<_>, Error>>()?;
    let ranks_by_affinity = campaigns.iter().find_map(|(c, _)| {
        c.channels
            .iter()
            .find(|ch| crate::basket::affinity_item(&ch.score_column).is_some())
            .map(|ch| (c.campaign.name.as_str(), ch.score_column.as_str()))
    });
    if let (Some((campaign, column)), false) = (ranks_by_affinity, basket) {
        return Err(RunError::missing(
            format!("campaign {campaign:?} ranks by `{column}`, which the `basket` stage computes"),
            "add a `[basket]` table to the job",
        )
        .into());
    }
    check_distinct_folders(
        campaigns
            .iter()
            .map(|(c, path)| (c.campaign.name.as_str(), *path)),
        "audience/",
    )?;
    Ok(())
}

/// Checks that campaigns (name, file) get one output folder each under `parent`: two names that
/// are equal, or equal once made folder-safe (`x/y` and `x_y`), would write one folder and the
/// second audience would replace the first. Shared by a job's `select` stage and `plan`.
pub(crate) fn check_distinct_folders<'a>(
    campaigns: impl IntoIterator<Item = (&'a str, &'a Path)>,
    parent: &str,
) -> Result<(), RunError> {
    let mut folders: BTreeMap<String, (&str, &Path)> = BTreeMap::new();
    for (name, path) in campaigns {
        let folder = file_safe(name);
        if let Some((first, first_path)) = folders.get(&folder) {
            return Err(RunError::Conflict {
                what: format!(
                    "campaigns {:?} (`{}`) and {:?} (`{}`) would both write `{parent}{folder}/`",
                    first,
                    first_path.display(),
                    name,
                    path.display()
                ),
                expected: "distinct campaign names".into(),
            });
        }
        folders.insert(folder, (name, path));
    }
    Ok(())
}

/// The stages that run exactly when the job has their settings, and what to add for them.
const STAGES_BY_SETTINGS: [(Stage, &str); 2] = [
    (
        Stage::Basket,
        "add a `[basket]` table (it may be empty: the defaults of `bullseye basket`)",
    ),
    (
        Stage::Analyze,
        "add an `[analyze.penetration]` table naming `by = [\"region\", …]`",
    ),
];

/// The stages in run order, each once, every stage's inputs produced by an earlier one. The
/// stages of [`STAGES_BY_SETTINGS`] run exactly when the job has their settings (`configured`).
fn check_stages(named: Option<Vec<Stage>>, configured: &[Stage]) -> Result<Vec<Stage>, RunError> {
    let by_settings = |s: &Stage| STAGES_BY_SETTINGS.iter().any(|(b, _)| b == s);
    let mut stages = named.unwrap_or_else(|| {
        Stage::ALL
            .into_iter()
            .filter(|s| *s != Stage::Train && !by_settings(s))
            .collect()
    });
    if stages.is_empty() {
        return Err(RunError::invalid(
            Setting::Key("job.stages"),
            "at least one stage",
            "none",
        ));
    }
    for (stage, hint) in STAGES_BY_SETTINGS {
        match (configured.contains(&stage), stages.contains(&stage)) {
            (true, false) => stages.push(stage),
            (false, true) => {
                return Err(RunError::missing(
                    format!("stage `{stage}` needs its settings"),
                    hint,
                ))
            }
            _ => {}
        }
    }
    stages.sort();
    stages.dedup();
    for s in &stages {
        for need in s.needs() {
            if !stages.contains(need) {
                return Err(RunError::StageOrder {
                    stage: s.name(),
                    needs: need.name(),
                });
            }
        }
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_ordered_and_checked() {
        let s = check_stages(
            Some(vec![Stage::Score, Stage::Ingest, Stage::Features]),
            &[],
        )
        .unwrap();
        assert_eq!(s, vec![Stage::Ingest, Stage::Features, Stage::Score]);
        let e = check_stages(Some(vec![Stage::Ingest, Stage::Select]), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`select` needs stage `score`"), "{e}");
        let default = check_stages(None, &[]).unwrap();
        assert!(!default.contains(&Stage::Train) && default.contains(&Stage::Report));
        assert!(!default.contains(&Stage::Basket) && !default.contains(&Stage::Analyze));
        // A `[basket]` table adds the stage, right after `ingest`; the stage without it is refused.
        let with =
            check_stages(Some(vec![Stage::Ingest, Stage::Report]), &[Stage::Basket]).unwrap();
        assert_eq!(with, vec![Stage::Ingest, Stage::Basket, Stage::Report]);
        let e = check_stages(Some(vec![Stage::Ingest, Stage::Basket]), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("[basket]"), "{e}");
        // The same for `[analyze.penetration]` and the `analyze` stage.
        let with = check_stages(None, &[Stage::Analyze]).unwrap();
        assert_eq!(with[..2], [Stage::Ingest, Stage::Analyze]);
        let e = check_stages(Some(vec![Stage::Ingest, Stage::Analyze]), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("[analyze.penetration]"), "{e}");
    }

    #[test]
    fn drift_exclusions_match_names_and_prefixes() {
        let d = DriftSettings::default();
        assert!(d.excludes("tenure_days"));
        assert!(d.excludes("days_since_signup"));
        assert!(!d.excludes("recency_days"));
        assert!(!d.excludes("tenure_days_2"));
    }

    #[test]
    fn campaigns_sharing_an_audience_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let campaign = |file: &str, name: &str| {
            let path = dir.path().join(file);
            std::fs::write(
                &path,
                format!("[campaign]\nname = {name:?}\nbudget = 1.0\nobjective = \"profit\"\nvalue_per_response = 1.0\n[[channel]]\nname = \"email\"\ncost = 0.1\n"),
            )
            .unwrap();
            path
        };
        let (a, b, c) = (
            campaign("a.toml", "x/y"),
            campaign("b.toml", "x_y"),
            campaign("c.toml", "z"),
        );
        check_campaign_folders(&[a.clone(), c.clone()], false).unwrap();
        let e = check_campaign_folders(&[a, c, b], false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"x/y\"") && e.contains("\"x_y\"") && e.contains("audience/x_y/"),
            "{e}"
        );
        let same = campaign("d.toml", "z");
        let e = check_campaign_folders(&[same.clone(), same], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("audience/z/"), "{e}");
        // A channel ranking by an item's affinity needs the `basket` stage.
        let path = dir.path().join("milk.toml");
        std::fs::write(
            &path,
            "[campaign]\nname = \"milk\"\nbudget = 1.0\nobjective = \"profit\"\nvalue_per_response = 1.0\n[[channel]]\nname = \"email\"\ncost = 0.1\nscore_column = \"affinity:milk\"\n",
        )
        .unwrap();
        let e = check_campaign_folders(std::slice::from_ref(&path), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`affinity:milk`") && e.contains("[basket]"),
            "{e}"
        );
        check_campaign_folders(&[path], true).unwrap();
    }

    #[test]
    fn job_file_errors_name_the_place_and_quote_little() {
        let text = "[job]\nname = \"x\"\nout = 1\n";
        let e = toml::from_str::<JobConfig>(text).unwrap_err();
        assert_eq!(
            toml_error(text, &e),
            "line 3, column 7: invalid type: integer `1`, expected path string"
        );
        let long = "s".repeat(100);
        let text = format!("[job]\nname = \"x\"\nout = \"o\"\nstages = [\"{long}\"]\n");
        let e = toml::from_str::<JobConfig>(&text).unwrap_err();
        let m = toml_error(&text, &e);
        assert!(m.starts_with("line 4") && !m.contains(&long[..41]), "{m}");
        let text = "stages = [\"ingest\"\nfoo";
        let e = toml::from_str::<JobConfig>(text).unwrap_err();
        let m = toml_error(text, &e);
        assert!(
            m.starts_with("line 2") && m.contains("invalid array: expected") && !m.contains('\\'),
            "{m}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            "[job]\nname = \"x\"\nout = \"o\"\nstagez = []\n[sources.transactions]\npath = \"t.csv\"\n",
        )
        .unwrap();
        let e = Job::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("stagez") && e.contains("job.toml"), "{e}");
        std::fs::write(
            &path,
            "[job]\nname = \"x\"\nout = \"o\"\n[segment]\nk = \"many\"\n[sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"c.toml\"]\n",
        )
        .unwrap();
        let e = Job::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("segment.k"), "{e}");
        // The campaigns are read with the job.
        std::fs::write(
            dir.path().join("c.toml"),
            "[campaign]\nname = \"c\"\nbudget = 1.0\nobjective = \"profit\"\nvalue_per_response = 1.0\n[[channel]]\nname = \"email\"\ncost = 0.1\n",
        )
        .unwrap();
        for (key, value) in [("monthly_discount_rate", "-1.5"), ("months", "0")] {
            std::fs::write(
                &path,
                format!("[job]\nname = \"x\"\nout = \"o\"\n[clv]\n{key} = {value}\n[sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"c.toml\"]\n"),
            )
            .unwrap();
            let e = Job::from_file(&path).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::EXIT_BAD_INPUT);
            let e = e.to_string();
            assert!(
                e.contains(&format!("`clv.{key}`")) && e.contains(value),
                "{e}"
            );
        }
        std::fs::write(
            &path,
            "[job]\nname = \"x\"\nout = \"o\"\n[sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"c.toml\"]\n",
        )
        .unwrap();
        let job = Job::from_file(&path).unwrap();
        assert_eq!(job.config.job.out, dir.path().join("o"));
        assert_eq!(
            job.ingest.sources["transactions"].path.as_deref(),
            Some(dir.path().join("t.csv").as_path())
        );
        assert_eq!(job.config.select.campaigns[0], dir.path().join("c.toml"));
        // The ledger: on by default in `out`, a path relative to the job file, or off.
        let out = dir.path().join("o");
        let l = super::super::ledger_settings(&job, &out).unwrap();
        assert_eq!(l.path, out.join("bullseye.db"));
        for (ledger, expected) in [
            ("path = \"l/x.db\"", Some(dir.path().join("l/x.db"))),
            ("enabled = false", None),
        ] {
            std::fs::write(
                &path,
                format!("[job]\nname = \"x\"\nout = \"o\"\n[ledger]\n{ledger}\n[sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"c.toml\"]\n"),
            )
            .unwrap();
            let job = Job::from_file(&path).unwrap();
            assert_eq!(
                super::super::ledger_settings(&job, &out).map(|l| l.path),
                expected
            );
        }
        // A `[policy]` couples campaigns: with one it is refused, and its keys are checked.
        let policy_job = |policy: &str| {
            format!("[job]\nname = \"x\"\nout = \"o\"\n[sources.transactions]\npath = \"t.csv\"\n[select]\ncampaigns = [\"c.toml\"]\n[policy]\n{policy}\n")
        };
        std::fs::write(&path, policy_job("max_contacts = 2")).unwrap();
        let e = Job::from_file(&path).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_BAD_INPUT);
        assert!(e.to_string().contains("two campaigns"), "{e}");
        std::fs::write(&path, policy_job("max_contact = 2")).unwrap();
        let e = Job::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("max_contact"), "{e}");
    }

    /// `[profit]` is read with the job: an unknown key or a margin above 1 is bad input naming
    /// the key and the file; a good one reaches the features' parameters.
    #[test]
    fn profit_settings_are_checked_with_the_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        let job = |profit: &str| {
            std::fs::write(
                &path,
                format!("[job]\nname = \"x\"\nout = \"o\"\nstages = [\"ingest\", \"features\"]\n[sources.transactions]\npath = \"t.csv\"\n[profit]\n{profit}\n"),
            )
            .unwrap();
            Job::from_file(&path)
        };
        let e = job("margin = { default = 0.3 }\nshipping = 2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("shipping") && e.contains("job.toml"), "{e}");
        let e = job("margin = { default = 1.3 }").unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_BAD_INPUT);
        let e = e.to_string();
        assert!(
            e.contains("`margin.default` is 1.3") && e.contains("job.toml"),
            "{e}"
        );
        let ok = job("margin = { default = 0.3 }\ncontact_cost = { email = 0.01 }").unwrap();
        let profit = ok.config.profit.expect("profit");
        assert_eq!(profit.contact_cost["email"], 0.01);
    }

    #[test]
    fn basket_settings_are_checked_under_their_keys() {
        let parse = |text: &str| toml::from_str::<BasketSettings>(text);
        let b = parse("level = \"category\"\nmin_support = 0.001\nmin_confidence = \"0.8\"\nmin_lift = 1\nexclude = [\" POST\"]\ntop_n = 3\n")
            .unwrap()
            .checked()
            .unwrap();
        assert_eq!(b.level, Level::Category);
        let t = |s: &str| s.parse::<Threshold>().unwrap();
        assert_eq!(b.params.min_support, t("0.001"));
        assert_eq!(b.params.min_confidence, t("0.8"));
        assert_eq!(b.params.min_lift, t("1"));
        assert!(b.exclude.contains("POST"));
        assert_eq!(b.top_n, 3);
        let defaults = parse("").unwrap().checked().unwrap();
        assert_eq!(defaults.top_n, BASKET_TOP_N_DEFAULT);
        assert_eq!(
            defaults.params.min_support,
            BasketParams::default().min_support
        );
        let e = parse("min_suport = 0.1").unwrap_err().to_string();
        assert!(e.contains("min_suport"), "{e}");
        for (text, key) in [
            ("min_support = 0", "`basket.min_support`"),
            ("min_confidence = \"1.5\"", "`basket.min_confidence`"),
            ("level = \"sku\"", "`basket.level`"),
            ("max_len = 0", "`basket.max_len`"),
            ("top_n = 0", "`basket.top_n`"),
            ("min_lift = \"x\"", "`basket.min_lift`"),
        ] {
            let e = parse(text).unwrap().checked().unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }
}
