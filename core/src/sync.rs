//! The sync worker: pushes the outbox in order, pulls changes by cursor, follows the live
//! event stream, and uploads buffered GPS fixes — with exponential backoff and jitter on
//! network trouble and 5xx, and the platform's `Retry-After` honoured.
//!
//! Glossary: *push* sends queued mutations (`POST /v1/sync`); *settle* records the
//! platform's per-mutation answers locally; *pull* fetches changes after the cursor
//! (`GET /v1/sync`); *follow* keeps the SSE stream open and lands events like pulled changes.
//!
//! Exactly once: a mutation is durable in the outbox before it is sent, is sent with its
//! UUID, and is settled in one local transaction. Killed between sending and settling, the
//! worker sends it again after restart and the platform answers with its recorded result.

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use pitstop_api::{LocationBatch, Millis, Outcome};
use tokio::sync::watch;

use crate::client::{Notice, Shared};
use crate::error::{Error, Result};
use crate::store::now_ms;
pub use pitstop_api::device::SyncStatus;

/// Mutations per push.
pub const PUSH_BATCH: usize = pitstop_api::MAX_MUTATIONS_PER_PUSH;
/// Bytes of mutations per push: half the platform's default body limit (512 KiB), so a
/// push is never refused for its size by a platform with default settings. A smaller limit
/// is found by halving on `413`.
pub const PUSH_BYTES: usize = 256 * 1024;
/// Changes per pull page (the platform's byte cap usually ends a page first).
pub const PULL_PAGE: u32 = 5000;
/// Fixes per upload.
pub const FIX_BATCH: usize = 1000;
/// The position lane keeps one fix stream open at most this long (then the platform
/// acknowledges it and a new one starts), so its request headers are paid once per stream;
/// a minute under the platform's 10-minute limit per stream.
pub const STREAM_FOR: Duration = Duration::from_secs(540);
/// ...and ends it after this long without a new fix (parked, or the drive is over). Long
/// enough to ride out a red light; shorter than the platform's 90 s idle limit.
pub const STREAM_IDLE: Duration = Duration::from_secs(80);
/// Request headers of one stream, estimated as for a batch upload.
const STREAM_HEADER_BYTES: usize = 260;
/// Without live events, pull at least this often.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub pushed: usize,
    pub pulled: usize,
    pub fixes_uploaded: usize,
    /// Bytes of fix uploads on the wire (gzipped bodies).
    pub fix_bytes: usize,
}

/// Connection state: in memory for the badge, and in the cache (`sync_state.live`) so a new
/// process starts from the last known truth.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Live {
    pub online: bool,
    pub last_sync: Option<Millis>,
    pub last_error: Option<String>,
}

fn backoff() -> impl Iterator<Item = Duration> {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter()
        .without_max_times()
        .build()
}

/// Whether the platform refused a whole push for what it carries (too large, unreadable to
/// it), as opposed to who sent it or when: such a push is split, and a single action it
/// refuses is refused alone.
fn refused_for_content(e: &Error) -> bool {
    matches!(e, Error::Rejected { status, .. } if matches!(status, 400 | 413 | 415 | 422))
}

/// Pushes the whole outbox and settles the answers; returns how many were sent.
///
/// The queue never jams: pushes are bounded in count and bytes; a push refused for its size
/// or content is split in halves; one action the platform refuses on its own is marked
/// refused with the platform's reason (and the actions that depend on it with it), and the
/// rest goes on.
pub(crate) async fn push_all(shared: &Arc<Shared>) -> Result<usize> {
    let mut pushed = 0;
    let (mut count, mut bytes) = (PUSH_BATCH, PUSH_BYTES);
    // A batch already sent while the one before it was being settled.
    let mut ahead: Option<(Vec<pitstop_api::Mutation>, i64, Pending)> = None;
    loop {
        let (batch, last, sent) = match ahead.take() {
            Some(a) => a,
            None => {
                let (batch, last) = shared.store()?.next_batch_after(0, count, bytes)?;
                if batch.is_empty() {
                    break;
                }
                let sent = send(shared, &batch)?;
                (batch, last, sent)
            }
        };
        match sent
            .await
            .map_err(|e| Error::BadAnswer(format!("the push task failed: {e}")))?
        {
            Ok(resp) => {
                // The platform has applied this batch, so the next one may go while this
                // one is settled here (the platform works on it meanwhile, in order). Not
                // after a refusal: settling it may refuse what was queued on it.
                if resp.results.iter().all(|r| r.outcome == Outcome::Applied) {
                    let (next, next_last) = shared.store()?.next_batch_after(last, count, bytes)?;
                    if !next.is_empty() {
                        let sent = send(shared, &next)?;
                        ahead = Some((next, next_last, sent));
                    }
                }
                let applied = shared.store()?.settle(&resp.results)?;
                pushed += batch.len();
                shared.publish_applied(applied);
            }
            Err(e) if refused_for_content(&e) && batch.len() > 1 => {
                tracing::info!(error = %e, n = batch.len(), "push refused whole; splitting it");
                count = (batch.len() / 2).max(1);
                bytes = bytes.min(batch_bytes(&batch) / 2).max(1);
            }
            Err(e) if refused_for_content(&e) => {
                let Error::Rejected { status, detail } = &e else {
                    return Err(e);
                };
                let reason = if *status == 413 {
                    // The platform's sentence speaks of requests and batches, which the
                    // person never sees: the log keeps it.
                    tracing::info!(%detail, "an action too large for the platform");
                    format!(
                        "This action is too large for the platform ({} KiB); shorten it and \
                         try again.",
                        batch_bytes(&batch).div_ceil(1024)
                    )
                } else {
                    format!("The platform cannot take this action: {detail}")
                };
                let applied = shared
                    .store()?
                    .reject_alone(batch[0].id, *status, &reason)?;
                shared.publish_applied(applied);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(pushed)
}

/// A push on its way; its answer is awaited later.
type Pending = tokio::task::JoinHandle<Result<pitstop_api::PushResponse>>;

/// Counts the attempt, then sends `batch` in a task of its own.
fn send(shared: &Arc<Shared>, batch: &[pitstop_api::Mutation]) -> Result<Pending> {
    let ids: Vec<_> = batch.iter().map(|m| m.id).collect();
    shared.store()?.count_attempt(&ids)?;
    let remote = shared.remote.clone();
    let batch = batch.to_vec();
    Ok(tokio::spawn(async move { remote.push(&batch).await }))
}

fn batch_bytes(batch: &[pitstop_api::Mutation]) -> usize {
    serde_json::to_vec(batch).map_or(0, |v| v.len())
}

/// One full round: push everything, pull everything, upload fixes.
pub(crate) async fn round(shared: &Arc<Shared>) -> Result<Round> {
    let mut r = Round {
        pushed: push_all(shared).await?,
        ..Round::default()
    };
    // A first sync into an empty cache lands into bare tables; the indexes are built at
    // the end, whether the pull finished or failed. Only asked when there is no cursor.
    let mut bulk = shared.store()?.cursor()? == 0 && shared.store()?.begin_bulk_landing()?;
    let pulled = pull_pages(shared, &mut r, &mut bulk).await;
    if bulk {
        shared.store()?.end_bulk_landing()?;
    }
    pulled?;
    if let Some(offset) = shared.remote.clock_offset() {
        shared.store()?.set_clock_offset(offset)?;
    }
    // Fixes are the position lane's while it has a stream open; otherwise (offline
    // leftovers, no lane) they go up here as one compact batch.
    if shared.lane.lock().await.is_none() {
        let (n, bytes) = upload_fixes(shared).await?;
        r.fixes_uploaded += n;
        r.fix_bytes += bytes;
    }
    shared.set_live(|l| {
        l.online = true;
        l.last_sync = Some(now_ms());
        l.last_error = None;
    });
    shared.save_live();
    Ok(r)
}

/// Pages waiting to land, at most (a third may be on its way meanwhile): the platform
/// builds and the network carries the next pages while the device lands one, and neither
/// side waits for the other to ask. Pages are at most 1 MiB, so that bounds the memory.
const PAGES_AHEAD: usize = 2;

/// Fetches pages from `from` one after the other into a channel of [`PAGES_AHEAD`], until
/// the last page, an error, or the receiver going away.
fn fetch_pages(
    shared: &Arc<Shared>,
    from: i64,
) -> tokio::sync::mpsc::Receiver<(i64, Result<pitstop_api::SyncPage>)> {
    let (tx, rx) = tokio::sync::mpsc::channel(PAGES_AHEAD);
    let remote = shared.remote.clone();
    tokio::spawn(async move {
        let mut cursor = from;
        loop {
            let page = remote.pull(cursor, PULL_PAGE).await;
            let next = match &page {
                Ok(p) if p.has_more => Some(p.next_cursor),
                _ => None,
            };
            if tx.send((cursor, page)).await.is_err() {
                return;
            }
            match next {
                Some(n) => cursor = n,
                None => return,
            }
        }
    });
    rx
}

/// Pulls every page from the store's cursor, fetched ahead while one lands; restarts once
/// from 0 when the platform refuses the cursor (landing in bulk, `bulk`, when that left
/// the cache empty).
async fn pull_pages(shared: &Arc<Shared>, r: &mut Round, bulk: &mut bool) -> Result<()> {
    let (mut resynced, mut last) = (false, false);
    let mut pages = fetch_pages(shared, shared.store()?.cursor()?);
    while let Some((cursor, page)) = pages.recv().await {
        let page = match page {
            Err(Error::Rejected {
                status: 410,
                detail,
            }) if !resynced && cursor > 0 => {
                // The platform cannot continue from our cursor (pruned past it, or it is not
                // the platform that issued it): start again from 0, keeping the outbox.
                tracing::warn!(cursor, %detail, "cursor refused; resyncing from 0");
                shared.store()?.reset_for_resync()?;
                *bulk |= shared.store()?.begin_bulk_landing()?;
                resynced = true;
                pages = fetch_pages(shared, 0);
                continue;
            }
            r => r?,
        };
        let applied = shared
            .store()?
            .apply_changes(&page.changes, page.next_cursor)?;
        r.pulled += page.changes.len();
        last = !page.has_more;
        shared.publish_applied(applied);
    }
    if !last {
        // The fetching task ended without the last page (it panicked or was cancelled).
        return Err(Error::BadAnswer(
            "the pull stopped before its last page".into(),
        ));
    }
    Ok(())
}

/// Runs rounds until `stop` flips: after each success it waits for a local action, a live
/// event or the poll interval; after a failure it backs off.
pub(crate) async fn run_worker(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut delays = backoff();
    loop {
        let outcome = round(&shared).await;
        // After a first sync (finished or not), off the pull path: its WAL is copied into
        // the database on a connection of its own, so reads and taps go on meanwhile.
        settle_wal(&shared).await;
        let wait = match outcome {
            Ok(_) => {
                delays = backoff();
                // Then the search index, one chunk per turn of the store so reads and
                // landings go on meanwhile.
                loop {
                    match shared
                        .store()
                        .and_then(|mut s| s.build_search_index_chunk())
                    {
                        Ok(true) => tokio::task::yield_now().await,
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "building the search index");
                            break;
                        }
                    }
                }
                POLL_EVERY
            }
            Err(e) => {
                let retry = e.is_retryable();
                tracing::info!(error = ?e, "sync round failed");
                shared.record_failure(&e);
                if retry {
                    e.retry_after()
                        .unwrap_or_else(|| delays.next().unwrap_or(Duration::from_secs(30)))
                } else {
                    Duration::from_secs(60)
                }
            }
        };
        shared.notify(Notice::Sync);
        tokio::select! {
            _ = stop.changed() => return,
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Runs the checkpoint a first sync left owed, if any (see [`crate::store::Store::wal_owed`]).
async fn settle_wal(shared: &Arc<Shared>) {
    let Some(debt) = shared.store().ok().and_then(|s| s.wal_owed()) else {
        return;
    };
    let path = debt.path.clone();
    let copied = tokio::task::spawn_blocking(move || crate::store::checkpoint_file(&path)).await;
    let settled = match copied {
        Ok(Ok(true)) => shared
            .store()
            .and_then(|mut s| s.wal_settled(&debt).map(drop)),
        // Not all of it (another checkpoint ran, or a reader held old pages): next round.
        Ok(Ok(false)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(Error::BadAnswer(format!("the checkpoint task failed: {e}"))),
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "checkpointing after a first sync");
    }
}

/// Uploads every unsent fix (in batches); returns (fixes, bytes on the wire).
pub(crate) async fn upload_fixes(shared: &Arc<Shared>) -> Result<(usize, usize)> {
    let _one_at_a_time = shared.fix_upload.lock().await;
    let (mut n, mut bytes) = (0, 0);
    loop {
        let fixes = shared.store()?.unsent_fixes(FIX_BATCH)?;
        let Some(last) = fixes.last().map(|f| f.seq) else {
            return Ok((n, bytes));
        };
        let count = fixes.len();
        let batch = LocationBatch {
            device_id: shared.device_id.clone(),
            fixes,
        };
        let (_, size) = shared.remote.upload_fixes(&batch).await?;
        shared.store()?.fixes_sent(last)?;
        n += count;
        bytes += size;
    }
}

/// The position lane's open fix stream (`POST /v1/locations/stream`).
#[derive(Debug)]
pub(crate) struct Lane {
    /// Frames to write into the request body.
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    enc: pitstop_api::fixcodec::StreamEncoder,
    /// The highest fix written to this stream.
    pub(crate) last_seq: Option<u64>,
    opened: tokio::time::Instant,
    /// The request; its answer acknowledges every fix written.
    task: tokio::task::JoinHandle<Result<pitstop_api::LocationAck>>,
}

/// Writes the fixes kept since the last write into the open stream (opening one when there
/// is none, or the last one died); returns how many. Fixes stay "unsent" in the buffer until
/// the stream's answer acknowledges them ([`lane_close`]), so a stream cut in the middle
/// loses nothing: a later round uploads them as a batch (the platform dedupes by seq).
pub(crate) async fn lane_send(shared: &Arc<Shared>) -> Result<usize> {
    let mut lane = shared.lane.lock().await;
    if lane.as_ref().is_some_and(|l| l.task.is_finished()) {
        // The stream died (network, platform): start again from everything unsent.
        *lane = None;
    }
    let after = lane.as_ref().and_then(|l| l.last_seq);
    let fixes = shared.store()?.unsent_fixes_after(after, FIX_BATCH)?;
    if fixes.is_empty() {
        return Ok(0);
    }
    let mut sent = 0;
    if lane.is_none() {
        let (enc, header) = pitstop_api::fixcodec::StreamEncoder::start(&shared.device_id);
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        let remote = shared.remote.clone();
        let task = tokio::spawn(async move { remote.stream_fixes(rx, STREAM_FOR).await });
        sent += header.len() + chunk_overhead(header.len()) + STREAM_HEADER_BYTES;
        let _ = tx.send(header).await;
        shared.count_lane(1, 0);
        *lane = Some(Lane {
            tx,
            enc,
            last_seq: None,
            opened: tokio::time::Instant::now(),
            task,
        });
    }
    let Some(l) = lane.as_mut() else {
        return Ok(0);
    };
    for f in &fixes {
        let frame = l.enc.fix(f);
        sent += frame.len() + chunk_overhead(frame.len());
        if l.tx.send(frame).await.is_err() {
            break; // the request ended; the next call starts a new stream
        }
        l.last_seq = Some(f.seq);
    }
    shared.count_lane(0, sent);
    Ok(fixes.len())
}

/// HTTP/1.1 chunk framing around `n` bytes: hex length, CRLF, data, CRLF.
fn chunk_overhead(n: usize) -> usize {
    format!("{n:x}").len() + 4
}

/// Ends the open stream and waits for the platform's count; marks its fixes sent.
pub(crate) async fn lane_close(shared: &Arc<Shared>) -> Result<usize> {
    let Some(l) = shared.lane.lock().await.take() else {
        return Ok(0);
    };
    drop(l.tx);
    let ack = l
        .task
        .await
        .map_err(|e| Error::Offline(format!("the fix stream stopped: {e}")))??;
    if let Some(seq) = l.last_seq {
        shared.store()?.fixes_sent(seq)?;
    }
    Ok((ack.accepted + ack.duplicates) as usize)
}

/// The position lane: each kept fix is written at once into a long-lived stream
/// ([`lane_send`]), so the owner's map follows the drive within a second and a fix costs a
/// few bytes instead of a request; the stream is ended (and acknowledged) after
/// [`STREAM_IDLE`] without fixes or [`STREAM_FOR`] in all. Offline, fixes stay buffered and
/// go up as one batch with the next round.
pub(crate) async fn run_positions(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let open = shared.lane.lock().await.as_ref().map(|l| l.opened);
        let idle = async {
            match open {
                Some(_) => tokio::time::sleep(STREAM_IDLE).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => {
                let _ = lane_close(&shared).await;
                return;
            }
            _ = shared.fix_wake.notified() => {
                if let Err(e) = lane_send(&shared).await {
                    tracing::debug!(error = %e, "position stream failed; the next round uploads");
                }
                if open.is_some_and(|t| t.elapsed() >= STREAM_FOR)
                    && let Err(e) = lane_close(&shared).await
                {
                    tracing::debug!(error = %e, "closing the position stream");
                }
            }
            _ = idle => {
                if let Err(e) = lane_close(&shared).await {
                    tracing::debug!(error = %e, "closing the position stream");
                }
            }
        }
    }
}

/// Keeps the event stream open, landing each change like a pulled one; reconnects with
/// backoff, resuming from the stored cursor.
pub(crate) async fn run_follower(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut delays = backoff();
    loop {
        let cursor = match shared.store().and_then(|s| s.cursor()) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "event follower: reading cursor");
                return;
            }
        };
        let s = shared.clone();
        let follow = shared.remote.follow_events(cursor, move |change| {
            let c = change.cursor;
            let applied = s.store()?.apply_changes(&[change], c)?;
            s.publish_applied(applied);
            Ok(())
        });
        let result = tokio::select! {
            _ = stop.changed() => return,
            r = follow => r,
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "event stream ended");
            // The stream is the first to notice a platform that is gone: the badge says so
            // now, not at the next round.
            if e.is_retryable() && shared.live().online {
                shared.record_failure(&Error::Offline(format!("lost the live connection: {e}")));
                shared.notify(Notice::Sync);
            }
        }
        let wait = delays.next().unwrap_or(Duration::from_secs(30));
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if shared.live().online {
            delays = backoff();
        }
    }
}
