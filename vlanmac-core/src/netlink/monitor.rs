//! [`Monitor`]: the kernel's notifications of one namespace (`ip monitor
//! link address route`): links, IPv4 and IPv6 addresses and routes added,
//! changed or removed. The socket is opened inside its namespace on a
//! short-lived thread, like a [`super::Netlink`]'s, and is non-blocking: a
//! caller polls its file descriptor (an async runtime's reactor, `poll`)
//! and [`Monitor::drain`]s it when readable.
//!
//! When the kernel cannot queue a notification (the socket's buffer is
//! full) it drops it and the next read fails with ENOBUFS: [`Notification::Lost`]
//! says so, and whoever keeps state from notifications must read
//! everything again.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::{link::LinkAttribute, route::RouteAttribute, RouteNetlinkMessage as M};

use super::socket::{force_receive_buffer, split_datagram};
use crate::{
    error::{Error, Result},
    netns::{run_in, NetnsRef},
};

/// The notification groups: links, IPv4 addresses and routes, IPv6
/// addresses and routes (`RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
/// RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE`).
const GROUPS: u32 = 0x1 | 0x10 | 0x40 | 0x100 | 0x400;
/// The receive buffer asked for (as root, beyond `rmem_max`): a burst of
/// thousands of notifications (a parent deleted under many links).
const RCVBUF: usize = 8 * 1024 * 1024;

/// What a notification says changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A link was added or changed (`removed: false`) or deleted.
    Link {
        /// Its index.
        index: u32,
        /// Its name, when the notification carries it.
        name: Option<String>,
        /// Whether it was deleted.
        removed: bool,
    },
    /// An address on link `index` was added or removed.
    Address {
        /// The link's index.
        index: u32,
        /// Whether it was removed.
        removed: bool,
    },
    /// A route was added or removed.
    Route {
        /// The link it goes out of, if it names one.
        oif: Option<u32>,
        /// Whether it was removed.
        removed: bool,
    },
    /// The kernel dropped notifications (ENOBUFS): anything may have
    /// changed.
    Lost,
}

/// A socket subscribed to one namespace's notifications.
pub struct Monitor {
    sock: netlink_sys::Socket,
    netns: NetnsRef,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("netns", &self.netns).finish_non_exhaustive()
    }
}

impl Monitor {
    /// Subscribes to the notifications of `netns` (`ip -n NS monitor link
    /// address route`).
    pub async fn open(netns: impl Into<NetnsRef>) -> Result<Monitor> {
        let netns = netns.into();
        let enter = match &netns {
            NetnsRef::Current => None,
            other => Some(other.open()?),
        };
        let what = format!("subscribe to the notifications of netns {netns}");
        let sock = run_in(enter, what.clone(), move || {
            let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE)
                .map_err(|e| Error::io(what.clone(), e))?;
            sock.bind(&netlink_sys::SocketAddr::new(0, GROUPS)).map_err(|e| Error::io(what.clone(), e))?;
            sock.set_non_blocking(true).map_err(|e| Error::io(what.clone(), e))?;
            force_receive_buffer(&sock, RCVBUF);
            Ok(sock)
        })
        .await?;
        Ok(Monitor { sock, netns, buf: vec![0; 64 * 1024] })
    }

    /// Sets the socket's receive buffer to `bytes` (the kernel doubles it
    /// and keeps a floor of a few KiB). [`Monitor::open`] asks for 8 MiB;
    /// a smaller buffer drops notifications sooner (and reports them
    /// [`Notification::Lost`]).
    pub fn set_receive_buffer(&mut self, bytes: usize) -> Result<()> {
        self.sock
            .set_rx_buf_sz(bytes)
            .map_err(|e| Error::io(format!("set the receive buffer of the monitor of netns {}", self.netns), e))
    }

    /// The namespace it watches.
    pub fn netns(&self) -> &NetnsRef {
        &self.netns
    }

    /// Every notification queued now, in order; empty when there is none
    /// (it never waits).
    pub fn drain(&mut self) -> Result<Vec<Notification>> {
        let mut out = Vec::new();
        loop {
            match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(0) => return Ok(out),
                Ok(n) => decode(&self.buf[..n.min(self.buf.len())], &mut out),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    if out.last() != Some(&Notification::Lost) {
                        out.push(Notification::Lost);
                    }
                }
                Err(e) => return Err(Error::io(format!("read the notifications of netns {}", self.netns), e)),
            }
        }
    }
}

impl AsFd for Monitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is the socket's, open for as long as `self`.
        unsafe { BorrowedFd::borrow_raw(self.sock.as_raw_fd()) }
    }
}

impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }
}

/// The changes one datagram of notifications carries. Messages that do not
/// decode are skipped: a notification vlanmac cannot read is one it does
/// not need (and a malformed datagram is reported as lost notifications).
pub fn decode(datagram: &[u8], out: &mut Vec<Notification>) {
    let Ok(parts) = split_datagram(datagram) else {
        out.push(Notification::Lost);
        return;
    };
    for one in parts {
        let Ok(msg) = NetlinkMessage::<M>::deserialize(one) else { continue };
        let n = match msg.payload {
            NetlinkPayload::InnerMessage(M::NewLink(l)) => link(&l, false),
            NetlinkPayload::InnerMessage(M::DelLink(l)) => link(&l, true),
            NetlinkPayload::InnerMessage(M::NewAddress(a)) => {
                Notification::Address { index: a.header.index, removed: false }
            }
            NetlinkPayload::InnerMessage(M::DelAddress(a)) => {
                Notification::Address { index: a.header.index, removed: true }
            }
            NetlinkPayload::InnerMessage(M::NewRoute(r)) => Notification::Route { oif: oif(&r), removed: false },
            NetlinkPayload::InnerMessage(M::DelRoute(r)) => Notification::Route { oif: oif(&r), removed: true },
            NetlinkPayload::Overrun(_) => Notification::Lost,
            _ => continue,
        };
        out.push(n);
    }
}

fn link(l: &netlink_packet_route::link::LinkMessage, removed: bool) -> Notification {
    let name = l.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    });
    Notification::Link { index: l.header.index, name, removed }
}

fn oif(r: &netlink_packet_route::route::RouteMessage) -> Option<u32> {
    r.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(i) => Some(*i),
        _ => None,
    })
}
