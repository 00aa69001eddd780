//! Tokens on the wire and in logs: the bearer scheme is case-insensitive, a 401 names the
//! scheme, `?access_token=` works only on the event stream, and no token reaches a log line
//! even with every platform log at trace level.

use std::sync::{Arc, Mutex};

use pitstop_api::{DevLogin, EventTicket, RefreshRequest, Role, Session};
use pitstop_tests::TestPlatform;
use reqwest::StatusCode;

/// Log lines of this test binary, as the platform wrote them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_stay_out_of_urls_and_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("pitstop_platform=trace,tower_http=trace,axum=trace")
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();
    let p = TestPlatform::start().await;
    let owner = p.login("carol", Role::Owner, None).await;
    let token = owner.token.clone().unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", p.base);

    // Any spelling of the scheme.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = http
            .get(url("/v1/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
    // A 401 says which scheme would work, in a problem document.
    let r = http.get(url("/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer realm=\"pitstop\""
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    // A bearer token in the query string works nowhere, not even on the event stream.
    for path in ["/v1/orders", "/v1/events"] {
        let r = http
            .get(url(&format!("{path}?access_token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // The event stream takes a single-use ticket instead.
    let ticket: EventTicket = owner.post("/v1/events/ticket", &()).await.unwrap();
    let stream = http
        .get(url(&format!("/v1/events?ticket={}", ticket.ticket)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    drop(stream);
    // Renewing: neither refresh token reaches the log either.
    let session: Session = p
        .anonymous()
        .post(
            "/v1/auth/dev-login",
            &DevLogin {
                name: "carol".into(),
                role: Role::Owner,
                workshop_id: None,
                skills: None,
            },
        )
        .await
        .unwrap();
    let renewed: Session = p
        .anonymous()
        .post(
            "/v1/auth/refresh",
            &RefreshRequest {
                refresh_token: session.refresh_token.clone(),
            },
        )
        .await
        .unwrap();
    let secrets = [
        token.clone(),
        ticket.ticket.clone(),
        session.refresh_token.clone(),
        renewed.refresh_token.clone(),
        renewed.token.clone(),
    ];
    // Requests that fail and succeed, with the token in the header and in the query.
    let _ = http
        .post(url("/v1/orders"))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let _ = http
        .get(url(&format!("/v1/sync?cursor=0&access_token={token}")))
        .send()
        .await
        .unwrap();
    p.stop().await;
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("/v1/events"),
        "the capture saw no request at all: {logged}"
    );
    for secret in &secrets {
        assert!(
            !logged.contains(secret.as_str()),
            "a token reached the log:\n{logged}"
        );
    }
}
