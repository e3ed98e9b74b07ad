use super::*;

fn golden() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/readout/hillstrom_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("json")
}

/// Hillstrom's "Mens E-Mail" arm as the target and "No E-Mail" as the control: a visit is a
/// response, spend its value.
fn hillstrom_rows() -> Vec<ReadoutRow> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/notebooks-data/hillstrom.csv");
    let text = std::fs::read_to_string(path).expect("hillstrom.csv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            // The last fields: segment, visit, conversion, spend (history_segment may be quoted).
            let f: Vec<&str> = line.rsplitn(5, ',').collect();
            let group = match f[3] {
                "Mens E-Mail" => LedgerGroup::Target,
                "No E-Mail" => LedgerGroup::Control,
                _ => return None,
            };
            Some(ReadoutRow {
                group,
                score: None,
                segment: None,
                cost: 0.0,
                responded: f[2] == "1",
                value: f[0].parse().expect("spend"),
            })
        })
        .collect()
}

fn close(actual: f64, expected: &serde_json::Value, tol: f64) {
    let e = expected.as_f64().expect("number");
    assert!((actual - e).abs() <= tol, "{actual} vs {e}");
}

/// The reference of issue 20: the arm figures exactly, the intervals equal to statsmodels' to
/// 1e-6. The expected values were computed once with statsmodels 0.15
/// (`confint_proportions_2indep(method="newcomb")`, `CompareMeans.tconfint_diff(usevar=
/// "unequal")`) by tests/fixtures/readout/hillstrom_golden.py and committed as golden numbers.
#[test]
fn hillstrom_readout_matches_statsmodels() {
    let g = golden();
    let rows = hillstrom_rows();
    let all: Vec<&ReadoutRow> = rows.iter().collect();
    let c = compare_groups(&all, LedgerGroup::Target, LedgerGroup::Control);
    assert_eq!(c.target.customers, 21_307);
    assert_eq!(c.control.customers, 21_306);
    assert_eq!(
        c.target.responders,
        g["target"]["responders"].as_u64().unwrap()
    );
    assert_eq!(
        format!("{:.6}", c.target.response_rate.unwrap()),
        "0.182757"
    );
    assert_eq!(
        format!("{:.6}", c.control.response_rate.unwrap()),
        "0.106167"
    );
    assert_eq!(
        format!("{:.6}", c.target.revenue_per_customer.unwrap()),
        "1.422617"
    );
    assert_eq!(
        format!("{:.6}", c.control.revenue_per_customer.unwrap()),
        "0.652789"
    );
    let rate = c.incremental_response_rate.unwrap();
    close(rate.estimate, &g["rate"]["estimate"], 1e-12);
    close(rate.low, &g["rate"]["low"], 1e-6);
    close(rate.high, &g["rate"]["high"], 1e-6);
    let spend = c.incremental_revenue_per_customer.unwrap();
    assert_eq!(format!("{:.6}", spend.estimate), "0.769827");
    close(spend.low, &g["spend"]["low"], 1e-6);
    close(spend.high, &g["spend"]["high"], 1e-6);
    close(c.revenue_p_value.unwrap(), &g["spend"]["p_value"], 1e-9);
    let p = c.response_p_value.unwrap();
    let gp = g["rate"]["p_value"].as_f64().unwrap();
    assert!((p / gp - 1.0).abs() < 1e-4, "{p} vs {gp}");
}

fn row(group: LedgerGroup, score: f64, responded: bool) -> ReadoutRow {
    ReadoutRow {
        group,
        score: Some(score),
        segment: Some(if score > 0.5 { "high" } else { "low" }.into()),
        cost: if group == LedgerGroup::Target {
            2.0
        } else {
            0.0
        },
        responded,
        value: if responded { 30.0 } else { 0.0 },
    }
}

#[test]
fn the_window_profit_roi_and_slices_follow_from_the_rows() {
    let mut rows = Vec::new();
    for i in 0..200 {
        let s = f64::from(i) / 200.0;
        rows.push(row(LedgerGroup::Target, s, i % 4 == 0));
        if i % 4 == 1 {
            rows.push(row(LedgerGroup::Control, s, i % 8 == 1));
        }
    }
    let send = Send {
        campaign: "spring".into(),
        send_date: "2026-01-05".parse().unwrap(),
        response_window_days: 14,
        control_fraction: 0.2,
    };
    let open = readout(
        &send,
        &rows,
        "2026-01-18".parse().unwrap(),
        LedgerGroup::Control,
    );
    assert!(open.window_open);
    assert_eq!(open.window_closes, "2026-01-19");
    let closed = readout(
        &send,
        &rows,
        "2026-01-19".parse().unwrap(),
        LedgerGroup::Control,
    );
    assert!(!closed.window_open);
    let o = &closed.overall;
    assert_eq!(o.contact_cost, 400.0);
    let rev = o.incremental_revenue.unwrap();
    let profit = o.incremental_profit.unwrap();
    assert!((profit.estimate - (rev.estimate - 400.0)).abs() < 1e-9);
    assert!((o.roi.unwrap().low - profit.low / 400.0).abs() < 1e-12);
    assert_eq!(closed.by_decile.len(), 10);
    assert_eq!(closed.by_decile[0].label, "1");
    assert_eq!(
        closed
            .by_segment
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>(),
        ["high", "low"]
    );
    // 50 of 250 in control, 20% planned: no mismatch.
    let srm = closed.sample_ratio.unwrap();
    assert!(!srm.mismatch, "{srm:?}");
}
