//! A folder of Parquet files read as one table, as data lakes hand tables over (Spark, Hive,
//! polars and pyarrow write them): which files belong to it, in a fixed order.

use std::path::{Path, PathBuf};

/// Whether `path` names a Parquet file by its extension (`.parquet`, `.pq`).
pub fn is_parquet_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// The Parquet files under `dir`, at any depth, sorted by path so every run reads them in the
/// same order. Names starting with `_` or `.` are the writers' bookkeeping (`_SUCCESS`,
/// `_delta_log`, `.part-0.crc`) and are not part of the table; other non-Parquet files are
/// ignored for the same reason.
pub fn dataset_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('_') || name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if is_parquet_file(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parquet_files_sorted_and_skips_bookkeeping() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "year=2024/b.parquet",
            "year=2023/a.parquet",
            "year=2023/_SUCCESS",
            "_delta_log/x.parquet",
            ".hidden/y.parquet",
            "notes.txt",
            "z.PQ",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let got: Vec<_> = dataset_files(root)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(got, ["year=2023/a.parquet", "year=2024/b.parquet", "z.PQ"]);
    }
}
