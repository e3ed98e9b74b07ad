//! `manifest.json`: what a run read, used, produced and how long each stage took. The one output
//! of a run that is not byte-identical across reruns: `started_at`, `total_seconds` and the stage
//! `seconds` are measurements.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::io::{file_digest, IoError};
use crate::models::FeatureDrift;
use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub bullseye_version: String,
    pub job: JobRecord,
    /// 0 success, 2 bad input, 3 drift over the threshold, 1 anything else.
    pub exit_status: u8,
    pub error: Option<String>,
    /// The stage that failed (drift is found by `score` but fails the run at its end).
    pub failed_stage: Option<String>,
    pub inputs: Vec<InputRecord>,
    /// Customer records merged into another id, per rule (`[identity]`; absent when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub merges: BTreeMap<String, usize>,
    pub models: Vec<ModelRecord>,
    pub stages: Vec<StageRecord>,
    pub drift: Option<DriftRecord>,
    pub warnings: Vec<String>,
    /// Every file of the run folder but the manifest, by path relative to it.
    pub outputs: Vec<OutputRecord>,
    /// Local time the run started (RFC 3339).
    pub started_at: String,
    pub total_seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub name: String,
    pub file: String,
    pub as_of: String,
    pub stages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    pub table: String,
    /// The file, or how a database source is named (its variable and table or query).
    pub path: String,
    /// Set for a database source: `bytes` and `sha256` are then of the rows it returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseRecord>,
    pub bytes: u64,
    pub sha256: String,
    pub rows_in: usize,
    pub rows_kept: usize,
    pub rows_rejected: usize,
    /// The rejects file, relative to the run folder, when rows were rejected.
    pub rejects: Option<String>,
}

/// A database source: the environment variable that held its URL (never the URL) and the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRecord {
    pub url_env: String,
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// `response` or `churn`.
    pub name: String,
    /// `trained` (in this run) or `registry`.
    pub source: String,
    /// The model folder (relative to the run folder when trained in it).
    pub path: String,
    /// The registry version (`v0003`) when it came from the registry.
    pub version: Option<String>,
    /// SHA-256 of its `model.json`.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: String,
    pub seconds: f64,
    /// The rows the stage produced (customers with features, scored customers, audience size…).
    pub rows: Option<usize>,
    /// Timed steps inside the stage (e.g. `response rows`, `response fit` in `train`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<StagePart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagePart {
    pub name: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRecord {
    pub fail_above: f64,
    /// `fail` or `warn`.
    pub action: String,
    pub exclude: Vec<String>,
    pub models: Vec<ModelDriftRecord>,
    /// `model: feature (PSI)` for every checked PSI over the threshold.
    pub over_threshold: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDriftRecord {
    pub model: String,
    pub rows: usize,
    pub score_psi: Option<f64>,
    pub features: Vec<FeatureDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `p`'s path inside `dir`, `/`-separated: how the manifest names an output.
pub(super) fn relative_path(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file under `dir` (recursively, sorted by relative path, `/`-separated), but `skip`.
/// A file in `known` (hashed by the thread that wrote it) is not read again while its size is
/// the recorded one.
pub fn list_outputs(
    dir: &Path,
    skip: &str,
    known: &[OutputRecord],
) -> Result<Vec<OutputRecord>, IoError> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| IoError::Read {
            path: d.clone(),
            source,
        })?;
        for e in entries {
            let e = e.map_err(|source| IoError::Read {
                path: d.clone(),
                source,
            })?;
            let p = e.path();
            if p.is_dir() {
                pending.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let rel = |p: &Path| relative_path(dir, p);
    // The files are hashed side by side: at 10M customers a run writes 2.7 GB of outputs, a
    // few seconds of SHA-256 for one core.
    let mut out: Vec<OutputRecord> = files
        .par_iter()
        .filter(|p| rel(p) != skip)
        .map(|p| {
            let path = rel(p);
            let size = std::fs::metadata(p).map(|m| m.len()).ok();
            if let Some(k) = known
                .iter()
                .find(|k| k.path == path && Some(k.bytes) == size)
            {
                return Ok(k.clone());
            }
            let (bytes, sha256) = file_digest(p)?;
            Ok(OutputRecord {
                path,
                bytes,
                sha256,
            })
        })
        .collect::<Result<_, IoError>>()?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_listed_sorted_and_relative() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/x.csv"), "1").unwrap();
        std::fs::write(dir.path().join("a.csv"), "2").unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), "{}").unwrap();
        let list = list_outputs(dir.path(), MANIFEST_FILE, &[]).unwrap();
        let paths: Vec<_> = list.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, vec!["a.csv", "b/c/x.csv"]);
    }

    /// A known digest stands for its file while the size agrees; a file of another size than
    /// recorded (rewritten since) is hashed again.
    #[test]
    fn known_digests_are_taken_while_the_size_agrees() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "12").unwrap();
        std::fs::write(dir.path().join("b.csv"), "3").unwrap();
        let fresh = list_outputs(dir.path(), MANIFEST_FILE, &[]).unwrap();
        let known = |path: &str, bytes: u64| OutputRecord {
            path: path.into(),
            bytes,
            sha256: "recorded".into(),
        };
        let list = list_outputs(
            dir.path(),
            MANIFEST_FILE,
            &[known("a.csv", 2), known("b.csv", 5)],
        )
        .unwrap();
        assert_eq!(list[0].sha256, "recorded");
        assert_eq!(list[1].sha256, fresh[1].sha256);
        assert_ne!(list[1].sha256, "recorded");
    }
}
