//! The studio as one value: the registry of instances, the supervisor of local ones and the
//! exports folder; what the shell's commands reach, one module per feature (`links`, `tails`,
//! `verify`, `factory`, `layout`, `exports`), each method named `<feature>_<verb>` as the
//! command that reaches it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::factory::Generator;
use crate::local::LocalInstances;
use crate::registry::Registry;
use crate::links::Plan;
use crate::topology::{self, Observed, TopologyView};
use switchyard_protocol::ops::ClusterStatus;
use crate::types::InstanceKind;
use crate::verify::{Repairs, Verified};

mod exports;
mod factory;
mod health;
mod layout;
mod links;
mod tails;
mod verify;
mod wiring;

pub use verify::members as verify_members;

use tails::OpenTail;

pub struct Studio {
    pub registry: Registry,
    pub local: LocalInstances,
    pub exports: PathBuf,
    /// Where the canvas keeps its node positions (JSON), across restarts.
    pub layout_file: PathBuf,
    /// Where the shell writes its log files (said in About).
    pub log_dir: PathBuf,
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
    /// The factory scenario's link plans shown by `factory_setup`, in the order to apply them.
    factory_plans: Mutex<Vec<String>>,
    /// The last verifications (what a repair is planned from), oldest first.
    verified: Mutex<Vec<(String, Verified)>>,
    /// Repair plans shown and not yet applied or dropped, by id.
    repairs: Mutex<HashMap<String, Repairs>>,
    /// Verifications under way, by the run name the window gave them.
    running: Mutex<HashMap<String, CancellationToken>>,
    /// Replication health in time, fed by every view built (see `health`).
    health: health::Watch,
    /// Wiring plans shown and not yet applied or dropped, by id.
    wiring_plans: Mutex<HashMap<String, crate::wiring::WiringPlan>>,
    /// The wiring file attached to the canvas, whose drift it marks.
    wiring_attached: Mutex<Option<crate::wiring::Wiring>>,
}

/// One look at every instance of `registry` (in parallel): status, tables, cluster_status.
pub async fn observe(registry: &Registry) -> Result<Vec<Observed>> {
    let specs = registry.list()?;
    let looks = specs.into_iter().map(|spec| async move {
        match registry.client(&spec.id) {
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
    Ok(futures_util::future::join_all(looks).await)
}

impl Studio {
    pub fn new(registry: Registry, local: LocalInstances, exports: PathBuf, layout_file: PathBuf) -> Self {
        Studio {
            registry,
            local,
            exports,
            open_tails: Mutex::default(),
            plans: Mutex::default(),
            last_links: Mutex::default(),
            factory: Default::default(),
            factory_plans: Mutex::default(),
            verified: Mutex::default(),
            repairs: Mutex::default(),
            running: Mutex::default(),
            health: health::Watch::open(layout_file.with_file_name("health.json")),
            wiring_plans: Mutex::default(),
            wiring_attached: Mutex::default(),
            log_dir: layout_file.with_file_name("logs"),
            layout_file,
        }
    }

    /// The log folder, when the shell keeps its logs elsewhere than `logs` beside the layout.
    pub fn with_log_dir(mut self, log_dir: PathBuf) -> Self {
        self.log_dir = log_dir;
        self
    }

    /// The version and the folders the studio uses.
    pub fn about(&self) -> crate::types::About {
        let text = |p: &std::path::Path| p.display().to_string();
        crate::types::About {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.layout_file.parent().map(text).unwrap_or_default(),
            log_dir: text(&self.log_dir),
            exports_dir: text(&self.exports),
        }
    }

    /// One look at every registered instance (in parallel): status, tables, cluster_status.
    pub async fn observe(&self) -> Result<Vec<Observed>> {
        let mut observed = observe(&self.registry).await?;
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
    pub async fn topology_view(&self) -> Result<TopologyView> {
        let view = topology::build(&self.observe().await?);
        self.health.observe(&view);
        Ok(view)
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
}
