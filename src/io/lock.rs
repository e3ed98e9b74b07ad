//! The lock of an output folder: two processes publishing the same folder (two `run`s of a job for
//! one date, two `select`s into one `--out`) would each swap in their own outputs and the last one
//! would silently win. The first takes an exclusive lock on `PARENT/.<name>.lock` (an advisory
//! `flock`, released by the kernel when the process ends, even on `kill -9`); the second waits up
//! to its timeout, then fails naming the holder's pid.
//!
//! The lock file is left in place: removing it would let a third process lock a new file while
//! the second still waits on the old one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::IoError;

/// Default wait for a busy output folder: none, fail at once.
pub const LOCK_TIMEOUT_DEFAULT: Duration = Duration::ZERO;

/// How often a waiting process tries the lock again.
const RETRY: Duration = Duration::from_millis(100);

/// An exclusive lock on publishing `PARENT/<name>`, held until dropped.
#[derive(Debug)]
pub struct OutputLock {
    // Held for its lock; closing the file releases it.
    _file: File,
}

impl OutputLock {
    /// Locks the publication of `parent/<name>`, waiting up to `timeout` for another process that
    /// holds it.
    pub fn acquire(parent: &Path, name: &str, timeout: Duration) -> Result<OutputLock, IoError> {
        let path = parent.join(format!(".{name}.lock"));
        let write_err = |source| IoError::Write {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(write_err)?;
        let started = Instant::now();
        loop {
            match try_lock(&file) {
                Ok(true) => break,
                Ok(false) if started.elapsed() < timeout => {
                    std::thread::sleep(RETRY.min(timeout.saturating_sub(started.elapsed())));
                }
                Ok(false) => {
                    return Err(IoError::Locked {
                        target: parent.join(name),
                        lock: path.clone(),
                        holder: holder_pid(&mut file),
                        waited: started.elapsed().as_secs(),
                    })
                }
                Err(e) => return Err(write_err(e)),
            }
        }
        // The pid is for the message of the next process that finds the folder busy.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(write_err)?;
        Ok(OutputLock { _file: file })
    }
}

/// An exclusive `flock` without waiting: `Ok(false)` when another open file holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Elsewhere no lock: concurrent writers are not detected.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Whether a process with this id runs (on Linux; elsewhere assumed, so nothing is removed).
pub(crate) fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// A path's folder, `.` for a bare file name.
pub(crate) fn parent_or_dot(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_holder_then_succeeds_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = OutputLock::acquire(dir.path(), "d", Duration::ZERO).unwrap();
        let e = OutputLock::acquire(dir.path(), "d", Duration::from_millis(250)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains(".d.lock"),
            "{text}"
        );
        // Another name is another lock.
        OutputLock::acquire(dir.path(), "e", Duration::ZERO).unwrap();
        drop(first);
        OutputLock::acquire(dir.path(), "d", Duration::ZERO).unwrap();
    }

    #[test]
    fn dead_and_live_processes() {
        assert!(process_alive(std::process::id()));
        if cfg!(target_os = "linux") {
            assert!(!process_alive(4_294_967_294));
        }
    }
}
