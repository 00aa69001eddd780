//! Sync push (exactly once, replay returns the first answer) and cursor pull (paginated,
//! no gaps, no duplicates).

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};
use serde_json::json;

fn change_count(p: &TestPlatform) -> i64 {
    p.platform
        .read(|c| Ok(c.query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?))
        .unwrap()
}

#[tokio::test]
async fn replayed_push_changes_nothing_and_returns_the_first_result() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let offer = tech.wait_offer(order.id).await;

    let batch = PushRequest {
        mutations: vec![
            Mutation {
                id: Uuid::new_v4(),
                at: None,
                op: MutationOp::OfferAccept { offer_id: offer.id },
            },
            Mutation {
                id: Uuid::new_v4(),
                at: None,
                op: MutationOp::OrderStatus {
                    order_id: order.id,
                    status: OrderStatus::EnRoute,
                    note: None,
                },
            },
            Mutation {
                id: Uuid::new_v4(),
                at: None,
                op: MutationOp::OrderNote {
                    order_id: order.id,
                    text: "Gate code 1234".into(),
                },
            },
            // Illegal: skips arrived.
            Mutation {
                id: Uuid::new_v4(),
                at: None,
                op: MutationOp::OrderStatus {
                    order_id: order.id,
                    status: OrderStatus::InProgress,
                    note: None,
                },
            },
        ],
    };
    let first: PushResponse = tech.post("/v1/sync", &batch).await.unwrap();
    let outcomes: Vec<Outcome> = first.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Applied,
            Outcome::Applied,
            Outcome::Applied,
            Outcome::Rejected
        ]
    );
    assert_eq!(first.results[3].code, 409);
    assert!(
        first.results[3]
            .reason
            .as_deref()
            .unwrap()
            .contains("arrived")
    );
    // The answer carries the order's head and the note as its own line, not the job sheet.
    let head = first.results[2].order.as_ref().unwrap();
    assert_eq!(
        (head.job_notes.len(), head.line_counts.notes),
        (0, 1),
        "snapshots count lines instead of carrying them"
    );
    assert_eq!(first.results[2].lines.len(), 1);
    assert_eq!(
        first.results[2].lines[0].mutation_id,
        Some(batch.mutations[2].id)
    );

    let changes_before = change_count(&p);
    let order_before = owner.order(order.id).await;
    for _ in 0..3 {
        let again: PushResponse = tech.post("/v1/sync", &batch).await.unwrap();
        assert_eq!(
            again, first,
            "a replay must answer exactly what the first push answered"
        );
    }
    assert_eq!(
        change_count(&p),
        changes_before,
        "a replay wrote to the change log"
    );
    let order_after = owner.order(order.id).await;
    assert_eq!(order_after, order_before);
    assert_eq!(order_after.job_notes.len(), 1, "the note was applied twice");

    // The same id with a different body is refused, not silently mapped to the old result.
    let reuse = PushRequest {
        mutations: vec![Mutation {
            id: batch.mutations[2].id,
            at: None,
            op: MutationOp::OrderNote {
                order_id: order.id,
                text: "other".into(),
            },
        }],
    };
    let r: PushResponse = tech.post("/v1/sync", &reuse).await.unwrap();
    assert_eq!(r.results[0].outcome, Outcome::Rejected);
    assert_eq!(r.results[0].code, 422);
}

#[tokio::test]
async fn concurrent_replays_of_one_mutation_apply_it_once() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("o").await;
    tech.win(order.id).await;
    let m = PushRequest {
        mutations: vec![Mutation {
            id: Uuid::new_v4(),
            at: None,
            op: MutationOp::OrderPart {
                order_id: order.id,
                name: "Filter".into(),
                qty: 1,
                unit_price_cents: 900,
            },
        }],
    };
    let mut hs = Vec::new();
    for _ in 0..8 {
        let (t, m) = (tech.clone(), m.clone());
        hs.push(tokio::spawn(async move {
            t.post::<PushResponse>("/v1/sync", &m).await.unwrap()
        }));
    }
    let mut answers = Vec::new();
    for h in hs {
        answers.push(h.await.unwrap());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(owner.order(order.id).await.parts.len(), 1);
}

#[tokio::test]
async fn pull_pages_through_every_change_once_in_order() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("o").await;
    for _ in 0..7 {
        let o: Order = owner
            .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
            .await
            .unwrap();
        let _: Order = owner
            .post(
                &format!("/v1/orders/{}/status", o.id),
                &json!({"status": "cancelled"}),
            )
            .await
            .unwrap();
    }
    let (all_at_once, head) = owner.pull_all(0, 1000).await;
    let (paged, head2) = owner.pull_all(0, 3).await;
    assert_eq!(head, head2);
    assert!(all_at_once.len() >= 21, "{}", all_at_once.len());
    let cursors: Vec<i64> = paged.iter().map(|c| c.cursor).collect();
    assert_eq!(
        cursors,
        all_at_once.iter().map(|c| c.cursor).collect::<Vec<_>>()
    );
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors must increase"
    );
    // The owner sees only their orders and those orders' lines; offers went to the
    // technician.
    let mine: Vec<Id> = paged
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Order(o) if o.owner_id == Some(owner.id()) => Some(o.id),
            _ => None,
        })
        .collect();
    assert!(paged.iter().all(|c| match &c.body {
        ChangeBody::Order(o) => o.owner_id == Some(owner.id()),
        ChangeBody::Line(l) => mine.contains(&l.order_id),
        _ => false,
    }));
    let (tech_changes, _) = tech.pull_all(0, 1000).await;
    assert!(
        tech_changes
            .iter()
            .any(|c| matches!(c.body, ChangeBody::Offer(_)))
    );
    // Nothing new after the head; resuming mid-way gives exactly the rest.
    let (none, same) = owner.pull_all(head, 10).await;
    assert!(none.is_empty());
    assert_eq!(same, head);
    let mid = cursors[cursors.len() / 2];
    let (rest, _) = owner.pull_all(mid, 4).await;
    assert_eq!(
        rest.iter().map(|c| c.cursor).collect::<Vec<_>>(),
        cursors
            .iter()
            .copied()
            .filter(|c| *c > mid)
            .collect::<Vec<_>>()
    );
    // Bad cursors are refused.
    owner
        .send(reqwest::Method::GET, "/v1/sync?cursor=-1", None)
        .await
        .problem(400);
    owner
        .send(reqwest::Method::GET, "/v1/sync?cursor=abc", None)
        .await
        .problem(400);
}

#[tokio::test]
async fn steps_done_offline_keep_their_tap_time_within_bounds() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("late", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("late-owner").await;
    tech.win(order.id).await;
    // The job was accepted ten minutes ago.
    p.platform
        .maintain(|c| {
            c.execute(
                "UPDATE order_timeline SET at = at - 600000 WHERE order_id = ?1",
                [order.id],
            )?;
            Ok(())
        })
        .unwrap();
    let now = pitstop_tests::now_ms();
    let step = |status, at| Mutation {
        id: Uuid::new_v4(),
        at: Some(at),
        op: MutationOp::OrderStatus {
            order_id: order.id,
            status,
            note: None,
        },
    };
    let push = PushRequest {
        mutations: vec![
            // Tapped five minutes ago, sent now.
            step(OrderStatus::EnRoute, now - 300_000),
            // Claims to be before the step it follows: it cannot be.
            step(OrderStatus::Arrived, now - 360_000),
            // Claims to be in the future: it cannot be either.
            step(OrderStatus::InProgress, now + 3_600_000),
        ],
    };
    let r: PushResponse = tech.post("/v1/sync", &push).await.unwrap();
    assert!(
        r.results.iter().all(|v| v.outcome == Outcome::Applied),
        "{r:?}"
    );
    let o = owner.order(order.id).await;
    let at = |s| o.timeline.iter().find(|t| t.status == s).unwrap();
    let (en_route, arrived, working) = (
        at(OrderStatus::EnRoute),
        at(OrderStatus::Arrived),
        at(OrderStatus::InProgress),
    );
    assert_eq!(en_route.at, now - 300_000);
    assert!(en_route.sent_at.is_some_and(|s| s >= now), "{en_route:?}");
    assert_eq!(arrived.at, en_route.at, "not before the step it follows");
    assert!(arrived.sent_at.is_some());
    assert!(
        (now..now + 10_000).contains(&working.at),
        "not in the future: {working:?}"
    );
    assert_eq!(working.sent_at, None);
}
