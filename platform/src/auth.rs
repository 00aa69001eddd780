//! Bearer tokens and the [`Caller`] extractor. Tokens are 256 random bits shown once; the
//! database keeps only their SHA-256. Every request looks its token up in the database (a
//! cached statement on a reader, microseconds): there is no in-memory session cache that a
//! revocation could miss.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pitstop_api::{Account, Id, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::changes;
use crate::{ApiError, Platform};

/// The authenticated account making a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub id: Id,
    pub role: Role,
    pub name: String,
    /// A desk's workshop, or a technician's home workshop.
    pub workshop_id: Option<Id>,
    /// A desk that administers its workshop (invites staff, revokes their sessions).
    pub workshop_admin: bool,
    /// The session the request's token belongs to (`None` for the platform's own work:
    /// the demo, benchmarks).
    pub session_id: Option<Id>,
}

impl Caller {
    /// A caller acting for `id` outside any session (the demo's simulation, benchmarks).
    pub fn internal(id: Id, role: Role, name: &str, workshop_id: Option<Id>) -> Self {
        Self {
            id,
            role,
            name: name.to_string(),
            workshop_id,
            workshop_admin: false,
            session_id: None,
        }
    }

    /// Change-log audiences this caller reads.
    pub fn audiences(&self) -> Vec<String> {
        let mut a = vec![changes::account(self.id)];
        match self.role {
            Role::Desk => a.extend(self.workshop_id.map(changes::workshop)),
            Role::Admin => a.push(changes::ADMIN.into()),
            Role::Technician | Role::Owner => {}
        }
        a
    }

    /// The wire form.
    pub fn account(&self) -> Account {
        Account {
            id: self.id,
            role: self.role,
            name: self.name.clone(),
            workshop_id: self.workshop_id,
            workshop_admin: self.workshop_admin,
        }
    }

    /// Refuses callers whose role is not in `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "Only {} accounts can {what}; you are signed in as a {}.",
                names.join(" or "),
                self.role.as_str()
            )))
        }
    }
}

/// A fresh random token (64 hex characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database stores for a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Platform {
    /// Finds the caller a bearer token belongs to: known, not expired, its session not
    /// revoked.
    pub fn authenticate(&self, token: &str) -> Result<Caller, ApiError> {
        if token.len() != 64 {
            return Err(unknown_token());
        }
        let hash = hash_token(token);
        match self.read(|conn| crate::sessions::caller_for_token(conn, &hash))? {
            None => Err(unknown_token()),
            Some((_, expires_at)) if expires_at <= crate::db::now_ms() => {
                Err(ApiError::unauthorized(
                    "This access token has expired; renew it with POST /v1/auth/refresh.",
                ))
            }
            Some((caller, _)) => Ok(caller),
        }
    }
}

fn unknown_token() -> ApiError {
    ApiError::unauthorized("This token is unknown or its session was signed out; sign in again.")
}

impl FromRequestParts<Platform> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Platform) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match header {
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` works as well.
            Some(h) => match h.trim().split_once(char::is_whitespace) {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    state.authenticate(token.trim())
                }
                _ => Err(ApiError::unauthorized(
                    "Use `Authorization: Bearer <token>`.",
                )),
            },
            // EventSource in browsers cannot set headers: the event stream, and only it,
            // takes a single-use ticket in the query (never the bearer token: URLs end up in
            // histories and proxy logs).
            None => {
                let ticket = parts.uri.query().and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("ticket="))
                        .map(str::to_string)
                });
                match ticket {
                    Some(t) if parts.uri.path() == "/v1/events" => {
                        state.write(|tx| crate::sessions::redeem_ticket(tx, &t))
                    }
                    Some(_) => Err(ApiError::unauthorized(
                        "Send the token in the `Authorization: Bearer <token>` header; \
                         `?ticket=` is accepted only by /v1/events.",
                    )),
                    None => Err(ApiError::unauthorized(
                        "Sign in first: send `Authorization: Bearer <token>` (get one from POST /v1/auth/sign-in).",
                    )),
                }
            }
        }
    }
}
