//! Reading a source file as it is: every column as text, nothing parsed yet, so that validation
//! can name the row, column and value of every problem.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::config::{Delimiter, SourceFormat, SourceSpec};
use super::schema::TableKind;
use super::IngestError;

/// A source file read as text columns.
#[derive(Debug)]
pub struct RawTable {
    pub path: PathBuf,
    /// Every column as `String`, in file order.
    pub frame: DataFrame,
    /// The line number of the first data row (1-based): 2 with a header, 1 without.
    pub first_line: usize,
    /// Whether the file's own header named the columns (headerless files get `column_1`…).
    pub has_header: bool,
}

/// Reads a source file (CSV/whitespace text or Parquet) with every column as text.
pub fn read_raw(path: &Path, spec: &SourceSpec, table: TableKind) -> Result<RawTable, IngestError> {
    if !path.exists() {
        return Err(IngestError::MissingFile {
            table,
            path: path.to_path_buf(),
        });
    }
    match source_format(path, spec) {
        SourceFormat::Parquet => read_parquet(path),
        SourceFormat::Csv => read_delimited(path, spec, table),
    }
}

/// The configured format, else the one the extension names (`.parquet`/`.pq`, else CSV).
fn source_format(path: &Path, spec: &SourceSpec) -> SourceFormat {
    spec.format.unwrap_or_else(|| match path.extension() {
        Some(e) if e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq") => {
            SourceFormat::Parquet
        }
        _ => SourceFormat::Csv,
    })
}

/// Every column as text, nulls for missing fields, ragged lines an error.
fn csv_options(has_header: bool, separator: u8, quote: Option<u8>) -> CsvReadOptions {
    CsvReadOptions::default()
        .with_has_header(has_header)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .map_parse_options(move |p| {
            p.with_separator(separator)
                .with_quote_char(quote)
                .with_missing_is_null(true)
                .with_truncate_ragged_lines(false)
        })
}

fn polars_err(path: &Path) -> impl FnOnce(PolarsError) -> IngestError + '_ {
    move |source| IngestError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

fn read_parquet(path: &Path) -> Result<RawTable, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(polars_err(path))?;
    // Dates and numbers stored natively are rendered to text and parsed again by the one
    // validation path, so a Parquet file and the same data as CSV give identical tables.
    let columns = df
        .columns()
        .iter()
        .map(|c| {
            let c = match c.dtype() {
                DataType::Date => c
                    .as_materialized_series()
                    .date()
                    .and_then(|d| d.to_string("%Y-%m-%d"))
                    .map(|s| s.into_column()),
                DataType::Datetime(_, _) => c
                    .as_materialized_series()
                    .datetime()
                    .and_then(|d| d.to_string("%Y-%m-%dT%H:%M:%S"))
                    .map(|s| s.into_column()),
                DataType::Float32 | DataType::Float64 => {
                    float_to_text(c.as_materialized_series()).map(|s| s.into_column())
                }
                _ => c.cast(&DataType::String),
            };
            c.map_err(polars_err(path))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let frame = DataFrame::new_infer_height(columns).map_err(polars_err(path))?;
    Ok(RawTable {
        path: path.to_path_buf(),
        frame,
        first_line: 1,
        has_header: true,
    })
}

/// Renders floats with the shortest text that parses back to the same value, so CSV and Parquet
/// sources of the same numbers agree bit for bit.
fn float_to_text(s: &Series) -> PolarsResult<Series> {
    let ca = s.cast(&DataType::Float64)?;
    let ca = ca.f64()?;
    let out: StringChunked = ca.iter().map(|v| v.map(|v| format!("{v}"))).collect();
    Ok(out.with_name(s.name().clone()).into_series())
}

fn read_delimited(
    path: &Path,
    spec: &SourceSpec,
    table: TableKind,
) -> Result<RawTable, IngestError> {
    let has_header = spec.header.unwrap_or(true);
    let delimiter = match spec.delimiter(table)? {
        Delimiter::Auto => sniff_delimiter(path)?,
        d => d,
    };
    let options = |separator: u8, quote: Option<u8>| csv_options(has_header, separator, quote);
    let frame = match delimiter {
        Delimiter::Byte(sep) => options(sep, Some(b'"'))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(polars_err(path))?,
        Delimiter::Whitespace | Delimiter::Auto => {
            // polars has no "runs of whitespace" separator: normalise each line to
            // tab-separated fields in memory (a field cannot contain whitespace in this format).
            let bytes = whitespace_to_tabs(path)?;
            options(b'\t', None)
                .into_reader_with_file_handle(Cursor::new(bytes))
                .finish()
                .map_err(polars_err(path))?
        }
    };
    let frame = trim_names(frame).map_err(polars_err(path))?;
    Ok(RawTable {
        path: path.to_path_buf(),
        frame,
        first_line: if has_header { 2 } else { 1 },
        has_header,
    })
}

/// A delimited source read in pieces of about `piece_bytes`, each cut at the end of a record:
/// for files too large to hold as one frame of text (200M order lines as text columns take
/// ~22 GB). Every piece is a [`RawTable`] whose `first_line` continues the previous one, with the
/// file's own column names, so validating the pieces one by one names the same lines as
/// validating the whole file. The first piece is read without a schema, as [`read_raw`] reads the
/// whole file; later pieces get its schema, so every piece has the same columns.
pub struct Pieces {
    path: PathBuf,
    file: File,
    /// The header record (with its line end), put in front of every piece so polars names the
    /// columns of each piece as it names the file's; empty without a header.
    header: Vec<u8>,
    has_header: bool,
    separator: u8,
    piece_bytes: usize,
    /// Bytes read past the last cut: the start of the next piece.
    carry: Vec<u8>,
    schema: Option<SchemaRef>,
    rows: usize,
    at_end: bool,
    emitted: bool,
}

/// How a delimited file may be read: in [`Pieces`], or only whole (whitespace-separated files
/// are rewritten in memory first; Parquet has its own reader).
pub enum Layout {
    Pieces(Pieces),
    Whole,
}

/// Opens `path` for reading in pieces when it is a delimited file with a one-byte separator.
pub fn pieces(
    path: &Path,
    spec: &SourceSpec,
    table: TableKind,
    piece_bytes: usize,
) -> Result<Layout, IngestError> {
    if !path.exists() {
        return Err(IngestError::MissingFile {
            table,
            path: path.to_path_buf(),
        });
    }
    if source_format(path, spec) == SourceFormat::Parquet {
        return Ok(Layout::Whole);
    }
    let separator = match spec.delimiter(table)? {
        Delimiter::Auto => sniff_delimiter(path)?,
        d => d,
    };
    let Delimiter::Byte(separator) = separator else {
        return Ok(Layout::Whole);
    };
    let read_err = |source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let has_header = spec.header.unwrap_or(true);
    let mut p = Pieces {
        path: path.to_path_buf(),
        file,
        header: Vec::new(),
        has_header,
        separator,
        piece_bytes: piece_bytes.max(1),
        carry: Vec::new(),
        schema: None,
        rows: 0,
        at_end: false,
        emitted: false,
    };
    if has_header {
        // The header is the first record: read until its end.
        loop {
            if let Some(cut) = record_end(&p.carry, false) {
                p.header = p.carry.drain(..cut).collect();
                break;
            }
            if p.fill(p.carry.len() + (64 << 10))? == 0 {
                p.header = std::mem::take(&mut p.carry);
                break;
            }
        }
    }
    Ok(Layout::Pieces(p))
}

impl Pieces {
    /// The size of the file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.file.metadata().map_or(0, |m| m.len())
    }

    /// The header and the first record, parsed (without a header, the first record alone): the
    /// file's columns, known before any piece is read.
    pub fn sample(mut self) -> Result<RawTable, IngestError> {
        let cut = loop {
            if let Some(cut) = record_end(&self.carry, false) {
                break cut;
            }
            if self.at_end {
                break self.carry.len();
            }
            self.fill(self.carry.len() + (64 << 10))?;
        };
        let first = self.carry[..cut].to_vec();
        self.parse(first)
    }

    /// Reads from the file into `carry` until it holds `target` bytes or the file ends; returns
    /// the bytes read.
    fn fill(&mut self, target: usize) -> Result<usize, IngestError> {
        let start = self.carry.len();
        if target > start {
            self.carry.reserve(target - start);
        }
        while self.carry.len() < target {
            let n = (&mut self.file)
                .take((target - self.carry.len()) as u64)
                .read_to_end(&mut self.carry)
                .map_err(|source| IngestError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                self.at_end = true;
                break;
            }
        }
        Ok(self.carry.len() - start)
    }

    /// The length of the next piece at the front of `carry` (whole records), reading as
    /// needed; `None` at the end of the file.
    fn next_len(&mut self) -> Result<Option<usize>, IngestError> {
        let mut target = self.piece_bytes;
        loop {
            if !self.at_end && self.carry.len() < target {
                self.fill(target)?;
            }
            if self.at_end && self.carry.len() <= target {
                if self.carry.is_empty() && self.emitted {
                    return Ok(None);
                }
                return Ok(Some(self.carry.len()));
            }
            match record_end(&self.carry[..target.min(self.carry.len())], true) {
                Some(cut) => return Ok(Some(cut)),
                // One record longer than a piece: read on until it ends.
                None => target = target.saturating_mul(2),
            }
        }
    }

    /// The bytes of the next piece (whole records), or `None` at the end of the file.
    fn next_bytes(&mut self) -> Result<Option<Vec<u8>>, IngestError> {
        Ok(self.next_len()?.map(|cut| {
            let rest = self.carry.split_off(cut);
            std::mem::replace(&mut self.carry, rest)
        }))
    }

    /// Calls `f` with the bytes of every piece (whole records, no header), unparsed and in
    /// order, cut where iterating the pieces cuts; one buffer serves every piece.
    pub fn scan(mut self, mut f: impl FnMut(&[u8])) -> Result<(), IngestError> {
        while let Some(cut) = self.next_len()? {
            self.emitted = true;
            f(&self.carry[..cut]);
            self.carry.drain(..cut);
        }
        Ok(())
    }

    fn parse(&mut self, bytes: Vec<u8>) -> Result<RawTable, IngestError> {
        let mut input = Vec::with_capacity(self.header.len() + bytes.len());
        input.extend_from_slice(&self.header);
        input.extend_from_slice(&bytes);
        drop(bytes);
        let frame = csv_options(self.has_header, self.separator, Some(b'"'))
            .with_schema(self.schema.clone())
            .into_reader_with_file_handle(Cursor::new(input))
            .finish()
            .map_err(polars_err(&self.path))?;
        let frame = trim_names(frame).map_err(polars_err(&self.path))?;
        if self.schema.is_none() {
            self.schema = Some(frame.schema().clone());
        }
        let first_line = self.rows + if self.has_header { 2 } else { 1 };
        self.rows += frame.height();
        Ok(RawTable {
            path: self.path.clone(),
            frame,
            first_line,
            has_header: self.has_header,
        })
    }
}

/// Per record of `bytes` (whole records): a 64-bit hash of the record without its quote
/// characters and its line end. Rows that polars parses to identical values have identical
/// hashes (quoting only adds quote characters), so rows whose hash no other row shares are no
/// duplicates; the rest are compared exactly. One record is one row of the parsed piece (an
/// empty line too), which the caller checks by the count.
pub fn record_hashes(bytes: &[u8]) -> Vec<u64> {
    use std::hash::BuildHasher;
    let state = PlSeedableRandomStateQuality::seed_from_u64(0x11e5);
    let quoted = memchr::memchr(b'"', bytes).is_some();
    let hash_records = |part: &[u8]| -> Vec<u64> {
        let mut out = Vec::with_capacity(part.len() / 32 + 1);
        let mut stripped = Vec::new();
        let mut rest = part;
        while !rest.is_empty() {
            let end = if quoted {
                record_end(rest, false).unwrap_or(rest.len())
            } else {
                memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1)
            };
            let mut record = &rest[..end];
            rest = &rest[end..];
            if let Some(r) = record.strip_suffix(b"\n") {
                record = r.strip_suffix(b"\r").unwrap_or(r);
            }
            out.push(if quoted && memchr::memchr(b'"', record).is_some() {
                stripped.clear();
                stripped.extend(record.iter().copied().filter(|b| *b != b'"'));
                state.hash_one(&stripped[..])
            } else {
                state.hash_one(record)
            });
        }
        out
    };
    if quoted {
        // A cut needs the quote parity from the start: one thread.
        return hash_records(bytes);
    }
    // Without quotes every line feed ends a record: one part per thread, cut at line feeds.
    let threads = crate::parallel::threads();
    let mut cuts = vec![0];
    for t in 1..threads {
        let at = (bytes.len() * t / threads).max(*cuts.last().unwrap_or(&0));
        let cut = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        cuts.push(cut);
    }
    cuts.push(bytes.len());
    let parts: Vec<&[u8]> = cuts.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .map(|part| scope.spawn(|| hash_records(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("record hashing thread"))
            .collect()
    })
}

impl Iterator for Pieces {
    type Item = Result<RawTable, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = match self.next_bytes() {
            Ok(Some(b)) => b,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        self.emitted = true;
        Some(self.parse(bytes))
    }
}

/// The end (one past the line feed) of the last whole record in `bytes`, which start at a
/// record boundary; with `last = false`, of the first one. A line feed inside a quoted field does
/// not end a record: a record ends at a line feed after an even number of quotes (a doubled quote
/// inside a field counts twice, so the parity holds).
fn record_end(bytes: &[u8], last: bool) -> Option<usize> {
    if memchr::memchr(b'"', bytes).is_none() {
        let found = if last {
            memchr::memrchr(b'\n', bytes)
        } else {
            memchr::memchr(b'\n', bytes)
        };
        return found.map(|i| i + 1);
    }
    let mut quoted = false;
    let mut end = None;
    for i in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            end = Some(i + 1);
            if !last {
                break;
            }
        }
    }
    end
}

/// Header names come from the file: surrounding spaces and a stray `\r` are not part of them.
fn trim_names(mut df: DataFrame) -> PolarsResult<DataFrame> {
    let names: Vec<PlSmallStr> = df
        .get_column_names()
        .iter()
        .map(|n| PlSmallStr::from(n.trim()))
        .collect();
    df.set_column_names(&names)?;
    Ok(df)
}

/// Picks the delimiter of a file from its first line: the most frequent of comma, tab and
/// semicolon; runs of whitespace when none of them occurs.
fn sniff_delimiter(path: &Path) -> Result<Delimiter, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut first = String::new();
    BufReader::new(file)
        .take(1 << 20)
        .read_line(&mut first)
        .map_err(|source| IngestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let best = [b',', b'\t', b';']
        .into_iter()
        .map(|d| (first.bytes().filter(|b| *b == d).count(), d))
        .max_by_key(|(n, d)| (*n, std::cmp::Reverse(*d)));
    Ok(match best {
        Some((n, d)) if n > 0 => Delimiter::Byte(d),
        _ => Delimiter::Whitespace,
    })
}

/// Rewrites a whitespace-separated file as tab-separated bytes, one output line per input line
/// (so line numbers are preserved); CRLF becomes LF.
fn whitespace_to_tabs(path: &Path) -> Result<Vec<u8>, IngestError> {
    let text = std::fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::with_capacity(text.len());
    for line in text.split(|b| *b == b'\n') {
        let mut first = true;
        for field in line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
        {
            if !first {
                out.push(b'\t');
            }
            out.extend_from_slice(field);
            first = false;
        }
        out.push(b'\n');
    }
    // The split yields one empty piece after a final newline; keep exactly one trailing newline.
    while out.ends_with(b"\n\n") {
        out.pop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_runs_become_single_tabs_and_crlf_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        std::fs::write(
            &p,
            " 00001 19970101  1   11.77\r\n00002\t19970112 1 12.00\r\n",
        )
        .unwrap();
        let bytes = whitespace_to_tabs(&p).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "00001\t19970101\t1\t11.77\n00002\t19970112\t1\t12.00\n"
        );
    }

    #[test]
    fn records_end_at_line_feeds_outside_quotes() {
        assert_eq!(record_end(b"a,b\nc,d\ne", true), Some(8));
        assert_eq!(record_end(b"a,b\nc,d\ne", false), Some(4));
        assert_eq!(record_end(b"a,\"b\nc\",d\ne", true), Some(10));
        assert_eq!(record_end(b"a,\"b\nc", true), None);
        assert_eq!(record_end(b"a,\"b\"\"\nc\"\nd", false), Some(10));
        assert_eq!(record_end(b"abc", true), None);
    }

    /// Rows that parse to the same values hash alike however they are quoted; each record,
    /// an empty line too, gets a hash.
    #[test]
    fn record_hashes_ignore_quoting_and_line_ends() {
        let h = record_hashes(b"a,b\n\"a\",b\r\nab\n\na,c");
        assert_eq!(h.len(), 5);
        assert_eq!(h[0], h[1]);
        assert_ne!(h[0], h[2]);
        assert_ne!(h[0], h[4]);
        let plain = record_hashes(b"x,1\ny,2\nx,1\n");
        assert_eq!((plain.len(), plain[0] == plain[2]), (3, true));
    }

    #[test]
    fn sniffs_the_most_frequent_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        for (line, want) in [
            ("a,b,c\n", Delimiter::Byte(b',')),
            ("a\tb\tc\n", Delimiter::Byte(b'\t')),
            ("a;b;c,d\n", Delimiter::Byte(b';')),
            ("a  b c\n", Delimiter::Whitespace),
        ] {
            std::fs::write(&p, line).unwrap();
            assert_eq!(sniff_delimiter(&p).unwrap(), want, "{line:?}");
        }
    }
}
