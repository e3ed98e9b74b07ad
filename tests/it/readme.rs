//! The README runs as written: every command of its code blocks marked ```` ```sh runnable ````
//! is run, in order, in a temporary copy of the repository's data and models, and must succeed —
//! or exit with the code its comment promises (`# exits 3: …`). Blocks with placeholder file
//! names are plain ```` ```sh ```` blocks and say so.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::root;

/// The commands of the README's runnable blocks, in order: continuation lines joined, comment
/// lines dropped.
fn runnable_commands(readme: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut runnable = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_block {
                in_block = false;
                continue;
            }
            in_block = true;
            runnable = info.split_whitespace().any(|w| w == "runnable");
            continue;
        }
        if !in_block || !runnable {
            continue;
        }
        let (start, mut text) = pending.take().unwrap_or_else(|| (i + 1, String::new()));
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            text.push_str(head);
            text.push(' ');
            pending = Some((start, text));
            continue;
        }
        text.push_str(line);
        let command = text.trim().to_string();
        if !command.is_empty() && !command.starts_with('#') {
            out.push((start, command));
        }
    }
    out
}

/// The exit code a command's comment promises (`… # exits 3: why`), else 0.
fn expected_exit(command: &str) -> i32 {
    command
        .split_once("# exits ")
        .and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Copies a folder recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_readme_commands_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands = runnable_commands(&readme);
    assert!(
        commands.len() >= 20,
        "only {} runnable commands found: are the README's blocks marked `sh runnable`?",
        commands.len()
    );
    let clone = tempfile::tempdir().unwrap();
    for dir in ["notebooks-data", "models", "tests/fixtures/planner"] {
        copy_dir(&root().join(dir), &clone.path().join(dir));
    }
    // `bullseye` on the PATH is the binary under test; `cargo run --release --` is the same.
    let bin = clone.path().join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_bullseye"), bin.join("bullseye")).unwrap();
    let path: PathBuf = bin;
    let search = format!(
        "{}:{}",
        path.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for (line, command) in commands {
        if command.starts_with("cargo test") || command.starts_with("scripts/test") {
            continue; // the suite that runs this test
        }
        let command = command.replace("cargo run --release --", "bullseye");
        let expected = expected_exit(&command);
        let out = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .current_dir(clone.path())
            .env("PATH", &search)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(expected),
            "README.md line {line}: `{command}` exited {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    println!("{ran} README commands ran");
}

#[test]
fn continuation_lines_and_comments_are_understood() {
    let text = "x\n```sh runnable\n# a comment\nbullseye a \\\n    --b c   # why\n\n```\n```sh\nbullseye placeholder FILE\n```\n```toml\nk = 1\n```\n";
    let cmds = runnable_commands(text);
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0].0, 4);
    assert!(cmds[0].1.starts_with("bullseye a      --b c"));
    assert_eq!(expected_exit(&cmds[0].1), 0);
    assert_eq!(expected_exit("bullseye run x   # exits 3: drift"), 3);
}
