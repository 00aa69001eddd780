//! The live event stream: Server-Sent Events per caller, resumable with `Last-Event-ID`.
//!
//! Each event's `id` is its change-log cursor and its `data` the same [`Change`](pitstop_api::Change) that sync
//! pull returns, so a client can switch between stream and pull at any point without gaps
//! or double work. On connect the stream replays the log after the given cursor, then follows
//! the live hub; if it falls behind the hub, it catches up from the log.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use axum::http::StatusCode;
use pitstop_api::Id;

use crate::auth::Caller;
use crate::live::RawChange;
use crate::{ApiError, ApiResult, Platform, changes};

/// How often an idle event stream sends a heartbeat (documented in docs/protocol.md;
/// `pitstop-core` gives up on a stream silent for four of them).
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// One of an account's open event streams, counted until it is dropped (when the client
/// goes away), so one account cannot hold the server's memory with thousands of streams.
#[derive(Debug)]
pub struct StreamSlot {
    platform: Platform,
    account: Id,
}

impl StreamSlot {
    /// Takes a slot for `account`, or says (429) that it has all of its streams open.
    pub fn take(platform: &Platform, account: Id) -> ApiResult<Self> {
        let most = platform.config().limits.streams_per_account;
        let mut open = platform.streams();
        let n = open.entry(account).or_insert(0);
        if *n >= most {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "This account already has {most} event streams open, the most allowed; \
                     close one (another tab or device) and try again."
                ),
            ));
        }
        *n += 1;
        Ok(Self {
            platform: platform.clone(),
            account,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.platform.streams();
        if let Some(n) = open.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.account);
            }
        }
    }
}

const PAGE: u32 = 500;
/// How often an open stream checks that its session was not signed out.
const SESSION_RECHECK: Duration = Duration::from_secs(10);

fn to_event(c: &RawChange) -> Event {
    Event::default()
        .id(c.cursor.to_string())
        .event(&c.kind)
        .data(&c.json)
}

/// The caller's stream, starting after `cursor` (or at the log's head when `None`); it holds
/// `slot` for as long as it is open.
pub fn stream(
    platform: Platform,
    caller: Caller,
    cursor: Option<i64>,
    slot: StreamSlot,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the backlog so nothing committed in between is missed.
    let mut live = platform.subscribe();
    let mut closing = platform.closing();
    let audiences = caller.audiences();
    let session = caller.session_id;
    let s = async_stream::stream! {
        let _slot = slot;
        let mut last = match cursor {
            Some(c) => c,
            None => match platform.read(changes::head) {
                Ok(h) => h,
                Err(e) => { tracing::warn!(error = %e, "event stream: reading head"); return; }
            },
        };
        let mut catch_up = true;
        // A signed-out session's stream ends within this long.
        let mut recheck = tokio::time::interval(SESSION_RECHECK);
        recheck.tick().await;
        loop {
            if catch_up {
                loop {
                    // Pages bounded in count and bytes, like pull: the stream holds one
                    // page at a time whatever the backlog.
                    let page = platform.read(|c| changes::read(c, &audiences, last, PAGE));
                    let (page, more) = match page {
                        Ok(p) => p,
                        Err(e) => { tracing::warn!(error = %e, "event stream: reading log"); return; }
                    };
                    for c in page {
                        last = c.cursor;
                        yield Ok(to_event(&c));
                    }
                    if !more { break; }
                }
                catch_up = false;
            }
            tokio::select! {
                _ = closing.changed() => break,
                _ = recheck.tick() => {
                    if let Some(id) = session
                        && !platform.read(|c| crate::sessions::alive(c, id)).unwrap_or(true)
                    {
                        break;
                    }
                }
                msg = live.recv() => match msg {
                    Ok(lc) => {
                        if lc.change.cursor <= last
                            || !lc.audiences.iter().any(|a| audiences.contains(a)) {
                            continue;
                        }
                        last = lc.change.cursor;
                        yield Ok(to_event(&lc.change));
                    }
                    Err(RecvError::Lagged(_)) => catch_up = true,
                    Err(RecvError::Closed) => break,
                },
            }
        }
    };
    // A heartbeat comment every few seconds: devices take its silence as the platform gone
    // (the badge turns offline within seconds) and proxies keep the connection open.
    Sse::new(s).keep_alive(KeepAlive::new().interval(HEARTBEAT))
}
