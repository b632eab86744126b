//! Bounded waits: every loop a test runs to wait for something ends, with what it waited for.

use std::time::{Duration, Instant};

/// How long `eventually` and `eventually_some` wait.
pub const WAIT: Duration = Duration::from_secs(30);
const EVERY: Duration = Duration::from_millis(50);

/// `N` distinct ports free on 127.0.0.1 now (for a process that must be told its ports before it
/// binds). Every listener is held until all are drawn: ports drawn one at a time can repeat, and
/// a HarperDB given one port for two servers refuses to start.
pub fn free_ports<const N: usize>() -> std::io::Result<[u16; N]> {
    let held = (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0")).collect::<std::io::Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&held) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Waits until `check` holds, asking every 50 ms; panics with `what` after `WAIT`.
pub async fn eventually(what: &str, check: impl AsyncFn() -> bool) {
    eventually_some(what, async || check().await.then_some(())).await
}

/// Waits until `check` answers `Some`, asking every 50 ms, and returns what it answered; panics
/// with `what` after `WAIT`.
pub async fn eventually_some<T>(what: &str, check: impl AsyncFn() -> Option<T>) -> T {
    eventually_some_within(what, WAIT, check).await
}

/// `eventually_some` with its own bound. `what` may name the last state seen: it is asked for
/// only when the wait fails.
pub async fn eventually_some_within<T>(what: impl std::fmt::Display, wait: Duration, check: impl AsyncFn() -> Option<T>) -> T {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {:.1} s: {what}", wait.as_secs_f64());
        tokio::time::sleep(EVERY).await;
    }
}

/// A wait that ran out: what was waited for, and for how long.
#[derive(Debug)]
pub struct TimedOut(pub String);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Waits until `check` answers `Ok(Some)`, asking every `every`, for tests that return errors
/// rather than panic: an `Err` from `check` ends the wait with it; running out of `wait` is a
/// `TimedOut` naming `what`.
pub async fn until<T, E: From<TimedOut>>(what: impl std::fmt::Display, wait: Duration, every: Duration, check: impl AsyncFn() -> Result<Option<T>, E>) -> Result<T, E> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(TimedOut(format!("not within {:.1} s: {what}", wait.as_secs_f64())).into());
        }
        tokio::time::sleep(every).await;
    }
}
