//! `bullseye train --cv` and `--sweep`: folds that never leak, scikit-learn's cross-validated AUC
//! on the bundled Hillstrom task, a sweep that keeps its lowest log loss, and a model that does
//! not change when asked to cross-validate.

use crate::models::{hillstrom_sandbox, HILLSTROM_FEATURES};
use std::process::Output;

use crate::support::{assert_ok, fixture, stderr, Sandbox};

/// `train response` on the Hillstrom e-mailed rows, visit label, `test` holdout (the task of
/// tests/fixtures/cv/golden.py), then `extra`.
fn hillstrom_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "response",
        "--table",
        "emailed.csv",
        "--label",
        "visit",
        "--features",
        HILLSTROM_FEATURES,
        "--categorical",
        "zip_code,channel",
        "--holdout",
        "column:test",
    ];
    args.extend_from_slice(extra);
    args
}

/// [`hillstrom_args`] into the folder `dir`; its stdout.
fn hillstrom_train(sb: &Sandbox, dir: &str, extra: &[&str]) -> String {
    let mut args = hillstrom_args(&["--out", dir]);
    args.extend_from_slice(extra);
    let out = sb.run(&args);
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command failed with exit 2 and a message holding `needle`.
fn assert_refused(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

/// The `cv_fold` column of a `--rows-out` CSV (its last column), as written.
fn fold_column(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"cv_fold"), "{header:?}");
    lines
        .map(|l| l.rsplit(',').next().unwrap_or("").to_string())
        .collect()
}

/// Bullseye's folds are the committed ones, and its per-fold AUCs are scikit-learn's
/// `cross_val_score` on those folds within 0.002 (tests/fixtures/cv/golden.py made the figures).
#[test]
fn hillstrom_cross_validated_auc_matches_scikit_learn_on_the_same_folds() {
    let sb = hillstrom_sandbox();
    let started = std::time::Instant::now();
    let stdout = hillstrom_train(&sb, "m", &["--cv", "5", "--rows-out", "rows.csv"]);
    println!("hillstrom 5-fold cv + fit: {:.2?}", started.elapsed());
    let committed = std::fs::read_to_string(fixture("cv/hillstrom_visit_folds.csv")).unwrap();
    let ours = fold_column(&sb.read("rows.csv"));
    let theirs: Vec<String> = committed.lines().skip(1).map(str::to_string).collect();
    assert_eq!(ours.len(), theirs.len());
    assert!(
        ours == theirs,
        "the folds differ from the committed ones: rerun golden.py"
    );

    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("cv/hillstrom_visit_expected.json")).unwrap(),
    )
    .unwrap();
    let cv = &sb.json("m/metrics.json")["cv"];
    assert_eq!(cv["k"], 5);
    assert!(cv["rule"]
        .as_str()
        .unwrap()
        .starts_with("stratified random, seed 42"));
    let folds = cv["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 5);
    for (i, f) in folds.iter().enumerate() {
        let ours = f["metrics"]["auc"].as_f64().unwrap();
        let sk = expected["auc"][i].as_f64().unwrap();
        assert!((ours - sk).abs() <= 0.002, "fold {}: {ours} vs {sk}", i + 1);
        assert_eq!(f["fold"], i + 1);
        assert!(f["positives"].as_u64().unwrap() > 0);
    }
    let mean = cv["summary"]["auc"]["mean"].as_f64().unwrap();
    let sk_mean = expected["auc_mean"].as_f64().unwrap();
    assert!((mean - sk_mean).abs() <= 0.002, "{mean} vs {sk_mean}");
    for m in ["auc", "log_loss", "brier"] {
        let s = &cv["summary"][m];
        assert!(s["sd"].as_f64().unwrap() > 0.0, "{m}: {s}");
        assert!(s["min"].as_f64() <= s["mean"].as_f64() && s["mean"].as_f64() <= s["max"].as_f64());
    }
    assert!(
        stdout.contains("cross-validation: 5 folds over "),
        "{stdout}"
    );
    assert!(stdout.contains(" mean "), "{stdout}");
}

/// Cross-validation is an estimate: the model and the rest of the report are those of a fit
/// without it, and a fit without it writes no `cv` object and no `cv_fold` column.
#[test]
fn cv_leaves_the_model_unchanged_and_is_absent_when_not_asked() {
    let sb = hillstrom_sandbox();
    hillstrom_train(&sb, "plain", &["--rows-out", "plain.csv"]);
    hillstrom_train(&sb, "cv", &["--cv", "3"]);
    hillstrom_train(&sb, "cv-again", &["--cv", "3"]);
    assert_eq!(sb.read("plain/model.json"), sb.read("cv/model.json"));
    assert_eq!(sb.read("cv/metrics.json"), sb.read("cv-again/metrics.json"));
    let mut with_cv = sb.json("cv/metrics.json");
    assert!(with_cv["cv"].is_object());
    with_cv.as_object_mut().unwrap().remove("cv");
    assert_eq!(with_cv, sb.json("plain/metrics.json"));
    assert!(!sb.read("plain/metrics.json").contains("\"cv\""));
    assert!(!sb
        .read("plain.csv")
        .lines()
        .next()
        .unwrap()
        .contains("cv_fold"));
}

/// Contacts on six dates, a label that depends on the amount; every customer is contacted on
/// each date.
fn dated_history() -> Sandbox {
    let sb = Sandbox::new(&[]);
    let mut tx = String::from("customer_id,order_date,amount\n");
    let mut contacts =
        String::from("customer_id,campaign_id,contact_date,channel,group,responded\n");
    for i in 0..60 {
        let id = format!("c{i:02}");
        tx.push_str(&format!("{id},1997-01-0{},{}\n", 1 + i % 5, 10 + i));
        for (m, date) in ["02", "03", "04", "05", "06", "07"].iter().enumerate() {
            let responded = u8::from((i * 7 + m * 3) % 10 < 3 + i / 20);
            contacts.push_str(&format!(
                "{id},k{m},1997-{date}-01,email,treatment,{responded}\n"
            ));
        }
    }
    std::fs::write(sb.path("tx.csv"), tx).unwrap();
    std::fs::write(sb.path("contacts.csv"), contacts).unwrap();
    sb
}

/// `train response` on [`dated_history`]'s files, then `extra`.
fn train_on_contacts(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "response",
        "--transactions",
        "tx.csv",
        "--contacts",
        "contacts.csv",
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// Time-ordered folds: each fold validates on contacts later than every contact it trained on,
/// and the holdout's (latest) contacts are in no fold.
#[test]
fn contact_folds_validate_after_their_training_window() {
    let sb = dated_history();
    let out = train_on_contacts(
        &sb,
        &["--cv", "3", "--out", "model", "--rows-out", "rows.csv"],
    );
    assert_ok(&out);
    let csv = sb.read("rows.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let date_at = header.iter().position(|h| *h == "contact_date").unwrap();
    let folds = fold_column(&csv);
    let dates: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(date_at).unwrap().to_string())
        .collect();
    let span = |fold: &str| {
        let d: Vec<&String> = dates
            .iter()
            .zip(&folds)
            .filter(|(_, f)| *f == fold)
            .map(|(d, _)| d)
            .collect();
        assert!(!d.is_empty(), "fold {fold} has no rows");
        (
            d.iter().min().unwrap().to_string(),
            d.iter().max().unwrap().to_string(),
        )
    };
    let (first, second, third) = (span("1"), span("2"), span("3"));
    assert!(
        first.1 < second.0 && second.1 < third.0,
        "{first:?} {second:?} {third:?}"
    );
    // Unfolded rows: the first block (before fold 1) and the holdout (after fold 3).
    let (unfolded_min, unfolded_max) = span("");
    assert!(unfolded_min < first.0 && unfolded_max > third.1);
    let cv = &sb.json("model/metrics.json")["cv"];
    assert!(
        cv["rule"].as_str().unwrap().starts_with("time-ordered"),
        "{cv}"
    );
    let train_rows: Vec<u64> = cv["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["train_rows"].as_u64().unwrap())
        .collect();
    assert!(train_rows.windows(2).all(|w| w[0] < w[1]), "{train_rows:?}");

    // More folds than the dates allow is refused with the reason.
    let out = train_on_contacts(&sb, &["--cv", "6", "--out", "model6"]);
    assert_refused(&out, "time-ordered folds");
}

/// A sweep keeps the value of lowest cross-validated log loss, fits the model with it, saves the
/// curve, and `models show` prints it.
#[test]
fn a_sweep_keeps_its_lowest_log_loss_and_shows_its_curve() {
    let sb = hillstrom_sandbox();
    let mut args = hillstrom_args(&["--registry", "reg", "--sweep", "l2=100000,1,1000"]);
    let out = sb.run(&args);
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sweep (5 folds"), "{stdout}");
    let r = sb.json("reg/response/v0001/metrics.json");
    let sweep = &r["sweep"];
    let curve = sweep["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 3);
    let losses: Vec<f64> = curve
        .iter()
        .map(|p| p["log_loss"]["mean"].as_f64().unwrap())
        .collect();
    let best = losses
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    // A penalty of 100000 flattens the model to the base rate: clearly the worst.
    assert_ne!(best, 0, "{losses:?}");
    assert!(losses[0] > losses[1], "{losses:?}");
    let chosen = sweep["chosen"]["l2"].as_f64().unwrap();
    assert_eq!(chosen, curve[best]["settings"]["l2"].as_f64().unwrap());
    assert_eq!(r["classifier"]["l2"].as_f64().unwrap(), chosen);
    assert_eq!(r["cv"]["k"], 5);
    let show = sb.run(&["models", "show", "response/v0001", "--registry", "reg"]);
    assert_ok(&show);
    let s = String::from_utf8_lossy(&show.stdout);
    assert!(s.contains("sweep (5 folds"), "{s}");
    assert!(s.contains("<- chosen"), "{s}");

    // A sweep the learner has no such setting for is refused before any data is read.
    args.extend_from_slice(&["--sweep", "trees=10"]);
    let out = sb.run(&args);
    assert_refused(&out, "`l2`");
}
