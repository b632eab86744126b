//! Who is on a socket: the handshake (with an auth token), `login`, `#authenticate`,
//! `#removeAuthToken`, and the re-check when users or roles change.

use super::*;

impl Conn {
    pub(super) async fn handshake(&mut self, cid: Option<i64>, data: &Value) {
        self.handshaken = true;
        self.last_pong = Instant::now();
        self.anonymous_since = Some(tokio::time::Instant::now());
        let auth_error = match data.get("authToken") {
            None | Some(Value::Null) => None,
            Some(Value::String(token)) => match self.node.auth.bearer_until(token).await {
                Ok((p, exp)) => {
                    self.signed_in(p, Some(exp));
                    None
                }
                Err(_) => Some(ScError::bad_token("AuthTokenInvalidError", "invalid token")),
            },
            Some(_) => Some(ScError::bad_token("AuthTokenError", "Invalid token format - Token must be a string")),
        };
        let bad_token = auth_error.is_some();
        let reply = sc::HandshakeReply { id: self.id.clone(), ping_timeout: self.node.config.socket_ping_timeout.as_millis() as u64, is_authenticated: self.who.is_some(), auth_error };
        self.reply(cid, Some(&reply));
        if bad_token {
            self.send_text(sc::signal(sc::name::REMOVE_AUTH_TOKEN));
        }
    }

    pub(super) async fn authenticate(&mut self, cid: Option<i64>, data: &Value) {
        let token = data.as_str().unwrap_or("");
        match self.node.auth.bearer_until(token).await {
            Ok((p, exp)) => {
                self.signed_in(p, Some(exp));
                self.reply(cid, Some(&sc::AuthenticateReply { is_authenticated: true, auth_error: None }));
            }
            Err(_) => {
                self.fail(cid, ScError::bad_token("AuthTokenInvalidError", "invalid token"));
                self.deauthenticate();
                self.send_text(sc::signal(sc::name::REMOVE_AUTH_TOKEN));
            }
        }
    }

    /// Takes `who` as this socket's identity; `token_exp` (epoch seconds) when it came from a
    /// token, which the socket then loses at that second exactly.
    fn signed_in(&mut self, who: Principal, token_exp: Option<u64>) {
        self.who = Some(who);
        self.anonymous_since = None;
        self.token_until = token_exp.map(|exp| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            tokio::time::Instant::now() + Duration::from_secs(exp).saturating_sub(now)
        });
    }

    /// The token this socket authenticated with expired: as `#removeAuthToken`, announced.
    pub(super) fn token_expired(&mut self) {
        if let Some(who) = &self.who {
            self.node.log.info(&["auth", "socket"], format!("the token of '{}' expired: its socket is logged out", who.username));
        }
        self.deauthenticate();
        self.send_text(sc::signal(sc::name::REMOVE_AUTH_TOKEN));
    }

    /// Loses the identity and with it every subscription, each announced with `#kickOut`.
    pub(super) fn deauthenticate(&mut self) {
        self.who = None;
        self.token_until = None;
        if self.anonymous_since.is_none() {
            self.anonymous_since = Some(tokio::time::Instant::now());
        }
        self.peer = None;
        for (_, task) in self.streams.drain() {
            task.abort();
        }
        let dropped: Vec<String> = self.channels.drain().collect();
        for channel in dropped {
            self.event(sc::name::KICK_OUT, &sc::KickOut { channel, message: Some("authentication was removed".into()) });
        }
    }

    /// Users or roles changed: reloads this socket's user. A dropped or deactivated user loses
    /// its identity (every channel kicked out, `#removeAuthToken`); a user whose role no longer
    /// reads a channel is kicked out of it; later publishes are checked against the new role;
    /// a replication peer loses the streams of channels its role no longer reads.
    pub(super) async fn recheck(&mut self) {
        self.permissions.borrow_and_update();
        let Some(old) = self.who.clone() else { return };
        let current = match self.node.auth.principal(&old.username).await {
            Ok(p) => p,
            Err(e) => {
                // Cannot tell: fail closed.
                self.node.log.error(&["auth", "socket"], format!("re-checking '{}' failed: {e}", old.username));
                None
            }
        };
        let Some(who) = current else {
            self.node.log.info(&["auth", "socket"], format!("user '{}' is gone: its socket is logged out", old.username));
            self.deauthenticate();
            self.send_text(sc::signal(sc::name::REMOVE_AUTH_TOKEN));
            return;
        };
        let lost: Vec<String> = self
            .channels
            .iter()
            .filter(|c| match c.parse::<Channel>() {
                Ok(ch) => !who.allows(&ch.database, &ch.table, Access::Read),
                Err(_) => true,
            })
            .cloned()
            .collect();
        for channel in lost {
            self.channels.remove(&channel);
            let message = format!("user '{}' may no longer read {channel}", who.username);
            self.event(sc::name::KICK_OUT, &sc::KickOut { channel, message: Some(message) });
        }
        // A peer's log streams end on every channel its role no longer reads; batches it pushes
        // are checked against the new role as they come.
        let unread: Vec<String> = self
            .streams
            .keys()
            .filter(|k| {
                let channel = k.strip_prefix("sy:").and_then(|c| c.parse::<Channel>().ok());
                !channel.is_some_and(|c| who.replicates(&c.database, &c.table, false))
            })
            .cloned()
            .collect();
        for key in unread {
            if let Some(task) = self.streams.remove(&key) {
                task.abort();
            }
        }
        self.who = Some(who);
    }

    pub(super) async fn login(&mut self, cid: Option<i64>, data: &Value) {
        let (Some(user), Some(password)) = (data.get("username").and_then(Value::as_str), data.get("password").and_then(Value::as_str)) else {
            self.fail(cid, error_object("LoginError", "login needs {\"username\", \"password\"}"));
            return;
        };
        let principal = match self.node.auth.login(user, password, self.from).await {
            Ok(p) => p,
            Err(Error::Unauthorized(_)) => {
                self.node.log.info(&["auth", "socket"], format!("socket login failed for user '{user}'"));
                self.fail(cid, error_object("LoginError", "Invalid username or password"));
                return;
            }
            // Throttled or busy: said as it is, with when to try again.
            Err(e) => return self.fail(cid, error_object("LoginError", e.to_string())),
        };
        match self.node.auth.issue_tokens(&principal) {
            Ok(tokens) => {
                self.reply(cid, Some(&sc::LoginReply { username: principal.username.clone() }));
                self.event(sc::name::SET_AUTH_TOKEN, &sc::AuthToken { token: tokens.operation_token });
                // A password login stays for the socket's life (replication links rely on it);
                // only a token brought to the socket expires on it.
                self.signed_in(principal, None);
            }
            Err(e) => self.fail(cid, error_object("AuthError", e.to_string())),
        }
    }
}
