//! Validation: text columns → typed canonical columns, every bad row quarantined with a reason.
//!
//! One lazy query parses every column, computes a reason per column (null when fine) and keeps
//! the first reason of each row; the frame is collected once and split into kept and rejected
//! rows, so `rows_in = rows_kept + rows_rejected` holds by construction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::config::{ColumnRef, NumberFormat, SourceSpec};
use super::lines::RecordLines;
use super::read::RawTable;
use super::schema::{ColumnType, TableKind, AMOUNT_FACTORS};
use super::summary::TableSummary;
use super::IngestError;
use crate::parallel;

const ROW: &str = "__row";
const REASON: &str = "__reason";
const COLUMN: &str = "__column";
const VALUE: &str = "__value";
const FIRST_SEEN: &str = "__first_seen";
const BAD: &str = "__bad";
const SAME_AS_EARLIER: &str = "__same_as_earlier";

/// Why a row was rejected.
pub mod reason {
    pub const MISSING_CUSTOMER_ID: &str = "missing_customer_id";
    pub const MISSING_VALUE: &str = "missing_value";
    pub const BAD_DATE: &str = "bad_date";
    pub const BAD_NUMBER: &str = "bad_number";
    pub const BAD_FLAG: &str = "bad_flag";
    pub const FUTURE_DATE: &str = "future_date";
    pub const OUT_OF_RANGE: &str = "out_of_range";
    pub const DUPLICATE: &str = "duplicate";
}

/// The largest magnitude of a number kept: amounts are summed as integers of 1/10,000 (see
/// `features::lines`), and up to 10^11 a decimal amount parsed as a float still rounds to its
/// exact fixed-point value (beyond, the float's spacing passes 1/10,000). No order line comes
/// near 100 billion; a value past it is a unit or export error, rejected rather than summed
/// wrongly.
pub const MAX_NUMBER: f64 = 1e11;

/// The dates kept: the range of a nanosecond timestamp (polars' default time unit), so no date
/// a later step turns into a timestamp can overflow.
pub fn date_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1677, 9, 22).expect("a valid date"),
        NaiveDate::from_ymd_opt(2262, 4, 11).expect("a valid date"),
    )
}

/// What an in-range value of `kind` is, for the rejects' `expected` column.
fn in_range(kind: ColumnType) -> String {
    match kind {
        ColumnType::Number => format!("a number between -{MAX_NUMBER:e} and {MAX_NUMBER:e}"),
        ColumnType::Date => {
            let (first, last) = date_range();
            format!("a date from {first} to {last}")
        }
        other => other.expected(None),
    }
}

/// A validated table: the good rows typed, the bad rows with reasons.
#[derive(Debug, Clone)]
pub struct Validated {
    pub table: TableKind,
    /// Canonical columns (typed) followed by carried-along extra columns.
    pub frame: DataFrame,
    /// `file, line, column, reason, value, expected` — one row per rejected source row.
    pub rejects: DataFrame,
    pub summary: TableSummary,
}

/// A canonical column and where it comes from in the source.
struct Mapped {
    canonical: String,
    source: String,
    kind: ColumnType,
    required: bool,
}

/// Validates a raw table against its canonical schema.
pub fn validate(
    raw: RawTable,
    table: TableKind,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
) -> Result<Validated, IngestError> {
    validate_piece(raw, table, spec, as_of, None)
}

/// [`validate`] with the duplicate rows found by the caller (`Some`: a piece of a file whose
/// duplicates were found over the whole file) instead of within `raw`. A piece's summary leaves
/// `customers` at 0: the caller counts the distinct ids over every piece.
pub(crate) fn validate_piece(
    mut raw: RawTable,
    table: TableKind,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
    duplicates: Option<Duplicates>,
) -> Result<Validated, IngestError> {
    let mapped = map_columns(&raw, table, spec)?;
    let formats = Formats {
        spec,
        table,
        numbers: spec.number_format(table)?,
        hint_dates: duplicates.is_none(),
    };
    let source_names = column_names(&raw.frame);
    let rows_in = raw.frame.height();

    // Validation by exception. Phase A runs over every row but computes only cheap booleans
    // (one "bad" flag per row); phase B computes the reasons, column names and values (strings)
    // for the bad rows alone, which are few in any file worth loading. Each stage refers to the
    // previous one by column name, so no parse runs twice.
    canonical_id_columns(&mut raw.frame, &id_sources(&mapped)).map_err(|source| {
        IngestError::Polars {
            path: raw.path.clone(),
            source,
        }
    })?;
    let DuplicateColumns {
        has_order_id,
        key_order,
        hashed,
        ..
    } = duplicate_columns(&mapped, &source_names);
    let clean = clean_columns(&raw.frame, &mapped);
    let stages = Stages::new(&raw, &mapped, &clean, table, &formats, as_of, true);
    let extras = extra_columns(&raw_names_used(&mapped), &source_names, table, &mapped);

    let polars_err = |source| IngestError::Polars {
        path: raw.path.clone(),
        source,
    };
    let piece = duplicates.is_some();
    let dups = match duplicates {
        Some(d) => d,
        None => {
            let d = find_duplicates(&raw.frame, &key_order, &hashed).map_err(polars_err)?;
            // Only a rejected copy names its first copy's line.
            if has_order_id && !d.first_copy.is_empty() {
                d.with_lines(raw.lines()?)
            } else {
                d
            }
        }
    };
    let mut bad = stages
        .bad_flags
        .iter()
        .cloned()
        .reduce(|a, b| a.or(b))
        .unwrap_or_else(|| lit(false));
    if has_order_id {
        bad = bad.or(col(SAME_AS_EARLIER));
    }
    let mut out_columns = vec![col(ROW), col(SAME_AS_EARLIER), bad.alias(BAD)];
    out_columns.extend(
        mapped
            .iter()
            .map(|m| col(format!("__p_{}", m.canonical)).alias(m.canonical.as_str())),
    );
    out_columns.extend(extras.iter().map(|e| col(e.as_str())));
    let mut source = raw.frame.clone();
    source
        .with_column(dups.later_copy.clone().into_column())
        .map_err(polars_err)?;
    let all = stages
        .apply(source.lazy().with_row_index(ROW, None))
        .select(out_columns);
    let mut all = crate::features::collect_streaming(all).map_err(polars_err)?;
    // The streaming engine keeps row order for this row-wise plan; rows_in = kept + rejected and
    // byte-identical outputs rely on it, so it is checked (a scan of one integer column) and
    // restored if an engine change ever breaks it.
    let in_order = all
        .column(ROW)
        .and_then(|c| c.idx().map(|r| r.iter().flatten().is_sorted()))
        .map_err(polars_err)?;
    if !in_order {
        all = all
            .sort([ROW], SortMultipleOptions::default())
            .map_err(polars_err)?;
    }
    let bad_mask = all
        .column(BAD)
        .map_err(polars_err)?
        .bool()
        .map_err(polars_err)?
        .clone();
    let good_mask = !&bad_mask;

    // Phase B: the bad rows of the source, with their row numbers and duplicate flags.
    let bad_rows = all.filter(&bad_mask).map_err(polars_err)?;
    let mut rescued: Option<DataFrame> = None;
    let rejects = if bad_rows.height() == 0 {
        no_rejects().map_err(polars_err)?
    } else {
        let rows = bad_rows
            .column(ROW)
            .map_err(polars_err)?
            .idx()
            .map_err(polars_err)?
            .clone();
        let mut subset = raw.frame.take(&rows).map_err(polars_err)?;
        subset
            .with_column(bad_rows.column(ROW).map_err(polars_err)?.clone())
            .map_err(polars_err)?;
        subset
            .with_column(
                bad_rows
                    .column(SAME_AS_EARLIER)
                    .map_err(polars_err)?
                    .clone(),
            )
            .map_err(polars_err)?;
        let phase_b = Stages::new(&raw, &mapped, &clean, table, &formats, as_of, false);
        let mut reason_exprs = phase_b.reasons.clone();
        let mut columns = phase_b.columns.clone();
        let mut values = phase_b.values.clone();
        if has_order_id {
            reason_exprs.push(
                when(col(SAME_AS_EARLIER))
                    .then(lit(reason::DUPLICATE))
                    .otherwise(null_reason()),
            );
            columns.push(
                when(col(SAME_AS_EARLIER))
                    .then(lit("*"))
                    .otherwise(null_reason()),
            );
            values.push(
                when(col(SAME_AS_EARLIER))
                    .then(lit(""))
                    .otherwise(null_reason()),
            );
        }
        let mut detailed_columns = vec![
            col(ROW),
            col(SAME_AS_EARLIER),
            coalesce(&reason_exprs).alias(REASON),
            coalesce(&columns).alias(COLUMN),
            coalesce(&values).alias(VALUE),
        ];
        detailed_columns.extend(
            mapped
                .iter()
                .map(|m| col(format!("__p_{}", m.canonical)).alias(m.canonical.as_str())),
        );
        detailed_columns.extend(extras.iter().map(|e| col(e.as_str())));
        let detailed = phase_b
            .apply(subset.lazy())
            .with_columns(phase_b.reason_columns.clone())
            .select(detailed_columns)
            .collect()
            .map_err(polars_err)?;
        // Rows that another ISO layout parses are good after all.
        let rescued_mask = detailed.column(REASON).map_err(polars_err)?.is_null();
        rescued = Some(detailed.filter(&rescued_mask).map_err(polars_err)?);
        let detailed = detailed.filter(&!&rescued_mask).map_err(polars_err)?;
        let rows = detailed
            .column(ROW)
            .map_err(polars_err)?
            .idx()
            .map_err(polars_err)?
            .clone();
        // Name the line of the first copy of a duplicate.
        let first_seen = if has_order_id && !dups.first_copy.is_empty() {
            Some(
                rows.iter()
                    .map(|r| r.and_then(|r| dups.first_copy.get(&r)).copied())
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };
        if detailed.height() == 0 {
            no_rejects()
        } else {
            rejects_frame(
                &detailed,
                &raw,
                raw.lines()?,
                &mapped,
                &formats,
                as_of,
                first_seen.as_deref(),
            )
            .and_then(|rejects| with_row_keys(rejects, &detailed, &raw, table, &mapped))
        }
        .map_err(polars_err)?
    };

    // Kept rows: canonical columns in schema order, then the extras under their own names.
    let mut keep: Vec<PlSmallStr> = vec![ROW.into(), SAME_AS_EARLIER.into()];
    keep.extend(
        mapped
            .iter()
            .map(|m| PlSmallStr::from(m.canonical.as_str())),
    );
    keep.extend(extras.iter().map(|s| PlSmallStr::from(s.as_str())));
    // The text frame is no longer needed; the kept rows are the whole frame when none is bad,
    // so neither copy is held at once with them (peak memory).
    raw.frame = DataFrame::empty();
    let all = all.select(keep.clone()).map_err(polars_err)?;
    let mut good = if bad_rows.height() == 0 {
        all
    } else {
        all.filter(&good_mask).map_err(polars_err)?
    };
    if let Some(r) = rescued.filter(|r| r.height() > 0) {
        good = good
            .vstack(&r.select(keep.clone()).map_err(polars_err)?)
            .and_then(|g| g.sort([ROW], SortMultipleOptions::default()))
            .map_err(polars_err)?;
    }
    let possible_duplicates = if has_order_id {
        0
    } else {
        good.column(SAME_AS_EARLIER)
            .map_err(polars_err)?
            .bool()
            .map_err(polars_err)?
            .sum()
            .unwrap_or(0) as usize
    };
    let frame = good.select(keep[2..].to_vec()).map_err(polars_err)?;
    let mut frame = type_extra_columns(frame, &extras, formats.numbers).map_err(polars_err)?;
    if derives_amount(&mapped, table) {
        frame = with_derived_amount(frame).map_err(polars_err)?;
    }

    let mut summary = TableSummary::from_frames(
        table,
        &raw.path,
        rows_in,
        &frame,
        &rejects,
        possible_duplicates,
        !piece,
    )
    .map_err(polars_err)?;
    summary.fingerprint = raw.fingerprint.take();
    Ok(Validated {
        table,
        frame,
        rejects,
        summary,
    })
}

/// A canonical column of a file the fast path (`fast.rs`) reads: where it is in the file and
/// what its values must be.
pub(crate) struct PlainColumn {
    /// 0-based position of its source column in the file.
    pub position: usize,
    pub canonical: String,
    /// `Id`, `Text`, `Number` or `Date`.
    pub kind: ColumnType,
    pub required: bool,
    /// A date checked against the as-of date.
    pub event: bool,
}

/// The canonical columns of `header` (a file's names, no rows) in the order validation gives
/// them, when the fast path can build them; `None` when the table needs what only validation
/// does: extra columns carried along, an amount derived from its factors, flags, a configured
/// date format or a number format other than plain. Errors are validation's own (a missing
/// column).
pub(crate) fn plain_columns(
    header: &RawTable,
    table: TableKind,
    spec: &SourceSpec,
) -> Result<Option<Vec<PlainColumn>>, IngestError> {
    let mapped = map_columns(header, table, spec)?;
    let names = column_names(&header.frame);
    let extras = extra_columns(&raw_names_used(&mapped), &names, table, &mapped);
    if !extras.is_empty()
        || derives_amount(&mapped, table)
        || spec.number_format(table)? != NumberFormat::PLAIN
    {
        return Ok(None);
    }
    let mut columns = Vec::new();
    for m in mapped {
        let readable = match m.kind {
            ColumnType::Id | ColumnType::Text | ColumnType::Number => true,
            ColumnType::Date => spec.date_format_of(&m.canonical).is_none(),
            ColumnType::Flag => false,
        };
        let Some(position) = names.iter().position(|n| *n == m.source) else {
            return Ok(None);
        };
        if !readable {
            return Ok(None);
        }
        columns.push(PlainColumn {
            position,
            event: table.event_date_columns().contains(&m.canonical.as_str()),
            canonical: m.canonical,
            kind: m.kind,
            required: m.required,
        });
    }
    Ok(Some(columns))
}

/// Whether the transactions' amount is computed from quantity × unit_price (no `amount` mapped:
/// `map_columns` then requires both factors).
fn derives_amount(mapped: &[Mapped], table: TableKind) -> bool {
    table == TableKind::Transactions && mapped.iter().all(|m| m.canonical != "amount")
}

/// Adds `amount` = quantity × unit_price after `order_date`, exact in fixed point, to the kept
/// rows of a table without one. Rows missing a factor or out of range were rejected already.
fn with_derived_amount(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    let [quantity, unit_price] =
        AMOUNT_FACTORS.map(|f| frame.column(f).and_then(|c| c.f64().cloned()));
    let (quantity, unit_price) = (quantity?, unit_price?);
    let amount: Float64Chunked = quantity
        .iter()
        .zip(unit_price.iter())
        .map(|(q, p)| Some(crate::features::line_amount(q?, p?)))
        .collect();
    let at = frame.get_column_index("order_date").map_or(0, |i| i + 1);
    frame.insert_column(at, amount.with_name("amount".into()).into_column())?;
    Ok(frame)
}

/// Rows identical in every source column to an earlier row.
pub(crate) struct Duplicates {
    /// Per source row: a later copy of an earlier row (named `__same_as_earlier`).
    pub later_copy: BooleanChunked,
    /// Row of a later copy → line of its first copy (rows within `find_duplicates`).
    pub first_copy: HashMap<IdxSize, i64>,
}

impl Duplicates {
    /// Later copies at the given rows (ascending), each with the line of its first copy.
    pub fn at(rows: usize, later: impl IntoIterator<Item = (IdxSize, i64)>) -> Duplicates {
        let mut flags = vec![false; rows];
        let mut first_copy = HashMap::new();
        for (r, line) in later {
            flags[r as usize] = true;
            first_copy.insert(r, line);
        }
        Duplicates {
            later_copy: BooleanChunked::from_slice(SAME_AS_EARLIER.into(), &flags),
            first_copy,
        }
    }

    /// First copies named by their line rather than their row.
    fn with_lines(mut self, lines: &RecordLines) -> Duplicates {
        for f in self.first_copy.values_mut() {
            *f = lines.line(*f as u64) as i64;
        }
        self
    }
}

/// The columns the duplicate check compares (see `find_duplicates`).
pub(crate) struct DuplicateColumns {
    /// Whether the table has an order id, so that a copy is a duplicate delivery (rejected)
    /// rather than possibly two equal purchases (counted).
    pub has_order_id: bool,
    /// Every source column, the order id first.
    pub key_order: Vec<String>,
    /// The columns hashed to narrow the search: the order id, else every column.
    pub hashed: Vec<String>,
    /// The id columns (compared by their canonical form) and their 0-based positions in the file.
    pub ids: Vec<String>,
    pub id_positions: Vec<usize>,
}

/// A row identical (in every source column) to an earlier one. With an order id this is the
/// same order line delivered twice; without one it may be two equal purchases on one day. The
/// order id narrows the search first (identical rows share it).
fn duplicate_columns(mapped: &[Mapped], source_names: &[String]) -> DuplicateColumns {
    let order_id: Vec<String> = mapped
        .iter()
        .filter(|m| m.canonical == "order_id")
        .map(|m| m.source.clone())
        .collect();
    let key_order: Vec<String> = order_id
        .iter()
        .chain(source_names.iter().filter(|n| !order_id.contains(n)))
        .cloned()
        .collect();
    let ids = id_sources(mapped);
    DuplicateColumns {
        id_positions: ids
            .iter()
            .filter_map(|id| source_names.iter().position(|n| n == id))
            .collect(),
        ids,
        has_order_id: !order_id.is_empty(),
        hashed: if order_id.is_empty() {
            key_order.clone()
        } else {
            order_id
        },
        key_order,
    }
}

/// The source columns of the canonical id columns.
fn id_sources(mapped: &[Mapped]) -> Vec<String> {
    mapped
        .iter()
        .filter(|m| m.kind == ColumnType::Id)
        .map(|m| m.source.clone())
        .collect()
}

/// The identity rule ([`crate::ids::canonical_id`]: NFKC, invisible characters removed, trimmed)
/// applied in place to the text columns `columns`, before any rule or the duplicate check sees
/// them, so that ` 00001`, `00001` + zero-width space and fullwidth `００００１` are one id. A
/// column in which no value needs it ([`crate::ids::needs_canonical`]: nearly every file) is
/// scanned once and left as it is.
pub(crate) fn canonical_id_columns(frame: &mut DataFrame, columns: &[String]) -> PolarsResult<()> {
    for name in columns {
        let ca = frame.column(name.as_str())?.str()?;
        if !ca
            .downcast_iter()
            .any(|arr| arr.iter().flatten().any(crate::ids::needs_canonical))
        {
            continue;
        }
        let canonical: StringChunked = ca.iter().map(|v| v.map(crate::ids::canonical_id)).collect();
        frame.replace(
            name.as_str(),
            canonical.with_name(name.as_str().into()).into_column(),
        )?;
    }
    Ok(())
}

/// The duplicate-check columns of a source, from its first piece.
pub(crate) fn duplicate_columns_of(
    raw: &RawTable,
    table: TableKind,
    spec: &SourceSpec,
) -> Result<DuplicateColumns, IngestError> {
    let mapped = map_columns(raw, table, spec)?;
    Ok(duplicate_columns(&mapped, &column_names(&raw.frame)))
}

/// The column names of a source, in file order.
fn column_names(frame: &DataFrame) -> Vec<String> {
    frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Below this many candidate rows the whole-row comparison runs directly.
const FEW_CANDIDATES: usize = 10_000;

/// Finds rows identical (in every column of `key_order`) to an earlier row.
///
/// A whole-row `is_first_distinct` over millions of rows hashes a struct of every column (the
/// slowest step of validation), and even a one-column `is_first_distinct` on text runs on one
/// core (~6 s on 20M order ids). So candidates are narrowed first: rows whose hash of the
/// `hashed` columns (the order id, else every column) is shared with another row, hashed in
/// parallel; then, while many remain, one column at a time in `key_order`: only rows whose value
/// occurs more than once among the candidates stay. Identical rows always survive a narrowing
/// together (a hash collision only keeps a row too many) and the row order is kept, so the
/// exact whole-row comparison on the few remaining rows gives the same answer as on the whole
/// table.
pub(crate) fn find_duplicates(
    frame: &DataFrame,
    key_order: &[String],
    hashed: &[String],
) -> PolarsResult<Duplicates> {
    let n = frame.height();
    let mut candidates = frame.select(key_order.iter().map(|s| PlSmallStr::from(s.as_str())))?;
    candidates = candidates.with_row_index(ROW.into(), None)?;
    if n > FEW_CANDIDATES {
        let shared = shared_hash_rows(frame, hashed)?;
        candidates = candidates.filter(&shared)?;
    }
    for name in key_order {
        if candidates.height() <= FEW_CANDIDATES {
            break;
        }
        let later = candidates
            .clone()
            .lazy()
            .select([col(name.as_str()).is_first_distinct().not()])
            .collect()?;
        let later = later.columns()[0].bool()?.clone();
        if !later.any() {
            candidates = candidates.clear();
            break;
        }
        let repeated = candidates
            .column(name.as_str())?
            .filter(&later)?
            .unique()?
            .as_materialized_series()
            .clone();
        candidates = candidates
            .lazy()
            .filter(col(name.as_str()).is_in(lit(repeated).implode(false), true))
            .collect()?;
    }
    let mut later_copy = vec![false; n];
    let mut first_copy = HashMap::new();
    if candidates.height() > 1 {
        let whole_row = as_struct(key_order.iter().map(|n| col(n.as_str())).collect());
        let found = candidates
            .lazy()
            .select([
                col(ROW),
                whole_row
                    .clone()
                    .is_first_distinct()
                    .not()
                    .alias(SAME_AS_EARLIER),
                col(ROW).min().over([whole_row])?.alias(FIRST_SEEN),
            ])
            .filter(col(SAME_AS_EARLIER))
            .collect()?;
        let rows = found.column(ROW)?.idx()?;
        let firsts = found.column(FIRST_SEEN)?.idx()?;
        for (r, f) in rows.into_no_null_iter().zip(firsts.into_no_null_iter()) {
            later_copy[r as usize] = true;
            first_copy.insert(r, f as i64);
        }
    }
    Ok(Duplicates {
        later_copy: BooleanChunked::from_slice(SAME_AS_EARLIER.into(), &later_copy),
        first_copy,
    })
}

/// Per row: whether another row has the same hash of `columns` (a superset of the rows whose
/// values repeat).
fn shared_hash_rows(frame: &DataFrame, columns: &[String]) -> PolarsResult<BooleanChunked> {
    let hashes = row_hashes(frame, columns)?;
    Ok(match repeated_hashes(&hashes) {
        None => BooleanChunked::full(ROW.into(), false, hashes.len()),
        Some(shared) => shared.into_iter().collect(),
    })
}

/// A 64-bit hash of `columns` per row, in parallel slices of rows. The same text gives the same
/// hash in any frame (a fixed seed), so hashes of the pieces of a file can be compared.
pub(crate) fn row_hashes(frame: &DataFrame, columns: &[String]) -> PolarsResult<Vec<u64>> {
    let n = frame.height();
    let state = PlSeedableRandomStateQuality::seed_from_u64(0x5eed);
    let parts = parallel::per_slice(n, |start, len| -> PolarsResult<Vec<u64>> {
        let mut hashes = Vec::with_capacity(len);
        for (i, name) in columns.iter().enumerate() {
            let c = frame.column(name.as_str())?.slice(start as i64, len);
            if i == 0 {
                c.vec_hash(state.clone(), &mut hashes)?;
            } else {
                c.vec_hash_combine(state.clone(), &mut hashes)?;
            }
        }
        Ok(hashes)
    });
    let mut hashes = Vec::with_capacity(n);
    for p in parts {
        hashes.extend(p?);
    }
    Ok(hashes)
}

/// Per hash: whether another entry has the same value; `None` when no value repeats. The hashes
/// are scattered into buckets by their top bits, small enough for a bucket's table to stay in
/// cache (4096 buckets: ~50k hashes each at 200M rows); each bucket finds its repeated values
/// in an open-addressing table, the buckets in parallel. One hash set of every value would miss
/// the cache on nearly every insert.
pub(crate) fn repeated_hashes(hashes: &[u64]) -> Option<Vec<bool>> {
    const BUCKET_BITS: u32 = 12;
    let bucket = |h: u64| (h >> (64 - BUCKET_BITS)) as usize;
    let mut starts = vec![0usize; (1 << BUCKET_BITS) + 1];
    for &h in hashes {
        starts[bucket(h) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut scattered = vec![0u64; hashes.len()];
    let mut cursor = starts.clone();
    for &h in hashes {
        let b = bucket(h);
        scattered[cursor[b]] = h;
        cursor[b] += 1;
    }
    let buckets: Vec<&[u64]> = starts.windows(2).map(|w| &scattered[w[0]..w[1]]).collect();
    let repeated: HashSet<u64, Mixed> = buckets.into_par_iter().flat_map_iter(repeats_in).collect();
    if repeated.is_empty() {
        return None;
    }
    Some(hashes.iter().map(|h| repeated.contains(h)).collect())
}

/// The values of `values` that occur more than once (a value may be listed more than once).
/// Linear probing on the low bits, which the bucket split left random.
pub(crate) fn repeats_in(values: &[u64]) -> Vec<u64> {
    let size = (values.len() * 2).next_power_of_two().max(16);
    let mask = size - 1;
    // 0 marks an empty slot; the value 0 is tracked apart.
    let mut table = vec![0u64; size];
    let mut zeros = 0;
    let mut found = Vec::new();
    for &v in values {
        if v == 0 {
            zeros += 1;
            if zeros == 2 {
                found.push(0);
            }
            continue;
        }
        let mut i = v as usize & mask;
        loop {
            match table[i] {
                0 => {
                    table[i] = v;
                    break;
                }
                t if t == v => {
                    found.push(v);
                    break;
                }
                _ => i = (i + 1) & mask,
            }
        }
    }
    found
}

/// A hasher for values that already are hashes: one multiplication spreads their bits so both
/// the bucket (low bits) and the tag (high bits) of the table vary.
#[derive(Default, Clone, Copy)]
struct MixedHasher(u64);

impl Hasher for MixedHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type Mixed = BuildHasherDefault<MixedHasher>;

/// The per-column expressions of validation, built once and applied to all rows (phase A) or to
/// the bad rows only (phase B).
struct Stages {
    /// `__s_c`: the source text, trimmed.
    stripped: Vec<Expr>,
    /// `__t_c`: empty → null (flags lower-cased).
    texts: Vec<Expr>,
    /// `__p_c`: the parsed value.
    parsed: Vec<Expr>,
    /// Per column: is this row bad for this column (boolean, cheap).
    bad_flags: Vec<Expr>,
    /// `__r_c`: the reason string, or null (phase B).
    reason_columns: Vec<Expr>,
    /// References to the reason columns, the column names and the offending values.
    reasons: Vec<Expr>,
    columns: Vec<Expr>,
    values: Vec<Expr>,
}

impl Stages {
    fn new(
        raw: &RawTable,
        mapped: &[Mapped],
        clean: &HashSet<&str>,
        table: TableKind,
        formats: &Formats<'_>,
        as_of: Option<NaiveDate>,
        detect: bool,
    ) -> Stages {
        let mut st = Stages {
            stripped: vec![],
            texts: vec![],
            parsed: vec![],
            bad_flags: vec![],
            reason_columns: vec![],
            reasons: vec![],
            columns: vec![],
            values: vec![],
        };
        // A derived amount out of range is the unit price's fault (the quantity is checked first).
        let derived = derives_amount(mapped, table);
        for m in mapped {
            let name = |prefix: &str| format!("{prefix}{}", m.canonical);
            let (s_name, t_name, p_name, r_name) =
                (name("__s_"), name("__t_"), name("__p_"), name("__r_"));
            let source = col(m.source.as_str());
            let is_clean = clean.contains(m.source.as_str());
            st.stripped.push(
                if is_clean {
                    source
                } else {
                    source.str().strip_chars(lit(NULL))
                }
                .alias(s_name.as_str()),
            );
            let stripped = col(s_name.as_str());
            let mut text = if is_clean {
                stripped
            } else {
                when(stripped.clone().eq(lit("")))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(stripped)
            };
            if m.kind == ColumnType::Flag {
                text = text.str().to_lowercase();
            }
            st.texts.push(text.alias(t_name.as_str()));
            // Without a configured format, phase A parses with the one ISO layout detected from
            // a sample; phase B tries every ISO layout on the rows that failed.
            let date_format = formats.date(&m.canonical);
            let parse_format = match (m.kind, date_format, detect) {
                (ColumnType::Date, None, true) => Some(detect_iso_format(&raw.frame, &m.source)),
                _ => date_format,
            };
            let (t, p) = (col(t_name.as_str()), col(p_name.as_str()));
            st.parsed.push(
                parse_value(t.clone(), m.kind, parse_format, formats.numbers)
                    .alias(p_name.as_str()),
            );
            let mut column_rules = rules(t.clone(), p.clone(), m, table, as_of);
            if derived && m.canonical == AMOUNT_FACTORS[1] {
                column_rules.push((
                    (col(format!("__p_{}", AMOUNT_FACTORS[0])) * p)
                        .abs()
                        .gt(lit(MAX_NUMBER))
                        .fill_null(lit(false)),
                    reason::OUT_OF_RANGE,
                ));
            }
            st.bad_flags.push(bad_flag(&column_rules));
            st.reason_columns
                .push(reason_expr(&column_rules).alias(r_name.as_str()));
            let r = col(r_name.as_str());
            st.reasons.push(r.clone());
            st.columns.push(
                when(r.clone().is_not_null())
                    .then(lit(m.canonical.clone()))
                    .otherwise(null_reason()),
            );
            st.values
                .push(when(r.is_not_null()).then(t).otherwise(null_reason()));
        }
        st
    }

    /// Adds the stripped, text and parsed columns.
    fn apply(&self, lf: LazyFrame) -> LazyFrame {
        lf.with_columns(self.stripped.clone())
            .with_columns(self.texts.clone())
            .with_columns(self.parsed.clone())
    }
}

/// The mapped source columns in which no value is empty or has surrounding whitespace (missing
/// fields are already null): trimming them and turning empty text into null would change
/// nothing, so they skip both, and their kept text is the source column itself, shared rather
/// than copied (at 20M rows each string column copied costs ~320 MB and a pass). One scan per
/// column, the columns in parallel.
fn clean_columns<'a>(frame: &DataFrame, mapped: &'a [Mapped]) -> HashSet<&'a str> {
    let is_clean = |name: &str| {
        let Ok(ca) = frame.column(name).and_then(|c| c.str()) else {
            return false;
        };
        ca.downcast_iter().all(|arr| {
            arr.iter()
                .flatten()
                .all(|v| !v.is_empty() && v.trim().len() == v.len())
        })
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = mapped
            .iter()
            .map(|m| {
                let name = m.source.as_str();
                scope.spawn(move || (name, is_clean(name)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| match h.join() {
                Ok((name, true)) => Some(name),
                _ => None,
            })
            .collect()
    })
}

/// The rules of one column, in precedence order: a condition on the cleaned text and the parsed
/// value, and the reason it gives. Phase A ORs the conditions (cheap booleans for every row);
/// phase B turns them into reason strings for the bad rows — both from this one list.
fn rules(
    text: Expr,
    value: Expr,
    m: &Mapped,
    table: TableKind,
    as_of: Option<NaiveDate>,
) -> Vec<(Expr, &'static str)> {
    let mut rules = Vec::new();
    if m.required {
        let missing = if m.kind == ColumnType::Id {
            reason::MISSING_CUSTOMER_ID
        } else {
            reason::MISSING_VALUE
        };
        rules.push((text.clone().is_null(), missing));
    }
    let unparsed = text.clone().is_not_null().and(value.clone().is_null());
    match m.kind {
        ColumnType::Id | ColumnType::Text => {}
        ColumnType::Number => {
            rules.push((
                unparsed.or(text.is_not_null().and(value.clone().is_finite().not())),
                reason::BAD_NUMBER,
            ));
            rules.push((
                value.abs().gt(lit(MAX_NUMBER)).fill_null(lit(false)),
                reason::OUT_OF_RANGE,
            ));
        }
        ColumnType::Flag => rules.push((unparsed, reason::BAD_FLAG)),
        ColumnType::Date => {
            rules.push((unparsed, reason::BAD_DATE));
            let (first, last) = date_range();
            rules.push((
                value
                    .clone()
                    .lt(date_lit(first))
                    .or(value.clone().gt(date_lit(last)))
                    .fill_null(lit(false)),
                reason::OUT_OF_RANGE,
            ));
            if let Some(d) = as_of {
                if table.event_date_columns().contains(&m.canonical.as_str()) {
                    rules.push((
                        value.gt(date_lit(d)).fill_null(lit(false)),
                        reason::FUTURE_DATE,
                    ));
                }
            }
        }
    }
    rules
}

/// A `Date` literal. polars' `lit(NaiveDate)` is a nanosecond datetime: compared with it, a
/// date column is cast to nanoseconds, and dates after 2262-04-11 became null — neither future
/// nor out of range, kept and then ignored.
fn date_lit(d: NaiveDate) -> Expr {
    lit(crate::features::epoch_day(d)).cast(DataType::Date)
}

/// Whether a row is bad for this column (phase A).
fn bad_flag(rules: &[(Expr, &'static str)]) -> Expr {
    rules
        .iter()
        .map(|(cond, _)| cond.clone())
        .reduce(|a, b| a.or(b))
        .unwrap_or_else(|| lit(false))
}

/// Why a row is rejected for this column, or null (phase B): the first rule that applies.
fn reason_expr(rules: &[(Expr, &'static str)]) -> Expr {
    rules
        .iter()
        .rev()
        .fold(null_reason(), |rest, (cond, reason)| {
            when(cond.clone()).then(lit(*reason)).otherwise(rest)
        })
}

/// Trims surrounding whitespace; an empty field is a missing value.
fn cleaned(e: Expr) -> Expr {
    let trimmed = e.str().strip_chars(lit(NULL));
    when(trimmed.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(trimmed)
}

fn null_reason() -> Expr {
    lit(NULL).cast(DataType::String)
}

/// The parsed value of a cleaned text column (flags arrive lower-cased).
fn parse_value(text: Expr, kind: ColumnType, format: Option<&str>, numbers: NumberFormat) -> Expr {
    match kind {
        ColumnType::Id | ColumnType::Text => text,
        ColumnType::Number if numbers == NumberFormat::PLAIN => text.cast(DataType::Float64),
        ColumnType::Number => normalized_numbers(text, numbers).cast(DataType::Float64),
        ColumnType::Flag => {
            let any_of = |words: &[&str]| {
                words
                    .iter()
                    .map(|w| text.clone().eq(lit(*w)))
                    .reduce(|a, b| a.or(b))
                    .unwrap_or_else(|| lit(false))
            };
            when(any_of(&["1", "true", "yes", "y", "t"]))
                .then(lit(1i32))
                .when(any_of(&["0", "false", "no", "n", "f"]))
                .then(lit(0i32))
                .otherwise(lit(NULL).cast(DataType::Int32))
        }
        ColumnType::Date => parse_date(text, format),
    }
}

/// Numbers written with a decimal comma or thousands separators as plain decimal text, null
/// where a value is not a number in that format (a `bad_number` reject). polars has no such
/// parser; the text goes through [`NumberFormat::normalize`], so `1.234,56` becomes exactly the
/// `1234.56` a plain file would give.
fn normalized_numbers(text: Expr, numbers: NumberFormat) -> Expr {
    text.map(
        move |c| {
            let out: StringChunked = c
                .str()?
                .iter()
                .map(|v| v.and_then(|v| numbers.normalize(v)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// How one source writes its dates and numbers.
struct Formats<'a> {
    spec: &'a SourceSpec,
    table: TableKind,
    numbers: NumberFormat,
    /// Whether a date column that fails whole gets a hint: only when the whole file is
    /// validated at once, so a file read in pieces (each piece a sample of its own) gets the
    /// rejects it would get whole.
    hint_dates: bool,
}

impl Formats<'_> {
    /// The configured date format of a canonical column (`None`: ISO).
    fn date(&self, column: &str) -> Option<&str> {
        self.spec.date_format_of(column)
    }

    /// What a value of a column looks like, for the rejects' `expected` column.
    fn expected(&self, m: &Mapped) -> String {
        match m.kind {
            ColumnType::Number if self.numbers != NumberFormat::PLAIN => self.numbers.expected(),
            kind => kind.expected(self.date(&m.canonical)),
        }
    }
}

fn strptime(format: &str) -> StrptimeOptions {
    StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    }
}

/// The ISO layouts accepted without a configured format, most common first.
const ISO_FORMATS: [&str; 7] = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// The ISO layout of a date column, from its first 1,000 non-empty values: the first layout that
/// parses the most of them. Parsing every row with every layout would cost one pass per layout
/// over millions of strings; a file mixing layouts gets its minority rows rejected as
/// `bad_date` (loudly, never silently) and can set `date_format`.
fn detect_iso_format(frame: &DataFrame, column: &str) -> &'static str {
    let sample: Vec<String> = frame
        .column(column)
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|ca| {
            ca.iter()
                .flatten()
                .map(|v| v.trim().trim_end_matches('Z').to_string())
                .filter(|v| !v.is_empty())
                .take(1_000)
                .collect()
        })
        .unwrap_or_default();
    let fits = |f: &str, v: &str| {
        if f.contains("%H") {
            chrono::NaiveDateTime::parse_from_str(v, f).is_ok()
        } else {
            NaiveDate::parse_from_str(v, f).is_ok()
        }
    };
    ISO_FORMATS
        .iter()
        .map(|f| (sample.iter().filter(|v| fits(f, v)).count(), *f))
        .fold(
            (0, ISO_FORMATS[0]),
            |best, cur| if cur.0 > best.0 { cur } else { best },
        )
        .1
}

/// Day-first, month-first and year-first layouts a file may use instead of the one set: tried
/// when a whole date column fails, to name the one that reads it.
const HINT_FORMATS: [&str; 14] = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d %b %Y",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
];

/// A hint for a date column none of whose first 1,000 values reads in its format (configured
/// or ISO): the layout that reads all of them, or the two that do (day/month order is then
/// ambiguous). `None` when some values read (a few bad rows, not a wrong format) or no layout
/// fits.
fn date_format_hint(frame: &DataFrame, m: &Mapped, formats: &Formats<'_>) -> Option<String> {
    let sample = crate::features::text_sample(frame.column(&m.source).ok()?, 1_000)?;
    let reads = |f: &str, v: &str| {
        NaiveDate::parse_from_str(v, f).is_ok()
            || chrono::NaiveDateTime::parse_from_str(v, f).is_ok()
    };
    let set: Vec<&str> = match formats.date(&m.canonical) {
        Some(f) => vec![f],
        None => ISO_FORMATS.to_vec(),
    };
    let none_read = sample
        .iter()
        .all(|v| !set.iter().any(|f| reads(f, v.trim_end_matches('Z'))));
    if sample.is_empty() || !none_read {
        return None;
    }
    let fits: Vec<&str> = HINT_FORMATS
        .into_iter()
        .filter(|f| sample.iter().all(|v| reads(f, v)))
        .collect();
    let key = format!(
        "`date_formats.{} = \"{{}}\"` under [sources.{}]",
        m.canonical, formats.table
    );
    match fits.as_slice() {
        [] => None,
        [one] => Some(format!(
            "no value of the column reads so, every one reads as `{one}`: set {}",
            key.replace("{}", one)
        )),
        several => Some(format!(
            "no value of the column reads so; they read as any of {} (day and month cannot be told apart in these values): set {} with the one the file uses",
            several.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
            key.replace("{}", several[0])
        )),
    }
}

/// Parses dates with one strftime format (a trailing `Z` of ISO datetimes allowed), or with
/// every ISO layout when `format` is `None`. Datetimes keep their calendar day: features work at
/// day resolution.
fn parse_date(text: Expr, format: Option<&str>) -> Expr {
    let datetime = |e: Expr, f: &str| {
        e.str()
            .to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                strptime(f),
                lit("raise"),
            )
            .dt()
            .date()
    };
    let Some(f) = format else {
        // Every ISO layout: only ever run on the few rows the detected layout did not parse.
        let text = text.str().strip_suffix(lit("Z"));
        let tries: Vec<Expr> = ISO_FORMATS
            .iter()
            .map(|f| parse_date(text.clone(), Some(f)))
            .collect();
        return coalesce(&tries);
    };
    let text = if ISO_FORMATS.contains(&f) {
        text.str().strip_suffix(lit("Z"))
    } else {
        text
    };
    if f.contains("%H") || f.contains("%T") || f.contains("%s") {
        datetime(text, f)
    } else {
        text.str().to_date(strptime(f))
    }
}

/// Resolves the canonical columns to source columns: the config's mapping (by name or
/// position), else the canonical name itself when the file has it.
fn map_columns(
    raw: &RawTable,
    table: TableKind,
    spec: &SourceSpec,
) -> Result<Vec<Mapped>, IngestError> {
    let names = column_names(&raw.frame);
    let resolve =
        |canonical: &str, r: &ColumnRef| -> Result<String, IngestError> {
            match r {
                ColumnRef::Name(n) if names.iter().any(|x| x == n) => Ok(n.clone()),
                ColumnRef::Name(n) => Err(IngestError::MissingColumn {
                    table,
                    path: raw.path.clone(),
                    column: n.clone(),
                    canonical: canonical.to_string(),
                    found: names.clone(),
                }),
                ColumnRef::Position(p) => names.get(p.wrapping_sub(1)).cloned().ok_or_else(|| {
                    IngestError::MissingColumn {
                        table,
                        path: raw.path.clone(),
                        column: format!("#{p}"),
                        canonical: canonical.to_string(),
                        found: names.clone(),
                    }
                }),
            }
        };
    let mut sources = Vec::new();
    for c in table.columns() {
        let source = match spec.columns.get(c.name) {
            Some(r) => Some(resolve(c.name, r)?),
            None if raw.has_header && names.iter().any(|n| n == c.name) => Some(c.name.to_string()),
            None => None,
        };
        sources.push((c, source));
    }
    let has = |name: &str| sources.iter().any(|(c, s)| c.name == name && s.is_some());
    // Invoice lines: without `amount`, quantity × unit_price is the amount, so both are needed.
    let derived =
        table == TableKind::Transactions && !has("amount") && AMOUNT_FACTORS.iter().all(|f| has(f));
    let keyed = table.keyed_by_contact(has);
    let mut mapped = Vec::new();
    for (c, source) in sources {
        let by_contact = keyed && c.name == "customer_id";
        let required = (c.required && !by_contact) || (derived && AMOUNT_FACTORS.contains(&c.name));
        match source {
            Some(source) => mapped.push(Mapped {
                canonical: c.name.to_string(),
                source,
                kind: c.kind,
                required,
            }),
            None if derived && c.name == "amount" => {}
            None if c.required && !by_contact => {
                return Err(IngestError::MissingColumn {
                    table,
                    path: raw.path.clone(),
                    column: c.name.to_string(),
                    canonical: c.name.to_string(),
                    found: names.clone(),
                })
            }
            None => {}
        }
    }
    // Extra columns the config renames (customer attributes such as `age = "AGE"`).
    for (canonical, r) in &spec.columns {
        if table.columns().iter().all(|c| c.name != canonical) {
            mapped.push(Mapped {
                canonical: canonical.clone(),
                source: resolve(canonical, r)?,
                kind: ColumnType::Text,
                required: false,
            });
        }
    }
    Ok(mapped)
}

fn raw_names_used(mapped: &[Mapped]) -> Vec<String> {
    mapped.iter().map(|m| m.source.clone()).collect()
}

/// Source columns carried along unchanged (customer attributes, extra contact fields).
fn extra_columns(
    used: &[String],
    source_names: &[String],
    table: TableKind,
    mapped: &[Mapped],
) -> Vec<String> {
    if !table.keeps_extra_columns() {
        return Vec::new();
    }
    source_names
        .iter()
        .filter(|n| !used.contains(n) && mapped.iter().all(|m| &m.canonical != *n))
        .cloned()
        .collect()
}

/// Extra columns whose every value is a number (in the source's number format) become
/// `Float64`, as do those whose every value is a flag word (`yes`/`no`, `y`/`n`, `true`/`false`,
/// any case: 1/0), so a consent column counts as the flag it is; the rest stay text, and so do
/// codes written with a leading zero (`02134`: a zip code, not the number 2134, which would no
/// longer match the same zip in an appended or market table). Empty strings are missing values
/// either way.
fn type_extra_columns(
    mut frame: DataFrame,
    extras: &[String],
    numbers: NumberFormat,
) -> PolarsResult<DataFrame> {
    let mut exprs = Vec::new();
    for name in extras {
        exprs.push(cleaned(col(name.as_str())).alias(name.as_str()));
    }
    if exprs.is_empty() {
        return Ok(frame);
    }
    frame = frame.lazy().with_columns(exprs).collect()?;
    for name in extras {
        let c = frame.column(name)?;
        if c.null_count() == c.len() {
            continue;
        }
        if has_leading_zero_code(c)? {
            continue;
        }
        let as_num = c.cast(&DataType::Float64)?;
        if c.null_count() == as_num.null_count() {
            frame.replace(name, as_num)?;
            continue;
        }
        let text = c.str()?;
        let typed = [
            |v: &str, _: NumberFormat| extra_flag(v),
            |v: &str, n: NumberFormat| {
                (n != NumberFormat::PLAIN)
                    .then(|| n.normalize(v)?.parse::<f64>().ok())
                    .flatten()
            },
        ]
        .into_iter()
        .find_map(|parse| {
            let values: Option<Float64Chunked> = text
                .iter()
                .map(|v| {
                    v.map(|v| parse(v, numbers))
                        .map_or(Some(None), |p| p.map(Some))
                })
                .collect();
            values
        });
        if let Some(values) = typed {
            frame.replace(name, values.with_name(name.as_str().into()).into_column())?;
        }
    }
    Ok(frame)
}

/// A flag word of an extra column as 1/0 (`t`/`f` left out: a gender column holds `F`).
fn extra_flag(value: &str) -> Option<f64> {
    match value.to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(1.0),
        "no" | "n" | "false" | "0" => Some(0.0),
        _ => None,
    }
}

/// Whether a text column holds a digit string with a leading zero (`007`, not `0` or `0.5`).
fn has_leading_zero_code(c: &Column) -> PolarsResult<bool> {
    Ok(c.str()?.iter().flatten().any(|v| {
        let b = v.trim().as_bytes();
        b.len() > 1 && b[0] == b'0' && b[1].is_ascii_digit()
    }))
}

/// The rejects of a table without a bad row: the columns alone.
pub(crate) fn no_rejects() -> PolarsResult<DataFrame> {
    let string = |name: &str| Column::new_empty(name.into(), &DataType::String);
    DataFrame::new(
        0,
        vec![
            string("file"),
            Column::new_empty("line".into(), &DataType::Int64),
            string("column"),
            string("source_column"),
            string("reason"),
            string("value"),
            string("expected"),
        ],
    )
}

/// The rejects of the `bad` rows (at least one) of the file at `path`, whose rows start on
/// `lines`.
fn rejects_frame(
    bad: &DataFrame,
    raw: &RawTable,
    lines: &RecordLines,
    mapped: &[Mapped],
    formats: &Formats<'_>,
    as_of: Option<NaiveDate>,
    first_seen_line: Option<&[Option<i64>]>,
) -> PolarsResult<DataFrame> {
    let path = raw.path.as_path();
    let n = bad.height();
    let expected: BTreeMap<&str, String> = mapped
        .iter()
        .map(|m| (m.canonical.as_str(), formats.expected(m)))
        .collect();
    // A date column none of whose values reads in its format: name the format that would.
    let date_hints: BTreeMap<&str, String> = mapped
        .iter()
        .filter(|m| formats.hint_dates && m.kind == ColumnType::Date)
        .filter_map(|m| {
            let hint = date_format_hint(&raw.frame, m, formats)?;
            Some((m.canonical.as_str(), hint))
        })
        .collect();
    let kind_of: BTreeMap<&str, ColumnType> = mapped
        .iter()
        .map(|m| (m.canonical.as_str(), m.kind))
        .collect();
    let source_of: BTreeMap<&str, &str> = mapped
        .iter()
        .map(|m| (m.canonical.as_str(), m.source.as_str()))
        .collect();
    let file = path.display().to_string();
    let line: Int64Chunked = bad
        .column(ROW)?
        .idx()?
        .iter()
        .map(|r| r.map(|r| lines.line(u64::from(r)) as i64))
        .collect();
    let line = line.with_name("line".into());
    let column = bad.column(COLUMN)?.str()?.clone();
    let source_column: StringChunked = column
        .iter()
        .map(|c| c.map(|c| source_of.get(c).copied().unwrap_or(c).to_string()))
        .collect();
    let reasons = bad.column(REASON)?.str()?.clone();
    let expected_col: StringChunked = column
        .iter()
        .zip(reasons.iter())
        .map(|(c, r)| {
            Some(match (c, r, as_of) {
                (Some("*") | None, _, _) => "a row that differs from every earlier row".to_string(),
                (Some(_), Some(reason::FUTURE_DATE), Some(d)) => {
                    format!("a date on or before the as-of date {d}")
                }
                (Some(c), Some(reason::OUT_OF_RANGE), _) => {
                    kind_of.get(c).map(|k| in_range(*k)).unwrap_or_default()
                }
                (Some(c), Some(reason::BAD_DATE), _) if date_hints.contains_key(c) => {
                    format!("{}; {}", expected[c], date_hints[c])
                }
                (Some(c), _, _) => expected.get(c).cloned().unwrap_or_default(),
            })
        })
        .collect();
    // Duplicates name the line of their first copy.
    let values = bad.column(VALUE)?.str()?.clone();
    let value_col: StringChunked = values
        .iter()
        .zip(reasons.iter())
        .enumerate()
        .map(
            |(i, (v, r))| match (r, first_seen_line.and_then(|f| f.get(i).copied().flatten())) {
                (Some(reason::DUPLICATE), Some(line)) => Some(format!("same as line {line}")),
                _ => v.map(str::to_string),
            },
        )
        .collect();
    DataFrame::new(
        n,
        vec![
            Column::new_scalar("file".into(), Scalar::from(PlSmallStr::from(file)), n),
            line.into_series().into_column(),
            column.with_name("column".into()).into_column(),
            source_column
                .with_name("source_column".into())
                .into_column(),
            bad.column(REASON)?.clone().with_name("reason".into()),
            value_col.with_name("value".into()).into_column(),
            expected_col.with_name("expected".into()).into_column(),
        ],
    )
}

/// A database source's rejects gain a `key` column after `line`: the row's key columns as the
/// query gave them (`customer_id=42, order_id=7`), since the row number of a query's result
/// is nothing a person can look up. A file's rejects are left as they are: its line is the key.
fn with_row_keys(
    mut rejects: DataFrame,
    bad: &DataFrame,
    raw: &RawTable,
    table: TableKind,
    mapped: &[Mapped],
) -> PolarsResult<DataFrame> {
    if raw.fingerprint.is_none() {
        return Ok(rejects);
    }
    let keys: Vec<(&str, &StringChunked)> = table
        .key_columns()
        .iter()
        .filter_map(|key| mapped.iter().find(|m| m.canonical == *key))
        .filter_map(|m| {
            let column = raw.frame.column(&m.source).ok()?.str().ok()?;
            Some((m.canonical.as_str(), column))
        })
        .collect();
    let key: StringChunked = bad
        .column(ROW)?
        .idx()?
        .iter()
        .map(|row| {
            let row = row? as usize;
            let parts: Vec<String> = keys
                .iter()
                .map(|(name, column)| format!("{name}={}", column.get(row).unwrap_or_default()))
                .collect();
            Some(parts.join(", "))
        })
        .collect();
    let at = rejects.get_column_index("line").map_or(0, |i| i + 1);
    rejects.insert_column(at, key.with_name("key".into()).into_column())?;
    Ok(rejects)
}

/// The `line` and `value` (empty when missing) of each reject, for tests.
#[cfg(test)]
pub(crate) fn lines_and_values(rejects: &DataFrame) -> Vec<(i64, String)> {
    let column = |name: &str| {
        rejects
            .column(name)
            .unwrap()
            .as_materialized_series()
            .clone()
    };
    let (lines, values) = (column("line"), column("value"));
    lines
        .i64()
        .unwrap()
        .iter()
        .zip(values.str().unwrap().iter())
        .map(|(l, v)| (l.unwrap(), v.unwrap_or_default().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::config::SourceSpec;
    use crate::ingest::read::read_raw;

    /// Validates `csv` as a transactions file; returns (kept rows, reasons of the rejects).
    fn check(csv: &str, spec: SourceSpec, as_of: Option<&str>) -> (usize, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, csv).unwrap();
        let raw = read_raw(&path, &spec, TableKind::Transactions).unwrap();
        let as_of = as_of.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        let v = validate(raw, TableKind::Transactions, &spec, as_of).unwrap();
        assert_eq!(
            v.summary.rows_in,
            v.summary.rows_kept + v.summary.rows_rejected
        );
        let reasons = v
            .rejects
            .column("reason")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|r| r.unwrap().to_string())
            .collect();
        (v.frame.height(), reasons)
    }

    const HEADER: &str = "customer_id,order_date,amount\n";

    #[test]
    fn numeric_extra_columns_become_numbers_unless_written_with_a_leading_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(
            &path,
            "customer_id,zip_code,income,score\n1,02134,52000,0.5\n2,10001,,0\n",
        )
        .unwrap();
        let spec = SourceSpec::default();
        let raw = read_raw(&path, &spec, TableKind::Customers).unwrap();
        let v = validate(raw, TableKind::Customers, &spec, None).unwrap();
        let zip = v.frame.column("zip_code").unwrap();
        assert_eq!(zip.dtype(), &DataType::String);
        assert_eq!(zip.str().unwrap().get(0), Some("02134"));
        assert_eq!(
            v.frame.column("income").unwrap().dtype(),
            &DataType::Float64
        );
        // `0` and `0.5` are numbers, not codes.
        assert_eq!(v.frame.column("score").unwrap().dtype(), &DataType::Float64);
    }

    #[test]
    fn values_are_trimmed_and_blank_text_is_missing_unless_the_column_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "customer_id,order_date,amount,category,channel\n\
             007 , 2024-01-01,1.5 ,  ,web\n\
             008,2024-01-02,2,\" home\",web\n",
        )
        .unwrap();
        let spec = SourceSpec::default();
        let raw = read_raw(&path, &spec, TableKind::Transactions).unwrap();
        let mapped = map_columns(&raw, TableKind::Transactions, &spec).unwrap();
        let clean = clean_columns(&raw.frame, &mapped);
        assert_eq!(clean, HashSet::from(["channel"]));
        let v = validate(raw, TableKind::Transactions, &spec, None).unwrap();
        let text = |c: &str| -> Vec<Option<String>> {
            let col = v.frame.column(c).unwrap().str().unwrap().clone();
            col.iter().map(|s| s.map(str::to_string)).collect()
        };
        assert_eq!(
            text("customer_id"),
            [Some("007".into()), Some("008".into())]
        );
        assert_eq!(text("category"), [None, Some("home".into())]);
        assert_eq!(text("channel"), [Some("web".into()), Some("web".into())]);
        let amount: Vec<f64> = v
            .frame
            .column("amount")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(amount, [1.5, 2.0]);
    }

    #[test]
    fn each_rule_names_its_reason() {
        for (row, reason) in [
            (",2024-01-01,1", "missing_customer_id"),
            ("  ,2024-01-01,1", "missing_customer_id"),
            ("a,,1", "missing_value"),
            ("a,2024-01-01,", "missing_value"),
            ("a,2024-02-30,1", "bad_date"),
            ("a,01/02/2024,1", "bad_date"),
            ("a,2024-01-01,1.2.3", "bad_number"),
            ("a,2024-01-01,inf", "bad_number"),
            ("a,2024-03-01,1", "future_date"),
            ("a,2024-01-01,100000000000.01", "out_of_range"),
            ("a,2024-01-01,-1e15", "out_of_range"),
            ("a,2300-01-01,1", "out_of_range"),
            ("a,1677-09-21,1", "out_of_range"),
            ("a,2262-04-12T10:00:00,1", "out_of_range"),
        ] {
            let csv = format!("{HEADER}b,2024-01-01,5\n{row}\n");
            let (kept, reasons) = check(&csv, SourceSpec::default(), Some("2024-02-01"));
            assert_eq!(kept, 1, "{row}");
            assert_eq!(reasons, [reason], "{row}");
        }
    }

    /// The bounds themselves are kept, with or without an as-of date.
    #[test]
    fn the_edges_of_the_range_are_kept() {
        let csv = format!(
            "{HEADER}a,2262-04-11,100000000000\na,1677-09-22,-100000000000\na,2262-04-11T23:59:59,1\n"
        );
        assert_eq!(check(&csv, SourceSpec::default(), None), (3, vec![]));
        let (kept, reasons) = check(&csv, SourceSpec::default(), Some("2300-01-01"));
        assert_eq!((kept, reasons.len()), (3, 0));
    }

    /// Ids are compared by their canonical form: padded, zero-width and fullwidth spellings
    /// are one id (a duplicate with an order id), and an id of only invisible characters is
    /// missing.
    #[test]
    fn ids_follow_the_identity_rule() {
        let csv = "order_id,customer_id,order_date,amount\n\
                   1,007,2024-01-01,5\n\
                   1,\" 007\",2024-01-01,5\n\
                   1,\u{FF10}\u{FF10}7\u{200B},2024-01-01,5\n\
                   2,\u{200B},2024-01-01,5\n\
                   3,008,2024-01-01,5\n";
        assert_eq!(
            check(csv, SourceSpec::default(), None),
            (
                2,
                vec![
                    "duplicate".to_string(),
                    "duplicate".to_string(),
                    "missing_customer_id".to_string()
                ]
            )
        );
    }

    #[test]
    fn returns_zero_amounts_datetimes_and_padded_values_are_kept() {
        let csv = format!(
            "{HEADER}a,2024-01-01,-3\na,2024-01-02,0\n a ,2024-01-03T10:00:00, 7.5 \na,2024-01-04 23:59:59.5,1\n"
        );
        let (kept, reasons) = check(&csv, SourceSpec::default(), None);
        assert_eq!((kept, reasons.len()), (4, 0));
    }

    #[test]
    fn duplicates_are_rejected_only_with_an_order_id() {
        let with_id = "order_id,customer_id,order_date,amount\n1,a,2024-01-01,5\n1,a,2024-01-01,5\n2,a,2024-01-01,5\n";
        assert_eq!(
            check(with_id, SourceSpec::default(), None),
            (2, vec!["duplicate".to_string()])
        );
        let without = format!("{HEADER}a,2024-01-01,5\na,2024-01-01,5\n");
        assert_eq!(check(&without, SourceSpec::default(), None), (2, vec![]));
    }

    /// Validates `text` whole as transactions: each reject's line and value.
    fn reject_lines(text: &str, spec: &SourceSpec) -> Vec<(i64, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let raw = read_raw(&path, spec, TableKind::Transactions).unwrap();
        let v = validate(raw, TableKind::Transactions, spec, None).unwrap();
        lines_and_values(&v.rejects)
    }

    /// Every reject names the line its record starts on, header = line 1: a quoted value's line
    /// feeds count (in the header too), with LF or CRLF line ends, with or without a header;
    /// a duplicate names its first copy's line.
    #[test]
    fn rejects_name_the_line_each_record_starts_on() {
        let body = "1,a,2024-01-01,5,\"two\nlines\"\n\
                    2,b,2024-13-01,5,x\n\
                    3,c,2024-01-01,5,\"three\n\nlines\"\n\
                    4,,2024-01-01,5,x\n\
                    3,c,2024-01-01,5,\"three\n\nlines\"\n\
                    5,d,2024-01-01,y,x\n";
        let headerless = SourceSpec {
            header: Some(false),
            columns: ["order_id", "customer_id", "order_date", "amount"]
                .iter()
                .enumerate()
                .map(|(i, c)| (c.to_string(), ColumnRef::Position(i + 1)))
                .collect(),
            ..SourceSpec::default()
        };
        for (header, spec, shift) in [
            (
                "order_id,customer_id,order_date,amount,note\n",
                SourceSpec::default(),
                0,
            ),
            (
                "order_id,customer_id,order_date,amount,\"free\ntext\"\n",
                SourceSpec::default(),
                1,
            ),
            ("", headerless, -1),
        ] {
            for end in ["\n", "\r\n"] {
                let text = format!("{header}{body}").replace('\n', end);
                let want: Vec<(i64, String)> = vec![
                    (4 + shift, "2024-13-01".into()),
                    (8 + shift, String::new()),
                    (9 + shift, format!("same as line {}", 5 + shift)),
                    (12 + shift, "y".into()),
                ];
                assert_eq!(reject_lines(&text, &spec), want, "{text:?}");
            }
        }
        // Whitespace-separated (no quotes): an empty line is a row too.
        let spec = SourceSpec {
            delimiter: Some("whitespace".into()),
            ..SourceSpec::default()
        };
        assert_eq!(
            reject_lines(
                "customer_id order_date amount\r\na 2024-01-01 5\r\n\r\nb  2024-13-01 5\r\n",
                &spec
            ),
            [(3, String::new()), (4, "2024-13-01".into())]
        );
    }

    #[test]
    fn a_configured_date_format_is_used() {
        let spec = SourceSpec {
            date_format: Some("%d/%m/%Y".into()),
            ..SourceSpec::default()
        };
        let csv = format!("{HEADER}a,31/01/2024,5\nb,2024-01-31,5\n");
        assert_eq!(check(&csv, spec, None), (1, vec!["bad_date".to_string()]));
    }

    /// The narrowed search (hashes, then column by column) finds exactly the rows and first
    /// copies of a whole-row comparison over the whole table, nulls included.
    #[test]
    fn narrowed_duplicate_search_is_exact() {
        let n = 3 * FEW_CANDIDATES + 17;
        let mut state = 42u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        for i in 0..n {
            // Half the order ids unique, half from 50 values (more candidates than FEW_CANDIDATES
            // after hashing, so the column-by-column narrowing runs too); many whole-row copies.
            let id = if next(10) == 0 {
                next(50)
            } else {
                i as u64 + 100
            };
            a.push((next(40) != 0).then(|| id.to_string()));
            b.push((next(30) != 0).then(|| format!("c{}", next(3))));
            c.push(format!("{}", next(2)));
        }
        let df = DataFrame::new_infer_height(vec![
            Column::new("a".into(), a),
            Column::new("b".into(), b),
            Column::new("c".into(), c),
        ])
        .unwrap();
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let whole_row = as_struct(names.iter().map(|n| col(n.as_str())).collect());
        let expected = df
            .clone()
            .lazy()
            .with_row_index(ROW, None)
            .select([
                whole_row.clone().is_first_distinct().not().alias("later"),
                col(ROW).min().over([whole_row]).unwrap().alias("first"),
            ])
            .collect()
            .unwrap();
        let later: Vec<bool> = expected["later"]
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        let first: Vec<IdxSize> = expected["first"]
            .idx()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert!(later.iter().filter(|l| **l).count() > 100);
        for hashed in [&names[..1], &names[..]] {
            let d = find_duplicates(&df, &names, hashed).unwrap();
            let got: Vec<bool> = d.later_copy.iter().map(|v| v.unwrap()).collect();
            assert_eq!(got, later);
            for (r, is_later) in later.iter().enumerate() {
                let want = is_later.then_some(first[r] as i64);
                assert_eq!(d.first_copy.get(&(r as IdxSize)).copied(), want, "row {r}");
            }
        }
    }

    /// The bucketed search flags exactly the values that occur more than once, zero included.
    #[test]
    fn repeated_hashes_flag_every_repeated_value() {
        let mut state = 7u64;
        let mut values: Vec<u64> = (0..50_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                state
            })
            .collect();
        assert_eq!(repeated_hashes(&values), None);
        values.extend([
            values[10],
            values[20_000],
            values[10],
            0,
            5,
            0,
            u64::MAX,
            u64::MAX,
        ]);
        let got = repeated_hashes(&values).unwrap();
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for v in &values {
            *counts.entry(*v).or_default() += 1;
        }
        let want: Vec<bool> = values.iter().map(|v| counts[v] > 1).collect();
        assert_eq!(got, want);
        assert_eq!(got.iter().filter(|r| **r).count(), 9);
    }

    #[test]
    fn iso_layouts_are_detected_from_a_sample() {
        let df = DataFrame::new_infer_height(vec![Column::new(
            "d".into(),
            ["2024-01-01T10:00:00", "2024-01-02T11:00:00Z", "2024-01-03"],
        )])
        .unwrap();
        assert_eq!(detect_iso_format(&df, "d"), "%Y-%m-%dT%H:%M:%S");
    }

    /// Validates `text` as a `table` file with `spec`.
    fn validated(table: TableKind, text: &str, spec: &SourceSpec) -> Validated {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let raw = read_raw(&path, spec, table).unwrap();
        validate(raw, table, spec, None).unwrap()
    }

    fn texts(frame: &DataFrame, column: &str) -> Vec<String> {
        let c = frame
            .column(column)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect()
    }

    fn floats(frame: &DataFrame, column: &str) -> Vec<f64> {
        let c = frame.column(column).unwrap().f64().unwrap();
        c.into_no_null_iter().collect()
    }

    #[test]
    fn decimal_commas_and_thousands_separators_read_exactly() {
        let spec = SourceSpec {
            decimal: Some(",".into()),
            thousands: Some(".".into()),
            ..SourceSpec::default()
        };
        let csv = "customer_id;order_date;amount\na;2024-01-01;1.234,56\nb;2024-01-01;-7,5\nc;2024-01-01;12\nd;2024-01-01;12.34,5\ne;2024-01-01;1234.56\n";
        let v = validated(TableKind::Transactions, csv, &spec);
        let amounts = floats(&v.frame, "amount");
        assert_eq!(amounts, [1234.56, -7.5, 12.0]);
        assert_eq!(texts(&v.rejects, "reason"), ["bad_number", "bad_number"]);
        assert_eq!(texts(&v.rejects, "line"), ["5", "6"]);
        assert_eq!(texts(&v.rejects, "value"), ["12.34,5", "1234.56"]);
        assert_eq!(
            texts(&v.rejects, "expected")[0],
            "a number such as `1.234,56`"
        );
    }

    #[test]
    fn a_date_format_per_column_overrides_the_tables() {
        let spec = SourceSpec {
            date_format: Some("%Y%m%d".into()),
            date_formats: [("response_date".to_string(), "%d/%m/%Y".to_string())].into(),
            ..SourceSpec::default()
        };
        let csv = "customer_id,campaign_id,contact_date,channel,response_date\na,c1,20240105,email,07/01/2024\nb,c1,20240105,email,2024-01-07\n";
        let v = validated(TableKind::Contacts, csv, &spec);
        assert_eq!(texts(&v.frame, "response_date"), ["2024-01-07"]);
        assert_eq!(texts(&v.frame, "contact_date"), ["2024-01-05"]);
        assert_eq!(
            texts(&v.rejects, "expected"),
            ["a date in the format `%d/%m/%Y`"]
        );
    }

    #[test]
    fn a_column_no_value_of_which_reads_names_the_format_that_would() {
        let csv = format!("{HEADER}a,31/01/2024,5\nb,13/02/2024,5\n");
        let v = validated(TableKind::Transactions, &csv, &SourceSpec::default());
        let expected = texts(&v.rejects, "expected");
        assert!(expected[0].contains("every one reads as `%d/%m/%Y`: set `date_formats.order_date = \"%d/%m/%Y\"` under [sources.transactions]"), "{expected:?}");
        // Day and month cannot be told apart: both layouts are named.
        let csv = format!("{HEADER}a,01/02/2024,5\nb,03/04/2024,5\n");
        let v = validated(TableKind::Transactions, &csv, &SourceSpec::default());
        let expected = texts(&v.rejects, "expected");
        assert!(
            expected[0].contains("`%d/%m/%Y`, `%m/%d/%Y`"),
            "{expected:?}"
        );
        // A few bad rows among good ones: no format hint (the format is right).
        let csv = format!("{HEADER}a,2024-01-31,5\nb,31/01/2024,5\n");
        let v = validated(TableKind::Transactions, &csv, &SourceSpec::default());
        assert_eq!(
            texts(&v.rejects, "expected"),
            ["an ISO date (YYYY-MM-DD) or datetime"]
        );
    }

    #[test]
    fn flags_read_in_any_case_with_spaces_in_canonical_and_extra_columns() {
        let csv = "customer_id,email_opt_in,consent,note\na, YES ,Yes,x\nb,n,no ,y\nc,True,FALSE,z\nd,0, 1,n\n";
        let v = validated(TableKind::Customers, csv, &SourceSpec::default());
        assert!(v.rejects.height() == 0, "{:?}", v.rejects);
        assert_eq!(texts(&v.frame, "email_opt_in"), ["1", "0", "1", "0"]);
        assert_eq!(texts(&v.frame, "consent"), ["1.0", "0.0", "0.0", "1.0"]);
        // Not every value a flag word: the column stays text.
        assert_eq!(texts(&v.frame, "note"), ["x", "y", "z", "n"]);
    }

    #[test]
    fn extra_number_columns_follow_the_number_format() {
        let spec = SourceSpec {
            decimal: Some(",".into()),
            thousands: Some("'".into()),
            ..SourceSpec::default()
        };
        let csv = "customer_id;income\na;12'500,5\nb;800\n";
        let v = validated(TableKind::Customers, csv, &spec);
        let income = floats(&v.frame, "income");
        assert_eq!(income, [12500.5, 800.0]);
    }
}
