//! How the app was started: which platform it talks to, an optional role to sign in as, and
//! where positions come from. Command-line flags with environment fallbacks, so the demo
//! script, the tests and a person at a terminal use the same switches.

use clap::{Parser, ValueEnum};
use pitstop_api::{Id, Role};
use serde::Serialize;

/// Where the technician's GPS fixes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionSource {
    /// The phone's location service (tauri-plugin-geolocation). Default on Android/iOS.
    Device,
    /// A simulated drive to the job from pitstop-core. Default on desktop, which has no GPS.
    Simulated,
    /// No positions at all.
    Off,
}

/// The Pitstop app for technicians, front desks and car owners.
#[derive(Debug, Clone, Parser, Serialize)]
#[command(version)]
pub struct Settings {
    /// Platform base URL.
    #[arg(
        long,
        env = "PITSTOP_PLATFORM",
        default_value = "http://127.0.0.1:8080"
    )]
    pub platform: String,
    /// Sign in at start as this role (technician, desk or owner); without it a role picker is
    /// shown.
    #[arg(long, env = "PITSTOP_ROLE", value_parser = parse_role)]
    pub role: Option<Role>,
    /// Name to sign in with (dev login).
    #[arg(long, env = "PITSTOP_NAME")]
    pub name: Option<String>,
    /// Workshop of a desk account.
    #[arg(long, env = "PITSTOP_WORKSHOP")]
    pub workshop: Option<Id>,
    /// Where GPS positions come from (default: device on phones, simulated on desktop).
    #[arg(long, env = "PITSTOP_POSITION", value_enum)]
    pub position: Option<PositionSource>,
    /// Seconds between simulated fixes on desktop.
    #[arg(long, env = "PITSTOP_SIM_INTERVAL_SECS", default_value_t = 2.0)]
    pub sim_interval_secs: f64,
    /// Print the time to interactive and quit once the UI is ready (cold-start benchmark).
    #[arg(long, env = "PITSTOP_EXIT_WHEN_READY")]
    #[serde(skip)]
    pub exit_when_ready: bool,
}

/// A role the app has a view for ("master" is accepted for technician).
fn parse_role(s: &str) -> Result<Role, String> {
    match Role::parse(if s == "master" { "technician" } else { s }) {
        Some(Role::Admin) | None => Err(format!("unknown role {s:?}: technician, desk or owner")),
        Some(r) => Ok(r),
    }
}

impl Settings {
    /// Flags on desktop; on phones there is no command line, so environment and defaults.
    pub fn load() -> Self {
        if cfg!(mobile) {
            Self::parse_from(["pitstop-app"])
        } else {
            Self::parse()
        }
    }

    /// The position source in effect.
    pub fn position_source(&self) -> PositionSource {
        self.position.unwrap_or(if cfg!(mobile) {
            PositionSource::Device
        } else {
            PositionSource::Simulated
        })
    }
}
