//! The `pitstop` command line: act as a technician, desk or owner from a terminal, through
//! the same offline-first core the apps use. Handy for demos, support and tests. The binary
//! is `src/bin/pitstop.rs`; the end-to-end tests run the same code as a child process.
//!
//! ```text
//! pitstop --dir ~/.pitstop login --platform http://127.0.0.1:8080 --name tech-01 --role technician
//! pitstop --dir ~/.pitstop offers
//! pitstop --dir ~/.pitstop accept 12
//! pitstop --dir ~/.pitstop step 34 en_route
//! pitstop --dir ~/.pitstop sync --until-empty
//! ```
//! Actions are queued locally and never need the network; `sync` delivers them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::location::SimulatedRoute;
use crate::{Client, ClientConfig};
use anyhow::Context;
use clap::{Parser, Subcommand};
use pitstop_api::device::SyncStatus;
use pitstop_api::{DevLogin, Id, OrderStatus, Role, Session, ShiftChange};
use serde::{Deserialize, Serialize};

/// `println!` that carries on when the reader went away (`pitstop status | head -3`)
/// instead of panicking on the broken pipe: what the command does (save a session, drain
/// the queue, checkpoint) matters more than what it says.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(e.into());
        }
    }};
}

/// `eprintln!` that never panics: a message to a closed stderr is simply lost.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Pitstop from a terminal: offline-first, through pitstop-core"
)]
struct Cli {
    /// Folder holding the session and the account's cache.
    #[arg(long, env = "PITSTOP_DIR", default_value = ".pitstop")]
    dir: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Sign in through the platform's dev login and remember the session.
    Login {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        platform: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        workshop: Option<Id>,
    },
    /// Where sync stands: the last contact with the platform, what waits to be sent (and
    /// for how long), what the platform refused and why.
    Status {
        /// The whole status as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Hide an action the platform refused (its number is in `status`), or all of them.
    Dismiss {
        #[arg(required_unless_present = "all")]
        seq: Option<i64>,
        #[arg(long, conflicts_with = "seq")]
        all: bool,
    },
    /// Queue an action the platform refused once more (after fixing what it objected to).
    Retry { seq: i64 },
    /// Orders in the local cache.
    Orders {
        #[arg(long, value_parser = parse_status)]
        status: Option<OrderStatus>,
    },
    /// One order as JSON.
    Show { order: Id },
    /// Search by plate, VIN or customer.
    Search { query: String },
    /// The offer inbox.
    Offers,
    /// Accept an offer.
    Accept { offer: Id },
    /// Decline an offer.
    Decline { offer: Id },
    /// Move a job to a status (en_route, arrived, in_progress, completed, cancelled).
    Step {
        order: Id,
        #[arg(value_parser = parse_status)]
        status: OrderStatus,
        #[arg(long)]
        note: Option<String>,
    },
    /// Add a note to a job.
    Note { order: Id, text: String },
    /// Add a parts line.
    Part {
        order: Id,
        name: String,
        qty: u32,
        /// Checked (0 to 100,000,000) before it is queued; a negative one is refused in words.
        #[arg(allow_negative_numbers = true)]
        unit_price_cents: i64,
    },
    /// Go on or off shift.
    Shift {
        #[arg(value_parser = ["on", "off"])]
        state: String,
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
    },
    /// Sync with the platform.
    Sync {
        /// Exit 0 once nothing is pending (retrying with backoff until then).
        #[arg(long)]
        until_empty: bool,
        /// Keep syncing (push, pull, live events) until interrupted.
        #[arg(long)]
        watch: bool,
    },
    /// Drive a simulated route, or replay a recorded GPX track, buffering and uploading GPS
    /// fixes (`--gpx tests/data/traces/stoplight-sample-ride.gpx --speedup 5`).
    Drive {
        /// Waypoints as `lat,lon` pairs separated by `;`.
        #[arg(long, allow_hyphen_values = true, required_unless_present = "gpx")]
        route: Option<String>,
        /// A GPX file to replay with its own timestamps (restamped to start now).
        #[arg(long, conflicts_with = "route")]
        gpx: Option<std::path::PathBuf>,
        /// How much faster than recorded a GPX replay runs.
        #[arg(long, default_value_t = 1.0)]
        speedup: f64,
        #[arg(long, default_value_t = 12.0)]
        speed: f64,
        /// Real milliseconds between fixes (0: as fast as possible).
        #[arg(long, default_value_t = 1000)]
        pace_ms: u64,
    },
}

/// Feeds a position source through the client with sync running (so fixes stream live),
/// then ends the stream and uploads what is left.
async fn drive(
    client: &Client,
    source: Box<dyn crate::location::PositionSource>,
) -> anyhow::Result<()> {
    let sync = client.start();
    let kept = client.track(source).await?;
    let streamed = client.end_fix_stream().await.unwrap_or(0);
    sync.stop().await;
    let r = client.sync_now().await?;
    let (streams, bytes) = client.lane_sent();
    say!(
        "kept {kept} fixes: {streamed} streamed live ({bytes} bytes in {streams} streams), \
         {} uploaded after in {} bytes",
        r.fixes_uploaded,
        r.fix_bytes
    );
    Ok(())
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of technician, desk, owner, admin".into())
}

fn parse_status(s: &str) -> Result<OrderStatus, String> {
    OrderStatus::parse(s).ok_or_else(|| format!("unknown status '{s}'"))
}

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    platform: String,
    session: Session,
}

fn session_path(dir: &Path) -> PathBuf {
    dir.join("session.json")
}

fn open(dir: &Path) -> anyhow::Result<Client> {
    let saved: Saved = serde_json::from_slice(
        &std::fs::read(session_path(dir)).context("not signed in: run `pitstop login` first")?,
    )?;
    // A renewed session replaces the saved one at once: its old refresh token is spent.
    let (path, platform) = (session_path(dir), saved.platform.clone());
    let on_renew = crate::remote::OnRenew(Some(std::sync::Arc::new(move |s: &Session| {
        let saved = Saved {
            platform: platform.clone(),
            session: s.clone(),
        };
        if let Ok(bytes) = serde_json::to_vec(&saved)
            && let Err(e) = write_private(&path, &bytes)
        {
            tracing::warn!(error = %e, "saving the renewed session failed");
        }
    })));
    Ok(Client::open(ClientConfig::for_session(
        crate::client::cache_file(dir, &saved.platform, saved.session.account.id),
        &saved.platform,
        &saved.session,
        on_renew,
    ))?)
}

/// Writes a file only its owner can read (it holds a refresh token), replacing it whole.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

fn print<T: Serialize>(v: &T) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// How long ago, for a person: "40 s", "12 min", "3 h", "2 d".
fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// One refused action in words, with the number `dismiss` and `retry` take.
fn refused_line(f: &pitstop_api::device::OutboxEntry) -> String {
    // A refusal can quote a whole note.
    use pitstop_api::text::shorten;
    format!(
        "  #{} {}: {}",
        f.seq,
        f.op.describe(),
        shorten(f.reason.as_deref().unwrap_or("refused"), 300)
    )
}

/// The connection as of the last try, in words: reached or not, and why it failed.
fn connection_words(s: &SyncStatus) -> String {
    match (&s.last_error, s.online) {
        // Reached, but refused (a session to renew, a platform in trouble).
        (Some(e), true) => format!("online, but the last try failed: {e}"),
        (Some(e), false) => format!("offline: the last try failed: {e}"),
        (None, true) => "online".into(),
        (None, false) => "offline".into(),
    }
}

/// Says each refusal not told before (`told`), with its reason, on stderr.
fn tell_new_refusals(failed: &[pitstop_api::device::OutboxEntry], told: &mut HashSet<i64>) {
    for f in failed {
        if told.insert(f.seq) {
            tell!("refused by the platform:\n{}", refused_line(f));
        }
    }
}

/// `pitstop status` in words. It tells the state as of the last contact (a command that
/// does not sync cannot know more), and how to refresh it.
fn status_text(client: &Client) -> anyhow::Result<String> {
    use pitstop_api::text::shorten;
    let s = client.status()?;
    let now = crate::store::now_ms();
    let last = s.last_sync.map_or("never synced".to_string(), |t| {
        format!("last sync {} ago", age(now - t))
    });
    let mut lines = vec![format!(
        "as of the last try ({last}): {}; `pitstop sync` tries now",
        connection_words(&s)
    )];
    if s.pending == 0 {
        lines.push("nothing waiting to be sent".into());
    } else {
        let oldest = client
            .pending_actions()?
            .into_iter()
            .next()
            .unwrap_or_default();
        let waited = s
            .oldest_pending_at
            .map_or(String::new(), |t| format!(", waiting for {}", age(now - t)));
        lines.push(format!(
            "{} action{} waiting to be sent; the oldest: {}{waited}",
            s.pending,
            if s.pending == 1 { "" } else { "s" },
            shorten(&oldest, 80)
        ));
    }
    if s.unsent_fixes > 0 {
        lines.push(format!("{} GPS fixes waiting to be sent", s.unsent_fixes));
    }
    if !s.failed.is_empty() {
        lines.push(format!("refused by the platform ({}):", s.failed.len()));
        lines.extend(s.failed.iter().map(refused_line));
        lines.push("`pitstop retry N` queues one again, `pitstop dismiss N` hides it".into());
    }
    Ok(lines.join("\n"))
}

/// Parses the process arguments and runs the command (on a current-thread runtime).
pub fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    std::fs::create_dir_all(&cli.dir)?;
    match cli.cmd {
        Cmd::Login {
            platform,
            name,
            role,
            workshop,
        } => {
            let platform = platform.trim_end_matches('/').to_string();
            let session = crate::remote::sign_in_dev(
                &platform,
                &DevLogin {
                    name,
                    role,
                    workshop_id: workshop,
                    skills: None,
                },
            )
            .await?;
            let said = format!(
                "signed in as {} ({}, account {})",
                session.account.name,
                session.account.role.as_str(),
                session.account.id
            );
            // Saved before anything is said: success is only claimed once it is kept.
            write_private(
                &session_path(&cli.dir),
                &serde_json::to_vec(&Saved { platform, session })?,
            )?;
            say!("{said}");
        }
        Cmd::Status { json: true } => print(&open(&cli.dir)?.status()?)?,
        Cmd::Status { json: false } => say!("{}", status_text(&open(&cli.dir)?)?),
        Cmd::Dismiss { seq, all } => {
            let client = open(&cli.dir)?;
            let failed = client.status()?.failed;
            let chosen: Vec<_> = failed
                .iter()
                .filter(|f| all || Some(f.seq) == seq)
                .collect();
            if chosen.is_empty() {
                anyhow::bail!(
                    "There is no refused action {} here; `pitstop status` lists them.",
                    seq.map_or("at all".into(), |n| format!("#{n}"))
                );
            }
            for f in chosen {
                client.dismiss_failure(f.seq)?;
                say!("dismissed #{} {}", f.seq, f.op.describe());
            }
        }
        Cmd::Retry { seq } => say!("queued {}", open(&cli.dir)?.retry_failure(seq)?),
        Cmd::Orders { status } => {
            for o in open(&cli.dir)?.orders(status, 200)? {
                say!(
                    "{:>6}  {:<12} {:<12} {:<10} v{}",
                    o.id,
                    o.status.as_str(),
                    o.service,
                    o.vehicle.plate,
                    o.version
                );
            }
        }
        Cmd::Show { order } => print(&open(&cli.dir)?.order(order)?)?,
        Cmd::Search { query } => {
            let client = open(&cli.dir)?;
            client.build_search_index()?;
            for o in client.search(&query, 50)? {
                say!(
                    "{:>6}  {:<12} {} {}",
                    o.id,
                    o.status.as_str(),
                    o.vehicle.plate,
                    o.vehicle.vin
                );
            }
        }
        Cmd::Offers => {
            for v in open(&cli.dir)?.offers()? {
                say!(
                    "offer {:>6}  order {:>6}  {:<12} {:>6.0} m  {:>4} s left  {}",
                    v.offer.id,
                    v.offer.order_id,
                    v.offer.service,
                    v.offer.distance_m,
                    v.time_left_ms.max(0) / 1000,
                    v.local.map(|l| format!("{l:?}")).unwrap_or_default()
                );
            }
        }
        Cmd::Accept { offer } => say!("queued {}", open(&cli.dir)?.accept(offer)?),
        Cmd::Decline { offer } => say!("queued {}", open(&cli.dir)?.decline(offer)?),
        Cmd::Step {
            order,
            status,
            note,
        } => say!("queued {}", open(&cli.dir)?.step(order, status, note)?),
        Cmd::Note { order, text } => say!("queued {}", open(&cli.dir)?.add_note(order, &text)?),
        Cmd::Part {
            order,
            name,
            qty,
            unit_price_cents,
        } => {
            say!(
                "queued {}",
                open(&cli.dir)?.add_part(order, &name, qty, unit_price_cents)?
            )
        }
        Cmd::Shift { state, lat, lon } => {
            let id = open(&cli.dir)?.set_shift(ShiftChange {
                on_shift: state == "on",
                lat,
                lon,
            })?;
            say!("queued {id}");
        }
        Cmd::Sync { until_empty, watch } => {
            let client = open(&cli.dir)?;
            // Refusals are news: each one is said once, with its reason, as it happens.
            let mut told: HashSet<i64> = client.status()?.failed.iter().map(|f| f.seq).collect();
            if watch {
                let sync = client.start();
                let mut notices = client.subscribe();
                let stop = tokio::signal::ctrl_c();
                tokio::pin!(stop);
                // One line whenever the state a person cares about changes.
                let mut said = String::new();
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        n = notices.recv() => {
                            if matches!(n, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                                break;
                            }
                            let s = client.status()?;
                            let line = format!(
                                "{}; {} waiting to be sent",
                                connection_words(&s),
                                s.pending
                            );
                            if line != said {
                                say!("{line}");
                                said = line;
                            }
                            tell_new_refusals(&s.failed, &mut told);
                        }
                    }
                }
                // The round under way may wait on the network: a few seconds, not its
                // whole timeout (what it had not sent stays queued).
                let _ = tokio::time::timeout(Duration::from_secs(5), sync.stop()).await;
                return Ok(());
            }
            let mut delays = std::iter::successors(Some(Duration::from_millis(100)), |d| {
                Some((*d * 2).min(Duration::from_secs(5)))
            });
            loop {
                let round = client.sync_now().await;
                // A round can record refusals and still fail later (in its pull): they are
                // told either way.
                tell_new_refusals(&client.status()?.failed, &mut told);
                match round {
                    Ok(r) => {
                        say!(
                            "pushed {} pulled {} fixes {}",
                            r.pushed,
                            r.pulled,
                            r.fixes_uploaded
                        );
                        if !until_empty || client.status()?.pending == 0 {
                            // A first sync's checkpoint, before this process goes.
                            client.settle_wal()?;
                            return Ok(());
                        }
                    }
                    Err(e) if until_empty && e.is_retryable() => {
                        tell!("{e}");
                        // The platform's Retry-After wins over our own backoff.
                        let wait = e
                            .retry_after()
                            .unwrap_or_else(|| delays.next().unwrap_or(Duration::from_secs(5)));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
                tokio::time::sleep(delays.next().unwrap_or(Duration::from_secs(5))).await;
            }
        }
        Cmd::Drive {
            gpx: Some(file),
            speedup,
            ..
        } => {
            let client = open(&cli.dir)?;
            let xml = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let source = crate::gpx::GpxReplay::from_gpx(&xml, speedup)?.restamped();
            drive(&client, Box::new(source)).await?;
        }
        Cmd::Drive {
            route,
            speed,
            pace_ms,
            ..
        } => {
            let route = route.unwrap_or_default();
            let client = open(&cli.dir)?;
            let mut points = Vec::new();
            for p in route.split(';') {
                let (a, b) = p
                    .split_once(',')
                    .context("waypoints look like 52.5,13.4;52.51,13.41")?;
                points.push((a.trim().parse()?, b.trim().parse()?));
            }
            let step = Duration::from_secs(1);
            let fixes =
                SimulatedRoute::new(&points, speed, 0, step, Duration::ZERO).remaining() as i64;
            // Faster than real time, the route is stamped as if driven just now, so no fix
            // lies in the future.
            let now = crate::store::now_ms();
            let start = if pace_ms >= 1000 {
                now
            } else {
                now - fixes * 1000
            };
            let source = SimulatedRoute::new(&points, speed, start, step, Duration::ZERO)
                .paced(Duration::from_millis(pace_ms));
            drive(&client, Box::new(source)).await?;
        }
    }
    Ok(())
}
