//! `pitstop-core`: the engine under every Pitstop app shell, with no UI framework in it.
//!
//! # Layout
//! - [`store`]: the per-account SQLite cache, migrated from `migrations/` at open.
//!
//! The outbox, sync worker, offer inbox and GPS buffer build on [`store`]; see
//! `docs/architecture.md` for where each goes.

pub mod store;

/// This crate's version, shown in the app's About box and sent in diagnostics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
