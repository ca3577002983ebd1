//! The executor: a netlink connection bound to one network namespace.
//!
//! Everything above this module builds plain [`RouteNetlinkMessage`] values
//! (pure, testable without root); this module sends them, counts them, turns
//! NLMSG_ERROR into typed [`Error`]s with the kernel's extended-ack text, and
//! retries dumps the kernel interrupted (NLM_F_DUMP_INTR).
//!
//! Requests go out packed, many to a datagram (`Netlink::run`): the kernel
//! answers rtnetlink requests inside `send`, so a short exchange runs inline
//! on the caller's thread (a few microseconds, no cross-thread wake-up), and
//! a long one (many requests, or a link deletion, which waits for an RCU
//! grace period in the kernel) runs on a short-lived thread of its own so
//! the caller's runtime never blocks.

mod dump;
pub(crate) mod extack;
mod faults;
pub mod monitor;
mod socket;
mod stats;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use netlink_packet_core::NLM_F_DUMP;
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
/// own (a socket stays in the namespace it was created in). Requests are
/// packed many to a datagram; short exchanges run inline on the caller's
/// thread, long ones on a helper thread, so it works from any async runtime
/// (or none: `futures::executor::block_on` will do).
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
    sock: Arc<Mutex<socket::SyncSocket>>,
    netns: NetnsRef,
    ns_fd: Arc<OwnedFd>,
    ns_key: NetnsKey,
    stats: Arc<RequestStats>,
    faults: Option<Arc<FaultInjector>>,
}

/// A network namespace's identity (device and inode of its nsfs file):
/// equal for every handle on the same namespace.
pub(crate) type NetnsKey = (u64, u64);

/// A request's reply messages, and whether a dump was flagged interrupted.
pub(crate) type Replies = (Vec<RouteNetlinkMessage>, bool);

/// Exchanges of more requests than this run on a thread of their own.
const INLINE_REQUESTS: usize = 8;

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

/// One request for [`Netlink::run`]: the message, its flags beyond
/// `NLM_F_REQUEST`/`NLM_F_ACK` (CREATE, EXCL, REPLACE, DUMP), and what it
/// is for error messages.
pub(crate) struct Call {
    pub msg: RouteNetlinkMessage,
    pub flags: u16,
    pub op: Op,
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
        let sock = netns::run_in(enter, what.clone(), move || socket::SyncSocket::open_here(&what)).await?;
        Netlink::from_parts(netns, ns_fd, sock, shared)
    }

    /// Creates the named namespace (`ip netns add NAME`) and opens a
    /// connection in it, on the one short-lived thread that made it.
    pub async fn create_netns(name: &crate::spec::NetnsName, shared: &Shared) -> Result<Self> {
        Netlink::create_netns_marked(name, shared, None).await
    }

    /// [`Netlink::create_netns`], with `lo_alias` set on the new
    /// namespace's `lo` (`ip -n NAME link set lo alias TEXT`) *before* the
    /// namespace appears under `/run/netns`: whoever sees the namespace sees
    /// the mark. If setting it fails, no namespace is made.
    pub async fn create_netns_marked(
        name: &crate::spec::NetnsName,
        shared: &Shared,
        lo_alias: Option<String>,
    ) -> Result<Self> {
        let (netns, shared) = (NetnsRef::Named(name.clone()), shared.clone());
        let what = format!("open a netlink socket in netns {name}");
        let alias_op = Op::new(format!("set the alias of lo in netns {name}"));
        let update = lo_alias.map(|a| crate::link::LinkUpdate::new().alias(a)).transpose()?;
        netns::create_with(name, move || {
            let sock = socket::SyncSocket::open_here(&what)?;
            let fd = std::fs::File::open("/proc/thread-self/ns/net").map_err(|e| Error::io(what.clone(), e))?;
            let nl = Netlink::from_parts(netns, OwnedFd::from(fd), sock, &shared)?;
            if let Some(update) = update {
                // One short request: it runs inline, on this thread.
                let lo = crate::spec::IfName::loopback();
                let msg = RouteNetlinkMessage::SetLink(crate::link::set_link_by_name(&lo, &update));
                futures::executor::block_on(nl.write(msg, 0, &alias_op))?;
            }
            Ok(nl)
        })
        .await
    }

    fn from_parts(netns: NetnsRef, ns_fd: OwnedFd, sock: socket::SyncSocket, shared: &Shared) -> Result<Self> {
        let st = nix::sys::stat::fstat(&ns_fd).map_err(|e| Error::io("stat a namespace fd", e.into()))?;
        Ok(Netlink {
            sock: Arc::new(Mutex::new(sock)),
            netns,
            ns_key: (st.st_dev as u64, st.st_ino as u64),
            ns_fd: Arc::new(ns_fd),
            stats: shared.stats.clone(),
            faults: shared.faults.clone(),
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

    pub(crate) fn netns_key(&self) -> NetnsKey {
        self.ns_key
    }

    /// The namespace's identity: the device and inode of its nsfs file,
    /// equal for every handle on the same namespace and different for a
    /// namespace made later at the same path (while both exist).
    pub fn netns_id(&self) -> (u64, u64) {
        self.ns_key
    }

    pub(crate) fn netns_raw_fd(&self) -> i32 {
        self.ns_fd.as_raw_fd()
    }

    /// Counts of requests sent so far (all, and writes only).
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// Sends `calls` in order, packed many to a datagram, and returns each
    /// one's replies (and, for a dump, whether the kernel flagged it
    /// interrupted) or its typed error, in the same order. Writes are counted
    /// and may be failed by the fault injector (they are then not sent).
    /// The kernel handles every request even when an earlier one failed.
    pub(crate) async fn run(&self, calls: Vec<Call>) -> Vec<Result<Replies>> {
        let mut results: Vec<Option<Result<Replies>>> = Vec::with_capacity(calls.len());
        let mut sent = Vec::with_capacity(calls.len());
        let mut slow = calls.len() > INLINE_REQUESTS;
        let mut ops = Vec::with_capacity(calls.len());
        let mut kill_before = None;
        for call in calls {
            let is_write = call.flags & NLM_F_DUMP != NLM_F_DUMP && !is_get(&call.msg);
            self.stats.record(is_write);
            if is_write {
                match self.faults.as_ref().and_then(|f| f.on_write()) {
                    Some(faults::Fault::Fail(errno)) => {
                        results.push(Some(Err(call.op.error(errno, Some("fault injected by FaultInjector".into())))));
                        ops.push(call.op);
                        continue;
                    }
                    Some(faults::Fault::Kill) => kill_before = kill_before.or(Some(sent.len())),
                    None => {}
                }
            }
            slow |= matches!(call.msg, RouteNetlinkMessage::DelLink(_));
            sent.push((results.len(), socket::Request { msg: call.msg, flags: call.flags }));
            results.push(None);
            ops.push(call.op);
        }
        if let Some(k) = kill_before {
            // "Stop here": what comes before the chosen write goes out, then
            // the process dies as under `kill -9`.
            sent.truncate(k);
            let reqs = sent.into_iter().map(|(_, r)| r).collect();
            let _ = self.sock.lock().unwrap_or_else(|p| p.into_inner()).exchange(reqs);
            faults::kill_self();
        }
        let (indexes, reqs): (Vec<usize>, Vec<socket::Request>) = sent.into_iter().unzip();
        let sock = self.sock.clone();
        let exchange = move || Ok(sock.lock().unwrap_or_else(|p| p.into_inner()).exchange(reqs));
        let outcomes = if slow { netns::thread::spawn_blocking(exchange).await } else { exchange() };
        match outcomes {
            Ok(outcomes) => {
                for (i, outcome) in indexes.into_iter().zip(outcomes) {
                    results[i] = Some(match outcome {
                        Ok(socket::Outcome::Done { messages, interrupted }) => Ok((messages, interrupted)),
                        Ok(socket::Outcome::Failed { errno, extack }) => Err(ops[i].error(errno, extack)),
                        Err(e) => Err(e),
                    });
                }
            }
            Err(e) => {
                let text = e.to_string();
                for i in indexes {
                    results[i] = Some(Err(Error::io(ops[i].what.clone(), std::io::Error::other(text.clone()))));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Internal("a request of the exchange got no result".into()))))
            .collect()
    }

    /// Sends one request and collects the replies.
    async fn exchange(
        &self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &Op,
    ) -> Result<(Vec<RouteNetlinkMessage>, bool)> {
        let call = Call { msg, flags, op: op.clone() };
        self.run(vec![call])
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::Internal("an exchange of one request returned nothing".into())))
    }

    /// Sends a write request (`flags` beyond ACK: CREATE, EXCL, REPLACE…) and
    /// waits for the kernel's acknowledgement.
    pub(crate) async fn write(&self, msg: RouteNetlinkMessage, flags: u16, op: &Op) -> Result<()> {
        self.exchange(msg, flags, op).await.map(|_| ())
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

/// Decodes `data` as one datagram of replies, the way the executor and the
/// read-back do: split into messages, each filed as a reply (errors,
/// extended acks, DONE), every inner message turned into a [`crate::Link`],
/// [`crate::Address`], [`crate::Route`] or [`crate::Neighbour`]. Returns how
/// many were decoded. For the fuzzers (`fuzz/`): it must never panic.
#[doc(hidden)]
pub fn fuzz_decode_replies(data: &[u8]) -> usize {
    use crate::readback::{Address, Link, Neighbour, Route};
    let Ok(messages) = socket::split_datagram(data) else { return 0 };
    let mut pending = socket::Pending::new(0);
    let mut outcomes = 0;
    for one in messages {
        outcomes += usize::from(pending.file(one).is_some());
    }
    let mut decoded = 0;
    for m in pending.take_messages() {
        let ok = match &m {
            RouteNetlinkMessage::NewLink(l) => Link::from_message(l).is_some(),
            RouteNetlinkMessage::NewAddress(a) => Address::from_message(a).is_some(),
            RouteNetlinkMessage::NewRoute(r) => Route::from_message(r).is_some(),
            RouteNetlinkMessage::NewNeighbour(n) => Neighbour::from_message(n).is_some(),
            _ => false,
        };
        decoded += usize::from(ok);
    }
    decoded + outcomes
}

fn is_get(msg: &RouteNetlinkMessage) -> bool {
    use RouteNetlinkMessage as M;
    matches!(msg, M::GetLink(_) | M::GetAddress(_) | M::GetRoute(_) | M::GetNeighbour(_) | M::GetNeighbourTable(_))
}

impl crate::link::NetnsTarget for Netlink {
    fn netns_raw_fd(&self) -> i32 {
        Netlink::netns_raw_fd(self)
    }

    fn netns_id(&self) -> (u64, u64) {
        Netlink::netns_id(self)
    }
}
