//! The small things every test and benchmark here needs once: a free loopback port and a
//! bounded wait for a condition.

use std::time::{Duration, Instant};

/// How long `eventually` waits, and how often it asks.
pub const WAIT: Duration = Duration::from_secs(30);
const EVERY: Duration = Duration::from_millis(50);

/// A port free on 127.0.0.1 now (for a process that must be told its port before it binds).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `check` holds, asking every 50 ms; panics with `what` after `WAIT`.
pub async fn eventually(what: &str, check: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {} s: {what}", WAIT.as_secs());
        tokio::time::sleep(EVERY).await;
    }
}
