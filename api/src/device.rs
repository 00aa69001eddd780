//! What a device shows about its own state: the offer inbox with local answers and the sync
//! badge. Computed by `pitstop-core` from its cache; shared here so the UI (wasm) reads the
//! same types the app shell serializes.

use serde::{Deserialize, Serialize};

use crate::{Millis, MutationOp, Offer, Uuid};

/// A local action whose platform answer is known or awaited, for the sync badge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub id: Uuid,
    pub op: MutationOp,
    pub created_at: Millis,
    pub attempts: i64,
    /// `pending`, `applied`, `rejected` or `dismissed`.
    pub state: String,
    pub code: Option<u16>,
    /// The platform's sentence for a rejection.
    pub reason: Option<String>,
}

/// What this device has answered to an offer, before the platform confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAnswer {
    /// Accept queued (maybe offline); won, lost or expired is decided by the platform.
    Accepting,
    /// Decline queued.
    Declining,
    /// The platform refused the accept; `reason` on the outbox entry says why.
    Refused,
}

/// An offer as the inbox shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferView {
    pub offer: Offer,
    /// Milliseconds until the offer expires (negative once expired), by this device's clock.
    pub time_left_ms: i64,
    pub local: Option<LocalAnswer>,
    /// Why an accept was refused, when `local` is `Refused`.
    pub reason: Option<String>,
}

impl OfferView {
    /// An offer as seen at `now`, with no local answer yet.
    pub fn at(offer: Offer, now: Millis) -> Self {
        Self {
            time_left_ms: offer.expires_at - now,
            offer,
            local: None,
            reason: None,
        }
    }

    /// One line for a notification: service, distance and time to answer.
    pub fn summary(&self) -> String {
        let service = crate::services::find(&self.offer.service)
            .map_or(self.offer.service.clone(), |s| s.name);
        format!(
            "{service} · {:.1} km away · {} s to answer",
            self.offer.distance_m / 1000.0,
            self.time_left_ms.max(0) / 1000
        )
    }
}

/// What the sync badge shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The last round reached the platform.
    pub online: bool,
    /// Local actions not yet answered.
    pub pending: i64,
    /// When a round last completed.
    pub last_sync: Option<Millis>,
    /// Why the last round failed, if it did.
    pub last_error: Option<String>,
    /// Actions the platform refused, with its reasons.
    pub failed: Vec<OutboxEntry>,
    /// GPS fixes waiting for upload.
    pub unsent_fixes: usize,
    /// When the oldest action still waiting for the platform was taken: a queue that does
    /// not move shows here, not only as a count.
    #[serde(default)]
    pub oldest_pending_at: Option<Millis>,
}
