//! The cluster as the studio draws it: every registered instance's status, tables and
//! cluster_status joined into nodes and data-flow edges (`build`), what petgraph finds in them
//! (`analysis`), and the operations that make, change and remove a link (`link`).

pub mod analysis;
mod view;

pub use view::{ChannelFlow, EdgeChannel, LinkState, NodeKind, TopoEdge, TopoNode, TopoWarning, TopologyView, WarningKind};

use std::collections::{BTreeMap, HashMap};

use switchyard_protocol::ops::{self, ClusterStatus, LinkStatus};
use switchyard_protocol::Channel;

use switchyard_client::OpsClient;

use crate::browse::Browse;
use crate::types::{InstanceKind, InstanceSpec, InstanceStatus};

/// What one registered instance told the studio in one refresh.
#[derive(Debug, Clone)]
pub struct Observed {
    pub spec: InstanceSpec,
    pub status: InstanceStatus,
    /// Its tables as `database:table` (empty when it could not be asked and none were known).
    pub channels: Vec<String>,
    /// `channels` are what it had when it last answered: it is offline now.
    pub channels_last_known: bool,
    /// Its links, or why they could not be read.
    pub cluster: Result<ClusterStatus, String>,
    /// What only a HarperDB instance says of its links.
    pub harperdb: Option<HarperDbLinks>,
}

pub use crate::instance::HarperDbLinks;

/// Looks at one instance: its status, its tables and its links (cluster_status; a HarperDB
/// instance's also from its hdb_nodes).
pub async fn observe(spec: InstanceSpec, client: &OpsClient) -> Observed {
    let status = crate::probe::status(&spec.id, client).await;
    let (mut channels, mut cluster) = (Vec::new(), Err("not asked: the instance does not answer".to_string()));
    let mut harperdb = None;
    if status.online && status.error.is_none() {
        if let Ok(tree) = client.tree().await {
            channels = tree.iter().flat_map(|d| d.tables.iter().map(move |t| format!("{}:{}", d.name, t.name))).collect();
        }
        let instance = crate::instance::Instance::probed(spec.clone(), client, &status);
        match instance.cluster(&channels).await {
            Ok((c, h)) => {
                cluster = Ok(c);
                harperdb = h;
            }
            Err(e) => cluster = Err(e),
        }
    }
    Observed { spec, status, channels, channels_last_known: false, cluster, harperdb }
}

/// The links an instance had when it last answered, now closed: it is down, so none of them
/// carries anything (its positions stay as they were).
pub fn links_of_offline(last: &ClusterStatus, name: &str) -> ClusterStatus {
    let mut c = last.clone();
    for link in &mut c.connections {
        link.state = ops::LinkState::Closed;
        link.latency_ms = None;
        link.last_error = Some(format!("{name} is offline"));
    }
    c
}

fn host_port(url: &str) -> Option<(String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    Some((host, u.port_or_known_default()?))
}

fn loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// Joins what every instance said into nodes and data-flow edges, then analyses them.
pub fn build(observed: &[Observed]) -> TopologyView {
    let mut nodes: Vec<TopoNode> = Vec::new();
    let mut warnings: Vec<TopoWarning> = Vec::new();
    // A peer is known by its node name, or by the address it is dialled at.
    let mut by_node_name: HashMap<String, String> = HashMap::new();
    let mut by_address: HashMap<(String, u16), String> = HashMap::new();
    for o in observed {
        let node_name = o.status.node_name.clone().or_else(|| o.cluster.as_ref().ok().map(|c| c.node_name.clone()));
        if let Some(n) = &node_name {
            by_node_name.insert(n.clone(), o.spec.id.clone());
        }
        if let Some((host, port)) = host_port(&o.spec.url) {
            by_address.insert((if loopback(&host) { "127.0.0.1".into() } else { host }, port), o.spec.id.clone());
        }
        let error = o.status.error.as_ref().map(|e| e.message.clone()).or_else(|| o.cluster.as_ref().ok().and_then(|c| c.read_only.clone()));
        // What its peers have not acknowledged of its log (pulled or pushed), else what its own
        // links have not sent.
        let backlog = o
            .cluster
            .as_ref()
            .map(|c| {
                if c.receivers.is_empty() {
                    c.connections.iter().flat_map(|l| &l.channels).filter(|c| c.publish).map(|c| c.backlog.max(0) as f64).sum()
                } else {
                    c.receivers.iter().map(|r| r.backlog.max(0) as f64).sum()
                }
            })
            .unwrap_or(0.0);
        if !o.status.online {
            warnings.push(TopoWarning {
                kind: WarningKind::Unreachable,
                message: format!("{} does not answer{}", o.spec.name, error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()),
                node: Some(o.spec.id.clone()),
                edge: None,
                channel: None,
            });
        }
        nodes.push(TopoNode {
            id: o.spec.id.clone(),
            name: o.spec.name.clone(),
            node_name,
            kind: match o.spec.kind {
                InstanceKind::Local => NodeKind::Local,
                InstanceKind::Remote => NodeKind::Remote,
            },
            server_kind: o.status.server_kind,
            online: o.status.online,
            version: o.status.version.clone(),
            error,
            channels: o.channels.clone(),
            channels_last_known: o.channels_last_known,
            backlog,
            // HarperDB keeps no log position to tell its write rate from.
            log_head: o.cluster.as_ref().ok().filter(|_| o.harperdb.is_none()).map(|c| c.log_head as f64),
            inbound_lag_ms: None,
            url: None,
        });
    }

    // What each node says of the peers that receive its log, by (node id, peer node name,
    // channel): their backlog and lag in time.
    let mut owed: HashMap<(String, String, String), (i64, f64)> = HashMap::new();
    for o in observed {
        if let Ok(c) = &o.cluster {
            for r in &c.receivers {
                owed.insert((o.spec.id.clone(), r.peer.clone(), r.channel.clone()), (r.backlog, r.lag_ms));
            }
        }
    }
    let mut edges: BTreeMap<(String, String), TopoEdge> = BTreeMap::new();
    // Edges whose state some link that can see it has set (a passive HarperDB link cannot).
    let mut informed: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    for o in observed {
        let Ok(cluster) = &o.cluster else { continue };
        let me = cluster.node_name.clone();
        for stale in o.harperdb.iter().flat_map(|h| &h.stale) {
            warnings.push(TopoWarning {
                kind: WarningKind::StaleLink,
                message: format!(
                    "{} still replicates with {stale}, which is no longer in its hdb_nodes: HarperDB 4.7 keeps a removed link \
                     until its HTTP workers restart (restart_service http_workers)",
                    o.spec.name
                ),
                node: Some(o.spec.id.clone()),
                edge: None,
                channel: None,
            });
        }
        for link in &cluster.connections {
            let mesh = o.harperdb.as_ref().is_some_and(|h| h.mesh.contains(&link.name));
            let passive = o.harperdb.as_ref().is_some_and(|h| h.passive.contains(&link.name));
            let peer = resolve(link, &by_node_name, &by_address).unwrap_or_else(|| ghost(&mut nodes, &mut warnings, &o.spec.name, link));
            let peer_channels = nodes.iter().find(|n| n.id == peer).filter(|n| n.online).map(|n| n.channels.clone());
            if link.refused_by.as_deref() == Some(switchyard_protocol::sc::name::LOGIN) {
                // A link is made on both sides: the dialler's add_node and its account on the
                // dialled node. Refused logins mean the second is missing (or another password).
                warnings.push(TopoWarning {
                    kind: WarningKind::OneSided,
                    message: format!(
                        "{}'s link to {} is configured on {} only: {} refuses its login (no account for it there, or \
                         another password){}",
                        o.spec.name,
                        link.name,
                        o.spec.name,
                        link.name,
                        link.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
                    ),
                    node: Some(o.spec.id.clone()),
                    edge: None,
                    channel: None,
                });
            } else if !passive && LinkState::from(link.state).failing(link.last_error.is_some()) {
                warnings.push(TopoWarning {
                    kind: WarningKind::FailingLink,
                    message: format!(
                        "{}'s link to {} is {}{}",
                        o.spec.name,
                        link.name,
                        LinkState::from(link.state).name(),
                        link.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
                    ),
                    node: Some(o.spec.id.clone()),
                    edge: None,
                    channel: None,
                });
            }
            for sub in &link.subscriptions {
                let channel = sub.channel.to_string();
                let status = link.channels.iter().find(|c| c.channel == channel);
                let error = status.and_then(|c| c.error.clone());
                let mut add = |source: &str, target: &str, position: Option<i64>, backlog: Option<i64>, lag_ms: Option<f64>, carried: u64| {
                    let key = (source.to_string(), target.to_string());
                    // The first report that can see the link's state sets it; later ones can
                    // only make it worse.
                    let first_informed = !passive && informed.insert(key.clone());
                    let edge = edges.entry(key).or_insert_with(|| TopoEdge {
                        id: format!("{source}->{target}"),
                        source: source.to_string(),
                        target: target.to_string(),
                        state: LinkState::from(link.state),
                        since: link.since,
                        latency_ms: link.latency_ms,
                        last_error: link.last_error.clone(),
                        channels: Vec::new(),
                        lag_ms: None,
                        cycle: false,
                        failing: false,
                        mesh: false,
                    });
                    edge.mesh |= mesh;
                    if !passive && (first_informed || LinkState::from(link.state) < edge.state) {
                        edge.state = LinkState::from(link.state);
                        edge.since = link.since;
                        edge.latency_ms = link.latency_ms;
                        edge.last_error = link.last_error.clone();
                    }
                    // Both ends of a HarperDB link report it: each channel is drawn once.
                    if o.harperdb.is_some() && edge.channels.iter().any(|c| c.channel == channel) {
                        return;
                    }
                    edge.channels.push(EdgeChannel {
                        channel: channel.clone(),
                        dialer: o.spec.id.clone(),
                        link_name: link.name.clone(),
                        position: position.map(|p| p as f64),
                        backlog: backlog.map(|b| b as f64),
                        lag_ms,
                        carried: carried as f64,
                        gaps: status.map(|c| c.gaps as f64).unwrap_or(0.0),
                        error: error.clone(),
                    });
                };
                if sub.subscribe {
                    // The source knows what the dialler has not pulled yet (it grows while the
                    // dialler is down): its receivers.
                    let receiver = owed.get(&(peer.clone(), me.clone(), channel.clone())).copied();
                    add(&peer, &o.spec.id, status.and_then(|c| c.last_received), receiver.map(|r| r.0), receiver.map(|r| r.1), status.map(|c| c.entries_received).unwrap_or(0));
                    if let Some(tables) = &peer_channels {
                        if !tables.contains(&channel) {
                            warnings.push(TopoWarning {
                                kind: WarningKind::MissingTable,
                                message: format!("{} subscribes to {channel} from {}, which has no such table", o.spec.name, link.name),
                                node: Some(peer.clone()),
                                edge: Some(format!("{peer}->{}", o.spec.id)),
                                channel: Some(channel.clone()),
                            });
                        }
                    }
                }
                if sub.publish {
                    // What the peer acknowledged (the dialler's receivers) counts what it lacks,
                    // also while the link is down or paused and nothing is being sent.
                    let receiver = owed.get(&(o.spec.id.clone(), link.name.clone(), channel.clone())).copied();
                    let backlog = receiver.map(|r| r.0).or(status.map(|c| c.backlog));
                    add(&o.spec.id, &peer, status.and_then(|c| c.last_sent), backlog, receiver.map(|r| r.1), status.map(|c| c.entries_sent).unwrap_or(0));
                    if !o.channels.is_empty() && !o.channels.contains(&channel) {
                        warnings.push(TopoWarning {
                            kind: WarningKind::MissingTable,
                            message: format!("{} publishes {channel} to {}, but has no such table", o.spec.name, link.name),
                            node: Some(o.spec.id.clone()),
                            edge: Some(format!("{}->{peer}", o.spec.id)),
                            channel: Some(channel.clone()),
                        });
                    }
                }
                if let Some(e) = &error {
                    warnings.push(TopoWarning {
                        kind: WarningKind::RefusedChannel,
                        message: format!("{channel} on {}'s link to {}: {e}", o.spec.name, link.name),
                        node: Some(o.spec.id.clone()),
                        edge: None,
                        channel: Some(channel.clone()),
                    });
                }
            }
        }
    }
    let mut edges: Vec<TopoEdge> = edges.into_values().collect();
    for e in &mut edges {
        e.lag_ms = e.channels.iter().filter_map(|c| c.lag_ms).reduce(f64::max);
        e.failing = e.state.failing(e.last_error.is_some()) || e.channels.iter().any(|c| c.error.is_some());
    }
    for n in &mut nodes {
        n.inbound_lag_ms = edges.iter().filter(|e| e.target == n.id).filter_map(|e| e.lag_ms).reduce(f64::max);
    }
    let flows = analysis::flows(&edges);
    for f in &flows {
        if !f.cycle_edges.is_empty() {
            warnings.push(TopoWarning {
                kind: WarningKind::Cycle,
                message: format!(
                    "{} runs in a cycle over {} edge{} (allowed: each write is applied once per node)",
                    f.channel,
                    f.cycle_edges.len(),
                    if f.cycle_edges.len() == 1 { "" } else { "s" }
                ),
                node: None,
                edge: None,
                channel: Some(f.channel.clone()),
            });
        }
        for e in edges.iter_mut().filter(|e| f.cycle_edges.contains(&e.id)) {
            e.cycle = true;
        }
    }
    TopologyView { nodes, edges, flows, warnings }
}

/// The registered instance a link names: by the node name it expects, else by address.
fn resolve(link: &LinkStatus, by_node_name: &HashMap<String, String>, by_address: &HashMap<(String, u16), String>) -> Option<String> {
    by_node_name.get(&link.name).cloned().or_else(|| {
        let host = if loopback(&link.host) { "127.0.0.1".to_string() } else { link.host.clone() };
        by_address.get(&(host, link.port)).cloned()
    })
}

/// Adds (once) the ghost of a peer that no registered instance is, and answers its id.
fn ghost(nodes: &mut Vec<TopoNode>, warnings: &mut Vec<TopoWarning>, dialer: &str, link: &LinkStatus) -> String {
    let id = format!("ghost:{}", link.name);
    if !nodes.iter().any(|n| n.id == id) {
        let scheme = if link.tls { "https" } else { "http" };
        nodes.push(TopoNode {
            id: id.clone(),
            name: link.name.clone(),
            node_name: Some(link.name.clone()),
            kind: NodeKind::Ghost,
            server_kind: None,
            online: link.state == ops::LinkState::Open,
            version: None,
            error: None,
            channels: Vec::new(),
            channels_last_known: false,
            backlog: 0.0,
            log_head: None,
            inbound_lag_ms: None,
            url: Some(format!("{scheme}://{}:{}", link.host, link.port)),
        });
        warnings.push(TopoWarning {
            kind: WarningKind::Ghost,
            message: format!("{dialer} links to {}, which is not registered here", link.name),
            node: Some(id.clone()),
            edge: None,
            channel: None,
        });
    }
    id
}

/// Every channel named by a link or a table, for the dialog's list.
pub fn known_channels(view: &TopologyView) -> Vec<String> {
    let mut all: Vec<String> = view.nodes.iter().flat_map(|n| n.channels.iter().cloned()).chain(view.edges.iter().flat_map(|e| e.channels.iter().map(|c| c.channel.clone()))).collect();
    all.sort();
    all.dedup();
    all.retain(|c| c.parse::<Channel>().is_ok());
    all
}

/// The node names of the nodes upstream of `node` (an instance id) on `channels`: those whose
/// writes on them reach it. A link it dials to push those channels relays their entries.
pub fn upstream(view: &TopologyView, node: &str, channels: &[String]) -> Vec<String> {
    let mut names: Vec<String> = view
        .flows
        .iter()
        .filter(|f| channels.contains(&f.channel))
        .flat_map(|f| f.reach.iter().filter(|(from, to)| *from != node && to.iter().any(|t| t == node)).map(|(from, _)| from.clone()))
        .filter_map(|id| view.nodes.iter().find(|n| n.id == id).map(|n| n.node_name.clone().unwrap_or_else(|| n.name.clone())))
        .collect();
    names.sort();
    names.dedup();
    names
}
