//! `render_html`: one self-contained page (inline CSS and SVG, no script, no external resource).

use std::collections::BTreeSet;

use super::charts;
use super::error::ReportError;
use super::format::{compact, esc, int, money, num, pct, slug};
use super::model::*;

/// Drift table rows shown before the rest is folded away.
const DRIFT_ROWS_SHOWN: usize = 10;

/// Every chart kind, as the `data-chart` attribute of its `<figure>`.
pub const CHART_KINDS: [&str; 15] = [
    "pareto",
    "rfm-segments",
    "rf-heatmap",
    "cluster-profiles",
    "gains",
    "lift",
    "calibration",
    "clv-histogram",
    "p-alive",
    "profit-curve",
    "drift",
    "item-affinity",
    "plan-campaigns",
    "penetration",
    "whale-curve",
];

const CSS: &str = "\
body{font-family:sans-serif;margin:0 auto;max-width:980px;padding:0 16px 48px;color:#222;line-height:1.45}\
header{border-bottom:2px solid #1f77b4;margin-bottom:8px;padding:8px 0}\
h1{margin:16px 0 4px;font-size:28px}h2{margin-top:40px;border-bottom:1px solid #ddd;padding-bottom:4px}\
h3{margin:24px 0 8px}.meta{color:#555;margin:0}\
nav{display:flex;flex-wrap:wrap;gap:2px 12px}\
.scroll{overflow-x:auto;max-width:100%}.scroll table{margin-top:0}\
.banner{background:#fdecea;border:2px solid #d62728;padding:10px 14px;margin:16px 0;border-radius:4px}\
.warnings li{margin:4px 0}td.text{text-align:left}code.path{white-space:nowrap}details{margin:8px 0}summary{cursor:pointer;color:#1f4e79}\
figure{margin:12px 0;padding:0}figure svg{max-width:100%;height:auto;display:block}\
figcaption{color:#444;font-size:14px;margin-top:4px}\
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}\
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f4f6f8}\
.note{color:#666;font-size:14px}.bad{color:#d62728;font-weight:bold}";

/// The `id`s of the report's `<figure>`s, in page order: `chart-KIND` for single charts,
/// `chart-KIND-NAME` for the per-model and per-campaign ones (`NAME` slugged, made unique).
pub fn chart_ids(r: &Report) -> Vec<String> {
    plan(r).into_iter().map(|(id, _)| id).collect()
}

/// (figure id, chart kind) in page order.
fn plan(r: &Report) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let single = |kind: &'static str| (format!("chart-{kind}"), kind);
    if r.pareto.is_some() {
        out.push(single("pareto"));
    }
    if r.segments.is_some() {
        out.push(single("rfm-segments"));
    }
    if r.rf_heatmap.is_some() {
        out.push(single("rf-heatmap"));
    }
    if r.clusters.is_some() {
        out.push(single("cluster-profiles"));
    }
    let model_names = unique_slugs(r.models.iter().map(|m| m.name.as_str()));
    for (m, s) in r.models.iter().zip(&model_names) {
        if m.metrics.is_some() {
            for kind in ["gains", "lift", "calibration"] {
                out.push((format!("chart-{kind}-{s}"), kind));
            }
        }
    }
    if let Some(c) = &r.clv {
        out.push(single("clv-histogram"));
        if !c.p_alive_bins.is_empty() {
            out.push(single("p-alive"));
        }
    }
    let campaign_names = unique_slugs(r.campaigns.iter().map(|c| c.name.as_str()));
    for s in &campaign_names {
        out.push((format!("chart-profit-curve-{s}"), "profit-curve"));
    }
    let drift_names = unique_slugs(r.drift.iter().map(|d| d.model.as_str()));
    for s in &drift_names {
        out.push((format!("chart-drift-{s}"), "drift"));
    }
    if r.bought_together.is_some() {
        out.push(single("item-affinity"));
    }
    if r.plan.is_some() {
        out.push(single("plan-campaigns"));
    }
    if let Some(pen) = &r.penetration {
        let names = unique_slugs(pen.tables.iter().map(|t| t.dimension.as_str()));
        for s in &names {
            out.push((format!("chart-penetration-{s}"), "penetration"));
        }
    }
    if r.profit.is_some() {
        out.push(single("whale-curve"));
    }
    out
}

fn unique_slugs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .map(|n| {
            let base = slug(n);
            let mut s = base.clone();
            let mut i = 2;
            while !seen.insert(s.clone()) {
                s = format!("{base}-{i}");
                i += 1;
            }
            s
        })
        .collect()
}

struct Page {
    html: String,
}

impl Page {
    fn push(&mut self, s: &str) {
        self.html.push_str(s);
    }

    fn figure(&mut self, id: &str, kind: &str, extra: &str, svg: &str, caption: &str) {
        self.push(&format!(
            "<figure id=\"{}\" data-chart=\"{kind}\"{extra}>\n",
            esc(id)
        ));
        // plotters writes an XML-style SVG; inline it as is, minus any XML declaration.
        let body = svg.trim();
        let body = match body.find("<svg") {
            Some(i) => &body[i..],
            None => body,
        };
        self.push(body);
        self.push(&format!(
            "\n<figcaption>{caption}</figcaption>\n</figure>\n"
        ));
    }

    /// A table inside a box that scrolls sideways on a narrow screen, so the page never does.
    fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        self.push("<div class=\"scroll\"><table><thead><tr>");
        for h in head {
            self.push(&format!("<th>{}</th>", esc(h)));
        }
        self.push("</tr></thead><tbody>\n");
        for row in rows {
            self.push("<tr>");
            for c in row {
                self.push(&format!("<td>{}</td>", esc(c)));
            }
            self.push("</tr>\n");
        }
        self.push("</tbody></table></div>\n");
    }

    /// The first `shown` rows as a table, the rest folded under "all N rows".
    fn folded_table(&mut self, head: &[&str], rows: &[Vec<String>], shown: usize) {
        if rows.len() <= shown + 2 {
            return self.table(head, rows);
        }
        self.table(head, &rows[..shown]);
        self.push(&format!(
            "<details><summary>all {} rows</summary>\n",
            int(rows.len())
        ));
        self.table(head, rows);
        self.push("</details>\n");
    }
}

/// The whole report as one HTML page. Deterministic: the same report gives the same bytes.
pub fn render_html(r: &Report) -> Result<String, ReportError> {
    let ids = plan(r);
    let mut ids = ids.iter().map(|(id, _)| id.clone());
    let mut next_id = || ids.next().unwrap_or_default();
    let h = &r.header;
    let mut p = Page {
        html: String::with_capacity(256 * 1024),
    };
    p.push("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    p.push("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    p.push(&format!(
        "<meta name=\"generator\" content=\"bullseye {}\">\n<title>{} — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&h.bullseye_version),
        esc(&h.title),
        esc(&h.as_of)
    ));
    header(&mut p, r);
    let currency = h.currency.as_deref();
    let unit = super::decisions::unit(currency);
    let revenue_head = format!("revenue{unit}");

    if let Some(s) = &r.pareto {
        p.push("<section id=\"pareto\">\n<h2>Revenue concentration (Pareto)</h2>\n");
        let cap = match s.share_for_80pct {
            Some(x) => format!(
                "Customers ranked by revenue, most valuable first: the curve shows what share of \
                 revenue the top x % of customers bring. The marked point: <b>{}</b> of customers \
                 bring 80 % of revenue (the 80/20 rule would put it at 20 %). The grey diagonal \
                 is an even spread.",
                pct(x)
            ),
            None => "Nobody has positive revenue, so there is no concentration to show.".into(),
        };
        p.figure(&next_id(), "pareto", "", &charts::pareto(s)?, &cap);
        p.push(&format!(
            "<p>{} customers, revenue {} (positive part of <code>monetary_total</code>).</p>\n",
            int(s.customers),
            money(s.total_revenue)
        ));
        let rows: Vec<Vec<String>> = s
            .top
            .iter()
            .map(|t| {
                vec![
                    format!("top {}%", compact(t.top_customers_pct)),
                    int(t.customers),
                    pct(t.revenue_share),
                ]
            })
            .collect();
        p.table(&["customers", "count", "share of revenue"], &rows);
        p.push("<h3>Value tiers</h3>\n");
        p.table(
            &[
                "tier",
                "customers",
                "share",
                &revenue_head,
                "share of revenue",
            ],
            &group_rows(&s.tiers),
        );
        p.push("</section>\n");
    }

    if let Some(s) = &r.segments {
        p.push("<section id=\"segments\">\n<h2>RFM segments</h2>\n");
        p.figure(
            &next_id(),
            "rfm-segments",
            "",
            &charts::group_bars("rfm-segments", &s.segments)?,
            "Each named segment's share of customers (blue) and of revenue (orange). A segment \
             whose orange bar is longer than its blue one brings more than its head count.",
        );
        p.table(
            &[
                "segment",
                "customers",
                "share",
                &revenue_head,
                "share of revenue",
            ],
            &group_rows(&s.segments),
        );
        p.push("</section>\n");
    }

    if let Some(hm) = &r.rf_heatmap {
        p.push("<section id=\"rf-heatmap\">\n<h2>Recency × frequency</h2>\n");
        p.figure(
            &next_id(),
            "rf-heatmap",
            "",
            &charts::rf_heatmap(hm)?,
            "Customers per recency score (rows, 5 = bought most recently) and frequency score \
             (columns, 5 = most orders); darker = more customers, with each cell's share of \
             revenue. Top right are the best customers, bottom right the valuable ones slipping \
             away.",
        );
        p.push("</section>\n");
    }

    if let Some(c) = &r.clusters {
        p.push("<section id=\"clusters\">\n<h2>Cluster profiles</h2>\n");
        let cap = format!(
            "One row per k-means cluster, one column per clustered feature. The number is the \
             cluster's mean in original units; the colour is the centroid in the clustering's \
             scale ({}): red above the average customer, blue below.",
            esc(&c.transform)
        );
        p.figure(
            &next_id(),
            "cluster-profiles",
            "",
            &charts::cluster_profiles(c)?,
            &cap,
        );
        let mut head = vec!["cluster", "customers", "share", "share of revenue"];
        head.extend(c.columns.iter().map(String::as_str));
        let rows: Vec<Vec<String>> = c
            .clusters
            .iter()
            .map(|k| {
                let mut row = vec![
                    k.cluster.to_string(),
                    int(k.customers),
                    pct(k.customer_share),
                    pct(k.revenue_share),
                ];
                row.extend(k.means.iter().map(|m| num(Some(*m), 2)));
                row
            })
            .collect();
        p.table(&head, &rows);
        p.push("</section>\n");
    }

    if !r.models.is_empty() {
        p.push("<section id=\"models\">\n<h2>Models</h2>\n");
        for m in &r.models {
            model_section(&mut p, m, &mut next_id)?;
        }
        p.push("</section>\n");
    }

    if let Some(c) = &r.clv {
        p.push("<section id=\"clv\">\n<h2>Customer lifetime value</h2>\n");
        p.figure(
            &next_id(),
            "clv-histogram",
            "",
            &charts::clv_histogram(c, &unit)?,
            &format!(
                "Customers by predicted CLV (BG/NBD + Gamma-Gamma), in {} equal bins up to the \
                 99th percentile ({}); the orange bar holds the {} customers above it. The green \
                 line is the median.",
                c.bins.len(),
                money(c.p99),
                int(c.overflow)
            ),
        );
        if !c.p_alive_bins.is_empty() {
            p.figure(
                &next_id(),
                "p-alive",
                "",
                &charts::p_alive(c)?,
                "Customers by the probability that they are still active (P(alive)); a pile \
                 near 0 is a lapsed base, near 1 an active one.",
            );
        }
        p.table(
            &[
                "customers",
                "without CLV",
                "mean",
                "median",
                "p90",
                "p99",
                "total",
                "mean P(alive)",
            ],
            &[vec![
                int(c.customers),
                int(c.missing),
                money(c.mean),
                money(c.median),
                money(c.p90),
                money(c.p99),
                money(c.total),
                num(c.mean_p_alive, 3),
            ]],
        );
        p.push("</section>\n");
    }

    if !r.campaigns.is_empty() {
        p.push("<section id=\"campaigns\">\n<h2>Campaigns</h2>\n");
        for c in &r.campaigns {
            campaign_section(&mut p, c, currency, &mut next_id)?;
        }
        p.push("</section>\n");
    }

    if !r.drift.is_empty() {
        p.push("<section id=\"drift\">\n<h2>Drift</h2>\n");
        for d in &r.drift {
            drift_section(&mut p, d, &mut next_id)?;
        }
        p.push("</section>\n");
    }

    if let Some(b) = &r.bought_together {
        bought_together_section(&mut p, b, &mut next_id);
    }

    p.push(&super::results::html(&r.campaign_results));
    if let Some(s) = &r.plan {
        plan_section(&mut p, s, &mut next_id);
    }
    if let Some(s) = &r.penetration {
        penetration_section(&mut p, s, &mut next_id);
    }
    if let Some(s) = &r.profit {
        profit_section(&mut p, s, &mut next_id);
    }
    p.push("</body>\n</html>\n");
    Ok(p.html)
}

fn group_rows(groups: &[GroupRow]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                int(g.customers),
                pct(g.customer_share),
                money(g.revenue),
                pct(g.revenue_share),
            ]
        })
        .collect()
}

fn header(p: &mut Page, r: &Report) {
    let h = &r.header;
    p.push("<header>\n");
    p.push(&format!("<h1>{}</h1>\n", esc(&h.title)));
    p.push(&format!(
        "<p class=\"meta\">as of <b>{}</b> · bullseye {}</p>\n",
        esc(&h.as_of),
        esc(&h.bullseye_version)
    ));
    let mut links = Vec::new();
    for (present, id, name) in [
        (!r.campaigns.is_empty(), "decided", "Decided"),
        (!r.warnings.is_empty(), "warnings", "Warnings"),
        (r.pareto.is_some(), "pareto", "Pareto"),
        (r.segments.is_some(), "segments", "Segments"),
        (r.rf_heatmap.is_some(), "rf-heatmap", "R×F"),
        (r.clusters.is_some(), "clusters", "Clusters"),
        (!r.models.is_empty(), "models", "Models"),
        (r.clv.is_some(), "clv", "CLV"),
        (!r.campaigns.is_empty(), "campaigns", "Campaigns"),
        (!r.drift.is_empty(), "drift", "Drift"),
        (
            !r.campaign_results.is_empty(),
            "campaign-results",
            "Campaign results",
        ),
        (r.penetration.is_some(), "penetration", "Penetration"),
        (r.profit.is_some(), "profit", "Profit"),
    ] {
        if present {
            links.push(format!("<a href=\"#{id}\">{name}</a>"));
        }
    }
    if !links.is_empty() {
        p.push(&format!("<nav>{}</nav>\n", links.join("")));
    }
    p.push("</header>\n");
    p.push(&super::decisions::html(r));
    if !r.stages.is_empty() {
        p.push("<details id=\"stages\"><summary>Rows per stage</summary>\n");
        let rows: Vec<Vec<String>> = r
            .stages
            .iter()
            .map(|s| vec![s.stage.clone(), int(s.rows)])
            .collect();
        p.table(&["stage", "rows"], &rows);
        p.push("</details>\n");
    }
    if !h.generated_from.is_empty() {
        p.push("<details><summary>Built from these files</summary>\n<ul>\n");
        for f in &h.generated_from {
            p.push(&format!("<li><code>{}</code></li>\n", esc(f)));
        }
        p.push("</ul>\n</details>\n");
    }
}

fn model_section(
    p: &mut Page,
    m: &ModelSection,
    next_id: &mut impl FnMut() -> String,
) -> Result<(), ReportError> {
    p.push(&format!(
        "<h3>{} <span class=\"note\">({} · {} · {})</span></h3>\n",
        esc(&m.name),
        esc(&m.kind),
        esc(&m.model_type),
        esc(&m.source)
    ));
    p.push(&format!(
        "<p>Label <code>{}</code>; {} training rows, {} positive; holdout <code>{}</code>.</p>\n",
        esc(&m.label),
        int(m.rows),
        int(m.positives),
        esc(&m.holdout)
    ));
    let attr = format!(" data-model=\"{}\"", esc(&m.name));
    let Some(metrics) = &m.metrics else {
        p.push(&format!(
            "<p class=\"note\">No classification metrics (uplift model; Qini coefficient {}).</p>\n",
            num(m.qini_coefficient, 4)
        ));
        return Ok(());
    };
    p.table(
        &[
            "holdout rows",
            "base rate",
            "AUC",
            "log loss",
            "Brier",
            "top-decile lift",
        ],
        &[vec![
            int(metrics.holdout_rows),
            pct(metrics.base_rate),
            num(metrics.auc, 4),
            num(metrics.log_loss, 4),
            num(metrics.brier, 4),
            num(metrics.top_decile_lift, 2),
        ]],
    );
    if !metrics.importance.is_empty() {
        p.push("<p>Permutation importance on the holdout: the drop in AUC when one input is shuffled.</p>\n");
        let rows: Vec<Vec<String>> = metrics
            .importance
            .iter()
            .map(|(name, drop)| vec![esc(name), num(Some(*drop), 4)])
            .collect();
        p.table(&["input", "AUC drop"], &rows);
    }
    let id = next_id();
    p.figure(
        &id,
        "gains",
        &attr,
        &charts::gains(&format!("gains-{}", m.name), metrics)?,
        "Cumulative gains on the holdout: contacting the top x % by score reaches y % of all \
         positives. The further above the grey diagonal (random targeting), the better.",
    );
    let id = next_id();
    p.figure(
        &id,
        "lift",
        &attr,
        &charts::lift(&format!("lift-{}", m.name), metrics)?,
        "Lift per score decile (bars) and cumulative lift (line): how many times the base rate \
         each decile responds. A good model falls from left to right and stays above 1 at the \
         top.",
    );
    let id = next_id();
    p.figure(
        &id,
        "calibration",
        &attr,
        &charts::calibration(&format!("calibration-{}", m.name), metrics)?,
        "Calibration: mean predicted probability against the observed rate, one point per \
         decile. Points on the diagonal mean the probabilities can be used as they are (e.g. in \
         expected profit).",
    );
    let rows: Vec<Vec<String>> = metrics
        .deciles
        .iter()
        .map(|d| {
            vec![
                d.decile.to_string(),
                int(d.rows),
                pct(d.mean_predicted),
                pct(d.observed_rate),
                pct(d.cumulative_gain),
                num(d.lift, 2),
                num(d.cumulative_lift, 2),
            ]
        })
        .collect();
    p.table(
        &[
            "decile",
            "rows",
            "mean predicted",
            "observed",
            "cumulative gain",
            "lift",
            "cumulative lift",
        ],
        &rows,
    );
    Ok(())
}

fn campaign_section(
    p: &mut Page,
    c: &CampaignSection,
    currency: Option<&str>,
    next_id: &mut impl FnMut() -> String,
) -> Result<(), ReportError> {
    use super::decisions::{amount, unit};
    let unit = unit(currency);
    p.push(&format!(
        "<h3>{} <span class=\"note\">(campaign {} · objective {})</span></h3>\n",
        esc(&c.name),
        esc(&c.campaign),
        esc(&c.objective)
    ));
    let id = next_id();
    let cut = match c.cutoff_depth {
        Some(d) => format!("the red line is the chosen cut-off at {} customers", int(d)),
        None => "no cut-off was marked".to_string(),
    };
    let budget = match charts::budget_line(c) {
        Some(b) => format!(
            "; the dashed orange line is the budget, {}: the money runs out where the cost \
             line crosses it (the control group costs nothing, so the cut-off can lie further)",
            amount(currency, b)
        ),
        None if c.budget.is_finite() => format!(
            "; the budget, {}, is far above what contacting every candidate costs",
            amount(currency, c.budget)
        ),
        None => String::new(),
    };
    p.figure(
        &id,
        "profit-curve",
        &format!(" data-campaign=\"{}\"", esc(&c.name)),
        &charts::profit_curve(&format!("profit-curve-{}", c.name), c, &unit)?,
        &format!(
            "Cumulative expected profit (blue) and cost (grey) as the audience grows, best \
             expected profit first; {cut}{budget}. Profit peaks where the next customer costs more than \
             they are expected to bring."
        ),
    );
    let money_head = |name: &str| format!("{name}{unit}");
    p.table(
        &[
            &money_head("budget"),
            &money_head("spent"),
            "candidates",
            "audience",
            "target",
            "control",
            "expected responders",
            &money_head("expected revenue"),
            &money_head("expected profit"),
            "ROI",
        ],
        &[vec![
            money(c.budget),
            money(c.spent),
            int(c.candidates),
            int(c.audience_size),
            int(c.target_size),
            int(c.control_size),
            num(Some(c.expected_responders), 1),
            money(c.expected_revenue),
            money(c.expected_profit),
            c.roi.map(pct).unwrap_or_else(|| "–".into()),
        ]],
    );
    let rows: Vec<Vec<String>> = c
        .exclusions
        .iter()
        .map(|e| vec![e.reason.clone(), int(e.count)])
        .collect();
    p.table(&["excluded because", "customers"], &rows);
    Ok(())
}

fn drift_section(
    p: &mut Page,
    d: &DriftSection,
    next_id: &mut impl FnMut() -> String,
) -> Result<(), ReportError> {
    p.push(&format!(
        "<h3>{} <span class=\"note\">({} rows scored)</span></h3>\n",
        esc(&d.model),
        int(d.rows)
    ));
    let over = match (d.fail_above, d.max_checked_psi) {
        (Some(f), Some(m)) if m > f => format!(
            " <span class=\"bad\">The largest checked PSI, {m:.4}, is above the job's threshold \
             {f}.</span>"
        ),
        (Some(f), _) => format!(" Every checked PSI is within the job's threshold {f}."),
        _ => String::new(),
    };
    let excluded: Vec<&str> = d
        .features
        .iter()
        .filter(|f| f.excluded)
        .map(|f| f.name.as_str())
        .collect();
    let excl = if excluded.is_empty() {
        String::new()
    } else {
        format!(
            " Grey bars are left out of the fail check: {}.",
            esc(&excluded.join(", "))
        )
    };
    let id = next_id();
    p.figure(
        &id,
        "drift",
        &format!(" data-model=\"{}\"", esc(&d.model)),
        &charts::drift(&format!("drift-{}", d.model), d)?,
        &format!(
            "Population stability index of each input and of the score, today against the \
             model's training data, largest first. Below 0.1 (green) no real change, 0.1–0.25 \
             (orange) a moderate shift, above 0.25 (red) a major one.{excl}{over}"
        ),
    );
    let rows: Vec<Vec<String>> = charts::drift_rows(d)
        .into_iter()
        .map(|(name, psi, excluded)| {
            vec![
                name,
                num(psi, 4),
                if excluded { "excluded" } else { "" }.to_string(),
            ]
        })
        .collect();
    p.folded_table(&["input", "PSI", "fail check"], &rows, DRIFT_ROWS_SHOWN);
    Ok(())
}

fn bought_together_section(
    p: &mut Page,
    b: &super::bought_together::BoughtTogetherSection,
    next_id: &mut impl FnMut() -> String,
) {
    use super::bought_together::{affinity_svg, rule_rows};
    p.push("<section id=\"bought-together\">\n<h2>Bought together</h2>\n");
    p.push(&format!(
        "<p class=\"note\">{} baskets, {} items: {} frequent itemsets, {} rules.</p>\n",
        int(b.baskets as usize),
        int(b.items),
        int(b.itemsets),
        int(b.rules)
    ));
    p.table(
        &["rule", "baskets", "support", "confidence", "lift"],
        &rule_rows(b),
    );
    p.figure(
        &next_id(),
        "item-affinity",
        "",
        &affinity_svg(b),
        "Lift of each pair among the items most often bought with others: above 1 (orange) \
         the pair is bought together more often than chance, below 1 (blue) less; blank cells \
         are pairs below the minimum support.",
    );
    p.push("</section>\n");
}

fn plan_section(p: &mut Page, s: &super::plan::PlanSection, next_id: &mut impl FnMut() -> String) {
    use super::plan::{campaign_rows, campaigns_svg, objective_rows, rule_rows};
    p.push("<section id=\"plan\">\n<h2>Plan</h2>\n");
    p.push(&format!(
        "<p class=\"note\">{} campaigns planned jointly: {} customers contacted, {} more than \
         once.</p>\n",
        int(s.summary.campaigns.len()),
        int(s.summary.customers_contacted),
        int(s.summary.contacted_more_than_once)
    ));
    p.figure(
        &next_id(),
        "plan-campaigns",
        "",
        &campaigns_svg(s),
        "Each campaign's volume (customers contacted, blue) and expected profit (green, red \
         for a loss), each scaled to its largest campaign.",
    );
    p.table(
        &[
            "campaign",
            "target",
            "control",
            "cost",
            "responders",
            "expected profit",
        ],
        &campaign_rows(s),
    );
    p.table(&["objective", "value"], &objective_rows(s));
    p.table(&["rule", "used / limit", "binding", "price"], &rule_rows(s));
    p.push("</section>\n");
}

fn penetration_section(
    p: &mut Page,
    s: &super::penetration::PenetrationSection,
    next_id: &mut impl FnMut() -> String,
) {
    use super::penetration::{callouts, group_head, group_rows, index_label, index_svg};
    p.push("<section id=\"penetration\">\n<h2>Penetration</h2>\n");
    for t in &s.tables {
        p.push(&format!(
            "<h3>By {}</h3>\n<p class=\"note\">{} customers, {} active buyers ({}).</p>\n",
            esc(&t.dimension),
            int(t.totals.customers as usize),
            int(t.totals.active_buyers as usize),
            t.totals
                .active_rate
                .map_or_else(|| "-".into(), |r| format!("{:.1}%", 100.0 * r))
        ));
        p.figure(
            &next_id(),
            "penetration",
            "",
            &index_svg(t),
            &format!(
                "{} of each group, highest first; the dashed line is the base (100). Green and \
                 red groups are called out; grey ones are within noise of the base.",
                esc(&index_label(t))
            ),
        );
        let head = group_head(t);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        p.table(&head, &group_rows(t));
        p.push(&format!("<p class=\"note\">{}</p>\n", callouts(t)));
    }
    p.push("</section>\n");
}

fn profit_section(
    p: &mut Page,
    s: &super::profit::ProfitSection,
    next_id: &mut impl FnMut() -> String,
) {
    use super::profit::{caption, reason_rows, tier_rows, whale_svg};
    let s = &s.summary;
    p.push("<section id=\"profit\">\n<h2>Profit</h2>\n");
    p.figure(&next_id(), "whale-curve", "", &whale_svg(s), &caption(s));
    p.push("<h3>Profit tiers</h3>\n");
    p.table(
        &["profit tier", "customers", "share", "net profit"],
        &tier_rows(s),
    );
    if !s.reasons.is_empty() {
        p.push("<h3>Why the unprofitable customers lose money</h3>\n");
        p.table(&["largest cost", "customers", "loss"], &reason_rows(s));
        p.push("<p class=\"note\">Each unprofitable customer, with the reason, is in unprofitable.csv.</p>\n");
    }
    p.push("</section>\n");
}
