//! The top of the report, for the planner who reads it first: a banner when the run published
//! nothing, what was decided per campaign (and where the files are), and the warnings that
//! matter before anyone uses the audiences. The rules deciding what is worth a warning live
//! here; the builder calls them as the sections arrive.

use super::format::{esc, int, money, num, pct};
use super::model::*;
use crate::models::guard::auc_shortfall;

/// A warning when the model's holdout does not show it better than random: a classifier whose
/// AUC is not above 0.5 by more than twice its standard error, an uplift model whose Qini
/// coefficient is not positive.
pub fn weak_model(m: &ModelSection) -> Option<ReportWarning> {
    let message = match &m.metrics {
        Some(metrics) => {
            let auc = metrics.auc?;
            let margin = auc_shortfall(auc, metrics.holdout_rows, metrics.base_rate)?;
            format!(
                "Model \"{}\": holdout AUC {auc:.3} is not better than random (0.5 ± {margin:.3}); its \
                 scores rank customers no better than chance: retrain it or do not use it.",
                m.name
            )
        }
        None => {
            let qini = m.qini_coefficient?;
            if qini > 0.0 {
                return None;
            }
            format!(
                "Model \"{}\": Qini coefficient {qini:.4} is not positive: targeting by its uplift \
                 does no better than random; retrain it or do not use it.",
                m.name
            )
        }
    };
    Some(ReportWarning {
        kind: WarningKind::WeakModel,
        message,
    })
}

/// A warning when a checked input or the score moved past the job's threshold.
pub fn drift(d: &DriftSection) -> Option<ReportWarning> {
    let (limit, max) = (d.fail_above?, d.max_checked_psi?);
    if max <= limit {
        return None;
    }
    let over: Vec<&str> = d
        .features
        .iter()
        .filter(|f| !f.excluded && f.psi.is_some_and(|p| p > limit))
        .map(|f| f.name.as_str())
        .collect();
    let score = if d.score_psi.is_some_and(|p| p > limit) {
        "the score and "
    } else {
        ""
    };
    Some(ReportWarning {
        kind: WarningKind::Drift,
        message: format!(
            "Drift in model \"{}\": {score}{} input(s) moved past PSI {limit} (largest {max:.2}){}: \
             today's customers no longer look like the training data; check the inputs and \
             retrain before trusting its scores.",
            d.model,
            int(over.len()),
            examples(&over)
        ),
    })
}

/// A warning when rows of an input were rejected.
pub fn rejects(table: &str, rows_in: usize, rejected: usize, file: &str) -> Option<ReportWarning> {
    if rejected == 0 {
        return None;
    }
    Some(ReportWarning {
        kind: WarningKind::Rejects,
        message: format!(
            "{} of {} rows of the {table} table were rejected ({}) and left out of everything: the \
             reasons are in {file}.",
            int(rejected),
            int(rows_in),
            pct(rejected as f64 / rows_in.max(1) as f64)
        ),
    })
}

fn examples(names: &[&str]) -> String {
    const SHOWN: usize = 3;
    if names.is_empty() {
        return String::new();
    }
    let head = names[..names.len().min(SHOWN)].join(", ");
    let more = if names.len() > SHOWN { ", …" } else { "" };
    format!(" ({head}{more})")
}

/// ` (USD)` for a money column or axis, nothing when the report names no currency.
pub fn unit(currency: Option<&str>) -> String {
    currency.map(|c| format!(" ({c})")).unwrap_or_default()
}

/// An amount in prose: `1,385.70 USD`, or `1,385.70` when the report names no currency.
pub fn amount(currency: Option<&str>, x: f64) -> String {
    match currency {
        Some(c) => format!("{} {c}", money(x)),
        None => money(x),
    }
}

/// The banner, the decisions and the warnings, in that order; empty for a report with none.
pub fn html(r: &Report) -> String {
    let mut out = String::new();
    if let Some(f) = &r.failure {
        let stage = f
            .stage
            .as_deref()
            .map(|s| format!(" in stage <code>{}</code>", esc(s)))
            .unwrap_or_default();
        out.push_str(&format!(
            "<div class=\"banner\" role=\"alert\"><b>No audience was published.</b> The run \
             failed{stage} (exit status {}): {}<br>This folder holds what the run had done when it \
             stopped; the last complete run's outputs are untouched.</div>\n",
            f.exit_status,
            esc(&f.reason)
        ));
    }
    if !r.campaigns.is_empty() {
        out.push_str(&decided(r));
    }
    if !r.warnings.is_empty() {
        out.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
        for w in &r.warnings {
            out.push_str(&format!("<li>{}</li>\n", esc(&w.message)));
        }
        out.push_str("</ul>\n</section>\n");
    }
    out
}

fn decided(r: &Report) -> String {
    let currency = r.header.currency.as_deref();
    let unit = unit(currency);
    let mut out = String::from("<section id=\"decided\">\n<h2>What was decided</h2>\n");
    let (mut contacted, mut spent, mut profit) = (0, 0.0, 0.0);
    for c in &r.campaigns {
        contacted += c.target_size;
        spent += c.spent;
        profit += c.expected_profit;
    }
    out.push_str(&format!(
        "<p>{} campaign(s): <b>{}</b> customers to contact for <b>{}</b>, expected profit \
         <b>{}</b>.{}</p>\n",
        int(r.campaigns.len()),
        int(contacted),
        amount(currency, spent),
        amount(currency, profit),
        plan_line(r)
    ));
    let head = [
        "campaign".to_string(),
        "target".to_string(),
        "control".to_string(),
        format!("spent / budget{unit}"),
        "expected responders".to_string(),
        format!("expected revenue{unit}"),
        "ROI".to_string(),
        "audience file".to_string(),
    ];
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for h in &head {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for c in &r.campaigns {
        let file = match &c.audience_file {
            Some(f) => format!(
                "<a href=\"{0}\"><code class=\"path\">{0}</code></a>",
                esc(f)
            ),
            None => "–".to_string(),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td class=\"text\">{file}</td></tr>\n",
            esc(&c.campaign),
            int(c.target_size),
            int(c.control_size),
            money(c.spent),
            money(c.budget),
            num(Some(c.expected_responders), 1),
            money(c.expected_revenue),
            c.roi.map(pct).unwrap_or_else(|| "–".into()),
        ));
    }
    out.push_str("</tbody></table></div>\n");
    out.push_str(
        "<p class=\"note\">Send to the <code>target</code> rows only: the <code>control</code> \
         rows are held out to measure what the campaign earns (the audience file's \
         <code>group</code> column).</p>\n</section>\n",
    );
    out
}

fn plan_line(r: &Report) -> String {
    let Some(p) = &r.plan else {
        return String::new();
    };
    let s = &p.summary;
    format!(
        " Planned jointly: {} customers contacted, {} more than once.",
        int(s.customers_contacted),
        int(s.contacted_more_than_once)
    )
}
