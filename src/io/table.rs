use std::fs::File;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::cells::{escape_frame, unescape_frame, CsvCells};
use super::{write_atomic, IoError};

/// On-disk table formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    /// The format a file name implies (`.csv`, `.tsv`, `.txt` → CSV; `.parquet`, `.pq` → Parquet).
    pub fn from_path(path: &Path) -> Option<TableFormat> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(TableFormat::Csv),
            "parquet" | "pq" => Some(TableFormat::Parquet),
            _ => None,
        }
    }
}

/// Writes a data frame atomically as CSV or Parquet, by the extension of `path`; CSV text cells
/// are written spreadsheet-safe (see [`CsvCells`]).
pub fn write_table(path: &Path, df: &mut DataFrame) -> Result<(), IoError> {
    write_table_with(path, df, CsvCells::default())
}

/// [`write_table`] with the CSV cell policy chosen by the caller (Parquet is always raw).
pub fn write_table_with(path: &Path, df: &mut DataFrame, cells: CsvCells) -> Result<(), IoError> {
    let format =
        TableFormat::from_path(path).ok_or_else(|| IoError::UnknownFormat { path: path.into() })?;
    let polars_err = |source| polars_write_error(path, source);
    let mut escaped = match (format, cells) {
        (TableFormat::Csv, CsvCells::SpreadsheetSafe) => escape_frame(df).map_err(polars_err)?,
        _ => None,
    };
    let df = escaped.as_mut().unwrap_or(df);
    write_atomic(path, |w| write_frame(w, df, format).map_err(polars_err))
}

fn write_frame<W: Write>(w: W, df: &mut DataFrame, format: TableFormat) -> PolarsResult<()> {
    match format {
        TableFormat::Csv => CsvWriter::new(w).include_header(true).finish(df),
        TableFormat::Parquet => ParquetWriter::new(w)
            .with_compression(ParquetCompression::Snappy)
            .with_statistics(StatisticsOptions::empty())
            .finish(df)
            .map(|_| ()),
    }
}

/// A polars error while writing: an I/O failure underneath (a full disk) is reported as the
/// write error it is, with the operating system's words, not as a polars message.
fn polars_write_error(path: &Path, source: PolarsError) -> IoError {
    match source {
        PolarsError::IO { error, .. } => IoError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::new(error.kind(), error.to_string()),
        },
        source => IoError::Encode {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Reads a table written by a bullseye stage (CSV with header, or Parquet) with types inferred;
/// `string_columns` are always read as strings so that identifiers like `00001` survive, and the
/// spreadsheet escape of our CSV outputs is undone.
pub fn read_table(path: &Path, string_columns: &[&str]) -> Result<DataFrame, IoError> {
    let format =
        TableFormat::from_path(path).ok_or_else(|| IoError::UnknownFormat { path: path.into() })?;
    // Before polars opens it: a FIFO would block, a device never end.
    super::check_regular_file(path)?;
    let polars_err = |source| IoError::Polars {
        path: path.to_path_buf(),
        source,
    };
    match format {
        TableFormat::Csv => {
            let overwrite: Schema = string_columns
                .iter()
                .map(|c| Field::new((*c).into(), DataType::String))
                .collect();
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .with_schema_overwrite(Some(Arc::new(overwrite)))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                // Our CSV outputs are spreadsheet-safe: read the ids as they were.
                .and_then(|df| Ok(unescape_frame(&df)?.unwrap_or(df)))
                .map_err(polars_err)
        }
        TableFormat::Parquet => {
            let file = File::open(path).map_err(|source| IoError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            ParquetReader::new(file).finish().map_err(polars_err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk with no space left.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_is_named_in_the_error() {
        let mut df = df!("customer_id" => ["001", "002"], "score" => [0.5, 0.25]).unwrap();
        for format in [TableFormat::Csv, TableFormat::Parquet] {
            let e = write_frame(Full, &mut df, format)
                .map_err(|s| polars_write_error(Path::new("out/scores.csv"), s))
                .unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("No space left on device") && text.contains("out/scores.csv"),
                "{format:?}: {text}"
            );
            // Parquet's writer keeps the cause only as text: still a write failure (exit 1).
            if format == TableFormat::Csv {
                assert!(matches!(e, IoError::Write { .. }), "{e:?}");
            }
        }
    }

    #[test]
    fn csv_outputs_are_spreadsheet_safe_unless_raw_and_read_back_raw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut df = df!("customer_id" => ["=1+1", "-5"], "score" => [-0.5, 1.0]).unwrap();
        write_table(&path, &mut df).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "customer_id,score\n'=1+1,-0.5\n'-5,1.0\n"
        );
        let back = read_table(&path, &["customer_id"]).unwrap();
        assert!(back.equals(&df), "{back}");
        write_table_with(&path, &mut df, CsvCells::Raw).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "customer_id,score\n=1+1,-0.5\n-5,1.0\n"
        );
        // Parquet is always raw.
        let pq = dir.path().join("t.parquet");
        write_table(&pq, &mut df).unwrap();
        assert!(read_table(&pq, &[]).unwrap().equals(&df));
    }
}
