//! The embedded SQLite store: opening and migrating the file, and the write/read helpers
//! every domain module goes through.
//!
//! Architecture invariant: one connection behind a mutex is the only writer, so change-log
//! cursors are handed out in commit order (pull and stream rely on it) and "first accept
//! wins" is a plain conditional UPDATE. SQL stays inside the domain modules, always against a
//! [`Tx`] or a `&Connection`, never in HTTP handlers.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use pitstop_api::{Id, JobLine, Millis, Uuid};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

use crate::live::LiveChange;

/// `execute` and `query_row` through the connection's statement cache: hot paths run the
/// same statements again and again, and parsing SQL each time cost more than running them.
pub(crate) trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// The platform's schema, in order. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_share_links.sql"),
    include_str!("../migrations/0003_sync_v2.sql"),
    include_str!("../migrations/0004_identity.sql"),
    include_str!("../migrations/0005_tap_times.sql"),
    include_str!("../migrations/0006_places.sql"),
    include_str!("../migrations/0007_currency.sql"),
    include_str!("../migrations/0008_walk_in_customers.sql"),
    include_str!("../migrations/0009_lean_change_log.sql"),
];

/// Schema version this build creates and understands.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATIONS
            .iter()
            .map(|sql| M::up(sql).foreign_key_check())
            .collect(),
    )
}

/// Opens (creating if needed) and migrates the database at `path`.
///
/// A file written by a newer platform is refused rather than silently downgraded.
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let mut conn =
        Connection::open(path).with_context(|| format!("opening database {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 64 MiB of page cache: the working set of a busy city stays in memory.
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(256);
    let m = migrations();
    let known = SCHEMA_VERSION as i64;
    let on_disk: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if on_disk > known {
        anyhow::bail!(
            "database {} has schema version {on_disk}, newer than this server knows ({known}); \
             run a newer pitstop-platform",
            path.display()
        );
    }
    // Foreign keys are enforced only after migrating (the bundled SQLite turns them on by
    // default): a table rebuild (0004) drops a table others refer to. Each migration checks
    // the keys before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    m.to_latest(&mut conn)
        .with_context(|| format!("migrating database {}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Opens a read-only connection to a database [`open`] has migrated: WAL lets it read the
/// last committed state while the writer works.
pub fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let conn =
        Connection::open(path).with_context(|| format!("opening database {}", path.display()))?;
    conn.pragma_update(None, "query_only", "ON")?;
    // 8 MiB of page cache each: reads of hot rows stay in memory, four readers stay small.
    conn.pragma_update(None, "cache_size", -8192)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// An open write transaction plus what to do once it commits.
pub struct Tx<'c> {
    /// The SQLite transaction; dropped without commit on error, which rolls back.
    pub tx: Transaction<'c>,
    /// Changes to broadcast to live streams after commit (never before: a reader must be
    /// able to pull what it was told about).
    pub live: Vec<Arc<LiveChange>>,
    /// Offers whose expiry timer starts after commit.
    pub timers: Vec<(Id, Millis)>,
    /// When set (a sync push batch), orders touched are published once at the end of the
    /// batch instead of after every mutation: one change-log entry per order per batch.
    pub deferred: Option<Vec<Id>>,
    /// The client mutation being applied (sync push), recorded on the lines it creates so
    /// devices can tell their own pending actions from lines already on the platform.
    pub mutation: Option<Uuid>,
    /// When the mutation being applied was tapped, by the device (platform clock).
    pub tapped_at: Option<Millis>,
    /// Job-sheet lines created in this transaction, for the push answer.
    pub created: Vec<JobLine>,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("live", &self.live.len())
            .finish()
    }
}

impl<'c> std::ops::Deref for Tx<'c> {
    type Target = Transaction<'c>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

/// Begins an IMMEDIATE transaction (takes the write lock up front, so two processes on one
/// file cannot both read-then-write).
pub fn begin(conn: &mut Connection) -> rusqlite::Result<Tx<'_>> {
    Ok(Tx {
        tx: conn.transaction_with_behavior(TransactionBehavior::Immediate)?,
        live: Vec::new(),
        timers: Vec::new(),
        deferred: None,
        mutation: None,
        tapped_at: None,
        created: Vec::new(),
    })
}

/// A sent-late mark is shown when the platform heard of an action this long after it.
pub const LATE_MS: Millis = 60_000;
/// How far back a tapped time is believed.
const TAP_HORIZON_MS: Millis = 7 * 24 * 3600 * 1000;

impl Tx<'_> {
    /// When what is being written happened, and (if over [`LATE_MS`] later) when the platform
    /// received it. A device's tap time is believed within bounds: not in the future, not
    /// before `not_before` (the order's previous step), at most 7 days back.
    pub fn event_time(&self, not_before: Millis) -> (Millis, Option<Millis>) {
        let now = now_ms();
        let Some(tapped) = self.tapped_at else {
            return (now, None);
        };
        let at = tapped.max(not_before).max(now - TAP_HORIZON_MS).min(now);
        (at, (now - at > LATE_MS).then_some(now))
    }
}

/// Reads a JSON array column as strings.
pub fn json_strings(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_fresh_file_and_refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let conn = open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }

    #[test]
    fn a_version_1_file_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut conn = Connection::open(&path).unwrap();
        Migrations::new(vec![M::up(MIGRATIONS[0])])
            .to_latest(&mut conn)
            .unwrap();
        conn.exec(
            "INSERT INTO workshops (name, lat, lon) VALUES ('Old', 1, 2)",
            [],
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let name: String = conn
            .row("SELECT name FROM workshops", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "Old");
        let links: i64 = conn
            .row("SELECT COUNT(*) FROM share_links", [], |r| r.get(0))
            .unwrap();
        assert_eq!(links, 0);
    }

    #[test]
    fn a_version_2_log_is_compacted_and_republished_as_heads_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut conn = Connection::open(&path).unwrap();
        Migrations::new(vec![M::up(MIGRATIONS[0]), M::up(MIGRATIONS[1])])
            .to_latest(&mut conn)
            .unwrap();
        // A v2 platform: one order with two notes, whose whole snapshot was logged three
        // times (booked, note, note), each to the owner and admins.
        conn.execute_batch(
            "INSERT INTO accounts (id, role, name, created_at) VALUES (1, 'owner', 'ann', 0);
             INSERT INTO vehicles (id, owner_id, vin, plate, make, model, created_at)
                 VALUES (1, 1, 'WVWZZZ1JZXW000001', 'B-PS 1', 'VW', 'Golf', 0);
             INSERT INTO orders (id, created_by, owner_id, vehicle_id, service, skill, lat, lon,
                 window_start, window_end, price_cents, status, created_at, updated_at, version)
                 VALUES (1, 1, 1, 1, 'oil_change', 'oil', 52.5, 13.4, 0, 1, 8900, 'pending', 0, 0, 3);
             INSERT INTO order_timeline (order_id, at, status, actor_id, note) VALUES (1, 0, 'pending', 1, 'Booked');
             INSERT INTO job_notes (order_id, author_id, text, created_at) VALUES (1, 1, 'one', 1), (1, 1, 'two', 2);",
        )
        .unwrap();
        for v in 1..=3 {
            conn.exec(
                "INSERT INTO changes (kind, data, at) VALUES ('order', ?1, 0)",
                [format!(
                    r#"{{"kind":"order","data":{{"id":1,"version":{v}}}}}"#
                )],
            )
            .unwrap();
            let cursor = conn.last_insert_rowid();
            for a in ["a1", "admin"] {
                conn.exec(
                    "INSERT INTO change_audience (audience, cursor) VALUES (?1, ?2)",
                    (a, cursor),
                )
                .unwrap();
            }
        }
        drop(conn);
        let mut conn = open(&path).unwrap();
        let count =
            |conn: &Connection, sql: &str| -> i64 { conn.row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count(&conn, "SELECT count(*) FROM changes"), 1, "compacted");
        assert_eq!(count(&conn, "SELECT count(*) FROM change_audience"), 2);
        assert_eq!(
            count(&conn, "SELECT note_count FROM orders WHERE id = 1"),
            2
        );
        {
            let mut tx = begin(&mut conn).unwrap();
            assert_eq!(crate::orders::republish_for_sync_v2(&mut tx).unwrap(), 1);
            let Tx { tx, .. } = tx;
            tx.commit().unwrap();
        }
        {
            let mut tx = begin(&mut conn).unwrap();
            let again = crate::orders::republish_for_sync_v2(&mut tx).unwrap();
            assert_eq!(again, 0, "once");
        }
        // One head (superseding the v2 snapshot) and three lines, readable by the owner.
        let (page, _) = crate::changes::read(&conn, &["a1".into()], 0, 100).unwrap();
        let bodies: Vec<pitstop_api::ChangeBody> =
            page.iter().map(|c| c.parse().unwrap().body).collect();
        assert_eq!(bodies.len(), 4, "{bodies:?}");
        let pitstop_api::ChangeBody::Order(head) = &bodies[3] else {
            panic!("the head comes last: {bodies:?}");
        };
        assert_eq!(head.line_counts.notes, 2);
        assert!(head.job_notes.is_empty());
        assert_eq!(
            bodies
                .iter()
                .filter(|b| matches!(b, pitstop_api::ChangeBody::Line(_)))
                .count(),
            3
        );
    }

    #[test]
    fn a_version_3_file_keeps_its_accounts_and_drops_its_never_expiring_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut conn = Connection::open(&path).unwrap();
        Migrations::new(MIGRATIONS[..3].iter().map(|m| M::up(m)).collect())
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO workshops (id, name, lat, lon) VALUES (1, 'W', 52.5, 13.4);
             INSERT INTO accounts (id, role, name, workshop_id, created_at) VALUES (7, 'desk', 'dora', 1, 0);
             INSERT INTO tokens (hash, account_id, created_at) VALUES ('h', 7, 0);
             INSERT INTO vehicles (id, workshop_id, vin, plate, make, model, created_at)
                 VALUES (1, 1, 'WVWZZZ1JZXW000001', 'B-PS 1', 'VW', 'Golf', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let (dev, ws): (bool, i64) = conn
            .row(
                "SELECT dev, workshop_id FROM accounts WHERE id = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(dev, "old accounts were dev-login accounts");
        assert_eq!(ws, 1);
        let tokens: i64 = conn
            .row("SELECT COUNT(*) FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tokens, 0, "tokens without an expiry stop working");
        let fk: bool = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are enforced after migrating");
        // References into the rebuilt table still hold.
        conn.execute(
            "INSERT INTO sessions (account_id, device, refresh_hash, created_at, last_used_at, expires_at) VALUES (7, 'd', 'r', 0, 0, 1)",
            [],
        )
        .unwrap();
        assert!(
            conn.execute(
                "INSERT INTO sessions (account_id, device, refresh_hash, created_at, last_used_at, expires_at) VALUES (99, 'd', 'r2', 0, 0, 1)",
                [],
            )
            .is_err()
        );
    }

    #[test]
    fn a_version_8_file_keeps_its_log_readable_with_the_leaner_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut conn = Connection::open(&path).unwrap();
        Migrations::new(MIGRATIONS[..8].iter().map(|m| M::up(m)).collect())
            .to_latest(&mut conn)
            .unwrap();
        // Two changes for two audiences each, and an audience row left without its change.
        for (cursor, entity) in [(1, "technician:1"), (2, "location:1")] {
            conn.exec(
                "INSERT INTO changes (cursor, kind, data, at, entity, audiences) \
                 VALUES (?1, 'technician', '{\"kind\":\"technician\",\"data\":{}}', 0, ?2, 'a1 admin')",
                (cursor, entity),
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO change_audience (audience, cursor) VALUES ('a1', 1), ('admin', 1), ('a1', 2), ('admin', 2);
             PRAGMA foreign_keys = OFF;
             INSERT INTO change_audience (audience, cursor) VALUES ('a1', 9);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let count = |sql: &str| -> i64 { conn.row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM change_audience"),
            4,
            "the stray row went"
        );
        assert_eq!(
            count("SELECT count(*) FROM sqlite_master WHERE name = 'change_audience_by_cursor'"),
            0
        );
        let pruning: String = conn
            .row(
                "SELECT sql FROM sqlite_master WHERE name = 'changes_pruning'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(pruning.contains("WHERE kind IN"), "{pruning}");
        // Pages read as before, once per change even when two audiences reach it.
        let who = vec!["a1".to_string(), "admin".to_string()];
        let (page, more) = crate::changes::read(&conn, &who, 0, 10).unwrap();
        assert_eq!(
            page.iter().map(|c| c.cursor).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(!more);
        let (page, more) = crate::changes::read(&conn, &who, 0, 1).unwrap();
        assert_eq!((page.len(), more), (1, true));
        // And the pruning query still finds what it should (through the partial index).
        let plan: String = conn
            .row(
                "EXPLAIN QUERY PLAN SELECT cursor FROM changes WHERE kind IN ('location', 'offer') \
                 AND ((kind = 'location' AND at < 1) OR (kind = 'offer' AND at < 1))",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("changes_pruning"), "{plan}");
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let conn = open(&path).unwrap();
        conn.exec(
            "INSERT INTO workshops (name, lat, lon) VALUES ('A', 1, 2)",
            [],
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let n: i64 = conn
            .row("SELECT count(*) FROM workshops", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
