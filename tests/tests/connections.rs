//! Connection hygiene against the real server on a socket: idle and slow clients are cut
//! off within the documented limits, a declared oversized body is refused before it is
//! read, the connection cap makes clients wait instead of costing memory, and one account
//! cannot open event streams without end.

use std::time::{Duration, Instant};

use pitstop_api::Role;
use pitstop_platform::Limits;
use pitstop_tests::TestPlatform;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server whose clocks run in seconds, not tens of seconds.
async fn strict(tweak: impl FnOnce(&mut Limits)) -> TestPlatform {
    TestPlatform::start_with(|c| {
        c.limits.header_timeout = Duration::from_secs(1);
        c.limits.body_timeout = Duration::from_secs(1);
        tweak(&mut c.limits);
    })
    .await
}

async fn connect(p: &TestPlatform) -> TcpStream {
    TcpStream::connect(p.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// The detail of a problem document with `status`, after checking it is one.
async fn problem(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status(), status);
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/problem+json"), "{kind}");
    r.text().await.unwrap()
}

/// Reads until the server closes; what it said, and how long it took.
async fn until_closed(s: &mut TcpStream, within: Duration) -> (String, Duration) {
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(t.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "still open after {within:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), t.elapsed())
}

#[tokio::test]
async fn idle_and_slow_clients_are_cut_off_within_the_header_timeout() {
    let p = strict(|_| {}).await;
    // Connected, silent.
    let mut idle = connect(&p).await;
    let (_, took) = until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(900),
        "closed too early: {took:?}"
    );
    // Headers a byte at a time, never finished.
    let mut slow = connect(&p).await;
    let t = Instant::now();
    let writer = async {
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if slow.write_all(&[*b]).await.is_err() || t.elapsed() > Duration::from_secs(5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    writer.await;
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "a slow-header client stayed {:?}",
        t.elapsed()
    );
    // A keep-alive connection after its request: answered, then closed when idle.
    let mut kept = connect(&p).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (said, took) = until_closed(&mut kept, Duration::from_secs(5)).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused_before_it_is_read() {
    let p = strict(|_| {}).await;
    let mut s = connect(&p).await;
    // Headers only: the server must answer without waiting for ten gigabytes.
    s.write_all(
        b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 10000000000\r\n\r\n",
    )
    .await
    .unwrap();
    let (said, took) = until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(said.starts_with("HTTP/1.1 413"), "{said}");
    assert!(said.contains("application/problem+json"), "{said}");
    assert!(said.contains("at most 512 KiB"), "{said}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn a_stalled_body_is_cut_off() {
    let p = strict(|_| {}).await;
    let owner = p.login("stall", Role::Owner, None).await;
    let mut s = connect(&p).await;
    let head = format!(
        "POST /v1/vehicles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"vin\":",
        owner.token.as_deref().unwrap()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // ...and nothing more.
    let (said, took) = until_closed(&mut s, Duration::from_secs(6)).await;
    assert!(took < Duration::from_secs(4), "{took:?}");
    if !said.is_empty() {
        assert!(said.starts_with("HTTP/1.1 4"), "{said}");
    }
}

#[tokio::test]
async fn at_the_connection_cap_new_clients_wait_their_turn() {
    let p = strict(|l| {
        l.max_connections = 2;
        l.header_timeout = Duration::from_secs(30);
    })
    .await;
    let (a, _b) = (connect(&p).await, connect(&p).await);
    // The third is accepted by the kernel but not served while two are open.
    let mut c = connect(&p).await;
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), c.read(&mut buf))
            .await
            .is_err(),
        "served past the cap"
    );
    drop(a);
    let (said, _) = until_closed(&mut c, Duration::from_secs(5)).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn an_account_opens_a_bounded_number_of_event_streams() {
    let p = strict(|l| l.streams_per_account = 2).await;
    let tech = p.login("streamer", Role::Technician, None).await;
    let http = reqwest::Client::new();
    let open = || {
        http.get(format!("{}/v1/events", p.base))
            .bearer_auth(tech.token.as_deref().unwrap())
            .send()
    };
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    let third = open().await.unwrap();
    assert_eq!(third.status(), 429);
    let text = third.text().await.unwrap();
    assert!(text.contains("2 event streams open"), "{text}");
    // Another account is not affected.
    let other = p.login("other", Role::Technician, None).await;
    let theirs = http
        .get(format!("{}/v1/events", p.base))
        .bearer_auth(other.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 200);
    // A stream that ends gives its slot back.
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        let r = open().await.unwrap();
        if r.status() == 200 {
            again = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "the closed stream's slot never came back");
    drop(second);
}

#[tokio::test]
async fn errors_from_outside_the_handlers_are_problem_documents_too() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html>").unwrap();
    let dir = ui.path().to_path_buf();
    let p = strict(move |_| {}).await;
    let p2 = TestPlatform::start_with(move |c| c.ui_dir = Some(dir)).await;
    let http = reqwest::Client::new();
    // A file the static UI does not have.
    let r = http
        .get(format!("{}/app/nope.js", p2.base))
        .send()
        .await
        .unwrap();
    let text = problem(r, 404).await;
    assert!(text.contains("nothing at /app/nope.js"), "{text}");
    // A body in an encoding the server does not take.
    let r = http
        .post(format!("{}/v1/orders", p.base))
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body("x")
        .send()
        .await
        .unwrap();
    let text = problem(r, 415).await;
    assert!(text.contains("gzip"), "{text}");
}

#[tokio::test]
async fn only_configured_origins_may_call_from_a_browser() {
    let preflight = |base: String, origin: &'static str| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{base}/v1/orders"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap()
    };
    let closed = strict(|_| {}).await;
    let r = preflight(closed.base.clone(), "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let open =
        TestPlatform::start_with(|c| c.cors_origins = vec!["https://desk.example".into()]).await;
    let r = preflight(open.base.clone(), "https://desk.example").await;
    assert_eq!(
        r.headers()["access-control-allow-origin"].to_str().unwrap(),
        "https://desk.example"
    );
    let r = preflight(open.base.clone(), "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_web_ui_is_served_with_a_strict_policy() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html>").unwrap();
    let dir = ui.path().to_path_buf();
    let p = TestPlatform::start_with(move |c| c.ui_dir = Some(dir)).await;
    let r = reqwest::get(format!("{}/app/", p.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "frame-ancestors 'none'",
        "connect-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
}
