use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use super::lock::{parent_or_dot, process_alive};
use super::IoError;

/// Writes `path` through a temporary file in the same folder, flushed and synced, then renamed over
/// the target: a reader (or a crash at any moment) sees the previous complete file or the new one,
/// never a partial file. Creates the parent folder when needed.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), IoError>,
{
    let dir = parent_or_dot(path);
    fs::create_dir_all(&dir).map_err(|source| IoError::Write {
        path: dir.clone(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    remove_stale_temporaries(&dir, &format!(".{file_name}.tmp-"));
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    // Errors name the target, the file the user asked for, not its temporary name.
    let err = |source| IoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        let file = File::create(&tmp).map_err(err)?;
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
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

/// Removes the entries of `dir` named `<prefix><pid>` whose process no longer runs: the temporary
/// files of a killed `write_atomic`, the staging folders of a killed run.
pub fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_file_and_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "old").unwrap();
        let e = write_atomic(&path, |_| {
            Err(IoError::Write {
                path: path.clone(),
                source: std::io::Error::from_raw_os_error(libc::ENOSPC),
            })
        })
        .unwrap_err();
        assert!(e.to_string().contains("No space left on device"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file is removed");
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        // A process id beyond pid_max: never alive.
        let stale = dir.path().join(".a.csv.tmp-4294967294");
        let other = dir.path().join(".b.csv.tmp-4294967294");
        std::fs::write(&stale, "half").unwrap();
        std::fs::write(&other, "half").unwrap();
        write_string_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        if cfg!(target_os = "linux") {
            assert!(!stale.exists());
        }
        assert!(
            other.exists(),
            "another file's temporary is not ours to remove"
        );
    }
}
