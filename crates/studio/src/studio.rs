//! The studio as one value: the registry of instances, the supervisor of local ones and the
//! exports folder; what the shell's commands reach.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::local::LocalInstances;
use crate::registry::Registry;
use crate::tail::{Tail, TailEvent, TailRequest, TAIL_BATCH};
use crate::types::InstanceKind;

/// Events of one tail handed over at most at once.
const TAIL_BATCH_MAX: usize = 5000;

pub struct Studio {
    pub registry: Registry,
    pub local: LocalInstances,
    pub exports: PathBuf,
    /// Running tails by id; a tail's task removes its entry when it ends.
    tails: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

impl Studio {
    pub fn new(registry: Registry, local: LocalInstances, exports: PathBuf) -> Self {
        Studio { registry, local, exports, tails: Arc::default() }
    }

    /// Starts tailing channels of instance `id`. Events go to `sink` in batches (gathered for
    /// `TAIL_BATCH` at most, never one call per transaction) until `sink` answers false or the
    /// tail is stopped. Answers the tail's id, for `tail_stop`.
    pub fn tail_start(&self, id: &str, request: TailRequest, mut sink: impl FnMut(Vec<TailEvent>) -> bool + Send + 'static) -> Result<String> {
        let (ops, endpoint, credentials) = self.registry.tail_access(id)?;
        let mut tail = Tail::start(ops, endpoint, credentials, request)?;
        let tail_id = uuid::Uuid::new_v4().simple().to_string();
        let stop = CancellationToken::new();
        self.tails.lock().unwrap_or_else(|p| p.into_inner()).insert(tail_id.clone(), stop.clone());
        let (tails, id) = (self.tails.clone(), tail_id.clone());
        tokio::spawn(async move {
            relay(&mut tail, &stop, &mut sink).await;
            tails.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        });
        Ok(tail_id)
    }

    /// Stops a tail; false when no such tail runs.
    pub fn tail_stop(&self, tail_id: &str) -> bool {
        match self.tails.lock().unwrap_or_else(|p| p.into_inner()).remove(tail_id) {
            Some(stop) => {
                stop.cancel();
                true
            }
            None => false,
        }
    }

    /// Removes any instance; a local one is stopped and its data deleted.
    pub async fn remove(&self, id: &str) -> Result<()> {
        if self.registry.get(id)?.kind == InstanceKind::Local {
            self.local.delete(&self.registry, id).await
        } else {
            self.registry.remove(id)?;
            Ok(())
        }
    }

    /// Writes an export into the exports folder under a unique name and returns its path. The
    /// disk is touched off the async workers.
    pub async fn export(&self, name: &str, contents: String) -> Result<String> {
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
        if safe.is_empty() || safe.starts_with('.') {
            return Err(Error::Invalid(format!("'{name}' is not a usable file name")));
        }
        let exports = self.exports.clone();
        let written = tokio::task::spawn_blocking(move || -> Result<String> {
            std::fs::create_dir_all(&exports)?;
            let mut path = exports.join(&safe);
            let mut n = 1;
            while path.exists() {
                path = exports.join(format!("{n}-{safe}"));
                n += 1;
            }
            std::fs::write(&path, contents)?;
            Ok(path.display().to_string())
        });
        written.await.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }
}

/// Hands a tail's events to `sink` in batches until the tail ends, `stop` fires, or `sink`
/// answers false.
async fn relay(tail: &mut Tail, stop: &CancellationToken, sink: &mut impl FnMut(Vec<TailEvent>) -> bool) {
    loop {
        let first = tokio::select! {
            e = tail.next() => e,
            _ = stop.cancelled() => return,
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + TAIL_BATCH;
        while batch.len() < TAIL_BATCH_MAX {
            tail.drain(TAIL_BATCH_MAX, &mut batch);
            if batch.len() >= TAIL_BATCH_MAX {
                break;
            }
            match tokio::time::timeout_at(until, tail.next()).await {
                Ok(Some(e)) => batch.push(e),
                Ok(None) | Err(_) => break,
            }
        }
        if !sink(batch) {
            return;
        }
    }
}
