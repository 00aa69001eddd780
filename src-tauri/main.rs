//! Desktop entry point of the Pitstop app.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    pitstop_app::run();
}
