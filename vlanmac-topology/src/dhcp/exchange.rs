//! The client's I/O: one UDP socket on port 68 per interface, opened inside
//! the interface's namespace and bound to it (`SO_BINDTODEVICE`), and one
//! thread that drives every client at once with `poll`: a DISCOVER for
//! fifty interfaces costs one thread, not fifty.
//!
//! Requests before an address is held ask for broadcast answers, so a plain
//! UDP socket receives them; no raw socket is needed.

use std::{
    collections::hash_map::RandomState,
    ffi::OsString,
    hash::{BuildHasher, Hasher},
    net::{Ipv4Addr, SocketAddrV4},
    os::fd::{AsFd, OwnedFd},
    time::{Duration, Instant},
};

use nix::{
    errno::Errno,
    poll::{poll, PollFd, PollFlags, PollTimeout},
    sched::{setns, CloneFlags},
    sys::socket::{self, sockopt, AddressFamily, MsgFlags, SockFlag, SockType, SockaddrIn},
};
use vlanmac_core::{
    netns::{self, NetnsRef},
    spec::{IfName, MacAddr},
};

use super::{
    lease::{unix_now, Lease},
    machine::{Client, Goal, Progress},
    message::{self, CLIENT_PORT, SERVER_PORT},
};
use crate::error::{Error, Result};

/// An interface a client runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its namespace.
    pub netns: NetnsRef,
    /// Its name there; it must be up.
    pub ifname: IfName,
    /// Its MAC: `chaddr` and the client identifier.
    pub mac: MacAddr,
    /// Sent as the host name (option 12), if any.
    pub hostname: Option<String>,
    /// What errors call it (`endpoint c2 eth0 on network vlan20`).
    pub label: String,
}

impl Interface {
    /// `ifname` in `netns` with `mac`, named `IFNAME in netns NS` in errors.
    pub fn new(netns: NetnsRef, ifname: IfName, mac: MacAddr) -> Interface {
        let label = format!("{ifname} in netns {netns}");
        Interface { netns, ifname, mac, hostname: None, label }
    }
}

/// What one client ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The lease granted.
    pub lease: Lease,
    /// What the server said each time it refused before granting it (a
    /// renewal refused means the old address is gone).
    pub naks: Vec<String>,
}

/// A fresh random transaction id.
fn xid() -> u32 {
    RandomState::new().build_hasher().finish() as u32
}

/// The port-68 socket of `ifname`, in the calling thread's namespace.
fn open_socket(ifname: &IfName) -> std::result::Result<OwnedFd, Errno> {
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    // Several interfaces of one namespace each have a socket on port 68.
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    socket::setsockopt(&fd, sockopt::Broadcast, &true)?;
    socket::setsockopt(&fd, sockopt::BindToDevice, &OsString::from(ifname.as_str()))?;
    socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, CLIENT_PORT)),
    )?;
    Ok(fd)
}

/// Opens each interface's socket in its namespace on the calling thread
/// (the caller's own namespace first, before the thread leaves it).
fn open_sockets(ifaces: &[(Interface, Option<OwnedFd>)]) -> vlanmac_core::Result<Vec<OwnedFd>> {
    let order: Vec<usize> = (0..ifaces.len())
        .filter(|i| ifaces[*i].1.is_none())
        .chain((0..ifaces.len()).filter(|i| ifaces[*i].1.is_some()))
        .collect();
    let mut out: Vec<Option<OwnedFd>> = (0..ifaces.len()).map(|_| None).collect();
    for i in order {
        let (iface, ns) = &ifaces[i];
        if let Some(ns) = ns {
            setns(ns, CloneFlags::CLONE_NEWNET).map_err(|e| {
                vlanmac_core::Error::from_errno(
                    format!("DHCP on {}: enter its namespace", iface.label),
                    e as i32,
                    None,
                    None,
                )
            })?;
        }
        let fd = open_socket(&iface.ifname).map_err(|e| {
            vlanmac_core::Error::from_errno(
                format!("DHCP on {}: open a UDP socket on port {CLIENT_PORT}", iface.label),
                e as i32,
                None,
                None,
            )
        })?;
        out[i] = Some(fd);
    }
    out.into_iter()
        .map(|fd| fd.ok_or_else(|| vlanmac_core::Error::Internal("a DHCP socket was not opened".into())))
        .collect()
}

/// One client with its socket and timers.
struct Running {
    client: Client,
    fd: OwnedFd,
    next_send: Instant,
    last_send_error: Option<Errno>,
}

impl Running {
    fn send(&mut self, now: Instant) {
        let Some(p) = self.client.packet() else { return };
        let to = SockaddrIn::from(SocketAddrV4::new(p.to.unwrap_or(Ipv4Addr::BROADCAST), SERVER_PORT));
        match socket::sendto(std::os::fd::AsRawFd::as_raw_fd(&self.fd), &p.bytes, &to, MsgFlags::empty()) {
            Ok(_) => self.last_send_error = None,
            Err(e) => self.last_send_error = Some(e),
        }
        self.next_send = now + Duration::from_millis(self.client.sent());
    }

    /// Reads every datagram waiting; true if the client moved on.
    fn receive(&mut self) -> bool {
        let mut buf = [0u8; 1500];
        let mut moved = false;
        loop {
            match socket::recv(std::os::fd::AsRawFd::as_raw_fd(&self.fd), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(n) => {
                    let data = buf.get(..n).unwrap_or(&[]);
                    match self.client.on_datagram(data, unix_now(), xid()) {
                        Progress::Nothing => {}
                        Progress::SendNow => {
                            self.next_send = Instant::now();
                            moved = true;
                        }
                        Progress::Bound | Progress::Refused => return true,
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(_) => return moved,
            }
        }
    }

    fn outcome(self, iface: &Interface, timeout: Duration) -> Result<Outcome> {
        if let Some(lease) = self.client.lease() {
            return Ok(Outcome { lease: lease.clone(), naks: self.client.naks().to_vec() });
        }
        let reason = if self.client.is_done() {
            format!("the server refused {} times: {}", self.client.naks().len(), self.client.naks().join("; "))
        } else {
            let mut r = format!(
                "no answer within {:.1} s: waiting for {} after {} requests",
                timeout.as_secs_f64(),
                self.client.waiting_for(),
                self.client.tries()
            );
            if let Some(e) = self.last_send_error {
                r.push_str(&format!(" (the last send failed: {})", e.desc()));
            }
            r
        };
        Err(Error::Dhcp { interface: iface.label.clone(), reason })
    }
}

/// Runs a client per interface, all at once, until each has a lease, was
/// refused, or `timeout` passed; one result per interface, in order.
///
/// `Goal::Acquire` is what `dhclient -1` does on each interface (DISCOVER,
/// OFFER, REQUEST, ACK); the caller installs the lease
/// ([`super::install`]). An error only for a socket that could not be
/// opened; a client without a lease is an `Err` in its own slot,
/// [`Error::Dhcp`] naming the interface.
pub async fn exchange(jobs: Vec<(Interface, Goal)>, timeout: Duration) -> Result<Vec<Result<Outcome>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut with_ns = Vec::with_capacity(jobs.len());
    let mut goals = Vec::with_capacity(jobs.len());
    for (iface, goal) in jobs {
        let ns = match &iface.netns {
            NetnsRef::Current => None,
            r => Some(r.open()?),
        };
        with_ns.push((iface, ns));
        goals.push(goal);
    }
    let out = netns::spawn_blocking(move || {
        let fds = open_sockets(&with_ns)?;
        let start = Instant::now();
        let deadline = start + timeout;
        let mut runs: Vec<Running> = fds
            .into_iter()
            .zip(goals)
            .zip(&with_ns)
            .map(|((fd, goal), (iface, _))| Running {
                client: Client::new(goal, iface.mac, iface.hostname.clone(), xid()),
                fd,
                next_send: start,
                last_send_error: None,
            })
            .collect();
        loop {
            let now = Instant::now();
            for r in runs.iter_mut().filter(|r| !r.client.is_done() && r.next_send <= now) {
                r.send(now);
            }
            let pending: Vec<usize> = (0..runs.len()).filter(|i| !runs[*i].client.is_done()).collect();
            if pending.is_empty() || now >= deadline {
                break;
            }
            let wake = pending.iter().map(|i| runs[*i].next_send).min().unwrap_or(deadline).min(deadline);
            let wait = wake.saturating_duration_since(Instant::now());
            let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
            let ready: Vec<bool> = {
                let mut fds: Vec<PollFd> =
                    pending.iter().map(|i| PollFd::new(runs[*i].fd.as_fd(), PollFlags::POLLIN)).collect();
                match poll(&mut fds, PollTimeout::from(ms)) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => {
                        return Err(vlanmac_core::Error::from_errno("DHCP: poll the sockets", e as i32, None, None))
                    }
                }
                fds.iter().map(|f| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN))).collect()
            };
            for (k, i) in pending.iter().enumerate() {
                if ready.get(k).copied().unwrap_or(false) {
                    runs[*i].receive();
                }
            }
        }
        Ok(runs.into_iter().zip(&with_ns).map(|(r, (iface, _))| r.outcome(iface, timeout)).collect())
    })
    .await?;
    Ok(out)
}

/// Gives `lease` back (DHCPRELEASE, unicast to its server from the leased
/// address, which must still be on the interface); the server answers
/// nothing. `dhclient -r`.
pub async fn release(iface: &Interface, lease: &Lease) -> Result<()> {
    let ns = match &iface.netns {
        NetnsRef::Current => None,
        r => Some(r.open()?),
    };
    let bytes =
        message::request(message::Ask::Release { addr: lease.address, server: lease.server }, &lease.mac, xid(), None);
    let (iface, server) = (iface.clone(), lease.server);
    netns::spawn_blocking(move || {
        let fds = open_sockets(&[(iface.clone(), ns)])?;
        let fd = fds.into_iter().next().ok_or_else(|| vlanmac_core::Error::Internal("no DHCP socket".into()))?;
        let to = SockaddrIn::from(SocketAddrV4::new(server, SERVER_PORT));
        socket::sendto(std::os::fd::AsRawFd::as_raw_fd(&fd), &bytes, &to, MsgFlags::empty()).map_err(|e| {
            vlanmac_core::Error::from_errno(
                format!("DHCP on {}: send DHCPRELEASE to {server}", iface.label),
                e as i32,
                None,
                None,
            )
        })?;
        Ok(())
    })
    .await?;
    Ok(())
}
