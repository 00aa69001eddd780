//! The platform over HTTP: push, pull, fix upload and the event stream. Every answer is
//! size-capped and parsed defensively; failures become [`Error`]s that say whether a retry
//! can help, never panics.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use pitstop_api::{
    Change, LocationAck, LocationBatch, Mutation, PushRequest, PushResponse, Session, SyncPage,
    fixcodec,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// An event stream silent this long (four platform heartbeats, and more than the 15 s
/// keep-alive of platforms from before the heartbeat) is taken as lost.
const STREAM_SILENCE: Duration = Duration::from_secs(20);

/// Largest answer body accepted; anything bigger is treated as a hostile answer.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Renew the access token this long before it expires.
const RENEW_BEFORE_MS: i64 = 60_000;

/// Called with each renewed session, so the app can keep the new refresh token (the old one
/// no longer works: presenting it again signs the device out).
#[derive(Clone, Default)]
pub struct OnRenew(pub Option<RenewHook>);

/// What [`OnRenew`] calls.
pub type RenewHook = Arc<dyn Fn(&Session) + Send + Sync>;

impl std::fmt::Debug for OnRenew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "OnRenew(set)"
        } else {
            "OnRenew(none)"
        })
    }
}

/// The credentials of a signed-in device.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The bearer token.
    pub token: String,
    /// Renews `token`; `None`: the token is used until refused.
    pub refresh_token: Option<String>,
    /// When `token` expires (0: unknown).
    pub expires_at: i64,
}

impl Credentials {
    /// The credentials of a session the platform handed out.
    pub fn of(s: &Session) -> Self {
        Self {
            token: s.token.clone(),
            refresh_token: Some(s.refresh_token.clone()),
            expires_at: s.expires_at,
        }
    }
}

/// A signed-in connection to the platform.
#[derive(Debug, Clone)]
pub struct Remote {
    http: reqwest::Client,
    /// Like `http://127.0.0.1:8080`, without a trailing slash.
    base: String,
    auth: Arc<Mutex<Credentials>>,
    /// One renewal at a time: concurrent requests wait for it instead of each spending (and
    /// so invalidating) the refresh token.
    renewing: Arc<tokio::sync::Mutex<()>>,
    on_renew: OnRenew,
    /// The platform's clock minus this device's, learned from the last quick pull
    /// (`i64::MIN`: not yet known).
    clock_offset: Arc<std::sync::atomic::AtomicI64>,
}

impl Remote {
    /// A connection to `base` with bearer `token` and nothing to renew it with.
    pub fn new(base: &str, token: &str) -> Self {
        Self::signed_in(
            base,
            Credentials {
                token: token.to_string(),
                ..Credentials::default()
            },
            OnRenew::default(),
        )
    }

    /// A connection to `base` that renews its access token before it expires (and once
    /// more when the platform refuses it), telling `on_renew` each time.
    pub fn signed_in(base: &str, creds: Credentials, on_renew: OnRenew) -> Self {
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
            auth: Arc::new(Mutex::new(creds)),
            renewing: Arc::new(tokio::sync::Mutex::new(())),
            on_renew,
            clock_offset: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
        }
    }

    /// The platform's clock minus this device's, in ms, if a pull has told it.
    pub fn clock_offset(&self) -> Option<i64> {
        match self.clock_offset.load(std::sync::atomic::Ordering::Relaxed) {
            i64::MIN => None,
            o => Some(o),
        }
    }

    fn creds(&self) -> std::sync::MutexGuard<'_, Credentials> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The access token to send now, renewed first if it is about to expire.
    async fn bearer(&self) -> Result<String> {
        let due = {
            let c = self.creds();
            c.refresh_token.is_some()
                && c.expires_at != 0
                && c.expires_at - crate::store::now_ms() < RENEW_BEFORE_MS
        };
        if due {
            self.renew(None).await?;
        }
        Ok(self.creds().token.clone())
    }

    /// Renews the access token: when it is about to expire (`refused: None`), or when the
    /// platform just refused `refused`. Returns whether a different token is now in use.
    async fn renew(&self, refused: Option<&str>) -> Result<bool> {
        let _one = self.renewing.lock().await;
        let refresh_token = {
            let c = self.creds();
            let Some(r) = c.refresh_token.clone() else {
                return Ok(false);
            };
            match refused {
                // Renewed by another request meanwhile.
                Some(t) if c.token != t => return Ok(true),
                Some(_) => {}
                None if c.expires_at - crate::store::now_ms() >= RENEW_BEFORE_MS => {
                    return Ok(true);
                }
                None => {}
            }
            r
        };
        let session: Session = post_json(
            &self.http,
            &format!("{}/v1/auth/refresh", self.base),
            &pitstop_api::RefreshRequest { refresh_token },
        )
        .await
        .map_err(|e| match e {
            // Asked to slow down: try again later, like any busy platform.
            Error::Rejected { status: 429, .. } => Error::Server {
                status: 429,
                retry_after: None,
            },
            Error::Rejected { status, .. } => Error::Rejected {
                status,
                detail: "this device was signed out (or its session expired); sign in again".into(),
            },
            e => e,
        })?;
        *self.creds() = Credentials::of(&session);
        if let Some(f) = &self.on_renew.0 {
            f(&session);
        }
        Ok(true)
    }

    /// The platform's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn send<T: DeserializeOwned>(&self, rb: reqwest::RequestBuilder) -> Result<T> {
        self.send_within(rb, Duration::from_secs(60)).await
    }

    async fn send_within<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
        within: Duration,
    ) -> Result<T> {
        let rb = rb.timeout(within);
        // Kept to send once more if the token is refused and renewed (a streamed body
        // cannot be sent twice: that request fails and its caller retries later).
        let again = rb.try_clone();
        let token = self.bearer().await?;
        let mut resp = rb.bearer_auth(&token).send().await.map_err(offline)?;
        if resp.status() == StatusCode::UNAUTHORIZED
            && let Some(again) = again
            && self.renew(Some(&token)).await?
        {
            let token = self.creds().token.clone();
            resp = again.bearer_auth(&token).send().await.map_err(offline)?;
        }
        let status = resp.status();
        let retry_after = retry_after(&resp);
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
        // 204 No Content reads as JSON null (for `()` answers).
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body).map_err(|e| Error::BadAnswer(e.to_string()))
    }

    /// `DELETE` of any resource.
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.send(self.request(Method::DELETE, path)).await
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
        let sent = crate::store::now_ms();
        let page: SyncPage = self
            .send(self.request(
                Method::GET,
                &format!("/v1/sync?cursor={cursor}&limit={limit}"),
            ))
            .await?;
        let back = crate::store::now_ms();
        // The platform's clock at the middle of the round trip: close enough when the trip
        // was quick (a slow one would blur it by up to half its length).
        if page.server_time > 0 && back - sent < 2_000 {
            let offset = page.server_time - (sent + back) / 2;
            self.clock_offset
                .store(offset, std::sync::atomic::Ordering::Relaxed);
        }
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
        let token = self.bearer().await?;
        let resp = self
            .request(Method::GET, "/v1/events")
            .bearer_auth(&token)
            .header("Last-Event-ID", cursor.to_string())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(offline)?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            // Renewed for the next attempt (a refused renewal reports the sign-out).
            self.renew(Some(&token)).await?;
            return Err(Error::Offline(
                "the event stream's token was renewed".into(),
            ));
        }
        if !resp.status().is_success() {
            return Err(Error::Server {
                status: resp.status().as_u16(),
                retry_after: None,
            });
        }
        // The platform sends a heartbeat every 5 s: silence for four of them means it is
        // gone, even when no connection error arrives (a dead server behind a proxy, a
        // phone that lost the network without a reset).
        let bytes = futures::stream::unfold(resp.bytes_stream(), |mut s| async move {
            match tokio::time::timeout(STREAM_SILENCE, s.next()).await {
                Ok(Some(chunk)) => Some((chunk.map_err(|e| e.to_string()), s)),
                Ok(None) => None,
                Err(_) => Some((Err("the platform went silent".to_string()), s)),
            }
        });
        let mut stream = eventsource_stream::EventStream::new(Box::pin(bytes));
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

/// `POST` of `body` to `platform` without a token (the sign-in endpoints).
async fn post_anonymous<B: serde::Serialize, T: DeserializeOwned>(
    platform: &str,
    path: &str,
    body: &B,
) -> Result<T> {
    let url = format!("{}{path}", platform.trim_end_matches('/'));
    post_json(&reqwest::Client::new(), &url, body).await
}

/// `GET` of a public resource (settings, workshops, a share link's tracking): no token.
pub async fn get_anonymous<T: DeserializeOwned>(platform: &str, path: &str) -> Result<T> {
    let url = format!("{}{path}", platform.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(offline)?;
    answer(resp).await
}

/// `POST` of JSON with no token; the platform's own sentence comes back in a refusal
/// (wrong code, wait N s, …).
async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    body: &B,
) -> Result<T> {
    let resp = http
        .post(url)
        .json(body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(offline)?;
    answer(resp).await
}

/// An anonymous answer: the body, or the platform's sentence in a refusal.
async fn answer<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let status = resp.status();
    let retry_after = retry_after(&resp);
    let body = read_capped(resp).await?;
    if status.is_server_error() {
        return Err(Error::Server {
            status: status.as_u16(),
            retry_after,
        });
    }
    if !status.is_success() {
        // The platform's sentence says what to do (wrong code, wait N s, …).
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

/// Signs in through the platform's dev login (demo and development servers) and returns the
/// session.
pub async fn sign_in_dev(
    platform: &str,
    req: &pitstop_api::DevLogin,
) -> Result<pitstop_api::Session> {
    post_anonymous(platform, "/v1/auth/dev-login", req).await
}

/// Asks the platform to send a one-time sign-in code to a mobile number or e-mail address.
pub async fn request_code(platform: &str, address: &str) -> Result<pitstop_api::CodeSent> {
    post_anonymous(
        platform,
        "/v1/auth/code",
        &pitstop_api::CodeRequest {
            address: address.to_string(),
        },
    )
    .await
}

/// Signs in with a code or a password and returns the new session.
pub async fn sign_in(platform: &str, req: &pitstop_api::SignIn) -> Result<pitstop_api::Session> {
    post_anonymous(platform, "/v1/auth/sign-in", req).await
}

impl Remote {
    /// Ends this device's session on the platform (`POST /v1/auth/sign-out`).
    pub async fn sign_out(&self) -> Result<()> {
        let rb = self.request(Method::POST, "/v1/auth/sign-out");
        let token = self.bearer().await?;
        let resp = rb
            .bearer_auth(token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(offline)?;
        match resp.status() {
            s if s.is_success() || s == StatusCode::UNAUTHORIZED => Ok(()),
            s => Err(Error::Server {
                status: s.as_u16(),
                retry_after: None,
            }),
        }
    }
}

/// The `Retry-After` the platform sent, in seconds form.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
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
