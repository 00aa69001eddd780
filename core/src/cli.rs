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

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::location::SimulatedRoute;
use crate::{Client, ClientConfig};
use anyhow::Context;
use clap::{Parser, Subcommand};
use pitstop_api::{DevLogin, Id, OrderStatus, Role, Session, ShiftChange};
use serde::{Deserialize, Serialize};

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
    /// Online state, pending actions, failures.
    Status,
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
    println!(
        "kept {kept} fixes: {streamed} streamed live ({bytes} bytes in {streams} streams), \
         {} uploaded after in {} bytes",
        r.fixes_uploaded, r.fix_bytes
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
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
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
            println!(
                "signed in as {} ({}, account {})",
                session.account.name,
                session.account.role.as_str(),
                session.account.id
            );
            write_private(
                &session_path(&cli.dir),
                &serde_json::to_vec(&Saved { platform, session })?,
            )?;
        }
        Cmd::Status => print(&open(&cli.dir)?.status()?)?,
        Cmd::Orders { status } => {
            for o in open(&cli.dir)?.orders(status, 200)? {
                println!(
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
                println!(
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
                println!(
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
        Cmd::Accept { offer } => println!("queued {}", open(&cli.dir)?.accept(offer)?),
        Cmd::Decline { offer } => println!("queued {}", open(&cli.dir)?.decline(offer)?),
        Cmd::Step {
            order,
            status,
            note,
        } => println!("queued {}", open(&cli.dir)?.step(order, status, note)?),
        Cmd::Note { order, text } => println!("queued {}", open(&cli.dir)?.add_note(order, &text)?),
        Cmd::Part {
            order,
            name,
            qty,
            unit_price_cents,
        } => {
            println!(
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
            println!("queued {id}");
        }
        Cmd::Sync { until_empty, watch } => {
            let client = open(&cli.dir)?;
            if watch {
                let _sync = client.start();
                tokio::signal::ctrl_c().await?;
                return Ok(());
            }
            let mut delays = std::iter::successors(Some(Duration::from_millis(100)), |d| {
                Some((*d * 2).min(Duration::from_secs(5)))
            });
            loop {
                match client.sync_now().await {
                    Ok(r) => {
                        println!(
                            "pushed {} pulled {} fixes {}",
                            r.pushed, r.pulled, r.fixes_uploaded
                        );
                        if !until_empty || client.status()?.pending == 0 {
                            // A first sync's checkpoint, before this process goes.
                            client.settle_wal()?;
                            return Ok(());
                        }
                    }
                    Err(e) if until_empty && e.is_retryable() => {
                        eprintln!("{e}");
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
