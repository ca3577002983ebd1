//! Short-lived threads: the only place vlanmac changes a thread's namespace.

use std::{os::fd::OwnedFd, thread};

use futures::channel::oneshot;
use nix::sched::{setns, CloneFlags};

use crate::error::{Error, Result};

/// Runs `f` on a new thread whose network namespace is `ns` (or the caller's
/// if `None`) and returns its result without blocking the async caller. The
/// thread exits afterwards, so its namespace switch dies with it.
pub(crate) async fn run_in<T: Send + 'static>(
    ns: Option<OwnedFd>,
    what: String,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    spawn_blocking(move || {
        if let Some(fd) = &ns {
            setns(fd, CloneFlags::CLONE_NEWNET).map_err(|e| match e {
                // Not a namespace: a /run/netns file being deleted (unmounted,
                // not yet unlinked) when it was opened.
                nix::errno::Errno::EINVAL => Error::NotFound(crate::error::KernelError {
                    op: format!("{what}: not a network namespace (deleted meanwhile?)"),
                    errno: libc::EINVAL,
                    extack: None,
                    hint: None,
                }),
                e => Error::from_errno(format!("{what}: enter the network namespace"), e as i32, None, None),
            })?;
        }
        f()
    })
    .await
}

/// Runs `f` on a short-lived thread of its own and awaits its result,
/// without blocking the caller's async runtime (or needing one). A thread
/// made here may change its network namespace: it exits when `f` returns,
/// and the change with it.
pub async fn spawn_blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let (tx, rx) = oneshot::channel();
    thread::Builder::new()
        .name("vlanmac-netns".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::io("spawn a namespace thread", e))?;
    rx.await.unwrap_or_else(|_| Err(Error::Internal("a namespace thread ended without an answer".into())))
}
