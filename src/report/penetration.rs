//! The "Penetration" section: per dimension of the job's `[analyze.penetration]`, a ranked bar
//! chart of each group's index against the base (100 = the base's rate) and the table of its
//! groups, the longest folded to the first rows.

use serde::{Deserialize, Serialize};

use super::format::{esc, int, money};
use crate::analyze::{GroupRow, PenetrationTable, OVER_INDEX, UNDER_INDEX};

/// Groups listed in a dimension's table; the rest are in `penetration.csv`.
pub const SHOWN_GROUPS: usize = 15;

/// The job's penetration tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenetrationSection {
    pub tables: Vec<PenetrationTable>,
}

/// What the index of a table's chart is.
pub fn index_label(t: &PenetrationTable) -> String {
    match &t.market_measure {
        Some(m) => format!("penetration index (customers per {m}, 100 = all markets)"),
        None => "active index (share of the group that buys, 100 = the base)".into(),
    }
}

/// Horizontal bars of every group's ranking index, highest first, with the base's 100 marked;
/// called-out groups in colour (green over, red under), groups without an index left out.
pub fn index_svg(t: &PenetrationTable) -> String {
    let mut rows: Vec<(&GroupRow, f64)> = t
        .groups
        .iter()
        .filter_map(|g| g.ranking_index().map(|i| (g, i)))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.group.cmp(&b.0.group)));
    let (row, left, bar) = (22usize, 200usize, 420usize);
    let (w, h) = (left + bar + 70, 40 + rows.len().max(1) * row);
    let top = rows.iter().map(|r| r.1).fold(200.0_f64, f64::max);
    let x = |v: f64| left + (bar as f64 * v / top).round() as usize;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    for (i, (g, v)) in rows.iter().enumerate() {
        let y = 26 + i * row;
        let fill = if t.over_penetrated.contains(&g.group) {
            "#2ca02c"
        } else if t.under_penetrated.contains(&g.group) {
            "#d62728"
        } else {
            "#9aa7b4"
        };
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n<rect x=\"{left}\" y=\"{y}\" width=\"{}\" height=\"16\" fill=\"{fill}\"/>\n<text x=\"{}\" y=\"{}\">{:.0}</text>\n",
            left - 6,
            y + 12,
            esc(&g.group),
            x(*v) - left,
            x(*v) + 4,
            y + 12,
            v
        ));
    }
    let base = x(100.0);
    out.push_str(&format!(
        "<line x1=\"{base}\" y1=\"20\" x2=\"{base}\" y2=\"{}\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>\n<text x=\"{base}\" y=\"14\" text-anchor=\"middle\">100</text>\n</svg>",
        h - 4
    ));
    out
}

/// The table rows of a dimension: at most [`SHOWN_GROUPS`].
pub fn group_rows(t: &PenetrationTable) -> Vec<Vec<String>> {
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or_else(|| "-".into(), f);
    t.groups
        .iter()
        .take(SHOWN_GROUPS)
        .map(|g| {
            let mut row = vec![
                if g.pooled_groups > 0 {
                    format!("{} ({} groups)", g.group, g.pooled_groups)
                } else {
                    g.group.clone()
                },
                int(g.customers as usize),
                int(g.active_buyers as usize),
                opt(g.active_rate, &|r| format!("{:.1}%", 100.0 * r)),
                opt(g.active_index, &|i| format!("{i:.0}")),
                opt(g.revenue_per_customer, &money),
                opt(g.revenue_index, &|i| format!("{i:.0}")),
            ];
            if t.market_measure.is_some() {
                row.push(opt(g.market_size, &|m| int(m.round() as usize)));
                row.push(opt(g.penetration, &|p| format!("{:.2}%", 100.0 * p)));
                row.push(opt(g.penetration_index, &|i| format!("{i:.0}")));
            }
            row
        })
        .collect()
}

/// The table's header, matching [`group_rows`].
pub fn group_head(t: &PenetrationTable) -> Vec<String> {
    let mut head: Vec<String> = [
        "group",
        "customers",
        "active buyers",
        "active rate",
        "active index",
        "revenue per customer",
        "revenue index",
    ]
    .map(String::from)
    .to_vec();
    if let Some(m) = &t.market_measure {
        head.extend([m.clone(), "penetration".into(), "penetration index".into()]);
    }
    head
}

/// The sentence under a table: what is called out, what is folded.
pub fn callouts(t: &PenetrationTable) -> String {
    let mut parts = Vec::new();
    if !t.under_penetrated.is_empty() {
        parts.push(format!(
            "Under-penetrated (index below {UNDER_INDEX:.0} and 1.96 standard errors below the base): {}.",
            esc(&t.under_penetrated.join(", "))
        ));
    }
    if !t.over_penetrated.is_empty() {
        parts.push(format!(
            "Over-penetrated (above {OVER_INDEX:.0}, 1.96 standard errors above): {}.",
            esc(&t.over_penetrated.join(", "))
        ));
    }
    if parts.is_empty() {
        parts.push("No group differs from the base by enough to call out.".into());
    }
    if t.groups.len() > SHOWN_GROUPS {
        parts.push(format!(
            "{} more groups in penetration.csv.",
            int(t.groups.len() - SHOWN_GROUPS)
        ));
    }
    parts.join(" ")
}
