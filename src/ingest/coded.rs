//! The coded path of ingest: a plain file (as `fast.rs` defines it: no quotes, no `\r`, every
//! line as many fields as the header, every row good) parsed straight from its bytes into what
//! a consumer of millions of rows keeps — ids and texts as codes numbered in order of first
//! appearance, numbers and days as plain vectors — with no text column, no frame and no second
//! pass over the values. The features' keyed lines are built from it (`features::LineParts`).
//!
//! Like `fast.rs` it never decides a row's fate: at the first value it cannot vouch for, or when
//! two records may be copies, it gives up and the caller validates the file by the general path,
//! which names every problem. The acceptance tests per value are `fast.rs`'s own, so a file this
//! path takes is one the fast path takes, with the same values (`coded_tests.rs`).
//!
//! The file is read in pieces of whole lines (one piece when it fits `piece_bytes`); each piece
//! is cut into parts parsed on every core, each part numbering its own values, and the parts'
//! numbers are then renumbered into the file's in part order, so the codes do not depend on the
//! number of threads or pieces.

use std::hash::BuildHasher;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::config::SourceSpec;
use super::fast::{self, Rules};
use super::schema::{ColumnType, TableKind};
use super::summary::{self, TableSummary};
use super::validate::{self, PlainColumn};
use super::IngestError;
use crate::types::Codebook;

/// The code of a missing id or text.
pub const MISSING_CODE: u32 = u32::MAX;
/// The day of a missing date (no date ingest keeps is this far from 1970).
pub const MISSING_DAY: i32 = i32::MIN;

/// Bytes of a part parsed by one task: small enough for both cores to share a piece evenly,
/// large enough that the renumbering of each part's codes stays a small cost.
const PART_BYTES: usize = 8 << 20;

/// What a column gives its consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Checked only.
    Check,
    /// An id or text as codes; a number as `f64` (NaN: missing); a date as a day (days since
    /// 1970-01-01, [`MISSING_DAY`]: missing).
    Values,
}

/// One column of a piece, in the order of [`CodedReader::columns`].
#[derive(Debug)]
pub enum Coded {
    Checked,
    /// Per row, the code of its value in the file's numbering ([`MISSING_CODE`]: missing).
    Codes(Vec<u32>),
    /// Per row (NaN: missing; a plain number is never NaN).
    Numbers(Vec<f64>),
    /// Per row ([`MISSING_DAY`]: missing).
    Days(Vec<i32>),
}

/// The rows of one part of a piece, every column in [`CodedReader::columns`] order.
#[derive(Debug)]
pub struct CodedPart {
    pub rows: usize,
    pub columns: Vec<Coded>,
}

/// The next rows of the file, in file order: the parts of one piece.
#[derive(Debug)]
pub struct CodedPiece {
    pub parts: Vec<CodedPart>,
}

/// Reads a plain file piece by piece into codes and values. Every piece read so far is one
/// [`CodedReader::finish`] vouches for only when it returns `Some`: a consumer must not keep
/// what it built from the pieces otherwise.
pub struct CodedReader {
    path: PathBuf,
    table: TableKind,
    file: std::fs::File,
    piece_bytes: usize,
    /// Bytes of a part of a piece parsed by one task.
    part_bytes: usize,
    file_len: u64,
    /// Where the next piece starts: after the header, then after the last line read.
    pos: u64,
    /// Where the first record starts.
    body_start: u64,
    columns: Vec<PlainColumn>,
    keep: Vec<Keep>,
    rules: Rules,
    /// Per field of a line, the column that reads it (if any).
    readers: Vec<Option<usize>>,
    /// Per column kept as codes, the file's numbering of its values.
    levels: Vec<Option<Codebook>>,
    /// A hash of every record's bytes: a repeated one is a possible copy.
    hashes: HashBuckets,
    rows: usize,
    returns: usize,
}

impl CodedReader {
    /// A reader of the file at `path` when it is a plain file whose columns the fast path
    /// builds; `None` otherwise (the caller validates it by the general path). Its columns are
    /// checked only until [`CodedReader::keep`] asks for their values (the summary's customer
    /// ids and product codes are always kept).
    pub fn open(
        table: TableKind,
        path: &Path,
        spec: &SourceSpec,
        as_of: Option<NaiveDate>,
        piece_bytes: usize,
    ) -> Result<Option<CodedReader>, IngestError> {
        let Some(separator) = fast::plain_separator(path, spec, table) else {
            return Ok(None);
        };
        let read_err = |source| IngestError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let file_len = file.metadata().map_err(read_err)?.len();
        // The header is one short line: read a little at a time until its end.
        let mut head = Vec::new();
        let header_end = loop {
            if let Some(i) = memchr::memchr(b'\n', &head) {
                break i;
            }
            if head.len() > super::MAX_RECORD_BYTES {
                return Ok(None);
            }
            let mut buf = [0u8; 4096];
            let n = file.read(&mut buf).map_err(read_err)?;
            if n == 0 {
                return Ok(None);
            }
            head.extend_from_slice(&buf[..n]);
        };
        if !fast::plain_bytes(&head[..header_end]) {
            return Ok(None);
        }
        let Ok(header) = std::str::from_utf8(&head[..header_end]) else {
            return Ok(None);
        };
        let Some(names) = fast::header_names(header, separator) else {
            return Ok(None);
        };
        let Some(columns) = fast::plan(path, &names, table, spec) else {
            return Ok(None);
        };
        // A field read by two columns (a source column mapped twice) takes the general path.
        let mut readers: Vec<Option<usize>> = vec![None; names.len()];
        for (i, c) in columns.iter().enumerate() {
            match readers.get_mut(c.position) {
                Some(r @ None) => *r = Some(i),
                _ => return Ok(None),
            }
        }
        let mut reader = CodedReader {
            path: path.to_path_buf(),
            table,
            file,
            piece_bytes: piece_bytes.max(1),
            part_bytes: PART_BYTES,
            file_len,
            pos: header_end as u64 + 1,
            body_start: header_end as u64 + 1,
            keep: vec![Keep::Check; columns.len()],
            rules: Rules::new(separator, names.len(), as_of),
            readers,
            levels: (0..columns.len()).map(|_| None).collect(),
            hashes: HashBuckets::new(),
            rows: 0,
            returns: 0,
            columns,
        };
        // The summary counts the distinct customers and product codes.
        reader.keep("customer_id", Keep::Values);
        reader.keep("product_id", Keep::Values);
        Ok(Some(reader))
    }

    /// What canonical column `name` gives from the next piece on (nothing when the file lacks
    /// it). Ask before the first piece: codes number values from where they are first kept.
    pub fn keep(&mut self, name: &str, keep: Keep) {
        let Some(i) = self.position(name) else {
            return;
        };
        self.keep[i] = keep;
        let coded = keep == Keep::Values
            && matches!(self.columns[i].kind, ColumnType::Id | ColumnType::Text);
        if coded && self.levels[i].is_none() {
            self.levels[i] = Some(Codebook::default());
        }
    }

    /// Parts of `bytes` instead of [`PART_BYTES`] (tests cut small files in many parts).
    #[cfg(test)]
    pub(super) fn with_part_bytes(mut self, bytes: usize) -> CodedReader {
        self.part_bytes = bytes.max(1);
        self
    }

    /// The rows the whole file is expected to hold, from `rows` read so far and the share of
    /// the file's bytes they took (1% over, so that a growing table is allocated once: doubling
    /// a vector of 200M rows would briefly hold it one and a half times).
    pub fn expected_rows(&self, rows: usize) -> usize {
        if self.pos >= self.file_len {
            return rows;
        }
        let read = self.pos.saturating_sub(self.body_start).max(1);
        let body = self.file_len.saturating_sub(self.body_start);
        let estimate = rows as f64 * body as f64 / read as f64 * 1.01;
        (estimate.ceil() as usize).max(rows)
    }

    /// The canonical columns, in the order a validation gives them.
    #[cfg(test)]
    pub(super) fn columns(&self) -> &[PlainColumn] {
        &self.columns
    }

    /// A table with the validated table's columns and types and no rows.
    pub fn empty_frame(&self) -> PolarsResult<DataFrame> {
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let dtype = match c.kind {
                    ColumnType::Number => DataType::Float64,
                    ColumnType::Date => DataType::Date,
                    _ => DataType::String,
                };
                Column::new_empty(c.canonical.as_str().into(), &dtype)
            })
            .collect();
        DataFrame::new(0, columns)
    }

    /// The values numbered so far of canonical column `name` (kept as codes), by code.
    pub fn levels(&self, name: &str) -> Option<&[String]> {
        self.levels[self.position(name)?]
            .as_ref()
            .map(Codebook::texts)
    }

    /// Which column `name` is, in [`CodedReader::columns`] order.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.canonical == name)
    }

    /// The next piece of the file, the end, or a refusal (see [`Step`]).
    pub fn next_piece(&mut self) -> Result<Step, IngestError> {
        let Some(window) = self.read_piece()? else {
            return Ok(Step::End);
        };
        let bytes = window.bytes();
        // The rest of `fast::plain_bytes` (no quote, no `\r`) is checked part by part.
        if bytes.starts_with(fast::BYTE_ORDER_MARK) {
            return Ok(Step::NotPlain);
        }
        let parts = split_parts(bytes, self.part_bytes);
        let parsed: Vec<Option<LocalPart<'_>>> = parts
            .par_iter()
            .map(|p| parse_part(p, &self.columns, &self.keep, &self.readers, &self.rules))
            .collect();
        let Some(parsed) = parsed.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(Step::NotPlain);
        };
        let piece_rows: usize = parsed.iter().map(|p| p.rows).sum();
        self.rows += piece_rows;
        let expected = self.expected_rows(self.rows);
        self.hashes.reserve_total(expected);
        self.hashes.extend(&parsed);
        let maps = self.number_levels(&parsed)?;
        let amount = (self.table == TableKind::Transactions)
            .then(|| self.position("amount"))
            .flatten();
        // Each part's codes in the file's numbering, and its returns, on every core.
        let out: Vec<(CodedPart, usize)> = parsed
            .into_par_iter()
            .zip(maps)
            .map(|(part, maps)| {
                let mut returns = 0;
                let columns = part
                    .columns
                    .into_iter()
                    .zip(maps)
                    .enumerate()
                    .map(|(i, (column, map))| match column {
                        LocalColumn::Checked => Coded::Checked,
                        LocalColumn::Numbers(v) => {
                            if amount == Some(i) {
                                returns = v.iter().filter(|a| **a <= 0.0).count();
                            }
                            Coded::Numbers(v)
                        }
                        LocalColumn::Days(v) => Coded::Days(v),
                        LocalColumn::Codes(local) => {
                            let mut codes = local.codes;
                            for c in codes.iter_mut().filter(|c| **c != MISSING_CODE) {
                                *c = map[*c as usize];
                            }
                            Coded::Codes(codes)
                        }
                    })
                    .collect();
                let part = CodedPart {
                    rows: part.rows,
                    columns,
                };
                (part, returns)
            })
            .collect();
        self.returns += out.iter().map(|(_, r)| r).sum::<usize>();
        Ok(Step::Piece(CodedPiece {
            parts: out.into_iter().map(|(p, _)| p).collect(),
        }))
    }

    /// Per part and column kept as codes, the file's code of each of the part's levels (empty
    /// for other columns): numbered in part order, so the codes do not depend on the cutting.
    fn number_levels(
        &mut self,
        parsed: &[LocalPart<'_>],
    ) -> Result<Vec<Vec<Vec<u32>>>, IngestError> {
        for (i, levels) in self.levels.iter_mut().enumerate() {
            let new: usize = parsed
                .iter()
                .map(|p| match &p.columns[i] {
                    LocalColumn::Codes(local) => local.levels.len(),
                    _ => 0,
                })
                .sum();
            if let Some(levels) = levels {
                levels.reserve(new);
            }
        }
        let mut maps = Vec::with_capacity(parsed.len());
        for part in parsed {
            let mut part_maps = Vec::with_capacity(part.columns.len());
            for (i, column) in part.columns.iter().enumerate() {
                let LocalColumn::Codes(local) = column else {
                    part_maps.push(Vec::new());
                    continue;
                };
                let Some(levels) = self.levels[i].as_mut() else {
                    return Err(bug(&self.path, "codes of a column not kept as codes"));
                };
                // A part's values are checked UTF-8 (the whole part is).
                part_maps.push(
                    local
                        .levels
                        .iter()
                        .zip(&local.hashes)
                        .map(|(v, h)| {
                            levels.code_hashed(std::str::from_utf8(v).unwrap_or_default(), *h)
                        })
                        .collect(),
                );
            }
            maps.push(part_maps);
        }
        Ok(maps)
    }

    /// The next piece: a window of the file mapped into memory (no copy of its bytes) that
    /// ends at a line end, or at the end of the file (whose last line may lack its line end).
    /// The file must not shrink while it is read (as for any reader of a mapped file).
    fn read_piece(&mut self) -> Result<Option<Window>, IngestError> {
        if self.pos >= self.file_len {
            return Ok(None);
        }
        // A mapping starts on a page boundary: 64 KiB is a multiple of every common page size.
        let page = 1u64 << 16;
        let aligned = self.pos - self.pos % page;
        let skip = (self.pos - aligned) as usize;
        let mut want = self.piece_bytes as u64;
        loop {
            let len = (skip as u64 + want).min(self.file_len - aligned);
            let map = unsafe {
                // SAFETY: a read-only private mapping of a regular file; its bytes are only read.
                memmap2::MmapOptions::new()
                    .offset(aligned)
                    .len(len as usize)
                    .populate()
                    .map(&self.file)
            }
            .map_err(|source| IngestError::Read {
                path: self.path.clone(),
                source,
            })?;
            if aligned + len >= self.file_len {
                self.pos = self.file_len;
                return Ok(Some(Window {
                    map,
                    start: skip,
                    end: len as usize,
                }));
            }
            // A line longer than a piece: map on to its end.
            if let Some(i) = memchr::memrchr(b'\n', &map[skip..]) {
                let end = skip + i + 1;
                self.pos = aligned + end as u64;
                return Ok(Some(Window {
                    map,
                    start: skip,
                    end,
                }));
            }
            want *= 2;
        }
    }

    /// Rejects (none) and summary of the whole file, or `None` when two records may be copies
    /// or the file had no row: the general path decides those.
    pub fn finish(self) -> Result<Option<(DataFrame, TableSummary)>, IngestError> {
        if self.rows == 0 || self.hashes.any_repeated() {
            return Ok(None);
        }
        let polars = |source| IngestError::Polars {
            path: self.path.clone(),
            source,
        };
        let rejects = validate::no_rejects().map_err(polars)?;
        let customers = self
            .position("customer_id")
            .and_then(|i| self.levels[i].as_ref())
            .map_or(0, |l| l.texts().len());
        let products = self
            .position("product_id")
            .and_then(|i| self.levels[i].as_ref())
            .map(|l| summary::case_variants(l.texts().iter().map(String::as_str)))
            .unwrap_or_default();
        let summary = TableSummary {
            source: self.path.display().to_string(),
            rows_in: self.rows,
            rows_kept: self.rows,
            rows_rejected: 0,
            customers,
            returns: (self.table == TableKind::Transactions).then_some(self.returns),
            possible_duplicates: 0,
            reject_reasons: Default::default(),
            product_ids_differing_by_case: products,
            joined: Vec::new(),
            fingerprint: None,
        };
        Ok(Some((rejects, summary)))
    }
}

/// Every record's hash, filed by its top bits as it arrives: a repeated hash is then found
/// bucket by bucket on every core, without a second copy of the whole list (at 200M records the
/// list is 1.6 GB).
struct HashBuckets {
    buckets: Vec<Vec<u64>>,
}

/// The top bits of a hash that choose its bucket.
const HASH_BUCKET_BITS: u32 = 12;

/// A part's record hashes ordered by their bucket ([`HASH_BUCKET_BITS`] top bits).
struct PartHashes {
    hashes: Vec<u64>,
    /// Where each bucket's hashes start in `hashes` (and, last, where the last one ends).
    starts: Vec<u32>,
}

impl PartHashes {
    fn new(hashes: &[u64]) -> PartHashes {
        let bucket = |h: u64| (h >> (64 - HASH_BUCKET_BITS)) as usize;
        let mut starts = vec![0u32; (1 << HASH_BUCKET_BITS) + 1];
        for h in hashes {
            starts[bucket(*h) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        let mut out = vec![0u64; hashes.len()];
        for h in hashes {
            let slot = &mut next[bucket(*h)];
            out[*slot as usize] = *h;
            *slot += 1;
        }
        PartHashes {
            hashes: out,
            starts,
        }
    }

    fn bucket(&self, b: usize) -> &[u64] {
        &self.hashes[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

impl HashBuckets {
    fn new() -> HashBuckets {
        HashBuckets {
            buckets: (0..1 << HASH_BUCKET_BITS).map(|_| Vec::new()).collect(),
        }
    }

    /// Room for `total` hashes in all, spread evenly (hashes are), with a little to spare.
    fn reserve_total(&mut self, total: usize) {
        let each = total / self.buckets.len() * 21 / 20 + 16;
        for b in &mut self.buckets {
            b.reserve_exact(each.saturating_sub(b.len()));
        }
    }

    /// The parts' hashes (each part's filed by bucket), bucket by bucket on every core.
    fn extend(&mut self, parts: &[LocalPart<'_>]) {
        self.buckets
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, bucket)| {
                for part in parts {
                    bucket.extend_from_slice(part.hashes.bucket(b));
                }
            });
    }

    fn any_repeated(&self) -> bool {
        self.buckets
            .par_iter()
            .any(|b| !validate::repeats_in(b).is_empty())
    }
}

/// A piece of the file, mapped.
struct Window {
    map: memmap2::Mmap,
    start: usize,
    end: usize,
}

impl Window {
    fn bytes(&self) -> &[u8] {
        &self.map[self.start..self.end]
    }
}

/// What [`CodedReader::next_piece`] found.
#[derive(Debug)]
pub enum Step {
    Piece(CodedPiece),
    End,
    /// A row or a byte the coded path does not vouch for: validate the file by the general path.
    NotPlain,
}

fn bug(path: &Path, message: &str) -> IngestError {
    IngestError::Bug {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// `bytes` (whole lines) cut at line ends into parts of about `size` bytes.
fn split_parts(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(bytes.len() / size + 1);
    let mut rest = bytes;
    while rest.len() > size {
        match memchr::memchr(b'\n', &rest[size..]) {
            Some(i) => {
                let (a, b) = rest.split_at(size + i + 1);
                parts.push(a);
                rest = b;
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    parts
}

/// One column of a part as parsed, numbered by the part.
enum LocalColumn<'a> {
    Checked,
    Codes(LocalCodes<'a>),
    Numbers(Vec<f64>),
    Days(Vec<i32>),
}

/// A part's values of one column, numbered in order of first appearance in the part.
struct LocalCodes<'a> {
    codes: Vec<u32>,
    levels: Vec<&'a [u8]>,
    /// The short levels (at most 15 bytes) as [`short_key`]s with their codes: while the part
    /// has few levels, a short value is looked up by one integer comparison per level.
    short: Vec<(u128, u32)>,
    /// Consulted once the part has more than a few levels (fewer are searched in order).
    index: PlHashMap<&'a [u8], u32>,
    /// The last value, its key and its code: ids of a file grouped by customer repeat line
    /// after line.
    last: Option<(&'a [u8], Option<u128>, u32)>,
    /// Each level's [`Codebook::hash`], taken once the part is parsed (on the part's core).
    hashes: Vec<u64>,
}

/// Whether two short values are equal: a byte loop, cheaper for ids and codes of a few bytes
/// than a call to `memcmp`, and a length test first (levels mostly differ in length).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A value of at most 15 bytes as one integer (its bytes, its length in the top byte), read
/// with one 16-byte load from `part` when the part has 16 bytes from `start` on; `None` for a
/// longer value. Two short values are equal exactly when their keys are.
#[inline]
fn short_key(part: &[u8], start: usize, len: usize) -> Option<u128> {
    if len > 15 {
        return None;
    }
    let mut bytes = [0u8; 16];
    match part.get(start..start + 16) {
        Some(b) => bytes.copy_from_slice(b),
        None => bytes[..len].copy_from_slice(&part[start..start + len]),
    }
    let mask = (1u128 << (8 * len)) - 1;
    Some((u128::from_le_bytes(bytes) & mask) | (len as u128) << 120)
}

/// Levels searched in order before the part's values are hashed.
const SCANNED_LEVELS: usize = 16;

impl<'a> LocalCodes<'a> {
    fn new(rows: usize) -> LocalCodes<'a> {
        LocalCodes {
            codes: Vec::with_capacity(rows),
            levels: Vec::new(),
            short: Vec::new(),
            index: PlHashMap::default(),
            last: None,
            hashes: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, value: &'a [u8], key: Option<u128>) {
        if let Some((v, k, c)) = self.last {
            let hit = match (k, key) {
                (Some(a), Some(b)) => a == b,
                _ => same(v, value),
            };
            if hit {
                self.codes.push(c);
                return;
            }
        }
        let c = self.code(value, key);
        self.last = Some((value, key, c));
        self.codes.push(c);
    }

    fn code(&mut self, value: &'a [u8], key: Option<u128>) -> u32 {
        if self.levels.len() <= SCANNED_LEVELS {
            let found = match key {
                Some(k) => self.short.iter().find(|(s, _)| *s == k).map(|(_, c)| *c),
                None => self
                    .levels
                    .iter()
                    .position(|l| same(l, value))
                    .map(|c| c as u32),
            };
            if let Some(c) = found {
                return c;
            }
        } else if let Some(c) = self.index.get(value) {
            return *c;
        }
        let c = self.levels.len() as u32;
        self.levels.push(value);
        if let (Some(k), true) = (key, self.levels.len() <= SCANNED_LEVELS) {
            self.short.push((k, c));
        }
        if self.levels.len() > SCANNED_LEVELS {
            if self.index.is_empty() {
                self.index
                    .extend(self.levels.iter().enumerate().map(|(i, l)| (*l, i as u32)));
            } else {
                self.index.insert(value, c);
            }
        }
        c
    }
}

/// A part parsed: its rows, its columns numbered by itself, a hash of each record.
struct LocalPart<'a> {
    rows: usize,
    columns: Vec<LocalColumn<'a>>,
    hashes: PartHashes,
}

/// Parses the lines of `part`; `None` at the first row the fast path would not vouch for.
fn parse_part<'a>(
    part: &'a [u8],
    columns: &[PlainColumn],
    keep: &[Keep],
    readers: &[Option<usize>],
    rules: &Rules,
) -> Option<LocalPart<'a>> {
    // Field checks on ASCII bytes look at the ends only; any other text goes through `str`.
    let ascii = part.is_ascii();
    if !ascii && std::str::from_utf8(part).is_err() {
        return None;
    }
    if memchr::memchr2(b'"', b'\r', part).is_some() {
        return None;
    }
    // The part is parsed a block of whole lines at a time, its field offsets in one buffer
    // that stays in cache (the offsets of a whole part were as many bytes as the part, written
    // out to memory and read back).
    let mut bounds: Vec<u32> = Vec::new();
    let first = block_end(part, 0);
    if !boundaries_into(&part[..first], rules.separator, &mut bounds) {
        return None;
    }
    let first_rows = bounds.len() / rules.fields.max(1) + 1;
    let rows = (first_rows as f64 * part.len() as f64 / first.max(1) as f64 * 1.05) as usize + 16;
    let mut built: Vec<LocalColumn> = columns
        .iter()
        .zip(keep)
        .map(|(c, k)| match (k, c.kind) {
            (Keep::Check, _) => LocalColumn::Checked,
            (Keep::Values, ColumnType::Number) => LocalColumn::Numbers(Vec::with_capacity(rows)),
            (Keep::Values, ColumnType::Date) => LocalColumn::Days(Vec::with_capacity(rows)),
            (Keep::Values, _) => LocalColumn::Codes(LocalCodes::new(rows)),
        })
        .collect();
    let checks: Vec<Check> = columns
        .iter()
        .map(|c| Check {
            kind: c.kind,
            required: c.required,
            event: c.event,
            ascii,
        })
        .collect();
    // The last date text read and its day, per column: order files repeat a day line after line.
    let mut last_day: Vec<Option<([u8; 10], i32)>> = vec![None; columns.len()];
    let state = PlSeedableRandomStateQuality::seed_from_u64(0xfa57);
    let mut hashes = Vec::with_capacity(rows);
    let fields = rules.fields;
    let mut line_start = 0usize;
    let mut count = 0usize;
    let mut block_start = 0usize;
    let mut end = first;
    loop {
        // Offsets are relative to the block; `base` makes them the part's.
        let base = block_start;
        for ends in bounds.chunks(fields) {
            // Every field but the last ends at a separator, the last at the line's end.
            let (last, inner) = ends.split_last()?;
            if ends.len() != fields
                || *last & LINE_END == 0
                || inner.iter().any(|e| e & LINE_END != 0)
            {
                return None;
            }
            let line_end = base + (*last & !LINE_END) as usize;
            if line_end == line_start {
                return None;
            }
            hashes.push(state.hash_one(&part[line_start..line_end]));
            count += 1;
            let mut start = line_start;
            for (reader, end) in readers.iter().zip(ends) {
                let end = base + (*end & !LINE_END) as usize;
                let field_start = start;
                let field = &part[start..end];
                start = end + 1;
                if let Some(i) = *reader {
                    let (check, out, last) = (checks[i], &mut built[i], &mut last_day[i]);
                    if !read_field(part, field_start, field, check, out, last, rules) {
                        return None;
                    }
                }
            }
            line_start = line_end + 1;
        }
        // A block ends at a line feed (or the part's end): its lines end where the next begins.
        if line_start < end {
            return None;
        }
        if end >= part.len() {
            break;
        }
        block_start = end;
        line_start = end;
        end = block_end(part, block_start);
        if !boundaries_into(&part[block_start..end], rules.separator, &mut bounds) {
            return None;
        }
    }
    for column in &mut built {
        if let LocalColumn::Codes(local) = column {
            local.hashes = local.levels.iter().map(|l| Codebook::hash(l)).collect();
        }
    }
    Some(LocalPart {
        rows: count,
        columns: built,
        hashes: PartHashes::new(&hashes),
    })
}

/// The mark of a line end among [`boundaries`].
pub(super) const LINE_END: u32 = 1 << 31;

/// The offset of every separator and line end of `bytes`, in order, line ends marked with
/// [`LINE_END`] (a last line without its line end gets one at the end of the bytes). 32 bytes
/// at a time: a mask of the bytes equal to the separator or a line feed, whose set bits are
/// written out without a branch that depends on where fields end (the first eight
/// unconditionally, the rest only when a block has more). `None` for more bytes than the
/// offsets can hold.
#[cfg(test)]
pub(super) fn boundaries(bytes: &[u8], separator: u8) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    boundaries_into(bytes, separator, &mut out).then_some(out)
}

/// How many bytes [`parse_part`] reads at a time: its offsets (at most as many as the bytes)
/// stay in the core's cache.
pub(super) const BLOCK_BYTES: usize = 32 * 1024;

/// Where the block of `part` that starts at `start` ends: after the last line feed of the next
/// [`BLOCK_BYTES`], after the first line feed when a line is longer, or at the part's end.
pub(super) fn block_end(part: &[u8], start: usize) -> usize {
    if part.len() - start <= BLOCK_BYTES {
        return part.len();
    }
    let window = &part[start..start + BLOCK_BYTES];
    match memchr::memrchr(b'\n', window) {
        Some(i) => start + i + 1,
        None => memchr::memchr(b'\n', &part[start + BLOCK_BYTES..])
            .map_or(part.len(), |i| start + BLOCK_BYTES + i + 1),
    }
}

/// [`boundaries`] into `out` (cleared first, its room reused); `false` for more bytes than the
/// offsets can hold.
fn boundaries_into(bytes: &[u8], separator: u8, out: &mut Vec<u32>) -> bool {
    if bytes.len() >= LINE_END as usize {
        return false;
    }
    out.clear();
    out.resize(bytes.len() / 4 + 64, 0);
    let mut n = 0usize;
    let mut blocks = bytes.chunks_exact(32);
    let mut base = 0u32;
    for block in &mut blocks {
        let (lo_found, lo_lines) = masks16(&block[..16], separator);
        let (hi_found, hi_lines) = masks16(&block[16..], separator);
        let found = lo_found | hi_found << 16;
        let lines = lo_lines | hi_lines << 16;
        let count = found.count_ones() as usize;
        if n + 32 > out.len() {
            out.resize(out.len() * 2, 0);
        }
        let mut f = found;
        let slots = &mut out[n..n + 32];
        for slot in &mut slots[..8] {
            let bit = f.trailing_zeros();
            *slot = (base + bit) | (lines.wrapping_shr(bit) & 1) << 31;
            f &= f.wrapping_sub(1);
        }
        let mut k = 8;
        while f != 0 {
            let bit = f.trailing_zeros();
            slots[k] = (base + bit) | (lines.wrapping_shr(bit) & 1) << 31;
            f &= f - 1;
            k += 1;
        }
        n += count;
        base += 32;
    }
    out.truncate(n);
    for (i, b) in blocks.remainder().iter().enumerate() {
        if *b == separator || *b == b'\n' {
            let mark = if *b == b'\n' { LINE_END } else { 0 };
            out.push((base + i as u32) | mark);
        }
    }
    if bytes.last().is_some_and(|b| *b != b'\n') {
        out.push(bytes.len() as u32 | LINE_END);
    }
    true
}

/// Of 16 bytes, the mask of those equal to `separator` or a line feed, and of the line feeds.
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks16(block: &[u8], separator: u8) -> (u32, u32) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    assert!(block.len() >= 16);
    // SAFETY: SSE2 is part of every x86_64 target, and the unaligned load reads 16 bytes of
    // `block`, which has at least 16.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let sep = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(separator as i8))) as u32;
        let lines = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8))) as u32;
        (sep | lines, lines)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks16(block: &[u8], separator: u8) -> (u32, u32) {
    let (mut found, mut lines) = (0u32, 0u32);
    for (i, b) in block[..16].iter().enumerate() {
        lines |= u32::from(*b == b'\n') << i;
        found |= u32::from(*b == b'\n' || *b == separator) << i;
    }
    (found, lines)
}

/// What a column's values are checked against (a copy of its [`PlainColumn`]'s rules, small
/// enough to sit in a register), and whether the part's bytes are all ASCII.
#[derive(Clone, Copy)]
struct Check {
    kind: ColumnType,
    required: bool,
    event: bool,
    ascii: bool,
}

/// Checks one field of column `c` and keeps its value; `false` when the fast path would not
/// vouch for it (the rules of `fast.rs`'s `push_text`, `push_number`, `push_date`).
#[inline]
fn read_field<'a>(
    part: &'a [u8],
    start: usize,
    field: &'a [u8],
    c: Check,
    out: &mut LocalColumn<'a>,
    last_day: &mut Option<([u8; 10], i32)>,
    rules: &Rules,
) -> bool {
    if field.is_empty() {
        match out {
            LocalColumn::Checked => {}
            LocalColumn::Codes(codes) => codes.codes.push(MISSING_CODE),
            LocalColumn::Numbers(v) => v.push(f64::NAN),
            LocalColumn::Days(v) => v.push(MISSING_DAY),
        }
        return !c.required;
    }
    match c.kind {
        ColumnType::Number => {
            let Some(v) = fast::plain_number(field).filter(|v| v.abs() <= validate::MAX_NUMBER)
            else {
                return false;
            };
            if let LocalColumn::Numbers(values) = out {
                values.push(v);
            }
            true
        }
        ColumnType::Date => {
            let day = match last_day {
                Some((text, day)) if field == &text[..] => *day,
                _ => {
                    let Some(day) = rules.day(field, c.event) else {
                        return false;
                    };
                    if let Ok(text) = <[u8; 10]>::try_from(field) {
                        *last_day = Some((text, day));
                    }
                    day
                }
            };
            if let LocalColumn::Days(values) = out {
                values.push(day);
            }
            true
        }
        _ => {
            if !fast::plain_text(field, c.kind == ColumnType::Id, c.ascii) {
                return false;
            }
            if let LocalColumn::Codes(codes) = out {
                codes.push(field, short_key(part, start, field.len()));
            }
            true
        }
    }
}
