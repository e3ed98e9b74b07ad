use std::time::Duration;

use super::*;

fn row(id: &str, group: LedgerGroup) -> SelectionRecord {
    SelectionRecord {
        customer_id: id.into(),
        channel: "email".into(),
        group,
        rank: Some(1),
        score: Some(0.5),
        expected_value: Some(10.0),
        cost: if group == LedgerGroup::Target {
            1.0
        } else {
            0.0
        },
        segment: None,
        model: None,
        model_version: None,
    }
}

/// A run of one campaign whose audience file (`folder/audience.csv`) holds `content`.
fn run(folder: &Path, as_of: &str, ids: &[&str], content: &str) -> RunRecord {
    let hash = crate::io::hex(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes()));
    RunRecord {
        kind: "select".into(),
        job_name: "select".into(),
        as_of: as_of.parse().unwrap(),
        inputs: "{}".into(),
        folder: folder.to_path_buf(),
        campaigns: vec![CampaignRecord {
            campaign: "spring".into(),
            send_date: as_of.parse().unwrap(),
            response_window_days: 14,
            control_fraction: 0.1,
            audience_file: "audience.csv".into(),
            audience_hash: hash,
            rows: ids.iter().map(|id| row(id, LedgerGroup::Target)).collect(),
        }],
    }
}

fn ids(l: &Ledger) -> Vec<String> {
    l.contacts(None)
        .unwrap()
        .into_iter()
        .map(|c| c.customer_id)
        .collect()
}

#[test]
fn pending_rows_are_invisible_until_published_and_a_rerun_replaces_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(&dir.path().join("bullseye.db"), Duration::ZERO).unwrap();
    let out = dir.path().join("out");
    let p = l
        .stage_run(&run(&out, "2026-01-05", &["a", "b"], "x"))
        .unwrap();
    assert!(ids(&l).is_empty());
    l.publish_run(p).unwrap();
    assert_eq!(ids(&l), ["a", "b"]);
    let p = l.stage_run(&run(&out, "2026-01-05", &["c"], "y")).unwrap();
    assert_eq!(ids(&l), ["a", "b"]);
    l.publish_run(p).unwrap();
    assert_eq!(ids(&l), ["c"]);
    // Another folder adds; the folder being replaced does not count against itself.
    let p = l
        .stage_run(&run(&dir.path().join("w2"), "2026-01-12", &["d"], "z"))
        .unwrap();
    l.publish_run(p).unwrap();
    assert_eq!(ids(&l), ["c", "d"]);
    let others: Vec<_> = l
        .contacts(Some(&out))
        .unwrap()
        .into_iter()
        .map(|c| c.customer_id)
        .collect();
    assert_eq!(others, ["d"]);
    let p = l.stage_run(&run(&out, "2026-01-05", &["e"], "w")).unwrap();
    l.discard_run(p).unwrap();
    assert_eq!(ids(&l), ["c", "d"]);
}

/// A pending run of a dead process: published when its audience file is on disk with its hash,
/// dropped otherwise.
#[test]
fn pending_runs_of_dead_processes_are_reconciled_against_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bullseye.db");
    let mut l = Ledger::open(&path, Duration::ZERO).unwrap();
    let (swapped, not_swapped) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&swapped).unwrap();
    std::fs::write(swapped.join("audience.csv"), "new").unwrap();
    l.stage_run(&run(&swapped, "2026-01-05", &["a"], "new"))
        .unwrap();
    l.stage_run(&run(&not_swapped, "2026-01-05", &["b"], "new"))
        .unwrap();
    // Pretend a process that cannot exist wrote them.
    l.conn
        .execute("UPDATE runs SET pid = 4294967294", [])
        .unwrap();
    drop(l);
    let l = Ledger::open(&path, Duration::ZERO).unwrap();
    assert_eq!(ids(&l), ["a"]);
    let runs: i64 = l
        .conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1);
}

#[test]
fn a_second_writer_fails_with_a_clear_message_past_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bullseye.db");
    let mut first = Ledger::open(&path, Duration::ZERO).unwrap();
    let tx = first
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let mut second = Ledger {
        conn: Connection::open(&path).unwrap(),
        path: path.clone(),
        busy_timeout: Duration::from_millis(100),
    };
    second
        .conn
        .busy_timeout(Duration::from_millis(100))
        .unwrap();
    let e = second
        .stage_run(&run(dir.path(), "2026-01-05", &["a"], "x"))
        .unwrap_err();
    assert!(matches!(e, LedgerError::Busy { .. }), "{e}");
    assert!(e
        .to_string()
        .contains("is busy: another bullseye process is writing it"));
    drop(tx);
    second
        .stage_run(&run(dir.path(), "2026-01-05", &["a"], "x"))
        .unwrap();
}

#[test]
fn a_newer_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bullseye.db");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let e = Ledger::open(&path, Duration::ZERO).unwrap_err();
    assert!(matches!(e, LedgerError::TooNew { .. }), "{e}");
}
