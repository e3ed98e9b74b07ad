//! The "Bought together" section: the strongest association rules and a small item-affinity
//! chart (the lift of every pair among the items most often bought with others).

use serde::{Deserialize, Serialize};

use super::format::{esc, num};
use crate::basket::Mined;

/// Rules listed in the section.
pub const TOP_RULES: usize = 10;
/// Items on each side of the affinity chart.
pub const AFFINITY_ITEMS: usize = 8;

/// One rule as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRow {
    pub antecedent: String,
    pub consequent: String,
    pub count: u64,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

/// Market-basket figures of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoughtTogetherSection {
    pub baskets: u64,
    pub items: usize,
    pub itemsets: usize,
    pub rules: usize,
    /// The strongest rules (by lift), at most [`TOP_RULES`].
    pub top_rules: Vec<RuleRow>,
    /// The items of the most frequent pairs, at most [`AFFINITY_ITEMS`], most frequent first.
    pub affinity_items: Vec<String>,
    /// `affinity_lift[i][j]`: lift of the pair (i, j); `None` on the diagonal and for pairs that
    /// are not frequent itemsets.
    pub affinity_lift: Vec<Vec<Option<f64>>>,
}

impl BoughtTogetherSection {
    pub fn from_mined(m: &Mined) -> BoughtTogetherSection {
        let top_rules = m
            .rules
            .iter()
            .take(TOP_RULES)
            .map(|r| RuleRow {
                antecedent: m.label(&r.antecedent),
                consequent: m.label(&r.consequent),
                count: r.count,
                support: r.support(),
                confidence: r.confidence(),
                lift: r.lift(),
            })
            .collect();
        let single: std::collections::HashMap<u32, u64> = m
            .itemsets
            .iter()
            .filter(|s| s.items.len() == 1)
            .map(|s| (s.items[0], s.count))
            .collect();
        let pairs: Vec<(u32, u32, u64)> = m
            .itemsets
            .iter()
            .filter(|s| s.items.len() == 2)
            .map(|s| (s.items[0], s.items[1], s.count))
            .collect();
        // Items by the baskets of their pairs (itemsets are sorted by descending count).
        let mut chosen: Vec<u32> = Vec::new();
        for (a, b, _) in &pairs {
            for item in [*a, *b] {
                if chosen.len() < AFFINITY_ITEMS && !chosen.contains(&item) {
                    chosen.push(item);
                }
            }
        }
        let n = m.baskets as f64;
        let lift = |a: u32, b: u32| -> Option<f64> {
            let (lo, hi) = (a.min(b), a.max(b));
            let both = pairs.iter().find(|p| p.0 == lo && p.1 == hi)?.2 as f64;
            Some(both * n / (*single.get(&a)? as f64 * *single.get(&b)? as f64))
        };
        let affinity_lift = chosen
            .iter()
            .map(|&a| {
                chosen
                    .iter()
                    .map(|&b| if a == b { None } else { lift(a, b) })
                    .collect()
            })
            .collect();
        BoughtTogetherSection {
            baskets: m.baskets,
            items: m.items.len(),
            itemsets: m.itemsets.len(),
            rules: m.rules.len(),
            top_rules,
            affinity_items: chosen
                .iter()
                .map(|&c| m.items[c as usize].clone())
                .collect(),
            affinity_lift,
        }
    }
}

/// The item-affinity chart: a grid of the pairs' lifts, orange above 1 (bought together more
/// than chance), blue below, blank where the pair is not frequent. Plain SVG: a grid of labelled
/// cells needs no plotting library, and stays deterministic.
pub fn affinity_svg(s: &BoughtTogetherSection) -> String {
    let (cell, left, top) = (56usize, 150usize, 150usize);
    let k = s.affinity_items.len();
    let (w, h) = (left + k * cell + 10, top + k * cell + 10);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    for (i, name) in s.affinity_items.iter().enumerate() {
        let y = top + i * cell + cell / 2 + 4;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\">{}</text>\n",
            left - 6,
            esc(name)
        ));
        let x = left + i * cell + cell / 2;
        out.push_str(&format!(
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"start\" transform=\"rotate(-45 {x} {})\">{}</text>\n",
            top - 6,
            top - 6,
            esc(name)
        ));
    }
    for (i, row) in s.affinity_lift.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let (x, y) = (left + j * cell, top + i * cell);
            let fill = match v {
                Some(l) if *l >= 1.0 => {
                    let t = ((l - 1.0) / 2.0).min(1.0);
                    shade((255, 245, 235), (230, 85, 13), t)
                }
                Some(l) => shade((240, 245, 255), (49, 130, 189), (1.0 - l).min(1.0)),
                None => "#ffffff".to_string(),
            };
            out.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{fill}\" stroke=\"#dddddd\"/>\n"
            ));
            if let Some(l) = v {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                    x + cell / 2,
                    y + cell / 2 + 4,
                    num(Some(*l), 2)
                ));
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn shade(a: (u8, u8, u8), b: (u8, u8, u8), t: f64) -> String {
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The rows of the top-rules table.
pub fn rule_rows(s: &BoughtTogetherSection) -> Vec<Vec<String>> {
    s.top_rules
        .iter()
        .map(|r| {
            vec![
                format!("{} ⇒ {}", r.antecedent, r.consequent),
                r.count.to_string(),
                num(Some(r.support), 4),
                num(Some(r.confidence), 3),
                num(Some(r.lift), 2),
            ]
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::basket::{mine, BasketParams, Baskets};
    use crate::report::{chart_ids, render_html, ReportBuilder};

    /// Tea and milk go together (lift 1.5), bread with neither.
    pub fn mined() -> Mined {
        let text = "tea,milk\ntea,milk,bread\nbread\nmilk,bread\ntea,milk\nbread\n";
        let params = BasketParams {
            min_support: "0.3".parse().unwrap(),
            min_confidence: "0.6".parse().unwrap(),
            ..BasketParams::default()
        };
        mine(
            &Baskets::from_text(text, &HashSet::new()),
            &params.check().unwrap(),
        )
    }

    #[test]
    fn the_section_lists_rules_and_pair_lifts() {
        let s = BoughtTogetherSection::from_mined(&mined());
        assert_eq!((s.baskets, s.items, s.rules), (6, 3, 2));
        assert_eq!(s.top_rules[0].antecedent, "{tea}");
        assert_eq!(s.top_rules[0].consequent, "{milk}");
        assert_eq!(s.affinity_items, ["tea", "milk", "bread"]);
        // tea & milk: 3 of 6 baskets, tea in 3, milk in 4 → lift 3·6 / (3·4) = 1.5.
        assert_eq!(s.affinity_lift[0][1], Some(1.5));
        assert_eq!(s.affinity_lift[1][0], Some(1.5));
        assert_eq!(s.affinity_lift[0][0], None);
        // tea & bread: 1 basket, below the support: blank.
        assert_eq!(s.affinity_lift[0][2], None);
    }

    #[test]
    fn the_page_shows_the_section_and_reports_without_it_keep_their_json() {
        let as_of = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        let plain = ReportBuilder::new("t", as_of).build();
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("bought_together"));
        let mut b = ReportBuilder::new("t", as_of);
        b.bought_together(&mined());
        let r = b.build();
        let html = render_html(&r).unwrap();
        assert!(html.contains("<h2>Bought together</h2>"));
        assert!(html.contains("{tea} ⇒ {milk}"));
        assert_eq!(chart_ids(&r), ["chart-item-affinity"]);
        let back: crate::report::Report =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
