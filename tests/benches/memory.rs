//! The idle studio's memory, as a user's desktop holds it: the release studio started as its
//! desktop entry starts it (its own D-Bus session, a fresh home, Xvfb), on first launch with its
//! one local instance running, left idle; then each of its processes (the app, WebKit's web and
//! network processes) measured by PSS (proportional set size: shared pages split among their
//! users, the figure that adds up across processes) and RSS from `/proc/<pid>/smaps_rollup`,
//! a few samples apart. Target (issue 36): at most 200 MB PSS in all.
//!
//! Run: `cargo build --release -p switchyard-app` then
//! `SWITCHYARD_STUDIO_BIN=target/release/switchyard-studio cargo bench -p switchyard-e2e --bench memory`
//! (`-- --idle SECONDS`, default 20, how long it idles before the samples).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use switchyard_e2e::studio::{free_display, kill_group, need, studio_binary};

const SAMPLES: usize = 5;
const TARGET_MB: f64 = 200.0;

/// `(pss, rss)` in kB of one process.
fn memory_of(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok());
    Some((field("Pss:")?, field("Rss:")?))
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Every descendant of `root`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The parent is the second field after the command's closing parenthesis.
        if let Some(ppid) = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse().ok()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for c in children.get(&p).into_iter().flatten() {
            out.push(*c);
            todo.push(*c);
        }
    }
    out
}

/// The studio's processes: the app and the WebKit processes it started.
fn studio_processes(root: u32) -> Vec<(u32, String)> {
    descendants(root).into_iter().map(|p| (p, comm(p))).filter(|(_, c)| c.starts_with("switchyard-stud") || c.starts_with("WebKit")).collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let idle = args.iter().position(|a| a == "--idle").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(20u64);
    let app = studio_binary();
    ensure!(app.exists(), "{} is missing: cargo build --release -p switchyard-app", app.display());
    for tool in ["Xvfb", "dbus-run-session"] {
        need(tool)?;
    }
    let home = tempfile::Builder::new().prefix("switchyard-memory-").tempdir()?;
    let h = home.path();
    for d in ["data", "config", "cache", "run"] {
        std::fs::create_dir_all(h.join(d))?;
    }
    std::fs::set_permissions(h.join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let n = free_display()?;
    let display = format!(":{n}");
    let mut xvfb = Command::new("Xvfb").args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).spawn()?;
    let mut studio = Command::new("dbus-run-session")
        .arg("--")
        .arg(&app)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("HOME", h)
        .env("XDG_DATA_HOME", h.join("data"))
        .env("XDG_CONFIG_HOME", h.join("config"))
        .env("XDG_CACHE_HOME", h.join("cache"))
        .env("XDG_RUNTIME_DIR", h.join("run"))
        .env("DISPLAY", &display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let outcome = measure(&studio, &h.join("data/dev.switchyard.studio/logs"), idle);
    kill_group(&mut studio);
    kill_group(&mut xvfb);
    let rows = outcome?;
    report(&app, idle, &rows);
    Ok(())
}

/// Per process name: the median PSS and RSS (kB) over the samples.
fn measure(studio: &std::process::Child, logs: &Path, idle: u64) -> Result<Vec<(String, u64, u64)>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = || -> String { std::fs::read_dir(logs).into_iter().flatten().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect() };
    while !(log().contains("local instance 'local' is running") && studio_processes(studio.id()).iter().any(|(_, c)| c.starts_with("WebKitWeb"))) {
        if Instant::now() > deadline {
            bail!("the studio did not start its window and local instance within 60 s; its log: {}", log());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("started; idling {idle} s");
    std::thread::sleep(Duration::from_secs(idle));
    let mut samples: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for _ in 0..SAMPLES {
        let mut by_name: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (pid, name) in studio_processes(studio.id()) {
            let (pss, rss) = memory_of(pid).context("smaps_rollup")?;
            let e = by_name.entry(name).or_default();
            e.0 += pss;
            e.1 += rss;
        }
        for (name, m) in by_name {
            samples.entry(name).or_default().push(m);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    Ok(samples
        .into_iter()
        .map(|(name, mut v)| {
            v.sort();
            let (pss, rss) = v[v.len() / 2];
            (name, pss, rss)
        })
        .collect())
}

fn report(app: &PathBuf, idle: u64, rows: &[(String, u64, u64)]) {
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("\n### idle studio, one local instance, after {idle} s idle ({})\n", app.display());
    println!("| process | PSS (MB) | RSS (MB) |\n|---|---:|---:|");
    for (name, pss, rss) in rows {
        println!("| {name} | {:.1} | {:.1} |", mb(*pss), mb(*rss));
    }
    let (pss, rss): (u64, u64) = rows.iter().fold((0, 0), |(a, b), (_, p, r)| (a + p, b + r));
    println!("| **all** | **{:.1}** | {:.1} |", mb(pss), mb(rss));
    println!("\ntarget: ≤ {TARGET_MB} MB PSS in all → {}", if mb(pss) <= TARGET_MB { "met" } else { "not met" });
}
