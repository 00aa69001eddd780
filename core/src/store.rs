//! The local cache: one SQLite file per signed-in account (WAL), its schema applied from the
//! workspace's `migrations/` directory in order at open. Every read the UI makes is served
//! from here and never waits for the network.
//!
//! Architecture invariant: a user action is one transaction that writes the outbox entry and
//! the optimistic view together ([`Store::enqueue`]); the platform's answers and pulled
//! changes land through [`Store::settle`] and [`Store::apply_changes`], also one transaction
//! each. So a process killed at any instruction leaves either all of a step or none of it.
//!
//! Opening a file written by a newer build is an error, never a silent downgrade.

use std::path::Path;

pub use pitstop_api::device::{LocalAnswer, OfferView, OutboxEntry};
use pitstop_api::{
    Change, ChangeBody, Id, JobLine, Millis, Mutation, MutationOp, MutationResult, Offer,
    OfferStatus, Order, OrderStatus, Outcome, TechnicianFix, Uuid,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result};
use crate::overlay::{self, PendingAction};

/// `execute` and `query_row` through the connection's statement cache: the landing path
/// runs the same few statements per change, and parsing SQL each time cost more than running it.
trait Cached {
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

/// Schema version this build creates and understands.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_cache.sql"),
    include_str!("../../migrations/0002_lines.sql"),
    include_str!("../../migrations/0003_view_once.sql"),
    include_str!("../../migrations/0004_fewer_indexes.sql"),
    include_str!("../../migrations/0005_pending_lines_at_read.sql"),
];

/// Now in Unix milliseconds.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// What applying a batch of changes touched, for change notifications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    pub orders: Vec<Id>,
    pub offers: Vec<Id>,
    pub positions: Vec<Id>,
}

impl Applied {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.offers.is_empty() && self.positions.is_empty()
    }
}

/// An open cache.
#[derive(Debug)]
pub struct Store {
    /// WAL mode, so a reader in another connection never waits for the sync worker.
    conn: Connection,
    /// The signed-in account; optimistic entries are authored by it.
    me: Id,
    /// A bulk landing turned automatic checkpoints off: the WAL is copied into the
    /// database once, by [`Store::settle_wal`], after the sync instead of every few pages.
    /// Holds the debt's mark (see [`WalDebt`]).
    checkpoint_owed: Option<String>,
}

/// SQLite's default: automatic checkpoints every this many WAL pages.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

/// A checkpoint a bulk landing left owed: the cache file to copy the WAL of, and the mark
/// of that landing, so that settling it never clears the debt of a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalDebt {
    /// The cache file (see [`checkpoint_file`]).
    pub path: std::path::PathBuf,
    mark: String,
}

/// SQL: whether an outbox row's op is a note or a part (a job-sheet line, which reads join
/// from the outbox instead of a stored view).
macro_rules! line_op {
    () => {
        "json_extract(op, '$.op') IN ('order_note', 'order_part')"
    };
}

/// SQL: an order's (`?1`) pending outbox rows that also meet a condition, oldest first.
macro_rules! pending_sql {
    ($($cond:expr),+) => {
        concat!(
            "SELECT seq, op, created_at FROM outbox WHERE order_id = ?1 AND state = 'pending' AND ",
            $($cond),+,
            " ORDER BY seq"
        )
    };
}

fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATIONS
            .iter()
            .enumerate()
            .map(|(i, sql)| match i {
                1 => M::up_with_hook(sql, |tx: &Transaction<'_>| {
                    upgrade_to_lines(tx)
                        .map_err(|e| rusqlite_migration::HookError::Hook(e.to_string()))
                }),
                _ => M::up(sql),
            })
            .collect(),
    )
}

/// Version 1 -> 2: moves each cached order's job sheet into `order_lines`, so the rows keep
/// only the head, as sync v2 snapshots do. Pending actions stay in the outbox untouched.
fn upgrade_to_lines(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(Id, Option<String>, String)> = tx
        .prepare("SELECT id, server, local FROM orders")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, server, local) in rows {
        let server = match server {
            Some(s) => {
                let mut o: Order = serde_json::from_str(&s)?;
                for l in overlay::split_lines(&mut o) {
                    Store::upsert_line(tx, &l)?;
                }
                Some(serde_json::to_string(&o)?)
            }
            None => None,
        };
        // The view's lines come back at read time (platform lines) and from the outbox
        // (pending ones); a provisional order keeps its own "booked here" entry.
        let mut view: Order = serde_json::from_str(&local)?;
        if server.is_some() {
            view.job_notes.clear();
            view.parts.clear();
            view.timeline.clear();
        }
        tx.exec(
            "UPDATE orders SET server = ?2, local = ?3 WHERE id = ?1",
            (id, server, serde_json::to_string(&view)?),
        )?;
    }
    Ok(())
}

/// The searchable and sortable columns of an order row: status, plate, VIN, customer.
fn order_columns(o: &Order) -> (String, String, String, String) {
    (
        o.status.as_str().to_string(),
        o.vehicle.plate.clone(),
        o.vehicle.vin.clone(),
        o.customer_name.clone().unwrap_or_default(),
    )
}

/// A value from `sync_state` (also inside a transaction, which derefs to a connection).
fn state_in(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Builds the indexes and triggers a bulk landing dropped (see
/// [`Store::begin_bulk_landing`]), if one is under way.
fn restore_bulk_indexes(conn: &mut Connection) -> Result<()> {
    let Some(saved) = state_in(conn, "bulk_indexes")? else {
        return Ok(());
    };
    // Unreadable, the key stays: better an error each open than indexes lost for good.
    let statements: Vec<String> = serde_json::from_str(&saved)?;
    // Dropped in one transaction and built in one: all of them are missing, or none.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for sql in statements {
        tx.execute_batch(&sql)?;
    }
    tx.exec("DELETE FROM sync_state WHERE key = 'bulk_indexes'", [])?;
    tx.commit()?;
    Ok(())
}

/// Copies a cache's WAL into its database file through a connection of its own (a
/// passive checkpoint waits for nobody, and nobody waits for it). Answers whether the
/// debt is paid: false when another checkpoint was running, or when more than an automatic
/// checkpoint's worth is left (a reader kept old pages); then it is tried again later.
pub fn checkpoint_file(path: &Path) -> Result<bool> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // SQLite reports these in the row, not as an error.
    let (busy, in_wal, copied): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(busy == 0 && in_wal - copied <= AUTOCHECKPOINT_PAGES)
}

impl Store {
    /// Opens or creates the cache at `path` for account `me` and brings its schema up to date.
    pub fn open(path: &Path, me: Id) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: an acknowledged tap survives power loss, not only an app kill.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // 32 MiB of page cache (the default is 2): landing a first sync touches the order
        // indexes all over, and re-reading their pages from the OS cost a third of the time.
        conn.pragma_update(None, "cache_size", -32768)?;
        // Room for every statement the store runs, so the cache never evicts a hot one.
        conn.set_prepared_statement_cache_capacity(128);
        // A first sync grows the WAL to the size of the cache; it shrinks back after the
        // checkpoint instead of keeping that space.
        conn.pragma_update(None, "journal_size_limit", 8 << 20)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION as i64 {
            return Err(Error::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        // A first sync whose checkpoint was still owed when the app stopped: it stays owed
        // (the sync worker does it), rather than falling on the first tap or on this open's
        // own commits below.
        let checkpoint_owed = if found >= 1 {
            state_in(&conn, "wal_owed")?
        } else {
            None
        };
        if checkpoint_owed.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        if found >= 1 {
            // A first sync the app was killed in: its indexes come back before anything
            // reads, and before migrations that expect them. Should that fail (a full
            // disk), the cache still opens; the next open tries again.
            if let Err(e) = restore_bulk_indexes(&mut conn) {
                tracing::warn!(error = %e, "rebuilding the indexes of an unfinished first sync");
            }
        }
        migrations().to_latest(&mut conn)?;
        let mut store = Self {
            conn,
            me,
            checkpoint_owed,
        };
        if (1..2).contains(&found) {
            // Views written by version 1 embedded pending actions' lines; the upgrade took
            // them out, so put them back from the outbox.
            let tx = store.begin()?;
            let ids: Vec<Id> = tx
                .prepare("SELECT DISTINCT order_id FROM outbox WHERE state = 'pending' AND order_id IS NOT NULL")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for id in ids {
                Self::refresh_order(&tx, me, id)?;
            }
            tx.commit()?;
        }
        Ok(store)
    }

    /// The account this cache belongs to.
    pub fn me(&self) -> Id {
        self.me
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn begin(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    // ----- sync bookkeeping -------------------------------------------------------------

    /// A value from `sync_state`.
    pub fn state(&self, key: &str) -> Result<Option<String>> {
        state_in(&self.conn, key)
    }

    fn set_state(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
        tx.exec(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )?;
        Ok(())
    }

    /// The platform's clock minus this device's, as last learned (0 before the first sync).
    pub fn clock_offset(&self) -> Result<i64> {
        Ok(self
            .state("clock_offset_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Keeps the clock offset a sync measured.
    pub fn set_clock_offset(&mut self, offset: i64) -> Result<()> {
        if self.clock_offset()? != offset {
            self.put_state("clock_offset_ms", &offset.to_string())?;
        }
        Ok(())
    }

    /// Records a value in `sync_state`.
    pub fn put_state(&mut self, key: &str, value: &str) -> Result<()> {
        let tx = self.begin()?;
        Self::set_state(&tx, key, value)?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a value in `sync_state`.
    pub fn delete_state(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_state WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Starts a first sync's bulk landing when the cache holds no orders and no cursor: the
    /// secondary indexes and the (search) triggers of `orders` and `order_lines` are dropped
    /// (their definitions kept in `sync_state`) so that pages land into bare tables, and
    /// [`Self::end_bulk_landing`] builds them once, sorted, at the end. Building an index at
    /// the end costs a fraction of keeping it through 150,000 inserts, and the triggers
    /// would do nothing before the search index exists. Answers whether it started.
    pub fn begin_bulk_landing(&mut self) -> Result<bool> {
        let fresh: bool = self.conn.row(
            "SELECT NOT EXISTS (SELECT 1 FROM orders) AND NOT EXISTS (SELECT 1 FROM order_lines) \
             AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key IN ('cursor', 'bulk_indexes'))",
            [],
            |r| r.get(0),
        )?;
        if !fresh {
            return Ok(false);
        }
        let tx = self.begin()?;
        // A cache emptied for a resync may still say its search index is built: it is
        // not, for what lands now, so it is built again after this sync.
        tx.execute_batch(
            "DELETE FROM sync_state WHERE key IN ('search_ready', 'search_built_to'); \
             DELETE FROM order_search;",
        )?;
        let indexes: Vec<(String, String)> = tx
            .prepare(
                "SELECT type || ' \"' || replace(name, '\"', '') || '\"', sql FROM sqlite_master \
                 WHERE type IN ('index', 'trigger') AND tbl_name IN ('orders', 'order_lines') \
                 AND sql IS NOT NULL ORDER BY type, name",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Self::set_state(
            &tx,
            "bulk_indexes",
            &serde_json::to_string(&indexes.iter().map(|i| &i.1).collect::<Vec<_>>())?,
        )?;
        for (name, _) in &indexes {
            tx.execute_batch(&format!("DROP {name}"))?;
        }
        // Copying the WAL into the database every 1,000 pages cost about a quarter of
        // landing; it is done once, after the sync (the WAL keeps every page safe
        // meanwhile). Remembered on disk, so a killed app still owes it after a restart.
        // Marked by the time, so a worker settling an older debt leaves this one owed.
        let mark = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_string();
        Self::set_state(&tx, "wal_owed", &mark)?;
        tx.commit()?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        self.checkpoint_owed = Some(mark);
        Ok(true)
    }

    /// After a bulk landing: the cache file to checkpoint (see [`checkpoint_file`]), if a
    /// checkpoint is owed. The copy can then run on its own connection, off the store's
    /// lock, while reads and taps go on; [`Store::wal_settled`] afterwards.
    pub fn wal_owed(&self) -> Option<WalDebt> {
        let mark = self.checkpoint_owed.clone()?;
        let path = self.conn.path().filter(|p| !p.is_empty())?;
        Some(WalDebt {
            path: path.into(),
            mark,
        })
    }

    /// Turns automatic checkpoints back on once the owed one has run, unless a newer bulk
    /// landing owes one of its own by now. Answers whether `debt` was the one owed.
    pub fn wal_settled(&mut self, debt: &WalDebt) -> Result<bool> {
        if self.checkpoint_owed.as_ref() != Some(&debt.mark) {
            return Ok(false);
        }
        self.conn
            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)?;
        self.delete_state("wal_owed")?;
        self.checkpoint_owed = None;
        Ok(true)
    }

    /// [`Store::wal_owed`], [`checkpoint_file`] and [`Store::wal_settled`] in one go, under
    /// the caller's hold of the store. Answers whether it paid one.
    pub fn settle_wal(&mut self) -> Result<bool> {
        let Some(debt) = self.wal_owed() else {
            return Ok(false);
        };
        if !checkpoint_file(&debt.path)? {
            return Ok(false);
        }
        self.wal_settled(&debt)
    }

    /// Ends a bulk landing (also one a killed app left behind, on the next open): builds
    /// the indexes it dropped. Nothing to do when none is under way.
    pub fn end_bulk_landing(&mut self) -> Result<()> {
        restore_bulk_indexes(&mut self.conn)
    }

    /// The highest change-log cursor applied.
    pub fn cursor(&self) -> Result<i64> {
        Ok(self
            .state("cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// This install's device id (made once, kept forever).
    pub fn device_id(&mut self) -> Result<String> {
        if let Some(d) = self.state("device_id")? {
            return Ok(d);
        }
        let d = Uuid::new_v4().simple().to_string();
        self.put_state("device_id", &d)?;
        Ok(d)
    }

    // ----- reads ------------------------------------------------------------------------

    fn orders_where(&self, sql_where: &str, args: impl rusqlite::Params) -> Result<Vec<Order>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT COALESCE(local, server) FROM orders {sql_where}"
        ))?;
        let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let view: Order = serde_json::from_str(&row?)?;
            out.push(self.with_lines(view)?);
        }
        Ok(out)
    }

    /// The platform's lines of an order, oldest first within each kind.
    pub fn lines(&self, order: Id) -> Result<Vec<JobLine>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT data FROM order_lines WHERE order_id = ?1 ORDER BY kind, at, id",
        )?;
        let rows = stmt.query_map([order], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// A view row (head plus pending steps) with the platform's lines put first and the
    /// pending notes and parts after them.
    fn with_lines(&self, mut view: Order) -> Result<Order> {
        let lines = self.lines(view.id)?;
        let queued = Self::pending_lines(&self.conn, view.id)?;
        if lines.is_empty() && queued.is_empty() {
            return Ok(view);
        }
        let pending = (
            std::mem::take(&mut view.job_notes),
            std::mem::take(&mut view.parts),
            std::mem::take(&mut view.timeline),
        );
        view.add_lines(&lines);
        view.timeline.sort_by_key(|t| t.at);
        view.job_notes.extend(pending.0);
        view.parts.extend(pending.1);
        view.timeline.extend(pending.2);
        Ok(overlay::apply(view, &queued, self.me))
    }

    /// Orders as the user sees them, most recently changed first; optionally one status.
    pub fn orders(&self, status: Option<OrderStatus>, limit: u32) -> Result<Vec<Order>> {
        match status {
            Some(s) => self.orders_where(
                "WHERE status = ?1 ORDER BY updated_at DESC, id DESC LIMIT ?2",
                (s.as_str(), limit),
            ),
            None => self.orders_where("ORDER BY updated_at DESC, id DESC LIMIT ?1", [limit]),
        }
    }

    /// Open jobs (assigned through in progress), the technician's work list.
    pub fn active_jobs(&self) -> Result<Vec<Order>> {
        self.orders_where(
            "WHERE status IN ('assigned', 'en_route', 'arrived', 'in_progress') ORDER BY updated_at DESC",
            [],
        )
    }

    /// Whether a job on this device is en route (its customer may be watching the map).
    pub fn en_route(&self) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE status = 'en_route')",
            [],
            |r| r.get(0),
        )?)
    }

    /// Finished orders, newest first.
    pub fn history(&self, limit: u32) -> Result<Vec<Order>> {
        self.orders_where(
            "WHERE status IN ('completed', 'cancelled') ORDER BY updated_at DESC LIMIT ?1",
            [limit],
        )
    }

    /// One order.
    pub fn order(&self, id: Id) -> Result<Option<Order>> {
        Ok(self.orders_where("WHERE id = ?1", [id])?.into_iter().next())
    }

    /// Orders whose plate, VIN or customer contains `q` (case-insensitive): through the
    /// trigram index once it is built, else (or for one or two characters) by a scan.
    pub fn search(&self, q: &str, limit: u32) -> Result<Vec<Order>> {
        let q = q.trim();
        if q.chars().count() >= 3 && self.state("search_ready")?.as_deref() == Some("1") {
            // One FTS5 phrase; quotes inside are doubled.
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            return self.orders_where(
                "WHERE id IN (SELECT rowid FROM order_search WHERE order_search MATCH ?1) \
                 ORDER BY updated_at DESC, id DESC LIMIT ?2",
                (phrase, limit),
            );
        }
        self.search_scan(q, limit)
    }

    /// Builds the search index over the cached orders, in chunks of a few thousand rows per
    /// transaction so actions and landings are never held up for long; a no-op once built.
    /// Returns whether it did anything.
    pub fn build_search_index(&mut self) -> Result<bool> {
        let mut built = false;
        while self.build_search_index_chunk()? {
            built = true;
        }
        Ok(built)
    }

    /// One chunk of [`Store::build_search_index`]: returns false once the index is ready,
    /// so a caller can let go of the store between chunks.
    pub fn build_search_index_chunk(&mut self) -> Result<bool> {
        if self.state("search_ready")?.as_deref() == Some("1") {
            return Ok(false);
        }
        const CHUNK: i64 = 5000;
        let from: i64 = self
            .state("search_built_to")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MIN);
        {
            let tx = self.begin()?;
            if from == i64::MIN {
                tx.exec("DELETE FROM order_search", [])?;
            }
            let last: Option<i64> = tx.row(
                "SELECT max(id) FROM (SELECT id FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2)",
                (from, CHUNK),
                |r| r.get(0),
            )?;
            let Some(last) = last else {
                // Done: from now on the triggers keep it current, in the same transactions
                // as the rows they index.
                Self::set_state(&tx, "search_ready", "1")?;
                tx.commit()?;
                return Ok(true);
            };
            tx.exec(
                "INSERT INTO order_search (rowid, text) SELECT id, plate || ' ' || vin || ' ' || customer \
                 FROM orders WHERE id > ?1 AND id <= ?2",
                (from, last),
            )?;
            // From here on the triggers keep rows up to `last` current (see 0002_lines.sql).
            Self::set_state(&tx, "search_built_to", &last.to_string())?;
            tx.commit()?;
        }
        Ok(true)
    }

    fn search_scan(&self, q: &str, limit: u32) -> Result<Vec<Order>> {
        let pattern = format!(
            "%{}%",
            q.trim()
                .to_uppercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        self.orders_where(
            "WHERE upper(plate) LIKE ?1 ESCAPE '\\' OR upper(vin) LIKE ?1 ESCAPE '\\' \
             OR upper(customer) LIKE ?1 ESCAPE '\\' ORDER BY updated_at DESC LIMIT ?2",
            (pattern, limit),
        )
    }

    /// Open offers with the time left and this device's answer, soonest expiry first.
    pub fn offers(&self, now: Millis) -> Result<Vec<OfferView>> {
        let mut stmt = self.conn.prepare_cached(
            // This device's latest answer to each offer, if it is pending or refused.
            "SELECT f.data, o.op, o.state, o.reason FROM offers f \
             LEFT JOIN outbox o ON o.seq = (SELECT max(seq) FROM outbox \
                 WHERE offer_id = f.id AND state IN ('pending', 'rejected')) \
             WHERE f.status = 'pending' ORDER BY f.expires_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (data, op, state, reason) = row?;
            let offer: Offer = serde_json::from_str(&data)?;
            let op: Option<MutationOp> = op.map(|o| serde_json::from_str(&o)).transpose()?;
            let local = match (op, state.as_deref()) {
                (Some(_), Some("rejected")) => Some(LocalAnswer::Refused),
                (Some(MutationOp::OfferAccept { .. }), _) => Some(LocalAnswer::Accepting),
                (Some(MutationOp::OfferDecline { .. }), _) => Some(LocalAnswer::Declining),
                _ => None,
            };
            out.push(OfferView {
                local,
                reason,
                ..OfferView::at(offer, now)
            });
        }
        Ok(out)
    }

    /// One offer as last described by the platform.
    pub fn offer(&self, id: Id) -> Result<Option<Offer>> {
        let data: Option<String> = self
            .conn
            .row("SELECT data FROM offers WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// A technician's latest known position.
    pub fn position(&self, technician: Id) -> Result<Option<TechnicianFix>> {
        let data: Option<String> = self
            .conn
            .row(
                "SELECT data FROM positions WHERE technician_id = ?1",
                [technician],
                |r| r.get(0),
            )
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// Local actions not yet answered by the platform.
    pub fn pending_count(&self) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT count(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    fn entries(&self, sql_where: &str) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT seq, id, op, created_at, attempts, state, code, reason FROM outbox {sql_where} ORDER BY seq"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<u16>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, op, created_at, attempts, state, code, reason) = row?;
            out.push(OutboxEntry {
                seq,
                id: Uuid::parse_str(&id).map_err(|e| Error::BadAnswer(e.to_string()))?,
                op: serde_json::from_str(&op)?,
                created_at,
                attempts,
                state,
                code,
                reason,
            });
        }
        Ok(out)
    }

    /// Actions still waiting for the platform, oldest first.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("WHERE state = 'pending'")
    }

    /// Actions the platform refused and the user has not dismissed, with reasons.
    pub fn failed(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("WHERE state = 'rejected'")
    }

    /// Whether this device last put its technician on shift (its latest shift action not
    /// refused), or `None` when it never changed the shift.
    pub fn last_shift(&self) -> Result<Option<bool>> {
        let last = self
            .entries(
                "WHERE state IN ('pending', 'applied') AND json_extract(op, '$.op') = 'shift'",
            )?
            .pop();
        Ok(last.and_then(|e| match e.op {
            MutationOp::Shift(s) => Some(s.on_shift),
            _ => None,
        }))
    }

    /// Every outbox entry (tests and diagnostics).
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("")
    }

    /// Hides a failed action from the sync badge.
    pub fn dismiss(&mut self, seq: i64) -> Result<()> {
        let tx = self.begin()?;
        tx.exec(
            "UPDATE outbox SET state = 'dismissed' WHERE seq = ?1 AND state = 'rejected'",
            [seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    // ----- local actions ----------------------------------------------------------------

    /// The order's pending actions that change its head (steps, a booking, an accept),
    /// oldest first: what its stored view is made of. Notes and parts are not in it; a read
    /// adds them from the outbox ([`Self::pending_lines`]), so queueing one rewrites no
    /// view, and settling one rewrites only the head.
    fn pending_for_order(conn: &Connection, order_id: Id) -> Result<Vec<PendingAction>> {
        Self::pending_where(conn, order_id, pending_sql!("NOT ", line_op!()))
    }

    /// The order's pending notes and parts, oldest first. An action whose line the
    /// platform already sent (its answer was lost, the stream was faster) is left out: it
    /// would show twice.
    fn pending_lines(conn: &Connection, order_id: Id) -> Result<Vec<PendingAction>> {
        Self::pending_where(
            conn,
            order_id,
            pending_sql!(
                line_op!(),
                " AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.mutation_id = outbox.id)"
            ),
        )
    }

    fn pending_where(conn: &Connection, order_id: Id, sql: &str) -> Result<Vec<PendingAction>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([order_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, op, at) = row?;
            out.push(PendingAction {
                seq,
                op: serde_json::from_str(&op)?,
                at,
            });
        }
        Ok(out)
    }

    /// Keeps the account's vehicle list (read online) so that booking works offline and an
    /// offline booking shows its car.
    pub fn put_vehicles(&mut self, vehicles: &[pitstop_api::Vehicle]) -> Result<()> {
        self.put_state("vehicles", &serde_json::to_string(vehicles)?)
    }

    /// The vehicle list last read online, if any.
    pub fn vehicles(&self) -> Result<Option<Vec<pitstop_api::Vehicle>>> {
        Ok(match self.state("vehicles")? {
            Some(j) => Some(serde_json::from_str(&j)?),
            None => None,
        })
    }

    /// A booking made on this device shows its car from the kept vehicle list.
    fn with_known_vehicle(tx: &Transaction<'_>, mut o: Order) -> Result<Order> {
        // Only for show: an unreadable list leaves the car blank rather than refuse the booking.
        let list: Vec<pitstop_api::Vehicle> = state_in(tx, "vehicles")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        if let Some(v) = list.into_iter().find(|v| v.id == o.vehicle_id) {
            o.vehicle = pitstop_api::VehicleSummary {
                vin: v.vin,
                plate: v.plate,
                make: v.make,
                model: v.model,
            };
        }
        // Priced like this owner's last booking from the platform (its workshop's currency).
        let currency: Option<String> = tx
            .row(
                "SELECT json_extract(COALESCE(local, server), '$.currency') FROM orders WHERE id > 0 \
                 ORDER BY updated_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(c) = currency.filter(|c| pitstop_api::valid_currency(c)) {
            o.currency = c;
        }
        Ok(o)
    }

    /// Recomputes an order's visible state from its server snapshot and pending actions.
    fn refresh_order(tx: &Transaction<'_>, me: Id, id: Id) -> Result<()> {
        let server: Option<Option<String>> = tx
            .row("SELECT server FROM orders WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let pending = Self::pending_for_order(tx, id)?;
        // Nothing pending on a platform order: its view is its snapshot (stored as NULL).
        let plain = pending.is_empty() && matches!(server, Some(Some(_)));
        let base: Order = match server {
            None => return Ok(()),
            Some(Some(s)) => serde_json::from_str(&s)?,
            // Booked on this device: the booking itself, still pending, is the base.
            Some(None) => match pending.first() {
                Some(PendingAction {
                    op: MutationOp::OrderCreate(req),
                    at,
                    ..
                }) => Self::with_known_vehicle(tx, overlay::provisional_order(id, req, me, *at))?,
                // Accepted on this device: the offer, while the accept is pending.
                _ => match Self::accepted_offer(tx, id)? {
                    Some((offer, at)) => overlay::provisional_job(&offer, me, at),
                    None => return Ok(()),
                },
            },
        };
        let view = overlay::apply(base, &pending, me);
        let (status, plate, vin, customer) = order_columns(&view);
        tx.exec(
            "UPDATE orders SET status = ?2, plate = ?3, vin = ?4, customer = ?5, updated_at = ?6, local = ?7 WHERE id = ?1",
            (
                id,
                status,
                plate,
                vin,
                customer,
                view.updated_at,
                (!plain).then(|| serde_json::to_string(&view)).transpose()?,
            ),
        )?;
        Ok(())
    }

    /// The offer of `order` this device accepted and the platform has not answered yet, with
    /// when it was accepted.
    fn accepted_offer(tx: &Transaction<'_>, order: Id) -> Result<Option<(Offer, Millis)>> {
        let row: Option<(String, Millis)> = tx
            .row(
                "SELECT f.data, o.created_at FROM offers f JOIN outbox o ON o.offer_id = f.id \
                 WHERE f.order_id = ?1 AND o.state = 'pending' \
                 AND json_extract(o.op, '$.op') = 'offer_accept' ORDER BY o.seq DESC LIMIT 1",
                [order],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(d, at)| Ok((serde_json::from_str(&d)?, at)))
            .transpose()
    }

    /// Records a user action: checks it against the local state, then writes the outbox
    /// entry and the optimistic view in one transaction. Returns the mutation id.
    pub fn enqueue(&mut self, op: MutationOp) -> Result<Uuid> {
        self.enqueue_at(op, now_ms())
    }

    /// [`Store::enqueue`] with an explicit clock (tests).
    pub fn enqueue_at(&mut self, op: MutationOp, now: Millis) -> Result<Uuid> {
        let me = self.me;
        let order_id = overlay::order_of(&op);
        if let Some(id) = order_id {
            let order = self
                .order(id)?
                .ok_or_else(|| Error::Refused(format!("Order {id} is not on this device.")))?;
            if let MutationOp::OrderStatus { status, .. } = &op {
                order.status.check_step(*status).map_err(Error::Refused)?;
            }
            if order.status.is_terminal() && !matches!(op, MutationOp::OrderStatus { .. }) {
                return Err(Error::Refused(format!(
                    "The order is {}; its job sheet is closed.",
                    order.status.label()
                )));
            }
        }
        let offer_id = match &op {
            MutationOp::OfferAccept { offer_id } | MutationOp::OfferDecline { offer_id } => {
                let offer = self.offer(*offer_id)?.ok_or_else(|| {
                    Error::Refused(format!("Offer {offer_id} is not on this device."))
                })?;
                if offer.status != OfferStatus::Pending {
                    return Err(Error::Refused(format!(
                        "This offer is already {}.",
                        offer.status.as_str()
                    )));
                }
                if matches!(op, MutationOp::OfferAccept { .. }) && now >= offer.expires_at {
                    return Err(Error::Refused(format!(
                        "This offer expired {} s ago; it cannot be accepted any more.",
                        (now - offer.expires_at) / 1000
                    )));
                }
                let answered: bool = self.conn.row(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE offer_id = ?1 AND state = 'pending')",
                    [offer_id],
                    |r| r.get(0),
                )?;
                if answered {
                    return Err(Error::Refused(
                        "You already answered this offer; waiting for the platform.".into(),
                    ));
                }
                Some(*offer_id)
            }
            _ => None,
        };
        let text = match &op {
            MutationOp::OrderNote { text, .. } => Some(text.as_str()),
            MutationOp::OrderStatus { note, .. } => note.as_deref(),
            MutationOp::OrderCreate(req) => Some(req.notes.as_str()),
            _ => None,
        };
        // The platform's own text rule, so nothing is queued that it would refuse.
        if let Some(t) = text {
            pitstop_api::text::clean(
                "note",
                t,
                pitstop_api::MAX_TEXT_CHARS,
                pitstop_api::text::Lines::Many,
                false,
            )
            .map_err(Error::Refused)?;
        }
        if let MutationOp::OrderPart {
            name,
            qty,
            unit_price_cents,
            ..
        } = &op
        {
            pitstop_api::text::clean(
                "part name",
                name,
                pitstop_api::text::MAX_LABEL_CHARS,
                pitstop_api::text::Lines::One,
                true,
            )
            .map_err(Error::Refused)?;
            pitstop_api::money::check_part(*qty, *unit_price_cents).map_err(Error::Refused)?;
        }
        if let MutationOp::OrderCreate(req) = &op {
            if pitstop_api::services::find(&req.service).is_none() {
                return Err(Error::Refused(format!(
                    "Unknown service '{}'.",
                    req.service
                )));
            }
            if !pitstop_api::geo::valid_coordinates(req.lat, req.lon) {
                return Err(Error::Refused("The location is out of range.".into()));
            }
        }
        // Time-ordered (v7): the platform's record of applied ids, keyed by them, grows
        // at its end instead of dirtying a random page per mutation.
        let id = Uuid::now_v7();
        let tx = self.begin()?;
        tx.exec(
            "INSERT INTO outbox (id, op, order_id, offer_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            (id.to_string(), serde_json::to_string(&op)?, order_id, offer_id, now),
        )?;
        let seq = tx.last_insert_rowid();
        match (&op, order_id) {
            (MutationOp::OrderCreate(req), _) => {
                let temp = -seq;
                let o =
                    Self::with_known_vehicle(&tx, overlay::provisional_order(temp, req, me, now))?;
                let (status, plate, vin, customer) = order_columns(&o);
                tx.exec(
                    "INSERT INTO orders (id, version, status, plate, vin, customer, updated_at, server, local) VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
                    (temp, status, plate, vin, customer, now, serde_json::to_string(&o)?),
                )?;
                tx.exec(
                    "UPDATE outbox SET order_id = ?2 WHERE seq = ?1",
                    (seq, temp),
                )?;
            }
            // A note or part changes no view: reads add it from the outbox.
            (MutationOp::OrderNote { .. } | MutationOp::OrderPart { .. }, _) => {}
            (_, Some(order)) => Self::refresh_order(&tx, me, order)?,
            (MutationOp::OfferAccept { offer_id }, None) => {
                // Not on the device yet (an offered order is not sent to technicians): the
                // job appears at once, from the offer, so steps can be queued offline.
                let data: Option<String> = tx
                    .row("SELECT data FROM offers WHERE id = ?1", [offer_id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if let Some(data) = data {
                    let offer: Offer = serde_json::from_str(&data)?;
                    let job = overlay::provisional_job(&offer, me, now);
                    tx.exec(
                        "INSERT INTO orders (id, version, status, plate, vin, customer, updated_at, server, local) \
                         VALUES (?1, 0, 'assigned', '', '', '', ?2, NULL, ?3) ON CONFLICT (id) DO NOTHING",
                        (job.id, now, serde_json::to_string(&job)?),
                    )?;
                }
            }
            _ => {}
        }
        tx.commit()?;
        Ok(id)
    }

    /// The next pending mutations to push, oldest first, among those queued after `seq`
    /// (those up to it are in flight): at most `max` of them and, past the first, at most
    /// `max_bytes` of JSON (the platform caps request bodies); with the last one's `seq`.
    pub fn next_batch_after(
        &self,
        seq: i64,
        max: usize,
        max_bytes: usize,
    ) -> Result<(Vec<Mutation>, i64)> {
        let mut bytes = 0;
        let mut last = seq;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, op, order_id, seq, created_at FROM outbox WHERE state = 'pending' AND seq > ?2 \
             ORDER BY seq LIMIT ?1",
        )?;
        // Tap times go up by the platform's clock.
        let offset = self.clock_offset()?;
        let rows = stmt.query_map((max as i64, seq), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<Id>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, op, order_id, seq, tapped) = row?;
            let op: MutationOp = serde_json::from_str(&op)?;
            // An action on an order booked offline waits until the booking is answered and
            // the action re-pointed to the platform's id.
            if order_id.is_some_and(|o| o < 0) && !matches!(op, MutationOp::OrderCreate(_)) {
                break;
            }
            bytes += op_json_len(&op) + 64;
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(Mutation {
                id: Uuid::parse_str(&id).map_err(|e| Error::BadAnswer(e.to_string()))?,
                at: Some(tapped + offset),
                op,
            });
            last = seq;
        }
        Ok((out, last))
    }

    /// Refuses every pending action queued on `order` with `reason` (its booking or the
    /// offer it came from was refused), so the queue moves on.
    fn refuse_queued_on(
        tx: &Transaction<'_>,
        order: Id,
        code: u16,
        reason: &str,
        now: Millis,
    ) -> Result<()> {
        tx.exec(
            "UPDATE outbox SET state = 'rejected', code = ?2, reason = ?3, settled_at = ?4 \
             WHERE order_id = ?1 AND state = 'pending'",
            (order, code, reason, now),
        )?;
        Ok(())
    }

    /// Refuses one pending action on the device's own authority (the platform can never take
    /// it, e.g. it is larger than any request the platform accepts): settled like a refusal
    /// from the platform, so what depends on it (actions queued on the order it books) is
    /// refused with it and the queue moves on.
    pub fn reject_alone(&mut self, id: Uuid, code: u16, reason: &str) -> Result<Applied> {
        self.settle(&[MutationResult {
            id,
            outcome: Outcome::Rejected,
            code,
            reason: Some(reason.to_string()),
            order: None,
            lines: Vec::new(),
        }])
    }

    /// Prepares a fresh first sync after the platform said the cursor cannot be continued:
    /// the cursor goes back to 0; offers, positions, lines and the orders with no pending
    /// action are forgotten and come again with the re-pull (which follows at once). Orders
    /// with pending actions keep their snapshot as the base of the view, at version 0 so
    /// the re-pulled one replaces it. The outbox and GPS buffer are untouched: nothing the
    /// person did is lost.
    pub fn reset_for_resync(&mut self) -> Result<()> {
        let tx = self.begin()?;
        // The platform may be another one (reset, restored): versions cannot be compared
        // across it, so its lines and the orders nobody is acting on are fetched afresh.
        tx.execute_batch(
            "DELETE FROM offers; DELETE FROM positions; DELETE FROM order_lines; \
             DELETE FROM orders WHERE server IS NOT NULL AND id NOT IN \
                 (SELECT order_id FROM outbox WHERE state = 'pending' AND order_id IS NOT NULL); \
             UPDATE orders SET version = 0 WHERE server IS NOT NULL; \
             DELETE FROM sync_state WHERE key = 'cursor';",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// When the oldest action still waiting for the platform was taken.
    pub fn oldest_pending_at(&self) -> Result<Option<Millis>> {
        Ok(self.conn.row(
            "SELECT min(created_at) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Counts a push attempt for these mutations (diagnostics; survives restarts).
    pub fn count_attempt(&mut self, ids: &[Uuid]) -> Result<()> {
        let tx = self.begin()?;
        for id in ids {
            tx.exec(
                "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1",
                [id.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies the platform's per-mutation answers in one transaction: applied entries are
    /// done (their returned order replaces the snapshot), rejected ones keep their reason and
    /// stop being applied to the view (the rollback).
    pub fn settle(&mut self, results: &[MutationResult]) -> Result<Applied> {
        let me = self.me;
        let now = now_ms();
        let mut applied = Applied::default();
        // Views are recomputed once per order, after every answer is recorded.
        let mut stale: Vec<Id> = Vec::new();
        let tx = self.begin()?;
        for r in results {
            // Only the op's kind is read in SQL: notes and parts (most of a drain) need
            // nothing else of it here, so theirs is not decoded.
            let row: Option<(i64, Option<Id>, String, String, bool)> = tx
                .row(
                    concat!(
                        "SELECT seq, order_id, op, state, ",
                        line_op!(),
                        " FROM outbox WHERE id = ?1"
                    ),
                    [r.id.to_string()],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((seq, order_id, op, state, line_op)) = row else {
                continue;
            };
            if state != "pending" {
                continue;
            }
            let state = match r.outcome {
                Outcome::Applied => "applied",
                Outcome::Rejected => "rejected",
            };
            tx.exec(
                "UPDATE outbox SET state = ?2, code = ?3, reason = ?4, settled_at = ?5 WHERE seq = ?1",
                (seq, state, r.code, &r.reason, now),
            )?;
            let op: Option<MutationOp> = if line_op {
                None
            } else {
                Some(serde_json::from_str(&op)?)
            };
            for l in &r.lines {
                Self::upsert_line(&tx, l)?;
            }
            if let (Some(MutationOp::OrderCreate(_)), Some(temp), Outcome::Rejected) =
                (&op, order_id, r.outcome)
            {
                // What was queued on the refused booking can never be sent: refuse it too,
                // saying why, so the queue moves on.
                let reason = format!(
                    "Not sent: the booking it belongs to was refused ({}).",
                    r.reason.as_deref().unwrap_or("no reason given")
                );
                Self::refuse_queued_on(&tx, temp, r.code, &reason, now)?;
            }
            if let (Some(MutationOp::OrderCreate(_)), Some(temp)) = (&op, order_id) {
                // The provisional row gives way to the platform's order; later actions on it
                // follow the new id.
                tx.exec(
                    "DELETE FROM orders WHERE id = ?1 AND server IS NULL",
                    [temp],
                )?;
                if let Some(real) = &r.order {
                    let later: Vec<(i64, String)> = tx
                        .prepare_cached(
                            "SELECT seq, op FROM outbox WHERE order_id = ?1 AND seq > ?2",
                        )?
                        .query_map((temp, seq), |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect::<Result<_, _>>()?;
                    for (s, later_op) in later {
                        let mut o: MutationOp = serde_json::from_str(&later_op)?;
                        overlay::retarget(&mut o, temp, real.id);
                        tx.exec(
                            "UPDATE outbox SET op = ?2, order_id = ?3 WHERE seq = ?1",
                            (s, serde_json::to_string(&o)?, real.id),
                        )?;
                    }
                }
                applied.orders.push(temp);
            }
            if let Some(o) = &r.order {
                Self::store_snapshot(&tx, o)?;
                stale.push(o.id);
            } else if let Some(id) = order_id {
                stale.push(id);
            }
            if let (Some(MutationOp::OfferAccept { offer_id }), Outcome::Rejected) =
                (&op, r.outcome)
            {
                // Not won: the job this device showed from the offer goes, and what was queued
                // on it is refused with the reason.
                let order: Option<Id> = tx
                    .row(
                        "SELECT order_id FROM offers WHERE id = ?1",
                        [offer_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(order) = order {
                    let gone = tx.exec(
                        "DELETE FROM orders WHERE id = ?1 AND server IS NULL",
                        [order],
                    )?;
                    if gone > 0 {
                        let reason = format!(
                            "Not sent: the offer was not yours ({}).",
                            r.reason.as_deref().unwrap_or("no reason given")
                        );
                        Self::refuse_queued_on(&tx, order, r.code, &reason, now)?;
                        applied.orders.push(order);
                    }
                }
            }
            if let Some(
                MutationOp::OfferAccept { offer_id } | MutationOp::OfferDecline { offer_id },
            ) = op
            {
                applied.offers.push(offer_id);
            }
        }
        stale.sort_unstable();
        stale.dedup();
        for id in stale {
            Self::refresh_order(&tx, me, id)?;
            applied.orders.push(id);
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Stores a newer server snapshot (without recomputing the view); false if not newer. A
    /// snapshot that carries its job sheet has the lines taken out into `order_lines`.
    fn store_snapshot(tx: &Transaction<'_>, o: &Order) -> Result<bool> {
        Self::store_snapshot_raw(tx, o, None)
    }

    /// [`Self::store_snapshot`]; `raw`: the order's JSON as the platform sent it, stored as
    /// it is when the order carries no lines of its own (encoding it again cost a tenth of
    /// a first sync).
    fn store_snapshot_raw(tx: &Transaction<'_>, o: &Order, raw: Option<&str>) -> Result<bool> {
        let mut head;
        let bare = o.job_notes.is_empty() && o.parts.is_empty() && o.timeline.is_empty();
        let o = if bare {
            o
        } else {
            head = o.clone();
            let lines = overlay::split_lines(&mut head);
            if lines.iter().any(overlay::is_legacy_step)
                && tx.row(
                    "SELECT EXISTS (SELECT 1 FROM order_lines WHERE order_id = ?1 AND kind = 'step' AND id > 0)",
                    [o.id],
                    |r| r.get::<_, bool>(0),
                )?
            {
                // The platform's own steps are here already; keep them.
            } else {
                for l in &lines {
                    Self::upsert_line(tx, l)?;
                }
            }
            &head
        };
        let (status, plate, vin, customer) = order_columns(o);
        let json = match raw.filter(|_| bare) {
            Some(raw) => std::borrow::Cow::Borrowed(raw),
            None => std::borrow::Cow::Owned(serde_json::to_string(o)?),
        };
        // One statement: a row that only holds a local view, or an older snapshot, takes
        // this one; a duplicate or older delivery changes nothing.
        let n = tx.exec(
            "INSERT INTO orders (id, version, status, plate, vin, customer, updated_at, server, local) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, status = excluded.status, \
             plate = excluded.plate, vin = excluded.vin, customer = excluded.customer, \
             updated_at = excluded.updated_at, server = excluded.server, local = NULL \
             WHERE orders.server IS NULL OR excluded.version > orders.version",
            (o.id, o.version, status, plate, vin, customer, o.updated_at, &*json),
        )?;
        Ok(n > 0)
    }

    /// `queued`: whether any action is pending at all (else no view needs recomputing).
    fn upsert_order(
        tx: &Transaction<'_>,
        me: Id,
        o: &Order,
        raw: Option<&str>,
        queued: bool,
    ) -> Result<bool> {
        if !Self::store_snapshot_raw(tx, o, raw)? {
            return Ok(false); // a duplicate or an older delivery
        }
        // Only orders with local actions in flight need the overlay recomputed.
        let pending: bool = queued
            && tx.row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE order_id = ?1 AND state = 'pending')",
                [o.id],
                |r| r.get(0),
            )?;
        if pending {
            Self::refresh_order(tx, me, o.id)?;
        }
        Ok(true)
    }

    /// Stores a platform line if it is new or newer; false for a duplicate.
    fn upsert_line(tx: &Transaction<'_>, l: &JobLine) -> Result<bool> {
        Self::upsert_line_with(tx, l, None, true)
    }

    /// [`Self::upsert_line`]; `raw`: the line's JSON as the platform sent it (stored as it
    /// is); `legacy`: whether id-less steps may be cached (else a real step has none to
    /// replace, and the lookup is skipped).
    fn upsert_line_with(
        tx: &Transaction<'_>,
        l: &JobLine,
        raw: Option<&str>,
        legacy: bool,
    ) -> Result<bool> {
        let data = match raw {
            Some(raw) => std::borrow::Cow::Borrowed(raw),
            None => std::borrow::Cow::Owned(serde_json::to_string(l)?),
        };
        let n = tx
            .prepare_cached(
                "INSERT INTO order_lines (kind, id, order_id, at, version, mutation_id, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, version = excluded.version, \
                 data = excluded.data, mutation_id = excluded.mutation_id \
                 WHERE excluded.version > order_lines.version",
            )?
            .execute((
                l.body.kind(),
                l.id,
                l.order_id,
                l.at,
                l.version,
                l.mutation_id.map(|m| m.to_string()),
                &*data,
            ))?;
        if legacy && n > 0 && l.id > 0 && matches!(l.body, pitstop_api::LineBody::Step { .. }) {
            // Real step lines replace the id-less ones a version 1 cache had.
            tx.prepare_cached(
                "DELETE FROM order_lines WHERE order_id = ?1 AND kind = 'step' AND id < 0",
            )?
            .execute([l.order_id])?;
        }
        Ok(n > 0)
    }

    fn upsert_offer(tx: &Transaction<'_>, f: &Offer) -> Result<bool> {
        let have: Option<String> = tx
            .row("SELECT status FROM offers WHERE id = ?1", [f.id], |r| {
                r.get(0)
            })
            .optional()?;
        // Offers only ever leave `pending`, once; anything else is a duplicate or stale.
        let fresh = match have.as_deref() {
            None => true,
            Some("pending") => f.status != OfferStatus::Pending,
            Some(_) => false,
        };
        if !fresh {
            return Ok(false);
        }
        tx.exec(
            "INSERT INTO offers (id, order_id, status, expires_at, data) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
            (f.id, f.order_id, f.status.as_str(), f.expires_at, serde_json::to_string(f)?),
        )?;
        Ok(true)
    }

    /// Lands pulled or streamed changes in one transaction and advances the cursor. The same
    /// path for pull and stream; duplicates and stale deliveries change nothing.
    pub fn apply_changes(&mut self, changes: &[Change], next_cursor: i64) -> Result<Applied> {
        // What a pull lands can always be pulled again: its commit need not wait for the
        // disk (WAL with NORMAL stays consistent; a power cut may only lose the newest
        // pages, and the cursor with them). The next FULL commit, e.g. a tap, makes them
        // durable too. Local actions keep FULL.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let landed = self.land_changes(changes, next_cursor);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        landed
    }

    fn land_changes(&mut self, changes: &[Change], next_cursor: i64) -> Result<Applied> {
        let me = self.me;
        let mut applied = Applied::default();
        // Within one page only the newest snapshot of each order matters.
        let mut newest: std::collections::HashMap<Id, i64> = std::collections::HashMap::new();
        for c in changes {
            if let ChangeBody::Order(o) = &c.body {
                let v = newest.entry(o.id).or_insert(o.version);
                *v = (*v).max(o.version);
            }
        }
        let tx = self.begin()?;
        // Asked once per page, not once per change: a first sync has nothing queued and no
        // id-less steps, and skips both lookups for each of its changes.
        let queued: bool = tx.row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending')",
            [],
            |r| r.get(0),
        )?;
        let mut legacy: bool = tx.row(
            "SELECT EXISTS (SELECT 1 FROM order_lines WHERE kind = 'step' AND id < 0)",
            [],
            |r| r.get(0),
        )?;
        for c in changes {
            match &c.body {
                ChangeBody::Order(o) if newest.get(&o.id) != Some(&o.version) => {}
                ChangeBody::Order(o) => {
                    // A snapshot with an embedded timeline stores id-less steps.
                    legacy |= !o.timeline.is_empty();
                    if Self::upsert_order(&tx, me, o, c.raw_body.as_deref(), queued)? {
                        applied.orders.push(o.id);
                    }
                }
                ChangeBody::Offer(f) => {
                    if Self::upsert_offer(&tx, f)? {
                        applied.offers.push(f.id);
                    }
                }
                ChangeBody::Location(fix) => {
                    let n = tx.exec(
                        "INSERT INTO positions (technician_id, t, data) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (technician_id) DO UPDATE SET t = excluded.t, data = excluded.data WHERE excluded.t > positions.t",
                        (fix.technician_id, fix.t, serde_json::to_string(fix)?),
                    )?;
                    if n > 0 {
                        applied.positions.push(fix.technician_id);
                    }
                }
                ChangeBody::Technician(_) => {}
                // A line answering a pending note or part needs no view change: reads
                // leave out pending actions whose line is here.
                ChangeBody::Line(l) => {
                    if Self::upsert_line_with(&tx, l, c.raw_body.as_deref(), legacy)? {
                        applied.orders.push(l.order_id);
                    }
                }
            }
        }
        applied.orders.sort_unstable();
        applied.orders.dedup();
        let cursor: i64 = tx
            .row(
                "SELECT value FROM sync_state WHERE key = 'cursor'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let highest = changes
            .iter()
            .map(|c| c.cursor)
            .max()
            .unwrap_or(0)
            .max(next_cursor);
        if highest > cursor {
            Self::set_state(&tx, "cursor", &highest.to_string())?;
        }
        tx.commit()?;
        Ok(applied)
    }

    // ----- GPS buffer -------------------------------------------------------------------

    /// Stores an accepted fix; returns its sequence number.
    pub fn push_fix(&mut self, f: &crate::location::RawFix) -> Result<u64> {
        let tx = self.begin()?;
        tx.exec(
            "INSERT INTO gps_fixes (t, lat, lon, accuracy_m, speed_mps, heading_deg) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (f.t, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading_deg),
        )?;
        let seq = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok(seq)
    }

    /// The last stored fix (the filter compares new fixes against it).
    pub fn last_fix(&self) -> Result<Option<pitstop_api::Fix>> {
        Ok(self
            .conn
            .row(
                "SELECT seq, t, lat, lon, accuracy_m, speed_mps, heading_deg FROM gps_fixes ORDER BY seq DESC LIMIT 1",
                [],
                fix_from_row,
            )
            .optional()?)
    }

    /// Fixes not yet acknowledged by the platform, oldest first.
    pub fn unsent_fixes(&self, max: usize) -> Result<Vec<pitstop_api::Fix>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, t, lat, lon, accuracy_m, speed_mps, heading_deg FROM gps_fixes WHERE uploaded = 0 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([max as i64], fix_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Unsent fixes after `after` (all unsent when `None`), oldest first: what the position
    /// lane has not written to its stream yet.
    pub fn unsent_fixes_after(
        &self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<pitstop_api::Fix>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, t, lat, lon, accuracy_m, speed_mps, heading_deg FROM gps_fixes \
             WHERE uploaded = 0 AND seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map((after.map_or(-1, |s| s as i64), max as i64), fix_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Unsent fixes after `after` (in flight on a stream up to it), counted.
    pub fn unsent_fix_count_after(&self, after: Option<u64>) -> Result<usize> {
        Ok(self.conn.row(
            "SELECT count(*) FROM gps_fixes WHERE uploaded = 0 AND seq > ?1",
            [after.map_or(-1, |s| s as i64)],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    /// How many fixes wait for upload.
    pub fn unsent_fix_count(&self) -> Result<usize> {
        Ok(self.conn.row(
            "SELECT count(*) FROM gps_fixes WHERE uploaded = 0",
            [],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    /// Marks fixes up to `seq` as uploaded.
    pub fn fixes_sent(&mut self, up_to: u64) -> Result<()> {
        let tx = self.begin()?;
        tx.exec(
            "UPDATE gps_fixes SET uploaded = 1 WHERE uploaded = 0 AND seq <= ?1",
            [up_to as i64],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Bytes an action takes in a push body.
fn op_json_len(op: &MutationOp) -> usize {
    serde_json::to_vec(op).map_or(0, |v| v.len())
}

fn fix_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<pitstop_api::Fix> {
    Ok(pitstop_api::Fix {
        seq: r.get::<_, i64>(0)? as u64,
        t: r.get(1)?,
        lat: r.get(2)?,
        lon: r.get(3)?,
        accuracy_m: r.get(4)?,
        speed_mps: r.get(5)?,
        heading_deg: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: Id, version: i64, plate: &str, customer: &str) -> Order {
        let mut o = overlay::provisional_order(id, &overlay::sample_booking(), 1, id);
        o.version = version;
        o.vehicle.plate = plate.into();
        o.vehicle.vin = format!("WVWZZZ1JZXW{id:06}");
        o.customer_name = Some(customer.into());
        o
    }

    fn change(cursor: i64, o: Order) -> Change {
        Change {
            cursor,
            at: 0,
            body: ChangeBody::Order(o),
            raw_body: None,
        }
    }

    /// The indexes and triggers on the order tables, by name.
    fn schema_objects(store: &Store) -> Vec<String> {
        store
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') \
                 AND tbl_name IN ('orders', 'order_lines') AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_first_sync_lands_without_indexes_and_gets_them_back_even_after_a_kill() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path, 1).unwrap();
        let all = schema_objects(&store);
        assert!(all.contains(&"orders_status".to_string()), "{all:?}");
        assert!(all.contains(&"order_search_insert".to_string()), "{all:?}");
        assert!(
            !all.contains(&"orders_plate".to_string()),
            "gone since version 4"
        );
        // Emptied for a resync after a search index was built: it is built again later.
        store.put_state("search_ready", "1").unwrap();
        assert!(store.begin_bulk_landing().unwrap());
        assert!(schema_objects(&store).is_empty());
        assert_eq!(store.state("search_ready").unwrap(), None);
        // The raw JSON a page carried is what is stored and read back.
        let o = order(1, 1, "B-PS 1234", "Anna Schmidt");
        let mut c = change(1, o.clone());
        c.raw_body = Some(serde_json::to_string(&o).unwrap().into());
        store.apply_changes(&[c], 1).unwrap();
        assert_eq!(store.order(1).unwrap().unwrap().vehicle.plate, "B-PS 1234");
        // Killed here: the next open builds them again, before anything reads.
        drop(store);
        let mut store = Store::open(&path, 1).unwrap();
        assert_eq!(schema_objects(&store), all);
        assert_eq!(store.state("bulk_indexes").unwrap(), None);
        // Only a cache with nothing in it lands in bulk; ending twice is harmless.
        assert!(!store.begin_bulk_landing().unwrap());
        store.end_bulk_landing().unwrap();
        assert_eq!(schema_objects(&store), all);
        assert_eq!(store.search("1234", 10).unwrap().len(), 1);
    }

    #[test]
    fn a_bulk_landing_checkpoints_once_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path, 1).unwrap();
        let pragma = |s: &Store, name: &str| -> i64 {
            s.conn.pragma_query_value(None, name, |r| r.get(0)).unwrap()
        };
        assert!(
            !store.settle_wal().unwrap(),
            "nothing owed before a bulk landing"
        );
        assert!(store.begin_bulk_landing().unwrap());
        assert_eq!(pragma(&store, "wal_autocheckpoint"), 0);
        // A reader on the pages from before the landing, open until told: it keeps the
        // WAL from being copied, and from being copied as the store's connection closes.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let before: i64 = reader
            .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
            .unwrap();
        assert_eq!(before, 0);
        // Enough for more WAL pages than an automatic checkpoint's worth.
        let n = 5_000;
        let changes: Vec<Change> = (1..=n)
            .map(|i| change(i, order(i, 1, &format!("B-PS {i}"), "Anna Schmidt")))
            .collect();
        store.apply_changes(&changes, n).unwrap();
        store.end_bulk_landing().unwrap();
        // Nothing was copied into the database file yet: the new pages are in the WAL.
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        let db_before = size("c.db");
        assert!(
            size("c.db-wal") > db_before,
            "{} / {db_before}",
            size("c.db-wal")
        );
        // Killed before the checkpoint: it is still owed after a restart, and neither the
        // open nor the first tap's commit pays it.
        drop(store);
        let mut store = Store::open(&path, 1).unwrap();
        assert_eq!(size("c.db"), db_before, "the open copied nothing");
        assert_eq!(pragma(&store, "wal_autocheckpoint"), 0);
        let debt = store.wal_owed().unwrap();
        assert_eq!(debt.path, path);
        // While the old reader stays, the copy cannot finish: still owed, tried again later.
        assert!(!store.settle_wal().unwrap(), "a reader holds the old pages");
        assert_eq!(store.wal_owed(), Some(debt.clone()));
        reader.execute_batch("COMMIT").unwrap();
        // Settling an older landing's debt leaves this one owed.
        let older = WalDebt {
            path: path.clone(),
            mark: "1".into(),
        };
        assert!(!store.wal_settled(&older).unwrap());
        assert_eq!(store.wal_owed(), Some(debt));
        assert!(store.settle_wal().unwrap());
        assert!(!store.settle_wal().unwrap(), "once");
        assert_eq!(store.state("wal_owed").unwrap(), None);
        assert_eq!(pragma(&store, "wal_autocheckpoint"), 1000);
        let (_, in_wal, copied): (i64, i64, i64) = store
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(in_wal, copied, "all of the WAL is in the database now");
        assert!(
            size("c.db") > db_before + 4096,
            "the orders moved into the file"
        );
        drop(store);
        let store = Store::open(&path, 1).unwrap();
        assert_eq!(store.orders(None, 10_000).unwrap().len(), 5_000);
    }

    /// A fresh cache holding orders 1 (B-PS 1234, Anna Schmidt) and 2 (M-XY 77, Ben Ortiz).
    fn two_orders() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db"), 1).unwrap();
        store
            .apply_changes(
                &[
                    change(1, order(1, 1, "B-PS 1234", "Anna Schmidt")),
                    change(2, order(2, 1, "M-XY 77", "Ben Ortiz")),
                ],
                2,
            )
            .unwrap();
        (dir, store)
    }

    #[test]
    fn search_finds_substrings_and_follows_updates() {
        let (_dir, mut store) = two_orders();
        fn ids_in(store: &Store, q: &str) -> Vec<Id> {
            store.search(q, 10).unwrap().iter().map(|o| o.id).collect()
        }
        assert_eq!(ids_in(&store, "ps 12"), vec![1]);
        assert_eq!(ids_in(&store, "schmidt"), vec![1]);
        assert_eq!(ids_in(&store, "XW000002"), vec![2]);
        assert_eq!(ids_in(&store, "77"), vec![2], "short queries work too");
        assert!(ids_in(&store, "zzz9").is_empty());
        // A newer snapshot with a new plate replaces the old index entry.
        store
            .apply_changes(&[change(3, order(2, 2, "K-NEW 5", "Ben Ortiz"))], 3)
            .unwrap();
        assert!(ids_in(&store, "M-XY").is_empty());
        assert_eq!(ids_in(&store, "k-new"), vec![2]);
        // An older snapshot delivered late changes nothing.
        store
            .apply_changes(&[change(4, order(2, 1, "OLD 1", "Ben Ortiz"))], 4)
            .unwrap();
        assert_eq!(ids_in(&store, "k-new"), vec![2]);
        assert_eq!(store.cursor().unwrap(), 4);
    }

    #[test]
    fn the_search_index_is_built_after_sync_and_kept_current() {
        let (_dir, mut store) = two_orders();
        assert!(store.build_search_index().unwrap());
        assert!(!store.build_search_index().unwrap(), "built once");
        let ids_in = |store: &Store, q: &str| -> Vec<Id> {
            store.search(q, 10).unwrap().iter().map(|o| o.id).collect()
        };
        assert_eq!(ids_in(&store, "ps 12"), vec![1]);
        assert_eq!(ids_in(&store, "SCHMIDT"), vec![1]);
        assert_eq!(ids_in(&store, "XW000002"), vec![2]);
        assert_eq!(ids_in(&store, "77"), vec![2], "short queries scan");
        assert_eq!(ids_in(&store, "a \"quote"), Vec::<Id>::new());
        // Landings after the build are indexed by the triggers.
        store
            .apply_changes(
                &[
                    change(3, order(2, 2, "K-NEW 5", "Ben Ortiz")),
                    change(4, order(3, 1, "Z-ZZ 9", "Cleo")),
                ],
                4,
            )
            .unwrap();
        assert!(ids_in(&store, "M-XY").is_empty());
        assert_eq!(ids_in(&store, "k-new"), vec![2]);
        assert_eq!(ids_in(&store, "cleo"), vec![3]);
        // An offline booking is findable too, and gone once it gives way.
        let n: i64 = store
            .conn
            .row("SELECT count(*) FROM order_search", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }

    fn note_line(id: Id, order: Id, text: &str, mutation: Option<Uuid>) -> Change {
        Change {
            cursor: 0,
            at: 0,
            body: ChangeBody::Line(JobLine {
                id,
                order_id: order,
                at: id,
                author_id: Some(1),
                mutation_id: mutation,
                version: 1,
                sent_at: None,
                body: pitstop_api::LineBody::Note { text: text.into() },
            }),
            raw_body: None,
        }
    }

    #[test]
    fn lines_land_on_their_own_and_a_pending_action_already_landed_shows_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let mut o = order(5, 1, "P 1", "Ann");
        o.status = OrderStatus::InProgress;
        store.apply_changes(&[change(1, o)], 1).unwrap();
        store
            .apply_changes(&[note_line(10, 5, "from the desk", None)], 2)
            .unwrap();
        let mine = store
            .enqueue(MutationOp::OrderNote {
                order_id: 5,
                text: "mine".into(),
            })
            .unwrap();
        let texts = |s: &Store| -> Vec<String> {
            s.order(5)
                .unwrap()
                .unwrap()
                .job_notes
                .into_iter()
                .map(|n| n.text)
                .collect()
        };
        assert_eq!(texts(&store), ["from the desk", "mine"]);
        // The platform applied it (answer lost); the stream brings the line first.
        store
            .apply_changes(&[note_line(11, 5, "mine", Some(mine))], 3)
            .unwrap();
        assert_eq!(store.pending_count().unwrap(), 1);
        assert_eq!(texts(&store), ["from the desk", "mine"], "not twice");
        // A duplicate delivery changes nothing.
        store
            .apply_changes(&[note_line(11, 5, "mine", Some(mine))], 3)
            .unwrap();
        assert_eq!(texts(&store), ["from the desk", "mine"]);
    }

    #[test]
    fn pending_notes_join_at_read_time_and_a_version_4_view_gives_its_copies_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path, 1).unwrap();
        let mut o = order(5, 1, "P 1", "Ann");
        o.status = OrderStatus::InProgress;
        store.apply_changes(&[change(1, o)], 1).unwrap();
        let note = |s: &mut Store, text: &str| {
            s.enqueue(MutationOp::OrderNote {
                order_id: 5,
                text: text.into(),
            })
            .unwrap()
        };
        let first = note(&mut store, "one");
        note(&mut store, "two");
        let local = |s: &Store| -> Option<String> {
            s.conn
                .row("SELECT local FROM orders WHERE id = 5", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(local(&store), None, "queueing a note writes no view");
        let texts = |s: &Store| -> Vec<String> {
            let o = s.order(5).unwrap().unwrap();
            o.job_notes.into_iter().map(|n| n.text).collect()
        };
        assert_eq!(texts(&store), ["one", "two"]);
        // A pending step does write a view, still without the notes in it.
        store
            .enqueue(MutationOp::OrderStatus {
                order_id: 5,
                status: OrderStatus::Completed,
                note: None,
            })
            .unwrap();
        let view: Order = serde_json::from_str(&local(&store).unwrap()).unwrap();
        assert_eq!(view.status, OrderStatus::Completed);
        assert!(view.job_notes.is_empty());
        assert_eq!(texts(&store), ["one", "two"]);
        // The first note is answered: it shows once, as the platform's line.
        store
            .settle(&[MutationResult {
                id: first,
                outcome: Outcome::Applied,
                code: 200,
                reason: None,
                order: None,
                lines: vec![match note_line(12, 5, "one", Some(first)).body {
                    ChangeBody::Line(l) => l,
                    _ => unreachable!(),
                }],
            }])
            .unwrap();
        assert_eq!(texts(&store), ["one", "two"]);
        assert_eq!(store.order(5).unwrap().unwrap().job_notes[0].id, 12);
        // A version 4 view carried pending notes inside; the upgrade takes them out.
        let mut old = view.clone();
        old.job_notes = vec![pitstop_api::JobNote {
            id: -2,
            author_id: 1,
            text: "two".into(),
            at: 0,
        }];
        store
            .conn
            .execute(
                "UPDATE orders SET local = ?1 WHERE id = 5",
                [serde_json::to_string(&old).unwrap()],
            )
            .unwrap();
        store.conn.pragma_update(None, "user_version", 4).unwrap();
        drop(store);
        let store = Store::open(&path, 1).unwrap();
        assert_eq!(texts(&store), ["one", "two"], "not twice after the upgrade");
        assert_eq!(
            store.order(5).unwrap().unwrap().status,
            OrderStatus::Completed
        );
    }

    #[test]
    fn a_version_1_cache_is_upgraded_with_its_job_sheets_and_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut conn = Connection::open(&path).unwrap();
        Migrations::new(vec![M::up(MIGRATIONS[0])])
            .to_latest(&mut conn)
            .unwrap();
        // A version 1 row: the whole job sheet inside the snapshot, the view likewise.
        let mut o = order(7, 3, "OLD 7", "Ann");
        o.status = OrderStatus::InProgress;
        o.job_notes = vec![pitstop_api::JobNote {
            id: 70,
            author_id: 1,
            text: "old note".into(),
            at: 5,
        }];
        o.parts = vec![pitstop_api::PartLine {
            id: 71,
            name: "filter".into(),
            qty: 1,
            unit_price_cents: 900,
        }];
        o.timeline.push(pitstop_api::TimelineEntry {
            at: 6,
            status: OrderStatus::InProgress,
            actor_id: Some(1),
            note: None,
            sent_at: None,
        });
        let json = serde_json::to_string(&o).unwrap();
        conn.exec(
            "INSERT INTO orders (id, version, status, plate, vin, customer, updated_at, server, local) \
             VALUES (7, 3, 'in_progress', 'OLD 7', '', 'Ann', 1, ?1, ?1)",
            [&json],
        )
        .unwrap();
        // And one with nothing pending: from version 3 on its view is not stored twice.
        let json8 = serde_json::to_string(&order(8, 1, "OLD 8", "Bo")).unwrap();
        conn.exec(
            "INSERT INTO orders (id, version, status, plate, vin, customer, updated_at, server, local) \
             VALUES (8, 1, 'pending', 'OLD 8', '', 'Bo', 1, ?1, ?1)",
            [&json8],
        )
        .unwrap();
        conn.exec(
            "INSERT INTO outbox (id, op, order_id, created_at) VALUES (?1, ?2, 7, 9)",
            (
                Uuid::new_v4().to_string(),
                serde_json::to_string(&MutationOp::OrderNote {
                    order_id: 7,
                    text: "queued in v1".into(),
                })
                .unwrap(),
            ),
        )
        .unwrap();
        drop(conn);
        let mut store = Store::open(&path, 1).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        let view = store.order(7).unwrap().unwrap();
        let texts: Vec<&str> = view.job_notes.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["old note", "queued in v1"]);
        assert_eq!(view.parts.len(), 1);
        assert_eq!(view.timeline.len(), 2);
        assert_eq!(store.pending_count().unwrap(), 1);
        let stored: Vec<(Id, bool)> = store
            .conn
            .prepare("SELECT id, local IS NULL FROM orders ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            stored,
            [(7, true), (8, true)],
            "a view is kept only where a pending step changes the head; notes join at read"
        );
        assert_eq!(store.order(8).unwrap().unwrap().vehicle.plate, "OLD 8");
        // The platform's real step lines replace the id-less ones from v1.
        let step = Change {
            cursor: 0,
            at: 0,
            body: ChangeBody::Line(JobLine {
                id: 500,
                order_id: 7,
                at: 1,
                author_id: None,
                mutation_id: None,
                version: 1,
                sent_at: None,
                body: pitstop_api::LineBody::Step {
                    status: OrderStatus::Pending,
                    note: Some("Booked".into()),
                },
            }),
            raw_body: None,
        };
        store.apply_changes(&[step], 10).unwrap();
        let view = store.order(7).unwrap().unwrap();
        assert_eq!(view.timeline.len(), 1);
        assert_eq!(
            view.job_notes.len(),
            2,
            "old note, and the queued one again"
        );
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn fresh_file_is_migrated_and_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let store = Store::open(&path, 1).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
            .unwrap();
        drop(store);
        let err = Store::open(&path, 1).unwrap_err();
        assert!(matches!(err, Error::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("update the app"));
    }
}
