//! The shell's error: what the UI receives when a command fails, serialized as
//! `{ kind, message }` (not a bare string), so the UI can tell "refused" from "offline".

use serde::Serialize;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nobody is signed in yet.
    #[error("sign in first")]
    NotSignedIn,
    /// The core refused or failed.
    #[error(transparent)]
    Core(#[from] pitstop_core::Error),
    /// The position source could not start (permission refused, location off).
    #[error("{0}")]
    Position(String),
    /// Signing in did not work; the sentence says why and what to do.
    #[error("{0}")]
    SignIn(String),
    /// The app's data folder could not be found or made.
    #[error("the app data folder is not usable: {0}")]
    Storage(String),
    /// A request the app will not carry out; the sentence says why.
    #[error("{0}")]
    Invalid(String),
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kind = match self {
            Error::NotSignedIn => "not_signed_in",
            Error::Core(pitstop_core::Error::Refused(_)) => "refused",
            Error::Core(e) if e.is_retryable() => "offline",
            Error::Core(_) => "core",
            Error::Storage(_) => "storage",
            Error::SignIn(_) => "refused",
            Error::Position(_) => "position",
            Error::Invalid(_) => "refused",
        };
        let mut st = s.serialize_struct("Error", 2)?;
        st.serialize_field("kind", kind)?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Shorthand for command results.
pub type Result<T> = std::result::Result<T, Error>;
