//! The change log: every state change a client must learn about, with a monotonic cursor
//! and an audience. Sync pull reads it; the event stream replays it and then follows the live
//! hub, so both speak the same cursors.
//!
//! Audiences are strings: `a<account id>`, `w<workshop id>` (every desk of that workshop) and
//! `admin`. A change is written once and indexed once per audience.

use std::sync::Arc;

use pitstop_api::{Change, ChangeBody, Id};
use rusqlite::Connection;

use crate::ApiResult;
use crate::db::{Tx, now_ms};

/// A committed change on its way to live streams.
#[derive(Debug)]
pub struct LiveChange {
    /// Who may see it.
    pub audiences: Vec<String>,
    /// The change as pull returns it, already serialized (once, for every subscriber).
    pub change: RawChange,
}

/// A change in its wire form: the JSON of a [`Change`], built from the stored body without
/// parsing it again (pull pages and streams are mostly copying).
#[derive(Debug, Clone)]
pub struct RawChange {
    pub cursor: i64,
    /// The SSE event name (`order`, `offer`, ...).
    pub kind: String,
    /// `{"cursor":…,"at":…,"kind":…,"data":…}`.
    pub json: String,
}

impl RawChange {
    /// Splices cursor and time into a stored `ChangeBody` object (`{"kind":…,"data":…}`).
    fn new(cursor: i64, at: i64, kind: String, body: &str) -> Self {
        let rest = body.strip_prefix('{').unwrap_or(body);
        Self {
            cursor,
            kind,
            json: format!("{{\"cursor\":{cursor},\"at\":{at},{rest}"),
        }
    }

    /// Parses the wire form (tests and tools).
    pub fn parse(&self) -> ApiResult<Change> {
        Ok(serde_json::from_str(&self.json)?)
    }
}

/// The audience of one account.
pub fn account(id: Id) -> String {
    format!("a{id}")
}

/// The audience of every desk of a workshop.
pub fn workshop(id: Id) -> String {
    format!("w{id}")
}

/// The audience of admins.
pub const ADMIN: &str = "admin";

/// Appends a change for `audiences` to the log, to be published when `tx` commits.
pub fn emit(tx: &mut Tx<'_>, body: ChangeBody, audiences: &[String]) -> ApiResult<()> {
    let at = now_ms();
    let data = serde_json::to_string(&body)?;
    let cursor: i64 = tx.query_row(
        "INSERT INTO changes (kind, data, at) VALUES (?1, ?2, ?3) RETURNING cursor",
        (body.kind(), &data, at),
        |r| r.get(0),
    )?;
    let mut audiences: Vec<String> = audiences.to_vec();
    audiences.sort();
    audiences.dedup();
    {
        let mut stmt =
            tx.prepare_cached("INSERT INTO change_audience (audience, cursor) VALUES (?1, ?2)")?;
        for a in &audiences {
            stmt.execute((a, cursor))?;
        }
    }
    tx.live.push(Arc::new(LiveChange {
        audiences,
        change: RawChange::new(cursor, at, body.kind().to_string(), &data),
    }));
    Ok(())
}

/// Changes visible to `audiences` after `cursor`, oldest first, at most `limit`.
///
/// One index range scan per audience (`(audience, cursor) > …`, at most `limit` rows
/// each), merged and de-duplicated here, then point lookups of the bodies: the cost depends
/// on the page size, not on how much of the log lies ahead or belongs to others.
pub fn read(
    conn: &Connection,
    audiences: &[String],
    cursor: i64,
    limit: u32,
) -> ApiResult<Vec<RawChange>> {
    let mut cursors: Vec<i64> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT cursor FROM change_audience WHERE audience = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        )?;
        for a in audiences {
            let rows = stmt.query_map((a, cursor, i64::from(limit)), |r| r.get::<_, i64>(0))?;
            for c in rows {
                cursors.push(c?);
            }
        }
    }
    cursors.sort_unstable();
    cursors.dedup();
    cursors.truncate(limit as usize);
    let mut stmt = conn.prepare_cached("SELECT at, kind, data FROM changes WHERE cursor = ?1")?;
    let mut out = Vec::with_capacity(cursors.len());
    for c in cursors {
        let (at, kind, data): (i64, String, String) =
            stmt.query_row([c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        out.push(RawChange::new(c, at, kind, &data));
    }
    Ok(out)
}

/// The newest cursor in the whole log (0 when empty).
pub fn head(conn: &Connection) -> ApiResult<i64> {
    Ok(
        conn.query_row("SELECT coalesce(max(cursor), 0) FROM changes", [], |r| {
            r.get(0)
        })?,
    )
}
