//! Places and getting there: an order's address and note, address search through a real
//! geocoding HTTP server, saved places per owner, and the masked contact that lets the
//! technician on a job call its customer without seeing the number.

use pitstop_api::*;
use pitstop_platform::contact::RelayConfig;
use pitstop_tests::{LocalGeocoder, TestPlatform, new_order};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn address_search_goes_through_the_configured_geocoder() {
    let geo = LocalGeocoder::start().await;
    let url = geo.url.clone();
    let p = TestPlatform::start_with(|c| {
        c.geocoder_url = Some(url);
        c.geocoder_per_second = 50;
    })
    .await;
    let config: PublicConfig = p.anonymous().get("/v1/config").await.unwrap();
    assert!(config.geocoding);
    let owner = p.owner("olga").await;

    let found: Vec<GeoPlace> = owner
        .get("/v1/geocode?q=Oranienstra%C3%9Fe%2025")
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].address, "Oranienstraße 25, 10999 Berlin");
    assert!((found[0].lat - 52.5009).abs() < 1e-6);
    // The person's language goes along, so addresses come back in it.
    let r = owner
        .http
        .get(format!("{}/v1/geocode?q=alexanderplatz", p.base))
        .bearer_auth(owner.token.as_ref().unwrap())
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(
        geo.languages
            .lock()
            .unwrap()
            .contains(&"zh-CN,zh;q=0.9".to_string())
    );

    let at: GeoPlace = owner
        .get("/v1/geocode/reverse?lat=52.5219&lon=13.4133")
        .await
        .unwrap();
    assert_eq!(at.address, "Alexanderplatz 1, 10178 Berlin");
    let nothing = owner
        .send(Method::GET, "/v1/geocode/reverse?lat=10&lon=10", None)
        .await;
    assert!(nothing.problem(404).contains("type it in"));
    let short = owner.send(Method::GET, "/v1/geocode?q=ab", None).await;
    assert!(short.problem(422).contains("at least 3"));
    let bad = owner
        .send(Method::GET, "/v1/geocode/reverse?lat=91&lon=0", None)
        .await;
    bad.problem(422);
    // Signed-in only: an open geocoding proxy would be anyone's.
    p.anonymous()
        .send(Method::GET, "/v1/geocode?q=alexanderplatz", None)
        .await
        .problem(401);

    // The service failing is a plain 502 that says what to do instead.
    geo.fail.store(true, std::sync::atomic::Ordering::Relaxed);
    let down = owner.send(Method::GET, "/v1/geocode?q=torstra", None).await;
    assert!(down.problem(502).contains("place the pin"));
}

#[tokio::test]
async fn address_search_keeps_within_the_service_limit_for_the_whole_platform() {
    let geo = LocalGeocoder::start().await;
    let url = geo.url.clone();
    // One request a second in all, as the public Nominatim asks.
    let p = TestPlatform::start_with(|c| c.geocoder_url = Some(url)).await;
    let a = p.owner("olga").await;
    let b = p.owner("oscar").await;
    let _: Vec<GeoPlace> = a.get("/v1/geocode?q=alexanderplatz").await.unwrap();
    let busy = b.send(Method::GET, "/v1/geocode?q=torstra", None).await;
    assert!(busy.problem(429).contains("place the pin"));
    assert_eq!(
        geo.languages.lock().unwrap().len(),
        1,
        "only one request reached the service"
    );
}

#[tokio::test]
async fn without_a_geocoder_people_type_the_address() {
    let p = TestPlatform::start().await;
    let config: PublicConfig = p.anonymous().get("/v1/config").await.unwrap();
    assert!(!config.geocoding);
    let owner = p.owner("olga").await;
    let r = owner
        .send(Method::GET, "/v1/geocode?q=alexanderplatz", None)
        .await;
    assert!(r.problem(503).contains("Type the address"));
}

#[tokio::test]
async fn a_booking_keeps_its_address_and_note_and_refuses_bad_ones() {
    let p = TestPlatform::start().await;
    let (owner, order) = p.book("olga").await;
    let car = order.vehicle_id;
    assert_eq!(order.address, "Oranienstraße 25, 10999 Berlin");
    assert_eq!(order.place_note, "Courtyard, second gate");
    let again = owner.order(order.id).await;
    assert_eq!(
        (again.address, again.place_note),
        (order.address.clone(), order.place_note.clone())
    );
    // The change log carries them too (devices read the place offline).
    let (changes, _) = owner.pull_all(0, 100).await;
    assert!(changes.iter().any(|c| matches!(&c.body, ChangeBody::Order(o) if o.id == order.id && o.place_note == "Courtyard, second gate")));

    let mut long = new_order(car, "oil_change", 52.5, 13.4);
    long.address = "x".repeat(201);
    let r = owner
        .send(
            Method::POST,
            "/v1/orders",
            Some(serde_json::to_value(&long).unwrap()),
        )
        .await;
    assert!(r.problem(422).contains("address"));
    let mut broken = new_order(car, "oil_change", 52.5, 13.4);
    broken.place_note = "level -2\nbay 41".into();
    let r = owner
        .send(
            Method::POST,
            "/v1/orders",
            Some(serde_json::to_value(&broken).unwrap()),
        )
        .await;
    assert!(r.problem(422).contains("place note"));
    // A pin without words is fine.
    let mut pin = new_order(car, "oil_change", 52.5, 13.4);
    pin.address.clear();
    pin.place_note.clear();
    let o: Order = owner.post("/v1/orders", &pin).await.unwrap();
    assert_eq!(o.address, "");
}

#[tokio::test]
async fn saved_places_belong_to_their_owner() {
    let p = TestPlatform::start().await;
    let olga = p.owner("olga").await;
    let other = p.owner("oscar").await;
    let home: SavedPlace = olga
        .post("/v1/places", &json!({"label": "Home", "address": "Kastanienallee 7, 10435 Berlin", "lat": 52.5367, "lon": 13.408, "note": "Garage 3"}))
        .await
        .unwrap();
    assert_eq!(home.label, "Home");
    let mine: Vec<SavedPlace> = olga.get("/v1/places").await.unwrap();
    assert_eq!(mine, vec![home.clone()]);
    let theirs: Vec<SavedPlace> = other.get("/v1/places").await.unwrap();
    assert!(theirs.is_empty());
    other
        .send(Method::DELETE, &format!("/v1/places/{}", home.id), None)
        .await
        .problem(404);
    let r = olga
        .send(
            Method::POST,
            "/v1/places",
            Some(json!({"label": "", "lat": 1.0, "lon": 1.0})),
        )
        .await;
    r.problem(422);
    let r = olga
        .send(
            Method::POST,
            "/v1/places",
            Some(json!({"label": "Far", "lat": 100.0, "lon": 1.0})),
        )
        .await;
    r.problem(422);
    for i in 1..20 {
        let r = olga
            .send(
                Method::POST,
                "/v1/places",
                Some(json!({"label": format!("P{i}"), "lat": 1.0, "lon": 1.0})),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let full = olga
        .send(
            Method::POST,
            "/v1/places",
            Some(json!({"label": "One more", "lat": 1.0, "lon": 1.0})),
        )
        .await;
    assert!(full.problem(422).contains("delete one"));
    let r = olga
        .send(Method::DELETE, &format!("/v1/places/{}", home.id), None)
        .await;
    assert_eq!(r.status.as_u16(), 204);
}

/// What the relay's `POST /v1/relay/connect` answers: status and body.
async fn relay_connect(
    p: &TestPlatform,
    token: &str,
    pin: &str,
    from: &str,
) -> (u16, serde_json::Value) {
    let r = p
        .anonymous()
        .http
        .post(format!("{}/v1/relay/connect", p.base))
        .bearer_auth(token)
        .json(&json!({"pin": pin, "from": from}))
        .send()
        .await
        .unwrap();
    (
        r.status().as_u16(),
        r.json::<serde_json::Value>().await.unwrap(),
    )
}

/// A platform with a masked-contact relay.
async fn with_relay(secret: &str) -> TestPlatform {
    let secret = secret.to_string();
    TestPlatform::start_with(move |c| {
        c.relay = Some(RelayConfig {
            number: "+493000000000".into(),
            secret,
        })
    })
    .await
}

#[tokio::test]
async fn the_technician_reaches_the_customer_through_a_masked_number_while_the_job_runs() {
    let p = with_relay("relay-secret-123").await;
    let config: PublicConfig = p.anonymous().get("/v1/config").await.unwrap();
    assert!(config.contact_relay);
    let tech = p.technician_at("tara", &["oil"], 52.50, 13.40).await;
    let rival = p.technician_at("rita", &["oil"], 52.50, 13.40).await;
    let (owner, car) = p.owner_with_car("olga").await;
    p.set_phone(owner.id(), "+491701234567");
    p.set_phone(tech.id(), "+491709999999");
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    tech.win(order.id).await;

    let path = format!("/v1/orders/{}/contact", order.id);
    let relay: ContactRelay = tech.post(&path, &json!({})).await.unwrap();
    assert_eq!(relay.number, "+493000000000");
    assert_eq!(relay.pin.len(), 6);
    assert_eq!(
        relay.call_uri,
        format!("tel:+493000000000,,{}%23", relay.pin)
    );
    assert!(relay.sms_uri.starts_with("sms:+493000000000?body=%23"));
    // The customer's number is nowhere in what the technician gets, nor in the order.
    let seen = serde_json::to_string(&relay).unwrap()
        + &serde_json::to_string(&tech.order(order.id).await).unwrap();
    assert!(!seen.contains("1701234567"), "{seen}");
    // Asking again gives the same PIN.
    let again: ContactRelay = tech.post(&path, &json!({})).await.unwrap();
    assert_eq!(again.pin, relay.pin);
    // Nobody else on the job gets one.
    rival
        .send(Method::POST, &path, Some(json!({})))
        .await
        .problem(404);
    owner
        .send(Method::POST, &path, Some(json!({})))
        .await
        .problem(403);

    // The relay puts the call through, only when it is the relay asking, from the
    // technician's phone, with the job's PIN.
    let (status, body) = relay_connect(&p, "relay-secret-123", &relay.pin, "+491709999999").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["to"], "+491701234567");
    assert_eq!(
        relay_connect(&p, "wrong", &relay.pin, "+491709999999")
            .await
            .0,
        401
    );
    // Another phone with the right PIN, or the right phone with a wrong PIN: the same 404.
    assert_eq!(
        relay_connect(&p, "relay-secret-123", &relay.pin, "+491700000000")
            .await
            .0,
        404
    );
    assert_eq!(
        relay_connect(&p, "relay-secret-123", "000000", "+491709999999")
            .await
            .0
            / 100,
        4
    );

    // Once the job ends, the PIN stops working and no new one is given.
    tech.finish_job(order.id).await;
    let (status, body) = relay_connect(&p, "relay-secret-123", &relay.pin, "+491709999999").await;
    assert_eq!(status, 410, "{body}");
    assert!(
        tech.send(Method::POST, &path, Some(json!({})))
            .await
            .problem(410)
            .contains("ended")
    );
}

#[tokio::test]
async fn without_a_relay_or_a_customer_phone_the_app_is_told_plainly() {
    // The technician on a fresh job asks for the customer's contact; what the platform says.
    async fn ask(p: &TestPlatform, status: u16) -> String {
        let tech = p.technician_at("tara", &["oil"], 52.50, 13.40).await;
        let (_owner, order) = p.book("olga").await;
        tech.win(order.id).await;
        let path = format!("/v1/orders/{}/contact", order.id);
        tech.send(Method::POST, &path, Some(json!({})))
            .await
            .problem(status)
    }
    assert!(
        ask(&TestPlatform::start().await, 503)
            .await
            .contains("not set up")
    );
    assert!(
        ask(&with_relay(&"s".repeat(16)).await, 409)
            .await
            .contains("no phone")
    );
}

#[tokio::test]
async fn the_owner_sees_who_is_coming_and_in_which_car() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tara", &["oil"], 52.50, 13.40).await;
    let _: Technician = tech
        .put(
            "/v1/technicians/me",
            &json!({"skills": ["oil"], "vehicle": "White VW Caddy · B-PS 77"}),
        )
        .await
        .unwrap();
    let (owner, order) = p.book("olga").await;
    let t: Tracking = owner
        .get(&format!("/v1/orders/{}/tracking", order.id))
        .await
        .unwrap();
    assert_eq!((t.technician_name, t.technician_vehicle), (None, None));
    tech.win(order.id).await;
    let t: Tracking = owner
        .get(&format!("/v1/orders/{}/tracking", order.id))
        .await
        .unwrap();
    assert_eq!(t.technician_name.as_deref(), Some("tara"));
    assert_eq!(
        t.technician_vehicle.as_deref(),
        Some("White VW Caddy · B-PS 77")
    );
    // The order itself says so too, so a device shows it offline.
    let o = owner.order(order.id).await;
    assert_eq!(
        o.technician_vehicle.as_deref(),
        Some("White VW Caddy · B-PS 77")
    );
    let r = tech
        .send(
            Method::PUT,
            "/v1/technicians/me",
            Some(json!({"skills": ["oil"], "vehicle": "x".repeat(81)})),
        )
        .await;
    r.problem(422);
}

/// A walk-in customer has no account: the desk takes their name and phone, the board shows
/// the name, and both the technician on the job and the workshop's desk reach them through
/// the relay. The number itself is in no answer anyone gets.
#[tokio::test]
async fn a_walk_in_customer_is_reached_through_the_relay_by_the_desk_and_the_technician() {
    let p = with_relay("relay-secret-123").await;
    let ws = p.workshop("Mitte").await;
    let other_ws = p.workshop("Kreuzberg").await;
    let desk = p.login("dora", Role::Desk, Some(ws)).await;
    let stranger = p.login("sven", Role::Desk, Some(other_ws)).await;
    p.set_phone(desk.id(), "+491705550000");
    let tech = p.login("tara", Role::Technician, Some(ws)).await;
    tech.setup_technician(&["oil"], 52.50, 13.40).await;
    p.set_phone(tech.id(), "+491709999999");
    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let mut req = new_order(v.id, "oil_change", 52.5, 13.4);
    req.customer_phone = Some("0170 123".into());
    desk.send(Method::POST, "/v1/orders", Some(json!(req)))
        .await
        .problem(422);
    req.customer_name = Some("Wei Zhang".into());
    req.customer_phone = Some("+49 170 7654321".into());
    let order: Order = desk.post("/v1/orders", &req).await.unwrap();
    assert_eq!(order.customer_name.as_deref(), Some("Wei Zhang"));
    assert!(order.customer_contact);

    // The desk calls through the relay; a desk of another workshop cannot.
    let path = format!("/v1/orders/{}/contact", order.id);
    let by_desk: ContactRelay = desk.post(&path, &json!({})).await.unwrap();
    stranger
        .send(Method::POST, &path, Some(json!({})))
        .await
        .problem(404);
    let (status, body) = relay_connect(&p, "relay-secret-123", &by_desk.pin, "+491705550000").await;
    assert_eq!((status, body["to"].as_str()), (200, Some("+491707654321")));

    // The technician on the job too; the number is in nothing they or the desk read.
    tech.win(order.id).await;
    let by_tech: ContactRelay = tech.post(&path, &json!({})).await.unwrap();
    let (status, body) = relay_connect(&p, "relay-secret-123", &by_tech.pin, "+491709999999").await;
    assert_eq!((status, body["to"].as_str()), (200, Some("+491707654321")));
    let seen = serde_json::to_string(&tech.order(order.id).await).unwrap()
        + &serde_json::to_string(&desk.order(order.id).await).unwrap()
        + &serde_json::to_string(&by_tech).unwrap()
        + &serde_json::to_string(&by_desk).unwrap();
    assert!(!seen.contains("7654321"), "{seen}");
    let (all, _) = tech.pull_all(0, 1000).await;
    assert!(!serde_json::to_string(&all).unwrap().contains("7654321"));

    // Once the order ends, neither PIN works.
    assert!(
        desk.step(order.id, OrderStatus::Cancelled)
            .await
            .status
            .is_success()
    );
    assert_eq!(
        relay_connect(&p, "relay-secret-123", &by_desk.pin, "+491705550000")
            .await
            .0,
        410
    );
    assert_eq!(
        relay_connect(&p, "relay-secret-123", &by_tech.pin, "+491709999999")
            .await
            .0,
        410
    );
    // The walk-in's number is dropped with the order's end: nothing says it can be called,
    // and asking for a new PIN is refused.
    assert!(!desk.order(order.id).await.customer_contact);
    desk.send(Method::POST, &path, Some(json!({})))
        .await
        .problem(410);
    let gone: Option<String> = p
        .platform
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT customer_phone FROM orders WHERE id = ?1",
                [order.id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(gone, None, "not kept after the order ended");
}
