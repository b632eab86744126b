//! Relaying a tail into its session: events taken in batches as they come, and the window
//! handed what changed at most every `TAIL_SHOW`.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::lock;
use super::session::TailSession;
use super::socket::Tail;
use super::view::TailUpdate;
use crate::words::now_ms;

/// How often the window is handed what changed: a busy tail's list is redrawn four times a
/// second, which reads as live and leaves the window's main thread free in between.
pub const TAIL_SHOW: std::time::Duration = std::time::Duration::from_millis(250);

/// Events taken from a tail at once.
const FEED_MAX: usize = 5000;

/// The ticks at which a window is handed what changed (a late tick is not made up for).
pub(super) fn show_every() -> tokio::time::Interval {
    let mut every = tokio::time::interval(TAIL_SHOW);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// Feeds `tail`'s events into `session` and hands `sink` what changed every `TAIL_SHOW`, until
/// the tail ends, `stop` fires, or `sink` answers false; then stops the tail and hands the last
/// update (the session says it stopped).
pub async fn feed(mut tail: Tail, session: Arc<Mutex<TailSession>>, stop: CancellationToken, mut sink: impl FnMut(TailUpdate) -> bool) {
    let mut every = show_every();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            e = tail.next() => {
                let Some(e) = e else { break };
                batch.push(e);
                tail.drain(FEED_MAX, &mut batch);
                lock(&session).receive(batch.drain(..), now_ms());
            }
            _ = every.tick() => {
                let update = {
                    let mut s = lock(&session);
                    s.tick(now_ms());
                    s.changed().then(|| s.update())
                };
                if update.is_some_and(|u| !sink(u)) {
                    break;
                }
            }
        }
    }
    tail.stop();
    let last = {
        let mut s = lock(&session);
        s.stopped();
        s.update()
    };
    sink(last);
}
