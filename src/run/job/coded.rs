//! The transactions of a run read by ingest's coded path (`ingest::CodedReader`) straight into
//! the features' keyed lines: no text column, no frame, no second hashing of the ids. A file the
//! coded path does not vouch for (or a run whose other consumers need the rows as a frame)
//! goes the general way, `stages::stream_transactions`, with the same result.

use std::path::Path;

use crate::features::{CodedBuild, CodedLines, HistoryBuilder};
use crate::ingest::{self, Coded, CodedPart, CodedReader, Keep, Step, TableKind};
use crate::run::ledger::Attribution;
use crate::Error;

// The two layers mark a missing value alike.
const _: () = assert!(ingest::MISSING_DAY == crate::features::CODED_MISSING_DAY);
const _: () = assert!(ingest::MISSING_CODE == u32::MAX);

/// What the coded path read: the streamed table's rejects (none) and summary; seconds spent
/// reading and validating the file, and turning its rows into the keyed lines.
pub(super) struct CodedRead {
    pub streamed: ingest::Streamed,
    pub read_seconds: f64,
    pub key_seconds: f64,
}

/// Reads the transactions file at `path` into `builder` by the coded path, and the purchases
/// of the customers the ledger selected into `attribution`; `None` (and `builder` untouched,
/// `attribution` to roll back) when the file or the lines need the general path.
pub(super) fn read_transactions(
    path: &Path,
    request: &ingest::IngestRequest,
    builder: &mut HistoryBuilder,
    mut attribution: Option<&mut Attribution>,
) -> Result<Option<CodedRead>, Error> {
    let t0 = std::time::Instant::now();
    let table = TableKind::Transactions;
    let Some(mut reader) = CodedReader::open(
        table,
        path,
        &request.config.source(table),
        request.as_of(),
        request.config.piece_bytes(),
    )?
    else {
        return Ok(None);
    };
    let schema = reader
        .empty_frame()
        .map_err(|source| ingest::IngestError::Polars {
            path: path.to_path_buf(),
            source,
        })?;
    let Some(mut build) = builder.begin_coded(&schema)? else {
        return Ok(None);
    };
    let categorical = build.categorical();
    let discount = build.reads_discount().then_some("discount");
    for name in ["customer_id", "order_date", "amount"]
        .into_iter()
        .chain(discount)
        .chain(categorical.iter().copied())
    {
        reader.keep(name, Keep::Values);
    }
    let at = |name: &str| reader.position(name);
    let (Some(customer), Some(day), Some(amount)) =
        (at("customer_id"), at("order_date"), at("amount"))
    else {
        return Ok(None);
    };
    let discount = discount.and_then(at);
    let Some(codes) = categorical
        .iter()
        .map(|c| at(c))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let columns = LineColumns {
        customer,
        day,
        amount,
        discount,
        codes,
    };
    let mut pieces = 0;
    let mut rows = 0;
    let mut pushing = std::time::Duration::ZERO;
    loop {
        match reader.next_piece()? {
            Step::Piece(piece) => {
                pieces += 1;
                let t = std::time::Instant::now();
                rows += piece.parts.iter().map(|p| p.rows).sum::<usize>();
                build.reserve_total(reader.expected_rows(rows));
                for part in piece.parts {
                    push_part(
                        &mut build,
                        &reader,
                        &columns,
                        part,
                        attribution.as_deref_mut(),
                    )?;
                }
                pushing += t.elapsed();
            }
            Step::End => break,
            Step::NotPlain => return Ok(None),
        }
    }
    let ids = reader.levels("customer_id").unwrap_or_default().to_vec();
    let levels = categorical
        .iter()
        .map(|c| reader.levels(c).unwrap_or_default().to_vec())
        .collect();
    let Some((rejects, summary)) = reader.finish()? else {
        return Ok(None);
    };
    builder.adopt_coded(build, ids, levels);
    Ok(Some(CodedRead {
        streamed: ingest::Streamed {
            table,
            rejects,
            summary,
            pieces,
            duplicate_seconds: 0.0,
        },
        read_seconds: (t0.elapsed() - pushing).as_secs_f64(),
        key_seconds: pushing.as_secs_f64(),
    }))
}

/// Where the line columns are among the reader's columns.
struct LineColumns {
    customer: usize,
    day: usize,
    amount: usize,
    discount: Option<usize>,
    codes: Vec<usize>,
}

fn push_part(
    build: &mut CodedBuild,
    reader: &CodedReader,
    at: &LineColumns,
    part: CodedPart,
    attribution: Option<&mut Attribution>,
) -> Result<(), Error> {
    let bug =
        |what: &str| crate::run::RunError::internal(format!("the coded transactions lack {what}"));
    let codes = |i: usize| match &part.columns[i] {
        Coded::Codes(c) => Ok(c.as_slice()),
        _ => Err(bug("a coded column")),
    };
    let numbers = |i: usize| match &part.columns[i] {
        Coded::Numbers(v) => Ok(v.as_slice()),
        _ => Err(bug("a number column")),
    };
    let days = match &part.columns[at.day] {
        Coded::Days(d) => d.as_slice(),
        _ => return Err(bug("the order dates").into()),
    };
    let lines = CodedLines {
        keys: codes(at.customer)?,
        days,
        amounts: numbers(at.amount)?,
        discounts: at.discount.map(numbers).transpose()?,
        codes: at
            .codes
            .iter()
            .map(|i| codes(*i))
            .collect::<Result<_, _>>()?,
    };
    let ids = reader.levels("customer_id").unwrap_or_default();
    if let Some(a) = attribution {
        a.push_coded(ids, lines.keys, lines.days, lines.amounts);
    }
    build.push(&lines, &|k| {
        ids.get(k as usize).cloned().unwrap_or_default()
    })?;
    Ok(())
}
