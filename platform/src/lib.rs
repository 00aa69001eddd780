//! `pitstop-platform`: the reference platform API that Pitstop's apps, tests and demo run
//! against. Auth, orders, dispatch offers with expiry, sync, a live event stream, location
//! ingest and tracking, over HTTP/JSON under `/v1`.
//!
//! # Layout
//! - [`db`]: the SQLite file, migrations, the single-writer transaction helper.
//! - [`changes`]: the change log behind sync pull and the SSE stream, and the live hub.
//! - [`auth`]: bearer tokens (stored hashed) and the [`auth::Caller`] extractor.
//! - [`signin`]: one-time codes, passwords, invitations, dev login, sign-in rate limits;
//!   [`sender`] delivers the codes; [`sessions`] are the signed-in devices; [`identity`]
//!   runs the sign-in endpoints' steps in order.
//! - [`accounts`], [`vehicles`], [`technicians`], [`orders`]: the domain, one file each.
//! - [`dispatch`]: matching, offers, first-come accept, expiry and the offer cascade.
//! - [`location`]: GPS fix ingest and owner tracking with ETA.
//! - [`sync`]: cursor pull and exactly-once mutation push.
//! - [`events`]: Server-Sent Events, resumable with `Last-Event-ID`.
//! - [`http`]: the axum router, handlers and the OpenAPI document; [`contract`] adds every
//!   error response and the binary bodies to it.
//! - [`serve`]: the accept loop and its connection limits.
//! - [`demo`]: a seeded city and simulated technicians and customers.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let platform = pitstop_platform::Platform::open(pitstop_platform::Config::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! pitstop_platform::serve(listener, platform, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod auth;
pub mod changes;
pub mod contact;
pub mod contract;
pub mod db;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod geocode;
pub mod http;
pub mod identity;
pub mod live;
pub mod location;
pub mod orders;
pub mod places;
pub mod sender;
pub mod serve;
pub mod sessions;
pub mod share;
pub mod signin;
pub mod sync;
pub mod technicians;
pub mod vehicles;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pitstop_api::{Id, Millis};
use rusqlite::Connection;
use tokio::sync::{broadcast, watch};

pub use error::{ApiError, ApiResult};
pub use http::app;
pub use serve::serve;

/// Server settings; every field has a flag in `pitstop-platform --help`.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite file; created and migrated on start.
    pub db_path: PathBuf,
    /// How long a technician has to accept an offer.
    pub offer_ttl: Duration,
    /// How many technicians one dispatch round offers an order to at once (first accept wins).
    pub offer_fanout: usize,
    /// Enables `POST /v1/auth/dev-login` (demo and tests; off in production).
    pub dev_login: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The built web UI (`ui/dist`) served at `/app/` for share links; `None` serves nothing.
    pub ui_dir: Option<PathBuf>,
    /// Map tile URL template clients use; `None` draws maps without tiles.
    pub tile_url: Option<String>,
    /// Connection and stream limits.
    pub limits: Limits,
    /// Web origins allowed to call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// How long an access token works.
    pub access_ttl: Duration,
    /// A session that does not renew for this long ends.
    pub session_ttl: Duration,
    /// Sends sign-in codes by SMS; `None` prints them (development).
    pub sms: Option<SmsConfig>,
    /// A Nominatim-compatible geocoding service for address search.
    pub geocoder_url: Option<String>,
    /// Without a geocoder URL: search the demo city's built-in address list (the demo).
    pub gazetteer: bool,
    /// Requests a second the geocoding service takes from this platform in all.
    pub geocoder_per_second: u32,
    /// The masked-contact relay; `None`: technicians cannot call customers.
    pub relay: Option<contact::RelayConfig>,
    /// ISO 4217 code of prices for new workshops and for orders without a workshop.
    pub currency: String,
}

/// Twilio settings for sending sign-in codes.
#[derive(Clone)]
pub struct SmsConfig {
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: String,
    pub from: String,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// What one client may hold of the server (documented in `docs/protocol.md`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open TCP connections; at the cap, new ones wait in the backlog.
    pub max_connections: usize,
    /// A request's headers must arrive within this; a keep-alive connection with no next
    /// request is closed after it too.
    pub header_timeout: Duration,
    /// Largest request head (start line and headers), in bytes.
    pub max_header_bytes: usize,
    /// A request body may pause at most this long between two pieces (the fix stream has
    /// its own, longer, limit).
    pub body_timeout: Duration,
    /// Event streams open at once per account.
    pub streams_per_account: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_240,
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            body_timeout: Duration::from_secs(20),
            streams_per_account: 8,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db_path: PathBuf::from("pitstop-platform.db"),
            offer_ttl: Duration::from_secs(30),
            offer_fanout: 1,
            dev_login: false,
            body_limit: 512 * 1024,
            ui_dir: None,
            tile_url: None,
            limits: Limits::default(),
            cors_origins: Vec::new(),
            access_ttl: Duration::from_secs(15 * 60),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            sms: None,
            geocoder_url: None,
            gazetteer: false,
            geocoder_per_second: 1,
            relay: None,
            currency: pitstop_api::DEFAULT_CURRENCY.to_string(),
        }
    }
}

/// Read-only connections in the pool.
const READERS: usize = 4;
/// How often the change log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Finished offers and positions stay in the change log this long.
const KEEP_FINISHED: Duration = Duration::from_secs(24 * 3600);

/// The running platform: shared state behind every handler. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Platform {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The one writer connection (see [`db`] for why there is exactly one).
    db: Mutex<Connection>,
    /// Read-only connections (WAL lets them read while the writer writes), so a long read
    /// never delays a write or another read.
    readers: Vec<Mutex<Connection>>,
    /// Round-robin start for readers when all are busy.
    next_reader: std::sync::atomic::AtomicUsize,
    /// Fans committed changes out to SSE streams.
    hub: broadcast::Sender<Arc<live::LiveChange>>,
    config: Config,
    /// Delivers sign-in codes.
    sender: Arc<dyn sender::CodeSender>,
    /// The development sender, when that is the one in use (tests read codes from it).
    dev_sink: Option<Arc<sender::DevSink>>,
    /// Sign-in rate limits.
    signin_limits: signin::Limits,
    /// Address search.
    geocoding: geocode::Geocoding,
    /// Flips to true on shutdown so that endless event streams end and serving can drain.
    closing: watch::Sender<bool>,
    /// Event streams open per account (see [`events::StreamSlot`]).
    streams: Mutex<HashMap<Id, usize>>,
}

impl Platform {
    /// Opens the database named in `config` and restarts timers of offers still pending.
    /// Must be called inside a tokio runtime.
    pub fn open(config: Config) -> anyhow::Result<Self> {
        let conn = db::open(&config.db_path)?;
        let readers = (0..READERS)
            .map(|_| db::open_reader(&config.db_path).map(Mutex::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (hub, _) = broadcast::channel(8192);
        let (sender, dev_sink): (Arc<dyn sender::CodeSender>, _) = match &config.sms {
            Some(sms) => (
                Arc::new(sender::Twilio::new(
                    &sms.api_base,
                    &sms.account_sid,
                    &sms.auth_token,
                    &sms.from,
                )),
                None,
            ),
            None => {
                let sink = Arc::new(sender::DevSink::default());
                (sink.clone(), Some(sink))
            }
        };
        let geocoder_per_second = config.geocoder_per_second;
        let geocoder: Option<Box<dyn geocode::Geocoder>> =
            match (&config.geocoder_url, config.gazetteer) {
                (Some(url), _) => Some(Box::new(geocode::Nominatim::new(url)?)),
                (None, true) => Some(Box::new(geocode::Gazetteer::new(geocode::DEMO_PLACES))),
                (None, false) => None,
            };
        let platform = Self {
            inner: Arc::new(Inner {
                db: Mutex::new(conn),
                readers,
                next_reader: Default::default(),
                hub,
                config,
                sender,
                dev_sink,
                signin_limits: signin::Limits::default(),
                geocoding: geocode::Geocoding::new(geocoder, geocoder_per_second),
                streams: Mutex::new(HashMap::new()),
                closing: watch::Sender::new(false),
            }),
        };
        platform
            .write(orders::republish_for_sync_v2)
            .map_err(|e| anyhow::anyhow!("publishing job-sheet lines: {e}"))?;
        platform.resume_offer_timers()?;
        platform.prune_every(PRUNE_EVERY);
        Ok(platform)
    }

    /// Drops finished offers and old positions from the change log now and then (see
    /// [`changes::prune`]).
    fn prune_every(&self, every: Duration) {
        let platform = self.clone();
        let mut closing = self.closing();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = closing.changed() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let before = db::now_ms() - KEEP_FINISHED.as_millis() as i64;
                platform.inner.signin_limits.tidy();
                if let Err(e) = platform.write(sessions::prune) {
                    tracing::warn!(error = %e, "pruning expired tokens failed");
                }
                match platform.write(|tx| changes::prune(tx, before)) {
                    Ok(n) => tracing::info!(pruned = n, "change log pruned"),
                    Err(e) => tracing::warn!(error = %e, "pruning the change log failed"),
                }
            }
        });
    }

    /// The settings this platform runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Address search and its limits.
    pub fn geocoding(&self) -> &geocode::Geocoding {
        &self.inner.geocoding
    }

    /// Lifetimes of the tokens a sign-in hands out.
    pub fn lifetimes(&self) -> sessions::Lifetimes {
        sessions::Lifetimes {
            access_ms: self.inner.config.access_ttl.as_millis() as Millis,
            session_ms: self.inner.config.session_ttl.as_millis() as Millis,
        }
    }

    /// What delivers sign-in codes.
    pub fn sender(&self) -> &dyn sender::CodeSender {
        self.inner.sender.as_ref()
    }

    /// The last code the development sender printed for `address` (canonical form); `None`
    /// when a real sender is configured.
    pub fn dev_code(&self, address: &str) -> Option<String> {
        self.inner.dev_sink.as_ref()?.last_code(address)
    }

    /// Sign-in rate limits.
    pub fn signin_limits(&self) -> &signin::Limits {
        &self.inner.signin_limits
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock rolled its transaction back; the data is sound.
        self.inner.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one write transaction; commits on `Ok`, then publishes its changes and
    /// starts its offer timers. On `Err` nothing is stored and nothing is published.
    pub fn write<T>(&self, f: impl FnOnce(&mut db::Tx<'_>) -> ApiResult<T>) -> ApiResult<T> {
        let mut conn = self.lock();
        let (out, timers) = {
            let mut tx = db::begin(&mut conn)?;
            let out = f(&mut tx)?;
            let db::Tx {
                tx, live, timers, ..
            } = tx;
            tx.commit()?;
            // Publish while still holding the lock, so streams see cursors in increasing order.
            for change in live {
                // No subscribers is fine: pull finds it later.
                let _ = self.inner.hub.send(change);
            }
            (out, timers)
        };
        drop(conn);
        for (offer_id, expires_at) in timers {
            self.schedule_expiry(offer_id, expires_at);
        }
        Ok(out)
    }

    /// Runs `f` on the writer's connection outside any transaction: maintenance (pragmas,
    /// checkpoints) and tests that must change the writer's own settings.
    pub fn maintain<T>(&self, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let conn = self.lock();
        f(&conn)
    }

    /// Runs a read on one of the read-only connections: a free one if there is one, else
    /// waits for one (never for the writer).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let readers = &self.inner.readers;
        // One read transaction per call: everything `f` reads comes from one snapshot, even
        // while the writer supersedes rows it is about to look up.
        let in_snapshot = |conn: &Connection| -> ApiResult<T> {
            let tx = conn.unchecked_transaction()?;
            f(&tx)
        };
        for r in readers {
            if let Ok(conn) = r.try_lock() {
                return in_snapshot(&conn);
            }
        }
        let i = self
            .inner
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % readers.len();
        let conn = readers[i].lock().unwrap_or_else(|e| e.into_inner());
        in_snapshot(&conn)
    }

    /// A receiver of every committed change, for the event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<live::LiveChange>> {
        self.inner.hub.subscribe()
    }

    /// Open event streams per account.
    pub(crate) fn streams(&self) -> MutexGuard<'_, HashMap<Id, usize>> {
        self.inner
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves once shutdown has begun.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Begins shutdown: open event streams end.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    fn schedule_expiry(&self, offer_id: Id, expires_at: Millis) {
        let platform = self.clone();
        tokio::spawn(async move {
            let wait = (expires_at - db::now_ms()).max(0) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if let Err(e) = platform.write(|tx| dispatch::expire(tx, platform.config(), offer_id)) {
                tracing::error!(offer_id, error = %e, "expiring offer failed");
            }
        });
    }

    fn resume_offer_timers(&self) -> anyhow::Result<()> {
        let pending = self
            .read(dispatch::pending_expiries)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (id, at) in pending {
            self.schedule_expiry(id, at);
        }
        Ok(())
    }
}
