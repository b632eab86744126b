//! A connection its owner reads directly, with no driver task and no queue between the socket
//! and the reader: for load generators and other hot readers that handle each frame themselves.
//! Pings are answered inside `next_text`; an invoke reads until its response, keeping the frames
//! that arrive meanwhile for `next_text`.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use switchyard_protocol::sc::{self, name, Frame, Handshake, HandshakeReply, Login, Packet, Response, Subscribe};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::dial::{Endpoint, Ws};
use crate::error::{Error, Result};
use crate::socket::Options;

pub struct DirectSocket {
    ws: Ws,
    next_cid: i64,
    answer_timeout: Duration,
    /// Frames read while an invoke waited for its response.
    kept: VecDeque<Utf8Bytes>,
    handshake: Option<HandshakeReply>,
}

impl DirectSocket {
    /// Connects and completes the handshake.
    pub async fn connect(endpoint: &Endpoint, options: &Options) -> Result<DirectSocket> {
        let ws = tokio::time::timeout(options.answer_timeout, endpoint.open(options.read_chunk))
            .await
            .map_err(|_| Error::Connect { url: endpoint.url(), reason: "timed out".into() })??;
        let mut socket = DirectSocket { ws, next_cid: 0, answer_timeout: options.answer_timeout, kept: VecDeque::new(), handshake: None };
        let reply: HandshakeReply = socket.invoke(name::HANDSHAKE, &Handshake { auth_token: options.auth_token.clone() }).await?.data()?;
        socket.handshake = Some(reply);
        Ok(socket)
    }

    pub fn handshake(&self) -> Option<&HandshakeReply> {
        self.handshake.as_ref()
    }

    /// Sends an invoke and reads until its response.
    pub async fn invoke<T: Serialize>(&mut self, procedure: &str, data: &T) -> Result<Response> {
        self.next_cid += 1;
        let cid = self.next_cid;
        self.send_frame(sc::invoke(procedure, data, cid)).await?;
        let deadline = tokio::time::Instant::now() + self.answer_timeout;
        loop {
            let text = tokio::time::timeout_at(deadline, self.read()).await.map_err(|_| Error::Timeout(procedure.to_string()))??;
            let Ok(Frame::Packets(packets)) = sc::decode(text.as_str()) else {
                self.kept.push_back(text);
                continue;
            };
            let answer = packets.into_iter().find_map(|p| match p {
                Packet::Response(r) if r.rid == cid => Some(r),
                _ => None,
            });
            match answer {
                Some(r) => {
                    return match r.error {
                        Some(error) => Err(Error::Refused { procedure: procedure.to_string(), error }),
                        None => Ok(r),
                    }
                }
                None => self.kept.push_back(text),
            }
        }
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Result<()> {
        self.invoke(name::LOGIN, &Login { username: username.into(), password: password.into() }).await.map(|_| ())
    }

    pub async fn subscribe(&mut self, channel: &str, from: Option<i64>) -> Result<()> {
        self.invoke(name::SUBSCRIBE, &Subscribe { channel: channel.into(), from }).await.map(|_| ())
    }

    /// Sends a frame encoded with `switchyard_protocol::sc`.
    pub async fn send_frame(&mut self, frame: String) -> Result<()> {
        self.ws.send(Message::text(frame)).await.map_err(|e| Error::Closed { code: None, reason: e.to_string() })
    }

    /// The next text frame that is not a ping (pings are answered here).
    pub async fn next_text(&mut self) -> Result<Utf8Bytes> {
        if let Some(t) = self.kept.pop_front() {
            return Ok(t);
        }
        self.read().await
    }

    async fn read(&mut self) -> Result<Utf8Bytes> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) if t.is_empty() => self.ws.send(Message::text("")).await.map_err(|e| Error::Closed { code: None, reason: e.to_string() })?,
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map(|f| (Some(u16::from(f.code)), f.reason.to_string())).unwrap_or((None, String::new()));
                    return Err(Error::Closed { code, reason });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Error::Closed { code: None, reason: e.to_string() }),
                None => return Err(Error::Closed { code: None, reason: "connection ended".into() }),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
