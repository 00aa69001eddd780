//! A fault-injecting TCP proxy for loopback tests: it sits between a client and the platform
//! and, as told, refuses connections, answers 503 bursts, delays, or resets connections in
//! the middle of a response (after the platform has acted, before the client hears it).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to each new connection and each response chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Refuse everything (the network is gone); open connections are cut.
    pub down: bool,
    /// Chance to close a new connection at once.
    pub refuse: f64,
    /// Chance to answer a new connection with `503` + `Retry-After: 0` instead of forwarding.
    pub error_503: f64,
    /// Chance, per response chunk, to forward half of it and cut the connection.
    pub reset_mid_response: f64,
    /// Delay before forwarding each response chunk.
    pub delay_ms: u64,
}

/// A running proxy.
#[derive(Debug)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let faults = Arc::new(Mutex::new(Faults::default()));
        let (cut, _) = watch::channel(0u64);
        let f = faults.clone();
        let cut_rx = cut.subscribe();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let faults = f.clone();
                let cut = cut_rx.clone();
                tokio::spawn(async move {
                    let _ = handle(sock, upstream, faults, cut).await;
                });
            }
        });
        Self {
            addr,
            faults,
            cut,
            task,
        }
    }

    /// `http://<addr>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults; going down also cuts every open connection.
    pub fn set(&self, f: Faults) {
        *self.faults.lock().unwrap() = f;
        if f.down {
            self.cut.send_modify(|g| *g += 1);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut.send_modify(|g| *g += 1);
    }
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    mut cut: watch::Receiver<u64>,
) -> std::io::Result<()> {
    // Only outages after this connection opened should cut it.
    cut.borrow_and_update();
    let f = *faults.lock().unwrap();
    let roll = |p: f64| p > 0.0 && rand::rng().random_bool(p.min(1.0));
    if f.down || roll(f.refuse) {
        return Ok(()); // dropped: the client sees the connection closed
    }
    if roll(f.error_503) {
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(200), client.read(&mut buf)).await;
        client
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 0\r\ncontent-type: application/problem+json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await?;
        return Ok(());
    }
    let server = TcpStream::connect(upstream).await?;
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = sr.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            // Faults are read per chunk, so kept-alive connections feel changes at once.
            let f = *faults.lock().unwrap();
            if f.down {
                return Ok(());
            }
            if f.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
            }
            if roll(f.reset_mid_response) {
                cw.write_all(&buf[..n / 2]).await?;
                return Ok::<_, std::io::Error>(()); // dropping both halves cuts the connection
            }
            cw.write_all(&buf[..n]).await?;
        }
        cw.shutdown().await
    };
    tokio::select! {
        _ = cut.changed() => {}
        _ = async { tokio::join!(up, down) } => {}
    }
    Ok(())
}
