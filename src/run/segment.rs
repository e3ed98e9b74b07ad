//! The `segment` command's file plumbing: features file → segmentation → segments file, report
//! JSON beside it, and optionally the fitted clustering.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::features::profit::COST_COMPONENTS;
use crate::features::{self, FeatureError};
use crate::run::RunError;
use crate::segment::{
    columns_read, segment, segment_profiled, segment_with_model, ProfileColumns, ProfitAnalysis,
    SegmentParams, SegmentScheme, Segmentation, SegmentationModel,
};
use crate::{io, Error};

/// The id column of a features frame.
const ID: &str = "customer_id";

/// The whale curve beside a segments file whose features have the `profit` family.
pub const WHALE_FILE: &str = "whale_curve.csv";
/// The unprofitable customers (ids, net profit, reason, cost components: no personal data).
pub const UNPROFITABLE_FILE: &str = "unprofitable.csv";

/// The per-customer segment columns as a frame: `customer_id, rfm_r, rfm_f, rfm_m, rfm_cell,
/// rfm_segment, value_tier, loyalty_grid[, cluster][, profit_tier]`.
pub fn segmentation_frame(s: &Segmentation) -> Result<DataFrame, Error> {
    let n = s.ids.len();
    let as_i32 = |v: &[u8]| v.iter().map(|x| i32::from(*x)).collect::<Vec<i32>>();
    let mut columns = vec![
        Column::new("customer_id".into(), &s.ids),
        Column::new("rfm_r".into(), as_i32(&s.rfm_r)),
        Column::new("rfm_f".into(), as_i32(&s.rfm_f)),
        Column::new("rfm_m".into(), as_i32(&s.rfm_m)),
        Column::new("rfm_cell".into(), s.rfm_cell.iter().collect::<Vec<_>>()),
        Column::new(
            "rfm_segment".into(),
            s.rfm_segment.iter().collect::<Vec<_>>(),
        ),
        Column::new(
            "value_tier".into(),
            s.value_tier.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "loyalty_grid".into(),
            s.loyalty_grid
                .iter()
                .map(|q| q.as_str())
                .collect::<Vec<_>>(),
        ),
    ];
    if let Some(c) = &s.cluster {
        columns.push(Column::new(
            "cluster".into(),
            c.iter().map(|k| *k as i32).collect::<Vec<i32>>(),
        ));
    }
    if let Some(p) = &s.profit {
        columns.push(Column::new("profit_tier".into(), &p.tiers));
    }
    Ok(DataFrame::new(n, columns).map_err(FeatureError::from)?)
}

/// `whale_curve.csv`: the curve at every whole percent of customers.
fn whale_frame(p: &ProfitAnalysis) -> Result<DataFrame, Error> {
    let curve = &p.summary.curve;
    let frame = df!(
        "customers_pct" => curve.iter().map(|c| c.customers_pct).collect::<Vec<_>>(),
        "customers" => curve.iter().map(|c| c.customers as u64).collect::<Vec<_>>(),
        "cumulative_profit" => curve.iter().map(|c| c.cumulative_profit).collect::<Vec<_>>(),
        "profit_share" => curve.iter().map(|c| c.profit_share).collect::<Vec<_>>(),
    );
    Ok(frame.map_err(FeatureError::from)?)
}

/// `unprofitable.csv`: `customer_id, net_profit, reason`, then the cost components.
fn unprofitable_frame(p: &ProfitAnalysis) -> Result<DataFrame, Error> {
    let u = &p.unprofitable;
    let mut columns = vec![
        Column::new(
            "customer_id".into(),
            u.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "net_profit".into(),
            u.iter().map(|u| u.net_profit).collect::<Vec<_>>(),
        ),
        Column::new(
            "reason".into(),
            u.iter().map(|u| u.reason.as_str()).collect::<Vec<_>>(),
        ),
    ];
    for (i, (name, _)) in COST_COMPONENTS.iter().enumerate() {
        let values: Vec<f64> = u.iter().map(|u| u.costs[i]).collect();
        columns.push(Column::new((*name).into(), values));
    }
    Ok(DataFrame::new(u.len(), columns).map_err(FeatureError::from)?)
}

/// Segments a features frame: fits clusters, or assigns them with `model` when given.
///
/// Only the columns the segmentation reads are copied into its matrix; the clusters' profiles
/// read every numeric column straight from the frame (at 10M customers the whole frame as one
/// more matrix is 4.5 GB). A frame that lacks a column read takes the whole-matrix path, whose
/// error names the columns there are.
pub fn segment_frame(
    features_frame: &DataFrame,
    params: &SegmentParams,
    model: Option<&SegmentationModel>,
) -> Result<Segmentation, Error> {
    let all = features::numeric_columns(features_frame, ID);
    let read = columns_read(params, model, &all);
    if !read.iter().all(|c| all.contains(c)) {
        let fm = features::to_matrix(features_frame, ID, None)?;
        return Ok(match model {
            Some(m) => segment_with_model(&fm, params, m)?,
            None => segment(&fm, params)?,
        });
    }
    let profile_arrays = features::float_columns(features_frame, &all)?;
    let columns = profile_arrays
        .iter()
        .map(|ca| ca.cont_slice())
        .collect::<PolarsResult<Vec<&[f64]>>>()
        .map_err(FeatureError::from)?;
    let fm = features::to_matrix(features_frame, ID, Some(&read))?;
    let profiles = ProfileColumns::Given {
        names: &all,
        columns,
    };
    Ok(segment_profiled(fm, params, model, profiles)?)
}

/// Where the report of a segments file goes: `segments.csv` → `segments.json`.
pub fn report_path(out: &Path) -> PathBuf {
    out.with_extension("json")
}

/// Writes the segments file, its report beside it, the whale curve and the unprofitable
/// customers beside it when the features had the `profit` family, and, when asked,
/// `save_model/model.json`.
pub fn write_segmentation(
    out: &Path,
    s: &Segmentation,
    save_model: Option<&Path>,
) -> Result<(), Error> {
    write_segmentation_frame(out, s, &mut segmentation_frame(s)?, save_model)
}

/// [`write_segmentation`] with the segments table already built ([`segmentation_frame`] of
/// `s`): a job builds it once for `segments.csv` and the scores.
pub fn write_segmentation_frame(
    out: &Path,
    s: &Segmentation,
    df: &mut DataFrame,
    save_model: Option<&Path>,
) -> Result<(), Error> {
    io::write_table(out, df)?;
    write_segmentation_beside(out, s, save_model)
}

/// The files [`write_segmentation_frame`] writes beside the table at `out`: the report, the
/// profit tiers' tables, the fitted model (into `save_model`).
pub fn write_segmentation_beside(
    out: &Path,
    s: &Segmentation,
    save_model: Option<&Path>,
) -> Result<(), Error> {
    io::write_json_atomic(&report_path(out), &s.report)?;
    if let Some(p) = &s.profit {
        io::write_table(&out.with_file_name(WHALE_FILE), &mut whale_frame(p)?)?;
        io::write_table(
            &out.with_file_name(UNPROFITABLE_FILE),
            &mut unprofitable_frame(p)?,
        )?;
    }
    if let Some(dir) = save_model {
        let model = s.model.as_ref().ok_or_else(|| {
            Error::from(RunError::Conflict {
                what: "`--save-model` with clustering switched off".into(),
                expected: "clustering on, or no `--save-model`".into(),
            })
        })?;
        io::write_sealed_json(&dir.join("model.json"), model)?;
    }
    Ok(())
}

/// Reads a segment scheme file (TOML `[[rules]]`).
pub fn read_scheme(path: &Path) -> Result<SegmentScheme, Error> {
    let text = io::read_text(path)?;
    Ok(SegmentScheme::from_toml(&text)?)
}

/// Reads a fitted segmentation from `dir/model.json`: its checksum must match its content and
/// the model must meet its rules ([`SegmentationModel::check`]); a refusal names the file.
pub fn read_model(dir: &Path) -> Result<SegmentationModel, Error> {
    let path = dir.join("model.json");
    let model: SegmentationModel = io::read_sealed_json(
        &path,
        "fit the segmentation again with `bullseye segment --save-model` (or `bullseye run`)",
    )?;
    model.check().map_err(|e| RunError::InvalidFile {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::model::tests_support::customers;

    /// A frame's segmentation (a matrix of the columns read, profiles from the frame's columns)
    /// is the whole matrix's, for fitted and for assigned clusters.
    #[test]
    fn a_frame_segments_as_its_whole_matrix() {
        let n = 600;
        let fm = customers(n, 3);
        let mut columns = vec![
            Column::new(ID.into(), &fm.ids),
            // An integer column no segmentation reads, before the ones it reads.
            Column::new(
                "visits".into(),
                (0..n).map(|i| (i % 7) as i64).collect::<Vec<_>>(),
            ),
        ];
        for (j, name) in fm.columns.iter().enumerate() {
            columns.push(Column::new(
                name.as_str().into(),
                fm.values.column(j).to_vec(),
            ));
            columns.push(Column::new(
                format!("extra_{j}").into(),
                fm.values.column(j).mapv(|v| v.sqrt() * 3.1).to_vec(),
            ));
        }
        let df = DataFrame::new(n, columns).unwrap();
        let params = SegmentParams::default();
        let whole = features::to_matrix(&df, ID, None).unwrap();
        let got = segment_frame(&df, &params, None).unwrap();
        assert_eq!(got, segment(&whole, &params).unwrap());
        assert_eq!(got.report.clusters[0].means.len(), 7);
        let model = got.model.clone().unwrap();
        assert_eq!(
            segment_frame(&df, &params, Some(&model)).unwrap(),
            segment_with_model(&whole, &params, &model).unwrap()
        );
    }
}
