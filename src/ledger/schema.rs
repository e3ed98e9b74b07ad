//! The ledger's tables, versioned: `PRAGMA user_version` holds the schema version and
//! [`migrate`] brings an older file forward one step at a time, each step in the same
//! transaction as the version bump, so a file is never half migrated.

use rusqlite::Connection;

/// The schema version this bullseye writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Step `k` takes a file from version `k` to `k + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 0 → 1: runs, their campaigns and selected customers, responses, settings.
    r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    run_id           INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    job_name         TEXT NOT NULL,
    as_of            TEXT NOT NULL,
    bullseye_version TEXT NOT NULL,
    inputs           TEXT NOT NULL,
    folder           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'published')),
    pid              INTEGER NOT NULL
);
CREATE INDEX runs_folder ON runs (folder);
CREATE TABLE campaigns (
    run_id               INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    campaign             TEXT NOT NULL,
    send_date            TEXT NOT NULL,
    response_window_days INTEGER NOT NULL,
    control_fraction     REAL NOT NULL,
    audience_file        TEXT NOT NULL,
    audience_hash        TEXT NOT NULL,
    PRIMARY KEY (run_id, campaign)
);
CREATE TABLE selections (
    run_id         INTEGER NOT NULL,
    campaign       TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    grp            TEXT NOT NULL CHECK (grp IN ('target', 'control', 'global_control')),
    rank           INTEGER,
    score          REAL,
    expected_value REAL,
    cost           REAL NOT NULL,
    segment        TEXT,
    model          TEXT,
    model_version  TEXT,
    PRIMARY KEY (run_id, campaign, customer_id),
    FOREIGN KEY (run_id, campaign) REFERENCES campaigns (run_id, campaign) ON DELETE CASCADE
);
CREATE INDEX selections_customer ON selections (customer_id);
CREATE TABLE responses (
    campaign      TEXT NOT NULL,
    send_date     TEXT,
    customer_id   TEXT NOT NULL,
    response_date TEXT NOT NULL,
    value         REAL NOT NULL,
    source        TEXT NOT NULL
);
CREATE INDEX responses_campaign ON responses (campaign, customer_id);
"#,
];

/// The file's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the missing steps; returns the version found before. The caller refuses a file newer
/// than [`SCHEMA_VERSION`] before calling this.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", step as i64 + 1)?;
    }
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_migrated_to_the_current_version_and_a_second_migration_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 5);
    }
}
