use std::path::PathBuf;

use bullseye::features::{FeatureParams, TimeUnit};
use bullseye::ingest::TableKind;
use bullseye::ledger::BUSY_TIMEOUT_DEFAULT;
use bullseye::models::training::{
    self as tr, RowSource, TableSpec, TrainOptions, TrainingTable, TreatmentSpec,
};
use bullseye::models::{
    ClassifierParams, ForestParams, LogisticParams, ModelKind, PreprocessParams,
};
use bullseye::run::ledger::{self as ledger_run, LedgerSettings};
use bullseye::run::models::{self as m, Saved};
use bullseye::run::settings::{check_train, parse_holdout, TrainChecks};
use bullseye::run::{RunError, Setting, Via};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::inputs::TableInputs;

/// Train a response, churn or uplift model; metrics on a holdout, then register it.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub kind: TrainKind,
}

#[derive(Debug, Subcommand)]
pub enum TrainKind {
    Response(ResponseArgs),
    Churn(ChurnArgs),
    Uplift(UpliftArgs),
}

/// Where the training rows come from: campaign history (contacts + transactions), or a flat table.
#[derive(Debug, Args)]
pub struct RowArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// Campaign history: one row per contact (overrides the config's path)
    #[arg(long, value_name = "FILE")]
    pub contacts: Option<PathBuf>,
    /// Train from a flat table (CSV or Parquet) instead of the campaign history
    #[arg(long, value_name = "FILE", conflicts_with = "contacts")]
    pub table: Option<PathBuf>,
    /// Campaign history from a ledger (SQLite): its published sends whose response window closed
    /// by the config's as-of date (else today), target and control rows, a response in the
    /// window as the label
    #[arg(long, value_name = "FILE", conflicts_with_all = ["contacts", "table"])]
    pub from_ledger: Option<PathBuf>,
    /// 0/1 label column of the table [contacts: responded]
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// Numeric input columns of the table [default: every numeric column but the label, id,
    /// treatment and holdout columns]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Categorical input columns of the table (one-hot, capped levels)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Id column of the table (kept out of the inputs)
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
}

/// Learner, holdout and destination options shared by every kind.
#[derive(Debug, Args)]
pub struct Common {
    /// Learner: logistic (L2, Newton) or forest (smartcore random forest)
    #[arg(long, value_name = "TYPE", default_value = "logistic")]
    pub model: String,
    /// L2 penalty of the logistic model (1.0 = scikit-learn's C = 1)
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub l2: f64,
    /// Trees of the forest
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub trees: u16,
    /// Holdout: time[:F] (latest contact dates, ~F of rows; default F = 0.2), fraction:F
    /// (random) or column:COL (1 = holdout) [default: time for contacts, fraction:0.2 otherwise]
    #[arg(long, value_name = "SPEC")]
    pub holdout: Option<String>,
    /// Seed of the random holdout and of the forest
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// Most one-hot levels per categorical column (model and feature builder)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub level_cap: usize,
    /// Customer columns kept out of the features, besides the personal data (names, e-mails,
    /// phones, addresses, free text) always left out
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Most training rows from the history (a seeded random sample above it; 0 = every row)
    #[arg(long, value_name = "N", default_value_t = tr::DEFAULT_MAX_TRAINING_ROWS)]
    pub max_rows: usize,
    /// Cross-validate on the training rows (the holdout left out) with K folds and report each
    /// fold's and the mean, sd, min and max AUC, log loss and Brier (uplift: Qini). Contacts get
    /// time-ordered folds: their dates cut into K + 1 blocks of whole dates, fold i trained on
    /// the blocks before block i and validated on it (never on earlier rows); flat tables and
    /// churn rows get stratified random folds (seeded by --seed). The saved model is fitted as
    /// without --cv
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Try each value of a learner setting and keep the one of lowest cross-validated log loss
    /// (K folds of --cv, else 5): l2=0.01,0.1,1,10 (logistic), trees=… or depth=… (forest;
    /// repeat --sweep for a grid). Response and churn models
    #[arg(long, value_name = "NAME=LIST")]
    pub sweep: Vec<String>,
    /// Keep the train-only fit instead of refitting on all rows after evaluation
    #[arg(long)]
    pub no_refit: bool,
    /// Also write the training rows (source columns, model inputs, label, training-time score)
    #[arg(long, value_name = "FILE")]
    pub rows_out: Option<PathBuf>,
    /// A note kept with the model (`models list` and `show` print it)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Write the model into this folder instead of registering it
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Model registry root (models/<kind>/<version>/)
    #[arg(long, value_name = "DIR", default_value = m::DEFAULT_REGISTRY)]
    pub registry: PathBuf,
}

/// Response model: P(respond) from the campaign history (features as of the day before each
/// contact, label `responded`, control-group contacts left out) or from a flat table.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye train response --config notebooks-data/quickstart.toml\n  \
    bullseye train response --config notebooks-data/quickstart.toml --from-ledger out/loop/bullseye.db\n  \
    bullseye train response --table hillstrom.csv --label visit --features recency,history,mens,womens,newbie \
--categorical zip_code,channel --holdout column:test --out model")]
pub struct ResponseArgs {
    #[command(flatten)]
    pub source: RowArgs,
    #[command(flatten)]
    pub common: Common,
}

/// Uplift model: a treated and a control model; score = p_treated − p_control.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye train uplift --config notebooks-data/quickstart.toml\n  \
    bullseye train uplift --table hillstrom.csv --label visit --treatment-col segment --control-value 'No E-Mail' \
--features recency,history --categorical zip_code,channel --holdout column:test --out uplift")]
pub struct UpliftArgs {
    #[command(flatten)]
    pub source: RowArgs,
    /// Column telling treated from control rows [contacts: group]
    #[arg(long, value_name = "COL")]
    pub treatment_col: Option<String>,
    /// Value of the treatment column that marks the control group [contacts: control]
    #[arg(long, value_name = "V")]
    pub control_value: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Churn model: features as of DATE − H, label 1 when the customer buys nothing in the H days
/// after that (customers with a purchase on or before DATE − H).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    bullseye train churn --config notebooks-data/quickstart.toml --as-of 1998-06-30 --horizon-days 90")]
pub struct ChurnArgs {
    #[command(flatten)]
    pub inputs: TableInputs,
    /// End of the observed future (YYYY-MM-DD); features are taken H days earlier
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// Days without a purchase that count as churn
    #[arg(long, value_name = "H")]
    pub horizon_days: u32,
    #[command(flatten)]
    pub common: Common,
}

fn classifier(c: &Common) -> anyhow::Result<ClassifierParams> {
    Ok(match c.model.as_str() {
        "logistic" => ClassifierParams::Logistic(LogisticParams {
            l2: c.l2,
            ..LogisticParams::default()
        }),
        "forest" => ClassifierParams::Forest(ForestParams {
            n_trees: c.trees,
            seed: c.seed,
            ..ForestParams::default()
        }),
        other => {
            return Err(bullseye::Error::from(RunError::invalid(
                Setting::Flag("--model"),
                "logistic or forest",
                format!("`{other}`"),
            ))
            .into())
        }
    })
}

/// The training options, checked before any data is read (`horizon_days` for churn); `dated`:
/// whether the rows will carry dates of their own (for the default holdout).
fn options(
    c: &Common,
    kind: ModelKind,
    dated: bool,
    treatment: Option<TreatmentSpec>,
    horizon_days: Option<u32>,
) -> anyhow::Result<TrainOptions> {
    let holdout = match c.holdout.as_deref() {
        Some(h) => parse_holdout(h, Via::Flags).map_err(bullseye::Error::from)?,
        None => tr::default_holdout(dated, tr::DEFAULT_HOLDOUT_FRACTION),
    };
    let options = TrainOptions {
        kind,
        classifier: classifier(c)?,
        preprocess: PreprocessParams {
            level_cap: c.level_cap,
            strict: false,
        },
        holdout,
        seed: c.seed,
        refit: !c.no_refit,
        treatment,
    };
    let checks = TrainChecks {
        holdout: &options.holdout,
        horizon_days,
        classifier: Some(&options.classifier),
        preprocess: Some(&options.preprocess),
    };
    check_train(&checks, Via::Flags).map_err(bullseye::Error::from)?;
    Ok(options)
}

/// The cap of `--max-rows` (seeded by `--seed`).
fn row_cap(c: &Common) -> Option<tr::RowCap> {
    (c.max_rows > 0).then_some(tr::RowCap {
        max_rows: c.max_rows,
        seed: c.seed,
    })
}

fn feature_params(c: &Common) -> FeatureParams {
    FeatureParams {
        level_cap: c.level_cap,
        time_unit: TimeUnit::Days,
        exclude: c.exclude.clone(),
        ..FeatureParams::default()
    }
}

/// Rejected input rows go next to the model folder given, else under the working folder (never
/// into the registry).
fn rejects_dir(c: &Common) -> PathBuf {
    c.out.clone().unwrap_or_else(|| PathBuf::from("."))
}

/// The `kind` model's rows from the flat table or the campaign history.
fn rows(
    kind: ModelKind,
    s: &RowArgs,
    c: &Common,
    exclude: Vec<String>,
) -> anyhow::Result<TrainingTable> {
    let params = feature_params(c);
    if let Some(path) = &s.table {
        let label = s.label.clone().ok_or_else(|| {
            bullseye::Error::from(RunError::missing(
                "`--table FILE` needs `--label COL`",
                "name the 0/1 label column",
            ))
        })?;
        let mut text: Vec<&str> = s.categorical.iter().map(String::as_str).collect();
        text.extend(s.id.as_deref());
        let df = m::read_flat(path, &text)?;
        let spec = TableSpec {
            label,
            features: s.features.clone(),
            categorical: s.categorical.clone(),
            exclude,
            id: s.id.clone(),
            source: path.display().to_string(),
        };
        let source = RowSource::Table {
            frame: &df,
            spec: &spec,
        };
        return Ok(tr::training_rows(kind, source, &params, None).map_err(bullseye::Error::from)?);
    }
    let mut request = s.inputs.request()?;
    if let Some(p) = &s.contacts {
        request.files.insert(TableKind::Contacts, p.clone());
    }
    let h = m::load_tables(&request, s.from_ledger.is_none(), &rejects_dir(c))?;
    eprint!("{}", h.warnings);
    let from_ledger = match &s.from_ledger {
        Some(path) => {
            let settings = LedgerSettings {
                path: path.clone(),
                busy_timeout: BUSY_TIMEOUT_DEFAULT,
            };
            let as_of = request
                .as_of()
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            Some(ledger_run::training_contacts(&settings, as_of, None)?)
        }
        None => None,
    };
    let contacts = match &from_ledger {
        Some(l) => &l.frame,
        None => h.contacts.as_ref().ok_or_else(|| {
            bullseye::Error::from(RunError::missing(
                "no contacts table",
                "give `--contacts FILE`, `--from-ledger FILE` or `--table FILE`",
            ))
        })?,
    };
    let history = h.history(&params)?;
    let source = RowSource::Contacts {
        history: &history,
        customers: h.customers.as_ref(),
        contacts,
    };
    let mut t =
        tr::training_rows(kind, source, &params, row_cap(c)).map_err(bullseye::Error::from)?;
    t.notes
        .extend(from_ledger.into_iter().flat_map(|l| l.notes));
    Ok(t)
}

fn holdout_column(c: &Common) -> Vec<String> {
    match c.holdout.as_deref().and_then(|h| h.strip_prefix("column:")) {
        Some(col) => vec![col.to_string()],
        None => vec![],
    }
}

fn finish(
    model: tr::TrainedModel,
    c: &Common,
    table: &TrainingTable,
    folds: Option<&[Option<usize>]>,
) -> anyhow::Result<()> {
    let r = &model.report;
    println!(
        "{} {} model on {} rows from {} ({} features; label {}: {} positive)",
        match r.kind {
            ModelKind::Response => "response",
            ModelKind::Churn => "churn",
            ModelKind::Uplift => "uplift",
        },
        format!("{:?}", r.model_type).to_lowercase(),
        r.rows,
        r.source,
        table.numeric_names.len() + table.categorical.names.len(),
        r.label,
        r.positives
    );
    println!(
        "holdout: {} ({} rows)",
        r.holdout.definition, r.holdout.rows
    );
    for n in &r.notes {
        println!("note: {n}");
    }
    print!("{}", m::render_metrics(r));
    if let Some(cv) = &r.cv {
        print!("{}", cv.render());
    }
    if let Some(sweep) = &r.sweep {
        print!("{}", sweep.render());
    }
    if let Some(p) = &c.rows_out {
        let scores = m::training_scores(&model, table)?;
        m::write_rows(p, table, Some(&scores), folds)?;
        println!("wrote the training rows to {}", p.display());
    }
    let dir = match m::save_or_register(&model, c.out.as_deref(), &c.registry)? {
        Saved::Dir(d) => {
            println!("wrote {}", d.join("model.json").display());
            d
        }
        Saved::Registry(reg) => {
            println!(
                "{} {} ({})",
                if reg.new {
                    "registered as"
                } else {
                    "identical to the registered"
                },
                reg.version,
                reg.dir.display()
            );
            reg.dir
        }
    };
    if let Some(note) = &c.note {
        m::annotate(&dir, &[], Some(note))?;
    }
    let weak = bullseye::models::guard::weaknesses(r, model.artifact.preprocessing.n_features());
    if !weak.is_empty() {
        eprintln!(
            "WARNING: this model is weak: {}.\n`models promote` refuses it without `--force`, and a job will not use it without `[models] allow_weak_model = true`",
            weak.join("; ")
        );
    }
    Ok(())
}

/// The cross-validation and sweep asked for, checked against the learner before any data is
/// read.
fn selection(c: &Common, opts: &TrainOptions) -> anyhow::Result<tr::Selection> {
    let sweep = c
        .sweep
        .iter()
        .map(|s| tr::SweepAxis::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bullseye::Error::from)?;
    tr::sweep_grid(opts.kind, &opts.classifier, &sweep).map_err(bullseye::Error::from)?;
    Ok(tr::Selection { cv: c.cv, sweep })
}

/// Trains on the rows and reports (the fit's errors as the library's, for the exit code).
fn fit_and_finish(t: &TrainingTable, opts: &TrainOptions, c: &Common) -> anyhow::Result<()> {
    let selection = selection(c, opts)?;
    let (model, cv) = tr::train_selected(t, opts, &selection).map_err(bullseye::Error::from)?;
    finish(model, c, t, cv.as_ref().map(|v| v.fold_of_row.as_slice()))
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    match args.kind {
        TrainKind::Response(a) => {
            let dated = a.source.table.is_none();
            let opts = options(&a.common, ModelKind::Response, dated, None, None)?;
            let exclude = holdout_column(&a.common);
            let t = rows(ModelKind::Response, &a.source, &a.common, exclude)?;
            fit_and_finish(&t, &opts, &a.common)
        }
        TrainKind::Uplift(a) => {
            let from_contacts = a.source.table.is_none();
            let column = match (&a.treatment_col, from_contacts) {
                (Some(c), _) => c.clone(),
                (None, true) => tr::GROUP_COLUMN.to_string(),
                (None, false) => {
                    return Err(bullseye::Error::from(RunError::missing(
                        "uplift from a table",
                        "give `--treatment-col COL` and `--control-value V`",
                    ))
                    .into())
                }
            };
            let control_value = match (&a.control_value, from_contacts) {
                (Some(v), _) => v.clone(),
                (None, true) => tr::CONTROL_GROUP.to_string(),
                (None, false) => return Err(bullseye::Error::from(RunError::missing(
                    "uplift from a table",
                    "give `--control-value V` (the treatment column's value of the control group)",
                ))
                .into()),
            };
            let treatment = TreatmentSpec {
                column: column.clone(),
                control_value,
            };
            let opts = options(
                &a.common,
                ModelKind::Uplift,
                from_contacts,
                Some(treatment),
                None,
            )?;
            let mut exclude = holdout_column(&a.common);
            exclude.push(column);
            let t = rows(ModelKind::Uplift, &a.source, &a.common, exclude)?;
            fit_and_finish(&t, &opts, &a.common)
        }
        TrainKind::Churn(a) => {
            let opts = options(
                &a.common,
                ModelKind::Churn,
                false,
                None,
                Some(a.horizon_days),
            )?;
            let request = a.inputs.request()?;
            let h = m::load_tables(&request, false, &rejects_dir(&a.common))?;
            eprint!("{}", h.warnings);
            let params = feature_params(&a.common);
            let history = h.history(&params)?;
            let source = RowSource::Customers {
                history: &history,
                customers: h.customers.as_ref(),
                as_of: a.as_of,
                horizon_days: a.horizon_days,
            };
            let t = tr::training_rows(ModelKind::Churn, source, &params, row_cap(&a.common))
                .map_err(bullseye::Error::from)?;
            fit_and_finish(&t, &opts, &a.common)
        }
    }
}
