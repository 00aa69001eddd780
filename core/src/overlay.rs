//! Optimistic view: the platform's last snapshot of an order with the still-pending local
//! actions applied on top, in order. A rejected action simply stops being applied, which is
//! how a rejection rolls the optimistic change back.

use pitstop_api::{
    Id, JobLine, JobNote, LineBody, LineCounts, Millis, MutationOp, NewOrder, Order, OrderStatus,
    PartLine, TimelineEntry, VehicleSummary,
};

/// One pending local action, as the overlay needs it.
#[derive(Debug, Clone)]
pub struct PendingAction {
    /// Outbox sequence number; negative ids of local-only rows derive from it.
    pub seq: i64,
    pub op: MutationOp,
    pub at: Millis,
}

/// The order a booking made offline looks like until the platform answers.
pub fn provisional_order(id: Id, req: &NewOrder, me: Id, at: Millis) -> Order {
    let price = pitstop_api::services::find(&req.service).map_or(0, |s| s.price_cents);
    Order {
        id,
        owner_id: Some(me),
        customer_name: None,
        customer_contact: false,
        workshop_id: None,
        vehicle_id: req.vehicle_id,
        vehicle: VehicleSummary {
            vin: String::new(),
            plate: String::new(),
            make: String::new(),
            model: String::new(),
        },
        service: req.service.clone(),
        lat: req.lat,
        lon: req.lon,
        address: req.address.clone(),
        place_note: req.place_note.clone(),
        window_start: req.window_start,
        window_end: req.window_end,
        price_cents: price,
        currency: pitstop_api::DEFAULT_CURRENCY.to_string(),
        notes: req.notes.clone(),
        status: OrderStatus::Pending,
        technician_id: None,
        technician_name: None,
        technician_vehicle: None,
        unassigned_reason: None,
        job_notes: Vec::new(),
        parts: Vec::new(),
        line_counts: LineCounts::default(),
        timeline: vec![TimelineEntry {
            at,
            status: OrderStatus::Pending,
            actor_id: Some(me),
            note: Some("Booked on this device; waiting for the platform".into()),
            sent_at: None,
        }],
        created_at: at,
        updated_at: at,
        version: 0,
    }
}

/// The job an offer becomes once this device accepted it, until the platform answers: the
/// technician can set off (and queue steps) without a signal.
pub fn provisional_job(offer: &pitstop_api::Offer, me: Id, at: Millis) -> Order {
    let req = NewOrder {
        vehicle_id: 0,
        service: offer.service.clone(),
        lat: offer.lat,
        lon: offer.lon,
        // The offer's area until the platform sends the job's exact place.
        address: offer.area.clone(),
        place_note: String::new(),
        window_start: offer.created_at,
        window_end: offer.expires_at,
        notes: String::new(),
        customer_name: None,
        customer_phone: None,
    };
    let mut o = provisional_order(offer.order_id, &req, me, at);
    o.owner_id = None;
    o.price_cents = offer.price_cents;
    o.currency = offer.currency.clone();
    o.status = OrderStatus::Assigned;
    o.technician_id = Some(me);
    o.timeline = vec![TimelineEntry {
        at,
        status: OrderStatus::Assigned,
        actor_id: Some(me),
        note: Some("Accepted on this device; waiting for the platform".into()),
        sent_at: None,
    }];
    o
}

/// Applies `pending` (in order) to `base` as the user's device sees it. Actions that no
/// longer fit (the order moved on at the server) are skipped here; the platform will reject
/// them and the outbox shows why.
pub fn apply(mut order: Order, pending: &[PendingAction], me: Id) -> Order {
    for a in pending {
        match &a.op {
            MutationOp::OrderStatus { status, note, .. } => {
                if order.status.check_step(*status).is_ok() {
                    order.status = *status;
                    order.timeline.push(TimelineEntry {
                        at: a.at,
                        status: *status,
                        actor_id: Some(me),
                        note: note.clone(),
                        sent_at: None,
                    });
                    order.updated_at = order.updated_at.max(a.at);
                }
            }
            MutationOp::OrderNote { text, .. } => order.job_notes.push(JobNote {
                id: -a.seq,
                author_id: me,
                text: text.clone(),
                at: a.at,
            }),
            MutationOp::OrderPart {
                name,
                qty,
                unit_price_cents,
                ..
            } => order.parts.push(PartLine {
                id: -a.seq,
                name: name.clone(),
                qty: *qty,
                unit_price_cents: *unit_price_cents,
            }),
            MutationOp::OrderCreate(_)
            | MutationOp::OfferAccept { .. }
            | MutationOp::OfferDecline { .. }
            | MutationOp::Shift(_) => {}
        }
    }
    order
}

/// Takes the job sheet out of an order that carries one (a REST answer, or a snapshot from
/// a version 1 cache or platform) as lines, leaving the head. Timeline entries of those
/// shapes have no id: they get negative ids from the order id, and the platform's real step
/// lines replace them when they arrive ([`is_legacy_step`]).
pub fn split_lines(order: &mut Order) -> Vec<JobLine> {
    let id = order.id;
    let mut out = Vec::new();
    for n in order.job_notes.drain(..) {
        out.push(JobLine {
            id: n.id,
            order_id: id,
            at: n.at,
            author_id: Some(n.author_id),
            mutation_id: None,
            version: 1,
            sent_at: None,
            body: LineBody::Note { text: n.text },
        });
    }
    for p in order.parts.drain(..) {
        out.push(JobLine {
            id: p.id,
            order_id: id,
            at: order.updated_at,
            author_id: None,
            mutation_id: None,
            version: 1,
            sent_at: None,
            body: LineBody::Part {
                name: p.name,
                qty: p.qty,
                unit_price_cents: p.unit_price_cents,
            },
        });
    }
    for (i, t) in order.timeline.drain(..).enumerate() {
        out.push(JobLine {
            id: -(id.abs() * 1000 + i as Id + 1),
            order_id: id,
            at: t.at,
            author_id: t.actor_id,
            mutation_id: None,
            version: 1,
            sent_at: t.sent_at,
            body: LineBody::Step {
                status: t.status,
                note: t.note,
            },
        });
    }
    out
}

/// A step line made by [`split_lines`], to be replaced by the platform's own.
pub fn is_legacy_step(line: &JobLine) -> bool {
    line.id < 0 && matches!(line.body, LineBody::Step { .. })
}

/// The order an action touches, if any.
pub fn order_of(op: &MutationOp) -> Option<Id> {
    match op {
        MutationOp::OrderStatus { order_id, .. }
        | MutationOp::OrderNote { order_id, .. }
        | MutationOp::OrderPart { order_id, .. } => Some(*order_id),
        _ => None,
    }
}

/// Points an action at a new order id (a provisional id replaced by the platform's).
pub fn retarget(op: &mut MutationOp, from: Id, to: Id) {
    match op {
        MutationOp::OrderStatus { order_id, .. }
        | MutationOp::OrderNote { order_id, .. }
        | MutationOp::OrderPart { order_id, .. }
            if *order_id == from =>
        {
            *order_id = to;
        }
        _ => {}
    }
}

/// An oil change at (0, 0), for tests of this crate.
#[cfg(test)]
pub(crate) fn sample_booking() -> NewOrder {
    NewOrder {
        vehicle_id: 1,
        service: "oil_change".into(),
        lat: 0.0,
        lon: 0.0,
        address: String::new(),
        place_note: String::new(),
        window_start: 0,
        window_end: 1,
        notes: String::new(),
        customer_name: None,
        customer_phone: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: OrderStatus) -> Order {
        let mut o = provisional_order(1, &sample_booking(), 9, 0);
        o.status = status;
        o
    }

    fn step(seq: i64, status: OrderStatus) -> PendingAction {
        PendingAction {
            seq,
            op: MutationOp::OrderStatus {
                order_id: 1,
                status,
                note: None,
            },
            at: seq,
        }
    }

    #[test]
    fn pending_steps_apply_in_order_and_illegal_ones_are_skipped() {
        let out = apply(
            order(OrderStatus::Assigned),
            &[
                step(1, OrderStatus::EnRoute),
                step(2, OrderStatus::InProgress), // skips arrived: not applied
                step(3, OrderStatus::Arrived),
            ],
            9,
        );
        assert_eq!(out.status, OrderStatus::Arrived);
        assert_eq!(out.timeline.len(), 3);
    }

    #[test]
    fn notes_and_parts_get_negative_ids() {
        let a = PendingAction {
            seq: 5,
            op: MutationOp::OrderNote {
                order_id: 1,
                text: "x".into(),
            },
            at: 5,
        };
        let out = apply(order(OrderStatus::InProgress), &[a], 9);
        assert_eq!(out.job_notes[0].id, -5);
    }

    #[test]
    fn retarget_moves_only_matching_ids() {
        let mut op = MutationOp::OrderNote {
            order_id: -3,
            text: "x".into(),
        };
        retarget(&mut op, -3, 42);
        assert_eq!(order_of(&op), Some(42));
        retarget(&mut op, -3, 7);
        assert_eq!(order_of(&op), Some(42));
    }
}
