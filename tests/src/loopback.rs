//! A switchyard-node on loopback for the scenario tests: started on 127.0.0.1:0 in a temporary
//! directory with an admin, stopped, and started again on the same port with the same data.

use std::time::Duration;

use anyhow::Result;
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::RunningNode;
use switchyard_protocol::tls::Trust;
use switchyard_studio::links::Party;
use switchyard_studio::{InstanceKind, InstanceSpec};

pub struct LoopbackNode {
    pub name: String,
    pub port: u16,
    password: String,
    dir: tempfile::TempDir,
    running: Option<RunningNode>,
}

impl LoopbackNode {
    /// A node named `name` whose admin (`admin`) has `password`.
    pub async fn start(name: &str, password: &str) -> Result<LoopbackNode> {
        let dir = tempfile::tempdir()?;
        let (running, _) = switchyard_testkit::launch_in(dir.path(), name, 0, |c| c.admin_password = Some(password.into())).await;
        Ok(LoopbackNode { name: name.into(), port: running.addr.port(), password: password.into(), dir, running: Some(running) })
    }

    /// Stops the node (its port closes; its data stays).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Starts the stopped node again, on its port, with its data.
    pub async fn restart(&mut self) -> Result<()> {
        let password = self.password.clone();
        let (running, _) = switchyard_testkit::launch_in(self.dir.path(), &self.name, self.port, |c| c.admin_password = Some(password)).await;
        self.running = Some(running);
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The admin's client, with a 5 s timeout (a stopped node fails fast).
    pub fn client(&self) -> OpsClient {
        OpsClient::with_timeout(self.url(), Credentials::basic("admin", &self.password), Duration::from_secs(5)).expect("a loopback URL is a valid URL")
    }

    /// The node as the studio registers it (id `id-<name>`).
    pub fn spec(&self) -> InstanceSpec {
        InstanceSpec { id: format!("id-{}", self.name), name: self.name.clone(), url: self.url(), username: "admin".into(), kind: InstanceKind::Remote, tls: Trust::System, port: None }
    }

    /// The node as a side of a link plan.
    pub fn party(&self) -> Party {
        Party { id: self.spec().id, name: self.name.clone(), node_name: self.name.clone(), url: self.url(), trust: Trust::System, server_kind: Some(switchyard_client::ServerKind::SwitchyardNode), client: self.client() }
    }
}
