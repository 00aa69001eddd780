//! The order state machine and offer states, checked by the platform and by core before it
//! queues a step offline (so an illegal tap fails on the phone, not an hour later).

use serde::{Deserialize, Serialize};

/// Where an order is in its life.
///
/// ```text
/// pending ─▶ offered ─▶ assigned ─▶ en_route ─▶ arrived ─▶ in_progress ─▶ completed
///    │          │  ▲        (any state before in_progress) ─▶ cancelled
///    └──────────┴─▶ unassigned ─▶ offered | assigned (dispatch again / by hand)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Offered,
    Assigned,
    EnRoute,
    Arrived,
    InProgress,
    Completed,
    Cancelled,
    Unassigned,
}

/// Every status, in life-cycle order.
pub const ALL_STATUSES: [OrderStatus; 9] = [
    OrderStatus::Pending,
    OrderStatus::Offered,
    OrderStatus::Assigned,
    OrderStatus::EnRoute,
    OrderStatus::Arrived,
    OrderStatus::InProgress,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
    OrderStatus::Unassigned,
];

impl OrderStatus {
    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Offered => "offered",
            OrderStatus::Assigned => "assigned",
            OrderStatus::EnRoute => "en_route",
            OrderStatus::Arrived => "arrived",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Unassigned => "unassigned",
        }
    }

    /// Parses [`OrderStatus::as_str`] output.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        ALL_STATUSES.into_iter().find(|st| st.as_str() == s)
    }

    /// No step leads out of a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }

    /// A technician is working this order (they are not free for another offer).
    pub fn is_active_job(self) -> bool {
        matches!(
            self,
            OrderStatus::Assigned
                | OrderStatus::EnRoute
                | OrderStatus::Arrived
                | OrderStatus::InProgress
        )
    }

    /// The step a technician takes next from here, if any.
    pub fn next_job_step(self) -> Option<OrderStatus> {
        match self {
            OrderStatus::Assigned => Some(OrderStatus::EnRoute),
            OrderStatus::EnRoute => Some(OrderStatus::Arrived),
            OrderStatus::Arrived => Some(OrderStatus::InProgress),
            OrderStatus::InProgress => Some(OrderStatus::Completed),
            _ => None,
        }
    }

    /// Steps a person may ask for through the API (`POST /v1/orders/{id}/status` or a sync
    /// mutation). Dispatch moves (`offered`, `assigned`, `unassigned`) are the server's own.
    ///
    /// Returns a sentence saying why when the step is illegal.
    pub fn check_step(self, next: OrderStatus) -> Result<(), String> {
        use OrderStatus::*;
        if self == next {
            return Err(format!("The order is already {}.", self.label()));
        }
        if self.is_terminal() {
            return Err(format!(
                "The order is {} and cannot change any more.",
                self.label()
            ));
        }
        match next {
            Cancelled if self == InProgress => {
                Err("Work has started; finish the job instead of cancelling it.".into())
            }
            Cancelled => Ok(()),
            EnRoute | Arrived | InProgress | Completed => {
                if self.next_job_step() == Some(next) {
                    Ok(())
                } else {
                    match self.next_job_step() {
                        Some(expected) => Err(format!(
                            "The order is {}; the next step is {}, not {}.",
                            self.label(),
                            expected.label(),
                            next.label()
                        )),
                        None => Err(format!(
                            "The order is {}; it has no technician yet, so it cannot be {}.",
                            self.label(),
                            next.label()
                        )),
                    }
                }
            }
            Pending | Offered | Assigned | Unassigned => Err(format!(
                "Only dispatch can make an order {}; use the dispatch or accept endpoints.",
                next.label()
            )),
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Offered => "offered to a technician",
            OrderStatus::Assigned => "assigned",
            OrderStatus::EnRoute => "en route",
            OrderStatus::Arrived => "arrived",
            OrderStatus::InProgress => "in progress",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Unassigned => "unassigned",
        }
    }
}

/// What became of a dispatch offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// Waiting for the technician's answer until `expires_at`.
    Pending,
    /// The technician won the order.
    Accepted,
    Declined,
    /// Nobody answered in time.
    Expired,
    /// Another technician accepted first.
    Lost,
    /// The order was cancelled or assigned by hand.
    Withdrawn,
}

impl OfferStatus {
    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Pending => "pending",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Lost => "lost",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses [`OfferStatus::as_str`] output.
    pub fn parse(s: &str) -> Option<OfferStatus> {
        [
            OfferStatus::Pending,
            OfferStatus::Accepted,
            OfferStatus::Declined,
            OfferStatus::Expired,
            OfferStatus::Lost,
            OfferStatus::Withdrawn,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn happy_path_is_legal() {
        let path = [Assigned, EnRoute, Arrived, InProgress, Completed];
        for w in path.windows(2) {
            assert_eq!(w[0].check_step(w[1]), Ok(()), "{:?}->{:?}", w[0], w[1]);
        }
    }

    #[test]
    fn skipping_and_going_back_are_illegal() {
        assert!(
            Assigned
                .check_step(Arrived)
                .unwrap_err()
                .contains("en route")
        );
        assert!(InProgress.check_step(EnRoute).is_err());
        assert!(
            Pending
                .check_step(EnRoute)
                .unwrap_err()
                .contains("no technician")
        );
        assert!(Completed.check_step(Cancelled).is_err());
        assert!(InProgress.check_step(Cancelled).is_err());
        assert!(Pending.check_step(Assigned).is_err());
        assert!(EnRoute.check_step(EnRoute).is_err());
    }

    #[test]
    fn cancel_is_legal_before_work_starts() {
        for s in [Pending, Offered, Assigned, EnRoute, Arrived, Unassigned] {
            assert_eq!(s.check_step(Cancelled), Ok(()));
        }
    }

    #[test]
    fn names_round_trip() {
        for s in ALL_STATUSES {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
