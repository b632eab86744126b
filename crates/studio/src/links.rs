//! Making, changing and removing a link between two instances as a plan of Operations API
//! requests, shown (passwords masked) before anything is sent, then applied in order with
//! every step undone, newest first, when a later one fails.
//!
//! Least privilege: the dialled node gets a dedicated user whose role grants exactly what the
//! link carries: read on what flows out of it, insert/update/delete on what flows in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_client::harperdb::{self};
use switchyard_client::OpsClient;
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::ops::{
    AddNode, AddUser, AlterUser, ClusterStatus, DatabasePermission, NodeAuthorization, NodeSubscription, RemoveNode, RoleDef, RoleRef, RoleReply, TablePermission, UserRef, UserReply,
};
use switchyard_protocol::{Channel, ErrorCode, Operation};
use ts_rs::TS;

use crate::error::{Error, Result};

/// Which way one channel's data flows between the two instances of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    AToB,
    BToA,
    Both,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkChannel {
    /// `database:table`.
    pub channel: String,
    pub direction: Direction,
}

/// What the dialog asks for: between `a` and `b` (instance ids, as dragged from `a` to `b`),
/// these channels, the link dialled by `a` (or by `b`, for an `a` that cannot be reached).
/// The channels are the link's whole set: an existing link is changed to carry exactly these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkRequest {
    pub a: String,
    pub b: String,
    pub channels: Vec<LinkChannel>,
    /// The dialler is `b` instead of `a`.
    #[serde(default)]
    pub b_dials: bool,
    /// The nodes (their node names) whose entries the dialler relays on what it pushes: those
    /// upstream of it on those channels, as the studio's view of the cluster finds them. The
    /// dialled node accepts pushed entries of these origins and of the dialler only.
    #[serde(skip)]
    #[ts(skip)]
    pub relay_origins: Vec<String>,
}

/// One request of a plan as the dialog shows it (passwords masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanStep {
    pub instance: String,
    pub instance_name: String,
    pub operation: String,
    pub request: Value,
}

/// A plan to show before anything is sent; `id` applies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkPlan {
    pub id: String,
    pub summary: String,
    /// What the user should know before applying (a server's own caveats), in words.
    pub notes: Vec<String>,
    pub steps: Vec<PlanStep>,
}

/// What one step (or one undo) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    pub instance_name: String,
    pub operation: String,
    pub ok: bool,
    pub message: String,
}

/// What applying a plan did: every step, and when one failed, every undo and what is left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub ok: bool,
    pub steps: Vec<StepResult>,
    pub undone: Vec<StepResult>,
    /// Things a failed apply could not take back, in words (empty when nothing was left).
    pub left_behind: Vec<String>,
}

/// One instance of a plan, as the plan needs it.
#[derive(Debug, Clone)]
pub struct Party {
    pub id: String,
    pub name: String,
    /// The node's own name (what the dialler calls it in add_node).
    pub node_name: String,
    pub url: String,
    pub trust: switchyard_protocol::tls::Trust,
    pub server_kind: Option<switchyard_client::ServerKind>,
    pub client: OpsClient,
}

/// What a step sends: a switchyard-node operation, or a cluster operation in HarperDB's form.
#[derive(Debug, Clone)]
pub enum Request {
    Node(Operation),
    HarperDb(harperdb::Request),
}

impl Request {
    pub fn name(&self) -> &'static str {
        match self {
            Request::Node(op) => op.name(),
            Request::HarperDb(r) => r.name(),
        }
    }

    fn body(&self) -> Value {
        match self {
            Request::Node(op) => serde_json::to_value(op),
            Request::HarperDb(r) => serde_json::to_value(r),
        }
        .unwrap_or(Value::Null)
    }

    async fn send(&self, client: &OpsClient) -> switchyard_client::Result<Value> {
        match self {
            Request::Node(op) => client.run(op).await,
            Request::HarperDb(r) => client.run_harperdb(r).await,
        }
    }
}

/// A step with the request it sends and the one that takes it back.
#[derive(Debug, Clone)]
pub struct Step {
    pub party: usize,
    pub op: Request,
    pub undo: Option<Request>,
    /// The request may have changed something even when it fails (HarperDB stores an add_node
    /// whose peer could not be reached): its undo runs then too.
    pub undo_if_failed: bool,
}

impl Step {
    fn node(party: usize, op: Operation, undo: Option<Operation>) -> Step {
        Step { party, op: Request::Node(op), undo: undo.map(Request::Node), undo_if_failed: false }
    }
}

/// A plan as applied: the two parties and the steps (real passwords inside).
#[derive(Debug, Clone)]
pub struct Plan {
    pub parties: Vec<Party>,
    pub steps: Vec<Step>,
    pub summary: String,
    pub notes: Vec<String>,
}

/// The user and role the studio makes on a dialled node for the link from `dialer`.
pub fn link_user(dialer_node_name: &str) -> String {
    format!("{}{dialer_node_name}", switchyard_protocol::LINK_USER_PREFIX)
}

const MASK: &str = "********";

fn masked(op: &Request) -> Value {
    let mut v = op.body();
    if let Some(p) = v.get_mut("password") {
        *p = Value::from(MASK);
    }
    if let Some(p) = v.get_mut("authorization").and_then(|a| a.get_mut("password")) {
        *p = Value::from(MASK);
    }
    v
}

impl Plan {
    /// What the dialog shows.
    pub fn preview(&self, id: &str) -> LinkPlan {
        LinkPlan {
            id: id.to_string(),
            summary: self.summary.clone(),
            notes: self.notes.clone(),
            steps: self
                .steps
                .iter()
                .map(|s| PlanStep {
                    instance: self.parties[s.party].id.clone(),
                    instance_name: self.parties[s.party].name.clone(),
                    operation: s.op.name().to_string(),
                    request: masked(&s.op),
                })
                .collect(),
        }
    }

    /// Sends every step in order; on the first failure undoes what was done, newest first.
    pub async fn apply(&self) -> ApplyReport {
        let mut report = ApplyReport { ok: true, steps: Vec::new(), undone: Vec::new(), left_behind: Vec::new() };
        // Indices of the steps to take back on a failure, and the failed one when it may have
        // changed something anyway.
        let mut done: Vec<usize> = Vec::new();
        let mut failed = None;
        for (i, step) in self.steps.iter().enumerate() {
            let party = &self.parties[step.party];
            let answer = step.op.send(&party.client).await;
            let ok = answer.is_ok();
            report.steps.push(StepResult {
                instance_name: party.name.clone(),
                operation: step.op.name().into(),
                ok,
                message: match answer {
                    Ok(v) => v.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| "done".into()),
                    Err(e) => e.to_string(),
                },
            });
            if !ok {
                report.ok = false;
                if step.undo_if_failed {
                    done.push(i);
                    failed = Some(i);
                }
                break;
            }
            done.push(i);
        }
        if report.ok {
            return report;
        }
        for i in done.into_iter().rev() {
            let step = &self.steps[i];
            let party = &self.parties[step.party];
            let Some(undo) = &step.undo else {
                report.left_behind.push(format!("{} on {} cannot be taken back", step.op.name(), party.name));
                continue;
            };
            let answer = undo.send(&party.client).await;
            // The failed step may have left nothing: its undo then finds nothing to remove.
            if failed == Some(i) && answer.as_ref().is_err_and(|e| matches!(e.code(), ErrorCode::BadRequest | ErrorCode::NotFound)) {
                report.undone.push(StepResult {
                    instance_name: party.name.clone(),
                    operation: undo.name().into(),
                    ok: true,
                    message: format!("the failed {} had left nothing to take back", step.op.name()),
                });
                continue;
            }
            if let Err(e) = &answer {
                report.left_behind.push(format!("{} on {} was not undone ({} failed: {e})", step.op.name(), party.name, undo.name()));
            }
            report.undone.push(StepResult {
                instance_name: party.name.clone(),
                operation: undo.name().into(),
                ok: answer.is_ok(),
                message: match answer {
                    Ok(_) => format!("undid {}", step.op.name()),
                    Err(e) => e.to_string(),
                },
            });
        }
        report
    }
}

/// The role permission that lets a link carry exactly `subscriptions` (from the dialler's
/// side): read what the dialler pulls, insert/update/delete what it pushes, and relay the
/// entries of `relay_origins` (when it pushes anything) besides its own.
pub fn link_permission(subscriptions: &[NodeSubscription], relay_origins: &[String]) -> Value {
    let mut dbs: BTreeMap<String, DatabasePermission> = BTreeMap::new();
    for s in subscriptions {
        let (read, write) = (s.subscribe, s.publish);
        let table = TablePermission { read, insert: write, update: write, delete: write, attribute_permissions: vec![] };
        dbs.entry(s.channel.database.clone()).or_default().tables.insert(s.channel.table.clone(), table);
    }
    let mut permission = serde_json::Map::new();
    permission.insert("super_user".into(), Value::Bool(false));
    let mut relay: Vec<&String> = relay_origins.iter().collect();
    relay.sort();
    relay.dedup();
    if subscriptions.iter().any(|s| s.publish) && !relay.is_empty() {
        permission.insert(switchyard_protocol::RELAY_ORIGINS.into(), Value::from(relay.into_iter().cloned().collect::<Vec<_>>()));
    }
    for (db, tables) in dbs {
        permission.insert(db, serde_json::to_value(tables).unwrap_or(Value::Null));
    }
    Value::Object(permission)
}

/// The dialler's subscriptions for the request's channels.
pub fn subscriptions(req: &LinkRequest) -> Result<Vec<NodeSubscription>> {
    let mut out: Vec<NodeSubscription> = Vec::new();
    for c in &req.channels {
        let channel: Channel = c.channel.parse().map_err(Error::Invalid)?;
        // From the dialler's side: what flows to it is a subscribe, what flows from it a publish.
        let (to_a, to_b) = match c.direction {
            Direction::AToB => (false, true),
            Direction::BToA => (true, false),
            Direction::Both => (true, true),
        };
        let (subscribe, publish) = if req.b_dials { (to_b, to_a) } else { (to_a, to_b) };
        match out.iter_mut().find(|s| s.channel == channel) {
            Some(s) => {
                s.subscribe |= subscribe;
                s.publish |= publish;
            }
            None => out.push(NodeSubscription { channel, subscribe, publish }),
        }
    }
    if out.is_empty() {
        return Err(Error::Invalid("choose at least one channel for the link".into()));
    }
    Ok(out)
}

fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..32).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

fn host_port(url: &str) -> Result<(String, u16)> {
    let u = reqwest::Url::parse(url).map_err(|e| Error::Invalid(format!("'{url}' is not a valid URL: {e}")))?;
    let host = u.host_str().ok_or_else(|| Error::Invalid(format!("'{url}' names no host")))?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = u.port_or_known_default().ok_or_else(|| Error::Invalid(format!("'{url}' names no port")))?;
    Ok((host, port))
}

/// The plan that makes the link carry exactly the request's channels: a new user, role and
/// add_node, or, for a link that exists, the role changed and update_node.
/// The plan of a link between two switchyard-nodes (`instance::plan_link` picks by kind).
pub async fn plan_link(req: &LinkRequest, a: Party, b: Party) -> Result<Plan> {
    if a.id == b.id {
        return Err(Error::Invalid("a link needs two different instances".into()));
    }
    let subs = subscriptions(req)?;
    // parties[0] dials, parties[1] is dialled.
    let parties = if req.b_dials { vec![b, a] } else { vec![a, b] };
    let (d, t) = (&parties[0], &parties[1]);
    let status: ClusterStatus = d.client.run_as(&Operation::ClusterStatus(NoFields {})).await?;
    let existing = status.connections.iter().find(|l| l.name == t.node_name);
    let user = link_user(&d.node_name);
    let roles: Vec<RoleReply> = t.client.run_as(&Operation::ListRoles(NoFields {})).await?;
    let previous_role = roles.into_iter().find(|r| r.id == user).map(|r| r.permission);
    let relay: Vec<String> = req.relay_origins.iter().filter(|o| **o != d.node_name).cloned().collect();
    let permission = link_permission(&subs, &relay);
    let names = subs.iter().map(|s| s.channel.to_string()).collect::<Vec<_>>().join(", ");
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let summary = match existing {
        Some(link) => {
            if let Some(previous) = previous_role {
                steps.push(Step::node(
                    1,
                    Operation::AlterRole(RoleDef { id: Some(user.clone()), role: None, permission }),
                    Some(Operation::AlterRole(RoleDef { id: Some(user.clone()), role: None, permission: previous })),
                ));
            }
            steps.push(Step::node(
                0,
                Operation::UpdateNode(AddNode { name: t.node_name.clone(), host: None, port: None, subscriptions: subs.clone(), authorization: None, tls: None, paused: None }),
                Some(Operation::UpdateNode(AddNode { name: t.node_name.clone(), host: None, port: None, subscriptions: link.subscriptions.clone(), authorization: None, tls: None, paused: None })),
            ));
            format!("{} already links to {}: it will carry {names}", d.name, t.name)
        }
        None => {
            let (host, port) = host_port(&t.url)?;
            let password = random_password();
            match previous_role {
                // A role left from an earlier link of the same dialler is reused.
                Some(previous) => steps.push(Step::node(
                    1,
                    Operation::AlterRole(RoleDef { id: Some(user.clone()), role: None, permission }),
                    Some(Operation::AlterRole(RoleDef { id: Some(user.clone()), role: None, permission: previous })),
                )),
                None => steps.push(Step::node(
                    1,
                    Operation::AddRole(RoleDef { id: None, role: Some(user.clone()), permission }),
                    Some(Operation::DropRole(RoleRef { id: user.clone() })),
                )),
            }
            // A user left from an earlier link of the same dialler (removed from the dialler
            // alone) gets the new password instead; its old one is not known, so that step
            // cannot be taken back.
            let users: Vec<UserReply> = t.client.run_as(&Operation::ListUsers(NoFields {})).await?;
            if users.iter().any(|u| u.username == user) {
                notes.push(format!("{} still has the user '{user}' of an earlier link from {}: it is given the new password and role", t.name, d.name));
                steps.push(Step::node(
                    1,
                    Operation::AlterUser(AlterUser { username: user.clone(), password: Some(password.clone()), role: Some(user.clone()), active: Some(true) }),
                    None,
                ));
            } else {
                steps.push(Step::node(
                    1,
                    Operation::AddUser(AddUser { username: user.clone(), password: password.clone(), role: user.clone(), active: true }),
                    Some(Operation::DropUser(UserRef { username: user.clone() })),
                ));
            }
            let tls = t.url.starts_with("https://").then(|| t.trust.clone());
            steps.push(Step::node(
                0,
                Operation::AddNode(AddNode {
                    name: t.node_name.clone(),
                    host: Some(host),
                    port: Some(port),
                    subscriptions: subs.clone(),
                    authorization: Some(NodeAuthorization { username: user.clone(), password }),
                    tls,
                    paused: None,
                }),
                Some(Operation::RemoveNode(RemoveNode { name: t.node_name.clone() })),
            ));
            format!("{} dials {} as '{user}', a user that may replicate only {names}", d.name, t.name)
        }
    };
    Ok(Plan { parties, steps, summary, notes })
}

/// The plan that removes the link `dialer` runs to `link_name`, and the user and role the
/// studio made for it on `dialled` (when there is one).
pub async fn plan_unlink(dialer: Party, link_name: &str, dialled: Option<Party>) -> Result<Plan> {
    let status: ClusterStatus = dialer.client.run_as(&Operation::ClusterStatus(NoFields {})).await?;
    if !status.connections.iter().any(|l| l.name == link_name) {
        return Err(Error::Invalid(format!("{} has no link to {link_name}", dialer.name)));
    }
    let user = link_user(&dialer.node_name);
    let mut steps = vec![Step::node(0, Operation::RemoveNode(RemoveNode { name: link_name.to_string() }), None)];
    let mut parties = vec![dialer];
    let mut summary = format!("{} stops linking to {link_name}", parties[0].name);
    if let Some(t) = dialled {
        let users: Vec<UserReply> = t.client.run_as(&Operation::ListUsers(NoFields {})).await?;
        if users.iter().any(|u| u.username == user) {
            steps.push(Step::node(1, Operation::DropUser(UserRef { username: user.clone() }), None));
            steps.push(Step::node(1, Operation::DropRole(RoleRef { id: user.clone() }), None));
            summary = format!("{summary}; the user '{user}' made for it on {} is removed", t.name);
        }
        parties.push(t);
    }
    Ok(Plan { parties, steps, summary, notes: Vec::new() })
}
