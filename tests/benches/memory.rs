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
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use switchyard_e2e::studio::{kill_group, need, studio_binary, Desktop};

const SAMPLES: usize = 5;
const TARGET_MB: f64 = 200.0;

/// One process's memory in kB: PSS, and of it what is anonymous (heaps, stacks, caches) and
/// file-backed (libraries, mapped files); RSS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Memory {
    pss: u64,
    anon: u64,
    file: u64,
    rss: u64,
}

impl std::ops::AddAssign for Memory {
    fn add_assign(&mut self, o: Memory) {
        self.pss += o.pss;
        self.anon += o.anon;
        self.file += o.file;
        self.rss += o.rss;
    }
}

fn memory_of(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok());
    Some(Memory { pss: field("Pss:")?, anon: field("Pss_Anon:")?, file: field("Pss_File:")?, rss: field("Rss:")? })
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

/// The studio's processes: the app (its file name, as the kernel keeps it: 15 characters) and
/// the WebKit processes it started.
fn studio_processes(root: u32, app: &str) -> Vec<(u32, String)> {
    let app: String = app.chars().take(15).collect();
    descendants(root).into_iter().map(|p| (p, comm(p))).filter(|(_, c)| *c == app || c.starts_with("WebKit")).collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let idle = args.iter().position(|a| a == "--idle").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(20u64);
    let app = studio_binary();
    ensure!(app.exists(), "{} is missing: cargo build --release -p switchyard-app", app.display());
    need("dbus-run-session")?;
    let desktop = Desktop::start("switchyard-memory-")?;
    let mut studio = desktop
        .env(Command::new("dbus-run-session").arg("--").arg(&app).env_remove("DBUS_SESSION_BUS_ADDRESS"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let h = desktop.home.path();
    let name = app.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let outcome = measure(&studio, &name, &h.join("data/dev.switchyard.studio/logs"), idle);
    kill_group(&mut studio);
    let rows = outcome?;
    report(&app, idle, &rows);
    Ok(())
}

/// Per process name: the median PSS and RSS (kB) over the samples.
fn measure(studio: &std::process::Child, app: &str, logs: &Path, idle: u64) -> Result<Vec<(String, Memory)>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = || -> String { std::fs::read_dir(logs).into_iter().flatten().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect() };
    while !(log().contains("local instance 'local' is running") && studio_processes(studio.id(), app).iter().any(|(_, c)| c.starts_with("WebKitWeb"))) {
        if Instant::now() > deadline {
            bail!("the studio did not start its window and local instance within 60 s; its log: {}", log());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("started; idling {idle} s");
    std::thread::sleep(Duration::from_secs(idle));
    let mut samples: BTreeMap<String, Vec<Memory>> = BTreeMap::new();
    for _ in 0..SAMPLES {
        let mut by_name: BTreeMap<String, Memory> = BTreeMap::new();
        for (pid, name) in studio_processes(studio.id(), app) {
            *by_name.entry(name).or_default() += memory_of(pid).context("smaps_rollup")?;
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
            (name, v[v.len() / 2])
        })
        .collect())
}

fn report(app: &Path, idle: u64, rows: &[(String, Memory)]) {
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("\n### idle studio, one local instance, after {idle} s idle ({})\n", app.display());
    println!("| process | PSS (MB) | of it anonymous | of it files | RSS (MB) |\n|---|---:|---:|---:|---:|");
    let mut all = Memory::default();
    for (name, m) in rows {
        println!("| {name} | {:.1} | {:.1} | {:.1} | {:.1} |", mb(m.pss), mb(m.anon), mb(m.file), mb(m.rss));
        all += *m;
    }
    println!("| **all** | **{:.1}** | {:.1} | {:.1} | {:.1} |", mb(all.pss), mb(all.anon), mb(all.file), mb(all.rss));
    println!("\ntarget: ≤ {TARGET_MB} MB PSS in all → {}", if mb(all.pss) <= TARGET_MB { "met" } else { "not met" });
}
