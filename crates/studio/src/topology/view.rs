//! The Cluster view's shapes as the window receives them (exported to TypeScript): nodes,
//! data-flow edges with their channels, the flows per channel, warnings, and the closed sets
//! they are drawn from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_client::ServerKind;
use switchyard_protocol::ops;
use ts_rs::TS;

/// What a node of the canvas is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A switchyard-node the studio runs.
    Local,
    /// A registered instance reached by URL.
    Remote,
    /// A peer some node links to that is not registered.
    Ghost,
}

/// An edge's state: the worst of its links'. Ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    Closed,
    /// Paused by its operator: configured, carrying nothing until resumed.
    Paused,
    Connecting,
    Open,
}

impl LinkState {
    /// As the user reads it.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Closed => "closed",
            LinkState::Paused => "paused",
            LinkState::Connecting => "connecting",
            LinkState::Open => "open",
        }
    }

    /// Whether a link in this state is failing, `erring` if it reports an error: closed, or
    /// reporting one. Paused is the operator's choice; a first attempt (connecting, no error
    /// yet: just made, or its node just started) is on its way. A link whose attempts fail
    /// carries their error.
    pub fn failing(self, erring: bool) -> bool {
        match self {
            LinkState::Paused => false,
            LinkState::Closed => true,
            LinkState::Connecting | LinkState::Open => erring,
        }
    }
}

impl From<ops::LinkState> for LinkState {
    fn from(s: ops::LinkState) -> LinkState {
        match s {
            ops::LinkState::Open => LinkState::Open,
            ops::LinkState::Connecting => LinkState::Connecting,
            ops::LinkState::Closed => LinkState::Closed,
            ops::LinkState::Paused => LinkState::Paused,
        }
    }
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A channel's table is missing on a side that should have it.
    MissingTable,
    /// A link that is not open, or reports an error.
    FailingLink,
    /// A link only one side knows of.
    OneSided,
    /// A channel the peer refuses.
    RefusedChannel,
    /// A peer that is not registered.
    Ghost,
    /// A registered instance that does not answer.
    Unreachable,
    /// A channel that runs in a cycle.
    Cycle,
    /// A link to a node that no longer answers for its name.
    StaleLink,
}

/// A node of the canvas: a registered instance, or a peer named in some cluster_status that is
/// not registered (a ghost, registrable in one click).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopoNode {
    /// The instance id, or `ghost:<node name>`.
    pub id: String,
    /// The registry's name (the ghost's node name): what `topo-node-<name>` carries.
    pub name: String,
    /// The node's own name (the one peers use in add_node).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    pub kind: NodeKind,
    /// The server, when it answered.
    #[ts(optional, type = "ServerKind")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_kind: Option<ServerKind>,
    pub online: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why it could not be asked, or why it refuses writes.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its tables, `database:table`.
    pub channels: Vec<String>,
    /// The tables are those it had when it last answered (it is offline).
    pub channels_last_known: bool,
    /// Entries of its own log its peers have not acknowledged (or, before any did, not yet sent
    /// by the links it dials).
    pub backlog: f64,
    /// The last transaction of its log (any channel), when it said: successive views give its
    /// write rate.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_head: Option<f64>,
    /// The worst lag in time of the edges into it (ms), when any of them reports one.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_lag_ms: Option<f64>,
    /// Where a ghost was dialled (`http://host:port`), to register it.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
impl TopoNode {
    /// A local node `id` named `name`, online, with nothing else said (for tests of what is
    /// built on views).
    pub(crate) fn plain(id: &str, name: &str) -> TopoNode {
        TopoNode {
            id: id.into(),
            name: name.into(),
            node_name: None,
            kind: NodeKind::Local,
            server_kind: None,
            online: true,
            version: None,
            error: None,
            channels: vec![],
            channels_last_known: false,
            backlog: 0.0,
            log_head: None,
            inbound_lag_ms: None,
            url: None,
        }
    }
}

/// One channel on an edge, with the link that carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EdgeChannel {
    pub channel: String,
    /// The node running the link (add_node was sent to it), and the name it gave the peer.
    pub dialer: String,
    pub link_name: String,
    /// The source's log position this channel has carried up to (sent by the dialer, or
    /// applied from the peer): successive refreshes give the rate.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<f64>,
    /// Entries on the source not yet sent (known when the dialer is the source).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<f64>,
    /// How far behind the target is on this channel, in ms (the source's receivers: the age of
    /// the oldest entry it lacks; 0 when caught up). None when the source does not report it
    /// (HarperDB).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<f64>,
    /// Entries this channel carried on the link since the dialler started it: successive
    /// refreshes give messages per second.
    pub carried: f64,
    pub gaps: f64,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The data flow from `source` to `target` (one edge per direction), over one or more links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopoEdge {
    /// `<source id>-><target id>`.
    pub id: String,
    pub source: String,
    pub target: String,
    /// The worst of its links' states.
    pub state: LinkState,
    /// Since when (ms since the epoch) the link is in its state.
    pub since: f64,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub channels: Vec<EdgeChannel>,
    /// The worst lag in time of its channels (ms), when any reports one.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<f64>,
    /// Whether some channel on it runs in a cycle (allowed; marked).
    pub cycle: bool,
    /// Failing (see `LinkState::failing`), or some channel on it reports an error: drawn so.
    pub failing: bool,
    /// It replicates whole databases both ways (HarperDB's default full mesh): its channels
    /// are every table of those databases, now and later.
    pub mesh: bool,
}

/// Something the user should know about the topology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopoWarning {
    pub kind: WarningKind,
    pub message: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// Where one channel's data goes: the edges carrying it, and from each node the nodes its
/// writes on that channel reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChannelFlow {
    pub channel: String,
    pub edges: Vec<String>,
    pub reach: BTreeMap<String, Vec<String>>,
    /// Edges that lie on a cycle of this channel.
    pub cycle_edges: Vec<String>,
}

/// The canvas's model, refreshed about once a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyView {
    pub nodes: Vec<TopoNode>,
    pub edges: Vec<TopoEdge>,
    pub flows: Vec<ChannelFlow>,
    pub warnings: Vec<TopoWarning>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_on_its_first_attempt_is_on_its_way_and_one_whose_attempts_fail_is_failing() {
        use LinkState::*;
        assert!(!Connecting.failing(false), "just made: connecting, nothing failed yet");
        assert!(Connecting.failing(true), "connecting again after a failure");
        assert!(Closed.failing(true) && Closed.failing(false));
        assert!(!Open.failing(false));
        assert!(Open.failing(true), "open, but reporting an error");
        assert!(!Paused.failing(true), "paused is the operator's choice");
    }
}
