//! The SSE stream: live offers, resume with `Last-Event-ID`, and agreement with sync pull.

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn offer_arrives_live_and_resume_replays_exactly_the_missed_events() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("o").await;
    let mut tech_events = tech.events(None).await;
    let mut owner_events = owner.events(None).await;

    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let ev = tech_events.next(WAIT).await.expect("offer event");
    assert_eq!(ev.event, "offer");
    assert_eq!(ev.id, Some(ev.change.cursor));
    let ChangeBody::Offer(offer) = ev.change.body else {
        panic!("expected an offer")
    };
    assert_eq!(offer.order_id, order.id);

    // The owner saw the booking and the offered status (the order and its timeline lines),
    // never the offer itself.
    let mut owner_seen = Vec::new();
    while let Some(e) = owner_events.next(Duration::from_millis(300)).await {
        owner_seen.push(e);
    }
    assert!(
        owner_seen
            .iter()
            .all(|e| e.event == "order" || e.event == "line")
    );
    assert!(owner_seen.iter().any(|e| e.event == "order"));
    let last_seen = owner_seen.last().unwrap().change.cursor;
    drop(owner_events);

    // While the owner is disconnected: accept, en route, a fix.
    let _: Order = tech
        .post(&format!("/v1/offers/{}/accept", offer.id), &json!({}))
        .await
        .unwrap();
    assert!(
        tech.step(order.id, OrderStatus::EnRoute)
            .await
            .status
            .is_success()
    );
    let _: LocationAck = tech
        .post(
            "/v1/locations",
            &LocationBatch {
                device_id: "d".into(),
                fixes: vec![Fix {
                    seq: 1,
                    t: pitstop_tests::now_ms(),
                    lat: 52.49,
                    lon: 13.4,
                    accuracy_m: 4.0,
                    speed_mps: None,
                    heading_deg: None,
                }],
            },
        )
        .await
        .unwrap();

    let mut resumed = owner.events(Some(last_seen)).await;
    let mut got = Vec::new();
    while let Some(e) = resumed.next(Duration::from_millis(500)).await {
        got.push(e);
    }
    let kinds: Vec<&str> = got.iter().map(|e| e.event.as_str()).collect();
    // Two order changes happened while away, but the log keeps only the newest of each
    // entity: one order head, the job-sheet lines, the position last.
    assert_eq!(
        kinds.iter().filter(|k| **k == "order").count(),
        1,
        "superseded snapshots are compacted away: {kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"location"), "{kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|k| ["order", "line", "location"].contains(k))
    );
    let (pulled, _) = owner.pull_all(last_seen, 100).await;
    assert_eq!(
        got.iter().map(|e| e.change.clone()).collect::<Vec<_>>(),
        pulled,
        "stream and pull must carry the same changes under the same cursors"
    );
    let ChangeBody::Location(fix) = &got.last().unwrap().change.body else {
        panic!()
    };
    assert_eq!(fix.order_id, Some(order.id));
}

#[tokio::test]
async fn stream_without_cursor_starts_live_and_bad_last_event_id_is_refused() {
    let p = TestPlatform::start().await;
    let (owner, car) = p.owner_with_car("o").await;
    let _: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let mut live = owner.events(None).await;
    assert!(
        live.next(Duration::from_millis(300)).await.is_none(),
        "old changes replayed without a cursor"
    );
    let o: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    // The booking's "pending" line comes first, then the order.
    let mut e = live.next(WAIT).await.unwrap();
    while e.event == "line" {
        e = live.next(WAIT).await.unwrap();
    }
    let ChangeBody::Order(got) = e.change.body else {
        panic!()
    };
    assert_eq!(got.id, o.id);
    let r = owner
        .http
        .get(format!("{}/v1/events", owner.base))
        .bearer_auth(owner.token.as_ref().unwrap())
        .header("Last-Event-ID", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
