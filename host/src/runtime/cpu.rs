//! Processor time spent by one future, counted only while it is polled.
//!
//! A plugin runs inside a future that tokio polls among many others; its
//! wall time includes the time it sat waiting for a thread. Reading the
//! polling thread's CPU clock before and after each poll counts what the
//! future itself burned, on whichever thread polled it. Host calls made
//! by the plugin are measured the same way, so that the plugin's share is
//! the difference.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Runs `future`, adding the processor time of each of its polls to
/// `counter`, in nanoseconds.
pub(crate) async fn on_cpu<F: Future>(counter: &AtomicU64, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let started = thread_time();
        let poll = future.as_mut().poll(cx);
        add(counter, thread_time().saturating_sub(started));
        poll
    })
    .await
}

/// Adds `spent` to `counter`, in nanoseconds.
pub(crate) fn add(counter: &AtomicU64, spent: Duration) {
    let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(nanos, Ordering::Relaxed);
}

/// The calling thread's processor time so far.
#[cfg(unix)]
pub(crate) fn thread_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec, and the clock id is a
    // constant the C library defines; the call writes only into `now`.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// The time since the process started: without a per-thread clock, a
/// poll's wall time stands in for its processor time.
#[cfg(not(unix))]
pub(crate) fn thread_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_costs_nothing_and_spinning_counts() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let counter = AtomicU64::new(0);
        rt.block_on(on_cpu(&counter, async {
            tokio::time::sleep(Duration::from_millis(200)).await
        }));
        let slept = Duration::from_nanos(counter.swap(0, Ordering::Relaxed));
        assert!(slept < Duration::from_millis(50), "a sleep counted {slept:?}");

        rt.block_on(on_cpu(&counter, async {
            let until = thread_time() + Duration::from_millis(100);
            while thread_time() < until {
                std::hint::black_box(0u64);
            }
        }));
        let spun = Duration::from_nanos(counter.load(Ordering::Relaxed));
        assert!(spun >= Duration::from_millis(100), "a busy loop counted {spun:?}");
    }
}
