//! What a tail session hands the window: the counts and the lines of its screen
//! (`TailUpdate`), one transaction whole, and the list an export writes.

use super::*;

impl TailSession {
    /// The list the window pages through: the filtered one while a filter is set.
    fn list(&self) -> &VecDeque<Arc<Row>> {
        self.visible.as_ref().unwrap_or(&self.rows)
    }

    /// What the window shows now.
    pub fn update(&mut self) -> TailUpdate {
        self.version += 1;
        self.changed = false;
        let list = self.list();
        let n = list.len();
        let first = (self.port.first as usize).min(n);
        let last = (first + self.port.count as usize).min(n);
        let lines = (first..last)
            .filter_map(|i| match self.port.order {
                Order::Newest => list.get(n - 1 - i),
                Order::Oldest => list.get(i),
            })
            .map(|r| self.line(r))
            .collect();
        let last_notices = self.notices.len().saturating_sub(NOTICES_SHOWN)..;
        TailUpdate {
            version: self.version,
            connection: self.connection,
            operations: self.operations.clone(),
            received: self.received,
            rows: self.rows.len() as u64,
            held: self.held,
            shown: n as u64,
            paused: self.paused,
            buffered: self.buffered,
            dropped: self.dropped,
            shown_cap: SHOWN_CAP,
            pause_cap: PAUSE_CAP,
            notices: self.notices.range(last_notices).cloned().collect(),
            not_exported: self.not_exported.clone(),
            rate: self.rate.to_vec(),
            port: self.port,
            lines,
        }
    }

    fn line(&self, r: &Row) -> TailLine {
        let keys = r.keys(self.primary_key(&r.record.channel));
        let (shown, all) = if r.count as usize > SHOWN_KEYS {
            let end = keys.match_indices(", ").nth(SHOWN_KEYS - 1).map(|(at, _)| at).unwrap_or(keys.len());
            (format!("{} …", &keys[..end]), Some(cut(keys, ALL_KEYS_CHARS)))
        } else {
            (keys.to_string(), None)
        };
        let rec = &r.record;
        TailLine {
            seq: r.seq,
            id: rec.id,
            arrived: rec.arrived,
            channel: rec.channel.clone(),
            operation: rec.operation.clone(),
            keys: shown,
            count: r.count.min(u32::MAX.into()) as u32,
            all_keys: all,
            origin: rec.origin.clone(),
            origin_id: rec.origin_id,
            preview: preview(rec),
        }
    }

    /// The transaction shown as `seq`, while it is held.
    pub fn record(&self, seq: u64) -> Option<TailRecord> {
        let at = self.rows.binary_search_by_key(&seq, |r| r.seq).ok()?;
        self.rows.get(at).map(|r| r.record.clone())
    }

    /// What an export writes: the filtered list, oldest first (shared, not copied).
    pub fn exported(&self) -> Vec<TailRecordRef> {
        self.list().iter().map(|r| TailRecordRef(r.clone())).collect()
    }
}
