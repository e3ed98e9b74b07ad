//! Inputs must be regular files. A named pipe blocks whoever opens it until a writer comes, and
//! a device such as `/dev/zero` never ends: read as a table, either hangs the command or grows its
//! memory without bound. So every input is checked from its metadata alone, before it is opened.

use std::fs::{FileType, Metadata};
use std::path::Path;

use super::IoError;

/// What `path` is when it is not a regular file (`a FIFO (named pipe)`, `a device`, `a
/// folder`, …); `None` for a regular file or a symbolic link to one. Reads the metadata only: the
/// file is not opened.
pub fn not_a_regular_file(path: &Path) -> std::io::Result<Option<&'static str>> {
    Ok(kind(&std::fs::metadata(path)?))
}

fn kind(m: &Metadata) -> Option<&'static str> {
    let t = m.file_type();
    if t.is_file() {
        return None;
    }
    Some(if t.is_dir() { "a folder" } else { special(&t) })
}

#[cfg(unix)]
fn special(t: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special(_: &FileType) -> &'static str {
    "not a regular file"
}

/// The error for an input that is not a regular file (`what` from [`not_a_regular_file`]).
pub fn not_regular_error(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("not a regular file but {what}; give a file"),
    )
}

/// The text of a small input file (a job, campaign, policy, scheme or model file), refused at
/// once when it is not a regular file: `read_to_string` on a FIFO blocks forever and on
/// `/dev/zero` grows without bound. A missing file keeps the system's message.
pub fn read_text(path: &Path) -> Result<String, IoError> {
    let err = |source| IoError::Read {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(Some(what)) = not_a_regular_file(path) {
        return Err(err(not_regular_error(what)));
    }
    std::fs::read_to_string(path).map_err(err)
}

/// Fails unless `path` is a regular file (a missing file is a read error, "no such file").
pub fn check_regular_file(path: &Path) -> Result<(), IoError> {
    let err = |source| IoError::Read {
        path: path.to_path_buf(),
        source,
    };
    match not_a_regular_file(path) {
        Ok(None) => Ok(()),
        Ok(Some(what)) => Err(err(not_regular_error(what))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ))),
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_devices_and_pipes_are_not_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.csv");
        std::fs::write(&file, "a\n").unwrap();
        assert_eq!(not_a_regular_file(&file).unwrap(), None);
        assert_eq!(read_text(&file).unwrap(), "a\n");
        assert_eq!(not_a_regular_file(dir.path()).unwrap(), Some("a folder"));
        assert!(check_regular_file(dir.path()).is_err());
        assert!(check_regular_file(&dir.path().join("nope.csv"))
            .unwrap_err()
            .to_string()
            .contains("no such file"));
        #[cfg(unix)]
        {
            assert_eq!(
                not_a_regular_file(Path::new("/dev/zero")).unwrap(),
                Some("a device")
            );
            let fifo = dir.path().join("fifo");
            let status = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(status.success());
            let err = check_regular_file(&fifo).unwrap_err().to_string();
            assert!(
                err.contains("not a regular file but a FIFO (named pipe)"),
                "{err}"
            );
            // Read as text, refused before the open that would block.
            let err = read_text(&fifo).unwrap_err().to_string();
            assert!(
                err.contains("not a regular file but a FIFO (named pipe)"),
                "{err}"
            );
            assert!(read_text(Path::new("/dev/zero")).is_err());
        }
    }
}
