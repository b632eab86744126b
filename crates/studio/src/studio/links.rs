//! Link plans: the requests that make, change or remove a link between two instances, kept
//! until applied (with undo) or dropped; their passwords never cross to the window.

use crate::error::{Error, Result};
use crate::links::{ApplyReport, LinkPlan, LinkRequest, Party, Plan};
use crate::instance::Instance;
use crate::topology;

use super::Studio;

impl Studio {
    async fn party(&self, id: &str) -> Result<Party> {
        let (instance, status) = Instance::online(&self.registry, id).await?;
        let node_name = instance.node_name(&status).await?;
        let Instance { spec, client, .. } = instance;
        Ok(Party { id: spec.id, name: spec.name, node_name, url: spec.url, trust: spec.tls, server_kind: status.server_kind, client })
    }

    fn keep(&self, plan: Plan) -> LinkPlan {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let preview = plan.preview(&id);
        self.plans.lock().unwrap_or_else(|p| p.into_inner()).insert(id, plan);
        preview
    }

    /// The requests that make (or change) the link the dialog describes, to show first.
    pub async fn link_plan(&self, mut req: LinkRequest) -> Result<LinkPlan> {
        let (a, b) = (self.party(&req.a).await?, self.party(&req.b).await?);
        // What the dialler pushes, it relays from the nodes upstream of it on those channels.
        let dialer = if req.b_dials { req.b.clone() } else { req.a.clone() };
        let pushed: Vec<String> = crate::links::subscriptions(&req)?.into_iter().filter(|s| s.publish).map(|s| s.channel.to_string()).collect();
        req.relay_origins = topology::upstream(&self.recent_view().await?, &dialer, &pushed);
        Ok(self.keep(crate::instance::plan_link(&req, a, b).await?))
    }

    /// The requests that remove the link `dialer` runs to the node `link_name`, with the user
    /// the studio made for it on that node when it is registered.
    pub async fn link_plan_removal(&self, dialer: &str, link_name: &str) -> Result<LinkPlan> {
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
        Ok(self.keep(crate::instance::plan_unlink(d, link_name, dialled).await?))
    }

    /// Sends a plan shown before; a plan is applied at most once.
    pub async fn link_apply(&self, plan_id: &str) -> Result<ApplyReport> {
        let plan = self.plans.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id);
        let plan = plan.ok_or_else(|| Error::Invalid("this plan was already applied or dropped; make it again".into()))?;
        Ok(plan.apply().await)
    }

    /// Forgets a plan (the dialog was cancelled): nothing was sent.
    /// Pauses or resumes the link `dialer` (an instance id) dials to `link_name`.
    pub async fn link_pause(&self, dialer: &str, link_name: &str, paused: bool) -> Result<()> {
        let (instance, _) = Instance::online(&self.registry, dialer).await?;
        instance.pause_link(link_name, paused).await
    }

    pub fn link_drop(&self, plan_id: &str) -> bool {
        self.plans.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id).is_some()
    }
}

