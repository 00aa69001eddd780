//! Technician profiles (skills, certifications), shifts, and the list desks put on their map.

use pitstop_api::{ChangeBody, Id, Role, ShiftChange, Technician, TechnicianProfile, geo};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::changes::{self, emit};
use crate::db::{Cached, Tx, json_strings, now_ms};
use crate::{ApiError, ApiResult, Config, dispatch};

const SELECT: &str = "SELECT a.id, a.name, a.workshop_id, t.skills, t.certifications, t.on_shift, \
     t.lat, t.lon, t.fix_at, t.vehicle FROM technicians t JOIN accounts a ON a.id = t.account_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Technician> {
    Ok(Technician {
        id: r.get(0)?,
        name: r.get(1)?,
        workshop_id: r.get(2)?,
        skills: json_strings(&r.get::<_, String>(3)?),
        certifications: json_strings(&r.get::<_, String>(4)?),
        on_shift: r.get(5)?,
        lat: r.get(6)?,
        lon: r.get(7)?,
        fix_at: r.get(8)?,
        vehicle: r.get(9)?,
    })
}

/// One technician.
pub fn load(conn: &Connection, id: Id) -> ApiResult<Option<Technician>> {
    Ok(conn
        .row(&format!("{SELECT} WHERE a.id = ?1"), [id], from_row)
        .optional()?)
}

/// Publishes a technician's state to their workshop's desks and admins.
pub fn publish(tx: &mut Tx<'_>, id: Id) -> ApiResult<Technician> {
    let t = load(tx, id)?
        .ok_or_else(|| ApiError::not_found(format!("There is no technician {id}.")))?;
    let mut audiences = vec![changes::ADMIN.to_string(), changes::account(id)];
    audiences.extend(t.workshop_id.map(changes::workshop));
    emit(tx, ChangeBody::Technician(t.clone()), &audiences)?;
    Ok(t)
}

/// A list of skills or certifications, cleaned: at most 50, each by the text rule, 1 to 40
/// characters, lower-cased, without repeats.
pub fn clean_list(field: &str, items: &[String]) -> ApiResult<Vec<String>> {
    if items.len() > 50 {
        return Err(ApiError::invalid(format!("At most 50 `{field}`.")));
    }
    let mut out = Vec::new();
    for s in items {
        let s = pitstop_api::text::clean(field, s, 40, pitstop_api::text::Lines::One, true)
            .map_err(|e| ApiError::invalid(format!("Each of `{field}`: {e}")))?
            .to_ascii_lowercase();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Sets the caller's skills and certifications.
pub fn set_profile(
    tx: &mut Tx<'_>,
    caller: &Caller,
    req: &TechnicianProfile,
) -> ApiResult<Technician> {
    caller.require(&[Role::Technician], "edit a technician profile")?;
    let skills = clean_list("skills", &req.skills)?;
    let certs = clean_list("certifications", &req.certifications)?;
    if let Some(v) = &req.vehicle {
        let v = pitstop_api::text::clean("vehicle", v, 80, pitstop_api::text::Lines::One, false)
            .map_err(ApiError::invalid)?;
        tx.exec(
            "UPDATE technicians SET vehicle = ?2 WHERE account_id = ?1",
            (caller.id, v),
        )?;
    }
    tx.exec(
        "UPDATE technicians SET skills = ?2, certifications = ?3 WHERE account_id = ?1",
        (
            caller.id,
            serde_json::to_string(&skills)?,
            serde_json::to_string(&certs)?,
        ),
    )?;
    publish(tx, caller.id)
}

/// Goes on or off shift. Going on shift may pick up waiting unassigned orders; going off
/// shift hands pending offers on at once.
pub fn set_shift(
    tx: &mut Tx<'_>,
    cfg: &Config,
    caller: &Caller,
    req: &ShiftChange,
) -> ApiResult<Technician> {
    caller.require(&[Role::Technician], "go on shift")?;
    match (req.lat, req.lon) {
        (Some(lat), Some(lon)) => {
            if !geo::valid_coordinates(lat, lon) {
                return Err(ApiError::invalid(
                    "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
                ));
            }
            tx.exec(
                "UPDATE technicians SET lat = ?2, lon = ?3, fix_at = ?4 WHERE account_id = ?1",
                (caller.id, lat, lon, now_ms()),
            )?;
        }
        (None, None) => {}
        _ => return Err(ApiError::invalid("Give both `lat` and `lon`, or neither.")),
    }
    tx.exec(
        "UPDATE technicians SET on_shift = ?2 WHERE account_id = ?1",
        (caller.id, req.on_shift),
    )?;
    let t = publish(tx, caller.id)?;
    if req.on_shift {
        dispatch::retry_unassigned(tx, cfg, t.workshop_id)?;
    } else {
        dispatch::release_offers_of(tx, cfg, caller.id)?;
    }
    Ok(t)
}

/// Technicians a desk (its workshop) or an admin (all) may see.
pub fn list(conn: &Connection, caller: &Caller) -> ApiResult<Vec<Technician>> {
    caller.require(&[Role::Desk, Role::Admin], "list technicians")?;
    let ws = if caller.role == Role::Desk {
        caller.workshop_id
    } else {
        None
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR a.workshop_id = ?1) ORDER BY a.id"
    ))?;
    let rows = stmt.query_map([ws], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The caller's own profile.
pub fn me(conn: &Connection, caller: &Caller) -> ApiResult<Technician> {
    caller.require(&[Role::Technician], "have a technician profile")?;
    load(conn, caller.id)?.ok_or_else(|| ApiError::not_found("You have no technician profile."))
}

/// What the technician earned on jobs completed today and this week. `utc_offset_min` is
/// the technician's time zone (minutes east of UTC), so "today" is their day.
pub fn earnings(
    conn: &Connection,
    cfg: &crate::Config,
    caller: &Caller,
    utc_offset_min: i64,
) -> ApiResult<pitstop_api::Earnings> {
    caller.require(&[Role::Technician], "see earnings")?;
    if !(-14 * 60..=14 * 60).contains(&utc_offset_min) {
        return Err(ApiError::invalid(
            "`utc_offset_min` is between -840 and 840.",
        ));
    }
    const DAY: i64 = 24 * 3600 * 1000;
    let offset = utc_offset_min * 60_000;
    let local = now_ms() + offset;
    let day_start = local - local.rem_euclid(DAY) - offset;
    // 1970-01-01 was a Thursday: days since then, shifted so Monday is 0.
    let weekday = ((local.div_euclid(DAY)) + 3).rem_euclid(7);
    let week_start = day_start - weekday * DAY;
    let sum = |since: i64| -> ApiResult<(i64, u32)> {
        Ok(conn.row(
            // Counted by when the job was completed (the step's tap time), not when the
            // platform heard of it: a job finished offline at 23:50 is that day's.
            "SELECT coalesce(sum(o.payout_cents), 0), count(*) FROM orders o \
             WHERE o.technician_id = ?1 AND o.status = 'completed' AND \
             (SELECT max(t.at) FROM order_timeline t WHERE t.order_id = o.id AND t.status = 'completed') >= ?2",
            (caller.id, since),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    };
    let (today_cents, today_jobs) = sum(day_start)?;
    let (week_cents, week_jobs) = sum(week_start)?;
    // The technician's workshop's currency; else that of their latest job, else the platform's.
    let currency: Option<String> = conn
        .query_row(
            "SELECT coalesce(\
               (SELECT w.currency FROM accounts a JOIN workshops w ON w.id = a.workshop_id \
                WHERE a.id = ?1), \
               (SELECT o.currency FROM orders o WHERE o.technician_id = ?1 ORDER BY o.id DESC LIMIT 1))",
            [caller.id],
            |r| r.get(0),
        )
        .map_err(ApiError::from)?;
    Ok(pitstop_api::Earnings {
        currency: currency.unwrap_or_else(|| cfg.currency.clone()),
        today_cents,
        today_jobs,
        week_cents,
        week_jobs,
    })
}
