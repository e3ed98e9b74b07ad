//! Times the `segment`, `score` and `select` stages of a job on a finished run's files
//! (development aid): `cargo run --release --example bench_stages -- RUN_DIR CUSTOMERS.csv
//! CAMPAIGN.toml OUT [segment|score|select|all]`, where RUN_DIR is `OUT/<as-of>` of a
//! `bullseye run` (its `features.parquet` and `models/response`). The stages run as the job
//! runs them (k = 5, n_init = 1, seed 7 as the benchmark job says) and write into OUT, so OUT's
//! files can be compared with the run's.
use std::path::PathBuf;
use std::time::Instant;

use bullseye::ingest::{read_raw, validate, SourceSpec, TableKind};
use bullseye::run::scores::{self, JobScores};
use bullseye::run::{models, segment, select};
use bullseye::segment::{KChoice, SegmentParams};

/// Process CPU seconds (user + system, every thread) from `/proc/self/stat`; 0 elsewhere.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

// The allocator of the `bullseye` binary, so the stages allocate as they do in a job.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let run = PathBuf::from(&args[1]);
    let customers_csv = PathBuf::from(&args[2]);
    let campaign_path = PathBuf::from(&args[3]);
    let out = PathBuf::from(&args[4]);
    let only = args.get(5).cloned().unwrap_or_else(|| "all".into());
    let want = |s: &str| only == "all" || only == s;
    std::fs::create_dir_all(out.join("models/segments")).expect("out");

    let t = Instant::now();
    let feats = bullseye::io::read_table(&run.join("features.parquet"), &["customer_id"])
        .expect("features");
    eprintln!("read features {:?}", t.elapsed());

    let mut params = SegmentParams::default();
    if let Some(c) = params.cluster.as_mut() {
        c.k = KChoice::Fixed(5);
        c.n_init = 1;
        c.seed = 7;
    }
    let (t, c) = (Instant::now(), cpu());
    let seg = segment::segment_frame(&feats, &params, None).expect("segment");
    let fit = t.elapsed();
    if want("segment") {
        segment::write_segmentation(
            &out.join("segments.csv"),
            &seg,
            Some(&out.join("models/segments")),
        )
        .expect("write segments");
        eprintln!(
            "segment {:?} (fit {fit:?}) cpu {:.2} s",
            t.elapsed(),
            cpu() - c
        );
    }

    let (t, c) = (Instant::now(), cpu());
    let artifact = models::load(&run.join("models/response")).expect("model");
    let mut job = JobScores::new(&feats).expect("scores");
    let (s, drift) =
        models::score_frame(&artifact, &feats, Some(scores::ID), false).expect("score");
    job.add_model(bullseye::run::job::JobModel::Response, s);
    job.add_segments(segment::segmentation_frame(&seg).expect("frame"), true);
    let mut table = job.finish().expect("finish");
    if want("score") {
        bullseye::io::write_table(&out.join(scores::SCORES_FILE), &mut table)
            .expect("write scores");
        eprintln!(
            "score {:?} (psi {:?}) cpu {:.2} s",
            t.elapsed(),
            drift.score_psi,
            cpu() - c
        );
    }

    if want("select") {
        let spec = SourceSpec::default();
        let raw = read_raw(&customers_csv, &spec, TableKind::Customers).expect("customers");
        let customers = validate(raw, TableKind::Customers, &spec, None).expect("validate");
        // A job's transaction ids come in the history's order (the synthetic data's: the
        // customers table's), not the features' (sorted as text).
        let ids: Vec<String> = customers
            .frame
            .column("customer_id")
            .expect("ids")
            .str()
            .expect("text ids")
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        let (t, c) = (Instant::now(), cpu());
        let campaign = select::load_campaign(&campaign_path).expect("campaign");
        let frames = select::Frames {
            scores: &table,
            customers: Some(&customers.frame),
            side: Vec::new(),
            options: select::MatchOptions {
                id_policy: Default::default(),
                max_reject_rate: 0.01,
                default_country_code: None,
                directory: None,
            },
            global_control: None,
            transaction_ids: &ids,
            previous: None,
        };
        let dir = campaign_path.parent().expect("campaign folder");
        let selected = select::select_from_frames(&campaign, dir, &frames, Some("rfm_segment"))
            .expect("select");
        let picked = t.elapsed();
        for (name, seconds) in &selected.steps {
            eprintln!("  {name} {seconds:.3} s");
        }
        let audience = out.join("audience").join("synthetic-email");
        select::write_selection(
            &audience,
            &selected.selection,
            Some("rfm_segment"),
            bullseye::io::CsvCells::default(),
        )
        .expect("write selection");
        eprintln!(
            "select {:?} (choose {picked:?}) cpu {:.2} s",
            t.elapsed(),
            cpu() - c
        );
    }
}
