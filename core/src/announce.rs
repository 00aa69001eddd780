//! Which job changes deserve a system notification, per role. The app shell shows what this
//! returns; the rules live here so they are tested without a window.
//!
//! Only changes a person acts on or waits for: an owner hears that a master is assigned, on
//! the way, there and done; a desk hears about orders no one could take and cancellations; a
//! technician hears about jobs given by hand and jobs cancelled under them. Orders seen for the
//! first time are silent (a fresh sync is not news), except a job given to a technician.

use pitstop_api::{Order, OrderStatus, Role, services};

/// A one-line notification for `order` moving from `before` (as last seen on this device) to
/// its current status, or `None` when it is not worth interrupting for.
pub fn job_change(role: Role, before: Option<OrderStatus>, order: &Order) -> Option<String> {
    if before == Some(order.status) {
        return None;
    }
    let service = services::find(&order.service).map_or_else(|| order.service.clone(), |s| s.name);
    let plate = &order.vehicle.plate;
    use OrderStatus::*;
    match (role, order.status) {
        (Role::Technician, Assigned)
            if !matches!(before, Some(Assigned)) && before != Some(Offered) =>
        {
            Some(format!("New job for you: {service} on {plate}"))
        }
        (Role::Technician, Cancelled) if before.is_some() => {
            Some(format!("Job cancelled: {service} on {plate}"))
        }
        (Role::Owner, _) if before.is_none() => None,
        (Role::Owner, Assigned) => Some(format!("A master accepted your {service}")),
        (Role::Owner, EnRoute) => Some(format!("Your master is on the way for {service}")),
        (Role::Owner, Arrived) => Some(format!("Your master has arrived ({plate})")),
        (Role::Owner, Completed) => Some(format!("{service} is done. How did it go?")),
        (Role::Owner, Unassigned) => Some(format!(
            "No master is free for {service} yet; we keep looking"
        )),
        (Role::Desk | Role::Admin, Unassigned) if before.is_some() => Some(format!(
            "Needs a technician: {service} on {plate} ({})",
            order
                .unassigned_reason
                .as_deref()
                .unwrap_or("no one accepted")
        )),
        (Role::Desk | Role::Admin, Cancelled) if before.is_some() => {
            Some(format!("Cancelled: {service} on {plate}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::{provisional_order, sample_booking};

    fn at(status: OrderStatus) -> Order {
        let mut o = provisional_order(-1, &sample_booking(), 1, 0);
        o.status = status;
        o
    }

    #[test]
    fn owner_hears_each_step_once_and_not_on_first_sight() {
        use OrderStatus::*;
        assert_eq!(job_change(Role::Owner, None, &at(EnRoute)), None);
        let mut heard = vec![];
        let mut before = Some(Offered);
        for s in [Assigned, EnRoute, EnRoute, Arrived, InProgress, Completed] {
            if let Some(t) = job_change(Role::Owner, before, &at(s)) {
                heard.push(t);
            }
            before = Some(s);
        }
        assert_eq!(heard.len(), 4, "{heard:?}");
        assert!(heard[1].contains("on the way"));
        assert!(heard[3].contains("done"));
    }

    #[test]
    fn technician_hears_hand_assignments_and_cancellations_only() {
        use OrderStatus::*;
        assert!(job_change(Role::Technician, None, &at(Assigned)).is_some());
        assert!(job_change(Role::Technician, Some(Unassigned), &at(Assigned)).is_some());
        // Won by accepting an offer: the person just tapped Accept, no need to tell them.
        assert_eq!(
            job_change(Role::Technician, Some(Offered), &at(Assigned)),
            None
        );
        assert_eq!(
            job_change(Role::Technician, Some(Assigned), &at(EnRoute)),
            None
        );
        assert!(job_change(Role::Technician, Some(EnRoute), &at(Cancelled)).is_some());
    }

    #[test]
    fn a_technicians_jobs_are_theirs_and_live_or_finished() {
        use OrderStatus::*;
        let mut o = at(EnRoute);
        o.technician_id = Some(7);
        assert!(o.is_active_job_of(7) && !o.is_past_job_of(7));
        assert!(!o.is_active_job_of(8), "someone else's job");
        o.status = Completed;
        assert!(o.is_past_job_of(7) && !o.is_active_job_of(7));
        o.status = Offered;
        assert!(!o.is_past_job_of(7) && !o.is_active_job_of(7));
    }

    #[test]
    fn desk_hears_orders_that_need_a_hand() {
        use OrderStatus::*;
        let mut o = at(Unassigned);
        o.unassigned_reason = Some("no technician with the skill is on shift".into());
        let t = job_change(Role::Desk, Some(Offered), &o).unwrap();
        assert!(t.contains("no technician with the skill"), "{t}");
        assert_eq!(job_change(Role::Desk, None, &o), None);
        assert_eq!(job_change(Role::Desk, Some(Assigned), &at(EnRoute)), None);
    }
}
