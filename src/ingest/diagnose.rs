//! The bytes of a delimited file looked at directly, for what polars does not say: the names of
//! the header (so that a name given twice is an error rather than a silent choice), and — only
//! after polars has refused a file, so the happy path pays nothing — where and why: the line (of
//! the file, header = line 1, counted through quoted line feeds), the column, what was expected
//! and a short, sanitised piece of what was found.

/// Where a delimited file stops being one: the first problem in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    /// The column's name from the header (or `column_N` without one), when known.
    pub column: Option<String>,
    pub expected: String,
    /// Already quoted and sanitised for a message.
    pub found: String,
}

/// The longest piece of a file a message quotes, in characters.
const SNIPPET_CHARS: usize = 40;

/// `bytes` as a short, printable snippet in backticks: invalid UTF-8 as `\xNN`, control
/// characters escaped, cut after [`SNIPPET_CHARS`] characters with `…`.
pub fn snippet(bytes: &[u8]) -> String {
    format!("`{}`", sanitized(bytes))
}

/// [`snippet`] without the backticks.
pub fn sanitized(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == SNIPPET_CHARS {
                out.push('…');
                return out;
            }
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '`' => out.push('\''),
                c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
                c => out.push(c),
            }
            shown += 1;
        }
        for b in chunk.invalid() {
            if shown == SNIPPET_CHARS {
                out.push('…');
                return out;
            }
            out.push_str(&format!("\\x{b:02X}"));
            shown += 1;
        }
    }
    out
}

/// Column names found in a file, for a message: each sanitised, at most 30.
pub fn found_names(names: &[String]) -> String {
    const SHOWN: usize = 30;
    let mut out: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| sanitized(n.as_bytes()))
        .collect();
    if names.len() > SHOWN {
        out.push(format!("… ({} more)", names.len() - SHOWN));
    }
    out.join(", ")
}

/// What to do about a missing column, for the header actually found: a header read as one
/// column that holds a separator was split on the wrong delimiter (mapping a column would not
/// help); otherwise the column is mapped by name or position.
pub fn missing_column_hint(found: &[String], table: super::TableKind) -> String {
    let separators = [(',', ","), (';', ";"), ('\t', "tab"), ('|', "|")];
    let one_column_with = match found {
        [only] => separators.iter().find(|(c, _)| only.contains(*c)),
        _ => None,
    };
    match one_column_with {
        Some((_, name)) => format!(
            "the header was read as one column: set `delimiter = \"{name}\"` under [sources.{table}] in the config"
        ),
        None => format!("map it under [sources.{table}.columns] in the config"),
    }
}

/// The fields of one record (without its line end), unquoted: `""` inside a quoted
/// field is one quote. Lenient: it never fails (a stray quote is kept as text).
pub fn split_record(record: &[u8], sep: u8, quote: Option<u8>) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    let mut ends = Vec::new();
    unquote_into(record, sep, quote, &mut values, &mut ends);
    let mut start = 0;
    ends.iter()
        .map(|&end| {
            let field = values[start..end].to_vec();
            // Skip the separator that follows the field.
            start = end + 1;
            field
        })
        .collect()
}

/// [`split_record`] without an allocation per field: the values are written to `values`, joined
/// by `sep`, and `ends` gets the end of each field in `values` (both are cleared first).
pub fn unquote_into(
    record: &[u8],
    sep: u8,
    quote: Option<u8>,
    values: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) {
    values.clear();
    ends.clear();
    let mut quoted = false;
    let mut at_start = true;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if Some(b) == quote && quoted {
            if record.get(i + 1) == Some(&b) {
                values.push(b);
                i += 1;
            } else {
                quoted = false;
            }
        } else if Some(b) == quote && at_start {
            quoted = true;
        } else if b == sep && !quoted {
            ends.push(values.len());
            values.push(sep);
            at_start = true;
            i += 1;
            continue;
        } else {
            values.push(b);
        }
        at_start = false;
        i += 1;
    }
    ends.push(values.len());
}

/// The header's names (trimmed) given more than once, each once, in header order.
pub fn repeated_names(names: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut repeated: Vec<String> = Vec::new();
    for n in names {
        let n = n.trim();
        if !seen.insert(n) && !repeated.iter().any(|r| r == n) {
            repeated.push(n.to_string());
        }
    }
    repeated
}

/// The names of a header record, trimmed.
pub fn header_names(header: &[u8], sep: u8, quote: Option<u8>) -> Vec<String> {
    let header = header.strip_suffix(b"\n").unwrap_or(header);
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    split_record(header, sep, quote)
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect()
}

/// What a file is read as: the separator, the quote character, whether it has a header.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    pub sep: u8,
    pub quote: Option<u8>,
    pub has_header: bool,
}

/// The first problem of a delimited file whose bytes are `bytes` (the whole file, header
/// included when it has one): invalid UTF-8, a record with more fields than the first record
/// (the header), a quote that does not close, or text after a closing quote. `None` when none of
/// these is found.
pub fn diagnose(bytes: &[u8], dialect: Dialect) -> Option<Problem> {
    let names = if dialect.has_header {
        let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
        let header = &bytes[..record_end_quoted(bytes, dialect.quote).unwrap_or(end)];
        Some(header_names(header, dialect.sep, dialect.quote))
    } else {
        None
    };
    Scan::new(bytes, dialect, names).run()
}

/// The end of the first record (one past its line feed), line feeds inside quotes skipped.
fn record_end_quoted(bytes: &[u8], quote: Option<u8>) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in bytes.iter().enumerate() {
        if Some(*b) == quote {
            quoted = !quoted;
        } else if *b == b'\n' && !quoted {
            return Some(i + 1);
        }
    }
    None
}

/// One pass over the bytes, record by record, field by field.
struct Scan<'a> {
    bytes: &'a [u8],
    dialect: Dialect,
    names: Option<Vec<String>>,
    /// The first invalid UTF-8 byte, if any.
    invalid_at: Option<usize>,
    /// Fields of the first record: every record must have no more.
    expected_fields: Option<usize>,
}

impl<'a> Scan<'a> {
    fn new(bytes: &'a [u8], dialect: Dialect, names: Option<Vec<String>>) -> Scan<'a> {
        Scan {
            bytes,
            dialect,
            invalid_at: std::str::from_utf8(bytes).err().map(|e| e.valid_up_to()),
            expected_fields: names.as_ref().map(Vec::len),
            names,
        }
    }

    fn column(&self, field: usize) -> String {
        self.names
            .as_ref()
            .and_then(|n| n.get(field))
            .map(|n| sanitized(n.as_bytes()))
            .unwrap_or_else(|| format!("column_{}", field + 1))
    }

    fn problem(&self, line: u64, field: Option<usize>, expected: &str, found: String) -> Problem {
        Problem {
            line,
            column: field.map(|f| self.column(f)),
            expected: expected.to_string(),
            found,
        }
    }

    /// The bytes of the field starting at `start`, up to its separator or line end.
    fn field_text(&self, start: usize) -> &'a [u8] {
        let rest = &self.bytes[start..];
        let end = rest
            .iter()
            .position(|b| *b == self.dialect.sep || *b == b'\n')
            .unwrap_or(rest.len());
        &rest[..end]
    }

    fn run(mut self) -> Option<Problem> {
        let (sep, quote) = (self.dialect.sep, self.dialect.quote);
        let bytes = self.bytes;
        let mut line = 1u64;
        let mut record_line = 1u64;
        let mut record_start = 0usize;
        let mut field = 0usize;
        let mut field_start = 0usize;
        let mut quoted = false;
        let mut quote_line = 0u64;
        let mut after_quote = false;
        let mut i = 0;
        while i < bytes.len() {
            if self.invalid_at == Some(i) {
                // Inside a quoted field, from the last separator or line feed before the byte.
                let start = bytes[..i]
                    .iter()
                    .rposition(|b| *b == sep || *b == b'\n')
                    .map_or(0, |p| p + 1)
                    .max(field_start);
                let found = snippet(self.field_text(start));
                return Some(self.problem(line, Some(field), "UTF-8 text", found));
            }
            let b = bytes[i];
            if quoted {
                if Some(b) == quote {
                    if bytes.get(i + 1) == Some(&b) {
                        i += 2;
                        continue;
                    }
                    quoted = false;
                    after_quote = true;
                } else if b == b'\n' {
                    line += 1;
                }
                i += 1;
                continue;
            }
            if after_quote && b != sep && b != b'\n' && b != b'\r' {
                let found = snippet(self.field_text(field_start));
                return Some(self.problem(
                    line,
                    Some(field),
                    "a separator or a line end after a closing quote",
                    found,
                ));
            }
            if Some(b) == quote && i == field_start {
                quoted = true;
                quote_line = line;
            } else if b == sep {
                field += 1;
                field_start = i + 1;
                after_quote = false;
            } else if b == b'\n' {
                if let Some(p) = self.end_record(record_line, field, field_start) {
                    return Some(p);
                }
                line += 1;
                record_line = line;
                record_start = i + 1;
                field = 0;
                field_start = i + 1;
                after_quote = false;
            }
            i += 1;
        }
        if quoted {
            let found = snippet(self.field_text(field_start));
            return Some(self.problem(quote_line, Some(field), "a closing quote", found));
        }
        if record_start < bytes.len() {
            return self.end_record(record_line, field, field_start);
        }
        None
    }

    /// Checks a record's field count against the first record's.
    fn end_record(&mut self, line: u64, last_field: usize, last_start: usize) -> Option<Problem> {
        let fields = last_field + 1;
        let record_empty = last_field == 0 && {
            let f = self.field_text(last_start);
            f.is_empty() || f == b"\r"
        };
        if record_empty {
            return None;
        }
        match self.expected_fields {
            None => {
                self.expected_fields = Some(fields);
                None
            }
            Some(n) if fields > n => {
                let what = if self.names.is_some() {
                    "as the header"
                } else {
                    "as the first line"
                };
                Some(Problem {
                    line,
                    column: None,
                    expected: format!("{n} fields {what}"),
                    found: format!("{fields}"),
                })
            }
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: Dialect = Dialect {
        sep: b',',
        quote: Some(b'"'),
        has_header: true,
    };

    fn check(text: &[u8], want: Option<(u64, Option<&str>, &str, &str)>) {
        let got = diagnose(text, CSV);
        let got = got.as_ref().map(|p| {
            (
                p.line,
                p.column.as_deref(),
                p.expected.as_str(),
                p.found.as_str(),
            )
        });
        assert_eq!(got, want, "{}", String::from_utf8_lossy(text));
    }

    #[test]
    fn each_problem_names_its_line_and_column() {
        check(b"a,b,c\n1,2,3\n4,5,6\n", None);
        check(
            b"a,b,c\n1,2,3\n4,5,6,7\n",
            Some((3, None, "3 fields as the header", "4")),
        );
        // A quoted line feed does not end a record, but counts as a line.
        check(
            b"a,b,c\n1,\"x\ny\",3\n4,5,6,7\n",
            Some((4, None, "3 fields as the header", "4")),
        );
        check(
            b"a,b,c\n1,\"x\ny\",3\n4,\xff\xfeab,6\n",
            Some((4, Some("b"), "UTF-8 text", "`\\xFF\\xFEab`")),
        );
        check(
            b"a,b,c\n1,\"x\"y,3\n",
            Some((
                2,
                Some("b"),
                "a separator or a line end after a closing quote",
                "`\"x\"y`",
            )),
        );
        check(
            b"a,b,c\n1,2,3\n1,\"open,3\n4,5,6\n",
            Some((3, Some("b"), "a closing quote", "`\"open`")),
        );
        // Fewer fields than the header are missing values, CRLF and a last line without a
        // line end are fine.
        check(b"a,b,c\r\n1,2\r\n\r\n4,5,6", None);
    }

    #[test]
    fn snippets_are_short_and_printable() {
        assert_eq!(snippet(b"a\tb\x01\xff"), "`a\\tb\\u{1}\\xFF`");
        let long = snippet(&[b'x'; 500]);
        assert_eq!(long.chars().count(), 40 + 3);
        assert!(long.ends_with("…`"));
    }

    #[test]
    fn header_names_are_unquoted_trimmed_and_repeats_found() {
        let names = header_names(b"amount,\"amount\" , id,\"a,b\",id\r\n", b',', Some(b'"'));
        assert_eq!(names, ["amount", "amount", "id", "a,b", "id"]);
        assert_eq!(repeated_names(&names), ["amount", "id"]);
        assert!(repeated_names(&header_names(b"a,b\n", b',', None)).is_empty());
    }

    #[test]
    fn a_missing_column_hint_fits_the_header_found() {
        use crate::ingest::TableKind;
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            missing_column_hint(&names(&["customer_id|order_date|amount"]), TableKind::Transactions),
            "the header was read as one column: set `delimiter = \"|\"` under [sources.transactions] in the config"
        );
        for found in [names(&["Client Ref"]), names(&["customer_id", "price"])] {
            assert_eq!(
                missing_column_hint(&found, TableKind::Customers),
                "map it under [sources.customers.columns] in the config"
            );
        }
    }
}
