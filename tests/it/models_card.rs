//! `bullseye models card`: the card written at training time beside `model.json`, and the
//! registry's history of who registered and promoted a version.

use crate::models::{flat_sandbox, train_flat, train_flat_with};
use crate::support::{assert_ok, stderr};

/// A card is written when a model is registered, the same bytes for the same training inputs;
/// `models card` prints it with the history, and promoting adds who and why to the history
/// without touching the card file.
#[test]
fn the_card_after_train_and_after_promote() {
    let sb = flat_sandbox();
    train_flat(&sb, "1.0");
    let card_json = sb.read("models/response/v0001/model_card.json");
    let card_md = sb.read("models/response/v0001/model_card.md");
    for section in [
        "## Purpose",
        "## Training data",
        "## Holdout\n- rule: column `test` (1 = holdout)",
        "## Features",
        "## Settings\n- learner: logistic",
        "## Metrics (holdout, 95% interval from 1000 bootstrap resamples",
        "| AUC |",
        "| log loss |",
        "| Brier |",
        "## Calibration (holdout, by score decile)",
        "| decile | rows | mean score | observed rate |",
        "## Guard rails\nverdict: ",
        "## Known limits",
    ] {
        assert!(card_md.contains(section), "{section}\n{card_md}");
    }
    // The same training inputs in another registry: the same card, byte for byte.
    let again = flat_sandbox();
    train_flat(&again, "1.0");
    assert_eq!(
        again.read("models/response/v0001/model_card.json"),
        card_json
    );
    let card: serde_json::Value = serde_json::from_str(&card_json).unwrap();
    // The flat table separates the classes (holdout AUC 1, so its interval is a point); the log
    // loss has a spread.
    let interval = |name: &str| {
        let i = &card["metrics"][name];
        let f = |k: &str| i[k].as_f64().unwrap();
        (f("low"), f("estimate"), f("high"))
    };
    let (low, estimate, high) = interval("auc");
    assert!(low <= estimate && estimate <= high, "{card}");
    let (low, estimate, high) = interval("log_loss");
    assert!(low < estimate && estimate < high, "{card}");
    assert_eq!(
        card["calibration"]["reliability"].as_array().unwrap().len(),
        10
    );
    assert!(card["top_features"][0]["measure"] == "standardised coefficient");

    let printed = sb.run(&["models", "card", "response@v0001"]);
    assert_ok(&printed);
    let text = String::from_utf8_lossy(&printed.stdout).into_owned();
    assert!(text.starts_with("# Model card: response model (logistic) — `response/v0001`\n"));
    assert!(
        text.contains("## History\n- ") && text.contains(" registered by "),
        "{text}"
    );
    assert!(!text.contains("promoted"), "{text}");

    let promoted = sb.run(&[
        "models",
        "promote",
        "response",
        "v0001",
        "--by",
        "alice",
        "--note",
        "first model",
    ]);
    assert_ok(&promoted);
    let text =
        String::from_utf8_lossy(&sb.run(&["models", "card", "response"]).stdout).into_owned();
    assert!(text.contains(" promoted by alice: first model\n"), "{text}");
    let json = sb.run(&[
        "models",
        "card",
        "response/v0001",
        "--json",
        "--out",
        "card.json",
    ]);
    assert_ok(&json);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["version"], "v0001");
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["action"], "promoted");
    assert_eq!(history[1]["user"], "alice");
    assert!(history[1]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sb.read("card.json").as_bytes(), json.stdout.as_slice());
    // The card file itself never carries the history.
    assert_eq!(sb.read("models/response/v0001/model_card.json"), card_json);

    let missing = sb.run(&["models", "card", "response@v0007"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("no model `response/v0007`"),
        "{}",
        stderr(&missing)
    );
}

/// Two versions judged on different holdouts: promotion scores the production model on the
/// candidate's holdout rows (kept in its `holdout.parquet`) and refuses a candidate that does
/// worse there, saying what was compared.
#[test]
fn promotion_compares_on_the_candidates_holdout_when_the_holdouts_differ() {
    let sb = flat_sandbox();
    train_flat(&sb, "1.0");
    assert!(sb.path("models/response/v0001/holdout.parquet").is_file());
    assert_ok(&sb.run(&["models", "promote", "response", "v0001"]));
    // A one-tree forest on another holdout: a weaker ranking than production's on its rows.
    train_flat_with(
        &sb,
        &[
            "--holdout",
            "fraction:0.3",
            "--model",
            "forest",
            "--trees",
            "1",
        ],
    );
    let worse = sb.run(&["models", "promote", "response", "v0002"]);
    assert_eq!(worse.status.code(), Some(2), "{}", stderr(&worse));
    assert!(
        stderr(&worse).contains(
            "refused to promote a worse model: `response/v0002` against production `response/v0001` on the candidate's holdout, production scored on its rows (120 rows"
        ),
        "{}",
        stderr(&worse)
    );
    assert_eq!(sb.read("models/response/PRODUCTION"), "v0001\n");
    let forced = sb.run(&["models", "promote", "response", "v0002", "--force"]);
    assert_ok(&forced);
    assert!(
        stderr(&forced).contains("promoted with `--force` although worse"),
        "{}",
        stderr(&forced)
    );
}
