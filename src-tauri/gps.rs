//! Where the technician's positions come from while on shift, all fed into `pitstop-core`'s
//! GPS buffer (filtered, stored first, uploaded in batches):
//! - phones: the OS location stream through tauri-plugin-geolocation and a
//!   [`ChannelSource`];
//! - desktop: a simulated drive to the job from the core ([`Client::route_to`]), since the
//!   plugin returns nothing there.
//!
//! The device path compiles on every target (the plugin has the same API on desktop), so
//! clippy here checks the code that runs on phones.

use std::time::Duration;

use pitstop_api::Id;
use pitstop_core::Client;
use pitstop_core::location::{ChannelSource, RawFix};
use tauri::{AppHandle, Runtime};
use tauri_plugin_geolocation::{GeolocationExt, PermissionType, PositionOptions, WatchEvent};

/// Fixes buffered between the OS callback and the core; the callback never blocks.
const CHANNEL: usize = 256;

/// A running position feed; stops when dropped.
pub enum Feed {
    /// The OS location watch and the task feeding the core; `stop` clears both.
    Device(Option<Box<dyn FnOnce() + Send>>),
    /// A simulated drive.
    Simulated(tauri::async_runtime::JoinHandle<()>),
}

impl Drop for Feed {
    fn drop(&mut self) {
        match self {
            Feed::Device(stop) => {
                if let Some(stop) = stop.take() {
                    stop();
                }
            }
            Feed::Simulated(task) => task.abort(),
        }
    }
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Feed::Device(_) => "Feed::Device",
            Feed::Simulated(_) => "Feed::Simulated",
        })
    }
}

/// Starts the phone's location watch (asking for permission first) into the core's buffer.
pub fn device<R: Runtime>(app: &AppHandle<R>, client: Client) -> Result<Feed, String> {
    let geo = app.geolocation();
    geo.request_permissions(Some(vec![PermissionType::Location]))
        .map_err(|e| format!("location permission: {e}"))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<RawFix>(CHANNEL);
    let options = PositionOptions {
        enable_high_accuracy: true,
        timeout: 10_000,
        maximum_age: 0,
    };
    let watch = geo
        .watch_position(options, move |event| {
            if let WatchEvent::Position(p) = event {
                // A full channel means the core is behind; the filter would thin these anyway.
                let _ = tx.try_send(RawFix {
                    t: p.timestamp as i64,
                    lat: p.coords.latitude,
                    lon: p.coords.longitude,
                    accuracy_m: p.coords.accuracy as f32,
                    speed_mps: p.coords.speed.map(|s| s as f32),
                    heading_deg: p.coords.heading.map(|h| h as f32),
                });
            }
        })
        .map_err(|e| format!("location watch: {e}"))?;
    let task = tauri::async_runtime::spawn(async move {
        let _ = client.track(Box::new(ChannelSource(rx))).await;
    });
    let app = app.clone();
    Ok(Feed::Device(Some(Box::new(move || {
        let _ = app.geolocation().clear_watch(watch);
        task.abort();
    }))))
}

/// The phone's position now (asking for permission first), for the shift's start.
pub fn current<R: Runtime>(app: &AppHandle<R>) -> Result<(f64, f64), String> {
    let geo = app.geolocation();
    geo.request_permissions(Some(vec![PermissionType::Location]))
        .map_err(|e| format!("location permission: {e}"))?;
    let p = geo
        .get_current_position(Some(PositionOptions {
            enable_high_accuracy: true,
            timeout: 10_000,
            maximum_age: 60_000,
        }))
        .map_err(|e| format!("current position: {e}"))?;
    Ok((p.coords.latitude, p.coords.longitude))
}

/// Starts a simulated drive from the last position (or `from`) to `order`.
pub fn simulated(
    client: Client,
    order: Id,
    from: Option<(f64, f64)>,
    interval: Duration,
) -> Result<Option<Feed>, String> {
    // 12 m/s is a plausible city driving speed.
    let Some(route) = client
        .route_to(order, from, 12.0, interval)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let task = tauri::async_runtime::spawn(async move {
        let _ = client.track(Box::new(route)).await;
    });
    Ok(Some(Feed::Simulated(task)))
}
