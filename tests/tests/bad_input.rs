//! Bad input gets a 4xx `application/problem+json` with a clear sentence, and nothing is
//! stored.

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};
use reqwest::Method;
use serde_json::json;

fn count(p: &TestPlatform, table: &str) -> i64 {
    p.platform
        .read(|c| Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?))
        .unwrap()
}

#[tokio::test]
async fn malformed_wrong_typed_and_huge_bodies() {
    let p = TestPlatform::start_with(|c| c.body_limit = 64 * 1024).await;
    let (owner, car) = p.owner_with_car("o").await;
    let before = count(&p, "orders");

    let d = owner
        .send_raw(Method::POST, "/v1/orders", b"{\"vehicle_id\": ".to_vec())
        .await
        .problem(400);
    assert!(d.contains("not valid JSON"), "{d}");
    let d = owner
        .post_raw(
            "/v1/orders",
            json!({"vehicle_id": "seven", "service": "oil_change"}),
        )
        .await
        .problem(422);
    assert!(d.contains("wrong shape"), "{d}");
    let mut big = serde_json::to_value(new_order(car, "oil_change", 52.5, 13.4)).unwrap();
    big["notes"] = json!("x".repeat(200 * 1024));
    let r = owner.post_raw("/v1/orders", big).await;
    r.problem(413);
    let r = owner
        .http
        .post(format!("{}/v1/orders", owner.base))
        .bearer_auth(owner.token.as_ref().unwrap())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(count(&p, "orders"), before);
}

#[tokio::test]
async fn invalid_values_are_refused_and_nothing_is_stored() {
    let p = TestPlatform::start().await;
    let (owner, car) = p.owner_with_car("o").await;
    let (orders, changes) = (count(&p, "orders"), count(&p, "changes"));

    let bad_lat = new_order(car, "oil_change", 91.0, 13.4);
    assert!(
        owner
            .post_raw("/v1/orders", serde_json::to_value(bad_lat).unwrap())
            .await
            .problem(422)
            .contains("latitude")
    );
    let bad_service = new_order(car, "teleport", 52.5, 13.4);
    assert!(
        owner
            .post_raw("/v1/orders", serde_json::to_value(bad_service).unwrap())
            .await
            .problem(422)
            .contains("oil_change")
    );
    let mut backwards = new_order(car, "oil_change", 52.5, 13.4);
    backwards.window_end = backwards.window_start - 1;
    owner
        .post_raw("/v1/orders", serde_json::to_value(backwards).unwrap())
        .await
        .problem(422);
    // A window over all of time: end after start, not over, not starting beyond a year.
    let mut forever = new_order(car, "oil_change", 52.5, 13.4);
    (forever.window_start, forever.window_end) = (i64::MIN, i64::MAX);
    assert!(
        owner
            .post_raw("/v1/orders", serde_json::to_value(forever).unwrap())
            .await
            .problem(422)
            .contains("longer than 7 days")
    );
    let unknown_car = new_order(424242, "oil_change", 52.5, 13.4);
    owner
        .post_raw("/v1/orders", serde_json::to_value(unknown_car).unwrap())
        .await
        .problem(404);
    assert_eq!(
        (count(&p, "orders"), count(&p, "changes")),
        (orders, changes)
    );

    let vehicles = count(&p, "vehicles");
    for (vin, why) in [
        ("1M8GDM9A1KP042788", "check digit"),
        ("SHORT", "17"),
        ("WVWZZZ1JZXW00000O", "'O'"),
    ] {
        let d = owner
            .post_raw(
                "/v1/vehicles",
                json!({"vin": vin, "plate": "P", "make": "M", "model": "X"}),
            )
            .await
            .problem(422);
        assert!(d.contains(why), "{vin}: {d}");
    }
    assert_eq!(count(&p, "vehicles"), vehicles);

    // Unknown ids and routes.
    owner
        .send(Method::GET, "/v1/orders/123456", None)
        .await
        .problem(404);
    owner
        .send(Method::GET, "/v1/orders/not-a-number", None)
        .await
        .problem(404);
    owner.send(Method::GET, "/v1/nope", None).await.problem(404);
    owner
        .send(Method::DELETE, "/v1/orders", None)
        .await
        .problem(405);
}

#[tokio::test]
async fn location_batches_are_validated_whole_and_idempotent() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let now = pitstop_tests::now_ms();
    let fix = |seq: u64, lat: f64| json!({"seq": seq, "t": now, "lat": lat, "lon": 13.4, "accuracy_m": 5.0});

    // One bad fix refuses the whole batch.
    let d = tech
        .post_raw(
            "/v1/locations",
            json!({"device_id": "d1", "fixes": [fix(1, 52.5), fix(2, 123.0)]}),
        )
        .await
        .problem(422);
    assert!(d.contains("Fix 1") && d.contains("latitude"), "{d}");
    assert_eq!(count(&p, "fixes"), 0);
    let stale = json!({"seq": 3, "t": now - 30 * 24 * 3600 * 1000, "lat": 52.5, "lon": 13.4, "accuracy_m": 5.0});
    assert!(
        tech.post_raw(
            "/v1/locations",
            json!({"device_id": "d1", "fixes": [stale]})
        )
        .await
        .problem(422)
        .contains("clock")
    );
    tech.post_raw(
        "/v1/locations",
        json!({"device_id": "bad id!", "fixes": [fix(1, 52.5)]}),
    )
    .await
    .problem(422);
    tech.post_raw("/v1/locations", json!({"device_id": "d1", "fixes": []}))
        .await
        .problem(422);
    let too_many: Vec<_> = (0..=MAX_FIXES_PER_BATCH as u64)
        .map(|s| fix(s, 52.5))
        .collect();
    tech.post_raw(
        "/v1/locations",
        json!({"device_id": "d1", "fixes": too_many}),
    )
    .await
    .problem(422);
    assert_eq!(count(&p, "fixes"), 0);

    // A retried upload is counted as duplicates.
    let batch = json!({"device_id": "d1", "fixes": [fix(1, 52.5), fix(2, 52.51)]});
    let a: LocationAck = tech.post("/v1/locations", &batch).await.unwrap();
    let b: LocationAck = tech.post("/v1/locations", &batch).await.unwrap();
    assert_eq!(
        (a.accepted, a.duplicates, b.accepted, b.duplicates),
        (2, 0, 0, 2)
    );
    assert_eq!(count(&p, "fixes"), 2);
}

#[tokio::test]
async fn openapi_document_is_generated_from_the_handlers() {
    let p = TestPlatform::start().await;
    let doc: serde_json::Value = p.anonymous().get("/v1/openapi.json").await.unwrap();
    assert_eq!(
        doc["openapi"].as_str().map(|s| s.starts_with("3.")),
        Some(true)
    );
    for path in [
        "/v1/orders",
        "/v1/orders/{id}/status",
        "/v1/offers/{id}/accept",
        "/v1/sync",
        "/v1/events",
        "/v1/locations",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Order"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn a_full_disk_is_a_clear_507_and_loses_nothing_already_saved() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("o").await;
    tech.win(order.id).await;
    let saved = owner.order(order.id).await;

    // Cap the database at its current size: the next page SQLite needs fails with SQLITE_FULL,
    // exactly as a full disk does.
    p.platform
        .maintain(|c| {
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            c.pragma_update(None, "max_page_count", pages)?;
            Ok(())
        })
        .unwrap();
    let note = "n".repeat(1900);
    let mut full = None;
    // Notes are small changes now (no whole-order snapshots), so it takes more to fill it.
    for _ in 0..5000 {
        let r = tech
            .post_raw(
                &format!("/v1/orders/{}/notes", order.id),
                json!({ "text": note }),
            )
            .await;
        if !r.status.is_success() {
            full = Some(r);
            break;
        }
    }
    let r = full.expect("the capped database never filled up");
    assert!(r.problem(507).contains("disk is full"));
    let notes_when_full = owner.order(order.id).await.line_counts.notes;

    // Everything saved before is intact, and the refused write left no trace.
    let after = owner.order(order.id).await;
    assert_eq!(after.status, saved.status);
    assert_eq!(after.technician_id, saved.technician_id);
    assert_eq!(after.line_counts.notes, notes_when_full);
    assert!(after.job_notes.iter().all(|n| n.text == note));
    // Space comes back: writes work again.
    // (On the writer: the page cap is per connection, and a reader's would change nothing.)
    p.platform
        .maintain(|c| {
            c.pragma_update(None, "max_page_count", 1_000_000)?;
            Ok(())
        })
        .unwrap();
    assert!(
        tech.step(order.id, OrderStatus::EnRoute)
            .await
            .status
            .is_success()
    );
}

#[tokio::test]
async fn compact_gzipped_fix_batches_are_accepted_and_validated() {
    use std::io::Write;
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let now = pitstop_tests::now_ms();
    let fixes: Vec<Fix> = (1..=300u64)
        .map(|i| Fix {
            seq: i,
            t: now - 300_000 + i as i64 * 1000,
            lat: 52.5 + i as f64 * 1e-4,
            lon: 13.4,
            accuracy_m: 5.0,
            speed_mps: Some(11.0),
            heading_deg: Some(0.0),
        })
        .collect();
    let raw = fixcodec::encode(&LocationBatch {
        device_id: "phone".into(),
        fixes,
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw).unwrap();
    let body = gz.finish().unwrap();
    assert!(body.len() < 300 * 4, "{} bytes for 300 fixes", body.len());
    let send = |body: Vec<u8>, gzip: bool| {
        let mut rb = tech
            .http
            .post(format!("{}/v1/locations/compact", tech.base))
            .bearer_auth(tech.token.as_ref().unwrap())
            .header("content-type", fixcodec::CONTENT_TYPE)
            .body(body);
        if gzip {
            rb = rb.header("content-encoding", "gzip");
        }
        rb.send()
    };
    let r = send(body.clone(), true).await.unwrap();
    assert_eq!(r.status(), 200);
    let ack: LocationAck = r.json().await.unwrap();
    assert_eq!((ack.accepted, ack.duplicates), (300, 0));
    let again: LocationAck = send(body, true).await.unwrap().json().await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 300));
    assert_eq!(count(&p, "fixes"), 300);
    // Truncated or junk batches are 422 and store nothing.
    let r = send(raw[..raw.len() - 3].to_vec(), false).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = send(b"not gzip at all".to_vec(), true).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(count(&p, "fixes"), 300);
}
