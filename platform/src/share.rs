//! Share links: a browser link that shows one order's live tracking to whoever holds it, with
//! no account and no app. The link carries a random token; only its SHA-256 is stored, and it
//! expires. What it reveals is what [`crate::location::tracking_of`] reveals: the technician's
//! position only while the job is live.

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

/// Tracking for the holder of a share link. An unknown and an expired token answer alike.
pub fn tracking(conn: &Connection, token: &str) -> ApiResult<Tracking> {
    let gone = || ApiError::not_found("This tracking link is unknown or has expired.");
    let order_id: Option<Id> = conn
        .row(
            "SELECT order_id FROM share_links WHERE hash = ?1 AND expires_at > ?2",
            params![hash_token(token), now_ms()],
            |r| r.get(0),
        )
        .optional()?;
    let order = orders::load_head(conn, order_id.ok_or_else(gone)?)?.ok_or_else(gone)?;
    location::tracking_of(conn, &order)
}
