//! Replication on a socket a peer opened: `sy:hello`, `sy:pull` (stream our log), `sy:offer`,
//! `sy:txns` (apply, refuse a gap), `sy:ack`.

use super::*;

impl Conn {
    /// A peer node introduces itself. Any user may: what it may then pull or push is checked
    /// per channel against its role (`Principal::replicates`).
    ///
    /// Who the peer is (whose positions and acknowledgements it moves) follows its user: a super
    /// or cluster user is trusted with the name it gives; a link user (`sy_link_<node>`) with a
    /// limited role speaks for its node only; any other limited user is known by its user name,
    /// whatever it claims. So no peer moves another node's positions by naming it.
    pub(super) fn peer_hello(&mut self, cid: Option<i64>, data: &Value) {
        let Some(who) = &self.who else {
            return self.fail(cid, error_object("AuthError", "log in before sy:hello"));
        };
        let Some(name) = data.get("node_name").and_then(Value::as_str) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:hello needs node_name"));
        };
        let peer = if who.replicates_everything() {
            name.to_string()
        } else {
            match who.username.strip_prefix(switchyard_protocol::LINK_USER_PREFIX) {
                Some(bound) if bound == name => name.to_string(),
                Some(bound) => {
                    let msg = format!("user '{}' links node '{bound}' and cannot speak for '{name}'", who.username);
                    self.node.log.warn(&["replication", "auth"], format!("sy:hello refused: {msg}"));
                    return self.fail(cid, error_object("AuthError", msg));
                }
                None => who.username.clone(),
            }
        };
        self.node.log.info(&["replication"], format!("peer '{peer}' connected as '{}' (says it is '{name}')", who.username));
        self.peer = Some(peer);
        let me = self.node.config.node_name.clone();
        self.reply(cid, Some(&sc::Hello { node_name: me }));
    }

    /// The channel a peer names, if its user may replicate it in that direction (`push`: the
    /// peer writes to us).
    pub(super) fn peer_channel(&mut self, cid: Option<i64>, data: &Value, push: bool) -> Option<(String, Channel)> {
        let (Some(peer), Some(who)) = (self.peer.clone(), self.who.clone()) else {
            self.fail(cid, error_object("AuthError", "say sy:hello first"));
            return None;
        };
        let channel = match data.get("channel").and_then(Value::as_str).map(str::parse::<Channel>) {
            Some(Ok(c)) => c,
            _ => {
                self.fail(cid, error_object("InvalidArgumentsError", "a channel 'database:table' is required"));
                return None;
            }
        };
        if !who.replicates(&channel.database, &channel.table, push) {
            let needs = if push { "insert, update and delete" } else { "read" };
            let msg = format!("user '{}' may not replicate {channel}: its role needs {needs} on {}.{}", who.username, channel.database, channel.table);
            self.fail(cid, error_object("AuthError", msg));
            return None;
        }
        Some((peer, channel))
    }

    /// The peer subscribes: stream our log on the channel from its position, backlog then live.
    pub(super) async fn peer_pull(&mut self, cid: Option<i64>, data: &Value) {
        let Some((peer, channel)) = self.peer_channel(cid, data, false) else { return };
        let meta = match self.node.store.table(&channel.database, &channel.table) {
            Ok(m) => m,
            Err(e) => return self.fail(cid, error_object("InvalidArgumentsError", e.to_string())),
        };
        let Some(from) = data.get("from").and_then(Value::as_i64) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:pull needs 'from', the position to continue after"));
        };
        // The peer holds our log up to where it asks to continue.
        let user = self.who.as_ref().map(|w| w.username.clone());
        self.node.acks.record_as(&peer, &channel.to_string(), from, user.as_deref());
        let key = format!("sy:{channel}");
        if let Some(old) = self.streams.remove(&key) {
            old.abort();
        }
        let sent = crate::replication::stream::Progress::at(from);
        let task = self.node.tasks.spawn(crate::replication::stream::stream_log(self.node.store.clone(), channel.to_string(), peer, from, self.out.clone(), sent));
        self.streams.insert(key, task);
        let pk = meta.primary_key.clone();
        self.reply(cid, Some(&sc::PullReply { primary_key: pk }));
    }

    /// The peer will publish to us: make sure the table exists and tell it where we stand.
    pub(super) async fn peer_offer(&mut self, cid: Option<i64>, data: &Value) {
        let Some((peer, channel)) = self.peer_channel(cid, data, true) else { return };
        let Some(pk) = data.get("primary_key").and_then(Value::as_str) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:offer needs the table's 'primary_key'"));
        };
        // A user limited to some tables may write into them, never create one.
        let may_create = self.who.as_ref().is_some_and(|w| w.replicates_everything());
        let ensured = if may_create { self.node.store.ensure_table(&channel.database, &channel.table, pk).await } else { self.node.store.table(&channel.database, &channel.table).map(|_| ()) };
        let prepared = match ensured {
            Ok(()) => self.node.store.peer_position(&peer, &channel.to_string()).await,
            Err(e) => Err(e),
        };
        match prepared {
            Ok(from) => self.reply(cid, Some(&sc::OfferReply { from })),
            Err(e) => self.fail(cid, error_object("InvalidArgumentsError", e.to_string())),
        }
    }

    /// The peer applied our log on a channel up to a position (see `replication::acks`).
    pub(super) fn peer_ack(&mut self, data: &Value) {
        let (Some(peer), Some(channel), Some(upto)) = (self.peer.as_deref(), data.get("channel").and_then(Value::as_str), data.get("upto").and_then(Value::as_i64)) else {
            return;
        };
        self.node.acks.record_as(peer, channel, upto, self.who.as_ref().map(|w| w.username.as_str()));
    }

    /// A batch the peer publishes to us. One that skips past where we stand is refused and the
    /// peer asked (once per position) to resend from there.
    pub(super) async fn peer_txns(&mut self, cid: Option<i64>, data: super::inbound::Data<'_>) {
        let (Some(peer), Some(who)) = (self.peer.clone(), self.who.clone()) else {
            return self.fail(cid, error_object("AuthError", "say sy:hello first"));
        };
        let batch: Txns<RemoteEntry> = match data.read() {
            Ok(b) => b,
            Err(e) => {
                self.node.log.error(&["replication"], format!("a malformed batch from '{peer}' was refused: {e}"));
                self.fail(cid, error_object("InvalidArgumentsError", format!("malformed sy:txns: {e}")));
                self.overflowed = true; // close: the peer reconnects and resends from our position
                return;
            }
        };
        let allowed = batch.channel.parse::<Channel>().is_ok_and(|c| who.replicates(&c.database, &c.table, true));
        if !allowed {
            let msg = format!("user '{}' may not write {}", who.username, batch.channel);
            self.node.log.warn(&["replication", "auth"], format!("a batch from '{peer}' was refused: {msg}"));
            return self.fail(cid, error_object("AuthError", msg));
        }
        // A limited user speaks for its own node, and relays the entries of the nodes its role
        // lists (chains) and no others: an entry in any other node's name is refused whole,
        // said and logged, and the socket closed (the peer reconnects and sends again from our
        // position, so nothing is lost once its role lists the origin). What it relays never
        // moves those nodes' own positions: it is kept to its path.
        let relay = (!who.replicates_everything()).then_some(who.username.as_str());
        if relay.is_some() {
            let allowed = who.role.relay_origins();
            if let Some(e) = batch.entries.iter().find(|e| e.origin != peer && !allowed.contains(&e.origin.as_str())) {
                let msg = format!(
                    "user '{}' (node '{peer}') may not relay entries of origin '{}' on {}: its role's {} are [{}]",
                    who.username,
                    e.origin,
                    batch.channel,
                    switchyard_protocol::RELAY_ORIGINS,
                    allowed.join(", ")
                );
                self.node.log.warn(&["replication", "auth"], format!("a batch from '{peer}' was refused: {msg}"));
                self.fail(cid, error_object("AuthError", msg.clone()));
                self.refused = Some(msg);
                return;
            }
        }
        match crate::replication::apply_batch(&self.node.store, &peer, batch, relay).await {
            Ok(ack) => {
                self.done(cid);
                self.gaps.remove(&ack.channel);
                self.send_text(sc::event(name::ACK, &ack));
            }
            Err(Error::Gap { channel, at, from }) => {
                if self.gaps.get(&channel) != Some(&at) {
                    self.node.log.warn(&["replication"], format!("a batch from '{peer}' on {channel} continues from {from}, past {at}: asking again"));
                    self.gaps.insert(channel.clone(), at);
                    self.send_text(sc::event(name::GAP, &Gap { channel, at }));
                }
                self.done(cid);
            }
            Err(e) => {
                self.node.log.error(&["replication"], format!("applying a batch from '{peer}' failed: {e}"));
                self.fail(cid, error_object("ApplyError", e.to_string()));
                self.overflowed = true; // close: the peer reconnects and resends from our position
            }
        }
    }
}
