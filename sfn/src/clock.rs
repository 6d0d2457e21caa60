//! Time as the interpreter sees it: Wait states, retry back-offs and timeouts all go through a [`Clock`]
//! the caller chooses, so tests run instantly and the emulator can run in real time or accelerated.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::oneshot;

/// The time source of an execution.
///
/// `sleep` is a *worker* sleep: the branch calling it does nothing else until it ends (a Wait state, a
/// retry back-off). `timer` is a background deadline raced against work (TimeoutSeconds). A virtual clock
/// needs to know which branches are busy to advance only when all of them are waiting: the interpreter
/// calls `worker_started` / `worker_finished` around every branch, Map iteration and the execution itself.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    fn timer(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.sleep(duration)
    }
    fn worker_started(&self) {}
    fn worker_finished(&self) {}
}

/// Keeps one worker registered with a clock for as long as it lives.
pub(crate) struct WorkerGuard {
    clock: Arc<dyn Clock>,
}

impl WorkerGuard {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        clock.worker_started();
        WorkerGuard { clock }
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.clock.worker_finished();
    }
}

/// Marks the current worker idle (waiting for its children) until dropped.
pub(crate) struct IdleGuard {
    clock: Arc<dyn Clock>,
}

impl IdleGuard {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        clock.worker_finished();
        IdleGuard { clock }
    }
}

impl Drop for IdleGuard {
    fn drop(&mut self) {
        self.clock.worker_started();
    }
}

/// Wall-clock time; sleeps really sleep.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Real time running `factor` times faster: a Wait of 60 s takes 1 s with a factor of 60. `now()` starts at
/// the wall-clock time of creation and advances `factor` times faster.
#[derive(Debug, Clone, Copy)]
pub struct AcceleratedClock {
    started_at: DateTime<Utc>,
    started: std::time::Instant,
    factor: f64,
}

impl AcceleratedClock {
    /// `factor` must be positive; values below 1 slow time down.
    pub fn new(factor: f64) -> Self {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        AcceleratedClock {
            started_at: Utc::now(),
            started: std::time::Instant::now(),
            factor,
        }
    }
}

impl Clock for AcceleratedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed().mul_f64(self.factor);
        self.started_at + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration.div_f64(self.factor)))
    }
}

/// A clock that never waits: when every registered worker is sleeping (or waiting on its children), it
/// jumps to the earliest pending deadline and wakes what is due. Work in progress (a task handler running)
/// keeps time still, so the order of events is the one real time would give, only without the waiting.
#[derive(Clone)]
pub struct VirtualClock {
    inner: Arc<Mutex<VirtualState>>,
}

struct Sleeper {
    deadline: DateTime<Utc>,
    sequence: u64,
    worker: bool,
    wake: Option<oneshot::Sender<()>>,
}

struct VirtualState {
    now: DateTime<Utc>,
    busy: i64,
    sequence: u64,
    // keyed by (deadline, sequence); the sleeper record lives in `sleepers`
    queue: BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
    sleepers: std::collections::HashMap<u64, Sleeper>,
    woken: std::collections::HashSet<u64>,
}

impl VirtualClock {
    /// A virtual clock starting at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        VirtualClock {
            inner: Arc::new(Mutex::new(VirtualState {
                now: start,
                busy: 0,
                sequence: 0,
                queue: BinaryHeap::new(),
                sleepers: Default::default(),
                woken: Default::default(),
            })),
        }
    }

    /// A virtual clock starting at the current wall-clock time.
    pub fn new() -> Self {
        Self::starting_at(Utc::now())
    }

    fn lock(&self) -> MutexGuard<'_, VirtualState> {
        // a panic while holding this lock leaves consistent data (every update is a few assignments)
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn register(&self, duration: Duration, worker: bool) -> BoxFuture<'static, ()> {
        let (sender, receiver) = oneshot::channel();
        let sequence;
        {
            let mut state = self.lock();
            state.sequence += 1;
            sequence = state.sequence;
            let deadline =
                state.now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
            state.queue.push(Reverse((deadline, sequence)));
            state.sleepers.insert(
                sequence,
                Sleeper {
                    deadline,
                    sequence,
                    worker,
                    wake: Some(sender),
                },
            );
            if worker {
                state.busy -= 1;
            }
            advance(&mut state);
        }
        let guard = SleepGuard {
            clock: self.clone(),
            sequence,
            worker,
        };
        Box::pin(async move {
            let _ = receiver.await;
            drop(guard);
        })
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

/// Jump to the earliest deadline while nobody is busy, waking every sleeper that is due. A woken worker
/// is busy again from the moment it is woken (not from when it is polled), so time cannot run past it.
fn advance(state: &mut VirtualState) {
    while state.busy <= 0 {
        let Some(Reverse((deadline, sequence))) = state.queue.pop() else {
            return;
        };
        let Some(mut sleeper) = state.sleepers.remove(&sequence) else {
            continue;
        };
        debug_assert_eq!(sleeper.sequence, sequence);
        if deadline > state.now {
            state.now = deadline;
        }
        let _ = sleeper.deadline;
        // every woken sleeper counts as busy until its future has run: a worker carries on, a timer's
        // owner reacts to it; the timer's guard gives the count back when it is dropped.
        state.busy += 1;
        state.woken.insert(sequence);
        if let Some(wake) = sleeper.wake.take() {
            let _ = wake.send(());
        }
        let _ = sleeper.worker;
    }
}

struct SleepGuard {
    clock: VirtualClock,
    sequence: u64,
    worker: bool,
}

impl Drop for SleepGuard {
    fn drop(&mut self) {
        let mut state = self.clock.lock();
        let was_woken = state.woken.remove(&self.sequence);
        if was_woken {
            // a woken worker keeps the busy count it was given; a woken timer gives it back, but time
            // moves on only later: the timer's owner is typically dropping a sleep raced against it in
            // the same poll, and that sleep must be cancelled before its deadline can be reached.
            if !self.worker {
                state.busy -= 1;
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let clock = self.clock.clone();
                    drop(state);
                    runtime.spawn(async move {
                        tokio::task::yield_now().await;
                        advance(&mut clock.lock());
                    });
                    return;
                }
            }
        } else {
            // cancelled before its deadline
            state.sleepers.remove(&self.sequence);
            if self.worker {
                state.busy += 1;
            }
        }
        advance(&mut state);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.register(duration, true)
    }
    fn timer(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.register(duration, false)
    }
    fn worker_started(&self) {
        self.lock().busy += 1;
    }
    fn worker_finished(&self) {
        let mut state = self.lock();
        state.busy -= 1;
        advance(&mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lone_sleeper_advances_time_instantly() {
        let clock = VirtualClock::starting_at(DateTime::UNIX_EPOCH);
        clock.worker_started();
        clock.sleep(Duration::from_secs(3600)).await;
        assert_eq!(
            clock.now(),
            DateTime::UNIX_EPOCH + chrono::Duration::hours(1)
        );
    }

    #[tokio::test]
    async fn concurrent_sleepers_share_time_instead_of_adding_it() {
        let clock = VirtualClock::starting_at(DateTime::UNIX_EPOCH);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let first = WorkerGuard::new(shared.clone());
        let second = WorkerGuard::new(shared.clone());
        let (a, b) = tokio::join!(
            async {
                clock.sleep(Duration::from_secs(5)).await;
                let now = clock.now();
                drop(first);
                now
            },
            async {
                clock.sleep(Duration::from_secs(10)).await;
                let now = clock.now();
                drop(second);
                now
            }
        );
        assert_eq!(a, DateTime::UNIX_EPOCH + chrono::Duration::seconds(5));
        assert_eq!(b, DateTime::UNIX_EPOCH + chrono::Duration::seconds(10));
    }

    #[tokio::test]
    async fn a_busy_worker_holds_time_still() {
        let clock = VirtualClock::starting_at(DateTime::UNIX_EPOCH);
        clock.worker_started();
        clock.worker_started();
        let sleeping = clock.sleep(Duration::from_secs(5));
        // the second worker is busy: the deadline is not reached
        assert_eq!(clock.now(), DateTime::UNIX_EPOCH);
        clock.worker_finished();
        sleeping.await;
        assert_eq!(
            clock.now(),
            DateTime::UNIX_EPOCH + chrono::Duration::seconds(5)
        );
    }

    #[tokio::test]
    async fn a_timer_fires_before_a_longer_worker_sleep() {
        let clock = VirtualClock::starting_at(DateTime::UNIX_EPOCH);
        clock.worker_started();
        let outcome = tokio::select! {
            _ = clock.timer(Duration::from_secs(2)) => "timeout",
            _ = clock.sleep(Duration::from_secs(9)) => "slept",
        };
        assert_eq!(outcome, "timeout");
        assert_eq!(
            clock.now(),
            DateTime::UNIX_EPOCH + chrono::Duration::seconds(2)
        );
    }
}
