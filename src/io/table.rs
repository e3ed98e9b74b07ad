use std::fs::File;
use std::path::Path;

use polars::prelude::*;

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

/// Writes a data frame atomically as CSV or Parquet, by the extension of `path`.
pub fn write_table(path: &Path, df: &mut DataFrame) -> Result<(), IoError> {
    let format =
        TableFormat::from_path(path).ok_or_else(|| IoError::UnknownFormat { path: path.into() })?;
    let polars_err = |source| IoError::Polars {
        path: path.to_path_buf(),
        source,
    };
    write_atomic(path, |w| match format {
        TableFormat::Csv => CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(polars_err),
        TableFormat::Parquet => ParquetWriter::new(w)
            .with_compression(ParquetCompression::Snappy)
            .with_statistics(StatisticsOptions::empty())
            .finish(df)
            .map(|_| ())
            .map_err(polars_err),
    })
}

/// Reads a table written by a bullseye stage (CSV with header, or Parquet) with types inferred;
/// `string_columns` are always read as strings so that identifiers like `00001` survive.
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
