//! The fast path (`fast.rs`) against the general path (`read_raw` + `validate`): whenever the
//! fast path takes a file, the typed rows, rejects and summary are those of the general path,
//! float bits included; and loading with the fast path allowed gives the general path's result
//! either way.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

/// The general path alone.
fn general(table: TableKind, path: &Path, spec: &SourceSpec) -> Result<Validated, IngestError> {
    validate(read_raw(path, spec, table)?, table, spec, as_of())
}

fn as_of() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2024, 6, 30)
}

/// Every value of `frame`, floats by their bits (`-0.0` is not `0.0`).
fn cells(frame: &DataFrame) -> Vec<(String, DataType, Vec<String>)> {
    frame
        .columns()
        .iter()
        .map(|c| {
            let values = match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|v| format!("{:?}", v.map(f64::to_bits)))
                    .collect(),
                _ => (0..c.len())
                    .map(|i| format!("{:?}", c.get(i).unwrap()))
                    .collect(),
            };
            (c.name().to_string(), c.dtype().clone(), values)
        })
        .collect()
}

fn same(a: &Validated, b: &Validated) -> Result<(), TestCaseError> {
    prop_assert_eq!(cells(&a.frame), cells(&b.frame));
    prop_assert_eq!(cells(&a.rejects), cells(&b.rejects));
    prop_assert_eq!(&a.summary, &b.summary);
    Ok(())
}

/// Loads `csv` by both paths; returns whether the fast path took it.
fn agree(csv: &[u8], table: TableKind) -> Result<bool, TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, csv).expect("write");
    let spec = SourceSpec::default();
    let reference = general(table, &path, &spec);
    let source = Source::File(path.clone());
    let loaded = load_source_with(table, &source, &spec, as_of(), true);
    match (&reference, &loaded) {
        (Ok(r), Ok(l)) => same(l, r)?,
        (Err(r), Err(l)) => prop_assert_eq!(r.to_string(), l.to_string()),
        (r, l) => prop_assert!(false, "general {:?}, loaded {:?}", r.is_ok(), l.is_ok()),
    }
    let fast = fast::load_plain(table, &path, &spec, as_of()).expect("a readable file");
    if let Some(f) = &fast {
        let r = reference.as_ref().map_err(|e| {
            TestCaseError::fail(format!("fast took a file the general path refuses: {e}"))
        })?;
        same(f, r)?;
    }
    Ok(fast.is_some())
}

const HEADER: &str = "customer_id,order_id,order_date,amount,quantity,category,channel";

fn plain_line() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{1,6}",
        "[0-9]{1,9}",
        "(19[0-9]{2}|20[0-2][0-3])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
        "-?[0-9]{1,6}(\\.[0-9]{1,4})?",
        prop_oneof!["[0-9]{1,2}", Just(String::new())],
        "[a-z]{0,5}",
        "[a-z]{1,5}",
    )
        .prop_map(|(c, o, d, a, q, cat, ch)| format!("{c},{o},{d},{a},{q},{cat},{ch}"))
}

/// A field the fast path must leave to the general path, or read exactly as it does.
fn odd_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" 5".to_string()),
        Just("\"5\"".to_string()),
        Just("'=1".to_string()),
        Just("\u{FF10}1".to_string()),
        Just("a\u{200B}".to_string()),
        Just("é".to_string()),
        Just("2024-1-5".to_string()),
        Just("2024-02-30".to_string()),
        Just("2024-06-30T10:00:00".to_string()),
        Just("2024-07-01".to_string()),
        Just("1677-09-21".to_string()),
        Just("2262-04-12".to_string()),
        Just("1e5".to_string()),
        Just("+5".to_string()),
        Just(".5".to_string()),
        Just("5.".to_string()),
        Just("-0".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("100000000001".to_string()),
        Just("99999999999.99999".to_string()),
        "-?[0-9]{1,20}\\.[0-9]{1,20}",
    ]
}

/// A file: plain lines, some with one odd field, some repeated, with odd line ends and headers.
pub(super) fn file() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(
            (
                plain_line(),
                prop::option::weighted(0.1, (0usize..7, odd_field())),
            ),
            0..40,
        ),
        prop::option::weighted(0.1, 0usize..40),
        prop::option::weighted(0.1, 0usize..40),
        prop_oneof![
            8 => Just(HEADER.to_string()),
            1 => Just("customer_id,order_date,amount".to_string()),
            1 => Just(format!("{HEADER},extra")),
            1 => Just("customer_id,order_id,amount,quantity,category,channel,x".to_string()),
        ],
        prop_oneof![8 => Just("\n"), 1 => Just("\r\n")],
        any::<(bool, bool)>(),
    )
        .prop_map(|(lines, repeat, blank, header, end, (bom, last_end))| {
            let width = header.split(',').count();
            let mut rows: Vec<String> = lines
                .into_iter()
                .map(|(line, odd)| {
                    let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
                    fields.resize(width, "x".to_string());
                    if let Some((i, f)) = odd {
                        fields[i % width] = f;
                    }
                    fields.join(",")
                })
                .collect();
            if let Some(r) = repeat {
                if !rows.is_empty() {
                    let copy = rows[r % rows.len()].clone();
                    rows.push(copy);
                }
            }
            if let Some(b) = blank {
                rows.insert(b.min(rows.len()), String::new());
            }
            let mut text = if bom {
                "\u{FEFF}".to_string()
            } else {
                String::new()
            };
            text.push_str(&header);
            for r in rows {
                text.push_str(end);
                text.push_str(&r);
            }
            if last_end {
                text.push_str(end);
            }
            text.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_fast_path_agrees_with_validation(csv in file()) {
        agree(&csv, TableKind::Transactions)?;
    }

    /// The number parser against the general path's cast, bit for bit.
    #[test]
    fn plain_numbers_read_as_polars_reads_them(
        text in prop_oneof!["-?[0-9]{1,25}(\\.[0-9]{1,25})?", "[-+.0-9e]{1,8}"]
    ) {
        let polars = Series::new("v".into(), [text.as_str()])
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(0);
        if let Some(v) = fast::plain_number(text.as_bytes()) {
            prop_assert_eq!(Some(v.to_bits()), polars.map(f64::to_bits), "{}", text);
        }
    }
}

#[test]
fn a_plain_file_takes_the_fast_path() {
    let csv = format!(
        "{HEADER}\n1,1,2023-12-30,24.28,2,home,store\n2,2,2024-06-30,-0.5,,,web\n\
         10,3,1677-09-22,99999999999.9999,1,toys,store\n3,4,2024-01-01,0,3,a,b"
    );
    assert!(agree(csv.as_bytes(), TableKind::Transactions).unwrap());
    // Fields past the mapped ones are read past; customers and contacts without extra columns.
    let csv = format!("{HEADER},note\n1,1,2023-12-30,24.28,2,home,store,x\n");
    assert!(agree(csv.as_bytes(), TableKind::Transactions).unwrap());
    let csv = "customer_id,signup_date\nc1,2020-01-01\nc2,\n";
    assert!(agree(csv.as_bytes(), TableKind::Customers).unwrap());
}

/// Each of these is left to the general path (which agrees with `load_table`, checked inside).
#[test]
fn anything_unusual_takes_the_general_path() {
    let good = "1,1,2023-12-30,24.28,2,home,store";
    let cases: Vec<(&str, String)> = vec![
        (
            "quotes",
            format!("{HEADER}\n{good}\n2,2,2024-01-01,5,1,\"a,b\",web\n"),
        ),
        ("crlf", format!("{HEADER}\r\n{good}\r\n")),
        ("bom", format!("\u{FEFF}{HEADER}\n{good}\n")),
        (
            "blank line",
            format!("{HEADER}\n{good}\n\n2,2,2024-01-01,5,1,a,web\n"),
        ),
        (
            "bad date",
            format!("{HEADER}\n{good}\n2,2,2024-02-30,5,1,a,web\n"),
        ),
        (
            "future date",
            format!("{HEADER}\n{good}\n2,2,2024-07-01,5,1,a,web\n"),
        ),
        (
            "datetime",
            format!("{HEADER}\n2,2,2024-01-01T10:00:00,5,1,a,web\n"),
        ),
        (
            "bad number",
            format!("{HEADER}\n{good}\n2,2,2024-01-01,5x,1,a,web\n"),
        ),
        (
            "exponent",
            format!("{HEADER}\n{good}\n2,2,2024-01-01,5e2,1,a,web\n"),
        ),
        (
            "out of range",
            format!("{HEADER}\n2,2,2024-01-01,100000000001,1,a,web\n"),
        ),
        (
            "missing id",
            format!("{HEADER}\n{good}\n,2,2024-01-01,5,1,a,web\n"),
        ),
        (
            "spaced id",
            format!("{HEADER}\n{good}\n 2,2,2024-01-01,5,1,a,web\n"),
        ),
        (
            "wide id",
            format!("{HEADER}\n\u{FF12},2,2024-01-01,5,1,a,web\n"),
        ),
        (
            "spaced text",
            format!("{HEADER}\n2,2,2024-01-01,5,1, a,web\n"),
        ),
        ("duplicate", format!("{HEADER}\n{good}\n{good}\n")),
        (
            "ragged",
            format!("{HEADER}\n{good}\n2,2,2024-01-01,5,1,a\n"),
        ),
        (
            "missing column",
            "customer_id,order_date\n1,2024-01-01\n".to_string(),
        ),
        (
            "repeated column",
            "customer_id,amount,amount,order_date\n1,1,1,2024-01-01\n".to_string(),
        ),
        ("header only", HEADER.to_string()),
    ];
    for (what, csv) in cases {
        let took = agree(csv.as_bytes(), TableKind::Transactions)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!took, "{what}: taken by the fast path");
    }
    // Tables whose columns need validation's own steps.
    let with_extra = "customer_id,signup_date,tier\nc1,2020-01-01,gold\n";
    assert!(!agree(with_extra.as_bytes(), TableKind::Customers).unwrap());
    let with_flag = "customer_id,email_opt_in\nc1,yes\n";
    assert!(!agree(with_flag.as_bytes(), TableKind::Customers).unwrap());
}
