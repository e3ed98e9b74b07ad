//! SHA-256 of files and bytes as lowercase hex: the manifest's input and output hashes, the
//! models' training-data hashes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::IoError;

/// Lowercase hex of a digest (or any bytes).
pub fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Size and SHA-256 of an input: a file's, or for a folder of Parquet files (one table) the total
/// size and the SHA-256 of every file's relative path, size and SHA-256 in path order — so
/// renaming, adding or changing any file changes it.
pub fn input_digest(path: &Path) -> Result<(u64, String), IoError> {
    if !path.is_dir() {
        return file_digest(path);
    }
    let files = super::dataset_files(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    for file in files {
        let (bytes, sha) = file_digest(&file)?;
        let rel = file.strip_prefix(path).unwrap_or(&file);
        hasher.update(format!("{}\0{bytes}\0{sha}\n", rel.display()));
        total += bytes;
    }
    Ok((total, hex(hasher.finalize())))
}

/// Size and SHA-256 (hex) of a file, read in 1 MiB blocks.
pub fn file_digest(path: &Path) -> Result<(u64, String), IoError> {
    let err = |source| IoError::Read {
        path: path.to_path_buf(),
        source,
    };
    // A FIFO would block the open, a device never end.
    super::check_regular_file(path)?;
    let mut file = File::open(path).map_err(err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, hex(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex([0u8, 15, 255]), "000fff");
    }

    #[test]
    fn digest_matches_the_known_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, "abc").unwrap();
        let (bytes, hex) = file_digest(&p).unwrap();
        assert_eq!(bytes, 3);
        // FIPS 180-2 test vector.
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
