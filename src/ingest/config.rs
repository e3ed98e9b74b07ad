//! The ingest configuration: where each table comes from and how its columns map to the
//! canonical ones. Deserialized from TOML; unknown keys are errors so a typo never goes unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::schema::TableKind;
use super::IngestError;
use crate::ids::IdSettings;

/// Default share of rejected rows above which ingest fails.
pub const DEFAULT_MAX_REJECT_RATE: f64 = 0.01;

/// Default size of the pieces a large delimited file is validated in (`piece_mib`).
pub const DEFAULT_PIECE_MIB: f64 = 1024.0;

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    #[serde(default)]
    pub ingest: IngestSettings,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSpec>,
    /// How ids of different files are matched (`[ids] policy`, see [`crate::ids`]).
    #[serde(default)]
    pub ids: IdSettings,
}

/// Settings that apply to every table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    /// Rows dated after this day are rejected as `future_date`.
    pub as_of: Option<NaiveDate>,
    /// Share of rejected rows (per table) above which ingest fails (default 0.01).
    pub max_reject_rate: Option<f64>,
    /// Where a run streams the transactions (`bullseye run`): delimited files larger than this
    /// many MiB are read and validated in pieces of about this size, so memory holds one piece
    /// of text at a time (default 1024; fractions allowed, e.g. 0.01 to test the pieces on a
    /// small file).
    pub piece_mib: Option<f64>,
}

/// Where one table comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Path of the file; relative paths are relative to the config file's folder.
    pub path: Option<PathBuf>,
    /// `csv` or `parquet`; by default from the extension (`.parquet`/`.pq` → parquet, else csv).
    pub format: Option<SourceFormat>,
    /// `,` `;` `\t` (or `tab`), `whitespace` (runs of spaces/tabs), or `auto` (default: sniffed
    /// from the first line among comma, tab and semicolon, else whitespace).
    pub delimiter: Option<String>,
    /// Whether the first line names the columns (default true).
    pub header: Option<bool>,
    /// chrono/strftime format of every date column of this table, e.g. `%Y%m%d` or `%d/%m/%Y`.
    /// Default: ISO dates and datetimes.
    pub date_format: Option<String>,
    /// Canonical column → source column, by name (`"dollar_value"`) or 1-based position (`4`).
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRef>,
}

/// The file format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Csv,
    Parquet,
}

/// A reference to a source column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    Name(String),
    /// 1-based position, for headerless files.
    Position(usize),
}

/// How fields are separated in a delimited text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Byte(u8),
    Whitespace,
    Auto,
}

impl SourceSpec {
    /// The parsed delimiter setting.
    pub fn delimiter(&self, table: TableKind) -> Result<Delimiter, IngestError> {
        match self.delimiter.as_deref() {
            None | Some("auto") => Ok(Delimiter::Auto),
            Some("whitespace") | Some("space") | Some(" ") => Ok(Delimiter::Whitespace),
            Some("tab") | Some("\t") | Some("\\t") => Ok(Delimiter::Byte(b'\t')),
            Some(s) if s.len() == 1 && s.is_ascii() => Ok(Delimiter::Byte(s.as_bytes()[0])),
            Some(other) => Err(IngestError::Config {
                message: format!(
                    "`sources.{table}.delimiter`: expected one character, `tab`, `whitespace` or `auto`, found `{other}`"
                ),
            }),
        }
    }
}

impl IngestConfig {
    /// Parses a config file; relative source paths are resolved against its folder.
    pub fn from_file(path: &Path) -> Result<IngestConfig, IngestError> {
        if let Ok(Some(what)) = crate::io::not_a_regular_file(path) {
            return Err(IngestError::Read {
                path: path.to_path_buf(),
                source: crate::io::not_regular_error(what),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = IngestConfig::from_toml_str(&text).map_err(|e| match e {
            IngestError::Config { message } => IngestError::ConfigFile {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new(""));
        for source in config.sources.values_mut() {
            if let Some(p) = source.path.as_mut() {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        Ok(config)
    }

    /// Parses config text (relative paths stay as written).
    pub fn from_toml_str(text: &str) -> Result<IngestConfig, IngestError> {
        let config: IngestConfig = toml::from_str(text).map_err(|e| IngestError::Config {
            message: e.message().to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// A config from its two sections (a job file embeds them), checked like a config file.
    pub fn from_parts(
        ingest: IngestSettings,
        sources: BTreeMap<String, SourceSpec>,
    ) -> Result<IngestConfig, IngestError> {
        let config = IngestConfig {
            ingest,
            sources,
            ids: IdSettings::default(),
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), IngestError> {
        for (name, source) in &self.sources {
            let table = TableKind::from_name(name).ok_or_else(|| IngestError::Config {
                message: format!(
                    "unknown table `sources.{name}` (expected transactions, customers, contacts or suppressions)"
                ),
            })?;
            source.delimiter(table)?;
            for column in source.columns.keys() {
                let known = table.columns().iter().any(|c| c.name == column);
                if !known && !table.keeps_extra_columns() {
                    return Err(IngestError::Config {
                        message: format!(
                            "`sources.{name}.columns.{column}`: `{column}` is not a column of the {name} table (expected one of {})",
                            table.columns().iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            }
            if let Some(ColumnRef::Position(0)) = source
                .columns
                .values()
                .find(|c| **c == ColumnRef::Position(0))
            {
                return Err(IngestError::Config {
                    message: format!("`sources.{name}.columns`: positions are 1-based, found 0"),
                });
            }
        }
        if let Some(rate) = self.ingest.max_reject_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(IngestError::Config {
                    message: format!(
                        "`ingest.max_reject_rate`: expected a share between 0 and 1, found {rate}"
                    ),
                });
            }
        }
        if let Some(mib) = self.ingest.piece_mib {
            if !(mib.is_finite() && mib * 1048576.0 >= 1.0) {
                return Err(IngestError::Config {
                    message: format!(
                        "`ingest.piece_mib`: expected a size in MiB of at least one byte, found {mib}"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Bytes per piece of a delimited file validated piece by piece.
    pub fn piece_bytes(&self) -> usize {
        let mib = self.ingest.piece_mib.unwrap_or(DEFAULT_PIECE_MIB);
        // `as` saturates: a huge setting means one piece.
        (mib * 1048576.0) as usize
    }

    /// The source settings of a table (defaults when the config does not name it).
    pub fn source(&self, table: TableKind) -> SourceSpec {
        self.sources.get(table.name()).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_positions_and_delimiters() {
        let config = IngestConfig::from_toml_str(
            r#"
            [ingest]
            max_reject_rate = 0.05
            [sources.transactions]
            path = "t.txt"
            delimiter = "whitespace"
            header = false
            date_format = "%Y%m%d"
            [sources.transactions.columns]
            customer_id = 1
            order_date = 2
            amount = "dollars"
            "#,
        )
        .unwrap();
        let t = config.source(TableKind::Transactions);
        assert_eq!(t.columns["customer_id"], ColumnRef::Position(1));
        assert_eq!(t.columns["amount"], ColumnRef::Name("dollars".into()));
        assert_eq!(
            t.delimiter(TableKind::Transactions).unwrap(),
            Delimiter::Whitespace
        );
        assert_eq!(config.ingest.max_reject_rate, Some(0.05));
    }

    #[test]
    fn rejects_unknown_keys_tables_and_columns() {
        assert!(IngestConfig::from_toml_str("[sources.transactions]\npth = \"x\"").is_err());
        let err = IngestConfig::from_toml_str("[sources.orders]\npath = \"x\"").unwrap_err();
        assert!(err.to_string().contains("unknown table `sources.orders`"));
        let err = IngestConfig::from_toml_str("[sources.transactions.columns]\nprice = \"p\"")
            .unwrap_err();
        assert!(err.to_string().contains("`price` is not a column"));
        let err =
            IngestConfig::from_toml_str("[sources.transactions]\ndelimiter = \"||\"").unwrap_err();
        assert!(err.to_string().contains("expected one character"));
    }
}
