//! The studio as one value: the registry of instances, the supervisor of local ones and the
//! exports folder; what the shell's commands reach.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::factory::{Arrival, FactorySetup, Generator, LoadStats};
use crate::local::LocalInstances;
use crate::registry::Registry;
use crate::browse::Browse;
use crate::tail::compare::{CompareSession, CompareUpdate};
use crate::tail::{lock, Tail, TailAction, TailExported, TailRecord, TailRequest, TailSession, TailUpdate};
use crate::topology::link::{ApplyReport, LinkPlan, LinkRequest, Party, Plan};
use crate::topology::{self, Observed, TopologyView};
use switchyard_client::ServerKind;
use switchyard_protocol::ops::ClusterStatus;
use crate::types::{InstanceKind, NodePositions};
use crate::verify::{Member, RepairPlan, Repairs, Verified, VerifyReport, VerifyRequest};


/// Open tails kept (each holds up to its ring's cap); opening another closes the oldest.
const OPEN_TAILS_MAX: usize = 8;

/// A tail kept in the studio for the window (`tail_open`, `compare_open`): its state, and the
/// token that stops its feed (the state stays until the tail is closed).
struct OpenTail {
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

pub struct Studio {
    pub registry: Registry,
    pub local: LocalInstances,
    pub exports: PathBuf,
    /// Where the canvas keeps its node positions (JSON), across restarts.
    pub layout_file: PathBuf,
    /// Tails kept for the window, oldest first.
    open_tails: Mutex<Vec<OpenTail>>,
    /// Link plans shown and not yet applied or dropped, by id (they hold the new passwords,
    /// which never cross to the UI).
    plans: Mutex<HashMap<String, Plan>>,
    /// Each instance's last cluster_status: the links of an instance that stopped answering
    /// are still drawn (closed) instead of vanishing with it.
    /// Per instance, its links and tables as it last answered: an offline one is drawn with them.
    last_links: Mutex<HashMap<String, (ClusterStatus, Vec<String>)>>,
    /// The factory scenario's load generator, kept after it stops (its check needs what it
    /// wrote); dropped with the studio, which stops it.
    factory: tokio::sync::Mutex<Option<Generator>>,
    /// The last verifications (what a repair is planned from), oldest first.
    verified: Mutex<Vec<(String, Verified)>>,
    /// Repair plans shown and not yet applied or dropped, by id.
    repairs: Mutex<HashMap<String, Repairs>>,
    /// Verifications under way, by the run name the window gave them.
    running: Mutex<HashMap<String, CancellationToken>>,
}

/// Verifications kept for planning a repair.
const VERIFIED_KEPT: usize = 8;

impl Studio {
    pub fn new(registry: Registry, local: LocalInstances, exports: PathBuf, layout_file: PathBuf) -> Self {
        Studio {
            registry,
            local,
            exports,
            layout_file,
            open_tails: Mutex::default(),
            plans: Mutex::default(),
            last_links: Mutex::default(),
            factory: Default::default(),
            verified: Mutex::default(),
            repairs: Mutex::default(),
            running: Mutex::default(),
        }
    }

    /// One look at every registered instance (in parallel): status, tables, cluster_status.
    pub async fn observe(&self) -> Result<Vec<Observed>> {
        let specs = self.registry.list()?;
        let looks = specs.into_iter().map(|spec| async move {
            match self.registry.client(&spec.id) {
                Ok(client) => topology::observe(spec, &client).await,
                Err(e) => Observed {
                    status: crate::types::InstanceStatus::unreachable(&spec.id, e.to_body()),
                    spec,
                    channels: Vec::new(),
                    channels_last_known: false,
                    cluster: Err(e.to_string()),
                    harperdb: None,
                },
            }
        });
        let mut observed = futures_util::future::join_all(looks).await;
        let mut last = self.last_links.lock().unwrap_or_else(|p| p.into_inner());
        for o in &mut observed {
            match &o.cluster {
                Ok(c) => {
                    last.insert(o.spec.id.clone(), (c.clone(), o.channels.clone()));
                }
                Err(_) if !o.status.online => {
                    if let Some((known, channels)) = last.get(&o.spec.id) {
                        o.cluster = Ok(topology::links_of_offline(known, &o.spec.name));
                        o.channels = channels.clone();
                        o.channels_last_known = true;
                    }
                }
                Err(_) => {}
            }
        }
        last.retain(|id, _| observed.iter().any(|o| &o.spec.id == id));
        Ok(observed)
    }

    /// The canvas's model, from one look at every instance.
    pub async fn topology(&self) -> Result<TopologyView> {
        Ok(topology::build(&self.observe().await?))
    }

    async fn party(&self, id: &str) -> Result<Party> {
        let spec = self.registry.get(id)?;
        let status = self.registry.status(id).await?;
        if !status.online {
            let why = status.error.map(|e| e.message).unwrap_or_else(|| "it does not answer".into());
            return Err(Error::Invalid(format!("{} cannot be reached: {why}", spec.name)));
        }
        let client = self.registry.client(id)?;
        let node_name = match (&status.node_name, status.server_kind) {
            (Some(n), _) => n.clone(),
            // HarperDB names itself in cluster_status only.
            (None, Some(ServerKind::HarperDb)) => client.harperdb_cluster().await?.status.node_name,
            (None, _) => return Err(Error::Invalid(format!("{} did not say its node name", spec.name))),
        };
        Ok(Party { id: spec.id.clone(), name: spec.name.clone(), node_name, url: spec.url.clone(), trust: spec.tls.clone(), server_kind: status.server_kind, client })
    }

    fn keep(&self, plan: Plan) -> LinkPlan {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let preview = plan.preview(&id);
        self.plans.lock().unwrap_or_else(|p| p.into_inner()).insert(id, plan);
        preview
    }

    /// The requests that make (or change) the link the dialog describes, to show first.
    pub async fn plan_link(&self, req: LinkRequest) -> Result<LinkPlan> {
        let (a, b) = (self.party(&req.a).await?, self.party(&req.b).await?);
        Ok(self.keep(topology::link::plan_link(&req, a, b).await?))
    }

    /// The requests that remove the link `dialer` runs to the node `link_name`, with the user
    /// the studio made for it on that node when it is registered.
    pub async fn plan_unlink(&self, dialer: &str, link_name: &str) -> Result<LinkPlan> {
        let d = self.party(dialer).await?;
        let mut dialled = None;
        for spec in self.registry.list()? {
            if spec.id == d.id {
                continue;
            }
            if let Ok(p) = self.party(&spec.id).await {
                if p.node_name == link_name {
                    dialled = Some(p);
                    break;
                }
            }
        }
        Ok(self.keep(topology::link::plan_unlink(d, link_name, dialled).await?))
    }

    /// Sends a plan shown before; a plan is applied at most once.
    pub async fn apply_plan(&self, plan_id: &str) -> Result<ApplyReport> {
        let plan = self.plans.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id);
        let plan = plan.ok_or_else(|| Error::Invalid("this plan was already applied or dropped; make it again".into()))?;
        Ok(plan.apply().await)
    }

    /// Forgets a plan (the dialog was cancelled): nothing was sent.
    pub fn drop_plan(&self, plan_id: &str) -> bool {
        self.plans.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id).is_some()
    }

    /// Verifies channels across instances: equal digests, or the records that differ with
    /// the winner of each (checked again while the differences are in flight). Instances
    /// without digests (HarperDB) are verified by reading every record, with progress (the
    /// share done) and cancel (`verify_cancel` with the request's `run`).
    pub async fn verify(&self, req: VerifyRequest, progress: impl Fn(f64) + Sync) -> Result<VerifyReport> {
        let mut ids = req.instances.clone();
        ids.dedup();
        if ids.len() < 2 {
            return Err(Error::Invalid("Verify compares two or more instances".into()));
        }
        if req.channels.is_empty() {
            return Err(Error::Invalid("Verify needs at least one channel (database:table)".into()));
        }
        let mut members = Vec::with_capacity(ids.len());
        for id in &ids {
            let spec = self.registry.get(id)?;
            let status = self.registry.status(id).await?;
            if !status.online {
                let why = status.error.map(|e| e.message).unwrap_or_else(|| "it does not answer".into());
                return Err(Error::Invalid(format!("{} cannot be reached: {why}", spec.name)));
            }
            let digests = status.server_kind != Some(ServerKind::HarperDb);
            members.push(Member { id: spec.id.clone(), name: spec.name.clone(), client: self.registry.client(id)?, digests });
        }
        let cancel = CancellationToken::new();
        if let Some(run) = &req.run {
            self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(run.clone(), cancel.clone());
        }
        let view = self.topology().await;
        let outcome = match view {
            Ok(view) => Ok(crate::verify::verify(&members, &req.channels, &view, &cancel, &progress).await),
            Err(e) => Err(e),
        };
        if let Some(run) = &req.run {
            self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(run);
        }
        let (report, verified) = outcome?;
        if cancel.is_cancelled() {
            return Err(Error::Gone("Verify was cancelled".into()));
        }
        let mut kept = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        kept.push((report.id.clone(), verified));
        let excess = kept.len().saturating_sub(VERIFIED_KEPT);
        kept.drain(..excess);
        Ok(report)
    }

    /// Stops a running verification (by its request's `run`); answers whether one was running.
    pub fn verify_cancel(&self, run: &str) -> bool {
        match self.running.lock().unwrap_or_else(|p| p.into_inner()).get(run) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// The repair of what a verification found, to show first.
    pub fn repair_plan(&self, verify_id: &str) -> Result<RepairPlan> {
        let kept = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let verified = kept.iter().find(|(id, _)| id == verify_id).map(|(_, v)| v).ok_or_else(|| Error::Gone("this verification is no longer kept; verify again".into()))?;
        let (plan, repairs) = Repairs::plan(verified, uuid::Uuid::new_v4().simple().to_string());
        drop(kept);
        self.repairs.lock().unwrap_or_else(|p| p.into_inner()).insert(plan.id.clone(), repairs);
        Ok(plan)
    }

    /// Sends a repair shown before (at most once); verify again to see its effect.
    pub async fn repair_apply(&self, plan_id: &str) -> Result<ApplyReport> {
        let repairs = self.repairs.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id);
        let repairs = repairs.ok_or_else(|| Error::Invalid("this repair was already applied or dropped; verify again".into()))?;
        Ok(repairs.apply(|id| self.registry.client(id)).await)
    }

    /// Forgets a repair plan: nothing was sent.
    pub fn repair_drop(&self, plan_id: &str) -> bool {
        self.repairs.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id).is_some()
    }

    /// The canvas's saved node positions, by node name.
    pub async fn layout(&self) -> Result<NodePositions> {
        let file = self.layout_file.clone();
        tokio::task::spawn_blocking(move || match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Store(format!("{} is not a saved layout: {e}", file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NodePositions::default()),
            Err(e) => Err(Error::Io(e)),
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }

    /// Keeps the canvas's node positions (written whole, then renamed into place).
    pub async fn save_layout(&self, positions: NodePositions) -> Result<()> {
        let file = self.layout_file.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(&positions).map_err(|e| Error::Store(e.to_string()))?;
            let tmp = file.with_extension("json.tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &file)?;
            Ok(())
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }

    /// A running tail of instance `id`: a HarperDB instance (as its last status probe told) is
    /// tailed over MQTT, ours over SocketCluster.
    /// Answers the tail and the operations its records can carry.
    fn tail(&self, id: &str, request: TailRequest) -> Result<(Tail, &'static [&'static str])> {
        let (ops, endpoint, credentials) = self.registry.tail_access(id)?;
        match self.registry.client(id)?.kind() {
            Some(ServerKind::HarperDb) => Ok((crate::tail::mqtt::start(ops.with_kind(ServerKind::HarperDb), credentials, request)?, crate::tail::mqtt::OPERATIONS)),
            _ => Ok((Tail::start(ops, endpoint, credentials, request)?, crate::tail::OPERATIONS)),
        }
    }

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
        let (tail, operations) = self.tail(id, request)?;
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
            .map(|id| self.tail(id, TailRequest { channels: vec![channel.to_string()], window: 0, heal_max: 20_000 }).map(|(tail, _)| tail))
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

    /// Has HarperDB instance `id` publish `channels` (`database:table`): writes the studio's
    /// component (`switchyard_export`: package.json, config.yaml, and resources.js exporting
    /// these tables beside those it exported before) through set_component_file, then restarts
    /// the instance's HTTP workers to load it (their open connections drop for a moment).
    /// Answers what was done, in words.
    pub async fn harperdb_export(&self, id: &str, channels: &[String]) -> Result<String> {
        let client = self.registry.client(id)?;
        if client.kind() != Some(ServerKind::HarperDb) {
            return Err(Error::Invalid("only a HarperDB instance needs its tables exported to be tailed".into()));
        }
        crate::tail::mqtt::export_tables(&client, channels).await
    }

    /// The factory scenario's instances: edge-1, edge-2 and hq, local, made where missing (those
    /// that exist are reused; the UI asks first), started, each with the scenario's tables.
    pub async fn factory_setup(&self, raw_expiration_s: f64) -> Result<FactorySetup> {
        if !(1.0..=86_400.0 * 30.0).contains(&raw_expiration_s) {
            return Err(Error::Invalid("raw readings expire after 1 s to 30 days".into()));
        }
        let before: Vec<String> = self.registry.list()?.into_iter().map(|i| i.name).collect();
        self.local.create_cluster(&self.registry).await?;
        let specs = self.registry.list()?;
        let mut ids = Vec::new();
        for name in ["edge-1", "edge-2", "hq"] {
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{name} could not be made")))?;
            if spec.kind != InstanceKind::Local {
                return Err(Error::Invalid(format!("an instance named {name} is registered and is not local: rename or remove it first")));
            }
            let state = self.local.start(&self.registry, &spec.id).await?;
            if let Some(e) = state.error {
                return Err(Error::Invalid(format!("{name} did not start: {e}")));
            }
            crate::factory::make_tables(&self.registry.client(&spec.id)?, raw_expiration_s).await?;
            ids.push(spec.id.clone());
        }
        let reused = ["edge-1", "edge-2", "hq"].iter().filter(|n| before.iter().any(|b| b == *n)).map(|n| n.to_string()).collect();
        let links = ids[..2].iter().map(|e| crate::factory::link_request(e, &ids[2])).collect();
        Ok(FactorySetup { edges: ids[..2].to_vec(), hq: ids[2].clone(), reused, links })
    }

    /// Starts (or restarts at another rate) writing readings on edge-1 and edge-2.
    pub async fn factory_load_start(&self, rate: f64) -> Result<LoadStats> {
        let specs = self.registry.list()?;
        let mut edges = Vec::new();
        for name in ["edge-1", "edge-2"] {
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{name} is not registered: run the factory scenario first")))?;
            edges.push((name.to_string(), self.registry.client(&spec.id)?));
        }
        let mut slot = self.factory.lock().await;
        if let Some(g) = slot.as_mut() {
            g.stop().await;
        }
        let g = Generator::start(edges, rate.round().clamp(0.0, u32::MAX as f64) as u32, 50)?;
        let stats = g.stats();
        *slot = Some(g);
        Ok(stats)
    }

    pub async fn factory_load_stats(&self) -> LoadStats {
        self.factory.lock().await.as_ref().map(Generator::stats).unwrap_or_default()
    }

    pub async fn factory_load_stop(&self) -> LoadStats {
        match self.factory.lock().await.as_mut() {
            Some(g) => g.stop().await,
            None => LoadStats::default(),
        }
    }

    /// Whether hq holds every out-of-range reading the generator wrote.
    pub async fn factory_check(&self) -> Result<Arrival> {
        let ids = self.factory.lock().await.as_ref().map(Generator::out_of_range_ids).ok_or_else(|| Error::Invalid("the generator has not run yet".into()))?;
        let hq = self.registry.list()?.into_iter().find(|s| s.name == "hq").ok_or_else(|| Error::Invalid("hq is not registered".into()))?;
        crate::factory::check_arrival(&self.registry.client(&hq.id)?, &ids).await
    }

    /// Stops the generator and removes the scenario's local instances (their tables and links
    /// go with them).
    pub async fn factory_remove(&self) -> Result<Vec<String>> {
        if let Some(mut g) = self.factory.lock().await.take() {
            g.stop().await;
        }
        let mut removed = Vec::new();
        for spec in self.registry.list()?.into_iter().filter(|s| s.kind == InstanceKind::Local && ["edge-1", "edge-2", "hq"].contains(&s.name.as_str())) {
            self.remove(&spec.id).await?;
            removed.push(spec.name);
        }
        Ok(removed)
    }

    /// Stops a tail or a comparison (what it received stays until it is closed); false when
    /// none is open by that id.
    pub fn tail_stop(&self, tail_id: &str) -> bool {
        let open = self.open_tails.lock().unwrap_or_else(|p| p.into_inner());
        open.iter().find(|t| t.id == tail_id).map(|t| t.stop.cancel()).is_some()
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
        let (exports, name) = (self.exports.clone(), name.to_string());
        let written = tokio::task::spawn_blocking(move || -> Result<String> {
            let path = export_path(&exports, &name)?;
            std::fs::write(&path, contents)?;
            Ok(path.display().to_string())
        });
        written.await.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }
}

/// A new file's path in the `exports` folder for `name` (`name`, else `1-name`, `2-name`…),
/// the folder made when missing.
fn export_path(exports: &std::path::Path, name: &str) -> Result<PathBuf> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    if safe.is_empty() || safe.starts_with('.') {
        return Err(Error::Invalid(format!("'{name}' is not a usable file name")));
    }
    std::fs::create_dir_all(exports)?;
    let mut path = exports.join(&safe);
    let mut n = 1;
    while path.exists() {
        path = exports.join(format!("{n}-{safe}"));
        n += 1;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Position;
    use crate::{InstanceSpec, Keychain, RegistryStorage};

    /// No instances: the layout is all these tests read.
    struct NoInstances;

    impl RegistryStorage for NoInstances {
        fn load(&self) -> Result<Vec<InstanceSpec>> {
            Ok(Vec::new())
        }
        fn save(&self, _: &[InstanceSpec]) -> Result<()> {
            Ok(())
        }
    }

    /// The studio as the app makes it at start, over `dir`.
    fn studio(dir: &std::path::Path) -> Studio {
        let registry = Registry::open(Box::new(NoInstances), Keychain::new("switchyard-test-unused")).expect("registry");
        Studio::new(registry, LocalInstances::new(dir.join("instances")), dir.join("exports"), dir.join("topology.json"))
    }

    #[tokio::test]
    async fn the_canvas_layout_is_kept_across_restarts_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(studio(dir.path()).layout().await.expect("no layout yet"), NodePositions::default());
        let mut saved = NodePositions::default();
        saved.positions.insert("edge-1".into(), Position { x: 40.0, y: -12.5 });
        saved.positions.insert("hq".into(), Position { x: 420.0, y: 105.0 });
        studio(dir.path()).save_layout(saved.clone()).await.expect("save");
        // The app starts again: a new studio over the same folder.
        assert_eq!(studio(dir.path()).layout().await.expect("read back"), saved);
        std::fs::write(dir.path().join("topology.json"), "{\"positions\": {\"hq\": 3}}").expect("damage it");
        let err = studio(dir.path()).layout().await.expect_err("a damaged layout is refused, not read as empty");
        assert!(matches!(err, Error::Store(_)), "{err:?}");
    }
}
