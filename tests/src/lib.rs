//! End-to-end harness: starts a real `pitstop-platform` on `127.0.0.1:0` with a temporary
//! SQLite file and drives it over HTTP with reqwest, as the apps do.
//!
//! ```no_run
//! # async fn t() -> anyhow::Result<()> {
//! use pitstop_tests::TestPlatform;
//! let p = TestPlatform::start().await;
//! let owner = p.owner("ann").await;
//! let me: pitstop_api::Account = owner.get("/v1/me").await?;
//! # Ok(()) }
//! ```

pub mod proxy;
pub mod ui;

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use pitstop_api::*;
use pitstop_platform::{Config, Platform};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A platform server running for one test.
#[derive(Debug)]
pub struct TestPlatform {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's state, for assertions that look behind the API.
    pub platform: Platform,
    /// The database lives here; removed when the test ends.
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    http: reqwest::Client,
}

impl TestPlatform {
    /// Starts a server with dev login on and default settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `tweak` adjusts the settings.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            db_path: dir.path().join("platform.db"),
            dev_login: true,
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_in(dir, config).await
    }

    /// Starts a server with dev login that also serves the built web UI at `/app/` (share
    /// links and the browser tests).
    pub async fn start_with_ui() -> Self {
        let dist = ui::ui_dist();
        Self::start_with(move |c| c.ui_dir = Some(dist)).await
    }

    /// Starts a server on an existing directory (to test restarts).
    pub async fn start_in(dir: tempfile::TempDir, config: Config) -> Self {
        let platform = Platform::open(config).expect("open platform");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let p = platform.clone();
        let server = tokio::spawn(async move {
            pitstop_platform::serve(listener, p, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Self {
            base,
            platform,
            dir,
            shutdown: Some(tx),
            server: Some(server),
            http: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(5))
                .build()
                .expect("http client"),
        }
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("addr")
    }

    /// A `pitstop-core` client for `who`, with its cache in a fresh file under this
    /// platform's temp dir, talking to `platform` (the server itself or a proxy in front).
    pub fn core_client(&self, who: &Client, platform: &str) -> pitstop_core::Client {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        pitstop_core::Client::open(pitstop_core::ClientConfig {
            cache: self.dir.path().join(format!("cache-{}-{n}.db", who.id())),
            platform: platform.to_string(),
            token: who.token.clone().expect("signed in"),
            account_id: who.id(),
            ..Default::default()
        })
        .expect("open core client")
    }

    /// Books `n` copies of `req` as `who` straight through the domain code, 1,000 per
    /// transaction (benchmark seeding: the HTTP path would take minutes).
    pub fn book_directly(&self, who: &pitstop_platform::auth::Caller, req: &NewOrder, n: usize) {
        for chunk in 0..n.div_ceil(1000) {
            let k = (n - chunk * 1000).min(1000);
            self.platform
                .write(|tx| {
                    for _ in 0..k {
                        pitstop_platform::orders::create(tx, self.platform.config(), who, req)?;
                    }
                    Ok(())
                })
                .expect("seeding orders");
        }
    }

    /// Stops the server and waits for it; returns the directory holding the database.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token: None,
            account: None,
        }
    }

    /// Signs in through `POST /v1/auth/dev-login`.
    pub async fn login(&self, name: &str, role: Role, workshop_id: Option<Id>) -> Client {
        let s: Session = self
            .anonymous()
            .post(
                "/v1/auth/dev-login",
                &DevLogin {
                    name: name.into(),
                    role,
                    workshop_id,
                    skills: None,
                },
            )
            .await
            .expect("dev login");
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token: Some(s.token),
            account: Some(s.account),
        }
    }

    /// A platform admin, provisioned the way `pitstop-platform admin` does (dev login
    /// refuses admins), signed in on a session of its own.
    pub async fn admin(&self) -> Client {
        let life = self.platform.lifetimes();
        let s = self
            .platform
            .write(|tx| {
                let email = address::Address::Email("admin@test.invalid".into());
                let a = pitstop_platform::accounts::provision_admin(tx, "admin", &email, None)?;
                pitstop_platform::sessions::start(tx, a.id, "test", life)
            })
            .expect("admin session");
        self.client_for(s)
    }

    /// A client signed in with `session`.
    pub fn client_for(&self, s: Session) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token: Some(s.token),
            account: Some(s.account),
        }
    }

    /// A car owner with one registered vehicle; returns the client and the vehicle id.
    pub async fn owner_with_car(&self, name: &str) -> (Client, Id) {
        let c = self.owner(name).await;
        let v: Vehicle = c
            .post("/v1/vehicles", &new_vehicle())
            .await
            .expect("vehicle");
        (c, v.id)
    }

    /// A car owner with a car who books an oil change at (52.5, 13.4); returns the owner and
    /// the order as booked (dispatch has already run).
    pub async fn book(&self, owner: &str) -> (Client, Order) {
        let (c, car) = self.owner_with_car(owner).await;
        let order: Order = c
            .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
            .await
            .expect("book");
        (c, order)
    }

    /// Gives an account a phone number, as signing in with a code would have.
    pub fn set_phone(&self, account: Id, phone: &str) {
        self.platform
            .write(|tx| {
                tx.tx
                    .execute(
                        "UPDATE accounts SET phone = ?1 WHERE id = ?2",
                        (phone, account),
                    )
                    .map_err(|e| pitstop_platform::ApiError::internal(e.into()))?;
                Ok(())
            })
            .expect("set phone");
    }

    /// A car owner.
    pub async fn owner(&self, name: &str) -> Client {
        self.login(name, Role::Owner, None).await
    }

    /// A workshop made by an admin.
    pub async fn workshop(&self, name: &str) -> Id {
        let w: Workshop = self
            .admin()
            .await
            .post(
                "/v1/workshops",
                &NewWorkshop {
                    name: name.into(),
                    lat: 52.52,
                    lon: 13.40,
                    address: "Torstraße 140, 10119 Berlin".into(),
                    currency: None,
                },
            )
            .await
            .expect("workshop");
        w.id
    }

    /// A technician with `skills`, on shift at (lat, lon).
    pub async fn technician_at(&self, name: &str, skills: &[&str], lat: f64, lon: f64) -> Client {
        let c = self.login(name, Role::Technician, None).await;
        c.setup_technician(skills, lat, lon).await;
        c
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A valid vehicle body (a European VIN, no check digit needed).
pub fn new_vehicle() -> NewVehicle {
    NewVehicle {
        vin: "WVWZZZ1JZXW000001".into(),
        plate: "B-PS 1".into(),
        make: "Volkswagen".into(),
        model: "Golf".into(),
        year: Some(2019),
    }
}

/// An order body for `vehicle` at (lat, lon), window from now for two hours.
pub fn new_order(vehicle: Id, service: &str, lat: f64, lon: f64) -> NewOrder {
    let now = now_ms();
    NewOrder {
        vehicle_id: vehicle,
        service: service.into(),
        lat,
        lon,
        address: "Oranienstraße 25, 10999 Berlin".into(),
        place_note: "Courtyard, second gate".into(),
        window_start: now,
        window_end: now + 2 * 3600 * 1000,
        notes: "Blue car in the courtyard".into(),
        customer_name: None,
        customer_phone: None,
    }
}

/// A one-fix GPS batch from device "phone", `seq` ms after now (so later fixes are newer).
pub fn fix_batch(seq: u64, lat: f64, lon: f64) -> LocationBatch {
    LocationBatch {
        device_id: "phone".into(),
        fixes: vec![Fix {
            seq,
            t: now_ms() + seq as i64,
            lat,
            lon,
            accuracy_m: 5.0,
            speed_mps: Some(9.0),
            heading_deg: None,
        }],
    }
}

/// Now in Unix milliseconds (the core's clock).
pub use pitstop_core::store::now_ms;

/// A raw HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// The problem document's `detail`, if any.
    pub fn detail(&self) -> String {
        self.body["detail"].as_str().unwrap_or_default().to_string()
    }
    /// Asserts a problem+json answer with `status`; returns its detail.
    #[track_caller]
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        let d = self.detail();
        assert!(!d.is_empty(), "problem without detail: {}", self.body);
        d
    }
}

/// A signed-in (or anonymous) HTTP client.
#[derive(Debug, Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    pub account: Option<Account>,
}

impl Client {
    /// The account id.
    pub fn id(&self) -> Id {
        self.account.as_ref().map(|a| a.id).unwrap_or_default()
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// Sends a request with an optional JSON body (or raw bytes) and returns whatever came.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        Self::reply(rb.send().await.expect("send")).await
    }

    /// Sends raw bytes as JSON.
    pub async fn send_raw(&self, method: Method, path: &str, body: Vec<u8>) -> Reply {
        let rb = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body);
        Self::reply(rb.send().await.expect("send")).await
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = resp.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// GET, expecting 2xx and a `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let r = self.send(Method::GET, path, None).await;
        Self::ok(r)
    }

    /// POST, expecting 2xx and a `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        let r = self
            .send(Method::POST, path, Some(serde_json::to_value(body)?))
            .await;
        Self::ok(r)
    }

    /// PUT, expecting 2xx and a `T`.
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        let r = self
            .send(Method::PUT, path, Some(serde_json::to_value(body)?))
            .await;
        Self::ok(r)
    }

    /// POST and return the raw reply (for error cases).
    pub async fn post_raw(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    fn ok<T: DeserializeOwned>(r: Reply) -> anyhow::Result<T> {
        if !r.status.is_success() {
            bail!("HTTP {}: {}", r.status, r.body);
        }
        serde_json::from_value(r.body.clone()).with_context(|| format!("decoding {}", r.body))
    }

    /// Sets skills and goes on shift at (lat, lon).
    pub async fn setup_technician(&self, skills: &[&str], lat: f64, lon: f64) {
        let _: Technician = self
            .put("/v1/technicians/me", &json!({ "skills": skills }))
            .await
            .expect("profile");
        self.shift(true, lat, lon).await;
    }

    /// Goes on or off shift.
    pub async fn shift(&self, on: bool, lat: f64, lon: f64) {
        let _: Technician = self
            .post(
                "/v1/technicians/me/shift",
                &ShiftChange {
                    on_shift: on,
                    lat: Some(lat),
                    lon: Some(lon),
                },
            )
            .await
            .expect("shift");
    }

    /// The technician's open offers.
    pub async fn offers(&self) -> Vec<Offer> {
        self.get("/v1/offers").await.expect("offers")
    }

    /// Waits until this technician holds an open offer for `order`.
    pub async fn wait_offer(&self, order: Id) -> Offer {
        eventually(Duration::from_secs(10), || async {
            self.offers()
                .await
                .into_iter()
                .find(|o| o.order_id == order)
        })
        .await
        .unwrap_or_else(|| panic!("no offer for order {order} reached {:?}", self.account))
    }

    /// Waits for this technician's offer for `order` and accepts it over REST.
    pub async fn win(&self, order: Id) -> Order {
        let offer = self.wait_offer(order).await;
        self.post(&format!("/v1/offers/{}/accept", offer.id), &json!({}))
            .await
            .expect("accept")
    }

    /// Wins the order's offer and sets off to it (en route), as a technician does.
    pub async fn set_off(&self, order: Id) {
        self.win(order).await;
        let r = self.step(order, OrderStatus::EnRoute).await;
        assert!(r.status.is_success(), "en route: {}", r.body);
    }

    /// Takes an assigned job through every step to completed, checking each is accepted.
    pub async fn finish_job(&self, order: Id) {
        for s in [
            OrderStatus::EnRoute,
            OrderStatus::Arrived,
            OrderStatus::InProgress,
            OrderStatus::Completed,
        ] {
            let r = self.step(order, s).await;
            assert!(r.status.is_success(), "{s:?}: {}", r.body);
        }
    }

    /// A browser tracking link for `order`.
    pub async fn share(&self, order: Id) -> ShareLink {
        self.post(&format!("/v1/orders/{order}/share"), &())
            .await
            .expect("share link")
    }

    /// Reads an order.
    pub async fn order(&self, id: Id) -> Order {
        self.get(&format!("/v1/orders/{id}")).await.expect("order")
    }

    /// Steps an order's status.
    pub async fn step(&self, id: Id, status: OrderStatus) -> Reply {
        self.post_raw(
            &format!("/v1/orders/{id}/status"),
            json!({ "status": status }),
        )
        .await
    }

    /// Pulls every change after `cursor` page by page; returns them and the final cursor.
    pub async fn pull_all(&self, mut cursor: i64, limit: u32) -> (Vec<Change>, i64) {
        let mut all = Vec::new();
        loop {
            let page: SyncPage = self
                .get(&format!("/v1/sync?cursor={cursor}&limit={limit}"))
                .await
                .expect("pull");
            assert!(page.changes.len() <= limit as usize);
            all.extend(page.changes);
            cursor = page.next_cursor;
            if !page.has_more {
                return (all, cursor);
            }
        }
    }

    /// Opens the event stream after `last_event_id` (sent as the `Last-Event-ID` header).
    pub async fn events(&self, last_event_id: Option<i64>) -> EventStream {
        let mut rb = self.request(Method::GET, "/v1/events");
        if let Some(id) = last_event_id {
            rb = rb.header("Last-Event-ID", id.to_string());
        }
        let resp = rb.send().await.expect("events");
        assert_eq!(resp.status(), StatusCode::OK);
        EventStream {
            body: Box::pin(resp.bytes_stream()),
            buf: String::new(),
        }
    }
}

/// A minimal Server-Sent Events reader for tests.
pub struct EventStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

/// One SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<i64>,
    pub event: String,
    pub change: Change,
}

impl EventStream {
    /// The next event with data, or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                let change: Change = serde_json::from_str(&data).expect("event data is a Change");
                return Some(SseEvent { id, event, change });
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }
}

/// One line describing the machine, for benchmark output.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("machine: {cpu}, {cores} cores")
}

/// Polls `f` every 20 ms until it yields `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(within: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bytes of one OsmAnd request per fix, as Traccar Client sends them (query string on
/// an empty POST, typical OkHttp headers): what the GPS benchmarks compare against.
pub fn osmand_request_bytes(f: &pitstop_core::location::RawFix) -> usize {
    let line = format!(
        "POST /?id=864512045213456&timestamp={}&lat={:.6}&lon={:.6}&speed={:.1}&bearing={:.1}&altitude=34.0&accuracy={:.1}&batt=87.0 HTTP/1.1\r\n",
        f.t / 1000,
        f.lat,
        f.lon,
        f.speed_mps.unwrap_or(0.0) * 1.943_844,
        f.heading_deg.unwrap_or(0.0),
        f.accuracy_m
    );
    let headers = "Host: tracking.example.com:5055\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nUser-Agent: okhttp/4.12.0\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip\r\n\r\n";
    line.len() + headers.len()
}

/// A small geocoding server on 127.0.0.1 speaking Nominatim's `/search` and `/reverse`
/// (`format=jsonv2`) over the demo city's address list: what `--geocoder-url` points at in
/// tests. It records each request's `Accept-Language`; `fail` makes it answer 500.
#[derive(Debug, Clone)]
pub struct LocalGeocoder {
    pub url: String,
    pub languages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LocalGeocoder {
    pub async fn start() -> Self {
        use axum::extract::{Query, State};
        use axum::http::HeaderMap;
        use std::collections::HashMap;
        type St = (
            std::sync::Arc<std::sync::Mutex<Vec<String>>>,
            std::sync::Arc<std::sync::atomic::AtomicBool>,
        );
        fn place(a: &str, lat: f64, lon: f64) -> Value {
            serde_json::json!({"place_id": 1, "lat": lat.to_string(), "lon": lon.to_string(), "display_name": a})
        }
        fn note(st: &St, h: &HeaderMap) -> bool {
            let lang = h
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            st.0.lock().unwrap().push(lang);
            !st.1.load(std::sync::atomic::Ordering::Relaxed)
        }
        async fn search(
            State(st): State<St>,
            h: HeaderMap,
            Query(q): Query<HashMap<String, String>>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse;
            if !note(&st, &h) {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            let words: Vec<String> = q
                .get("q")
                .map(|s| s.split_whitespace().map(str::to_lowercase).collect())
                .unwrap_or_default();
            let found: Vec<Value> = pitstop_platform::geocode::DEMO_PLACES
                .iter()
                .filter(|(a, _, _)| words.iter().all(|w| a.to_lowercase().contains(w.as_str())))
                .map(|&(a, lat, lon)| place(a, lat, lon))
                .collect();
            axum::Json(found).into_response()
        }
        async fn reverse(
            State(st): State<St>,
            h: HeaderMap,
            Query(q): Query<HashMap<String, String>>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse;
            if !note(&st, &h) {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            let num = |k: &str| q.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let (lat, lon) = (num("lat"), num("lon"));
            let near = pitstop_platform::geocode::DEMO_PLACES
                .iter()
                .find(|(_, a, b)| pitstop_api::geo::haversine_m(lat, lon, *a, *b) < 300.0);
            match near {
                Some(&(a, lat, lon)) => axum::Json(place(a, lat, lon)).into_response(),
                None => {
                    axum::Json(serde_json::json!({"error": "Unable to geocode"})).into_response()
                }
            }
        }
        let st: St = Default::default();
        let app = axum::Router::new()
            .route("/search", axum::routing::get(search))
            .route("/reverse", axum::routing::get(reverse))
            .with_state(st.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            languages: st.0,
            fail: st.1,
        }
    }
}
