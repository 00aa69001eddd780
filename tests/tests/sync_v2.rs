//! Sync v2 against the real platform: job-sheet lines as their own changes, pages bounded
//! in bytes, compaction, resync past the horizon, and every state that used to jam the
//! outbox or the pull (oversized pushes, a refused booking with actions queued on it,
//! oversized pages) now drains or reports, never hangs.

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order};

/// Syncs until the outbox is empty; fails the test (never hangs) after a few rounds.
async fn drain(core: &pitstop_core::Client) {
    for _ in 0..20 {
        match core.sync_now().await {
            Ok(_) if core.status().unwrap().pending == 0 => return,
            Ok(_) => {}
            Err(e) => panic!("sync failed: {e}"),
        }
    }
    panic!("the outbox did not drain: {:?}", core.status().unwrap());
}

/// A technician with an assigned job, and that job.
async fn job(p: &TestPlatform) -> (pitstop_tests::Client, Order) {
    let tech = p.technician_at("tech", &["oil"], 52.5, 13.4).await;
    let (_owner, order) = p.book("owner").await;
    tech.wait_offer(order.id).await;
    let order = tech.win(order.id).await;
    (tech, order)
}

#[tokio::test]
async fn a_long_job_sheet_is_sent_as_lines_not_as_whole_orders() {
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    let core = p.core_client(&tech, &p.base);
    // 200 notes of 2,000 "€" (6 KB each, 1.2 MB in all): more than one request may carry.
    let note = "€".repeat(MAX_TEXT_CHARS);
    core.sync_now().await.unwrap();
    for _ in 0..200 {
        core.add_note(order.id, &note).unwrap();
    }
    drain(&core).await;
    assert!(core.status().unwrap().failed.is_empty());
    let server = tech.order(order.id).await;
    assert_eq!(server.line_counts.notes, 200, "every note arrived once");
    let local = core.order(order.id).unwrap().unwrap();
    assert_eq!(
        local.job_notes.len(),
        200,
        "the device shows each note once"
    );
    assert_eq!(local.line_counts.notes, 200);
    // The change log holds one change per line and one per order, not 200 copies of a
    // growing order: its size is linear in the job sheet.
    let bytes: i64 = p
        .platform
        .read(|c| Ok(c.query_row("SELECT sum(length(data)) FROM changes", [], |r| r.get(0))?))
        .unwrap();
    let sheet = (note.len() * 200) as i64;
    assert!(
        bytes < sheet * 2,
        "change log {bytes} B for a {sheet} B job sheet"
    );
    // A fresh device pulls it in pages of at most MAX_SYNC_PAGE_BYTES (plus one change).
    let page: serde_json::Value = tech.get("/v1/sync?cursor=0&limit=1000").await.unwrap();
    let size = serde_json::to_vec(&page).unwrap().len();
    assert!(size <= MAX_SYNC_PAGE_BYTES + 16 * 1024, "{size}");
    assert_eq!(page["has_more"], true);
    let (all, _) = tech.pull_all(0, 1000).await;
    let notes = all
        .iter()
        .filter(|c| matches!(&c.body, ChangeBody::Line(l) if l.body.kind() == "note"))
        .count();
    assert_eq!(notes, 200);
}

#[tokio::test]
async fn an_action_too_large_for_the_platform_is_refused_alone_and_the_rest_goes_on() {
    // A platform with a tiny body limit: one 2,000-"€" note (6 KB) can never be sent.
    let p = TestPlatform::start_with(|c| c.body_limit = 4 * 1024).await;
    let (tech, order) = job(&p).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    core.add_note(order.id, "before").unwrap();
    let big = core
        .add_note(order.id, &"€".repeat(MAX_TEXT_CHARS))
        .unwrap();
    for i in 0..5 {
        core.add_note(order.id, &format!("after {i}")).unwrap();
    }
    drain(&core).await;
    let status = core.status().unwrap();
    assert_eq!(status.failed.len(), 1, "{status:?}");
    assert_eq!(status.failed[0].id, big);
    assert_eq!(status.failed[0].code, Some(413));
    let reason = status.failed[0].reason.clone().unwrap();
    assert!(reason.contains("too large"), "{reason}");
    let server = tech.order(order.id).await;
    let texts: Vec<&str> = server.job_notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "before", "after 0", "after 1", "after 2", "after 3", "after 4"
        ]
    );
    // The device no longer shows the refused note.
    assert_eq!(core.order(order.id).unwrap().unwrap().job_notes.len(), 6);
}

#[tokio::test]
async fn a_refused_offline_booking_refuses_what_was_queued_on_it_and_the_queue_moves_on() {
    let p = TestPlatform::start().await;
    let ws = p.workshop("W").await;
    let other = p.workshop("Other").await;
    let desk = p.login("desk", Role::Desk, Some(ws)).await;
    let other_desk = p.login("desk-2", Role::Desk, Some(other)).await;
    let theirs: Vehicle = other_desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let ours: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let core = p.core_client(&desk, "http://127.0.0.1:9"); // offline
    core.book(new_order(theirs.id, "tyre_swap", 52.5, 13.4))
        .unwrap();
    let temp = core.orders(None, 10).unwrap()[0].id;
    core.add_note(temp, "Customer waits").unwrap();
    core.book(new_order(ours.id, "oil_change", 52.5, 13.4))
        .unwrap();
    assert_eq!(core.status().unwrap().pending, 3);
    drop(core);
    // Back online (same cache file, real platform address).
    let dir = p.dir.path().to_path_buf();
    let cache = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("cache-{}-", desk.id()))
                && f.extension().is_some_and(|e| e == "db")
        })
        .unwrap();
    let core = pitstop_core::Client::open(pitstop_core::ClientConfig {
        cache,
        platform: p.base.clone(),
        token: desk.token.clone().unwrap(),
        account_id: desk.id(),
        ..Default::default()
    })
    .unwrap();
    drain(&core).await;
    let failed = core.status().unwrap().failed;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(matches!(failed[0].op, MutationOp::OrderCreate(_)));
    assert!(matches!(failed[1].op, MutationOp::OrderNote { .. }));
    let why = failed[1].reason.clone().unwrap();
    assert!(why.contains("booking it belongs to was refused"), "{why}");
    let orders = core.orders(None, 10).unwrap();
    assert_eq!(orders.len(), 1, "only the good booking remains");
    assert_eq!(orders[0].vehicle_id, ours.id);
    assert!(orders[0].id > 0);
}

#[tokio::test]
async fn a_pending_action_the_stream_already_delivered_is_shown_once() {
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    let id = core.add_note(order.id, "checked brakes").unwrap();
    core.add_part(order.id, "pads", 2, 12000).unwrap();
    // The push reaches the platform but its answer is lost: send the same mutations from
    // outside the device, so the device still holds them as pending.
    let outbox = core.outbox().unwrap();
    let batch = PushRequest {
        mutations: outbox
            .iter()
            .map(|e| Mutation {
                id: e.id,
                at: None,
                op: e.op.clone(),
            })
            .collect(),
    };
    assert_eq!(batch.mutations[0].id, id);
    let _: PushResponse = tech.post("/v1/sync", &batch).await.unwrap();
    // The device now learns of the lines by the live stream (as a pull: same landing path)
    // while its own actions are still pending.
    let (changes, next) = tech.pull_all(0, 1000).await;
    core.land(&changes, next).unwrap();
    assert_eq!(core.status().unwrap().pending, 2);
    let local = core.order(order.id).unwrap().unwrap();
    assert_eq!(local.job_notes.len(), 1, "{:?}", local.job_notes);
    assert_eq!(local.parts.len(), 1);
    assert_eq!(
        local.parts[0].qty * local.parts[0].unit_price_cents as u32,
        24000
    );
    drain(&core).await;
    let local = core.order(order.id).unwrap().unwrap();
    assert_eq!((local.job_notes.len(), local.parts.len()), (1, 1));
}

#[tokio::test]
async fn a_device_behind_the_horizon_resyncs_with_its_outbox_intact() {
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    // More happens on the platform, then the log is pruned past the device's cursor.
    tech.shift(true, 52.51, 13.41).await;
    let _ = tech
        .post_raw(
            "/v1/locations",
            serde_json::to_value(pitstop_tests::fix_batch(1, 52.5, 13.4)).unwrap(),
        )
        .await;
    core.step(order.id, OrderStatus::EnRoute, Some("on my way".into()))
        .unwrap();
    core.add_note(order.id, "queued before the resync").unwrap();
    let pruned = p
        .platform
        .write(|tx| pitstop_platform::changes::prune(tx, i64::MAX))
        .unwrap();
    assert!(pruned > 0);
    let stale = tech
        .send(reqwest::Method::GET, "/v1/sync?cursor=1&limit=10", None)
        .await;
    assert_eq!(stale.status, 410, "{}", stale.detail());
    drain(&core).await;
    assert!(core.status().unwrap().failed.is_empty());
    let server = tech.order(order.id).await;
    assert_eq!(server.status, OrderStatus::EnRoute);
    assert_eq!(server.job_notes.len(), 1);
    let local = core.order(order.id).unwrap().unwrap();
    assert_eq!(local.status, OrderStatus::EnRoute);
    assert_eq!(local.job_notes.len(), 1);
    assert!(
        local
            .timeline
            .iter()
            .any(|t| t.status == OrderStatus::EnRoute)
    );
}

#[tokio::test]
async fn bad_cursors_and_limits_are_refused_in_plain_words() {
    let p = TestPlatform::start().await;
    let (tech, _order) = job(&p).await;
    let r = tech
        .send(reqwest::Method::GET, "/v1/sync?cursor=0&limit=0", None)
        .await;
    assert_eq!(r.status, 422, "{}", r.detail());
    let r = tech
        .send(
            reqwest::Method::GET,
            "/v1/sync?cursor=999999&limit=10",
            None,
        )
        .await;
    assert_eq!(r.status, 410);
    assert!(r.detail().contains("cursor 0"), "{}", r.detail());
    let r = tech
        .send(reqwest::Method::GET, "/v1/events?cursor=999999", None)
        .await;
    assert_eq!(r.status, 410);
}

#[tokio::test]
async fn status_survives_the_process_and_says_how_old_the_queue_is() {
    let p = TestPlatform::start().await;
    let tech = p.login("t", Role::Technician, None).await;
    let dir = tempfile::tempdir().unwrap();
    let open = |platform: &str| {
        pitstop_core::Client::open(pitstop_core::ClientConfig {
            cache: dir.path().join("c.db"),
            platform: platform.to_string(),
            token: tech.token.clone().unwrap(),
            account_id: tech.id(),
            ..Default::default()
        })
        .unwrap()
    };
    let core = open(&p.base);
    core.sync_now().await.unwrap();
    drop(core);
    let fresh = open(&p.base);
    let s = fresh.status().unwrap();
    assert!(s.online && s.last_sync.is_some(), "{s:?}");
    drop(fresh);
    let away = open("http://127.0.0.1:9");
    away.set_shift(ShiftChange {
        on_shift: true,
        lat: None,
        lon: None,
    })
    .unwrap();
    assert!(away.sync_now().await.is_err());
    drop(away);
    let fresh = open("http://127.0.0.1:9");
    let s = fresh.status().unwrap();
    assert!(!s.online, "{s:?}");
    assert!(s.last_error.unwrap().contains("cannot reach"));
    assert!(s.oldest_pending_at.is_some());
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn positions_stream_live_a_few_bytes_each_and_are_acknowledged_once() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tech", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("owner").await;
    tech.set_off(order.id).await;
    let core = p.core_client(&tech, &p.base);
    let now = pitstop_tests::now_ms();
    let mut kept = 0;
    for i in 0..30 {
        let fix = pitstop_core::location::RawFix {
            t: now - 30_000 + i * 1000,
            lat: 52.40 + i as f64 * 0.0005, // 55 m a second
            lon: 13.40,
            accuracy_m: 5.0,
            speed_mps: Some(15.0),
            heading_deg: Some(0.0),
        };
        assert!(core.record_fix(fix).unwrap().is_some());
        kept += 1;
        assert_eq!(core.stream_fixes_now().await.unwrap(), 1);
        // The owner sees this very fix while the stream stays open.
        let seen = pitstop_tests::eventually(Duration::from_secs(5), || async {
            let tr: Tracking = owner
                .get(&format!("/v1/orders/{}/tracking", order.id))
                .await
                .unwrap();
            tr.fix.filter(|f| f.t == fix.t)
        })
        .await;
        assert!(
            seen.is_some(),
            "fix {i} did not reach the owner while streaming"
        );
    }
    // In flight on the stream counts as sent for the badge.
    assert_eq!(core.status().unwrap().unsent_fixes, 0);
    let (streams, bytes) = core.lane_sent();
    assert_eq!(streams, 1, "one request for the whole drive");
    assert!(bytes < 260 + 64 + 30 * 16, "{bytes} bytes for 30 fixes");
    assert_eq!(core.end_fix_stream().await.unwrap(), kept);
    let stored: i64 = p
        .platform
        .read(|c| Ok(c.query_row("SELECT count(*) FROM fixes", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(stored, kept as i64);
    // Acknowledged: a round has nothing left to upload.
    let r = core.sync_now().await.unwrap();
    assert_eq!(r.fixes_uploaded, 0);
}

#[tokio::test]
async fn a_job_accepted_offline_can_be_worked_offline() {
    use pitstop_tests::proxy::{FaultProxy, Faults};
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tech", &["oil"], 52.5, 13.4).await;
    let proxy = FaultProxy::start(p.addr()).await;
    let core = p.core_client(&tech, &proxy.base());
    let (_owner, order) = p.book("owner").await;
    core.sync_now().await.unwrap();
    let offer = core.offers().unwrap()[0].offer.clone();
    assert_eq!(offer.order_id, order.id);
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    core.accept(offer.id).unwrap();
    // The job is on the device at once, from the offer, and can be moved on offline.
    let job = core
        .order(order.id)
        .unwrap()
        .expect("the accepted job is shown");
    assert_eq!(job.status, OrderStatus::Assigned);
    assert_eq!(job.technician_id, Some(tech.id()));
    core.step(order.id, OrderStatus::EnRoute, Some("on my way".into()))
        .unwrap();
    assert_eq!(
        core.order(order.id).unwrap().unwrap().status,
        OrderStatus::EnRoute
    );
    proxy.set(Faults::default());
    for _ in 0..20 {
        if core.sync_now().await.is_ok() && core.status().unwrap().pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(core.status().unwrap().failed.is_empty());
    let server = tech.order(order.id).await;
    assert_eq!(server.status, OrderStatus::EnRoute);
    let local = core.order(order.id).unwrap().unwrap();
    assert_eq!(local.status, OrderStatus::EnRoute);
    assert_eq!(
        local.vehicle.plate, server.vehicle.plate,
        "the real order replaced it"
    );
}

#[tokio::test]
async fn an_offer_lost_while_offline_takes_its_queued_steps_with_it() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tech", &["oil"], 52.5, 13.4).await;
    let (_owner, order) = p.book("owner").await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    let offer = core.offers().unwrap()[0].offer.clone();
    // Someone at the desk assigns it elsewhere while this device queues its answer.
    let rival = p.technician_at("rival", &["oil"], 52.5, 13.4).await;
    let admin = p.admin().await;
    let _: Order = admin
        .post(
            &format!("/v1/orders/{}/dispatch", order.id),
            &DispatchRequest {
                technician_id: Some(rival.id()),
            },
        )
        .await
        .unwrap();
    core.accept(offer.id).unwrap();
    core.step(order.id, OrderStatus::EnRoute, None).unwrap();
    drain(&core).await;
    let failed = core.status().unwrap().failed;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("offer was not yours"),
        "{failed:?}"
    );
    assert!(
        core.active_jobs().unwrap().is_empty(),
        "the shown job is gone"
    );
}

#[tokio::test]
async fn an_order_answer_carries_the_newest_lines_and_pages_back_to_the_rest() {
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    for i in 0..250 {
        let _: JobLine = tech
            .post(
                &format!("/v1/orders/{}/notes", order.id),
                &NewNote {
                    text: format!("note {i}"),
                },
            )
            .await
            .unwrap();
    }
    let o = tech.order(order.id).await;
    assert_eq!(o.line_counts.notes, 250);
    assert_eq!(o.job_notes.len(), 200, "the newest 200");
    assert_eq!(o.job_notes[0].text, "note 50");
    assert_eq!(o.job_notes[199].text, "note 249");
    // Lists carry the same newest lines, so one long job sheet cannot swell a page of orders.
    let listed: Vec<Order> = tech.get("/v1/orders?limit=10").await.unwrap();
    let mine = listed.iter().find(|l| l.id == order.id).unwrap();
    assert!(
        mine.job_notes == o.job_notes,
        "the list carries {} notes",
        mine.job_notes.len()
    );
    let older: Vec<JobLine> = tech
        .get(&format!(
            "/v1/orders/{}/lines?kind=note&before={}&limit=1000",
            order.id, o.job_notes[0].id
        ))
        .await
        .unwrap();
    assert_eq!(older.len(), 50);
    assert!(matches!(&older[0].body, LineBody::Note { text } if text == "note 0"));
    let r = tech
        .send(
            reqwest::Method::GET,
            &format!("/v1/orders/{}/lines?kind=secret", order.id),
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    let stranger = p.owner("stranger").await;
    let r = stranger
        .send(
            reqwest::Method::GET,
            &format!("/v1/orders/{}/lines?kind=note", order.id),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_command_line_waits_as_long_as_retry_after_asks() {
    use std::sync::{Arc, Mutex};
    const CLI: &str = env!("CARGO_BIN_EXE_pitstop-cli");
    let p = TestPlatform::start().await;
    let dir = p.dir.path().join("cli");
    let run = |args: Vec<String>| {
        let dir = dir.clone();
        async move {
            tokio::process::Command::new(CLI)
                .arg("--dir")
                .arg(&dir)
                .args(args)
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(vec![
        "login".into(),
        "--platform".into(),
        p.base.clone(),
        "--name".into(),
        "t".into(),
        "--role".into(),
        "technician".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        run(vec!["shift".into(), "on".into()])
            .await
            .status
            .success()
    );
    // The platform now says "busy, come back in 2 s" to every request.
    let seen: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
    let app = axum::Router::new().fallback({
        let seen = seen.clone();
        move || {
            seen.lock().unwrap().push(std::time::Instant::now());
            async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "2")],
                    "busy",
                )
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let busy = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let session = dir.join("session.json");
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&session).unwrap()).unwrap();
    saved["platform"] = serde_json::Value::String(busy);
    std::fs::write(&session, serde_json::to_vec(&saved).unwrap()).unwrap();
    let mut child = tokio::process::Command::new(CLI)
        .arg("--dir")
        .arg(&dir)
        .args(["sync", "--until-empty"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    child.kill().await.unwrap();
    let attempts = seen.lock().unwrap().len();
    // Asked to wait 2 s: a first try and one retry in 3 s. Its own backoff (100 ms
    // doubling) would have tried five times or more.
    assert!((1..=2).contains(&attempts), "{attempts} attempts in 3 s");
}

#[tokio::test]
async fn a_long_queue_goes_up_in_pipelined_batches_in_order_and_once() {
    // More actions than three pushes carry: the next batch is sent while the one before it
    // is settled on the device. Steps must still reach the platform in the order tapped,
    // and every note exactly once and in order.
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    let n = 3 * MAX_MUTATIONS_PER_PUSH / 2;
    let steps = [
        (n / 4, OrderStatus::EnRoute),
        (n / 2, OrderStatus::Arrived),
        (3 * n / 4, OrderStatus::InProgress),
    ];
    for i in 0..n {
        if let Some((_, s)) = steps.iter().find(|(at, _)| *at == i) {
            core.step(order.id, *s, None).unwrap();
        }
        core.add_note(order.id, &format!("note {i}")).unwrap();
    }
    core.push_now().await.unwrap();
    let status = core.status().unwrap();
    assert_eq!(status.pending, 0);
    assert!(status.failed.is_empty(), "{:?}", status.failed);
    let server = tech.order(order.id).await;
    assert_eq!(server.status, OrderStatus::InProgress);
    assert_eq!(
        server.line_counts.notes as usize, n,
        "every note arrived once"
    );
    let lines: Vec<JobLine> = tech
        .get(&format!(
            "/v1/orders/{}/lines?kind=note&limit=1000",
            order.id
        ))
        .await
        .unwrap();
    let texts: Vec<String> = lines
        .iter()
        .map(|l| match &l.body {
            LineBody::Note { text } => text.clone(),
            other => panic!("not a note: {other:?}"),
        })
        .collect();
    let tapped: Vec<String> = (0..n).map(|i| format!("note {i}")).collect();
    assert_eq!(
        texts, tapped,
        "notes arrived in the order tapped, once each"
    );
}

/// The command line says in words what waits and what the platform refused (once, as it
/// happens, and in `status` until dismissed), checks a parts line before queueing it, reads
/// a negative price as a number, and ends quietly when its reader goes away.
#[tokio::test]
async fn the_command_line_tells_refusals_in_words_and_dismisses_them() {
    const CLI: &str = env!("CARGO_BIN_EXE_pitstop-cli");
    let p = TestPlatform::start().await;
    let (tech, order) = job(&p).await;
    let dir = p.dir.path().join("cli");
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(CLI);
        cmd.arg("--dir").arg(&dir).args(args);
        async move {
            let out = cmd.output().await.unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (out.status.success(), text(&out.stdout), text(&out.stderr))
        }
    };
    let (ok, _, err) = run(&[
        "login",
        "--platform",
        &p.base,
        "--name",
        "tech",
        "--role",
        "technician",
    ])
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["sync"]).await;
    assert!(ok, "{err}");
    let (_, out, _) = run(&["status"]).await;
    assert!(out.contains("nothing waiting to be sent"), "{out}");
    assert!(out.contains("last sync 0 s ago"), "{out}");

    // Checked before it is queued, by the platform's own rule and words.
    let id = order.id.to_string();
    let (ok, _, err) = run(&["part", &id, "bolt", "0", "100"]).await;
    assert!(!ok);
    assert!(
        err.contains("Quantity must be between 1 and 1000."),
        "{err}"
    );
    let (ok, _, err) = run(&["part", &id, "bolt", "1", "-100"]).await;
    assert!(!ok);
    assert!(err.contains("Unit price must be between"), "{err}");

    // A note queued, then the job ends on the platform before the note arrives.
    let (ok, _, err) = run(&["note", &id, "left the old filter in the boot"]).await;
    assert!(ok, "{err}");
    let (_, out, _) = run(&["status"]).await;
    assert!(
        out.contains("1 action waiting to be sent; the oldest: Note on order"),
        "{out}"
    );
    tech.finish_job(order.id).await;
    let (ok, _, err) = run(&["sync"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("refused by the platform"), "{err}");
    assert!(err.contains("Note on order"), "{err}");
    let (_, out, _) = run(&["status"]).await;
    assert!(out.contains("refused by the platform (1):"), "{out}");
    assert!(out.contains("nothing waiting to be sent"), "{out}");
    let (_, json, _) = run(&["status", "--json"]).await;
    let status: pitstop_api::device::SyncStatus = serde_json::from_str(&json).unwrap();
    assert_eq!(status.failed.len(), 1);
    // Said once: the next sync has nothing new to tell.
    let (_, _, err) = run(&["sync"]).await;
    assert!(!err.contains("refused"), "{err}");

    let (ok, _, err) = run(&["dismiss", "999999"]).await;
    assert!(!ok);
    assert!(err.contains("no refused action #999999"), "{err}");
    let (ok, out, err) = run(&["dismiss", "--all"]).await;
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("dismissed #{}", status.failed[0].seq)),
        "{out}"
    );
    let (_, out, _) = run(&["status"]).await;
    assert!(!out.contains("refused"), "{out}");

    // Watching says the state when it changes, instead of nothing.
    let mut watch = tokio::process::Command::new(CLI)
        .arg("--dir")
        .arg(&dir)
        .args(["sync", "--watch"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(watch.stdout.take().unwrap()));
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("sync --watch said nothing for 20 s")
        .unwrap()
        .unwrap_or_default();
    assert_eq!(first, "online; 0 waiting to be sent");
    watch.kill().await.unwrap();

    // A reader that has gone before anything is written: no panic, success.
    let mut child = tokio::process::Command::new(CLI)
        .arg("--dir")
        .arg(&dir)
        .args(["status", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
