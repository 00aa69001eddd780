//! Tauri build step: reads the root `tauri.conf.json` and the capabilities in
//! `src-tauri/capabilities/`.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("tauri build step failed");
}
