//! Sessions: one per signed-in device. A session holds a refresh token that rotates on every
//! use; access tokens are short-lived and belong to a session. Signing out, revoking a session
//! or an expired session ends its access tokens at once (they are looked up on every
//! request). A refresh token presented a second time means it was copied: the whole session
//! is revoked.

use pitstop_api::{EventTicket, Id, Millis, Role, Session, SessionInfo};
use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::{self, caller_from_row};
use crate::auth::{Caller, hash_token, new_token};
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult};

/// How long an event-stream ticket can be redeemed.
pub const TICKET_TTL_MS: Millis = 30_000;

/// Lifetimes of what a sign-in hands out.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// An access token's life.
    pub access_ms: Millis,
    /// A session with no refresh for this long ends.
    pub session_ms: Millis,
}

/// The caller behind an access-token hash and when the token expires; `None` when the token
/// is unknown, its session revoked or expired, or its account removed.
pub fn caller_for_token(conn: &Connection, hash: &str) -> ApiResult<Option<(Caller, Millis)>> {
    Ok(conn
        .row(
            "SELECT a.id, a.role, a.name, a.workshop_id, a.workshop_admin, t.session_id, t.expires_at \
             FROM tokens t JOIN sessions s ON s.id = t.session_id \
             JOIN accounts a ON a.id = s.account_id \
             WHERE t.hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2",
            params![hash, now_ms()],
            |r| Ok((caller_from_row(r)?, r.get::<_, Millis>(6)?)),
        )
        .optional()?)
}

/// Starts a session for `account` on `device` and hands out its first tokens.
pub fn start(tx: &mut Tx<'_>, account: Id, device: &str, life: Lifetimes) -> ApiResult<Session> {
    let now = now_ms();
    let refresh = new_token();
    let id: Id = tx.row(
        "INSERT INTO sessions (account_id, device, refresh_hash, created_at, last_used_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id",
        params![account, device, hash_token(&refresh), now, now + life.session_ms],
        |r| r.get(0),
    )?;
    let mut caller = accounts::caller(tx, account)?;
    caller.session_id = Some(id);
    grant(tx, &caller, refresh, life)
}

/// A new access token for `caller`'s session, answered with `refresh` (already stored).
fn grant(tx: &mut Tx<'_>, caller: &Caller, refresh: String, life: Lifetimes) -> ApiResult<Session> {
    let session_id = caller
        .session_id
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("grant without a session")))?;
    let token = new_token();
    let now = now_ms();
    let expires_at = now + life.access_ms;
    tx.exec(
        "INSERT INTO tokens (hash, account_id, created_at, session_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash_token(&token), caller.id, now, session_id, expires_at],
    )?;
    Ok(Session {
        account: caller.account(),
        token,
        expires_at,
        refresh_token: refresh,
        session_id,
    })
}

/// Trades a refresh token for a new access token and a new refresh token. A refusal is the
/// inner error, so that a revocation it caused is committed.
pub fn refresh(
    tx: &mut Tx<'_>,
    refresh_token: &str,
    life: Lifetimes,
) -> ApiResult<Result<Session, ApiError>> {
    let refused =
        || ApiError::unauthorized("This session has ended or was signed out; sign in again.");
    if refresh_token.len() != 64 {
        return Ok(Err(refused()));
    }
    let hash = hash_token(refresh_token);
    let now = now_ms();
    let found: Option<(Id, Id)> = tx
        .row(
            "SELECT id, account_id FROM sessions WHERE refresh_hash = ?1 \
             AND revoked_at IS NULL AND expires_at > ?2",
            params![hash, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((session_id, account)) = found else {
        // A refresh token used twice: whoever holds the newer one may be a thief (or the
        // owner, after the thief). End the session; the owner signs in again.
        let reused = tx.exec(
            "UPDATE sessions SET revoked_at = ?2 WHERE prev_refresh_hash = ?1 AND revoked_at IS NULL",
            params![hash, now],
        )?;
        if reused > 0 {
            tracing::warn!("a refresh token was presented twice; its session was revoked");
            tx.exec(
                "DELETE FROM tokens WHERE session_id IN \
                 (SELECT id FROM sessions WHERE prev_refresh_hash = ?1)",
                [&hash],
            )?;
        }
        return Ok(Err(refused()));
    };
    let next = new_token();
    tx.exec(
        "UPDATE sessions SET prev_refresh_hash = refresh_hash, refresh_hash = ?2, \
         last_used_at = ?3, expires_at = ?4 WHERE id = ?1",
        params![session_id, hash_token(&next), now, now + life.session_ms],
    )?;
    // Older access tokens of this session that have expired are of no further use.
    tx.exec(
        "DELETE FROM tokens WHERE session_id = ?1 AND expires_at <= ?2",
        params![session_id, now],
    )?;
    let mut caller = accounts::caller(tx, account)?;
    caller.session_id = Some(session_id);
    grant(tx, &caller, next, life).map(Ok)
}

/// Ends one session: its refresh token and every access token stop working now.
fn end(tx: &mut Tx<'_>, session_id: Id) -> ApiResult<()> {
    tx.exec(
        "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![session_id, now_ms()],
    )?;
    tx.exec("DELETE FROM tokens WHERE session_id = ?1", [session_id])?;
    tx.exec(
        "DELETE FROM event_tickets WHERE session_id = ?1",
        [session_id],
    )?;
    Ok(())
}

/// Signs the caller's own session out.
pub fn sign_out(tx: &mut Tx<'_>, caller: &Caller) -> ApiResult<()> {
    match caller.session_id {
        Some(id) => end(tx, id),
        None => Ok(()),
    }
}

/// Ends every session of an account (removed staff, a new password).
pub fn end_all(tx: &mut Tx<'_>, account: Id, except: Option<Id>) -> ApiResult<()> {
    let ids: Vec<Id> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM sessions WHERE account_id = ?1 AND revoked_at IS NULL",
        )?;
        let rows = stmt.query_map([account], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for id in ids.into_iter().filter(|id| Some(*id) != except) {
        end(tx, id)?;
    }
    Ok(())
}

/// May `caller` see and end the sessions of `account`? Itself; a workshop admin its
/// workshop's staff; a platform admin anyone. Anything else reads as "no such account".
fn may_manage(conn: &Connection, caller: &Caller, account: Id) -> ApiResult<()> {
    if account == caller.id || caller.role == Role::Admin {
        return Ok(());
    }
    let theirs = accounts::caller(conn, account).ok();
    match theirs {
        Some(t)
            if caller.workshop_admin
                && caller.workshop_id.is_some()
                && t.workshop_id == caller.workshop_id
                && t.role != Role::Admin =>
        {
            Ok(())
        }
        _ => Err(ApiError::not_found(format!(
            "There is no account {account} among yours."
        ))),
    }
}

/// Live sessions of `account` (the caller's own when `None`).
pub fn list(
    conn: &Connection,
    caller: &Caller,
    account: Option<Id>,
) -> ApiResult<Vec<SessionInfo>> {
    let account = account.unwrap_or(caller.id);
    may_manage(conn, caller, account)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, account_id, device, created_at, last_used_at, expires_at FROM sessions \
         WHERE account_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 ORDER BY id DESC LIMIT 200",
    )?;
    let rows = stmt.query_map(params![account, now_ms()], |r| {
        let id: Id = r.get(0)?;
        Ok(SessionInfo {
            id,
            account_id: r.get(1)?,
            device: r.get(2)?,
            created_at: r.get(3)?,
            last_used_at: r.get(4)?,
            expires_at: r.get(5)?,
            current: Some(id) == caller.session_id,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ends session `id`, if the caller may manage its account.
pub fn revoke(tx: &mut Tx<'_>, caller: &Caller, id: Id) -> ApiResult<()> {
    let missing = || ApiError::not_found(format!("There is no session {id} among yours."));
    let account: Id = tx
        .row(
            "SELECT account_id FROM sessions WHERE id = ?1 AND revoked_at IS NULL",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(missing)?;
    may_manage(tx, caller, account).map_err(|_| missing())?;
    end(tx, id)
}

/// A single-use ticket for the caller's session to open the event stream from a browser.
pub fn ticket(tx: &mut Tx<'_>, caller: &Caller) -> ApiResult<EventTicket> {
    let session = caller
        .session_id
        .ok_or_else(|| ApiError::forbidden("Only a signed-in device can open the event stream."))?;
    let now = now_ms();
    tx.exec("DELETE FROM event_tickets WHERE expires_at <= ?1", [now])?;
    let ticket = new_token();
    let expires_at = now + TICKET_TTL_MS;
    tx.exec(
        "INSERT INTO event_tickets (hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![hash_token(&ticket), session, expires_at],
    )?;
    Ok(EventTicket { ticket, expires_at })
}

/// Redeems (and so uses up) an event-stream ticket.
pub fn redeem_ticket(tx: &mut Tx<'_>, ticket: &str) -> ApiResult<Caller> {
    let refused = || {
        ApiError::unauthorized(
            "This event-stream ticket is unknown, used or expired; get a new one from POST /v1/events/ticket.",
        )
    };
    if ticket.len() != 64 {
        return Err(refused());
    }
    let session: Id = tx
        .row(
            "DELETE FROM event_tickets WHERE hash = ?1 AND expires_at > ?2 RETURNING session_id",
            params![hash_token(ticket), now_ms()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(refused)?;
    let account: Id = tx
        .row(
            "SELECT account_id FROM sessions WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
            params![session, now_ms()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(refused)?;
    let mut caller = accounts::caller(tx, account)?;
    caller.session_id = Some(session);
    Ok(caller)
}

/// Whether a session still works (open event streams check now and then).
pub fn alive(conn: &Connection, session: Id) -> ApiResult<bool> {
    Ok(conn
        .row(
            "SELECT 1 FROM sessions WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
            params![session, now_ms()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Forgets expired access tokens, tickets and codes, and sessions ended over a month ago.
pub fn prune(tx: &mut Tx<'_>) -> ApiResult<usize> {
    let now = now_ms();
    let mut n = tx.exec("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
    n += tx.exec("DELETE FROM event_tickets WHERE expires_at <= ?1", [now])?;
    n += tx.exec("DELETE FROM sign_in_codes WHERE expires_at <= ?1", [now])?;
    let month = 30 * 24 * 3600 * 1000;
    n += tx.exec(
        "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < ?1) OR expires_at < ?1",
        [now - month],
    )?;
    Ok(n)
}
