//! The Pitstop app shell (Tauri 2, desktop and mobile). Thin by design: commands call
//! `pitstop-core`, plugins bring notifications and, on phones, GPS.
//!
//! Architecture invariant: no business rule lives here; anything testable without a window
//! belongs in `pitstop-core`.

mod commands;
mod error;
mod state;

use serde::Serialize;

/// What the UI learns about the app it runs in.
#[derive(Debug, Serialize)]
struct AppInfo {
    /// Version of `pitstop-core`.
    core_version: &'static str,
    /// Schema version of the local cache this build writes.
    cache_schema: usize,
    /// "desktop" or "mobile": decides the position source.
    platform: &'static str,
}

/// `app_info` command.
#[tauri::command]
fn app_info() -> AppInfo {
    AppInfo {
        core_version: pitstop_core::VERSION,
        cache_schema: pitstop_core::store::SCHEMA_VERSION,
        platform: if cfg!(mobile) { "mobile" } else { "desktop" },
    }
}

/// Builds and runs the app; also the mobile entry point.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(state::AppState::default());
    // GPS comes from the phone; on desktop the plugin has no source, so core's replay source
    // is used instead.
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_geolocation::init());
    builder
        .invoke_handler(tauri::generate_handler![
            app_info,
            commands::sign_in,
            commands::offers,
            commands::accept,
            commands::decline,
            commands::orders,
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
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Pitstop app");
}
