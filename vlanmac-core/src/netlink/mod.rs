//! The executor: a netlink connection bound to one network namespace.
//!
//! Everything above this module builds plain [`RouteNetlinkMessage`] values
//! (pure, testable without root); this module sends them, counts them, turns
//! NLMSG_ERROR into typed [`Error`]s with the kernel's extended-ack text, and
//! retries dumps the kernel interrupted (NLM_F_DUMP_INTR).

mod dump;
pub(crate) mod extack;
mod faults;
mod io_thread;
mod stats;

use std::{
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
    sync::Arc,
};

use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;

pub use dump::MAX_DUMP_ATTEMPTS;
pub use faults::FaultInjector;
pub use stats::RequestStats;

use crate::{
    error::{Error, Result},
    netns::{self, NetnsRef},
};

/// A netlink (rtnetlink) connection whose socket lives in one network
/// namespace: every call made through it acts on that namespace, whatever
/// thread or runtime the caller runs on.
///
/// The socket is opened inside the namespace on a short-lived thread of its
/// own (a socket stays in the namespace it was created in), and the
/// connection's I/O runs on one dedicated thread with a current-thread
/// runtime, so it can be used from any async runtime.
///
/// ```no_run
/// # async fn f() -> vlanmac_core::Result<()> {
/// use vlanmac_core::{Netlink, NetnsRef};
/// let nl = Netlink::open(NetnsRef::named("container0")?).await?; // ip -n container0 ...
/// for link in nl.links().await? {
///     println!("{} {:?}", link.name, link.kind);
/// }
/// # Ok(()) }
/// ```
pub struct Netlink {
    handle: rtnetlink::Handle,
    netns: NetnsRef,
    ns_fd: Arc<OwnedFd>,
    stats: Arc<RequestStats>,
    faults: Option<Arc<FaultInjector>>,
    _io: io_thread::IoThread,
}

/// What several handles share: one request counter and, in tests, one
/// fault injector (see [`Netlink::open_shared`]).
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// Requests counted across the handles.
    pub stats: Arc<RequestStats>,
    /// Fails the k-th write across the handles.
    pub faults: Option<Arc<FaultInjector>>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink").field("netns", &self.netns).finish_non_exhaustive()
    }
}

/// What a request is, for error messages and counting.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    /// `add vlan eth0.10 on eth0`
    pub what: String,
    /// The kernel feature named when the kernel says EOPNOTSUPP.
    pub feature: Option<&'static str>,
}

impl Op {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Op { what: what.into(), feature: None }
    }

    pub(crate) fn feature(mut self, feature: &'static str) -> Self {
        self.feature = Some(feature);
        self
    }

    fn error(&self, errno: i32, extack: Option<String>) -> Error {
        Error::from_errno(self.what.clone(), errno, extack, self.feature)
    }
}

impl Netlink {
    /// Opens a connection in `netns` (`ip -n NAME`, `/proc/PID/ns/net`, a
    /// path, or the caller's own namespace).
    pub async fn open(netns: impl Into<NetnsRef>) -> Result<Self> {
        Netlink::open_shared(netns, &Shared::default()).await
    }

    /// Opens a connection in `netns` that counts its requests in (and takes
    /// faults from) `shared`, so a multi-namespace operation can be measured
    /// or fault-injected as a whole.
    pub async fn open_shared(netns: impl Into<NetnsRef>, shared: &Shared) -> Result<Self> {
        let netns = netns.into();
        let ns_fd = netns.open()?;
        let enter = match netns {
            NetnsRef::Current => None,
            _ => Some(ns_fd.try_clone().map_err(|e| Error::io("duplicate a namespace fd", e))?),
        };
        let what = format!("open a netlink socket in netns {netns}");
        let socket = netns::run_in(enter, what.clone(), move || {
            let sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE)
                .map_err(|e| Error::io(what.clone(), e))?;
            // Best effort: old kernels lack these options; errors then carry no text.
            let _ = sock.set_ext_ack(true);
            let _ = sock.set_cap_ack(true);
            // SAFETY: into_raw_fd hands over sole ownership of the open socket.
            Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(sock)) })
        })
        .await?;
        let (io, handle) = io_thread::IoThread::start(socket).await?;
        Ok(Netlink {
            handle,
            netns,
            ns_fd: Arc::new(ns_fd),
            stats: shared.stats.clone(),
            faults: shared.faults.clone(),
            _io: io,
        })
    }

    /// Opens a connection in the caller's namespace.
    pub async fn current() -> Result<Self> {
        Netlink::open(NetnsRef::Current).await
    }

    /// The namespace this connection acts on.
    pub fn netns(&self) -> &NetnsRef {
        &self.netns
    }

    /// The namespace file descriptor (used as `IFLA_NET_NS_FD` to move or
    /// create links into this namespace from another).
    pub fn netns_fd(&self) -> BorrowedFd<'_> {
        self.ns_fd.as_fd()
    }

    pub(crate) fn netns_raw_fd(&self) -> i32 {
        self.ns_fd.as_raw_fd()
    }

    /// Counts of requests sent so far (all, and writes only).
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// Sends one request and collects the replies. Writes get `NLM_F_ACK`;
    /// an NLMSG_ERROR with a non-zero code becomes a typed [`Error`].
    /// Returns the inner messages and whether any was flagged DUMP_INTR.
    async fn exchange(
        &self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &Op,
    ) -> Result<(Vec<RouteNetlinkMessage>, bool)> {
        let is_write = flags & NLM_F_DUMP != NLM_F_DUMP && !is_get(&msg);
        self.stats.record(is_write);
        if is_write {
            if let Some(errno) = self.faults.as_ref().and_then(|f| f.on_write()) {
                return Err(op.error(errno, Some("fault injected by FaultInjector".into())));
            }
        }
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | flags;
        let mut replies = self.handle.clone().request(req).map_err(|_| Error::Closed)?;
        let mut out = Vec::new();
        let mut interrupted = false;
        while let Some(reply) = replies.next().await {
            interrupted |= reply.header.flags & NLM_F_DUMP_INTR != 0;
            let flags = reply.header.flags;
            match reply.payload {
                NetlinkPayload::InnerMessage(m) => out.push(m),
                NetlinkPayload::Error(e) => {
                    if let Some(code) = e.code {
                        return Err(op.error(code.get(), extack::message(flags, &e.header)));
                    }
                }
                NetlinkPayload::Done(_) | NetlinkPayload::Noop => {}
                NetlinkPayload::Overrun(_) => {
                    return Err(op.error(libc::ENOBUFS, Some("netlink receive buffer overrun".into())))
                }
                _ => {}
            }
        }
        Ok((out, interrupted))
    }

    /// Sends a write request (`flags` beyond ACK: CREATE, EXCL, REPLACE…) and
    /// waits for the kernel's acknowledgement.
    pub(crate) async fn write(&self, msg: RouteNetlinkMessage, flags: u16, op: &Op) -> Result<()> {
        self.exchange(msg, flags | NLM_F_ACK, op).await.map(|_| ())
    }

    /// Sends a GET for one object and returns the reply.
    pub(crate) async fn get_one(&self, msg: RouteNetlinkMessage, op: &Op) -> Result<RouteNetlinkMessage> {
        let (mut out, _) = self.exchange(msg, 0, op).await?;
        out.pop().ok_or_else(|| Error::Decode { what: op.what.clone(), detail: "no reply".into() })
    }

    /// Dumps (`NLM_F_DUMP`), retrying up to [`MAX_DUMP_ATTEMPTS`] times when
    /// the kernel flags the dump as interrupted by a concurrent change.
    pub(crate) async fn dump(&self, msg: RouteNetlinkMessage, op: &Op) -> Result<Vec<RouteNetlinkMessage>> {
        dump::retry_interrupted(&op.what, || self.exchange(msg.clone(), NLM_F_DUMP, op)).await
    }
}

fn is_get(msg: &RouteNetlinkMessage) -> bool {
    use RouteNetlinkMessage as M;
    matches!(msg, M::GetLink(_) | M::GetAddress(_) | M::GetRoute(_) | M::GetNeighbour(_) | M::GetNeighbourTable(_))
}
