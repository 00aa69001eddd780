//! Share links: a browser link that shows one order's live tracking to whoever holds it, with
//! no account and no app. The link carries a random token; only its SHA-256 is stored, and it
//! expires. What it reveals is what [`crate::location::tracking_of`] reveals: the technician's
//! position only while the job is live. A link ends when the job ends (it then says only that
//! the job has ended: no name, no coordinates), after a day at most, or when revoked.

use pitstop_api::{Id, Role, ShareLink, Tracking};
use rusqlite::{Connection, OptionalExtension, params};

use crate::auth::{Caller, hash_token, new_token};
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult, location, orders};

/// How long a share link works.
pub const SHARE_TTL_MS: i64 = 24 * 3600 * 1000;

/// The page a share link opens (the web UI served by the platform).
pub fn page_path(token: &str) -> String {
    format!("/app/?track={token}")
}

/// Creates a share link for an order the caller may see (owner, desk or admin).
pub fn create(tx: &mut Tx<'_>, caller: &Caller, order_id: Id) -> ApiResult<ShareLink> {
    if caller.role == Role::Technician {
        return Err(ApiError::forbidden(
            "Technicians cannot share tracking links; the car owner or the desk can.",
        ));
    }
    let order = orders::get_head(tx, caller, order_id)?;
    if order.status.is_terminal() {
        return Err(ApiError::conflict(
            "This job has ended, so there is nothing live to share.",
        ));
    }
    let token = new_token();
    let now = now_ms();
    let expires_at = now + SHARE_TTL_MS;
    tx.exec(
        "INSERT INTO share_links (hash, order_id, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash_token(&token), order.id, caller.id, now, expires_at],
    )?;
    Ok(ShareLink {
        order_id: order.id,
        path: page_path(&token),
        token,
        expires_at,
    })
}

/// Revokes every link to an order the caller may see (owner, desk or admin); answers how
/// many stopped working.
pub fn revoke(tx: &mut Tx<'_>, caller: &Caller, order_id: Id) -> ApiResult<usize> {
    if caller.role == Role::Technician {
        return Err(ApiError::forbidden(
            "Technicians cannot manage tracking links; the car owner or the desk can.",
        ));
    }
    let order = orders::get_head(tx, caller, order_id)?;
    Ok(tx.exec(
        "UPDATE share_links SET revoked_at = ?2 WHERE order_id = ?1 AND revoked_at IS NULL",
        params![order.id, now_ms()],
    )?)
}

/// Tracking for the holder of a share link. An unknown, expired and revoked token answer
/// alike (404); a link whose job has ended answers 410 and nothing else.
pub fn tracking(conn: &Connection, token: &str) -> ApiResult<Tracking> {
    let gone =
        || ApiError::not_found("This tracking link is unknown, was turned off, or has expired.");
    if token.len() != 64 {
        return Err(gone());
    }
    let order_id: Option<Id> = conn
        .row(
            "SELECT order_id FROM share_links WHERE hash = ?1 AND expires_at > ?2 AND revoked_at IS NULL",
            params![hash_token(token), now_ms()],
            |r| r.get(0),
        )
        .optional()?;
    let order = orders::load_head(conn, order_id.ok_or_else(gone)?)?.ok_or_else(gone)?;
    if order.status.is_terminal() {
        return Err(ApiError::new(
            axum::http::StatusCode::GONE,
            "This job has ended, so there is nothing more to follow here.",
        ));
    }
    location::tracking_of(conn, &order)
}
