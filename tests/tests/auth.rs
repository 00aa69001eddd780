//! Authorization: every read and write is checked against the caller; someone else's
//! resource is 404 (its existence is not leaked), a wrong role is 403.

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn accounts_see_only_their_own_things() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let rival = p.technician_at("rival", &["brakes"], 52.5, 13.4).await;
    let (ann, ann_car) = p.owner_with_car("ann").await;
    let (bob, bob_car) = p.owner_with_car("bob").await;
    let ws = p.workshop("W").await;
    let desk = p.login("desk", Role::Desk, Some(ws)).await;

    let order: Order = ann
        .post("/v1/orders", &new_order(ann_car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let offer = tech.wait_offer(order.id).await;

    // Another owner, a desk of another workshop, an unrelated technician: 404, same sentence
    // shape as a missing id.
    for c in [&bob, &desk, &rival] {
        let d = c
            .send(Method::GET, &format!("/v1/orders/{}", order.id), None)
            .await
            .problem(404);
        let missing = c
            .send(Method::GET, "/v1/orders/999999", None)
            .await
            .problem(404);
        assert_eq!(
            d.replace(&order.id.to_string(), "N"),
            missing.replace("999999", "N")
        );
        c.send(
            Method::GET,
            &format!("/v1/orders/{}/tracking", order.id),
            None,
        )
        .await
        .problem(404);
    }
    // Booking with someone else's car is 404; a technician cannot book.
    bob.post_raw(
        "/v1/orders",
        serde_json::to_value(new_order(ann_car, "oil_change", 52.5, 13.4)).unwrap(),
    )
    .await
    .problem(404);
    tech.post_raw(
        "/v1/orders",
        serde_json::to_value(new_order(bob_car, "oil_change", 52.5, 13.4)).unwrap(),
    )
    .await
    .problem(403);
    // Someone else's offer.
    rival
        .post_raw(&format!("/v1/offers/{}/accept", offer.id), json!({}))
        .await
        .problem(404);
    ann.post_raw(&format!("/v1/offers/{}/accept", offer.id), json!({}))
        .await
        .problem(403);
    // Lists are scoped.
    let bobs: Vec<Order> = bob.get("/v1/orders").await.unwrap();
    assert!(bobs.is_empty());
    let anns: Vec<Order> = ann.get("/v1/orders").await.unwrap();
    assert_eq!(anns.len(), 1);
    let vs: Vec<Vehicle> = bob.get("/v1/vehicles").await.unwrap();
    assert_eq!(vs.iter().map(|v| v.id).collect::<Vec<_>>(), vec![bob_car]);
    // Roles.
    ann.send(Method::GET, "/v1/technicians", None)
        .await
        .problem(403);
    desk.post_raw(
        "/v1/workshops",
        json!({"name": "x", "lat": 1.0, "lon": 1.0}),
    )
    .await
    .problem(403);
    ann.post_raw("/v1/locations", json!({"device_id": "d", "fixes": [{"seq": 1, "t": pitstop_tests::now_ms(), "lat": 1.0, "lon": 1.0, "accuracy_m": 1.0}]})).await.problem(403);
    // Change logs are scoped too.
    let (bob_changes, _) = bob.pull_all(0, 100).await;
    assert!(bob_changes.is_empty(), "bob saw {bob_changes:?}");
    let (rival_changes, _) = rival.pull_all(0, 100).await;
    assert!(
        rival_changes
            .iter()
            .all(|c| !matches!(c.body, ChangeBody::Offer(_) | ChangeBody::Order(_)))
    );
}

#[tokio::test]
async fn missing_wrong_or_malformed_tokens_are_401() {
    let p = TestPlatform::start().await;
    let anon = p.anonymous();
    anon.send(Method::GET, "/v1/me", None).await.problem(401);
    let mut fake = p.owner("x").await;
    fake.token = Some("0".repeat(64));
    fake.send(Method::GET, "/v1/orders", None)
        .await
        .problem(401);
    let r = p
        .anonymous()
        .http
        .get(format!("{}/v1/me", p.base))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Tokens are stored hashed: the token itself is nowhere in the database.
    let me = p.owner("y").await;
    let token = me.token.clone().unwrap();
    let stored: Vec<String> = p
        .platform
        .read(|c| {
            Ok(c.prepare("SELECT hash FROM tokens")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert!(!stored.contains(&token));
    let account: Account = me.get("/v1/me").await.unwrap();
    assert_eq!(account.name, "y");
}

#[tokio::test]
async fn dev_login_is_off_unless_enabled() {
    let p = TestPlatform::start_with(|c| c.dev_login = false).await;
    let r = p
        .anonymous()
        .post_raw("/v1/auth/dev-login", json!({"name": "a", "role": "admin"}))
        .await;
    assert!(r.problem(404).contains("disabled"));
}
