use std::sync::atomic::{AtomicI64, Ordering};

/// A test seam: fails the k-th netlink *write* request (counted across every
/// handle that shares it) with a chosen errno, once. Reads are never failed.
///
/// Used to prove that `apply` rolls back whatever step fails; also usable
/// for chaos testing of code built on vlanmac.
#[derive(Debug)]
pub struct FaultInjector {
    countdown: AtomicI64,
    errno: i32,
}

impl FaultInjector {
    /// Fails write number `k` (1-based) with `errno`.
    pub fn fail_write(k: u64, errno: i32) -> Self {
        FaultInjector { countdown: AtomicI64::new(i64::try_from(k).unwrap_or(i64::MAX)), errno }
    }

    /// Called for every write: `Some(errno)` exactly once, on the k-th.
    pub(crate) fn on_write(&self) -> Option<i32> {
        (self.countdown.fetch_sub(1, Ordering::Relaxed) == 1).then_some(self.errno)
    }

    /// Whether the fault has fired.
    pub fn fired(&self) -> bool {
        self.countdown.load(Ordering::Relaxed) <= 0
    }
}
