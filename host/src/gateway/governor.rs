//! The governor: how hard the gateway may press on AWS, per scope.
//!
//! - **Concurrency**: calls in flight are bounded per account and per
//!   account-region-service scope, on top of the scheduler's overall limit.
//!   A free slot goes to the waiting call whose target has made the most
//!   calls, so a long chain of dependent calls keeps moving while short
//!   targets wait their turn (a call passed over for 2 s goes next).
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
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

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
            per_account: 64,
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
    slots: Arc<RankedSlots>,
    pace: Mutex<Pace>,
}

#[derive(Debug)]
struct AccountState {
    slots: Arc<RankedSlots>,
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
    _scope: Slot,
    _account: Slot,
    governor: &'a Governor,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.governor.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Slots that go to the highest-ranked waiter first, then to the one that
/// came first. A call's rank is how many calls its target has made: a
/// target deep in a chain of dependent calls (pages, then details) goes
/// before one making its first call, so a long chain is not queued behind
/// every short target of its account at each of its steps. A call that has
/// waited [`AGED`] goes next whatever its rank, so steady deep traffic
/// cannot starve a first call into its plugin's call timeout.
#[derive(Debug)]
struct RankedSlots {
    state: Mutex<SlotState>,
}

/// How long a waiting call may be passed over for higher ranks.
const AGED: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct SlotState {
    free: usize,
    /// In order of arrival.
    waiting: VecDeque<Waiter>,
}

#[derive(Debug)]
struct Waiter {
    rank: u32,
    /// Tokio's clock, which tests can pause and advance.
    since: tokio::time::Instant,
    wake: oneshot::Sender<()>,
}

impl SlotState {
    /// The next waiter to serve, if any: the oldest once it has aged, else
    /// the first of the highest rank. Waiters that gave up are dropped.
    fn next(&mut self) -> Option<Waiter> {
        self.waiting.retain(|w| !w.wake.is_closed());
        let front = self.waiting.front()?;
        let pick = if front.since.elapsed() >= AGED {
            0
        } else {
            let top = self.waiting.iter().map(|w| w.rank).max()?;
            self.waiting.iter().position(|w| w.rank == top)?
        };
        self.waiting.remove(pick)
    }
}

/// A slot held; dropping it hands the slot to the next waiter.
#[derive(Debug)]
struct Slot(Arc<RankedSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A waiter's side of the hand-over. Dropped before it is polled to the
/// end (the call was abandoned), it passes on a slot it was already given.
struct Pending {
    slots: Arc<RankedSlots>,
    wake: oneshot::Receiver<()>,
    done: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            self.wake.close();
            if self.wake.try_recv().is_ok() {
                self.slots.release();
            }
        }
    }
}

impl RankedSlots {
    fn new(slots: usize) -> Arc<RankedSlots> {
        Arc::new(RankedSlots {
            state: Mutex::new(SlotState { free: slots.max(1), waiting: VecDeque::new() }),
        })
    }

    async fn acquire(self: &Arc<Self>, rank: u32) -> Slot {
        let wake = {
            let mut state = lock(&self.state);
            if state.free > 0 {
                state.free -= 1;
                return Slot(self.clone());
            }
            let (wake, wait) = oneshot::channel();
            state.waiting.push_back(Waiter { rank, since: tokio::time::Instant::now(), wake });
            wait
        };
        let mut pending = Pending { slots: self.clone(), wake, done: false };
        let given = (&mut pending.wake).await;
        pending.done = true;
        // The sender stays queued until it hands over a slot, and the queue
        // lives as long as `self`; an error cannot happen, but would mean
        // no slot was given, so take one the ordinary way.
        match given {
            Ok(()) => Slot(self.clone()),
            Err(_) => Box::pin(self.acquire(rank)).await,
        }
    }

    fn release(&self) {
        let mut state = lock(&self.state);
        while let Some(waiter) = state.next() {
            if waiter.wake.send(()).is_ok() {
                return;
            }
        }
        state.free += 1;
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
                    slots: RankedSlots::new(self.options.per_scope),
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
                    slots: RankedSlots::new(self.options.per_account),
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
    /// pacing. `rank` is how many calls the caller's target has made
    /// before this one; higher ranks are served first.
    pub async fn acquire(
        &self,
        account: &str,
        region: &str,
        service: &str,
        rank: u32,
    ) -> Permit<'_> {
        let acct = self.account(account);
        let scope = self.scope((account.to_owned(), region.to_owned(), service.to_owned()));
        let account_slot = acct.slots.acquire(rank).await;
        let scope_slot = scope.slots.acquire(rank).await;
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
            drop(g.acquire("111111111111", "us-east-1", "ec2", 0).await);
        }
        assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
        let t = Instant::now();
        for _ in 0..3 {
            drop(g.acquire("111111111111", "eu-west-1", "ec2", 0).await);
            drop(g.acquire("222222222222", "us-east-1", "ec2", 0).await);
        }
        assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn a_free_slot_goes_to_the_call_deepest_in_its_chain_first() {
        let g = Arc::new(Governor::new(GovernorOptions { per_account: 1, ..quick() }));
        let held = g.acquire("111111111111", "us-east-1", "ec2", 0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for (name, rank) in [("first call", 0), ("tenth call", 9), ("second call", 1)] {
            let (g, order) = (g.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _slot = g.acquire("111111111111", "eu-west-1", "s3", rank).await;
                lock(&order).push(name);
            }));
            // Let each queue before the next arrives.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*lock(&order), ["tenth call", "second call", "first call"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_passed_over_long_enough_goes_next_whatever_its_rank() {
        let g = Arc::new(Governor::new(GovernorOptions { per_account: 1, ..quick() }));
        let held = g.acquire("1", "us-east-1", "ec2", 0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let wait = |name: &'static str, rank: u32| {
            let (g, order) = (g.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = g.acquire("1", "us-east-1", "ec2", rank).await;
                lock(&order).push(name);
            })
        };
        let first = wait("first call", 0);
        tokio::time::sleep(AGED).await;
        let deep = wait("deep call", 50);
        tokio::time::sleep(Duration::from_millis(1)).await;
        drop(held);
        first.await.unwrap();
        deep.await.unwrap();
        assert_eq!(*lock(&order), ["first call", "deep call"]);
    }

    #[tokio::test]
    async fn an_abandoned_wait_hands_its_slot_on() {
        use std::future::Future;

        let g = Governor::new(GovernorOptions { per_account: 1, ..quick() });
        let held = g.acquire("1", "us-east-1", "ec2", 0).await;
        // Given up before a slot came.
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), g.acquire("1", "us-east-1", "ec2", 0));
        assert!(gave_up.await.is_err());
        // Handed the slot, then dropped before it looked.
        let mut handed = Box::pin(g.acquire("1", "us-east-1", "ec2", 3));
        let pending = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(handed.as_mut().poll(cx).is_pending())
        })
        .await;
        assert!(pending, "the slot is held, so the wait must queue");
        drop(held);
        drop(handed);
        let again =
            tokio::time::timeout(Duration::from_millis(200), g.acquire("1", "us-east-1", "ec2", 0));
        assert!(again.await.is_ok(), "an abandoned wait kept the account's only slot");
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
