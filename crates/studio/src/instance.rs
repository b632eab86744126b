//! One registered instance as a feature works with it, its server kind decided once, when it is
//! opened: what differs between a switchyard-node and a HarperDB (its node name, its links as
//! cluster_status, its live tail, how Verify compares it, exporting its tables for a tail) is
//! answered here, so no feature asks which kind it holds.

use switchyard_client::{OpsClient, ServerKind};
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::ops::{AddNode, ClusterStatus, Message};
use switchyard_protocol::Operation;

use crate::error::{Error, Result};
use crate::links::{LinkRequest, Party, Plan};
use crate::registry::Registry;
use crate::tail::{Tail, TailRequest};
use crate::types::{InstanceSpec, InstanceStatus};
use crate::words::now_ms;

/// Of a HarperDB instance's links: those that replicate whole databases both ways (its default
/// full mesh), and those still running although removed from hdb_nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HarperDbLinks {
    pub mesh: Vec<String>,
    pub stale: Vec<String>,
    /// Links whose state only the peer can tell (it opens their sockets).
    pub passive: Vec<String>,
}

/// A registered instance and a client to it, of a known server kind.
pub struct Instance {
    pub spec: InstanceSpec,
    pub client: OpsClient,
    kind: ServerKind,
}

impl Instance {
    /// The instance as a status probe found it (a server that did not say its kind is taken
    /// for a switchyard-node, whose answers are checked as such).
    pub fn probed(spec: InstanceSpec, client: &OpsClient, status: &InstanceStatus) -> Instance {
        let kind = status.server_kind.unwrap_or(ServerKind::SwitchyardNode);
        Instance { spec, client: client.clone().with_kind(kind), kind }
    }

    /// Instance `id`, probed now; refused, with the reason, when it does not answer.
    pub async fn online(registry: &Registry, id: &str) -> Result<(Instance, InstanceStatus)> {
        let spec = registry.get(id)?;
        let status = registry.status(id).await?;
        if !status.online {
            let why = status.error.clone().map(|e| e.message).unwrap_or_else(|| "it does not answer".into());
            return Err(Error::Invalid(format!("{} cannot be reached: {why}", spec.name)));
        }
        let client = registry.client(id)?;
        Ok((Instance::probed(spec, &client, &status), status))
    }

    /// Instance `id` as its last status probe told its kind (not asked again: a tail opens at once).
    pub fn last_known(registry: &Registry, id: &str) -> Result<Instance> {
        let client = registry.client(id)?;
        let kind = client.kind().unwrap_or(ServerKind::SwitchyardNode);
        Ok(Instance { spec: registry.get(id)?, client, kind })
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// It keeps table digests (Verify compares them; otherwise it reads every record).
    pub fn keeps_digests(&self) -> bool {
        self.kind == ServerKind::SwitchyardNode
    }

    /// The name its peers know it by: said by its status, or (HarperDB) by its cluster_status.
    pub async fn node_name(&self, status: &InstanceStatus) -> Result<String> {
        match (&status.node_name, self.kind) {
            (Some(n), _) => Ok(n.clone()),
            (None, ServerKind::HarperDb) => Ok(self.client.harperdb_cluster().await?.status.node_name),
            (None, ServerKind::SwitchyardNode) => Err(Error::Invalid(format!("{} did not say its node name", self.spec.name))),
        }
    }

    /// Its links as cluster_status says them (a HarperDB's read from its own shapes, with what
    /// only it says of them), or why they could not be read.
    pub async fn cluster(&self, channels: &[String]) -> std::result::Result<(ClusterStatus, Option<HarperDbLinks>), String> {
        match self.kind {
            ServerKind::HarperDb => {
                let c = self.client.harperdb_cluster().await.map_err(|e| e.to_string())?;
                let links = c.links(channels, now_ms()).map_err(|e| format!("{} answered a cluster_status the studio cannot read: {e}", self.spec.name))?;
                Ok((links.status, Some(HarperDbLinks { mesh: links.mesh, stale: links.stale, passive: links.passive })))
            }
            ServerKind::SwitchyardNode => self.client.run_as(&Operation::ClusterStatus(NoFields {})).await.map(|c| (c, None)).map_err(|e| e.to_string()),
        }
    }

    /// A running tail of its channels, and the operations its records can carry: a HarperDB's
    /// over MQTT, a node's over SocketCluster.
    pub fn tail(&self, registry: &Registry, request: TailRequest) -> Result<(Tail, &'static [&'static str])> {
        let (ops, endpoint, credentials) = registry.tail_access(&self.spec.id)?;
        match self.kind {
            ServerKind::HarperDb => Ok((crate::harperdb::tail::start(ops.with_kind(ServerKind::HarperDb), credentials, request)?, crate::harperdb::tail::OPERATIONS)),
            ServerKind::SwitchyardNode => Ok((Tail::start(ops, endpoint, credentials, request)?, crate::tail::OPERATIONS)),
        }
    }

    /// Pauses (or resumes) a link it dials, keeping the link's channels: an outage on purpose,
    /// its backlog kept and sent on resume. A HarperDB cannot pause a link.
    pub async fn pause_link(&self, link_name: &str, paused: bool) -> Result<()> {
        if self.kind == ServerKind::HarperDb {
            return Err(Error::Invalid(format!("{} is a HarperDB instance: HarperDB links cannot be paused (remove the link instead)", self.spec.name)));
        }
        let status: ClusterStatus = self.client.run_as(&Operation::ClusterStatus(NoFields {})).await?;
        let link = status
            .connections
            .into_iter()
            .find(|l| l.name == link_name)
            .ok_or_else(|| Error::Invalid(format!("{} has no link to {link_name}", self.spec.name)))?;
        let update = AddNode { name: link.name, host: None, port: None, subscriptions: link.subscriptions, authorization: None, tls: None, paused: Some(paused) };
        self.client.run_as::<Message>(&Operation::UpdateNode(update)).await?;
        Ok(())
    }

    /// Has it publish these tables for a tail: a HarperDB publishes only what a component
    /// exports; a node publishes every table already.
    pub async fn export_tables(&self, channels: &[String]) -> Result<String> {
        match self.kind {
            ServerKind::HarperDb => crate::harperdb::tail::export_tables(&self.client, channels).await,
            ServerKind::SwitchyardNode => Err(Error::Invalid("only a HarperDB instance needs its tables exported to be tailed".into())),
        }
    }
}

/// The plan of the link the dialog describes, in the operations of the parties' kind: a link
/// between switchyard-nodes (least-privilege user and role), or between HarperDB instances
/// (HarperDB's add_node); the two kinds do not replicate with each other.
pub async fn plan_link(req: &LinkRequest, a: Party, b: Party) -> Result<Plan> {
    let harperdb = |p: &Party| p.server_kind == Some(ServerKind::HarperDb);
    match (harperdb(&a), harperdb(&b)) {
        (false, false) => crate::links::plan_link(req, a, b).await,
        (true, true) => {
            if a.id == b.id {
                return Err(Error::Invalid("a link needs two different instances".into()));
            }
            let subs = crate::links::subscriptions(req)?;
            // parties[0] dials, parties[1] is dialled.
            let parties = if req.b_dials { vec![b, a] } else { vec![a, b] };
            crate::harperdb::links::plan_link(parties, subs).await
        }
        (true, false) | (false, true) => {
            let (h, n) = if harperdb(&a) { (&a, &b) } else { (&b, &a) };
            Err(Error::Invalid(format!("{} is a HarperDB instance and {} a switchyard-node: HarperDB replicates only with HarperDB", h.name, n.name)))
        }
    }
}

/// The plan that removes the link `dialer` runs to `link_name`, in the operations of its kind
/// (a node's also drops the user and role the studio made for it on `dialled`).
pub async fn plan_unlink(dialer: Party, link_name: &str, dialled: Option<Party>) -> Result<Plan> {
    match dialer.server_kind {
        Some(ServerKind::HarperDb) => crate::harperdb::links::plan_unlink(dialer, link_name).await,
        _ => crate::links::plan_unlink(dialer, link_name, dialled).await,
    }
}
