//! `bullseye analyze penetration` on a hand-made fixture (tests/fixtures/penetration/): ten
//! customers in four zip codes, a household count per zip.

use crate::support::{assert_ok, stderr, Sandbox};

const FILES: [&str; 3] = [
    "penetration/customers.csv",
    "penetration/orders.csv",
    "penetration/zip_households.csv",
];

/// `bullseye analyze penetration` on the fixture's tables as of 2024-12-31.
const COMMAND: [&str; 8] = [
    "analyze",
    "penetration",
    "--transactions",
    "orders.csv",
    "--customers",
    "customers.csv",
    "--as-of",
    "2024-12-31",
];

fn penetration(sb: &Sandbox, extra: &[&str]) -> std::process::Output {
    let mut args = COMMAND.to_vec();
    args.extend_from_slice(&["--min-group", "1"]);
    args.extend_from_slice(extra);
    sb.run(&args)
}

const MARKET: [&str; 7] = [
    "--by",
    "zip_code,age_band",
    "--market",
    "zip_households.csv",
    "--market-key",
    "zip_code",
    "--market-size",
];

/// The penetration.csv row of a dimension's group, by column name.
fn row(csv: &str, dimension: &str, group: &str) -> std::collections::BTreeMap<String, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let line = lines
        .find(|l| l.starts_with(&format!("{dimension},{group},")))
        .unwrap_or_else(|| panic!("no row {dimension},{group} in\n{csv}"));
    header
        .iter()
        .map(|h| h.to_string())
        .zip(line.split(',').map(str::to_string))
        .collect()
}

#[test]
fn penetration_is_customers_over_households_with_every_figure_by_hand() {
    let sb = Sandbox::new(&FILES);
    let mut args = MARKET.to_vec();
    args.extend(["households", "--out", "out"]);
    let out = penetration(&sb, &args);
    assert_ok(&out);
    let csv = sb.read("out/penetration.csv");
    // 02134: 3 customers in 10 households, 2 of them bought (40, and 20 less a 5 return).
    let zip = row(&csv, "zip_code", "02134");
    assert_eq!(zip["customers"], "3");
    assert_eq!(zip["active_buyers"], "2");
    assert_eq!(zip["revenue"], "55.0");
    assert_eq!(zip["penetration"], "0.3");
    // A zip with households and no customer is listed (0), not left out.
    let empty = row(&csv, "zip_code", "60601");
    assert_eq!(
        (empty["customers"].as_str(), empty["penetration"].as_str()),
        ("0", "0.0")
    );
    // c10 signed up after the day and c03's 500 came after it: neither counts.
    let json = sb.json("out/penetration.json");
    let zips = &json["tables"][0];
    assert_eq!(zips["totals"]["customers"], 9);
    assert_eq!(zips["totals"]["active_buyers"], 4);
    assert_eq!(zips["totals"]["revenue"], 95.0);
    assert_eq!(zips["customers_without_market"], 1);
    let base = 8.0 / 510.0;
    let index = zips["groups"][0]["penetration_index"].as_f64().unwrap();
    assert!((index - 100.0 * 0.3 / base).abs() < 1e-9, "{index}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("under-penetrated: 60601"), "{stdout}");
    assert!(
        stdout.contains("1 customers are in groups the market table has no row for"),
        "{stdout}"
    );
    // Ages on the day: c07 has no birth date.
    assert_eq!(row(&csv, "age_band", "(missing)")["customers"], "1");
    assert_eq!(row(&csv, "age_band", "35-44")["customers"], "2");
    // Reruns are byte-identical.
    let again = penetration(&sb, &{
        let mut a = MARKET.to_vec();
        a.extend(["households", "--out", "again"]);
        a
    });
    assert_ok(&again);
    assert_eq!(csv, sb.read("again/penetration.csv"));
    assert_eq!(
        sb.read("out/penetration.json"),
        sb.read("again/penetration.json")
    );
}

#[test]
fn a_market_for_a_dimension_not_analysed_is_refused() {
    let sb = Sandbox::new(&FILES);
    let out = penetration(
        &sb,
        &[
            "--by",
            "age_band",
            "--market",
            "zip_households.csv",
            "--market-key",
            "zip_code",
            "--market-size",
            "households",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("add `zip_code` to `--by`"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("out").exists());
}

#[test]
fn penetration_needs_the_customers_and_a_known_column() {
    let sb = Sandbox::new(&FILES);
    let out = sb.run(&[
        "analyze",
        "penetration",
        "--transactions",
        "orders.csv",
        "--as-of",
        "2024-12-31",
        "--by",
        "zip_code",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--customers FILE"),
        "{}",
        stderr(&out)
    );
    let out = penetration(&sb, &["--by", "postcode"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no column `postcode`"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("`zip_code`"), "{}", stderr(&out));
}

#[test]
fn a_closed_pipe_stops_the_printout_quietly() {
    // `bullseye … | head`: the reader goes away before the table is printed.
    let sb = Sandbox::new(&FILES);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bullseye"))
        .args(COMMAND)
        .args(["--by", "zip_code"])
        .current_dir(sb.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
