//! ICMP echo and TTL-limited probes on raw sockets (`ping`, `traceroute -I`
//! without the binaries). A [`Pinger`] is bound to the namespace of the
//! thread that opened it and never blocks: the prober
//! (`verify/prober.rs`) keeps many in flight on many sockets at once.

use std::{
    io,
    net::{IpAddr, Ipv4Addr, SocketAddrV4, SocketAddrV6},
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
};

use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, SockaddrIn6,
};

/// What came back for one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Echo reply from the target.
    Echo(IpAddr),
    /// Time exceeded from a router on the way.
    TimeExceeded(IpAddr),
    /// Nothing before the timeout.
    Timeout,
}

/// A raw ICMP or ICMPv6 socket in one namespace.
pub struct Pinger {
    fd: OwnedFd,
    v6: bool,
    id: u16,
    seq: u16,
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 { u16::from_be_bytes([chunk[0], chunk[1]]) } else { u16::from(chunk[0]) << 8 };
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Receive buffer asked for: room for every reply of a full window of
/// probes (a raw socket also gets a copy of every other ICMP packet of its
/// namespace, such as the echo requests other endpoints send it).
const RCVBUF: usize = 1 << 20;

impl Pinger {
    /// Opens a non-blocking raw socket (needs CAP_NET_RAW) in the calling
    /// thread's namespace.
    pub fn new(v6: bool) -> io::Result<Pinger> {
        let (family, proto) =
            if v6 { (AddressFamily::Inet6, SockProtocol::IcmpV6) } else { (AddressFamily::Inet, SockProtocol::Icmp) };
        let fd = socket::socket(family, SockType::Raw, SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK, proto)?;
        // Beyond rmem_max only with CAP_NET_ADMIN; the plain size otherwise.
        if socket::setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF).is_err() {
            let _ = socket::setsockopt(&fd, sockopt::RcvBuf, &RCVBUF);
        }
        // A distinct identifier per socket, so concurrent probes don't mix.
        static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
        let id = (std::process::id() as u16).rotate_left(8) ^ NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Pinger { fd, v6, id, seq: 0 })
    }

    /// The socket, for `poll`.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        let v = i32::from(ttl);
        if self.v6 {
            socket::setsockopt(&self.fd, sockopt::Ipv6Ttl, &v)?;
        } else {
            socket::setsockopt(&self.fd, sockopt::Ipv4Ttl, &v)?;
        }
        Ok(())
    }

    /// Sends one echo request with `ttl` to `dst`; returns its sequence
    /// number.
    pub fn send(&mut self, dst: IpAddr, ttl: u8) -> io::Result<u16> {
        self.set_ttl(ttl)?;
        self.seq = self.seq.wrapping_add(1);
        let kind = if self.v6 { 128 } else { 8 };
        let mut pkt = vec![kind, 0, 0, 0];
        pkt.extend_from_slice(&self.id.to_be_bytes());
        pkt.extend_from_slice(&self.seq.to_be_bytes());
        pkt.extend_from_slice(b"vlanmac verify probe....");
        if !self.v6 {
            let c = checksum(&pkt);
            pkt[2..4].copy_from_slice(&c.to_be_bytes());
        } // the kernel fills in ICMPv6 checksums
        let fd = self.fd.as_raw_fd();
        match dst {
            IpAddr::V4(a) => socket::sendto(fd, &pkt, &SockaddrIn::from(SocketAddrV4::new(a, 0)), MsgFlags::empty())?,
            IpAddr::V6(a) => {
                socket::sendto(fd, &pkt, &SockaddrIn6::from(SocketAddrV6::new(a, 0, 0, 0)), MsgFlags::empty())?
            }
        };
        Ok(self.seq)
    }

    /// The next packet waiting on the socket, if any.
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, IpAddr)>> {
        let (n, from) = match socket::recvfrom::<socket::SockaddrStorage>(self.fd.as_raw_fd(), buf) {
            Ok(got) => got,
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let from = from
            .and_then(|f| {
                f.as_sockaddr_in()
                    .map(|a| IpAddr::V4(a.ip()))
                    .or_else(|| f.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Some((n, from)))
    }

    /// Every reply to this socket's probes waiting now: (sequence, reply).
    /// Other ICMP traffic the socket sees is skipped.
    pub fn drain(&self) -> io::Result<Vec<(u16, Reply)>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while let Some((n, from)) = self.recv(&mut buf)? {
            if let Some(r) = self.classify(buf.get(..n).unwrap_or_default(), from) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Matches a received packet to one of our probes: its sequence number
    /// and what it says.
    fn classify(&self, pkt: &[u8], from: IpAddr) -> Option<(u16, Reply)> {
        let icmp = if self.v6 {
            pkt
        } else {
            let ihl = usize::from(pkt.first()? & 0x0f) * 4;
            pkt.get(ihl..)?
        };
        let (echo_reply, time_exceeded) = if self.v6 { (129u8, 3u8) } else { (0u8, 11u8) };
        let kind = *icmp.first()?;
        let ours = |id: &[u8], sq: &[u8]| -> Option<u16> {
            (id == self.id.to_be_bytes()).then(|| u16::from_be_bytes([sq[0], sq[1]]))
        };
        if kind == echo_reply {
            return ours(icmp.get(4..6)?, icmp.get(6..8)?).map(|seq| (seq, Reply::Echo(from)));
        }
        if kind == time_exceeded {
            // Inner: the original IP header, then our ICMP header.
            let inner = icmp.get(8..)?;
            let inner_icmp = if self.v6 {
                inner.get(40..)?
            } else {
                let ihl = usize::from(inner.first()? & 0x0f) * 4;
                inner.get(ihl..)?
            };
            return ours(inner_icmp.get(4..6)?, inner_icmp.get(6..8)?).map(|seq| (seq, Reply::TimeExceeded(from)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_checksum() {
        // Echo request id 1 seq 1, no payload: 0x0800 + 0x0001 + 0x0001 → !0x0802.
        let pkt = [8, 0, 0, 0, 0, 1, 0, 1];
        assert_eq!(checksum(&pkt), !0x0802);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn classify_never_panics_on_garbage() {
        // Any descriptor will do: classify never touches it.
        let fd = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let p = Pinger { fd, v6: false, id: 7, seq: 1 };
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for pkt in [
            vec![],
            vec![0x4f],
            vec![0x45; 20],
            vec![0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 0],
        ] {
            let _ = p.classify(&pkt, lo);
        }
        let mut reply = vec![0x45u8; 20];
        reply.extend([0, 0, 0, 0, 0, 7, 0, 9]);
        assert_eq!(p.classify(&reply, lo), Some((9, Reply::Echo(lo))));
        // Another socket's reply (id 8) is not ours.
        reply[25] = 8;
        assert_eq!(p.classify(&reply, lo), None);
    }
}
