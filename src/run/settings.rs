//! Every bound of a parameter checked once, before any work, by the command and the job alike:
//! each function here checks one group of parameters and is called by `bullseye <command>` on
//! its flags and by the job loader on the job's keys, so a job with `holdout = 0` stops when its
//! file is read, not after ingest. The rules are the stages' own (`check()` of their params)
//! where a stage has them; this module only names a failure as the caller gave the parameter.

use crate::clv::ClvError;
use crate::models::training::{HoldoutChoice, DEFAULT_HOLDOUT_FRACTION};
use crate::models::{ClassifierParams, ModelsError, PreprocessParams};
use crate::run::clv::PredictParams;
use crate::run::error::{Param, RunError, Via};
use crate::segment::{ClusterParams, KChoice, SegmentError};

const fn param(name: &'static str, key: &'static str, flag: &'static str) -> Param {
    Param {
        name,
        key: Some(key),
        flag: Some(flag),
    }
}

const fn flag_only(name: &'static str, flag: &'static str) -> Param {
    Param {
        name,
        key: None,
        flag: Some(flag),
    }
}

pub const HOLDOUT: Param = param("holdout", "train.holdout", "--holdout");
pub const HORIZON_DAYS: Param = param("horizon_days", "train.churn_horizon_days", "--horizon-days");
pub const LEVEL_CAP: Param = param("level_cap", "features.level_cap", "--level-cap");
const L2: Param = flag_only("l2", "--l2");
const TREES: Param = flag_only("n_trees", "--trees");
const K: Param = param("cluster.k", "segment.k", "--k");
const AUTO_K: Param = param("cluster.k", "segment.k", "--auto-k");
const N_INIT: Param = param("cluster.n_init", "segment.n_init", "--n-init");
const COLUMNS: Param = flag_only("cluster.columns", "--columns");
const CLV_HORIZON: Param = param("horizon", "clv.horizon", "--horizon");
const CLV_MONTHS: Param = param("horizon_months", "clv.months", "--clv-months");
const DISCOUNT: Param = param(
    "monthly_discount_rate",
    "clv.monthly_discount_rate",
    "--discount-rate",
);
const ALIVE: Param = flag_only("alive_threshold", "--alive-threshold");

/// The parameter of `table` whose library name is `name` (itself when no front end names it).
fn lookup(table: &[Param], name: &'static str) -> Param {
    table
        .iter()
        .copied()
        .find(|p| p.name == name)
        .unwrap_or(Param {
            name,
            key: None,
            flag: None,
        })
}

/// A parameter check that failed with something other than a parameter error: the checks
/// return only those, so this is a bug.
fn not_a_parameter(check: &str, e: &dyn std::fmt::Display) -> RunError {
    RunError::internal(format!(
        "`{check}` failed with `{e}`, not a parameter error"
    ))
}

/// The training parameters of `bullseye train` and of a job's `[train]`.
pub struct TrainChecks<'a> {
    pub holdout: &'a HoldoutChoice,
    /// The churn label window, when churn rows are built.
    pub horizon_days: Option<u32>,
    /// The learner and its preprocessing, when the front end sets them (a job uses the
    /// defaults).
    pub classifier: Option<&'a ClassifierParams>,
    pub preprocess: Option<&'a PreprocessParams>,
}

/// Checks the training parameters: a holdout share strictly between 0 and 1, a churn window of
/// at least a day, and the learner's and preprocessing's own rules.
pub fn check_train(t: &TrainChecks<'_>, via: Via) -> Result<(), RunError> {
    if let HoldoutChoice::Time { fraction } | HoldoutChoice::Fraction { fraction } = t.holdout {
        if !(*fraction > 0.0 && *fraction < 1.0) {
            return Err(RunError::invalid(
                HOLDOUT.named(via),
                "a share strictly between 0 and 1",
                fraction,
            ));
        }
    }
    if t.horizon_days == Some(0) {
        return Err(RunError::invalid(
            HORIZON_DAYS.named(via),
            "at least 1 day",
            0,
        ));
    }
    let models = |e: ModelsError| match e {
        ModelsError::InvalidParam {
            name,
            expected,
            found,
        } => RunError::invalid(
            lookup(&[L2, TREES, LEVEL_CAP], name).named(via),
            expected,
            found,
        ),
        other => RunError::Model(other),
    };
    if let Some(c) = t.classifier {
        match c {
            ClassifierParams::Logistic(p) => p.check().map(drop),
            ClassifierParams::Forest(p) => p.check().map(drop),
        }
        .map_err(models)?;
    }
    if let Some(p) = t.preprocess {
        p.check().map_err(models)?;
    }
    Ok(())
}

/// A holdout as `--holdout` writes it: `time`, `time:F`, `fraction:F` or `column:COL` (`time`
/// alone holds out [`DEFAULT_HOLDOUT_FRACTION`]); the share F is checked with the other training
/// settings ([`check_train`]).
pub fn parse_holdout(s: &str, via: Via) -> Result<HoldoutChoice, RunError> {
    let bad = || {
        RunError::invalid(
            HOLDOUT.named(via),
            "time, time:F, fraction:F (0 < F < 1) or column:COL",
            format!("`{s}`"),
        )
    };
    let fraction = |f: &str| f.trim().parse::<f64>().map_err(|_| bad());
    match s.split_once(':') {
        None if s == "time" => Ok(HoldoutChoice::Time {
            fraction: DEFAULT_HOLDOUT_FRACTION,
        }),
        Some(("time", f)) => Ok(HoldoutChoice::Time {
            fraction: fraction(f)?,
        }),
        Some(("fraction", f)) => Ok(HoldoutChoice::Fraction {
            fraction: fraction(f)?,
        }),
        Some(("column", c)) if !c.is_empty() => Ok(HoldoutChoice::Column(c.to_string())),
        _ => Err(bad()),
    }
}

/// Checks the level cap of the categorical features: at least one level.
pub fn check_level_cap(level_cap: usize, via: Via) -> Result<(), RunError> {
    if level_cap == 0 {
        return Err(RunError::invalid(
            LEVEL_CAP.named(via),
            "at least 1 level",
            0,
        ));
    }
    Ok(())
}

/// Checks the k-means parameters under the segment stage's rules ([`ClusterParams::check`]).
pub fn check_cluster(c: &ClusterParams, via: Via) -> Result<(), RunError> {
    let k = match c.k {
        KChoice::Auto { .. } => AUTO_K,
        KChoice::Fixed(_) => K,
    };
    c.check().map_err(|e| match e {
        SegmentError::InvalidParam { param, rule, found } => {
            RunError::invalid(lookup(&[k, N_INIT, COLUMNS], param).named(via), rule, found)
        }
        other => not_a_parameter("ClusterParams::check", &other),
    })
}

/// Checks the CLV prediction parameters under the CLV stage's rules ([`PredictParams::check`]).
pub fn check_clv(p: &PredictParams, via: Via) -> Result<(), RunError> {
    p.check().map_err(|e| match e {
        ClvError::InvalidParameter { name, rule, value } => RunError::invalid(
            lookup(&[CLV_HORIZON, CLV_MONTHS, DISCOUNT, ALIVE], name).named(via),
            rule,
            value,
        ),
        other => not_a_parameter("PredictParams::check", &other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ForestParams, LogisticParams};

    #[test]
    fn holdout_specs_parse() {
        assert_eq!(
            parse_holdout("time", Via::Flags).unwrap(),
            HoldoutChoice::Time { fraction: 0.2 }
        );
        assert_eq!(
            parse_holdout("time:0.3", Via::Flags).unwrap(),
            HoldoutChoice::Time { fraction: 0.3 }
        );
        assert_eq!(
            parse_holdout("fraction:0.25", Via::Flags).unwrap(),
            HoldoutChoice::Fraction { fraction: 0.25 }
        );
        assert_eq!(
            parse_holdout("column:test", Via::Flags).unwrap(),
            HoldoutChoice::Column("test".into())
        );
        for bad in ["", "fraction:x", "column:", "latest"] {
            let e = parse_holdout(bad, Via::Flags).unwrap_err().to_string();
            assert!(e.starts_with("`--holdout`: expected time"), "{e}");
        }
    }

    fn train(holdout: f64, horizon: u32) -> Result<(), RunError> {
        let h = HoldoutChoice::Fraction { fraction: holdout };
        let checks = TrainChecks {
            holdout: &h,
            horizon_days: Some(horizon),
            classifier: None,
            preprocess: None,
        };
        check_train(&checks, Via::Job)
    }

    #[test]
    fn train_settings_are_named_by_their_front_end() {
        train(0.2, 90).unwrap();
        for share in [0.0, 1.0, -0.5, f64::NAN] {
            let e = train(share, 90).unwrap_err().to_string();
            assert!(e.starts_with("`train.holdout`: expected a share"), "{e}");
        }
        let e = train(0.2, 0).unwrap_err().to_string();
        assert_eq!(
            e,
            "`train.churn_horizon_days`: expected at least 1 day, found 0"
        );
        let forest = ClassifierParams::Forest(ForestParams {
            n_trees: 0,
            ..ForestParams::default()
        });
        let logistic = ClassifierParams::Logistic(LogisticParams {
            l2: -1.0,
            ..LogisticParams::default()
        });
        let h = HoldoutChoice::Time { fraction: 0.2 };
        for (c, flag) in [(&forest, "`--trees`"), (&logistic, "`--l2`")] {
            let checks = TrainChecks {
                holdout: &h,
                horizon_days: None,
                classifier: Some(c),
                preprocess: None,
            };
            let e = check_train(&checks, Via::Flags).unwrap_err();
            assert!(e.to_string().starts_with(flag), "{e}");
        }
        let p = PreprocessParams {
            level_cap: 0,
            strict: false,
        };
        let checks = TrainChecks {
            holdout: &h,
            horizon_days: None,
            classifier: None,
            preprocess: Some(&p),
        };
        let e = check_train(&checks, Via::Flags).unwrap_err().to_string();
        assert!(e.starts_with("`--level-cap`"), "{e}");
    }

    #[test]
    fn cluster_and_clv_settings_are_named_by_their_front_end() {
        let c = ClusterParams {
            k: KChoice::Fixed(0),
            ..ClusterParams::default()
        };
        assert!(check_cluster(&c, Via::Job)
            .unwrap_err()
            .to_string()
            .starts_with("`segment.k`"));
        assert!(check_cluster(&c, Via::Flags)
            .unwrap_err()
            .to_string()
            .starts_with("`--k`"));
        let auto = ClusterParams {
            k: KChoice::Auto { min: 1, max: 8 },
            ..ClusterParams::default()
        };
        assert!(check_cluster(&auto, Via::Flags)
            .unwrap_err()
            .to_string()
            .starts_with("`--auto-k`"));
        let p = PredictParams {
            horizon: 26.0,
            clv_months: 0,
            monthly_discount_rate: 0.01,
            alive_threshold: 0.5,
        };
        assert_eq!(
            check_clv(&p, Via::Flags).unwrap_err().to_string(),
            check_clv(&p, Via::Job)
                .unwrap_err()
                .to_string()
                .replace("clv.months", "--clv-months")
        );
    }
}
