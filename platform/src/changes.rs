//! The change log: every state change a client must learn about, with a monotonic cursor
//! and an audience. Sync pull reads it; the event stream replays it and then follows the live
//! hub, so both speak the same cursors.
//!
//! Audiences are strings: `a<account id>`, `w<workshop id>` (every desk of that workshop) and
//! `admin`. A change is written once and indexed once per audience.

use std::sync::Arc;

use pitstop_api::{Change, ChangeBody, Id};
use rusqlite::{Connection, params_from_iter};

use crate::ApiResult;
use crate::db::{Tx, now_ms};

/// A committed change on its way to live streams.
#[derive(Debug)]
pub struct LiveChange {
    /// Who may see it.
    pub audiences: Vec<String>,
    /// The change itself, as pull would return it.
    pub change: Change,
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
        change: Change { cursor, at, body },
    }));
    Ok(())
}

/// Changes visible to `audiences` after `cursor`, oldest first, at most `limit`.
pub fn read(
    conn: &Connection,
    audiences: &[String],
    cursor: i64,
    limit: u32,
) -> ApiResult<Vec<Change>> {
    let marks = vec!["?"; audiences.len()].join(",");
    let sql = format!(
        "SELECT DISTINCT c.cursor, c.at, c.data FROM change_audience a \
         JOIN changes c ON c.cursor = a.cursor \
         WHERE a.audience IN ({marks}) AND a.cursor > ? ORDER BY c.cursor LIMIT ?"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut args: Vec<rusqlite::types::Value> = audiences
        .iter()
        .map(|a| rusqlite::types::Value::Text(a.clone()))
        .collect();
    args.push(cursor.into());
    args.push(i64::from(limit).into());
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (cursor, at, data) = row?;
        let body: ChangeBody = serde_json::from_str(&data)?;
        out.push(Change { cursor, at, body });
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
