//! Sync v2 benchmarks (issue #11's "done when"), against the real platform:
//! - `sheet`: one order with 10 / 1,000 / 10,000 notes: latency of the next note, of `GET`
//!   of the order, and change-log bytes;
//! - `pulls`: two concurrent pulls of a desk with 100,000 changes from a platform in its own
//!   process: its peak RSS, and `/healthz` latency meanwhile;
//! - `search`: plate search over 100,000 cached orders, by scan and by the trigram index;
//! - `trace`: the recorded ride in `tests/data/traces/` uploaded live (the position lane)
//!   and offline (one batch), beside one OsmAnd request per fix, and the age of the owner's
//!   newest position while the ride replays;
//! - `trace-filled`: that age again with the ride's stationary gaps filled at 1 Hz, as a
//!   phone's position watch reports (the recording app logged nothing while stopped).
//!
//! Run: `cargo bench -p pitstop-tests --bench sync` (a word runs one part; `--quick` for a
//! smoke run). Figures go to `docs/benchmarks.md`.

use std::time::{Duration, Instant};

use pitstop_api::*;
use pitstop_platform::auth::Caller;
use pitstop_platform::{Config, Platform};
use pitstop_tests::{TestPlatform, new_order, now_ms};

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    pct(&v, 0.5)
}

async fn sheet(quick: bool) {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("sheet-tech", &["oil"], 52.5, 13.4).await;
    let (_owner, order) = p.book("sheet-owner").await;
    tech.wait_offer(order.id).await;
    tech.win(order.id).await;
    let who = Caller::internal(tech.id(), Role::Technician, "sheet-tech", None);
    let levels: &[usize] = if quick {
        &[10, 1000]
    } else {
        &[10, 1000, 10_000]
    };
    let mut have = 0;
    for &level in levels {
        // Fill to the level straight through the domain (fast), then time REST calls.
        while have < level.saturating_sub(20) {
            let n = (level.saturating_sub(20) - have).min(1000);
            p.platform
                .write(|tx| {
                    for i in 0..n {
                        pitstop_platform::orders::add_note(
                            tx,
                            &who,
                            order.id,
                            &format!("note {} — brake pads measured, 4 mm left", have + i),
                        )?;
                    }
                    Ok(())
                })
                .unwrap();
            have += n;
        }
        let mut writes = Vec::new();
        for i in 0..20 {
            let t = Instant::now();
            let _: JobLine = tech
                .post(
                    &format!("/v1/orders/{}/notes", order.id),
                    &NewNote {
                        text: format!("timed note {i}"),
                    },
                )
                .await
                .unwrap();
            writes.push(t.elapsed());
        }
        have += 20;
        let mut gets = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let o = tech.order(order.id).await;
            gets.push(t.elapsed());
            assert_eq!(o.line_counts.notes as usize, have);
        }
        let (rows, bytes): (i64, i64) = p
            .platform
            .read(|c| {
                Ok(
                    c.query_row("SELECT count(*), sum(length(data)) FROM changes", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?,
                )
            })
            .unwrap();
        println!(
            "sheet: {have} notes on one order: next note (REST) median {:.2} ms; GET of the order median {:.2} ms; change log {rows} changes, {:.1} KiB",
            median_ms(writes),
            median_ms(gets),
            bytes as f64 / 1024.0
        );
    }
}

/// The allocator `pitstop-platform` uses, so the platform served from this binary
/// (`--serve`) has the same memory behaviour as the real one.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The platform in this process, on `db`, serving on `addr` until killed (`--serve`).
fn serve(db: &str, addr: &str) {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let platform = Platform::open(Config {
            db_path: db.into(),
            dev_login: true,
            ..Config::default()
        })
        .expect("open");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        pitstop_platform::serve(listener, platform, std::future::pending())
            .await
            .expect("serve");
    });
}

/// Starts the platform in a child process on a fresh database; its pid and base URL.
async fn serve_child(db: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--serve", db.to_str().unwrap(), &addr])
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("platform did not start");
}

/// Idle TCP connections and event-stream subscribers against one server in its own
/// process: its RSS before, while they are open, and after they leave.
async fn conns(quick: bool) {
    let (idle_n, sse_n): (usize, usize) = if quick { (1_000, 500) } else { (10_000, 5_000) };
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve_child(&dir.path().join("p.db")).await;
    let pid = child.id();
    let addr = base.trim_start_matches("http://").to_string();
    // Long enough for the allocator to hand freed pages back (jemalloc's decay is 10 s).
    let settle = || tokio::time::sleep(Duration::from_secs(12));
    // Accounts for the streams first (8 streams each, the per-account limit), so their
    // rows and sessions are in the "before" figure.
    let http = reqwest::Client::new();
    let per = pitstop_platform::Limits::default().streams_per_account;
    let mut tokens = Vec::new();
    for i in 0..sse_n.div_ceil(per) {
        let s: Session = http
            .post(format!("{base}/v1/auth/dev-login"))
            .json(&serde_json::json!({"name": format!("watcher-{i}"), "role": "owner"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(s.token);
    }
    drop(http);
    settle().await;
    let before = rss_kib(pid);
    // Idle: connected, nothing sent.
    let t = Instant::now();
    let mut idle = Vec::with_capacity(idle_n);
    for _ in 0..idle_n {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let opened = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_idle = rss_kib(pid);
    // The server ends them itself after its header timeout (10 s).
    let timeout = pitstop_platform::Limits::default().header_timeout;
    tokio::time::sleep(timeout + Duration::from_secs(3)).await;
    let mut closed = 0;
    for s in &mut idle {
        let mut b = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(
            Duration::from_millis(1),
            tokio::io::AsyncReadExt::read(s, &mut b),
        )
        .await
        {
            closed += 1;
        }
    }
    drop(idle);
    settle().await;
    let after_idle = rss_kib(pid);
    // Event streams: a GET each, response head read, then left open.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut streams = Vec::with_capacity(sse_n);
    for i in 0..sse_n {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let req = format!(
            "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            tokens[i / per]
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200", "stream {i}");
        streams.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_streams = rss_kib(pid);
    drop(streams);
    settle().await;
    let after_streams = rss_kib(pid);
    let _ = child.kill();
    let _ = child.wait();
    let per_conn = |during: u64, n: usize| (during.saturating_sub(before)) as f64 / n as f64;
    println!(
        "conns: RSS before {before} KiB; {idle_n} idle connections (opened in {:.2} s) {with_idle} KiB = {:.1} KiB each; {closed} of them closed by the server within {:?}; after {after_idle} KiB",
        opened.as_secs_f64(),
        per_conn(with_idle, idle_n),
        timeout + Duration::from_secs(3),
    );
    println!(
        "conns: {sse_n} event-stream subscribers {with_streams} KiB = {:.1} KiB each; after they left {after_streams} KiB",
        per_conn(with_streams, sse_n),
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn pulls(quick: bool) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let changes_wanted: i64 = if quick { 10_000 } else { 100_000 };
    // Seed: a workshop's desk with walk-ins; no technicians, so each order is a head and two
    // steps (booked, unassigned) = 3 changes.
    let desk_name = "bench-desk";
    let token;
    {
        let p = TestPlatform::start_in(
            tempfile::tempdir().unwrap(),
            Config {
                db_path: db.clone(),
                dev_login: true,
                ..Config::default()
            },
        )
        .await;
        let ws = p.workshop("Bench").await;
        let desk = p.login(desk_name, Role::Desk, Some(ws)).await;
        token = desk.token.clone().unwrap();
        let v: Vehicle = desk
            .post("/v1/vehicles", &pitstop_tests::new_vehicle())
            .await
            .unwrap();
        let who = Caller::internal(desk.id(), Role::Desk, desk_name, Some(ws));
        let req = NewOrder {
            notes: "Customer waits in the lounge; squeaks when braking".into(),
            ..new_order(v.id, "oil_change", 52.5, 13.4)
        };
        let t = Instant::now();
        loop {
            let n: i64 = p
                .platform
                .read(|c| Ok(c.query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?))
                .unwrap();
            if n >= changes_wanted {
                break;
            }
            p.book_directly(&who, &req, 1000);
        }
        eprintln!("(seeded in {:.1} s)", t.elapsed().as_secs_f64());
        p.stop().await;
    }
    let (mut child, base) = serve_child(&db).await;
    let pid = child.id();
    let http = reqwest::Client::new();
    let idle = rss_kib(pid);
    // The desk's token from seeding: tokens live in the database, so it still signs in.
    let pull = |http: reqwest::Client, base: String, token: String| async move {
        let (mut cursor, mut n, mut bytes) = (0i64, 0usize, 0usize);
        loop {
            let body = http
                .get(format!("{base}/v1/sync?cursor={cursor}&limit=1000"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            bytes += body.len();
            let page: SyncPage = serde_json::from_slice(&body).unwrap();
            n += page.changes.len();
            cursor = page.next_cursor;
            if !page.has_more {
                return (n, bytes);
            }
        }
    };
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (done, http, base) = (done.clone(), http.clone(), base.clone());
        tokio::spawn(async move {
            let (mut peak, mut health) = (0u64, Vec::new());
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                let t = Instant::now();
                let _ = http.get(format!("{base}/healthz")).send().await;
                health.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (peak, health)
        })
    };
    let t = Instant::now();
    let (a, b) = tokio::join!(
        pull(http.clone(), base.clone(), token.clone()),
        pull(http.clone(), base.clone(), token.clone())
    );
    let took = t.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (peak, mut health) = watcher.await.unwrap();
    health.sort();
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "pulls: two concurrent pulls of a desk's {} changes ({:.1} MiB each) in {:.2} s; platform RSS {:.0} MiB idle, peak {:.0} MiB; /healthz meanwhile p50 {:.2} ms, p99 {:.2} ms ({} probes)",
        a.0,
        a.1 as f64 / 1048576.0,
        took.as_secs_f64(),
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        pct(&health, 0.5),
        pct(&health, 0.99),
        health.len()
    );
    assert_eq!(a.0, b.0);
}

fn search(quick: bool) {
    use pitstop_core::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.db"), 1).unwrap();
    let n = if quick { 10_000 } else { 100_000 };
    let mut changes = Vec::with_capacity(1000);
    for i in 0..n {
        let mut o = pitstop_core::overlay::provisional_order(
            i as Id + 1,
            &new_order(1, "oil_change", 52.5, 13.4),
            1,
            0,
        );
        o.version = 1;
        o.vehicle.plate = format!("B-PS {i}");
        o.vehicle.vin = format!("WVWZZZ1JZXW{i:06}");
        o.customer_name = Some(format!("Customer {i}"));
        o.timeline.clear();
        o.updated_at = 1_700_000_000_000 + i as i64;
        changes.push(Change {
            cursor: i as i64 + 1,
            at: 0,
            body: ChangeBody::Order(o),
            raw_body: None,
        });
        if changes.len() == 1000 {
            store.apply_changes(&changes, i as i64 + 1).unwrap();
            changes.clear();
        }
    }
    let run = |store: &Store| {
        let mut lat = Vec::new();
        for i in 0..200 {
            let t = Instant::now();
            let hits = store.search(&format!("PS {}", i * 37 + 1000), 20).unwrap();
            lat.push(t.elapsed());
            assert!(!hits.is_empty());
        }
        lat.sort();
        lat
    };
    let scan = run(&store);
    let t = Instant::now();
    store.build_search_index().unwrap();
    let built = t.elapsed();
    let indexed = run(&store);
    println!(
        "search over {n} cached orders: scan p50 {:.2} ms, p99 {:.2} ms; trigram index (built after the sync in {:.2} s) p50 {:.3} ms, p99 {:.3} ms",
        pct(&scan, 0.5),
        pct(&scan, 0.99),
        built.as_secs_f64(),
        pct(&indexed, 0.5),
        pct(&indexed, 0.99)
    );
}

/// Our request headers per upload: method line, host, bearer (64 hex), type, encoding,
/// length (as in the core bench).
const OUR_HEADERS: usize = 260;

/// The recorded ride kept in `tests/data/traces/`, point by point.
fn recorded_ride() -> Vec<pitstop_core::gpx::GpxPoint> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/traces/stoplight-sample-ride.gpx"
    );
    let xml = std::fs::read_to_string(path).unwrap();
    pitstop_core::gpx::parse(&xml).unwrap()
}

async fn trace(quick: bool) {
    let points = recorded_ride();
    let start = now_ms() - 30 * 60 * 1000;
    let fixes = pitstop_core::gpx::fixes(&points, start, 1.0);
    let osmand: usize = fixes.iter().map(pitstop_tests::osmand_request_bytes).sum();

    let p = TestPlatform::start().await;
    // Live: the position lane, each kept fix written into the open stream at once; a stream
    // ends after STREAM_IDLE without fixes or STREAM_FOR in all (by the recorded clock, as
    // the lane would in real time), and a new one starts with the next fix.
    // En route to a job, as while a customer watches: the live heartbeat applies.
    let tech = p.technician_at("trace-live", &["oil"], 52.5, 13.4).await;
    let (_owner, job) = p.book("trace-live-owner").await;
    tech.set_off(job.id).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    let (mut kept, mut opened, mut last) = (0, None::<i64>, None::<i64>);
    let (idle, most) = (
        pitstop_core::sync::STREAM_IDLE.as_millis() as i64,
        pitstop_core::sync::STREAM_FOR.as_millis() as i64,
    );
    for f in &fixes {
        if core.record_fix(*f).unwrap().is_none() {
            continue;
        }
        kept += 1;
        if let (Some(o), Some(l)) = (opened, last)
            && (f.t - l >= idle || f.t - o >= most)
        {
            core.end_fix_stream().await.unwrap();
            opened = None;
        }
        opened.get_or_insert(f.t);
        last = Some(f.t);
        assert_eq!(core.stream_fixes_now().await.unwrap(), 1);
    }
    core.end_fix_stream().await.unwrap();
    let (requests, live) = core.lane_sent();
    // Offline: the same ride buffered, one batch when the signal returns.
    let tech2 = p.technician_at("trace-offline", &["oil"], 52.5, 13.4).await;
    let core2 = p.core_client(&tech2, &p.base);
    for f in &fixes {
        core2.record_fix(*f).unwrap();
    }
    let (n, b) = core2.upload_fixes_now().await.unwrap();
    let offline = b + n.div_ceil(pitstop_core::sync::FIX_BATCH) * OUR_HEADERS;
    println!(
        "trace: recorded ride, {} fixes over {:.1} min; filter kept {kept}; OsmAnd one request per fix {:.1} KiB in {} requests; live (position lane, fix streams) {:.2} KiB in {requests} requests = {:.0}x fewer bytes; offline one batch {:.2} KiB = {:.0}x fewer",
        fixes.len(),
        (fixes.last().unwrap().t - fixes[0].t) as f64 / 60_000.0,
        osmand as f64 / 1024.0,
        fixes.len(),
        live as f64 / 1024.0,
        osmand as f64 / live as f64,
        offline as f64 / 1024.0,
        osmand as f64 / offline as f64,
    );

    // Age of the owner's newest position while the ride replays in real time.
    tech.shift(false, 52.5, 13.4).await;
    tech2.shift(false, 52.5, 13.4).await;
    owner_age(&p, &points, if quick { 1 } else { 5 }, false).await;
}

/// The same ride with its stationary gaps filled as a phone's position watch fills them:
/// the recording app (Strava) logs nothing while the bike stands, a phone still reports
/// its place once a second. Shows what the platform delivers when the phone reports.
async fn trace_filled(quick: bool) {
    let points = recorded_ride();
    let mut filled = Vec::with_capacity(points.len() * 2);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        filled.push(a);
        let mut t = a.t + 1000;
        while t < b.t {
            filled.push(pitstop_core::gpx::GpxPoint {
                t,
                speed_mps: a.speed_mps.map(|_| 0.0),
                course_deg: None,
                ..a
            });
            t += 1000;
        }
    }
    filled.extend(points.last().copied());
    let p = TestPlatform::start().await;
    owner_age(&p, &filled, if quick { 1 } else { 5 }, true).await;
}

/// Replays the first `minutes` of `points` in real time on an en-route technician's device
/// while the owner polls the tracking answer every 250 ms; prints the ages seen.
async fn owner_age(
    p: &TestPlatform,
    points: &[pitstop_core::gpx::GpxPoint],
    minutes: i64,
    filled: bool,
) {
    let tech3 = p.technician_at("trace-age", &["oil"], 52.5, 13.4).await;
    let (owner, order) = p.book("trace-owner").await;
    tech3.set_off(order.id).await;
    let core3 = p.core_client(&tech3, &p.base);
    core3.sync_now().await.unwrap();
    let sync = core3.start();
    let take: Vec<_> = points
        .iter()
        .take_while(|pt| pt.t - points[0].t <= minutes * 60_000)
        .cloned()
        .collect();
    let replay = pitstop_core::gpx::GpxReplay::new(take.clone(), 1.0).restamped();
    let driver = {
        let core3 = core3.clone();
        tokio::spawn(async move { core3.track(Box::new(replay)).await })
    };
    // Two ages per sample: of the owner's newest position (now - its t), and how far it is
    // behind the newest fix the phone kept (the delivery lag; the rest is the filter keeping
    // a fix per 20 m moved, or a heartbeat a minute when stopped at a light).
    let (mut ages, mut lags) = (Vec::new(), Vec::new());
    while !driver.is_finished() {
        let tr: Tracking = owner
            .get(&format!("/v1/orders/{}/tracking", order.id))
            .await
            .unwrap();
        let now = now_ms();
        if let Some(f) = tr.fix
            && f.accuracy_m > 0.0
        {
            ages.push(Duration::from_millis((now - f.t).max(0) as u64));
            if let Some(kept) = core3.last_fix().unwrap() {
                // Kept by the phone after what the owner sees: the owner is that far behind.
                let behind = if kept.t > f.t { now - kept.t } else { 0 };
                lags.push(Duration::from_millis(behind.max(0) as u64));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    sync.stop().await;
    // The recording's own floor: how old its newest point is at the same instants (it
    // logs nothing for up to 82 s while the bike stands still). No delivery can beat it.
    let (first, end) = (take[0].t, take.last().unwrap().t);
    let mut floor: Vec<Duration> = (first..=end)
        .step_by(250)
        .map(|t| {
            let newest = take
                .iter()
                .take_while(|pt| pt.t <= t)
                .last()
                .map_or(t, |pt| pt.t);
            Duration::from_millis((t - newest) as u64)
        })
        .collect();
    floor.sort();
    ages.sort();
    lags.sort();
    println!(
        "trace{}: owner's newest position while en route ({minutes} min replayed in real time, {} samples every 250 ms): age p50 {:.2} s, p95 {:.2} s (the recording's own newest point: p50 {:.2} s, p95 {:.2} s); behind the phone's newest kept fix p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        if filled {
            " (stationary gaps filled at 1 Hz)"
        } else {
            ""
        },
        ages.len(),
        pct(&ages, 0.5) / 1e3,
        pct(&ages, 0.95) / 1e3,
        pct(&floor, 0.5) / 1e3,
        pct(&floor, 0.95) / 1e3,
        pct(&lags, 0.5) / 1e3,
        pct(&lags, 0.95) / 1e3,
        pct(&lags, 1.0) / 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        serve(&args[2], &args[3]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only = args.iter().skip(1).find(|a| !a.starts_with('-')).cloned();
    let want = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    println!("{}", pitstop_tests::machine());
    if want("search") {
        search(quick);
    }
    // Thousands of sockets: take the descriptors the system allows.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        if want("conns") {
            conns(quick).await;
        }
        if want("sheet") {
            sheet(quick).await;
        }
        if want("pulls") {
            pulls(quick).await;
        }
        if want("trace") {
            trace(quick).await;
        }
        if want("trace-filled") {
            trace_filled(quick).await;
        }
    });
}
