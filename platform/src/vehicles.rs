//! Vehicles: owners register their cars, desks register walk-ins for their workshop.

use pitstop_api::{Id, NewVehicle, Role, Vehicle, vin};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult};

const COLUMNS: &str = "id, owner_id, workshop_id, vin, plate, make, model, year";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Vehicle> {
    Ok(Vehicle {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        workshop_id: r.get(2)?,
        vin: r.get(3)?,
        plate: r.get(4)?,
        make: r.get(5)?,
        model: r.get(6)?,
        year: r.get(7)?,
    })
}

fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    pitstop_api::text::clean(field, value, max, pitstop_api::text::Lines::One, true)
        .map_err(ApiError::invalid)
}

/// Registers a vehicle to the caller (owner) or the caller's workshop (desk).
pub fn create(tx: &mut Tx<'_>, caller: &Caller, req: &NewVehicle) -> ApiResult<Vehicle> {
    caller.require(&[Role::Owner, Role::Desk, Role::Admin], "register vehicles")?;
    let vin = vin::validate(&req.vin).map_err(ApiError::invalid)?;
    let plate = text("plate", &req.plate, 16)?.to_ascii_uppercase();
    let make = text("make", &req.make, 40)?;
    let model = text("model", &req.model, 40)?;
    if let Some(y) = req.year
        && !(1886..=2100).contains(&y)
    {
        return Err(ApiError::invalid(format!(
            "{y} is not a plausible model year."
        )));
    }
    let (owner_id, workshop_id) = match caller.role {
        Role::Owner => (Some(caller.id), None),
        Role::Desk => (None, caller.workshop_id),
        _ => (None, None),
    };
    let id: Id = tx.row(
        "INSERT INTO vehicles (owner_id, workshop_id, vin, plate, make, model, year, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        (
            owner_id,
            workshop_id,
            &vin,
            &plate,
            &make,
            &model,
            req.year,
            now_ms(),
        ),
        |r| r.get(0),
    )?;
    Ok(Vehicle {
        id,
        owner_id,
        workshop_id,
        vin,
        plate,
        make,
        model,
        year: req.year,
    })
}

/// A vehicle the caller may book for, or 404.
pub fn get_bookable(conn: &Connection, caller: &Caller, id: Id) -> ApiResult<Vehicle> {
    let v = conn
        .row(
            &format!("SELECT {COLUMNS} FROM vehicles WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?;
    match v {
        Some(v)
            if caller.role == Role::Admin
                || (caller.role == Role::Owner && v.owner_id == Some(caller.id))
                || (caller.role == Role::Desk
                    && caller.workshop_id.is_some()
                    && v.workshop_id == caller.workshop_id) =>
        {
            Ok(v)
        }
        _ => Err(ApiError::not_found(format!(
            "There is no vehicle {id} among yours."
        ))),
    }
}

/// The caller's vehicles (an owner's cars, a desk's walk-ins; everything for admins).
pub fn list(conn: &Connection, caller: &Caller) -> ApiResult<Vec<Vehicle>> {
    let (sql, arg) = match caller.role {
        Role::Owner => ("WHERE owner_id = ?1", Some(caller.id)),
        Role::Desk => ("WHERE workshop_id = ?1", caller.workshop_id),
        Role::Admin => ("WHERE ?1 IS NULL", None),
        Role::Technician => return Ok(Vec::new()),
    };
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM vehicles {sql} ORDER BY id"))?;
    let rows = stmt.query_map([arg], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
