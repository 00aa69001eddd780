//! Committed changes in their wire form, on their way to pull pages and live streams. A leaf
//! module: the change log and the transaction type both use it, and it uses neither.

use pitstop_api::Change;

use crate::ApiResult;

/// A committed change on its way to live streams.
#[derive(Debug)]
pub struct LiveChange {
    /// Who may see it.
    pub audiences: Vec<String>,
    /// The change as pull returns it, already serialized (once, for every subscriber).
    pub change: RawChange,
}

/// A change in its wire form: the JSON of a [`Change`], built from the stored body without
/// parsing it again (pull pages and streams are mostly copying).
#[derive(Debug, Clone)]
pub struct RawChange {
    pub cursor: i64,
    /// The SSE event name (`order`, `offer`, ...).
    pub kind: String,
    /// `{"cursor":…,"at":…,"kind":…,"data":…}`.
    pub json: String,
}

impl RawChange {
    /// Splices cursor and time into a stored `ChangeBody` object (`{"kind":…,"data":…}`).
    pub(crate) fn new(cursor: i64, at: i64, kind: String, body: &str) -> Self {
        let rest = body.strip_prefix('{').unwrap_or(body);
        Self {
            cursor,
            kind,
            json: format!("{{\"cursor\":{cursor},\"at\":{at},{rest}"),
        }
    }

    /// Parses the wire form (tests and tools).
    pub fn parse(&self) -> ApiResult<Change> {
        Ok(serde_json::from_str(&self.json)?)
    }
}
