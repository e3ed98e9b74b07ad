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
        let customers = if count_customers {
            kept.column("customer_id")?.n_unique()?
        } else {
            0
        };
        let returns = if table == TableKind::Transactions {
            let amount = kept.column("amount")?.f64()?;
            Some(amount.into_no_null_iter().filter(|a| *a <= 0.0).count())
        } else {
            None
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
            for (reason, n) in s.top_reasons(usize::MAX) {
                out.push_str(&format!("{:<13}   {reason}: {n}\n", ""));
            }
        }
        out
    }
}
