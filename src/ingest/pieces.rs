//! Validating a file too large to hold as text, piece by piece.
//!
//! A whole-file validation holds every column as text (16 bytes a value: 200M order lines of
//! seven columns are ~22 GB) before the typed table exists. Here the file is read in pieces of
//! whole records (`read::Pieces`), each piece validated by the same rules as a whole file and
//! handed to the caller's sink as a typed frame, then dropped: memory holds one piece of text at
//! a time, and the caller keeps only what it needs of the typed rows (the feature builders keep
//! ~21 bytes a line).
//!
//! Everything a piece cannot see alone is found over the whole file first, so that the result
//! equals a whole-file validation: the rows identical to an earlier row (rejected as duplicates
//! with an order id, counted as possible duplicates without). A first pass hashes every record's
//! bytes, without parsing; rows whose hash repeats are the only candidates, and (when there are
//! any) a second pass parses the pieces to compare them exactly. Each piece then gets its later
//! copies, with the line of each first copy, before it is validated.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::config::SourceSpec;
use super::lines::RecordLines;
#[cfg(test)]
use super::load_table;
use super::read::{self, Layout, Pieces, RawTable};
use super::schema::TableKind;
use super::summary::{self, TableSummary};
use super::validate::{self, Duplicates};
use super::{load_source, load_source_with, IngestError, Source};

/// A table validated piece by piece: its kept rows went to the sink, in file order.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub table: TableKind,
    /// `file, line, column, source_column, reason, value, expected`, in line order.
    pub rejects: DataFrame,
    pub summary: TableSummary,
    /// How many pieces the file was read in (1: validated whole).
    pub pieces: usize,
    /// Seconds spent finding the duplicate rows over the whole file before the pieces (0 when
    /// validated whole: the validation finds them).
    pub duplicate_seconds: f64,
}

/// Validates `path` as `table`, handing the kept rows to `sink` in file order: in pieces of
/// about `piece_bytes` when it is a delimited file of more bytes than that, else whole (one
/// call).
/// Rejects and summary equal those of [`super::load_table`] on the whole file.
pub fn load_table_in_pieces<E: From<IngestError>>(
    table: TableKind,
    path: &Path,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
    piece_bytes: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Streamed, E> {
    let pieces = match read::pieces(path, spec, table, piece_bytes)? {
        Layout::Pieces(p) if p.file_bytes() > piece_bytes as u64 => p,
        _ => {
            let source = Source::File(path.to_path_buf());
            return whole(load_source_with(table, &source, spec, as_of, true)?, sink);
        }
    };
    let bug = |message: &str| IngestError::Bug {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    // The columns, from the header and the first record alone: every piece is parsed later.
    let sample = pieces.sample()?;
    let columns = validate::duplicate_columns_of(&sample, table, spec)?;
    drop(sample);
    let reopen = || -> Result<Pieces, IngestError> {
        match read::pieces(path, spec, table, piece_bytes)? {
            Layout::Pieces(p) => Ok(p),
            Layout::Whole => Err(bug("read whole on a second look")),
        }
    };
    let t0 = std::time::Instant::now();
    let copies = later_copies(&reopen, &columns)?;
    let duplicate_seconds = t0.elapsed().as_secs_f64();

    let mut rejects: Vec<DataFrame> = Vec::new();
    let mut summary: Option<TableSummary> = None;
    let mut customers: HashSet<PlSmallStr> = HashSet::new();
    let mut products: HashSet<String> = HashSet::new();
    let mut count = 0;
    // The file's row of the piece's first row.
    let mut first_row = 0u64;
    for (i, raw) in reopen()?.enumerate() {
        let raw = raw?;
        count += 1;
        let rows = raw.frame.height();
        check_records(&raw.path, i, rows, &copies.records)?;
        let dups = Duplicates::at(
            rows,
            copies
                .later
                .range(first_row..first_row + rows as u64)
                .map(|(r, line)| ((r - first_row) as IdxSize, *line)),
        );
        let v = validate::validate_piece(raw, table, spec, as_of, Some(dups))?;
        let ids = v
            .frame
            .column("customer_id")
            .and_then(|c| c.unique())
            .map_err(pe(path))?;
        if let Ok(ids) = ids.str() {
            customers.extend(ids.iter().flatten().map(PlSmallStr::from));
        }
        products.extend(summary::product_ids(&v.frame).map_err(pe(path))?);
        summary = Some(match summary {
            None => v.summary,
            Some(s) => add(s, &v.summary),
        });
        rejects.push(v.rejects);
        sink(v.frame)?;
        first_row += rows as u64;
    }
    let mut summary = summary.ok_or_else(|| bug("no piece read"))?;
    summary.customers = customers.len();
    summary.product_ids_differing_by_case =
        summary::case_variants(products.iter().map(String::as_str));
    let mut all = rejects.into_iter();
    let mut rejects = all.next().unwrap_or_default();
    for r in all {
        rejects.vstack_mut_owned(r).map_err(pe(path))?;
    }
    rejects.rechunk_mut();
    Ok(Streamed {
        table,
        rejects,
        summary,
        pieces: count,
        duplicate_seconds,
    })
}

/// A table validated whole, handed over in one call.
/// [`load_table_in_pieces`] for any source: a database's rows are validated whole (they are
/// read whole).
pub fn load_source_in_pieces<E: From<IngestError>>(
    table: TableKind,
    source: &Source,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
    piece_bytes: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Streamed, E> {
    match source {
        Source::File(path) => load_table_in_pieces(table, path, spec, as_of, piece_bytes, sink),
        Source::Postgres(_) => whole(load_source(table, source, spec, as_of)?, sink),
    }
}

fn whole<E: From<IngestError>>(
    v: validate::Validated,
    sink: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Streamed, E> {
    let validate::Validated {
        table,
        frame,
        rejects,
        summary,
    } = v;
    sink(frame)?;
    Ok(Streamed {
        table,
        rejects,
        summary,
        pieces: 1,
        duplicate_seconds: 0.0,
    })
}

fn pe(path: &Path) -> impl Fn(PolarsError) -> IngestError + '_ {
    move |source| IngestError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

/// The rows of the whole file that copy an earlier row, and the rows of each piece.
struct Copies {
    /// Later copy (row of the file) → line of its first copy.
    later: BTreeMap<u64, i64>,
    /// Records per piece, in order: each parsed piece must have as many rows.
    records: Vec<usize>,
}

/// Finds the later copies of the whole file before any piece is validated: a scan of the
/// records' bytes hashes each whole record (`read::record_hashes`, both cores, no parsing);
/// only rows whose hash another row shares can be copies, and when there are any (a file
/// without copies has none but for a rare 64-bit collision) a second pass parses the pieces to
/// compare those rows exactly, as a whole-file validation does.
fn later_copies(
    reopen: &dyn Fn() -> Result<Pieces, IngestError>,
    columns: &validate::DuplicateColumns,
) -> Result<Copies, IngestError> {
    let mut hashes: Vec<u64> = Vec::new();
    let mut records = Vec::new();
    let pieces = reopen()?;
    let separator = pieces.separator();
    // The line of every row of the file, for the first copies.
    let mut lines = RecordLines::starting_at(pieces.next_line());
    pieces.scan(|bytes| {
        let h = read::record_hashes(bytes, separator, &columns.id_positions);
        records.push(h.len());
        lines.feed_records(bytes, h.len() as u64);
        hashes.extend(h);
    })?;
    let Some(shared) = validate::repeated_hashes(&hashes) else {
        return Ok(Copies {
            later: BTreeMap::new(),
            records,
        });
    };
    drop(hashes);
    let candidates: Vec<u64> = shared
        .iter()
        .enumerate()
        .filter(|(_, s)| **s)
        .map(|(r, _)| r as u64)
        .collect();
    drop(shared);

    // The candidates' whole rows, in file order.
    let names: Vec<PlSmallStr> = columns
        .key_order
        .iter()
        .map(|s| PlSmallStr::from(s.as_str()))
        .collect();
    let mut rows: Option<DataFrame> = None;
    let mut start = 0u64;
    let mut path = None;
    for (i, raw) in reopen()?.enumerate() {
        let RawTable { frame, path: p, .. } = raw?;
        check_records(&p, i, frame.height(), &records)?;
        let end = start + frame.height() as u64;
        let lo = candidates.partition_point(|r| *r < start);
        let hi = candidates.partition_point(|r| *r < end);
        if hi > lo {
            let take = IdxCa::from_vec(
                "rows".into(),
                candidates[lo..hi]
                    .iter()
                    .map(|r| (r - start) as IdxSize)
                    .collect(),
            );
            let piece = frame
                .select(names.clone())
                .and_then(|f| f.take(&take))
                .map_err(pe(&p))?;
            rows = Some(match rows {
                None => piece,
                Some(mut r) => {
                    r.vstack_mut_owned(piece).map_err(pe(&p))?;
                    r
                }
            });
        }
        path = Some(p);
        start = end;
    }
    let (Some(mut rows), Some(path)) = (rows, path) else {
        return Ok(Copies {
            later: BTreeMap::new(),
            records,
        });
    };
    // Compared as a whole-file validation compares them: ids by their canonical form.
    validate::canonical_id_columns(&mut rows, &columns.ids).map_err(pe(&path))?;
    let found =
        validate::find_duplicates(&rows, &columns.key_order, &columns.hashed).map_err(pe(&path))?;
    let later = found
        .first_copy
        .iter()
        .map(|(later, first)| {
            (
                candidates[*later as usize],
                lines.line(candidates[*first as usize]) as i64,
            )
        })
        .collect();
    Ok(Copies { later, records })
}

/// A parsed piece must have one row per record the scan counted, or rows and lines would not
/// line up.
fn check_records(
    path: &Path,
    piece: usize,
    rows: usize,
    records: &[usize],
) -> Result<(), IngestError> {
    match records.get(piece) {
        Some(&n) if n == rows => Ok(()),
        found => Err(IngestError::PieceMismatch {
            path: path.to_path_buf(),
            piece: piece + 1,
            rows,
            records: found.copied().unwrap_or(0),
        }),
    }
}

/// The summary of two consecutive pieces (customers are counted by the caller).
fn add(mut a: TableSummary, b: &TableSummary) -> TableSummary {
    a.rows_in += b.rows_in;
    a.rows_kept += b.rows_kept;
    a.rows_rejected += b.rows_rejected;
    a.returns = match (a.returns, b.returns) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    };
    a.possible_duplicates += b.possible_duplicates;
    for (reason, n) in &b.reject_reasons {
        *a.reject_reasons.entry(reason.clone()).or_insert(0) += n;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates `csv` whole and in pieces of every size in `sizes`; both must give the same
    /// kept rows (in order), rejects and summary.
    fn check(csv: &str, sizes: &[usize]) -> Streamed {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, csv).unwrap();
        let spec = SourceSpec::default();
        let as_of = NaiveDate::from_ymd_opt(2024, 6, 30);
        let whole = load_table(TableKind::Transactions, &path, &spec, as_of).unwrap();
        let mut last = None;
        for &size in sizes {
            let mut kept: Option<DataFrame> = None;
            let streamed = load_table_in_pieces::<IngestError>(
                TableKind::Transactions,
                &path,
                &spec,
                as_of,
                size,
                &mut |f| {
                    match kept.as_mut() {
                        None => kept = Some(f),
                        Some(k) => {
                            k.vstack_mut_owned(f).unwrap();
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
            let kept = kept.unwrap();
            assert!(kept.equals_missing(&whole.frame), "size {size}: {kept}");
            assert!(
                streamed.rejects.equals_missing(&whole.rejects),
                "size {size}: {} vs {}",
                streamed.rejects,
                whole.rejects
            );
            assert_eq!(streamed.summary, whole.summary, "size {size}");
            last = Some(streamed);
        }
        last.unwrap()
    }

    #[test]
    fn pieces_validate_like_the_whole_file() {
        let csv = "order_id,customer_id,order_date,amount,category\n\
                   1,a,2024-01-01,5,books\n\
                   2,b,2024-01-02,6,\"home,\ngarden\"\n\
                   3,,2024-01-03,7,books\n\
                   1,a,2024-01-01,5,books\n\
                   4,c,2024-13-01,8,toys\n\
                   5,c,2024-02-01,x,toys\n\
                   2,b,2024-01-02,6,\"home,\ngarden\"\n\
                   6,d,2025-01-01,9,toys\n\
                   7,d,2024-03-01T10:00:00,-2.5,books\n\
                   1,a,2024-01-01,5,music\n\
                   8,e,2024/03/01,3,books\n\
                   1, a ,2024-01-01,5,books\n\
                   1,\"\u{FF41}\u{200B}\",2024-01-01,5,books\n\
                   2,\"b \",2024-01-02,6,\"home,\ngarden\"\n";
        let s = check(csv, &[1, 16, 40, 64, 100, 1 << 20]);
        // Two copies as written, three more once their ids are read by the identity rule.
        assert_eq!(s.summary.reject_reasons.get("duplicate"), Some(&5));
        let whole = check(csv, &[1 << 20]);
        assert_eq!(whole.pieces, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, csv).unwrap();
        let pieces = load_table_in_pieces::<IngestError>(
            TableKind::Transactions,
            &path,
            &SourceSpec::default(),
            None,
            40,
            &mut |_| Ok(()),
        )
        .unwrap();
        assert!(pieces.pieces > 3, "{}", pieces.pieces);
    }

    /// Rejects name the line their record starts on, through quoted line feeds (in the header
    /// too, with CRLF too), in pieces as whole: quoted values at piece boundaries, copies whose
    /// first copy is in an earlier piece.
    #[test]
    fn pieces_name_the_lines_of_the_whole_file() {
        for (header, shift) in [("category", 0), ("\"cate\ngory\"", 1)] {
            for end in ["\n", "\r\n"] {
                let csv = format!(
                    "order_id,customer_id,order_date,amount,{header}\n\
                     1,a,2024-01-01,5,\"home\ngarden\"\n\
                     2,b,2024-13-01,6,books\n\
                     3,c,2024-01-01,7,\"x\n\ny\"\n\
                     1,a,2024-01-01,5,\"home\ngarden\"\n\
                     4,,2024-01-01,8,\"p\nq\"\n\
                     3,c,2024-01-01,7,\"x\n\ny\"\n\
                     5,d,2024-01-01,z,toys\n"
                )
                .replace('\n', end);
                // Whole first: the last result is read in pieces.
                let s = check(&csv, &[1 << 20, 1, 16, 40, 64]);
                assert!(s.pieces > 1, "{}", s.pieces);
                let want: Vec<(i64, String)> = vec![
                    (4 + shift, "2024-13-01".into()),
                    (8 + shift, format!("same as line {}", 2 + shift)),
                    (10 + shift, String::new()),
                    (12 + shift, format!("same as line {}", 5 + shift)),
                    (15 + shift, "z".into()),
                ];
                assert_eq!(validate::lines_and_values(&s.rejects), want, "{csv:?}");
            }
        }
    }

    #[test]
    fn without_an_order_id_copies_are_counted_across_pieces() {
        let csv = "customer_id,order_date,amount\r\n\
                   a,2024-01-01,5\r\n\
                   b,2024-01-02,6\r\n\
                   a,2024-01-01,5\r\n\
                   c,2024-01-03,x\r\n\
                   b,2024-01-02,6\r\n\
                   a,2024-01-01,5\r\n\
                   \u{3000}a,2024-01-01,5\r\n";
        let s = check(csv, &[1, 20, 1 << 20]);
        assert_eq!(s.summary.possible_duplicates, 4);
    }

    /// A file polars refuses is refused with the same line, column and snippet in pieces as
    /// whole: lines of later pieces count the lines before them, quoted line feeds included.
    #[test]
    fn parse_failures_name_the_same_line_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let head = "customer_id,order_date,amount,category\n\
                    a,2024-01-01,5,\"home\ngarden\"\n\
                    b,2024-01-02,6,books\n\
                    c,2024-01-03,7,\"x\ny\nz\"\n";
        for (tail, want) in [
            (
                "d,2024-01-04,8,toys,extra\n",
                "line 8: expected 4 fields as the header, found 5",
            ),
            (
                "d,2024-01-04,\"8\"x,toys\n",
                "line 8, column `amount`: expected a separator",
            ),
        ] {
            std::fs::write(&path, format!("{head}{tail}e,2024-01-05,9,toys\n")).unwrap();
            let spec = SourceSpec::default();
            let whole = load_table(TableKind::Transactions, &path, &spec, None)
                .unwrap_err()
                .to_string();
            assert!(whole.contains(want), "{whole}");
            for size in [16, 40] {
                let pieces = load_table_in_pieces::<IngestError>(
                    TableKind::Transactions,
                    &path,
                    &spec,
                    None,
                    size,
                    &mut |_| Ok(()),
                )
                .unwrap_err()
                .to_string();
                assert_eq!(pieces, whole, "size {size}");
            }
        }
    }

    #[test]
    fn a_header_only_file_is_one_empty_piece() {
        let s = check("customer_id,order_date,amount\n", &[1, 1 << 20]);
        assert_eq!((s.summary.rows_in, s.pieces), (0, 1));
    }
}
