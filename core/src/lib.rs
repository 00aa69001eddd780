//! `pitstop-core`: the engine under every Pitstop app shell, with no UI framework in it.
//! Offline first: every read is served from a local SQLite cache, every action is queued in
//! an outbox in the same transaction as its optimistic effect, and a sync worker delivers the
//! outbox to the platform exactly once when the network allows.
//!
//! # Layout
//! - [`client`]: [`Client`], the public API (reads, actions, subscription, GPS).
//! - [`store`]: the per-account cache, outbox and GPS buffer tables, migrated from
//!   `migrations/`.
//! - [`overlay`]: the optimistic view (server snapshot + pending actions).
//! - [`sync`]: the worker (push, pull, live events, fix upload, backoff).
//! - [`remote`]: the platform over HTTP, parsed defensively.
//! - [`location`]: fix filtering and position sources.
//! - [`gpx`]: recorded GPS tracks (GPX files) parsed and replayed as a position source.
//! - [`error`]: [`Error`], with messages for people.
//! - [`cli`]: the `pitstop` command line over [`Client`].

pub mod announce;
pub mod cli;
pub mod client;
pub mod error;
pub mod gpx;
pub mod location;
pub mod overlay;
pub mod remote;
pub mod store;
pub mod sync;

pub use client::{Client, ClientConfig, Notice, SyncHandle, cache_file};
pub use error::{Error, Result};
pub use store::{LocalAnswer, OfferView, OutboxEntry};
pub use sync::SyncStatus;

/// This crate's version, shown in the app's About box and sent in diagnostics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
