//! A real HarperDB 4.7 from npm, started per use on loopback ports with its own HOME and
//! ROOTPATH (two instances must never share a HOME). Installed by `make harperdb` into
//! `.cache/harperdb`; `HARPERDB_DIR` may point at another install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_client::{Credentials, OpsClient};

pub struct HarperDb {
    pub url: String,
    pub user: String,
    pub password: String,
    /// This instance's node name (`replication.hostname`).
    pub name: String,
    /// Its replication port (wss).
    pub replication_port: u16,
    child: Option<Child>,
    env: Vec<(String, String)>,
    root: tempfile::TempDir,
}

/// Where the npm package lives, or an error saying how to install it.
pub fn install_dir() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("HARPERDB_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/harperdb"),
    };
    let script = dir.join("node_modules/harperdb/bin/harperdb.js");
    if !script.exists() {
        anyhow::bail!("HarperDB is not installed at {} (run `make harperdb`)", dir.display());
    }
    Ok(dir)
}

impl HarperDb {
    /// Starts an instance named `127.0.0.1` and waits until its Operations API answers.
    pub async fn start() -> anyhow::Result<HarperDb> {
        Self::start_named("127.0.0.1").await
    }

    /// Starts an instance and waits (at most 90 s) until its Operations API answers.
    ///
    /// HarperDB resolves its own node name, and a name that is not in /etc/hosts sends DNS
    /// queries to the (non-loopback) resolver, so only `localhost` and `127.0.0.1` are allowed:
    /// that gives two distinct nodes for replication, both on loopback.
    pub async fn start_named(name: &str) -> anyhow::Result<HarperDb> {
        if name != "localhost" && name != "127.0.0.1" {
            anyhow::bail!("HarperDB node names must resolve without DNS: use 'localhost' or '127.0.0.1', not '{name}'");
        }
        install_dir()?;
        let root = tempfile::tempdir()?;
        let home = root.path().join("home");
        std::fs::create_dir_all(&home)?;
        let [ops, replication_port, http, mqtt, mqtt_secure] = switchyard_testkit::free_ports()?;
        let (user, password) = ("admin".to_string(), "bench-admin-pw".to_string());
        let env: Vec<(String, String)> = [
            ("HOME", home.display().to_string()),
            ("TC_AGREEMENT", "yes".into()),
            ("HDB_ADMIN_USERNAME", user.clone()),
            ("HDB_ADMIN_PASSWORD", password.clone()),
            ("ROOTPATH", root.path().join("hdb").display().to_string()),
            ("OPERATIONSAPI_NETWORK_PORT", ops.to_string()),
            ("HTTP_PORT", http.to_string()),
            ("REPLICATION_HOSTNAME", name.to_string()),
            ("REPLICATION_SECUREPORT", replication_port.to_string()),
            ("MQTT_NETWORK_PORT", mqtt.to_string()),
            ("MQTT_NETWORK_SECUREPORT", mqtt_secure.to_string()),
            ("THREADS_COUNT", "1".into()),
            ("THREADS_DEBUG", "false".into()),
            ("DEFAULTS_MODE", "dev".into()),
            ("LOCALSTUDIO_ENABLED", "false".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut hdb = HarperDb { url: format!("http://127.0.0.1:{ops}"), user, password, name: name.into(), replication_port, child: None, env, root };
        hdb.start_again().await?;
        Ok(hdb)
    }

    /// Starts the (stopped) instance again on the same data and ports; waits until it answers,
    /// on its operations API and on its replication port (which HarperDB opens later, in another
    /// thread: a peer's `add_node` right after the first answer was refused under load).
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        let dir = install_dir()?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.root.path().join("stdout.log"))?;
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("node_modules/harperdb/bin/harperdb.js"))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        self.child = Some(cmd.spawn().map_err(|e| anyhow::anyhow!("cannot run node for HarperDB: {e}"))?);
        let client = self.client()?;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let answers = client.call(&json!({"operation": "registration_info"})).await.is_ok();
            if answers && tokio::net::TcpStream::connect(("127.0.0.1", self.replication_port)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let out = std::fs::read_to_string(self.root.path().join("stdout.log")).unwrap_or_default();
                let port = self.replication_port;
                let what = if answers { format!("its replication port {port} did not open") } else { format!("it did not answer on {}", self.url) };
                anyhow::bail!("HarperDB: {what} within 90 s; it printed:\n{out}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn client(&self) -> anyhow::Result<OpsClient> {
        Ok(OpsClient::new(&self.url, Credentials::basic(&self.user, &self.password))?)
    }

    /// Ends the process group (SIGTERM, then SIGKILL after 10 s); data and ports stay.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // "--" so the negative group id is not read as an option.
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-s", "TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for HarperDb {
    fn drop(&mut self) {
        self.stop();
    }
}
