//! The report's files: `report.json` (the numbers) and `report.html` (the page), both written
//! atomically through `crate::io`.

use std::path::{Path, PathBuf};

use super::error::ReportError;
use super::html::render_html;
use super::model::{Report, REPORT_SCHEMA_VERSION};
use crate::io;

/// File name of the machine-readable report in a run folder.
pub const REPORT_JSON: &str = "report.json";
/// File name of the HTML report in a run folder.
pub const REPORT_HTML: &str = "report.html";

/// Writes `dir/report.json` and `dir/report.html`; returns their paths (json, html).
pub fn write_report(dir: &Path, report: &Report) -> Result<(PathBuf, PathBuf), ReportError> {
    let html = render_html(report)?;
    let json_path = dir.join(REPORT_JSON);
    let html_path = dir.join(REPORT_HTML);
    io::write_json_atomic(&json_path, report)?;
    io::write_string_atomic(&html_path, &html)?;
    Ok((json_path, html_path))
}

/// Reads a `report.json`, checking its schema version.
pub fn read_report(path: &Path) -> Result<Report, ReportError> {
    let report: Report = io::read_json(path)?;
    if report.schema_version != REPORT_SCHEMA_VERSION {
        return Err(ReportError::Schema {
            path: path.display().to_string(),
            expected: REPORT_SCHEMA_VERSION,
            found: report.schema_version,
        });
    }
    Ok(report)
}

/// Re-renders the HTML of a run from `run_dir/report.json` into `out` (default
/// `run_dir/report.html`); returns the path written.
pub fn rerender(run_dir: &Path, out: Option<&Path>) -> Result<PathBuf, ReportError> {
    let report = read_report(&run_dir.join(REPORT_JSON))?;
    let html = render_html(&report)?;
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run_dir.join(REPORT_HTML));
    io::write_string_atomic(&out, &html)?;
    Ok(out)
}
