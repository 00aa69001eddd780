//! Accounts, sessions and workshops.

use pitstop_api::{DevLogin, Id, NewWorkshop, Role, Session, Workshop, geo};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::{Caller, hash_token, new_token};
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult};

/// Looks up the account behind a token hash.
pub fn caller_for_token_hash(conn: &Connection, hash: &str) -> ApiResult<Option<Caller>> {
    Ok(conn
        .row(
            "SELECT a.id, a.role, a.name, a.workshop_id FROM tokens t \
             JOIN accounts a ON a.id = t.account_id WHERE t.hash = ?1",
            [hash],
            caller_from_row,
        )
        .optional()?)
}

fn caller_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Caller> {
    let role: String = r.get(1)?;
    Ok(Caller {
        id: r.get(0)?,
        role: Role::parse(&role).unwrap_or(Role::Owner),
        name: r.get(2)?,
        workshop_id: r.get(3)?,
    })
}

/// Signs in by name and role, creating the account on first use; returns a new token.
pub fn dev_login(tx: &mut Tx<'_>, req: &DevLogin) -> ApiResult<Session> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::invalid("A name has 1 to 80 characters."));
    }
    match (req.role, req.workshop_id) {
        (Role::Desk, None) => {
            return Err(ApiError::invalid(
                "A desk account belongs to a workshop: give `workshop_id`.",
            ));
        }
        (Role::Owner | Role::Admin, Some(_)) => {
            return Err(ApiError::invalid(
                "Only desks and technicians belong to a workshop.",
            ));
        }
        _ => {}
    }
    if let Some(ws) = req.workshop_id {
        workshop(tx, ws)?;
    }
    let existing = tx
        .row(
            "SELECT id, role, name, workshop_id FROM accounts WHERE role = ?1 AND name = ?2",
            (req.role.as_str(), name),
            caller_from_row,
        )
        .optional()?;
    let caller = match existing {
        Some(c) if req.workshop_id.is_some() && c.workshop_id != req.workshop_id => {
            return Err(ApiError::conflict(format!(
                "The {} account '{name}' belongs to another workshop.",
                req.role.as_str()
            )));
        }
        Some(c) => c,
        None => {
            let id: Id = tx.row(
                "INSERT INTO accounts (role, name, workshop_id, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                (req.role.as_str(), name, req.workshop_id, now_ms()),
                |r| r.get(0),
            )?;
            if req.role == Role::Technician {
                tx.exec("INSERT INTO technicians (account_id) VALUES (?1)", [id])?;
                if let Some(skills) = &req.skills {
                    crate::technicians::set_profile(
                        tx,
                        &Caller {
                            id,
                            role: Role::Technician,
                            name: name.to_string(),
                            workshop_id: req.workshop_id,
                        },
                        &pitstop_api::TechnicianProfile {
                            skills: skills.clone(),
                            certifications: vec![],
                        },
                    )?;
                }
            }
            Caller {
                id,
                role: req.role,
                name: name.to_string(),
                workshop_id: req.workshop_id,
            }
        }
    };
    let token = new_token();
    tx.exec(
        "INSERT INTO tokens (hash, account_id, created_at) VALUES (?1, ?2, ?3)",
        (hash_token(&token), caller.id, now_ms()),
    )?;
    Ok(Session {
        account: caller.account(),
        token,
    })
}

/// Creates a workshop (admins only).
pub fn create_workshop(tx: &mut Tx<'_>, caller: &Caller, req: &NewWorkshop) -> ApiResult<Workshop> {
    caller.require(&[Role::Admin], "create workshops")?;
    if req.name.trim().is_empty() {
        return Err(ApiError::invalid("A workshop needs a name."));
    }
    if !geo::valid_coordinates(req.lat, req.lon) {
        return Err(ApiError::invalid(
            "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
        ));
    }
    let id = tx.row(
        "INSERT INTO workshops (name, lat, lon) VALUES (?1, ?2, ?3) RETURNING id",
        (req.name.trim(), req.lat, req.lon),
        |r| r.get(0),
    )?;
    Ok(Workshop {
        id,
        name: req.name.trim().into(),
        lat: req.lat,
        lon: req.lon,
    })
}

/// One workshop, or 404.
pub fn workshop(conn: &Connection, id: Id) -> ApiResult<Workshop> {
    conn.row(
        "SELECT id, name, lat, lon FROM workshops WHERE id = ?1",
        [id],
        |r| {
            Ok(Workshop {
                id: r.get(0)?,
                name: r.get(1)?,
                lat: r.get(2)?,
                lon: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("There is no workshop {id}.")))
}

/// Every workshop (public: owners pick one).
pub fn workshops(conn: &Connection) -> ApiResult<Vec<Workshop>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, lat, lon FROM workshops ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(Workshop {
            id: r.get(0)?,
            name: r.get(1)?,
            lat: r.get(2)?,
            lon: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
