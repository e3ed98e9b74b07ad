//! The fast path of ingest for the common file: a plain UTF-8 delimited file (no quotes, no
//! `\r`, no byte-order mark, no blank line, every line as many fields as the header) whose rows
//! are all good. Its fields are parsed straight from the bytes, both halves of the file at once,
//! into the typed columns a validation would give, with no text column in between.
//!
//! It never decides a row's fate: the first thing it cannot vouch for (a value the validation
//! would reject or read otherwise, a possible duplicate, a layout it does not parse) makes it
//! give up, and the file goes through the general path (`read.rs` + `validate.rs`), which
//! names every problem. So the rules stay where they are; here are only acceptance tests that
//! are stricter than theirs, and what a value that passes them parses to, which the tests
//! (`fast_tests.rs`) check against the general path.

use std::hash::BuildHasher;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::config::SourceSpec;
use super::read::{self, RawTable};
use super::schema::{ColumnType, TableKind};
use super::summary::TableSummary;
use super::validate::{self, PlainColumn, Validated};
use super::IngestError;

/// Validates the file at `path` by the fast path; `None` when it is not a file the fast path
/// vouches for (the caller then validates it by the general path, which gives the same result
/// and names any problem).
pub(crate) fn load_plain(
    table: TableKind,
    path: &Path,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
) -> Result<Option<Validated>, IngestError> {
    let Some(separator) = plain_separator(path, spec, table) else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !plain_bytes(&bytes) {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(None);
    };
    let Some(header_end) = memchr::memchr(b'\n', &bytes) else {
        return Ok(None);
    };
    let Some(names) = header_names(&text[..header_end], separator) else {
        return Ok(None);
    };
    let columns = match plan(path, &names, table, spec) {
        Some(c) => c,
        None => return Ok(None),
    };
    let body = &text[header_end + 1..];
    if body.is_empty() {
        return Ok(None);
    }
    let rules = Rules::new(separator, names.len(), as_of);
    let Some(parts) = parse_body(body, &columns, &rules) else {
        return Ok(None);
    };
    // The typed columns hold their own copies of the text: the file's bytes can go.
    drop(bytes);
    let Some(frame) = assemble(parts, &columns) else {
        return Ok(None);
    };
    let rejects = validate::no_rejects().map_err(polars_err(path))?;
    let summary = TableSummary::from_frames(table, path, frame.height(), &frame, &rejects, 0, true)
        .map_err(polars_err(path))?;
    Ok(Some(Validated {
        table,
        frame,
        rejects,
        summary,
    }))
}

/// The file's separator when it is a delimited text file with a header whose separator cannot
/// be part of a line end or a multi-byte character.
pub(super) fn plain_separator(path: &Path, spec: &SourceSpec, table: TableKind) -> Option<u8> {
    read::plain_separator(path, spec, table)
        .filter(|s| s.is_ascii() && !matches!(s, b'"' | b'\n' | b'\r'))
}

fn polars_err(path: &Path) -> impl Fn(PolarsError) -> IngestError + '_ {
    move |source| IngestError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

/// UTF-8's byte-order mark.
pub(super) const BYTE_ORDER_MARK: &[u8] = &[0xEF, 0xBB, 0xBF];

/// No quote (a quoted field may hold separators and line feeds), no `\r` (CRLF lines), no
/// byte-order mark: bytes whose records are lines and whose fields are what lies between
/// separators.
pub(super) fn plain_bytes(bytes: &[u8]) -> bool {
    !bytes.starts_with(BYTE_ORDER_MARK) && memchr::memchr2(b'"', b'\r', bytes).is_none()
}

/// The header's names as the general path names them (trimmed), or `None` when one is empty or
/// repeated (the general path names those problems).
pub(super) fn header_names(header: &str, separator: u8) -> Option<Vec<String>> {
    let names: Vec<String> = header
        .split(char::from(separator))
        .map(|n| n.trim().to_string())
        .collect();
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .all(|n| !n.is_empty() && seen.insert(n.as_str()))
        .then_some(names)
}

/// The typed columns to build, from the header alone; `None` when the table's mapping needs the
/// general path (see [`validate::plain_columns`]) or fails (it names the problem).
pub(super) fn plan(
    path: &Path,
    names: &[String],
    table: TableKind,
    spec: &SourceSpec,
) -> Option<Vec<PlainColumn>> {
    let columns: Vec<Column> = names
        .iter()
        .map(|n| Column::new_empty(n.as_str().into(), &DataType::String))
        .collect();
    let frame = DataFrame::new(0, columns).ok()?;
    let header = RawTable::new(path, frame, true, None);
    validate::plain_columns(&header, table, spec).ok().flatten()
}

/// What every row is checked against; dates as day numbers (days since 1970-01-01).
pub(super) struct Rules {
    pub separator: u8,
    /// Fields per line: the header's.
    pub fields: usize,
    /// The kept range ([`validate::date_range`]).
    earliest: i32,
    latest: i32,
    as_of: Option<i32>,
}

impl Rules {
    pub(super) fn new(separator: u8, fields: usize, as_of: Option<NaiveDate>) -> Rules {
        let (earliest, latest) = validate::date_range();
        Rules {
            separator,
            fields,
            earliest: crate::types::epoch_day(earliest),
            latest: crate::types::epoch_day(latest),
            as_of: as_of.map(crate::types::epoch_day),
        }
    }

    /// The day of a date written `YYYY-MM-DD`, a real day within the kept range and (for an
    /// `event` column) not after the as-of date.
    #[inline]
    pub(super) fn day(&self, bytes: &[u8], event: bool) -> Option<i32> {
        let day = civil_day(bytes)?;
        if day < self.earliest || day > self.latest {
            return None;
        }
        if event && self.as_of.is_some_and(|a| day > a) {
            return None;
        }
        Some(day)
    }
}

/// The typed columns of the records of `body` (whole lines), both halves at once; `None` when
/// a row is not one the fast path vouches for, or two rows may be copies.
fn parse_body(body: &str, columns: &[PlainColumn], rules: &Rules) -> Option<Vec<Part>> {
    let halves = split_in_two(body);
    let parts: Vec<Option<Part>> = std::thread::scope(|scope| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| scope.spawn(move || parse_part(half, columns, rules)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let parts = parts.into_iter().collect::<Option<Vec<Part>>>()?;
    let mut hashes = Vec::with_capacity(parts.iter().map(|p| p.hashes.len()).sum());
    for p in &parts {
        hashes.extend_from_slice(&p.hashes);
    }
    // A shared hash is a possible copy (or, rarely, a collision): the general path decides.
    if validate::repeated_hashes(&hashes).is_some() {
        return None;
    }
    Some(parts)
}

/// The frame of the parts' columns, in order, each in one chunk.
fn assemble(parts: Vec<Part>, columns: &[PlainColumn]) -> Option<DataFrame> {
    let mut built: Option<Vec<Series>> = None;
    for part in parts {
        let series = part.finish(columns);
        built = Some(match built {
            None => series,
            Some(mut all) => {
                for (a, s) in all.iter_mut().zip(series) {
                    a.append(&s).ok()?;
                }
                all
            }
        });
    }
    let series = built?;
    let columns: Vec<Column> = series
        .into_iter()
        .map(|s| s.rechunk().into_column())
        .collect();
    let height = columns.first().map_or(0, |c| c.len());
    DataFrame::new(height, columns).ok()
}

/// `body` cut in two at a line end near its middle (the second half empty for a small body).
fn split_in_two(body: &str) -> [&str; 2] {
    let middle = body.len() / 2;
    match memchr::memchr(b'\n', &body.as_bytes()[middle..]) {
        Some(i) => {
            let (a, b) = body.split_at(middle + i + 1);
            [a, b]
        }
        None => [body, ""],
    }
}

/// One column being built.
enum Builder {
    Text(StringChunkedBuilder),
    Number(PrimitiveChunkedBuilder<Float64Type>),
    /// With the column's last date read and its day: order files repeat a day over many lines.
    Date(PrimitiveChunkedBuilder<Int32Type>, Option<([u8; 10], i32)>),
}

/// The columns of one half of the body, and a hash of each of its records.
struct Part {
    builders: Vec<Builder>,
    hashes: Vec<u64>,
}

impl Part {
    fn finish(self, columns: &[PlainColumn]) -> Vec<Series> {
        self.builders
            .into_iter()
            .zip(columns)
            .map(|(b, c)| {
                match b {
                    Builder::Text(b) => b.finish().into_series(),
                    Builder::Number(b) => b.finish().into_series(),
                    Builder::Date(b, _) => b.finish().into_date().into_series(),
                }
                .with_name(c.canonical.as_str().into())
            })
            .collect()
    }
}

/// Parses the lines of `part`; `None` at the first row the fast path does not vouch for.
fn parse_part(part: &str, columns: &[PlainColumn], rules: &Rules) -> Option<Part> {
    let rows = part.len() / 32 + 1;
    let mut builders: Vec<Builder> = columns
        .iter()
        .map(|c| match c.kind {
            ColumnType::Number => Builder::Number(PrimitiveChunkedBuilder::new("".into(), rows)),
            ColumnType::Date => Builder::Date(PrimitiveChunkedBuilder::new("".into(), rows), None),
            _ => Builder::Text(StringChunkedBuilder::new("".into(), rows)),
        })
        .collect();
    // Which built columns read each field of a line.
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); rules.fields];
    for (i, c) in columns.iter().enumerate() {
        readers.get_mut(c.position)?.push(i);
    }
    let state = PlSeedableRandomStateQuality::seed_from_u64(0xfa57);
    let mut hashes = Vec::with_capacity(rows);
    let sep = char::from(rules.separator);
    for line in part.split_terminator('\n') {
        if line.is_empty() {
            return None;
        }
        hashes.push(state.hash_one(line.as_bytes()));
        let mut fields = 0;
        for (position, field) in line.split(sep).enumerate() {
            let readers = readers.get(position)?;
            for &i in readers {
                let c = &columns[i];
                let ok = match &mut builders[i] {
                    Builder::Text(b) => push_text(b, field, c),
                    Builder::Number(b) => push_number(b, field, c),
                    Builder::Date(b, last) => push_date(b, field, c, rules, last),
                };
                if !ok {
                    return None;
                }
            }
            fields = position + 1;
        }
        if fields != rules.fields {
            return None;
        }
    }
    Some(Part { builders, hashes })
}

/// A text or id value: kept as it is, an empty one missing. Surrounding whitespace (trimmed by
/// the general path) and ids the identity rule would change are left to the general path.
fn push_text(b: &mut StringChunkedBuilder, field: &str, c: &PlainColumn) -> bool {
    if field.is_empty() {
        b.append_null();
        return !c.required;
    }
    if !plain_text(field.as_bytes(), c.kind == ColumnType::Id, field.is_ascii()) {
        return false;
    }
    b.append_value(field);
    true
}

/// Whether a text (or, `id`, an id) is kept as it is written: no surrounding whitespace (the
/// general path trims it) and, for an id, nothing the identity rule would change. `ascii`: the
/// bytes are known to be ASCII, so only their ends are looked at (`str::trim`'s whitespace and
/// `ids::needs_canonical`'s leading quote); other bytes must be UTF-8.
#[inline]
pub(super) fn plain_text(field: &[u8], id: bool, ascii: bool) -> bool {
    if ascii {
        let space = |b: Option<&u8>| b.is_some_and(|b| matches!(b, b' ' | b'\t'..=b'\r'));
        return !(space(field.first())
            || space(field.last())
            || (id && field.first() == Some(&b'\'')));
    }
    match std::str::from_utf8(field) {
        Ok(text) => text.trim().len() == text.len() && !(id && crate::ids::needs_canonical(text)),
        Err(_) => false,
    }
}

/// A number written `-?digits(.digits)?`, in range; empty: missing.
fn push_number(b: &mut PrimitiveChunkedBuilder<Float64Type>, field: &str, c: &PlainColumn) -> bool {
    if field.is_empty() {
        b.append_null();
        return !c.required;
    }
    match plain_number(field.as_bytes()) {
        Some(v) if v.abs() <= validate::MAX_NUMBER => {
            b.append_value(v);
            true
        }
        _ => false,
    }
}

/// The value of `-?digits(.digits)?`, rounded as a correctly rounded parser rounds it (the
/// general path's cast is one): exactly, by one division of two exact floats, when the digits
/// fit a float's mantissa (Clinger's fast path), else by the standard library's parser. `None`
/// for any other text.
#[inline]
pub(super) fn plain_number(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // One pass: the digits' value (exact up to 19 digits) and where the one dot is.
    let mut mantissa = 0u64;
    let mut dot = None;
    for (i, b) in digits.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        } else if *b == b'.' && dot.is_none() {
            dot = Some(i);
        } else {
            return None;
        }
    }
    let (int, frac) = match dot {
        Some(dot) => (dot, digits.len() - dot - 1),
        None => (digits.len(), 0),
    };
    if int == 0 || (dot.is_some() && frac == 0) {
        return None;
    }
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let value = if int + frac <= 15 {
        mantissa as f64 / POW10[frac]
    } else {
        std::str::from_utf8(digits).ok()?.parse::<f64>().ok()?
    };
    Some(if negative { -value } else { value })
}

/// A date written `YYYY-MM-DD`, a real day within the kept range and (for an event) not after
/// the as-of date; empty: missing.
fn push_date(
    b: &mut PrimitiveChunkedBuilder<Int32Type>,
    field: &str,
    c: &PlainColumn,
    rules: &Rules,
    last: &mut Option<([u8; 10], i32)>,
) -> bool {
    if field.is_empty() {
        b.append_null();
        return !c.required;
    }
    let bytes = field.as_bytes();
    // The last date read passed the same checks.
    if let Some((text, day)) = last {
        if bytes == &text[..] {
            b.append_value(*day);
            return true;
        }
    }
    let Some(day) = rules.day(bytes, c.event) else {
        return false;
    };
    let mut text = [0u8; 10];
    text.copy_from_slice(bytes);
    *last = Some((text, day));
    b.append_value(day);
    true
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (two-digit month and day), a day of the calendar.
#[inline]
pub(super) fn civil_day(bytes: &[u8]) -> Option<i32> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *bytes else {
        return None;
    };
    let digit = |b: u8| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(i32::from(d))
    };
    let year = ((digit(y0)? * 10 + digit(y1)?) * 10 + digit(y2)?) * 10 + digit(y3)?;
    let month = digit(m0)? * 10 + digit(m1)?;
    let day = digit(d0)? * 10 + digit(d1)?;
    if !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    // Most dates fall in the years of the table: its first day and length of each month.
    let months = month_table();
    let (start, length) = match usize::try_from((year - TABLE_FIRST_YEAR) * 12 + month - 1) {
        Ok(i) if i < months.len() => months[i],
        _ => (month_start(year, month), month_length(year, month)),
    };
    (day <= length).then_some(start + day - 1)
}

/// The first year of [`month_table`].
const TABLE_FIRST_YEAR: i32 = 1900;

/// The first day (since 1970-01-01) and the length of every month of 1900–2199.
fn month_table() -> &'static [(i32, i32)] {
    static TABLE: std::sync::OnceLock<Vec<(i32, i32)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (TABLE_FIRST_YEAR..TABLE_FIRST_YEAR + 300)
            .flat_map(|y| (1..=12).map(move |m| (month_start(y, m), month_length(y, m))))
            .collect()
    })
}

fn month_length(year: i32, month: i32) -> i32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        2 if leap => 29,
        2 => 28,
        _ => 30,
    }
}

/// Days since 1970-01-01 of the first of a month (H. Hinnant's days from civil, with March as
/// the year's first month).
fn month_start(year: i32, month: i32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
