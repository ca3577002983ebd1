use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of the requests one [`Netlink`](crate::Netlink) connection sent.
///
/// `writes` counts requests that may change kernel state (everything but
/// GETs and dumps): a no-op `apply` must leave it unchanged.
#[derive(Debug, Default)]
pub struct RequestStats {
    requests: AtomicU64,
    writes: AtomicU64,
}

impl RequestStats {
    pub(crate) fn record(&self, write: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if write {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// All requests sent.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests that could change kernel state.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}
