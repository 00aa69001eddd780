//! The signed-in account's core client, its background tasks and the position feed, held by
//! the app. Core change notices are forwarded to the UI as the `pitstop://changed` event; new
//! offers and job changes the person should know about become system notifications (also when
//! the window is not focused).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pitstop_api::{Id, OrderStatus, Role, Session};
use pitstop_core::{Client, ClientConfig, Notice, SyncHandle};
use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;

use crate::error::{Error, Result};
use crate::gps::{self, Feed};
use crate::settings::{PositionSource, Settings};

/// What the app keeps between commands.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    /// When the process started (cold-start figure).
    pub started: Instant,
    /// The signed-in account's client, role and sync tasks; `None` before sign-in.
    inner: Mutex<Option<(Client, Role, SyncHandle)>>,
    /// Where the signed-in account's data lives: (data folder, platform, account, cache file).
    signed_in: Mutex<Option<(std::path::PathBuf, String, Id, std::path::PathBuf)>>,
    /// The running position feed, if any.
    feed: Mutex<Option<Feed>>,
    /// Where the last shift started: a simulated drive's start when no fix exists yet.
    shift_at: Mutex<Option<(f64, f64)>>,
}

impl AppState {
    pub fn new(settings: Settings, started: Instant) -> Self {
        Self {
            settings,
            started,
            inner: Mutex::new(None),
            signed_in: Mutex::new(None),
            feed: Mutex::new(None),
            shift_at: Mutex::new(None),
        }
    }

    /// The signed-in client.
    pub fn client(&self) -> Result<Client> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(c, _, _)| c.clone())
            .ok_or(Error::NotSignedIn)
    }

    /// Opens the account's cache in `dir` (one file per platform and account), starts sync
    /// and the notice forwarder. `keep`: the session is kept in the keyring, and so is each
    /// renewal of it.
    pub fn start(
        &self,
        app: &AppHandle,
        dir: &Path,
        platform: &str,
        session: &Session,
        keep: bool,
    ) -> Result<()> {
        let cache = pitstop_core::cache_file(dir, platform, session.account.id);
        let on_renew = if keep {
            let platform = platform.to_string();
            pitstop_core::remote::OnRenew(Some(std::sync::Arc::new(move |s: &Session| {
                crate::vault::renewed(&platform, s)
            })))
        } else {
            Default::default()
        };
        let client = Client::open(ClientConfig::for_session(
            cache.clone(),
            platform,
            session,
            on_renew,
        ))?;
        *self.signed_in.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            dir.to_path_buf(),
            platform.to_string(),
            session.account.id,
            cache,
        ));
        let sync = client.start();
        forward_notices(app.clone(), client.clone(), session.account.role);
        self.set_feed(None);
        // Replacing a previous session drops (and so stops) its sync tasks.
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((client, session.account.role, sync));
        Ok(())
    }

    /// Stops sync and forgets the signed-in account: its keyring entry, and (`wipe`) its
    /// cache file. Returns the client that was running, for a last call to the platform.
    pub fn stop(&self, wipe: bool) -> Option<Client> {
        self.set_feed(None);
        let running = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        let client = running.map(|(c, _, sync)| {
            drop(sync);
            c
        });
        if let Some((dir, platform, account, cache)) = self
            .signed_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            crate::vault::forget(&dir, &platform, account);
            if wipe {
                for suffix in ["", "-wal", "-shm"] {
                    let mut f = cache.clone().into_os_string();
                    f.push(suffix);
                    let _ = std::fs::remove_file(f);
                }
            }
        }
        client
    }

    fn set_feed(&self, feed: Option<Feed>) {
        // The old feed stops when dropped.
        *self.feed.lock().unwrap_or_else(|e| e.into_inner()) = feed;
    }

    /// Going on shift starts the phone's GPS; going off stops any feed.
    pub fn shift_changed(&self, app: &AppHandle, on: bool, at: Option<(f64, f64)>) -> Result<()> {
        if at.is_some() {
            *self.shift_at.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
        if !on {
            self.set_feed(None);
            return Ok(());
        }
        if self.settings.position_source() == PositionSource::Device {
            let feed = gps::device(app, self.client()?).map_err(Error::Position)?;
            self.set_feed(Some(feed));
        }
        Ok(())
    }

    /// On desktop, setting off to a job starts the simulated drive there.
    pub fn job_stepped(&self, order: Id, status: OrderStatus) -> Result<()> {
        if status == OrderStatus::EnRoute
            && self.settings.position_source() == PositionSource::Simulated
        {
            let from = *self.shift_at.lock().unwrap_or_else(|e| e.into_inner());
            let interval = Duration::from_secs_f64(self.settings.sim_interval_secs.max(0.05));
            let feed =
                gps::simulated(self.client()?, order, from, interval).map_err(Error::Position)?;
            self.set_feed(feed);
        }
        Ok(())
    }
}

fn forward_notices(app: AppHandle, client: Client, role: Role) {
    let mut rx = client.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let notice = match rx.recv().await {
                Ok(n) => n,
                // Fell behind a burst: refresh everything rather than stop forwarding.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Notice::Sync,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            let kind = match &notice {
                Notice::Orders(_) => "orders",
                Notice::Offers(_) => "offers",
                Notice::Positions(_) => "positions",
                Notice::Sync => "sync",
            };
            let _ = app.emit("pitstop://changed", kind);
            match notice {
                Notice::Offers(_) => {
                    for offer in client.offers_to_announce().unwrap_or_default() {
                        notify(&app, "New job offer", &offer.summary());
                    }
                }
                Notice::Orders(ids) => {
                    for text in client
                        .job_changes_to_announce(role, &ids)
                        .unwrap_or_default()
                    {
                        notify(&app, "Pitstop", &text);
                    }
                }
                _ => {}
            }
        }
    });
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    let _ = app.notification().builder().title(title).body(body).show();
}
