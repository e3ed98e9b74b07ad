//! Features: purchase histories (and customer attributes) → one row of named numbers per
//! customer, as of a date.
//!
//! "As of D" means the observation ends at the end of day D: rows dated after D are left out,
//! and every duration is measured to D, so the same code builds training rows at past dates and
//! scoring rows today without leaking the future.
//!
//! How: the lines are keyed by an integer per customer, sorted by customer and day and held as
//! plain vectors once ([`History`], `lines`); a customer's lines up to any date are then a prefix
//! of its slice. Every family is a fold over that prefix (`purchase`, `mix`) or a lookup by key
//! (`attributes`), so one pass per customer, in parallel over customers, writes a whole row —
//! no group-by, no hashing of text, no join, and any mix of (customer, date) pairs (training
//! rows: every contact at the day before it) costs what its lines cost. Sums are exact
//! (fixed-point amounts, whole days), so results do not depend on order or threads. Every
//! family has one shape (`family::Definition`) and one line in the `families!` table below; its
//! definitions sit in its file, gathered in `catalog`, and are checked against hand-computed
//! values and an independent polars formulation in the tests. A frame output has `customer_id` first, then `Float64`
//! columns in catalogue order, rows sorted by id.

mod attributes;
mod catalog;
mod family;
mod key;
mod levels;
mod lines;
mod matrix;
mod mix;
mod personal;
pub mod profit;
mod purchase;
pub mod replenishment;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::OnceLock;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use family::{Columns, Customer, Definition, LineColumns, Prepared, Scratch};
use lines::{LineParts, Lines};

pub use attributes::{attribute_sql, AttributeKind, AttributePart, AttributeSql, DAYS_PER_YEAR};
pub use catalog::{render_catalog, FeatureDoc, ProfitForm, SqlForm, CATALOG};
pub use levels::top_levels;
pub(crate) use lines::{fixed_point, from_fixed, line_amount, FIXED_POINT_SCALE};
pub use lines::{CodedLines, CODED_MISSING_DAY};
pub(crate) use matrix::row_major;
pub use matrix::{float_columns, numeric_columns, to_matrix};
pub use personal::{
    excluded_note, personal_columns, personal_input, text_sample, ExcludedColumn, PersonalData,
};

/// The registration table of the feature families: one line per family, `Variant =>` its
/// [`Definition`](family::Definition). Everything else about a family (its name, parsing, its
/// catalogue entries and column order, the errors and help naming the families) is read from
/// here; the order is the output column order.
macro_rules! families {
    ($($variant:ident => $definition:expr,)*) => {
        /// A family of features, switchable on its own.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Family {
            $($variant,)*
        }

        impl Family {
            /// Every family, in output order.
            pub const ALL: &'static [Family] = &[$(Family::$variant,)*];

            fn definition(self) -> &'static dyn Definition {
                match self {
                    $(Family::$variant => &$definition,)*
                }
            }
        }
    };
}

families! {
    Rfm => purchase::Purchase::Rfm,
    Btyd => purchase::Purchase::Btyd,
    Windows => purchase::Purchase::Windows,
    Cycle => purchase::Purchase::Cycle,
    Mix => mix::Mix,
    Attributes => attributes::AttributesFamily,
    Replenishment => replenishment::Replenishment,
    Profit => profit::Profit,
}

impl Family {
    pub fn name(self) -> &'static str {
        self.definition().name()
    }

    pub fn parse(name: &str) -> Result<Family, FeatureError> {
        Family::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name.trim())
            .ok_or_else(|| FeatureError::UnknownFamily(name.trim().to_string()))
    }

    /// Built when no family is named (and its columns are there).
    pub fn by_default(self) -> bool {
        self.definition().by_default()
    }

    fn docs(self) -> &'static [catalog::Doc] {
        self.definition().docs()
    }

    /// Every family's name, as a list for a sentence: "a, b or c".
    pub fn names_listed() -> String {
        let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }

    /// The help of a `--families` flag.
    pub fn help() -> String {
        let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
        let optional: Vec<&str> = Family::ALL
            .iter()
            .filter(|f| !f.by_default())
            .map(|f| f.name())
            .collect();
        let mut help = format!("Comma-separated families: {}", names.join(","));
        if !optional.is_empty() {
            help.push_str(&format!(" ({} only when named)", optional.join(", ")));
        }
        help.push_str(" [default: all available]");
        help
    }
}

/// The unit of the `btyd` durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    #[default]
    Days,
    Weeks,
}

impl TimeUnit {
    /// Days per unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    pub fn parse(s: &str) -> Result<TimeUnit, FeatureError> {
        match s {
            "days" | "day" | "d" => Ok(TimeUnit::Days),
            "weeks" | "week" | "w" => Ok(TimeUnit::Weeks),
            other => Err(FeatureError::UnknownTimeUnit(other.to_string())),
        }
    }
}

/// Errors of the feature builders.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("unknown feature family `{}` (expected {})", .0, Family::names_listed())]
    UnknownFamily(String),
    #[error("unknown time unit `{0}` (expected days or weeks)")]
    UnknownTimeUnit(String),
    #[error("feature family `{family}` needs the `{column}` column, which the {table} table does not have")]
    MissingColumn {
        family: &'static str,
        table: &'static str,
        column: &'static str,
    },
    #[error("customer attribute `{0}` has the name of a feature; rename it in the config")]
    NameClash(String),
    #[error("the transactions table has no rows")]
    NoTransactions,
    #[error("feature family `{0}` was not prepared with these purchase lines; this is a bug")]
    NotPrepared(&'static str),
    #[error("no customer has a purchase on or before {as_of}")]
    NoCustomers { as_of: NaiveDate },
    #[error(
        "customer `{customer_id}`: its amounts are too large to sum exactly (beyond ±922 trillion in all); check the amounts' unit"
    )]
    AmountOverflow { customer_id: String },
    #[error("feature family `profit` needs a `[profit]` table in the job or the ingest config (its margins and costs)")]
    ProfitNotConfigured,
    #[error("`[profit]`: {0}")]
    Profit(String),
    #[error("building features: {}", .0.to_string().lines().next().unwrap_or_default())]
    Polars(#[from] PolarsError),
}

/// What to build.
#[derive(Debug, Clone)]
pub struct FeatureParams {
    /// Families to build; `None` = every family the available columns allow.
    pub families: Option<Vec<Family>>,
    pub time_unit: TimeUnit,
    /// Most levels kept per categorical column (the rest pooled as `other`).
    pub level_cap: usize,
    /// Fixed levels per categorical column (e.g. a model's training levels), overriding the
    /// levels found in the data so that schemas agree across dates.
    pub levels: BTreeMap<String, Vec<String>>,
    /// Customer columns kept out of the features besides the personal data found
    /// ([`personal_columns`]): the job's `[features] exclude`, `--exclude`.
    pub exclude: Vec<String>,
    /// Margins and costs of the `profit` family (the job's `[profit]`).
    pub profit: Option<profit::ProfitParams>,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams {
            families: None,
            time_unit: TimeUnit::Days,
            level_cap: 10,
            levels: BTreeMap::new(),
            exclude: Vec::new(),
            profit: None,
        }
    }
}

impl FeatureParams {
    /// The families to build given the columns at hand: the requested ones (an error when one
    /// lacks its columns), or every family that can be built.
    pub fn resolve_families(
        &self,
        transactions: &DataFrame,
        customers: Option<&DataFrame>,
    ) -> Result<Vec<Family>, FeatureError> {
        self.resolve_for(transactions, customers.is_some())
    }

    /// Whether `family` is built when no family is named: the default ones, and `profit` once
    /// its margins are given.
    fn unnamed_default(&self, family: Family) -> bool {
        family.by_default() || (family == Family::Profit && self.profit.is_some())
    }

    /// [`FeatureParams::resolve_families`] knowing only whether there is a customers table.
    fn resolve_for(
        &self,
        transactions: &DataFrame,
        has_customers: bool,
    ) -> Result<Vec<Family>, FeatureError> {
        let lacks = |f: &Family| f.definition().lacks(transactions, has_customers);
        match &self.families {
            None => Ok(Family::ALL
                .iter()
                .copied()
                .filter(|f| self.unnamed_default(*f) && lacks(f).is_none())
                .collect()),
            Some(list) => {
                if let Some((f, (table, column))) = list.iter().find_map(|f| Some((f, lacks(f)?))) {
                    return Err(FeatureError::MissingColumn {
                        family: f.name(),
                        table,
                        column,
                    });
                }
                let mut v = list.clone();
                v.sort();
                v.dedup();
                Ok(v)
            }
        }
    }
}

/// Builds one row per customer with at least one purchase on or before `as_of`.
///
/// `transactions` and `customers` are canonical tables from ingest.
pub fn build(
    transactions: &DataFrame,
    customers: Option<&DataFrame>,
    as_of: NaiveDate,
    params: &FeatureParams,
) -> Result<DataFrame, FeatureError> {
    History::new(transactions, customers, params)?.build(as_of, params)
}

/// [`build`]'s rows for the customers in `ids` only (rows of other customers left out). One-off
/// form of [`History::build_for`].
pub fn build_for(
    transactions: &DataFrame,
    customers: Option<&DataFrame>,
    as_of: NaiveDate,
    params: &FeatureParams,
    ids: &Series,
) -> Result<DataFrame, FeatureError> {
    History::new(transactions, customers, params)?.build_for(as_of, params, ids)
}

/// Purchase lines keyed and sorted by customer and day once (`lines::Lines`), for any number of
/// feature builds over the same transactions: the features of everyone today, and the training
/// rows of every contact date (each date's contacted customers). A build reads each wanted
/// customer's lines up to its date — a prefix of the customer's slice.
pub struct History {
    /// The families the lines were prepared for, each with its state over them.
    families: Vec<(Family, Box<dyn Prepared>)>,
    lines: Lines,
    /// Id of every key.
    ids: Vec<String>,
    /// Every key, in id order (the output row order).
    by_id: Vec<u32>,
    /// Key of every id, made on first use (`build_for` and `rows_at` need it).
    key_of: OnceLock<KeyIndex>,
    /// Customer columns left out of the features (personal data, `exclude`).
    excluded: Vec<ExcludedColumn>,
    /// How `[profit] product_costs` priced the lines (when it names a table).
    cost_tally: Option<profit::CostTally>,
}

/// A [`History`] from the transactions in pieces (the pieces of one file, in order, as ingest
/// validates a large file): each piece is keyed, coded and reduced to its lines (~21 bytes each)
/// as it arrives, so the text of the whole table never exists at once. Pushing a table in pieces
/// gives the same `History` as pushing it whole.
pub struct HistoryBuilder {
    params: FeatureParams,
    with_customers: bool,
    /// The families (resolved on the first piece's columns) and the lines so far.
    parts: Option<(Vec<Family>, LineParts)>,
    /// The contacts history, for the `profit` family's contact costs.
    contacts: Option<profit::Contacts>,
    /// How `[profit] product_costs` priced the lines so far (when it names a table).
    cost_tally: Option<profit::CostTally>,
}

impl HistoryBuilder {
    /// `with_customers`: a customers table will be given to [`HistoryBuilder::finish`].
    pub fn new(params: &FeatureParams, with_customers: bool) -> HistoryBuilder {
        HistoryBuilder {
            params: params.clone(),
            with_customers,
            parts: None,
            contacts: None,
            cost_tally: None,
        }
    }

    /// Adds contacts (a canonical contacts table: the contacts file, the ledger's sends): the
    /// `profit` family counts what each contact cost, on or before the as-of day like every line.
    pub fn contacts(&mut self, contacts: &DataFrame) -> Result<(), FeatureError> {
        self.contacts
            .get_or_insert_with(Default::default)
            .push(contacts)
    }

    /// Adds the next rows of the transactions (a canonical table or a piece of one).
    pub fn push(&mut self, transactions: &DataFrame) -> Result<(), FeatureError> {
        let costs = match &self.params.profit {
            Some(p) => p.product_cost_table()?,
            None => None,
        };
        let priced = match costs {
            Some(costs) => Some(costs.fill(
                transactions,
                self.cost_tally.get_or_insert_with(Default::default),
            )?),
            None => None,
        };
        let transactions = priced.as_ref().unwrap_or(transactions);
        let (_, lines) = match &mut self.parts {
            Some(parts) => parts,
            None => {
                let parts = self.prepare(transactions)?;
                self.parts.insert(parts)
            }
        };
        lines.push(transactions)
    }

    /// The start of lines built from ingest's coded path, for transactions with the columns
    /// of `schema` (no rows): `None` when the lines need what only a frame gives (costs from
    /// `unit_cost` or a product-cost table). Nothing is pushed to this builder until
    /// [`HistoryBuilder::adopt_coded`].
    pub fn begin_coded(&self, schema: &DataFrame) -> Result<Option<CodedBuild>, FeatureError> {
        if self.parts.is_some() {
            return Ok(None);
        }
        if let Some(p) = &self.params.profit {
            if p.product_cost_table()?.is_some() {
                return Ok(None);
            }
        }
        let (families, parts) = self.prepare(schema)?;
        if parts.reads().1 {
            return Ok(None);
        }
        Ok(Some(CodedBuild { families, parts }))
    }

    /// Takes the lines of a finished coded build: `ids` of its keys, `levels` of its
    /// categorical columns (in [`CodedBuild::categorical`] order).
    pub fn adopt_coded(
        &mut self,
        mut build: CodedBuild,
        ids: Vec<String>,
        levels: Vec<Vec<String>>,
    ) {
        build.parts.set_levels(ids, levels);
        self.parts = Some((build.families, build.parts));
    }

    /// The families and the empty lines of the columns of the first piece.
    fn prepare(&self, transactions: &DataFrame) -> Result<(Vec<Family>, LineParts), FeatureError> {
        let families = self.params.resolve_for(transactions, self.with_customers)?;
        let columns = families
            .iter()
            .map(|f| f.definition().line_columns(transactions))
            .fold(LineColumns::default(), LineColumns::union);
        let parts = LineParts::new(columns.categorical, columns.discount);
        let parts = if columns.cost {
            parts.with_cost()
        } else {
            parts
        };
        Ok((families, parts))
    }

    /// The history of every piece pushed; `customers` for the attributes family.
    pub fn finish(self, customers: Option<&DataFrame>) -> Result<History, FeatureError> {
        let Some((families, parts)) = self.parts else {
            return Err(FeatureError::NoTransactions);
        };
        let (lines, ids) = parts.finish()?;
        let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
        by_id.par_sort_unstable_by(|a, b| ids[*a as usize].cmp(&ids[*b as usize]));
        // Personal data is dropped before any family sees the customers table.
        let excluded = customers
            .map(|c| personal_columns(c, &self.params.exclude))
            .unwrap_or_default();
        let screened = customers.map(|c| c.drop_many(excluded.iter().map(|e| e.column.as_str())));
        let source = family::Source {
            ids: &ids,
            customers: screened.as_ref(),
            contacts: self.contacts.as_ref(),
        };
        let families = families
            .into_iter()
            .map(|f| Ok((f, f.definition().prepare(&source)?)))
            .collect::<Result<_, FeatureError>>()?;
        Ok(History {
            families,
            lines,
            ids,
            by_id,
            key_of: OnceLock::new(),
            excluded,
            cost_tally: self.cost_tally,
        })
    }
}

/// Lines being built from ingest's coded path ([`HistoryBuilder::begin_coded`]).
pub struct CodedBuild {
    families: Vec<Family>,
    parts: LineParts,
}

impl CodedBuild {
    /// The categorical columns the lines read, in the order [`CodedLines::codes`] gives them.
    pub fn categorical(&self) -> Vec<&'static str> {
        self.parts.categorical()
    }

    /// Whether the lines read `discount`.
    pub fn reads_discount(&self) -> bool {
        self.parts.reads().0
    }

    /// Room for `lines` lines in all, allocated exactly.
    pub fn reserve_total(&mut self, lines: usize) {
        self.parts.reserve_total(lines);
    }

    /// Adds the next lines, in file order; `id_of` names a key in an error.
    pub fn push(
        &mut self,
        lines: &CodedLines<'_>,
        id_of: &dyn Fn(u32) -> String,
    ) -> Result<(), FeatureError> {
        self.parts.push_coded(lines, id_of)
    }
}

/// Customers per parallel task of a build.
const ROWS_PER_TASK: usize = 2048;

impl History {
    /// The id of every customer with a line, whatever its date (in key order).
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Consumes the history, returning [`History::ids`].
    pub fn into_ids(self) -> Vec<String> {
        self.ids
    }

    /// The customer columns left out of the features, and why.
    pub fn excluded(&self) -> &[ExcludedColumn] {
        &self.excluded
    }

    /// How `[profit] product_costs` priced the lines, when it names a table.
    pub fn cost_tally(&self) -> Option<&profit::CostTally> {
        self.cost_tally.as_ref()
    }

    /// Whether a customer column is left out of the features.
    pub fn excludes(&self, column: &str) -> bool {
        self.excluded.iter().any(|e| e.column == column)
    }

    pub fn new(
        transactions: &DataFrame,
        customers: Option<&DataFrame>,
        params: &FeatureParams,
    ) -> Result<History, FeatureError> {
        let mut builder = HistoryBuilder::new(params, customers.is_some());
        builder.push(transactions)?;
        builder.finish(customers)
    }

    /// The kept levels of the categorical mix columns as of `as_of` (see `mix::levels`): fix them
    /// in `params.levels` to give builds at several dates the same columns.
    pub fn mix_levels(
        &self,
        as_of: NaiveDate,
        params: &FeatureParams,
    ) -> BTreeMap<String, Vec<String>> {
        let day = epoch_day(as_of);
        self.families
            .iter()
            .filter(|(f, _)| *f == Family::Mix)
            .flat_map(|(_, p)| p.levels(&self.lines, day, &[], params))
            .collect()
    }

    /// [`build`] with these lines: every customer with a purchase on or before `as_of`.
    pub fn build(
        &self,
        as_of: NaiveDate,
        params: &FeatureParams,
    ) -> Result<DataFrame, FeatureError> {
        let day = epoch_day(as_of);
        let rows: Vec<(u32, Range<usize>)> = self
            .by_id
            .iter()
            .map(|&k| (k, self.lines.until(k as usize, day)))
            .filter(|(_, r)| !r.is_empty())
            .collect();
        if rows.is_empty() {
            return Err(FeatureError::NoCustomers { as_of });
        }
        // Everyone with a purchase by then has a row: they are the population.
        let population: Vec<u32> = rows.iter().map(|(k, _)| *k).collect();
        self.assemble(&rows, as_of, params, &population)
    }

    /// [`build`]'s rows for the customers in `ids` only (rows of other customers left out),
    /// computed from those customers' purchases alone: the purchase and mix families of a
    /// customer depend on no other customer once the categorical levels are fixed (they are
    /// found over everyone's lines up to the date, as in `build`). The attributes family imputes
    /// with medians over every customer with a purchase, so it still sees that whole population.
    pub fn build_for(
        &self,
        as_of: NaiveDate,
        params: &FeatureParams,
        ids: &Series,
    ) -> Result<DataFrame, FeatureError> {
        let day = epoch_day(as_of);
        let key_of = self.key_of();
        let mut wanted = vec![false; self.ids.len()];
        for id in ids.cast(&DataType::String)?.str()?.iter().flatten() {
            if let Some(k) = key_of.get(&self.ids, id) {
                wanted[k as usize] = true;
            }
        }
        let population = self.active(day);
        if population.is_empty() {
            return Err(FeatureError::NoCustomers { as_of });
        }
        let rows: Vec<(u32, Range<usize>)> = population
            .iter()
            .filter(|&&k| wanted[k as usize])
            .map(|&k| (k, self.lines.until(k as usize, day)))
            .collect();
        self.assemble(&rows, as_of, params, &population)
    }

    /// Per id: whether the customer has a purchase after `after` and on or before `until`
    /// (false for an unknown id).
    pub fn bought_between(&self, ids: &[String], after: NaiveDate, until: NaiveDate) -> Vec<bool> {
        let key_of = self.key_of();
        let (after, until) = (epoch_day(after), epoch_day(until));
        ids.iter()
            .map(|id| {
                key_of.get(&self.ids, id).is_some_and(|k| {
                    self.lines.until(k as usize, until).len()
                        > self.lines.until(k as usize, after).len()
                })
            })
            .collect()
    }

    /// Every customer with a line on or before `last`, in id order: their id, the net sum of
    /// their amounts dated `first ..= last` (fixed point) and whether one of those lines is a
    /// purchase (above zero). What `analyze` needs of the lines, without a transactions table.
    pub fn window_totals(&self, first: NaiveDate, last: NaiveDate) -> Vec<(&str, i64, bool)> {
        let (first, last) = (epoch_day(first), epoch_day(last));
        self.by_id
            .iter()
            .filter_map(|&k| {
                let k = k as usize;
                let known = self.lines.until(k, last);
                if known.is_empty() {
                    return None;
                }
                let window = self.lines.until(k, first - 1).end..known.end;
                let revenue = self.lines.amount[window.clone()]
                    .iter()
                    .fold(0i64, |s, a| s.saturating_add(*a));
                let bought = self.lines.amount[window].iter().any(|a| *a > 0);
                Some((self.ids[k].as_str(), revenue, bought))
            })
            .collect()
    }

    /// The day of the earliest purchase of anyone: no build before it has a customer.
    pub fn first_purchase(&self) -> Option<NaiveDate> {
        (0..self.ids.len())
            .filter_map(|k| self.lines.first_day(k))
            .min()
            .map(date_of)
    }

    /// The keys of every customer with a purchase on or before `day`, in id order.
    fn active(&self, day: i32) -> Vec<u32> {
        self.by_id
            .iter()
            .copied()
            .filter(|&k| self.lines.first_day(k as usize).is_some_and(|f| f <= day))
            .collect()
    }

    /// What every row as of `day` shares: each family's columns as of the day, with their levels
    /// and imputation values found over `population` (the keys active on `day`).
    fn plan<'h>(
        &'h self,
        day: i32,
        population: &[u32],
        params: &FeatureParams,
    ) -> Result<Plan<'h>, FeatureError> {
        let wanted = self.families_for(params)?;
        let columns = self
            .families
            .iter()
            .filter(|(f, _)| wanted.contains(f))
            .map(|(_, p)| p.at(&self.lines, day, population, params))
            .collect::<Result<Vec<_>, _>>()?;
        let names = columns.iter().flat_map(|c| c.names()).collect();
        Ok(Plan {
            day,
            columns,
            names,
        })
    }

    /// The families a build with `params` writes: those it names (each must be one these lines
    /// were prepared for), else every family of the history.
    fn families_for(&self, params: &FeatureParams) -> Result<Vec<Family>, FeatureError> {
        let prepared = self.families.iter().map(|(f, _)| *f);
        let Some(wanted) = &params.families else {
            return Ok(prepared.collect());
        };
        if let Some(f) = wanted
            .iter()
            .find(|f| !self.families.iter().any(|(p, _)| p == *f))
        {
            return Err(FeatureError::NotPrepared(f.name()));
        }
        Ok(prepared.filter(|f| wanted.contains(f)).collect())
    }

    /// The feature rows of a block of `rows` (the key, its lines as of the day, and that day's
    /// plan) appended to `out`, row after row: every family in one pass over each customer's
    /// lines.
    fn block_rows(&self, rows: &[Row<'_>], out: &mut Vec<f64>) {
        let mut scratch = Scratch::default();
        for (k, range, plan) in rows {
            let mut customer =
                Customer::new(*k, &self.lines, range.clone(), plan.day, &mut scratch);
            for columns in &plan.columns {
                columns.write(&mut customer, out);
            }
        }
    }

    /// The feature rows of `rows` as one row-major matrix, blocks of customers in parallel.
    fn write_rows(&self, rows: &[Row<'_>], width: usize) -> Vec<f64> {
        let mut values = vec![0.0; rows.len() * width];
        if width == 0 {
            return values;
        }
        values
            .par_chunks_mut(ROWS_PER_TASK * width)
            .zip(rows.par_chunks(ROWS_PER_TASK))
            .for_each(|(block, chunk)| {
                let mut out = Vec::with_capacity(block.len());
                self.block_rows(chunk, &mut out);
                block.copy_from_slice(&out);
            });
        values
    }

    /// The feature rows of `rows` as `width` columns: each block of customers is computed row
    /// by row in a small buffer and copied into its stretch of every column, so the table
    /// exists once, never also as a row-major matrix (10M customers × 56 features: 4.5 GB).
    fn write_columns(&self, rows: &[Row<'_>], width: usize) -> Vec<Vec<f64>> {
        let n = rows.len();
        let mut columns: Vec<Vec<f64>> = (0..width).map(|_| vec![0.0; n]).collect();
        if width == 0 {
            return columns;
        }
        let mut blocks: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(ROWS_PER_TASK))
            .map(|_| Vec::with_capacity(width))
            .collect();
        for column in columns.iter_mut() {
            for (b, stretch) in column.chunks_mut(ROWS_PER_TASK).enumerate() {
                blocks[b].push(stretch);
            }
        }
        blocks
            .into_par_iter()
            .zip(rows.par_chunks(ROWS_PER_TASK))
            .for_each(|(mut stretches, chunk)| {
                let mut out = Vec::with_capacity(chunk.len() * width);
                self.block_rows(chunk, &mut out);
                for (i, row) in out.chunks_exact(width).enumerate() {
                    for (stretch, v) in stretches.iter_mut().zip(row) {
                        stretch[i] = *v;
                    }
                }
            });
        columns
    }

    /// The features of `rows` (key and lines as of `as_of`, in id order) as a frame; the
    /// attributes imputed over `population` (the keys active on the day).
    fn assemble(
        &self,
        rows: &[(u32, Range<usize>)],
        as_of: NaiveDate,
        params: &FeatureParams,
        population: &[u32],
    ) -> Result<DataFrame, FeatureError> {
        let plan = self.plan(epoch_day(as_of), population, params)?;
        let width = plan.names.len();
        let rows: Vec<Row> = rows.iter().map(|(k, r)| (*k, r.clone(), &plan)).collect();
        let values = self.write_columns(&rows, width);
        let mut columns = vec![Column::new(
            "customer_id".into(),
            rows.iter()
                .map(|(k, _, _)| self.ids[*k as usize].as_str())
                .collect::<Vec<_>>(),
        )];
        columns.par_extend(
            values
                .into_par_iter()
                .zip(plan.names.par_iter())
                .map(|(v, name)| Column::new(name.as_str().into(), v)),
        );
        Ok(DataFrame::new(rows.len(), columns)?)
    }

    /// Feature rows at many (customer, as-of date) pairs, in query order, as one row-major
    /// matrix: the training rows of every contact at once, without a frame per date. A query
    /// whose customer had no purchase by its date (or that lacks a date) gets no row. Levels not
    /// fixed in `params` are fixed as [`History::build`] would find them at the latest date, so
    /// every row has the same columns.
    pub fn rows_at(
        &self,
        queries: &[(&str, Option<NaiveDate>)],
        params: &FeatureParams,
    ) -> Result<PointRows, FeatureError> {
        let key_of = self.key_of();
        let days: Vec<Option<(u32, i32)>> = queries
            .par_iter()
            .map(|(id, d)| Some((key_of.get(&self.ids, id)?, epoch_day((*d)?))))
            .collect();
        let mut distinct: Vec<i32> = days.iter().flatten().map(|(_, d)| *d).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let Some(&last) = distinct.last() else {
            return Ok(PointRows::default());
        };
        let mut params = params.clone();
        let last_population = self.active(last);
        // In family order, each family seeing the levels fixed before it.
        for (_, p) in &self.families {
            params
                .levels
                .extend(p.levels(&self.lines, last, &last_population, &params));
        }
        let plans: HashMap<i32, Plan> = distinct
            .par_iter()
            .map(|&d| Ok((d, self.plan(d, &self.active(d), &params)?)))
            .collect::<Result<_, FeatureError>>()?;
        let names = plans[&last].names.clone();
        let mut kept = Vec::new();
        let mut rows = Vec::new();
        for (q, day) in days.iter().enumerate() {
            if let Some((k, d)) = day {
                let range = self.lines.until(*k as usize, *d);
                if !range.is_empty() {
                    kept.push(q);
                    rows.push((*k, range, &plans[d]));
                }
            }
        }
        let values = self.write_rows(&rows, names.len());
        Ok(PointRows {
            names,
            kept,
            values,
            levels: params.levels,
        })
    }

    fn key_of(&self) -> &KeyIndex {
        self.key_of.get_or_init(|| KeyIndex::new(&self.ids))
    }
}

/// The key of an id, found by a 64-bit hash of the id and checked against the id itself, so the
/// index holds no copy of the (million) ids: building a map of owned ids cost a third of a
/// second at 1M customers.
struct KeyIndex {
    by_hash: HashMap<u64, u32>,
    /// Ids whose hash an earlier id already has (a 64-bit collision: never in practice).
    collided: HashMap<String, u32>,
}

impl KeyIndex {
    fn new(ids: &[String]) -> KeyIndex {
        let mut index = KeyIndex {
            by_hash: HashMap::with_capacity(ids.len()),
            collided: HashMap::new(),
        };
        for (k, id) in ids.iter().enumerate() {
            index.insert(id, k as u32);
        }
        index
    }

    /// Adds `id` (not yet in the index) as key `k`.
    fn insert(&mut self, id: &str, k: u32) {
        match self.by_hash.entry(id_hash(id)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(k);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(id.to_string(), k);
            }
        }
    }

    fn get(&self, ids: &[String], id: &str) -> Option<u32> {
        match self.by_hash.get(&id_hash(id)) {
            Some(&k) if ids[k as usize] == id => Some(k),
            Some(_) => self.collided.get(id).copied(),
            None => None,
        }
    }
}

/// A fixed-seed 64-bit hash of an id (polars' quality hasher: several times faster than std's
/// SipHash on short ids, which cost a third of a second per million lookups).
fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    PlSeedableRandomStateQuality::seed_from_u64(0x1d5).hash_one(id)
}

/// One output row: a key, its lines as of the row's day, and that day's plan.
type Row<'p> = (u32, Range<usize>, &'p Plan<'p>);

/// What the rows as of one day share (see `History::plan`).
struct Plan<'h> {
    day: i32,
    /// Every wanted family's columns, in family order.
    columns: Vec<Box<dyn Columns + 'h>>,
    names: Vec<String>,
}

/// Feature rows at (customer, date) pairs ([`History::rows_at`]).
#[derive(Debug, Default)]
pub struct PointRows {
    /// The feature names (columns of `values`).
    pub names: Vec<String>,
    /// The queries that got a row, ascending: row `i` of `values` answers query `kept[i]`.
    pub kept: Vec<usize>,
    /// Row-major, `kept.len() × names.len()`.
    pub values: Vec<f64>,
    /// The categorical levels every row was built with.
    pub levels: BTreeMap<String, Vec<String>>,
}

fn date_of(day: i32) -> NaiveDate {
    crate::types::date_of_epoch_day(i64::from(day))
}

/// Runs a query on polars' streaming engine. Its parallel group-by is about twice as fast as the
/// in-memory engine's on tens of millions of rows (20M-row group-by by customer and day: 3.0 s
/// against 5.9 s here; the Python wheel's `collect()` takes the same path), and it holds less in
/// memory at once. Every caller sorts or keeps an explicit row order, so results are the same.
pub(crate) fn collect_streaming(lf: LazyFrame) -> PolarsResult<DataFrame> {
    // A plan with one sink always yields a single frame (only `collect_all` yields several).
    Ok(lf.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

pub use crate::types::epoch_day;

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod tests;
