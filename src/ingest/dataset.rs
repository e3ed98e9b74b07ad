//! A folder of Parquet files as one table: every file's columns as text, stacked in path order,
//! with the hive partition columns (`…/region=north/part-0.parquet`) added from the folder names,
//! so a data lake's table goes through the same validation and rejects as one file.

use std::path::Path;

use polars::prelude::*;

use super::lines::RecordLines;
use super::read::{parquet_text_columns, polars_err, RawTable};
use super::IngestError;
use crate::io;

/// The value Hive and Spark write for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Reads every Parquet file under `dir` as one table (rows in file-path order, then file order).
pub(super) fn read_dataset(dir: &Path) -> Result<RawTable, IngestError> {
    let files = io::dataset_files(dir).map_err(|source| IngestError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let problem = |detail: String| IngestError::Dataset {
        path: dir.to_path_buf(),
        detail,
    };
    if files.is_empty() {
        return Err(problem(
            "no Parquet files (.parquet, .pq) in this folder".to_string(),
        ));
    }
    let mut table: Option<DataFrame> = None;
    for file in &files {
        let mut columns = parquet_text_columns(file)?;
        let height = columns.first().map_or(0, |c| c.len());
        let rel = file.strip_prefix(dir).unwrap_or(file);
        for (key, value) in partitions(rel) {
            if columns.iter().any(|c| c.name().as_str() == key) {
                return Err(problem(format!(
                    "`{}`: the partition folder names `{key}`, which is also a column of the file",
                    rel.display()
                )));
            }
            columns.push(Column::new(key.as_str().into(), vec![value; height]));
        }
        let frame = DataFrame::new_infer_height(columns).map_err(polars_err(file))?;
        match table.as_mut() {
            None => table = Some(frame),
            Some(table) => {
                let first = names(table);
                let mut theirs = names(&frame);
                let mut ours = first.clone();
                ours.sort();
                theirs.sort();
                if ours != theirs {
                    return Err(problem(format!(
                        "`{}` has the columns {:?}, expected {:?} as in `{}`",
                        rel.display(),
                        names(&frame),
                        first,
                        files[0].strip_prefix(dir).unwrap_or(&files[0]).display()
                    )));
                }
                let frame = frame.select(first).map_err(polars_err(file))?;
                table.vstack_mut(&frame).map_err(polars_err(file))?;
            }
        }
    }
    let mut frame = table.unwrap_or_default();
    frame.rechunk_mut();
    Ok(RawTable::new(
        dir,
        frame,
        true,
        Some(RecordLines::starting_at(1)),
    ))
}

fn names(frame: &DataFrame) -> Vec<String> {
    frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The `key=value` folder names between the dataset's root and a file, outermost first, values
/// percent-decoded as Hive and Spark escape them; the null marker is a missing value.
fn partitions(rel: &Path) -> Vec<(String, Option<String>)> {
    let Some(parent) = rel.parent() else {
        return Vec::new();
    };
    parent
        .components()
        .filter_map(|c| {
            let part = c.as_os_str().to_string_lossy();
            let (key, value) = part.split_once('=')?;
            let value = (value != HIVE_NULL).then(|| percent_decode(value));
            Some((percent_decode(key), value))
        })
        .collect()
}

/// `%XX` escapes decoded; anything else (or a malformed escape) kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escape {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_become_values_decoded_and_null_marked() {
        let got = partitions(Path::new(
            "year=2024/region=north%20east/day=__HIVE_DEFAULT_PARTITION__/plain/part-0.parquet",
        ));
        assert_eq!(
            got,
            vec![
                ("year".to_string(), Some("2024".to_string())),
                ("region".to_string(), Some("north east".to_string())),
                ("day".to_string(), None),
            ]
        );
        assert!(partitions(Path::new("part-0.parquet")).is_empty());
        assert_eq!(percent_decode("a%3Db%2"), "a=b%2");
    }
}
