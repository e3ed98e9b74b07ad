//! The run report: `report.json` (every number behind every chart) and one self-contained HTML
//! page with charts drawn by plotters as inline SVG.
//!
//! The stages hand their results to a [`ReportBuilder`] (`segments`, `model`, `clv`, `campaign`,
//! `drift`); [`ReportBuilder::build`] gives the owned, serializable [`Report`];
//! [`render_html`] draws it; [`write_report`] writes both files atomically and [`rerender`]
//! redraws the page from a saved `report.json` (`bullseye report`). The page has no script and
//! loads nothing: every chart is an inline `<svg>` inside a `<figure data-chart="KIND">`
//! ([`CHART_KINDS`]), with a caption saying how to read it and a table of the key numbers.
//! Output is deterministic: the same report gives the same bytes.

mod bought_together;
mod build;
mod charts;
mod decisions;
mod error;
mod files;
mod format;
mod html;
mod model;
mod penetration;
mod plan;
mod profit;
mod results;
mod stats;
#[cfg(test)]
mod tests;

pub use crate::models::report::wildcard_match;
pub use bought_together::{BoughtTogetherSection, RuleRow};
pub use build::{ReportBuilder, CLV_BINS, MONETARY_COLUMN, PARETO_POINTS};
pub use error::ReportError;
pub use files::{read_report, rerender, write_report, REPORT_HTML, REPORT_JSON};
pub use html::{chart_ids, render_html, CHART_KINDS};
pub use model::*;
pub use penetration::PenetrationSection;
pub use plan::PlanSection;
pub use profit::ProfitSection;
pub use results::CampaignResult;
