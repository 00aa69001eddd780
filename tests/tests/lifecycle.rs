//! The whole order life cycle over HTTP: book, offer, accept, every job step, notes, parts,
//! tracking with ETA, and the illegal steps in between.

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};
use serde_json::json;

#[tokio::test]
async fn order_goes_from_booking_to_completed() {
    let p = TestPlatform::start().await;
    let tech = p
        .technician_at("tina", &["oil", "brakes"], 52.50, 13.40)
        .await;
    let (owner, car) = p.owner_with_car("otto").await;

    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.51, 13.41))
        .await
        .unwrap();
    assert_eq!(
        order.status,
        OrderStatus::Offered,
        "dispatch starts at booking"
    );
    assert_eq!(
        order.price_cents,
        services::find("oil_change").unwrap().price_cents
    );

    let offer = tech.wait_offer(order.id).await;
    assert_eq!(offer.status, OfferStatus::Pending);
    assert!(offer.expires_at > offer.created_at);
    assert!(
        offer.distance_m > 1000.0 && offer.distance_m < 2000.0,
        "{}",
        offer.distance_m
    );

    // Skipping a step is refused with a sentence and changes nothing.
    // Before accepting, the job cannot move: the order has no technician yet.
    let r = tech.step(order.id, OrderStatus::EnRoute).await;
    assert!(r.problem(409).contains("no technician yet"));

    let won: Order = tech
        .post(&format!("/v1/offers/{}/accept", offer.id), &json!({}))
        .await
        .unwrap();
    assert_eq!(won.status, OrderStatus::Assigned);
    assert_eq!(won.technician_id, Some(tech.id()));

    let r = tech.step(order.id, OrderStatus::Arrived).await;
    let why = r.problem(409);
    assert!(why.contains("en route"), "{why}");
    assert_eq!(owner.order(order.id).await.status, OrderStatus::Assigned);

    // Tracking: a fix 1 km away gives a distance and an ETA.
    let ack: LocationAck = tech
        .post(
            "/v1/locations",
            &LocationBatch {
                device_id: "phone-1".into(),
                fixes: vec![Fix {
                    seq: 1,
                    t: pitstop_tests::now_ms(),
                    lat: 52.501,
                    lon: 13.41,
                    accuracy_m: 5.0,
                    speed_mps: Some(9.0),
                    heading_deg: Some(10.0),
                }],
            },
        )
        .await
        .unwrap();
    assert_eq!(ack.accepted, 1);
    let tr: Tracking = owner
        .get(&format!("/v1/orders/{}/tracking", order.id))
        .await
        .unwrap();
    let d = tr.distance_m.unwrap();
    assert!((d - geo::haversine_m(52.501, 13.41, 52.51, 13.41)).abs() < 1.0);
    assert_eq!(tr.eta_s, Some(geo::eta_seconds(d)));
    assert_eq!(tr.technician_name.as_deref(), Some("tina"));

    for s in [
        OrderStatus::EnRoute,
        OrderStatus::Arrived,
        OrderStatus::InProgress,
    ] {
        let r = tech.step(order.id, s).await;
        assert!(r.status.is_success(), "{s:?}: {}", r.body);
    }
    // A note answers the new line; the order then carries it.
    let line: JobLine = tech
        .post(
            &format!("/v1/orders/{}/notes", order.id),
            &NewNote {
                text: "Filter was clogged".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(line.order_id, order.id);
    assert!(matches!(line.body, LineBody::Note { ref text } if text == "Filter was clogged"));
    assert_eq!(tech.order(order.id).await.job_notes.len(), 1);
    let _: JobLine = tech
        .post(
            &format!("/v1/orders/{}/parts", order.id),
            &NewPart {
                name: "Oil filter".into(),
                qty: 1,
                unit_price_cents: 1299,
            },
        )
        .await
        .unwrap();
    let o = tech.order(order.id).await;
    assert_eq!(o.parts[0].unit_price_cents, 1299);
    // The owner cannot move the job.
    owner
        .step(order.id, OrderStatus::Completed)
        .await
        .problem(403);
    // Work has started: cancelling is refused.
    assert!(
        owner
            .step(order.id, OrderStatus::Cancelled)
            .await
            .problem(409)
            .contains("finish")
    );

    let r = tech.step(order.id, OrderStatus::Completed).await;
    assert!(r.status.is_success());
    let done = owner.order(order.id).await;
    assert_eq!(done.status, OrderStatus::Completed);
    let steps: Vec<OrderStatus> = done.timeline.iter().map(|t| t.status).collect();
    assert_eq!(
        steps,
        [
            OrderStatus::Pending,
            OrderStatus::Offered,
            OrderStatus::Assigned,
            OrderStatus::EnRoute,
            OrderStatus::Arrived,
            OrderStatus::InProgress,
            OrderStatus::Completed
        ]
    );
    // Terminal: nothing moves any more, and the position is no longer shared.
    tech.step(order.id, OrderStatus::Cancelled)
        .await
        .problem(409);
    let tr: Tracking = owner
        .get(&format!("/v1/orders/{}/tracking", order.id))
        .await
        .unwrap();
    assert!(tr.fix.is_none() && tr.eta_s.is_none());
    assert!(done.version > order.version);
}

#[tokio::test]
async fn desk_books_walk_in_for_its_own_technicians_and_can_assign_by_hand() {
    let p = TestPlatform::start().await;
    let ws = p.workshop("North").await;
    let other_ws = p.workshop("South").await;
    let desk = p.login("desk-n", Role::Desk, Some(ws)).await;
    let mine = p.login("mia", Role::Technician, Some(ws)).await;
    mine.setup_technician(&["tyres"], 52.52, 13.40).await;
    let theirs = p.login("sam", Role::Technician, Some(other_ws)).await;
    theirs.setup_technician(&["tyres"], 52.52, 13.40).await;

    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    assert_eq!(v.workshop_id, Some(ws));
    let order: Order = desk
        .post("/v1/orders", &new_order(v.id, "tyre_swap", 52.52, 13.40))
        .await
        .unwrap();
    assert_eq!(order.workshop_id, Some(ws));
    let offer = mine.wait_offer(order.id).await;
    assert!(
        theirs.offers().await.is_empty(),
        "another workshop's technician got a walk-in"
    );
    // The desk sees its technicians on the map, not the other workshop's.
    let techs: Vec<Technician> = desk.get("/v1/technicians").await.unwrap();
    assert_eq!(
        techs.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![mine.id()]
    );

    // Assign by hand: the pending offer is withdrawn.
    let o: Order = desk
        .post(
            &format!("/v1/orders/{}/dispatch", order.id),
            &json!({"technician_id": mine.id()}),
        )
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Assigned);
    let r = mine
        .post_raw(&format!("/v1/offers/{}/accept", offer.id), json!({}))
        .await;
    assert!(r.problem(409).contains("withdrawn"));
    // A technician from another workshop cannot be assigned.
    let order2: Order = desk
        .post("/v1/orders", &new_order(v.id, "tyre_swap", 52.52, 13.40))
        .await
        .unwrap();
    let r = desk
        .post_raw(
            &format!("/v1/orders/{}/dispatch", order2.id),
            json!({"technician_id": theirs.id()}),
        )
        .await;
    let theirs_said = r.problem(404).replace(&theirs.id().to_string(), "N");
    // ...with the same sentence as one that does not exist: nothing about who works
    // elsewhere leaks.
    let r = desk
        .post_raw(
            &format!("/v1/orders/{}/dispatch", order2.id),
            json!({"technician_id": 987_654}),
        )
        .await;
    assert_eq!(r.problem(404).replace("987654", "N"), theirs_said);
}
