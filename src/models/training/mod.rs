//! Training rows and training: what one row of a response, churn or uplift model is, which rows
//! evaluate the model when the caller names none, and the fit that turns the rows into a model
//! and its report (`metrics.json`).
//!
//! The `train` command and a job's `train` stage must train the same model from the same tables.
//! When each front end decided for itself what a row is, which holdout applies and whether the
//! control group counts, they drifted apart; so the rules live here, behind one entry point
//! ([`training_rows`], with [`default_holdout`] and [`train`]), and the front ends only load files
//! and name parameters. Frames come in (a row is a join of the contacts with the feature
//! history, which polars does well), but nothing here reads or writes a file or the clock: the
//! same frames and options give the same rows, the same model and the same report.

mod cv;
mod error;
mod fit;
pub(crate) mod frame;
mod rows;

pub use cv::{
    cross_validate, sweep_grid, train_selected, CrossValidation, Selection, SweepAxis, SweepParam,
};
pub use error::TrainingError;
pub use fit::{train, HoldoutChoice, TrainOptions, TrainedModel, TreatmentSpec};
use rows::{churn_rows, response_rows, table_rows};
pub use rows::{RowCap, TableSpec, TrainingTable, DEFAULT_MAX_TRAINING_ROWS};

use chrono::NaiveDate;
use polars::prelude::DataFrame;

use crate::features::{FeatureParams, History};
use crate::models::ModelKind;

/// The contacts column that tells the campaign's groups apart.
pub const GROUP_COLUMN: &str = "group";
/// The value of [`GROUP_COLUMN`] that marks the control group (drawn, never contacted).
pub const CONTROL_GROUP: &str = "control";
/// Share of the rows held out when the caller names no share.
pub const DEFAULT_HOLDOUT_FRACTION: f64 = 0.2;

/// Where a model's training rows come from.
#[derive(Clone, Copy)]
pub enum RowSource<'a> {
    /// Campaign history: one row per contact, the customer's features as of the day before the
    /// contact, label `responded`.
    Contacts {
        history: &'a History,
        customers: Option<&'a DataFrame>,
        contacts: &'a DataFrame,
    },
    /// One row per customer with a purchase on or before `as_of − horizon_days`, label 1 when
    /// the customer buys nothing in the `horizon_days` after it (churn).
    Customers {
        history: &'a History,
        customers: Option<&'a DataFrame>,
        as_of: NaiveDate,
        horizon_days: u32,
    },
    /// A flat table's rows as they are, columns found by name.
    Table {
        frame: &'a DataFrame,
        spec: &'a TableSpec,
    },
}

/// The holdout when the caller names none, given whether the rows carry dates of their own
/// (contacts do; customers as of one day and flat tables do not): the latest dates, so a model is
/// judged on campaigns after the ones it learned from, else a seeded random share.
pub fn default_holdout(dated: bool, fraction: f64) -> HoldoutChoice {
    if dated {
        HoldoutChoice::Time { fraction }
    } else {
        HoldoutChoice::Fraction { fraction }
    }
}

impl RowSource<'_> {
    /// Whether the rows carry dates of their own (see [`default_holdout`]).
    pub fn dated(&self) -> bool {
        matches!(self, RowSource::Contacts { .. })
    }
}

/// The training rows of a `kind` model from `source`, at most `cap` of them.
///
/// A response model leaves out the contacts of the control group ([`GROUP_COLUMN`] =
/// [`CONTROL_GROUP`]): they were never contacted, so whether they bought says nothing about
/// responding to the campaign. An uplift model keeps them, since they are its control arm. Churn
/// rows come from customers, response and uplift rows from contacts or a flat table; any other
/// pairing is a bug of the caller.
pub fn training_rows(
    kind: ModelKind,
    source: RowSource<'_>,
    params: &FeatureParams,
    cap: Option<RowCap>,
) -> Result<TrainingTable, TrainingError> {
    let mut t = rows_of(kind, source, params, cap)?;
    if !matches!(source, RowSource::Table { .. }) {
        t.row_cap = cap.map(|c| c.max_rows);
    }
    Ok(t)
}

fn rows_of(
    kind: ModelKind,
    source: RowSource<'_>,
    params: &FeatureParams,
    cap: Option<RowCap>,
) -> Result<TrainingTable, TrainingError> {
    match (kind, source) {
        (
            ModelKind::Response | ModelKind::Uplift,
            RowSource::Contacts {
                history,
                customers,
                contacts,
            },
        ) => {
            let t = response_rows(history, customers, contacts, params, cap)?;
            match kind {
                ModelKind::Response => t.without_level(GROUP_COLUMN, CONTROL_GROUP),
                _ => Ok(t),
            }
        }
        (ModelKind::Response | ModelKind::Uplift, RowSource::Table { frame, spec }) => {
            table_rows(frame, spec)
        }
        (
            ModelKind::Churn,
            RowSource::Customers {
                history,
                customers,
                as_of,
                horizon_days,
            },
        ) => churn_rows(history, customers, as_of, horizon_days, params, cap),
        (kind, _) => Err(TrainingError::internal(format!(
            "{kind:?} training rows asked of a source that cannot give them"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn table(groups: &[&str]) -> DataFrame {
        let n = groups.len();
        DataFrame::new_infer_height(vec![
            Column::new("x".into(), (0..n).map(|i| i as f64).collect::<Vec<_>>()),
            Column::new(
                "y".into(),
                (0..n).map(|i| (i % 2) as f64).collect::<Vec<_>>(),
            ),
            Column::new(GROUP_COLUMN.into(), groups.to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn rows_with_dates_hold_out_the_latest_others_a_random_share() {
        assert_eq!(
            default_holdout(true, 0.3),
            HoldoutChoice::Time { fraction: 0.3 }
        );
        assert_eq!(
            default_holdout(false, 0.3),
            HoldoutChoice::Fraction { fraction: 0.3 }
        );
        let df = table(&["a"]);
        let spec = TableSpec::default();
        assert!(!RowSource::Table {
            frame: &df,
            spec: &spec
        }
        .dated());
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Two customers with purchases before their contacts; `b`'s contact is in the control group.
    fn history_and_contacts() -> (History, DataFrame) {
        let dates = DateChunked::from_naive_date(
            "order_date".into(),
            [day("2024-01-01"), day("2024-01-02"), day("2024-01-03")],
        );
        let tx = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ["a", "b", "a"]),
            dates.into_column(),
            Column::new("amount".into(), [10.0, 20.0, 5.0]),
        ])
        .unwrap();
        let history = History::new(&tx, None, &FeatureParams::default()).unwrap();
        let contact_dates = DateChunked::from_naive_date(
            "contact_date".into(),
            [day("2024-02-01"), day("2024-02-01")],
        );
        let contacts = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ["a", "b"]),
            contact_dates.into_column(),
            Column::new("responded".into(), [1i64, 0]),
            Column::new(GROUP_COLUMN.into(), ["treated", CONTROL_GROUP]),
        ])
        .unwrap();
        (history, contacts)
    }

    /// A response model never learns from the control group (it was not contacted); an uplift
    /// model needs it as its control arm.
    #[test]
    fn response_rows_leave_out_the_control_group_and_uplift_rows_keep_it() {
        let (history, contacts) = history_and_contacts();
        let rows = |kind| {
            let source = RowSource::Contacts {
                history: &history,
                customers: None,
                contacts: &contacts,
            };
            assert!(source.dated());
            training_rows(kind, source, &FeatureParams::default(), None).unwrap()
        };
        let response = rows(ModelKind::Response);
        assert_eq!(response.ids, ["a"]);
        assert!(
            response.notes.iter().any(|n| n.contains("group = control")),
            "{:?}",
            response.notes
        );
        assert_eq!(rows(ModelKind::Uplift).ids, ["a", "b"]);
    }

    /// Leaving out the control group is a rule of the contacts' rows of a response model: a flat
    /// table's rows are taken as they are, whatever its columns are named.
    #[test]
    fn a_flat_table_keeps_every_row_for_every_kind() {
        let df = table(&["treated", CONTROL_GROUP, "treated", CONTROL_GROUP]);
        let spec = TableSpec {
            label: "y".into(),
            features: Some(vec!["x".into()]),
            exclude: vec![GROUP_COLUMN.into()],
            source: "t.csv".into(),
            ..TableSpec::default()
        };
        for kind in [ModelKind::Response, ModelKind::Uplift] {
            let source = RowSource::Table {
                frame: &df,
                spec: &spec,
            };
            let t = training_rows(kind, source, &FeatureParams::default(), None).unwrap();
            assert_eq!(t.n_rows(), 4, "{kind:?}");
        }
        let source = RowSource::Table {
            frame: &df,
            spec: &spec,
        };
        let e =
            training_rows(ModelKind::Churn, source, &FeatureParams::default(), None).unwrap_err();
        assert!(!e.is_bad_input(), "{e}");
        assert!(e.to_string().ends_with("this is a bug"), "{e}");
    }
}
