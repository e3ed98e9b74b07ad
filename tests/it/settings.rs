//! Every parameter bound is checked once, before any work, by the job loader and by the
//! commands alike, and the message names the parameter as the user wrote it: the job file's key,
//! or the command's flag. The inputs named here do not exist, so a check that ran after reading
//! them would fail on the missing file instead.

use std::process::Output;

use crate::support::{stderr, Sandbox};

/// Asserts a bad-input exit whose message names `setting` and no other spelling of it.
fn assert_names(out: &Output, setting: &str, other: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("`{setting}`: expected")), "{err}");
    assert!(!err.contains(other), "{err}");
}

#[test]
fn a_bad_job_setting_fails_when_the_job_is_read_naming_its_key() {
    let cases = [
        ("train", "holdout = 0", "train.holdout", "--holdout"),
        ("train", "holdout = 1.0", "train.holdout", "--holdout"),
        (
            "train",
            "churn_horizon_days = 0",
            "train.churn_horizon_days",
            "--horizon-days",
        ),
        (
            "features",
            "level_cap = 0",
            "features.level_cap",
            "--level-cap",
        ),
        ("segment", "k = 0", "segment.k", "--k"),
        ("segment", "n_init = 0", "segment.n_init", "--n-init"),
        ("clv", "months = 0", "clv.months", "--clv-months"),
        ("clv", "horizon = -1.0", "clv.horizon", "--horizon"),
    ];
    for (table, line, key, flag) in cases {
        let sb = Sandbox::new(&[]);
        std::fs::write(
            sb.path("job.toml"),
            format!(
                "[job]\nname = \"x\"\nout = \"runs\"\nstages = [\"ingest\", \"train\", \"clv\", \"features\", \"segment\"]\n[sources.transactions]\npath = \"missing.csv\"\n[{table}]\n{line}\n"
            ),
        )
        .unwrap();
        let out = sb.run(&["run", "job.toml"]);
        assert_names(&out, key, flag);
        assert!(
            stderr(&out).contains(&format!("job `job.toml`: `{key}`")),
            "{}",
            stderr(&out)
        );
        assert!(!sb.path("runs").exists(), "{line}: the run started");
    }
}

#[test]
fn the_same_bad_value_as_a_flag_names_the_flag() {
    let segment = ["segment", "--features", "missing.csv", "--out", "model"];
    let train = [
        "train",
        "response",
        "--table",
        "missing.csv",
        "--label",
        "y",
    ];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "train",
                "churn",
                "--transactions",
                "missing.csv",
                "--as-of",
                "1998-06-30",
                "--horizon-days",
                "0",
                "--out",
                "model",
            ],
            "--horizon-days",
            "train.churn_horizon_days",
        ),
        (
            [&train[..], &["--holdout", "fraction:0", "--out", "model"]].concat(),
            "--holdout",
            "train.holdout",
        ),
        (
            [&train[..], &["--holdout", "latest", "--out", "model"]].concat(),
            "--holdout",
            "train.holdout",
        ),
        (
            [&train[..], &["--level-cap", "0", "--out", "model"]].concat(),
            "--level-cap",
            "features.level_cap",
        ),
        (
            [
                &train[..],
                &["--model", "forest", "--trees", "0", "--out", "model"],
            ]
            .concat(),
            "--trees",
            "n_trees",
        ),
        (
            [&train[..], &["--l2=-1", "--out", "model"]].concat(),
            "--l2",
            "invalid parameter",
        ),
        (
            [&train[..], &["--model", "tree", "--out", "model"]].concat(),
            "--model",
            "unknown model",
        ),
        (
            vec![
                "features",
                "--transactions",
                "missing.csv",
                "--as-of",
                "1998-06-30",
                "--level-cap",
                "0",
                "--out",
                "model",
            ],
            "--level-cap",
            "features.level_cap",
        ),
        ([&segment[..], &["--k", "0"]].concat(), "--k", "segment.k"),
        (
            [&segment[..], &["--auto-k", "1..8"]].concat(),
            "--auto-k",
            "cluster.k",
        ),
        (
            [&segment[..], &["--n-init", "0"]].concat(),
            "--n-init",
            "segment.n_init",
        ),
        (
            vec![
                "clv",
                "predict",
                "--model",
                "missing",
                "--transactions",
                "missing.csv",
                "--as-of",
                "1998-06-30",
                "--horizon",
                "26",
                "--clv-months",
                "0",
                "--out",
                "model",
            ],
            "--clv-months",
            "clv.months",
        ),
    ];
    for (args, flag, other) in cases {
        let sb = Sandbox::new(&[]);
        let out = sb.run(&args);
        assert_names(&out, flag, other);
        assert!(!sb.path("model").exists(), "{args:?}: wrote an output");
    }
}
