//! The export query: transactions → each customer's purchase days → the features the models
//! use → standardised inputs, logistic scores, k-means distances and RFM ranks → one row per
//! customer.
//!
//! It follows the Rust builders step by step so the numbers agree: a day's lines are summed
//! first, amounts are summed as the same fixed-point integers (rounded half to even), gaps and
//! windows are whole days, and every division is written in the order Rust evaluates it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::dialect::Dialect;
use super::profit::{ProfitSql, TableColumns};
use super::SqlError;
use crate::features::profit::ProfitParams;
use crate::features::{
    attribute_sql, AttributeKind, AttributePart, AttributeSql, Family, FeatureDoc, SqlForm,
    TimeUnit, CATALOG, DAYS_PER_YEAR, FIXED_POINT_SCALE,
};
use crate::models::artifact::{ArtifactModel, ModelArtifact};
use crate::models::classifier::FittedModel;
use crate::models::logistic::LogisticModel;
use crate::segment::{RfmColumns, SegmentScheme, SegmentationModel};

/// What to export.
pub struct Export<'a> {
    pub dialect: Dialect,
    /// The as-of day written into the query's `params` (the user may edit it there).
    pub as_of: NaiveDate,
    /// The unit of the `btyd` durations the models were trained with.
    pub time_unit: TimeUnit,
    /// The transactions table (or view) the query reads, as the engine names it.
    pub transactions: &'a str,
    /// The customers table (or view) the `attributes` features read, as the engine names it.
    pub customers: &'a str,
    /// The contacts table the `profit` family's contact costs read.
    pub contacts: &'a str,
    /// The product cost table the `profit` family reads when `[profit] product_costs` is set.
    pub product_costs: &'a str,
    /// The optional columns the tables have (the `profit` family's pricing reads them).
    pub columns: &'a TableColumns,
    /// The job's `[profit]` settings, which price the `profit` family (None: it is refused).
    pub profit: Option<&'a ProfitParams>,
    /// The kept levels of the text customer columns the models' features were built with
    /// (their training reports' `feature_levels`).
    pub levels: &'a BTreeMap<String, Vec<String>>,
    /// Each model and the prefix of its score column (`<name>_score`).
    pub models: Vec<(String, &'a ModelArtifact)>,
    pub segmentation: Option<&'a SegmentationModel>,
    pub scheme: &'a SegmentScheme,
}

/// One logistic model checked for export.
struct Logistic<'a> {
    name: &'a str,
    model: &'a LogisticModel,
    /// (column, mean, std, design index) of each standardised input.
    inputs: Vec<(&'a str, f64, f64, usize)>,
}

/// The query, as text.
pub fn export(e: &Export<'_>) -> Result<String, SqlError> {
    let models = e
        .models
        .iter()
        .map(|(name, a)| logistic(name, a))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(s) = e.segmentation {
        check_segmentation(s)?;
    }
    let rfm = RfmColumns::default();
    let mut wanted: Vec<&str> = vec![&rfm.recency, &rfm.frequency, &rfm.monetary];
    for m in &models {
        wanted.extend(m.inputs.iter().map(|i| i.0));
    }
    if let Some(s) = e.segmentation {
        wanted.extend(s.columns());
    }
    let (wanted, attribute_names) = split_attributes(&wanted);
    let features = resolve(&wanted)?;
    let profit = profit_sql(e, &features)?;
    let attributes = Attributes::new(&attribute_names, e.levels);
    let d = e.dialect;
    let mut q = header(e, &models, !attributes.features.is_empty(), profit.as_ref());
    q.push_str("WITH\n");
    q.push_str(&params(e));
    q.push_str(&purchase_days(e, profit.as_ref()));
    match &profit {
        Some(p) => {
            q.push_str(&aggregates(&features, "purchases"));
            q.push_str(&p.ctes(d));
        }
        None => q.push_str(&aggregates(&features, "agg")),
    }
    q.push_str(&attributes.columns(d, e.customers));
    q.push_str(&feature_columns(
        d,
        e.time_unit,
        &features,
        &attributes,
        profit.as_ref(),
    ));
    q.push_str(&inputs(d, &models, e.segmentation));
    q.push_str(&scored(d, &models, e.segmentation, &rfm));
    let mut names: Vec<&str> = features.iter().map(|f| f.0).collect();
    names.extend(attributes.features.iter().map(|f| f.0.as_str()));
    q.push_str(&final_select(d, &names, &models, e.segmentation, e.scheme));
    Ok(q)
}

/// The model's logistic coefficients and standardised inputs, or why it cannot be exported.
fn logistic<'a>(name: &'a str, a: &'a ModelArtifact) -> Result<Logistic<'a>, SqlError> {
    let model = match &a.model {
        ArtifactModel::Single {
            model: FittedModel::Logistic(m),
        } => m,
        ArtifactModel::Single { .. } => {
            return Err(SqlError::NotLogistic {
                model: name.to_string(),
                found: "a forest".into(),
            })
        }
        ArtifactModel::Uplift { .. } => {
            return Err(SqlError::NotLogistic {
                model: name.to_string(),
                found: "an uplift (two-model)".into(),
            })
        }
    };
    let p = &a.preprocessing;
    if let Some(c) = p.categorical.first() {
        return Err(SqlError::Categorical {
            model: name.to_string(),
            column: c.column.clone(),
        });
    }
    let finite = |field: String, value: f64| {
        if value.is_finite() {
            Ok(())
        } else {
            Err(SqlError::NonFinite {
                model: name.to_string(),
                field,
                value,
            })
        }
    };
    finite("intercept".into(), model.intercept)?;
    let mut inputs = Vec::new();
    let mut k = 0;
    for t in &p.numeric {
        finite(format!("the mean of `{}`", t.column), t.mean)?;
        if !(t.std.is_finite() && t.std > 0.0) {
            return Err(SqlError::ZeroScale {
                model: name.to_string(),
                column: t.column.clone(),
                std: t.std,
            });
        }
        inputs.push((t.column.as_str(), t.mean, t.std, k));
        // A missing indicator is 0 for every exported row: the query computes every feature.
        k += 1 + usize::from(t.missing_indicator);
    }
    if model.coefficients.len() != k {
        return Err(SqlError::CoefficientCount {
            model: name.to_string(),
            expected: k,
            found: model.coefficients.len(),
        });
    }
    for (j, c) in model.coefficients.iter().enumerate() {
        finite(format!("coefficient {j}"), *c)?;
    }
    Ok(Logistic {
        name,
        model,
        inputs,
    })
}

fn check_segmentation(s: &SegmentationModel) -> Result<(), SqlError> {
    s.check().map_err(|e| SqlError::Segmentation(e.to_string()))
}

/// The wanted features split into the catalogue's and the `attributes` family's (customer
/// columns: named after the data, so not in the catalogue by name), each once, in order.
fn split_attributes<'w>(wanted: &[&'w str]) -> (Vec<&'w str>, Vec<&'w str>) {
    let mut seen = BTreeSet::new();
    wanted
        .iter()
        .copied()
        .filter(|name| seen.insert(*name))
        .partition(|name| catalog_entry(name).is_some_and(|d| d.family != Family::Attributes))
}

/// The catalogue entry of a feature: by name, or by the pattern of a family whose names hold
/// data (`share_category_<level>`); the `attributes` family's patterns name nothing to match.
fn catalog_entry(name: &str) -> Option<&'static FeatureDoc> {
    CATALOG.iter().find(|d| d.name == name).or_else(|| {
        CATALOG.iter().find(|d| {
            let Some((prefix, rest)) = d.name.split_once('<') else {
                return false;
            };
            let suffix = rest.split_once('>').map_or("", |(_, s)| s);
            !prefix.is_empty() && name.starts_with(prefix) && name.ends_with(suffix)
        })
    })
}

/// The `attributes` features: each customer column they read once (`a0`, `a1`, … in the
/// query), the features over them.
struct Attributes {
    /// Each column and what it is read as.
    columns: Vec<(String, AttributeKind)>,
    /// Each feature, the index of its column and which part of it the feature is.
    features: Vec<(String, usize, AttributePart)>,
}

impl Attributes {
    fn new(names: &[&str], levels: &BTreeMap<String, Vec<String>>) -> Attributes {
        let mut a = Attributes {
            columns: Vec::new(),
            features: Vec::new(),
        };
        for &name in names {
            let AttributeSql { column, kind, part } = attribute_sql(name, levels);
            let i = match a.columns.iter().position(|c| c.0 == column && c.1 == kind) {
                Some(i) => i,
                None => {
                    a.columns.push((column, kind));
                    a.columns.len() - 1
                }
            };
            a.features.push((name.to_string(), i, part));
        }
        a
    }

    /// `attrs`: `agg` with every customer column read (NULL when missing), and `fill<i>`: the
    /// median of each number and date over the population, as the Rust builder imputes.
    fn columns(&self, d: Dialect, customers: &str) -> String {
        if self.columns.is_empty() {
            return String::new();
        }
        let mut s = String::from("attrs AS (\n  SELECT agg.*");
        for (i, (column, kind)) in self.columns.iter().enumerate() {
            let x = format!("c.{}", d.ident(column));
            let value = match kind {
                AttributeKind::Number => d.to_double(&x),
                AttributeKind::Date { years } => {
                    let date = format!("CAST({x} AS DATE)");
                    let days = d.to_double(&d.days_between(&date, "p.as_of"));
                    let days = if *years {
                        format!("{days} / {}", d.constant(DAYS_PER_YEAR))
                    } else {
                        days
                    };
                    format!("CASE WHEN {date} <= p.as_of THEN {days} END")
                }
                AttributeKind::Text => format!("NULLIF(TRIM(CAST({x} AS {})), '')", d.text()),
            };
            let _ = write!(s, ",\n    {value} AS a{i}");
        }
        let _ = write!(
            s,
            "\n  FROM agg CROSS JOIN params AS p\n  LEFT JOIN {customers} AS c ON CAST(c.customer_id AS {}) = agg.customer_id\n),\n",
            d.text()
        );
        for i in self.imputed() {
            // The median: ranks m/2 and m/2 + 1 of m known values (one rank when m is odd),
            // interpolated as the builder does; 0 when no value is known.
            let _ = write!(
                s,
                "fill{i} AS (
  SELECT COALESCE(CASE WHEN MIN(v) = MAX(v) THEN MIN(v) ELSE {half} * (MAX(v) - MIN(v)) + MIN(v) END, {zero}) AS fill{i}
  FROM (
    SELECT a{i} AS v, ROW_NUMBER() OVER (ORDER BY a{i}) AS r, COUNT(*) OVER () AS m
    FROM attrs WHERE a{i} IS NOT NULL
  ) AS known{i}
  WHERE 2 * r BETWEEN m AND m + 2
),
",
                half = d.constant(0.5),
                zero = d.constant(0.0)
            );
        }
        s
    }

    /// The columns whose values are imputed (numbers and dates).
    fn imputed(&self) -> impl Iterator<Item = usize> + '_ {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.1 != AttributeKind::Text)
            .map(|(i, _)| i)
    }

    /// What `features` selects from: `agg`, or `attrs` with every fill.
    fn source(&self) -> String {
        if self.columns.is_empty() {
            return "agg".into();
        }
        let mut s = String::from("attrs");
        for i in self.imputed() {
            let _ = write!(s, " CROSS JOIN fill{i}");
        }
        s
    }

    /// One feature's expression over `attrs` and the fills.
    fn expr(d: Dialect, i: usize, part: &AttributePart) -> String {
        let flag = |condition: String| {
            format!(
                "CASE WHEN {condition} THEN {} ELSE {} END",
                d.constant(1.0),
                d.constant(0.0)
            )
        };
        let literal = |l: &str| format!("'{}'", l.replace('\'', "''"));
        match part {
            AttributePart::Value => format!("COALESCE(a{i}, fill{i})"),
            AttributePart::Missing => flag(format!("a{i} IS NULL")),
            AttributePart::Level(level) => flag(format!("a{i} = {}", literal(level))),
            AttributePart::Other(kept) if kept.is_empty() => flag(format!("a{i} IS NOT NULL")),
            AttributePart::Other(kept) => {
                let kept: Vec<String> = kept.iter().map(|l| literal(l)).collect();
                flag(format!(
                    "a{i} IS NOT NULL AND a{i} NOT IN ({})",
                    kept.join(", ")
                ))
            }
        }
    }
}

/// The SQL form of every wanted feature, in catalogue order, each once; a feature without one
/// is an error naming it (and its family, when it is a catalogue feature).
fn resolve(wanted: &[&str]) -> Result<Vec<(&'static str, SqlForm)>, SqlError> {
    let mut positions = BTreeSet::new();
    for &name in wanted {
        let found = CATALOG.iter().position(|d| d.name == name);
        match found.map(|i| (i, CATALOG[i].sql)) {
            Some((i, Some(_))) => {
                positions.insert(i);
            }
            _ => {
                return Err(SqlError::NoSqlForm {
                    feature: name.to_string(),
                    family: catalog_entry(name).map(|d| d.family.name()),
                })
            }
        }
    }
    Ok(positions
        .into_iter()
        .filter_map(|i| CATALOG[i].sql.map(|f| (CATALOG[i].name, f)))
        .collect())
}

/// The `profit` family's pricing when a wanted feature is one of its figures; an error naming
/// the feature when there are no `[profit]` settings to price it.
fn profit_sql<'a>(
    e: &Export<'a>,
    features: &[(&str, SqlForm)],
) -> Result<Option<ProfitSql<'a>>, SqlError> {
    let Some(&(name, _)) = features.iter().find(|f| matches!(f.1, SqlForm::Profit(_))) else {
        return Ok(None);
    };
    let params = e.profit.ok_or_else(|| SqlError::NoProfitSettings {
        feature: name.to_string(),
    })?;
    Ok(Some(ProfitSql {
        params,
        columns: e.columns,
        contacts: e.contacts,
        product_costs: e.product_costs,
    }))
}

fn header(
    e: &Export<'_>,
    models: &[Logistic<'_>],
    reads_customers: bool,
    profit: Option<&ProfitSql<'_>>,
) -> String {
    let names: Vec<&str> = models.iter().map(|m| m.name).collect();
    let mut h = format!(
        "-- Generated by bullseye {} (`bullseye export sql --dialect {}`).\n",
        env!("CARGO_PKG_VERSION"),
        e.dialect
    );
    h.push_str(&format!(
        "-- Reads `{}` (customer_id, order_date, amount: the canonical transactions table) and\n",
        e.transactions
    ));
    if reads_customers {
        h.push_str(&format!(
            "-- `{}` (customer_id and the customer columns the attributes features read), and\n",
            e.customers
        ));
    }
    for table in profit.map(ProfitSql::reads).unwrap_or_default() {
        h.push_str(&format!("-- {table}, and\n"));
    }
    h.push_str("-- returns one row per customer with a purchase on or before the as-of day: the features,\n");
    if names.is_empty() {
        h.push_str("-- ");
    } else {
        h.push_str(&format!("-- the scores of {}, ", names.join(", ")));
    }
    if e.segmentation.is_some() {
        h.push_str("the k-means cluster, ");
    }
    h.push_str("the RFM scores and segment.\n");
    h.push_str("-- The as-of day is the date in `params` below: edit it to score another day.\n");
    h
}

fn params(e: &Export<'_>) -> String {
    format!(
        "params AS (\n  SELECT CAST('{}' AS DATE) AS as_of\n),\n",
        e.as_of.format("%Y-%m-%d")
    )
}

/// Lines up to the as-of day (days before it as `ago`, amounts as fixed-point integers), summed
/// per day, with each day's gap to the previous one, its order and its gap's rank.
/// With the `profit` family, each line also carries what prices it (see [`ProfitSql`]).
fn purchase_days(e: &Export<'_>, profit: Option<&ProfitSql<'_>>) -> String {
    let d = e.dialect;
    let (priced, join) =
        profit.map_or_else(Default::default, |p| (p.lines_columns(d), p.lines_join(d)));
    let order_date = "CAST(t.order_date AS DATE)";
    let fixed = d.round_half_even(&format!(
        "{} * {}",
        d.to_double("t.amount"),
        d.constant(FIXED_POINT_SCALE)
    ));
    format!(
        "lines AS (
  SELECT CAST(t.customer_id AS {text}) AS customer_id,
    {ago} AS ago,
    CAST({fixed} AS {bigint}) AS fx{priced}
  FROM {table} AS t CROSS JOIN params AS p{join}
  WHERE {order_date} <= p.as_of
),
days AS (
  SELECT customer_id, ago, SUM(fx) AS fx FROM lines GROUP BY customer_id, ago
),
gaps AS (
  SELECT customer_id, ago, fx,
    CAST(LAG(ago) OVER (PARTITION BY customer_id ORDER BY ago DESC) - ago AS {bigint}) AS gap,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ago DESC) AS seq,
    COUNT(*) OVER (PARTITION BY customer_id) AS n
  FROM days
),
ranked AS (
  SELECT customer_id, ago, fx, gap, seq, n,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY CASE WHEN gap IS NULL THEN 1 ELSE 0 END, gap) AS gap_rank
  FROM gaps
),
",
        text = d.text(),
        bigint = d.bigint(),
        ago = d.days_between(order_date, "p.as_of"),
        table = e.transactions,
    )
}

/// The windows (days) whose occasions and spend the features read, and those whose previous
/// window `trend` reads.
fn windows(features: &[(&str, SqlForm)]) -> (BTreeSet<i32>, BTreeSet<i32>) {
    let mut windows = BTreeSet::new();
    let mut previous = BTreeSet::new();
    for (_, f) in features {
        match *f {
            SqlForm::Occasions { window: Some(w) } | SqlForm::Spend { window: Some(w) } => {
                windows.insert(w);
            }
            SqlForm::Trend { window } => {
                windows.insert(window);
                previous.insert(window);
            }
            _ => {}
        }
    }
    (windows, previous)
}

/// Per customer: the sums every feature is written from (integers: exact in every engine), as
/// the CTE `name`.
fn aggregates(features: &[(&str, SqlForm)], name: &str) -> String {
    let (windows, previous) = windows(features);
    let mut s = format!(
        "{name} AS (
  SELECT customer_id,
    COUNT(*) AS n,
    MIN(ago) AS last_ago,
    MAX(ago) AS first_ago,
    SUM(fx) AS total_fx,
    SUM(CASE WHEN seq = 1 THEN fx ELSE 0 END) AS first_fx,
",
    );
    for w in &windows {
        let _ = writeln!(
            s,
            "    SUM(CASE WHEN ago < {w} THEN 1 ELSE 0 END) AS occ_{w},\n    SUM(CASE WHEN ago < {w} THEN fx ELSE 0 END) AS fx_{w},"
        );
    }
    for w in &previous {
        let _ = writeln!(
            s,
            "    SUM(CASE WHEN ago >= {w} AND ago < {} THEN fx ELSE 0 END) AS fx_before_{w},",
            2 * w
        );
    }
    // The median gap: ranks k/2 and k/2 + 1 of k = n − 1 gaps (one rank when k is odd),
    // written without an integer division (`/` of integers is exact in some engines only).
    let median_rank = "gap IS NOT NULL AND 2 * gap_rank BETWEEN n - 1 AND n + 1";
    let _ = write!(
        s,
        "    SUM(COALESCE(gap, 0)) AS gap_sum,
    SUM(COALESCE(gap * gap, 0)) AS gap_sq_sum,
    MIN(CASE WHEN {median_rank} THEN gap END) AS gap_lo,
    MAX(CASE WHEN {median_rank} THEN gap END) AS gap_hi
  FROM ranked
  GROUP BY customer_id
),
"
    );
    s
}

/// One feature's expression over `agg`, in the order of operations of the Rust builder.
fn feature_expr(
    d: Dialect,
    unit: TimeUnit,
    form: SqlForm,
    profit: Option<&ProfitSql<'_>>,
) -> String {
    let dbl = |x: &str| d.to_double(x);
    let c = |x: f64| d.constant(x);
    let money = |fx: &str| format!("{} / {}", dbl(fx), c(FIXED_POINT_SCALE));
    let per_unit = |days: String, per: bool| {
        if per && unit.days() != 1.0 {
            format!("{days} / {}", c(unit.days()))
        } else {
            days
        }
    };
    let with_gap = |x: String| format!("CASE WHEN n > 1 THEN {x} ELSE {} END", c(0.0));
    let repeats = dbl("n - 1");
    let gap_mean = d.divide(&dbl("gap_sum"), &repeats);
    match form {
        SqlForm::DaysSinceLast => dbl("last_ago"),
        SqlForm::DaysSinceFirst { per_unit: per } => per_unit(dbl("first_ago"), per),
        SqlForm::FirstToLast { per_unit: per } => per_unit(dbl("first_ago - last_ago"), per),
        SqlForm::Occasions { window: None } => dbl("n"),
        SqlForm::Occasions { window: Some(w) } => dbl(&format!("occ_{w}")),
        SqlForm::Spend { window: None } => money("total_fx"),
        SqlForm::Spend { window: Some(w) } => money(&format!("fx_{w}")),
        SqlForm::SpendPerOccasion => d.divide(&money("total_fx"), &dbl("n")),
        SqlForm::RepeatOccasions => repeats,
        SqlForm::RepeatSpendPerOccasion => {
            with_gap(d.divide(&money("total_fx - first_fx"), &repeats))
        }
        SqlForm::Trend { window } => {
            let (recent, before) = (
                money(&format!("fx_{window}")),
                money(&format!("fx_before_{window}")),
            );
            let denominator = format!("ABS({recent}) + ABS({before})");
            format!(
                "CASE WHEN {denominator} > {zero} THEN {} ELSE {zero} END",
                d.divide(&format!("({recent}) - ({before})"), &denominator),
                zero = c(0.0)
            )
        }
        SqlForm::GapDefined => format!("CASE WHEN n > 1 THEN {} ELSE {} END", c(1.0), c(0.0)),
        SqlForm::GapMean => with_gap(gap_mean),
        SqlForm::GapMedian => with_gap(format!(
            "{lo} + ({hi} - {lo}) * {half}",
            lo = dbl("gap_lo"),
            hi = dbl("gap_hi"),
            half = c(0.5)
        )),
        SqlForm::GapStd => {
            // Population variance of k gaps from exact sums: (k·Σg² − (Σg)²) / k².
            let variance = d.divide(
                &format!(
                    "{repeats} * {} - {} * {}",
                    dbl("gap_sq_sum"),
                    dbl("gap_sum"),
                    dbl("gap_sum")
                ),
                &format!("{repeats} * {repeats}"),
            );
            with_gap(format!("SQRT(GREATEST({variance}, {}))", c(0.0)))
        }
        SqlForm::Overdue => with_gap(d.divide(&dbl("last_ago"), &gap_mean)),
        // `profit_sql` gives the pricing whenever a profit figure is wanted.
        SqlForm::Profit(form) => profit.map_or_else(|| "NULL".into(), |p| p.expr(d, form)),
    }
}

fn feature_columns(
    d: Dialect,
    unit: TimeUnit,
    features: &[(&str, SqlForm)],
    attributes: &Attributes,
    profit: Option<&ProfitSql<'_>>,
) -> String {
    let mut s = String::from("features AS (\n  SELECT customer_id");
    for (name, form) in features {
        let _ = write!(
            s,
            ",\n    {} AS {}",
            feature_expr(d, unit, *form, profit),
            d.ident(name)
        );
    }
    for (name, i, part) in &attributes.features {
        let _ = write!(
            s,
            ",\n    {} AS {}",
            Attributes::expr(d, *i, part),
            d.ident(name)
        );
    }
    let _ = write!(s, "\n  FROM {}\n),\n", attributes.source());
    s
}

/// The features plus each model's linear predictor and each clustered column transformed.
fn inputs(d: Dialect, models: &[Logistic<'_>], seg: Option<&SegmentationModel>) -> String {
    let mut s = String::from("inputs AS (\n  SELECT features.*");
    for m in models {
        let terms: Vec<String> = m
            .inputs
            .iter()
            .map(|&(column, mean, std, k)| {
                format!(
                    "{} * (({} - {}) / {})",
                    d.constant(m.model.coefficients[k]),
                    d.ident(column),
                    d.constant(mean),
                    d.constant(std)
                )
            })
            .collect();
        let linear = if terms.is_empty() {
            d.constant(0.0)
        } else {
            terms.join("\n      + ")
        };
        let _ = write!(
            s,
            ",\n    ({linear})\n      + {} AS {}",
            d.constant(m.model.intercept),
            d.ident(&format!("eta_{}", m.name))
        );
    }
    if let Some(seg) = seg {
        for (j, t) in seg.transforms.iter().enumerate() {
            let x = d.ident(&t.column);
            let x = if t.log1p { d.signed_log1p(&x) } else { x };
            let _ = write!(
                s,
                ",\n    ({x} - {}) / {} AS seg_x{j}",
                d.constant(t.mean),
                d.constant(t.std)
            );
        }
    }
    s.push_str("\n  FROM features\n),\n");
    s
}

/// Scores, squared distances to every centroid and the RFM quintile ranks.
fn scored(
    d: Dialect,
    models: &[Logistic<'_>],
    seg: Option<&SegmentationModel>,
    rfm: &RfmColumns,
) -> String {
    let mut s = String::from("scored AS (\n  SELECT inputs.*");
    for m in models {
        let _ = write!(
            s,
            ",\n    {} AS {}",
            d.sigmoid(&d.ident(&format!("eta_{}", m.name))),
            d.ident(&format!("{}_score", m.name))
        );
    }
    if let Some(seg) = seg {
        for (k, centroid) in seg.centroids.rows().into_iter().enumerate() {
            let terms: Vec<String> = centroid
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let z = format!("(seg_x{j} - {})", d.constant(*c));
                    format!("{z} * {z}")
                })
                .collect();
            let _ = write!(s, ",\n    {} AS dist{k}", terms.join(" + "));
        }
    }
    // Min-rank quintiles, worst first: 1 + floor(5 × (rank − 1) / n) (see segment::rfm).
    let quintile = |column: &str, worst_first: &str| {
        format!(
            "1 + CAST(FLOOR({} / {}) AS {})",
            d.to_double(&format!(
                "5 * (RANK() OVER (ORDER BY {} {worst_first}) - 1)",
                d.ident(column)
            )),
            d.to_double("COUNT(*) OVER ()"),
            d.bigint()
        )
    };
    let _ = write!(
        s,
        ",\n    {} AS rfm_r,\n    {} AS rfm_f,\n    {} AS rfm_m\n  FROM inputs\n)\n",
        quintile(&rfm.recency, "DESC"),
        quintile(&rfm.frequency, "ASC"),
        quintile(&rfm.monetary, "ASC"),
    );
    s
}

/// The nearest centroid, ties to the lowest index (as the Rust argmin): the first `k` whose
/// distance is at most every later one's.
fn nearest(k: usize) -> String {
    if k < 2 {
        return "0".into();
    }
    let mut s = String::from("CASE");
    for i in 0..k - 1 {
        let conditions: Vec<String> = (i + 1..k).map(|j| format!("dist{i} <= dist{j}")).collect();
        let _ = write!(s, " WHEN {} THEN {i}", conditions.join(" AND "));
    }
    let _ = write!(s, " ELSE {} END", k - 1);
    s
}

/// The named segment: the scheme's rules in order, the first match wins.
fn segment(scheme: &SegmentScheme) -> String {
    let mut s = String::from("CASE");
    for rule in &scheme.rules {
        let mut conditions = vec![
            format!("rfm_r BETWEEN {} AND {}", rule.r.lo, rule.r.hi),
            format!("rfm_f BETWEEN {} AND {}", rule.f.lo, rule.f.hi),
        ];
        if let Some(m) = rule.m {
            conditions.push(format!("rfm_m BETWEEN {} AND {}", m.lo, m.hi));
        }
        let _ = write!(
            s,
            " WHEN {} THEN '{}'",
            conditions.join(" AND "),
            rule.name.replace('\'', "''")
        );
    }
    let _ = write!(s, " ELSE '{}' END", crate::segment::UNASSIGNED);
    s
}

fn final_select(
    d: Dialect,
    features: &[&str],
    models: &[Logistic<'_>],
    seg: Option<&SegmentationModel>,
    scheme: &SegmentScheme,
) -> String {
    let mut columns = vec!["customer_id".to_string()];
    columns.extend(features.iter().map(|name| d.ident(name)));
    columns.extend(models.iter().map(|m| d.ident(&format!("{}_score", m.name))));
    if let Some(seg) = seg {
        columns.push(format!("{} AS {}", nearest(seg.k), d.ident("cluster")));
    }
    let text = |x: &str| format!("CAST({x} AS {})", d.text());
    columns.extend([
        "rfm_r".into(),
        "rfm_f".into(),
        "rfm_m".into(),
        format!(
            "CONCAT({}, {}, {}) AS rfm_cell",
            text("rfm_r"),
            text("rfm_f"),
            text("rfm_m")
        ),
        format!("{} AS rfm_segment", segment(scheme)),
    ]);
    format!(
        "SELECT\n  {}\nFROM scored\nORDER BY customer_id\n",
        columns.join(",\n  ")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static SCHEME: LazyLock<SegmentScheme> = LazyLock::new(SegmentScheme::default);

    /// The bundled response model cut to its first `keep` inputs (the purchase families come
    /// first), with `edit` applied to its JSON.
    fn bundled_model(keep: usize, edit: impl Fn(&mut serde_json::Value)) -> ModelArtifact {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/response/v0001/model.json"
        );
        let text = std::fs::read_to_string(path).expect("bundled model");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        v.as_object_mut().expect("object").remove("checksum");
        let numeric = v["preprocessing"]["numeric"]
            .as_array_mut()
            .expect("numeric");
        numeric.truncate(keep);
        let coefficients = &mut v["model"]["model"]["coefficients"];
        coefficients["dim"] = serde_json::json!([keep]);
        coefficients["data"]
            .as_array_mut()
            .expect("data")
            .truncate(keep);
        edit(&mut v);
        serde_json::from_value(v).expect("an artifact")
    }

    /// The kept levels of the bundled models' text columns (their metrics.json).
    fn bundled_levels() -> BTreeMap<String, Vec<String>> {
        let levels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        BTreeMap::from([
            ("gender".to_string(), levels(&["F", "M"])),
            (
                "region".to_string(),
                levels(&["south", "central", "west", "east", "north"]),
            ),
        ])
    }

    fn query(d: Dialect, a: &ModelArtifact) -> Result<String, SqlError> {
        export(&export_of(d, a))
    }

    fn export_of(d: Dialect, a: &ModelArtifact) -> Export<'_> {
        static LEVELS: LazyLock<BTreeMap<String, Vec<String>>> = LazyLock::new(bundled_levels);
        static COLUMNS: LazyLock<TableColumns> = LazyLock::new(TableColumns::default);
        Export {
            dialect: d,
            as_of: NaiveDate::from_ymd_opt(1998, 6, 30).expect("date"),
            time_unit: TimeUnit::Weeks,
            transactions: "transactions",
            customers: "shop.customers",
            contacts: "contacts",
            product_costs: "product_costs",
            columns: &COLUMNS,
            profit: None,
            levels: &LEVELS,
            models: vec![("response".into(), a)],
            segmentation: None,
            scheme: &SCHEME,
        }
    }

    /// Text outside single-quoted literals.
    fn unquoted(q: &str) -> String {
        q.split('\'').step_by(2).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn every_dialect_renders_the_traps_away() {
        let a = bundled_model(42, |_| {});
        for &d in Dialect::ALL {
            let q = query(d, &a).expect("exports");
            let code: String = unquoted(&q)
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            // No bare decimal literal: every constant is a typed double from a string.
            let bytes = code.as_bytes();
            let bare = (1..bytes.len().saturating_sub(1)).find(|&i| {
                bytes[i] == b'.' && bytes[i - 1].is_ascii_digit() && bytes[i + 1].is_ascii_digit()
            });
            assert_eq!(
                bare,
                None,
                "{d}: a bare decimal near {:?}",
                bare.map(|i| &code[i.saturating_sub(20)..i + 5])
            );
            assert!(!code.contains("LOG("), "{d}: LOG is log10 in some engines");
            assert!(code.contains("EXP(-"), "{d}: the safe sigmoid");
            assert!(!code.contains("EXP(eta"), "{d}: names are quoted");
            let other_double = if d == Dialect::Postgres {
                "AS DOUBLE)"
            } else {
                "DOUBLE PRECISION"
            };
            assert!(!code.contains(other_double), "{d}");
            assert!(code.contains(&format!("AS {})", d.double())), "{d}");
            let foreign_quote = if matches!(d, Dialect::Spark | Dialect::BigQuery) {
                '"'
            } else {
                '`'
            };
            assert!(
                !code.contains(foreign_quote),
                "{d}: identifiers take {}",
                d.ident("")
            );
            assert!(
                q.contains(&d.days_between("CAST(t.order_date AS DATE)", "p.as_of")),
                "{d}"
            );
            // Weekly btyd durations divide by 7 days.
            assert!(q.contains(&format!("/ {}", d.constant(7.0))), "{d}");
        }
    }

    #[test]
    fn a_zero_scale_or_a_non_logistic_model_is_refused() {
        let a = bundled_model(21, |v| v["preprocessing"]["numeric"][3]["std"] = 0.0.into());
        let e = query(Dialect::DuckDb, &a).unwrap_err().to_string();
        assert!(
            e.contains("standardisation of `monetary_avg` has std 0"),
            "{e}"
        );
        let a = bundled_model(21, |v| {
            v["preprocessing"]["numeric"]
                .as_array_mut()
                .expect("numeric")
                .pop();
        });
        let e = query(Dialect::DuckDb, &a).unwrap_err().to_string();
        assert!(e.contains("21 coefficients for 20 inputs"), "{e}");
        let a = bundled_model(21, |v| {
            v["preprocessing"]["numeric"][20]["column"] = "share_category_rock".into();
        });
        let e = query(Dialect::DuckDb, &a).unwrap_err().to_string();
        assert!(
            e.starts_with("feature `share_category_rock` (family `mix`) has no SQL form"),
            "{e}"
        );
    }

    #[test]
    fn customer_attributes_read_the_customers_table_with_the_kept_levels() {
        let q = query(Dialect::Postgres, &bundled_model(42, |_| {})).expect("exports");
        assert!(
            q.contains(
                "LEFT JOIN shop.customers AS c ON CAST(c.customer_id AS TEXT) = agg.customer_id"
            ),
            "{q}"
        );
        // Dates as days to the as-of day (a later date is missing), birth dates in years.
        assert!(q.contains("CASE WHEN CAST(c.\"signup_date\" AS DATE) <= p.as_of THEN CAST((p.as_of - CAST(c.\"signup_date\" AS DATE)) AS DOUBLE PRECISION) END AS a0"), "{q}");
        assert!(
            q.contains("AS DOUBLE PRECISION) / CAST('365.25' AS DOUBLE PRECISION) END AS a1"),
            "{q}"
        );
        // Every number and date imputed with its median; text is not.
        assert_eq!(q.matches(" AS fill").count(), 5, "{q}");
        assert!(
            q.contains("NULLIF(TRIM(CAST(c.\"gender\" AS TEXT)), '') AS a5"),
            "{q}"
        );
        assert!(
            q.contains("COALESCE(a0, fill0) AS \"days_since_signup\""),
            "{q}"
        );
        let flag = |c: &str, name: &str| {
            format!("CASE WHEN {c} THEN CAST('1.0' AS DOUBLE PRECISION) ELSE CAST('0.0' AS DOUBLE PRECISION) END AS \"{name}\"")
        };
        for (c, name) in [
            ("a0 IS NULL", "days_since_signup_missing"),
            ("a5 = 'F'", "gender_f"),
            (
                "a6 IS NOT NULL AND a6 NOT IN ('south', 'central', 'west', 'east', 'north')",
                "region_other",
            ),
            ("a6 IS NULL", "region_missing"),
        ] {
            assert!(q.contains(&flag(c, name)), "{name}: {q}");
        }
        assert!(q.contains("FROM attrs CROSS JOIN fill0 CROSS JOIN fill1 CROSS JOIN fill2 CROSS JOIN fill3 CROSS JOIN fill4\n"), "{q}");
        // Without attributes the query reads no customers table.
        let q = query(Dialect::Postgres, &bundled_model(21, |_| {})).expect("exports");
        assert!(!q.contains("customers"), "{q}");
    }

    /// The bundled model with one input renamed to a `profit` figure.
    fn profit_model() -> ModelArtifact {
        bundled_model(21, |v| {
            v["preprocessing"]["numeric"][20]["column"] = "net_profit_12m".into();
        })
    }

    #[test]
    fn profit_figures_need_the_jobs_profit_settings() {
        let e = query(Dialect::DuckDb, &profit_model()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("feature `net_profit_12m` is priced by a job's `[profit]` settings"),
            "{e}"
        );
        let settings: ProfitParams = toml::from_str(
            "margin = { default = 0.25 }\norder_cost = 4.0\ncontact_cost = { email = 0.01 }",
        )
        .expect("settings");
        let a = profit_model();
        let q = export(&Export {
            profit: Some(&settings),
            ..export_of(Dialect::DuckDb, &a)
        })
        .expect("exports");
        assert!(q.contains("FROM purchases JOIN profit AS pr"), "{q}");
        assert!(
            q.contains("-- `contacts` (customer_id, contact_date, channel"),
            "{q}"
        );
        // Net profit in the builder's order: gross − orders − returns − contacts.
        assert!(q.contains("CAST(p_rev12_fx AS DOUBLE) / CAST('10000.0' AS DOUBLE) - p_cog12 - CAST('4.0' AS DOUBLE) * CAST(p_orders12 AS DOUBLE) - CAST('0.0' AS DOUBLE) * CAST(p_returns12 AS DOUBLE) - CASE WHEN p_unpriced = 0 THEN p_contacts12 END AS \"net_profit_12m\""), "{q}");
    }

    #[test]
    fn nearest_centroid_breaks_ties_to_the_lowest_index() {
        assert_eq!(
            nearest(3),
            "CASE WHEN dist0 <= dist1 AND dist0 <= dist2 THEN 0 WHEN dist1 <= dist2 THEN 1 ELSE 2 END"
        );
        assert_eq!(nearest(1), "0");
    }

    #[test]
    fn a_feature_without_an_sql_form_is_named_with_its_family() {
        let err = resolve(&["replen_due_in_days_coffee"]).unwrap_err();
        assert!(err.to_string().starts_with(
            "feature `replen_due_in_days_coffee` (family `replenishment`) has no SQL form"
        ));
        // Names of other families' patterns are theirs, anything else is a customer column.
        let (catalogue, attributes) =
            split_attributes(&["gender_f", "share_channel_web", "age_years", "frequency"]);
        assert_eq!(catalogue, ["share_channel_web", "frequency"]);
        assert_eq!(attributes, ["gender_f", "age_years"]);
    }

    #[test]
    fn features_come_out_once_in_catalogue_order() {
        let f = resolve(&["frequency", "recency_days", "frequency", "trend_90d"]).unwrap();
        let names: Vec<&str> = f.iter().map(|x| x.0).collect();
        assert_eq!(names, ["recency_days", "frequency", "trend_90d"]);
        let (w, before) = windows(&f);
        assert_eq!(
            (w.into_iter().collect::<Vec<_>>(), before.len()),
            (vec![90], 1)
        );
    }
}
