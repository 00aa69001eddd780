//! [`Client`]: the public face of the core. Reads come from the local cache and never wait
//! for the network; actions are queued locally and sent by the sync worker; a subscription
//! tells the UI what changed.
//!
//! ```no_run
//! # async fn demo() -> pitstop_core::Result<()> {
//! use pitstop_core::{Client, ClientConfig};
//! let client = Client::open(ClientConfig {
//!     cache: "cache.db".into(),
//!     platform: "http://127.0.0.1:8080".into(),
//!     token: "…".into(),
//!     account_id: 7,
//!     ..Default::default()
//! })?;
//! let _sync = client.start(); // background push/pull/events until dropped
//! let mut changes = client.subscribe();
//! for offer in client.offers()? {
//!     println!("offer {} expires in {} s", offer.offer.id, offer.time_left_ms / 1000);
//! }
//! # let _ = changes.recv().await;
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use pitstop_api::{
    ContactRelay, DispatchRequest, GeoPlace, Id, MutationOp, NewOrder, NewPlace, NewVehicle, Order,
    OrderStatus, Role, SavedPlace, ShareLink, ShiftChange, Technician, TechnicianFix, Tracking,
    Uuid, Vehicle,
};
use tokio::sync::{Notify, broadcast, watch};

use crate::error::{Error, Result};
use crate::location::{FixFilter, PositionSource, RawFix, SimulatedRoute};
use crate::remote::Remote;
use crate::store::{Applied, OfferView, Store, now_ms};
use crate::sync::{self, Live, Round, SyncStatus};

/// Where the cache lives and who is signed in.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// The SQLite cache file of this account.
    pub cache: PathBuf,
    /// Platform base URL.
    pub platform: String,
    /// Bearer token.
    pub token: String,
    /// The signed-in account.
    pub account_id: Id,
    /// Renews `token` before it expires; `None`: `token` is used until refused.
    pub refresh_token: Option<String>,
    /// When `token` expires (0: unknown).
    pub token_expires_at: i64,
    /// Told about every renewed session (keep its refresh token).
    pub on_renew: crate::remote::OnRenew,
}

/// The cache file of `account_id` on `platform` inside `dir`: one file per platform and
/// account, so account 75 of one platform never opens the data of account 75 of another.
pub fn cache_file(dir: &std::path::Path, platform: &str, account_id: Id) -> PathBuf {
    use sha2::Digest;
    let url = platform.trim().trim_end_matches('/').to_ascii_lowercase();
    let key = hex::encode(&sha2::Sha256::digest(url.as_bytes())[..6]);
    dir.join(format!("account-{key}-{account_id}.db"))
}

impl ClientConfig {
    /// The settings for a session the platform handed out, with its cache at `cache`.
    pub fn for_session(
        cache: PathBuf,
        platform: &str,
        s: &pitstop_api::Session,
        on_renew: crate::remote::OnRenew,
    ) -> Self {
        Self {
            cache,
            platform: platform.to_string(),
            token: s.token.clone(),
            account_id: s.account.id,
            refresh_token: Some(s.refresh_token.clone()),
            token_expires_at: s.expires_at,
            on_renew,
        }
    }
}

/// What changed, for a UI to refresh.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Orders(Vec<Id>),
    Offers(Vec<Id>),
    Positions(Vec<Id>),
    /// Online state, pending count or failures may have changed.
    Sync,
}

/// State shared by the client handle and its background tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Mutex<Store>,
    pub(crate) remote: Remote,
    pub(crate) device_id: String,
    /// Wakes the worker when a local action is queued.
    pub(crate) wake: Notify,
    /// Wakes the position lane when a fix is kept.
    pub(crate) fix_wake: Notify,
    /// One fix upload at a time (the round and the position lane both upload), so no fix
    /// is sent twice.
    pub(crate) fix_upload: tokio::sync::Mutex<()>,
    /// The open fix stream of the position lane, if any.
    pub(crate) lane: tokio::sync::Mutex<Option<sync::Lane>>,
    /// What the position lane sent: (streams opened, bytes including an estimate of each
    /// stream's request headers and chunk framing).
    pub(crate) lane_sent: Mutex<(usize, usize)>,
    events: broadcast::Sender<Notice>,
    live: Mutex<Live>,
    filter: FixFilter,
    /// Offers already announced to the person (system notification), so each is once.
    announced: Mutex<std::collections::HashSet<Id>>,
    /// Each order's status as last announced (or as found at open), so a job change is
    /// announced once and a fresh sync is not news.
    job_states: Mutex<std::collections::HashMap<Id, OrderStatus>>,
}

impl Shared {
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>> {
        // A panic while holding the lock left SQLite consistent (transactions roll back).
        Ok(self.store.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn notify(&self, n: Notice) {
        let _ = self.events.send(n);
    }

    pub(crate) fn publish_applied(&self, a: Applied) {
        if !a.orders.is_empty() {
            self.notify(Notice::Orders(a.orders));
        }
        if !a.offers.is_empty() {
            self.notify(Notice::Offers(a.offers));
        }
        if !a.positions.is_empty() {
            self.notify(Notice::Positions(a.positions));
        }
    }

    pub(crate) fn live(&self) -> Live {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_live(&self, f: impl FnOnce(&mut Live)) {
        f(&mut self.live.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub(crate) fn count_lane(&self, streams: usize, bytes: usize) {
        let mut s = self.lane_sent.lock().unwrap_or_else(|e| e.into_inner());
        s.0 += streams;
        s.1 += bytes;
    }

    /// Records a failed round: in memory for the badge, on disk for the next process.
    pub(crate) fn record_failure(&self, e: &Error) {
        self.set_live(|l| {
            l.online = !matches!(e, Error::Offline(_));
            l.last_error = Some(e.to_string());
        });
        self.save_live();
    }

    /// Keeps the connection state in the cache, so a new process (the CLI's `status`, an app
    /// restarted offline) shows the last known truth instead of "offline, no error". Written
    /// when online or the error changes, and the last sync at most once a minute: not a
    /// synchronous disk write per round.
    pub(crate) fn save_live(&self) {
        let now = self.live();
        let save = || -> Result<()> {
            let mut store = self.store()?;
            let saved: Option<Live> = store
                .state("live")?
                .and_then(|s| serde_json::from_str(&s).ok());
            let stale = saved.as_ref().is_none_or(|s| {
                s.online != now.online
                    || s.last_error != now.last_error
                    || now.last_sync.unwrap_or(0) - s.last_sync.unwrap_or(0) >= 60_000
            });
            if stale {
                store.put_state("live", &serde_json::to_string(&now)?)?;
            }
            Ok(())
        };
        if let Err(e) = save() {
            tracing::warn!(error = %e, "saving sync state");
        }
    }
}

/// A signed-in account's engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

/// Keeps the background sync running; stops it when dropped.
#[derive(Debug)]
pub struct SyncHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SyncHandle {
    /// Stops the worker and the event follower and waits for them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl Client {
    /// Opens the cache (creating and migrating it) for a signed-in account.
    pub fn open(cfg: ClientConfig) -> Result<Self> {
        let mut store = Store::open(&cfg.cache, cfg.account_id)?;
        let device_id = store.device_id()?;
        let job_states = store
            .orders(None, 500)?
            .into_iter()
            .map(|o| (o.id, o.status))
            .collect();
        let (events, _) = broadcast::channel(1024);
        // The last known connection state, as the previous process left it.
        let live: Live = store
            .state("live")?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Ok(Self {
            shared: Arc::new(Shared {
                store: Mutex::new(store),
                remote: Remote::signed_in(
                    &cfg.platform,
                    crate::remote::Credentials {
                        token: cfg.token.clone(),
                        refresh_token: cfg.refresh_token.clone(),
                        expires_at: cfg.token_expires_at,
                    },
                    cfg.on_renew.clone(),
                ),
                device_id,
                wake: Notify::new(),
                fix_wake: Notify::new(),
                fix_upload: tokio::sync::Mutex::new(()),
                lane: tokio::sync::Mutex::new(None),
                lane_sent: Mutex::new((0, 0)),
                events,
                live: Mutex::new(live),
                filter: FixFilter::default(),
                announced: Mutex::new(Default::default()),
                job_states: Mutex::new(job_states),
            }),
        })
    }

    /// Starts background sync (push/pull worker and live event follower). Needs a tokio
    /// runtime.
    pub fn start(&self) -> SyncHandle {
        let (stop, rx) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(sync::run_worker(self.shared.clone(), rx.clone())),
            tokio::spawn(sync::run_follower(self.shared.clone(), rx.clone())),
            tokio::spawn(sync::run_positions(self.shared.clone(), rx)),
        ];
        SyncHandle { stop, tasks }
    }

    /// Runs one sync round now (push, pull, fix upload) and reports what it did.
    pub async fn sync_now(&self) -> Result<Round> {
        let r = sync::round(&self.shared).await;
        if let Err(e) = &r {
            self.shared.record_failure(e);
        }
        self.shared.notify(Notice::Sync);
        r
    }

    /// Sends the outbox now and records the platform's answers, without pulling; returns how
    /// many actions were sent.
    pub async fn push_now(&self) -> Result<usize> {
        let r = sync::push_all(&self.shared).await;
        self.shared.notify(Notice::Sync);
        r
    }

    /// Change notifications.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.shared.events.subscribe()
    }

    /// The signed-in account.
    pub fn account_id(&self) -> Result<Id> {
        Ok(self.shared.store()?.me())
    }

    /// This install's device id (used for GPS uploads).
    pub fn device_id(&self) -> &str {
        &self.shared.device_id
    }

    // ----- reads (local only) -----------------------------------------------------------

    /// Orders, most recently changed first.
    pub fn orders(&self, status: Option<OrderStatus>, limit: u32) -> Result<Vec<Order>> {
        self.shared.store()?.orders(status, limit)
    }

    /// One order.
    pub fn order(&self, id: Id) -> Result<Option<Order>> {
        self.shared.store()?.order(id)
    }

    /// Open jobs.
    pub fn active_jobs(&self) -> Result<Vec<Order>> {
        self.shared.store()?.active_jobs()
    }

    /// Finished orders.
    pub fn history(&self, limit: u32) -> Result<Vec<Order>> {
        self.shared.store()?.history(limit)
    }

    /// Search by plate, VIN or customer.
    pub fn search(&self, q: &str, limit: u32) -> Result<Vec<Order>> {
        self.shared.store()?.search(q, limit)
    }

    /// Whether a first sync's checkpoint is still owed (see [`Client::settle_wal`]).
    pub fn checkpoint_owed(&self) -> Result<bool> {
        Ok(self.shared.store()?.wal_owed().is_some())
    }

    /// Copies a first sync's WAL into the cache file now if that is still owed (the sync
    /// worker does it after its round); returns whether it did.
    pub fn settle_wal(&self) -> Result<bool> {
        self.shared.store()?.settle_wal()
    }

    /// Builds the search index now if it is not built yet (the sync worker does this after
    /// its first round); returns whether it did.
    pub fn build_search_index(&self) -> Result<bool> {
        let mut store = self.shared.store()?;
        store.settle_wal()?;
        store.build_search_index()
    }

    /// The offer inbox with time left.
    pub fn offers(&self) -> Result<Vec<OfferView>> {
        let store = self.shared.store()?;
        // Counted down by the platform's clock: a phone whose clock is off still shows the
        // time the technician really has.
        let now = now_ms() + store.clock_offset()?;
        store.offers(now)
    }

    /// Open, unanswered offers not announced before; each is returned once, for a system
    /// notification.
    pub fn offers_to_announce(&self) -> Result<Vec<OfferView>> {
        let offers = self.offers()?;
        let mut seen = self
            .shared
            .announced
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok(offers
            .into_iter()
            .filter(|v| v.local.is_none() && v.time_left_ms > 0 && seen.insert(v.offer.id))
            .collect())
    }

    /// Sentences for system notifications about changed orders (`ids` from
    /// [`Notice::Orders`]), by [`crate::announce::job_change`] for `role`; each change once.
    pub fn job_changes_to_announce(&self, role: Role, ids: &[Id]) -> Result<Vec<String>> {
        let mut known = self
            .shared
            .job_states
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for &id in ids {
            let Some(o) = self.order(id)? else { continue };
            let before = known.insert(id, o.status);
            out.extend(crate::announce::job_change(role, before, &o));
        }
        Ok(out)
    }

    /// A technician's latest position (owner tracking, desk map).
    pub fn position(&self, technician: Id) -> Result<Option<TechnicianFix>> {
        self.shared.store()?.position(technician)
    }

    /// Tracking of an order from the cache (works offline): the assigned technician's latest
    /// known position, distance and ETA, computed like the platform does.
    pub fn tracking(&self, order: Id) -> Result<Option<Tracking>> {
        let store = self.shared.store()?;
        let Some(o) = store.order(order)? else {
            return Ok(None);
        };
        let me = store.me();
        let fix = match o.technician_id {
            // The technician's own job: this phone's newest fix is the freshest there is.
            Some(t) if t == me => {
                let own = store
                    .last_fix()?
                    .map(|f| TechnicianFix::of(&f, me, Some(order)));
                let known = store.position(t)?;
                // Before the first GPS fix: where the shift started.
                let started = store
                    .state("shift_start")?
                    .and_then(|s| serde_json::from_str::<TechnicianFix>(&s).ok());
                [own, known, started]
                    .into_iter()
                    .flatten()
                    .max_by_key(|f| f.t)
            }
            Some(t) => store.position(t)?,
            None => None,
        };
        Ok(Some(Tracking::of(&o, fix)))
    }

    // ----- online-only calls (need the platform; used by desk and owner screens) -------

    /// The caller's vehicles (owner) or the workshop's (desk).
    /// Kept on the device: without a network, the list last read is answered (so an owner
    /// can still book offline).
    pub async fn vehicles(&self) -> Result<Vec<Vehicle>> {
        match self.shared.remote.get::<Vec<Vehicle>>("/v1/vehicles").await {
            Ok(list) => {
                self.shared.store()?.put_vehicles(&list)?;
                Ok(list)
            }
            Err(e) if e.is_retryable() => match self.shared.store()?.vehicles()? {
                Some(list) => Ok(list),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Registers a vehicle (VIN checked by the platform).
    pub async fn add_vehicle(&self, v: &NewVehicle) -> Result<Vehicle> {
        let added: Vehicle = self.shared.remote.post("/v1/vehicles", v).await?;
        let mut store = self.shared.store()?;
        let mut list = store.vehicles()?.unwrap_or_default();
        list.retain(|k| k.id != added.id);
        list.push(added.clone());
        store.put_vehicles(&list)?;
        Ok(added)
    }

    /// Technicians the caller may see, with shift and last position (desk map).
    pub async fn technicians(&self) -> Result<Vec<Technician>> {
        self.shared.remote.get("/v1/technicians").await
    }

    /// Address search through the platform's geocoder.
    pub async fn geocode(&self, query: &str) -> Result<Vec<GeoPlace>> {
        let q = pitstop_api::geo::percent(query);
        self.shared.remote.get(&format!("/v1/geocode?q={q}")).await
    }

    /// The address at a pin.
    pub async fn reverse_geocode(&self, lat: f64, lon: f64) -> Result<GeoPlace> {
        self.shared
            .remote
            .get(&format!("/v1/geocode/reverse?lat={lat}&lon={lon}"))
            .await
    }

    /// The account's saved places.
    pub async fn places(&self) -> Result<Vec<SavedPlace>> {
        self.shared.remote.get("/v1/places").await
    }

    /// Saves a place.
    pub async fn save_place(&self, place: &NewPlace) -> Result<SavedPlace> {
        self.shared.remote.post("/v1/places", place).await
    }

    /// Deletes a saved place.
    pub async fn delete_place(&self, id: Id) -> Result<()> {
        self.shared.remote.delete(&format!("/v1/places/{id}")).await
    }

    /// What the technician earned today and this week (`utc_offset_min`: their time zone).
    pub async fn earnings(&self, utc_offset_min: i64) -> Result<pitstop_api::Earnings> {
        self.shared
            .remote
            .get(&format!(
                "/v1/technicians/me/earnings?utc_offset_min={utc_offset_min}"
            ))
            .await
    }

    /// The technician's masked way to call or text the customer of `order`.
    pub async fn contact(&self, order: Id) -> Result<ContactRelay> {
        self.shared
            .remote
            .post(&format!("/v1/orders/{order}/contact"), &())
            .await
    }

    /// Assigns an order by hand, or re-runs automatic dispatch when `technician` is `None`.
    pub async fn dispatch(&self, order: Id, technician: Option<Id>) -> Result<Order> {
        let o: Order = self
            .shared
            .remote
            .post(
                &format!("/v1/orders/{order}/dispatch"),
                &DispatchRequest {
                    technician_id: technician,
                },
            )
            .await?;
        self.shared.wake.notify_one();
        Ok(o)
    }

    /// Creates a browser link that shows the order's live tracking; returns the full URL.
    pub async fn share(&self, order: Id) -> Result<(ShareLink, String)> {
        let link: ShareLink = self
            .shared
            .remote
            .post(&format!("/v1/orders/{order}/share"), &())
            .await?;
        let url = format!("{}{}", self.shared.remote.base(), link.path);
        // Kept on the device: the same link is shown after a restart, until it expires or
        // is turned off, rather than a new one per tap.
        let saved = serde_json::to_string(&(&url, link.expires_at))?;
        self.shared.store()?.put_state(&share_key(order), &saved)?;
        Ok((link, url))
    }

    /// The tracking link this device made for `order`, while it still works (offline too).
    pub fn saved_share(&self, order: Id) -> Result<Option<String>> {
        let saved = self.shared.store()?.state(&share_key(order))?;
        let now = crate::store::now_ms() + self.shared.store()?.clock_offset()?;
        Ok(saved
            .and_then(|s| serde_json::from_str::<(String, i64)>(&s).ok())
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(url, _)| url))
    }

    /// Turns every tracking link of `order` off.
    pub async fn revoke_shares(&self, order: Id) -> Result<()> {
        self.shared
            .remote
            .delete(&format!("/v1/orders/{order}/share"))
            .await?;
        self.shared.store()?.delete_state(&share_key(order))
    }

    /// Whether the technician is on shift as this device last set it (works offline);
    /// `None` when this device never changed the shift.
    pub fn on_shift(&self) -> Result<Option<bool>> {
        self.shared.store()?.last_shift()
    }

    /// The sync badge.
    pub fn status(&self) -> Result<SyncStatus> {
        let live = self.shared.live();
        let store = self.shared.store()?;
        Ok(SyncStatus {
            online: live.online,
            pending: store.pending_count()?,
            last_sync: live.last_sync,
            last_error: live.last_error,
            failed: store.failed()?,
            // Fixes in flight on the open stream count as sent (if the lane is busy this very
            // moment, they count as unsent until the next look).
            unsent_fixes: store.unsent_fix_count_after(
                self.shared
                    .lane
                    .try_lock()
                    .ok()
                    .and_then(|l| l.as_ref().and_then(|l| l.last_seq)),
            )?,
            oldest_pending_at: store.oldest_pending_at()?,
        })
    }

    // ----- actions (queued; never wait for the network) -------------------------------

    fn act(&self, op: MutationOp) -> Result<Uuid> {
        let id = self.shared.store()?.enqueue(op.clone())?;
        match &op {
            MutationOp::OfferAccept { offer_id } | MutationOp::OfferDecline { offer_id } => {
                self.shared.notify(Notice::Offers(vec![*offer_id]))
            }
            _ => self.shared.notify(Notice::Orders(
                crate::overlay::order_of(&op).into_iter().collect(),
            )),
        }
        self.shared.notify(Notice::Sync);
        self.shared.wake.notify_one();
        Ok(id)
    }

    /// Moves a job to its next status (checked locally first).
    pub fn step(&self, order: Id, status: OrderStatus, note: Option<String>) -> Result<Uuid> {
        self.act(MutationOp::OrderStatus {
            order_id: order,
            status,
            note,
        })
    }

    /// Adds a note to a job sheet.
    pub fn add_note(&self, order: Id, text: &str) -> Result<Uuid> {
        self.act(MutationOp::OrderNote {
            order_id: order,
            text: text.into(),
        })
    }

    /// Adds a parts line.
    pub fn add_part(&self, order: Id, name: &str, qty: u32, unit_price_cents: i64) -> Result<Uuid> {
        self.act(MutationOp::OrderPart {
            order_id: order,
            name: name.into(),
            qty,
            unit_price_cents,
        })
    }

    /// Accepts an offer; refused at once if it has expired. Shown as pending until the
    /// platform says won, lost or expired.
    pub fn accept(&self, offer: Id) -> Result<Uuid> {
        self.act(MutationOp::OfferAccept { offer_id: offer })
    }

    /// Declines an offer.
    pub fn decline(&self, offer: Id) -> Result<Uuid> {
        self.act(MutationOp::OfferDecline { offer_id: offer })
    }

    /// Books an order (owner or desk); shown with a provisional id until the platform
    /// answers.
    pub fn book(&self, order: NewOrder) -> Result<Uuid> {
        self.act(MutationOp::OrderCreate(order))
    }

    /// Goes on or off shift.
    pub fn set_shift(&self, shift: ShiftChange) -> Result<Uuid> {
        // Where the shift started: the technician's position until the first GPS fix.
        if let (true, Some(lat), Some(lon)) = (shift.on_shift, shift.lat, shift.lon) {
            let mut store = self.shared.store()?;
            let started = TechnicianFix {
                technician_id: store.me(),
                order_id: None,
                lat,
                lon,
                accuracy_m: 0.0,
                speed_mps: None,
                heading_deg: None,
                t: now_ms(),
            };
            store.put_state("shift_start", &serde_json::to_string(&started)?)?;
        }
        self.act(MutationOp::Shift(shift))
    }

    /// What is still waiting to be sent, in words ("Note on order 12: …"), oldest first.
    pub fn pending_actions(&self) -> Result<Vec<String>> {
        // Only the pending rows: the outbox also keeps every answered action.
        let pending = self.shared.store()?.pending()?;
        Ok(pending.into_iter().map(|e| e.op.describe()).collect())
    }

    /// Signs this device out. Unless `force`, refuses while actions wait to be sent and
    /// answers them in words; otherwise ends the session on the platform, best effort (5 s;
    /// offline, the session simply expires there), and answers nothing. Deleting the
    /// account's data is the caller's, once this answers empty.
    pub async fn sign_out(&self, force: bool) -> Result<Vec<String>> {
        if !force {
            let left = self.pending_actions()?;
            if !left.is_empty() {
                return Ok(left);
            }
        }
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            self.shared.remote.sign_out(),
        )
        .await;
        Ok(Vec::new())
    }

    /// Every local action with its state (diagnostics and tests).
    pub fn outbox(&self) -> Result<Vec<pitstop_api::device::OutboxEntry>> {
        self.shared.store()?.outbox()
    }

    /// Lands changes obtained outside the worker (a tool, a test), through the same path
    /// as pulled and streamed ones.
    pub fn land(&self, changes: &[pitstop_api::Change], next_cursor: i64) -> Result<()> {
        let applied = self.shared.store()?.apply_changes(changes, next_cursor)?;
        self.shared.publish_applied(applied);
        Ok(())
    }

    /// Hides a failed action from the badge.
    pub fn dismiss_failure(&self, seq: i64) -> Result<()> {
        self.shared.store()?.dismiss(seq)?;
        self.shared.notify(Notice::Sync);
        Ok(())
    }

    /// Queues a refused action again (after the person fixed what the platform objected to,
    /// or to try a conflict once more) and hides the old failure. Queued first, hidden
    /// second: a crash in between leaves the failure visible, never loses the retry.
    pub fn retry_failure(&self, seq: i64) -> Result<Uuid> {
        let failed = self.shared.store()?.failed()?;
        let entry = failed
            .into_iter()
            .find(|e| e.seq == seq)
            .ok_or_else(|| Error::Refused(format!("there is no failed action {seq}")))?;
        let id = self.act(entry.op)?;
        self.dismiss_failure(seq)?;
        Ok(id)
    }

    // ----- GPS --------------------------------------------------------------------------

    /// Filters a fix and, if kept, stores it for upload; returns its sequence number.
    pub fn record_fix(&self, fix: RawFix) -> Result<Option<u64>> {
        let mut store = self.shared.store()?;
        let last = store.last_fix()?;
        let live = store.en_route()?;
        if self
            .shared
            .filter
            .check_as(&fix, last.as_ref(), live)
            .is_err()
        {
            return Ok(None);
        }
        let seq = store.push_fix(&fix)?;
        Ok(Some(seq))
    }

    /// A simulated drive from this device's last fix (else `from`, else 2 km south of the
    /// job) to an order's location, a fix every `interval` in real time: the desktop's
    /// position source.
    pub fn route_to(
        &self,
        order: Id,
        from: Option<(f64, f64)>,
        speed_mps: f64,
        interval: std::time::Duration,
    ) -> Result<Option<SimulatedRoute>> {
        let store = self.shared.store()?;
        let Some(o) = store.order(order)? else {
            return Ok(None);
        };
        let start = store
            .last_fix()?
            .map(|f| (f.lat, f.lon))
            .or(from)
            .unwrap_or((o.lat - 0.018, o.lon));
        Ok(Some(
            SimulatedRoute::new(
                &[start, (o.lat, o.lon)],
                speed_mps,
                now_ms(),
                interval,
                std::time::Duration::ZERO,
            )
            .paced(interval),
        ))
    }

    /// Uploads the buffered fixes now as one compact batch (what a sync round does); returns
    /// how many went and the bytes of their bodies.
    pub async fn upload_fixes_now(&self) -> Result<(usize, usize)> {
        sync::upload_fixes(&self.shared).await
    }

    /// Streams the fixes kept since the last call on the position lane's open stream
    /// (opening one if needed), as the lane does after each kept fix; returns how many.
    pub async fn stream_fixes_now(&self) -> Result<usize> {
        sync::lane_send(&self.shared).await
    }

    /// Ends the position lane's stream and waits for the platform's count; the fixes it
    /// carried are then marked sent. Returns how many it acknowledged.
    pub async fn end_fix_stream(&self) -> Result<usize> {
        sync::lane_close(&self.shared).await
    }

    /// What the position lane has sent: streams opened and bytes on the wire (bodies, chunk
    /// framing and an estimate of 260 bytes of request headers per stream).
    pub fn lane_sent(&self) -> (usize, usize) {
        *self
            .shared
            .lane_sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The last position this device recorded.
    pub fn last_fix(&self) -> Result<Option<pitstop_api::Fix>> {
        self.shared.store()?.last_fix()
    }

    /// Feeds a position source into the buffer until it ends; returns how many fixes were
    /// kept.
    pub async fn track(&self, mut source: Box<dyn PositionSource>) -> Result<usize> {
        let mut kept = 0;
        while let Some(fix) = source.next().await {
            if self.record_fix(fix)?.is_some() {
                kept += 1;
                // The position lane sends it on its own, without a push + pull round.
                self.shared.fix_wake.notify_one();
            }
        }
        self.shared.fix_wake.notify_one();
        Ok(kept)
    }
}

/// Where the device keeps the tracking link it made for an order.
fn share_key(order: Id) -> String {
    format!("share:{order}")
}

#[cfg(test)]
mod cache_file_tests {
    use super::cache_file;
    use std::path::Path;

    #[test]
    fn the_same_account_id_on_two_platforms_never_shares_a_file() {
        let dir = Path::new("/data");
        let a = cache_file(dir, "https://pitstop.example", 75);
        let b = cache_file(dir, "https://other.example", 75);
        assert_ne!(a, b);
        assert_ne!(a, cache_file(dir, "https://pitstop.example", 76));
        // One platform written two ways is one file.
        assert_eq!(a, cache_file(dir, "HTTPS://pitstop.example/", 75));
        assert!(a.to_string_lossy().ends_with("-75.db"), "{}", a.display());
    }
}
