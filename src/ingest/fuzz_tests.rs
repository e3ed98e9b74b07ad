//! Ingest never panics, whatever the bytes: a file is either refused with a one-line message or
//! validated with `rows_in = rows_kept + rows_rejected`; read in pieces, it gives what it gives
//! read whole.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

const TABLES: [TableKind; 4] = TableKind::ALL;

/// Loads `bytes` as `table`, whole and in pieces of 7 bytes, and checks the invariants.
fn check_bytes(bytes: &[u8], table: TableKind) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, bytes).expect("write");
    let spec = SourceSpec::default();
    let as_of = NaiveDate::from_ymd_opt(2024, 6, 30);
    let whole = load_table(table, &path, &spec, as_of);
    let mut kept_rows = 0;
    let pieces = load_table_in_pieces::<IngestError>(table, &path, &spec, as_of, 7, &mut |f| {
        kept_rows += f.height();
        Ok(())
    });
    match &whole {
        Ok(v) => {
            let s = &v.summary;
            prop_assert_eq!(s.rows_in, s.rows_kept + s.rows_rejected);
            prop_assert_eq!(v.frame.height(), s.rows_kept);
            prop_assert_eq!(v.rejects.height(), s.rows_rejected);
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(!message.is_empty());
            prop_assert_eq!(message.lines().count(), 1, "{}", message);
            prop_assert!(message.chars().count() < 600, "{}", message);
        }
    }
    if let (Ok(v), Ok(p)) = (&whole, &pieces) {
        prop_assert_eq!(&p.summary, &v.summary);
        prop_assert_eq!(kept_rows, v.summary.rows_kept);
    }
    if let Err(e) = &pieces {
        prop_assert_eq!(e.to_string().lines().count(), 1, "{}", e);
    }
    Ok(())
}

/// A field as real files (and broken ones) have them.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,5}",
        " ?[0-9]{5} ?",
        "\u{FF10}[0-9]{4}",
        "[0-9]{5}\u{200B}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        "2[0-9]{3}-0[1-9]-1[0-9]T1[0-9]:00:00",
        "(1677|1678|2262|2263|9999)-0[1-9]-1[0-9]",
        "-?[0-9]{1,16}(\\.[0-9]{1,4})?",
        "-?[0-9]e[0-9]{1,3}",
        "(yes|no|0|1|true|maybe)",
        "\"[a-z ,\n\"]{0,6}\"",
        "[a-z\"]{0,4}",
        "\\PC{0,4}",
        "",
    ]
}

fn header() -> impl Strategy<Value = Vec<String>> {
    let name = prop_oneof![
        Just("customer_id"),
        Just("order_date"),
        Just("amount"),
        Just("order_id"),
        Just(" amount"),
        Just("channel"),
        Just("campaign_id"),
        Just("contact_date"),
        Just("email_opt_in"),
        Just("x"),
    ];
    prop::collection::vec(name.prop_map(str::to_string), 1..6)
}

fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    (
        header(),
        prop::collection::vec(prop::collection::vec(field(), 0..6), 0..10),
        prop_oneof![Just("\n"), Just("\r\n")],
        prop_oneof![Just(","), Just(";"), Just("\t")],
        any::<bool>(),
    )
        .prop_map(|(header, rows, eol, sep, final_eol)| {
            let mut text = header.join(sep);
            for row in rows {
                text.push_str(eol);
                text.push_str(&row.join(sep));
            }
            if final_eol {
                text.push_str(eol);
            }
            text.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        t in 0..TABLES.len(),
    ) {
        check_bytes(&bytes, TABLES[t])?;
    }

    #[test]
    fn arbitrary_csv_like_text_never_panics(bytes in csv_like(), t in 0..TABLES.len()) {
        check_bytes(&bytes, TABLES[t])?;
    }
}
