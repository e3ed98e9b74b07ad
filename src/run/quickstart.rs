//! The quickstart: every stage, on the bundled data, from raw files to an audience file.

use std::path::Path;

use polars::prelude::*;

use crate::clv::FitParams;
use crate::features::{self, FeatureError, FeatureParams, TimeUnit};
use crate::ingest::{self, IngestConfig, IngestRequest, TableKind};
use crate::models::{ClassifierParams, LogisticParams, ModelKind, PreprocessParams};
use crate::run::{clv, models, segment, select};
use crate::segment::{render_report, KChoice, SegmentParams};
use crate::select::render_summary;
use crate::{io, Error};

/// Days of the churn label window and of the CLV horizon (in weeks: 26).
const CHURN_HORIZON_DAYS: u32 = 90;
const CLV_HORIZON_WEEKS: f64 = 26.0;
const CAMPAIGN: &str = "campaigns/spring-email.toml";

fn pe(e: PolarsError) -> Error {
    Error::Features(FeatureError::from(e))
}

/// Runs every stage on the bundled data in `data_dir` (configured by `data_dir/quickstart.toml`)
/// and writes the outputs under `out`. Returns what to print.
pub fn quickstart(data_dir: &Path, out: &Path) -> Result<String, Error> {
    let config = IngestConfig::from_file(&data_dir.join("quickstart.toml"))?;
    let as_of = config
        .ingest
        .as_of
        .ok_or_else(|| Error::Usage("quickstart.toml needs `[ingest] as_of`".into()))?;
    let request = IngestRequest {
        config,
        ..IngestRequest::default()
    };
    let mut report = String::new();

    // 1. Ingest.
    let ingest_dir = out.join("ingest");
    let ingested = ingest::run(&request, &ingest_dir)?;
    report.push_str("== ingest ==\n");
    report.push_str(&ingested.summary().render());
    let table = |t: TableKind| {
        ingested
            .frame(t)
            .ok_or(Error::Ingest(ingest::IngestError::NoSource { table: t }))
    };
    let tx = table(TableKind::Transactions)?;
    let customers = table(TableKind::Customers)?;
    let contacts = table(TableKind::Contacts)?;

    // 2. Features as of the last day of the data.
    let mut feats = features::build(tx, Some(customers), as_of, &FeatureParams::default())?;
    let features_path = out.join("features.parquet");
    io::write_table(&features_path, &mut feats)?;
    report.push_str(&format!(
        "\n== features ==\n{} customers × {} features as of {as_of} → {}\n",
        feats.height(),
        feats.width() - 1,
        features_path.display()
    ));

    // 3. Segments: RFM, tiers, loyalty grid, five k-means clusters.
    let mut seg_params = SegmentParams::default();
    if let Some(c) = seg_params.cluster.as_mut() {
        c.k = KChoice::Fixed(5);
    }
    let seg = segment::segment_frame(&feats, &seg_params, None)?;
    let segments_path = out.join("segments.csv");
    segment::write_segmentation(&segments_path, &seg, Some(&out.join("models/segments")))?;
    report.push_str("\n== segments ==\n");
    report.push_str(&render_report(&seg.report));

    // 4. CLV: BG/NBD + Gamma-Gamma fitted on the whole history, in weeks.
    let clv_model = clv::fit(tx, as_of, TimeUnit::Weeks, &FitParams::default())?;
    io::write_json_atomic(&out.join("models/clv/model.json"), &clv_model)?;
    let predict = clv::PredictParams {
        horizon: CLV_HORIZON_WEEKS,
        clv_months: 12,
        monthly_discount_rate: 0.01,
        alive_threshold: crate::clv::DEFAULT_ALIVE_THRESHOLD,
    };
    let mut clv_frame = clv::predict(&clv_model, tx, as_of, &predict)?;
    io::write_table(&out.join("clv.csv"), &mut clv_frame)?;
    report.push_str("\n== clv ==\n");
    report.push_str(&clv::render_fit(&clv_model));

    // 5. Response model from the campaign history (features as of the day before each
    //    contact), churn model on the last 90 days; both scored on today's features.
    let options = |kind| models::TrainOptions {
        kind,
        classifier: ClassifierParams::Logistic(LogisticParams::default()),
        preprocess: PreprocessParams::default(),
        holdout: match kind {
            ModelKind::Response => models::HoldoutChoice::Time { fraction: 0.2 },
            _ => models::HoldoutChoice::Fraction { fraction: 0.2 },
        },
        seed: 7,
        refit: true,
        treatment: None,
    };
    let fp = FeatureParams::default();
    let response_rows = models::response_rows(tx, Some(customers), contacts, &fp)?
        .without_level("group", "control")?;
    let response = models::train(&response_rows, &options(ModelKind::Response))?;
    models::save(&out.join("models/response"), &response)?;
    let churn_rows = models::churn_rows(tx, Some(customers), as_of, CHURN_HORIZON_DAYS, &fp)?;
    let churn = models::train(&churn_rows, &options(ModelKind::Churn))?;
    models::save(&out.join("models/churn"), &churn)?;
    report.push_str("\n== models ==\n");
    for (name, m) in [("response", &response), ("churn", &churn)] {
        report.push_str(&format!("{name}: "));
        report.push_str(&models::render_metrics(&m.report));
    }

    // 6. Scores: one row per customer with every model's output and the segments.
    let (response_scores, drift) =
        models::score_frame(&response.artifact, &feats, Some("customer_id"), false)?;
    let (churn_scores, _) =
        models::score_frame(&churn.artifact, &feats, Some("customer_id"), false)?;
    let seg_frame = segment::segmentation_frame(&seg)?;
    let mut scores = response_scores
        .lazy()
        .join(
            churn_scores
                .lazy()
                .select([col("customer_id"), col("score").alias("churn_score")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            clv_frame.clone().lazy().select([
                col("customer_id"),
                col("p_alive"),
                col("expected_purchases"),
                col("clv"),
            ]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            seg_frame.lazy().select([
                col("customer_id"),
                col("rfm_segment"),
                col("value_tier"),
                col("cluster"),
            ]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .map_err(pe)?;
    io::write_table(&out.join("scores.csv"), &mut scores)?;
    report.push_str(&format!(
        "\n== scores ==\n{} customers scored → {}\n{}",
        scores.height(),
        out.join("scores.csv").display(),
        models::render_drift(&drift, 3)
    ));

    // 7. Selection: the spring e-mail campaign within its budget, minus suppressions, opt-outs,
    //    recently contacted customers; 10% control.
    let campaign_path = data_dir.join(CAMPAIGN);
    let campaign = select::load_campaign(&campaign_path)?;
    let campaign_dir = campaign_path.parent().unwrap_or(data_dir);
    let segment_column = Some("rfm_segment");
    let mut selected = select::select_from_frames(
        &campaign,
        campaign_dir,
        &scores,
        Some(customers),
        segment_column,
    )?;
    let audience_dir = out.join("audience");
    report.push_str(&select::write_side_rejects(
        &audience_dir,
        &mut selected.side_tables,
        request.max_reject_rate(),
    )?);
    let written = select::write_selection(&audience_dir, &selected.selection, segment_column)?;
    report.push_str("\n== audience ==\n");
    report.push_str(&render_summary(&selected.selection.summary));
    for p in written {
        report.push_str(&format!("wrote {}\n", p.display()));
    }
    Ok(report)
}
