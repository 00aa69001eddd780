//! `pitstop-platform`: runs the reference platform API server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pitstop_platform::demo::{self, DemoConfig};
use pitstop_platform::{Config, Limits, Platform};
use tracing_subscriber::EnvFilter;

/// jemalloc, not the system allocator: after thousands of clients left, glibc kept their
/// memory in its per-thread arenas (RSS stayed at its peak); jemalloc's background threads
/// hand freed pages back within about ten seconds. (mimalloc was tried: it returned memory
/// too, but made accepting connections 8x slower here, zeroing fresh pages.)
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The Pitstop reference platform API: auth, orders, dispatch offers, sync, live events and
/// tracking over HTTP/JSON. Embedded SQLite; a fresh file is created and migrated on start.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "PITSTOP_ADDR")]
    addr: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long, default_value = "pitstop-platform.db", env = "PITSTOP_DB")]
    db: PathBuf,
    /// Seed a demo city and simulate technicians and customers (implies --dev-login).
    #[arg(long)]
    demo: bool,
    /// Enable POST /v1/auth/dev-login (sign in by name and role; never in production).
    #[arg(long)]
    dev_login: bool,
    /// Seconds a technician has to accept an offer.
    #[arg(long, default_value_t = 30.0)]
    offer_ttl_secs: f64,
    /// Technicians one dispatch round offers an order to at once (first accept wins).
    #[arg(long, default_value_t = 1)]
    offer_fanout: usize,
    /// Largest request body, in KiB.
    #[arg(long, default_value_t = 512)]
    body_limit_kib: usize,
    /// Built web UI to serve at /app/ (the page share links open); off when missing.
    #[arg(long, default_value = "ui/dist", env = "PITSTOP_UI_DIR")]
    ui_dir: PathBuf,
    /// Map tile URL template for clients, e.g. https://tile.example/{z}/{x}/{y}.png
    /// (unset: maps are drawn without tiles).
    #[arg(long, env = "PITSTOP_TILE_URL")]
    tile_url: Option<String>,
    /// Simulated technicians in demo mode.
    #[arg(long, default_value_t = 50)]
    demo_technicians: usize,
    /// Seconds between simulated bookings in demo mode.
    #[arg(long, default_value_t = 4.0)]
    demo_order_every_secs: f64,
    /// Open connections at most; more wait in the backlog.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, default_value_t = Limits::default().header_timeout.as_secs_f64())]
    header_timeout_secs: f64,
    /// Seconds a request body may pause between two pieces.
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs_f64())]
    body_timeout_secs: f64,
    /// A web origin (like https://desk.example.com) allowed to call the API from a browser;
    /// repeat for more. None by default: the apps and /app/ do not need it.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Event streams one account may have open at once.
    #[arg(long, default_value_t = Limits::default().streams_per_account)]
    streams_per_account: usize,
    /// Minutes an access token works (devices renew it with their refresh token).
    #[arg(long, default_value_t = 15.0)]
    access_ttl_mins: f64,
    /// Days a signed-in device stays signed in without opening the app.
    #[arg(long, default_value_t = 30.0)]
    session_ttl_days: f64,
    /// Send sign-in codes by SMS through Twilio with this account SID (the auth token comes
    /// from TWILIO_AUTH_TOKEN). Unset: codes are printed on standard error (development).
    #[arg(long, env = "TWILIO_ACCOUNT_SID", requires = "twilio_from")]
    twilio_account_sid: Option<String>,
    /// The Twilio number (or messaging service id) codes are sent from.
    #[arg(long, env = "TWILIO_FROM")]
    twilio_from: Option<String>,
    /// Twilio's API address (for a test double or a regional edge).
    #[arg(long, default_value = "https://api.twilio.com")]
    twilio_api_base: String,
    /// Write the log to this file (appending) instead of standard error. Sign-in codes of
    /// the development sender still print on standard error.
    #[arg(long, env = "PITSTOP_LOG_FILE")]
    log_file: Option<PathBuf>,
    /// A Nominatim-compatible geocoding service for address search (e.g.
    /// https://nominatim.openstreetmap.org, within its usage policy, or your own). Unset:
    /// people type the address and place a pin (the demo searches its own street list).
    #[arg(long)]
    geocoder_url: Option<String>,
    /// Requests a second the geocoding service takes from this platform in all (the public
    /// OpenStreetMap Nominatim allows 1; your own server more).
    #[arg(long, default_value_t = 1)]
    geocoder_per_second: u32,
    /// The currency of prices (ISO 4217: EUR, CNY, …) for new workshops and for orders
    /// booked without one; each workshop keeps its own once made.
    #[arg(long, default_value = pitstop_api::DEFAULT_CURRENCY, value_parser = parse_currency)]
    currency: String,
    /// The masked-contact relay number technicians call or text (E.164). The telephony
    /// provider asks `POST /v1/relay/connect` where to put each call through.
    #[arg(long, requires = "relay_secret")]
    relay_number: Option<String>,
    /// The bearer token the telephony provider presents on `/v1/relay/connect`.
    #[arg(long, env = "PITSTOP_RELAY_SECRET")]
    relay_secret: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create or update a platform admin (there is no endpoint for this) and exit. The
    /// password is read from standard input, one line.
    Admin {
        /// The admin's e-mail address (their sign-in).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "admin")]
        name: String,
    },
}

/// `pitstop-platform admin`: provisions an admin from the command line.
fn provision_admin(db: &std::path::Path, email: &str, name: &str) -> anyhow::Result<()> {
    use pitstop_api::address::Address;
    let email = match Address::parse(email) {
        Ok(a @ Address::Email(_)) => a,
        _ => anyhow::bail!("--email must be an e-mail address"),
    };
    let name = pitstop_api::text::clean(
        "name",
        name,
        pitstop_api::text::MAX_NAME_CHARS,
        pitstop_api::text::Lines::One,
        true,
    )
    .map_err(anyhow::Error::msg)?;
    eprintln!(
        "password for {} (10 to 128 characters, one line):",
        email.as_str()
    );
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let req = pitstop_api::NewPassword {
        password,
        current_password: None,
    };
    pitstop_platform::signin::check_new_password(&req)
        .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let hash = pitstop_platform::signin::hash_password(&req.password)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = pitstop_platform::db::open(db)?;
    let mut tx = pitstop_platform::db::begin(&mut conn)?;
    let admin = pitstop_platform::accounts::provision_admin(&mut tx, &name, &email, Some(&hash))
        .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    tx.tx.commit()?;
    println!("admin account {} ({}) is ready", admin.id, email.as_str());
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("opening the log file {}: {e}", path.display()))?;
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
    }
    if let Some(Command::Admin { email, name }) = &args.command {
        return provision_admin(&args.db, email, name);
    }
    if !(args.offer_ttl_secs > 0.0 && args.offer_ttl_secs <= 3600.0) {
        anyhow::bail!("--offer-ttl-secs must be between 0 and 3600");
    }
    for (flag, v) in [
        ("--header-timeout-secs", args.header_timeout_secs),
        ("--body-timeout-secs", args.body_timeout_secs),
    ] {
        if !(v > 0.0 && v <= 3600.0) {
            anyhow::bail!("{flag} must be between 0 and 3600");
        }
    }
    // Every connection is a file descriptor: take what the system allows, so the
    // connection cap, not the descriptor limit, is what refuses clients.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if (n as usize) < args.max_connections + 64 => tracing::warn!(
            limit = n,
            "the open-file limit is below --max-connections; raise it (ulimit -n)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    let config = Config {
        db_path: args.db.clone(),
        offer_ttl: Duration::from_secs_f64(args.offer_ttl_secs),
        offer_fanout: args.offer_fanout.max(1),
        dev_login: args.dev_login || args.demo,
        body_limit: args.body_limit_kib * 1024,
        ui_dir: args
            .ui_dir
            .join("index.html")
            .is_file()
            .then(|| args.ui_dir.clone()),
        tile_url: args.tile_url.clone(),
        cors_origins: args.cors_origins.clone(),
        limits: Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: Duration::from_secs_f64(args.header_timeout_secs),
            body_timeout: Duration::from_secs_f64(args.body_timeout_secs),
            streams_per_account: args.streams_per_account.max(1),
            ..Limits::default()
        },
        access_ttl: Duration::from_secs_f64(args.access_ttl_mins.clamp(1.0, 24.0 * 60.0) * 60.0),
        session_ttl: Duration::from_secs_f64(
            args.session_ttl_days.clamp(1.0 / 24.0, 365.0) * 24.0 * 3600.0,
        ),
        sms: match (&args.twilio_account_sid, &args.twilio_from) {
            (Some(sid), Some(from)) => Some(pitstop_platform::SmsConfig {
                api_base: args.twilio_api_base.clone(),
                account_sid: sid.clone(),
                auth_token: std::env::var("TWILIO_AUTH_TOKEN").map_err(|_| {
                    anyhow::anyhow!(
                        "--twilio-account-sid needs TWILIO_AUTH_TOKEN in the environment"
                    )
                })?,
                from: from.clone(),
            }),
            _ => None,
        },
        geocoder_url: args.geocoder_url.clone(),
        geocoder_per_second: args.geocoder_per_second.max(1),
        currency: args.currency.clone(),
        gazetteer: args.demo,
        relay: match (&args.relay_number, &args.relay_secret) {
            (Some(number), Some(secret)) => {
                if secret.len() < 24 {
                    anyhow::bail!(
                        "--relay-secret (PITSTOP_RELAY_SECRET) must be at least 24 characters: \
                         it is all that stands between the internet and your customers' numbers"
                    );
                }
                let number = match pitstop_api::address::Address::parse(number) {
                    Ok(pitstop_api::address::Address::Phone(n)) => n,
                    _ => anyhow::bail!(
                        "--relay-number is a phone number in E.164 form, like +493012345678"
                    ),
                };
                Some(pitstop_platform::contact::RelayConfig {
                    number,
                    secret: secret.clone(),
                })
            }
            // The demo shows masked calls with a made-up relay number (no telephony behind
            // it, and a secret nobody knows).
            _ if args.demo => Some(pitstop_platform::contact::RelayConfig {
                number: "+493000000000".into(),
                secret: format!("{:032x}", rand::random::<u128>()),
            }),
            _ => None,
        },
    };
    if config.sms.is_none() {
        eprintln!(
            "sign-in codes are printed here, not sent (development); set --twilio-account-sid to send them by SMS"
        );
    }
    if config.ui_dir.is_none() {
        eprintln!(
            "no built UI in {} (run ./scripts/build-ui.sh): share links will not open a page",
            args.ui_dir.display()
        );
    }
    let platform = Platform::open(config)?;
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    println!(
        "pitstop-platform listening on http://{addr} (database {})",
        args.db.display()
    );
    if args.demo {
        let cfg = DemoConfig {
            technicians: args.demo_technicians,
            order_every: Duration::from_secs_f64(args.demo_order_every_secs.max(0.1)),
            ..DemoConfig::default()
        };
        let seeded =
            demo::seed(&platform, &cfg).map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        println!(
            "demo: {} technicians, {} owners, 3 workshops",
            cfg.technicians, cfg.owners
        );
        println!(
            "demo: tokens below work for {} minutes",
            args.access_ttl_mins
        );
        println!("demo: admin token  {}", seeded.admin_token);
        if let Some((name, token)) = seeded.desk_tokens.first() {
            println!("demo: {name} token {token}");
        }
        if let Some((name, token)) = seeded.owner_tokens.first() {
            println!("demo: {name} token {token}");
        }
        println!(
            "try:  curl -s -H 'Authorization: Bearer {}' http://{addr}/v1/orders?limit=5",
            seeded.admin_token
        );
        let (p2, base) = (platform.clone(), format!("http://{addr}"));
        let s2 = seeded.clone();
        tokio::spawn(async move {
            match demo::first_share_link(&p2, &s2, Duration::from_secs(120)).await {
                Some(path) => println!("demo: watch a master arrive in a browser: {base}{path}"),
                None => println!("demo: no job got under way within 2 minutes"),
            }
        });
        tokio::spawn(demo::run(platform.clone(), cfg, seeded));
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down");
    };
    pitstop_platform::serve(listener, platform, shutdown).await?;
    Ok(())
}

/// `--currency`: three capital letters (ISO 4217).
fn parse_currency(s: &str) -> Result<String, String> {
    if pitstop_api::valid_currency(s) {
        Ok(s.to_string())
    } else {
        Err("an ISO 4217 code of three capital letters, e.g. EUR or CNY".into())
    }
}
