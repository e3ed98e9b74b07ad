//! What a scores file holds and which model fills each column, in one place: the job's
//! `scores.csv` and the file `bullseye score` writes.
//!
//! A scores file is the contract between scoring and everything after it: `select` and `plan`
//! read a channel's `score_column` from it (by default `score`), the report and the manifest
//! name its models, and a file from `bullseye score` must feed `select` just as the job's does.
//! When each writer spelled its own columns, a rename in one broke the readers without a
//! failing build; so the names, their order, which model fills which column and how cells are
//! written are stated here, and both writers build their frames through this module.
//!
//! The job's `scores.csv` ([`JobScores`]): one row per customer of the features table, sorted by
//! `customer_id`, with
//! 1. `customer_id`;
//! 2. one column per model that scored, in the order of [`JOB_MODELS`]: `score` (response,
//!    P(respond)), then `churn_score` (P(no purchase within the churn horizon)). A model scores
//!    when the run trained it, else when `[models]` names it, else when the registry has a
//!    production version; `models.score` narrows the list, and then a model it names but cannot
//!    find is an error;
//! 3. with stage `clv`: [`CLV_COLUMNS`] (`p_alive`, `expected_purchases`, `clv`);
//! 4. with stage `segment`: [`SEGMENT_COLUMNS`] (`rfm_segment`, `value_tier`), then `cluster`
//!    when the segmentation clustered;
//! 5. with `[profit]`: [`PROFIT_COLUMNS`] (`gross_profit`, `net_profit`, `net_profit_12m`) from the
//!    features, so a campaign can take `value_column = "net_profit_12m"`.
//!
//! Columns from `clv` and `segment` are left-joined: a customer they lack gets empty cells.
//!
//! `bullseye score`'s file ([`scored_frame`]): one row per input row, in input order: the id
//! column (or a 0-based `row`), `score` (P(label = 1), or the uplift of an uplift model), then
//! `p_treated` and `p_control` for uplift models.
//!
//! Cells: numbers as polars writes them (the shortest decimal that reads back to the same
//! `f64`); text as the output's CSV cell policy says (`io::CsvCells`: a `'` before a cell that
//! starts with `=`, `+`, `-` or `@`, unless raw).

use polars::prelude::*;

use super::job::JobModel;
use crate::error::polars_failure;
use crate::Error;

/// File name of the job's scores in a run folder.
pub const SCORES_FILE: &str = "scores.csv";
/// The id column of the job's scores.
pub const ID: &str = "customer_id";
/// The column of a model's score in `bullseye score`'s file and the response model's column in
/// the job's: the default `score_column` of `select` and `plan`.
pub const SCORE: &str = "score";
/// The row number column of `bullseye score`'s file when the input has no id column.
pub const ROW: &str = "row";
/// An uplift model's two probabilities, after `score` in `bullseye score`'s file.
pub const UPLIFT_COLUMNS: [&str; 2] = ["p_treated", "p_control"];
/// The job's models in the order of their columns.
pub const JOB_MODELS: [JobModel; 2] = [JobModel::Response, JobModel::Churn];
/// Columns of stage `clv`, in order.
pub const CLV_COLUMNS: [&str; 3] = ["p_alive", "expected_purchases", "clv"];
/// Columns of stage `segment`, in order (then [`CLUSTER`] when the segmentation clustered).
pub const SEGMENT_COLUMNS: [&str; 2] = ["rfm_segment", "value_tier"];
/// Columns of the `profit` feature family a job with `[profit]` adds, in order.
pub const PROFIT_COLUMNS: [&str; 3] = ["gross_profit", "net_profit", "net_profit_12m"];
/// The cluster column of stage `segment`.
pub const CLUSTER: &str = "cluster";

/// The column of the job's scores holding `m`'s score.
pub fn model_column(m: JobModel) -> &'static str {
    match m {
        JobModel::Response => SCORE,
        JobModel::Churn => "churn_score",
    }
}

/// The job's scores table as it is built: the customers, then each model's column, then the
/// `clv` and `segment` columns, in the order the module documentation gives.
pub struct JobScores {
    /// The features' ids.
    ids: DataFrame,
    /// The tables joined to the ids, in column order (each with [`ID`] first).
    parts: Vec<LazyFrame>,
    /// The features' [`PROFIT_COLUMNS`] (with the ids), joined last.
    profit: Option<LazyFrame>,
}

impl JobScores {
    /// One row per customer of `features` (its `customer_id` column); its profit columns when
    /// it has them.
    pub fn new(features: &DataFrame) -> Result<JobScores, Error> {
        let profit = PROFIT_COLUMNS
            .iter()
            .all(|c| features.column(c).is_ok())
            .then(|| features.select(std::iter::once(ID).chain(PROFIT_COLUMNS)))
            .transpose()
            .map_err(polars_failure("the scores"))?;
        Ok(JobScores {
            ids: features
                .select([ID])
                .map_err(polars_failure("the scores"))?,
            parts: Vec::new(),
            profit: profit.map(DataFrame::lazy),
        })
    }

    /// `m`'s scores, from [`scored_frame`] with the id column [`ID`].
    pub fn add_model(&mut self, m: JobModel, scored: DataFrame) {
        self.parts.push(
            scored
                .lazy()
                .select([col(ID), col(SCORE).alias(model_column(m))]),
        );
    }

    /// The `clv` stage's columns from its predictions.
    pub fn add_clv(&mut self, clv: &DataFrame) {
        let keep: Vec<Expr> = std::iter::once(ID).chain(CLV_COLUMNS).map(col).collect();
        self.parts.push(clv.clone().lazy().select(keep));
    }

    /// The `segment` stage's columns from its segmentation frame.
    pub fn add_segments(&mut self, segments: DataFrame, clustered: bool) {
        let mut keep: Vec<Expr> = std::iter::once(ID)
            .chain(SEGMENT_COLUMNS)
            .map(col)
            .collect();
        if clustered {
            keep.push(col(CLUSTER));
        }
        self.parts.push(segments.lazy().select(keep));
    }

    /// The table: the parts left-joined on [`ID`] in order, sorted by customer.
    pub fn finish(mut self) -> Result<DataFrame, Error> {
        self.parts.extend(self.profit.take());
        if let Some(aligned) = aligned(&self.ids, &self.parts)? {
            return Ok(aligned);
        }
        let mut frame = self.ids.lazy();
        for part in self.parts {
            frame = frame.join(part, [col(ID)], [col(ID)], JoinArgs::new(JoinType::Left));
        }
        frame
            .sort([ID], SortMultipleOptions::default())
            .collect()
            .map_err(polars_failure("the scores"))
    }
}

/// The joined and sorted table without a join or a sort when it needs neither: the ids are
/// strictly increasing (so sorted and unique) and every part holds exactly those ids in that
/// order, as every stage of a run writes them. `None` otherwise. At a million customers the
/// joins and the sort were a third of `score`.
fn aligned(ids: &DataFrame, parts: &[LazyFrame]) -> Result<Option<DataFrame>, Error> {
    let key = ids.column(ID).map_err(polars_failure("the scores"))?;
    let Ok(strs) = key.str() else {
        return Ok(None);
    };
    let mut previous: Option<&str> = None;
    for v in strs.iter() {
        match (previous, v) {
            (_, None) => return Ok(None),
            (Some(p), Some(v)) if p >= v => return Ok(None),
            _ => previous = v,
        }
    }
    let mut out = ids.clone();
    for part in parts {
        let part = part
            .clone()
            .collect()
            .map_err(polars_failure("the scores"))?;
        let same = part
            .column(ID)
            .is_ok_and(|c| c.dtype() == key.dtype() && c.equals_missing(key));
        if !same {
            return Ok(None);
        }
        let rest: Vec<Column> = part
            .columns()
            .iter()
            .filter(|c| c.name().as_str() != ID)
            .cloned()
            .collect();
        if out.hstack_mut(&rest).is_err() {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// `bullseye score`'s frame (and each model's part of the job's): `id` (the id column's name and
/// values) or a 0-based [`ROW`], [`SCORE`], then [`UPLIFT_COLUMNS`] when `uplift` holds them.
pub fn scored_frame(
    id: Option<(&str, Vec<String>)>,
    scores: Vec<f64>,
    uplift: Option<(Vec<f64>, Vec<f64>)>,
) -> Result<DataFrame, Error> {
    let n = scores.len();
    let mut columns = vec![match id {
        Some((name, values)) => Column::new(name.into(), values),
        None => Column::new(ROW.into(), (0..n as i64).collect::<Vec<_>>()),
    }];
    columns.push(Column::new(SCORE.into(), scores));
    if let Some((treated, control)) = uplift {
        columns.push(Column::new(UPLIFT_COLUMNS[0].into(), treated));
        columns.push(Column::new(UPLIFT_COLUMNS[1].into(), control));
    }
    DataFrame::new(n, columns).map_err(polars_failure("the scores"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(df: &DataFrame) -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn score_files_hold_the_id_the_score_then_the_uplift_parts() {
        let f = scored_frame(Some(("id", vec!["a".into()])), vec![0.5], None).unwrap();
        assert_eq!(names(&f), ["id", "score"]);
        let f = scored_frame(None, vec![0.1, 0.2], Some((vec![0.3; 2], vec![0.2; 2]))).unwrap();
        assert_eq!(names(&f), ["row", "score", "p_treated", "p_control"]);
        assert_eq!(f.column("row").unwrap().i64().unwrap().get(1), Some(1));
    }

    /// The job's columns come in the documented order whatever order the stages add them in,
    /// rows are sorted by customer, and a customer a joined table lacks gets an empty cell.
    #[test]
    fn the_job_scores_keep_the_documented_order() {
        let ids = df!(ID => ["c", "a", "b"]).unwrap();
        let mut t = JobScores::new(&ids).unwrap();
        for m in JOB_MODELS {
            let s = scored_frame(
                Some((ID, vec!["a".into(), "b".into(), "c".into()])),
                vec![0.1, 0.2, 0.3],
                None,
            )
            .unwrap();
            t.add_model(m, s);
        }
        let clv =
            df!(ID => ["a", "b"], "p_alive" => [1.0, 0.5], "expected_purchases" => [2.0, 1.0],
            "clv" => [10.0, 5.0], "other" => [0, 0])
            .unwrap();
        t.add_clv(&clv);
        let seg = df!(ID => ["a", "b", "c"], "rfm_segment" => ["x", "y", "z"],
            "value_tier" => ["gold", "bronze", "bronze"], "cluster" => [1, 2, 3])
        .unwrap();
        t.add_segments(seg, true);
        let out = t.finish().unwrap();
        assert_eq!(
            names(&out),
            [
                "customer_id",
                "score",
                "churn_score",
                "p_alive",
                "expected_purchases",
                "clv",
                "rfm_segment",
                "value_tier",
                "cluster"
            ]
        );
        let id: Vec<Option<&str>> = out.column(ID).unwrap().str().unwrap().iter().collect();
        assert_eq!(id, [Some("a"), Some("b"), Some("c")]);
        assert_eq!(out.column("clv").unwrap().f64().unwrap().get(2), None);
    }

    /// Sorted unique ids that every part repeats in order are stacked, not joined: the same
    /// table the joins and the sort give. Anything else takes the joins.
    #[test]
    fn aligned_parts_are_stacked_as_the_joins_would_give() {
        let ids = df!(ID => ["a", "b", "c"]).unwrap();
        let model = scored_frame(
            Some((ID, vec!["a".into(), "b".into(), "c".into()])),
            vec![0.1, 0.2, 0.3],
            None,
        )
        .unwrap();
        let seg = df!(ID => ["a", "b", "c"], "rfm_segment" => ["x", "y", "z"],
            "value_tier" => ["g", "b", "b"])
        .unwrap();
        let mut t = JobScores::new(&ids).unwrap();
        t.add_model(JobModel::Response, model.clone());
        t.add_segments(seg.clone(), false);
        let stacked = aligned(&t.ids, &t.parts).unwrap().expect("aligned");
        let joined = ids
            .clone()
            .lazy()
            .join(
                model.lazy(),
                [col(ID)],
                [col(ID)],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                seg.clone().lazy(),
                [col(ID)],
                [col(ID)],
                JoinArgs::new(JoinType::Left),
            )
            .sort([ID], SortMultipleOptions::default())
            .collect()
            .unwrap();
        assert!(stacked.equals_missing(&joined), "{stacked}\n{joined}");

        let part = |ids: &[&str]| vec![df!(ID => ids).unwrap().lazy()];
        let unsorted = df!(ID => ["b", "a"]).unwrap();
        assert!(aligned(&unsorted, &part(&["b", "a"])).unwrap().is_none());
        let twice = df!(ID => ["a", "a"]).unwrap();
        assert!(aligned(&twice, &part(&["a", "a"])).unwrap().is_none());
        let fewer = df!(ID => ["a", "b"]).unwrap();
        assert!(aligned(&fewer, &part(&["a"])).unwrap().is_none());
        assert!(aligned(&fewer, &part(&["a", "c"])).unwrap().is_none());
    }

    /// Features with the profit family's columns give the scores those columns last (what a
    /// campaign's `value_column = "net_profit_12m"` reads); features without them, none.
    #[test]
    fn profit_columns_follow_the_segments() {
        let feats = df!(ID => ["b", "a"], "recency_days" => [1.0, 2.0],
            "gross_profit" => [3.0, 4.0], "net_profit" => [1.0, -2.0],
            "net_profit_12m" => [0.5, -1.0])
        .unwrap();
        let mut t = JobScores::new(&feats).unwrap();
        let seg =
            df!(ID => ["a", "b"], "rfm_segment" => ["x", "y"], "value_tier" => ["g", "b"]).unwrap();
        t.add_segments(seg, false);
        let out = t.finish().unwrap();
        assert_eq!(
            names(&out),
            [
                ID,
                "rfm_segment",
                "value_tier",
                "gross_profit",
                "net_profit",
                "net_profit_12m"
            ]
        );
        let v = out.column("net_profit_12m").unwrap().f64().unwrap();
        assert_eq!((v.get(0), v.get(1)), (Some(-1.0), Some(0.5)));
        let plain = JobScores::new(&feats.drop("net_profit").unwrap()).unwrap();
        assert_eq!(names(&plain.finish().unwrap()), [ID]);
    }
}
