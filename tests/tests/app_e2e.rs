//! The desktop app end to end: the real Tauri binary in a WebKit window under Xvfb, driven
//! through tauri-driver + WebKitWebDriver, against a real platform on 127.0.0.1. Screenshots
//! of each view land in `target/screenshots/`.
//!
//! Needs `./scripts/setup.sh` (Xvfb, webkit2gtk-driver, tauri-driver) and the app built
//! (`./scripts/build-ui.sh && cargo build -p pitstop-app`); `./scripts/test.sh` does both.

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::proxy::{FaultProxy, Faults};
use pitstop_tests::ui::{self, App, attr, click, find, text, until};
use pitstop_tests::{TestPlatform, new_order};

/// One app at a time: two WebKit windows on two cores make every wait slower.
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn app_env(platform: &str, role: &str, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PITSTOP_PLATFORM", platform.to_string()),
        ("PITSTOP_ROLE", role.to_string()),
        ("PITSTOP_NAME", name.to_string()),
        ("PITSTOP_SIM_INTERVAL_SECS", "0.2".to_string()),
    ]
}

async fn status_of(p: &pitstop_tests::Client, id: Id) -> OrderStatus {
    p.order(id).await.status
}

/// Registers a car in the owner view (the platform checks the VIN).
async fn add_car(c: &fantoccini::Client) {
    let v = pitstop_tests::new_vehicle();
    ui::type_into(c, "#car-vin", &v.vin).await.unwrap();
    ui::type_into(c, "#car-plate", &v.plate).await.unwrap();
    ui::type_into(c, "#car-make", &v.make).await.unwrap();
    ui::type_into(c, "#car-model", &v.model).await.unwrap();
    click(c, "#add-car-submit").await.unwrap();
}

/// The account signed in with `phone` (canonical form) and how many orders it has, read
/// behind the API.
fn account_and_orders(p: &TestPlatform, phone: &str) -> Option<(Account, usize)> {
    let found = p
        .platform
        .read(|conn| {
            pitstop_platform::accounts::by_address(conn, &address::Address::Phone(phone.into()))
        })
        .ok()??;
    let n = p
        .platform
        .read(|conn| pitstop_platform::orders::list(conn, &found.caller, None, 10))
        .ok()?
        .len();
    Some((found.caller.account(), n))
}

/// Books what the owner's form shows: Book, then (once the button asks) Confirm. A confirm
/// right after the first click is ignored on purpose (no booking by double click).
async fn book_in_app(c: &fantoccini::Client) {
    click(c, "#book-submit").await.unwrap();
    // A click that lands while the view re-renders can be lost in WebKitWebDriver: click
    // again while the button still says "Book" (it asks to confirm before booking anyway).
    let tries = std::cell::Cell::new(0u32);
    until("the button to ask for confirmation", || async {
        let t = text(c, "#book-submit").await?;
        tries.set(tries.get() + 1);
        if t == "Book" && tries.get().is_multiple_of(20) {
            ui::click_if_present(c, "#book-submit").await;
        }
        t.starts_with("Confirm").then_some(())
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    click(c, "#book-submit").await.unwrap();
}

/// The text of an element once it is there.
async fn shown(c: &fantoccini::Client, css: &str) -> String {
    find(c, css).await.unwrap().text().await.unwrap()
}

/// Waits until nothing on the page matches `css` (a closed drawer or question).
async fn gone(c: &fantoccini::Client, css: &str, what: &str) {
    until(what, || async {
        c.find(fantoccini::Locator::Css(css))
            .await
            .is_err()
            .then_some(())
    })
    .await
    .unwrap();
}

/// Clicks the job's step button and waits until the button offers the step after it.
async fn step_in_app(app: &App, expect_next: Option<OrderStatus>) -> anyhow::Result<()> {
    // The button stays disabled a moment after each step (no double steps): wait it out.
    until("the step button to be enabled", || async {
        let busy = attr(&app.client, "#next-step", "aria-busy").await;
        (busy.as_deref() == Some("false")).then_some(())
    })
    .await?;
    click(&app.client, "#next-step").await?;
    until("the job to move on", || async {
        let next = attr(&app.client, "#next-step", "data-next").await;
        (next.as_deref() == expect_next.map(|s| s.as_str())).then_some(())
    })
    .await
}

#[tokio::test]
async fn technician_takes_an_offer_and_completes_the_job_then_works_offline() {
    let _one = ONE_APP.lock().await;
    let p = TestPlatform::start_with(|c| c.offer_ttl = Duration::from_secs(90)).await;
    // The app reaches the platform through a proxy that can drop the network.
    let proxy = FaultProxy::start(p.addr()).await;
    let admin = p.admin().await;
    let bus = ui::SessionBus::start().await.expect("a D-Bus session bus");
    let notes = ui::Notifications::watch(&bus).await.expect("dbus-monitor");
    let mut env = app_env(&proxy.base(), "technician", "tess");
    env.push(("DBUS_SESSION_BUS_ADDRESS", bus.address.clone()));
    let app = App::start(&env)
        .await
        .expect("the app starts under tauri-driver");
    let c = &app.client;

    // Signed in at start; the technician view with its sync badge.
    find(c, "#shift").await.unwrap();
    until("the sync badge to say online", || async {
        (text(c, "#sync-state").await.as_deref() == Some("online")).then_some(())
    })
    .await
    .unwrap();
    app.screenshot("technician-signed-in").await.unwrap();

    click(c, "#shift").await.unwrap();
    let tess: Technician = until("the shift to reach the platform", || async {
        let list: Vec<Technician> = admin.get("/v1/technicians").await.ok()?;
        list.into_iter().find(|t| t.name == "tess" && t.on_shift)
    })
    .await
    .unwrap();

    // The platform creates an order; the offer card appears with a live countdown.
    let (owner, car) = p.owner_with_car("olivia").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.521, 13.41))
        .await
        .unwrap();
    let card = format!(".offer[data-order='{}']", order.id);
    find(c, &card).await.unwrap();
    let first: i64 = attr(c, &format!("{card} .countdown"), "data-seconds")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        first > 0 && first <= 90,
        "countdown starts at the offer's TTL: {first}"
    );
    let later: i64 = until("the countdown to tick", || async {
        let s: i64 = attr(c, &format!("{card} .countdown"), "data-seconds")
            .await?
            .parse()
            .ok()?;
        (s < first).then_some(s)
    })
    .await
    .unwrap();
    assert!(later < first);
    // What the technician earns (the default 70 % of €89.00), the car, the area, the bar.
    let pay = shown(c, &format!("{card} .pay")).await;
    assert_eq!(pay, "You earn €62.30");
    let facts = shown(c, &format!("{card} .facts")).await;
    assert!(
        facts.contains("Car: Volkswagen Golf") && facts.contains("10999 Berlin"),
        "{facts}"
    );
    assert!(
        !facts.contains("Oranienstraße"),
        "no exact address before accepting: {facts}"
    );
    find(c, &format!("{card} .countdown-bar[role='progressbar']"))
        .await
        .unwrap();
    app.screenshot("technician-offer").await.unwrap();
    // A system notification for the offer, with the service and the time to answer.
    let shown = until("a system notification for the offer", || async {
        let t = notes.text();
        t.contains("\"New job offer\"").then_some(t)
    })
    .await
    .unwrap();
    assert!(shown.contains("Oil and filter change ·"), "{shown}");

    click(c, &format!("{card} .accept")).await.unwrap();
    find(c, &format!("#job-{}", order.id)).await.unwrap();
    let won = until("the platform to assign the job", || async {
        let o = owner.order(order.id).await;
        (o.status == OrderStatus::Assigned).then_some(o)
    })
    .await
    .unwrap();
    assert_eq!(won.technician_id, Some(tess.id));

    // The job's steps, with a note and a part on the way. A double tap on the step button
    // takes one step, not two (the button shows the next step under the same finger).
    click(c, "#next-step").await.unwrap();
    let _ = c
        .find(fantoccini::Locator::Css("#next-step"))
        .await
        .unwrap()
        .click()
        .await;
    until("the job to be en route", || async {
        let next = attr(c, "#next-step", "data-next").await;
        (next.as_deref() == Some("arrived")).then_some(())
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        attr(c, "#next-step", "data-next").await.as_deref(),
        Some("arrived"),
        "a double tap took one step"
    );
    step_in_app(&app, Some(OrderStatus::InProgress))
        .await
        .unwrap();
    ui::type_into(c, "#note-text", "Oil filter was clogged")
        .await
        .unwrap();
    click(c, "#add-note").await.unwrap();
    ui::type_into(c, "#part-name", "Oil filter").await.unwrap();
    ui::type_into(c, "#part-price", "12.50").await.unwrap();
    click(c, "#add-part").await.unwrap();
    step_in_app(&app, Some(OrderStatus::Completed))
        .await
        .unwrap();
    find(c, ".job .notes li").await.unwrap();
    app.screenshot("technician-job").await.unwrap();
    // Completing is final: it offers Undo for a few seconds before it is queued.
    until("the step button to be enabled", || async {
        let busy = attr(c, "#next-step", "aria-busy").await;
        (busy.as_deref() == Some("false")).then_some(())
    })
    .await
    .unwrap();
    click(c, "#next-step").await.unwrap();
    find(c, "#complete-undo").await.unwrap();
    app.screenshot("technician-complete-undo").await.unwrap();
    click(c, "#undo-complete").await.unwrap();
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(
        attr(c, "#next-step", "data-next").await.as_deref(),
        Some("completed"),
        "undone: the job is still in progress on the device"
    );
    assert_eq!(
        owner.order(order.id).await.status,
        OrderStatus::InProgress,
        "undone: nothing reached the platform"
    );
    step_in_app(&app, None).await.unwrap();

    let done = until("the platform to see the job completed", || async {
        let o = owner.order(order.id).await;
        (o.status == OrderStatus::Completed).then_some(o)
    })
    .await
    .unwrap();
    assert_eq!(done.job_notes.len(), 1);
    assert_eq!(done.job_notes[0].text, "Oil filter was clogged");
    assert_eq!(done.parts.len(), 1);
    assert_eq!(done.parts[0].unit_price_cents, 1250);
    let steps: Vec<OrderStatus> = done.timeline.iter().map(|t| t.status).collect();
    for s in [
        OrderStatus::EnRoute,
        OrderStatus::Arrived,
        OrderStatus::InProgress,
        OrderStatus::Completed,
    ] {
        assert_eq!(
            steps.iter().filter(|x| **x == s).count(),
            1,
            "{s:?} once: {steps:?}"
        );
    }
    find(c, &format!("#history li[data-order='{}']", order.id))
        .await
        .unwrap();
    until("today's earnings to count the job", || async {
        let t = text(c, "#earned-today").await?;
        t.contains("€62.30 · 1 job").then_some(())
    })
    .await
    .unwrap();

    // A GPS trace was recorded by the desktop's simulated drive and uploaded.
    let tr: Vec<Technician> = admin.get("/v1/technicians").await.unwrap();
    let me = tr.iter().find(|t| t.id == tess.id).unwrap();
    assert!(me.fix_at.is_some(), "positions reached the platform");

    // Offline: a second job, accepted online, then the network goes away.
    let second: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.522, 13.41))
        .await
        .unwrap();
    let card = format!(".offer[data-order='{}']", second.id);
    click(c, &format!("{card} .accept")).await.unwrap();
    until("the second job to be assigned", || async {
        (status_of(&owner, second.id).await == OrderStatus::Assigned).then_some(())
    })
    .await
    .unwrap();
    find(c, &format!("#job-{}", second.id)).await.unwrap();
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let tapped = pitstop_tests::now_ms();
    step_in_app(&app, Some(OrderStatus::Arrived)).await.unwrap();
    step_in_app(&app, Some(OrderStatus::InProgress))
        .await
        .unwrap();
    until("the badge to show offline with 2 pending", || async {
        let state = text(c, "#sync-state").await?;
        let pending = attr(c, "#sync", "data-pending").await?;
        (state == "offline" && pending == "2").then_some(())
    })
    .await
    .unwrap();
    app.screenshot("technician-offline").await.unwrap();
    // The badge says how long the queue has waited and why it waits, in plain words.
    let oldest = text(c, "#sync-oldest").await.unwrap();
    assert!(oldest.starts_with("oldest waiting"), "{oldest}");
    let why = text(c, "#sync-error").await.unwrap();
    assert!(
        why.starts_with("cannot reach the platform;") && !why.contains("http"),
        "{why}"
    );
    assert_eq!(status_of(&owner, second.id).await, OrderStatus::Assigned);

    // Some seconds pass before the network comes back: the steps keep their tap time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restored = pitstop_tests::now_ms();
    proxy.set(Faults::default());
    // The badge's "Sync now" does not wait for the backoff (up to 30 s after an outage);
    // pressed again every second or so in case a round meets a connection the outage cut.
    click(c, "#sync-now").await.unwrap();
    let polls = std::cell::Cell::new(0u32);
    let synced = until("both steps to arrive", || async {
        let o = owner.order(second.id).await;
        polls.set(polls.get() + 1);
        if o.status != OrderStatus::Arrived && polls.get().is_multiple_of(8) {
            ui::click_if_present(c, "#sync-now").await;
        }
        (o.status == OrderStatus::Arrived).then_some(o)
    })
    .await
    .unwrap();
    let steps: Vec<OrderStatus> = synced.timeline.iter().map(|t| t.status).collect();
    assert_eq!(
        steps.iter().filter(|s| **s == OrderStatus::EnRoute).count(),
        1,
        "{steps:?}"
    );
    // The timeline says when the step was tapped, not when it reached the platform.
    let set_off = synced
        .timeline
        .iter()
        .find(|t| t.status == OrderStatus::EnRoute)
        .unwrap();
    assert!(
        set_off.at >= tapped - 1000 && set_off.at < restored - 2000,
        "set off at {} (tapped {tapped}, network back {restored})",
        set_off.at
    );
    assert_eq!(
        steps.iter().filter(|s| **s == OrderStatus::Arrived).count(),
        1,
        "{steps:?}"
    );
    until("the badge to show nothing pending", || async {
        (attr(c, "#sync", "data-pending").await.as_deref() == Some("0")).then_some(())
    })
    .await
    .unwrap();

    // A note typed offline on a job the platform closes meanwhile: the badge says which
    // action was refused, and why.
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    ui::type_into(c, "#note-text", "gate code 4711")
        .await
        .unwrap();
    click(c, "#add-note").await.unwrap();
    until("the note to wait offline", || async {
        (attr(c, "#sync", "data-pending").await.as_deref() == Some("1")).then_some(())
    })
    .await
    .unwrap();
    // The same technician finishes the job from another device.
    let other_phone = p.login("tess", Role::Technician, None).await;
    for s in [OrderStatus::InProgress, OrderStatus::Completed] {
        let r = other_phone.step(second.id, s).await;
        assert_eq!(r.status, 200, "{}", r.detail());
    }
    proxy.set(Faults::default());
    let polls = std::cell::Cell::new(0u32);
    let what = until("the refusal to show", || async {
        polls.set(polls.get() + 1);
        if polls.get().is_multiple_of(8) {
            ui::click_if_present(c, "#sync-now").await;
        }
        text(c, "#sync .failed .what").await
    })
    .await
    .unwrap();
    assert_eq!(
        what,
        format!("Note on order {}: “gate code 4711”", second.id)
    );
    let row = text(c, "#sync .failed").await.unwrap();
    assert!(row.contains("Not done:") && row.contains("closed"), "{row}");
    app.screenshot("technician-refused").await.unwrap();

    app.close().await;
    p.stop().await;
}

#[tokio::test]
async fn owner_books_at_the_shown_price_and_tracks_the_master() {
    let _one = ONE_APP.lock().await;
    let geo = pitstop_tests::LocalGeocoder::start().await;
    let geo_url = geo.url.clone();
    let p = TestPlatform::start_with(|c| {
        c.geocoder_url = Some(geo_url);
        c.geocoder_per_second = 50;
    })
    .await;
    let tech = p
        .technician_at("max", &["oil", "brakes"], 52.50, 13.37)
        .await;
    let bus = ui::SessionBus::start().await.expect("a D-Bus session bus");
    let notes = ui::Notifications::watch(&bus).await.expect("dbus-monitor");
    let mut env = app_env(&p.base, "owner", "oona");
    env.push(("DBUS_SESSION_BUS_ADDRESS", bus.address.clone()));
    let app = App::start(&env)
        .await
        .expect("the app starts under tauri-driver");
    let c = &app.client;

    // First the car (VIN checked by the platform), then the booking form.
    add_car(c).await;

    // Where the car is: found by address search, then the pin nudged onto the right spot.
    ui::type_into(c, "#place-address", "oranien 25")
        .await
        .unwrap();
    click(c, "#place-search").await.unwrap();
    click(c, ".place-result").await.unwrap();
    until("the chosen address's pin", || async {
        let t = text(c, "#place-coords").await?;
        t.contains("52.50090, 13.42160").then_some(())
    })
    .await
    .unwrap();
    app.screenshot("owner-place").await.unwrap();
    ui::click_at(c, "#book-place svg.map", 30.0, 20.0)
        .await
        .unwrap();
    until("the pin to move", || async {
        let t = text(c, "#place-coords").await?;
        (!t.contains("52.50090, 13.42160")).then_some(())
    })
    .await
    .unwrap();
    ui::type_into(c, "#place-note", "Level -2, bay 41")
        .await
        .unwrap();

    ui::select(c, "#book-service", "brake_pads").await.unwrap();
    let brake = services::find("brake_pads").unwrap();
    let price_line = until("the price of the chosen service", || async {
        let t = text(c, "#book-price").await?;
        t.contains("€189.00").then_some(t)
    })
    .await
    .unwrap();
    assert!(price_line.contains("fixed price"), "{price_line}");
    // What the price is made of, adding up to it, before booking.
    let parts = shown(c, "#book-breakdown").await;
    assert!(
        parts.contains("Labour") && parts.contains("Standard parts") && parts.contains("€189.00"),
        "{parts}"
    );
    app.screenshot("owner-booking").await.unwrap();
    // Booking asks once more, with the price on the button.
    click(c, "#book-submit").await.unwrap();
    let confirm = text(c, "#book-submit").await.unwrap();
    assert_eq!(confirm, "Confirm booking for €189.00");
    // A click right after (a double click on Book) does not book yet.
    click(c, "#book-submit").await.unwrap();
    let owner = p.login("oona", Role::Owner, None).await;
    let before: Vec<Order> = owner.get("/v1/orders").await.unwrap();
    assert!(before.is_empty(), "nothing is booked before confirming");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    click(c, "#book-submit").await.unwrap();

    let order = until("the booking to reach the platform", || async {
        let list: Vec<Order> = owner.get("/v1/orders").await.ok()?;
        list.into_iter().next()
    })
    .await
    .unwrap();
    assert_eq!(order.service, "brake_pads");
    assert_eq!(order.price_cents, brake.price_cents);
    // The place went with it: the searched address (a nudge keeps it), the moved pin, the note.
    assert_eq!(order.address, "Oranienstraße 25, 10999 Berlin");
    assert_eq!(order.place_note, "Level -2, bay 41");
    let moved = geo::haversine_m(order.lat, order.lon, 52.5009, 13.4216);
    assert!(moved > 1.0 && moved < 150.0, "the pin moved {moved} m");

    // The master accepts and drives; the owner's map follows with an ETA.
    tech.set_off(order.id).await;
    let _: LocationAck = tech
        .post("/v1/locations", &pitstop_tests::fix_batch(1, 52.52, 13.38))
        .await
        .unwrap();
    let eta0: i64 = until("the ETA on the owner's map", || async {
        attr(c, "#eta", "data-eta").await?.parse().ok()
    })
    .await
    .unwrap();
    find(c, "#marker-tech").await.unwrap();
    let _: LocationAck = tech
        .post("/v1/locations", &pitstop_tests::fix_batch(2, 52.51, 13.40))
        .await
        .unwrap();
    until("the marker to move and the ETA to shrink", || async {
        let lat: f64 = attr(c, "#marker-tech", "data-lat").await?.parse().ok()?;
        let eta: i64 = attr(c, "#eta", "data-eta").await?.parse().ok()?;
        (lat < 52.515 && eta < eta0).then_some(())
    })
    .await
    .unwrap();
    // Who is coming and how fresh the position is.
    let master = shown(c, "#track-master").await;
    assert!(master.contains("Your master: max"), "{master}");
    let age = shown(c, "#track-age").await;
    assert!(
        age.starts_with("Updated ") && age.ends_with(" s ago"),
        "{age}"
    );
    // The owner heard that the master is on the way, once, as a system notification.
    // ("A master accepted" may be skipped: a device that syncs both changes at once
    // announces only where the job is now.)
    let heard = until("a notification that the master is on the way", || async {
        notes
            .text()
            .contains("Your master is on the way")
            .then_some(())
    })
    .await;
    assert!(heard.is_ok(), "notifications seen: {}", notes.text());
    assert_eq!(notes.text().matches("Your master is on the way").count(), 1);
    click(c, "#share").await.unwrap();
    let url = find(c, "#share-url").await.unwrap().text().await.unwrap();
    assert!(url.starts_with(&format!("{}/app/?track=", p.base)), "{url}");
    find(c, "#share-copy").await.unwrap();
    app.screenshot("owner-tracking").await.unwrap();
    // The link stays the same until the owner turns it off, also when the view is drawn
    // afresh (here: in Chinese, then English again); then it stops working.
    click(c, "#lang-zh").await.unwrap();
    let again = find(c, "#share-url").await.unwrap().text().await.unwrap();
    assert_eq!(again, url, "the same link, not a new one");
    app.screenshot("owner-tracking-zh-CN").await.unwrap();
    click(c, "#lang-en").await.unwrap();
    find(c, "#share-url").await.unwrap();
    click(c, "#share-off").await.unwrap();
    find(c, "#share").await.unwrap();
    let token = url.rsplit('=').next().unwrap();
    let gone = p
        .anonymous()
        .send(reqwest::Method::GET, &format!("/v1/track/{token}"), None)
        .await;
    gone.problem(404);

    app.close().await;
    p.stop().await;
}

#[tokio::test]
async fn desk_creates_a_walk_in_and_assigns_it_by_hand() {
    let _one = ONE_APP.lock().await;
    let p = TestPlatform::start().await;
    let ws = p.workshop("Pitstop Mitte").await;
    let app = App::start(&{
        let mut env = app_env(&p.base, "desk", "dana");
        env.push(("PITSTOP_WORKSHOP", ws.to_string()));
        env
    })
    .await
    .expect("the app starts under tauri-driver");
    let c = &app.client;

    // A walk-in while nobody is on shift: dispatch finds no one and says why.
    find(c, "#walk-in").await.unwrap();
    ui::type_into(c, "#walkin-vin", "1HGCM82633A004352")
        .await
        .unwrap();
    ui::type_into(c, "#walkin-plate", "B-WI 7").await.unwrap();
    ui::type_into(c, "#walkin-make", "Honda").await.unwrap();
    ui::type_into(c, "#walkin-model", "Accord").await.unwrap();
    ui::type_into(c, "#walkin-customer", "Wei Zhang")
        .await
        .unwrap();
    ui::type_into(c, "#walkin-phone", "+49 170 7654321")
        .await
        .unwrap();
    ui::select(c, "#walkin-service", "oil_change")
        .await
        .unwrap();
    // A double click creates one order, and the form is emptied for the next customer.
    click(c, "#walkin-submit").await.unwrap();
    let _ = c
        .find(fantoccini::Locator::Css("#walkin-submit"))
        .await
        .unwrap()
        .click()
        .await;
    let desk = p.login("dana", Role::Desk, Some(ws)).await;
    let order = until("the walk-in to reach the platform", || async {
        let list: Vec<Order> = desk.get("/v1/orders").await.ok()?;
        list.into_iter()
            .find(|o| o.status == OrderStatus::Unassigned)
    })
    .await
    .unwrap();
    until("the walk-in form to be emptied", || async {
        let vin = attr(c, "#walkin-vin", "value").await;
        (vin.as_deref() == Some("")).then_some(())
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all: Vec<Order> = desk.get("/v1/orders").await.unwrap();
    assert_eq!(all.len(), 1, "a double click booked once: {all:?}");
    assert_eq!(order.vehicle.plate, "B-WI 7");
    assert_eq!(order.workshop_id, Some(ws));
    let ticket = format!(
        ".column[data-column='Waiting'] .ticket[data-order='{}']",
        order.id
    );
    find(c, &ticket).await.unwrap();

    // A technician of the workshop comes on shift; the desk assigns the order by hand.
    let tech = p.login("wolf", Role::Technician, Some(ws)).await;
    tech.setup_technician(&["oil"], 52.52, 13.40).await;
    // Going on shift may already offer the waiting order to them; assigning by hand works
    // from either state and withdraws the offer.
    click(c, &format!(".ticket[data-order='{}']", order.id))
        .await
        .unwrap();
    find(c, "#order-detail").await.unwrap();
    until("the technician in the list", || async {
        let el = c
            .find(fantoccini::Locator::Css(&format!(
                "#assign-tech option[value='{}']",
                tech.id()
            )))
            .await
            .ok()?;
        Some(el)
    })
    .await
    .unwrap();
    ui::select(c, "#assign-tech", &tech.id().to_string())
        .await
        .unwrap();
    click(c, "#assign").await.unwrap();
    let assigned = until("the order to be assigned", || async {
        let o = desk.order(order.id).await;
        (o.status == OrderStatus::Assigned).then_some(o)
    })
    .await
    .unwrap();
    assert_eq!(assigned.technician_id, Some(tech.id()));
    find(
        c,
        &format!(
            ".column[data-column='Assigned'] .ticket[data-order='{}']",
            order.id
        ),
    )
    .await
    .unwrap();
    // On the map as busy.
    find(c, &format!("#tech-{}.busy", tech.id())).await.unwrap();
    app.screenshot("desk-board").await.unwrap();
    // The detail shows who is on it; the desk cancels with a reason the customer sees.
    let people = shown(c, "#detail-people").await;
    assert!(people.contains("Technician: wolf"), "{people}");
    assert!(people.contains("Customer: Wei Zhang"), "{people}");
    // The walk-in's phone is for the relay only: a Call button, never the number.
    find(c, "#desk-call-customer").await.unwrap();
    let page = c.source().await.unwrap();
    assert!(
        !page.contains("7654321"),
        "the customer's number is not on the page"
    );
    click(c, "#desk-cancel-start").await.unwrap();
    ui::select(c, "#desk-cancel-reason", "Booked twice by mistake")
        .await
        .unwrap();
    app.screenshot("desk-cancel").await.unwrap();
    click(c, "#desk-cancel-order").await.unwrap();
    let cancelled = until("the order to be cancelled", || async {
        let o = desk.order(order.id).await;
        (o.status == OrderStatus::Cancelled).then_some(o)
    })
    .await
    .unwrap();
    let last = cancelled.timeline.last().unwrap();
    assert_eq!(last.note.as_deref(), Some("Booked twice by mistake"));
    // The detail is a drawer over the board: the walk-in form stays reachable under it,
    // and Close (or Escape) puts the drawer away.
    find(c, "#walk-in").await.unwrap();
    click(c, "#detail-close").await.unwrap();
    gone(c, "#order-detail", "the drawer to close").await;
    click(c, &format!(".ticket[data-order='{}']", order.id))
        .await
        .unwrap();
    find(c, "#order-detail").await.unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys("\u{E00C}")
        .await
        .unwrap();
    gone(c, "#order-detail", "Escape to close the drawer").await;

    app.close().await;
    p.stop().await;
}

#[tokio::test]
async fn a_new_owner_signs_in_with_a_code_and_signs_out_only_when_nothing_is_lost() {
    let _one = ONE_APP.lock().await;
    let p = TestPlatform::start().await;
    let proxy = FaultProxy::start(p.addr()).await;
    // No role or name: the app opens on its sign-in screen.
    let env = vec![("PITSTOP_PLATFORM", proxy.base())];
    let app = App::start(&env)
        .await
        .expect("the app starts under tauri-driver");
    let c = &app.client;

    // A number without its country code is explained next to the field.
    ui::type_into(c, "#signin-address", "138 0013 8000")
        .await
        .unwrap();
    click(c, "#signin-send").await.unwrap();
    let e = text(c, "#signin-error").await.unwrap();
    assert!(e.contains("country code"), "{e}");
    app.screenshot("signin-address").await.unwrap();

    find(c, "#signin-address")
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    ui::type_into(c, "#signin-address", "+86 138 0013 8000")
        .await
        .unwrap();
    click(c, "#signin-send").await.unwrap();
    let sent = shown(c, "#signin-sent").await;
    assert!(sent.contains("+86•••8000"), "{sent}");
    let code = p
        .platform
        .dev_code("+8613800138000")
        .expect("a code was sent");

    // A wrong code says so, with the tries left.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    ui::type_into(c, "#signin-code", wrong).await.unwrap();
    click(c, "#signin-submit").await.unwrap();
    until("the wrong code to be refused", || async {
        let e = text(c, "#signin-error").await?;
        e.contains("not right").then_some(())
    })
    .await
    .unwrap();
    // The right code: a new number, so the app asks for a name first.
    find(c, "#signin-code")
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    ui::type_into(c, "#signin-code", &code).await.unwrap();
    click(c, "#signin-submit").await.unwrap();
    find(c, "#signin-newname").await.unwrap();
    app.screenshot("signin-code-new-owner").await.unwrap();
    ui::type_into(c, "#signin-newname", "王芳").await.unwrap();
    click(c, "#signin-submit").await.unwrap();
    let who = shown(c, "#account-name").await;
    assert!(who.contains("王芳") && who.contains("owner"), "{who}");

    // A car (online), then a booking made with no network: it waits on the device.
    add_car(c).await;
    find(c, "#book-submit").await.unwrap();
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    book_in_app(c).await;
    // Signing out now would lose the booking: the app lists it and asks.
    click(c, "#sign-out").await.unwrap();
    let listed = shown(c, "#sign-out-confirm").await;
    assert!(listed.contains("Booking"), "{listed}");
    app.screenshot("sign-out-unsent").await.unwrap();
    click(c, "#sign-out-keep").await.unwrap();
    find(c, "#account-name").await.unwrap();

    // The network is back; the booking reaches the platform; now signing out is clean.
    proxy.set(Faults::default());
    let account: Account = until("the booking to reach the platform", || async {
        let (account, n) = account_and_orders(&p, "+8613800138000")?;
        (n == 1).then_some(account)
    })
    .await
    .unwrap();
    // The device settles the platform's answer right after; then signing out goes through.
    until("signing out once nothing waits", || async {
        let present = |css: &'static str| async move {
            c.find_all(fantoccini::Locator::Css(css))
                .await
                .map(|v| !v.is_empty())
                .unwrap_or(false)
        };
        if present("#sign-out-keep").await {
            click(c, "#sign-out-keep").await.ok()?;
        }
        click(c, "#sign-out").await.ok()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        present("#signin-address").await.then_some(())
    })
    .await
    .unwrap();
    // The session ended on the platform too.
    let live = p
        .platform
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM sessions WHERE account_id = ?1 AND revoked_at IS NULL",
                [account.id],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    assert_eq!(live, 0, "signing out ended the session on the platform");
    app.close().await;
    p.stop().await;
}

#[tokio::test]
async fn the_app_reopens_onto_its_data_with_no_network_and_renews_its_session_when_it_is_back() {
    let _one = ONE_APP.lock().await;
    let p = TestPlatform::start().await;
    let proxy = FaultProxy::start(p.addr()).await;
    // The session's refresh token goes to the kernel keyring of this "login session".
    let keyring = ui::KeyringKeeper::start(&format!("pitstop-e2e-{}", std::process::id()))
        .expect("a session keyring");
    let env = vec![("PITSTOP_PLATFORM", proxy.base())];
    let app = App::start_with(&env, tempfile::tempdir().unwrap(), Some(&keyring.name))
        .await
        .expect("the app starts under tauri-driver");
    let c = &app.client;
    ui::type_into(c, "#signin-address", "+49 151 2345 6789")
        .await
        .unwrap();
    click(c, "#signin-send").await.unwrap();
    find(c, "#signin-code").await.unwrap();
    let code = p.platform.dev_code("+4915123456789").expect("a code");
    ui::type_into(c, "#signin-code", &code).await.unwrap();
    click(c, "#signin-submit").await.unwrap();
    ui::type_into(c, "#signin-newname", "Greta").await.unwrap();
    click(c, "#signin-submit").await.unwrap();
    find(c, "#account-name").await.unwrap();
    add_car(c).await;
    book_in_app(c).await;
    let owner: Account = until("the booking to reach the platform", || async {
        let (account, n) = account_and_orders(&p, "+4915123456789")?;
        (n == 1).then_some(account)
    })
    .await
    .unwrap();
    let data = app.close_keep_data().await;

    // No network at all; the app starts again on the same device.
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let app = App::start_with(&env, data, Some(&keyring.name))
        .await
        .expect("the app starts again");
    let c = &app.client;
    let who = find(c, "#account-name")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(who.contains("Greta"), "{who}");
    // The booking made before is there, read from the device.
    let orders = find(c, "#orders").await.unwrap().text().await.unwrap();
    assert!(orders.contains("Oil and filter change"), "{orders}");
    // The owner view has the sync badge too: it says the platform is out of reach.
    until("the badge to say offline", || async {
        (text(c, "#sync-state").await.as_deref() == Some("offline")).then_some(())
    })
    .await
    .unwrap();
    app.screenshot("owner-reopened-offline").await.unwrap();
    // The access token it kept has expired on purpose; once the network is back the app
    // renews it with the refresh token from the keyring (the session rotates) and syncs.
    proxy.set(Faults::default());
    until("the session to be renewed", || async {
        p.platform
            .read(|conn| {
                Ok(conn.query_row(
                    "SELECT COUNT(*) FROM sessions WHERE account_id = ?1 \
                     AND revoked_at IS NULL AND prev_refresh_hash IS NOT NULL",
                    [owner.id],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .ok()
            .filter(|n| *n == 1)
    })
    .await
    .unwrap();
    // The owner cancels, with a reason, after confirming.
    // (Clicked again if the view re-rendered under the first click: syncs refresh it.)
    until("the cancel confirmation", || async {
        let shown = |css: &'static str| async move {
            c.find_all(fantoccini::Locator::Css(css))
                .await
                .map(|v| !v.is_empty())
                .unwrap_or(false)
        };
        if !shown("#cancel-confirm").await {
            click(c, "#cancel-start").await.ok()?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        shown("#cancel-confirm").await.then_some(())
    })
    .await
    .unwrap();
    app.screenshot("owner-cancel-confirm").await.unwrap();
    ui::select(c, "#cancel-reason", "The car is already fixed")
        .await
        .unwrap();
    click(c, "#cancel-order").await.unwrap();
    let cancelled = until("the cancellation to reach the platform", || async {
        let who = pitstop_platform::auth::Caller::internal(owner.id, Role::Owner, "Greta", None);
        let list = p
            .platform
            .read(|conn| {
                pitstop_platform::orders::list(conn, &who, Some(OrderStatus::Cancelled), 10)
            })
            .ok()?;
        list.into_iter().next()
    })
    .await
    .unwrap();
    let step = cancelled
        .timeline
        .iter()
        .find(|t| t.status == OrderStatus::Cancelled)
        .unwrap();
    assert_eq!(step.note.as_deref(), Some("The car is already fixed"));
    app.close().await;
    p.stop().await;
}

#[tokio::test]
async fn technician_sees_where_the_car_is_navigates_and_calls_through_a_masked_number() {
    let _one = ONE_APP.lock().await;
    let p = TestPlatform::start_with(|c| {
        c.offer_ttl = Duration::from_secs(90);
        c.relay = Some(pitstop_platform::contact::RelayConfig {
            number: "+493000000000".into(),
            secret: "relay-secret".into(),
        });
    })
    .await;
    let admin = p.admin().await;
    let app = App::start(&app_env(&p.base, "technician", "tina"))
        .await
        .expect("the app starts under tauri-driver");
    let c = &app.client;
    click(c, "#shift").await.unwrap();
    let tina: Technician = until("the shift to reach the platform", || async {
        let list: Vec<Technician> = admin.get("/v1/technicians").await.ok()?;
        list.into_iter().find(|t| t.name == "tina" && t.on_shift)
    })
    .await
    .unwrap();
    p.set_phone(tina.id, "+491709999999");
    let (owner, car) = p.owner_with_car("olivia").await;
    p.set_phone(owner.id(), "+491701234567");
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.521, 13.41))
        .await
        .unwrap();
    click(c, &format!(".offer[data-order='{}'] .accept", order.id))
        .await
        .unwrap();
    find(c, &format!("#job-{}", order.id)).await.unwrap();

    // Where, how to find the car, and how far (once the platform has confirmed the job:
    // until then the device shows the offer's rough area).
    until("the job's address", || async {
        let a = text(c, "#job-address").await?;
        (a == "Oranienstraße 25, 10999 Berlin").then_some(())
    })
    .await
    .unwrap();
    assert_eq!(shown(c, "#job-place-note").await, "Courtyard, second gate");
    find(c, "#job-distance").await.unwrap();
    find(c, ".job #marker-dest").await.unwrap();
    // Navigate hands the car's position to the maps app (a web map on a desktop).
    let nav = attr(c, "#navigate", "href").await.unwrap();
    assert_eq!(
        nav,
        geo::navigate_uri(geo::MapsApp::Web, 52.521, 13.41, "Volkswagen B-PS 1")
    );
    // Call goes through the relay: its number and a PIN, never the customer's number.
    click(c, "#call-customer").await.unwrap();
    let call = until("the masked number", || async {
        attr(c, "#call-link", "href").await
    })
    .await
    .unwrap();
    assert!(call.starts_with("tel:+493000000000,,"), "{call}");
    let page = c.source().await.unwrap();
    assert!(
        !page.contains("1701234567"),
        "the customer's number is on the page"
    );
    app.screenshot("technician-job-place").await.unwrap();

    // Going off shift with the job asks first; staying keeps the shift.
    click(c, "#shift").await.unwrap();
    find(c, "#off-shift-confirm").await.unwrap();
    app.screenshot("technician-off-shift-confirm")
        .await
        .unwrap();
    click(c, "#off-shift-stay").await.unwrap();
    gone(c, "#off-shift-confirm", "the question to go away").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let me: Vec<Technician> = admin.get("/v1/technicians").await.unwrap();
    assert!(
        me.iter().any(|t| t.id == tina.id && t.on_shift),
        "still on shift"
    );
    click(c, "#shift").await.unwrap();
    click(c, "#off-shift-anyway").await.unwrap();
    until("the shift to end on the platform", || async {
        let list: Vec<Technician> = admin.get("/v1/technicians").await.ok()?;
        list.into_iter().find(|t| t.id == tina.id && !t.on_shift)
    })
    .await
    .unwrap();
    assert_eq!(owner.order(order.id).await.technician_id, Some(tina.id));

    app.close().await;
    p.stop().await;
}
