//! Reads `[profit] product_costs`, the product cost table the `profit` family prices lines by
//! (the features do no I/O). A CSV with a header naming `product_id` and `unit_cost`; a row
//! that cannot be a cost is left out with its line and the reason, and a product on two rows
//! is an error naming both lines (which cost is right cannot be guessed).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::features::profit::{ProductCosts, ProfitParams};
use crate::Error;

use super::RunError;

const KEY: &str = "product_id";
const COST: &str = "unit_cost";

/// A row of the table left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct CostReject {
    pub line: usize,
    pub reason: String,
}

/// Reads the table `params.product_costs` names into `params`; notes on the rows left out go to
/// `warnings`.
pub fn load_product_costs(params: &mut ProfitParams, warnings: &mut String) -> Result<(), Error> {
    let Some(path) = params.product_costs.clone() else {
        return Ok(());
    };
    let text = crate::io::read_text(&path)?;
    let (costs, rejects) = parse_product_costs(&text).map_err(|e| e.in_file(&path))?;
    if let Some(note) = rejects_note(&path, &rejects) {
        warnings.push_str(&note);
        warnings.push('\n');
    }
    params.product_cost_table = Some(Arc::new(costs));
    Ok(())
}

/// One line naming the rows left out (the first few with their reasons).
fn rejects_note(path: &Path, rejects: &[CostReject]) -> Option<String> {
    (!rejects.is_empty()).then(|| {
        let shown: Vec<String> = rejects
            .iter()
            .take(5)
            .map(|r| format!("line {}: {}", r.line, r.reason))
            .collect();
        format!(
            "warning: `{}`: {} rows left out of the product costs ({})",
            path.display(),
            rejects.len(),
            shown.join("; ")
        )
    })
}

/// The costs of a product cost table's text and the rows left out; an error for a header
/// without the two columns or a product on two rows.
pub fn parse_product_costs(text: &str) -> Result<(ProductCosts, Vec<CostReject>), RunError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let header: Vec<String> = lines.next().map(|(_, h)| fields(h)).unwrap_or_default();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| RunError::InvalidData {
                what: "the product cost table's header".into(),
                expected: format!("columns `{KEY}` and `{COST}`"),
                found: format!("`{}`", header.join("`, `")),
            })
    };
    let (key, cost) = (column(KEY)?, column(COST)?);
    let mut by_product: HashMap<String, (f64, usize)> = HashMap::new();
    let mut rejects = Vec::new();
    for (line, text) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let row = fields(text);
        let reject = |reason: String| CostReject { line, reason };
        if row.len() != header.len() {
            rejects.push(reject(format!(
                "{} fields, expected {}",
                row.len(),
                header.len()
            )));
            continue;
        }
        let (product, value) = (row[key].as_str(), row[cost].as_str());
        if product.is_empty() {
            rejects.push(reject(format!("`{KEY}` is missing")));
            continue;
        }
        let unit_cost = match value.parse::<f64>() {
            Ok(c) if c.is_finite() && c >= 0.0 => c,
            _ => {
                rejects.push(reject(format!(
                    "`{COST}` is `{value}`; expected a cost of zero or more"
                )));
                continue;
            }
        };
        if let Some((_, first)) = by_product.insert(product.to_string(), (unit_cost, line)) {
            return Err(RunError::InvalidData {
                what: format!("product `{product}`"),
                expected: "one row per product".into(),
                found: format!("rows on lines {first} and {line}"),
            });
        }
    }
    let costs = by_product.into_iter().map(|(p, (c, _))| (p, c)).collect();
    Ok((ProductCosts::new(costs), rejects))
}

/// The trimmed fields of a comma-separated record, a field in double quotes taken whole.
fn fields(record: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut field, mut quoted) = (String::new(), false);
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field).trim().to_string()),
            c => field.push(c),
        }
    }
    out.push(field.trim().to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_are_left_out_with_their_line_and_reason() {
        let (costs, rejects) =
            parse_product_costs("product_id,unit_cost\nA, 2.5\n\"B,1\",1\n,3\nC,abc\nD,-1\nE\n")
                .unwrap();
        assert_eq!(costs.len(), 2);
        let got: Vec<(usize, &str)> = rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (4, "`product_id` is missing"),
                (5, "`unit_cost` is `abc`; expected a cost of zero or more"),
                (6, "`unit_cost` is `-1`; expected a cost of zero or more"),
                (7, "1 fields, expected 2"),
            ]
        );
    }

    #[test]
    fn a_product_on_two_rows_and_a_header_without_the_columns_are_errors() {
        let err = parse_product_costs("product_id,unit_cost\nA,1\nB,2\nA,3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "product `A`: expected one row per product, found rows on lines 2 and 4"
        );
        let err = parse_product_costs("sku,cost\nA,1\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected columns `product_id` and `unit_cost`"),
            "{err}"
        );
    }
}
