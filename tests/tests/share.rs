//! Share links: a browser link that shows one order's live tracking without signing in, who
//! may create one, what it reveals, and the web UI the platform serves for it.

use pitstop_api::*;
use pitstop_tests::{TestPlatform, fix_batch, new_order, now_ms};
use reqwest::Method;

#[tokio::test]
async fn share_link_tracks_without_signing_in_and_stops_after_the_job() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tara", &["oil"], 52.50, 13.40).await;
    let (owner, car) = p.owner_with_car("olga").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.52, 13.40))
        .await
        .unwrap();
    tech.win(order.id).await;

    let link: ShareLink = owner
        .post(&format!("/v1/orders/{}/share", order.id), &())
        .await
        .unwrap();
    assert_eq!(link.order_id, order.id);
    assert_eq!(link.path, format!("/app/?track={}", link.token));
    assert!(link.expires_at > now_ms());

    let anon = p.anonymous();
    let path = format!("/v1/track/{}", link.token);
    let _: LocationAck = tech
        .post("/v1/locations", &fix_batch(1, 52.50, 13.40))
        .await
        .unwrap();
    let first: Tracking = anon.get(&path).await.unwrap();
    let _: LocationAck = tech
        .post("/v1/locations", &fix_batch(2, 52.51, 13.40))
        .await
        .unwrap();
    let second: Tracking = anon.get(&path).await.unwrap();
    let (a, b) = (first.fix.unwrap(), second.fix.unwrap());
    assert!(b.lat > a.lat, "the marker moved north: {a:?} -> {b:?}");
    assert!(second.eta_s.unwrap() < first.eta_s.unwrap(), "ETA shrinks");

    tech.finish_job(order.id).await;
    // The job has ended: the link says so and nothing else (no name, no coordinates).
    let done = anon.send(Method::GET, &path, None).await;
    let d = done.problem(410);
    assert!(d.contains("ended"), "{d}");
    let text = done.body.to_string();
    assert!(
        !text.contains("tara") && !text.contains("52.5") && !text.contains("lat"),
        "{text}"
    );
    // No new link for a finished job.
    let d = owner
        .send(
            Method::POST,
            &format!("/v1/orders/{}/share", order.id),
            None,
        )
        .await
        .problem(409);
    assert!(d.contains("ended"), "{d}");
    p.stop().await;
}

#[tokio::test]
async fn the_owner_can_turn_a_link_off() {
    let p = TestPlatform::start().await;
    let (owner, car) = p.owner_with_car("rita").await;
    let stranger = p.owner("rolf").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.52, 13.40))
        .await
        .unwrap();
    let link: ShareLink = owner
        .post(&format!("/v1/orders/{}/share", order.id), &())
        .await
        .unwrap();
    let anon = p.anonymous();
    let path = format!("/v1/track/{}", link.token);
    let _: Tracking = anon.get(&path).await.unwrap();
    let share = format!("/v1/orders/{}/share", order.id);
    stranger
        .send(Method::DELETE, &share, None)
        .await
        .problem(404);
    let _: Tracking = anon.get(&path).await.unwrap();
    let r = owner.send(Method::DELETE, &share, None).await;
    assert_eq!(r.status.as_u16(), 204);
    let d = anon.send(Method::GET, &path, None).await.problem(404);
    assert!(d.contains("turned off"), "{d}");
    p.stop().await;
}

#[tokio::test]
async fn only_people_who_see_the_order_can_share_it_and_bad_tokens_are_404() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tom", &["oil"], 52.50, 13.40).await;
    let (owner, car) = p.owner_with_car("oscar").await;
    let stranger = p.owner("sven").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.52, 13.40))
        .await
        .unwrap();
    let share = format!("/v1/orders/{}/share", order.id);

    let r = stranger.send(Method::POST, &share, None).await;
    let not_yours = r.problem(404);
    let missing = stranger
        .send(Method::POST, "/v1/orders/999999/share", None)
        .await
        .problem(404);
    assert_eq!(
        not_yours.replace(&order.id.to_string(), "N"),
        missing.replace("999999", "N"),
        "someone else's order reads like a missing one"
    );
    tech.win(order.id).await;
    tech.send(Method::POST, &share, None).await.problem(403);
    p.anonymous()
        .send(Method::POST, &share, None)
        .await
        .problem(401);

    let anon = p.anonymous();
    let d1 = anon
        .send(Method::GET, "/v1/track/nope", None)
        .await
        .problem(404);
    let d2 = anon
        .send(Method::GET, &format!("/v1/track/{}", "0".repeat(64)), None)
        .await
        .problem(404);
    assert_eq!(d1, d2);
    p.stop().await;
}

#[tokio::test]
async fn platform_serves_the_web_ui_and_public_config() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<title>Pitstop</title>").unwrap();
    let dir = ui.path().to_path_buf();
    let p = TestPlatform::start_with(move |c| {
        c.ui_dir = Some(dir);
        c.tile_url = Some("https://tiles.example/{z}/{x}/{y}.png".into());
    })
    .await;
    let anon = p.anonymous();
    let page = anon
        .http
        .get(format!("{}/app/?track=abc", anon.base))
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success());
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>Pitstop</title>")
    );
    let cfg: PublicConfig = anon.get("/v1/config").await.unwrap();
    assert_eq!(
        cfg.tile_url.as_deref(),
        Some("https://tiles.example/{z}/{x}/{y}.png")
    );
    assert!(cfg.dev_login);
    p.stop().await;
}
