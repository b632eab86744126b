//! `#subscribe` (live, or resuming after a transaction id) and `#unsubscribe`, with the
//! permission check that channels share with publishing.

use super::*;

impl Conn {
    /// The channel named in `data`, and whether `who` may use it for `access`.
    pub(super) fn channel_access(&self, data: &Value, needs: &[Access], verb: &str) -> Result<(Channel, Principal), ScError> {
        let name = data.get("channel").and_then(Value::as_str).ok_or_else(|| {
            let what = if verb == "subscribe" { "Subscribe" } else { "Publish" };
            error_object("InvalidActionError", format!("{what} channel name was malformatted"))
        })?;
        let Some(who) = self.who.clone() else {
            let name_kind = if verb == "subscribe" { "SubscribeAuthError" } else { "PublishAuthError" };
            return Err(error_object(name_kind, format!("You must be logged in to {verb} to {name}")));
        };
        let channel: Channel = name.parse().map_err(|e: String| error_object("InvalidActionError", e))?;
        // Permission first, by name: a user without it is refused alike whether the table
        // exists or not.
        if let Some(missing) = needs.iter().find(|a| !who.allows(&channel.database, &channel.table, **a)) {
            let needed = missing.key();
            let name_kind = if verb == "subscribe" { "SubscribeAuthError" } else { "PublishAuthError" };
            return Err(error_object(name_kind, format!("user '{}' needs {needed} permission on {}.{}", who.username, channel.database, channel.table)));
        }
        if let Err(e) = self.node.store.table(&channel.database, &channel.table) {
            return Err(error_object("InvalidActionError", e.to_string()));
        }
        Ok((channel, who))
    }

    /// `#subscribe {channel[, from]}`. With `from` (a transaction id, an extension of the
    /// protocol) the entries after it are sent from the log before the live ones, with no gap
    /// and no duplicate at the seam: the feed is taken first, the log read up to what is
    /// committed, and feed entries up to the last one read are skipped.
    pub(super) async fn subscribe(&mut self, cid: Option<i64>, data: &Value) {
        let from = match data.get("from") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64().filter(|f| *f >= 0) {
                Some(f) => Some(f),
                None => return self.fail(cid, error_object("InvalidActionError", "Subscribe 'from' must be a transaction id (an integer from 0)")),
            },
        };
        let channel = match self.channel_access(data, &[Access::Read], "subscribe") {
            Ok((c, _)) => c.to_string(),
            Err(e) => return self.fail(cid, e),
        };
        if self.feed.is_none() {
            self.feed = Some(self.node.store.subscribe_commits());
        }
        let Some(from) = from else {
            self.channels.insert(channel);
            return self.done(cid);
        };
        // Pages (each at most about a megabyte) until one finds nothing more.
        let (mut entries, mut sent_upto) = (Vec::new(), from);
        while entries.len() <= RESUME_MAX {
            let page = match self.node.store.log_committed_after(&channel, sent_upto, (RESUME_MAX + 1 - entries.len()) as i64).await {
                Ok(p) => p,
                Err(e) => return self.fail(cid, error_object("BrokerError", e.to_string())),
            };
            if page.upto == sent_upto {
                break;
            }
            sent_upto = page.upto;
            entries.extend(page.entries);
        }
        if entries.len() > RESUME_MAX {
            let message = format!(
                "more than {RESUME_MAX} transactions follow {from} on {channel}; read them with read_transaction_log and \
                 subscribe from a later id"
            );
            return self.fail(cid, error_object("ResumeTooFarError", message));
        }
        self.channels.insert(channel.clone());
        self.done(cid);
        for entry in &entries {
            let Some(frame) = publish_frame(&channel, entry) else { continue };
            self.send_text(frame);
            if self.overflowed {
                return;
            }
        }
        self.resumed.insert(channel, sent_upto);
    }

    pub(super) fn unsubscribe(&mut self, cid: Option<i64>, data: &Value) {
        let channel = data.as_str().or_else(|| data.get("channel").and_then(Value::as_str)).unwrap_or("");
        self.resumed.remove(channel);
        match self.channels.remove(channel) {
            true => self.done(cid),
            false => self.fail(cid, error_object("BrokerError", format!("Failed to unsubscribe socket from the never-subscribed channel {channel}"))),
        }
    }
}
