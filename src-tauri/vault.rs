//! Remembering who is signed in on this device between launches: the refresh token lives in
//! the OS keyring (Keychain on macOS and iOS, Credential Manager on Windows, the kernel
//! keyring on Linux), never in a file; a small file beside the caches says only which
//! account on which platform was signed in last (no secret), so the app can open that
//! account's data at once, with or without a network.
//!
//! Where no keyring is available (Android until a Keystore backend is added, a Linux session
//! without a keyring) nothing is kept: the app asks to sign in again at the next launch.

use std::path::{Path, PathBuf};

use pitstop_api::{Account, Session};
use serde::{Deserialize, Serialize};

const SERVICE: &str = "pitstop";

/// Who was signed in last, on which platform (no secret in it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Last {
    pub platform: String,
    pub account: Account,
}

fn last_file(dir: &Path) -> PathBuf {
    dir.join("last-account.json")
}

fn entry(platform: &str, account: i64) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(
        SERVICE,
        &format!("{}#{account}", platform.trim_end_matches('/')),
    )
}

/// Keeps `session`'s refresh token in the keyring and notes the account as the last one.
/// Returns whether it could be kept.
pub fn save(dir: &Path, platform: &str, session: &Session) -> bool {
    let kept =
        entry(platform, session.account.id).and_then(|e| e.set_password(&session.refresh_token));
    if let Err(e) = kept {
        eprintln!(
            "pitstop-app: no keyring to keep the session in ({e}); you will sign in again next time"
        );
        return false;
    }
    let last = Last {
        platform: platform.to_string(),
        account: session.account.clone(),
    };
    match serde_json::to_vec(&last) {
        Ok(bytes) => std::fs::write(last_file(dir), bytes).is_ok(),
        Err(_) => false,
    }
}

/// A renewed session's new refresh token (the old one no longer works).
pub fn renewed(platform: &str, session: &Session) {
    if let Err(e) =
        entry(platform, session.account.id).and_then(|e| e.set_password(&session.refresh_token))
    {
        eprintln!("pitstop-app: keeping the renewed session failed: {e}");
    }
}

/// The last account and its refresh token, if both are still there.
pub fn load(dir: &Path) -> Option<(Last, String)> {
    let last: Last = serde_json::from_slice(&std::fs::read(last_file(dir)).ok()?).ok()?;
    let refresh = entry(&last.platform, last.account.id)
        .ok()?
        .get_password()
        .ok()?;
    Some((last, refresh))
}

/// Forgets the account: its keyring entry and the last-account note.
pub fn forget(dir: &Path, platform: &str, account: i64) {
    if let Ok(e) = entry(platform, account) {
        let _ = e.delete_credential();
    }
    let _ = std::fs::remove_file(last_file(dir));
}
