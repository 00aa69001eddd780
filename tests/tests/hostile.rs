//! Corrupt or hostile platform answers (truncated JSON, wrong types, huge bodies, answers
//! that do not match the request, cursors going backwards) are errors, not panics, and lose
//! nothing queued on the device.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use pitstop_api::ShiftChange;

const ANSWERS: &[&str] = &[
    "truncated",
    "wrong types",
    "huge",
    "html",
    "mismatched push",
    "backwards cursor",
];

async fn sync_get(State(mode): State<Arc<AtomicUsize>>) -> impl IntoResponse {
    let body: Vec<u8> = match ANSWERS[mode.load(Ordering::SeqCst)] {
        "truncated" => br#"{"changes":[{"cursor":1,"at":1,"kind":"order","data":{"id":1"#.to_vec(),
        "wrong types" => br#"{"changes":"many","next_cursor":"ten","has_more":1}"#.to_vec(),
        "huge" => {
            let mut v = b"{\"changes\":[], \"pad\": \"".to_vec();
            v.resize(20 * 1024 * 1024, b'x');
            v.extend_from_slice(b"\", \"next_cursor\": 0, \"has_more\": false}");
            v
        }
        "html" => b"<html><body>Gateway login</body></html>".to_vec(),
        "backwards cursor" => br#"{"changes":[{"cursor":0,"at":1,"kind":"location","data":{"technician_id":1,"order_id":null,"lat":1.0,"lon":1.0,"accuracy_m":1.0,"speed_mps":null,"heading_deg":null,"t":1}}],"next_cursor":0,"has_more":false}"#.to_vec(),
        _ => br#"{"changes":[],"next_cursor":0,"has_more":false}"#.to_vec(),
    };
    ([(header::CONTENT_TYPE, "application/json")], body)
}

async fn sync_post(State(mode): State<Arc<AtomicUsize>>) -> impl IntoResponse {
    let body = match ANSWERS[mode.load(Ordering::SeqCst)] {
        "mismatched push" => format!(
            r#"{{"results":[{{"id":"{}","outcome":"applied","code":200,"reason":null,"order":null}}]}}"#,
            uuid::Uuid::new_v4()
        ),
        "wrong types" => r#"{"results":"yes"}"#.to_string(),
        "truncated" => r#"{"results":[{"id":"#.to_string(),
        // Everything else: a valid empty answer would be a lie; say nothing useful.
        _ => r#"{"results":[]}"#.to_string(),
    };
    ([(header::CONTENT_TYPE, "application/json")], body)
}

#[tokio::test]
async fn hostile_answers_are_errors_and_lose_nothing() {
    let mode = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/v1/sync", get(sync_get).post(sync_post))
        .with_state(mode.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server_base = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let client = pitstop_core::Client::open(pitstop_core::ClientConfig {
        cache: dir.path().join("c.db"),
        platform: server_base,
        token: "t".into(),
        account_id: 1,
        ..Default::default()
    })
    .unwrap();
    client
        .set_shift(ShiftChange {
            on_shift: true,
            lat: Some(52.5),
            lon: Some(13.4),
        })
        .unwrap();
    // With an action queued, the push answer is checked first.
    for (i, name) in ANSWERS.iter().enumerate() {
        mode.store(i, Ordering::SeqCst);
        let err = client.sync_now().await.expect_err(name);
        assert!(err.is_retryable(), "{name}: {err}");
        assert!(
            matches!(err, pitstop_core::Error::BadAnswer(_)),
            "{name}: {err}"
        );
        let st = client.status().unwrap();
        assert_eq!(
            st.pending, 1,
            "{name}: the queued action was lost or marked done"
        );
        assert!(st.failed.is_empty(), "{name}");
    }
    // With nothing queued, every hostile pull answer is refused and the cursor stays put.
    let reader = pitstop_core::Client::open(pitstop_core::ClientConfig {
        cache: dir.path().join("reader.db"),
        platform: base.clone(),
        token: "t".into(),
        account_id: 2,
        ..Default::default()
    })
    .unwrap();
    for (i, name) in ANSWERS.iter().enumerate() {
        if *name == "mismatched push" {
            continue;
        }
        mode.store(i, Ordering::SeqCst);
        let err = reader.sync_now().await.expect_err(name);
        assert!(
            matches!(err, pitstop_core::Error::BadAnswer(_)),
            "{name}: {err}"
        );
    }
    assert!(reader.orders(None, 10).unwrap().is_empty());
}
