//! Owners' saved places (home, work): a short list per account, used when booking.

use pitstop_api::text::{self, Lines};
use pitstop_api::{Id, NewPlace, SavedPlace, geo};
use rusqlite::Connection;

use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult};

/// Places one account may keep.
pub const MAX_PLACES: i64 = 20;

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedPlace> {
    Ok(SavedPlace {
        id: r.get(0)?,
        label: r.get(1)?,
        address: r.get(2)?,
        lat: r.get(3)?,
        lon: r.get(4)?,
        note: r.get(5)?,
    })
}

/// The caller's places, in the order they were saved.
pub fn list(conn: &Connection, caller: &Caller) -> ApiResult<Vec<SavedPlace>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, label, address, lat, lon, note FROM places WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([caller.id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Saves a place for the caller.
pub fn create(tx: &mut Tx<'_>, caller: &Caller, req: &NewPlace) -> ApiResult<SavedPlace> {
    let one = |what: &str, v: &str, max: usize, required: bool| {
        text::clean(what, v, max, Lines::One, required).map_err(ApiError::invalid)
    };
    let label = one("label", &req.label, 40, true)?;
    let address = one("address", &req.address, text::MAX_PLACE_CHARS, false)?;
    let note = one("note", &req.note, text::MAX_PLACE_CHARS, false)?;
    if !geo::valid_coordinates(req.lat, req.lon) {
        return Err(ApiError::invalid(
            "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
        ));
    }
    let have: i64 = tx.row(
        "SELECT count(*) FROM places WHERE account_id = ?1",
        [caller.id],
        |r| r.get(0),
    )?;
    if have >= MAX_PLACES {
        return Err(ApiError::invalid(format!(
            "You can keep {MAX_PLACES} places; delete one you no longer use first."
        )));
    }
    let id: Id = tx.row(
        "INSERT INTO places (account_id, label, address, lat, lon, note, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        rusqlite::params![caller.id, label, address, req.lat, req.lon, note, now_ms()],
        |r| r.get(0),
    )?;
    Ok(SavedPlace {
        id,
        label,
        address,
        lat: req.lat,
        lon: req.lon,
        note,
    })
}

/// Deletes one of the caller's places (404 for anyone else's).
pub fn delete(tx: &mut Tx<'_>, caller: &Caller, id: Id) -> ApiResult<()> {
    let n = tx.exec(
        "DELETE FROM places WHERE id = ?1 AND account_id = ?2",
        [id, caller.id],
    )?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "There is no place {id} among yours."
        )));
    }
    Ok(())
}
