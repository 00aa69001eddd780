//! Dispatch: choosing technicians for an order, making offers with an expiry, first-come
//! accept, and the cascade to the next candidate on decline or expiry.
//!
//! A *round* is one pass over the candidates: each technician is offered an order at most
//! once per round; when the round runs out of candidates the order becomes `unassigned` with a
//! reason. A desk starts a new round by hand ([`redispatch`]).
//!
//! Architecture invariant: every function here runs inside one write transaction, and accept
//! is a conditional UPDATE on a pending offer of an order still `offered`, so two technicians
//! racing for one order cannot both win, whatever the interleaving.

use pitstop_api::{ChangeBody, Id, Millis, Offer, OfferStatus, Order, OrderStatus, Role, geo};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::changes::{self, emit};
use crate::db::{Cached, Tx, json_strings, now_ms};
use crate::orders::{self, pending_offer_count, publish, set_status};
use crate::{ApiError, ApiResult, Config};

const OFFER_SELECT: &str = "SELECT f.id, f.order_id, f.technician_id, f.status, o.service, o.lat, o.lon, \
     o.price_cents, f.distance_m, f.created_at, f.expires_at, o.workshop_id, \
     o.window_start, o.window_end, v.make || ' ' || v.model, o.address, \
     (SELECT w.payout_percent FROM workshops w WHERE w.id = o.workshop_id), o.currency \
     FROM offers f JOIN orders o ON o.id = f.order_id JOIN vehicles v ON v.id = o.vehicle_id";

/// Gives order ?1 to technician ?2 and fixes what they earn by its workshop's payout rule
/// (?3, the default percent, without one); the caller adds the `WHERE`.
const ASSIGN: &str = "UPDATE orders SET technician_id = ?2, unassigned_reason = NULL, payout_cents = \
     price_cents * coalesce((SELECT payout_percent FROM workshops w WHERE w.id = orders.workshop_id), ?3) / 100";

/// The area of an address: its postcode and city ("10999 Berlin" of "Oranienstraße 25,
/// 10999 Berlin", or of Nominatim's "25, Oranienstraße, Kreuzberg, Berlin, 10999,
/// Deutschland"), never the street: what a technician sees before the job is theirs.
pub fn area_of(address: &str) -> String {
    let parts: Vec<&str> = address.split(',').map(str::trim).collect();
    let is_postcode = |w: &str| (4..=6).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit());
    // Skip the first part (house number or street), then find the postcode.
    for (i, part) in parts.iter().enumerate().skip(1) {
        let words: Vec<&str> = part.split_whitespace().collect();
        if words.iter().any(|w| is_postcode(w)) {
            return if words.len() > 1 {
                part.to_string() // "10999 Berlin"
            } else {
                // A postcode alone: with the place named before it ("Berlin 10999").
                match parts.get(i - 1).filter(|_| i > 1) {
                    Some(city) => format!("{part} {city}"),
                    None => part.to_string(),
                }
            };
        }
    }
    String::new()
}

fn offer_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Offer, Option<Id>)> {
    let status: String = r.get(3)?;
    Ok((
        Offer {
            id: r.get(0)?,
            order_id: r.get(1)?,
            technician_id: r.get(2)?,
            status: OfferStatus::parse(&status).unwrap_or(OfferStatus::Expired),
            service: r.get(4)?,
            // About a kilometre: the exact place comes with the job, not with the offer.
            lat: (r.get::<_, f64>(5)? * 100.0).round() / 100.0,
            lon: (r.get::<_, f64>(6)? * 100.0).round() / 100.0,
            price_cents: r.get(7)?,
            currency: r.get(17)?,
            payout_cents: pitstop_api::payout(
                r.get(7)?,
                r.get::<_, Option<u8>>(16)?
                    .unwrap_or(pitstop_api::DEFAULT_PAYOUT_PERCENT),
            ),
            distance_m: r.get(8)?,
            window_start: r.get(12)?,
            window_end: r.get(13)?,
            vehicle: r.get(14)?,
            area: area_of(&r.get::<_, String>(15)?),
            minutes: pitstop_api::services::find(&r.get::<_, String>(4)?).map_or(0, |s| s.minutes),
            created_at: r.get(9)?,
            expires_at: r.get(10)?,
        },
        r.get(11)?,
    ))
}

/// An offer and its order's workshop.
fn load_offer(conn: &Connection, id: Id) -> ApiResult<Option<(Offer, Option<Id>)>> {
    Ok(conn
        .row(
            &format!("{OFFER_SELECT} WHERE f.id = ?1"),
            [id],
            offer_from_row,
        )
        .optional()?)
}

fn emit_offer(tx: &mut Tx<'_>, id: Id) -> ApiResult<Offer> {
    let (offer, workshop) = load_offer(tx, id)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("offer {id} vanished")))?;
    let mut audiences = vec![changes::account(offer.technician_id), changes::ADMIN.into()];
    audiences.extend(workshop.map(changes::workshop));
    emit(tx, ChangeBody::Offer(offer.clone()), &audiences)?;
    Ok(offer)
}

fn set_offer(tx: &Tx<'_>, id: Id, from: OfferStatus, to: OfferStatus) -> ApiResult<bool> {
    Ok(tx.exec(
        "UPDATE offers SET status = ?3, decided_at = ?4 WHERE id = ?1 AND status = ?2",
        (id, from.as_str(), to.as_str(), now_ms()),
    )? == 1)
}

/// Technicians who could take `order` in `round`, nearest first: on shift, with a known
/// position and the skill, free (no active job, no pending offer), not yet offered this order
/// in this round, and of the order's workshop when it has one.
fn candidates(
    conn: &Connection,
    order: &Order,
    skill: &str,
    round: i64,
) -> ApiResult<Vec<(Id, f64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.account_id, t.lat, t.lon, t.skills FROM technicians t \
         JOIN accounts a ON a.id = t.account_id \
         WHERE t.on_shift = 1 AND t.lat IS NOT NULL AND t.lon IS NOT NULL \
           AND (?1 IS NULL OR a.workshop_id = ?1) \
           AND NOT EXISTS (SELECT 1 FROM offers f WHERE f.order_id = ?2 AND f.round = ?3 AND f.technician_id = t.account_id) \
           AND NOT EXISTS (SELECT 1 FROM offers f WHERE f.technician_id = t.account_id AND f.status = 'pending') \
           AND NOT EXISTS (SELECT 1 FROM orders x WHERE x.technician_id = t.account_id \
                           AND x.status IN ('assigned', 'en_route', 'arrived', 'in_progress'))",
    )?;
    let rows = stmt.query_map((order.workshop_id, order.id, round), |r| {
        Ok((
            r.get::<_, Id>(0)?,
            r.get::<_, f64>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, lat, lon, skills) = row?;
        if json_strings(&skills).iter().any(|s| s == skill) {
            out.push((id, geo::haversine_m(lat, lon, order.lat, order.lon)));
        }
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Offers the order to the next candidates if it is open and has no offer pending; marks it
/// `unassigned` with a reason when nobody is left.
pub fn dispatch(tx: &mut Tx<'_>, cfg: &Config, order_id: Id) -> ApiResult<()> {
    let Some(order) = orders::load(tx, order_id)? else {
        return Ok(());
    };
    if !matches!(
        order.status,
        OrderStatus::Pending | OrderStatus::Offered | OrderStatus::Unassigned
    ) || pending_offer_count(tx, order_id)? > 0
    {
        return Ok(());
    }
    let (skill, round): (String, i64) = tx.row(
        "SELECT skill, dispatch_round FROM orders WHERE id = ?1",
        [order_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let chosen: Vec<(Id, f64)> = candidates(tx, &order, &skill, round)?
        .into_iter()
        .take(cfg.offer_fanout.max(1))
        .collect();
    if chosen.is_empty() {
        let offered: i64 = tx.row(
            "SELECT count(*) FROM offers WHERE order_id = ?1 AND round = ?2",
            (order_id, round),
            |r| r.get(0),
        )?;
        let scope = if order.workshop_id.is_some() {
            " in this workshop"
        } else {
            ""
        };
        let reason = if offered == 0 {
            format!("No technician with the '{skill}' skill is on shift and free{scope}.")
        } else {
            format!(
                "All {offered} technician(s) offered this order declined or let the offer expire."
            )
        };
        if order.status == OrderStatus::Unassigned
            && order.unassigned_reason.as_deref() == Some(&reason)
        {
            return Ok(());
        }
        tx.exec(
            "UPDATE orders SET unassigned_reason = ?2 WHERE id = ?1",
            (order_id, &reason),
        )?;
        set_status(tx, order_id, OrderStatus::Unassigned, None, Some(&reason))?;
        publish(tx, order_id)?;
        return Ok(());
    }
    let now = now_ms();
    let expires_at = now + cfg.offer_ttl.as_millis() as Millis;
    for (tech, distance) in chosen {
        let id: Id = tx.row(
            "INSERT INTO offers (order_id, technician_id, round, status, distance_m, created_at, expires_at) \
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6) RETURNING id",
            (order_id, tech, round, distance, now, expires_at),
            |r| r.get(0),
        )?;
        tx.timers.push((id, expires_at));
        emit_offer(tx, id)?;
    }
    if order.status != OrderStatus::Offered {
        tx.exec(
            "UPDATE orders SET unassigned_reason = NULL WHERE id = ?1",
            [order_id],
        )?;
        set_status(tx, order_id, OrderStatus::Offered, None, None)?;
        publish(tx, order_id)?;
    }
    Ok(())
}

fn own_offer(conn: &Connection, caller: &Caller, offer_id: Id) -> ApiResult<Offer> {
    caller.require(&[Role::Technician], "answer offers")?;
    match load_offer(conn, offer_id)? {
        Some((offer, _)) if offer.technician_id == caller.id => Ok(offer),
        _ => Err(ApiError::not_found(format!(
            "There is no offer {offer_id} for you."
        ))),
    }
}

fn closed_offer(offer: &Offer) -> ApiError {
    ApiError::conflict(match offer.status {
        OfferStatus::Declined => "You already declined this offer.",
        OfferStatus::Expired => {
            "This offer expired before you answered; it went to another technician."
        }
        OfferStatus::Lost => "Another technician accepted this order first.",
        OfferStatus::Withdrawn => {
            "This offer was withdrawn: the order was cancelled or assigned by hand."
        }
        OfferStatus::Accepted => "You already accepted this offer.",
        OfferStatus::Pending => "This offer is still open.",
    })
}

/// Accepts an offer: the first accept of an open order wins it. Accepting an offer one
/// already won answers the order again (a retried request is not an error).
pub fn accept(tx: &mut Tx<'_>, caller: &Caller, offer_id: Id) -> ApiResult<Order> {
    let offer = own_offer(tx, caller, offer_id)?;
    match offer.status {
        OfferStatus::Accepted => return orders::get(tx, caller, offer.order_id),
        OfferStatus::Pending => {}
        _ => return Err(closed_offer(&offer)),
    }
    let now = now_ms();
    if now >= offer.expires_at {
        return Err(ApiError::conflict(format!(
            "This offer expired {:.1} s ago; it is going to another technician.",
            (now - offer.expires_at) as f64 / 1000.0
        )));
    }
    if !set_offer(tx, offer_id, OfferStatus::Pending, OfferStatus::Accepted)? {
        return Err(ApiError::conflict("This offer was answered a moment ago."));
    }
    let won = tx.exec(
        &format!("{ASSIGN} WHERE id = ?1 AND status = 'offered'"),
        (
            offer.order_id,
            caller.id,
            pitstop_api::DEFAULT_PAYOUT_PERCENT,
        ),
    )?;
    if won != 1 {
        // Dropping the transaction undoes the offer update above.
        return Err(ApiError::conflict("This order is no longer open."));
    }
    set_status(
        tx,
        offer.order_id,
        OrderStatus::Assigned,
        Some(caller.id),
        Some("Offer accepted"),
    )?;
    emit_offer(tx, offer_id)?;
    let others: Vec<Id> = tx
        .prepare_cached("SELECT id FROM offers WHERE order_id = ?1 AND status = 'pending'")?
        .query_map([offer.order_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for other in others {
        set_offer(tx, other, OfferStatus::Pending, OfferStatus::Lost)?;
        emit_offer(tx, other)?;
    }
    publish(tx, offer.order_id)
}

/// Declines an offer and moves the order on to the next candidate.
pub fn decline(tx: &mut Tx<'_>, cfg: &Config, caller: &Caller, offer_id: Id) -> ApiResult<Offer> {
    let offer = own_offer(tx, caller, offer_id)?;
    match offer.status {
        OfferStatus::Declined => return Ok(offer),
        OfferStatus::Pending => {}
        _ => return Err(closed_offer(&offer)),
    }
    set_offer(tx, offer_id, OfferStatus::Pending, OfferStatus::Declined)?;
    let offer = emit_offer(tx, offer_id)?;
    dispatch(tx, cfg, offer.order_id)?;
    Ok(offer)
}

/// Called by the offer's timer: expires it if still pending and cascades.
pub fn expire(tx: &mut Tx<'_>, cfg: &Config, offer_id: Id) -> ApiResult<()> {
    let Some((offer, _)) = load_offer(tx, offer_id)? else {
        return Ok(());
    };
    if offer.status != OfferStatus::Pending {
        return Ok(());
    }
    set_offer(tx, offer_id, OfferStatus::Pending, OfferStatus::Expired)?;
    emit_offer(tx, offer_id)?;
    dispatch(tx, cfg, offer.order_id)
}

/// Withdraws the order's pending offers (cancelled or assigned by hand).
pub fn withdraw_pending(tx: &mut Tx<'_>, order_id: Id) -> ApiResult<()> {
    let pending: Vec<Id> = tx
        .prepare_cached("SELECT id FROM offers WHERE order_id = ?1 AND status = 'pending'")?
        .query_map([order_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in pending {
        set_offer(tx, id, OfferStatus::Pending, OfferStatus::Withdrawn)?;
        emit_offer(tx, id)?;
    }
    Ok(())
}

fn desk_order(conn: &Connection, caller: &Caller, order_id: Id) -> ApiResult<Order> {
    caller.require(&[Role::Desk, Role::Admin], "dispatch orders by hand")?;
    orders::get(conn, caller, order_id)
}

/// Assigns an order to a technician by hand (desk of the order's workshop, or admin).
pub fn assign_by_hand(
    tx: &mut Tx<'_>,
    caller: &Caller,
    order_id: Id,
    tech: Id,
) -> ApiResult<Order> {
    let order = desk_order(tx, caller, order_id)?;
    if !matches!(
        order.status,
        OrderStatus::Pending | OrderStatus::Offered | OrderStatus::Unassigned
    ) {
        return Err(ApiError::conflict(format!(
            "The order is {}; only open orders can be assigned.",
            order.status.label()
        )));
    }
    let row: Option<(Option<Id>, bool)> = tx
        .row(
            "SELECT a.workshop_id, t.on_shift FROM technicians t JOIN accounts a ON a.id = t.account_id WHERE t.account_id = ?1",
            [tech],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    // One sentence for "missing" and "another workshop's": a desk learns nothing about
    // who works elsewhere.
    let missing = || {
        ApiError::not_found(if caller.role == Role::Desk {
            format!("There is no technician {tech} in your workshop.")
        } else {
            format!("There is no technician {tech}.")
        })
    };
    let Some((tech_ws, on_shift)) = row else {
        return Err(missing());
    };
    if caller.role == Role::Desk && tech_ws != caller.workshop_id {
        return Err(missing());
    }
    if !on_shift {
        return Err(ApiError::conflict("That technician is off shift."));
    }
    let busy: bool = tx.row(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE technician_id = ?1 AND status IN ('assigned', 'en_route', 'arrived', 'in_progress'))",
        [tech],
        |r| r.get(0),
    )?;
    if busy {
        return Err(ApiError::conflict(
            "That technician is busy with another job.",
        ));
    }
    withdraw_pending(tx, order_id)?;
    tx.exec(
        &format!("{ASSIGN} WHERE id = ?1"),
        (order_id, tech, pitstop_api::DEFAULT_PAYOUT_PERCENT),
    )?;
    set_status(
        tx,
        order_id,
        OrderStatus::Assigned,
        Some(caller.id),
        Some("Assigned by hand"),
    )?;
    publish(tx, order_id)
}

/// Starts a new dispatch round for an unassigned order.
pub fn redispatch(
    tx: &mut Tx<'_>,
    cfg: &Config,
    caller: &Caller,
    order_id: Id,
) -> ApiResult<Order> {
    let order = desk_order(tx, caller, order_id)?;
    if order.status != OrderStatus::Unassigned {
        return Err(ApiError::conflict(format!(
            "The order is {}; only unassigned orders can be dispatched again.",
            order.status.label()
        )));
    }
    tx.exec(
        "UPDATE orders SET dispatch_round = dispatch_round + 1 WHERE id = ?1",
        [order_id],
    )?;
    dispatch(tx, cfg, order_id)?;
    orders::get(tx, caller, order_id)
}

/// A technician's offers still open, soonest expiry first.
pub fn pending_for(conn: &Connection, caller: &Caller) -> ApiResult<Vec<Offer>> {
    caller.require(&[Role::Technician], "receive offers")?;
    let mut stmt = conn.prepare_cached(&format!(
        "{OFFER_SELECT} WHERE f.technician_id = ?1 AND f.status = 'pending' ORDER BY f.expires_at"
    ))?;
    let rows = stmt.query_map([caller.id], offer_from_row)?;
    Ok(rows.map(|r| r.map(|(o, _)| o)).collect::<Result<_, _>>()?)
}

/// Pending offers and when they expire, to restart timers after a restart.
pub fn pending_expiries(conn: &Connection) -> ApiResult<Vec<(Id, Millis)>> {
    let mut stmt = conn.prepare("SELECT id, expires_at FROM offers WHERE status = 'pending'")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Declines every pending offer of a technician going off shift, so orders move on at once.
pub fn release_offers_of(tx: &mut Tx<'_>, cfg: &Config, tech: Id) -> ApiResult<()> {
    let pending: Vec<(Id, Id)> = tx
        .prepare_cached(
            "SELECT id, order_id FROM offers WHERE technician_id = ?1 AND status = 'pending'",
        )?
        .query_map([tech], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, order_id) in pending {
        set_offer(tx, id, OfferStatus::Pending, OfferStatus::Declined)?;
        emit_offer(tx, id)?;
        dispatch(tx, cfg, order_id)?;
    }
    Ok(())
}

/// Tries unassigned orders again when a technician becomes available (oldest first, a few at
/// a time so one shift change stays cheap).
pub fn retry_unassigned(tx: &mut Tx<'_>, cfg: &Config, workshop: Option<Id>) -> ApiResult<()> {
    let ids: Vec<Id> = tx
        .prepare_cached(
            "SELECT id FROM orders WHERE status = 'unassigned' AND (workshop_id IS NULL OR workshop_id = ?1) ORDER BY id LIMIT 5",
        )?
        .query_map([workshop], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        tx.exec(
            "UPDATE orders SET dispatch_round = dispatch_round + 1 WHERE id = ?1",
            [id],
        )?;
        dispatch(tx, cfg, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod area_tests {
    use super::area_of;

    #[test]
    fn the_area_is_postcode_and_city_never_the_street() {
        assert_eq!(area_of("Oranienstraße 25, 10999 Berlin"), "10999 Berlin");
        assert_eq!(
            area_of("25, Oranienstraße, Kreuzberg, Berlin, 10999, Deutschland"),
            "10999 Berlin"
        );
        assert_eq!(area_of("Oranienstraße 25"), "");
        assert_eq!(area_of(""), "");
    }
}
