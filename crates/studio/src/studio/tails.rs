//! Tails and comparisons kept for the window: opened, acted on, read back, exported, stopped and
//! closed; at most `OPEN_TAILS_MAX` at once.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::browse::Browse;
use crate::tail::compare::{CompareSession, CompareUpdate};
use crate::tail::{lock, TailAction, TailExported, TailRecord, TailRequest, TailSession, TailUpdate};

use super::exports::export_path;
use super::Studio;
use crate::instance::Instance;

/// Open tails kept (each holds up to its ring's cap); opening another closes the oldest.
const OPEN_TAILS_MAX: usize = 8;

/// A tail kept in the studio for the window (`tail_open`, `compare_open`): its state, and the
/// token that stops its feed (the state stays until the tail is closed).
pub(super) struct OpenTail {
    id: String,
    held: Held,
    stop: CancellationToken,
}

#[derive(Clone)]
enum Held {
    /// Channels of one instance.
    One(Arc<Mutex<TailSession>>),
    /// One channel across instances.
    Across(Arc<Mutex<CompareSession>>),
}

impl Studio {
    /// Opens a tail of channels of instance `id` kept in the studio: the ring, the pause buffer
    /// and the filter live here, and `sink` is handed what the window shows (the counts and the
    /// rows of its port) every `TAIL_SHOW` while anything changed, until the tail stops or
    /// `sink` answers false. Answers the tail's id, for `tail_act`, `tail_record`, `tail_export`,
    /// `tail_stop` and `tail_close`.
    pub async fn tail_open(&self, id: &str, request: TailRequest, sink: impl FnMut(TailUpdate) -> bool + Send + 'static) -> Result<String> {
        // Each channel's primary key, for the keys a line shows (none when the table is not
        // there yet: the tail itself says so).
        let client = self.registry.client(id)?;
        let mut primary_keys = Vec::new();
        for c in &request.channels {
            let channel: switchyard_protocol::Channel = c.parse().map_err(Error::Invalid)?;
            if let Ok(t) = client.table_info(&channel.database, &channel.table).await {
                primary_keys.push((c.clone(), t.primary_key));
            }
        }
        let (tail, operations) = Instance::last_known(&self.registry, id)?.tail(&self.registry, request)?;
        let session = Arc::new(Mutex::new(TailSession::new(primary_keys, operations)));
        let stop = CancellationToken::new();
        tokio::spawn(crate::tail::feed(tail, session.clone(), stop.clone(), sink));
        Ok(self.keep_tail(Held::One(session), stop))
    }

    /// Keeps an open tail (closing the oldest beyond `OPEN_TAILS_MAX`); answers its id.
    fn keep_tail(&self, held: Held, stop: CancellationToken) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut open = self.open_tails.lock().unwrap_or_else(|p| p.into_inner());
        open.push(OpenTail { id: id.clone(), held, stop });
        while open.len() > OPEN_TAILS_MAX {
            open.remove(0).stop.cancel();
        }
        id
    }

    /// What the open tail or comparison `tail_id` holds.
    fn held(&self, tail_id: &str) -> Option<Held> {
        let open = self.open_tails.lock().unwrap_or_else(|p| p.into_inner());
        open.iter().find(|t| t.id == tail_id).map(|t| t.held.clone())
    }

    fn open_tail(&self, tail_id: &str) -> Result<Arc<Mutex<TailSession>>> {
        match self.held(tail_id) {
            Some(Held::One(s)) => Ok(s),
            _ => Err(Error::Gone("this tail was closed; start it again".into())),
        }
    }

    /// Tails `channel` on each of `instances` (two or more) and lines the transactions up in the
    /// studio by (origin, origin id); `sink` is handed what the window shows every `TAIL_SHOW`
    /// when anything changed or a row turned missing. Answers the comparison's id, for
    /// `compare_port`, `tail_stop` and `tail_close`.
    pub async fn compare_open(&self, instances: &[String], channel: &str, sink: impl FnMut(CompareUpdate) -> bool + Send + 'static) -> Result<String> {
        if instances.len() < 2 {
            return Err(Error::Invalid("choose two or more instances to compare".into()));
        }
        let c: switchyard_protocol::Channel = channel.parse().map_err(Error::Invalid)?;
        // The table's primary key, from the first instance that has the table.
        let mut primary_key = None;
        for id in instances {
            if let Ok(t) = self.registry.client(id)?.table_info(&c.database, &c.table).await {
                primary_key = Some(t.primary_key);
                break;
            }
        }
        let tails = instances
            .iter()
            .map(|id| Instance::last_known(&self.registry, id)?.tail(&self.registry, TailRequest { channels: vec![channel.to_string()], window: 0, heal_max: 20_000, from: None }).map(|(tail, _)| tail))
            .collect::<Result<Vec<_>>>()?;
        let session = Arc::new(Mutex::new(CompareSession::new(instances.to_vec(), primary_key)));
        let stop = CancellationToken::new();
        tokio::spawn(crate::tail::compare::feed(tails, session.clone(), stop.clone(), sink));
        Ok(self.keep_tail(Held::Across(session), stop))
    }

    /// The rows (newest first) a comparison's window shows; answers what it shows then.
    pub fn compare_port(&self, compare_id: &str, first: u32, count: u32) -> Result<CompareUpdate> {
        let Some(Held::Across(session)) = self.held(compare_id) else {
            return Err(Error::Gone("this comparison was closed; start it again".into()));
        };
        let mut s = lock(&session);
        s.set_port(first, count);
        Ok(s.update(crate::words::now_ms()))
    }

    /// Acts on an open tail; answers what the window shows then.
    pub fn tail_act(&self, tail_id: &str, action: TailAction) -> Result<TailUpdate> {
        let session = self.open_tail(tail_id)?;
        let mut s = lock(&session);
        s.act(action);
        Ok(s.update())
    }

    /// A transaction of an open tail, by the `seq` its line showed, while the tail holds it
    /// (`seq` a JavaScript number: a whole one is required).
    pub fn tail_record(&self, tail_id: &str, seq: f64) -> Result<TailRecord> {
        if !(seq >= 0.0 && seq.fract() == 0.0 && seq <= 9_007_199_254_740_991.0) {
            return Err(Error::Invalid(format!("{seq} is not a transaction's place in the tail")));
        }
        let seq = seq as u64;
        let session = self.open_tail(tail_id)?;
        let record = lock(&session).record(seq);
        record.ok_or_else(|| Error::Gone("this transaction has left the tail's ring".into()))
    }

    /// Writes what an open tail shows (its filter applied, oldest first) as NDJSON, one
    /// transaction a line, into the exports folder under `name` (made unique); `progress` hears
    /// the share written as it goes.
    pub async fn tail_export(&self, tail_id: &str, name: &str, mut progress: impl FnMut(f64) + Send + 'static) -> Result<TailExported> {
        const STEP: usize = 5000;
        let session = self.open_tail(tail_id)?;
        let rows = lock(&session).exported();
        let (exports, name) = (self.exports.clone(), name.to_string());
        let written = tokio::task::spawn_blocking(move || -> Result<TailExported> {
            use std::io::Write;
            let path = export_path(&exports, &name)?;
            let file = std::fs::File::create_new(&path)?;
            let mut out = std::io::BufWriter::new(file);
            for (i, row) in rows.iter().enumerate() {
                serde_json::to_writer(&mut out, row.record()).map_err(|e| Error::Io(e.into()))?;
                out.write_all(b"\n")?;
                if (i + 1) % STEP == 0 {
                    progress((i + 1) as f64 / rows.len() as f64);
                }
            }
            out.flush()?;
            progress(1.0);
            Ok(TailExported { path: path.display().to_string(), count: rows.len() as u64 })
        });
        written.await.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }

    /// Stops an open tail or comparison and forgets what it held; false when none is open by
    /// that id.
    pub fn tail_close(&self, tail_id: &str) -> bool {
        let mut open = self.open_tails.lock().unwrap_or_else(|p| p.into_inner());
        match open.iter().position(|t| t.id == tail_id) {
            Some(at) => {
                open.remove(at).stop.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops a tail or a comparison (what it received stays until it is closed); false when
    /// none is open by that id.
    pub fn tail_stop(&self, tail_id: &str) -> bool {
        let open = self.open_tails.lock().unwrap_or_else(|p| p.into_inner());
        open.iter().find(|t| t.id == tail_id).map(|t| t.stop.cancel()).is_some()
    }

    /// Has HarperDB instance `id` publish `channels` (`database:table`): writes the studio's
    /// component (`switchyard_export`: package.json, config.yaml, and resources.js exporting
    /// these tables beside those it exported before) through set_component_file, then restarts
    /// the instance's HTTP workers to load it (their open connections drop for a moment).
    /// Answers what was done, in words.
    pub async fn tail_harperdb_export(&self, id: &str, channels: &[String]) -> Result<String> {
        Instance::last_known(&self.registry, id)?.export_tables(channels).await
    }
}
