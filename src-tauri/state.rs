//! The signed-in account's core client and its background tasks, held by the app. Core
//! change notices are forwarded to the UI as the `pitstop://changed` event, and new offers
//! become system notifications (also when the window is not focused).

use std::path::Path;
use std::sync::Mutex;

use pitstop_api::Session;
use pitstop_core::{Client, ClientConfig, Notice, SyncHandle};
use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;

use crate::error::{Error, Result};

/// What the app keeps between commands.
#[derive(Debug, Default)]
pub struct AppState {
    /// The signed-in account's client and its sync tasks; `None` before sign-in.
    inner: Mutex<Option<(Client, SyncHandle)>>,
}

impl AppState {
    /// The signed-in client.
    pub fn client(&self) -> Result<Client> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(c, _)| c.clone())
            .ok_or(Error::NotSignedIn)
    }

    /// Opens the account's cache in `dir`, starts sync and the notice forwarder.
    pub fn start(
        &self,
        app: &AppHandle,
        dir: &Path,
        platform: &str,
        session: &Session,
    ) -> Result<()> {
        let client = Client::open(ClientConfig {
            cache: dir.join(format!("account-{}.db", session.account.id)),
            platform: platform.to_string(),
            token: session.token.clone(),
            account_id: session.account.id,
        })?;
        let sync = client.start();
        forward_notices(app.clone(), client.clone());
        // Replacing a previous session drops (and so stops) its sync tasks.
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Some((client, sync));
        Ok(())
    }
}

fn forward_notices(app: AppHandle, client: Client) {
    let mut rx = client.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Ok(notice) = rx.recv().await {
            let kind = match &notice {
                Notice::Orders(_) => "orders",
                Notice::Offers(_) => "offers",
                Notice::Positions(_) => "positions",
                Notice::Sync => "sync",
            };
            let _ = app.emit("pitstop://changed", kind);
            if let Notice::Offers(_) = notice {
                for offer in client.offers_to_announce().unwrap_or_default() {
                    let _ = app
                        .notification()
                        .builder()
                        .title("New job offer")
                        .body(offer.summary())
                        .show();
                }
            }
        }
    });
}
