//! Bearer tokens and the [`Caller`] extractor. Tokens are 256 random bits shown once; the
//! database keeps only their SHA-256.

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
}

impl Caller {
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
    /// Finds the caller a token belongs to.
    pub fn authenticate(&self, token: &str) -> Result<Caller, ApiError> {
        let hash = hash_token(token);
        if let Some(c) = self
            .inner
            .sessions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
        {
            return Ok(c.clone());
        }
        let caller = self.read(|conn| crate::accounts::caller_for_token_hash(conn, &hash))?;
        let caller = caller.ok_or_else(|| {
            ApiError::unauthorized("This token is unknown or revoked; sign in again.")
        })?;
        self.inner
            .sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash, caller.clone());
        Ok(caller)
    }
}

impl FromRequestParts<Platform> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Platform) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = match header {
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` works as well.
            Some(h) => match h.trim().split_once(char::is_whitespace) {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    token.trim().to_string()
                }
                _ => {
                    return Err(ApiError::unauthorized(
                        "Use `Authorization: Bearer <token>`.",
                    ));
                }
            },
            // EventSource in browsers cannot set headers: the event stream, and only it,
            // takes the token in the query (URLs end up in histories and proxy logs).
            None => {
                let in_query = parts.uri.query().and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("access_token="))
                        .map(str::to_string)
                });
                match in_query {
                    Some(t) if parts.uri.path() == "/v1/events" => t,
                    Some(_) => {
                        return Err(ApiError::unauthorized(
                            "Send the token in the `Authorization: Bearer <token>` header; \
                             `?access_token=` is accepted only by /v1/events.",
                        ));
                    }
                    None => {
                        return Err(ApiError::unauthorized(
                            "Sign in first: send `Authorization: Bearer <token>` (get one from POST /v1/auth/dev-login).",
                        ));
                    }
                }
            }
        };
        state.authenticate(&token)
    }
}
