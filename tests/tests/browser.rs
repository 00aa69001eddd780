//! The share-link tracking page in a real headless Chromium (chromedriver), served by a real
//! platform with the built web UI: no app, no sign-in. The marker moves when new fixes
//! arrive and the ETA updates.
//!
//! Needs `./scripts/setup.sh` (chromium, chromium-driver) and the UI built
//! (`./scripts/build-ui.sh`); `./scripts/test.sh` does both.

use pitstop_api::*;
use pitstop_tests::ui::{Browser, attr, find, screenshot, text, until};
use pitstop_tests::{TestPlatform, fix_batch, new_order};

#[tokio::test]
async fn share_link_page_follows_the_master_in_chromium() {
    let dist = pitstop_tests::ui::ui_dist();
    assert!(
        dist.join("index.html").is_file() && dist.join("pitstop-ui_bg.wasm").is_file(),
        "build the UI first: ./scripts/build-ui.sh"
    );
    let p = TestPlatform::start_with(move |c| c.ui_dir = Some(dist)).await;
    let tech = p.technician_at("theo", &["oil"], 52.50, 13.40).await;
    let (owner, car) = p.owner_with_car("ophelia").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.53, 13.40))
        .await
        .unwrap();
    tech.set_off(order.id).await;
    // The first position is two minutes old: the phone has had no signal since.
    let mut stale = fix_batch(1, 52.50, 13.40);
    stale.fixes[0].t -= 120_000;
    let _: LocationAck = tech.post("/v1/locations", &stale).await.unwrap();
    let link = owner.share(order.id).await;

    let browser = Browser::start()
        .await
        .expect("chromium starts under chromedriver");
    let c = &browser.client;
    c.goto(&format!("{}{}&poll_ms=300", p.base, link.path))
        .await
        .unwrap();
    find(c, "#marker-tech").await.unwrap();
    let lat0: f64 = attr(c, "#marker-tech", "data-lat")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!((lat0 - 52.50).abs() < 1e-9, "{lat0}");
    let eta0: i64 = attr(c, "#eta", "data-eta").await.unwrap().parse().unwrap();
    assert_eq!(
        eta0,
        geo::eta_seconds(geo::haversine_m(52.50, 13.40, 52.53, 13.40))
    );
    // Who is coming, and that the position is old: said in words, and the ETA with it.
    let who = text(c, "#track-master").await.unwrap();
    assert!(who.contains("Your master: theo"), "{who}");
    let age = text(c, "#track-age").await.unwrap();
    assert!(age.starts_with("No signal from the master since"), "{age}");
    let eta = text(c, "#eta").await.unwrap();
    assert!(
        eta.starts_with("ETA was") && eta.contains("from a position 2 min ago"),
        "{eta}"
    );
    screenshot(c, "browser-tracking-no-signal").await.unwrap();

    // A new fix 2.2 km closer: the page follows without a reload.
    let _: LocationAck = tech
        .post("/v1/locations", &fix_batch(2, 52.52, 13.40))
        .await
        .unwrap();
    let lat1: f64 = until("the marker to move", || async {
        let lat: f64 = attr(c, "#marker-tech", "data-lat").await?.parse().ok()?;
        (lat > lat0).then_some(lat)
    })
    .await
    .unwrap();
    assert!((lat1 - 52.52).abs() < 1e-9);
    let age = until("the position to be fresh", || async {
        let t = text(c, "#track-age").await?;
        t.starts_with("Updated").then_some(t)
    })
    .await
    .unwrap();
    assert!(age.ends_with(" s ago"), "{age}");
    assert!(text(c, "#eta").await.unwrap().starts_with("ETA "));
    let eta1: i64 = until("the ETA to update", || async {
        let e: i64 = attr(c, "#eta", "data-eta").await?.parse().ok()?;
        (e < eta0).then_some(e)
    })
    .await
    .unwrap();
    assert_eq!(
        eta1,
        geo::eta_seconds(geo::haversine_m(52.52, 13.40, 52.53, 13.40))
    );
    screenshot(c, "browser-tracking-moved").await.unwrap();

    // The job ends: the open page says so and shows no map (no name, no position).
    for s in [
        OrderStatus::Arrived,
        OrderStatus::InProgress,
        OrderStatus::Completed,
    ] {
        assert!(tech.step(order.id, s).await.status.is_success());
    }
    let ended = until("the page to say the job ended", || async {
        let t = find(c, "#track-error").await.ok()?.text().await.ok()?;
        t.contains("has ended").then_some(t)
    })
    .await
    .unwrap();
    assert!(ended.contains("has ended"), "{ended}");
    let markers = c
        .find_all(fantoccini::Locator::Css("#marker-tech"))
        .await
        .unwrap();
    assert!(markers.is_empty(), "no marker after the job");
    screenshot(c, "browser-tracking-ended").await.unwrap();

    // A link that does not exist says so instead of showing a map.
    c.goto(&format!("{}/app/?track=nope", p.base))
        .await
        .unwrap();
    let e = find(c, "#track-error").await.unwrap().text().await.unwrap();
    assert!(e.contains("unknown"), "{e}");

    browser.close().await;
    p.stop().await;
}

#[tokio::test]
async fn owner_books_from_a_plain_browser_with_sensible_defaults() {
    let p = TestPlatform::start_with_ui().await;
    let (owner, first_car) = p.owner_with_car("bea").await;
    let second: Vehicle = owner
        .post(
            "/v1/vehicles",
            &NewVehicle {
                vin: "1HGCM82633A004352".into(),
                plate: "B-BE 2".into(),
                make: "Honda".into(),
                model: "Accord".into(),
                year: None,
            },
        )
        .await
        .unwrap();
    assert_ne!(second.id, first_car);

    let browser = Browser::start()
        .await
        .expect("chromium starts under chromedriver");
    let c = &browser.client;
    c.goto(&format!("{}/app/?role=owner&name=bea", p.base))
        .await
        .unwrap();
    find(c, "#book-submit").await.unwrap();
    // The first entry of every list is the default (Yew inserts options last to first).
    let value = |css: &'static str| async move {
        c.execute(
            "return document.querySelector(arguments[0]).value",
            vec![css.into()],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
    };
    assert_eq!(value("#book-window").await, "0", "as soon as possible");
    assert_eq!(value("#book-vehicle").await, first_car.to_string());
    assert_eq!(value("#book-service").await, services::catalogue()[0].code);
    screenshot(c, "browser-owner").await.unwrap();

    pitstop_tests::ui::click(c, "#book-submit").await.unwrap();
    until("the confirm step", || async {
        text(c, "#book-submit")
            .await
            .filter(|t| t.starts_with("Confirm booking for €"))
    })
    .await
    .unwrap();
    // A confirm counts only after a moment (a double click on Book does not book).
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    pitstop_tests::ui::click(c, "#book-submit").await.unwrap();
    let order = until("the booking to reach the platform", || async {
        let list: Vec<Order> = owner.get("/v1/orders").await.ok()?;
        list.into_iter().next()
    })
    .await
    .unwrap();
    assert_eq!(order.vehicle_id, first_car);
    // The first window is the earliest one within opening hours (8:00 to 20:00).
    let soon = pitstop_tests::now_ms() + 12 * 3_600_000;
    assert!(
        order.window_start <= soon,
        "booked for later than the first window"
    );
    browser.close().await;
    p.stop().await;
}

/// The share-link page speaks the browser's language (here asked with `?lang=zh`), sets
/// `<html lang>`, switches with a tap, and shows no untranslated message id.
#[tokio::test]
async fn the_tracking_page_speaks_chinese_and_english() {
    let p = TestPlatform::start_with_ui().await;
    let tech = p.technician_at("theo", &["oil"], 52.50, 13.40).await;
    let (owner, order) = p.book("ophelia").await;
    tech.set_off(order.id).await;
    let _: LocationAck = tech
        .post("/v1/locations", &fix_batch(1, 52.51, 13.40))
        .await
        .unwrap();
    let link = owner.share(order.id).await;
    let browser = Browser::start()
        .await
        .expect("chromium starts under chromedriver");
    let c = &browser.client;
    c.goto(&format!("{}{}&lang=zh", p.base, link.path))
        .await
        .unwrap();
    let who = until("the Chinese page", || async {
        text(c, "#track-master")
            .await
            .filter(|t| t.contains("您的师傅"))
    })
    .await
    .unwrap();
    assert!(who.contains("theo"), "{who}");
    let lang = c
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang.as_str(), Some("zh-CN"));
    let page = c
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap();
    let page = page.as_str().unwrap_or_default().to_string();
    for id in [
        "your-master",
        "status-",
        "eta-old",
        "live-tracking",
        "updated",
    ] {
        assert!(
            !page.contains(id),
            "untranslated `{id}` on the page: {page}"
        );
    }
    assert!(
        page.contains("实时跟踪") && page.contains("师傅在路上"),
        "{page}"
    );
    screenshot(c, "browser-tracking-zh").await.unwrap();
    pitstop_tests::ui::click(c, "#lang-en").await.unwrap();
    until("the English page", || async {
        text(c, "#track-master")
            .await
            .filter(|t| t.contains("Your master: theo"))
    })
    .await
    .unwrap();
    let lang = c
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang.as_str(), Some("en"));
    browser.close().await;
}
