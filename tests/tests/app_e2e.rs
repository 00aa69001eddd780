//! The desktop app end to end: the real Tauri binary in a WebKit window under Xvfb, driven
//! through tauri-driver + WebKitWebDriver, against a real platform on 127.0.0.1. Screenshots
//! of each view land in `target/screenshots/`.
//!
//! Needs `./scripts/setup.sh` (Xvfb, webkit2gtk-driver, tauri-driver) and the app built
//! (`./scripts/build-ui.sh && cargo build -p pitstop-app`); `./scripts/test.sh` does both.

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::proxy::{FaultProxy, Faults};
use pitstop_tests::ui::{self, App, attr, click, find, screenshot, text, until};
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

/// Clicks the job's step button and waits until the button offers the step after it.
async fn step_in_app(app: &App, expect_next: Option<OrderStatus>) -> anyhow::Result<()> {
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
    let app = App::start(&app_env(&proxy.base(), "technician", "tess"))
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
    screenshot(c, "technician-signed-in").await.unwrap();

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
    screenshot(c, "technician-offer").await.unwrap();

    click(c, &format!("{card} .accept")).await.unwrap();
    find(c, &format!("#job-{}", order.id)).await.unwrap();
    let won = until("the platform to assign the job", || async {
        let o = owner.order(order.id).await;
        (o.status == OrderStatus::Assigned).then_some(o)
    })
    .await
    .unwrap();
    assert_eq!(won.technician_id, Some(tess.id));

    // The job's steps, with a note and a part on the way.
    step_in_app(&app, Some(OrderStatus::Arrived)).await.unwrap();
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
    screenshot(c, "technician-job").await.unwrap();
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
    screenshot(c, "technician-offline").await.unwrap();
    assert_eq!(status_of(&owner, second.id).await, OrderStatus::Assigned);

    proxy.set(Faults::default());
    let synced = until("both steps to arrive", || async {
        let o = owner.order(second.id).await;
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

    app.close().await;
    p.stop().await;
}
