//! Scoring a table with a saved model, and the drift of the table against the training data.

use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;

use super::input_error;
use crate::io;
use crate::models::artifact::check_range;
use crate::models::drift::{add_counts, column_bin_counts, psi, psi_of_counts, ColumnReference};
use crate::models::training::frame;
use crate::models::{
    ArtifactModel, CategoricalColumns, DriftReport, FeatureDrift, ModelArtifact, ModelInput,
};
use crate::run::scores::{scored_frame, UPLIFT_COLUMNS};
use crate::run::RunError;
use crate::Error;

/// The input columns a model needs from a frame, found by name.
struct Inputs {
    names: Vec<String>,
    numeric: Array2<f64>,
    categorical: CategoricalColumns,
}

impl Inputs {
    fn view(&self) -> ModelInput<'_> {
        ModelInput {
            numeric_names: &self.names,
            numeric: self.numeric.view(),
            categorical: &self.categorical,
        }
    }
}

/// The model's numeric input columns, in its schema order.
fn numeric_names(a: &ModelArtifact) -> Vec<String> {
    a.preprocessing
        .numeric
        .iter()
        .map(|t| t.column.clone())
        .collect()
}

fn inputs(a: &ModelArtifact, df: &DataFrame) -> Result<Inputs, Error> {
    let names = numeric_names(a);
    let cats: Vec<String> = a
        .preprocessing
        .categorical
        .iter()
        .map(|t| t.column.clone())
        .collect();
    let lack = frame::missing(df, names.iter().chain(&cats));
    if !lack.is_empty() {
        return Err(RunError::MissingColumn {
            table: "the input".into(),
            columns: format!(
                "{} of the model's {} input columns: {}",
                lack.len(),
                names.len() + cats.len(),
                frame::quoted(&lack)
            ),
            hint: String::new(),
        }
        .into());
    }
    Ok(Inputs {
        numeric: frame::numeric_matrix(df, &names, "the input")?,
        categorical: CategoricalColumns {
            values: cats
                .iter()
                .map(|c| frame::text_column(df, c, "the input"))
                .collect::<Result<_, _>>()?,
            names: cats,
        },
        names,
    })
}

/// The drift reference of each of the model's numeric inputs as (column in the inputs,
/// expected shares, edges).
fn drift_columns<'a>(
    a: &'a ModelArtifact,
    names: &[String],
) -> Result<Vec<ColumnReference<'a>>, Error> {
    a.drift
        .features
        .iter()
        .map(|d| {
            let j = names
                .iter()
                .position(|c| c == &d.name)
                .ok_or_else(|| Error::from(frame::lacks("the input", &d.name)))?;
            Ok((j, d.shares.as_slice(), d.edges.as_slice()))
        })
        .collect()
}

/// Rows scored at once: the input and design matrices (8 bytes × inputs × rows each) exist for
/// one block of rows at a time, not for the whole table (10M customers × 56 inputs is 4.5 GB a
/// matrix). Scores are per row and drift counts add up, so blocks give the whole table's result.
/// Small enough that the allocator hands the same few megabytes back block after block: whole
/// blocks of a million rows spent most of `score` on the kernel zeroing fresh pages.
const SCORE_BLOCK: usize = 1 << 14;

/// The span an input error is reported over: a bad value is named as the first one of this span
/// (in feature order, then row order), whatever [`SCORE_BLOCK`] is.
const ERROR_SPAN: usize = 1 << 20;

/// Scores every row of `df` into the frame of [`crate::run::scores::scored_frame`]: `id_col` (or
/// a 0-based `row`), `score` = P(label = 1) (uplift for uplift models, then also `p_treated` and
/// `p_control`); plus the PSI of each input and of the
/// score against the training distributions. Columns are found by name and extra columns ignored;
/// a missing column is a bad-input error naming every missing column, and with `strict` so is a
/// categorical level the model never saw.
pub fn score_frame(
    a: &ModelArtifact,
    df: &DataFrame,
    id_col: Option<&str>,
    strict: bool,
) -> Result<(DataFrame, DriftReport), Error> {
    a.check_version()?;
    let mut pre = a.preprocessing.clone();
    pre.strict = pre.strict || strict;
    let n = df.height();
    let ids = match id_col {
        Some(id) => Some((id, frame::text_column(df, id, "the input")?)),
        None => None,
    };
    let mut scores: Vec<f64> = Vec::with_capacity(n);
    let mut treated: Vec<f64> = Vec::new();
    let mut control: Vec<f64> = Vec::new();
    let names = numeric_names(a);
    let refs = drift_columns(a, &names)?;
    let mut counts: Vec<Vec<usize>> = refs.iter().map(|r| vec![0; r.2.len() + 1]).collect();
    // An empty table is one empty block, so it meets the same checks. Blocks are scored on
    // every core; the first failing block in row order names the error, as one after the other.
    let starts: Vec<usize> = (0..n.max(1)).step_by(SCORE_BLOCK).collect();
    let blocks: Vec<Result<ScoredBlock, Error>> = starts
        .par_iter()
        .map(|&start| score_block(a, &pre, df, start, &refs))
        .collect();
    for block in blocks {
        let block = block?;
        scores.extend(block.scores);
        if let Some((t, c)) = block.uplift {
            treated.extend(t);
            control.extend(c);
        }
        add_counts(&mut counts, &block.counts);
    }
    a.check_scores(&scores)?;
    let uplift = match &a.model {
        ArtifactModel::Uplift { .. } => {
            for (what, p) in UPLIFT_COLUMNS.into_iter().zip([&treated, &control]) {
                check_range(what, p, 0.0, "probabilities in [0, 1]")?;
            }
            Some((treated, control))
        }
        ArtifactModel::Single { .. } => None,
    };
    let psis = psi_of_counts(&refs, &counts);
    let drift = DriftReport {
        rows: scores.len(),
        features: a
            .drift
            .features
            .iter()
            .zip(psis)
            .map(|(d, psi)| FeatureDrift {
                name: d.name.clone(),
                psi: psi.ok(),
            })
            .collect(),
        score_psi: psi(
            &a.drift.scores.shares,
            ndarray::ArrayView1::from(&scores),
            &a.drift.scores.edges,
        )
        .ok(),
    };
    Ok((scored_frame(ids, scores, uplift)?, drift))
}

/// One block's scores (and uplift's two probabilities) and drift counts.
struct ScoredBlock {
    scores: ndarray::Array1<f64>,
    uplift: Option<(ndarray::Array1<f64>, ndarray::Array1<f64>)>,
    counts: Vec<Vec<usize>>,
}

/// Scores the rows of the block starting at row `start` of `df` ([`SCORE_BLOCK`] of them, or
/// the rest of the table).
fn score_block(
    a: &ModelArtifact,
    pre: &crate::models::Preprocessing,
    df: &DataFrame,
    start: usize,
    refs: &[ColumnReference],
) -> Result<ScoredBlock, Error> {
    let n = df.height();
    let block = df.slice(start as i64, SCORE_BLOCK.min(n - start.min(n)));
    let x = inputs(a, &block)?;
    let design = match pre.transform(&x.view()) {
        Ok(d) => d,
        Err(e) => return Err(span_error(a, pre, df, start).unwrap_or(input_error(e))),
    };
    let (scores, uplift) = match &a.model {
        ArtifactModel::Single { .. } => (a.score_matrix(design.view())?, None),
        ArtifactModel::Uplift { model } => {
            let u = model.predict(design.view())?;
            (u.uplift, Some((u.p_treated, u.p_control)))
        }
    };
    Ok(ScoredBlock {
        scores,
        uplift,
        counts: column_bin_counts(x.numeric.view(), refs),
    })
}

/// The error of the [`ERROR_SPAN`] rows holding the failed block at `start` (the blocks before it
/// in that span passed).
fn span_error(
    a: &ModelArtifact,
    pre: &crate::models::Preprocessing,
    df: &DataFrame,
    start: usize,
) -> Option<Error> {
    let from = start - start % ERROR_SPAN;
    let span = df.slice(from as i64, ERROR_SPAN.min(df.height() - from));
    let x = match inputs(a, &span) {
        Ok(x) => x,
        Err(e) => return Some(e),
    };
    pre.transform(&x.view()).err().map(input_error)
}

/// PSI of each numeric input and of the score for a table, without writing scores (the weekly
/// drift check).
pub fn drift_report(a: &ModelArtifact, df: &DataFrame) -> Result<DriftReport, Error> {
    Ok(score_frame(a, df, None, false)?.1)
}

/// Reads `input`, scores it, writes `out` (CSV text cells as `cells` says); errors about the
/// input name the file.
pub fn score_file(
    a: &ModelArtifact,
    input: &Path,
    id_col: Option<&str>,
    strict: bool,
    out: &Path,
    cells: io::CsvCells,
) -> Result<(usize, DriftReport), Error> {
    let mut strings: Vec<&str> = a
        .preprocessing
        .categorical
        .iter()
        .map(|t| t.column.as_str())
        .collect();
    strings.extend(id_col);
    let df = io::read_table(input, &strings)?;
    let (mut scored, drift) = score_frame(a, &df, id_col, strict).map_err(|e| match e {
        Error::Run(e) => Error::Run(e.in_file(input)),
        other => other,
    })?;
    io::write_table_with(out, &mut scored, cells)?;
    Ok((scored.height(), drift))
}

/// The largest PSIs as text (`> 0.25` major shift, `> 0.1` moderate).
pub fn render_drift(d: &DriftReport, k: usize) -> String {
    let label = |p: f64| {
        if p > 0.25 {
            "  major shift"
        } else if p > 0.1 {
            "  moderate shift"
        } else {
            ""
        }
    };
    let mut s = match d.score_psi {
        Some(p) => format!("drift (PSI vs training): score {p:.4}{}\n", label(p)),
        None => "drift (PSI vs training): score -\n".to_string(),
    };
    for f in d.largest(k) {
        let p = f.psi.unwrap_or(0.0);
        s.push_str(&format!("  {:<32} {p:.4}{}\n", f.name, label(p)));
    }
    s
}
