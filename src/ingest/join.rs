//! A table assembled from several files (`[[sources.customers.join]]`): each joined file is
//! validated as a table of its own (its rejects name its own lines), then its columns are added
//! to the main file's rows by customer id. The main file decides who is a customer: a joined
//! row whose id is not there adds no customer, and a customer without a joined row gets nulls
//! (counted both ways in the summary). A joined file holds one row per customer; an id on two of
//! its rows cannot say which row applies, so it is an error rather than a guess.

use std::collections::HashSet;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::validate::Validated;
use super::IngestError;

const ID: &str = "customer_id";

/// What joining one file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinSummary {
    pub source: String,
    pub rows_in: usize,
    pub rows_kept: usize,
    pub rows_rejected: usize,
    /// Customers of the main file without a row in this file (their joined columns are empty).
    pub customers_without_row: usize,
    /// Kept rows of this file whose customer id is not in the main file (left out).
    pub rows_without_customer: usize,
}

/// Adds the columns of `part` (a validated joined file) to `main` by customer id, appends its
/// rejects and records the join in the summary.
pub(crate) fn join_part(mut main: Validated, part: Validated) -> Result<Validated, IngestError> {
    let path = Path::new(&part.summary.source).to_path_buf();
    let polars_err = |source| IngestError::Polars {
        path: path.clone(),
        source,
    };
    let part_ids = ids(&part.frame).map_err(polars_err)?;
    if let Some(id) = repeated(&part_ids) {
        let rows = part_ids.iter().filter(|i| **i == id).count();
        return Err(IngestError::JoinKeyRepeated {
            path: path.clone(),
            id,
            rows,
        });
    }
    let main_names = main.frame.get_column_names();
    if let Some(clash) = part
        .frame
        .get_column_names()
        .into_iter()
        .find(|n| n.as_str() != ID && main_names.contains(n))
    {
        return Err(IngestError::JoinColumnClash {
            path: path.clone(),
            column: clash.to_string(),
        });
    }
    let main_ids: HashSet<String> = ids(&main.frame).map_err(polars_err)?.into_iter().collect();
    let part_set: HashSet<&String> = part_ids.iter().collect();
    let summary = JoinSummary {
        source: part.summary.source.clone(),
        rows_in: part.summary.rows_in,
        rows_kept: part.summary.rows_kept,
        rows_rejected: part.summary.rows_rejected,
        customers_without_row: main_ids.iter().filter(|i| !part_set.contains(i)).count(),
        rows_without_customer: part_ids.iter().filter(|i| !main_ids.contains(*i)).count(),
    };
    main.frame = main
        .frame
        .lazy()
        .join(
            part.frame.lazy(),
            [col(ID)],
            [col(ID)],
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

/// The customer ids of a validated table, in row order.
fn ids(frame: &DataFrame) -> PolarsResult<Vec<String>> {
    Ok(frame
        .column(ID)?
        .str()?
        .iter()
        .flatten()
        .map(str::to_string)
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

    /// Loads customers.csv joined with consent.csv, both written into a temp folder.
    fn load(customers: &str, consent: &str) -> Result<super::Validated, IngestError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("customers.csv"), customers).unwrap();
        std::fs::write(dir.path().join("consent.csv"), consent).unwrap();
        let config_path = dir.path().join("c.toml");
        std::fs::write(
            &config_path,
            "[sources.customers]\npath = \"customers.csv\"\n[[sources.customers.join]]\npath = \"consent.csv\"\n[sources.customers.join.columns]\ncustomer_id = \"Client Ref\"\n",
        )
        .unwrap();
        let config = IngestConfig::from_file(&config_path).unwrap();
        let spec = config.source(TableKind::Customers);
        let path = spec.path.clone().unwrap();
        load_table(TableKind::Customers, &path, &spec, None)
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
        let file = v
            .rejects
            .column("file")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
            .to_string();
        assert!(file.ends_with("consent.csv"), "{file}");
        assert_eq!(
            v.rejects.column("line").unwrap().i64().unwrap().get(0),
            Some(5)
        );
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
}
