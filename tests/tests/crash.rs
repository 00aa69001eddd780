//! Crash safety: a child process running the sync worker (`pitstop sync --until-empty`) is
//! killed with SIGKILL at random moments, over and over, while local actions keep being
//! queued. In the end every action is applied on the platform exactly once.
//!
//! `PITSTOP_CRASH_RUNS` sets the number of kills (default 12; try 200 for a soak).

use std::process::Stdio;
use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::TestPlatform;
use rand::Rng;

const CLI: &str = env!("CARGO_BIN_EXE_pitstop-cli");

async fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(CLI)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .await
        .expect("run pitstop-cli")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_sync_worker_applies_every_action_exactly_once() {
    let runs: usize = std::env::var("PITSTOP_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let p = TestPlatform::start().await;
    let tech = p.technician_at("crash-tech", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("o").await;
    tech.win(order.id).await;

    let dir = p.dir.path().join("cli");
    let out = cli(
        &dir,
        &[
            "login",
            "--platform",
            &p.base,
            "--name",
            "crash-tech",
            "--role",
            "technician",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&dir, &["sync"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&dir, &["step", &order.id.to_string(), "en_route"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // This test queues actions into the same cache file the child syncs from.
    let local = pitstop_core::Client::open(pitstop_core::ClientConfig {
        cache: pitstop_core::cache_file(&dir, &p.base, tech.id()),
        platform: p.base.clone(),
        token: tech.token.clone().unwrap(),
        account_id: tech.id(),
        ..Default::default()
    })
    .unwrap();
    let mut expected = Vec::new();
    let mut killed_mid_run = 0;
    for run in 0..runs {
        for i in 0..40 {
            let text = format!("run {run} note {i}");
            local.add_note(order.id, &text).unwrap();
            expected.push(text);
        }
        let mut child = tokio::process::Command::new(CLI)
            .arg("--dir")
            .arg(&dir)
            .args(["sync", "--until-empty"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let wait_ms = rand::rng().random_range(0..120);
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.start_kill().ok(); // SIGKILL
        let _ = child.wait().await;
    }
    // A last, undisturbed run drains whatever is left.
    let out = cli(&dir, &["sync", "--until-empty"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        killed_mid_run > 0,
        "no kill landed while the worker ran; the test proves nothing"
    );

    let server = owner.order(order.id).await;
    // Every note, not only the newest 200 the order answer carries.
    let notes: Vec<JobLine> = owner
        .get(&format!(
            "/v1/orders/{}/lines?kind=note&limit=1000",
            order.id
        ))
        .await
        .unwrap();
    assert_eq!(server.line_counts.notes as usize, notes.len());
    let mut got: Vec<String> = notes
        .iter()
        .filter_map(|l| match &l.body {
            LineBody::Note { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got.len(), expected.len(), "notes lost or applied twice");
    assert_eq!(got, expected);
    assert_eq!(server.status, OrderStatus::EnRoute);
    assert_eq!(local.status().unwrap().pending, 0);
    assert!(local.status().unwrap().failed.is_empty());
}
