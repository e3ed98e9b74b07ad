//! The `clv` commands: btyd summaries from transactions, then the pure CLV models.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clv::{
    customer_lifetime_value, evaluate_holdout, ClvError, ClvModel, ClvSettings, CustomerSummaries,
    FitParams, HoldoutReport,
};
use crate::features::{self, epoch_day, Family, FeatureParams, TimeUnit};
use crate::run::RunError;
use crate::{io, Error};

/// Customers whose first purchase is on the as-of day have `T = 0`, which carries no
/// information for the fit; for predictions they get this small `T` (in the model's unit).
const MIN_T: f64 = 1e-6;

/// `DIR/model.json` of `clv fit`: the fitted model plus what it was fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClvArtifact {
    #[serde(flatten)]
    pub model: ClvModel,
    /// The calibration period ends at the end of this day.
    pub as_of: NaiveDate,
    /// Customers left out of the fit because their first purchase is on the as-of day.
    pub excluded_first_purchase_on_as_of: usize,
    pub bullseye_version: String,
}

/// What to do about a CLV model file that is refused.
const REFIT: &str = "fit the model again with `bullseye clv fit` (or `bullseye run`)";

/// Writes `dir/model.json`, sealed with its checksum.
pub fn save_model(dir: &Path, artifact: &ClvArtifact) -> Result<(), Error> {
    Ok(io::write_sealed_json(&dir.join("model.json"), artifact)?)
}

/// Reads `dir/model.json`: its checksum must match its content and the model must meet its rules
/// ([`ClvModel::check`]); a refusal names the file (exit code 2).
pub fn load_model(dir: &Path) -> Result<ClvArtifact, Error> {
    let path = dir.join("model.json");
    let artifact: ClvArtifact = io::read_sealed_json(&path, REFIT)?;
    artifact.model.check().map_err(|e| RunError::InvalidFile {
        path: path.clone(),
        message: format!("invalid model: {e}"),
    })?;
    Ok(artifact)
}

/// Per-customer btyd summaries as of a date, in lifetimes' conventions.
pub struct Summaries {
    pub ids: Vec<String>,
    pub summaries: CustomerSummaries,
}

/// Where the purchases come from: a transactions table, or the lines a run already keyed.
#[derive(Clone, Copy)]
pub enum Purchases<'a> {
    Table(&'a DataFrame),
    Lines(&'a features::History),
}

impl<'a> From<&'a DataFrame> for Purchases<'a> {
    fn from(tx: &'a DataFrame) -> Self {
        Purchases::Table(tx)
    }
}

pub fn summaries(
    purchases: Purchases<'_>,
    as_of: NaiveDate,
    unit: TimeUnit,
) -> Result<Summaries, Error> {
    let params = FeatureParams {
        families: Some(vec![Family::Btyd]),
        time_unit: unit,
        ..FeatureParams::default()
    };
    let f = match purchases {
        Purchases::Table(tx) => features::build(tx, None, as_of, &params)?,
        Purchases::Lines(history) => history.build(as_of, &params)?,
    };
    let m = features::to_matrix(&f, "customer_id", None)?;
    let column =
        |name: &str| -> Vec<f64> { m.column(name).map(|c| c.to_vec()).unwrap_or_default() };
    Ok(Summaries {
        summaries: CustomerSummaries {
            frequency: column("btyd_frequency"),
            recency: column("btyd_recency"),
            t: column("btyd_t"),
            // Gamma-Gamma is defined on positive spend; repeat customers whose repeat days net
            // to ≤ 0 (returns) are left out of its fit by the model's own rule (value > 0).
            monetary_value: column("btyd_monetary_value")
                .into_iter()
                .map(|v| v.max(0.0))
                .collect(),
        },
        ids: m.ids,
    })
}

fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    }
}

pub fn parse_unit(model: &ClvModel) -> Result<TimeUnit, Error> {
    Ok(TimeUnit::parse(&model.time_unit)?)
}

fn subset(s: &CustomerSummaries, keep: &[bool]) -> CustomerSummaries {
    let pick = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(x, _)| *x)
            .collect()
    };
    CustomerSummaries {
        frequency: pick(&s.frequency),
        recency: pick(&s.recency),
        t: pick(&s.t),
        monetary_value: pick(&s.monetary_value),
    }
}

/// Fits BG/NBD and Gamma-Gamma on the history up to `as_of`.
pub fn fit(
    purchases: Purchases<'_>,
    as_of: NaiveDate,
    unit: TimeUnit,
    params: &FitParams,
) -> Result<ClvArtifact, Error> {
    let s = summaries(purchases, as_of, unit)?;
    let keep: Vec<bool> = s.summaries.t.iter().map(|t| *t > 0.0).collect();
    let excluded = keep.iter().filter(|k| !**k).count();
    let model = ClvModel::fit(&subset(&s.summaries, &keep), unit_name(unit), params)?;
    Ok(ClvArtifact {
        model,
        as_of,
        excluded_first_purchase_on_as_of: excluded,
        bullseye_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// What `clv predict` computes.
#[derive(Debug, Clone)]
pub struct PredictParams {
    /// Horizon of `expected_purchases`, in the model's time unit.
    pub horizon: f64,
    /// Months of the discounted CLV.
    pub clv_months: u32,
    pub monthly_discount_rate: f64,
    /// `next_purchase_date` is blank below this P(alive).
    pub alive_threshold: f64,
}

impl PredictParams {
    /// The CLV rules, checked before any work (a `bullseye run` would otherwise find a bad
    /// discount rate after its fits): `horizon` a finite time >= 0, `clv_months` >= 1,
    /// `monthly_discount_rate` finite and > -1, `alive_threshold` in [0, 1].
    pub fn check(&self) -> Result<(), ClvError> {
        if !self.horizon.is_finite() || self.horizon < 0.0 {
            return Err(ClvError::InvalidParameter {
                name: "horizon",
                rule: "a finite time >= 0",
                value: self.horizon,
            });
        }
        if !(0.0..=1.0).contains(&self.alive_threshold) {
            return Err(ClvError::InvalidParameter {
                name: "alive_threshold",
                rule: "a probability in [0, 1]",
                value: self.alive_threshold,
            });
        }
        ClvSettings {
            horizon_months: self.clv_months,
            monthly_discount_rate: self.monthly_discount_rate,
            periods_per_month: 1.0,
        }
        .check()
    }
}

/// Per customer: p_alive, expected_purchases, expected_avg_value, clv, next_purchase_date.
pub fn predict(
    artifact: &ClvArtifact,
    purchases: Purchases<'_>,
    as_of: NaiveDate,
    p: &PredictParams,
) -> Result<DataFrame, Error> {
    p.check()?;
    let model = &artifact.model;
    let unit = parse_unit(model)?;
    let mut s = summaries(purchases, as_of, unit)?;
    for t in s.summaries.t.iter_mut() {
        *t = t.max(MIN_T);
    }
    let bg = &model.bgnbd;
    let p_alive = bg.p_alive(&s.summaries)?;
    let expected = bg.expected_purchases(&s.summaries, p.horizon)?;
    let next = bg.expected_next_purchase_time(&s.summaries, p.alive_threshold)?;
    let n = s.ids.len();
    let (avg_value, clv) = match &model.gamma_gamma {
        Some(gg) => {
            let settings = ClvSettings {
                horizon_months: p.clv_months,
                monthly_discount_rate: p.monthly_discount_rate,
                periods_per_month: crate::clv::periods_per_month_for(&model.time_unit)
                    .unwrap_or(4.345),
            };
            (
                gg.conditional_expected_average_value(&s.summaries)?,
                customer_lifetime_value(bg, gg, &s.summaries, &settings)?,
            )
        }
        None => (vec![f64::NAN; n], vec![f64::NAN; n]),
    };
    let next_dates: Vec<Option<NaiveDate>> = next
        .iter()
        .map(|t| t.map(|t| as_of + Duration::days((t * unit.days()).round() as i64)))
        .collect();
    let df = DataFrame::new(
        n,
        vec![
            Column::new("customer_id".into(), s.ids),
            Column::new("p_alive".into(), p_alive),
            Column::new("expected_purchases".into(), expected),
            Column::new("expected_avg_value".into(), avg_value),
            Column::new("clv".into(), clv),
            DateChunked::from_naive_date_options(
                PlSmallStr::from("next_purchase_date"),
                next_dates,
            )
            .into_column(),
        ],
    )
    .map_err(features::FeatureError::from)?;
    Ok(df)
}

/// The holdout report: fit-free, it scores the given model on the calibration summaries and
/// compares with the repeat purchases that happened between the two dates.
pub fn evaluate(
    artifact: &ClvArtifact,
    tx: &DataFrame,
    calibration_end: NaiveDate,
    holdout_end: NaiveDate,
) -> Result<HoldoutReport, Error> {
    let unit = parse_unit(&artifact.model)?;
    let s = summaries(tx.into(), calibration_end, unit)?;
    let keep: Vec<bool> = s.summaries.t.iter().map(|t| *t > 0.0).collect();
    let calibration = subset(&s.summaries, &keep);
    let ids: Vec<&String> = s
        .ids
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(i, _)| i)
        .collect();
    let actual = holdout_purchase_days(tx, calibration_end, holdout_end)?;
    let actual: Vec<f64> = ids
        .iter()
        .map(|id| actual.get(id.as_str()).copied().unwrap_or(0.0))
        .collect();
    let length = (holdout_end - calibration_end).num_days() as f64 / unit.days();
    Ok(evaluate_holdout(
        &artifact.model.bgnbd,
        &calibration,
        length,
        &actual,
    )?)
}

/// Distinct purchase days per customer in (start, end].
fn holdout_purchase_days(
    tx: &DataFrame,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<std::collections::HashMap<String, f64>, Error> {
    let (s, e) = (epoch_day(start), epoch_day(end));
    let day = col("order_date").cast(DataType::Int32);
    let df = tx
        .clone()
        .lazy()
        .filter(day.clone().gt(lit(s)).and(day.clone().lt_eq(lit(e))))
        .group_by([col("customer_id")])
        .agg([day.n_unique().cast(DataType::Float64).alias("days")])
        .collect()
        .map_err(features::FeatureError::from)?;
    let ids = df.column("customer_id").and_then(|c| c.str().cloned());
    let days = df.column("days").and_then(|c| c.f64().cloned());
    let (ids, days) = (
        ids.map_err(features::FeatureError::from)?,
        days.map_err(features::FeatureError::from)?,
    );
    Ok(ids
        .iter()
        .zip(days.iter())
        .filter_map(|(i, d)| Some((i?.to_string(), d?)))
        .collect())
}

/// The fit, for a person.
pub fn render_fit(a: &ClvArtifact) -> String {
    let bg = &a.model.bgnbd;
    let mut out = format!(
        "BG/NBD on {} customers as of {} ({}): r {:.4}  alpha {:.4}  a {:.4}  b {:.4}\n  log-likelihood {:.2}, gradient norm {:.1e}, {} iterations, converged: {}\n",
        bg.n_customers, a.as_of, a.model.time_unit, bg.r, bg.alpha, bg.a, bg.b,
        bg.log_likelihood, bg.grad_norm, bg.iterations, bg.converged
    );
    if let Some(se) = &bg.std_errors {
        out.push_str(&format!(
            "  standard errors: r {:.4}  alpha {:.4}  a {:.4}  b {:.4}\n",
            se.r, se.alpha, se.a, se.b
        ));
    }
    if a.excluded_first_purchase_on_as_of > 0 {
        out.push_str(&format!(
            "  left out: {} customers whose first purchase is on the as-of day\n",
            a.excluded_first_purchase_on_as_of
        ));
    }
    if let Some(gg) = &a.model.gamma_gamma {
        out.push_str(&format!(
            "Gamma-Gamma on {} repeat customers: p {:.4}  q {:.4}  v {:.4}  log-likelihood {:.2}\n",
            gg.n_customers, gg.p, gg.q, gg.v, gg.log_likelihood
        ));
        if let Some(c) = gg.spend_frequency_correlation {
            out.push_str(&format!(
                "  spend–frequency correlation {c:.3} (the model assumes independence{})\n",
                if c.abs() > 0.3 {
                    "; this one is strong, treat CLV with care"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

/// The holdout report, for a person.
pub fn render_holdout(r: &HoldoutReport) -> String {
    let mut out = format!(
        "{} customers, holdout of {:.1} periods: predicted {:.1} repeat purchases, actual {:.0} ({:+.1}%)\n  per customer: MAE {:.3}, RMSE {:.3}\n\n  calibration frequency   customers   mean predicted   mean actual\n",
        r.n_customers,
        r.holdout_length,
        r.total_predicted,
        r.total_actual,
        100.0 * (r.total_predicted - r.total_actual) / r.total_actual.max(1e-12),
        r.mae,
        r.rmse
    );
    for b in &r.by_frequency {
        out.push_str(&format!(
            "  {:>21} {:>11} {:>16.3} {:>13.3}\n",
            b.label, b.n, b.mean_predicted, b.mean_actual
        ));
    }
    out.push_str("\n  P(alive) decile   customers   mean P(alive)   share buying in holdout\n");
    for d in &r.alive_deciles {
        out.push_str(&format!(
            "  {:>15} {:>11} {:>15.3} {:>25.3}\n",
            d.decile, d.n, d.mean_p_alive, d.share_active
        ));
    }
    out
}
