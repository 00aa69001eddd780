//! Masked contact: the technician on a job, or the front desk of the order's workshop, calls
//! or texts its customer (an owner with a phone number, or a walk-in customer whose phone
//! the desk took) through the platform's relay number and a PIN, never seeing the number.
//! The relay (a telephony provider's webhook) asks [`connect`] where to put a call through;
//! that works only from the caller's own phone, for a technician only while the job runs,
//! for the desk until the order is done or cancelled.

use pitstop_api::address::Address;
use pitstop_api::{ContactRelay, Id, RelayConnect, RelayTarget, Role};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension};

use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::{ApiError, ApiResult, orders};

/// The relay's settings (`--relay-number`, `--relay-secret`).
#[derive(Clone)]
pub struct RelayConfig {
    /// The number technicians call (E.164).
    pub number: String,
    /// What the telephony provider presents as a bearer token on `POST /v1/relay/connect`.
    pub secret: String,
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayConfig")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

fn ended() -> ApiError {
    ApiError::gone("This job has ended, so its customer can no longer be reached through Pitstop.")
}

fn phone_of(conn: &Connection, account: Id) -> ApiResult<Option<String>> {
    Ok(conn
        .row("SELECT phone FROM accounts WHERE id = ?1", [account], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

/// Whether `order` is one `account` (as `role`, of `workshop`) reaches customers for: its
/// technician's job, or its workshop's order for that workshop's desk.
fn is_theirs(order: &pitstop_api::Order, role: Role, account: Id, workshop: Option<Id>) -> bool {
    match role {
        Role::Technician => order.technician_id == Some(account),
        Role::Desk => workshop.is_some() && order.workshop_id == workshop,
        _ => false,
    }
}

/// Whether the order is still open to calls from `role`: the technician while the job runs,
/// the desk until it ends.
fn still_open(order: &pitstop_api::Order, role: Role) -> bool {
    match role {
        Role::Technician => order.status.is_active_job(),
        _ => !order.status.is_terminal(),
    }
}

/// The customer's number: the owner's account's, else the walk-in customer's.
fn customer_phone(conn: &Connection, order: &pitstop_api::Order) -> ApiResult<Option<String>> {
    if let Some(owner) = order.owner_id {
        return phone_of(conn, owner);
    }
    Ok(conn
        .row(
            "SELECT customer_phone FROM orders WHERE id = ?1",
            [order.id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// The caller's (the assigned technician's, or the workshop desk's) way to reach the
/// customer of order `id`.
pub fn open(
    tx: &mut Tx<'_>,
    relay: Option<&RelayConfig>,
    caller: &Caller,
    id: Id,
) -> ApiResult<ContactRelay> {
    let relay = relay.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Calling customers is not set up on this platform; ask the workshop to reach them.",
        )
    })?;
    let order = orders::get_head(tx, caller, id)?;
    if !is_theirs(&order, caller.role, caller.id, caller.workshop_id) {
        return Err(ApiError::forbidden(
            "Only the technician on this job or its workshop's desk can reach its customer.",
        ));
    }
    if !still_open(&order, caller.role) {
        return Err(ended());
    }
    if !order.customer_contact {
        return Err(ApiError::conflict(
            "This customer has no phone number with Pitstop; ask the workshop to reach them.",
        ));
    }
    // The relay recognises the technician by the number they call from.
    if phone_of(tx, caller.id)?.is_none() {
        return Err(ApiError::conflict(
            "Your account has no phone number, so the relay cannot recognise your call; \
             sign in with your mobile number once.",
        ));
    }
    let have: Option<String> = tx
        .row(
            "SELECT pin FROM contact_relays WHERE order_id = ?1 AND technician_id = ?2",
            [id, caller.id],
            |r| r.get(0),
        )
        .optional()?;
    let pin = match have {
        Some(pin) => pin,
        None => {
            let mut made = None;
            // Unique per technician: a clash is rare, and a few tries always end.
            for _ in 0..20 {
                let pin = format!("{:06}", rand::rng().random_range(0..1_000_000));
                let n = tx.exec(
                    "INSERT INTO contact_relays (technician_id, pin, order_id, created_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT DO NOTHING",
                    rusqlite::params![caller.id, pin, id, now_ms()],
                )?;
                if n == 1 {
                    made = Some(pin);
                    break;
                }
            }
            made.ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "No contact PIN could be made just now; try again.",
                )
            })?
        }
    };
    Ok(ContactRelay {
        order_id: id,
        call_uri: format!("tel:{},,{pin}%23", relay.number),
        sms_uri: format!("sms:{}?body=%23{pin}%20", relay.number),
        number: relay.number.clone(),
        pin,
    })
}

/// Whether `token` is the relay's secret (compared in constant time). An empty secret
/// never matches.
pub fn is_relay(relay: Option<&RelayConfig>, token: &str) -> bool {
    let Some(relay) = relay else { return false };
    if relay.secret.is_empty() {
        return false;
    }
    let (a, b) = (relay.secret.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where the relay puts a call or text through: the customer, while the job runs, when it
/// comes from the technician's phone with the job's PIN.
pub fn connect(conn: &Connection, req: &RelayConnect) -> ApiResult<RelayTarget> {
    let unknown = || ApiError::not_found("This PIN is not known for this caller.");
    if req.pin.len() != 6 || !req.pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let from = match Address::parse(&req.from) {
        Ok(Address::Phone(p)) => p,
        _ => return Err(ApiError::invalid("`from` is a phone number in E.164 form.")),
    };
    // The caller's number names the account (a technician or a desk; `technician_id` holds
    // either); the PIN names the order. A wrong number and a wrong PIN get the same
    // answer, so neither can be probed.
    let (order_id, account, role, workshop): (Id, Id, String, Option<Id>) = conn
        .row(
            "SELECT r.order_id, r.technician_id, a.role, a.workshop_id FROM contact_relays r \
             JOIN accounts a ON a.id = r.technician_id WHERE a.phone = ?1 AND r.pin = ?2",
            [from.as_str(), req.pin.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(unknown)?;
    let order = orders::load_head(conn, order_id)?.ok_or_else(unknown)?;
    let role = Role::parse(&role).ok_or_else(unknown)?;
    if !is_theirs(&order, role, account, workshop) || !still_open(&order, role) {
        return Err(ended());
    }
    let to = customer_phone(conn, &order)?.ok_or_else(ended)?;
    Ok(RelayTarget { to })
}
