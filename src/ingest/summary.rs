//! The per-table figures written to `ingest.json` and printed after ingest.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::schema::TableKind;

/// What happened to one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSummary {
    pub source: String,
    pub rows_in: usize,
    pub rows_kept: usize,
    pub rows_rejected: usize,
    /// Distinct customer ids among the kept rows.
    pub customers: usize,
    /// Transactions with an amount ≤ 0 (kept; features treat them as returns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returns: Option<usize>,
    /// Kept rows identical to an earlier row in a table without `order_id` (legitimate repeats,
    /// e.g. two equal purchases on one day; counted, not rejected).
    pub possible_duplicates: usize,
    pub reject_reasons: BTreeMap<String, usize>,
    /// Stock codes (`product_id`) that differ only by letter case, each group sorted: kept
    /// apart, not merged, but worth a look (`85123A` and `85123a` are one product in most
    /// exports, two in some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub product_ids_differing_by_case: Vec<Vec<String>>,
    /// The files joined to this table by customer id (`[[sources.customers.join]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<super::JoinSummary>,
    /// What a database source read (a file's digest is taken from the file).
    #[serde(skip)]
    pub fingerprint: Option<super::Fingerprint>,
}

/// The groups of distinct values that are equal when lower-cased (groups and their members
/// sorted).
pub(crate) fn case_variants<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut by_lower: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in values {
        let group = by_lower.entry(v.to_lowercase()).or_default();
        if !group.iter().any(|g| g == v) {
            group.push(v.to_string());
        }
    }
    let mut groups: Vec<Vec<String>> = by_lower
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    groups.sort();
    groups
}

/// The distinct product codes of kept transaction rows (none for other tables).
pub(crate) fn product_ids(kept: &DataFrame) -> PolarsResult<Vec<String>> {
    let Ok(column) = kept.column("product_id") else {
        return Ok(Vec::new());
    };
    let unique = column.unique()?;
    Ok(unique.str()?.iter().flatten().map(str::to_string).collect())
}

impl TableSummary {
    /// `count_customers`: count the distinct ids of `kept` (else 0: a piece of a file, whose
    /// caller counts them over every piece).
    pub(crate) fn from_frames(
        table: TableKind,
        path: &Path,
        rows_in: usize,
        kept: &DataFrame,
        rejects: &DataFrame,
        possible_duplicates: usize,
        count_customers: bool,
    ) -> PolarsResult<TableSummary> {
        // A do-not-contact list keyed by e-mail or phone has no ids to count.
        let customers = match kept.column("customer_id") {
            Ok(ids) if count_customers => ids.n_unique()?,
            _ => 0,
        };
        let returns = if table == TableKind::Transactions {
            let amount = kept.column("amount")?.f64()?;
            Some(amount.into_no_null_iter().filter(|a| *a <= 0.0).count())
        } else {
            None
        };
        let product_ids_differing_by_case = if count_customers {
            case_variants(product_ids(kept)?.iter().map(String::as_str))
        } else {
            Vec::new()
        };
        let mut reject_reasons = BTreeMap::new();
        for r in rejects.column("reason")?.str()?.iter().flatten() {
            *reject_reasons.entry(r.to_string()).or_insert(0) += 1;
        }
        Ok(TableSummary {
            source: path.display().to_string(),
            rows_in,
            rows_kept: kept.height(),
            rows_rejected: rejects.height(),
            customers,
            returns,
            possible_duplicates,
            reject_reasons,
            product_ids_differing_by_case,
            joined: Vec::new(),
            fingerprint: None,
        })
    }

    /// Share of input rows rejected (0 for an empty table).
    pub fn reject_rate(&self) -> f64 {
        if self.rows_in == 0 {
            0.0
        } else {
            self.rows_rejected as f64 / self.rows_in as f64
        }
    }

    /// The most frequent reasons, most frequent first (ties by name), as `reason (n)`.
    pub fn top_reasons(&self, k: usize) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = self
            .reject_reasons
            .iter()
            .map(|(r, n)| (r.clone(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(k);
        v
    }
}

/// `ingest.json`: one summary per table that was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    pub tables: BTreeMap<String, TableSummary>,
}

impl IngestSummary {
    /// A few lines for a person: rows in, kept, rejected per table, and why.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, s) in &self.tables {
            out.push_str(&format!(
                "{name:<13} {:>10} rows in  {:>10} kept  {:>8} rejected  {:>8} customers",
                s.rows_in, s.rows_kept, s.rows_rejected, s.customers
            ));
            if let Some(r) = s.returns {
                out.push_str(&format!("  {r} returns"));
            }
            if s.possible_duplicates > 0 {
                out.push_str(&format!("  {} possible duplicates", s.possible_duplicates));
            }
            out.push('\n');
            if !s.product_ids_differing_by_case.is_empty() {
                let groups: Vec<String> = s
                    .product_ids_differing_by_case
                    .iter()
                    .take(5)
                    .map(|g| g.join("/"))
                    .collect();
                out.push_str(&format!(
                    "{:<13}   {} product codes differ only by case (kept apart): {}{}\n",
                    "",
                    s.product_ids_differing_by_case.len(),
                    groups.join(", "),
                    if s.product_ids_differing_by_case.len() > 5 {
                        ", …"
                    } else {
                        ""
                    }
                ));
            }
            for j in &s.joined {
                if let Some(key) = &j.key {
                    out.push_str(&format!(
                        "{:<13}   appended `{}` by `{key}`: {} rows in, {} kept, {} rejected; {} customers without a match, {} rows matching no customer\n",
                        "", j.source, j.rows_in, j.rows_kept, j.rows_rejected, j.customers_without_row, j.rows_without_customer
                    ));
                    continue;
                }
                out.push_str(&format!(
                    "{:<13}   joined `{}`: {} rows in, {} kept, {} rejected; {} customers without a row, {} rows without a customer\n",
                    "", j.source, j.rows_in, j.rows_kept, j.rows_rejected, j.customers_without_row, j.rows_without_customer
                ));
            }
            for (reason, n) in s.top_reasons(usize::MAX) {
                out.push_str(&format!("{:<13}   {reason}: {n}\n", ""));
            }
        }
        out
    }
}
