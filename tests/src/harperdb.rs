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
    child: Child,
    _root: tempfile::TempDir,
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

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl HarperDb {
    /// Starts an instance and waits (at most 90 s) until its Operations API answers.
    ///
    /// Its node name is `127.0.0.1`: HarperDB resolves its own node name, and a name that is not
    /// in /etc/hosts sends DNS queries to the (non-loopback) resolver. Tests stay on loopback.
    pub async fn start() -> anyhow::Result<HarperDb> {
        let dir = install_dir()?;
        let root = tempfile::tempdir()?;
        let home = root.path().join("home");
        std::fs::create_dir_all(&home)?;
        let ops = free_port()?;
        let (user, password) = ("admin".to_string(), "bench-admin-pw".to_string());
        let log = std::fs::File::create(root.path().join("stdout.log"))?;
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("node_modules/harperdb/bin/harperdb.js"))
            .env("HOME", &home)
            .env("TC_AGREEMENT", "yes")
            .env("HDB_ADMIN_USERNAME", &user)
            .env("HDB_ADMIN_PASSWORD", &password)
            .env("ROOTPATH", root.path().join("hdb"))
            .env("OPERATIONSAPI_NETWORK_PORT", ops.to_string())
            .env("HTTP_PORT", free_port()?.to_string())
            .env("REPLICATION_HOSTNAME", "127.0.0.1")
            .env("REPLICATION_SECUREPORT", free_port()?.to_string())
            .env("MQTT_NETWORK_PORT", free_port()?.to_string())
            .env("MQTT_NETWORK_SECUREPORT", free_port()?.to_string())
            .env("THREADS_COUNT", "1")
            .env("THREADS_DEBUG", "false")
            .env("DEFAULTS_MODE", "dev")
            .env("LOCALSTUDIO_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().map_err(|e| anyhow::anyhow!("cannot run node for HarperDB: {e}"))?;
        let url = format!("http://127.0.0.1:{ops}");
        let hdb = HarperDb { url: url.clone(), user, password, child, _root: root };
        let client = hdb.client()?;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if client.call(&json!({"operation": "registration_info"})).await.is_ok() {
                return Ok(hdb);
            }
            if Instant::now() > deadline {
                let out = std::fs::read_to_string(hdb._root.path().join("stdout.log")).unwrap_or_default();
                anyhow::bail!("HarperDB did not answer on {url} within 90 s; it printed:\n{out}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub fn client(&self) -> anyhow::Result<OpsClient> {
        Ok(OpsClient::new(&self.url, Credentials::basic(&self.user, &self.password))?)
    }
}

impl Drop for HarperDb {
    fn drop(&mut self) {
        // HarperDB may fork helpers; end its whole process group ("--" so the negative group id
        // is not read as an option), then make sure of the main process before waiting for it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-s", "TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
