//! Spreadsheet safety of CSV outputs (the OWASP "CSV injection" rule): a text cell that begins
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a spreadsheet, so it is
//! written with a leading `'`, which the spreadsheet shows as text. Only text columns are escaped:
//! a negative number in a numeric column stays a number.
//!
//! The escape is reversible, so bullseye reading its own CSV gets the original ids back: a cell
//! made of quotes followed by a trigger character (`'=x`, `''+1`) gains one more quote on
//! writing and loses one on reading. Any other cell is written as is.

use std::borrow::Cow;

use polars::prelude::*;

/// How the text cells of a CSV output are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CsvCells {
    /// Formula-like text cells get a leading `'` (the default).
    #[default]
    SpreadsheetSafe,
    /// Every cell as is, for machines (`--raw-csv`, `[output] raw_csv`).
    Raw,
}

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s` is quotes (possibly none) followed by a trigger character.
fn quoted_trigger(s: &str) -> bool {
    s.trim_start_matches('\'')
        .starts_with(|c| TRIGGERS.contains(&c))
}

/// A text cell as a spreadsheet must see it.
pub fn escape_cell(s: &str) -> Cow<'_, str> {
    if quoted_trigger(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The inverse of [`escape_cell`].
pub fn unescape_cell(s: &str) -> Cow<'_, str> {
    match s.strip_prefix('\'') {
        Some(rest) if quoted_trigger(rest) => Cow::Owned(rest.to_string()),
        _ => Cow::Borrowed(s),
    }
}

/// `df` with its text cells and column names passed through `f`; `None` when nothing changes
/// (the common case costs one scan and no copy).
fn map_text(df: &DataFrame, f: fn(&str) -> Cow<'_, str>) -> PolarsResult<Option<DataFrame>> {
    let changed = |s: &str| matches!(f(s), Cow::Owned(_));
    let text_changes = |c: &Column| -> PolarsResult<bool> {
        Ok(c.dtype() == &DataType::String && c.str()?.iter().flatten().any(changed))
    };
    let mut any = false;
    for c in df.columns() {
        any |= changed(c.name().as_str()) || text_changes(c)?;
    }
    if !any {
        return Ok(None);
    }
    let columns = df
        .columns()
        .iter()
        .map(|c| {
            let name = PlSmallStr::from(f(c.name().as_str()).as_ref());
            if c.dtype() != &DataType::String {
                return Ok(c.clone().with_name(name));
            }
            let values: StringChunked = c.str()?.iter().map(|v| v.map(f)).collect();
            Ok(values.with_name(name).into_column())
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(df.height(), columns).map(Some)
}

/// `df` as a spreadsheet must see it (`None`: already safe).
pub fn escape_frame(df: &DataFrame) -> PolarsResult<Option<DataFrame>> {
    map_text(df, escape_cell)
}

/// A frame read from a CSV bullseye wrote, with its ids as they were (`None`: nothing escaped).
pub fn unescape_frame(df: &DataFrame) -> PolarsResult<Option<DataFrame>> {
    map_text(df, unescape_cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_others_stay() {
        for (raw, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+4412345", "'+4412345"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("00001", "00001"),
            ("a=b", "a=b"),
            ("'plain", "'plain"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(raw), safe, "{raw:?}");
            assert_eq!(unescape_cell(safe), raw, "{safe:?}");
        }
    }

    #[test]
    fn only_text_columns_and_names_are_escaped() {
        let df = df!(
            "customer_id" => ["=1+1", "00002", "-3"],
            "score" => [-0.5, 0.25, 1.0],
            "=name" => ["a", "b", "c"],
        )
        .unwrap();
        let safe = escape_frame(&df).unwrap().unwrap();
        let ids: Vec<_> = safe
            .column("customer_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("'=1+1"), Some("00002"), Some("'-3")]);
        assert_eq!(safe.column("score").unwrap().dtype(), &DataType::Float64);
        assert!(safe.column("'=name").is_ok());
        assert!(escape_frame(&df!("id" => ["a", "b"]).unwrap())
            .unwrap()
            .is_none());
        assert!(unescape_frame(&safe).unwrap().unwrap().equals(&df));
    }
}
