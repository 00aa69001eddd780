//! Orders and the jobs they become: booking, the status state machine, notes, parts lines,
//! and who may see what.

use pitstop_api::text::{self, Lines};
use pitstop_api::{
    ChangeBody, Id, JobLine, LineBody, LineCounts, MAX_LINES_PER_ORDER, MAX_TEXT_CHARS, NewOrder,
    OfferStatus, Order, OrderStatus, Role, Uuid, VehicleSummary, geo, services,
};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::changes::{self, emit};
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult, Config, dispatch, vehicles};

/// Longest free text (notes, job notes) accepted.
pub const MAX_TEXT: usize = MAX_TEXT_CHARS;
/// Bookings further ahead than this are refused.
const MAX_BOOKING_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;
/// Longest time window a booking may give (with "not over" and "at most a year ahead",
/// this bounds both ends).
const MAX_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Loads an order with its vehicle, notes, parts and timeline.
pub fn load(conn: &Connection, id: Id) -> ApiResult<Option<Order>> {
    let Some(mut order) = load_head(conn, id)? else {
        return Ok(None);
    };
    order.add_lines(&lines_of(conn, &id.to_string(), SHEET_LINES, Id::MAX)?);
    Ok(Some(order))
}

const HEAD_SELECT: &str = "SELECT o.id, o.owner_id, o.workshop_id, o.vehicle_id, v.vin, v.plate, v.make, v.model, \
     o.service, o.lat, o.lon, o.window_start, o.window_end, o.price_cents, o.notes, \
     o.status, o.technician_id, o.unassigned_reason, o.created_at, o.updated_at, o.version, \
     coalesce((SELECT a.name FROM accounts a WHERE a.id = o.owner_id), o.customer_name), \
     o.note_count, o.part_count, o.step_count, \
     o.address, o.place_note, (SELECT a.name FROM accounts a WHERE a.id = o.technician_id), \
     (SELECT nullif(t.vehicle, '') FROM technicians t WHERE t.account_id = o.technician_id), \
     o.currency, \
     CASE WHEN o.owner_id IS NULL THEN o.customer_phone IS NOT NULL \
          ELSE (SELECT a.phone FROM accounts a WHERE a.id = o.owner_id) IS NOT NULL END \
     FROM orders o JOIN vehicles v ON v.id = o.vehicle_id";

fn head_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Order> {
    let status: String = r.get(15)?;
    Ok(Order {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        customer_name: r.get(21)?,
        customer_contact: r.get(30)?,
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
        address: r.get(25)?,
        place_note: r.get(26)?,
        window_start: r.get(11)?,
        window_end: r.get(12)?,
        price_cents: r.get(13)?,
        currency: r.get(29)?,
        notes: r.get(14)?,
        status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Pending),
        technician_id: r.get(16)?,
        technician_name: r.get(27)?,
        technician_vehicle: r.get(28)?,
        unassigned_reason: r.get(17)?,
        job_notes: Vec::new(),
        parts: Vec::new(),
        timeline: Vec::new(),
        line_counts: LineCounts {
            notes: r.get(22)?,
            parts: r.get(23)?,
            steps: r.get(24)?,
        },
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
        version: r.get(20)?,
    })
}

/// Loads an order's own fields and line counts, without its job sheet: what the change log
/// carries, and enough for permission and state checks at a fixed cost however long the
/// job sheet grows.
pub fn load_head(conn: &Connection, id: Id) -> ApiResult<Option<Order>> {
    Ok(conn
        .prepare_cached(&format!("{HEAD_SELECT} WHERE o.id = ?1"))?
        .query_row([id], head_from_row)
        .optional()?)
}

/// The job-sheet lines of the orders `ids` (a comma-separated list of integers) with ids
/// below `before`: per order every step and the newest `newest` notes and parts lines; each
/// kind oldest first.
///
/// One statement for all three kinds and all the orders. Each order's cut-off id comes from
/// an index probe (`LIMIT 1 OFFSET newest - 1` on `(order_id, id)`), so the cost follows
/// what is returned, not how long a job sheet is.
fn lines_of(conn: &Connection, ids: &str, newest: i64, before: Id) -> ApiResult<Vec<JobLine>> {
    let cut = |table: &str| {
        format!(
            "coalesce((SELECT x.id FROM {table} x WHERE x.order_id = o.id AND x.id < ?2 \
             ORDER BY x.id DESC LIMIT 1 OFFSET ?1 - 1), 0)"
        )
    };
    let sql = format!(
        "SELECT 'note', n.id, n.order_id, n.created_at, n.author_id, n.mutation_id, n.text, NULL, NULL, n.received_at \
           FROM orders o JOIN job_notes n ON n.order_id = o.id \
           WHERE o.id IN ({ids}) AND n.id < ?2 AND n.id >= {notes} \
         UNION ALL \
         SELECT 'part', p.id, p.order_id, p.created_at, p.author_id, p.mutation_id, p.name, p.qty, p.unit_price_cents, NULL \
           FROM orders o JOIN parts p ON p.order_id = o.id \
           WHERE o.id IN ({ids}) AND p.id < ?2 AND p.id >= {parts} \
         UNION ALL \
         SELECT 'step', t.id, t.order_id, t.at, t.actor_id, t.mutation_id, t.status, t.note, NULL, t.received_at \
           FROM order_timeline t WHERE t.order_id IN ({ids}) AND t.id < ?2 \
         ORDER BY 1, 2",
        notes = cut("job_notes"),
        parts = cut("parts"),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((newest, before), |r| {
        let kind: String = r.get(0)?;
        let body = match kind.as_str() {
            "note" => LineBody::Note { text: r.get(6)? },
            "part" => LineBody::Part {
                name: r.get(6)?,
                qty: r.get(7)?,
                unit_price_cents: r.get(8)?,
            },
            _ => LineBody::Step {
                status: OrderStatus::parse(&r.get::<_, String>(6)?).unwrap_or(OrderStatus::Pending),
                note: r.get(7)?,
            },
        };
        Ok(JobLine {
            id: r.get(1)?,
            order_id: r.get(2)?,
            at: r.get(3)?,
            author_id: r.get(4)?,
            mutation_id: r
                .get::<_, Option<String>>(5)?
                .and_then(|s| Uuid::parse_str(&s).ok()),
            version: 1,
            sent_at: r.get(9)?,
            body,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An order's job-sheet lines: notes, then parts, then steps, each oldest first.
pub fn lines(conn: &Connection, id: Id) -> ApiResult<Vec<JobLine>> {
    lines_of(conn, &id.to_string(), i64::MAX, Id::MAX)
}

/// Notes and parts lines an order answer carries at most (the newest); `line_counts` says
/// how many there are, and [`older_lines`] pages back through the rest. Keeps `GET` of an
/// order flat however long its job sheet grows. The timeline always comes whole.
pub const SHEET_LINES: i64 = 200;

/// A page of one kind of an order's lines older than `before` (all when `None`), oldest
/// first, at most `limit`.
pub fn older_lines(
    conn: &Connection,
    caller: &Caller,
    id: Id,
    kind: &str,
    before: Option<Id>,
    limit: u32,
) -> ApiResult<Vec<JobLine>> {
    if !matches!(kind, "note" | "part" | "step") {
        return Err(ApiError::invalid("`kind` is note, part or step."));
    }
    get_head(conn, caller, id)?;
    let mut page: Vec<JobLine> = lines_of(
        conn,
        &id.to_string(),
        i64::from(limit),
        before.unwrap_or(Id::MAX),
    )?
    .into_iter()
    .filter(|l| l.body.kind() == kind)
    .collect();
    // Steps are not cut per order in SQL (a timeline is short); cut them here.
    let skip = page.len().saturating_sub(limit as usize);
    page.drain(..skip);
    Ok(page)
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
                    .row(
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
        Some(o) if visible(conn, caller, &o)? => Ok(redacted(o, caller)),
        _ => Err(not_yours(id)),
    }
}

/// What a technician who is only offered the order may see: not the exact place or the
/// customer (the offer's area and distance are enough to decide); all of it once the job is
/// theirs.
fn redacted(mut o: Order, caller: &Caller) -> Order {
    if caller.role == Role::Technician && o.technician_id != Some(caller.id) {
        o.address = dispatch::area_of(&o.address);
        o.place_note.clear();
        o.customer_name = None;
        o.notes.clear();
        // About a kilometre: enough for the distance, not the door.
        o.lat = (o.lat * 100.0).round() / 100.0;
        o.lon = (o.lon * 100.0).round() / 100.0;
    }
    o
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

/// The caller's orders, newest first, optionally of one status; each with its timeline and
/// newest [`SHEET_LINES`] notes and parts, like [`load`].
pub fn list(
    conn: &Connection,
    caller: &Caller,
    status: Option<OrderStatus>,
    limit: u32,
) -> ApiResult<Vec<Order>> {
    let filter = match caller.role {
        Role::Admin => "?1 IS NULL OR 1",
        Role::Owner => "o.owner_id = ?1",
        Role::Desk => "o.workshop_id = ?1",
        Role::Technician => "o.technician_id = ?1",
    };
    let who = match caller.role {
        Role::Desk => caller.workshop_id,
        Role::Admin => None,
        _ => Some(caller.id),
    };
    let sql = format!(
        "{HEAD_SELECT} WHERE ({filter}) AND (?2 IS NULL OR o.status = ?2) ORDER BY o.id DESC LIMIT ?3"
    );
    let mut out: Vec<Order> = conn
        .prepare_cached(&sql)?
        .query_map((who, status.map(|s| s.as_str()), limit), head_from_row)?
        .collect::<Result<_, _>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    // One query for every order's lines, instead of three per order.
    let ids: Vec<String> = out.iter().map(|o| o.id.to_string()).collect();
    let mut by_order: std::collections::HashMap<Id, Vec<JobLine>> = Default::default();
    for l in lines_of(conn, &ids.join(","), SHEET_LINES, Id::MAX)? {
        by_order.entry(l.order_id).or_default().push(l);
    }
    for o in &mut out {
        if let Some(ls) = by_order.get(&o.id) {
            o.add_lines(ls);
        }
    }
    Ok(out)
}

/// Publishes a job-sheet line just inserted (so never published before) of `order` (its
/// head as the caller already has it) to everyone who hears about that order.
fn emit_line(tx: &mut Tx<'_>, order: &Order, line: JobLine) -> ApiResult<JobLine> {
    changes::emit_new(tx, ChangeBody::Line(line.clone()), &audiences(order))?;
    tx.created.push(line.clone());
    Ok(line)
}

fn head_of(tx: &Tx<'_>, id: Id) -> ApiResult<Order> {
    load_head(tx, id)?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("order {id} vanished")))
}

/// The sync v2 upgrade, once per database: publishes every order as its head plus its lines,
/// superseding the whole-order snapshots the log held before (see migration 0003).
pub fn republish_for_sync_v2(tx: &mut Tx<'_>) -> ApiResult<usize> {
    let done: Option<i64> = tx
        .row(
            "SELECT value FROM sync_meta WHERE key = 'lines_published'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if done.is_some() {
        return Ok(0);
    }
    let ids: Vec<Id> = tx
        .prepare("SELECT id FROM orders ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for &id in &ids {
        share_lines(tx, &head_of(tx, id)?)?;
        emit_snapshot(tx, id)?;
        // Nobody is subscribed while the platform opens: do not hold the whole log in memory.
        tx.live.clear();
    }
    tx.exec(
        "INSERT INTO sync_meta (key, value) VALUES ('lines_published', 1)",
        [],
    )?;
    Ok(ids.len())
}

/// Publishes the order's lines again, to its current audience: a technician assigned now
/// gets the lines written before (the booking, the desk's notes).
fn share_lines(tx: &mut Tx<'_>, order: &Order) -> ApiResult<()> {
    let who = audiences(order);
    for l in lines(tx, order.id)? {
        emit(tx, ChangeBody::Line(l), &who)?;
    }
    Ok(())
}

/// Records a status change and its timeline line, and publishes the line (the order itself
/// is published by [`publish`]).
pub fn set_status(
    tx: &mut Tx<'_>,
    id: Id,
    status: OrderStatus,
    actor: Option<Id>,
    note: Option<&str>,
) -> ApiResult<()> {
    tx.exec(
        "UPDATE orders SET status = ?2, step_count = step_count + 1 WHERE id = ?1",
        (id, status.as_str()),
    )?;
    if status.is_terminal() {
        // A walk-in's phone was kept for calls about this order only.
        tx.exec(
            "UPDATE orders SET customer_phone = NULL WHERE id = ?1",
            [id],
        )?;
    }
    // Not before the step it follows: a late-sent step keeps the timeline in order.
    let previous: pitstop_api::Millis = tx.row(
        "SELECT COALESCE(MAX(at), 0) FROM order_timeline WHERE order_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let (at, sent_at) = tx.event_time(previous);
    let mutation = tx.mutation;
    let line_id: Id = tx.row(
        "INSERT INTO order_timeline (order_id, at, status, actor_id, note, mutation_id, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        rusqlite::params![
            id,
            at,
            status.as_str(),
            actor,
            note,
            mutation.map(|m| m.to_string()),
            sent_at,
        ],
        |r| r.get(0),
    )?;
    // The head as it is now: whoever was just assigned hears about the step.
    let order = head_of(tx, id)?;
    emit_line(
        tx,
        &order,
        JobLine {
            id: line_id,
            order_id: id,
            at,
            author_id: actor,
            mutation_id: mutation,
            version: 1,
            sent_at,
            body: LineBody::Step {
                status,
                note: note.map(str::to_string),
            },
        },
    )?;
    if status == OrderStatus::Assigned {
        share_lines(tx, &order)?;
    }
    Ok(())
}

/// Bumps the order's version, reloads its head and appends it to the change log (the job
/// sheet's lines are published one by one as they are written).
pub fn publish(tx: &mut Tx<'_>, id: Id) -> ApiResult<Order> {
    if touch(tx, id)? {
        head_of(tx, id)
    } else {
        emit_snapshot(tx, id)
    }
}

/// Bumps the order's version; in a batch, queues its snapshot for the batch's end and
/// answers true, else answers false (the caller publishes now).
fn touch(tx: &mut Tx<'_>, id: Id) -> ApiResult<bool> {
    touch_counting(tx, id, None)
}

/// [`touch`], also counting one more line in `counter` (a line-count column) in the same
/// statement.
fn touch_counting(tx: &mut Tx<'_>, id: Id, counter: Option<&str>) -> ApiResult<bool> {
    match counter {
        Some(c) => tx.exec(
            &format!(
                "UPDATE orders SET {c} = {c} + 1, version = version + 1, updated_at = ?2 WHERE id = ?1"
            ),
            (id, now_ms()),
        )?,
        None => tx.exec(
            "UPDATE orders SET version = version + 1, updated_at = ?2 WHERE id = ?1",
            (id, now_ms()),
        )?,
    };
    let Some(deferred) = &mut tx.deferred else {
        return Ok(false);
    };
    // The snapshot is published once, when the batch ends.
    if !deferred.contains(&id) {
        deferred.push(id);
    }
    Ok(true)
}

/// Appends the order's current snapshot (its head, see [`load_head`]) to the change log.
pub fn emit_snapshot(tx: &mut Tx<'_>, id: Id) -> ApiResult<Order> {
    let order = head_of(tx, id)?;
    emit(tx, ChangeBody::Order(order.clone()), &audiences(&order))?;
    Ok(order)
}

/// Free text (notes): the shared text rule, several lines allowed, may be empty.
fn check_text(field: &str, s: &str) -> ApiResult<()> {
    text::clean(field, s, MAX_TEXT, Lines::Many, false)
        .map(drop)
        .map_err(ApiError::invalid)
}

/// A walk-in customer's name and phone from a desk's booking (an owner books as
/// themselves, so theirs are ignored): the name one line of text, the phone E.164.
fn walk_in_customer(
    caller: &Caller,
    req: &NewOrder,
) -> ApiResult<(Option<String>, Option<String>)> {
    if !matches!(caller.role, Role::Desk | Role::Admin) {
        return Ok((None, None));
    }
    let name = match req.customer_name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(
            text::clean("customer name", n, text::MAX_NAME_CHARS, Lines::One, true)
                .map_err(ApiError::invalid)?,
        ),
    };
    let phone = match req.customer_phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => match pitstop_api::address::Address::parse(p) {
            Ok(pitstop_api::address::Address::Phone(p)) => Some(p.as_str().to_string()),
            _ => {
                return Err(ApiError::invalid(
                    "`customer_phone` is a phone number with its country code, e.g. +49 30 1234567.",
                ));
            }
        },
    };
    Ok((name, phone))
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
    if req.window_end.saturating_sub(req.window_start) > MAX_WINDOW_MS {
        return Err(ApiError::invalid(
            "The time window is longer than 7 days; choose a shorter one.",
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
    let place = |what: &str, v: &str| {
        text::clean(what, v, text::MAX_PLACE_CHARS, Lines::One, false).map_err(ApiError::invalid)
    };
    let address = place("address", &req.address)?;
    let place_note = place("place note", &req.place_note)?;
    let vehicle = vehicles::get_bookable(tx, caller, req.vehicle_id)?;
    let (walk_in_name, walk_in_phone) = walk_in_customer(caller, req)?;
    let workshop_id = match caller.role {
        Role::Desk => caller.workshop_id,
        _ => vehicle.workshop_id,
    };
    let id: Id = tx.row(
        "INSERT INTO orders (created_by, owner_id, workshop_id, vehicle_id, service, skill, lat, lon, \
         window_start, window_end, price_cents, notes, status, created_at, updated_at, address, place_note, \
         currency, customer_name, customer_phone) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13, ?13, ?14, ?15, \
         coalesce((SELECT currency FROM workshops WHERE id = ?3), ?16), ?17, ?18) RETURNING id",
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
            now,
            address,
            place_note,
            cfg.currency,
            walk_in_name,
            walk_in_phone
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

/// Refuses a line when the order's job sheet is full.
fn check_room(order: &Order) -> ApiResult<()> {
    if order.line_counts.notes + order.line_counts.parts >= MAX_LINES_PER_ORDER {
        return Err(ApiError::invalid(format!(
            "This job sheet already has {MAX_LINES_PER_ORDER} notes and parts lines, the most \
             one order can hold; summarise in the order notes or open a follow-up order."
        )));
    }
    Ok(())
}

/// Adds a job note (assigned technician, the order's desk, or an admin); returns the line.
pub fn add_note(tx: &mut Tx<'_>, caller: &Caller, id: Id, text: &str) -> ApiResult<JobLine> {
    let order = get_head(tx, caller, id)?;
    may_edit_job(caller, &order)?;
    check_room(&order)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid("A note cannot be empty."));
    }
    check_text("note", text)?;
    let (at, sent_at) = tx.event_time(0);
    let mutation = tx.mutation;
    let line_id: Id = tx.row(
        "INSERT INTO job_notes (order_id, author_id, text, created_at, mutation_id, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        rusqlite::params![
            id,
            caller.id,
            text,
            at,
            mutation.map(|m| m.to_string()),
            sent_at
        ],
        |r| r.get(0),
    )?;
    sheet_line_added(
        tx,
        &order,
        "note_count",
        JobLine {
            id: line_id,
            order_id: id,
            at,
            author_id: Some(caller.id),
            mutation_id: mutation,
            version: 1,
            sent_at,
            body: LineBody::Note { text: text.into() },
        },
    )
}

/// After a note or parts line is inserted: counts it on the order (`counter` column),
/// publishes the line and the order, and returns the line.
fn sheet_line_added(
    tx: &mut Tx<'_>,
    order: &Order,
    counter: &str,
    line: JobLine,
) -> ApiResult<JobLine> {
    let line = emit_line(tx, order, line)?;
    if !touch_counting(tx, order.id, Some(counter))? {
        emit_snapshot(tx, order.id)?;
    }
    Ok(line)
}

/// Adds a parts line; returns it.
pub fn add_part(
    tx: &mut Tx<'_>,
    caller: &Caller,
    id: Id,
    name: &str,
    qty: u32,
    unit_price_cents: i64,
) -> ApiResult<JobLine> {
    let order = get_head(tx, caller, id)?;
    may_edit_job(caller, &order)?;
    check_room(&order)?;
    let name = &text::clean("part name", name, text::MAX_LABEL_CHARS, Lines::One, true)
        .map_err(ApiError::invalid)?;
    pitstop_api::money::check_part(qty, unit_price_cents).map_err(ApiError::invalid)?;
    let at = now_ms();
    let mutation = tx.mutation;
    let line_id: Id = tx.row(
        "INSERT INTO parts (order_id, name, qty, unit_price_cents, created_at, author_id, mutation_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        rusqlite::params![id, name, qty, unit_price_cents, at, caller.id, mutation.map(|m| m.to_string())],
        |r| r.get(0),
    )?;
    sheet_line_added(
        tx,
        &order,
        "part_count",
        JobLine {
            id: line_id,
            order_id: id,
            at,
            author_id: Some(caller.id),
            mutation_id: mutation,
            version: 1,
            sent_at: None,
            body: LineBody::Part {
                name: name.into(),
                qty,
                unit_price_cents,
            },
        },
    )
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
    Ok(conn.row(
        "SELECT count(*) FROM offers WHERE order_id = ?1 AND status = ?2",
        (order_id, OfferStatus::Pending.as_str()),
        |r| r.get(0),
    )?)
}
