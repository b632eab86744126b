//! The cluster operations: add_node, update_node and remove_node (the peers this node dials,
//! stored and linked), and cluster_status (each link's state and per-channel positions).

use std::sync::Arc;

use switchyard_protocol::ops::{AddNode, ClusterStatus, LinkStatus, Message, ReceiverStatus};

use crate::error::{Error, Result};
use crate::replication::{LinkSnapshot, PeerConfig};
use crate::store::value::now_ms;
use crate::Node;

fn validate(req: &AddNode, existing: Option<&PeerConfig>, cluster: Option<&crate::config::ClusterUser>) -> Result<PeerConfig> {
    crate::store::validate_name("node", &req.name)?;
    let host = req.host.clone().or_else(|| existing.map(|e| e.host.clone())).ok_or_else(|| Error::bad("'host' is required"))?;
    let port = req.port.or(existing.map(|e| e.port)).ok_or_else(|| Error::bad("'port' is required"))?;
    let (username, password) = match (&req.authorization, existing) {
        (Some(a), _) => (a.username.clone(), a.password.clone()),
        (None, Some(e)) => (e.username.clone(), e.password.clone()),
        // The seed's form: every node shares one configured cluster user.
        (None, None) => match cluster {
            Some(c) => (c.username.clone(), c.password.clone()),
            None => {
                return Err(Error::bad(
                    "'authorization' {\"username\", \"password\"} of the peer's cluster user is required, or configure this \
                     node's cluster user (--cluster-user/--cluster-password, SWITCHYARD_CLUSTER_USER or CLUSTERING_USER, \
                     cluster_user in the TOML file)",
                ))
            }
        },
    };
    for s in &req.subscriptions {
        if !s.subscribe && !s.publish {
            return Err(Error::bad(format!("subscription to '{}' neither subscribes nor publishes", s.channel)));
        }
    }
    let tls = req.tls.clone().or_else(|| existing.and_then(|e| e.tls.clone()));
    let paused = req.paused.or(existing.map(|e| e.paused)).unwrap_or(false);
    let config = PeerConfig { name: req.name.clone(), host, port, username, password, subscriptions: req.subscriptions.clone(), tls, paused };
    if let Some(trust) = &config.tls {
        switchyard_tls::check(trust).map_err(|e| Error::bad(e.to_string()))?;
    }
    Ok(config)
}

pub async fn add_node(node: &Arc<Node>, req: AddNode) -> Result<Message> {
    if req.name == node.config.node_name {
        return Err(Error::bad(format!("'{}' is this node's own name", req.name)));
    }
    if node.store.peers().await?.iter().any(|p| p.name == req.name) {
        return Err(Error::Conflict(format!("node '{}' is already in the cluster; use update_node", req.name)));
    }
    let config = validate(&req, None, node.config.cluster_user.as_ref())?;
    node.store.save_peer(&config.to_stored()?).await?;
    node.peers.spawn(node, config).await;
    Ok(Message { message: format!("Successfully added '{}' to cluster", req.name) })
}

pub async fn update_node(node: &Arc<Node>, req: AddNode) -> Result<Message> {
    let existing = node.store.peers().await?.into_iter().find(|p| p.name == req.name).map(PeerConfig::from_stored).transpose()?;
    let Some(existing) = existing else {
        return Err(Error::NotFound(format!("node '{}' is not in the cluster", req.name)));
    };
    let config = validate(&req, Some(&existing), node.config.cluster_user.as_ref())?;
    node.store.save_peer(&config.to_stored()?).await?;
    let published = |c: &PeerConfig| -> Vec<String> { c.subscriptions.iter().filter(|s| s.publish).map(|s| s.channel.to_string()).collect() };
    let still = published(&config);
    let dropped: Vec<String> = published(&existing).into_iter().filter(|c| !still.contains(c)).collect();
    // The old link has stopped before its channels are forgotten: it can record no ack after.
    node.peers.spawn(node, config).await;
    node.acks.forget_channels(node, &req.name, &dropped).await?;
    Ok(Message { message: format!("Successfully updated '{}'", req.name) })
}

/// Tears the link down at once and forgets the peer (its positions stay for a re-add).
pub async fn remove_node(node: &Arc<Node>, name: &str) -> Result<Message> {
    let stopped = node.peers.stop(name).await;
    let deleted = node.store.delete_peer(name).await?;
    if !deleted && !stopped {
        return Err(Error::NotFound(format!("node '{name}' is not in the cluster")));
    }
    // It receives nothing from this node any more: no receiver entry, no hold on pruning.
    node.acks.forget_peer(node, name).await?;
    Ok(Message { message: format!("Successfully removed '{name}' from cluster") })
}


pub async fn cluster_status(node: &Arc<Node>) -> Result<ClusterStatus> {
    let mut connections = Vec::new();
    for (config, state) in node.peers.links() {
        let LinkSnapshot { state: st, since, last_error, refused_by, latency_ms: latency, channels } = state.snapshot();
        let mut per_channel = Vec::new();
        for sub in &config.subscriptions {
            let channel = sub.channel.to_string();
            let status = channels.get(&channel).cloned().unwrap_or_default();
            let head = node.store.log_head(&channel).await?;
            let sent = status.sent_position();
            let backlog = match sent {
                Some(p) if sub.publish => node.store.backlog(&channel, p, &config.name).await?,
                _ => 0,
            };
            per_channel.push(switchyard_protocol::ops::ChannelStatus {
                last_received: sub.subscribe.then_some(status.last_received),
                last_sent: sent,
                last_acknowledged: if sub.publish { node.acks.get(&config.name, &channel) } else { None },
                local_head: head,
                backlog,
                gaps: status.gaps,
                entries_received: status.received_entries,
                entries_sent: status.sent_entries(),
                error: status.error,
                subscribe: sub.subscribe,
                publish: sub.publish,
                channel,
            });
        }
        connections.push(LinkStatus {
            name: config.name.clone(),
            host: config.host.clone(),
            port: config.port,
            tls: config.tls.is_some(),
            state: st,
            since,
            latency_ms: latency,
            last_error,
            refused_by,
            subscriptions: config.subscriptions.clone(),
            channels: per_channel,
        });
    }
    let mut receivers = Vec::new();
    for (peer, channel, acknowledged) in node.acks.all() {
        let (backlog, oldest) = node.store.lacking(&channel, acknowledged, &peer).await?;
        let lag_ms = oldest.map_or(0.0, |ts| (now_ms() - ts).max(0.0));
        receivers.push(ReceiverStatus { peer, channel, acknowledged, backlog, lag_ms });
    }
    Ok(ClusterStatus {
        kind: "cluster-status".into(),
        node_name: node.config.node_name.clone(),
        is_enabled: true,
        read_only: node.store.read_only(),
        connections,
        receivers,
        log_head: node.store.durable_head(),
    })
}
