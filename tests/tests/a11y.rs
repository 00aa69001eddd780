//! Accessibility: axe-core (pinned, fetched by `scripts/setup.sh`) runs in a real headless
//! Chromium on every view the web UI has (sign-in, technician, owner, desk, the share-link
//! tracking page), each with data on it, and must find no serious or critical violation of
//! WCAG 2.2 A/AA rules. Each view is also screenshotted at phone size.

use pitstop_api::*;
use pitstop_tests::ui::{Browser, find, screenshot};
use pitstop_tests::{TestPlatform, fix_batch, new_order};

/// The axe-core script, from the tools folder `scripts/setup.sh` fills.
fn axe_source() -> String {
    let tools = std::env::var("PITSTOP_TOOLS").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/pitstop/tools")
    });
    let path = std::path::Path::new(&tools).join("axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run ./scripts/setup.sh", path.display()))
}

/// A script's list of strings.
fn lines(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Serious and critical violations on the page now, one line each.
async fn violations(c: &fantoccini::Client, axe: &str) -> Vec<String> {
    c.execute(axe, vec![]).await.expect("axe loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe runs");
    lines(&found)
}

/// Controls smaller than 44 × 44 CSS pixels (links inside running text excepted).
async fn small_targets(c: &fantoccini::Client) -> Vec<String> {
    let found = c
        .execute(
            "return [...document.querySelectorAll('button, input, select, textarea, summary, a[href]')]
               .filter(e => e.offsetParent !== null && !(e.tagName === 'A' && e.closest('p')))
               .filter(e => e.type !== 'hidden')
               .map(e => [e, e.getBoundingClientRect()])
               .filter(([e, r]) => r.height < 44 || r.width < 44)
               .map(([e, r]) => (e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + e.className) +
                 ' ' + Math.round(r.width) + 'x' + Math.round(r.height));",
            vec![],
        )
        .await
        .expect("measuring targets");
    lines(&found)
}

#[tokio::test]
async fn every_view_passes_axe_without_serious_violations() {
    let axe = axe_source();
    let p = TestPlatform::start_with_ui().await;
    let ws = p.workshop("Mitte").await;
    let tech = p.technician_at("tom", &["oil"], 52.50, 13.40).await;
    let (owner, car) = p.owner_with_car("olga").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.52, 13.40))
        .await
        .unwrap();
    tech.set_off(order.id).await;
    let _: LocationAck = tech
        .post("/v1/locations", &fix_batch(1, 52.50, 13.40))
        .await
        .unwrap();
    // A second order waits as an offer for another technician.
    let _other = p.technician_at("tia", &["oil"], 52.51, 13.40).await;
    let _: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.53, 13.41))
        .await
        .unwrap();
    // The desk's board holds a walk-in.
    let desk = p.login("dora", Role::Desk, Some(ws)).await;
    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let _: Order = desk
        .post("/v1/orders", &new_order(v.id, "oil_change", 52.52, 13.40))
        .await
        .unwrap();
    let link = owner.share(order.id).await;

    let browser = Browser::start()
        .await
        .expect("chromium starts under chromedriver");
    let c = &browser.client;
    // A phone-sized window: the layout people use most.
    c.set_window_size(412, 915).await.unwrap();
    let views = [
        ("signin", format!("{}/app/", p.base), "#signin-address"),
        (
            "technician",
            format!("{}/app/?role=technician&name=tia", p.base),
            "#shift",
        ),
        (
            "owner",
            format!("{}/app/?role=owner&name=olga", p.base),
            "#tracking",
        ),
        (
            "desk",
            format!("{}/app/?role=desk&name=dora&workshop={ws}", p.base),
            "#board",
        ),
        (
            "tracking",
            format!("{}{}", p.base, link.path),
            "#marker-tech",
        ),
    ];
    let mut report = Vec::new();
    for (name, url, ready) in views {
        c.goto(&url).await.unwrap();
        find(c, ready)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        screenshot(c, &format!("a11y-{name}-phone")).await.unwrap();
        for v in violations(c, &axe).await {
            report.push(format!("{name}: {v}"));
        }
        for v in small_targets(c).await {
            report.push(format!("{name}: tap target under 44 px: {v}"));
        }
    }
    // The desk board works from the keyboard: a ticket takes focus and Enter opens it.
    c.goto(&format!(
        "{}/app/?role=desk&name=dora&workshop={ws}",
        p.base
    ))
    .await
    .unwrap();
    find(c, ".ticket").await.unwrap();
    c.execute("document.querySelector('.ticket').focus()", vec![])
        .await
        .unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    find(c, "#order-detail")
        .await
        .expect("Enter on a focused ticket opens it");
    browser.close().await;
    assert!(
        report.is_empty(),
        "accessibility violations:\n{}",
        report.join("\n")
    );
}
