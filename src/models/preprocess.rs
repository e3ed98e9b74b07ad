//! Design-matrix preparation: fit on training rows, apply to any rows by column name.
//!
//! Rules (all decided at fit time and stored in [`Preprocessing`]):
//! - numeric column: `(x - mean) / std` with the population std (ddof 0, as scikit-learn's
//!   `StandardScaler`); a std of 0 (constant column) or a column with fewer than one finite value
//!   uses std = 1 so the column passes through centred instead of dividing by zero.
//! - missing numeric values (NaN) are imputed with the training mean (standardized value 0). When the
//!   training column had at least one NaN an indicator feature `<name>_missing` (1 for NaN, else 0)
//!   follows it; without training NaNs no indicator exists and a NaN at scoring is imputed silently.
//!   ±infinity is an error, never imputed, and so is a value beyond [`MAX_MAGNITUDE`] (its square
//!   overflows), named by column and row; a column whose mean or std overflows is an error too.
//! - categorical column: one-hot over the most frequent training levels up to `level_cap` (ties broken
//!   by level name, ascending); remaining training levels pool into `<name>=other`. The `other`
//!   feature exists only when some training level was pooled; a level unseen at training maps to
//!   `other` (all zeros in that block when no `other` feature exists), or is an error under `strict`.
//!   A kept level literally named `other` absorbs the pooled levels. Empty strings are a level.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::error::{model_rule, ModelsError, Result};
use crate::types::FeatureMatrix;

/// Version of the serialized [`Preprocessing`] layout.
pub const PREPROCESSING_SCHEMA_VERSION: u32 = 1;

/// Largest magnitude of a numeric training value. Squares of larger values overflow an f64 after
/// a few sums (1e154² is already infinite), and the Newton solver's Hessian is a sum of squares:
/// such a column is refused by name instead of sending the solver into infinities. No real
/// customer attribute comes near it; a value this large is a unit or parsing accident.
pub const MAX_MAGNITUDE: f64 = 1e150;

/// Name of the pooled level.
pub const OTHER_LEVEL: &str = "other";

/// Categorical columns, stored column by column (`values[j][i]` = row `i` of column `names[j]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoricalColumns {
    /// Column names.
    pub names: Vec<String>,
    /// One vector of levels per column, each as long as the table.
    pub values: Vec<Vec<String>>,
}

/// A borrowed input table: numeric and categorical columns with names.
#[derive(Debug, Clone, Copy)]
pub struct ModelInput<'a> {
    /// Numeric column names, one per column of `numeric`.
    pub numeric_names: &'a [String],
    /// Rows × numeric columns; NaN marks a missing value.
    pub numeric: ArrayView2<'a, f64>,
    /// Categorical columns (may be empty).
    pub categorical: &'a CategoricalColumns,
}

impl<'a> ModelInput<'a> {
    /// Build an input from the shared numeric table plus categorical columns.
    pub fn new(numeric: &'a FeatureMatrix, categorical: &'a CategoricalColumns) -> Self {
        Self {
            numeric_names: &numeric.columns,
            numeric: numeric.values.view(),
            categorical,
        }
    }

    /// Number of rows, checked to agree between the numeric and categorical parts.
    pub fn n_rows(&self) -> Result<usize> {
        if self.numeric_names.len() != self.numeric.ncols() {
            return Err(ModelsError::LengthMismatch {
                what: "numeric column names vs matrix columns",
                expected: self.numeric.ncols(),
                found: self.numeric_names.len(),
            });
        }
        if self.categorical.names.len() != self.categorical.values.len() {
            return Err(ModelsError::LengthMismatch {
                what: "categorical column names vs columns",
                expected: self.categorical.values.len(),
                found: self.categorical.names.len(),
            });
        }
        // A numeric part without columns may be a (0, 0) placeholder: then the categorical
        // columns carry the row count.
        let n = if self.numeric.ncols() > 0 || self.categorical.values.is_empty() {
            self.numeric.nrows()
        } else {
            self.categorical.values.first().map_or(0, Vec::len)
        };
        for col in &self.categorical.values {
            if col.len() != n {
                return Err(ModelsError::LengthMismatch {
                    what: "categorical column length vs table rows",
                    expected: n,
                    found: col.len(),
                });
            }
        }
        Ok(n)
    }
}

/// Hyperparameters of the preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessParams {
    /// Most one-hot levels kept per categorical column before pooling into `other` (default 20, ≥ 1).
    pub level_cap: usize,
    /// Unseen categorical levels at apply time are an error instead of `other` (default false).
    pub strict: bool,
}

impl Default for PreprocessParams {
    fn default() -> Self {
        Self {
            level_cap: 20,
            strict: false,
        }
    }
}

impl PreprocessParams {
    /// Validate: `level_cap >= 1`.
    pub fn check(&self) -> Result<&Self> {
        if self.level_cap == 0 {
            return Err(ModelsError::InvalidParam {
                name: "level_cap",
                expected: "at least 1",
                found: "0".into(),
            });
        }
        Ok(self)
    }

    /// Fit the preprocessing on training rows.
    pub fn fit(&self, input: &ModelInput<'_>) -> Result<Preprocessing> {
        self.fit_rows(input, None)
    }

    /// [`Self::fit`] on the rows `rows` of `input` (all rows when `None`), in that order: the
    /// fit of a copy of those rows, without the copy (at 10M customers the training rows are
    /// gigabytes). A row named in an error is its place in `rows`.
    pub fn fit_rows(
        &self,
        input: &ModelInput<'_>,
        rows: Option<&[usize]>,
    ) -> Result<Preprocessing> {
        self.check()?;
        let n = selected_rows(input.n_rows()?, rows)?;
        if n == 0 {
            return Err(ModelsError::Empty {
                what: "no training rows for the preprocessing",
            });
        }
        check_unique(input.numeric_names.iter().chain(&input.categorical.names))?;
        let numeric = fit_numeric(input.numeric_names, input.numeric, rows)?;
        let categorical = input
            .categorical
            .names
            .iter()
            .zip(&input.categorical.values)
            .map(|(name, col)| fit_categorical(name, col, rows, self.level_cap))
            .collect();
        Ok(Preprocessing {
            schema_version: PREPROCESSING_SCHEMA_VERSION,
            numeric,
            categorical,
            strict: self.strict,
        })
    }
}

/// Fitted transform of one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericTransform {
    /// Source column name.
    pub column: String,
    /// Training mean over non-missing values (0 when none).
    pub mean: f64,
    /// Training population std, replaced by 1 when 0 or undefined.
    pub std: f64,
    /// Whether a `<column>_missing` indicator feature follows the standardized feature.
    pub missing_indicator: bool,
}

/// Fitted transform of one categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalTransform {
    /// Source column name.
    pub column: String,
    /// Kept levels, in feature order (most frequent first, ties by name).
    pub levels: Vec<String>,
    /// Whether a pooled `<column>=other` feature follows the kept levels.
    pub has_other: bool,
}

/// The fitted, serializable preprocessing: an ordered feature schema with its transforms.
///
/// Feature order: for each numeric column its standardized value then (if any) its missing
/// indicator; then for each categorical column its kept levels then (if any) `other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Layout version ([`PREPROCESSING_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Numeric transforms in feature order.
    pub numeric: Vec<NumericTransform>,
    /// Categorical transforms in feature order.
    pub categorical: Vec<CategoricalTransform>,
    /// Unseen levels are an error when true.
    pub strict: bool,
}

/// How one design-matrix column is computed from the input table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transform", rename_all = "snake_case")]
pub enum FeatureTransform {
    /// `(x − mean) / std`, NaN → 0.
    Standardized {
        /// Source column.
        column: String,
        /// Training mean.
        mean: f64,
        /// Training std (1 when it was 0).
        std: f64,
    },
    /// 1 when the source value is NaN.
    MissingIndicator {
        /// Source column.
        column: String,
    },
    /// 1 when the source level equals `level`.
    OneHot {
        /// Source column.
        column: String,
        /// The level.
        level: String,
    },
    /// 1 for pooled and unseen levels.
    Other {
        /// Source column.
        column: String,
    },
}

/// One design-matrix column: its name and transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Feature name (`x`, `x_missing`, `c=level`, `c=other`).
    pub name: String,
    /// How it is computed.
    pub transform: FeatureTransform,
}

/// Rows per parallel work item when applying the preprocessing.
const APPLY_CHUNK: usize = 8192;

impl Preprocessing {
    /// The ordered feature schema: one entry per design-matrix column.
    pub fn schema(&self) -> Vec<FeatureSpec> {
        let mut specs = Vec::with_capacity(self.n_features());
        for t in &self.numeric {
            specs.push(FeatureSpec {
                name: t.column.clone(),
                transform: FeatureTransform::Standardized {
                    column: t.column.clone(),
                    mean: t.mean,
                    std: t.std,
                },
            });
            if t.missing_indicator {
                specs.push(FeatureSpec {
                    name: format!("{}_missing", t.column),
                    transform: FeatureTransform::MissingIndicator {
                        column: t.column.clone(),
                    },
                });
            }
        }
        for t in &self.categorical {
            for level in &t.levels {
                specs.push(FeatureSpec {
                    name: format!("{}={}", t.column, level),
                    transform: FeatureTransform::OneHot {
                        column: t.column.clone(),
                        level: level.clone(),
                    },
                });
            }
            if t.has_other {
                specs.push(FeatureSpec {
                    name: format!("{}={}", t.column, OTHER_LEVEL),
                    transform: FeatureTransform::Other {
                        column: t.column.clone(),
                    },
                });
            }
        }
        specs
    }

    /// The rules of a saved preprocessing (`at`: its place in the file): this layout version,
    /// each input named once, means finite and within [`MAX_MAGNITUDE`], standard deviations
    /// finite and > 0 (a zero or negative scale divides scores into infinities or flips them),
    /// categorical levels distinct.
    pub fn check_fitted(&self, at: &str) -> Result<()> {
        model_rule(
            self.schema_version == PREPROCESSING_SCHEMA_VERSION,
            || format!("{at}.schema_version"),
            "1",
            self.schema_version,
        )?;
        let mut seen = std::collections::HashSet::new();
        let columns = self
            .numeric
            .iter()
            .map(|t| &t.column)
            .chain(self.categorical.iter().map(|t| &t.column));
        for (i, column) in columns.enumerate() {
            model_rule(
                seen.insert(column.as_str()),
                || format!("{at} input {i}"),
                "each input column named once",
                format!("`{column}` again"),
            )?;
        }
        for (i, t) in self.numeric.iter().enumerate() {
            let field = |name: &str| format!("{at}.numeric[{i}].{name} (column `{}`)", t.column);
            model_rule(
                t.mean.abs() <= MAX_MAGNITUDE,
                || field("mean"),
                "a finite number of magnitude at most 1e150",
                t.mean,
            )?;
            model_rule(
                t.std > 0.0 && t.std <= MAX_MAGNITUDE,
                || field("std"),
                "a finite number > 0",
                t.std,
            )?;
        }
        for (i, t) in self.categorical.iter().enumerate() {
            let mut levels = std::collections::HashSet::new();
            if let Some(level) = t.levels.iter().find(|l| !levels.insert(l.as_str())) {
                return model_rule(
                    false,
                    || format!("{at}.categorical[{i}].levels (column `{}`)", t.column),
                    "distinct levels",
                    format!("`{level}` twice"),
                );
            }
        }
        Ok(())
    }

    /// Output feature names, in design-matrix column order.
    pub fn feature_names(&self) -> Vec<String> {
        self.schema().into_iter().map(|f| f.name).collect()
    }

    /// Number of output features.
    pub fn n_features(&self) -> usize {
        let num: usize = self
            .numeric
            .iter()
            .map(|t| 1 + usize::from(t.missing_indicator))
            .sum();
        let cat: usize = self
            .categorical
            .iter()
            .map(|t| t.levels.len() + usize::from(t.has_other))
            .sum();
        num + cat
    }

    /// Build the design matrix (rows × [`Self::n_features`]) for any table holding the training
    /// columns, in any order (found by name); extra columns are ignored.
    pub fn transform(&self, input: &ModelInput<'_>) -> Result<Array2<f64>> {
        self.transform_rows(input, None)
    }

    /// [`Self::transform`] of the rows `rows` of `input` (all rows when `None`), in that order,
    /// without copying them first. A row named in an error is its place in `rows`.
    pub fn transform_rows(
        &self,
        input: &ModelInput<'_>,
        rows: Option<&[usize]>,
    ) -> Result<Array2<f64>> {
        if self.schema_version != PREPROCESSING_SCHEMA_VERSION {
            return Err(ModelsError::SchemaVersion {
                expected: PREPROCESSING_SCHEMA_VERSION,
                found: self.schema_version,
            });
        }
        let n = selected_rows(input.n_rows()?, rows)?;
        let source = |r: usize| rows.map_or(r, |rs| rs[r]);
        let num_idx = self
            .numeric
            .iter()
            .map(|t| find(input.numeric_names, &t.column))
            .collect::<Result<Vec<_>>>()?;
        let cat_codes = self
            .categorical
            .iter()
            .map(|t| {
                let j = find(&input.categorical.names, &t.column)?;
                let values = &input.categorical.values[j];
                match rows {
                    Some(rows) => self.encode_levels(t, rows.iter().map(|&i| &values[i])),
                    None => self.encode_levels(t, values.iter()),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let p = self.n_features();
        let mut buf = vec![0.0; n * p];
        // Each row's values as a slice: indexing the array per value cost more than the
        // arithmetic.
        let q = input.numeric.ncols();
        let raw = row_major_values(input.numeric);
        // Infinities are only flagged during the fill: a column-by-column search up front would
        // read the row-major matrix once per column.
        let saw_infinity = buf
            .par_chunks_mut(APPLY_CHUNK * p.max(1))
            .enumerate()
            .map(|(c, block)| {
                let mut infinite = false;
                for (r, row) in block.chunks_mut(p.max(1)).enumerate() {
                    let at = c * APPLY_CHUNK + r;
                    let i = source(at);
                    let values = &raw[i * q..(i + 1) * q];
                    let mut k = 0;
                    for (t, &j) in self.numeric.iter().zip(&num_idx) {
                        let v = values[j];
                        let missing = v.is_nan();
                        infinite |= v.is_infinite();
                        row[k] = if missing { 0.0 } else { (v - t.mean) / t.std };
                        k += 1;
                        if t.missing_indicator {
                            row[k] = if missing { 1.0 } else { 0.0 };
                            k += 1;
                        }
                    }
                    for (t, codes) in self.categorical.iter().zip(&cat_codes) {
                        if let Some(code) = codes[at] {
                            row[k + code as usize] = 1.0;
                        }
                        k += t.levels.len() + usize::from(t.has_other);
                    }
                }
                infinite
            })
            .reduce(|| false, |a, b| a || b);
        if saw_infinity {
            self.check_no_infinity(input, &num_idx, rows)?;
        }
        let out = Array2::from_shape_vec((n, p), buf).map_err(|e| ModelsError::Backend {
            library: "ndarray",
            message: e.to_string(),
        })?;
        Ok(out)
    }

    /// An error naming the first infinite value, in feature order then row order. Only called
    /// once one was seen: the column-by-column search reads a row-major matrix once per column.
    fn check_no_infinity(
        &self,
        input: &ModelInput<'_>,
        num_idx: &[usize],
        rows: Option<&[usize]>,
    ) -> Result<()> {
        for (t, &j) in self.numeric.iter().zip(num_idx) {
            let column = input.numeric.column(j);
            let n = rows.map_or(column.len(), <[usize]>::len);
            let value_at = |r: usize| column[rows.map_or(r, |rs| rs[r])];
            if let Some((row, value)) = (0..n)
                .map(|r| (r, value_at(r)))
                .find(|(_, v)| v.is_infinite())
            {
                return Err(ModelsError::NonFinite {
                    column: t.column.clone(),
                    row,
                    value,
                });
            }
        }
        Ok(())
    }

    /// Map each row's level to its position in the column's one-hot block (`None` = all zeros).
    fn encode_levels<'v>(
        &self,
        t: &CategoricalTransform,
        values: impl Iterator<Item = &'v String>,
    ) -> Result<Vec<Option<u32>>> {
        let index: HashMap<&str, u32> = t
            .levels
            .iter()
            .enumerate()
            .map(|(k, l)| (l.as_str(), k as u32))
            .collect();
        let other = if t.has_other {
            Some(t.levels.len() as u32)
        } else {
            index.get(OTHER_LEVEL).copied()
        };
        values
            .map(|v| match index.get(v.as_str()) {
                Some(&k) => Ok(Some(k)),
                None if self.strict => Err(ModelsError::UnseenLevel {
                    column: t.column.clone(),
                    level: v.clone(),
                }),
                None => Ok(other),
            })
            .collect()
    }
}

/// How many rows `rows` selects of a table of `n` (all when `None`); an index past the table is
/// the caller's error, not a panic.
fn selected_rows(n: usize, rows: Option<&[usize]>) -> Result<usize> {
    match rows {
        None => Ok(n),
        Some(rows) => match rows.iter().find(|&&i| i >= n) {
            Some(&i) => Err(ModelsError::LengthMismatch {
                what: "a selected row vs the table's rows",
                expected: n,
                found: i + 1,
            }),
            None => Ok(rows.len()),
        },
    }
}

/// Position of `name` in `names`, or an error naming the missing column.
fn find(names: &[String], name: &str) -> Result<usize> {
    names
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| ModelsError::MissingColumn {
            column: name.to_string(),
        })
}

fn check_unique<'a>(names: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name.as_str()) {
            return Err(ModelsError::DuplicateColumn {
                column: name.clone(),
            });
        }
    }
    Ok(())
}

/// Refuses a table no model can be fitted on: the first infinity or value beyond
/// [`MAX_MAGNITUDE`], in column order then row order, named by column and by its row in `x`
/// (NaN is a missing value, fine). Checked over the whole table before any split, so the row is
/// the row the caller knows.
pub fn check_fit_values(names: &[String], x: ArrayView2<'_, f64>) -> Result<()> {
    const ROWS: usize = 8192;
    let p = x.ncols();
    let starts: Vec<usize> = (0..x.nrows()).step_by(ROWS).collect();
    let per_chunk: Vec<Vec<Option<(usize, f64)>>> = starts
        .par_iter()
        .map(|&start| {
            let mut first = vec![None; p];
            let end = (start + ROWS).min(x.nrows());
            for (r, row) in x
                .slice(ndarray::s![start..end, ..])
                .rows()
                .into_iter()
                .enumerate()
            {
                for (j, &v) in row.iter().enumerate() {
                    if !(v.is_nan() || v.abs() <= MAX_MAGNITUDE) && first[j].is_none() {
                        first[j] = Some((start + r, v));
                    }
                }
            }
            first
        })
        .collect();
    for j in 0..p {
        if let Some((row, value)) = per_chunk.iter().find_map(|c| c[j]) {
            let column = names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("column {j}"));
            return Err(if value.is_infinite() {
                ModelsError::NonFinite { column, row, value }
            } else {
                ModelsError::TooLarge {
                    column,
                    row,
                    value,
                    limit: MAX_MAGNITUDE,
                }
            });
        }
    }
    Ok(())
}

/// Mean and standard deviation of every numeric column (NaN = missing, left out). The matrix is
/// row-major, so the sums run row by row over all columns at once (column by column they would
/// stride across millions of rows, a cache miss per value); each column's sum still adds its
/// values in row order.
fn fit_numeric(
    names: &[String],
    x: ndarray::ArrayView2<'_, f64>,
    rows: Option<&[usize]>,
) -> Result<Vec<NumericTransform>> {
    let p = names.len();
    // Columns are split into one group per thread; each group walks every row in order, so
    // each column's sums are added in the same order as by a single thread (same bits).
    let group = p.div_ceil(crate::parallel::threads()).max(1);
    let stats: Vec<ColumnStats> = (0..p)
        .step_by(group)
        .collect::<Vec<_>>()
        .into_par_iter()
        .flat_map_iter(|lo| column_stats(x, lo..(lo + group).min(p), rows))
        .collect();
    if let Some((j, (row, value))) = stats
        .iter()
        .enumerate()
        .find_map(|(j, s)| s.first_infinite.map(|f| (j, f)))
    {
        return Err(ModelsError::NonFinite {
            column: names[j].clone(),
            row,
            value,
        });
    }
    if let Some((j, (row, value))) = stats
        .iter()
        .enumerate()
        .find_map(|(j, s)| s.first_too_large.map(|f| (j, f)))
    {
        return Err(ModelsError::TooLarge {
            column: names[j].clone(),
            row,
            value,
            limit: MAX_MAGNITUDE,
        });
    }
    names
        .iter()
        .zip(&stats)
        .map(|(name, s)| numeric_transform(name, s))
        .collect()
}

/// The standardization of one column from its statistics.
fn numeric_transform(column: &str, s: &ColumnStats) -> Result<NumericTransform> {
    let std = if s.count > 0 {
        (s.ss / s.count as f64).sqrt()
    } else {
        0.0
    };
    // Many values near the magnitude limit can still overflow the sums: a standardization by an
    // infinite std would pass the raw values on to the solver.
    for (statistic, value) in [("mean", s.mean), ("standard deviation", std)] {
        if !value.is_finite() {
            return Err(ModelsError::NonFiniteStatistic {
                column: column.to_string(),
                statistic,
                value,
            });
        }
    }
    Ok(NumericTransform {
        column: column.to_string(),
        mean: s.mean,
        std: if std > 0.0 { std } else { 1.0 },
        missing_indicator: s.any_nan,
    })
}

/// One numeric column's training statistics.
struct ColumnStats {
    count: usize,
    mean: f64,
    /// Sum of squared deviations from the mean.
    ss: f64,
    any_nan: bool,
    first_infinite: Option<(usize, f64)>,
    /// The first finite value beyond [`MAX_MAGNITUDE`].
    first_too_large: Option<(usize, f64)>,
}

/// The values of `x` in row-major order: its own memory when it is laid out so (a table's
/// matrix is), else a copy.
fn row_major_values<'a>(x: ndarray::ArrayView2<'a, f64>) -> std::borrow::Cow<'a, [f64]> {
    match x.to_slice() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

/// The statistics of the columns `cols` of the row-major `x`: one row-wise pass for the counts
/// and sums, a second for the squared deviations (the one-pass formula loses digits on columns
/// like amounts with large means).
///
/// Each column's values are added in row order, as a plain loop would. A row with no infinite
/// or too-large value (nearly every row) takes a branch-free step: a missing value adds `+0.0`,
/// which leaves a sum unchanged (a sum that starts at `+0.0` is never `-0.0`), so the columns
/// vectorize; any other row takes the per-value rules.
fn column_stats(
    x: ndarray::ArrayView2<'_, f64>,
    cols: std::ops::Range<usize>,
    rows: Option<&[usize]>,
) -> Vec<ColumnStats> {
    let n = rows.map_or(x.nrows(), <[usize]>::len);
    let p = x.ncols();
    let data = row_major_values(x);
    let row_at = |r: usize| {
        let start = rows.map_or(r, |rs| rs[r]) * p;
        &data[start + cols.start..start + cols.end]
    };
    let width = cols.len();
    let mut count = vec![0usize; width];
    let mut sum = vec![0.0; width];
    let mut any_nan = vec![false; width];
    let mut first_infinite: Vec<Option<(usize, f64)>> = vec![None; width];
    let mut first_too_large: Vec<Option<(usize, f64)>> = vec![None; width];
    for row in 0..n {
        let values = row_at(row);
        // NaN compares false: only infinite and too-large values leave the fast step.
        if !values.iter().any(|v| v.abs() > MAX_MAGNITUDE) {
            for (j, &v) in values.iter().enumerate() {
                let nan = v.is_nan();
                any_nan[j] |= nan;
                count[j] += usize::from(!nan);
                sum[j] += if nan { 0.0 } else { v };
            }
            continue;
        }
        for (j, &v) in values.iter().enumerate() {
            if v.is_nan() {
                any_nan[j] = true;
            } else if v.is_infinite() {
                first_infinite[j].get_or_insert((row, v));
            } else {
                if v.abs() > MAX_MAGNITUDE {
                    first_too_large[j].get_or_insert((row, v));
                }
                count[j] += 1;
                sum[j] += v;
            }
        }
    }
    let mean: Vec<f64> = (0..width)
        .map(|j| {
            if count[j] > 0 {
                sum[j] / count[j] as f64
            } else {
                0.0
            }
        })
        .collect();
    let mut ss = vec![0.0; width];
    for row in 0..n {
        for ((s, &v), &m) in ss.iter_mut().zip(row_at(row)).zip(&mean) {
            // A square is never -0.0, so a sum of them starts and stays at +0.0 or above.
            let d = v - m;
            *s += if v.is_nan() { 0.0 } else { d * d };
        }
    }
    (0..width)
        .map(|j| ColumnStats {
            count: count[j],
            mean: mean[j],
            ss: ss[j],
            any_nan: any_nan[j],
            first_infinite: first_infinite[j],
            first_too_large: first_too_large[j],
        })
        .collect()
}

fn fit_categorical(
    name: &str,
    col: &[String],
    rows: Option<&[usize]>,
    cap: usize,
) -> CategoricalTransform {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let values: Box<dyn Iterator<Item = &String>> = match rows {
        Some(rows) => Box::new(rows.iter().map(|&i| &col[i])),
        None => Box::new(col.iter()),
    };
    for v in values {
        *counts.entry(v.as_str()).or_insert(0) += 1;
    }
    let mut by_freq: Vec<(&str, usize)> = counts.into_iter().collect();
    by_freq.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let pooled = by_freq.len() > cap;
    let levels: Vec<String> = by_freq
        .iter()
        .take(cap)
        .map(|(l, _)| (*l).to_string())
        .collect();
    let has_other = pooled && !levels.iter().any(|l| l == OTHER_LEVEL);
    CategoricalTransform {
        column: name.to_string(),
        levels,
        has_other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, ShapeBuilder};

    /// A column's statistics as bits: count, mean, sum of squares, any missing, the first
    /// infinite and the first too-large value.
    type Bits = (
        usize,
        u64,
        u64,
        bool,
        Option<(usize, u64)>,
        Option<(usize, u64)>,
    );

    /// The column statistics value by value, as they were before the branch-free step.
    fn plain_column_stats(
        x: ndarray::ArrayView2<'_, f64>,
        cols: std::ops::Range<usize>,
        rows: Option<&[usize]>,
    ) -> Vec<Bits> {
        let n = rows.map_or(x.nrows(), <[usize]>::len);
        let row_at = |r: usize| x.row(rows.map_or(r, |rs| rs[r]));
        cols.map(|j| {
            let (mut count, mut sum, mut any_nan) = (0usize, 0.0f64, false);
            let (mut inf, mut large) = (None, None);
            for r in 0..n {
                let v = row_at(r)[j];
                if v.is_nan() {
                    any_nan = true;
                } else if v.is_infinite() {
                    inf.get_or_insert((r, v.to_bits()));
                } else {
                    if v.abs() > MAX_MAGNITUDE {
                        large.get_or_insert((r, v.to_bits()));
                    }
                    count += 1;
                    sum += v;
                }
            }
            let mean = if count > 0 { sum / count as f64 } else { 0.0 };
            let mut ss = 0.0f64;
            for r in 0..n {
                let v = row_at(r)[j];
                if !v.is_nan() {
                    ss += (v - mean) * (v - mean);
                }
            }
            (count, mean.to_bits(), ss.to_bits(), any_nan, inf, large)
        })
        .collect()
    }

    #[test]
    fn column_statistics_have_the_plain_loops_bits() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let (n, p) = (700, 9);
        let mut x = Array2::from_shape_fn((n, p), |(_, j)| match j {
            0 => rng.gen_range(-1e6..1e6),
            1 => (rng.gen_range(0..5) as f64) * 0.1,
            _ => rng.gen_range(-3.0..3.0) * 10f64.powi(j as i32),
        });
        // Missing values, signed zeros, an all-missing and an all-(-0.0) column.
        for r in (0..n).step_by(7) {
            x[[r, 2]] = f64::NAN;
            x[[r, 3]] = -0.0;
        }
        for r in 0..n {
            x[[r, 4]] = f64::NAN;
            x[[r, 5]] = -0.0;
        }
        let sample: Vec<usize> = (0..n).rev().step_by(3).collect();
        let check = |x: &Array2<f64>| {
            for rows in [None, Some(&sample[..])] {
                for cols in [0..p, 2..6, 5..9] {
                    let fast: Vec<_> = column_stats(x.view(), cols.clone(), rows)
                        .iter()
                        .map(|s| {
                            (
                                s.count,
                                s.mean.to_bits(),
                                s.ss.to_bits(),
                                s.any_nan,
                                s.first_infinite.map(|(r, v)| (r, v.to_bits())),
                                s.first_too_large.map(|(r, v)| (r, v.to_bits())),
                            )
                        })
                        .collect();
                    assert_eq!(fast, plain_column_stats(x.view(), cols, rows));
                }
            }
        };
        check(&x);
        // Rows with an infinite or a too-large value take the per-value rules.
        x[[10, 6]] = f64::INFINITY;
        x[[20, 7]] = -2e150;
        x[[30, 7]] = f64::NEG_INFINITY;
        check(&x);
        // A column-major array is read in row order all the same.
        let columns = Array2::from_shape_fn((n, p).f(), |(r, j)| x[[r, j]]);
        check(&columns);
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Some rows of a table, in place: the fit and design matrix of those rows, in the order
    /// given; a level seen only outside them is not a level; an index past the table an error.
    #[test]
    fn selected_rows_fit_and_transform_as_their_copy() {
        let nn = names(&["a"]);
        let x = array![[1.0], [2.0], [4.0]];
        let cat = CategoricalColumns {
            names: names(&["k"]),
            values: vec![names(&["u", "v", "w"])],
        };
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        let params = PreprocessParams::default();
        let p = params.fit_rows(&input, Some(&[2, 0])).unwrap();
        assert_eq!(p.numeric[0].mean, 2.5);
        assert_eq!(p.numeric[0].std, 1.5);
        assert_eq!(p.categorical[0].levels, names(&["u", "w"]));
        let z = p.transform_rows(&input, Some(&[0, 2])).unwrap();
        assert_eq!(z, array![[-1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]);
        assert!(matches!(
            params.fit_rows(&input, Some(&[0, 3])),
            Err(ModelsError::LengthMismatch { found: 4, .. })
        ));
        assert!(p.transform_rows(&input, Some(&[3])).is_err());
    }

    #[test]
    fn standardizes_with_population_std_and_imputes_nan() {
        let nn = names(&["a", "b", "c"]);
        let x = array![[1.0, f64::NAN, 5.0], [2.0, 4.0, 5.0], [3.0, 6.0, 5.0]];
        let cat = CategoricalColumns::default();
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        let p = PreprocessParams::default().fit(&input).unwrap();
        assert_eq!(p.feature_names(), names(&["a", "b", "b_missing", "c"]));
        // a: mean 2, population std sqrt(2/3).
        let sd = (2.0f64 / 3.0).sqrt();
        assert!((p.numeric[0].std - sd).abs() < 1e-15);
        // b: mean over non-missing = 5, std 1; c: constant → std 1.
        assert_eq!(p.numeric[1].mean, 5.0);
        assert_eq!(p.numeric[2].std, 1.0);
        let z = p.transform(&input).unwrap();
        assert!((z[[0, 0]] + 1.0 / sd).abs() < 1e-12);
        assert_eq!(z.row(0).to_vec()[1..].to_vec(), vec![0.0, 1.0, 0.0]);
        assert_eq!(z.row(2).to_vec()[1..].to_vec(), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn one_hot_caps_levels_ties_by_name_and_pools_other() {
        let cat = CategoricalColumns {
            names: names(&["k"]),
            values: vec![names(&["b", "a", "c", "c", "d", "a", "b", "e"])],
        };
        let nn: Vec<String> = vec![];
        let x = Array2::<f64>::zeros((8, 0));
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        let params = PreprocessParams {
            level_cap: 2,
            strict: false,
        };
        let p = params.fit(&input).unwrap();
        // a, b, c each twice: tie broken by name → a, b kept; c, d, e pooled.
        assert_eq!(p.feature_names(), names(&["k=a", "k=b", "k=other"]));
        assert_eq!(
            p.schema()[2].transform,
            FeatureTransform::Other { column: "k".into() }
        );
        assert_eq!(p.n_features(), 3);
        let score = CategoricalColumns {
            names: names(&["k"]),
            values: vec![names(&["a", "zzz", "d"])],
        };
        let x3 = Array2::<f64>::zeros((3, 0));
        let z = p
            .transform(&ModelInput {
                numeric_names: &nn,
                numeric: x3.view(),
                categorical: &score,
            })
            .unwrap();
        assert_eq!(z, array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]);
        let strict = Preprocessing {
            strict: true,
            ..p.clone()
        };
        let err = strict
            .transform(&ModelInput {
                numeric_names: &nn,
                numeric: x3.view(),
                categorical: &score,
            })
            .unwrap_err();
        assert_eq!(
            err,
            ModelsError::UnseenLevel {
                column: "k".into(),
                level: "zzz".into()
            }
        );
    }

    #[test]
    fn columns_found_by_name_and_missing_column_named() {
        let nn = names(&["a", "b"]);
        let x = array![[1.0, 10.0], [3.0, 30.0]];
        let cat = CategoricalColumns {
            names: names(&["k"]),
            values: vec![names(&["u", "v"])],
        };
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        let p = PreprocessParams::default().fit(&input).unwrap();
        let z = p.transform(&input).unwrap();
        let swapped_names = names(&["b", "extra", "a"]);
        let xs = array![[10.0, 7.0, 1.0], [30.0, 7.0, 3.0]];
        let z2 = p
            .transform(&ModelInput {
                numeric_names: &swapped_names,
                numeric: xs.view(),
                categorical: &cat,
            })
            .unwrap();
        assert_eq!(z, z2);
        let only_b = names(&["b"]);
        let xb = array![[10.0], [30.0]];
        let err = p
            .transform(&ModelInput {
                numeric_names: &only_b,
                numeric: xb.view(),
                categorical: &cat,
            })
            .unwrap_err();
        assert_eq!(err, ModelsError::MissingColumn { column: "a".into() });
        let json = serde_json::to_string(&p).unwrap();
        let back: Preprocessing = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn infinity_is_an_error_and_zero_cap_rejected() {
        let nn = names(&["a"]);
        let x = array![[1.0], [f64::INFINITY]];
        let cat = CategoricalColumns::default();
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        assert!(matches!(
            PreprocessParams::default().fit(&input),
            Err(ModelsError::NonFinite { row: 1, .. })
        ));
        assert!(PreprocessParams {
            level_cap: 0,
            strict: false
        }
        .check()
        .is_err());
    }

    #[test]
    fn a_value_whose_square_overflows_is_refused_by_column_and_row() {
        let nn = names(&["age", "income"]);
        let x = array![[30.0, 1e4], [40.0, 1e200], [50.0, -2e151]];
        let cat = CategoricalColumns::default();
        let input = ModelInput {
            numeric_names: &nn,
            numeric: x.view(),
            categorical: &cat,
        };
        let err = PreprocessParams::default().fit(&input).unwrap_err();
        assert_eq!(
            err,
            ModelsError::TooLarge {
                column: "income".into(),
                row: 1,
                value: 1e200,
                limit: MAX_MAGNITUDE,
            }
        );
        assert!(err.to_string().contains("`income`"), "{err}");
        assert_eq!(check_fit_values(&nn, x.view()), Err(err));
        let mut big = ndarray::Array2::<f64>::zeros((20_000, 2));
        big[[15_000, 0]] = f64::NAN;
        big[[19_000, 0]] = -1e160;
        big[[9_000, 1]] = f64::INFINITY;
        assert!(matches!(
            check_fit_values(&nn, big.view()),
            Err(ModelsError::TooLarge { row: 19_000, ref column, .. }) if column == "age"
        ));
        // At the limit the column is fine.
        let ok = array![[1.0, MAX_MAGNITUDE], [2.0, -MAX_MAGNITUDE]];
        let fitted = PreprocessParams::default()
            .fit(&ModelInput {
                numeric: ok.view(),
                ..input
            })
            .unwrap();
        assert!(fitted.numeric[1].std.is_finite());
    }

    #[test]
    fn an_overflowing_standard_deviation_is_an_error_not_a_std_of_one() {
        let stats = |mean: f64, ss: f64| ColumnStats {
            count: 10,
            mean,
            ss,
            any_nan: false,
            first_infinite: None,
            first_too_large: None,
        };
        let err = numeric_transform("income", &stats(1e149, f64::INFINITY)).unwrap_err();
        assert!(
            matches!(&err, ModelsError::NonFiniteStatistic { column, statistic: "standard deviation", .. } if column == "income"),
            "{err}"
        );
        assert!(numeric_transform("income", &stats(f64::INFINITY, 1.0)).is_err());
        // A constant column still passes through centred (std 1).
        assert_eq!(numeric_transform("c", &stats(5.0, 0.0)).unwrap().std, 1.0);
    }

    #[test]
    fn transform_names_the_first_infinity_in_feature_then_row_order() {
        let nn = names(&["a", "b"]);
        let train = array![[1.0, 2.0], [3.0, 5.0]];
        let cat = CategoricalColumns::default();
        let fitted = PreprocessParams::default()
            .fit(&ModelInput {
                numeric_names: &nn,
                numeric: train.view(),
                categorical: &cat,
            })
            .unwrap();
        // More rows than one parallel block, infinities in both columns; `a`'s comes later.
        let mut x = ndarray::Array2::<f64>::zeros((APPLY_CHUNK + 10, 2));
        x[[APPLY_CHUNK + 3, 0]] = f64::NEG_INFINITY;
        x[[5, 1]] = f64::INFINITY;
        let err = fitted
            .transform(&ModelInput {
                numeric_names: &nn,
                numeric: x.view(),
                categorical: &cat,
            })
            .unwrap_err();
        assert!(
            matches!(&err, ModelsError::NonFinite { column, row, .. } if column == "a" && *row == APPLY_CHUNK + 3),
            "{err}"
        );
    }
}
