//! Reading a source file as it is: every column as text, nothing parsed yet, so that validation
//! can name the row, column and value of every problem.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::*;

use super::config::{Delimiter, SourceFormat, SourceSpec};
use super::diagnose::{self, Dialect};
use super::lines::RecordLines;
use super::schema::TableKind;
use super::IngestError;

/// A source file read as text columns.
#[derive(Debug)]
pub struct RawTable {
    pub path: PathBuf,
    /// Every column as `String`, in file order.
    pub frame: DataFrame,
    /// Whether the file's own header named the columns (headerless files get `column_1`…).
    pub has_header: bool,
    /// The line of the file on which each row starts: set when read, or on first use (see
    /// [`RawTable::lines`]).
    lines: OnceLock<RecordLines>,
    /// The data a database source read (none for a file: its bytes are its fingerprint).
    pub(crate) fingerprint: Option<super::Fingerprint>,
}

impl RawTable {
    pub(crate) fn new(
        path: &Path,
        frame: DataFrame,
        has_header: bool,
        lines: Option<RecordLines>,
    ) -> Self {
        RawTable {
            path: path.to_path_buf(),
            frame,
            has_header,
            lines: lines.map(OnceLock::from).unwrap_or_default(),
            fingerprint: None,
        }
    }

    /// The line of the file (1-based, the header is line 1) on which each row starts, counted
    /// through line feeds inside quoted values. A delimited file polars read whole is scanned
    /// for them only here, once, when a line is first needed (a reject, a duplicate): a file
    /// without a bad row is not read a second time.
    pub(crate) fn lines(&self) -> Result<&RecordLines, IngestError> {
        if let Some(lines) = self.lines.get() {
            return Ok(lines);
        }
        let scanned = scan_lines(&self.path, self.has_header)?;
        Ok(self.lines.get_or_init(|| scanned))
    }
}

/// The lines of the rows of the delimited file at `path`, by one pass over its bytes in
/// blocks (memory stays bounded).
fn scan_lines(path: &Path, has_header: bool) -> Result<RecordLines, IngestError> {
    let read_err = |source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut block = vec![0; 1 << 20];
    let mut lines = RecordLines::starting_at(1);
    loop {
        match file.read(&mut block) {
            Ok(0) => break,
            Ok(n) => lines.feed(&block[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    }
    Ok(lines.skip(u64::from(has_header)))
}

/// Reads a source file (CSV/whitespace text or Parquet) with every column as text.
pub fn read_raw(path: &Path, spec: &SourceSpec, table: TableKind) -> Result<RawTable, IngestError> {
    if is_dataset(path, spec) {
        return super::dataset::read_dataset(path);
    }
    check_input(path, table)?;
    match source_format(path, spec) {
        SourceFormat::Parquet => read_parquet(path),
        SourceFormat::Csv => read_delimited(path, spec, table),
    }
}

/// The longest record read in pieces: one record longer than a piece is read on until it ends,
/// so without a bound a file without line ends would grow memory to its whole size. No real
/// customer or order line comes near it.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// An input must exist and be a regular file, checked from its metadata before it is opened: a
/// FIFO would block the open, a device such as `/dev/zero` never end.
pub(crate) fn check_input(path: &Path, table: TableKind) -> Result<(), IngestError> {
    match crate::io::not_a_regular_file(path) {
        Ok(None) => Ok(()),
        Ok(Some(what)) => Err(IngestError::NotRegularFile {
            table,
            path: path.to_path_buf(),
            what,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(IngestError::MissingFile {
            table,
            path: path.to_path_buf(),
        }),
        Err(source) => Err(IngestError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Whether `path` is a folder read as one Parquet table: a folder named without an extension or
/// `.parquet`, or with `format = "parquet"`. A folder configured or named as another format
/// (`orders.csv/`, as Spark writes CSV) is refused by [`check_input`] as not a file.
pub(super) fn is_dataset(path: &Path, spec: &SourceSpec) -> bool {
    let named_parquet = path.extension().is_none() || crate::io::is_parquet_file(path);
    path.is_dir()
        && match spec.format {
            Some(SourceFormat::Parquet) => true,
            Some(SourceFormat::Csv) => false,
            None => named_parquet,
        }
}

/// The configured format, else the one the extension names (`.parquet`/`.pq`, else CSV).
fn source_format(path: &Path, spec: &SourceSpec) -> SourceFormat {
    spec.format.unwrap_or(if crate::io::is_parquet_file(path) {
        SourceFormat::Parquet
    } else {
        SourceFormat::Csv
    })
}

/// The one-byte separator of `path` when it is a delimited file with a header that the fast
/// path may read (`fast.rs`); `None` for anything else, or when the file cannot be opened
/// (the general path then names the problem).
pub(super) fn plain_separator(path: &Path, spec: &SourceSpec, table: TableKind) -> Option<u8> {
    if is_dataset(path, spec)
        || check_input(path, table).is_err()
        || source_format(path, spec) != SourceFormat::Csv
        || !spec.header.unwrap_or(true)
    {
        return None;
    }
    match spec.delimiter(table).ok()? {
        Delimiter::Auto => match sniff_delimiter(path).ok()? {
            Delimiter::Byte(b) => Some(b),
            _ => None,
        },
        Delimiter::Byte(b) => Some(b),
        Delimiter::Whitespace => None,
    }
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

pub(super) fn polars_err(path: &Path) -> impl FnOnce(PolarsError) -> IngestError + '_ {
    move |source| IngestError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

fn read_parquet(path: &Path) -> Result<RawTable, IngestError> {
    let columns = parquet_text_columns(path)?;
    let frame = DataFrame::new_infer_height(columns).map_err(polars_err(path))?;
    Ok(RawTable::new(
        path,
        frame,
        true,
        Some(RecordLines::starting_at(1)),
    ))
}

/// A Parquet file's columns as text, in file order.
pub(super) fn parquet_text_columns(path: &Path) -> Result<Vec<Column>, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(polars_err(path))?;
    // Dates and numbers stored natively are rendered to text and parsed again by the one
    // validation path, so a Parquet file and the same data as CSV give identical tables.
    df.columns()
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
        .collect()
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
    let (frame, lines) = match delimiter {
        Delimiter::Byte(sep) => {
            let dialect = Dialect {
                sep,
                quote: Some(b'"'),
                has_header,
            };
            if has_header {
                check_header(path, &read_header(path)?, dialect)?;
            }
            let frame = options(sep, Some(b'"'))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                .map_err(|e| match std::fs::read(path) {
                    Ok(bytes) => parse_failure(path, e, &bytes, dialect, 0),
                    Err(_) => unparsed(path, &e),
                })?;
            // Quoted values may hold line feeds: found when a line is first needed.
            (frame, None)
        }
        Delimiter::Whitespace | Delimiter::Auto => {
            // polars has no "runs of whitespace" separator: normalise each line to
            // tab-separated fields in memory (a field cannot contain whitespace in this format).
            let bytes = whitespace_to_tabs(path)?;
            let dialect = Dialect {
                sep: b'\t',
                quote: None,
                has_header,
            };
            if has_header {
                let end = memchr::memchr(b'\n', &bytes).map_or(bytes.len(), |i| i + 1);
                check_header(path, &bytes[..end], dialect)?;
            }
            let frame = options(b'\t', None)
                .into_reader_with_file_handle(Cursor::new(&bytes[..]))
                .finish()
                .map_err(|e| parse_failure(path, e, &bytes, dialect, 0))?;
            // No quotes: one line per record, as the rewrite keeps them.
            let first_line = if has_header { 2 } else { 1 };
            (frame, Some(RecordLines::starting_at(first_line)))
        }
    };
    let frame = trim_names(frame).map_err(polars_err(path))?;
    Ok(RawTable::new(path, frame, has_header, lines))
}

/// The header record of a file (with its line end), read up to its end.
fn read_header(path: &Path) -> Result<Vec<u8>, IngestError> {
    let read_err = |source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut header = Vec::new();
    loop {
        let n = (&mut file)
            .take(64 << 10)
            .read_to_end(&mut header)
            .map_err(read_err)?;
        // A line feed in the new bytes (or a quoted one before them) may end the record.
        if let Some(cut) = record_end(&header, false) {
            header.truncate(cut);
            return Ok(header);
        }
        if n == 0 {
            return Ok(header);
        }
        if header.len() > MAX_RECORD_BYTES {
            return Err(IngestError::RecordTooLong {
                path: path.to_path_buf(),
                offset: 0,
            });
        }
    }
}

/// A header must name each column once (after trimming): with a name twice, which column a
/// mapping means would be a silent choice.
fn check_header(path: &Path, header: &[u8], dialect: Dialect) -> Result<(), IngestError> {
    let names = diagnose::header_names(header, dialect.sep, dialect.quote);
    let names = diagnose::repeated_names(&names);
    if names.is_empty() {
        return Ok(());
    }
    Err(IngestError::RepeatedColumns {
        path: path.to_path_buf(),
        names,
    })
}

/// polars refused the file whose bytes (from byte `offset` of the file; a piece starts with the
/// header) are `bytes`: the byte scan names the line, column and value when it finds the
/// problem, else polars' own first line.
fn parse_failure(
    path: &Path,
    e: PolarsError,
    bytes: &[u8],
    dialect: Dialect,
    lines_before: u64,
) -> IngestError {
    match diagnose::diagnose(bytes, dialect) {
        Some(p) => IngestError::Parse {
            path: path.to_path_buf(),
            line: p.line + lines_before,
            column: p.column,
            expected: p.expected,
            found: p.found,
        },
        None => unparsed(path, &e),
    }
}

fn unparsed(path: &Path, e: &PolarsError) -> IngestError {
    IngestError::Unparsed {
        path: path.to_path_buf(),
        message: super::first_line(e),
    }
}

/// A delimited source read in pieces of about `piece_bytes`, each cut at the end of a record:
/// for files too large to hold as one frame of text (200M order lines as text columns take
/// ~22 GB). Every piece is a [`RawTable`] whose lines continue the previous piece's (quoted line
/// feeds counted), with the file's own column names, so validating the pieces one by one names
/// the same lines as validating the whole file. The first piece is read without a schema, as
/// [`read_raw`] reads the whole file; later pieces get its schema, so every piece has the same
/// columns.
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
    /// The line of the file on which the next piece starts.
    next_line: u64,
    at_end: bool,
    emitted: bool,
    /// Bytes of the file before `carry`: where the next record starts.
    consumed: u64,
    /// [`MAX_RECORD_BYTES`] (smaller in tests).
    max_record: usize,
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
    if is_dataset(path, spec) {
        return Ok(Layout::Whole);
    }
    check_input(path, table)?;
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
        next_line: 1,
        at_end: false,
        emitted: false,
        consumed: 0,
        max_record: MAX_RECORD_BYTES,
    };
    if has_header {
        // The header is the first record: read until its end.
        loop {
            if let Some(cut) = record_end(&p.carry, false) {
                p.header = p.carry.drain(..cut).collect();
                p.consumed = cut as u64;
                break;
            }
            p.check_record_len(p.carry.len())?;
            if p.fill(p.carry.len() + (64 << 10))? == 0 {
                p.header = std::mem::take(&mut p.carry);
                p.consumed = p.header.len() as u64;
                break;
            }
        }
        check_header(path, &p.header, p.dialect())?;
        p.next_line += p.header_lines();
    }
    Ok(Layout::Pieces(p))
}

impl Pieces {
    /// The separator between fields.
    pub fn separator(&self) -> u8 {
        self.separator
    }

    /// The line of the file on which the next piece starts (the first, before any is read).
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

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
            self.check_record_len(self.carry.len())?;
            self.fill(self.carry.len() + (64 << 10))?;
        };
        let first = self.carry[..cut].to_vec();
        self.parse(first)
    }

    fn dialect(&self) -> Dialect {
        Dialect {
            sep: self.separator,
            quote: Some(b'"'),
            has_header: self.has_header,
        }
    }

    /// The lines of the header record (quoted line feeds included).
    fn header_lines(&self) -> u64 {
        memchr::memchr_iter(b'\n', &self.header).count() as u64
    }

    /// Fails when the record at the front of `carry` is already `len` bytes long without its end.
    fn check_record_len(&self, len: usize) -> Result<(), IngestError> {
        if len > self.max_record {
            return Err(IngestError::RecordTooLong {
                path: self.path.clone(),
                offset: self.consumed,
            });
        }
        Ok(())
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
                None => {
                    self.check_record_len(target.min(self.carry.len()))?;
                    target = target.saturating_mul(2);
                }
            }
        }
    }

    /// The bytes of the next piece (whole records), or `None` at the end of the file.
    fn next_bytes(&mut self) -> Result<Option<Vec<u8>>, IngestError> {
        Ok(self.next_len()?.map(|cut| {
            self.consumed += cut as u64;
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
            self.consumed += cut as u64;
        }
        Ok(())
    }

    /// Parses the piece `bytes` (whole records, the next of the file).
    fn parse(&mut self, bytes: Vec<u8>) -> Result<RawTable, IngestError> {
        let mut input = Vec::with_capacity(self.header.len() + bytes.len());
        input.extend_from_slice(&self.header);
        input.extend_from_slice(&bytes);
        drop(bytes);
        let frame = csv_options(self.has_header, self.separator, Some(b'"'))
            .with_schema(self.schema.clone())
            .into_reader_with_file_handle(Cursor::new(&input[..]))
            .finish()
            .map_err(|e| self.piece_failure(e, &input))?;
        let frame = trim_names(frame).map_err(polars_err(&self.path))?;
        if self.schema.is_none() {
            self.schema = Some(frame.schema().clone());
        }
        let mut lines = RecordLines::starting_at(self.next_line);
        lines.feed_records(&input[self.header.len()..], frame.height() as u64);
        self.next_line = lines.next_line();
        Ok(RawTable::new(
            &self.path,
            frame,
            self.has_header,
            Some(lines),
        ))
    }
}

impl Pieces {
    /// [`parse_failure`] for a piece (the header, then the piece's bytes): lines past the header
    /// are lines of the piece, which starts on line `next_line` of the file.
    fn piece_failure(&self, e: PolarsError, input: &[u8]) -> IngestError {
        let header_lines = self.header_lines();
        match parse_failure(&self.path, e, input, self.dialect(), 0) {
            IngestError::Parse {
                path,
                line,
                column,
                expected,
                found,
            } if line > header_lines => IngestError::Parse {
                path,
                line: line - header_lines + self.next_line - 1,
                column,
                expected,
                found,
            },
            other => other,
        }
    }
}

/// Per record of `bytes` (whole records separated by `sep`): a 64-bit hash of the record's
/// values (quotes resolved) without its line end, the fields at `ids` by their canonical form
/// (the identity rule). Rows that a whole-file validation finds identical (polars' values, ids
/// canonical) have identical hashes, so rows whose hash no other row shares are no duplicates;
/// the rest are compared exactly. One record is one row of the parsed piece (an empty line too),
/// which the caller checks by the count.
pub fn record_hashes(bytes: &[u8], sep: u8, ids: &[usize]) -> Vec<u64> {
    use std::hash::BuildHasher;
    let state = PlSeedableRandomStateQuality::seed_from_u64(0x11e5);
    let quoted = memchr::memchr(b'"', bytes).is_some();
    let hash_records = |part: &[u8]| -> Vec<u64> {
        let mut out = Vec::with_capacity(part.len() / 32 + 1);
        let mut buf = (Vec::new(), Vec::new());
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
            out.push(state.hash_one(hash_form(record, sep, ids, quoted, &mut buf)));
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

/// What [`record_hashes`] hashes of one record (without its line end): the record itself when
/// it has no quote and its id fields are canonical already (nearly always: one look at the id
/// field), else its values joined by `sep`, quotes resolved and ids canonical. The two agree on
/// a record that needs neither, so equal rows hash alike whichever way each one went.
fn hash_form<'a>(
    record: &'a [u8],
    sep: u8,
    ids: &[usize],
    quoted: bool,
    buf: &'a mut (Vec<u8>, Vec<usize>),
) -> &'a [u8] {
    let has_quote = quoted && memchr::memchr(b'"', record).is_some();
    if !has_quote && !ids_change(record, sep, ids) {
        return record;
    }
    if has_quote {
        // Every record of a fully quoted export comes here: values into one buffer, no
        // allocation per field unless an id needs the identity rule.
        let (values, ends) = (&mut buf.0, &mut buf.1);
        diagnose::unquote_into(record, sep, Some(b'"'), values, ends);
        let id_changes = ids.iter().any(|&i| {
            let Some(&end) = ends.get(i) else {
                return false;
            };
            let start = if i == 0 { 0 } else { ends[i - 1] + 1 };
            crate::ids::field_needs_canonical(&values[start..end])
        });
        if !id_changes {
            return &buf.0;
        }
    }
    let mut fields = if has_quote {
        diagnose::split_record(record, sep, Some(b'"'))
    } else {
        record.split(|b| *b == sep).map(<[u8]>::to_vec).collect()
    };
    for &i in ids {
        if let Some(f) = fields.get_mut(i) {
            if let Ok(text) = std::str::from_utf8(f) {
                *f = crate::ids::canonical_id(text).into_owned().into_bytes();
            }
        }
    }
    let out = &mut buf.0;
    out.clear();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend_from_slice(f);
    }
    out
}

/// Whether the identity rule could change an id field of an unquoted record: a non-ASCII byte,
/// or whitespace at either end.
fn ids_change(record: &[u8], sep: u8, ids: &[usize]) -> bool {
    let Some(&last) = ids.iter().max() else {
        return false;
    };
    record
        .split(|b| *b == sep)
        .take(last + 1)
        .enumerate()
        .any(|(i, f)| ids.contains(&i) && crate::ids::field_needs_canonical(f))
}

/// The end (one past the line feed) of the last whole record in `bytes`, which start at a
/// record boundary; with `last = false`, of the first one. A line feed inside a quoted field does
/// not end a record: a record ends at a line feed after an even number of quotes (a doubled quote
/// inside a field counts twice, so the parity holds).
fn record_end(bytes: &[u8], last: bool) -> Option<usize> {
    // Only for the last end: the loop below stops at the first one, and a look for a quote
    // first would read all of `bytes` for each record (quadratic when hashing a piece record by
    // record, with a quote only far from most records).
    if last && memchr::memchr(b'"', bytes).is_none() {
        return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
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

/// Lines the sniffer reads to tell a whitespace-separated file from a one-column one.
const SNIFF_LINES: usize = 20;

/// Picks the delimiter of a file from its first line: the most frequent of comma, tab and
/// semicolon. When none occurs, runs of whitespace if the first lines all split into the same
/// number (above one) of fields; else the file has one column, whose header and values may hold
/// spaces (a lone header `Client Ref` is one name, not two), read with a comma that no line has.
fn sniff_delimiter(path: &Path) -> Result<Delimiter, IngestError> {
    let read_err = |source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let mut reader = BufReader::new(file).take(1 << 20);
    let mut lines = Vec::new();
    for _ in 0..SNIFF_LINES {
        // Bytes, not text: invalid UTF-8 is reported by the reader with its line and column.
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        if !line.trim().is_empty() {
            lines.push(line);
        }
    }
    let first = lines.first().map(String::as_str).unwrap_or_default();
    let best = [b',', b'\t', b';']
        .into_iter()
        .map(|d| (first.bytes().filter(|b| *b == d).count(), d))
        .max_by_key(|(n, d)| (*n, std::cmp::Reverse(*d)));
    Ok(match best {
        Some((n, d)) if n > 0 => Delimiter::Byte(d),
        _ if one_column(&lines) => Delimiter::Byte(b','),
        _ => Delimiter::Whitespace,
    })
}

/// Whether lines without comma, tab or semicolon in the first are one column: their whitespace
/// splits do not agree on one field count above one.
fn one_column(lines: &[String]) -> bool {
    let fields = |l: &str| l.split_whitespace().count();
    let Some(first) = lines.first().map(|l| fields(l)) else {
        return false;
    };
    first == 1 || lines.iter().any(|l| fields(l) != first)
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
        let h = record_hashes(b"a,b\n\"a\",b\r\nab\n\na,c", b',', &[]);
        assert_eq!(h.len(), 5);
        assert_eq!(h[0], h[1]);
        assert_ne!(h[0], h[2]);
        assert_ne!(h[0], h[4]);
        let plain = record_hashes(b"x,1\ny,2\nx,1\n", b',', &[]);
        assert_eq!((plain.len(), plain[0] == plain[2]), (3, true));
    }

    /// A piece with one quoted value hashes its records in one pass: finding each record's end
    /// does not read the rest of the piece again (it did: 87 s for 20 MB in pieces of 16 MiB).
    #[test]
    fn record_hashes_of_a_piece_with_one_quote_take_one_pass() {
        let mut piece = b"1,\"a\"\n".to_vec();
        for i in 0..400_000 {
            piece.extend_from_slice(format!("{i},b\n").as_bytes());
        }
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(record_hashes(&piece, b',', &[]).len()));
        // Quadratic, this is ~1.5 TB of reading: far past the limit.
        let hashed = receive.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(hashed, Ok(400_001));
    }

    /// Ids hash by their canonical form, quoted or not; other fields as they are.
    #[test]
    fn record_hashes_compare_ids_by_the_identity_rule() {
        let h = record_hashes(
            " 01,x\n01\u{200B},x\n\"\u{FF10}1 \",x\n01, x\n\"01\",\"x\"\n".as_bytes(),
            b',',
            &[0],
        );
        assert_eq!(h.len(), 5);
        assert!(
            h[1..]
                .iter()
                .enumerate()
                .all(|(i, x)| (*x == h[0]) == (i != 2)),
            "{h:?}"
        );
        // Without the id rule the padded id is another value.
        let raw = record_hashes(b" 01,x\n01,x\n", b',', &[]);
        assert_ne!(raw[0], raw[1]);
    }

    /// A record without a line end stops at the bound instead of growing memory to the whole
    /// file; the error names where it starts.
    #[test]
    fn a_record_longer_than_the_bound_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut text = b"customer_id,order_date,amount\na,2024-01-01,1\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 5_000));
        std::fs::write(&p, &text).unwrap();
        let spec = SourceSpec::default();
        let Layout::Pieces(mut pieces) = pieces(&p, &spec, TableKind::Transactions, 64).unwrap()
        else {
            panic!("a comma-separated file is read in pieces");
        };
        pieces.max_record = 1_000;
        let err = pieces.scan(|_| {}).unwrap_err();
        assert!(
            matches!(err, IngestError::RecordTooLong { offset: 45, .. }),
            "{err}"
        );
    }

    #[test]
    fn folders_and_fifos_are_refused_before_they_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        // A folder is a Parquet dataset unless another format is configured.
        let csv = SourceSpec {
            format: Some(SourceFormat::Csv),
            ..SourceSpec::default()
        };
        let err = read_raw(dir.path(), &csv, TableKind::Customers).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}`: not a regular file but a folder (the customers table); give a file",
                dir.path().display()
            )
        );
        let spec = SourceSpec::default();
        let err = read_raw(dir.path(), &spec, TableKind::Customers).unwrap_err();
        assert!(err.to_string().contains("no Parquet files"), "{err}");
        #[cfg(unix)]
        {
            let fifo = dir.path().join("t.csv");
            let status = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(status.success());
            // Opening the FIFO would block this test forever.
            for err in [
                read_raw(&fifo, &spec, TableKind::Transactions).err(),
                pieces(&fifo, &spec, TableKind::Transactions, 64).err(),
            ] {
                assert!(
                    matches!(err, Some(IngestError::NotRegularFile { what, .. }) if what.contains("FIFO"))
                );
            }
        }
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
            ("a  b c\n1 2  3\n", Delimiter::Whitespace),
            ("Client Ref\nC 001\nC002\n", Delimiter::Byte(b',')),
            ("customer_id\n00001\n00002\n", Delimiter::Byte(b',')),
        ] {
            std::fs::write(&p, line).unwrap();
            assert_eq!(sniff_delimiter(&p).unwrap(), want, "{line:?}");
        }
    }
}
