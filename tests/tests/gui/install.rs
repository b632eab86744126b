//! The packages installed as a user installs them: `scripts/package.sh debug` packages the debug
//! build `make test` made (the studio's .deb with the `switchyard` command line, and the node's
//! .deb with its systemd unit), `dpkg -i` installs them (these machines run as root; anything in
//! the way fails the test, nothing is skipped), the studio started from its desktop entry under
//! Xvfb shows its window and writes its log file, a second launch focuses the first and exits,
//! the node starts as its unit says (with systemd, or its ExecStartPre and ExecStart lines where
//! there is none) and answers the installed command line, and `dpkg --purge` leaves nothing but
//! the node's data. (The AppImage is not built here: the bundler fetches its tools from
//! github.com.)

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use switchyard_e2e::studio::{kill_group, need, window_turn, workspace, Desktop};
use switchyard_testkit::until;
use tokio::io::{AsyncBufReadExt, BufReader};

const PACKAGES: [&str; 2] = ["switchyard", "switchyard-node"];
const DATA: &str = "/var/lib/switchyard";
/// Marks the data folder as this test's, so that only this test's data is ever deleted.
const MARK: &str = ".switchyard-install-test";
const UNIT: &str = "/lib/systemd/system/switchyard-node.service";
const SECRET: &str = "/etc/switchyard/admin-password";

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(out.status.success(), "{cmd:?} failed: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query").args(["-W", "-f=${Status}", package]).output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Purges what the test installed, and the data it made, also when it fails half-way.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").arg("--purge").args(PACKAGES).output();
        if Path::new(DATA).join(MARK).exists() {
            let _ = std::fs::remove_dir_all(DATA);
        }
    }
}

/// The value of `key=` lines of a unit or desktop file.
fn values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines().filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('='))).collect()
}

/// Top-level windows named `Switchyard` on `display`.
fn windows(display: &str) -> Result<usize> {
    let tree = run(Command::new("xwininfo").args(["-root", "-children", "-display", display]))?;
    Ok(tree.lines().filter(|l| l.contains("\"Switchyard\"")).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packages_install_run_and_purge_leaving_only_the_data() -> Result<()> {
    // The whole test takes a window's turn: packaging and installing keep both cores busy, which
    // slowed another studio test's HarperDB past its waits when they overlapped.
    let _turn = window_turn().await;
    ensure!(run(Command::new("id").arg("-u"))?.trim() == "0", "the install test installs packages with dpkg: run it as root");
    for p in PACKAGES {
        ensure!(!installed(p), "the package {p} is installed on this machine; this test would replace it: remove it first (dpkg --purge {p})");
    }
    if Path::new(DATA).exists() {
        ensure!(Path::new(DATA).join(MARK).exists(), "{DATA} exists and is not this test's: move it away before running the install test");
        std::fs::remove_dir_all(DATA)?;
    }
    for tool in ["dpkg", "xwininfo", "setpriv", "dbus-run-session", "Xvfb"] {
        need(tool)?;
    }
    let dir = tempfile::tempdir()?;
    let packages = dir.path().join("packages");
    run(Command::new(workspace().join("scripts/package.sh")).arg("debug").arg(&packages))?;
    let debs: Vec<_> = std::fs::read_dir(&packages)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "deb")).collect();
    ensure!(debs.len() == 2, "two packages: {debs:?}");
    let _purge = Purge;
    run(Command::new("dpkg").arg("-i").args(&debs))?;
    std::fs::write(Path::new(DATA).join(MARK), "")?;
    for f in ["/usr/bin/switchyard-studio", "/usr/bin/switchyard", "/usr/bin/switchyard-node", "/usr/share/applications/Switchyard.desktop", UNIT, "/etc/switchyard/node.toml", "/usr/lib/switchyard/first-start"] {
        ensure!(Path::new(f).exists(), "{f} is installed");
    }
    let version = run(Command::new("/usr/bin/switchyard").arg("--version"))?;
    ensure!(version.starts_with("switchyard "), "{version}");

    studio_from_its_desktop_entry(dir.path()).await.context("the installed studio")?;
    node_as_its_unit_says(dir.path()).await.context("the installed node")?;

    run(Command::new("dpkg").arg("--purge").args(PACKAGES))?;
    for f in ["/usr/bin/switchyard-studio", "/usr/bin/switchyard", "/usr/bin/switchyard-node", "/usr/share/applications/Switchyard.desktop", UNIT, "/usr/lib/switchyard", "/etc/switchyard"] {
        ensure!(!Path::new(f).exists(), "{f} is left after the purge");
    }
    let data: Vec<_> = std::fs::read_dir(DATA).context("the node's data is kept")?.filter_map(|e| e.ok()).map(|e| e.file_name()).filter(|n| n != MARK).collect();
    ensure!(!data.is_empty(), "the node's data is kept in {DATA}");
    Ok(())
}

/// Started as the desktop entry says, under Xvfb in its own D-Bus session: its window appears,
/// its log file is written, and a second launch exits after handing over to the first.
async fn studio_from_its_desktop_entry(dir: &Path) -> Result<()> {
    let entry = std::fs::read_to_string("/usr/share/applications/Switchyard.desktop")?;
    let exec: Vec<String> = values(&entry, "Exec").first().context("the desktop entry's Exec")?.split_whitespace().filter(|w| !w.starts_with('%')).map(str::to_string).collect();
    ensure!(exec.first().is_some_and(|e| e == "switchyard-studio" || e == "/usr/bin/switchyard-studio"), "Exec={exec:?}");
    let desktop = Desktop::start("switchyard-install-")?;
    let (home, display) = (desktop.home.path(), desktop.display.clone());
    let bus_file = dir.join("bus");
    let env = |c: &mut Command| {
        desktop.env(c).env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    };
    let mut first = Command::new("dbus-run-session");
    first.args(["--", "bash", "-c", "printf %s \"$DBUS_SESSION_BUS_ADDRESS\" > \"$0\"; exec \"$@\""]).arg(&bus_file).args(&exec).env_remove("DBUS_SESSION_BUS_ADDRESS").stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    env(&mut first);
    let first = std::cell::RefCell::new(first.spawn()?);
    let outcome = async {
        until("a Switchyard window", Duration::from_secs(60), Duration::from_millis(250), async || {
            ensure!(first.borrow_mut().try_wait()?.is_none(), "the studio exited: {:?}", first.borrow_mut().try_wait()?);
            Ok(Some(windows(&display)?).filter(|n| *n > 0))
        })
        .await?;
        let shown = windows(&display)?;
        let logs = home.join("data/dev.switchyard.studio/logs");
        let log = || -> String {
            std::fs::read_dir(&logs).into_iter().flatten().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("switchyard-studio")).map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect()
        };
        let logged = async |line: &str| {
            until(format!("'{line}' in the log"), Duration::from_secs(10), Duration::from_millis(100), async || Ok::<_, anyhow::Error>(log().contains(line).then_some(())))
                .await
                .with_context(|| format!("the log files in {}: {:?}", logs.display(), log()))
        };
        // The window can be up a moment before the first line is written.
        logged("Switchyard studio started").await?;

        // A second launch in the same session: exits (0) once the first has its arguments.
        let bus = std::fs::read_to_string(&bus_file)?;
        let mut second = Command::new(&exec[0]);
        second.args(&exec[1..]).env("DBUS_SESSION_BUS_ADDRESS", bus.trim()).stdout(Stdio::null()).stderr(Stdio::null());
        env(&mut second);
        let second = std::cell::RefCell::new(second.spawn()?);
        let status = until("a second launch to exit", Duration::from_secs(30), Duration::from_millis(100), async || Ok::<_, anyhow::Error>(second.borrow_mut().try_wait()?)).await;
        let status = status.inspect_err(|_| {
            let _ = second.borrow_mut().kill();
        })?;
        ensure!(status.success(), "the second launch: {status:?}");
        ensure!(windows(&display)? == shown, "still one studio window");
        logged("a second launch was turned into focusing this window").await.context("the first studio was not told of the second launch")?;
        Ok(())
    }
    .await;
    kill_group(&mut first.borrow_mut());
    outcome
}

/// Started as its unit says: by systemd where it runs (the package enabled it), else the
/// unit's ExecStartPre (as root) then ExecStart as its user with the unit's environment.
/// Answers the installed `switchyard` with the generated password, kept root-only.
async fn node_as_its_unit_says(dir: &Path) -> Result<()> {
    let unit = std::fs::read_to_string(UNIT)?;
    let mut node = None;
    let (url, said) = if Path::new("/run/systemd/system").exists() {
        let status = run(Command::new("systemctl").args(["status", "--no-pager", "-l", "switchyard-node"]))?;
        ("http://127.0.0.1:9925".to_string(), status)
    } else {
        let pre = values(&unit, "ExecStartPre").first().context("ExecStartPre")?.strip_prefix('+').context("ExecStartPre runs as root (+)")?.to_string();
        let said = run(Command::new(&pre).env("RUNTIME_DIRECTORY", "/run/switchyard"))?;
        let user = *values(&unit, "User").first().context("User")?;
        let start: Vec<&str> = values(&unit, "ExecStart").first().context("ExecStart")?.split_whitespace().collect();
        let mut c = tokio::process::Command::new("setpriv");
        c.args(["--reuid", user, "--regid", user, "--init-groups", "--"]).args(&start).current_dir("/").stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for kv in values(&unit, "Environment") {
            let (k, v) = kv.split_once('=').context("Environment=K=V")?;
            c.env(k, v);
        }
        // Port 0: the file's 9925 may be taken on this machine.
        c.env("SWITCHYARD_PORT", "0");
        let mut child = c.spawn()?;
        let mut errors = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(l) = lines.next_line().await? {
                if let Some(u) = l.split("listening on ").nth(1) {
                    return Ok::<_, anyhow::Error>(u.trim().to_string());
                }
            }
            let mut why = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut errors, &mut why).await?;
            bail!("switchyard-node ended before listening: {why}")
        })
        .await
        .context("switchyard-node listening within 30 s")??;
        node = Some((child, lines, errors));
        (url, said)
    };
    ensure!(said.contains(SECRET), "where the password is, said on start: {said}");
    let meta = std::fs::metadata(SECRET)?;
    ensure!(std::os::unix::fs::MetadataExt::uid(&meta) == 0 && std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777 == 0o600, "{SECRET} is root's alone: {meta:?}");
    let password = std::fs::read_to_string(SECRET)?;
    let registry = dir.join("instances.json");
    std::fs::write(&registry, serde_json::json!([{"id": "svc", "name": "svc", "url": url, "username": "admin", "kind": "remote"}]).to_string())?;
    let cli = |args: &[&str]| run(Command::new("/usr/bin/switchyard").arg("--registry").arg(&registry).args(args).env("SWITCHYARD_PASSWORD_SVC", password.trim()));
    let tested = cli(&["instances", "test", "svc"])?;
    ensure!(tested.starts_with("svc\tonline"), "{tested}");
    // The pipes stay open until the node has stopped (it writes a last line).
    if let Some((mut child, _lines, _errors)) = node {
        let pid = child.id().context("the node's pid")?;
        run(Command::new("kill").args(["-TERM", &pid.to_string()]))?;
        let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await.context("the node stops on SIGTERM")??;
        ensure!(status.success(), "the node stopped: {status:?}");
    }
    Ok(())
}
