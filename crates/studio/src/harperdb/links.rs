//! Links between HarperDB instances, in HarperDB's own operations: add_node or update_node with
//! per-table subscriptions, remove_node (see `crate::links` for the plans they become).

use switchyard_client::harperdb::{self, Node, NodeRef, Subscription};
use switchyard_client::Credentials;
use switchyard_protocol::ops::{NodeAuthorization, NodeSubscription};

use crate::error::{Error, Result};
use crate::links::{Party, Plan, Request, Step};

/// The link between two HarperDB instances, in HarperDB's add_node form: the dialler is given
/// the peer's replication URL and, once, credentials on the peer (HarperDB uses them to have
/// the peer sign its certificate; it has no per-link user). Per-table subscriptions, as the
/// dialog chose them.
pub async fn plan_link(parties: Vec<Party>, subs: Vec<NodeSubscription>) -> Result<Plan> {
    let (d, t) = (&parties[0], &parties[1]);
    let peer = t.client.harperdb_cluster().await?;
    let url = t.client.harperdb_peer_url().await?;
    let authorization = match t.client.credentials() {
        Credentials::Basic { username, password } => NodeAuthorization { username: username.clone(), password: password.clone() },
        _ => return Err(Error::Invalid(format!("the studio holds no user name and password for {}, which add_node needs", t.name))),
    };
    let mine = d.client.harperdb_cluster().await?;
    let hostname = peer.status.node_name.clone();
    let names = subs.iter().map(|s| s.channel.to_string()).collect::<Vec<_>>().join(", ");
    let subscriptions = Some(subs.iter().map(Subscription::from_node).collect::<Vec<_>>());
    let existing = mine.status.connections.iter().find(|c| c.name == hostname).map(|c| c.subscriptions.clone()).or_else(|| mine.nodes.iter().find(|n| n.name == hostname).map(|n| n.subscriptions.clone()));
    let mut notes = vec![
        "HarperDB calls per-table subscriptions discouraged: by default it replicates every database both ways (a full mesh). A \
         subscription copies no row that existed before it, and fails until a restart if the table is missing on the subscribing \
         node."
            .to_string(),
    ];
    let (step, summary) = match existing {
        Some(previous) => {
            let undo = previous.clone().map(|p| Request::HarperDb(harperdb::Request::UpdateNode(Node { hostname: hostname.clone(), url: None, verify_tls: None, authorization: None, subscriptions: Some(p) })));
            if undo.is_none() {
                notes.push(format!("{} and {} replicate as a full mesh now: update_node cannot put that back if a later step fails.", d.name, t.name));
            }
            let op = Request::HarperDb(harperdb::Request::UpdateNode(Node { hostname: hostname.clone(), url: None, verify_tls: None, authorization: None, subscriptions }));
            (Step { party: 0, op, undo, undo_if_failed: false }, format!("{} already replicates with {}: it will carry {names}", d.name, t.name))
        }
        None => {
            let op = Request::HarperDb(harperdb::Request::AddNode(Node {
                hostname: hostname.clone(),
                url: Some(url.clone()),
                verify_tls: Some(false),
                authorization: Some(authorization.clone()),
                subscriptions,
            }));
            let undo = Some(Request::HarperDb(harperdb::Request::RemoveNode(NodeRef { hostname: hostname.clone() })));
            let summary = format!(
                "{} adds {} ({url}) as a HarperDB node carrying {names}, logging in once as {}'s user '{}' to have its certificate signed",
                d.name, t.name, t.name, authorization.username
            );
            // HarperDB stores the node even when the peer cannot be reached: a failed add_node is removed again.
            (Step { party: 0, op, undo, undo_if_failed: true }, summary)
        }
    };
    Ok(Plan { parties, steps: vec![step], summary, notes })
}

/// The plan that removes a HarperDB instance's link to `link_name` (HarperDB's remove_node).
pub async fn plan_unlink(dialer: Party, link_name: &str) -> Result<Plan> {
    let cluster = dialer.client.harperdb_cluster().await?;
    if !cluster.nodes.iter().any(|n| n.name == link_name) && !cluster.status.connections.iter().any(|c| c.name == link_name) {
        return Err(Error::Invalid(format!("{} has no link to {link_name}", dialer.name)));
    }
    let op = Request::HarperDb(harperdb::Request::RemoveNode(NodeRef { hostname: link_name.to_string() }));
    let summary = format!("{} stops replicating with {link_name} (the removal reaches every node of its mesh through hdb_nodes)", dialer.name);
    let notes = vec![format!(
        "HarperDB 4.7 can keep a removed link running until its HTTP workers restart (restart_service http_workers on {}); the \
         canvas warns while it does.",
        dialer.name
    )];
    Ok(Plan { parties: vec![dialer], steps: vec![Step { party: 0, op, undo: None, undo_if_failed: false }], summary, notes })
}
