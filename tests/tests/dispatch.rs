//! Dispatch: nearest first, first-come accept under concurrency, decline and expiry cascade,
//! and "no candidate left".

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::{TestPlatform, eventually, new_order};
use serde_json::json;

fn runs() -> usize {
    std::env::var("PITSTOP_RACE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

#[tokio::test]
async fn concurrent_accepts_have_exactly_one_winner() {
    const TECHS: usize = 6;
    let p = TestPlatform::start_with(|c| c.offer_fanout = TECHS).await;
    let mut techs = Vec::new();
    for i in 0..TECHS {
        techs.push(
            p.technician_at(&format!("t{i}"), &["brakes"], 52.5 + i as f64 * 0.001, 13.4)
                .await,
        );
    }
    let (owner, car) = p.owner_with_car("o").await;
    for run in 0..runs() {
        let order: Order = owner
            .post("/v1/orders", &new_order(car, "brake_pads", 52.5, 13.4))
            .await
            .unwrap();
        let mut offers = Vec::new();
        for t in &techs {
            offers.push(t.wait_offer(order.id).await);
        }
        let mut handles = Vec::new();
        for (t, o) in techs.iter().cloned().zip(offers) {
            handles.push(tokio::spawn(async move {
                t.post_raw(&format!("/v1/offers/{}/accept", o.id), json!({}))
                    .await
            }));
        }
        let mut winners = 0;
        for h in handles {
            let r = h.await.unwrap();
            if r.status.is_success() {
                winners += 1;
            } else {
                let why = r.problem(409);
                assert!(
                    why.contains("first") || why.contains("no longer open"),
                    "run {run}: {why}"
                );
            }
        }
        assert_eq!(winners, 1, "run {run}: {winners} technicians won one order");
        let o = owner.order(order.id).await;
        assert_eq!(o.status, OrderStatus::Assigned);
        // Free the winner for the next run.
        assert!(
            owner
                .step(order.id, OrderStatus::Cancelled)
                .await
                .status
                .is_success()
        );
    }
}

#[tokio::test]
async fn nearest_first_then_decline_cascades_then_unassigned_with_reason() {
    let p = TestPlatform::start().await;
    let near = p.technician_at("near", &["ac"], 52.500, 13.400).await;
    let far = p.technician_at("far", &["ac"], 52.600, 13.400).await;
    let _unskilled = p
        .technician_at("nearest-but-unskilled", &["oil"], 52.5001, 13.400)
        .await;
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "ac_service", 52.501, 13.400))
        .await
        .unwrap();

    let first = near.wait_offer(order.id).await;
    assert!(
        far.offers().await.is_empty(),
        "fan-out 1 offers one technician at a time"
    );
    // Only offered, the technician sees enough to decide, not the door or the customer:
    // the place rounded to about a kilometre, the area without the street, no notes.
    let seen = near.order(order.id).await;
    assert_eq!((seen.lat, seen.lon), (52.5, 13.4));
    assert!(!seen.address.contains("Oranienstraße"), "{}", seen.address);
    assert!(seen.place_note.is_empty() && seen.notes.is_empty());
    assert_eq!(seen.customer_name, None);
    assert_eq!(
        owner.order(order.id).await.lat,
        52.501,
        "the owner sees it all"
    );
    let _: Offer = near
        .post(&format!("/v1/offers/{}/decline", first.id), &json!({}))
        .await
        .unwrap();
    let second = far.wait_offer(order.id).await;
    assert!(second.distance_m > first.distance_m);
    // Declining twice is harmless; accepting a declined offer is refused.
    near.post_raw(&format!("/v1/offers/{}/accept", first.id), json!({}))
        .await
        .problem(409);
    let _: Offer = far
        .post(&format!("/v1/offers/{}/decline", second.id), &json!({}))
        .await
        .unwrap();

    let o = owner.order(order.id).await;
    assert_eq!(o.status, OrderStatus::Unassigned);
    let reason = o.unassigned_reason.unwrap();
    assert!(reason.contains("All 2"), "{reason}");

    // A desk-less marketplace order can be re-dispatched by an admin: a new round.
    let admin = p.admin().await;
    let o: Order = admin
        .post(&format!("/v1/orders/{}/dispatch", order.id), &json!({}))
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Offered);
    near.wait_offer(order.id).await;
}

#[tokio::test]
async fn expired_offer_moves_to_next_candidate_and_late_accept_is_refused() {
    let p = TestPlatform::start_with(|c| c.offer_ttl = Duration::from_millis(300)).await;
    let a = p.technician_at("a", &["oil"], 52.500, 13.40).await;
    let b = p.technician_at("b", &["oil"], 52.510, 13.40).await;
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.499, 13.40))
        .await
        .unwrap();
    let first = a.wait_offer(order.id).await;
    // Nobody answers: after the TTL, the next technician gets it.
    let second = b.wait_offer(order.id).await;
    assert_ne!(first.id, second.id);
    let why = a
        .post_raw(&format!("/v1/offers/{}/accept", first.id), json!({}))
        .await
        .problem(409);
    assert!(why.contains("expired"), "{why}");
    // b lets it expire too: no candidate left.
    let o = eventually(Duration::from_secs(5), || async {
        let o = owner.order(order.id).await;
        (o.status == OrderStatus::Unassigned).then_some(o)
    })
    .await
    .expect("order became unassigned");
    assert!(
        o.unassigned_reason
            .unwrap()
            .contains("declined or let the offer expire")
    );
}

#[tokio::test]
async fn no_skilled_technician_on_shift_means_unassigned_at_once() {
    let p = TestPlatform::start().await;
    let off = p.technician_at("off", &["diagnostics"], 52.5, 13.4).await;
    off.shift(false, 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("o").await;
    let o: Order = owner
        .post("/v1/orders", &new_order(car, "diagnostics", 52.5, 13.4))
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Unassigned);
    assert!(o.unassigned_reason.unwrap().contains("'diagnostics' skill"));
    // Going on shift picks the waiting order up.
    off.shift(true, 52.5, 13.4).await;
    off.wait_offer(o.id).await;
}

#[tokio::test]
async fn pending_offers_expire_after_a_restart() {
    let p = TestPlatform::start_with(|c| c.offer_ttl = Duration::from_millis(800)).await;
    let a = p.technician_at("a", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    a.wait_offer(order.id).await;
    let mut cfg = p.platform.config().clone();
    let dir = p.stop().await;
    cfg.db_path = dir.path().join("platform.db");
    let p = pitstop_tests::TestPlatform::start_in(dir, cfg).await;
    let admin = p.admin().await;
    let o = eventually(Duration::from_secs(5), || async {
        let o: Order = admin
            .get(&format!("/v1/orders/{}", order.id))
            .await
            .unwrap();
        (o.status == OrderStatus::Unassigned).then_some(o)
    })
    .await;
    assert!(o.is_some(), "the offer's timer did not survive the restart");
}

/// The offer card's facts: when, which car, roughly where (not the address), how long, and
/// what the technician earns by the workshop's payout rule; then earnings add up.
#[tokio::test]
async fn an_offer_says_what_the_technician_earns_and_earnings_add_up() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tara", &["oil"], 52.50, 13.40).await;
    let (owner, order) = p.book("olga").await;
    let offer = tech.wait_offer(order.id).await;
    assert_eq!(
        offer.payout_cents,
        8900 * 70 / 100,
        "the default share is 70 %"
    );
    assert_eq!(offer.vehicle, "Volkswagen Golf");
    assert_eq!(offer.area, "10999 Berlin");
    assert!(
        !serde_json::to_string(&offer)
            .unwrap()
            .contains("Oranienstraße")
    );
    assert_eq!(offer.minutes, services::find("oil_change").unwrap().minutes);
    // Before the job is theirs, the order itself shows no more than the offer.
    let peek = tech.order(order.id).await;
    assert_eq!(peek.address, "10999 Berlin");
    assert_eq!(peek.place_note, "");
    assert_eq!(peek.customer_name, None);
    assert_eq!(
        ((offer.lat * 100.0).round() / 100.0, offer.lat),
        (offer.lat, offer.lat)
    );
    assert_eq!(
        (offer.window_start, offer.window_end),
        (order.window_start, order.window_end)
    );
    let zero: Earnings = tech
        .get("/v1/technicians/me/earnings?utc_offset_min=60")
        .await
        .unwrap();
    assert_eq!((zero.today_cents, zero.week_jobs), (0, 0));

    tech.win(order.id).await;
    let mine = tech.order(order.id).await;
    assert_eq!(
        mine.address, "Oranienstraße 25, 10999 Berlin",
        "all of it once the job is theirs"
    );
    assert_eq!(mine.place_note, "Courtyard, second gate");
    tech.finish_job(order.id).await;
    let e: Earnings = tech
        .get("/v1/technicians/me/earnings?utc_offset_min=60")
        .await
        .unwrap();
    assert_eq!((e.today_cents, e.today_jobs), (6230, 1));
    assert_eq!((e.week_cents, e.week_jobs), (6230, 1));
    // Only technicians have earnings; time zones are bounded.
    owner
        .send(reqwest::Method::GET, "/v1/technicians/me/earnings", None)
        .await
        .problem(403);
    tech.send(
        reqwest::Method::GET,
        "/v1/technicians/me/earnings?utc_offset_min=9999",
        None,
    )
    .await
    .problem(422);

    // A workshop's admin sets its own rule; others may not.
    let ws = p.workshop("Mitte").await;
    let admin = p.admin().await;
    let w: Workshop = admin
        .put(
            &format!("/v1/workshops/{ws}/payout"),
            &serde_json::json!({"percent": 80}),
        )
        .await
        .unwrap();
    assert_eq!(w.payout_percent, 80);
    tech.send(
        reqwest::Method::PUT,
        &format!("/v1/workshops/{ws}/payout"),
        Some(serde_json::json!({"percent": 100})),
    )
    .await
    .problem(404);
    admin
        .send(
            reqwest::Method::PUT,
            &format!("/v1/workshops/{ws}/payout"),
            Some(serde_json::json!({"percent": 101})),
        )
        .await
        .problem(422);
}

/// Prices carry their currency: a workshop prices in its own (set when it is made, else the
/// platform's `--currency`), its orders and their offers and earnings say which, and an order
/// booked without a workshop uses the platform's.
#[tokio::test]
async fn prices_carry_their_workshops_currency() {
    let p = TestPlatform::start_with(|c| c.currency = "CNY".into()).await;
    let config: PublicConfig = p.anonymous().get("/v1/config").await.unwrap();
    assert_eq!(config.currency, "CNY");
    let admin = p.admin().await;
    let euro: Workshop = admin
        .post(
            "/v1/workshops",
            &serde_json::json!({"name": "Kreuzberg", "lat": 52.5, "lon": 13.4, "currency": "EUR"}),
        )
        .await
        .unwrap();
    assert_eq!(euro.currency, "EUR");
    let yuan = p.workshop("Chaoyang").await;
    let listed: Vec<Workshop> = p.anonymous().get("/v1/workshops").await.unwrap();
    let by_id = |id: Id| listed.iter().find(|w| w.id == id).unwrap().currency.clone();
    assert_eq!((by_id(euro.id), by_id(yuan)), ("EUR".into(), "CNY".into()));
    admin
        .send(
            reqwest::Method::POST,
            "/v1/workshops",
            Some(serde_json::json!({"name": "X", "lat": 0.0, "lon": 0.0, "currency": "yuan"})),
        )
        .await
        .problem(422);

    // A desk's walk-in is in its workshop's currency, and so is the offer for it.
    let tech = p.login("tara", Role::Technician, Some(euro.id)).await;
    tech.setup_technician(&["oil"], 52.50, 13.40).await;
    let desk = p.login("dora", Role::Desk, Some(euro.id)).await;
    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let walk_in: Order = desk
        .post("/v1/orders", &new_order(v.id, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    assert_eq!(walk_in.currency, "EUR");
    assert_eq!(tech.wait_offer(walk_in.id).await.currency, "EUR");
    // An owner's booking with no workshop: the platform's currency.
    let (_owner, own) = p.book("olga").await;
    assert_eq!(own.currency, "CNY");
    let e: Earnings = tech
        .get("/v1/technicians/me/earnings?utc_offset_min=0")
        .await
        .unwrap();
    assert_eq!(e.currency, "EUR", "the technician's workshop's");
    let loner = p.technician_at("lou", &["oil"], 52.50, 13.40).await;
    let e: Earnings = loner
        .get("/v1/technicians/me/earnings?utc_offset_min=0")
        .await
        .unwrap();
    assert_eq!(
        e.currency, "CNY",
        "no workshop and no job yet: the platform's"
    );
}
