//! Reference checks on the CDNOW master file (23,570 customers, 1997-01 to 1998-06).

use std::collections::BTreeMap;

use ndarray::Array2;

use crate::segment::{
    quintile_scores, segment, ClusterParams, KChoice, SegmentParams, SegmentationModel, UNASSIGNED,
};
use crate::types::FeatureMatrix;

const CDNOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/notebooks-data/CDNOW_master.txt"
);

/// Days since 1970-01-01 of a YYYYMMDD integer (Hinnant's civil-from-days inverse).
fn days(ymd: u32) -> i64 {
    let (y, m, d) = (
        (ymd / 10000) as i64,
        ((ymd / 100) % 100) as i64,
        (ymd % 100) as i64,
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// recency_days (to the day after the last transaction in the file), frequency (distinct
/// purchase dates), monetary_total, per customer.
pub(crate) fn cdnow_features() -> FeatureMatrix {
    let text = std::fs::read_to_string(CDNOW).unwrap();
    let mut per: BTreeMap<String, (BTreeMap<i64, ()>, f64)> = BTreeMap::new();
    let mut end = i64::MIN;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let day = days(f[1].parse().unwrap());
        end = end.max(day);
        let e = per.entry(f[0].to_string()).or_default();
        e.0.insert(day, ());
        e.1 += f[3].parse::<f64>().unwrap();
    }
    let n = per.len();
    let mut values = Array2::zeros((n, 3));
    let mut ids = Vec::with_capacity(n);
    for (i, (id, (dates, total))) in per.into_iter().enumerate() {
        let last = *dates.keys().next_back().unwrap();
        values[[i, 0]] = (end + 1 - last) as f64;
        values[[i, 1]] = dates.len() as f64;
        values[[i, 2]] = total;
        ids.push(id);
    }
    FeatureMatrix {
        ids,
        columns: vec![
            "recency_days".into(),
            "frequency".into(),
            "monetary_total".into(),
        ],
        values,
    }
}

#[test]
fn cdnow_date_arithmetic() {
    assert_eq!(days(19700101), 0);
    assert_eq!(days(19980630) - days(19970101), 545);
}

#[test]
fn cdnow_frequency_quintiles_follow_the_documented_balance() {
    let fm = cdnow_features();
    assert_eq!(fm.n_rows(), 23_570);
    let f = fm.column("frequency").unwrap().to_vec();
    let s = quintile_scores(&f, true);
    let count = |k: u8| s.iter().filter(|&&x| x == k).count();
    let ones = f.iter().filter(|&&v| v == 1.0).count();
    // Every single-occasion customer scores F = 1 and nobody else does.
    assert_eq!(count(1), ones);
    let counts: Vec<usize> = (1..=5).map(count).collect();
    println!("CDNOW F score sizes {counts:?}, single-occasion customers {ones}");
    assert_eq!(counts, vec![12_054, 0, 4_040, 3_641, 3_835]);
    // Block starts: value 2 starts at position `ones`, etc.; recompute expected sizes.
    let n = f.len();
    let mut sorted = f.clone();
    sorted.sort_by(f64::total_cmp);
    let mut expected = [0usize; 5];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && sorted[end] == sorted[start] {
            end += 1;
        }
        expected[5 * start / n] += end - start;
        start = end;
    }
    assert_eq!(counts, expected.to_vec());
}

#[test]
fn cdnow_segmentation_end_to_end() {
    let fm = cdnow_features();
    let p = SegmentParams {
        cluster: Some(ClusterParams {
            k: KChoice::Fixed(4),
            n_init: 3,
            seed: 42,
            ..ClusterParams::default()
        }),
        ..SegmentParams::default()
    };
    let t = std::time::Instant::now();
    let s = segment(&fm, &p).unwrap();
    println!("CDNOW segment() in {:?}", t.elapsed());
    println!("{}", crate::segment::render_report(&s.report));
    assert!(s.rfm_segment.iter().all(|x| x != UNASSIGNED));
    // Published CDNOW facts: the top 20 % of customers bring most of the revenue.
    let top20 = s.report.pareto[3].revenue_share;
    assert!(top20 > 0.6 && top20 < 0.8, "top 20% share {top20}");
    let model: &SegmentationModel = s.model.as_ref().unwrap();
    // scikit-learn KMeans(4, n_init=3, lloyd, tol=1e-4) on the same log-standardized columns:
    // inertia 15,804.17–15,804.98 over random_state 0–4 (bench/sk_cdnow.py); the floor is 1 %
    // above the best of those.
    println!("CDNOW k=4 inertia {}", model.inertia);
    assert!(model.inertia <= SKLEARN_CDNOW_K4_INERTIA * 1.01);
}

#[test]
fn cdnow_default_params_choose_k_by_silhouette() {
    let fm = cdnow_features();
    let t = std::time::Instant::now();
    let s = segment(&fm, &SegmentParams::default()).unwrap();
    let model = s.model.as_ref().unwrap();
    println!(
        "CDNOW defaults (auto k 3..=8, n_init 3, 10k silhouette sample): {:?}, k = {}, scores {:?}",
        t.elapsed(),
        model.k,
        s.report.k_scores
    );
    assert_eq!(s.report.k_scores.len(), 6);
    let best = s
        .report
        .k_scores
        .iter()
        .filter_map(|x| x.silhouette.map(|v| (x.k, v)))
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (k, v)| if v > b.1 { (k, v) } else { b },
        );
    assert_eq!(model.k, best.0);
}

#[test]
fn cdnow_inertia_within_one_percent_of_scikit_learn() {
    // scikit-learn KMeans(k, n_init=3, lloyd, tol=1e-4) over random_state 0–19
    // (bench/sk_cdnow.py): (k, median, max) inertia. Both implementations occasionally stop in
    // a worse local optimum (sklearn: 3 of 30 seeds at k = 8, ~1.8 % above the median), so the
    // floor compares the median over seeds and bounds every run by sklearn's worst.
    let reference = [
        (4, 15_804.50, 15_805.07),
        (6, 11_072.40, 11_073.90),
        (8, 8_703.48, 8_855.52),
    ];
    let fm = cdnow_features();
    for (k, median, worst) in reference {
        let mut inertias: Vec<f64> = (0..20)
            .map(|seed| {
                let p = ClusterParams {
                    k: KChoice::Fixed(k),
                    n_init: 3,
                    seed,
                    ..ClusterParams::default()
                };
                SegmentationModel::fit(&fm, &p).unwrap().0.inertia
            })
            .collect();
        inertias.sort_by(f64::total_cmp);
        let ours = (inertias[9] + inertias[10]) / 2.0;
        let max = inertias[19];
        println!(
            "CDNOW k={k}: median {ours:.2} (sklearn {median}), max {max:.2} (sklearn {worst})"
        );
        assert!(ours <= median * 1.01, "k={k}");
        assert!(max <= worst * 1.01, "k={k}");
    }
}

/// See `cdnow_segmentation_end_to_end`.
const SKLEARN_CDNOW_K4_INERTIA: f64 = 15_804.17;
