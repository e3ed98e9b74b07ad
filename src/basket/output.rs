//! The basket outputs: `itemsets.csv`, `rules.csv` and `basket.json`, each written atomically,
//! and the top rules as a person reads them.

use std::path::Path;

use polars::prelude::*;
use serde_json::{json, Value};

use super::Mined;
use crate::io::{self, IoError};

/// The files [`write_outputs`] writes into its folder.
pub const OUTPUT_FILES: [&str; 3] = ["itemsets.csv", "rules.csv", "basket.json"];

/// `itemset, length, count, support`, one row per frequent itemset.
pub fn itemsets_frame(mined: &Mined) -> PolarsResult<DataFrame> {
    let sets = &mined.itemsets;
    let n = mined.baskets as f64;
    df!(
        "itemset" => sets.iter().map(|s| mined.label(&s.items)).collect::<Vec<_>>(),
        "length" => sets.iter().map(|s| s.items.len() as u32).collect::<Vec<_>>(),
        "count" => sets.iter().map(|s| s.count).collect::<Vec<_>>(),
        "support" => sets.iter().map(|s| s.count as f64 / n).collect::<Vec<_>>(),
    )
}

/// One row per rule: both sides, their counts and the metrics (and the p-values when tested).
pub fn rules_frame(mined: &Mined) -> PolarsResult<DataFrame> {
    let r = &mined.rules;
    let metric = |f: fn(&super::Rule) -> f64| r.iter().map(f).collect::<Vec<f64>>();
    let mut frame = df!(
        "antecedent" => r.iter().map(|x| mined.label(&x.antecedent)).collect::<Vec<_>>(),
        "consequent" => r.iter().map(|x| mined.label(&x.consequent)).collect::<Vec<_>>(),
        "antecedent_count" => r.iter().map(|x| x.antecedent_count).collect::<Vec<_>>(),
        "consequent_count" => r.iter().map(|x| x.consequent_count).collect::<Vec<_>>(),
        "count" => r.iter().map(|x| x.count).collect::<Vec<_>>(),
        "antecedent_support" => metric(super::Rule::antecedent_support),
        "consequent_support" => metric(super::Rule::consequent_support),
        "support" => metric(super::Rule::support),
        "confidence" => metric(super::Rule::confidence),
        "lift" => metric(super::Rule::lift),
        "leverage" => metric(super::Rule::leverage),
        "conviction" => metric(super::Rule::conviction),
    )?;
    if mined.params.significance.is_some() {
        let p = |f: fn(&super::Rule) -> Option<f64>| r.iter().map(f).collect::<Vec<_>>();
        frame.with_column(Column::new("p_value".into(), p(|x| x.p_value)))?;
        frame.with_column(Column::new("p_adjusted".into(), p(|x| x.p_adjusted)))?;
    }
    Ok(frame)
}

/// `basket.json`: the parameters, the counts and the strongest rules.
pub fn summary_json(mined: &Mined, top: usize) -> Value {
    let p = &mined.params;
    let by_length: serde_json::Map<String, Value> = mined
        .itemsets_by_length()
        .into_iter()
        .map(|(len, n)| (len.to_string(), json!(n)))
        .collect();
    let top_rules: Vec<Value> = mined
        .rules
        .iter()
        .take(top)
        .map(|r| {
            json!({
                "antecedent": mined.label(&r.antecedent),
                "consequent": mined.label(&r.consequent),
                "count": r.count,
                "support": r.support(),
                "confidence": r.confidence(),
                "lift": r.lift(),
            })
        })
        .collect();
    json!({
        "baskets": mined.baskets,
        "items": mined.items.len(),
        "parameters": {
            "min_support": p.min_support.to_string(),
            "min_confidence": p.min_confidence.to_string(),
            "min_lift": p.min_lift.to_string(),
            "max_len": p.max_len,
            "max_consequent": p.max_consequent,
            "max_rules": p.max_rules,
            "significance": p.significance,
            "correction": p.significance.map(|_| p.correction.name()),
        },
        "itemsets": mined.itemsets.len(),
        "itemsets_by_length": by_length,
        "rules": mined.rules.len(),
        "rules_before_significance_and_max_rules": mined.rules_considered,
        "top_rules": top_rules,
    })
}

/// Writes the three outputs into `dir` (each atomically); `extra` fields are added to
/// `basket.json` (the affinity holdout).
pub fn write_outputs(
    dir: &Path,
    mined: &Mined,
    extra: Option<(&str, Value)>,
) -> Result<(), IoError> {
    let encode = |path: &Path| {
        let path = path.to_path_buf();
        move |source| IoError::Encode { path, source }
    };
    let path = dir.join(OUTPUT_FILES[0]);
    io::write_table(&path, &mut itemsets_frame(mined).map_err(encode(&path))?)?;
    let path = dir.join(OUTPUT_FILES[1]);
    io::write_table(&path, &mut rules_frame(mined).map_err(encode(&path))?)?;
    let mut summary = summary_json(mined, 10);
    if let (Some((key, value)), Some(map)) = (extra, summary.as_object_mut()) {
        map.insert(key.to_string(), value);
    }
    io::write_json_atomic(&dir.join(OUTPUT_FILES[2]), &summary)
}

/// The strongest `top` rules, one a line, for the terminal.
pub fn render_top_rules(mined: &Mined, top: usize) -> String {
    let mut out = format!(
        "{} baskets, {} items: {} frequent itemsets, {} rules\n",
        mined.baskets,
        mined.items.len(),
        mined.itemsets.len(),
        mined.rules.len()
    );
    for r in mined.rules.iter().take(top) {
        out.push_str(&format!(
            "  {} => {}  support {:.6}  confidence {:.4}  lift {:.4}\n",
            mined.label(&r.antecedent),
            mined.label(&r.consequent),
            r.support(),
            r.confidence(),
            r.lift()
        ));
    }
    out
}
