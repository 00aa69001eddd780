//! Serving connections: the accept loop, with the limits a server on the open internet
//! needs (a cap on open connections, a deadline for request headers that also ends idle
//! keep-alive connections, a body deadline), and graceful shutdown.
//!
//! Not `axum::serve`: it offers no header timeout, and it rebuilds the router for every
//! connection (axum 0.8 deep-clones a shared router in `with_state`), which cost about
//! 850 KiB per connection. Here every connection shares one router.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::Platform;

/// How long open requests may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `platform` on `listener` until `shutdown` resolves, then ends event streams and
/// waits (a bounded time) for open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    platform: Platform,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = platform.config().limits.clone();
    let app = crate::app(platform.clone());
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // HTTP/1.1 only (what the apps, browsers and curl speak here). Not hyper-util's
    // auto-detecting builder: it waits for a client's first bytes with no deadline.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Covers slow headers and idle keep-alive connections alike: hyper starts the
        // clock whenever it waits for the next request's head.
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: new clients wait in the kernel's backlog instead of
        // each costing the server memory.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The peer address rides along as `ConnectInfo` (sign-in rate limits per client),
        // wrapped around the shared router rather than layered into a copy of it.
        let service = TowerToHyperService::new(tower_http::add_extension::AddExtension::new(
            app.clone(),
            axum::extract::ConnectInfo(peer),
        ));
        // No upgrades: the API has no WebSocket.
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    platform.close();
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open after {DRAIN:?}; closing anyway");
    }
    Ok(())
}
