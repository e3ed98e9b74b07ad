//! Ingest: the user's files → the canonical tables (`schema.rs`; README "bullseye ingest"), validated.
//!
//! Shaped as "read as text, then validate in one lazy query" so that every problem can name its
//! file, line, column and value, and so that CSV (any delimiter, with or without header) and
//! Parquet sources go through the same rules and give the same table. Data problems are
//! diagnostics, not early returns: a table comes back with its good rows and its rejects, and
//! only the caller decides (from `max_reject_rate`) whether the run fails.

mod coded;
mod config;
mod dataset;
mod diagnose;
mod fast;
mod join;
mod lines;
mod pg;
mod pieces;
mod read;
mod schema;
mod summary;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

pub use coded::{Coded, CodedPart, CodedPiece, CodedReader, Keep, Step, MISSING_CODE, MISSING_DAY};
pub use config::{
    date_format_problem, sources_with_append, AppendSpec, ColumnRef, Delimiter, IngestConfig,
    IngestSettings, NumberFormat, PostgresSpec, SourceFormat, SourceSpec, DEFAULT_MAX_REJECT_RATE,
    DEFAULT_PIECE_MIB,
};
pub use join::JoinSummary;
pub use pg::{database_message, quote_ident, url_from_env, Fingerprint};
pub use pieces::{load_source_in_pieces, load_table_in_pieces, Streamed};
pub use read::{read_raw, RawTable, MAX_RECORD_BYTES};
pub use schema::{ColumnSpec, ColumnType, TableKind};
pub use summary::{IngestSummary, TableSummary};
pub use validate::{date_range, reason, validate, Validated, MAX_NUMBER};

#[cfg(test)]
mod coded_tests;
#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod fuzz_tests;

use crate::io::{self, IoError};

/// Errors of the ingest layer.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("`{path}`: no such file (the {table} table)")]
    MissingFile { table: TableKind, path: PathBuf },
    #[error("`{path}`: not a regular file but {what} (the {table} table); give a file")]
    NotRegularFile {
        table: TableKind,
        path: PathBuf,
        what: &'static str,
    },
    #[error(
        "`{path}`: a record starting at byte {offset} runs past {} MiB without a line end; is this a text table?",
        MAX_RECORD_BYTES >> 20
    )]
    RecordTooLong { path: PathBuf, offset: u64 },
    #[error("`{path}`: {detail} (a folder is read as one table of Parquet files)")]
    Dataset { path: PathBuf, detail: String },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` line {line}{}: expected {expected}, found {found}",
        column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default()
    )]
    Parse {
        path: PathBuf,
        line: u64,
        column: Option<String>,
        expected: String,
        found: String,
    },
    /// A file polars refuses for a reason the byte scan does not find: polars' first line only
    /// (its further lines are advice for Python users).
    #[error("`{path}`: cannot parse: {message}")]
    Unparsed { path: PathBuf, message: String },
    #[error(
        "`{path}`: the header names {} more than once; give each column its own name",
        names.iter().map(|n| diagnose::snippet(n.as_bytes())).collect::<Vec<_>>().join(", ")
    )]
    RepeatedColumns { path: PathBuf, names: Vec<String> },
    #[error("`{path}`: cannot parse: {}", first_line(source))]
    Polars {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error(
        "`{path}`: missing column `{column}` for {table}.{canonical} (found columns: {}); {}",
        diagnose::found_names(found),
        diagnose::missing_column_hint(found, *table)
    )]
    MissingColumn {
        table: TableKind,
        path: PathBuf,
        column: String,
        canonical: String,
        found: Vec<String>,
    },
    #[error(
        "`{path}`: piece {piece} parsed to {rows} rows but its scan counted {records} records; set `[ingest] piece_mib` above the file's size to validate it whole (this is a bug)"
    )]
    PieceMismatch {
        path: PathBuf,
        piece: usize,
        rows: usize,
        records: usize,
    },
    #[error(
        "`{path}`: {what} `{id}` is on {rows} rows; a joined file holds one row per {} (which row applies cannot be told)",
        if what == "customer id" { "customer" } else { "key" }
    )]
    JoinKeyRepeated {
        path: PathBuf,
        /// `customer id`, or the key column of an appended table.
        what: String,
        id: String,
        rows: usize,
    },
    #[error(
        "`{path}`: column `{column}` is also in the main file of the table; rename one of them (a joined file adds columns, it does not replace them)"
    )]
    JoinColumnClash { path: PathBuf, column: String },
    #[error(
        "`{path}`: the key `{key}` is not a column of the customers (found columns: {}); set `key` to the column both tables hold",
        diagnose::found_names(found)
    )]
    AppendKeyMissing {
        path: PathBuf,
        key: String,
        found: Vec<String>,
    },
    #[error(
        "`{path}`: `columns` names `{column}`, which is not an attribute column of this table (found columns: {})",
        diagnose::found_names(found)
    )]
    AppendColumnMissing {
        path: PathBuf,
        column: String,
        found: Vec<String>,
    },
    #[error("invalid config: {message}")]
    Config { message: String },
    /// A database that refused or failed: the driver's words, the URL's password masked.
    #[error("`{source_label}`: {message}")]
    Database {
        source_label: String,
        message: String,
    },
    #[error(
        "`{source_label}`: column `{column}` is of type `{found}`, which is not read; cast it in the query (e.g. `{column}::text`, `::numeric` or `::date`)"
    )]
    UnsupportedColumn {
        source_label: String,
        column: String,
        found: String,
    },
    #[error("`{path}`: {message}; this is a bug")]
    Bug { path: PathBuf, message: String },
    #[error("invalid config `{path}`: {message}")]
    ConfigFile { path: PathBuf, message: String },
    #[error("no source for the {table} table: give `--{table} FILE` or `[sources.{table}] path` in the config")]
    NoSource { table: TableKind },
    #[error(
        "{table}: {rejected} of {rows_in} rows rejected ({:.1}%), above the limit of {:.1}% (`--max-reject-rate`); most frequent reasons: {top}; first: {example}; every reject is listed in `{rejects_path}`",
        100.0 * *rejected as f64 / (*rows_in).max(1) as f64,
        100.0 * max_rate
    )]
    TooManyRejects {
        table: TableKind,
        rejected: usize,
        rows_in: usize,
        max_rate: f64,
        top: String,
        example: String,
        rejects_path: PathBuf,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// polars errors can carry a whole query plan; the first line is the message.
pub(crate) fn first_line(e: &PolarsError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// What to ingest: the config, the per-table files named on the command line (they override the
/// config's paths), the as-of date and the reject threshold.
#[derive(Debug, Clone, Default)]
pub struct IngestRequest {
    pub config: IngestConfig,
    pub files: BTreeMap<TableKind, PathBuf>,
    pub as_of: Option<NaiveDate>,
    pub max_reject_rate: Option<f64>,
}

impl IngestRequest {
    /// The tables this request names, in canonical order.
    pub fn tables(&self) -> Vec<TableKind> {
        TableKind::ALL
            .into_iter()
            .filter(|t| self.source(*t).is_some())
            .collect()
    }

    /// Where a table comes from: the command line's file, else the config's file or database.
    pub fn source(&self, table: TableKind) -> Option<Source> {
        self.path(table)
            .map(Source::File)
            .or_else(|| self.config.source(table).postgres.map(Source::Postgres))
    }

    /// The file of a table: the command line's, else the config's.
    pub fn path(&self, table: TableKind) -> Option<PathBuf> {
        self.files
            .get(&table)
            .cloned()
            .or_else(|| self.config.source(table).path)
    }

    pub fn as_of(&self) -> Option<NaiveDate> {
        self.as_of.or(self.config.ingest.as_of)
    }

    pub fn max_reject_rate(&self) -> f64 {
        self.max_reject_rate
            .or(self.config.ingest.max_reject_rate)
            .unwrap_or(DEFAULT_MAX_REJECT_RATE)
    }

    /// Reads and validates one table (no threshold check).
    pub fn load(&self, table: TableKind) -> Result<Validated, IngestError> {
        let source = self.source(table).ok_or(IngestError::NoSource { table })?;
        load_source(table, &source, &self.config.source(table), self.as_of())
    }
}

/// Where a table's rows come from. Both go through the same validation and rejects; a
/// database's rows are numbered as a file's lines are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Postgres(PostgresSpec),
}

impl Source {
    /// How messages, rejects and the manifest name the source (never a database's URL).
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Postgres(pg) => pg.label(),
        }
    }

    /// The source's rows, every column as text.
    pub fn read_raw(&self, spec: &SourceSpec, table: TableKind) -> Result<RawTable, IngestError> {
        match self {
            Source::File(path) => read_raw(path, spec, table),
            Source::Postgres(database) => pg::read_postgres(database, table),
        }
    }
}

/// Reads and validates one table from a file.
pub fn load_table(
    table: TableKind,
    path: &Path,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
) -> Result<Validated, IngestError> {
    load_source(table, &Source::File(path.to_path_buf()), spec, as_of)
}

/// Reads and validates one table from its source, then the files joined or appended to it.
pub fn load_source(
    table: TableKind,
    source: &Source,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
) -> Result<Validated, IngestError> {
    load_source_with(table, source, spec, as_of, false)
}

/// [`load_source`], a plain file by the fast path (`fast.rs`) when `plain_first`. Its rows,
/// rejects and summary are the same, but its frame is one chunk where validation's has many:
/// for callers that keep the rows, not for `ingest`, whose Parquet row groups follow the chunks.
pub(crate) fn load_source_with(
    table: TableKind,
    source: &Source,
    spec: &SourceSpec,
    as_of: Option<NaiveDate>,
    plain_first: bool,
) -> Result<Validated, IngestError> {
    let plain = match source {
        Source::File(path) if plain_first => fast::load_plain(table, path, spec, as_of)?,
        _ => None,
    };
    let mut validated = match plain {
        Some(v) => v,
        None => validate(source.read_raw(spec, table)?, table, spec, as_of)?,
    };
    for part in &spec.join {
        let part_path = part.path.as_deref().ok_or_else(|| IngestError::Config {
            message: format!("`sources.{table}.join`: every joined file needs a `path`"),
        })?;
        let raw = read_raw(part_path, part, table)?;
        validated = join::join_part(validated, validate(raw, table, part, as_of)?)?;
    }
    for part in &spec.append {
        let source = part.as_source();
        let part_path = source.path.as_deref().ok_or_else(|| IngestError::Config {
            message: format!("`sources.{table}.append`: every appended table needs a `path`"),
        })?;
        let raw = read_raw(part_path, &source, table)?;
        let reference = validate(raw, table, &source, as_of)?;
        validated = join::append_part(validated, reference, part)?;
    }
    Ok(validated)
}

/// The validated tables of one ingest.
#[derive(Debug)]
pub struct Ingested {
    pub tables: BTreeMap<TableKind, Validated>,
}

impl Ingested {
    pub fn summary(&self) -> IngestSummary {
        IngestSummary {
            tables: self
                .tables
                .iter()
                .map(|(t, v)| (t.name().to_string(), v.summary.clone()))
                .collect(),
        }
    }

    pub fn frame(&self, table: TableKind) -> Option<&DataFrame> {
        self.tables.get(&table).map(|v| &v.frame)
    }
}

/// Reads and validates every table the request names.
pub fn ingest(request: &IngestRequest) -> Result<Ingested, IngestError> {
    let mut tables = BTreeMap::new();
    for table in request.tables() {
        tables.insert(table, request.load(table)?);
    }
    Ok(Ingested { tables })
}

/// Fails when a table's share of rejected rows is above `max_rate`, naming the most frequent
/// reasons and the first rejected row.
pub fn check_reject_rate(
    table: TableKind,
    s: &TableSummary,
    rejects: &DataFrame,
    max_rate: f64,
    rejects_path: &Path,
) -> Result<(), IngestError> {
    if s.reject_rate() <= max_rate {
        return Ok(());
    }
    let top = s
        .top_reasons(3)
        .iter()
        .map(|(r, n)| format!("{r} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(IngestError::TooManyRejects {
        table,
        rejected: s.rows_rejected,
        rows_in: s.rows_in,
        max_rate,
        top,
        example: first_reject(rejects).unwrap_or_default(),
        rejects_path: rejects_path.to_path_buf(),
    })
}

/// `file` line N, column `c`: expected …, found `v` (a database's row: `source` row N
/// (`customer_id=…`), column …).
fn first_reject(rejects: &DataFrame) -> Option<String> {
    let get = |name: &str| -> Option<String> {
        let c = rejects.column(name).ok()?;
        let v = c.get(0).ok()?;
        Some(match v {
            AnyValue::Null => String::new(),
            AnyValue::String(s) => s.to_string(),
            AnyValue::StringOwned(s) => s.to_string(),
            other => other.to_string(),
        })
    };
    if rejects.height() == 0 {
        return None;
    }
    let place = match get("key") {
        Some(key) => format!(
            "row {} ({})",
            get("line")?,
            diagnose::sanitized(key.as_bytes())
        ),
        None => format!("line {}", get("line")?),
    };
    Some(format!(
        "`{}` {place}, column `{}`: {}: expected {}, found {}",
        get("file")?,
        diagnose::sanitized(get("source_column")?.as_bytes()),
        get("reason")?,
        get("expected")?,
        diagnose::snippet(get("value")?.as_bytes()),
    ))
}

/// Where ingest writes a table's rejects.
pub fn rejects_path(out_dir: &Path, table: TableKind) -> PathBuf {
    out_dir.join("rejects").join(format!("{table}.csv"))
}

/// Writes every table's rejects (a header-only file when there are none) under `out/rejects/`.
pub fn write_rejects(out_dir: &Path, ingested: &mut Ingested) -> Result<(), IngestError> {
    for (table, v) in ingested.tables.iter_mut() {
        io::write_table(&rejects_path(out_dir, *table), &mut v.rejects)?;
    }
    Ok(())
}

/// Writes every table as `out/<table>.parquet`.
pub fn write_tables(out_dir: &Path, ingested: &mut Ingested) -> Result<(), IngestError> {
    for (table, v) in ingested.tables.iter_mut() {
        io::write_table(&out_dir.join(format!("{table}.parquet")), &mut v.frame)?;
    }
    Ok(())
}

/// The `ingest` command: validates every table, writes the rejects and `ingest.json`, fails past
/// the reject threshold (leaving the tables unwritten), else writes `OUT/<table>.parquet` and
/// returns the tables.
pub fn run(request: &IngestRequest, out_dir: &Path) -> Result<Ingested, IngestError> {
    let mut ingested = ingest(request)?;
    write_rejects(out_dir, &mut ingested)?;
    io::write_json_atomic(&out_dir.join("ingest.json"), &ingested.summary())?;
    for (table, v) in &ingested.tables {
        check_reject_rate(
            *table,
            &v.summary,
            &v.rejects,
            request.max_reject_rate(),
            &rejects_path(out_dir, *table),
        )?;
    }
    write_tables(out_dir, &mut ingested)?;
    Ok(ingested)
}
