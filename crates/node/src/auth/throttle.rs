//! Failed logins slow the next ones down: a score per user name and per client address that
//! each failure raises by one and time lowers again; past its limit a login is refused before
//! any hash is computed, with the seconds until it would be tried again.
//!
//! Memory is fixed: scores live in a table of `SLOTS` entries chosen by a keyed hash, so names
//! an attacker makes up cost nothing; two names sharing a slot only throttle each other sooner.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

const SLOTS: usize = 4096;

/// How many failures a key may have in hand, and how fast they are forgiven.
#[derive(Debug, Clone, Copy)]
struct Rule {
    limit: f64,
    forgiven_per_sec: f64,
}

/// Ten wrong passwords for one user, then one more every six seconds.
const PER_USER: Rule = Rule { limit: 10.0, forgiven_per_sec: 1.0 / 6.0 };
/// Forty from one address (several users behind one address), then two a second.
const PER_ADDRESS: Rule = Rule { limit: 40.0, forgiven_per_sec: 0.5 };

#[derive(Clone, Copy)]
struct Slot {
    score: f64,
    at: Instant,
}

impl Slot {
    fn now(self, rule: Rule, now: Instant) -> f64 {
        (self.score - now.saturating_duration_since(self.at).as_secs_f64() * rule.forgiven_per_sec).max(0.0)
    }
}

struct Table {
    rule: Rule,
    slots: Vec<Slot>,
}

impl Table {
    fn new(rule: Rule, now: Instant) -> Table {
        Table { rule, slots: vec![Slot { score: 0.0, at: now }; SLOTS] }
    }

    /// Seconds until `slot` may try again, if one more failure would pass its limit.
    fn wait(&self, slot: usize, now: Instant) -> Option<u64> {
        let over = self.slots[slot].now(self.rule, now) + 1.0 - self.rule.limit;
        // A hair over (time forgave a few microseconds' worth) is still over.
        (over > 1e-6).then(|| (over / self.rule.forgiven_per_sec).ceil().max(1.0) as u64)
    }

    fn fail(&mut self, slot: usize, now: Instant) {
        let score = self.slots[slot].now(self.rule, now) + 1.0;
        // Failures past the limit are counted too, but no more than one limit's worth: a long
        // flood ends, and the wait after it is bounded.
        self.slots[slot] = Slot { score: score.min(self.rule.limit * 2.0), at: now };
    }
}

pub struct Throttle {
    keys: RandomState,
    tables: Mutex<(Table, Table)>,
}

/// Where a login comes from: who it names and, over the network, from which address.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub user: &'a str,
    pub from: Option<IpAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        let now = Instant::now();
        Throttle { keys: RandomState::new(), tables: Mutex::new((Table::new(PER_USER, now), Table::new(PER_ADDRESS, now))) }
    }
}

impl Throttle {
    fn slots(&self, a: Attempt) -> (usize, Option<usize>) {
        let user = self.keys.hash_one(("user", a.user)) as usize % SLOTS;
        let from = a.from.map(|ip| self.keys.hash_one(("address", ip)) as usize % SLOTS);
        (user, from)
    }

    /// Seconds to wait before this attempt may be checked, if its user or address is past its
    /// limit.
    pub fn wait(&self, a: Attempt) -> Option<u64> {
        let (user, from) = self.slots(a);
        let now = Instant::now();
        let t = self.tables.lock().ok()?;
        let by_user = t.0.wait(user, now);
        let by_address = from.and_then(|f| t.1.wait(f, now));
        by_user.max(by_address)
    }

    pub fn failed(&self, a: Attempt) {
        let (user, from) = self.slots(a);
        let now = Instant::now();
        if let Ok(mut t) = self.tables.lock() {
            t.0.fail(user, now);
            if let Some(f) = from {
                t.1.fail(f, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_limit_wait_and_time_forgives_them() {
        let now = Instant::now();
        let mut t = Table::new(PER_USER, now);
        for _ in 0..9 {
            t.fail(7, now);
        }
        assert_eq!(t.wait(7, now), None, "nine failures are below the limit");
        t.fail(7, now);
        let wait = t.wait(7, now).expect("the tenth failure reaches the limit");
        assert_eq!(wait, 6, "one failure must be forgiven: six seconds");
        assert_eq!(t.wait(8, now), None, "other slots are untouched");
        assert_eq!(t.wait(7, now + std::time::Duration::from_secs(wait)), None, "after the wait a try is allowed");
        for _ in 0..1000 {
            t.fail(7, now);
        }
        assert!(t.wait(7, now).unwrap() <= 66, "a long flood's wait is bounded");
    }

    #[test]
    fn addresses_and_users_are_throttled_apart() {
        let th = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for i in 0..10 {
            th.failed(Attempt { user: "admin", from: Some(ip) });
            assert!(th.wait(Attempt { user: &format!("other{i}"), from: Some(ip) }).is_none());
        }
        assert!(th.wait(Attempt { user: "admin", from: None }).is_some(), "the user is past its limit");
        for i in 0..40 {
            th.failed(Attempt { user: &format!("guess{i}"), from: Some(ip) });
        }
        assert!(th.wait(Attempt { user: "someone-new", from: Some(ip) }).is_some(), "the address is past its limit");
        assert!(th.wait(Attempt { user: "someone-new", from: Some("10.0.0.1".parse().unwrap()) }).is_none());
    }
}
