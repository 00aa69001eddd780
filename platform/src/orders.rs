//! Orders and the jobs they become: booking, the status state machine, notes, parts lines,
//! and who may see what.

use pitstop_api::{
    ChangeBody, Id, JobNote, NewOrder, OfferStatus, Order, OrderStatus, PartLine, Role,
    TimelineEntry, VehicleSummary, geo, services,
};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::changes::{self, emit};
use crate::db::{Tx, now_ms};
use crate::{ApiError, ApiResult, Config, dispatch, vehicles};

/// Longest free text (notes, job notes) accepted.
pub const MAX_TEXT: usize = 2000;
/// Bookings further ahead than this are refused.
const MAX_BOOKING_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;

/// Loads an order with its vehicle, notes, parts and timeline.
pub fn load(conn: &Connection, id: Id) -> ApiResult<Option<Order>> {
    load_with(conn, id, true)
}

/// Loads an order without its notes, parts and timeline: enough for permission and state
/// checks, at a fraction of the cost on long job sheets.
pub fn load_head(conn: &Connection, id: Id) -> ApiResult<Option<Order>> {
    load_with(conn, id, false)
}

fn load_with(conn: &Connection, id: Id, full: bool) -> ApiResult<Option<Order>> {
    let order = conn
        .query_row(
            "SELECT o.id, o.owner_id, o.workshop_id, o.vehicle_id, v.vin, v.plate, v.make, v.model, \
             o.service, o.lat, o.lon, o.window_start, o.window_end, o.price_cents, o.notes, \
             o.status, o.technician_id, o.unassigned_reason, o.created_at, o.updated_at, o.version, \
             (SELECT a.name FROM accounts a WHERE a.id = o.owner_id) \
             FROM orders o JOIN vehicles v ON v.id = o.vehicle_id WHERE o.id = ?1",
            [id],
            |r| {
                let status: String = r.get(15)?;
                Ok(Order {
                    id: r.get(0)?,
                    owner_id: r.get(1)?,
                    customer_name: r.get(21)?,
                    workshop_id: r.get(2)?,
                    vehicle_id: r.get(3)?,
                    vehicle: VehicleSummary {
                        vin: r.get(4)?,
                        plate: r.get(5)?,
                        make: r.get(6)?,
                        model: r.get(7)?,
                    },
                    service: r.get(8)?,
                    lat: r.get(9)?,
                    lon: r.get(10)?,
                    window_start: r.get(11)?,
                    window_end: r.get(12)?,
                    price_cents: r.get(13)?,
                    notes: r.get(14)?,
                    status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Pending),
                    technician_id: r.get(16)?,
                    unassigned_reason: r.get(17)?,
                    job_notes: Vec::new(),
                    parts: Vec::new(),
                    timeline: Vec::new(),
                    created_at: r.get(18)?,
                    updated_at: r.get(19)?,
                    version: r.get(20)?,
                })
            },
        )
        .optional()?;
    let Some(mut order) = order else {
        return Ok(None);
    };
    if !full {
        return Ok(Some(order));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, author_id, text, created_at FROM job_notes WHERE order_id = ?1 ORDER BY id",
    )?;
    order.job_notes = stmt
        .query_map([id], |r| {
            Ok(JobNote {
                id: r.get(0)?,
                author_id: r.get(1)?,
                text: r.get(2)?,
                at: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, qty, unit_price_cents FROM parts WHERE order_id = ?1 ORDER BY id",
    )?;
    order.parts = stmt
        .query_map([id], |r| {
            Ok(PartLine {
                id: r.get(0)?,
                name: r.get(1)?,
                qty: r.get(2)?,
                unit_price_cents: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT at, status, actor_id, note FROM order_timeline WHERE order_id = ?1 ORDER BY id",
    )?;
    order.timeline = stmt
        .query_map([id], |r| {
            let s: String = r.get(1)?;
            Ok(TimelineEntry {
                at: r.get(0)?,
                status: OrderStatus::parse(&s).unwrap_or(OrderStatus::Pending),
                actor_id: r.get(2)?,
                note: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(order))
}

/// Who hears about changes to this order.
pub fn audiences(order: &Order) -> Vec<String> {
    let mut a = vec![changes::ADMIN.to_string()];
    a.extend(order.owner_id.map(changes::account));
    a.extend(order.workshop_id.map(changes::workshop));
    a.extend(order.technician_id.map(changes::account));
    a
}

/// May `caller` see `order`? Technicians see orders assigned to them and orders they hold a
/// pending offer for.
pub fn visible(conn: &Connection, caller: &Caller, order: &Order) -> ApiResult<bool> {
    Ok(match caller.role {
        Role::Admin => true,
        Role::Owner => order.owner_id == Some(caller.id),
        Role::Desk => caller.workshop_id.is_some() && order.workshop_id == caller.workshop_id,
        Role::Technician => {
            order.technician_id == Some(caller.id)
                || conn
                    .query_row(
                        "SELECT 1 FROM offers WHERE order_id = ?1 AND technician_id = ?2 AND status = 'pending'",
                        (order.id, caller.id),
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some()
        }
    })
}

/// An order the caller may see, or 404 (the same answer whether it is absent or someone
/// else's, so ids leak nothing).
pub fn get(conn: &Connection, caller: &Caller, id: Id) -> ApiResult<Order> {
    match load(conn, id)? {
        Some(o) if visible(conn, caller, &o)? => Ok(o),
        _ => Err(not_yours(id)),
    }
}

/// Like [`get`] without notes, parts and timeline (for checks before a write).
pub fn get_head(conn: &Connection, caller: &Caller, id: Id) -> ApiResult<Order> {
    match load_head(conn, id)? {
        Some(o) if visible(conn, caller, &o)? => Ok(o),
        _ => Err(not_yours(id)),
    }
}

fn not_yours(id: Id) -> ApiError {
    ApiError::not_found(format!("There is no order {id} among yours."))
}

/// The caller's orders, newest first, optionally of one status.
pub fn list(
    conn: &Connection,
    caller: &Caller,
    status: Option<OrderStatus>,
    limit: u32,
) -> ApiResult<Vec<Order>> {
    let filter = match caller.role {
        Role::Admin => "?1 IS NULL OR 1",
        Role::Owner => "owner_id = ?1",
        Role::Desk => "workshop_id = ?1",
        Role::Technician => "technician_id = ?1",
    };
    let who = match caller.role {
        Role::Desk => caller.workshop_id,
        Role::Admin => None,
        _ => Some(caller.id),
    };
    let sql = format!(
        "SELECT id FROM orders WHERE ({filter}) AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3"
    );
    let ids: Vec<Id> = conn
        .prepare_cached(&sql)?
        .query_map((who, status.map(|s| s.as_str()), limit), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(load(conn, id)?);
    }
    Ok(out)
}

/// Records a status change and its timeline entry (does not publish; see [`publish`]).
pub fn set_status(
    tx: &Tx<'_>,
    id: Id,
    status: OrderStatus,
    actor: Option<Id>,
    note: Option<&str>,
) -> ApiResult<()> {
    tx.execute(
        "UPDATE orders SET status = ?2 WHERE id = ?1",
        (id, status.as_str()),
    )?;
    tx.execute(
        "INSERT INTO order_timeline (order_id, at, status, actor_id, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        (id, now_ms(), status.as_str(), actor, note),
    )?;
    Ok(())
}

/// Bumps the order's version, reloads it and appends it to the change log.
pub fn publish(tx: &mut Tx<'_>, id: Id) -> ApiResult<Order> {
    tx.execute(
        "UPDATE orders SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        (id, now_ms()),
    )?;
    if let Some(deferred) = &mut tx.deferred {
        if !deferred.contains(&id) {
            deferred.push(id);
        }
        // The full snapshot is published once, when the batch ends.
        return load_head(tx, id)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("order {id} vanished")));
    }
    emit_snapshot(tx, id)
}

/// Appends the order's current full snapshot to the change log.
pub fn emit_snapshot(tx: &mut Tx<'_>, id: Id) -> ApiResult<Order> {
    let order =
        load(tx, id)?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("order {id} vanished")))?;
    emit(tx, ChangeBody::Order(order.clone()), &audiences(&order))?;
    Ok(order)
}

fn check_text(field: &str, s: &str) -> ApiResult<()> {
    if s.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(format!(
            "`{field}` is longer than {MAX_TEXT} characters."
        )));
    }
    Ok(())
}

/// Books an order and starts dispatch. Owners book for their cars; desks for their
/// workshop's walk-ins (the order then belongs to that workshop).
pub fn create(tx: &mut Tx<'_>, cfg: &Config, caller: &Caller, req: &NewOrder) -> ApiResult<Order> {
    caller.require(&[Role::Owner, Role::Desk, Role::Admin], "book orders")?;
    let service = services::find(&req.service).ok_or_else(|| {
        let codes: Vec<&str> = services::CATALOGUE.iter().map(|s| s.0).collect();
        ApiError::invalid(format!(
            "Unknown service '{}'; choose one of {}.",
            req.service,
            codes.join(", ")
        ))
    })?;
    if !geo::valid_coordinates(req.lat, req.lon) {
        return Err(ApiError::invalid(
            "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
        ));
    }
    if req.window_end <= req.window_start {
        return Err(ApiError::invalid(
            "The time window must end after it starts.",
        ));
    }
    let now = now_ms();
    if req.window_end < now - 3600 * 1000 {
        return Err(ApiError::invalid("The time window is already over."));
    }
    if req.window_start > now + MAX_BOOKING_AHEAD_MS {
        return Err(ApiError::invalid(
            "Bookings can be made at most a year ahead.",
        ));
    }
    check_text("notes", &req.notes)?;
    let vehicle = vehicles::get_bookable(tx, caller, req.vehicle_id)?;
    let workshop_id = match caller.role {
        Role::Desk => caller.workshop_id,
        _ => vehicle.workshop_id,
    };
    let id: Id = tx.query_row(
        "INSERT INTO orders (created_by, owner_id, workshop_id, vehicle_id, service, skill, lat, lon, \
         window_start, window_end, price_cents, notes, status, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13, ?13) RETURNING id",
        rusqlite::params![
            caller.id,
            vehicle.owner_id,
            workshop_id,
            vehicle.id,
            service.code,
            service.skill,
            req.lat,
            req.lon,
            req.window_start,
            req.window_end,
            service.price_cents,
            req.notes.trim(),
            now
        ],
        |r| r.get(0),
    )?;
    set_status(
        tx,
        id,
        OrderStatus::Pending,
        Some(caller.id),
        Some("Booked"),
    )?;
    publish(tx, id)?;
    dispatch::dispatch(tx, cfg, id)?;
    load(tx, id)?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("order {id} vanished")))
}

/// A person's status step: the assigned technician moves the job forward; the owner, the
/// desk or an admin cancels.
pub fn step(
    tx: &mut Tx<'_>,
    caller: &Caller,
    id: Id,
    next: OrderStatus,
    note: Option<&str>,
) -> ApiResult<Order> {
    let order = get_head(tx, caller, id)?;
    if let Some(n) = note {
        check_text("note", n)?;
    }
    order.status.check_step(next).map_err(ApiError::conflict)?;
    if next == OrderStatus::Cancelled {
        if caller.role == Role::Technician {
            return Err(ApiError::forbidden(
                "A technician cannot cancel an order; ask the desk or the owner.",
            ));
        }
        dispatch::withdraw_pending(tx, id)?;
    } else if order.technician_id != Some(caller.id) {
        return Err(ApiError::forbidden(
            "Only the technician assigned to this job can move it forward.",
        ));
    }
    set_status(tx, id, next, Some(caller.id), note)?;
    publish(tx, id)
}

/// Adds a job note (assigned technician, the order's desk, or an admin).
pub fn add_note(tx: &mut Tx<'_>, caller: &Caller, id: Id, text: &str) -> ApiResult<Order> {
    let order = get_head(tx, caller, id)?;
    may_edit_job(caller, &order)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid("A note cannot be empty."));
    }
    check_text("text", text)?;
    tx.execute(
        "INSERT INTO job_notes (order_id, author_id, text, created_at) VALUES (?1, ?2, ?3, ?4)",
        (id, caller.id, text, now_ms()),
    )?;
    publish(tx, id)
}

/// Adds a parts line.
pub fn add_part(
    tx: &mut Tx<'_>,
    caller: &Caller,
    id: Id,
    name: &str,
    qty: u32,
    unit_price_cents: i64,
) -> ApiResult<Order> {
    let order = get_head(tx, caller, id)?;
    may_edit_job(caller, &order)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::invalid("A part name has 1 to 120 characters."));
    }
    if qty == 0 || qty > 1000 {
        return Err(ApiError::invalid("Quantity must be between 1 and 1000."));
    }
    if !(0..=100_000_000).contains(&unit_price_cents) {
        return Err(ApiError::invalid(
            "Unit price must be between 0 and 1,000,000.00.",
        ));
    }
    tx.execute(
        "INSERT INTO parts (order_id, name, qty, unit_price_cents, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        (id, name, qty, unit_price_cents, now_ms()),
    )?;
    publish(tx, id)
}

fn may_edit_job(caller: &Caller, order: &Order) -> ApiResult<()> {
    if order.status.is_terminal() {
        return Err(ApiError::conflict(format!(
            "The order is {}; its job sheet is closed.",
            order.status.label()
        )));
    }
    let ok = match caller.role {
        Role::Technician => order.technician_id == Some(caller.id),
        Role::Desk | Role::Admin => true,
        Role::Owner => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only the assigned technician or the desk can edit the job sheet.",
        ))
    }
}

/// Offers still pending for an order.
pub fn pending_offer_count(conn: &Connection, order_id: Id) -> ApiResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM offers WHERE order_id = ?1 AND status = ?2",
        (order_id, OfferStatus::Pending.as_str()),
        |r| r.get(0),
    )?)
}
