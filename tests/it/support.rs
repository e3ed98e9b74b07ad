//! Helpers shared by the integration tests: run the binary, compare with golden files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where `notebooks-data/` and `tests/fixtures/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// A temporary working folder with the given fixture files copied in, so that paths in messages
/// are short and stable.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new(fixtures: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in fixtures {
            let src = fixture(f);
            let name = Path::new(f).file_name().expect("file name");
            std::fs::copy(&src, dir.path().join(name))
                .unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        }
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `bullseye ARGS` in the sandbox.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_bullseye"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run bullseye")
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(rel)).unwrap_or_else(|e| panic!("parse {rel}: {e}"))
    }
}

/// Asserts a command succeeded, showing its stderr when not.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compares `actual` with `tests/golden/NAME`; `BULLSEYE_UPDATE_GOLDEN=1` rewrites the file.
pub fn check_golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("BULLSEYE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "read golden {}: {e} (set BULLSEYE_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "output differs from tests/golden/{name} (set BULLSEYE_UPDATE_GOLDEN=1 to accept)"
    );
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `sample.toml` into the sandbox: the headerless CDNOW sample (`customer_id sample_id
/// date cds dollars`) mapped by position.
pub fn write_cdnow_sample_config(sb: &Sandbox) {
    let sample = root().join("notebooks-data/CDNOW_sample.txt");
    std::fs::write(
        sb.path("sample.toml"),
        format!(
            "[sources.transactions]\npath = {:?}\ndelimiter = \"whitespace\"\nheader = false\ndate_format = \"%Y%m%d\"\n\
             [sources.transactions.columns]\ncustomer_id = 1\norder_date = 3\nquantity = 4\namount = 5\n",
            sample.to_str().expect("utf-8 path")
        ),
    )
    .expect("write sample.toml");
}

/// The CDNOW columns of a job's `[sources.transactions]`.
pub const CDNOW_COLUMNS: &str = r#"[sources.transactions.columns]
customer_id = "customer_id"
order_date = "date"
amount = "dollar_value"
quantity = "number_of_cds"
"#;

/// Every file under `dir` by relative path, with its bytes; `manifest.json` left out (it holds
/// timings).
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                if rel != "manifest.json" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}
