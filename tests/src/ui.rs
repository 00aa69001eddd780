//! Real windows and browsers for the UI tests: an Xvfb display, the desktop app driven through
//! tauri-driver (which drives WebKitWebDriver), and headless Chromium through chromedriver.
//! Everything is a child process killed (with its children) when its guard drops.
//!
//! The tools come from `scripts/setup.sh`; a missing one fails the test with a sentence
//! saying so, never a silent pass.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Map, Value, json};

/// How long a UI wait lasts before the test fails.
pub const UI_WAIT: Duration = Duration::from_secs(30);

/// A child process (and its process group), killed on drop.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        // The whole group: tauri-driver's WebKitWebDriver and the app, chromedriver's
        // Chromium. Signalled directly: a `kill` binary may read `-<pid>` as an option.
        if let Some(group) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
            std::thread::sleep(Duration::from_millis(200));
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
        let _ = self.name;
    }
}

fn spawn(name: &'static str, cmd: &mut Command) -> anyhow::Result<Proc> {
    use std::os::unix::process::CommandExt;
    let child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| {
            format!("{name} is not installed or cannot start: run ./scripts/setup.sh")
        })?;
    Ok(Proc { child, name })
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn wait_port(port: u16, what: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not start listening on port {port}")
}

/// An X display without a screen.
#[derive(Debug)]
pub struct Display {
    pub name: String,
    _proc: Proc,
}

impl Display {
    /// Starts `Xvfb` on a free display number.
    pub async fn start() -> anyhow::Result<Self> {
        let n = (100..400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                    && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            })
            .context("no free X display number")?;
        let name = format!(":{n}");
        let proc = spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([&name, "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        let socket = format!("/tmp/.X11-unix/X{n}");
        for _ in 0..100 {
            if Path::new(&socket).exists() {
                return Ok(Self { name, _proc: proc });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("Xvfb did not start on {name}")
    }
}

fn connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}

/// A private D-Bus session bus, so the app's system notifications can be observed.
#[derive(Debug)]
pub struct SessionBus {
    /// `DBUS_SESSION_BUS_ADDRESS` for processes on this bus.
    pub address: String,
    _daemon: Proc,
}

impl SessionBus {
    pub async fn start() -> anyhow::Result<Self> {
        let mut daemon = spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let out = daemon.child.stdout.take().context("dbus-daemon stdout")?;
        let address = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).map(|_| line)
        })
        .await??
        .trim()
        .to_string();
        if address.is_empty() {
            bail!("dbus-daemon printed no address");
        }
        Ok(Self {
            address,
            _daemon: daemon,
        })
    }
}

/// Records every `org.freedesktop.Notifications` call on a bus (`dbus-monitor`): what the
/// desktop would show as system notifications.
#[derive(Debug)]
pub struct Notifications {
    seen: std::sync::Arc<std::sync::Mutex<String>>,
    _monitor: Proc,
}

impl Notifications {
    pub async fn watch(bus: &SessionBus) -> anyhow::Result<Self> {
        let mut monitor = spawn(
            "dbus-monitor",
            Command::new("dbus-monitor")
                .args([
                    "--address",
                    &bus.address,
                    "interface='org.freedesktop.Notifications',member='Notify'",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let out = monitor.child.stdout.take().context("dbus-monitor stdout")?;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        // dbus-monitor needs a moment to register as a monitor.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Self {
            seen,
            _monitor: monitor,
        })
    }

    /// Everything seen so far, as dbus-monitor prints it (one argument per line).
    pub fn text(&self) -> String {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The desktop app's binary, built next to the test binaries (`cargo build -p pitstop-app`).
pub fn app_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/debug/deps/<test> -> target/debug/pitstop-app
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("pitstop-app"))
        .context("no target directory")?;
    if !bin.is_file() {
        bail!(
            "{} is missing: build the app first (./scripts/build-ui.sh && cargo build -p pitstop-app)",
            bin.display()
        );
    }
    Ok(bin)
}

/// The desktop app under tauri-driver, with one WebDriver session.
#[allow(missing_debug_implementations)] // fantoccini's Client has no Debug
pub struct App {
    pub client: Client,
    _driver: Proc,
    _display: Display,
    /// The app's data folder (`XDG_DATA_HOME`), kept until the app is gone.
    pub data: tempfile::TempDir,
}

impl App {
    /// Starts the app with these environment settings (`PITSTOP_PLATFORM`, `PITSTOP_ROLE`, …).
    pub async fn start(env: &[(&str, String)]) -> anyhow::Result<Self> {
        Self::start_with(env, tempfile::tempdir()?, None).await
    }

    /// Starts the app on an existing data folder and, when `keyring` is given, inside that
    /// named session keyring (`keyctl session NAME`), so that a second launch finds the
    /// session the first kept there (see [`KeyringKeeper`]).
    pub async fn start_with(
        env: &[(&str, String)],
        data: tempfile::TempDir,
        keyring: Option<&str>,
    ) -> anyhow::Result<Self> {
        let app = app_binary()?;
        let display = Display::start().await?;
        let (port, native) = (free_port(), free_port());
        let mut cmd = match keyring {
            Some(name) => {
                let mut c = Command::new("keyctl");
                c.args(["session", name, "tauri-driver"]);
                c
            }
            None => Command::new("tauri-driver"),
        };
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("DISPLAY", &display.name)
        .env("XDG_DATA_HOME", data.path())
        .env("XDG_CONFIG_HOME", data.path())
        .env("XDG_CACHE_HOME", data.path())
        // Software rendering: Xvfb has no GPU.
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        // The window tests read English; a machine set to another language would change
        // the app's (it follows the system's).
        .env("LANGUAGE", "en")
        .env("LC_ALL", "C.UTF-8")
        .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = spawn("tauri-driver", &mut cmd)?;
        wait_port(port, "tauri-driver").await?;
        // tauri-driver accepts before its WebKitWebDriver listens; a session needs both.
        wait_port(native, "WebKitWebDriver").await?;
        let mut caps = Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": app }));
        let client = ClientBuilder::new(connector())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("WebDriver session with the app")?;
        Ok(Self {
            client,
            _driver: driver,
            _display: display,
            data,
        })
    }

    /// Saves a PNG of the app's screen as `<name>.png` (ImageMagick `import` on the Xvfb
    /// display: WebKitWebDriver's own screenshot command hangs on some pages).
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        let status = tokio::process::Command::new("import")
            .args(["-display", &self._display.name, "-window", "root"])
            .arg(&path)
            .status()
            .await
            .context("ImageMagick import is not installed: run ./scripts/setup.sh")?;
        if !status.success() {
            bail!("import could not capture {name}");
        }
        Ok(path)
    }

    /// Ends the session (the app quits).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Closes the window and hands back its data folder, to start the app again on it.
    pub async fn close_keep_data(self) -> tempfile::TempDir {
        let _ = self.client.clone().close().await;
        let Self {
            data,
            _driver,
            _display,
            ..
        } = self;
        drop(_driver);
        // The app process ends with its driver; give it a moment to close its files.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        drop(_display);
        data
    }
}

/// Keeps a named Linux session keyring alive between two launches of the app (a keyring
/// nothing holds is destroyed): a `sleep` inside it, killed when this is dropped. The desktop
/// has one per login session; a test process has none.
#[derive(Debug)]
pub struct KeyringKeeper {
    pub name: String,
    _proc: std::process::Child,
}

impl KeyringKeeper {
    /// Joins (creating) the keyring `name` and holds it.
    pub fn start(name: &str) -> anyhow::Result<Self> {
        let child = std::process::Command::new("keyctl")
            .args(["session", name, "sleep", "3600"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("keyctl (Debian package keyutils)")?;
        std::thread::sleep(std::time::Duration::from_millis(200));
        Ok(Self {
            name: name.to_string(),
            _proc: child,
        })
    }
}

impl Drop for KeyringKeeper {
    fn drop(&mut self) {
        let _ = self._proc.kill();
        let _ = self._proc.wait();
    }
}

/// Headless Chromium under chromedriver, with one session.
#[allow(missing_debug_implementations)]
pub struct Browser {
    pub client: Client,
    _driver: Proc,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> anyhow::Result<Self> {
        let port = free_port();
        let driver = spawn(
            "chromedriver",
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        wait_port(port, "chromedriver").await?;
        let profile = tempfile::tempdir()?;
        let mut caps = Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let client = ClientBuilder::new(connector())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("WebDriver session with Chromium")?;
        Ok(Self {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Runs one WebDriver command with a deadline, so a hung browser fails the test instead of
/// hanging it.
pub async fn step<T>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(UI_WAIT, fut).await {
        Ok(r) => r.with_context(|| what.to_string()),
        Err(_) => bail!("{what}: no answer from the browser within {UI_WAIT:?}"),
    }
}

/// Waits for an element matching `css`.
pub async fn find(c: &Client, css: &str) -> anyhow::Result<Element> {
    let wait = c.wait().at_most(UI_WAIT).for_element(Locator::Css(css));
    match tokio::time::timeout(UI_WAIT + Duration::from_secs(5), wait).await {
        Ok(r) => r.with_context(|| format!("no element {css} within {UI_WAIT:?}")),
        Err(_) => bail!("looking for {css}: no answer from the browser"),
    }
}

/// Waits until `f` yields `Some`, polling every 100 ms.
pub async fn until<T, F, Fut>(what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    crate::eventually(UI_WAIT, || {
        let fut = f();
        async move {
            let r = fut.await;
            if r.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            r
        }
    })
    .await
    .with_context(|| format!("timed out waiting for {what}"))
}

/// An attribute of the first element matching `css`, if both exist.
pub async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    let el = step(css, c.find(Locator::Css(css))).await.ok()?;
    step(css, el.attr(name)).await.ok().flatten()
}

/// The text of the first element matching `css`, if it exists.
pub async fn text(c: &Client, css: &str) -> Option<String> {
    let el = step(css, c.find(Locator::Css(css))).await.ok()?;
    step(css, el.text()).await.ok()
}

/// Clicks the element matching `css` once it exists. The UI re-renders on its own (the
/// sync badge ticks every second), so an element found may be replaced before the click
/// lands: then it is found again, for a few seconds at most.
pub async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let clicked = find(c, css).await?.click().await;
        match clicked {
            Ok(_) => return Ok(()),
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("(clicking {css} again: {e})");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("clicking {css}")),
        }
    }
}

/// Clicks `dx`,`dy` CSS pixels from the centre of the element matching `css` (placing a
/// pin on a map).
pub async fn click_at(c: &Client, css: &str, dx: f64, dy: f64) -> anyhow::Result<()> {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let el = find(c, css).await?;
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: el,
            duration: None,
            x: dx,
            y: dy,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(mouse)
        .await
        .with_context(|| format!("clicking {css} at {dx},{dy}"))?;
    Ok(())
}

/// Clicks the element matching `css` if it is there right now; says whether it was.
pub async fn click_if_present(c: &Client, css: &str) -> bool {
    let Ok(el) = step(css, c.find(Locator::Css(css))).await else {
        return false;
    };
    step(css, el.click()).await.is_ok()
}

/// Types into the input matching `css`.
pub async fn type_into(c: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let el = find(c, css).await?;
    el.clear().await.ok();
    el.send_keys(text)
        .await
        .with_context(|| format!("typing into {css}"))
}

/// Chooses `value` in the `<select>` matching `css`. Set by script with a `change` event:
/// clicking an `<option>` in WebKitGTK opens a native popup that blocks the WebDriver call.
pub async fn select(c: &Client, css: &str, value: &str) -> anyhow::Result<()> {
    find(c, css).await?;
    let found = step(
        &format!("choosing {value} in {css}"),
        c.execute(
            "const s = document.querySelector(arguments[0]);
             if (![...s.options].some(o => o.value === arguments[1])) return false;
             s.value = arguments[1];
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
            vec![json!(css), json!(value)],
        ),
    )
    .await?;
    if found != json!(true) {
        bail!("{css} has no option {value}");
    }
    Ok(())
}

/// The repository being tested. Read at run time (cargo sets `CARGO_MANIFEST_DIR` for test
/// processes): a binary reused from another checkout sharing the target directory would
/// otherwise look at that checkout.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("..")
}

/// The built web UI: `$PITSTOP_UI_DIST`, else `ui/dist` in the repository.
pub fn ui_dist() -> PathBuf {
    std::env::var_os("PITSTOP_UI_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("ui").join("dist"))
}

/// Where screenshots go: `$PITSTOP_SCREENSHOTS`, else `target/screenshots` in the repository.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("PITSTOP_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("screenshots"))
}

/// Saves a PNG screenshot of the window as `<name>.png`; returns its path.
pub async fn screenshot(c: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let png = step(&format!("screenshot {name}"), c.screenshot()).await?;
    if !png.starts_with(b"\x89PNG") {
        bail!("the screenshot of {name} is not a PNG");
    }
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}

/// A JSON value's string, for `execute` answers.
pub fn as_str(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}
