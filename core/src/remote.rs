//! The platform over HTTP: push, pull, fix upload and the event stream. Every answer is
//! size-capped and parsed defensively; failures become [`Error`]s that say whether a retry
//! can help, never panics.

use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use pitstop_api::{
    Change, LocationAck, LocationBatch, Mutation, PushRequest, PushResponse, SyncPage, fixcodec,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Largest answer body accepted; anything bigger is treated as a hostile answer.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// A signed-in connection to the platform.
#[derive(Debug, Clone)]
pub struct Remote {
    http: reqwest::Client,
    /// Like `http://127.0.0.1:8080`, without a trailing slash.
    base: String,
    token: String,
}

impl Remote {
    /// A connection to `base` with bearer `token`.
    pub fn new(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            // The platform closes a connection idle for 10 s; dropping ours first avoids
            // sending a request down one it is closing.
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    /// The platform's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn send<T: DeserializeOwned>(&self, rb: reqwest::RequestBuilder) -> Result<T> {
        self.send_within(rb, Duration::from_secs(60)).await
    }

    async fn send_within<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
        within: Duration,
    ) -> Result<T> {
        let resp = rb.timeout(within).send().await.map_err(offline)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(resp).await?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Error::Server {
                status: status.as_u16(),
                retry_after,
            });
        }
        if !status.is_success() {
            let detail = serde_json::from_slice::<pitstop_api::Problem>(&body)
                .ok()
                .and_then(|p| p.detail)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            return Err(Error::Rejected {
                status: status.as_u16(),
                detail,
            });
        }
        serde_json::from_slice(&body).map_err(|e| Error::BadAnswer(e.to_string()))
    }

    /// `GET` of any JSON resource (the online-only screens: vehicles, technicians, links).
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    /// `POST` of a JSON body to any resource.
    pub async fn post<B: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST /v1/sync`. Checks the answer names exactly the mutations sent, in order.
    pub async fn push(&self, mutations: &[Mutation]) -> Result<PushResponse> {
        let req = PushRequest {
            mutations: mutations.to_vec(),
        };
        let resp: PushResponse = self
            .send(self.request(Method::POST, "/v1/sync").json(&req))
            .await?;
        let same = resp.results.len() == mutations.len()
            && resp
                .results
                .iter()
                .zip(mutations)
                .all(|(r, m)| r.id == m.id);
        if !same {
            return Err(Error::BadAnswer(
                "the push answer does not match the mutations sent".into(),
            ));
        }
        Ok(resp)
    }

    /// `GET /v1/sync`.
    pub async fn pull(&self, cursor: i64, limit: u32) -> Result<SyncPage> {
        let page: SyncPage = self
            .send(self.request(
                Method::GET,
                &format!("/v1/sync?cursor={cursor}&limit={limit}"),
            ))
            .await?;
        if page.next_cursor < cursor || page.changes.iter().any(|c| c.cursor <= cursor) {
            return Err(Error::BadAnswer("the pull answer went backwards".into()));
        }
        Ok(page)
    }

    /// `POST /v1/locations/compact`, gzipped; returns the body size actually sent.
    pub async fn upload_fixes(&self, batch: &LocationBatch) -> Result<(LocationAck, usize)> {
        let raw = fixcodec::encode(batch);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw)
            .map_err(|e| Error::BadAnswer(e.to_string()))?;
        let body = gz.finish().map_err(|e| Error::BadAnswer(e.to_string()))?;
        let size = body.len();
        let ack = self
            .send(
                self.request(Method::POST, "/v1/locations/compact")
                    .header(reqwest::header::CONTENT_TYPE, fixcodec::CONTENT_TYPE)
                    .header(reqwest::header::CONTENT_ENCODING, "gzip")
                    .body(body),
            )
            .await?;
        Ok((ack, size))
    }

    /// `POST /v1/locations/stream`: sends what `body` yields (a fix-stream header, then one
    /// fix's bytes at a time, as they are measured) until it ends, then reads the answer.
    pub async fn stream_fixes(
        &self,
        body: tokio::sync::mpsc::Receiver<Vec<u8>>,
        open_for: Duration,
    ) -> Result<LocationAck> {
        let frames = futures::stream::unfold(body, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let rb = self
            .request(Method::POST, "/v1/locations/stream")
            .header(reqwest::header::CONTENT_TYPE, fixcodec::STREAM_CONTENT_TYPE)
            .body(reqwest::Body::wrap_stream(frames));
        self.send_within(rb, open_for + Duration::from_secs(30))
            .await
    }

    /// Opens `GET /v1/events` after `cursor` and hands each change to `on_change` until the
    /// stream ends or fails. Returns why it stopped.
    pub async fn follow_events(
        &self,
        cursor: i64,
        mut on_change: impl FnMut(Change) -> Result<()>,
    ) -> Result<()> {
        let resp = self
            .request(Method::GET, "/v1/events")
            .header("Last-Event-ID", cursor.to_string())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(offline)?;
        if !resp.status().is_success() {
            return Err(Error::Server {
                status: resp.status().as_u16(),
                retry_after: None,
            });
        }
        let mut stream = eventsource_stream::EventStream::new(resp.bytes_stream());
        while let Some(ev) = stream.next().await {
            let ev = ev.map_err(|e| Error::Offline(e.to_string()))?;
            if ev.data.is_empty() {
                continue;
            }
            if ev.data.len() > MAX_ANSWER_BYTES {
                return Err(Error::BadAnswer("an event is too large".into()));
            }
            let change: Change = serde_json::from_str(&ev.data)
                .map_err(|e| Error::BadAnswer(format!("event {}: {e}", ev.id)))?;
            on_change(change)?;
        }
        Err(Error::Offline("the event stream ended".into()))
    }
}

/// Signs in through the platform's dev login (demo and development servers) and returns the
/// session; real identity providers replace this.
pub async fn sign_in_dev(
    platform: &str,
    req: &pitstop_api::DevLogin,
) -> Result<pitstop_api::Session> {
    let platform = platform.trim_end_matches('/');
    let resp = reqwest::Client::new()
        .post(format!("{platform}/v1/auth/dev-login"))
        .json(req)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(offline)?;
    let status = resp.status();
    let body = read_capped(resp).await?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<pitstop_api::Problem>(&body)
            .ok()
            .and_then(|p| p.detail)
            .unwrap_or_else(|| format!("HTTP {status}"));
        return Err(Error::Rejected {
            status: status.as_u16(),
            detail,
        });
    }
    serde_json::from_slice(&body).map_err(|e| Error::BadAnswer(e.to_string()))
}

fn offline(e: reqwest::Error) -> Error {
    Error::Offline(e.to_string())
}

async fn read_capped(resp: reqwest::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(offline)?;
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(Error::BadAnswer(format!(
                "the answer is larger than {} MiB",
                MAX_ANSWER_BYTES / 1024 / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
