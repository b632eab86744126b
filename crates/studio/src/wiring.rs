//! Wiring as code: a cluster's links as one versioned TOML file (nodes by name and URL, who
//! dials whom, per link its channels and the way each flows), read from the live cluster,
//! compared with it, and made true through the same link plans the canvas sends. No secret is
//! ever written: a node's credentials are named (its registry entry, whose password stays in the
//! keychain, or an environment variable).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use switchyard_client::ServerKind;
use switchyard_protocol::ops::ClusterStatus;
use switchyard_protocol::Channel;

use crate::error::{Error, Result};
use crate::links::{ApplyReport, Direction, LinkChannel, LinkPlan, LinkRequest, Party, Plan};
use ts_rs::TS;

/// A wiring file as written, and what it leaves out (instances that did not answer, links to
/// nodes that are not registered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WiringExport {
    pub text: String,
    pub left_out: Vec<String>,
}

/// A wiring file's plan as the window shows it: the changes in words (`+`, `~`, `-`), each
/// link's requests (passwords masked), and what the live view left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WiringPreview {
    pub id: String,
    pub changes: Vec<String>,
    pub plans: Vec<LinkPlan>,
    pub left_out: Vec<String>,
}

/// How the live cluster differs from an attached wiring file, link by link (dialler → dialled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub dialer: String,
    pub to: String,
    pub kind: DriftKind,
    /// The change that would make the cluster as the file says (`+`, `~`, `-`).
    pub words: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum DriftKind {
    /// In the file, not live.
    Missing,
    /// Live with other channels than the file's.
    Changed,
    /// Live, not in the file.
    Extra,
}

/// The drift of the live cluster from `wanted`.
pub fn drift(wanted: &Wiring, live: &Wiring) -> Vec<Drift> {
    diff(wanted, live)
        .into_iter()
        .map(|c| {
            let words = c.words();
            let (l, kind) = match c {
                Change::Add(l) => (l, DriftKind::Missing),
                Change::Change { wanted, .. } => (wanted, DriftKind::Changed),
                Change::Remove(l) => (l, DriftKind::Extra),
            };
            Drift { dialer: l.dialer, to: l.to, kind, words }
        })
        .collect()
}

/// The file's format; a file of another version is refused, not guessed at.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wiring {
    pub version: u32,
    #[serde(default, rename = "node")]
    pub nodes: Vec<WiredNode>,
    #[serde(default, rename = "link")]
    pub links: Vec<WiredLink>,
}

/// A node of the cluster, by the name it is registered under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WiredNode {
    pub name: String,
    pub url: String,
    pub kind: ServerKind,
    pub credentials: Credentials,
}

/// Where a node's credentials come from; never the password itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Credentials {
    /// The registry entry of that name (its password in the keychain).
    Registry { registry: String },
    /// A user name, and the environment variable that holds the password (for CI).
    Env { username: String, password_env: String },
}

/// One link: `dialer` runs it to `to` and carries `channels`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WiredLink {
    pub dialer: String,
    pub to: String,
    pub channels: Vec<WiredChannel>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WiredChannel {
    pub channel: String,
    pub flow: Flow,
}

/// The way a channel flows, from the dialler's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// From the dialler to the node it dials.
    Push,
    /// From the dialled node to the dialler.
    Pull,
    Both,
}

impl Wiring {
    /// Reads a wiring file: its version, its names unique, its links between its nodes, its
    /// channels `database:table`. Anything else is refused with where and why.
    pub fn parse(text: &str) -> Result<Wiring> {
        let w: Wiring = toml::from_str(text).map_err(|e| Error::Invalid(format!("not a wiring file: {e}")))?;
        if w.version != VERSION {
            return Err(Error::Invalid(format!("wiring version {} is not one this studio reads (it reads {VERSION})", w.version)));
        }
        let mut names = BTreeSet::new();
        for n in &w.nodes {
            if !names.insert(n.name.as_str()) {
                return Err(Error::Invalid(format!("node '{}' is named twice", n.name)));
            }
        }
        let mut pairs = BTreeSet::new();
        for l in &w.links {
            for end in [&l.dialer, &l.to] {
                if !names.contains(end.as_str()) {
                    return Err(Error::Invalid(format!("the link {} → {} names '{end}', which is not a node of the file", l.dialer, l.to)));
                }
            }
            if l.dialer == l.to {
                return Err(Error::Invalid(format!("the link {} → {} links a node to itself", l.dialer, l.to)));
            }
            if !pairs.insert((l.dialer.as_str(), l.to.as_str())) {
                return Err(Error::Invalid(format!("the link {} → {} is written twice", l.dialer, l.to)));
            }
            if l.channels.is_empty() {
                return Err(Error::Invalid(format!("the link {} → {} carries no channel", l.dialer, l.to)));
            }
            for c in &l.channels {
                c.channel.parse::<Channel>().map_err(|e| Error::Invalid(format!("the link {} → {}: {e}", l.dialer, l.to)))?;
            }
        }
        Ok(w)
    }

    /// The same wiring with nodes, links and channels in a stable order (what compares and
    /// exports: an unchanged cluster exports the same bytes).
    fn sorted(mut self) -> Wiring {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        for l in &mut self.links {
            l.channels.sort();
        }
        self.links.sort();
        self
    }

    /// The file's text, in the stable order.
    pub fn to_toml(&self) -> Result<String> {
        let w = self.clone().sorted();
        let body = toml::to_string(&w).map_err(|e| Error::Store(format!("the wiring could not be written: {e}")))?;
        Ok(format!("# Switchyard wiring: the cluster's links (no passwords; see `credentials`).\n{body}"))
    }

    /// The wiring of the live cluster: each node as registered (`InstanceSpec`), its node name and
    /// its cluster_status. A link to a node that is not among them is left out and said.
    pub fn live(nodes: &[(crate::InstanceSpec, String, ClusterStatus, ServerKind)]) -> (Wiring, Vec<String>) {
        let by_node_name: BTreeMap<&str, &str> = nodes.iter().map(|(spec, node_name, ..)| (node_name.as_str(), spec.name.as_str())).collect();
        let mut unknown = Vec::new();
        let mut links = Vec::new();
        for (spec, _, status, _) in nodes {
            for link in &status.connections {
                let Some(to) = by_node_name.get(link.name.as_str()) else {
                    unknown.push(format!("{} links to '{}', which is not registered", spec.name, link.name));
                    continue;
                };
                let channels = link
                    .subscriptions
                    .iter()
                    .map(|s| WiredChannel {
                        channel: s.channel.to_string(),
                        flow: match (s.publish, s.subscribe) {
                            (true, true) => Flow::Both,
                            (true, false) => Flow::Push,
                            (false, _) => Flow::Pull,
                        },
                    })
                    .collect();
                links.push(WiredLink { dialer: spec.name.clone(), to: to.to_string(), channels });
            }
        }
        let nodes = nodes
            .iter()
            .map(|(spec, _, _, kind)| WiredNode { name: spec.name.clone(), url: spec.url.clone(), kind: *kind, credentials: Credentials::Registry { registry: spec.name.clone() } })
            .collect();
        (Wiring { version: VERSION, nodes, links }.sorted(), unknown)
    }
}

/// The live wiring of `instances` (each with a client): those that answer, each also as a
/// party for planning; what was left out, and why.
pub async fn live_of(instances: Vec<(crate::InstanceSpec, switchyard_client::OpsClient)>) -> Result<(Wiring, BTreeMap<String, Party>, Vec<String>)> {
    let mut seen = Vec::new();
    let mut parties = BTreeMap::new();
    let mut left_out = Vec::new();
    for (spec, client) in instances {
        let status = crate::probe::status(&spec.id, &client).await;
        if !status.online {
            left_out.push(format!("{}: {}", spec.name, status.error.map(|e| e.message).unwrap_or_else(|| "it does not answer".into())));
            continue;
        }
        let instance = crate::instance::Instance::probed(spec, &client, &status);
        let node_name = instance.node_name(&status).await?;
        let kind = instance.kind();
        let (cluster, _) = instance.cluster(&[]).await.map_err(Error::Invalid)?;
        let crate::instance::Instance { spec, client, .. } = instance;
        parties.insert(spec.name.clone(), Party { id: spec.id.clone(), name: spec.name.clone(), node_name: node_name.clone(), url: spec.url.clone(), trust: spec.tls.clone(), server_kind: Some(kind), client });
        seen.push((spec, node_name, cluster, kind));
    }
    let (wiring, unknown) = Wiring::live(&seen);
    left_out.extend(unknown);
    Ok((wiring, parties, left_out))
}

/// One difference between a file and the live cluster, as the plan lists it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Add(WiredLink),
    Change { live: WiredLink, wanted: WiredLink },
    Remove(WiredLink),
}

impl Change {
    pub fn words(&self) -> String {
        let chans = |l: &WiredLink| l.channels.iter().map(|c| format!("{} ({})", c.channel, serde_json::to_value(c.flow).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())).collect::<Vec<_>>().join(", ");
        match self {
            Change::Add(l) => format!("+ {} → {}: {}", l.dialer, l.to, chans(l)),
            Change::Change { live, wanted } => format!("~ {} → {}: {} (now {})", wanted.dialer, wanted.to, chans(wanted), chans(live)),
            Change::Remove(l) => format!("- {} → {}: {}", l.dialer, l.to, chans(l)),
        }
    }
}

/// What differs between the file and the live cluster, link by link (added, changed, removed).
pub fn diff(wanted: &Wiring, live: &Wiring) -> Vec<Change> {
    let (wanted, live) = (wanted.clone().sorted(), live.clone().sorted());
    let key = |l: &WiredLink| (l.dialer.clone(), l.to.clone());
    let live_links: BTreeMap<_, _> = live.links.iter().map(|l| (key(l), l)).collect();
    let wanted_links: BTreeMap<_, _> = wanted.links.iter().map(|l| (key(l), l)).collect();
    let mut changes = Vec::new();
    for (k, w) in &wanted_links {
        match live_links.get(k) {
            None => changes.push(Change::Add((*w).clone())),
            Some(l) if l.channels != w.channels => changes.push(Change::Change { live: (*l).clone(), wanted: (*w).clone() }),
            Some(_) => {}
        }
    }
    for (k, l) in &live_links {
        if !wanted_links.contains_key(k) {
            changes.push(Change::Remove((*l).clone()));
        }
    }
    changes
}

/// The nodes (by file name) whose writes on `channel` reach `node` over the file's links.
fn upstream(wiring: &Wiring, node: &str, channel: &str) -> BTreeSet<String> {
    let flows = |l: &WiredLink| l.channels.iter().find(|c| c.channel == channel).map(|c| c.flow);
    let mut found = BTreeSet::new();
    let mut todo = vec![node.to_string()];
    while let Some(n) = todo.pop() {
        for l in &wiring.links {
            // Who sends to `n` on this channel over this link.
            let from = match flows(l) {
                Some(Flow::Push | Flow::Both) if l.to == n => Some(&l.dialer),
                Some(Flow::Pull | Flow::Both) if l.dialer == n => Some(&l.to),
                _ => None,
            };
            if let Some(f) = from {
                if f != node && found.insert(f.clone()) {
                    todo.push(f.clone());
                }
            }
        }
    }
    found
}

/// The link requests the file's changes make, planned as the canvas plans them, with what the
/// plan saw of the live cluster: applying it to a cluster that changed since is refused.
pub struct WiringPlan {
    pub changes: Vec<Change>,
    pub plans: Vec<Plan>,
    /// The live wiring the plan was made against (its file text).
    pub seen: String,
}

impl WiringPlan {
    /// Plans `wanted` against `live`; `parties` are the nodes by their file name.
    pub async fn make(wanted: &Wiring, live: &Wiring, parties: &BTreeMap<String, Party>) -> Result<WiringPlan> {
        let party = |name: &str| parties.get(name).cloned().ok_or_else(|| Error::Invalid(format!("node '{name}' of the file is not registered here")));
        let changes = diff(wanted, live);
        let mut plans = Vec::new();
        for c in &changes {
            match c {
                Change::Add(l) | Change::Change { wanted: l, .. } => {
                    let (d, t) = (party(&l.dialer)?, party(&l.to)?);
                    let channels = l
                        .channels
                        .iter()
                        .map(|c| LinkChannel {
                            channel: c.channel.clone(),
                            direction: match c.flow {
                                Flow::Push => Direction::AToB,
                                Flow::Pull => Direction::BToA,
                                Flow::Both => Direction::Both,
                            },
                        })
                        .collect();
                    // What the dialler pushes, it relays from the nodes upstream of it in the file.
                    let relay_origins = l
                        .channels
                        .iter()
                        .filter(|c| c.flow != Flow::Pull)
                        .flat_map(|c| upstream(wanted, &l.dialer, &c.channel))
                        .filter_map(|n| parties.get(&n).map(|p| p.node_name.clone()))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let req = LinkRequest { a: d.id.clone(), b: t.id.clone(), channels, b_dials: false, relay_origins };
                    plans.push(crate::instance::plan_link(&req, d, t).await?);
                }
                Change::Remove(l) => {
                    let (d, t) = (party(&l.dialer)?, party(&l.to)?);
                    let link_name = t.node_name.clone();
                    plans.push(crate::instance::plan_unlink(d, &link_name, Some(t)).await?);
                }
            }
        }
        Ok(WiringPlan { changes, plans, seen: live.to_toml()? })
    }

    /// Sends the plans in order, each undone by itself on a failure (the later ones are then not
    /// sent); refused whole when the live cluster is no longer what the plan saw.
    pub async fn apply(&self, live_now: &Wiring) -> Result<Vec<ApplyReport>> {
        if live_now.to_toml()? != self.seen {
            return Err(Error::Invalid("the cluster's links changed since this plan was made: plan again".into()));
        }
        let mut reports = Vec::new();
        for p in &self.plans {
            let r = p.apply().await;
            let ok = r.ok;
            reports.push(r);
            if !ok {
                break;
            }
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
version = 1

[[node]]
name = "edge"
url = "http://127.0.0.1:9926"
kind = "switchyard-node"
credentials = { registry = "edge" }

[[node]]
name = "hq"
url = "https://hq.example:9926"
kind = "switchyard-node"
credentials = { username = "admin", password_env = "HQ_PASSWORD" }

[[link]]
dialer = "edge"
to = "hq"
channels = [{ channel = "dev:sensor", flow = "push" }, { channel = "dev:config", flow = "pull" }]
"#;

    #[test]
    fn a_file_round_trips_in_a_stable_order_and_names_its_credentials_only() {
        let w = Wiring::parse(FILE).unwrap();
        assert_eq!(w.links[0].channels[1].flow, Flow::Pull);
        assert!(matches!(&w.nodes[1].credentials, Credentials::Env { password_env, .. } if password_env == "HQ_PASSWORD"));
        let text = w.to_toml().unwrap();
        let again = Wiring::parse(&text).unwrap();
        assert_eq!(again.to_toml().unwrap(), text, "export of an import is the same bytes");
        assert!(diff(&w, &again).is_empty(), "an unchanged wiring plans nothing");
    }

    #[test]
    fn a_file_that_does_not_hold_together_is_refused_with_why() {
        for (bad, why) in [
            (FILE.replace("version = 1", "version = 2"), "version 2"),
            (FILE.replace("to = \"hq\"", "to = \"nowhere\""), "'nowhere'"),
            (FILE.replace("dev:sensor", "devsensor"), "database:table"),
            (FILE.replace("flow = \"push\"", "flow = \"sideways\""), "not a wiring file"),
            (format!("{FILE}\npassword = \"x\""), "not a wiring file"),
        ] {
            let e = Wiring::parse(&bad).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn the_diff_lists_links_added_changed_and_removed_and_upstream_follows_the_flows() {
        let wanted = Wiring::parse(FILE).unwrap();
        let mut live = wanted.clone();
        assert!(diff(&wanted, &live).is_empty());
        live.links[0].channels.retain(|c| c.channel == "dev:sensor");
        live.links.push(WiredLink { dialer: "hq".into(), to: "edge".into(), channels: vec![WiredChannel { channel: "dev:x".into(), flow: Flow::Push }] });
        let changes = diff(&wanted, &live);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(matches!(&changes[0], Change::Change { wanted, .. } if wanted.channels.len() == 2));
        assert!(matches!(&changes[1], Change::Remove(l) if l.dialer == "hq"));
        assert!(changes[1].words().starts_with("- hq → edge"));
        let d = drift(&wanted, &live);
        assert_eq!(d.iter().map(|d| (d.dialer.as_str(), d.to.as_str(), d.kind)).collect::<Vec<_>>(), vec![("edge", "hq", DriftKind::Changed), ("hq", "edge", DriftKind::Extra)]);
        live.links.retain(|l| l.dialer != "edge");
        assert_eq!(drift(&wanted, &live)[0].kind, DriftKind::Missing);
        // edge pushes sensor to hq: edge is upstream of hq on it, nothing is upstream of edge;
        // hq's config reaches edge (pulled).
        assert_eq!(upstream(&wanted, "hq", "dev:sensor"), BTreeSet::from(["edge".to_string()]));
        assert!(upstream(&wanted, "edge", "dev:sensor").is_empty());
        assert_eq!(upstream(&wanted, "edge", "dev:config"), BTreeSet::from(["hq".to_string()]));
    }
}
