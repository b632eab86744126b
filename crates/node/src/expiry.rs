//! Table time-to-live: records of a table with `expiration` (seconds) are deleted once their
//! last update is older than that. Local only: expiry is not a transaction, so it is neither
//! logged nor replicated (edge raw data ages out; what was replicated stays where it went).
//! Also prunes tombstones (see `replication::acks`).

use std::sync::Arc;
use std::time::Duration;

use crate::Node;

const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Tombstones are pruned every this many sweeps.
const PRUNE_EVERY_SWEEPS: u64 = 60;

/// Sweeps every second until the node closes.
pub async fn run(node: Arc<Node>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    let mut sweeps: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = node.shutdown.cancelled() => return,
        }
        let tables: Vec<_> = node
            .store
            .catalog()
            .databases
            .values()
            .flat_map(|t| t.values().filter(|m| m.expiration.is_some()).cloned().collect::<Vec<_>>())
            .collect();
        if sweeps.is_multiple_of(PRUNE_EVERY_SWEEPS) {
            match crate::replication::acks::prune_tombstones(&node).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(n, "pruned tombstones"),
                Err(e) => node.log.warn(&["expiry"], format!("pruning tombstones failed: {e}")),
            }
        }
        sweeps += 1;
        for meta in tables {
            match node.store.expire(&meta).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(table = %meta.qualified(), n, "expired records"),
                Err(e) => node.log.warn(&["expiry"], format!("expiring {} failed: {e}", meta.qualified())),
            }
        }
    }
}
