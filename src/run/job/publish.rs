//! A run's outputs are written into a hidden staging folder beside their destination and published
//! with one atomic directory swap, so a reader (or a `kill -9` at any moment) sees either the
//! previous complete run or the new complete run under `OUT/<as-of>/`, never a mix or a partial
//! file. A failed run is published to `OUT/<as-of>.failed/` instead and leaves `OUT/<as-of>/`
//! untouched.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::io::{remove_stale_temporaries, IoError, OutputLock};

/// The folder a run writes into before it is published.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    name: String,
    done: bool,
    // Held from creation to publication: one process at a time writes `OUT/<name>`.
    _lock: OutputLock,
}

fn write_err(path: &Path, source: std::io::Error) -> IoError {
    IoError::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl Staging {
    /// Creates `OUT/.<name>.staging-<pid>/` once it holds the lock of `OUT/<name>` (waiting up to
    /// `lock_timeout` for another process), after removing the staging folders of runs of the
    /// same name that were killed (their process is gone).
    pub fn create(out: &Path, name: &str, lock_timeout: Duration) -> Result<Staging, IoError> {
        fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
        // Messages name `/srv/out/…`, not `jobs/../../out/…`.
        let out = &fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
        let lock = OutputLock::acquire(out, name, lock_timeout)?;
        remove_stale_temporaries(out, &format!(".{name}.staging-"));
        let dir = out.join(format!(".{name}.staging-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        }
        fs::create_dir(&dir).map_err(|e| write_err(&dir, e))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            name: name.to_string(),
            done: false,
            _lock: lock,
        })
    }

    /// Where the run writes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder a successful run is published to.
    pub fn final_dir(&self) -> PathBuf {
        self.out.join(&self.name)
    }

    /// The folder a failed run is published to.
    pub fn failed_dir(&self) -> PathBuf {
        self.out.join(format!("{}.failed", self.name))
    }

    /// Publishes the run as `OUT/<name>/` and removes a `<name>.failed/` left by an earlier
    /// attempt (it no longer describes the current outputs).
    pub fn publish(mut self) -> Result<PathBuf, IoError> {
        let target = self.final_dir();
        replace_dir(&self.dir, &target)?;
        self.done = true;
        let failed = self.failed_dir();
        if failed.exists() {
            fs::remove_dir_all(&failed).map_err(|e| write_err(&failed, e))?;
        }
        Ok(target)
    }

    /// Publishes a failed run as `OUT/<name>.failed/`.
    pub fn publish_failed(mut self) -> Result<PathBuf, IoError> {
        let target = self.failed_dir();
        replace_dir(&self.dir, &target)?;
        self.done = true;
        Ok(target)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Moves the complete folder `new` to `target`, atomically replacing whatever `target` held.
fn replace_dir(new: &Path, target: &Path) -> Result<(), IoError> {
    if !target.exists() {
        match fs::rename(new, target) {
            Ok(()) => return Ok(()),
            // Someone created `target` meanwhile: swap with it below.
            Err(_) if target.exists() => {}
            Err(e) => return Err(write_err(target, e)),
        }
    }
    exchange(new, target)?;
    // `new` now holds the previous outputs.
    fs::remove_dir_all(new).map_err(|e| write_err(new, e))
}

/// Swaps two existing folders in one step (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), IoError> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| {
            write_err(
                p,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"),
            )
        })
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(write_err(b, std::io::Error::last_os_error()))
    }
}

/// Elsewhere: move the old folder aside, then the new one in. A crash between the two renames
/// leaves the previous run under its aside name (`.<name>.previous-<pid>`), complete.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<(), IoError> {
    let name = b
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = b.with_file_name(format!(".{name}.previous-{}", std::process::id()));
    fs::rename(b, &aside).map_err(|e| write_err(b, e))?;
    fs::rename(a, b).map_err(|e| write_err(b, e))?;
    fs::rename(&aside, a).map_err(|e| write_err(a, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn publish_replaces_the_previous_run_whole() {
        let out = tempfile::tempdir().unwrap();
        let first = Staging::create(out.path(), "2024-01-07", Duration::ZERO).unwrap();
        fs::write(first.dir().join("a.csv"), "old").unwrap();
        fs::write(first.dir().join("only-old.csv"), "x").unwrap();
        let published = first.publish().unwrap();
        assert_eq!(read(&published.join("a.csv")), "old");

        let second = Staging::create(out.path(), "2024-01-07", Duration::ZERO).unwrap();
        fs::write(second.dir().join("a.csv"), "new").unwrap();
        let published = second.publish().unwrap();
        assert_eq!(read(&published.join("a.csv")), "new");
        assert!(!published.join("only-old.csv").exists());
        let mut left: Vec<_> = fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        // The lock file stays (see `io::OutputLock`).
        assert_eq!(left, [".2024-01-07.lock", "2024-01-07"]);
    }

    #[test]
    fn a_failed_run_leaves_the_published_one_alone() {
        let out = tempfile::tempdir().unwrap();
        let ok = Staging::create(out.path(), "d", Duration::ZERO).unwrap();
        fs::write(ok.dir().join("a.csv"), "good").unwrap();
        ok.publish().unwrap();
        let bad = Staging::create(out.path(), "d", Duration::ZERO).unwrap();
        fs::write(bad.dir().join("manifest.json"), "failed").unwrap();
        let failed = bad.publish_failed().unwrap();
        assert_eq!(read(&out.path().join("d/a.csv")), "good");
        assert_eq!(read(&failed.join("manifest.json")), "failed");
        // The next good run clears the failure.
        let ok = Staging::create(out.path(), "d", Duration::ZERO).unwrap();
        fs::write(ok.dir().join("a.csv"), "better").unwrap();
        ok.publish().unwrap();
        assert!(!out.path().join("d.failed").exists());
    }

    #[test]
    fn dropped_staging_is_removed_and_stale_ones_are_cleaned() {
        let out = tempfile::tempdir().unwrap();
        let s = Staging::create(out.path(), "d", Duration::ZERO).unwrap();
        let dir = s.dir().to_path_buf();
        drop(s);
        assert!(!dir.exists());
        // A staging folder of a process that cannot exist (pid beyond pid_max).
        let stale = out.path().join(".d.staging-4294967294");
        fs::create_dir(&stale).unwrap();
        let _s = Staging::create(out.path(), "d", Duration::ZERO).unwrap();
        if cfg!(target_os = "linux") {
            assert!(!stale.exists());
        }
    }
}
