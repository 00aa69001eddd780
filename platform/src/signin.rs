//! Signing in: one-time codes sent to a mobile number or e-mail address, passwords (Argon2id)
//! for the accounts that set one, invitations into a workshop, dev login for the demo and
//! tests, and the rate limits on all of it.
//!
//! Who uses what (docs/protocol.md, "Identity"): technicians and car owners sign in on their
//! phones with their number and a code; front desks with their e-mail and a password, after
//! a first sign-in with the code of their invitation. An unknown address that signs in with a
//! code becomes a new car-owner account; desks and technicians exist only by invitation;
//! platform admins only from the command line.

use std::num::NonZeroU32;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use pitstop_api::address::Address;
use pitstop_api::text::{self, Lines};
use pitstop_api::{DevLogin, Id, Invite, Invited, Millis, NewPassword, Role, Session, SignIn};
use rand::Rng;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::accounts::{self, NewAccount};
use crate::auth::Caller;
use crate::db::{Cached, Tx, now_ms};
use crate::sessions::{self, Lifetimes};
use crate::{ApiError, ApiResult};

/// A sign-in code works this long.
pub const CODE_TTL_MS: Millis = 10 * 60 * 1000;
/// An invitation's code works this long.
pub const INVITE_TTL_MS: Millis = 7 * 24 * 3600 * 1000;
/// Wrong tries before a code is thrown away.
pub const CODE_TRIES: i64 = 5;
/// Seconds before another code can be sent to the same address.
pub const RESEND_AFTER_S: u32 = 30;
/// Password length, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 10..=128;

/// Rate limits on sign-in (GCRA buckets in memory, per platform instance).
#[derive(Debug)]
pub struct Limits {
    /// Codes sent to one address: one per 30 s, at most 6 in a row.
    codes_per_address: DefaultKeyedRateLimiter<String>,
    /// Sign-in attempts for one address: 10 in a row, then one a minute.
    tries_per_address: DefaultKeyedRateLimiter<String>,
    /// Everything sign-in related from one client address: 30 in a row, then one per 10 s.
    per_client: DefaultKeyedRateLimiter<String>,
}

fn quota(every: Duration, burst: u32) -> Quota {
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            codes_per_address: governor::RateLimiter::keyed(quota(
                Duration::from_secs(RESEND_AFTER_S as u64 * 2),
                2,
            )),
            tries_per_address: governor::RateLimiter::keyed(quota(Duration::from_secs(60), 10)),
            per_client: governor::RateLimiter::keyed(quota(Duration::from_secs(10), 30)),
        }
    }
}

impl Limits {
    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str, what: &str) -> ApiResult<()> {
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let s = wait.as_secs() + 1;
            ApiError::too_many(format!("Too many {what}; wait {s} s and try again."), s)
        })
    }

    /// One more sign-in request from `client`.
    pub fn client(&self, client: &str) -> ApiResult<()> {
        Self::check(
            &self.per_client,
            client,
            "sign-in requests from your network",
        )
    }

    /// One more code to `address`.
    pub fn code(&self, address: &Address) -> ApiResult<()> {
        Self::check(
            &self.codes_per_address,
            address.as_str(),
            "codes asked for this address",
        )
    }

    /// One more sign-in try for `address`.
    pub fn attempt(&self, address: &Address) -> ApiResult<()> {
        Self::check(
            &self.tries_per_address,
            address.as_str(),
            "sign-in attempts for this address",
        )
    }

    /// Forgets buckets that are full again (called now and then, so memory stays bounded).
    pub fn tidy(&self) {
        self.codes_per_address.retain_recent();
        self.tries_per_address.retain_recent();
        self.per_client.retain_recent();
    }
}

fn code_hash(address: &Address, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{}:{code}", address.as_str())))
}

/// Parses an address, or says what is wrong with it.
pub fn address(s: &str) -> ApiResult<Address> {
    Address::parse(s).map_err(ApiError::invalid)
}

/// Stores a fresh code for `address`, valid for `ttl`, replacing any earlier one.
pub fn new_code(tx: &mut Tx<'_>, address: &Address, ttl: Millis) -> ApiResult<(String, Millis)> {
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let expires_at = now_ms() + ttl;
    tx.exec(
        "INSERT INTO sign_in_codes (address, code_hash, expires_at, attempts) VALUES (?1, ?2, ?3, 0) \
         ON CONFLICT (address) DO UPDATE SET code_hash = ?2, expires_at = ?3, attempts = 0",
        params![address.as_str(), code_hash(address, &code), expires_at],
    )?;
    Ok((code, expires_at))
}

/// The message a code travels in.
pub fn code_message(code: &str) -> String {
    format!(
        "Pitstop sign-in code: {code}. It works for 10 minutes. Never share it, not even with Pitstop staff."
    )
}

/// Checks a code for `address` and uses it up. Wrong codes count; after [`CODE_TRIES`] the
/// code is gone. The inner error is the verdict on the code: what it changed (the count, the
/// code thrown away) must still be committed.
fn use_code(tx: &mut Tx<'_>, address: &Address, code: &str) -> ApiResult<Result<(), ApiError>> {
    let row: Option<(String, Millis, i64)> = tx
        .row(
            "SELECT code_hash, expires_at, attempts FROM sign_in_codes WHERE address = ?1",
            [address.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((hash, expires_at, attempts)) = row else {
        return Ok(Err(ApiError::unauthorized(
            "There is no code waiting for this address; ask for a new one.",
        )));
    };
    if expires_at <= now_ms() {
        tx.exec(
            "DELETE FROM sign_in_codes WHERE address = ?1",
            [address.as_str()],
        )?;
        return Err(ApiError::unauthorized(
            "This code has expired; ask for a new one.",
        ));
    }
    let code = code.trim();
    if code_hash(address, code) == hash {
        tx.exec(
            "DELETE FROM sign_in_codes WHERE address = ?1",
            [address.as_str()],
        )?;
        return Ok(Ok(()));
    }
    let left = CODE_TRIES - attempts - 1;
    if left <= 0 {
        tx.exec(
            "DELETE FROM sign_in_codes WHERE address = ?1",
            [address.as_str()],
        )?;
        return Ok(Err(ApiError::unauthorized(
            "That code is not right, and it was the last try; ask for a new code.",
        )));
    }
    tx.exec(
        "UPDATE sign_in_codes SET attempts = attempts + 1 WHERE address = ?1",
        [address.as_str()],
    )?;
    Ok(Err(ApiError::unauthorized(format!(
        "That code is not right; check the message and try again ({left} tries left)."
    ))))
}

/// A device name as typed, cleaned.
pub fn device_name(s: &str) -> ApiResult<String> {
    text::clean("device name", s, text::MAX_NAME_CHARS, Lines::One, true).map_err(ApiError::invalid)
}

fn person_name(s: &str) -> ApiResult<String> {
    text::clean("name", s, text::MAX_NAME_CHARS, Lines::One, true).map_err(ApiError::invalid)
}

/// Signs in with a code: the account with this address, or a new car owner. Runs in one
/// transaction with the session it starts; a refused code is the inner error (its count is
/// committed).
pub fn sign_in_with_code(
    tx: &mut Tx<'_>,
    req: &SignIn,
    address: &Address,
    code: &str,
    life: Lifetimes,
) -> ApiResult<Result<Session, ApiError>> {
    let device = device_name(&req.device)?;
    // The code first: whether an address has an account is not told to someone without it.
    if let Err(refused) = use_code(tx, address, code)? {
        return Ok(Err(refused));
    }
    let existing = accounts::by_address(tx, address)?;
    // A new owner's name. Refusing here returns an outer error, which rolls the transaction
    // back: the code is not used up.
    let new_name = match (&existing, &req.name) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(person_name(n)?),
        (None, None) => {
            return Err(ApiError::invalid(
                "This address has no account yet: give your `name` to create one.",
            ));
        }
    };
    let account = match existing {
        Some(f) => f.caller,
        None => accounts::create(
            tx,
            &NewAccount {
                role: Role::Owner,
                name: new_name.as_deref().unwrap_or("Owner"),
                workshop_id: None,
                address: Some(address),
                workshop_admin: false,
                invited_by: None,
                dev: false,
            },
        )?,
    };
    sessions::start(tx, account.id, &device, life).map(Ok)
}

fn argon2() -> Argon2<'static> {
    // Argon2id, 19 MiB, 2 passes (OWASP's recommendation).
    Argon2::default()
}

/// Hashes a new password (slow on purpose: call off the async threads).
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// A hash of a password nobody has, checked when an address has no password so that the
/// answer takes as long either way.
static DECOY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("decoy password, never matches").unwrap_or_default());

/// Whether `password` matches `hash` (or the decoy when there is none). Slow on purpose.
pub fn password_matches(hash: Option<&str>, password: &str) -> bool {
    let decoy = DECOY.as_str();
    let Ok(parsed) = PasswordHash::new(hash.unwrap_or(decoy)) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && hash.is_some()
}

/// Checks the length rule for a new password.
pub fn check_new_password(req: &NewPassword) -> ApiResult<()> {
    if req
        .current_password
        .as_ref()
        .is_some_and(|c| c.chars().count() > *PASSWORD_CHARS.end())
    {
        return Err(ApiError::invalid(
            "The current password has at most 128 characters; check it.",
        ));
    }
    let n = req.password.chars().count();
    if !PASSWORD_CHARS.contains(&n) {
        return Err(ApiError::invalid(format!(
            "A password has {} to {} characters; this one has {n}. A short sentence is easy to remember.",
            PASSWORD_CHARS.start(),
            PASSWORD_CHARS.end()
        )));
    }
    Ok(())
}

/// The sentence for a wrong password, an unknown address, or an account with no password.
pub fn wrong_password() -> ApiError {
    ApiError::unauthorized(
        "That address and password do not match. Check both, or sign in with a code instead.",
    )
}

/// Invites a desk or technician into `workshop_id`: creates the account and a code for its
/// first sign-in, valid for [`INVITE_TTL_MS`].
pub fn invite(
    tx: &mut Tx<'_>,
    caller: &Caller,
    workshop_id: Id,
    req: &Invite,
) -> ApiResult<Invited> {
    accounts::may_administer(caller, workshop_id)?;
    accounts::workshop(tx, workshop_id)?;
    if !matches!(req.role, Role::Desk | Role::Technician) {
        return Err(ApiError::invalid(
            "A workshop invites desks and technicians; car owners sign up themselves.",
        ));
    }
    if req.workshop_admin && req.role != Role::Desk {
        return Err(ApiError::invalid("Only a desk can administer a workshop."));
    }
    let address = address(&req.address)?;
    let name = person_name(&req.name)?;
    if accounts::by_address(tx, &address)?.is_some() {
        return Err(ApiError::conflict(
            "That address already has a Pitstop account; invite another address, or ask them to use a different one.",
        ));
    }
    let account = accounts::create(
        tx,
        &NewAccount {
            role: req.role,
            name: &name,
            workshop_id: Some(workshop_id),
            address: Some(&address),
            workshop_admin: req.workshop_admin,
            invited_by: Some(caller.id),
            dev: false,
        },
    )?;
    let (code, expires_at) = new_code(tx, &address, INVITE_TTL_MS)?;
    Ok(Invited {
        account: account.account(),
        code,
        expires_at,
    })
}

/// Signs in by name and role for the demo and tests, creating the account on first use.
/// Opens only accounts dev login made itself: never an admin, never an invited or
/// self-registered account, never a workshop admin.
pub fn dev_login(tx: &mut Tx<'_>, req: &DevLogin, life: Lifetimes) -> ApiResult<Session> {
    let name = person_name(&req.name)?;
    match (req.role, req.workshop_id) {
        (Role::Admin, _) => {
            return Err(ApiError::forbidden(
                "Dev login cannot make or open admin accounts; platform admins are provisioned with `pitstop-platform admin`.",
            ));
        }
        (Role::Desk, None) => {
            return Err(ApiError::invalid(
                "A desk account belongs to a workshop: give `workshop_id`.",
            ));
        }
        (Role::Owner, Some(_)) => {
            return Err(ApiError::invalid(
                "Only desks and technicians belong to a workshop.",
            ));
        }
        _ => {}
    }
    if let Some(ws) = req.workshop_id {
        accounts::workshop(tx, ws)?;
    }
    // Checked whatever the role, though only a new technician's are kept.
    if let Some(skills) = &req.skills {
        crate::technicians::clean_list("skills", skills)?;
    }
    let existing = tx
        .row(
            "SELECT id, role, name, workshop_id, workshop_admin, NULL FROM accounts \
             WHERE role = ?1 AND name = ?2 AND dev = 1",
            (req.role.as_str(), &name),
            accounts::caller_from_row,
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
            let c = accounts::create(
                tx,
                &NewAccount {
                    role: req.role,
                    name: &name,
                    workshop_id: req.workshop_id,
                    address: None,
                    workshop_admin: false,
                    invited_by: None,
                    dev: true,
                },
            )?;
            if let (Role::Technician, Some(skills)) = (req.role, &req.skills) {
                crate::technicians::set_profile(
                    tx,
                    &c,
                    &pitstop_api::TechnicianProfile {
                        skills: skills.clone(),
                        certifications: vec![],
                        vehicle: None,
                    },
                )?;
            }
            c
        }
    };
    sessions::start(tx, caller.id, "dev login", life)
}
