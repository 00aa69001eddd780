//! The sign-in flows as the endpoints run them: rate limits, a code's delivery, password
//! hashing off the async threads, then one transaction from [`signin`] or [`sessions`].
//! The rules themselves live in those modules; this one only puts them in order.

use pitstop_api::{CodeRequest, CodeSent, Id, Invite, Invited, NewPassword, Session, SignIn};

use crate::auth::Caller;
use crate::{ApiError, ApiResult, Platform, accounts, sessions, signin};

/// `POST /v1/auth/code` from `client`: checks the limits, stores a code and sends it.
pub async fn request_code(p: &Platform, client: &str, req: &CodeRequest) -> ApiResult<CodeSent> {
    p.signin_limits().client(client)?;
    let address = signin::address(&req.address)?;
    if !p.sender().reaches(&address) {
        return Err(ApiError::invalid(
            "This server sends codes by SMS only: use your mobile number, or sign in with your password.",
        ));
    }
    p.signin_limits().code(&address)?;
    let (code, expires_at) = p.write(|tx| signin::new_code(tx, &address, signin::CODE_TTL_MS))?;
    if let Err(e) = p
        .sender()
        .send(&address, &signin::code_message(&code))
        .await
    {
        tracing::warn!(error = %e, "sending a sign-in code failed");
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            "The code could not be sent just now; try again in a minute.",
        ));
    }
    Ok(CodeSent {
        sent_to: address.masked(),
        expires_at,
        resend_after_s: signin::RESEND_AFTER_S,
    })
}

/// `POST /v1/auth/sign-in` from `client`: a code, or a password checked off the async
/// threads (Argon2 takes tens of milliseconds of CPU).
pub async fn sign_in(p: &Platform, client: &str, req: &SignIn) -> ApiResult<Session> {
    p.signin_limits().client(client)?;
    let address = signin::address(&req.address)?;
    p.signin_limits().attempt(&address)?;
    let life = p.lifetimes();
    match (&req.code, &req.password) {
        (Some(code), _) => {
            p.write(|tx| signin::sign_in_with_code(tx, req, &address, code, life))?
        }
        (None, Some(password)) => {
            let device = signin::device_name(&req.device)?;
            if password.chars().count() > *signin::PASSWORD_CHARS.end() {
                return Err(signin::wrong_password());
            }
            let found = p.read(|c| accounts::by_address(c, &address))?;
            let (hash, password) = (
                found.as_ref().and_then(|f| f.password_hash.clone()),
                password.clone(),
            );
            let ok = tokio::task::spawn_blocking(move || {
                signin::password_matches(hash.as_deref(), &password)
            })
            .await
            .unwrap_or(false);
            match found {
                Some(f) if ok => p.write(|tx| sessions::start(tx, f.caller.id, &device, life)),
                _ => Err(signin::wrong_password()),
            }
        }
        (None, None) => Err(ApiError::invalid(
            "Send the `code` you received, or your `password`.",
        )),
    }
}

/// `PUT /v1/me/password`: the current password (once there is one) must match; the new one
/// is hashed off the async threads; the account's other sessions end.
pub async fn set_password(p: &Platform, caller: &Caller, req: &NewPassword) -> ApiResult<()> {
    signin::check_new_password(req)?;
    let old: Option<String> = p.read(|c| accounts::password_hash(c, caller.id))?;
    let (given, new) = (
        req.current_password.clone().unwrap_or_default(),
        req.password.clone(),
    );
    let hashed = tokio::task::spawn_blocking(move || -> ApiResult<String> {
        if old.is_some() && !signin::password_matches(old.as_deref(), &given) {
            return Err(ApiError::unauthorized(
                "The current password is not right; type it again.",
            ));
        }
        signin::hash_password(&new)
    })
    .await
    .map_err(|e| ApiError::internal(e.into()))??;
    p.write(|tx| {
        accounts::set_password_hash(tx, caller.id, &hashed)?;
        sessions::end_all(tx, caller.id, caller.session_id)
    })
}

/// `POST /v1/workshops/{id}/invites`: makes the account, then sends the code where the
/// sender reaches (the answer holds it either way).
pub async fn invite(
    p: &Platform,
    caller: &Caller,
    workshop: Id,
    req: &Invite,
) -> ApiResult<Invited> {
    let invited = p.write(|tx| signin::invite(tx, caller, workshop, req))?;
    if let Ok(address) = signin::address(&req.address)
        && p.sender().reaches(&address)
    {
        let text = format!(
            "You are invited to Pitstop. Sign in with this address and the code {} (valid 7 days).",
            invited.code
        );
        if let Err(e) = p.sender().send(&address, &text).await {
            tracing::warn!(error = %e, "sending an invitation failed; the code is in the answer");
        }
    }
    Ok(invited)
}
