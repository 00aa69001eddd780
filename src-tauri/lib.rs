//! The Pitstop app shell (Tauri 2, desktop and mobile). Thin by design: commands call
//! `pitstop-core`, plugins bring notifications and, on phones, GPS.
//!
//! Architecture invariant: no business rule lives here; anything testable without a window
//! belongs in `pitstop-core`.

mod commands;
mod error;
mod gps;
mod settings;
mod state;
mod vault;

use std::time::Instant;

use serde::Serialize;
use tauri::State;

use crate::settings::{PositionSource, Settings};
use crate::state::AppState;

/// What the UI learns about the app it runs in.
#[derive(Debug, Serialize)]
struct AppInfo {
    /// Version of `pitstop-core`.
    core_version: &'static str,
    /// Schema version of the local cache this build writes.
    cache_schema: usize,
    /// "desktop" or "mobile".
    platform: &'static str,
    /// The operating system (`android`, `ios`, `linux`, `macos`, `windows`): which maps app
    /// a Navigate link goes to.
    os: &'static str,
    /// How the app was started (platform URL, role to sign in as, position source).
    settings: Settings,
    position_source: PositionSource,
}

/// `app_info` command.
#[tauri::command]
fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        core_version: pitstop_core::VERSION,
        cache_schema: pitstop_core::store::SCHEMA_VERSION,
        platform: if cfg!(mobile) { "mobile" } else { "desktop" },
        os: std::env::consts::OS,
        settings: state.settings.clone(),
        position_source: state.settings.position_source(),
    }
}

/// `ui_ready` command: the UI calls it once its first view is interactive. Prints the
/// cold-start figure and, for the benchmark, quits.
#[tauri::command]
fn ui_ready(app: tauri::AppHandle, state: State<'_, AppState>) {
    let ms = state.started.elapsed().as_secs_f64() * 1000.0;
    eprintln!("pitstop-app: interactive after {ms:.0} ms");
    if state.settings.exit_when_ready {
        app.exit(0);
    }
}

/// Builds and runs the app; also the mobile entry point.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let started = Instant::now();
    let settings = Settings::load();
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::new(settings, started))
        .setup(|app| {
            // Android 13+ and iOS ask once; desktop answers "granted".
            use tauri_plugin_notification::NotificationExt;
            let _ = app.notification().request_permission();
            Ok(())
        });
    // GPS comes from the phone; on desktop the plugin has no source, so the core's simulated
    // drive is used instead (see gps.rs).
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_geolocation::init());
    builder
        .invoke_handler(tauri::generate_handler![
            app_info,
            ui_ready,
            commands::sign_in,
            commands::request_code,
            commands::sign_in_with,
            commands::resume,
            commands::sign_out,
            commands::offers,
            commands::accept,
            commands::decline,
            commands::orders,
            commands::order,
            commands::tracking,
            commands::jobs,
            commands::history,
            commands::search,
            commands::step,
            commands::add_note,
            commands::add_part,
            commands::book,
            commands::set_shift,
            commands::sync_status,
            commands::dismiss_failure,
            commands::retry_failure,
            commands::on_shift,
            commands::sync_now,
            commands::vehicles,
            commands::add_vehicle,
            commands::technicians,
            commands::dispatch,
            commands::share,
            commands::geocode,
            commands::reverse_geocode,
            commands::places,
            commands::save_place,
            commands::delete_place,
            commands::contact,
            commands::open_external,
            commands::here,
            commands::public_config,
            commands::workshops,
            commands::earnings,
            commands::revoke_share,
            commands::saved_share,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Pitstop app");
}
