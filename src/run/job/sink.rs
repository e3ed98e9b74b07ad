//! `[output.postgres]`: the run's scores, segments and audiences written to PostgreSQL tables,
//! so e-mail tools and BI read them where they read everything else.
//!
//! Each table holds every as-of date a job published, keyed by an `as_of` column. A run replaces
//! its as-of's rows of every table in one transaction (the new rows are copied into a temporary
//! staging table, then the as-of's old rows are deleted and the staged ones inserted): a reader
//! sees the previous run's rows or this run's, never half, and a run killed mid-write leaves the
//! previous rows, since the server rolls an unfinished transaction back.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use postgres::{Client, NoTls, Transaction};
use serde::Deserialize;

use crate::ingest::{quote_ident, IngestError};

/// Where the run's tables go: the server's URL in an environment variable (no password in the
/// job file), the schema the tables are created in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSink {
    pub url_env: String,
    pub schema: String,
}

/// Only for the tests: when set, the sink creates this file once the rows are staged and waits,
/// so a test can kill the process between staging and commit.
const PAUSE_ENV: &str = "BULLSEYE_TEST_SINK_PAUSE";

/// One table of the sink: the run's files it is made of, each with the campaign it belongs to
/// (audiences only).
struct SinkTable {
    name: &'static str,
    files: Vec<(Option<String>, PathBuf)>,
    /// The columns of its first file, with their PostgreSQL types.
    columns: Vec<(String, &'static str)>,
}

impl PostgresSink {
    fn label(&self) -> String {
        format!("postgres ${}: schema {}", self.url_env, self.schema)
    }

    /// Writes the run folder `dir`'s scores, segments and audiences; returns the rows written.
    pub fn write(&self, dir: &Path, as_of: NaiveDate) -> Result<usize, crate::Error> {
        let label = self.label();
        let url = crate::ingest::url_from_env(&self.url_env, "output.postgres")?;
        let fail = |e: postgres::Error| IngestError::Database {
            source_label: label.clone(),
            message: crate::ingest::database_message(&e, &url),
        };
        let tables = run_tables(dir)?;
        let mut client = Client::connect(&url, NoTls).map_err(fail)?;
        let mut tx = client.transaction().map_err(fail)?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            quote_ident(&self.schema)
        ))
        .map_err(fail)?;
        let mut rows = 0;
        for table in &tables {
            rows += self.replace(&mut tx, table, as_of, &fail)?;
        }
        if let Some(flag) = std::env::var_os(PAUSE_ENV) {
            let _ = std::fs::write(flag, b"staged");
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
        tx.commit().map_err(fail)?;
        Ok(rows)
    }

    /// Creates the table when new, deletes the as-of's rows and inserts the run's, within `tx`.
    fn replace(
        &self,
        tx: &mut Transaction<'_>,
        table: &SinkTable,
        as_of: NaiveDate,
        fail: &dyn Fn(postgres::Error) -> IngestError,
    ) -> Result<usize, IngestError> {
        if table.files.is_empty() {
            return Ok(0);
        }
        let columns = &table.columns;
        let target = format!("{}.{}", quote_ident(&self.schema), quote_ident(table.name));
        let staging = quote_ident(&format!("bullseye_staging_{}", table.name));
        let defs: Vec<String> = columns
            .iter()
            .map(|(name, ty)| format!("{} {ty}", quote_ident(name)))
            .collect();
        let names: Vec<String> = columns.iter().map(|(n, _)| quote_ident(n)).collect();
        let audiences = table.name == "audiences";
        let (campaign_def, campaign_name) = match audiences {
            true => ("campaign text NOT NULL, ", "campaign, "),
            false => ("", ""),
        };
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {target} (as_of date NOT NULL, {campaign_def}{defs});
             CREATE TEMP TABLE {staging} ({defs}) ON COMMIT DROP;
             DELETE FROM {target} WHERE as_of = '{as_of}';",
            defs = defs.join(", "),
        ))
        .map_err(fail)?;
        let mut rows = 0;
        for (campaign, file) in &table.files {
            let read_err = |source| IngestError::Read {
                path: file.clone(),
                source,
            };
            let mut reader = std::fs::File::open(file).map_err(read_err)?;
            let mut writer = tx
                .copy_in(&format!(
                    "COPY {staging} FROM STDIN (FORMAT csv, HEADER true)"
                ))
                .map_err(fail)?;
            std::io::copy(&mut reader, &mut writer).map_err(read_err)?;
            writer.finish().map_err(fail)?;
            let campaign = match campaign {
                Some(c) => format!("'{}', ", c.replace('\'', "''")),
                None => String::new(),
            };
            // Columns by name: a table whose columns changed since it was created is an error,
            // never values under another column's name.
            let names = names.join(", ");
            let insert = format!(
                "INSERT INTO {target} (as_of, {campaign_name}{names}) SELECT '{as_of}', {campaign}{names} FROM {staging}"
            );
            rows += tx.execute(&insert, &[]).map_err(fail)? as usize;
            tx.batch_execute(&format!("TRUNCATE {staging}"))
                .map_err(fail)?;
        }
        Ok(rows)
    }
}

/// The run's tables: `scores.csv`, `segments.csv` and every campaign's `audience.csv`, when the
/// run wrote them.
fn run_tables(dir: &Path) -> Result<Vec<SinkTable>, IngestError> {
    let table = |name: &'static str,
                 files: Vec<(Option<String>, PathBuf)>|
     -> Result<SinkTable, IngestError> {
        let columns = match files.first() {
            Some((_, first)) => csv_columns(first)?,
            None => Vec::new(),
        };
        Ok(SinkTable {
            name,
            files,
            columns,
        })
    };
    let one = |file: &str| -> Vec<(Option<String>, PathBuf)> {
        Some(dir.join(file))
            .filter(|p| p.is_file())
            .map(|p| (None, p))
            .into_iter()
            .collect()
    };
    let mut audiences = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("audience")) {
        for e in entries.flatten() {
            let file = e.path().join("audience.csv");
            if file.is_file() {
                audiences.push((Some(e.file_name().to_string_lossy().into_owned()), file));
            }
        }
    }
    audiences.sort();
    Ok(vec![
        table("scores", one("scores.csv"))?,
        table("segments", one("segments.csv"))?,
        table("audiences", audiences)?,
    ])
}

/// The columns of a CSV the run wrote, each with the PostgreSQL type of its values.
fn csv_columns(path: &Path) -> Result<Vec<(String, &'static str)>, IngestError> {
    let frame = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|source| IngestError::Polars {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(frame
        .columns()
        .iter()
        .map(|c| {
            let ty = match c.dtype() {
                // Ids are text whatever they look like: `00042` is not the number 42.
                _ if c.name().ends_with("_id") => "text",
                DataType::Boolean => "boolean",
                t if t.is_integer() => "bigint",
                DataType::Float32 | DataType::Float64 => "double precision",
                _ => "text",
            };
            (c.name().to_string(), ty)
        })
        .collect())
}
