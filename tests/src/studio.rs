//! Launches the real studio for GUI tests: Xvfb, a D-Bus session with an unlocked gnome-keyring,
//! tauri-driver + WebKitWebDriver, and a WebDriver session on the debug binary. Each launch has
//! its own HOME, so app data, registry and keyring start empty. Missing tools fail loudly.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::webdriver::Session;

pub struct StudioApp {
    pub session: Option<Session>,
    pub home: tempfile::TempDir,
    pub artifacts: PathBuf,
    pub bus_address: String,
    xvfb: Child,
    driver: Child,
    /// What axe-core found on each screen shot so far (critical and serious only).
    audits: std::sync::Mutex<Vec<String>>,
    /// Held while this app runs: one studio window at a time per test process. Two WebKit
    /// windows, their nodes and drivers on two cores made WebKitWebDriver answer "unknown
    /// error" now and then; dropped after the processes are killed (fields drop after `drop`).
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh desktop for a studio started as a user starts it (not through WebDriver): a home with
/// its XDG folders and an Xvfb display, both gone when it drops.
pub struct Desktop {
    pub home: tempfile::TempDir,
    /// `:N`
    pub display: String,
    xvfb: Child,
}

impl Desktop {
    /// Starts Xvfb and waits (at most 10 s) for its socket.
    pub fn start(prefix: &str) -> Result<Desktop> {
        let xvfb_bin = need("Xvfb")?;
        let home = tempfile::Builder::new().prefix(prefix).tempdir()?;
        for d in ["data", "config", "cache", "run"] {
            std::fs::create_dir_all(home.path().join(d))?;
        }
        std::fs::set_permissions(home.path().join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let n = free_display()?;
        let display = format!(":{n}");
        let xvfb = Command::new(xvfb_bin).args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).spawn().context("starting Xvfb")?;
        let desktop = Desktop { home, display, xvfb };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            if Instant::now() > deadline {
                bail!("Xvfb {} did not start within 10 s", desktop.display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(desktop)
    }

    /// Runs `c` on this desktop: its home, XDG folders and display.
    pub fn env<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        let h = self.home.path();
        c.env("HOME", h).env("XDG_DATA_HOME", h.join("data")).env("XDG_CONFIG_HOME", h.join("config")).env("XDG_CACHE_HOME", h.join("cache")).env("XDG_RUNTIME_DIR", h.join("run")).env("DISPLAY", &self.display)
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        kill_group(&mut self.xvfb);
    }
}

/// A turn for a studio window run outside `StudioApp` (the installed one): held while it runs.
pub async fn window_turn() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the studio binary is: `SWITCHYARD_STUDIO_BIN`, else the debug build
/// (`cargo build -p switchyard-app`).
pub fn studio_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SWITCHYARD_STUDIO_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    target.join("debug").join("switchyard-studio")
}

pub fn need(tool: &str) -> Result<PathBuf> {
    let cargo_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin").join(tool));
    if let Some(p) = cargo_bin.filter(|p| p.exists()) {
        return Ok(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(tool);
        if p.exists() {
            return Ok(p);
        }
    }
    bail!("'{tool}' is not installed; `make test` installs it (scripts/deps.sh gui)")
}

pub fn free_display() -> Result<u32> {
    (90..200).find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists())
        .context("no free X display number")
}

pub fn kill_group(child: &mut Child) {
    // Each helper leads its own process group; end the whole group (driver, webdriver, app).
    let pid = child.id() as i32;
    let _ = Command::new("kill").args(["-s", "TERM", "--", &format!("-{pid}")]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{pid}")]).status();
    let _ = child.wait();
}

/// Which Secret Service the app sees.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Keyring {
    /// A D-Bus session with an unlocked gnome-keyring.
    Unlocked,
    /// No session bus at all, so no keychain can answer.
    Absent,
}

impl StudioApp {
    /// Starts everything and opens a WebDriver session on the studio. `name` names the artifacts.
    pub async fn launch(name: &str) -> Result<StudioApp> {
        Self::launch_with(name, Keyring::Unlocked).await
    }

    pub async fn launch_with(name: &str, keyring: Keyring) -> Result<StudioApp> {
        let turn = ONE_AT_A_TIME.lock().await;
        let app = studio_binary();
        if !app.exists() {
            bail!("{} is missing; build it with `cargo build -p switchyard-app` after `npm run build` in ui/ (make test does both)", app.display());
        }
        let xvfb_bin = need("Xvfb")?;
        need("dbus-run-session")?;
        need("gnome-keyring-daemon")?;
        need("dunst")?;
        need("dunstctl")?;
        need("WebKitWebDriver")?;
        let tauri_driver = need("tauri-driver")?;

        let home = tempfile::Builder::new().prefix("switchyard-studio-e2e-").tempdir()?;
        let h = home.path();
        for d in ["data", "config", "cache", "run"] {
            std::fs::create_dir_all(h.join(d))?;
        }
        std::fs::set_permissions(h.join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o700))?;

        let display = free_display()?;
        let mut xvfb = Command::new(xvfb_bin);
        xvfb.args([format!(":{display}"), "-screen".into(), "0".into(), "1280x800x24".into(), "-nolisten".into(), "tcp".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut xvfb = xvfb.spawn().context("starting Xvfb")?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                kill_group(&mut xvfb);
                bail!("Xvfb :{display} did not start");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let [port, native_port] = switchyard_testkit::free_ports()?;
        let bus_file = h.join("bus-address");
        let log = std::fs::File::create(h.join("driver.log"))?;
        let mut driver = match keyring {
            Keyring::Unlocked => {
                let mut c = Command::new("dbus-run-session");
                c.arg("--").arg(workspace().join("scripts/e2e-session.sh")).arg(&bus_file);
                c.env_remove("DBUS_SESSION_BUS_ADDRESS");
                c
            }
            Keyring::Absent => {
                std::fs::write(&bus_file, "")?;
                let mut c = Command::new(&tauri_driver);
                c.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", h.join("run/no-bus").display()));
                c
            }
        };
        driver
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("PATH", format!("{}:{}", tauri_driver.parent().unwrap_or(Path::new("/")).display(), std::env::var("PATH").unwrap_or_default()))
            .env("HOME", h)
            .env("XDG_DATA_HOME", h.join("data"))
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("XDG_CACHE_HOME", h.join("cache"))
            .env("XDG_RUNTIME_DIR", h.join("run"))
            .env("DISPLAY", format!(":{display}"))
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let mut driver = driver.spawn().context("starting dbus-run-session + tauri-driver")?;

        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http.get(format!("{driver_url}/status")).send().await.is_ok() && bus_file.exists() {
                break;
            }
            if Instant::now() > deadline || matches!(driver.try_wait(), Ok(Some(_))) {
                let log = std::fs::read_to_string(h.join("driver.log")).unwrap_or_default();
                kill_group(&mut driver);
                kill_group(&mut xvfb);
                bail!("tauri-driver did not come up on {driver_url}; its log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bus_address = std::fs::read_to_string(&bus_file)?;
        let artifacts = workspace().join("target/e2e-artifacts").join(name);
        let _ = std::fs::remove_dir_all(&artifacts); // screenshots of this run only
        std::fs::create_dir_all(&artifacts)?;
        let mut me = StudioApp { session: None, home, artifacts, bus_address, xvfb, driver, audits: Default::default(), _turn: turn };
        me.session = Some(Session::start(&driver_url, &app.display().to_string()).await.context("starting a WebDriver session on the studio")?);
        me.page_started().await?;
        Ok(me)
    }

    /// Fails at once, and says why, when the window's page never starts: its script bundle is
    /// not in the binary (the studio then answers every asset with index.html), which a test
    /// would otherwise see as elements missing after its first wait.
    async fn page_started(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let children = self.s().execute("const r = document.getElementById('root'); return r ? r.childElementCount : 0;", serde_json::json!([])).await?;
            if children.as_u64().unwrap_or(0) > 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                let why = self
                    .s()
                    .execute_async(
                        "const done = arguments[arguments.length - 1]; const s = document.querySelector('script[type=module]');\
                         if (!s) { done('the page has no module script'); } else { import(s.src).then(() => done('its script loads but draws nothing'), (e) => done(`its script ${s.src} does not load: ${e}`)); }",
                        serde_json::json!([]),
                    )
                    .await
                    .unwrap_or_else(|e| serde_json::Value::String(e.to_string()));
                bail!("the studio's page did not start within 20 s: {why} (a build that embedded a broken bundle: `touch src-tauri/src/lib.rs` and build again)");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn s(&self) -> &Session {
        self.session.as_ref().expect("session is open until drop")
    }

    /// Registers a remote instance (user `admin`) through the dialog, once the first-launch local
    /// instance is up, and waits until it is online and open in the sidebar.
    pub async fn register_remote(&self, name: &str, url: &str, password: &str) -> Result<()> {
        let s = self.s();
        let t = std::time::Duration::from_secs(60);
        s.wait("[data-testid='instance-local'] [data-state='online']", t).await?;
        s.click_css("[data-testid='add-remote']", t).await?;
        s.fill("[data-testid='instance-name']", name).await?;
        s.fill("[data-testid='instance-url']", url).await?;
        s.fill("[data-testid='instance-password']", password).await?;
        s.click_css("[data-testid='save-instance']", t).await?;
        s.wait(&format!("[data-testid='instance-{name}'] [data-state='online']"), t).await?;
        s.click_css(&format!("[data-testid='instance-{name}'] .tree-row.instance"), t).await
    }

    /// An Operations API client for the local instance `name`, with the credentials the studio
    /// shows for it (the dialog is closed again).
    pub async fn local_ops(&self, name: &str) -> Result<switchyard_client::OpsClient> {
        let (s, t) = (self.s(), std::time::Duration::from_secs(30));
        s.click_css(&format!("[data-testid='instance-{name}'] .tree-row.instance"), t).await?;
        s.click_css(&format!("[data-testid='instance-{name}'] [data-testid='local-credentials']"), t).await?;
        s.wait("[data-testid='credentials']", t).await?;
        let creds: Vec<String> = serde_json::from_value(s.execute("return [...document.querySelectorAll('[data-testid=credentials] input')].map(i => i.value)", serde_json::json!([])).await?)?;
        s.send_keys_css("[data-testid='credentials'] input", "\u{E00C}", t).await?;
        s.wait_gone("[data-testid='credentials']", t).await?;
        anyhow::ensure!(creds.len() == 3, "credentials shown: {creds:?}");
        Ok(switchyard_client::OpsClient::new(&creds[0], switchyard_client::Credentials::basic(&creds[1], &creds[2]))?)
    }

    /// Ends a failed test: a screenshot named `shot`, then a panic with the error and the end of
    /// the driver's log.
    /// A GUI journey: launches the studio (`name` names its artifacts), runs `journey` in its
    /// window, and on a failure takes the screenshot `failure` and panics with the error and the
    /// end of the driver's log. Every GUI test is one call of this.
    pub async fn journey(name: &str, keyring: Keyring, journey: impl AsyncFnOnce(&StudioApp) -> Result<()>) {
        let app = StudioApp::launch_with(name, keyring).await.expect("the studio under Xvfb with tauri-driver");
        if let Err(e) = journey(&app).await {
            app.fail("failure", e).await;
        }
    }

    pub async fn fail(&self, shot: &str, e: anyhow::Error) -> ! {
        let _ = self.shot(shot).await;
        let log = self.driver_log();
        let tail: String = log.chars().rev().take(4000).collect::<String>().chars().rev().collect();
        panic!("{e:#}\n--- driver log ---\n{tail}");
    }

    /// Edge labels on the canvas that lie over a node card (`"label over node"` each), and how
    /// many labels were looked at: a label sits on or beside its own line, never on a node.
    pub async fn labels_over_nodes(&self) -> Result<(usize, Vec<String>)> {
        let v = self
            .s()
            .execute(
                "const labels = [...document.querySelectorAll('.topo-edge-label')];\
                 const nodes = [...document.querySelectorAll('.react-flow__node')];\
                 const over = [];\
                 for (const l of labels) { const a = l.getBoundingClientRect();\
                   for (const n of nodes) { const b = n.getBoundingClientRect();\
                     if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)\
                       over.push(`${l.dataset.testid} over ${n.dataset.testid}`); } }\
                 return [labels.length, over];",
                serde_json::json!([]),
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Saves a screenshot as an artifact (target/e2e-artifacts/<test>/<name>.png) and audits the
    /// screen with axe-core: what it finds critical or serious is kept for `accessible`.
    pub async fn shot(&self, name: &str) -> Result<()> {
        self.s().screenshot(&self.artifacts.join(format!("{name}.png"))).await?;
        let found = self.axe().await.with_context(|| format!("auditing '{name}' with axe-core"))?;
        let mut audits = self.audits.lock().unwrap_or_else(|p| p.into_inner());
        audits.extend(found.into_iter().map(|v| format!("{name}: {v}")));
        Ok(())
    }

    /// The critical and serious axe-core violations on the screen now (WCAG 2.1 A and AA and
    /// best practices), each with up to three of its elements.
    pub async fn axe(&self) -> Result<Vec<String>> {
        let s = self.s();
        let loaded = s.execute("return typeof window.axe === 'object';", serde_json::json!([])).await?;
        if loaded != serde_json::Value::Bool(true) {
            let path = workspace().join("ui/node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&path).with_context(|| format!("axe-core ({}) is installed by `make test` with the UI's packages", path.display()))?;
            s.execute(&format!("{source}\n;return typeof window.axe;"), serde_json::json!([])).await?;
        }
        let v = s
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 window.axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations\
                   .filter((v) => v.impact === 'critical' || v.impact === 'serious')\
                   .map((v) => `${v.impact} ${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)),\
                   (e) => done([`axe failed: ${e}`]));",
                serde_json::json!([]),
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Fails with every critical or serious violation axe-core found on the screens shot.
    pub fn accessible(&self) -> Result<()> {
        let audits = self.audits.lock().unwrap_or_else(|p| p.into_inner());
        anyhow::ensure!(audits.is_empty(), "axe-core found {} critical or serious violations:\n{}", audits.len(), audits.join("\n"));
        Ok(())
    }

    /// The desktop notifications the studio has shown in its session (dunst's, every one closed
    /// first so that it is in the history), as dunst's JSON history.
    pub fn notifications(&self) -> Result<String> {
        let dunstctl = |arg: &str| -> Result<std::process::Output> {
            let out = Command::new("dunstctl").arg(arg).env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address).output().context("running dunstctl (package dunst)")?;
            anyhow::ensure!(out.status.success(), "dunstctl {arg} failed: {}", String::from_utf8_lossy(&out.stderr));
            Ok(out)
        };
        dunstctl("close-all")?;
        Ok(String::from_utf8_lossy(&dunstctl("history")?.stdout).into_owned())
    }

    /// Looks a password up in the test's keyring, as any Secret Service client would.
    pub fn keyring_lookup(&self, account: &str) -> Result<Option<String>> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", "switchyard-studio", "username", account])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .context("running secret-tool (package libsecret-tools)")?;
        let s = String::from_utf8_lossy(&out.stdout).to_string();
        Ok(if out.status.success() && !s.is_empty() { Some(s) } else { None })
    }

    /// The app's own folders (data and config), where nothing secret may be written.
    pub fn app_dirs(&self) -> Vec<PathBuf> {
        let h = self.home.path();
        vec![h.join("data/dev.switchyard.studio"), h.join("config/dev.switchyard.studio")]
    }

    /// The driver's log, for failure messages.
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("driver.log")).unwrap_or_default()
    }
}

impl Drop for StudioApp {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
        kill_group(&mut self.xvfb);
    }
}

/// The `/proc` folders of the running processes whose name (as the kernel keeps it: 15
/// characters) starts with one of `prefixes`: the benches' way to find the studio's processes.
pub fn processes_named(prefixes: &[&str]) -> Vec<PathBuf> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
            prefixes.iter().any(|prefix| comm.trim().starts_with(prefix))
        })
        .collect()
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    out.push(p);
                }
            }
        }
    }
    out
}
