//! Desktop app figures for docs/benchmarks.md: cold start to interactive, the UI's wasm size
//! gzipped, and idle memory. A real app binary in a real WebKit window under Xvfb.
//!
//! ```text
//! ./scripts/build-ui.sh && cargo build --release -p pitstop-app
//! cargo bench -p pitstop-tests --bench app
//! ```
//! Cold start runs the app with `--exit-when-ready`: the UI calls the shell's `ui_ready`
//! once its first view is on screen and the app quits; the figure is spawn to exit (wall
//! clock), plus the app's own "interactive after" line (from `main`, excluding exec).

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pitstop_tests::TestPlatform;
use pitstop_tests::ui::{Display, app_binary};

const RUNS: usize = 7;

fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip").len()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `(rss_kib, pss_kib)` of a process.
fn memory(pid: u32) -> (u64, u64) {
    let field = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&rollup, "Pss:"))
}

/// `pid` and all its descendants, with their names.
fn tree(pid: u32) -> Vec<(u32, String)> {
    let mut parents = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[stat.find('(').unwrap_or(0) + 1..close].to_string();
        let ppid = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        parents.push((p, ppid, comm));
    }
    let mut out = vec![];
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Some((_, _, comm)) = parents.iter().find(|(x, _, _)| *x == p) {
            out.push((p, comm.clone()));
        }
        todo.extend(
            parents
                .iter()
                .filter(|(_, pp, _)| *pp == p)
                .map(|(x, _, _)| *x),
        );
    }
    out
}

fn app_command(display: &Display, data: &Path, platform: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(app_binary().expect("app binary"));
    cmd.env("DISPLAY", &display.name)
        .env("XDG_DATA_HOME", data)
        .env("XDG_CONFIG_HOME", data)
        .env("XDG_CACHE_HOME", data)
        .env("PITSTOP_PLATFORM", platform)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

#[tokio::main]
async fn main() {
    println!("{}", pitstop_tests::machine());
    let dist = pitstop_tests::ui::ui_dist();
    let wasm = std::fs::read(dist.join("pitstop-ui_bg.wasm")).expect("build the UI first");
    let js = std::fs::read(dist.join("pitstop-ui.js")).expect("build the UI first");
    println!(
        "ui wasm: {:.0} KiB raw, {:.0} KiB gzipped (-9); JS glue {:.1} KiB gzipped",
        wasm.len() as f64 / 1024.0,
        gzip_len(&wasm) as f64 / 1024.0,
        gzip_len(&js) as f64 / 1024.0
    );
    println!("app binary: {}", app_binary().expect("app").display());

    let p = TestPlatform::start().await;
    let display = Display::start().await.expect("Xvfb");

    // Cold start: a fresh data folder each run, so no cache is warm but the OS page cache.
    let mut wall = vec![];
    let mut inside = vec![];
    for _ in 0..RUNS {
        let data = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let out = app_command(&display, data.path(), &p.base)
            .arg("--exit-when-ready")
            .output()
            .await
            .expect("run the app");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let err = String::from_utf8_lossy(&out.stderr);
        let reported = err
            .lines()
            .find_map(|l| l.strip_prefix("pitstop-app: interactive after "))
            .and_then(|s| s.trim_end_matches(" ms").parse::<f64>().ok())
            .expect("the app reports when it is interactive");
        wall.push(ms);
        inside.push(reported);
    }
    wall.sort_by(f64::total_cmp);
    inside.sort_by(f64::total_cmp);
    println!(
        "cold start to interactive ({RUNS} runs): spawn->ready p50 {:.0} ms, max {:.0} ms; main->ready p50 {:.0} ms",
        percentile(&wall, 0.5),
        percentile(&wall, 1.0),
        percentile(&inside, 0.5)
    );

    // Idle memory: a signed-in technician with synced data, 20 s after start.
    let data = tempfile::tempdir().unwrap();
    let mut child = app_command(&display, data.path(), &p.base)
        .env("PITSTOP_ROLE", "technician")
        .env("PITSTOP_NAME", "idle")
        .spawn()
        .expect("start the app");
    tokio::time::sleep(Duration::from_secs(20)).await;
    let pid = child.id().expect("running");
    let procs = tree(pid);
    let (mut rss_total, mut pss_total) = (0, 0);
    for (p, name) in &procs {
        let (rss, pss) = memory(*p);
        rss_total += rss;
        pss_total += pss;
        println!(
            "  {name:<24} pid {p:>7}: RSS {:>6.1} MiB, PSS {:>6.1} MiB",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0
        );
    }
    let (app_rss, _) = memory(pid);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    // Under Xvfb, Mesa's software renderer (llvmpipe) maps LLVM into the UI process.
    let mut llvm_kib = 0u64;
    let mut current_is_llvm = false;
    for line in std::fs::read_to_string(format!("/proc/{pid}/smaps"))
        .unwrap_or_default()
        .lines()
    {
        let mut parts = line.split_whitespace();
        let first = parts.next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            current_is_llvm = line.contains("libLLVM");
        } else if first == "Rss:" && current_is_llvm {
            llvm_kib += parts
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    println!(
        "  of which libLLVM (Mesa's software GL under Xvfb): {:.0} MiB; app RSS without it {:.0} MiB",
        llvm_kib as f64 / 1024.0,
        (app_rss - llvm_kib) as f64 / 1024.0
    );
    println!(
        "  app process RSS split: anonymous {:.0} MiB, file-backed (shared libraries) {:.0} MiB, shmem {:.0} MiB",
        kib("RssAnon:"),
        kib("RssFile:"),
        kib("RssShmem:")
    );
    println!(
        "idle memory after 20 s: app process RSS {:.0} MiB; app + WebKit processes ({}): RSS {:.0} MiB, PSS {:.0} MiB",
        app_rss as f64 / 1024.0,
        procs.len(),
        rss_total as f64 / 1024.0,
        pss_total as f64 / 1024.0
    );
    let _ = child.kill().await;
    p.stop().await;
}
