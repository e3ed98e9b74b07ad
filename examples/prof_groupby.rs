//! Development aid: raw polars group-by speed on a transactions file.
use std::time::Instant;

use polars::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let t = Instant::now();
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema_overwrite(Some(Arc::new(Schema::from_iter([Field::new(
            "customer_id".into(),
            DataType::String,
        )]))))
        .try_into_reader_with_file_path(Some(path.into()))
        .unwrap()
        .finish()
        .unwrap();
    eprintln!("read typed {:?}", t.elapsed());
    let t = Instant::now();
    let g = df
        .clone()
        .lazy()
        .group_by([col("customer_id"), col("order_date")])
        .agg([col("amount").sum()])
        .collect()
        .unwrap();
    eprintln!("group_by id,date {:?} {}", t.elapsed(), g.height());
    let t = Instant::now();
    let g = df
        .clone()
        .lazy()
        .group_by([col("customer_id")])
        .agg([col("amount").sum(), len()])
        .collect()
        .unwrap();
    eprintln!("group_by id {:?} {}", t.elapsed(), g.height());
}
