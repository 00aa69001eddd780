//! Sync: cursor pull of the caller's changes, and exactly-once push of queued mutations.
//!
//! Push applies each mutation in its own transaction together with the record of its
//! result, so a crash between the two is impossible; a replayed id returns the recorded
//! result without touching anything. A rejection (4xx verdict) is recorded too, so a replay
//! is rejected the same way even if the world has changed since. Server trouble (5xx) is
//! not recorded: the whole request fails and the client retries.

use pitstop_api::{
    MAX_MUTATIONS_PER_PUSH, MAX_SYNC_LIMIT, Mutation, MutationOp, MutationResult, Order, Outcome,
    PushRequest, PushResponse, StatusChange, SyncPage,
};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::{Tx, now_ms};
use crate::{ApiError, ApiResult, Platform, changes, dispatch, orders, technicians};

/// The caller's changes after `cursor`.
pub fn pull(platform: &Platform, caller: &Caller, cursor: i64, limit: u32) -> ApiResult<SyncPage> {
    if cursor < 0 {
        return Err(ApiError::bad_request("`cursor` cannot be negative."));
    }
    let limit = limit.clamp(1, MAX_SYNC_LIMIT);
    let audiences = caller.audiences();
    platform.read(|conn| {
        // One extra row tells whether another page follows.
        let mut changes = changes::read(conn, &audiences, cursor, limit + 1)?;
        let has_more = changes.len() > limit as usize;
        changes.truncate(limit as usize);
        let next_cursor = changes.last().map_or(cursor, |c| c.cursor);
        Ok(SyncPage {
            changes,
            next_cursor,
            has_more,
        })
    })
}

fn op_hash(m: &Mutation) -> ApiResult<String> {
    Ok(hex::encode(Sha256::digest(serde_json::to_vec(&m.op)?)))
}

fn recorded(
    tx: &Tx<'_>,
    caller: &Caller,
    m: &Mutation,
    hash: &str,
) -> ApiResult<Option<MutationResult>> {
    let row: Option<(String, String)> = tx
        .query_row(
            "SELECT op_hash, result FROM mutations WHERE account_id = ?1 AND id = ?2",
            (caller.id, m.id.to_string()),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        None => None,
        Some((h, _)) if h != hash => Some(MutationResult {
            id: m.id,
            outcome: Outcome::Rejected,
            code: 422,
            reason: Some(
                "This mutation id was already used for a different change; make a new id.".into(),
            ),
            order: None,
        }),
        Some((_, result)) => Some(serde_json::from_str(&result)?),
    })
}

fn record(
    tx: &Tx<'_>,
    caller: &Caller,
    m: &Mutation,
    hash: &str,
    result: &MutationResult,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO mutations (account_id, id, op_hash, result, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        (caller.id, m.id.to_string(), hash, serde_json::to_string(result)?, now_ms()),
    )?;
    Ok(())
}

/// Runs one operation; the same code paths as the REST endpoints.
fn apply(
    tx: &mut Tx<'_>,
    platform: &Platform,
    caller: &Caller,
    op: &MutationOp,
) -> ApiResult<Option<Order>> {
    let cfg = platform.config();
    Ok(match op {
        MutationOp::OrderCreate(req) => Some(orders::create(tx, cfg, caller, req)?),
        MutationOp::OrderStatus {
            order_id,
            status,
            note,
        } => {
            let req = StatusChange {
                status: *status,
                note: note.clone(),
            };
            Some(orders::step(
                tx,
                caller,
                *order_id,
                req.status,
                req.note.as_deref(),
            )?)
        }
        MutationOp::OrderNote { order_id, text } => {
            Some(orders::add_note(tx, caller, *order_id, text)?)
        }
        MutationOp::OrderPart {
            order_id,
            name,
            qty,
            unit_price_cents,
        } => Some(orders::add_part(
            tx,
            caller,
            *order_id,
            name,
            *qty,
            *unit_price_cents,
        )?),
        MutationOp::OfferAccept { offer_id } => Some(dispatch::accept(tx, caller, *offer_id)?),
        MutationOp::OfferDecline { offer_id } => {
            dispatch::decline(tx, cfg, caller, *offer_id)?;
            None
        }
        MutationOp::Shift(req) => {
            technicians::set_shift(tx, cfg, caller, req)?;
            None
        }
    })
}

/// Applies a batch of mutations in order, each exactly once.
pub fn push(platform: &Platform, caller: &Caller, req: &PushRequest) -> ApiResult<PushResponse> {
    if req.mutations.len() > MAX_MUTATIONS_PER_PUSH {
        return Err(ApiError::invalid(format!(
            "A push carries at most {MAX_MUTATIONS_PER_PUSH} mutations; send the rest in the next one."
        )));
    }
    let mut results = Vec::with_capacity(req.mutations.len());
    for m in &req.mutations {
        let hash = op_hash(m)?;
        let attempt = platform.write(|tx| {
            if let Some(r) = recorded(tx, caller, m, &hash)? {
                return Ok(r);
            }
            let order = apply(tx, platform, caller, &m.op)?;
            let result = MutationResult {
                id: m.id,
                outcome: Outcome::Applied,
                code: 200,
                reason: None,
                order,
            };
            record(tx, caller, m, &hash, &result)?;
            Ok(result)
        });
        let result = match attempt {
            Ok(r) => r,
            Err(e) if e.is_client_error() => platform.write(|tx| {
                // Someone may have applied the same id in between: their answer stands.
                if let Some(r) = recorded(tx, caller, m, &hash)? {
                    return Ok(r);
                }
                let result = MutationResult {
                    id: m.id,
                    outcome: Outcome::Rejected,
                    code: e.status.as_u16(),
                    reason: Some(e.detail.clone()),
                    order: None,
                };
                record(tx, caller, m, &hash, &result)?;
                Ok(result)
            })?,
            Err(e) => return Err(e),
        };
        results.push(result);
    }
    Ok(PushResponse { results })
}
