//! Acknowledged positions: how far each peer has applied this node's log on each channel. A
//! receiver acknowledges every `sy:txns` batch it applied with `sy:ack {channel, upto}`, and
//! tells its position when a stream starts (`sy:pull` `from`, `sy:offer` answer). Tombstones
//! are pruned once every peer that receives their channel from this node has acknowledged past
//! them. Positions are kept in memory and stored with each prune, so a restart resumes from
//! what was stored (never ahead of what the peers confirmed).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::store::value::now_ms;
use crate::Node;

#[derive(Default)]
pub struct Acks {
    /// (peer, channel) → highest acknowledged log id, and whether it is not yet stored.
    seen: Mutex<HashMap<(String, String), (i64, bool)>>,
}

impl Acks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), (i64, bool)>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `peer` has applied this node's log on `channel` up to `upto`.
    pub fn record(&self, peer: &str, channel: &str, upto: i64) {
        let mut seen = self.lock();
        let entry = seen.entry((peer.to_string(), channel.to_string())).or_insert((0, true));
        if upto > entry.0 {
            *entry = (upto, true);
        }
    }

    /// The acknowledged position of `peer` on `channel`, if it ever acknowledged.
    pub fn get(&self, peer: &str, channel: &str) -> Option<i64> {
        self.lock().get(&(peer.to_string(), channel.to_string())).map(|(p, _)| *p)
    }

    /// Every (peer, channel, acknowledged position).
    pub fn all(&self) -> Vec<(String, String, i64)> {
        let mut all: Vec<(String, String, i64)> = self.lock().iter().map(|((p, c), (a, _))| (p.clone(), c.clone(), *a)).collect();
        all.sort();
        all
    }

    /// Loads stored positions (at start).
    pub async fn load(&self, node: &Node) -> Result<()> {
        for (peer, channel, acked) in node.store.load_acks().await? {
            let mut seen = self.lock();
            let entry = seen.entry((peer, channel)).or_insert((0, false));
            entry.0 = entry.0.max(acked);
        }
        Ok(())
    }

    /// Stores the positions that moved since the last call.
    async fn store(&self, node: &Node) -> Result<()> {
        let moved: Vec<(String, String, i64)> = {
            let mut seen = self.lock();
            seen.iter_mut()
                .filter(|(_, (_, dirty))| *dirty)
                .map(|((peer, channel), (acked, dirty))| {
                    *dirty = false;
                    (peer.clone(), channel.clone(), *acked)
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
        for ((_, channel), (acked, _)) in seen.iter() {
            lower(channel, *acked);
        }
        for (peer, channel) in publishing {
            lower(channel, seen.get(&(peer.clone(), channel.clone())).map(|(a, _)| *a).unwrap_or(0));
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
