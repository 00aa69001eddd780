//! The desk board with 500 orders in a real headless Chromium (the web UI served by the
//! platform): how long the first drawing of the board takes once its data is in hand, and
//! how long a search takes to redraw it. `cargo bench -p pitstop-tests --bench desk`
//! (`-- --quick` for fewer runs). Needs `./scripts/setup.sh` and `./scripts/build-ui.sh`.

use pitstop_api::*;
use pitstop_tests::ui::{Browser, find, screenshot};
use pitstop_tests::{TestPlatform, new_order};

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// What the board's counter says ("500 of 500 orders").
async fn board_count(c: &fantoccini::Client) -> String {
    c.execute(
        "return document.querySelector('#board-count').textContent",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    println!("{}", pitstop_tests::machine());
    let p = TestPlatform::start_with_ui().await;
    let ws = p.workshop("Busy day").await;
    let desk = p.login("bench-desk", Role::Desk, Some(ws)).await;
    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let who =
        pitstop_platform::auth::Caller::internal(desk.id(), Role::Desk, "bench-desk", Some(ws));
    p.book_directly(&who, &new_order(v.id, "oil_change", 52.52, 13.40), 500);

    let browser = Browser::start().await.expect("chromium under chromedriver");
    let c = &browser.client;
    let url = format!("{}/app/?role=desk&name=bench-desk&workshop={ws}", p.base);
    let loads = if quick { 3 } else { 10 };
    let mut first = Vec::new();
    for _ in 0..loads {
        c.goto(&url).await.unwrap();
        find(c, "#board-count").await.unwrap();
        let ms = c
            .execute(
                "const d = performance.getEntriesByName('desk-data').pop();
                 const b = performance.getEntriesByName('desk-board-drawn').filter(m => m.startTime >= d.startTime)[0];
                 return b.startTime - d.startTime;",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        first.push(ms);
    }
    let count = board_count(c).await;
    assert_eq!(count, "500 of 500 orders", "all 500 on the board");
    screenshot(c, "desk-500").await.unwrap();

    let runs = if quick { 10 } else { 50 };
    let mut search = Vec::new();
    for i in 0..runs {
        let q = if i % 2 == 0 {
            format!("#{}", 100 + i)
        } else {
            String::new()
        };
        let ms = c
            .execute_async(
                "const [q, done] = [arguments[0], arguments[arguments.length - 1]];
                 const input = document.querySelector('#desk-search');
                 const t0 = performance.now();
                 input.value = q;
                 input.dispatchEvent(new InputEvent('input', {bubbles: true}));
                 requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));",
                vec![q.clone().into()],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        search.push(ms);
        if i == 0 {
            let one = board_count(c).await;
            assert_eq!(one, "1 of 500 orders", "searching #100 finds one order");
        }
    }
    let found = board_count(c).await;
    println!("(after the last search the board says: {found})");
    screenshot(c, "desk-500-search").await.unwrap();
    browser.close().await;
    println!(
        "desk board, 500 orders, headless Chromium: first drawing after the data p50 {:.1} ms, max {:.1} ms ({} loads); search redraw p50 {:.1} ms, p99 {:.1} ms ({} searches)",
        percentile(&mut first.clone(), 0.5),
        first.iter().cloned().fold(0.0, f64::max),
        first.len(),
        percentile(&mut search.clone(), 0.5),
        percentile(&mut search, 0.99),
        runs
    );
}
