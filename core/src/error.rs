//! The core's error type. Every message tells the person what happened and what to do; the
//! sync worker uses [`Error::is_retryable`] to decide between backing off and giving up.

use std::time::Duration;

/// Anything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cache file was written by a newer app.
    #[error(
        "the local cache has schema version {found}, newer than this app understands ({known}); update the app"
    )]
    TooNew { found: i64, known: usize },
    /// The device's storage is full; the action was not saved.
    #[error("the device storage is full, so this was not saved; free some space and try again")]
    StorageFull,
    /// SQLite failed for another reason.
    #[error("local database error: {0}")]
    Database(rusqlite::Error),
    /// The cache schema could not be brought up to date.
    #[error("upgrading the local cache failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The action is not possible right now (checked on the device, nothing was queued).
    #[error("{0}")]
    Refused(String),
    /// The platform could not be reached (no signal, connection reset, timeout). The
    /// transport's own words stay in the field (logs, `{:?}`), not in the sentence people see.
    #[error(
        "cannot reach the platform; your changes are kept and will be sent when the connection is back"
    )]
    Offline(String),
    /// The platform had trouble (5xx) or asked to slow down (429).
    #[error("the platform is having trouble (HTTP {status}); retrying{}", retry_after.map(|d| format!(" in {} s", d.as_secs())).unwrap_or_default())]
    Server {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The platform refused the whole request (expired sign-in, for example). Shown as the
    /// platform's own sentence, which says what was wrong and what to do; the status stays
    /// in the field for code and logs.
    #[error("{detail}")]
    Rejected { status: u16, detail: String },
    /// The platform's answer could not be understood (truncated, wrong shape, too large).
    #[error(
        "the platform sent an answer this app cannot read ({0}); nothing was lost, retrying later"
    )]
    BadAnswer(String),
}

impl Error {
    /// Worth trying again later with the same data.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Offline(_) | Error::Server { .. } | Error::BadAnswer(_)
        )
    }

    /// How long the platform asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && f.code == rusqlite::ErrorCode::DiskFull
        {
            return Error::StorageFull;
        }
        Error::Database(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::BadAnswer(e.to_string())
    }
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;
