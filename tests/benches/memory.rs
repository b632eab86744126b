//! The idle studio's memory, as a user's desktop holds it: the release studio started as its
//! desktop entry starts it (its own D-Bus session, a fresh home, Xvfb), on first launch with its
//! one local instance running, left idle; then each of its processes (the app, WebKit's web and
//! network processes) measured by PSS (proportional set size: shared pages split among their
//! users, the figure that adds up across processes) and RSS from `/proc/<pid>/smaps_rollup`,
//! a few samples apart. Target (issue 36): at most 200 MB PSS in all.
//!
//! The anchor, measured the same way in the same run: the platform's floor, an empty WebKitGTK
//! window (`memory_anchor.c`, compiled here against the system's WebKitGTK: a GTK window with
//! one web view showing one paragraph), given the rendering mode the studio gives itself
//! (without a GPU render node, no compositing: `src-tauri/src/footprint.rs`).
//!
//! Run: `cargo build --release -p switchyard-app` then
//! `SWITCHYARD_STUDIO_BIN=target/release/switchyard-studio cargo bench -p switchyard-e2e --bench memory`
//! (`-- --idle SECONDS`, default 20, how long each idles before the samples).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
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
    let anchor = build_anchor()?;

    let desktop = Desktop::start("switchyard-memory-")?;
    let mut studio = desktop
        .env(Command::new("dbus-run-session").arg("--").arg(&app).env_remove("DBUS_SESSION_BUS_ADDRESS"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let h = desktop.home.path();
    let name = app.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let logs = h.join("data/dev.switchyard.studio/logs");
    let log = || -> String { std::fs::read_dir(&logs).into_iter().flatten().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect() };
    let outcome = measure(&studio, &name, idle, || log().contains("local instance 'local' is running")).with_context(|| format!("the studio's log: {}", log()));
    kill_group(&mut studio);
    drop(desktop);
    let rows = outcome?;

    let desktop = Desktop::start("switchyard-memory-anchor-")?;
    let mut command = Command::new("dbus-run-session");
    desktop.env(command.arg("--").arg(&anchor.binary).env_remove("DBUS_SESSION_BUS_ADDRESS"));
    if !has_render_node() {
        command.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let mut window = command.stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).spawn()?;
    let outcome = measure(&window, ANCHOR_NAME, idle, || true);
    kill_group(&mut window);
    let floor = outcome.context("the empty WebKitGTK window")?;

    report(&format!("idle studio, one local instance, after {idle} s idle ({})", app.display()), &rows);
    report(&format!("the anchor: an empty WebKitGTK window, after {idle} s idle (same machine, same run)"), &floor);
    let (ours, base) = (total(&rows).pss as f64 / 1024.0, total(&floor).pss as f64 / 1024.0);
    println!("\nthe studio: {ours:.1} MB PSS = the empty window's {base:.1} MB + {:.1} MB ({:.2}× the floor)", ours - base, ours / base);
    println!("target: ≤ {TARGET_MB} MB PSS in all → {}", if ours <= TARGET_MB { "met" } else { "not met" });
    Ok(())
}

/// The anchor's binary name (the kernel keeps 15 characters of it).
const ANCHOR_NAME: &str = "webkit-empty";

/// The compiled anchor, in a folder removed when it is dropped.
struct Anchor {
    _dir: tempfile::TempDir,
    binary: std::path::PathBuf,
}

/// Compiles `memory_anchor.c` against the system's WebKitGTK (the headers the studio's own build needs).
fn build_anchor() -> Result<Anchor> {
    need("cc")?;
    need("pkg-config")?;
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("memory_anchor.c");
    std::fs::write(&source, include_str!("memory_anchor.c"))?;
    let flags = Command::new("pkg-config").args(["--cflags", "--libs", "webkit2gtk-4.1"]).output().context("pkg-config")?;
    ensure!(flags.status.success(), "pkg-config found no webkit2gtk-4.1: {}", String::from_utf8_lossy(&flags.stderr));
    let binary = dir.path().join(ANCHOR_NAME);
    let out = Command::new("cc").arg("-O2").arg("-o").arg(&binary).arg(&source).args(String::from_utf8_lossy(&flags.stdout).split_whitespace()).output()?;
    ensure!(out.status.success(), "compiling the anchor failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(Anchor { _dir: dir, binary })
}

/// Whether the machine has a GPU render node (the studio's own test, `footprint.rs`).
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri").into_iter().flatten().flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
}

/// Per process name: the median PSS and RSS (kB) over the samples.
fn measure(studio: &std::process::Child, app: &str, idle: u64, ready: impl Fn() -> bool) -> Result<Vec<(String, Memory)>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(ready() && studio_processes(studio.id(), app).iter().any(|(_, c)| c.starts_with("WebKitWeb"))) {
        if Instant::now() > deadline {
            bail!("{app} did not start its window (and local instance) within 60 s");
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

fn total(rows: &[(String, Memory)]) -> Memory {
    let mut all = Memory::default();
    for (_, m) in rows {
        all += *m;
    }
    all
}

fn report(title: &str, rows: &[(String, Memory)]) {
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("\n### {title}\n");
    println!("| process | PSS (MB) | of it anonymous | of it files | RSS (MB) |\n|---|---:|---:|---:|---:|");
    for (name, m) in rows {
        println!("| {name} | {:.1} | {:.1} | {:.1} | {:.1} |", mb(m.pss), mb(m.anon), mb(m.file), mb(m.rss));
    }
    let all = total(rows);
    println!("| **all** | **{:.1}** | {:.1} | {:.1} | {:.1} |", mb(all.pss), mb(all.anon), mb(all.file), mb(all.rss));
}
