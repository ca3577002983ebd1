use std::sync::atomic::{AtomicI64, Ordering};

/// A test seam on netlink *writes* (counted across every handle that shares
/// it); reads are never touched. Two modes:
///
/// * [`FaultInjector::fail_write`]: the k-th write fails with a chosen
///   errno, once, without being sent. Used to prove that `apply` rolls
///   back whatever step fails; also usable for chaos testing of code built
///   on vlanmac.
/// * [`FaultInjector::kill_at_write`]: "stop here". The process is killed
///   with SIGKILL just before the datagram that carries the k-th write is
///   sent (the writes before it in the same exchange go out first): the
///   state a real `kill -9`, OOM kill or power cut leaves at that point,
///   since the kernel handles a whole datagram inside one system call. Used
///   to prove that the next run recovers from any kill point.
#[derive(Debug)]
pub struct FaultInjector {
    countdown: AtomicI64,
    action: Fault,
}

/// What happens at the chosen write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// It fails with this errno.
    Fail(i32),
    /// The process is killed before it is sent.
    Kill,
}

impl FaultInjector {
    /// Fails write number `k` (1-based) with `errno`.
    pub fn fail_write(k: u64, errno: i32) -> Self {
        FaultInjector { countdown: AtomicI64::new(i64::try_from(k).unwrap_or(i64::MAX)), action: Fault::Fail(errno) }
    }

    /// Kills the process (SIGKILL) before write number `k` (1-based) is sent.
    pub fn kill_at_write(k: u64) -> Self {
        FaultInjector { countdown: AtomicI64::new(i64::try_from(k).unwrap_or(i64::MAX)), action: Fault::Kill }
    }

    /// The test hook of the `vlanmac` CLI and the `vlanmac-cni` plugin, from
    /// the environment: `VLANMAC_FAULT_KILL_AT_WRITE=K` (SIGKILL before the
    /// K-th write) or `VLANMAC_FAULT_FAIL_WRITE=K` (the K-th write fails with
    /// EIO). `None` when neither is set to a number.
    pub fn from_env() -> Option<std::sync::Arc<FaultInjector>> {
        let k = |var: &str| std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok());
        k("VLANMAC_FAULT_KILL_AT_WRITE")
            .map(FaultInjector::kill_at_write)
            .or_else(|| k("VLANMAC_FAULT_FAIL_WRITE").map(|n| FaultInjector::fail_write(n, libc::EIO)))
            .map(std::sync::Arc::new)
    }

    /// Called for every write: `Some` exactly once, on the k-th.
    pub(crate) fn on_write(&self) -> Option<Fault> {
        (self.countdown.fetch_sub(1, Ordering::Relaxed) == 1).then_some(self.action)
    }

    /// Whether the fault has fired.
    pub fn fired(&self) -> bool {
        self.countdown.load(Ordering::Relaxed) <= 0
    }
}

/// Kills this process the way `kill -9` would.
pub(crate) fn kill_self() -> ! {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; should raise fail, end anyway.
    std::process::abort()
}
