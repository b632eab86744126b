//! Password checks on a fixed pool of threads, each reusing its own Argon2 memory: at most
//! `VERIFIERS` hashes run at once in the process, at most `QUEUED` wait, and what a flood of
//! logins costs in memory is `VERIFIERS` × the hash's memory, whoever sends it. A thread that
//! had nothing to check for `KEEP_IDLE` gives its memory back (19 MiB each: most of an idle
//! studio's heap once its local instance had one login).
//!
//! Invariants: a job past the queue is refused at once (the caller answers 503 with
//! Retry-After), never queued without bound; credentials known to be good go through a small
//! queue of their own that is served first, so a flood of wrong passwords does not lock out the
//! users who have them right; a user that does not exist costs one full hash too, so the time of
//! an answer does not tell which names exist.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// Hashes that may run at once in the process. The CPU is shared with the requests themselves:
/// more would only queue on the cores.
fn verifiers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4)
}

/// Checks that may wait for a verifier; past it a check is refused (503, Retry-After).
pub const QUEUED: usize = 32;
/// Checks of credentials known to be good that may wait in their own queue.
const QUEUED_KNOWN: usize = 64;
/// The largest Argon2 memory a stored hash may ask for (our own hashes take 19 MiB).
const MAX_BLOCKS: usize = 64 * 1024;
/// How long a verifier keeps its hash memory with nothing to check: a burst of logins reuses
/// it, an idle process does not hold it.
const KEEP_IDLE: Duration = Duration::from_secs(2);

/// Which queue a check waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Credentials this node saw succeed before: served first.
    Known,
    Other,
}

/// No verifier is free and the queue is full: try again shortly.
#[derive(Debug)]
pub struct Busy;

struct Job {
    password: String,
    /// None: the user does not exist; a hash of the same cost is computed all the same.
    hash: Option<String>,
    answer: oneshot::Sender<bool>,
}

#[derive(Default)]
struct Queues {
    known: VecDeque<Job>,
    other: VecDeque<Job>,
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
    /// How long a verifier keeps its hash memory with nothing to check.
    keep_idle: Duration,
    /// Bytes of hash memory its verifiers hold now.
    held: AtomicUsize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool = Pool::leaked(KEEP_IDLE);
        for i in 0..verifiers() {
            let spawned = std::thread::Builder::new().name(format!("password-check-{i}")).spawn(move || work(pool));
            if let Err(e) = spawned {
                tracing::error!("a password-check thread could not start: {e}");
            }
        }
        pool
    })
}

/// Queues a check of `password` against the stored PHC `hash` (None for a user that does not
/// exist: the answer is false after the same work). The receiver answers whether it matched.
pub fn submit(password: &str, hash: Option<String>, lane: Lane) -> Result<oneshot::Receiver<bool>, Busy> {
    pool().submit(password, hash, lane)
}

impl Pool {
    /// A pool that lives as long as the process (its verifiers do).
    fn leaked(keep_idle: Duration) -> &'static Pool {
        Box::leak(Box::new(Pool { queues: Mutex::new(Queues::default()), ready: Condvar::new(), keep_idle, held: AtomicUsize::new(0) }))
    }

    fn submit(&self, password: &str, hash: Option<String>, lane: Lane) -> Result<oneshot::Receiver<bool>, Busy> {
        let (answer, rx) = oneshot::channel();
        let job = Job { password: password.to_string(), hash, answer };
        let mut q = self.queues.lock().map_err(|_| Busy)?;
        let (queue, room) = match lane {
            Lane::Known => (&mut q.known, QUEUED_KNOWN),
            Lane::Other => (&mut q.other, QUEUED),
        };
        if queue.len() >= room {
            return Err(Busy);
        }
        queue.push_back(job);
        drop(q);
        self.ready.notify_one();
        Ok(rx)
    }

    /// A verifier's memory went from `before` bytes to what `memory` holds now.
    fn account(&self, before: usize, memory: &[Block]) {
        let after = std::mem::size_of_val(memory);
        if after >= before {
            self.held.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.held.fetch_sub(before - after, Ordering::Relaxed);
        }
    }
}

fn work(pool: &'static Pool) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(mut q) = pool.queues.lock() else { return };
            loop {
                if let Some(job) = q.known.pop_front().or_else(|| q.other.pop_front()) {
                    break job;
                }
                if memory.is_empty() {
                    q = match pool.ready.wait(q) {
                        Ok(q) => q,
                        Err(_) => return,
                    };
                    continue;
                }
                q = match pool.ready.wait_timeout(q, pool.keep_idle) {
                    Ok((q, waited)) => {
                        if waited.timed_out() && q.known.is_empty() && q.other.is_empty() {
                            let before = std::mem::size_of_val(&memory[..]);
                            memory = Vec::new();
                            pool.account(before, &memory);
                        }
                        q
                    }
                    Err(_) => return,
                };
            }
        };
        // A caller that gave up (its request was dropped) costs no hash.
        if job.answer.is_closed() {
            continue;
        }
        let before = std::mem::size_of_val(&memory[..]);
        let matched = match &job.hash {
            Some(hash) => verify(&mut memory, job.password.as_bytes(), hash),
            None => {
                let _ = verify(&mut memory, job.password.as_bytes(), decoy());
                false
            }
        };
        pool.account(before, &memory);
        let _ = job.answer.send(matched);
    }
}

/// A hash of the same cost as every user's, checked for names that do not exist.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        SaltString::encode_b64(b"switchyard-decoy")
            .and_then(|salt| Argon2::default().hash_password(b"decoy", &salt).map(|h| h.to_string()))
            .unwrap_or_default()
    })
}

/// Whether `password` hashes to the PHC string `phc`, computed in `memory` (grown once to the
/// hash's size and kept). A hash that cannot be read never matches.
fn verify(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else { return false };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    memory.resize(params.block_count(), Block::default());
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    if Argon2::new(algorithm, version, params).hash_password_into_with_memory(password, salt, out, &mut memory[..]).is_err() {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::rand_core::OsRng;

    #[test]
    fn checks_what_the_argon2_crate_hashed() {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default().hash_password(b"right", &salt).unwrap().to_string();
        let mut memory = Vec::new();
        assert!(verify(&mut memory, b"right", &phc));
        assert!(!verify(&mut memory, b"wrong", &phc));
        assert!(!verify(&mut memory, b"right", "not a hash"));
        // The memory is kept for the next check, at the hash's size.
        assert_eq!(memory.len(), Params::default().block_count());
        assert!(PasswordHash::new(decoy()).is_ok(), "the decoy is a hash of the same kind");
    }

    #[test]
    fn an_idle_verifier_gives_its_memory_back_and_a_later_check_still_answers() {
        let pool = Pool::leaked(Duration::from_secs(1));
        std::thread::spawn(move || work(pool));
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default().hash_password(b"right", &salt).unwrap().to_string();
        let check = |password: &str| pool.submit(password, Some(phc.clone()), Lane::Other).unwrap().blocking_recv().unwrap();
        assert!(check("right"));
        let size = Params::default().block_count() * std::mem::size_of::<Block>();
        assert_eq!(pool.held.load(Ordering::Relaxed), size, "kept for the next check");
        // Bounded: 10 s for a release due after 1 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pool.held.load(Ordering::Relaxed) != 0 {
            assert!(std::time::Instant::now() < deadline, "still holding {} bytes after 10 s idle", pool.held.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!check("wrong"));
        assert!(check("right"));
    }
}
