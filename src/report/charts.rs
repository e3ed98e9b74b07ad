//! The charts, drawn by plotters into SVG strings (`SVGBackend::with_string`).
//!
//! Every chart is a pure function of its section: same numbers, same bytes. Text is emitted as
//! SVG `<text>` in the generic `sans-serif` family (plotters' `ttf` feature is off, so no font
//! file is read and none is needed to view the report).

use std::error::Error as StdError;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::ReportError;
use super::format::{compact, int};
use super::model::*;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn StdError>>;

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 20);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const GRAY: RGBColor = RGBColor(150, 150, 150);
const LIGHT: RGBColor = RGBColor(225, 225, 225);
const GRID: RGBColor = RGBColor(238, 238, 238);
const INK: RGBColor = RGBColor(40, 40, 40);

/// Where the drift chart's axis stops (unless the job's threshold is higher).
const PSI_CAP: f64 = 1.0;

/// Width of every chart, in SVG pixels (the page scales them down on narrow screens).
pub const WIDTH: u32 = 720;

/// Draws one chart into an SVG string; plotters' errors become [`ReportError::Chart`].
fn svg(
    chart: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<String, ReportError> {
    let mut out = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let r: DrawResult = (|| {
            root.fill(&WHITE)?;
            draw(&root)?;
            root.present()?;
            Ok(())
        })();
        r
    };
    result.map_err(|e| ReportError::Chart {
        chart: chart.to_string(),
        message: e.to_string(),
    })?;
    Ok(out)
}

/// One entry of a chart's key.
#[derive(Clone, Copy)]
enum Key<'a> {
    /// A line series.
    Line(&'a str, RGBColor),
    /// A bar series.
    Bar(&'a str, RGBColor),
}

/// Height of the strip above the plot that holds the key.
const KEY_STRIP: u32 = 30;

/// The key, drawn in a strip above the plot (charts with a key leave [`KEY_STRIP`] pixels
/// free at the top), so it can never cover data, whatever the data.
fn key(root: &Area, left: i32, entries: &[Key]) -> DrawResult {
    let y = 14;
    let mut x = left;
    for e in entries {
        let label = match *e {
            Key::Line(l, c) => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 18, y)],
                    c.stroke_width(2),
                ))?;
                l
            }
            Key::Bar(l, c) => {
                root.draw(&Rectangle::new(
                    [(x + 3, y - 6), (x + 15, y + 6)],
                    c.filled(),
                ))?;
                l
            }
        };
        root.draw(&Text::new(
            label.to_string(),
            (x + 24, y),
            anchored(12, &INK, HPos::Left, VPos::Center),
        ))?;
        // Text is not measured (no font file is read): 7 px per character at 12 px is generous.
        x += 24 + 7 * label.chars().count() as i32 + 20;
    }
    Ok(())
}

fn pct_label(v: &f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn style(size: i32, color: &RGBColor) -> TextStyle<'static> {
    let mut t = TextStyle::from((FONT, size).into_font());
    t.color = color.to_backend_color();
    t
}

fn anchored(size: i32, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    style(size, color).pos(Pos::new(h, v))
}

/// A label for integer positions `0..n` of a categorical axis, empty elsewhere.
fn category<'a>(names: &'a [String]) -> impl Fn(&f64) -> String + 'a {
    move |v: &f64| {
        let r = v.round();
        if (v - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < names.len() {
            names[r as usize].clone()
        } else {
            String::new()
        }
    }
}

fn integer_label(v: &f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-6 {
        format!("{r:.0}")
    } else {
        String::new()
    }
}

fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let c = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

fn label_width(names: &[String]) -> u32 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4) as u32;
    (longest * 7 + 16).clamp(40, 260)
}

/// Cumulative share of value against cumulative share of customers, with the 80/20 point.
pub fn pareto(p: &ParetoSection) -> Result<String, ReportError> {
    svg("pareto", (WIDTH, 420), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc("share of customers, most valuable first")
            .y_desc("share of revenue")
            .x_label_formatter(&pct_label)
            .y_label_formatter(&pct_label)
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], GRAY))?;
        chart.draw_series(LineSeries::new(
            p.curve.iter().map(|q| (q.customer_share, q.value_share)),
            BLUE.stroke_width(2),
        ))?;
        if let Some(s) = p.share_for_80pct {
            chart.draw_series(LineSeries::new([(s, 0.0), (s, 0.8), (0.0, 0.8)], ORANGE))?;
            chart.draw_series(std::iter::once(Circle::new((s, 0.8), 5, ORANGE.filled())))?;
            let text = format!("{:.1}% of customers bring 80% of revenue", s * 100.0);
            let (x, h) = if s < 0.5 {
                (s + 0.02, HPos::Left)
            } else {
                (s - 0.02, HPos::Right)
            };
            chart.draw_series(std::iter::once(Text::new(
                text,
                (x, 0.74),
                anchored(13, &INK, h, VPos::Center),
            )))?;
        }
        Ok(())
    })
}

/// Horizontal bar pairs: share of customers and share of revenue per named group.
pub fn group_bars(chart_id: &str, groups: &[GroupRow]) -> Result<String, ReportError> {
    let n = groups.len().max(1);
    // Top to bottom in the given order: position n − 1 − i.
    let names: Vec<String> = (0..n)
        .map(|pos| {
            groups
                .get(n - 1 - pos)
                .map(|g| g.name.clone())
                .unwrap_or_default()
        })
        .collect();
    let max = groups
        .iter()
        .map(|g| g.customer_share.max(g.revenue_share))
        .fold(0.0, f64::max)
        .max(0.05)
        * 1.12;
    let height = 90 + KEY_STRIP + 34 * n as u32;
    let label_area = label_width(&names);
    svg(chart_id, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_top(14 + KEY_STRIP)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0f64..max, -0.5f64..(n as f64 - 0.5))?;
        let label = category(&names);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .y_labels(n)
            .y_label_formatter(&label)
            .x_label_formatter(&pct_label)
            .x_desc("share of all customers / of all revenue")
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(groups.iter().enumerate().map(|(i, g)| {
            let y = (n - 1 - i) as f64;
            Rectangle::new(
                [(0.0, y + 0.02), (g.customer_share, y + 0.38)],
                BLUE.filled(),
            )
        }))?;
        chart.draw_series(groups.iter().enumerate().map(|(i, g)| {
            let y = (n - 1 - i) as f64;
            Rectangle::new(
                [(0.0, y - 0.38), (g.revenue_share, y - 0.02)],
                ORANGE.filled(),
            )
        }))?;
        key(
            root,
            14 + label_area as i32,
            &[Key::Bar("customers", BLUE), Key::Bar("revenue", ORANGE)],
        )?;
        Ok(())
    })
}

/// 5×5 grid of customers per (recency score, frequency score), shaded by count.
pub fn rf_heatmap(h: &RfHeatmap) -> Result<String, ReportError> {
    let max = h.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let total_rev: f64 = h.revenue.iter().flatten().sum();
    svg("rf-heatmap", (560, 480), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5f64..5.5f64, 0.5f64..5.5f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&integer_label)
            .y_label_formatter(&integer_label)
            .x_desc("frequency score F (5 = most orders)")
            .y_desc("recency score R (5 = most recent)")
            .label_style((FONT, 12))
            .draw()?;
        let low = RGBColor(240, 246, 252);
        let high = RGBColor(8, 69, 148);
        let mut cells = Vec::new();
        let mut texts = Vec::new();
        for (ri, row) in h.counts.iter().enumerate().take(5) {
            for (fi, &count) in row.iter().enumerate().take(5) {
                let (r, f) = ((ri + 1) as f64, (fi + 1) as f64);
                let t = count as f64 / max;
                cells.push(Rectangle::new(
                    [(f - 0.5, r - 0.5), (f + 0.5, r + 0.5)],
                    mix(low, high, t).filled(),
                ));
                let ink = if t > 0.55 { WHITE } else { INK };
                let rev = h
                    .revenue
                    .get(ri)
                    .and_then(|v| v.get(fi))
                    .copied()
                    .unwrap_or(0.0);
                let rev_share = if total_rev > 0.0 {
                    rev / total_rev
                } else {
                    0.0
                };
                texts.push(Text::new(
                    int(count),
                    (f, r + 0.12),
                    anchored(14, &ink, HPos::Center, VPos::Center),
                ));
                texts.push(Text::new(
                    format!("{:.1}% rev", rev_share * 100.0),
                    (f, r - 0.2),
                    anchored(11, &ink, HPos::Center, VPos::Center),
                ));
            }
        }
        chart.draw_series(cells)?;
        chart.draw_series(texts)?;
        Ok(())
    })
}

/// Clusters × clustered columns: colour = centroid (blue below average, red above), text = mean
/// in original units.
pub fn cluster_profiles(c: &ClustersSection) -> Result<String, ReportError> {
    let k = c.clusters.len().max(1);
    let d = c.columns.len().max(1);
    let rows: Vec<String> = (0..k)
        .map(|pos| {
            c.clusters
                .get(k - 1 - pos)
                .map(|r| format!("cluster {} ({:.0}%)", r.cluster, r.customer_share * 100.0))
                .unwrap_or_default()
        })
        .collect();
    let cols: Vec<String> = (0..d)
        .map(|j| c.columns.get(j).cloned().unwrap_or_default())
        .collect();
    let width = (label_width(&rows) + 40 + 130 * d as u32).max(420);
    let height = 100 + 44 * k as u32;
    svg("cluster-profiles", (width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(label_width(&rows))
            .build_cartesian_2d(-0.5f64..(d as f64 - 0.5), -0.5f64..(k as f64 - 0.5))?;
        let xl = category(&cols);
        let yl = category(&rows);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(d)
            .y_labels(k)
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .label_style((FONT, 12))
            .draw()?;
        let mut cells = Vec::new();
        let mut texts = Vec::new();
        for (i, row) in c.clusters.iter().enumerate() {
            let y = (k - 1 - i) as f64;
            for j in 0..c.columns.len() {
                let x = j as f64;
                let z = row.centroid.get(j).copied().unwrap_or(0.0);
                let t = (z.abs() / 2.0).min(1.0);
                let color = if z >= 0.0 {
                    mix(WHITE, RED, t * 0.85)
                } else {
                    mix(WHITE, BLUE, t * 0.85)
                };
                cells.push(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    color.filled(),
                ));
                cells.push(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    WHITE.stroke_width(2),
                ));
                let mean = row.means.get(j).copied().unwrap_or(0.0);
                let ink = if t > 0.6 { WHITE } else { INK };
                texts.push(Text::new(
                    compact(mean),
                    (x, y),
                    anchored(13, &ink, HPos::Center, VPos::Center),
                ));
            }
        }
        chart.draw_series(cells)?;
        chart.draw_series(texts)?;
        Ok(())
    })
}

/// Cumulative gain by share of holdout rows, best scores first, against random targeting.
pub fn gains(chart_id: &str, m: &ModelMetrics) -> Result<String, ReportError> {
    let total: usize = m.deciles.iter().map(|d| d.rows).sum::<usize>().max(1);
    let mut points = vec![(0.0, 0.0)];
    let mut rows = 0;
    for d in &m.deciles {
        rows += d.rows;
        points.push((rows as f64 / total as f64, d.cumulative_gain));
    }
    svg(chart_id, (WIDTH, 400 + KEY_STRIP), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_top(14 + KEY_STRIP)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc("share of holdout contacted, highest scores first")
            .y_desc("share of all positives captured")
            .x_label_formatter(&pct_label)
            .y_label_formatter(&pct_label)
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], GRAY))?;
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
        key(
            root,
            70,
            &[Key::Line("model", BLUE), Key::Line("random", GRAY)],
        )?;
        Ok(())
    })
}

/// Lift per decile (bars) and cumulative lift (line); 1 = no better than random.
pub fn lift(chart_id: &str, m: &ModelMetrics) -> Result<String, ReportError> {
    let max = m
        .deciles
        .iter()
        .flat_map(|d| [d.lift, d.cumulative_lift])
        .flatten()
        .fold(1.0, f64::max)
        * 1.12;
    svg(chart_id, (WIDTH, 380 + KEY_STRIP), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_top(14 + KEY_STRIP)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5f64..10.5f64, 0f64..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID)
            .x_labels(10)
            .x_label_formatter(&integer_label)
            .x_desc("score decile (1 = highest scores)")
            .y_desc("lift (observed rate / base rate)")
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(m.deciles.iter().map(|d| {
            let x = f64::from(d.decile);
            Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, d.lift.unwrap_or(0.0))],
                BLUE.mix(0.8).filled(),
            )
        }))?;
        let cum: Vec<(f64, f64)> = m
            .deciles
            .iter()
            .filter_map(|d| d.cumulative_lift.map(|l| (f64::from(d.decile), l)))
            .collect();
        chart.draw_series(LineSeries::new(cum.clone(), ORANGE.stroke_width(2)))?;
        chart.draw_series(cum.iter().map(|&p| Circle::new(p, 3, ORANGE.filled())))?;
        chart.draw_series(LineSeries::new([(0.5, 1.0), (10.5, 1.0)], GRAY))?;
        key(
            root,
            70,
            &[
                Key::Bar("lift", BLUE),
                Key::Line("cumulative lift", ORANGE),
                Key::Line("random (1)", GRAY),
            ],
        )?;
        Ok(())
    })
}

/// Mean predicted probability against the observed rate per decile; the diagonal is perfect.
pub fn calibration(chart_id: &str, m: &ModelMetrics) -> Result<String, ReportError> {
    let max = m
        .deciles
        .iter()
        .flat_map(|d| [d.mean_predicted, d.observed_rate])
        .fold(0.0, f64::max)
        .max(0.01)
        * 1.1;
    let max = max.min(1.0);
    let mut points: Vec<(f64, f64)> = m
        .deciles
        .iter()
        .map(|d| (d.mean_predicted, d.observed_rate))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    svg(chart_id, (520, 460), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..max, 0f64..max)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc("mean predicted probability (per decile)")
            .y_desc("observed rate")
            .x_label_formatter(&pct_label)
            .y_label_formatter(&pct_label)
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (max, max)], GRAY))?;
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))?;
        Ok(())
    })
}

/// Bars for equal-width bins, with an optional overflow bar (orange) to the right.
fn histogram(
    chart_id: &str,
    bins: &[Bin],
    overflow: Option<usize>,
    x_desc: &str,
    percent_x: bool,
    marker: Option<(f64, &str)>,
) -> Result<String, ReportError> {
    let lo = bins.first().map(|b| b.lo).unwrap_or(0.0);
    let mut hi = bins.last().map(|b| b.hi).unwrap_or(1.0);
    let width = bins.first().map(|b| b.hi - b.lo).unwrap_or(1.0);
    if overflow.is_some() {
        hi += width;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let max = bins
        .iter()
        .map(|b| b.count)
        .chain(overflow)
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.1;
    svg(chart_id, (WIDTH, 360), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0f64..max)?;
        let xf = |v: &f64| {
            if percent_x {
                pct_label(v)
            } else {
                compact(*v)
            }
        };
        let yf = |v: &f64| compact(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID)
            .x_desc(x_desc)
            .y_desc("customers")
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(bins.iter().map(|b| {
            let mut r = Rectangle::new([(b.lo, 0.0), (b.hi, b.count as f64)], BLUE.filled());
            r.set_margin(0, 0, 1, 1);
            r
        }))?;
        if let (Some(count), Some(last)) = (overflow, bins.last()) {
            let mut r = Rectangle::new(
                [(last.hi, 0.0), (last.hi + width, count as f64)],
                ORANGE.filled(),
            );
            r.set_margin(0, 0, 1, 1);
            chart.draw_series(std::iter::once(r))?;
        }
        if let Some((x, text)) = marker {
            if x >= lo && x <= hi {
                chart.draw_series(LineSeries::new(
                    [(x, 0.0), (x, max / 1.1)],
                    GREEN.stroke_width(2),
                ))?;
                chart.draw_series(std::iter::once(Text::new(
                    text.to_string(),
                    (x, max / 1.1),
                    anchored(12, &GREEN, HPos::Left, VPos::Bottom),
                )))?;
            }
        }
        Ok(())
    })
}

/// Histogram of predicted CLV up to the 99th percentile, the rest in one overflow bar.
pub fn clv_histogram(c: &ClvSection, unit: &str) -> Result<String, ReportError> {
    let median = format!(" median {}", compact(c.median));
    histogram(
        "clv-histogram",
        &c.bins,
        Some(c.overflow),
        &format!("predicted customer lifetime value{unit}"),
        false,
        Some((c.median, &median)),
    )
}

/// Histogram of P(alive).
pub fn p_alive(c: &ClvSection) -> Result<String, ReportError> {
    histogram(
        "p-alive",
        &c.p_alive_bins,
        None,
        "probability the customer is still active",
        true,
        None,
    )
}

/// The budget, when the profit curve draws it: finite, positive and within half again of the
/// largest amount on the chart (a budget far above every cost would squash the curves).
pub fn budget_line(c: &CampaignSection) -> Option<f64> {
    let top = c
        .curve
        .iter()
        .flat_map(|p| [p.cumulative_profit, p.cumulative_cost])
        .fold(0.0, f64::max);
    (c.budget.is_finite() && c.budget > 0.0 && c.budget <= 1.5 * top).then_some(c.budget)
}

/// Cumulative expected profit and cost by audience depth, with the chosen cut-off and the
/// budget as a level the cost line crosses; `unit` (` (USD)`) goes on the money axis.
pub fn profit_curve(
    chart_id: &str,
    c: &CampaignSection,
    unit: &str,
) -> Result<String, ReportError> {
    let max_depth = c.curve.iter().map(|p| p.depth).max().unwrap_or(1).max(1) as f64;
    let budget = budget_line(c);
    let top = c
        .curve
        .iter()
        .flat_map(|p| [p.cumulative_profit, p.cumulative_cost])
        .chain(budget)
        .fold(0.0, f64::max);
    let bottom = c
        .curve
        .iter()
        .map(|p| p.cumulative_profit)
        .fold(0.0, f64::min);
    let span = (top - bottom).max(1.0);
    let (y0, y1) = (bottom - 0.05 * span, top + 0.08 * span);
    let mut points = vec![ProfitPoint {
        depth: 0,
        cumulative_cost: 0.0,
        cumulative_profit: 0.0,
    }];
    points.extend(c.curve.iter().cloned());
    let y_desc = format!("cumulative amount{unit}");
    svg(chart_id, (WIDTH, 400 + KEY_STRIP), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_top(14 + KEY_STRIP)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..max_depth, y0..y1)?;
        let f = |v: &f64| compact(*v);
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc("customers contacted, best expected profit first")
            .y_desc(y_desc.as_str())
            .x_label_formatter(&f)
            .y_label_formatter(&f)
            .label_style((FONT, 12))
            .draw()?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (max_depth, 0.0)], LIGHT))?;
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (p.depth as f64, p.cumulative_profit)),
            BLUE.stroke_width(2),
        ))?;
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (p.depth as f64, p.cumulative_cost)),
            GRAY.stroke_width(2),
        ))?;
        if let Some(b) = budget {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, b), (max_depth, b)],
                6,
                4,
                ORANGE.stroke_width(2),
            ))?;
        }
        if let Some(d) = c.cutoff_depth {
            let x = d as f64;
            chart.draw_series(LineSeries::new([(x, y0), (x, y1)], RED.stroke_width(2)))?;
            let (tx, h) = if x < max_depth * 0.7 {
                (x + max_depth * 0.01, HPos::Left)
            } else {
                (x - max_depth * 0.01, HPos::Right)
            };
            chart.draw_series(std::iter::once(Text::new(
                format!("cut-off: {} customers", int(d)),
                (tx, y1 - 0.04 * span),
                anchored(12, &RED, h, VPos::Center),
            )))?;
        }
        let mut entries = vec![
            Key::Line("expected profit", BLUE),
            Key::Line("cost", GRAY),
            Key::Line("cut-off", RED),
        ];
        if budget.is_some() {
            entries.push(Key::Line("budget", ORANGE));
        }
        key(root, 78, &entries)?;
        Ok(())
    })
}

/// The bars of the drift chart: the score first, then features by PSI descending (ties by
/// name, empty columns last).
pub fn drift_rows(d: &DriftSection) -> Vec<(String, Option<f64>, bool)> {
    let mut features: Vec<&FeaturePsi> = d.features.iter().collect();
    features.sort_by(|a, b| match (a.psi, b.psi) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    std::iter::once(("score".to_string(), d.score_psi, false))
        .chain(
            features
                .into_iter()
                .map(|f| (f.name.clone(), f.psi, f.excluded)),
        )
        .collect()
}

/// PSI per feature and for the score, with the 0.1 and 0.25 bands and the job's threshold.
pub fn drift(chart_id: &str, d: &DriftSection) -> Result<String, ReportError> {
    let rows = drift_rows(d);
    let n = rows.len();
    let names: Vec<String> = (0..n)
        .map(|pos| {
            let (name, _, excluded) = &rows[n - 1 - pos];
            if *excluded {
                format!("{name} (excluded)")
            } else {
                name.clone()
            }
        })
        .collect();
    // The axis stops at PSI 1 (or a bit past the job's threshold) so the 0.1 / 0.25 bands stay
    // readable; longer bars are cut there and carry their value.
    let largest = rows.iter().filter_map(|r| r.1).fold(0.0, f64::max);
    let cap = d.fail_above.unwrap_or(0.0).max(PSI_CAP);
    let max = largest.max(PSI_MAJOR * 1.2).min(cap) * 1.1;
    let height = 90 + 20 * n as u32;
    svg(chart_id, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(label_width(&names))
            .build_cartesian_2d(0f64..max, -0.5f64..(n as f64 - 0.5))?;
        let label = category(&names);
        let xf = |v: &f64| format!("{v:.2}");
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .y_labels(n)
            .y_label_formatter(&label)
            .x_label_formatter(&xf)
            .x_desc("population stability index (PSI) vs training")
            .label_style((FONT, 11))
            .draw()?;
        let mut values = Vec::new();
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, psi, excluded))| {
            let y = (n - 1 - i) as f64;
            let p = psi.unwrap_or(0.0);
            let color = if *excluded {
                LIGHT
            } else if p > PSI_MAJOR {
                RED
            } else if p > PSI_MODERATE {
                ORANGE
            } else {
                GREEN
            };
            let shown = p.min(max);
            let text = match psi {
                Some(v) => format!("{v:.3}"),
                None => "no data".to_string(),
            };
            values.push(if shown < max * 0.85 {
                Text::new(
                    text,
                    (shown + max * 0.01, y),
                    anchored(10, &INK, HPos::Left, VPos::Center),
                )
            } else {
                let ink = if *excluded { INK } else { WHITE };
                Text::new(
                    if p > max { format!("{text} ▸") } else { text },
                    (shown - max * 0.01, y),
                    anchored(10, &ink, HPos::Right, VPos::Center),
                )
            });
            Rectangle::new([(0.0, y - 0.35), (shown, y + 0.35)], color.filled())
        }))?;
        chart.draw_series(values)?;
        let top = n as f64 - 0.5;
        for (x, color) in [(PSI_MODERATE, ORANGE), (PSI_MAJOR, RED)] {
            chart.draw_series(LineSeries::new(
                [(x, -0.5), (x, top)],
                color.stroke_width(1),
            ))?;
        }
        if let Some(f) = d.fail_above {
            if (f - PSI_MODERATE).abs() > 1e-12 && (f - PSI_MAJOR).abs() > 1e-12 {
                chart.draw_series(LineSeries::new([(f, -0.5), (f, top)], INK.stroke_width(2)))?;
                chart.draw_series(std::iter::once(Text::new(
                    format!("fail above {f}"),
                    (f, top),
                    anchored(11, &INK, HPos::Left, VPos::Top),
                )))?;
            }
        }
        Ok(())
    })
}
