//! GPS fix ingest (idempotent by device and sequence number) and owner tracking with ETA.

use pitstop_api::{
    ChangeBody, Fix, Id, LocationAck, LocationBatch, MAX_FIXES_PER_BATCH, Role, TechnicianFix,
    Tracking,
};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::changes::{self, emit};
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult, Platform, orders, technicians};

/// Fixes older than this are refused (a phone's clock or buffer gone wrong).
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Fixes from further in the future than this are refused (clock skew allowance).
const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// Faster than any car on a road, in m/s.
const MAX_SPEED_MPS: f32 = 150.0;

fn check_fix(i: usize, f: &Fix, now: i64) -> ApiResult<()> {
    let bad = |msg: String| Err(ApiError::invalid(format!("Fix {i} (seq {}): {msg}", f.seq)));
    if !(f.lat.is_finite() && (-90.0..=90.0).contains(&f.lat)) {
        return bad(format!("latitude {} is outside -90..90.", f.lat));
    }
    if !(f.lon.is_finite() && (-180.0..=180.0).contains(&f.lon)) {
        return bad(format!("longitude {} is outside -180..180.", f.lon));
    }
    if f.t < now - MAX_AGE_MS || f.t > now + MAX_SKEW_MS {
        return bad("its timestamp is more than 7 days old or more than 5 minutes ahead; check the device clock.".into());
    }
    if !(f.accuracy_m.is_finite() && (0.0..=100_000.0).contains(&f.accuracy_m)) {
        return bad(format!("accuracy {} m is not plausible.", f.accuracy_m));
    }
    if let Some(s) = f.speed_mps
        && !(s.is_finite() && (0.0..=MAX_SPEED_MPS).contains(&s))
    {
        return bad(format!("speed {s} m/s is not plausible."));
    }
    if let Some(h) = f.heading_deg
        && !(h.is_finite() && (0.0..=360.0).contains(&h))
    {
        return bad(format!("heading {h} is outside 0..360 degrees."));
    }
    if f.seq > i64::MAX as u64 {
        return bad("sequence number is too large.".into());
    }
    Ok(())
}

/// An active job: order id, its owner and its workshop.
type ActiveJob = (Id, Option<Id>, Option<Id>);

/// The technician's active job, if any.
fn active_order(conn: &Connection, tech: Id) -> ApiResult<Option<ActiveJob>> {
    Ok(conn
        .row(
            "SELECT id, owner_id, workshop_id FROM orders WHERE technician_id = ?1 \
             AND status IN ('assigned', 'en_route', 'arrived', 'in_progress') ORDER BY id DESC LIMIT 1",
            [tech],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// Stores a batch of fixes from the caller's device. The whole batch is validated first: one
/// bad fix refuses the batch and stores nothing. Fixes already stored are counted as
/// duplicates, so a retried upload is harmless.
pub fn ingest(tx: &mut Tx<'_>, caller: &Caller, batch: &LocationBatch) -> ApiResult<LocationAck> {
    caller.require(&[Role::Technician], "upload locations")?;
    let dev = &batch.device_id;
    if dev.is_empty()
        || dev.len() > 64
        || !dev
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(ApiError::invalid(
            "`device_id` has 1 to 64 letters, digits, '-', '_' or '.'.",
        ));
    }
    if batch.fixes.is_empty() {
        return Err(ApiError::invalid("The batch has no fixes."));
    }
    if batch.fixes.len() > MAX_FIXES_PER_BATCH {
        return Err(ApiError::invalid(format!(
            "A batch holds at most {MAX_FIXES_PER_BATCH} fixes; split it."
        )));
    }
    let now = now_ms();
    for (i, f) in batch.fixes.iter().enumerate() {
        check_fix(i, f, now)?;
    }
    let mut accepted = 0u32;
    let mut newest: Option<&Fix> = None;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO fixes (account_id, device_id, seq, t, lat, lon, accuracy_m, speed_mps, heading_deg, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
        )?;
        for f in &batch.fixes {
            let n = stmt.execute(rusqlite::params![
                caller.id,
                dev,
                f.seq as i64,
                f.t,
                f.lat,
                f.lon,
                f.accuracy_m,
                f.speed_mps,
                f.heading_deg,
                now
            ])?;
            if n == 1 {
                accepted += 1;
                if newest.is_none_or(|b| f.t > b.t) {
                    newest = Some(f);
                }
            }
        }
    }
    let ack = LocationAck {
        accepted,
        duplicates: batch.fixes.len() as u32 - accepted,
    };
    let Some(f) = newest else {
        return Ok(ack);
    };
    let moved = tx.exec(
        "UPDATE technicians SET lat = ?2, lon = ?3, fix_at = ?4 WHERE account_id = ?1 AND (fix_at IS NULL OR fix_at < ?4)",
        (caller.id, f.lat, f.lon, f.t),
    )?;
    if moved == 0 {
        return Ok(ack);
    }
    let active = active_order(tx, caller.id)?;
    let mut audiences: Vec<String> = caller
        .workshop_id
        .map(changes::workshop)
        .into_iter()
        .collect();
    if let Some((_, owner, ws)) = active {
        audiences.extend(owner.map(changes::account));
        audiences.extend(ws.map(changes::workshop));
    }
    if !audiences.is_empty() {
        let fix = TechnicianFix::of(f, caller.id, active.map(|a| a.0));
        emit(tx, ChangeBody::Location(fix), &audiences)?;
    }
    Ok(ack)
}

/// How long a fix stream may stay silent before the platform ends it.
const STREAM_IDLE: std::time::Duration = std::time::Duration::from_secs(90);
/// How long one fix stream may last.
const STREAM_MAX: std::time::Duration = std::time::Duration::from_secs(600);

/// Reads a fix stream (`fixcodec::StreamDecoder`) as its bytes arrive and stores each
/// completed group of fixes at once through [`ingest`], so the owner sees a position as soon
/// as it is measured; answers the totals when the body ends. A bad fix ends the stream with
/// 422, silence or length with 408; what was stored before stays.
pub async fn ingest_stream<S, B, E>(
    platform: &Platform,
    caller: &Caller,
    mut data: S,
) -> ApiResult<LocationAck>
where
    S: futures::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + STREAM_MAX;
    let mut dec = pitstop_api::fixcodec::StreamDecoder::new();
    let mut ack = LocationAck {
        accepted: 0,
        duplicates: 0,
    };
    loop {
        let wait = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + STREAM_IDLE),
            data.next(),
        );
        let chunk = match wait.await {
            Err(_) => {
                return Err(ApiError::new(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "The fix stream was silent for 90 s or open for 10 minutes; fixes received \
                     so far are stored. Start a new stream.",
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!(
                    "The fix stream could not be read: {e}."
                )));
            }
            Ok(Some(Ok(bytes))) => bytes,
        };
        let fixes = dec
            .push(chunk.as_ref())
            .map_err(|e| ApiError::invalid(format!("The fix stream is malformed: {e}.")))?;
        if fixes.is_empty() {
            continue;
        }
        let batch = LocationBatch {
            device_id: dec.device_id().unwrap_or_default().to_string(),
            fixes,
        };
        let got = platform.write(|tx| ingest(tx, caller, &batch))?;
        ack.accepted += got.accepted;
        ack.duplicates += got.duplicates;
    }
    if dec.has_partial() || dec.device_id().is_none() {
        return Err(ApiError::bad_request(
            "The fix stream ended inside a fix; fixes before it are stored.",
        ));
    }
    Ok(ack)
}

/// Where the order's technician is and when they will arrive.
pub fn tracking(conn: &Connection, caller: &Caller, order_id: Id) -> ApiResult<Tracking> {
    let order = orders::get(conn, caller, order_id)?;
    tracking_of(conn, &order)
}

/// Tracking of an order already authorized (by account or by share link).
pub fn tracking_of(conn: &Connection, order: &pitstop_api::Order) -> ApiResult<Tracking> {
    let Some(tech_id) = order.technician_id else {
        return Ok(Tracking::of(order, None));
    };
    let Some(tech) = technicians::load(conn, tech_id)? else {
        return Ok(Tracking::of(order, None));
    };
    let latest = conn
        .row(
            "SELECT lat, lon, accuracy_m, speed_mps, heading_deg, t FROM fixes WHERE account_id = ?1 ORDER BY t DESC LIMIT 1",
            [tech_id],
            |r| {
                Ok(TechnicianFix {
                    technician_id: tech_id,
                    order_id: Some(order.id),
                    lat: r.get(0)?,
                    lon: r.get(1)?,
                    accuracy_m: r.get(2)?,
                    speed_mps: r.get(3)?,
                    heading_deg: r.get(4)?,
                    t: r.get(5)?,
                })
            },
        )
        .optional()?;
    // Fall back to the shift-start position when no GPS fix has arrived yet.
    let fix = latest.or(match (tech.lat, tech.lon, tech.fix_at) {
        (Some(lat), Some(lon), Some(t)) => Some(TechnicianFix {
            technician_id: tech_id,
            order_id: Some(order.id),
            lat,
            lon,
            accuracy_m: 0.0,
            speed_mps: None,
            heading_deg: None,
            t,
        }),
        _ => None,
    });
    Ok(Tracking::of(order, fix))
}
