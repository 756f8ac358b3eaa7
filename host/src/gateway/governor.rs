//! The governor: how hard the gateway may press on AWS, per scope.
//!
//! - **Concurrency**: calls in flight are bounded per account and per
//!   account-region-service scope, on top of the scheduler's overall limit.
//! - **Adaptive pacing**: a throttling answer doubles the spacing between
//!   calls of its own scope (from 50 ms up to a ceiling); each success
//!   shrinks it again. Other scopes keep full speed.
//! - **Retry budget**: each account has a quota of retry tokens; a retry
//!   costs tokens and a success refunds one, so a failing account stops
//!   retrying instead of storming, and its targets end incomplete.
//! - **Circuit breaker**: per account and service, a run of calls that
//!   failed for good (server faults, lost connections, throttling that
//!   outlasted its retries) opens the circuit: calls fail at once for a
//!   cool-off period, then one call probes whether the service is back.
//!
//! It also counts calls in flight and their peak, for the run summary.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Governor settings; the defaults suit AWS's published rate limits for
/// read calls.
#[derive(Clone, Debug)]
pub struct GovernorOptions {
    /// Calls in flight per account.
    pub per_account: usize,
    /// Calls in flight per account, region and service.
    pub per_scope: usize,
    /// The first spacing a throttled scope gets.
    pub min_spacing: Duration,
    /// The widest spacing.
    pub max_spacing: Duration,
    /// Retry tokens per account.
    pub retry_quota: i64,
    /// Tokens one retry costs.
    pub retry_cost: i64,
    /// Failures in a row that open a circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit stays open.
    pub breaker_cooloff: Duration,
}

impl Default for GovernorOptions {
    fn default() -> Self {
        GovernorOptions {
            per_account: 32,
            per_scope: 8,
            min_spacing: Duration::from_millis(50),
            max_spacing: Duration::from_secs(5),
            retry_quota: 2000,
            retry_cost: 5,
            breaker_threshold: 5,
            breaker_cooloff: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
struct Pace {
    next: Instant,
    spacing: Duration,
}

#[derive(Debug)]
struct ScopeState {
    slots: Arc<Semaphore>,
    pace: Mutex<Pace>,
}

#[derive(Debug)]
struct AccountState {
    slots: Arc<Semaphore>,
    tokens: AtomicI64,
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    /// A probe is out while the circuit is half open.
    probing: bool,
}

/// A scope: account, region, service.
type ScopeKey = (String, String, String);

/// The governor; one per gateway.
#[derive(Debug, Default)]
pub struct Governor {
    options: GovernorOptions,
    scopes: Mutex<HashMap<ScopeKey, Arc<ScopeState>>>,
    accounts: Mutex<HashMap<String, Arc<AccountState>>>,
    breakers: Mutex<HashMap<(String, String), Breaker>>,
    in_flight: AtomicU64,
    peak: AtomicU64,
    throttled: AtomicU64,
}

/// Leave to send one request; dropping it frees the slots.
#[derive(Debug)]
pub struct Permit<'a> {
    _scope: OwnedSemaphorePermit,
    _account: OwnedSemaphorePermit,
    governor: &'a Governor,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.governor.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How a call ended, for the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Answered (success, or an answer such as access denied that says
    /// nothing about the service's health).
    Answered,
    /// A server fault, a lost connection, or throttling past its retries.
    Failed,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain counters
    // behind, still meaningful; carry on with them.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Governor {
    /// A governor with `options`.
    pub fn new(options: GovernorOptions) -> Governor {
        Governor { options, ..Default::default() }
    }

    fn scope(&self, key: ScopeKey) -> Arc<ScopeState> {
        lock(&self.scopes)
            .entry(key)
            .or_insert_with(|| {
                Arc::new(ScopeState {
                    slots: Arc::new(Semaphore::new(self.options.per_scope.max(1))),
                    pace: Mutex::new(Pace { next: Instant::now(), spacing: Duration::ZERO }),
                })
            })
            .clone()
    }

    fn account(&self, account: &str) -> Arc<AccountState> {
        lock(&self.accounts)
            .entry(account.to_owned())
            .or_insert_with(|| {
                Arc::new(AccountState {
                    slots: Arc::new(Semaphore::new(self.options.per_account.max(1))),
                    tokens: AtomicI64::new(self.options.retry_quota),
                })
            })
            .clone()
    }

    /// Whether the circuit of `account`'s `service` lets a call through;
    /// `Err` holds how long it has been open and why.
    pub fn circuit(&self, account: &str, service: &str) -> Result<(), String> {
        let mut breakers = lock(&self.breakers);
        let Some(b) = breakers.get_mut(&(account.to_owned(), service.to_owned())) else {
            return Ok(());
        };
        match b.open_until {
            Some(until) if Instant::now() < until => Err(format!(
                "the circuit for {service} in account {account} is open after {} failed calls \
                 in a row; not calling it for {}s",
                b.failures,
                until.saturating_duration_since(Instant::now()).as_secs()
            )),
            Some(_) if b.probing => Err(format!(
                "the circuit for {service} in account {account} is half open; a probe call is \
                 out"
            )),
            Some(_) => {
                b.probing = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Waits for slots in the account and the scope, and for the scope's
    /// pacing.
    pub async fn acquire(&self, account: &str, region: &str, service: &str) -> Permit<'_> {
        let acct = self.account(account);
        let scope = self.scope((account.to_owned(), region.to_owned(), service.to_owned()));
        let account_slot =
            acct.slots.clone().acquire_owned().await.expect("governor semaphores stay open");
        let scope_slot =
            scope.slots.clone().acquire_owned().await.expect("governor semaphores stay open");
        let wait = {
            let mut pace = lock(&scope.pace);
            let now = Instant::now();
            let start = pace.next.max(now);
            pace.next = start + pace.spacing;
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        Permit { _scope: scope_slot, _account: account_slot, governor: self }
    }

    /// A throttling answer in this scope: space its calls further apart.
    pub fn throttled(&self, account: &str, region: &str, service: &str) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let scope = self.scope((account.to_owned(), region.to_owned(), service.to_owned()));
        let mut pace = lock(&scope.pace);
        pace.spacing =
            (pace.spacing * 2).max(self.options.min_spacing).min(self.options.max_spacing);
    }

    /// A success in this scope: close the spacing again and refund a
    /// retry token.
    pub fn succeeded(&self, account: &str, region: &str, service: &str) {
        let scope = self.scope((account.to_owned(), region.to_owned(), service.to_owned()));
        {
            let mut pace = lock(&scope.pace);
            pace.spacing = pace.spacing.mul_f64(0.75);
            if pace.spacing < Duration::from_millis(5) {
                pace.spacing = Duration::ZERO;
            }
        }
        let acct = self.account(account);
        let quota = self.options.retry_quota;
        let _ = acct
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| (t < quota).then_some(t + 1));
    }

    /// Takes the tokens for one retry; `false` when the account's budget
    /// is spent.
    pub fn take_retry(&self, account: &str) -> bool {
        let cost = self.options.retry_cost;
        self.account(account)
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| (t >= cost).then_some(t - cost))
            .is_ok()
    }

    /// Records how a call ended for the breaker of its account and service.
    pub fn finished(&self, account: &str, service: &str, health: Health) {
        let mut breakers = lock(&self.breakers);
        let b = breakers.entry((account.to_owned(), service.to_owned())).or_default();
        match health {
            Health::Answered => *b = Breaker::default(),
            Health::Failed => {
                b.failures += 1;
                b.probing = false;
                if b.failures >= self.options.breaker_threshold {
                    b.open_until = Some(Instant::now() + self.options.breaker_cooloff);
                    tracing::warn!(
                        account,
                        service,
                        failures = b.failures,
                        cooloff_s = self.options.breaker_cooloff.as_secs(),
                        "circuit opened"
                    );
                }
            }
        }
    }

    /// Calls in flight now and at the peak.
    pub fn in_flight(&self) -> (u64, u64) {
        (self.in_flight.load(Ordering::Relaxed), self.peak.load(Ordering::Relaxed))
    }

    /// Throttling answers seen.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> GovernorOptions {
        GovernorOptions {
            breaker_threshold: 3,
            breaker_cooloff: Duration::from_millis(50),
            ..GovernorOptions::default()
        }
    }

    #[tokio::test]
    async fn throttling_slows_only_its_own_scope() {
        let g = Governor::new(quick());
        g.throttled("111111111111", "us-east-1", "ec2");
        g.throttled("111111111111", "us-east-1", "ec2");
        let t = Instant::now();
        for _ in 0..3 {
            drop(g.acquire("111111111111", "us-east-1", "ec2").await);
        }
        assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
        let t = Instant::now();
        for _ in 0..3 {
            drop(g.acquire("111111111111", "eu-west-1", "ec2").await);
            drop(g.acquire("222222222222", "us-east-1", "ec2").await);
        }
        assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    }

    #[test]
    fn the_breaker_opens_then_lets_one_probe_through() {
        let g = Governor::new(quick());
        for _ in 0..3 {
            assert!(g.circuit("1", "ec2").is_ok());
            g.finished("1", "ec2", Health::Failed);
        }
        let open = g.circuit("1", "ec2").unwrap_err();
        assert!(open.contains("open after 3 failed calls"), "{open}");
        assert!(g.circuit("1", "s3").is_ok(), "other services stay closed");
        std::thread::sleep(Duration::from_millis(60));
        assert!(g.circuit("1", "ec2").is_ok(), "one probe after the cool-off");
        assert!(g.circuit("1", "ec2").is_err(), "only one probe at a time");
        g.finished("1", "ec2", Health::Answered);
        assert!(g.circuit("1", "ec2").is_ok());
    }

    #[test]
    fn the_retry_budget_runs_out_and_refills() {
        let g = Governor::new(GovernorOptions { retry_quota: 10, ..quick() });
        assert!(g.take_retry("1") && g.take_retry("1"));
        assert!(!g.take_retry("1"), "budget spent");
        for _ in 0..5 {
            g.succeeded("1", "us-east-1", "ec2");
        }
        assert!(g.take_retry("1"));
        assert!(g.take_retry("2"), "other accounts keep their own budget");
    }
}
