//! Accounts (with their sign-in addresses) and workshops.

use pitstop_api::address::Address;
use pitstop_api::text::{self, Lines};
use pitstop_api::{Id, NewWorkshop, Role, StaffMember, Workshop, geo};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult};

/// Reads a caller from `id, role, name, workshop_id, workshop_admin, session_id`.
pub fn caller_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Caller> {
    let role: String = r.get(1)?;
    Ok(Caller {
        id: r.get(0)?,
        role: Role::parse(&role).unwrap_or(Role::Owner),
        name: r.get(2)?,
        workshop_id: r.get(3)?,
        workshop_admin: r.get(4)?,
        session_id: r.get(5)?,
    })
}

/// One account as a caller without a session.
pub fn caller(conn: &Connection, id: Id) -> ApiResult<Caller> {
    conn.row(
        "SELECT id, role, name, workshop_id, workshop_admin, NULL FROM accounts WHERE id = ?1",
        [id],
        caller_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("There is no account {id}.")))
}

/// An account found by its sign-in address, with its password hash if it has one.
#[derive(Debug)]
pub struct Found {
    pub caller: Caller,
    pub password_hash: Option<String>,
}

/// The account with this sign-in address, if any.
pub fn by_address(conn: &Connection, address: &Address) -> ApiResult<Option<Found>> {
    let sql = match address {
        Address::Phone(_) => {
            "SELECT id, role, name, workshop_id, workshop_admin, NULL, password_hash FROM accounts WHERE phone = ?1"
        }
        Address::Email(_) => {
            "SELECT id, role, name, workshop_id, workshop_admin, NULL, password_hash FROM accounts WHERE email = ?1"
        }
    };
    Ok(conn
        .row(sql, [address.as_str()], |r| {
            Ok(Found {
                caller: caller_from_row(r)?,
                password_hash: r.get(6)?,
            })
        })
        .optional()?)
}

/// What a new account is.
#[derive(Debug)]
pub struct NewAccount<'a> {
    pub role: Role,
    pub name: &'a str,
    pub workshop_id: Option<Id>,
    pub address: Option<&'a Address>,
    pub workshop_admin: bool,
    pub invited_by: Option<Id>,
    /// Made by dev login (which may open it again by name).
    pub dev: bool,
}

/// Creates an account (and a technician's profile row). The name must already be clean.
pub fn create(tx: &mut Tx<'_>, new: &NewAccount<'_>) -> ApiResult<Caller> {
    let (phone, email) = match new.address {
        Some(Address::Phone(p)) => (Some(p.as_str()), None),
        Some(Address::Email(e)) => (None, Some(e.as_str())),
        None => (None, None),
    };
    let id: Id = tx.row(
        "INSERT INTO accounts (role, name, workshop_id, created_at, phone, email, workshop_admin, invited_by, dev) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        rusqlite::params![
            new.role.as_str(),
            new.name,
            new.workshop_id,
            now_ms(),
            phone,
            email,
            new.workshop_admin,
            new.invited_by,
            new.dev
        ],
        |r| r.get(0),
    )?;
    if new.role == Role::Technician {
        tx.exec("INSERT INTO technicians (account_id) VALUES (?1)", [id])?;
    }
    Ok(Caller {
        id,
        role: new.role,
        name: new.name.to_string(),
        workshop_id: new.workshop_id,
        workshop_admin: new.workshop_admin,
        session_id: None,
    })
}

/// An account's password hash, if it set a password.
pub fn password_hash(conn: &Connection, id: Id) -> ApiResult<Option<String>> {
    Ok(conn
        .row(
            "SELECT password_hash FROM accounts WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Sets (or replaces) an account's password hash.
pub fn set_password_hash(tx: &mut Tx<'_>, id: Id, hash: &str) -> ApiResult<()> {
    tx.exec(
        "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
        rusqlite::params![id, hash],
    )?;
    Ok(())
}

/// Creates or updates the platform admin with this e-mail address (the command line's
/// `pitstop-platform admin`; there is no endpoint for it).
pub fn provision_admin(
    tx: &mut Tx<'_>,
    name: &str,
    email: &Address,
    password_hash: Option<&str>,
) -> ApiResult<Caller> {
    let caller = match by_address(tx, email)? {
        Some(f) if f.caller.role == Role::Admin => f.caller,
        Some(_) => {
            return Err(ApiError::conflict(
                "That e-mail address belongs to an account that is not an admin.",
            ));
        }
        None => create(
            tx,
            &NewAccount {
                role: Role::Admin,
                name,
                workshop_id: None,
                address: Some(email),
                workshop_admin: false,
                invited_by: None,
                dev: false,
            },
        )?,
    };
    if let Some(h) = password_hash {
        set_password_hash(tx, caller.id, h)?;
    }
    Ok(caller)
}

/// A workshop's staff, for its admin (or a platform admin).
pub fn staff(conn: &Connection, caller: &Caller, workshop_id: Id) -> ApiResult<Vec<StaffMember>> {
    may_administer(caller, workshop_id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.role, a.name, a.workshop_id, a.workshop_admin, NULL, a.phone, a.email, \
         (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id AND s.revoked_at IS NULL AND s.expires_at > ?2) \
         FROM accounts a WHERE a.workshop_id = ?1 ORDER BY a.role, a.name LIMIT 1000",
    )?;
    let rows = stmt.query_map(rusqlite::params![workshop_id, now_ms()], |r| {
        let phone: Option<String> = r.get(6)?;
        let email: Option<String> = r.get(7)?;
        let address = phone.map(Address::Phone).or(email.map(Address::Email));
        Ok(StaffMember {
            account: caller_from_row(r)?.account(),
            address: address.map(|a| a.masked()),
            sessions: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Refuses callers who do not administer `workshop_id`, with the same sentence whether the
/// workshop exists or not.
pub fn may_administer(caller: &Caller, workshop_id: Id) -> ApiResult<()> {
    let ok = caller.role == Role::Admin
        || (caller.role == Role::Desk
            && caller.workshop_admin
            && caller.workshop_id == Some(workshop_id));
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "There is no workshop {workshop_id} that you administer."
        )))
    }
}

/// Creates a workshop (admins only).
pub fn create_workshop(
    tx: &mut Tx<'_>,
    cfg: &crate::Config,
    caller: &Caller,
    req: &NewWorkshop,
) -> ApiResult<Workshop> {
    caller.require(&[Role::Admin], "create workshops")?;
    let currency = req.currency.clone().unwrap_or_else(|| cfg.currency.clone());
    if !pitstop_api::valid_currency(&currency) {
        return Err(ApiError::invalid(
            "`currency` is an ISO 4217 code of three capital letters, e.g. EUR or CNY.",
        ));
    }
    let name = text::clean(
        "workshop name",
        &req.name,
        text::MAX_NAME_CHARS,
        Lines::One,
        true,
    )
    .map_err(ApiError::invalid)?;
    if !geo::valid_coordinates(req.lat, req.lon) {
        return Err(ApiError::invalid(
            "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
        ));
    }
    let address = text::clean(
        "address",
        &req.address,
        text::MAX_PLACE_CHARS,
        Lines::One,
        false,
    )
    .map_err(ApiError::invalid)?;
    let id = tx.row(
        "INSERT INTO workshops (name, lat, lon, address, currency) VALUES (?1, ?2, ?3, ?4, ?5) \
         RETURNING id",
        (&name, req.lat, req.lon, &address, &currency),
        |r| r.get(0),
    )?;
    Ok(Workshop {
        id,
        name,
        lat: req.lat,
        lon: req.lon,
        address,
        payout_percent: pitstop_api::DEFAULT_PAYOUT_PERCENT,
        currency,
    })
}

/// Sets the share of an order's price a workshop's technicians earn (the workshop's admin
/// desk or a platform admin). Applies to orders assigned from now on.
pub fn set_payout(
    tx: &mut Tx<'_>,
    caller: &Caller,
    workshop: Id,
    req: &pitstop_api::PayoutRule,
) -> ApiResult<Workshop> {
    may_administer(caller, workshop)?;
    if req.percent > 100 {
        return Err(ApiError::invalid("The payout is a percent from 0 to 100."));
    }
    let n = tx.exec(
        "UPDATE workshops SET payout_percent = ?2 WHERE id = ?1",
        (workshop, req.percent),
    )?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "There is no workshop {workshop}."
        )));
    }
    self::workshop(tx, workshop)
}

fn workshop_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workshop> {
    Ok(Workshop {
        id: r.get(0)?,
        name: r.get(1)?,
        lat: r.get(2)?,
        lon: r.get(3)?,
        address: r.get(4)?,
        payout_percent: r.get(5)?,
        currency: r.get(6)?,
    })
}

/// One workshop, or 404.
pub fn workshop(conn: &Connection, id: Id) -> ApiResult<Workshop> {
    conn.row(
        "SELECT id, name, lat, lon, address, payout_percent, currency FROM workshops WHERE id = ?1",
        [id],
        workshop_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("There is no workshop {id}.")))
}

/// Every workshop (public: owners pick one).
pub fn workshops(conn: &Connection) -> ApiResult<Vec<Workshop>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, lat, lon, address, payout_percent, currency FROM workshops ORDER BY id",
    )?;
    let rows = stmt.query_map([], workshop_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
