//! Times the stages of `features` on one file (development aid).
use std::time::Instant;

use bullseye::ingest::{read_raw, validate, SourceSpec, TableKind};

fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).expect("a transactions file"));
    let spec = SourceSpec::default();
    let t = Instant::now();
    let raw = read_raw(&path, &spec, TableKind::Transactions).expect("read");
    eprintln!("read_raw {:?}", t.elapsed());
    let t = Instant::now();
    let v = validate(raw, TableKind::Transactions, &spec, None).expect("validate");
    eprintln!("validate {:?}", t.elapsed());
    let only: Option<String> = std::env::args().nth(2);
    for fam in [
        "rfm",
        "rfm,btyd",
        "rfm,windows",
        "rfm,btyd,windows",
        "rfm,btyd,windows,cycle",
        "rfm,btyd,windows,cycle,mix",
    ] {
        if only.as_deref().is_some_and(|o| o != fam) {
            continue;
        }
        let params = bullseye::features::FeatureParams {
            families: Some(
                fam.split(',')
                    .map(|f| bullseye::features::Family::parse(f).expect("family"))
                    .collect(),
            ),
            ..Default::default()
        };
        let t = Instant::now();
        let f = bullseye::features::build(
            &v.frame,
            None,
            chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
            &params,
        )
        .expect("features");
        eprintln!("features {fam} {:?} {}", t.elapsed(), f.height());
    }
}
