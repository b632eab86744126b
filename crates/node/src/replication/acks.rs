//! Acknowledged positions: how far each peer has applied this node's log on each channel. A
//! receiver acknowledges every `sy:txns` batch it applied with `sy:ack {channel, upto}`, and
//! tells its position when a stream starts (`sy:pull` `from`, `sy:offer` answer). Tombstones
//! are pruned once every peer that receives their channel from this node has acknowledged past
//! them. Positions are kept in memory and stored with each prune, so a restart resumes from
//! what was stored (never ahead of what the peers confirmed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::Result;
use crate::store::value::now_ms;
use crate::Node;

#[derive(Default)]
pub struct Acks {
    /// (peer, channel) → how far the peer acknowledged, and who it is.
    seen: Mutex<HashMap<(String, String), Ack>>,
}

struct Ack {
    /// Highest acknowledged log id.
    acked: i64,
    /// Moved since it was last stored.
    dirty: bool,
    /// The local user a peer that dialled this node logged in as (None: a peer this node
    /// dials, or one not heard from since the node started).
    user: Option<String>,
    /// When the peer last told its position: a receiver silent past the tombstone retention
    /// is no longer one.
    heard: Instant,
}

impl Ack {
    fn new(acked: i64, dirty: bool) -> Ack {
        Ack { acked, dirty, user: None, heard: Instant::now() }
    }
}

impl Acks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Ack>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `peer` has applied this node's log on `channel` up to `upto`.
    pub fn record(&self, peer: &str, channel: &str, upto: i64) {
        self.record_as(peer, channel, upto, None);
    }

    /// As `record`, for a peer that dialled this node and logged in as `user`.
    pub fn record_as(&self, peer: &str, channel: &str, upto: i64, user: Option<&str>) {
        let mut seen = self.lock();
        let entry = seen.entry((peer.to_string(), channel.to_string())).or_insert_with(|| Ack::new(0, true));
        if upto > entry.acked {
            entry.acked = upto;
            entry.dirty = true;
        }
        entry.heard = Instant::now();
        if let Some(user) = user {
            entry.user = Some(user.to_string());
        }
    }

    /// The acknowledged position of `peer` on `channel`, if it ever acknowledged.
    pub fn get(&self, peer: &str, channel: &str) -> Option<i64> {
        self.lock().get(&(peer.to_string(), channel.to_string())).map(|a| a.acked)
    }

    /// Every (peer, channel, acknowledged position).
    pub fn all(&self) -> Vec<(String, String, i64)> {
        let mut all: Vec<(String, String, i64)> = self.lock().iter().map(|((p, c), a)| (p.clone(), c.clone(), a.acked)).collect();
        all.sort();
        all
    }

    /// Removes the receivers `gone` answers true for, here and in storage: they no longer hold
    /// back tombstone pruning nor show in cluster_status.
    async fn forget(&self, node: &Node, gone: impl Fn(&(String, String), &Ack) -> bool) -> Result<Vec<(String, String)>> {
        let removed: Vec<(String, String)> = {
            let mut seen = self.lock();
            let keys: Vec<(String, String)> = seen.iter().filter(|(k, a)| gone(k, a)).map(|(k, _)| k.clone()).collect();
            for k in &keys {
                seen.remove(k);
            }
            keys
        };
        node.store.delete_acks(&removed).await?;
        Ok(removed)
    }

    /// The link to `peer` was removed: it receives nothing from this node any more.
    pub async fn forget_peer(&self, node: &Node, peer: &str) -> Result<()> {
        self.forget(node, |(p, _), _| p == peer).await.map(|_| ())
    }

    /// The link to `peer` no longer publishes `channels`.
    pub async fn forget_channels(&self, node: &Node, peer: &str, channels: &[String]) -> Result<()> {
        self.forget(node, |(p, c), _| p == peer && channels.contains(c)).await.map(|_| ())
    }

    /// The user `user` was dropped: peers that logged in as it can no longer receive.
    pub async fn forget_user(&self, node: &Node, user: &str) -> Result<()> {
        self.forget(node, |_, a| a.user.as_deref() == Some(user)).await.map(|_| ())
    }

    /// Loads stored positions (at start).
    pub async fn load(&self, node: &Node) -> Result<()> {
        for (peer, channel, acked) in node.store.load_acks().await? {
            let mut seen = self.lock();
            let entry = seen.entry((peer, channel)).or_insert_with(|| Ack::new(0, false));
            entry.acked = entry.acked.max(acked);
        }
        Ok(())
    }

    /// Stores the positions that moved since the last call.
    async fn store(&self, node: &Node) -> Result<()> {
        let moved: Vec<(String, String, i64)> = {
            let mut seen = self.lock();
            seen.iter_mut()
                .filter(|(_, a)| a.dirty)
                .map(|((peer, channel), a)| {
                    a.dirty = false;
                    (peer.clone(), channel.clone(), a.acked)
                })
                .collect()
        };
        node.store.save_acks(&moved).await
    }

    /// Per channel, the lowest position acknowledged by the peers that receive it from this
    /// node: every peer that ever acknowledged it, and every configured link that publishes it
    /// (0 until it acknowledges). Channels nobody receives are absent.
    fn floors(&self, publishing: &[(String, String)]) -> HashMap<String, i64> {
        let seen = self.lock();
        let mut floors: HashMap<String, i64> = HashMap::new();
        let mut lower = |channel: &str, at: i64| {
            let f = floors.entry(channel.to_string()).or_insert(i64::MAX);
            *f = (*f).min(at);
        };
        for ((_, channel), a) in seen.iter() {
            lower(channel, a.acked);
        }
        for (peer, channel) in publishing {
            lower(channel, seen.get(&(peer.clone(), channel.clone())).map(|a| a.acked).unwrap_or(0));
        }
        floors
    }
}

/// Prunes tombstones: those every receiving peer has acknowledged and older than the grace
/// period, and any older than the retention. Stores the acknowledged positions first.
pub async fn prune_tombstones(node: &Node) -> Result<u64> {
    node.acks.store(node).await?;
    let publishing: Vec<(String, String)> = node
        .peers
        .configs()
        .into_iter()
        .flat_map(|c| c.subscriptions.iter().filter(|s| s.publish).map(|s| (c.name.clone(), s.channel.to_string())).collect::<Vec<_>>())
        .collect();
    // A receiver not heard from for the tombstone retention is gone (its tombstones expire
    // then anyway); a link this node publishes on still counts (below) until it is removed.
    let horizon = node.config.tombstone_retention;
    node.acks.forget(node, |k, a| a.heard.elapsed() > horizon && !publishing.contains(k)).await?;
    let floors = node.acks.floors(&publishing);
    let acknowledged: Vec<(i64, i64)> = node
        .store
        .catalog()
        .databases
        .values()
        .flat_map(|tables| tables.values())
        .map(|meta| (meta.id, floors.get(&meta.channel()).copied().unwrap_or(i64::MAX)))
        .collect();
    let now = now_ms();
    let settled = now - node.config.tombstone_grace.as_secs_f64() * 1000.0;
    let expired = now - node.config.tombstone_retention.as_secs_f64() * 1000.0;
    node.store.prune_tombstones(&acknowledged, settled, expired).await
}
