//! The change log: every state change a client must learn about, with a monotonic cursor
//! and an audience. Sync pull reads it; the event stream replays it and then follows the live
//! hub, so both speak the same cursors.
//!
//! Audiences are strings: `a<account id>`, `w<workshop id>` (every desk of that workshop) and
//! `admin`. A change is written once and indexed once per audience.
//!
//! Compaction: each change names its entity (`order:7`, `line:note:12`, ...), and the log
//! keeps only the newest change of each entity — writing a change deletes the one it
//! supersedes. So the log grows with the number of things, not of edits, and reading it from
//! cursor 0 is a download of the current state, not of history. Pruning ([`prune`]) may also
//! drop old changes *without* a successor (finished offers, old positions); it raises the
//! *horizon*, and a client whose cursor is below it must resync ([`check_cursor`]).

use std::sync::Arc;

use pitstop_api::{ChangeBody, Id, MAX_SYNC_PAGE_BYTES};
use rusqlite::{Connection, OptionalExtension};

use crate::db::{Cached, Tx, now_ms};
pub use crate::live::{LiveChange, RawChange};
use crate::{ApiError, ApiResult};

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

/// Writes a change for `audiences` to the log, deleting the change of the same entity it
/// supersedes; returns it in wire form with its sorted audiences.
pub fn append(
    conn: &Connection,
    body: &ChangeBody,
    audiences: &[String],
) -> ApiResult<(RawChange, Vec<String>)> {
    append_with(conn, body, audiences, true)
}

/// [`append`]; `supersedes`: whether the entity may already be in the log (false for one
/// just made, which skips looking for its predecessor).
fn append_with(
    conn: &Connection,
    body: &ChangeBody,
    audiences: &[String],
    supersedes: bool,
) -> ApiResult<(RawChange, Vec<String>)> {
    let at = now_ms();
    let data = serde_json::to_string(body)?;
    let entity = body.entity();
    let mut audiences: Vec<String> = audiences.to_vec();
    audiences.sort();
    audiences.dedup();
    if supersedes {
        let old: Option<(i64, String)> = conn
            .prepare_cached("SELECT cursor, audiences FROM changes WHERE entity = ?1")?
            .query_row([&entity], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((cursor, who)) = old {
            remove(conn, cursor, &who)?;
        }
    }
    let cursor: i64 = conn
        .prepare_cached(
            "INSERT INTO changes (kind, data, at, entity, audiences) VALUES (?1, ?2, ?3, ?4, ?5) \
             RETURNING cursor",
        )?
        .query_row(
            (body.kind(), &data, at, &entity, audiences.join(" ")),
            |r| r.get(0),
        )?;
    {
        let mut stmt =
            conn.prepare_cached("INSERT INTO change_audience (audience, cursor) VALUES (?1, ?2)")?;
        for a in &audiences {
            stmt.execute((a, cursor))?;
        }
    }
    Ok((
        RawChange::new(cursor, at, body.kind().to_string(), &data),
        audiences,
    ))
}

/// Deletes one change and its audience rows (`who`, as stored in `changes.audiences`).
fn remove(conn: &Connection, cursor: i64, who: &str) -> ApiResult<()> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM change_audience WHERE audience = ?1 AND cursor = ?2")?;
    for a in who.split(' ').filter(|a| !a.is_empty()) {
        stmt.execute((a, cursor))?;
    }
    conn.prepare_cached("DELETE FROM changes WHERE cursor = ?1")?
        .execute([cursor])?;
    Ok(())
}

/// Appends a change for `audiences` to the log, to be published when `tx` commits.
pub fn emit(tx: &mut Tx<'_>, body: ChangeBody, audiences: &[String]) -> ApiResult<()> {
    let (change, audiences) = append(tx, &body, audiences)?;
    tx.live.push(Arc::new(LiveChange { audiences, change }));
    Ok(())
}

/// [`emit`] for an entity made in this transaction (a job line just inserted): it has no
/// earlier change to supersede, so none is looked for. A push of notes appends thousands.
/// Sound because line ids are never reused (lines are never deleted); were one reused, the
/// unique `entity` index would refuse the change and the transaction fail, not fork the log.
pub fn emit_new(tx: &mut Tx<'_>, body: ChangeBody, audiences: &[String]) -> ApiResult<()> {
    let (change, audiences) = append_with(tx, &body, audiences, false)?;
    tx.live.push(Arc::new(LiveChange { audiences, change }));
    Ok(())
}

/// Changes visible to `audiences` after `cursor`, oldest first, at most `limit` and, past
/// the first, at most [`MAX_SYNC_PAGE_BYTES`] of JSON; and whether more follow.
///
/// One index range scan per audience (`(audience, cursor) > …`) joined to the bodies,
/// merged in cursor order and de-duplicated here, stopped at `limit` changes or
/// [`MAX_SYNC_PAGE_BYTES`]: the cost depends on the page size, not on how much of the log
/// lies ahead or belongs to others (beyond the page, one row per audience is read).
pub fn read(
    conn: &Connection,
    audiences: &[String],
    cursor: i64,
    limit: u32,
) -> ApiResult<(Vec<RawChange>, bool)> {
    const SQL: &str = "SELECT c.cursor, c.at, c.kind, c.data FROM change_audience a \
         JOIN changes c ON c.cursor = a.cursor \
         WHERE a.audience = ?1 AND a.cursor > ?2 ORDER BY a.cursor";
    fn next(rows: &mut rusqlite::Rows<'_>) -> ApiResult<Option<RawChange>> {
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let data = r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
        Ok(Some(RawChange::new(r.get(0)?, r.get(1)?, r.get(2)?, data)))
    }
    // A change deleted as superseded has no body any more: the join skips it.
    // One cached statement per slot: the cache hands a text out once at a time.
    let mut stmts = Vec::with_capacity(audiences.len());
    for i in 0..audiences.len() {
        stmts.push(conn.prepare_cached(&format!("{SQL} -- {i}"))?);
    }
    let mut streams = Vec::with_capacity(audiences.len());
    for (stmt, a) in stmts.iter_mut().zip(audiences) {
        streams.push(stmt.query((a, cursor))?);
    }
    let mut heads = Vec::with_capacity(streams.len());
    for rows in &mut streams {
        heads.push(next(rows)?);
    }
    let (mut out, mut bytes, mut more) = (Vec::new(), 0, false);
    while let Some(lowest) = heads.iter().flatten().map(|c| c.cursor).min() {
        if out.len() >= limit as usize {
            more = true;
            break;
        }
        // The same change can reach the caller through two audiences: taken once.
        let mut taken = None;
        for (head, rows) in heads.iter_mut().zip(&mut streams) {
            if head.as_ref().is_some_and(|c| c.cursor == lowest) {
                let change = std::mem::replace(head, next(rows)?);
                taken = taken.or(change);
            }
        }
        let change = taken.expect("a head holds the lowest cursor");
        bytes += change.json.len() + 1;
        if !out.is_empty() && bytes > MAX_SYNC_PAGE_BYTES {
            more = true;
            break;
        }
        out.push(change);
    }
    Ok((out, more))
}

/// The highest cursor ever handed out (0 for an empty log); compaction never lowers it.
pub fn head(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Cursors below this may have missed changes that pruning removed.
pub fn horizon(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .row(
            "SELECT value FROM sync_meta WHERE key = 'horizon'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// A client may read on from `cursor` only if nothing it has not seen was pruned and the
/// cursor came from this log; otherwise it must start again from 0 (`410 Gone`).
pub fn check_cursor(conn: &Connection, cursor: i64) -> ApiResult<()> {
    if cursor < 0 {
        return Err(ApiError::bad_request("`cursor` cannot be negative."));
    }
    if cursor == 0 {
        return Ok(());
    }
    let head = head(conn)?;
    if cursor > head {
        return Err(ApiError::gone(format!(
            "Cursor {cursor} is ahead of this platform's change log (newest {head}); it was \
             not issued here. Sync again from cursor 0."
        )));
    }
    if cursor < horizon(conn)? {
        return Err(ApiError::gone(format!(
            "Cursor {cursor} is older than the change log keeps; sync again from cursor 0 \
             (queued actions are not affected)."
        )));
    }
    Ok(())
}

/// Drops finished offers and positions written before `before` from the log (they have no
/// successor to supersede them) and raises the horizon past them. Returns how many went.
pub fn prune(conn: &Connection, before: i64) -> ApiResult<usize> {
    let gone: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT cursor, audiences FROM changes WHERE kind IN ('location', 'offer') AND \
             ((kind = 'location' AND at < ?1) OR \
             (kind = 'offer' AND at < ?1 AND json_extract(data, '$.data.status') != 'pending'))",
        )?
        .query_map([before], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut highest = 0;
    for (cursor, who) in &gone {
        remove(conn, *cursor, who)?;
        highest = highest.max(*cursor);
    }
    if highest > 0 {
        conn.exec(
            "UPDATE sync_meta SET value = max(value, ?1) WHERE key = 'horizon'",
            [highest],
        )?;
    }
    Ok(gone.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitstop_api::TechnicianFix;

    fn fix(tech: Id, t: i64) -> ChangeBody {
        ChangeBody::Location(TechnicianFix {
            technician_id: tech,
            order_id: None,
            lat: 1.0,
            lon: 2.0,
            accuracy_m: 5.0,
            speed_mps: None,
            heading_deg: None,
            t,
        })
    }

    /// A technician change whose size is its name's.
    fn named(id: Id, name: &str) -> ChangeBody {
        ChangeBody::Technician(pitstop_api::Technician {
            id,
            name: name.into(),
            workshop_id: None,
            skills: vec![],
            certifications: vec![],
            on_shift: false,
            lat: None,
            lon: None,
            fix_at: None,
            vehicle: String::new(),
        })
    }

    #[test]
    fn a_newer_change_of_an_entity_supersedes_the_older() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("p.db")).unwrap();
        let who = vec![account(1)];
        for t in 0..100 {
            append(&conn, &fix(7, t), &who).unwrap();
        }
        append(&conn, &fix(8, 0), &who).unwrap();
        let rows: i64 = conn
            .row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
        let indexed: i64 = conn
            .row("SELECT count(*) FROM change_audience", [], |r| r.get(0))
            .unwrap();
        assert_eq!((rows, indexed), (2, 2), "one change per entity is kept");
        let (page, more) = read(&conn, &who, 0, 1000).unwrap();
        assert_eq!((page.len(), more), (2, false));
        let ChangeBody::Location(f) = page[0].parse().unwrap().body else {
            panic!("not a location");
        };
        assert_eq!(f.t, 99, "the newest position of technician 7 is kept");
        assert_eq!(head(&conn).unwrap(), 101, "the head never goes back");
    }

    #[test]
    fn pages_stop_at_the_byte_cap_but_never_come_back_empty() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("p.db")).unwrap();
        let who = vec![account(1)];
        // 300 changes of ~10 KB: 3 MB in all.
        let big = "x".repeat(10_000);
        for i in 0..300 {
            append(&conn, &named(i, &big), &who).unwrap();
        }
        let (page, more) = read(&conn, &who, 0, 1000).unwrap();
        let bytes: usize = page.iter().map(|c| c.json.len()).sum();
        assert!(
            page.len() < 300 && page.len() > 50 && more,
            "{}",
            page.len()
        );
        assert!(bytes <= MAX_SYNC_PAGE_BYTES, "{bytes}");
        // A change bigger than the cap on its own still comes, alone.
        let huge = named(1000, &"y".repeat(MAX_SYNC_PAGE_BYTES + 10));
        let (c, _) = append(&conn, &huge, &who).unwrap();
        let (page, more) = read(&conn, &who, c.cursor - 1, 1000).unwrap();
        assert_eq!((page.len(), more), (1, false));
    }

    #[test]
    fn pruning_raises_the_horizon_and_old_cursors_must_resync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("p.db")).unwrap();
        let who = vec![account(1)];
        append(&conn, &fix(1, 0), &who).unwrap();
        append(&conn, &fix(2, 0), &who).unwrap();
        check_cursor(&conn, 1).unwrap();
        assert_eq!(prune(&conn, now_ms() + 1).unwrap(), 2);
        assert_eq!(check_cursor(&conn, 1).unwrap_err().status.as_u16(), 410);
        check_cursor(&conn, 0).unwrap();
        assert_eq!(check_cursor(&conn, 99).unwrap_err().status.as_u16(), 410);
    }
}
