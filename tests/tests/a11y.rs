//! Accessibility and languages: every view the web UI has (sign-in, technician, owner, desk,
//! the share-link tracking page), each with data on it, opens in a real headless Chromium in
//! English and in Simplified Chinese. In both, axe-core (pinned, fetched by
//! `scripts/setup.sh`) must find no serious or critical violation of WCAG 2.2 A/AA rules,
//! every control is at least 44 px, no message id lacks text (`⟦id⟧`), and the Chinese
//! pages hold none of the English catalogue's words. Each view is screenshotted at phone
//! size in both languages (`target/screenshots/<view>-<lang>.png`).

use pitstop_api::*;
use pitstop_tests::ui::{self, Browser, find, screenshot};
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

/// Words of the English catalogue (`ui/locales/en/*.ftl`) that the Chinese one does not also
/// use (names such as Pitstop or VIN): on a Chinese page they mean an untranslated string.
fn english_words() -> std::collections::BTreeSet<String> {
    let dir = |lang: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../ui/locales/{lang}"))
    };
    let words = |lang: &str| {
        let mut all = std::collections::BTreeSet::new();
        for f in std::fs::read_dir(dir(lang)).expect("catalogue folder") {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                // The text after `id =` (or a continuation line), without placeables.
                let value = line.split_once(" = ").map_or(line, |(_, v)| v);
                let mut plain = String::new();
                let mut depth = 0;
                for c in value.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ if depth == 0 => plain.push(c),
                        _ => {}
                    }
                }
                for w in plain.split(|c: char| !c.is_ascii_alphabetic()) {
                    if w.len() >= 4 {
                        all.insert(w.to_lowercase());
                    }
                }
            }
        }
        all
    };
    let zh = words("zh-CN");
    words("en")
        .into_iter()
        .filter(|w| !zh.contains(w))
        .collect()
}

/// What a page shows people: its text and the labels of its controls.
async fn page_words(c: &fantoccini::Client) -> String {
    c.execute(
        "return document.body.innerText + String.fromCharCode(10) +
           [...document.querySelectorAll('[placeholder],[aria-label],[title],[alt]')]
             .map(e => [e.placeholder, e.getAttribute('aria-label'), e.title, e.alt].filter(Boolean).join(' '))
             .join(String.fromCharCode(10));",
        vec![],
    )
    .await
    .expect("page text")
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn every_view_in_both_languages_passes_axe_and_is_fully_translated() {
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
        // The job card (tom is en route) and the desk's drawer (a ticket opened).
        (
            "technician-job",
            format!("{}/app/?role=technician&name=tom", p.base),
            "#job-address",
        ),
        (
            "desk-drawer",
            format!("{}/app/?role=desk&name=dora&workshop={ws}", p.base),
            ".ticket",
        ),
    ];
    let english = english_words();
    // The test's own data (names, address, notes) is not the UI's to translate.
    let data = [
        "Oranienstraße 25, 10999 Berlin",
        "Courtyard, second gate",
        "Blue car in the courtyard",
        "Volkswagen",
        "Golf",
        "Torstraße 140, 10119 Berlin",
        "Mitte",
    ];
    let mut report = Vec::new();
    for lang in ["en", "zh-CN"] {
        for (name, url, ready) in &views {
            let sep = if url.contains('?') { '&' } else { '?' };
            c.goto(&format!("{url}{sep}lang={lang}")).await.unwrap();
            find(c, ready)
                .await
                .unwrap_or_else(|e| panic!("{name} ({lang}): {e}"));
            if *name == "desk-drawer" {
                ui::click(c, ready).await.unwrap();
                find(c, "#order-detail").await.unwrap();
            }
            screenshot(c, &format!("{name}-{lang}")).await.unwrap();
            let html_lang = c
                .execute("return document.documentElement.lang", vec![])
                .await
                .unwrap();
            if html_lang.as_str() != Some(lang) {
                report.push(format!("{name} ({lang}): <html lang> is {html_lang}"));
            }
            for v in violations(c, &axe).await {
                report.push(format!("{name} ({lang}): {v}"));
            }
            for v in small_targets(c).await {
                report.push(format!("{name} ({lang}): tap target under 44 px: {v}"));
            }
            let mut text = page_words(c).await;
            for d in data {
                text = text.replace(d, " ");
            }
            for line in text.lines().filter(|l| l.contains('⟦')) {
                report.push(format!("{name} ({lang}): message without text: {line}"));
            }
            if lang == "zh-CN" {
                for line in text.lines() {
                    let hits: Vec<&str> = line
                        .split(|c: char| !c.is_ascii_alphabetic())
                        .filter(|w| english.contains(&w.to_lowercase()))
                        .collect();
                    if !hits.is_empty() {
                        report.push(format!("{name} (zh-CN): English {hits:?} in \"{line}\""));
                    }
                }
            }
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
        "accessibility or translation problems:\n{}",
        report.join("\n")
    );
}
