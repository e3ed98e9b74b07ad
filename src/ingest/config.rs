//! The ingest configuration: where each table comes from and how its columns map to the
//! canonical ones. Deserialized from TOML; unknown keys are errors so a typo never goes unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::schema::TableKind;
use super::IngestError;
use crate::identity::IdentitySettings;
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
    #[serde(default, deserialize_with = "sources_with_append")]
    pub sources: BTreeMap<String, SourceSpec>,
    /// How ids of different files are matched (`[ids] policy`, see [`crate::ids`]).
    #[serde(default)]
    pub ids: IdSettings,
    /// Which customer records are one person (`[identity]`, see [`crate::identity`]).
    #[serde(default)]
    pub identity: IdentitySettings,
    /// `[profit]`, as in a job: the margins and costs a standalone `bullseye features` builds
    /// the `profit` family with (the ingest itself does not read it). Boxed: most configs have
    /// none, and the config travels inside every request.
    pub profit: Option<Box<crate::features::profit::ProfitParams>>,
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
    /// A PostgreSQL query or table instead of a file (`postgres = { url_env = "…", query = "…" }`).
    pub postgres: Option<PostgresSpec>,
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
    /// A format per date column, over `date_format`: `{ order_date = "%d/%m/%Y" }`.
    #[serde(default)]
    pub date_formats: BTreeMap<String, String>,
    /// The decimal mark of number columns: `.` (default) or `,`.
    pub decimal: Option<String>,
    /// The thousands separator of number columns: `.`, `,`, ` ` or `'` (default none).
    pub thousands: Option<String>,
    /// Further files of this table joined on the customer id (customers only), e.g. consent
    /// flags kept in their own file; each takes the settings of a source (not `join`).
    #[serde(default)]
    pub join: Vec<SourceSpec>,
    /// Reference tables left-joined onto the customers by one of their columns (customers only),
    /// e.g. demographics per zip code (`[[sources.customers.append]]`).
    #[serde(default)]
    pub append: Vec<AppendSpec>,
    /// Canonical column → source column, by name (`"dollar_value"`) or 1-based position (`4`).
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRef>,
}

/// A table read from PostgreSQL: the server's URL comes from an environment variable (so no
/// password is written in a config), the rows from a query or a whole table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSpec {
    /// The environment variable holding `postgres://user:password@host:port/database`.
    pub url_env: String,
    /// The query whose rows are the table's, e.g. `SELECT * FROM sales.orders WHERE …`.
    pub query: Option<String>,
    /// A table (`schema.table` or `table`) read whole, instead of `query`.
    pub table: Option<String>,
}

impl PostgresSpec {
    /// The query to run: `query`, or every row of `table` (its name quoted part by part, so a
    /// name is never read as SQL).
    pub fn query(&self, table: TableKind) -> Result<String, IngestError> {
        match (&self.query, &self.table) {
            (Some(q), None) => Ok(q.trim().trim_end_matches(';').to_string()),
            (None, Some(t)) => {
                let quoted: Vec<String> = t.split('.').map(super::quote_ident).collect();
                Ok(format!("SELECT * FROM {}", quoted.join(".")))
            }
            _ => Err(IngestError::Config {
                message: format!(
                    "`sources.{table}.postgres`: give either `query` or `table`, not both or neither"
                ),
            }),
        }
    }

    /// How messages, rejects and the manifest name this source: the variable and the table or
    /// query, never the URL (it may hold a password).
    pub fn label(&self) -> String {
        let what = match (&self.table, &self.query) {
            (Some(t), _) => t.clone(),
            (None, Some(q)) => format!("query `{}`", q.trim()),
            (None, None) => "no query".to_string(),
        };
        format!("postgres ${}: {what}", self.url_env)
    }
}

/// A reference table appended to the customers by a key column (`[[sources.customers.append]]`):
/// its columns become customer attributes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendSpec {
    /// Path of the file; relative paths are relative to the config file's folder.
    pub path: Option<PathBuf>,
    /// The column both the customers and the reference table hold, e.g. `zip_code`.
    #[serde(default)]
    pub key: String,
    /// The reference columns to take (default: all of them).
    pub columns: Option<Vec<String>>,
    pub format: Option<SourceFormat>,
    pub delimiter: Option<String>,
    pub header: Option<bool>,
    pub decimal: Option<String>,
    pub thousands: Option<String>,
}

impl AppendSpec {
    /// The reference table read as a customers table whose id is the key, so it is validated
    /// (and its key trimmed, leading zeros kept) by the same rules as any customers file.
    pub fn as_source(&self) -> SourceSpec {
        SourceSpec {
            path: self.path.clone(),
            format: self.format,
            delimiter: self.delimiter.clone(),
            header: self.header,
            decimal: self.decimal.clone(),
            thousands: self.thousands.clone(),
            columns: BTreeMap::from([(
                "customer_id".to_string(),
                ColumnRef::Name(self.key.clone()),
            )]),
            ..SourceSpec::default()
        }
    }
}

/// The `[sources]` of a config: a table per name, and `[[sources.append]]`, the reference tables
/// appended to the customers (kept as the customers' `append`, where the loader reads them).
pub fn sources_with_append<'de, D>(d: D) -> Result<BTreeMap<String, SourceSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Sources {
        #[serde(default)]
        append: Vec<AppendSpec>,
        #[serde(flatten)]
        tables: BTreeMap<String, SourceSpec>,
    }
    let Sources { append, mut tables } = Sources::deserialize(d)?;
    if !append.is_empty() {
        let customers = tables
            .entry(TableKind::Customers.name().to_string())
            .or_default();
        customers.append.extend(append);
    }
    Ok(tables)
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

/// How a source writes its numbers: the decimal mark and an optional thousands separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    pub decimal: char,
    pub thousands: Option<char>,
}

impl NumberFormat {
    pub const PLAIN: NumberFormat = NumberFormat {
        decimal: '.',
        thousands: None,
    };

    /// A number in this format as plain decimal text (`1.234,56` → `1234.56`), or `None` when
    /// it is not one: digits grouped by threes after the first group when a separator is used,
    /// one decimal mark, an optional sign. A plain source never gets here (polars casts it).
    pub fn normalize(self, text: &str) -> Option<String> {
        let (sign, body) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = match body.split_once(self.decimal) {
            Some((w, f)) => (w, Some(f)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if fraction.is_some_and(|f| !digits(f)) {
            return None;
        }
        let whole = match self.thousands {
            Some(t) if whole.contains(t) => {
                let groups: Vec<&str> = whole.split(t).collect();
                let first_ok = (1..=3).contains(&groups[0].len()) && digits(groups[0]);
                let rest_ok = groups[1..].iter().all(|g| g.len() == 3 && digits(g));
                if !(first_ok && rest_ok) {
                    return None;
                }
                groups.concat()
            }
            _ if digits(whole) => whole.to_string(),
            _ => return None,
        };
        Some(match fraction {
            Some(f) => format!("{sign}{whole}.{f}"),
            None => format!("{sign}{whole}"),
        })
    }

    /// What a number looks like in this format, for the rejects' `expected` column.
    pub fn expected(self) -> String {
        let example = match self.thousands {
            Some(t) => format!("1{t}234{}56", self.decimal),
            None => format!("1234{}56", self.decimal),
        };
        format!("a number such as `{example}`")
    }
}

impl SourceSpec {
    /// The date format of a canonical column: its own, else the table's, else ISO (`None`).
    pub fn date_format_of(&self, column: &str) -> Option<&str> {
        self.date_formats
            .get(column)
            .or(self.date_format.as_ref())
            .map(String::as_str)
    }

    /// The parsed `decimal` and `thousands` settings.
    pub fn number_format(&self, table: TableKind) -> Result<NumberFormat, IngestError> {
        let one_of = |key: &str, value: &Option<String>, allowed: &[char]| match value.as_deref() {
            None => Ok(None),
            Some(v) => {
                let mut chars = v.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if allowed.contains(&c) => Ok(Some(c)),
                    _ => Err(IngestError::Config {
                        message: format!(
                            "`sources.{table}.{key}`: expected one of {}, found `{v}`",
                            allowed
                                .iter()
                                .map(|c| format!("`{c}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }),
                }
            }
        };
        let decimal = one_of("decimal", &self.decimal, &['.', ','])?.unwrap_or('.');
        let thousands = one_of("thousands", &self.thousands, &['.', ',', ' ', '\''])?;
        if thousands == Some(decimal) {
            return Err(IngestError::Config {
                message: format!(
                    "`sources.{table}.thousands`: `{decimal}` is already the decimal mark; give another separator or set `decimal`"
                ),
            });
        }
        Ok(NumberFormat { decimal, thousands })
    }

    /// Checks every date format: chrono must understand it and it must name a day, a month and
    /// a year (a format without one of them parses no date).
    fn check_date_formats(&self, table: TableKind) -> Result<(), IngestError> {
        let named = self
            .date_format
            .iter()
            .map(|f| ("date_format".to_string(), f))
            .chain(
                self.date_formats
                    .iter()
                    .map(|(c, f)| (format!("date_formats.{c}"), f)),
            );
        for (key, format) in named {
            if let Some(problem) = date_format_problem(format) {
                return Err(IngestError::Config {
                    message: format!("`sources.{table}.{key}`: `{format}` {problem}"),
                });
            }
        }
        for column in self.date_formats.keys() {
            let is_date = table
                .columns()
                .iter()
                .any(|c| c.name == column && c.kind == super::schema::ColumnType::Date);
            if !is_date {
                return Err(IngestError::Config {
                    message: format!(
                        "`sources.{table}.date_formats.{column}`: `{column}` is not a date column of the {table} table (expected one of {})",
                        table.columns().iter().filter(|c| c.kind == super::schema::ColumnType::Date).map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The settings of one joined file checked like a source's.
    fn check_join(&self, table: TableKind) -> Result<(), IngestError> {
        self.check_append(table)?;
        if self.join.is_empty() {
            return Ok(());
        }
        if table != TableKind::Customers {
            return Err(IngestError::Config {
                message: format!(
                    "`sources.{table}.join`: only the customers table is assembled from several files"
                ),
            });
        }
        for part in &self.join {
            if part.path.is_none() {
                return Err(IngestError::Config {
                    message: format!("`sources.{table}.join`: every joined file needs a `path`"),
                });
            }
            if !part.join.is_empty() {
                return Err(IngestError::Config {
                    message: format!(
                        "`sources.{table}.join`: a joined file cannot join further files; list them all under `[[sources.{table}.join]]`"
                    ),
                });
            }
            part.check_settings(table)?;
        }
        Ok(())
    }

    /// The settings of every appended reference table.
    fn check_append(&self, table: TableKind) -> Result<(), IngestError> {
        if self.append.is_empty() {
            return Ok(());
        }
        if table != TableKind::Customers {
            return Err(IngestError::Config {
                message: format!(
                    "`sources.{table}.append`: reference tables are appended to the customers only"
                ),
            });
        }
        for part in &self.append {
            if part.path.is_none() || part.key.trim().is_empty() {
                return Err(IngestError::Config {
                    message: format!(
                        "`sources.{table}.append`: every appended table needs a `path` and a `key` (a column of the customers)"
                    ),
                });
            }
            part.as_source().check_settings(table)?;
        }
        Ok(())
    }

    /// The checks of one file's own settings.
    fn check_settings(&self, table: TableKind) -> Result<(), IngestError> {
        self.delimiter(table)?;
        self.number_format(table)?;
        self.check_date_formats(table)
    }
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
        let resolve = |path: &mut Option<PathBuf>| {
            if let Some(p) = path.as_mut() {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        };
        for source in config.sources.values_mut() {
            resolve(&mut source.path);
            source.join.iter_mut().for_each(|j| resolve(&mut j.path));
            source.append.iter_mut().for_each(|a| resolve(&mut a.path));
        }
        if let Some(p) = config.profit.as_mut() {
            resolve(&mut p.product_costs);
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
            identity: IdentitySettings::default(),
            profit: None,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), IngestError> {
        if let Some(message) = self.identity.problem() {
            return Err(IngestError::Config { message });
        }
        for (name, source) in &self.sources {
            let table = TableKind::from_name(name).ok_or_else(|| IngestError::Config {
                message: format!(
                    "unknown table `sources.{name}` (expected transactions, customers, contacts or suppressions)"
                ),
            })?;
            source.check_settings(table)?;
            source.check_join(table)?;
            if let Some(pg) = &source.postgres {
                if source.path.is_some() {
                    return Err(IngestError::Config {
                        message: format!("`sources.{name}`: give `path` or `postgres`, not both"),
                    });
                }
                pg.query(table)?;
            }
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

/// Why a strftime format cannot parse dates, or `None` when it can.
pub fn date_format_problem(format: &str) -> Option<&'static str> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Some("is not a chrono/strftime format (see `%d/%m/%Y`, `%Y%m%d`)");
    }
    let has = |specs: &[&str]| specs.iter().any(|s| format.contains(s));
    let day = has(&["%d", "%e", "%j", "%F", "%D", "%x", "%c", "%s"]);
    let month = has(&["%m", "%b", "%B", "%h", "%j", "%F", "%D", "%x", "%c", "%s"]);
    let year = has(&["%Y", "%y", "%G", "%F", "%D", "%x", "%c", "%s"]);
    if !(day && month && year) {
        return Some("does not name a day, a month and a year, so no date can be read with it");
    }
    None
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

    #[test]
    fn a_postgres_source_takes_a_query_or_a_quoted_table() {
        let config = IngestConfig::from_toml_str(
            "[sources.customers]\npostgres = { url_env = \"PG\", table = \"crm.my \\\"c\\\"\" }",
        )
        .unwrap();
        let pg = config.source(TableKind::Customers).postgres.unwrap();
        assert_eq!(
            pg.query(TableKind::Customers).unwrap(),
            r#"SELECT * FROM "crm"."my ""c""""#
        );
        assert_eq!(pg.label(), "postgres $PG: crm.my \"c\"");
        for (source, problem) in [
            (
                "postgres = { url_env = \"PG\" }",
                "either `query` or `table`",
            ),
            (
                "postgres = { url_env = \"PG\", query = \"SELECT 1\", table = \"t\" }",
                "either `query` or `table`",
            ),
            (
                "path = \"t.csv\"\npostgres = { url_env = \"PG\", query = \"SELECT 1\" }",
                "`path` or `postgres`, not both",
            ),
            (
                "postgres = { url = \"postgres://x\", query = \"SELECT 1\" }",
                "unknown field",
            ),
        ] {
            let err = IngestConfig::from_toml_str(&format!("[sources.transactions]\n{source}"))
                .unwrap_err();
            assert!(err.to_string().contains(problem), "{source}: {err}");
        }
    }

    #[test]
    fn number_formats_read_grouped_digits_and_one_decimal_mark() {
        let european = NumberFormat {
            decimal: ',',
            thousands: Some('.'),
        };
        for (text, want) in [
            ("1.234,56", Some("1234.56")),
            ("-1.234.567,5", Some("-1234567.5")),
            ("+12,5", Some("12.5")),
            ("1234,56", Some("1234.56")),
            ("0,05", Some("0.05")),
            ("1234.56", None),
            ("12.34,5", None),
            ("1.234,", None),
            (",5", None),
            ("1,2,3", None),
            ("abc", None),
        ] {
            assert_eq!(european.normalize(text).as_deref(), want, "{text}");
        }
        let swiss = NumberFormat {
            decimal: '.',
            thousands: Some('\''),
        };
        assert_eq!(swiss.normalize("12'345.5").as_deref(), Some("12345.5"));
        let spaced = NumberFormat {
            decimal: ',',
            thousands: Some(' '),
        };
        assert_eq!(spaced.normalize("1 234,5").as_deref(), Some("1234.5"));
    }

    #[test]
    fn number_and_date_settings_are_checked() {
        let config = IngestConfig::from_toml_str(
            "[sources.transactions]\ndecimal = \",\"\nthousands = \" \"\n[sources.transactions.date_formats]\norder_date = \"%d/%m/%Y\"",
        )
        .unwrap();
        let t = config.source(TableKind::Transactions);
        assert_eq!(
            t.number_format(TableKind::Transactions).unwrap(),
            NumberFormat {
                decimal: ',',
                thousands: Some(' ')
            }
        );
        assert_eq!(t.date_format_of("order_date"), Some("%d/%m/%Y"));
        for (toml, message) in [
            ("decimal = \";\"", "`sources.transactions.decimal`: expected one of `.`, `,`, found `;`"),
            ("decimal = \",\"\nthousands = \",\"", "already the decimal mark"),
            ("date_format = \"%d/%m\"", "does not name a day, a month and a year"),
            ("date_format = \"%d/%Q/%Y\"", "is not a chrono/strftime format"),
            ("date_formats = { amount = \"%d/%m/%Y\" }", "`amount` is not a date column of the transactions table (expected one of order_date)"),
        ] {
            let err = IngestConfig::from_toml_str(&format!("[sources.transactions]\n{toml}")).unwrap_err();
            assert!(err.to_string().contains(message), "{toml}: {err}");
        }
    }

    #[test]
    fn only_customers_join_further_files_each_with_a_path() {
        let err = IngestConfig::from_toml_str("[[sources.transactions.join]]\npath = \"x.csv\"")
            .unwrap_err();
        assert!(
            err.to_string().contains("only the customers table"),
            "{err}"
        );
        let err =
            IngestConfig::from_toml_str("[[sources.customers.join]]\nheader = true").unwrap_err();
        assert!(err.to_string().contains("needs a `path`"), "{err}");
        let config =
            IngestConfig::from_toml_str("[[sources.customers.join]]\npath = \"consent.csv\"")
                .unwrap();
        assert_eq!(config.source(TableKind::Customers).join.len(), 1);
    }

    #[test]
    fn sources_append_goes_to_the_customers_and_needs_a_path_and_a_key() {
        let config = IngestConfig::from_toml_str(
            "[[sources.append]]\npath = \"zips.csv\"\nkey = \"zip_code\"\n",
        )
        .unwrap();
        let customers = config.source(TableKind::Customers);
        assert_eq!(customers.append.len(), 1);
        assert_eq!(customers.append[0].key, "zip_code");
        let err =
            IngestConfig::from_toml_str("[[sources.append]]\nkey = \"zip_code\"\n").unwrap_err();
        assert!(
            err.to_string().contains("needs a `path` and a `key`"),
            "{err}"
        );
        let err = IngestConfig::from_toml_str(
            "[[sources.transactions.append]]\npath = \"z.csv\"\nkey = \"zip_code\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("customers only"), "{err}");
    }

    #[test]
    fn identity_settings_are_read_and_checked() {
        let config = IngestConfig::from_toml_str(
            "[identity]\nmatch = [\"email\", \"phone\"]\ndefault_country_code = \"49\"\n",
        )
        .unwrap();
        assert!(config.identity.is_active());
        assert_eq!(config.identity.default_country_code.as_deref(), Some("49"));
        for (toml, message) in [
            (
                "[identity]\nmatch = [\"email\"]\nkey = 1",
                "unknown field `key`",
            ),
            ("[identity]\nmatch = [\"fax\"]", "unknown variant `fax`"),
            (
                "[identity]\nname_postcode = [\"last_name\"]",
                "expected three customers columns",
            ),
        ] {
            let err = IngestConfig::from_toml_str(toml).unwrap_err();
            assert!(err.to_string().contains(message), "{toml}: {err}");
        }
    }
}
