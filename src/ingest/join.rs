//! A table assembled from several files (`[[sources.customers.join]]`): each joined file is
//! validated as a table of its own (its rejects name its own lines), then its columns are added
//! to the main file's rows by customer id. The main file decides who is a customer: a joined
//! row whose id is not there adds no customer, and a customer without a joined row gets nulls
//! (counted both ways in the summary). A joined file holds one row per customer; an id on two of
//! its rows cannot say which row applies, so it is an error rather than a guess.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::config::AppendSpec;
use super::validate::Validated;
use super::IngestError;

const ID: &str = "customer_id";

/// The main table's key of an appended reference table while they are joined (the reference
/// table's key is validated as its `customer_id` and renamed to this).
const APPEND_KEY: &str = "__bullseye_append_key";

/// What joining one file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinSummary {
    pub source: String,
    /// The customers column an appended reference table is matched by (`None` for a file joined
    /// by customer id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub rows_in: usize,
    pub rows_kept: usize,
    pub rows_rejected: usize,
    /// Customers of the main file without a row in this file (their joined columns are empty).
    pub customers_without_row: usize,
    /// Kept rows of this file whose key is in no row of the main file (left out).
    pub rows_without_customer: usize,
}

/// Adds the columns of `part` (a validated joined file) to `main` by customer id, appends its
/// rejects and records the join in the summary.
pub(crate) fn join_part(main: Validated, part: Validated) -> Result<Validated, IngestError> {
    let path = PathBuf::from(&part.summary.source);
    let main_keys = texts(&main.frame, ID).map_err(|source| polars(&path, source))?;
    join_on(main, main_keys, part, ID, None)
}

/// Left-joins a validated reference table (`spec.key` read as its customer id) onto the
/// customers by the customers column `spec.key`, compared as trimmed text so that a numeric
/// column of the customers still matches; with `spec.columns`, only those columns come in.
pub(crate) fn append_part(
    mut main: Validated,
    mut part: Validated,
    spec: &AppendSpec,
) -> Result<Validated, IngestError> {
    let path = PathBuf::from(&part.summary.source);
    let key = spec.key.as_str();
    if main.frame.column(key).is_err() {
        return Err(IngestError::AppendKeyMissing {
            path,
            key: key.to_string(),
            found: main
                .frame
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect(),
        });
    }
    if let Some(wanted) = &spec.columns {
        let found: Vec<String> = part
            .frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        if let Some(missing) = wanted
            .iter()
            .find(|w| !found.contains(w) || w.as_str() == key)
        {
            return Err(IngestError::AppendColumnMissing {
                path,
                column: missing.clone(),
                found: found.into_iter().filter(|f| f != ID).collect(),
            });
        }
        let keep = std::iter::once(ID).chain(wanted.iter().map(String::as_str));
        part.frame = part
            .frame
            .select(keep)
            .map_err(|source| polars(&path, source))?;
    }
    part.frame
        .rename(ID, APPEND_KEY.into())
        .map_err(|source| polars(&path, source))?;
    let main_keys = texts(&main.frame, key).map_err(|source| polars(&path, source))?;
    let column = Column::new(APPEND_KEY.into(), &main_keys);
    main.frame
        .with_column(column)
        .map_err(|source| polars(&path, source))?;
    let mut joined = join_on(main, main_keys, part, APPEND_KEY, Some(key))?;
    joined.frame = joined
        .frame
        .drop(APPEND_KEY)
        .map_err(|source| polars(&path, source))?;
    Ok(joined)
}

/// The join both kinds share: refuses a key on two rows of `part` and a column in both tables,
/// counts the keys on one side only, left-joins on `on` keeping `main`'s rows and order, and
/// appends `part`'s rejects.
fn join_on(
    mut main: Validated,
    main_keys: Vec<Option<String>>,
    part: Validated,
    on: &str,
    key: Option<&str>,
) -> Result<Validated, IngestError> {
    let path = PathBuf::from(&part.summary.source);
    let polars_err = |source| polars(&path, source);
    let part_ids: Vec<String> = texts(&part.frame, on)
        .map_err(polars_err)?
        .into_iter()
        .flatten()
        .collect();
    if let Some(id) = repeated(&part_ids) {
        let rows = part_ids.iter().filter(|i| **i == id).count();
        return Err(IngestError::JoinKeyRepeated {
            path: path.clone(),
            what: match key {
                Some(k) => format!("key `{k}` value"),
                None => "customer id".to_string(),
            },
            id,
            rows,
        });
    }
    let main_names = main.frame.get_column_names();
    if let Some(clash) = part
        .frame
        .get_column_names()
        .into_iter()
        .find(|n| n.as_str() != on && main_names.contains(n))
    {
        return Err(IngestError::JoinColumnClash {
            path: path.clone(),
            column: clash.to_string(),
        });
    }
    let part_set: HashSet<&String> = part_ids.iter().collect();
    let customers_without_row = match key {
        // An appended table counts customers (rows); a joined file counts distinct ids.
        Some(_) => main_keys
            .iter()
            .filter(|k| k.as_ref().is_none_or(|k| !part_set.contains(k)))
            .count(),
        None => {
            let ids: HashSet<&String> = main_keys.iter().flatten().collect();
            ids.iter().filter(|i| !part_set.contains(**i)).count()
        }
    };
    let main_set: HashSet<&String> = main_keys.iter().flatten().collect();
    let summary = JoinSummary {
        source: part.summary.source.clone(),
        key: key.map(str::to_string),
        rows_in: part.summary.rows_in,
        rows_kept: part.summary.rows_kept,
        rows_rejected: part.summary.rows_rejected,
        customers_without_row,
        rows_without_customer: part_ids.iter().filter(|i| !main_set.contains(i)).count(),
    };
    main.frame = main
        .frame
        .lazy()
        .join(
            part.frame.lazy(),
            [col(on)],
            [col(on)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()
        .map_err(polars_err)?;
    main.rejects = main.rejects.vstack(&part.rejects).map_err(polars_err)?;
    main.summary.joined.push(summary);
    Ok(main)
}

fn polars(path: &Path, source: PolarsError) -> IngestError {
    IngestError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

/// A column's values as trimmed text, in row order (`None` for a null or blank): a number
/// prints without a trailing `.0`, so a zip code read as a number matches its text.
fn texts(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let column = frame.column(name)?.as_materialized_series().clone();
    let column = match column.dtype() {
        DataType::Float32 | DataType::Float64 => {
            let values = column.cast(&DataType::Float64)?;
            return Ok(values
                .f64()?
                .iter()
                .map(|v| v.map(|v| format!("{v}")))
                .collect());
        }
        _ => column.cast(&DataType::String)?,
    };
    Ok(column
        .str()?
        .iter()
        .map(|v| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        })
        .collect())
}

/// The first id that occurs twice.
fn repeated(ids: &[String]) -> Option<String> {
    let mut seen = HashSet::new();
    ids.iter().find(|i| !seen.insert(*i)).cloned()
}

#[cfg(test)]
mod tests {
    use crate::ingest::{load_table, IngestConfig, IngestError, TableKind};

    /// Loads customers.csv with a second file, both written into a temp folder, under the
    /// config `[sources.customers] path = "customers.csv"` followed by `tail`.
    fn load_with(
        customers: &str,
        (name, text): (&str, &str),
        tail: &str,
    ) -> Result<super::Validated, IngestError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("customers.csv"), customers).unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let config_path = dir.path().join("c.toml");
        let head = "[sources.customers]\npath = \"customers.csv\"\n";
        std::fs::write(&config_path, format!("{head}{tail}")).unwrap();
        let config = IngestConfig::from_file(&config_path).unwrap();
        let spec = config.source(TableKind::Customers);
        let path = spec.path.clone().unwrap();
        load_table(TableKind::Customers, &path, &spec, None)
    }

    /// Loads customers.csv joined with consent.csv.
    fn load(customers: &str, consent: &str) -> Result<super::Validated, IngestError> {
        load_with(
            customers,
            ("consent.csv", consent),
            "[[sources.customers.join]]\npath = \"consent.csv\"\n[sources.customers.join.columns]\ncustomer_id = \"Client Ref\"\n",
        )
    }

    /// The file and line of the first reject.
    fn first_reject(v: &super::Validated) -> (String, Option<i64>) {
        let file = v.rejects.column("file").unwrap().str().unwrap().get(0);
        let line = v.rejects.column("line").unwrap().i64().unwrap().get(0);
        (file.unwrap_or_default().to_string(), line)
    }

    #[test]
    fn joined_columns_follow_the_main_files_rows_and_unmatched_ids_are_counted() {
        let v = load(
            "customer_id,region\nc1,north\nc2,south\nc3,east\n",
            "Client Ref,email_opt_in\nc3,yes\nc1,No\nc9,y\nc2,maybe\n",
        )
        .unwrap();
        let ids: Vec<&str> = v
            .frame
            .column("customer_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        let flags: Vec<Option<i32>> = v
            .frame
            .column("email_opt_in")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(flags, [Some(0), None, Some(1)]);
        let j = &v.summary.joined[0];
        assert!(j.source.ends_with("consent.csv"), "{}", j.source);
        assert_eq!((j.rows_in, j.rows_kept, j.rows_rejected), (4, 3, 1));
        assert_eq!((j.customers_without_row, j.rows_without_customer), (1, 1));
        // The joined file's reject names its own file and line.
        let (file, line) = first_reject(&v);
        assert!(file.ends_with("consent.csv"), "{file}");
        assert_eq!(line, Some(5));
    }

    #[test]
    fn an_id_on_two_rows_of_a_joined_file_is_an_error() {
        let err = load("customer_id\nc1\n", "Client Ref,email_opt_in\nc1,1\nc1,0\n").unwrap_err();
        assert!(
            matches!(err, IngestError::JoinKeyRepeated { ref id, rows: 2, .. } if id == "c1"),
            "{err}"
        );
        let err = load(
            "customer_id,email_opt_in\nc1,1\n",
            "Client Ref,email_opt_in\nc1,1\n",
        )
        .unwrap_err();
        assert!(
            matches!(err, IngestError::JoinColumnClash { ref column, .. } if column == "email_opt_in"),
            "{err}"
        );
    }

    /// Loads customers.csv with zips.csv appended by `zip_code` (`extra` adds settings).
    fn load_appended(
        customers: &str,
        zips: &str,
        extra: &str,
    ) -> Result<super::Validated, IngestError> {
        let append = "[[sources.customers.append]]\npath = \"zips.csv\"\nkey = \"zip_code\"\n";
        load_with(customers, ("zips.csv", zips), &format!("{append}{extra}"))
    }

    fn numbers(v: &super::Validated, name: &str) -> Vec<Option<f64>> {
        v.frame
            .column(name)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn appended_columns_match_by_trimmed_text_and_unmatched_keys_are_counted() {
        let v = load_appended(
            "customer_id,zip_code\nc1,02134\nc2,10001\nc3,99999\nc4,\nc5,02134\n",
            "zip_code,households,urban\n 02134 ,10,yes\n10001,20,no\n55555,30,no\n2134,40,x\n",
            "",
        )
        .unwrap();
        assert_eq!(v.frame.height(), 5);
        assert!(v.frame.column("__bullseye_append_key").is_err());
        // `02134` matches ` 02134 ` (trimmed) and not `2134` (leading zeros are text).
        assert_eq!(
            numbers(&v, "households"),
            [Some(10.0), Some(20.0), None, None, Some(10.0)]
        );
        let j = &v.summary.joined[0];
        assert_eq!(j.key.as_deref(), Some("zip_code"));
        assert_eq!((j.rows_in, j.rows_kept, j.rows_rejected), (4, 4, 0));
        // c3 (no such zip) and c4 (no zip); 55555 and 2134 match no customer.
        assert_eq!((j.customers_without_row, j.rows_without_customer), (2, 2));
    }

    #[test]
    fn a_numeric_customer_key_matches_and_columns_take_a_subset() {
        let v = load_appended(
            "customer_id,zip_code\nc1,10001\nc2,20002\n",
            "zip_code,households,income\n20002,7,5000\n10001,3,4000\n",
            "columns = [\"income\"]\n",
        )
        .unwrap();
        assert_eq!(numbers(&v, "income"), [Some(4000.0), Some(5000.0)]);
        assert!(v.frame.column("households").is_err());
        assert_eq!(v.summary.joined[0].customers_without_row, 0);
    }

    #[test]
    fn appended_tables_refuse_repeated_keys_clashes_and_unknown_columns() {
        let err = load_appended(
            "customer_id,zip_code\nc1,1\n",
            "zip_code,households\n02134,1\n02134 ,2\n",
            "",
        )
        .unwrap_err();
        assert!(
            matches!(err, IngestError::JoinKeyRepeated { ref id, rows: 2, .. } if id == "02134"),
            "{err}"
        );
        assert!(
            err.to_string().contains("key `zip_code` value `02134`"),
            "{err}"
        );
        let err = load_appended(
            "customer_id,zip_code,households\nc1,1,3\n",
            "zip_code,households\n1,2\n",
            "",
        )
        .unwrap_err();
        assert!(
            matches!(err, IngestError::JoinColumnClash { ref column, .. } if column == "households"),
            "{err}"
        );
        let err =
            load_appended("customer_id,zip\nc1,1\n", "zip_code,households\n1,2\n", "").unwrap_err();
        assert!(matches!(err, IngestError::AppendKeyMissing { .. }), "{err}");
        let err = load_appended(
            "customer_id,zip_code\nc1,1\n",
            "zip_code,households\n1,2\n",
            "columns = [\"income\"]\n",
        )
        .unwrap_err();
        assert!(
            matches!(err, IngestError::AppendColumnMissing { ref column, .. } if column == "income"),
            "{err}"
        );
    }

    #[test]
    fn a_reject_of_an_appended_table_names_its_own_file_and_line() {
        let v = load_appended(
            "customer_id,zip_code\nc1,1\n",
            "zip_code,households\n1,2\n,3\n",
            "",
        )
        .unwrap();
        let (file, line) = first_reject(&v);
        assert!(file.ends_with("zips.csv"), "{file}");
        assert_eq!(line, Some(3));
    }
}
