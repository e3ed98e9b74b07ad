//! The coded path (`coded.rs`) against the fast path (`fast.rs`, itself checked against the
//! general path by `fast_tests.rs`): the same files taken, and from a file it takes, the same
//! values (floats by their bits), codes numbered by first appearance, and the same summary,
//! however the file is cut into pieces and parts.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::coded::{
    block_end, boundaries, Coded, CodedReader, Keep, Step, BLOCK_BYTES, LINE_END, MISSING_CODE,
    MISSING_DAY,
};
use super::fast::civil_day;
use super::fast_tests::file;
use super::*;

fn as_of() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2024, 6, 30)
}

/// Every value a column of the fast path's frame holds, as text (floats by their bits).
fn frame_values(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    let c = frame.column(name).expect("a column of the frame");
    match c.dtype() {
        DataType::Float64 => c
            .f64()
            .expect("f64")
            .iter()
            .map(|v| v.map(|v| v.to_bits().to_string()))
            .collect(),
        DataType::Date => c
            .date()
            .expect("date")
            .physical()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        _ => c
            .str()
            .expect("text")
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
    }
}

/// A column's name and its values as [`frame_values`] gives them.
type NamedValues = (String, Vec<Option<String>>);

/// The coded path's values of every column in the same form, or `None` when it refused.
fn coded_values(
    path: &Path,
    table: TableKind,
    piece_bytes: usize,
    part_bytes: usize,
) -> Option<(Vec<NamedValues>, TableSummary)> {
    let spec = SourceSpec::default();
    let mut reader = CodedReader::open(table, path, &spec, as_of(), piece_bytes)
        .expect("a readable file")?
        .with_part_bytes(part_bytes);
    let names: Vec<String> = reader
        .columns()
        .iter()
        .map(|c| c.canonical.clone())
        .collect();
    for n in &names {
        reader.keep(n, Keep::Values);
    }
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    loop {
        match reader.next_piece().expect("a readable file") {
            Step::Piece(piece) => {
                for part in piece.parts {
                    for (i, c) in part.columns.iter().enumerate() {
                        let out = &mut columns[i];
                        match c {
                            Coded::Checked => panic!("every column was kept"),
                            Coded::Codes(codes) => {
                                let levels = reader.levels(&names[i]).expect("levels");
                                out.extend(codes.iter().map(|c| {
                                    (*c != MISSING_CODE).then(|| levels[*c as usize].clone())
                                }));
                            }
                            Coded::Numbers(v) => out.extend(
                                v.iter()
                                    .map(|v| (!v.is_nan()).then(|| v.to_bits().to_string())),
                            ),
                            Coded::Days(v) => out.extend(
                                v.iter().map(|d| (*d != MISSING_DAY).then(|| d.to_string())),
                            ),
                        }
                    }
                }
            }
            Step::End => break,
            Step::NotPlain => return None,
        }
    }
    // Codes number values in order of first appearance.
    for (i, n) in names.iter().enumerate() {
        if let Some(levels) = reader.levels(n) {
            let mut seen = Vec::new();
            for v in columns[i].iter().flatten() {
                if !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
            assert_eq!(levels, seen.as_slice(), "levels of {n}");
        }
    }
    let (rejects, summary) = reader.finish().expect("finish")?;
    assert_eq!(rejects.height(), 0);
    Some((names.into_iter().zip(columns).collect(), summary))
}

/// Loads `csv` by the fast path and the coded path (whole, and in small pieces and parts);
/// returns whether the coded path took it.
fn agree(csv: &[u8], table: TableKind) -> Result<bool, TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, csv).expect("write");
    let fast =
        fast::load_plain(table, &path, &SourceSpec::default(), as_of()).expect("a readable file");
    let mut took = None;
    for (piece, part) in [(1 << 30, 1 << 30), (64, 16), (7, 1)] {
        let coded = coded_values(&path, table, piece, part);
        prop_assert_eq!(coded.is_some(), fast.is_some(), "pieces of {} bytes", piece);
        if let (Some((columns, summary)), Some(f)) = (&coded, &fast) {
            prop_assert_eq!(summary, &f.summary);
            prop_assert_eq!(columns.len(), f.frame.width());
            for (name, values) in columns {
                prop_assert_eq!(values, &frame_values(&f.frame, name), "column {}", name);
            }
        }
        took = Some(coded.is_some());
    }
    Ok(took.unwrap_or(false))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The word-at-a-time scan finds what a byte-by-byte scan finds.
    #[test]
    fn boundaries_are_every_separator_and_line_end(
        bytes in prop::collection::vec(prop_oneof![Just(b','), Just(b'\n'), Just(b';'), any::<u8>()], 0..200)
    ) {
        let mut expected: Vec<u32> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b',' || **b == b'\n')
            .map(|(i, b)| i as u32 | if *b == b'\n' { LINE_END } else { 0 })
            .collect();
        if bytes.last().is_some_and(|b| *b != b'\n') {
            expected.push(bytes.len() as u32 | LINE_END);
        }
        prop_assert_eq!(boundaries(&bytes, b',').expect("small"), expected);
    }

    #[test]
    fn the_coded_path_agrees_with_the_fast_path(csv in file()) {
        agree(&csv, TableKind::Transactions)?;
    }
}

#[test]
fn a_plain_file_takes_the_coded_path_in_any_pieces() {
    let header = "customer_id,order_id,order_date,amount,quantity,category,channel";
    let csv = format!(
        "{header}\n1,1,2023-12-30,24.28,2,home,store\n2,2,2024-06-30,-0.5,,,web\n\
         10,3,1677-09-22,99999999999.9999,1,toys,store\n1,4,2024-01-01,0,3,a,b\n\
         \u{e9}t\u{e9},5,2024-01-02,1.5,1,caf\u{e9},web"
    );
    assert!(agree(csv.as_bytes(), TableKind::Transactions).unwrap());
    let csv = "customer_id,signup_date\nc1,2020-01-01\nc2,\n";
    assert!(agree(csv.as_bytes(), TableKind::Customers).unwrap());
}

/// A part is parsed in blocks of whole lines (`BLOCK_BYTES`): a file of many blocks, one line
/// longer than a block, gives what the fast path gives; an odd row in a later block sends it
/// the general way.
#[test]
fn a_file_of_many_blocks_and_a_line_longer_than_one_agree() {
    let header = "customer_id,order_id,order_date,amount,quantity,category,channel";
    let mut csv = format!("{header}\n");
    let long = "x".repeat(BLOCK_BYTES + 1_000);
    for i in 0..6_000 {
        let category = match i {
            2_500 => long.as_str(),
            _ if i % 3 == 0 => "home",
            _ => "toys",
        };
        csv.push_str(&format!(
            "{},{i},2024-0{}-1{},{}.{},{},{category},web\n",
            i / 7,
            1 + i % 6,
            i % 10,
            i % 500,
            i % 100,
            i % 4
        ));
    }
    assert!(csv.len() > 4 * BLOCK_BYTES);
    assert!(agree(csv.as_bytes(), TableKind::Transactions).unwrap());
    // Without the last line feed, and with an odd row far from the start.
    assert!(agree(csv.trim_end().as_bytes(), TableKind::Transactions).unwrap());
    let odd = csv.replacen(",5000,2024", ",5000,x2024", 1);
    assert_ne!(odd, csv);
    assert!(!agree(odd.as_bytes(), TableKind::Transactions).unwrap());
}

/// A block ends after its last line feed, after the first one when a line is longer than a
/// block, or at the part's end.
#[test]
fn blocks_end_at_line_feeds() {
    let line = |n: usize| format!("{}\n", "a".repeat(n - 1));
    let part = [
        line(100).repeat(BLOCK_BYTES / 100 + 5),
        line(3 * BLOCK_BYTES),
    ]
    .concat();
    let part = part.as_bytes();
    let first = block_end(part, 0);
    assert_eq!(first, (BLOCK_BYTES / 100) * 100);
    assert_eq!(part[first - 1], b'\n');
    let second = block_end(part, first);
    assert_eq!(second, (BLOCK_BYTES / 100 + 5) * 100);
    assert_eq!(block_end(part, second), part.len());
    assert_eq!(block_end(b"a,b", 0), 3);
    assert_eq!(block_end(b"", 0), 0);
}

#[test]
fn a_copy_or_an_odd_row_anywhere_sends_the_file_to_the_general_path() {
    let header = "customer_id,order_id,order_date,amount,quantity,category,channel";
    let good = "1,1,2023-12-30,24.28,2,home,store";
    for csv in [
        format!("{header}\n{good}\n2,2,2024-01-01,5,1,a,web\n{good}\n"),
        format!("{header}\n{good}\n2,2,2024-01-01,5,1,a,web\n3,3,2024-01-01,5x,1,a,web\n"),
        format!("{header}\n{good}\n2,2,2024-01-01,5,1,a,web\n4,4,2024-01-01,5,1,a,\"w\"\n"),
        format!("{header}\n{good}\n\n2,2,2024-01-01,5,1,a,web\n"),
        format!("{header}\n{good}\n2,2,2024-01-01,5,1,a,web\r\n3,3,2024-01-01,5,1,a,web\n"),
    ] {
        assert!(
            !agree(csv.as_bytes(), TableKind::Transactions).unwrap(),
            "{csv}"
        );
    }
}

#[test]
fn civil_days_are_chronos() {
    let mut d = NaiveDate::from_ymd_opt(1599, 12, 25).expect("a date");
    let last = NaiveDate::from_ymd_opt(2401, 1, 5).expect("a date");
    while d <= last {
        let text = d.format("%Y-%m-%d").to_string();
        assert_eq!(
            civil_day(text.as_bytes()),
            Some(crate::types::epoch_day(d)),
            "{text}"
        );
        d = d.succ_opt().expect("a next day");
    }
    for bad in [
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-04-31",
        "2024-01-00",
        "2024-1-01",
        "2024/01/01",
        "20240101",
        "2024-01-0a",
        "2024-01-011",
        " 2024-01-01",
    ] {
        assert_eq!(civil_day(bad.as_bytes()), None, "{bad}");
    }
    assert!(civil_day(b"2000-02-29").is_some());
}

/// Not a test: times the coded path over a file (`BULLSEYE_CODED_BENCH=path`), for profiling
/// with CPU time on a shared machine (`cargo test --release --lib coded_bench -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn coded_bench() {
    let Some(path) = std::env::var_os("BULLSEYE_CODED_BENCH") else {
        return;
    };
    let cpu = || {
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage writes the struct it is given.
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        secs(u.ru_utime) + secs(u.ru_stime)
    };
    for _ in 0..3 {
        let (c0, t0) = (cpu(), std::time::Instant::now());
        let spec = SourceSpec::default();
        let mut reader = CodedReader::open(
            TableKind::Transactions,
            Path::new(&path),
            &spec,
            as_of().and(NaiveDate::from_ymd_opt(2024, 12, 31)),
            1 << 30,
        )
        .expect("readable")
        .expect("plain");
        for n in ["customer_id", "order_date", "amount", "category", "channel"] {
            reader.keep(n, Keep::Values);
        }
        let mut rows = 0;
        while let Step::Piece(p) = reader.next_piece().expect("readable") {
            rows += p.parts.iter().map(|p| p.rows).sum::<usize>();
        }
        let (c1, t1) = (cpu(), t0.elapsed().as_secs_f64());
        let ok = reader.finish().expect("finish").is_some();
        eprintln!(
            "{rows} rows: read+parse+merge {t1:.3} s wall {:.3} s cpu; finish {:.3} s wall {:.3} s cpu; taken {ok}",
            c1 - c0,
            t0.elapsed().as_secs_f64() - t1,
            cpu() - c1
        );
    }
}
