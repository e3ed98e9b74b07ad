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
    let format = spec.format.unwrap_or_else(|| match path.extension() {
        Some(e) if e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq") => {
            SourceFormat::Parquet
        }
        _ => SourceFormat::Csv,
    });
    match format {
        SourceFormat::Parquet => read_parquet(path),
        SourceFormat::Csv => read_delimited(path, spec, table),
    }
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
    let options = |separator: u8, quote: Option<u8>| {
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
    };
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
