use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::IoError;

/// Writes `path` through a temporary file in the same folder, flushed and synced, then renamed over
/// the target: a reader (or a crash at any moment) sees the previous complete file or the new one,
/// never a partial file. Creates the parent folder when needed.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), IoError>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|source| IoError::Write {
        path: dir.clone(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(|source| IoError::Write {
            path: tmp.clone(),
            source,
        })?;
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| IoError::Write {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|source| IoError::Write {
            path: tmp.clone(),
            source,
        })?;
        fs::rename(&tmp, path).map_err(|source| IoError::Write {
            path: path.to_path_buf(),
            source,
        })
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Atomically writes a string.
pub fn write_string_atomic(path: &Path, text: &str) -> Result<(), IoError> {
    write_atomic(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|source| IoError::Write {
                path: path.to_path_buf(),
                source,
            })
    })
}

/// Atomically writes a value as pretty JSON with a trailing newline.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), IoError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| IoError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    write_string_atomic(path, &text)
}
