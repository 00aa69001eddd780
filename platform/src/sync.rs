//! Sync: cursor pull of the caller's changes, and exactly-once push of queued mutations.
//!
//! Push applies each mutation together with the record of its verdict in the same
//! transaction, so a crash between the two is impossible; a replayed id returns the recorded
//! verdict without touching anything. A rejection (4xx verdict) is recorded too, so a replay
//! is rejected the same way even if the world has changed since. Server trouble (5xx) is
//! not recorded: the request fails and the client retries.

use pitstop_api::{
    Id, MAX_MUTATIONS_PER_PUSH, MAX_SYNC_LIMIT, Mutation, MutationOp, MutationResult, Outcome,
    PushRequest, PushResponse, StatusChange,
};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult, Platform, changes, dispatch, orders, technicians};

/// The caller's changes after `cursor`, as a ready `SyncPage` JSON document. Pages are
/// bounded by count (`limit`, 1..=1000) and by bytes ([`pitstop_api::MAX_SYNC_PAGE_BYTES`]);
/// a cursor that cannot be continued answers 410 (start again from 0).
pub fn pull(platform: &Platform, caller: &Caller, cursor: i64, limit: u32) -> ApiResult<String> {
    if !(1..=MAX_SYNC_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`limit` is between 1 and {MAX_SYNC_LIMIT}."
        )));
    }
    let audiences = caller.audiences();
    platform.read(|conn| {
        changes::check_cursor(conn, cursor)?;
        let (changes, has_more) = changes::read(conn, &audiences, cursor, limit)?;
        // Nothing more for this caller up to the head: their cursor may move to it, so an
        // idle device's cursor keeps up with the log (and with its horizon).
        let next_cursor = if has_more {
            changes.last().map_or(cursor, |c| c.cursor)
        } else {
            changes::head(conn)?.max(cursor)
        };
        let size: usize = changes.iter().map(|c| c.json.len() + 1).sum();
        let mut out = String::with_capacity(size + 64);
        out.push_str("{\"changes\":[");
        for (i, c) in changes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&c.json);
        }
        out.push_str(&format!(
            "],\"next_cursor\":{next_cursor},\"has_more\":{has_more},\"server_time\":{}}}",
            crate::db::now_ms()
        ));
        Ok(out)
    })
}

fn op_hash(m: &Mutation) -> ApiResult<String> {
    Ok(hex::encode(Sha256::digest(serde_json::to_vec(&m.op)?)))
}

/// A mutation's recorded verdict and the order it touched.
type Verdict = (MutationResult, Option<Id>);

fn recorded(tx: &Tx<'_>, caller: &Caller, m: &Mutation, hash: &str) -> ApiResult<Option<Verdict>> {
    let row: Option<(String, String, Option<Id>)> = tx
        .row(
            "SELECT op_hash, result, order_id FROM mutations WHERE account_id = ?1 AND id = ?2",
            (caller.id, m.id.to_string()),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => None,
        Some((h, _, _)) if h != hash => Some((
            MutationResult {
                id: m.id,
                outcome: Outcome::Rejected,
                code: 422,
                reason: Some(
                    "This mutation id was already used for a different change; make a new id."
                        .into(),
                ),
                order: None,
                lines: Vec::new(),
            },
            None,
        )),
        Some((_, result, order_id)) => Some((serde_json::from_str(&result)?, order_id)),
    })
}

fn record(tx: &Tx<'_>, caller: &Caller, m: &Mutation, hash: &str, v: &Verdict) -> ApiResult<()> {
    tx.exec(
        "INSERT INTO mutations (account_id, id, op_hash, result, order_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (caller.id, m.id.to_string(), hash, serde_json::to_string(&v.0)?, v.1, now_ms()),
    )?;
    Ok(())
}

/// Runs one operation; the same code paths as the REST endpoints. Returns the order touched.
fn apply(
    tx: &mut Tx<'_>,
    platform: &Platform,
    caller: &Caller,
    op: &MutationOp,
) -> ApiResult<Option<Id>> {
    let cfg = platform.config();
    Ok(match op {
        MutationOp::OrderCreate(req) => Some(orders::create(tx, cfg, caller, req)?.id),
        MutationOp::OrderStatus {
            order_id,
            status,
            note,
        } => {
            let req = StatusChange {
                status: *status,
                note: note.clone(),
            };
            Some(orders::step(tx, caller, *order_id, req.status, req.note.as_deref())?.id)
        }
        MutationOp::OrderNote { order_id, text } => {
            Some(orders::add_note(tx, caller, *order_id, text)?.order_id)
        }
        MutationOp::OrderPart {
            order_id,
            name,
            qty,
            unit_price_cents,
        } => Some(orders::add_part(tx, caller, *order_id, name, *qty, *unit_price_cents)?.order_id),
        MutationOp::OfferAccept { offer_id } => Some(dispatch::accept(tx, caller, *offer_id)?.id),
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
///
/// The batch runs in one transaction (a push holds at most `MAX_MUTATIONS_PER_PUSH`; 500
/// notes take tens of milliseconds here, and each order it touches publishes one snapshot
/// per push) with a savepoint per mutation: a rejected mutation is rolled back to its savepoint and its
/// verdict recorded; an internal error aborts the transaction (nothing of it is stored) and
/// the client retries. Orders touched are published to the change log once, at its end.
/// The answer carries each touched order's current snapshot once, on the last result that
/// touched it.
pub fn push(platform: &Platform, caller: &Caller, req: &PushRequest) -> ApiResult<PushResponse> {
    if req.mutations.len() > MAX_MUTATIONS_PER_PUSH {
        return Err(ApiError::invalid(format!(
            "A push carries at most {MAX_MUTATIONS_PER_PUSH} mutations; send the rest in the next one."
        )));
    }
    let hashes = req
        .mutations
        .iter()
        .map(op_hash)
        .collect::<ApiResult<Vec<_>>>()?;
    let (verdicts, published): (Vec<Verdict>, Vec<pitstop_api::Order>) = platform.write(|tx| {
        tx.deferred = Some(Vec::new());
        let mut out = Vec::with_capacity(req.mutations.len());
        for (m, hash) in req.mutations.iter().zip(&hashes) {
            if let Some(v) = recorded(tx, caller, m, hash)? {
                out.push(v);
                continue;
            }
            tx.exec("SAVEPOINT mutation", [])?;
            let marks = (tx.live.len(), tx.timers.len(), tx.deferred.clone());
            tx.mutation = Some(m.id);
            tx.tapped_at = m.at;
            tx.created.clear();
            let result = apply(tx, platform, caller, &m.op);
            tx.mutation = None;
            tx.tapped_at = None;
            let verdict = match result {
                Ok(order_id) => {
                    tx.exec("RELEASE mutation", [])?;
                    let r = MutationResult {
                        id: m.id,
                        outcome: Outcome::Applied,
                        code: 200,
                        reason: None,
                        order: None,
                        lines: Vec::new(),
                    };
                    (r, order_id)
                }
                Err(e) if e.is_client_error() => {
                    tx.exec("ROLLBACK TO mutation", [])?;
                    tx.exec("RELEASE mutation", [])?;
                    tx.live.truncate(marks.0);
                    tx.timers.truncate(marks.1);
                    tx.deferred = marks.2;
                    tx.created.clear();
                    let r = MutationResult {
                        id: m.id,
                        outcome: Outcome::Rejected,
                        code: e.status.as_u16(),
                        reason: Some(e.detail.clone()),
                        order: None,
                        lines: Vec::new(),
                    };
                    (r, None)
                }
                Err(e) => return Err(e),
            };
            // Recorded with the lines it made, so a replay answers the same.
            let mut verdict = verdict;
            verdict.0.lines = std::mem::take(&mut tx.created);
            record(tx, caller, m, hash, &verdict)?;
            out.push(verdict);
        }
        let mut published = Vec::new();
        for id in tx.deferred.take().unwrap_or_default() {
            published.push(orders::emit_snapshot(tx, id)?);
        }
        Ok((out, published))
    })?;
    let mut snapshots: std::collections::HashMap<Id, pitstop_api::Order> =
        published.into_iter().map(|o| (o.id, o)).collect();
    // Attach current snapshots, once per order, on its last mention.
    let mut results: Vec<MutationResult> = Vec::with_capacity(verdicts.len());
    platform.read(|conn| {
        for (i, (r, order_id)) in verdicts.iter().enumerate() {
            let mut r = r.clone();
            let last_mention =
                order_id.is_some() && !verdicts[i + 1..].iter().any(|(_, o)| o == order_id);
            if let (true, Some(id)) = (last_mention, order_id) {
                // The snapshot this push published, else (a replay) the current one.
                let order = match snapshots.remove(id) {
                    Some(o) => Some(o),
                    None => orders::load_head(conn, *id)?,
                };
                r.order = match order {
                    Some(o) if orders::visible(conn, caller, &o)? => Some(o),
                    _ => None,
                };
            }
            results.push(r);
        }
        Ok(())
    })?;
    Ok(PushResponse { results })
}
