//! ICMP echo and TTL-limited probes on raw sockets (`ping`, `traceroute -I`
//! without the binaries). Everything here is blocking and runs on a thread
//! that has entered the source namespace.

use std::{
    io,
    net::{IpAddr, Ipv4Addr, SocketAddrV4, SocketAddrV6},
    os::fd::{AsRawFd, OwnedFd},
    time::{Duration, Instant},
};

use nix::sys::{
    socket::{self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, SockaddrIn6},
    time::{TimeVal, TimeValLike},
};

/// What came back for one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Echo reply from the target.
    Echo(IpAddr),
    /// Time exceeded from a router on the way.
    TimeExceeded(IpAddr),
    /// Nothing before the timeout.
    Timeout,
}

/// A raw ICMP/ICMPv6 socket for one address family.
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

impl Pinger {
    /// Opens a raw socket (needs CAP_NET_RAW) in the calling thread's namespace.
    pub fn new(v6: bool) -> io::Result<Pinger> {
        let (family, proto) =
            if v6 { (AddressFamily::Inet6, SockProtocol::IcmpV6) } else { (AddressFamily::Inet, SockProtocol::Icmp) };
        let fd = socket::socket(family, SockType::Raw, SockFlag::SOCK_CLOEXEC, proto)?;
        // A distinct identifier per socket, so concurrent probes don't mix.
        static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
        let id = (std::process::id() as u16).rotate_left(8) ^ NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Pinger { fd, v6, id, seq: 0 })
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

    fn set_timeout(&self, d: Duration) -> io::Result<()> {
        // At least a millisecond: a zero timeout would mean "wait forever".
        let d = d.max(Duration::from_millis(1));
        let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        socket::setsockopt(&self.fd, sockopt::ReceiveTimeout, &TimeVal::microseconds(micros))?;
        Ok(())
    }

    fn send(&mut self, dst: IpAddr) -> io::Result<u16> {
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

    fn recv(&self) -> io::Result<Option<(Vec<u8>, IpAddr)>> {
        let mut buf = vec![0u8; 2048];
        let (n, from) = match socket::recvfrom::<socket::SockaddrStorage>(self.fd.as_raw_fd(), &mut buf) {
            Ok(got) => got,
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::ETIMEDOUT | nix::errno::Errno::EINTR) => {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        };
        buf.truncate(n);
        let from = from
            .and_then(|f| {
                f.as_sockaddr_in()
                    .map(|a| IpAddr::V4(a.ip()))
                    .or_else(|| f.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Some((buf, from)))
    }

    /// Sends one echo with `ttl` to `dst` and waits up to `timeout` for the
    /// matching echo reply or time-exceeded message.
    pub fn probe(&mut self, dst: IpAddr, ttl: u8, timeout: Duration) -> io::Result<Reply> {
        self.set_ttl(ttl)?;
        let seq = self.send(dst)?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Reply::Timeout);
            }
            self.set_timeout(left)?;
            let Some((pkt, from)) = self.recv()? else {
                continue;
            };
            if let Some(r) = self.classify(&pkt, from, seq) {
                return Ok(r);
            }
        }
    }

    /// Matches a received packet to our probe `seq`.
    fn classify(&self, pkt: &[u8], from: IpAddr, seq: u16) -> Option<Reply> {
        let icmp = if self.v6 {
            pkt
        } else {
            let ihl = usize::from(pkt.first()? & 0x0f) * 4;
            pkt.get(ihl..)?
        };
        let (echo_reply, time_exceeded) = if self.v6 { (129u8, 3u8) } else { (0u8, 11u8) };
        let kind = *icmp.first()?;
        let ours = |id: &[u8], sq: &[u8]| id == self.id.to_be_bytes() && sq == seq.to_be_bytes();
        if kind == echo_reply {
            return ours(icmp.get(4..6)?, icmp.get(6..8)?).then_some(Reply::Echo(from));
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
            return ours(inner_icmp.get(4..6)?, inner_icmp.get(6..8)?).then_some(Reply::TimeExceeded(from));
        }
        None
    }
}

/// `ping -c 1` with retries: true when an echo reply from `dst` arrives.
pub fn ping(p: &mut Pinger, dst: IpAddr, tries: u32, timeout: Duration) -> io::Result<bool> {
    for _ in 0..tries {
        if let Reply::Echo(from) = p.probe(dst, 64, timeout)? {
            if from == dst {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `traceroute -I`: the routers on the way and whether `dst` answered, with
/// up to `max_hops` TTLs and `tries` probes per TTL.
pub fn trace(
    p: &mut Pinger,
    dst: IpAddr,
    max_hops: u8,
    tries: u32,
    timeout: Duration,
) -> io::Result<(Vec<Option<IpAddr>>, bool)> {
    let mut hops = Vec::new();
    for ttl in 1..=max_hops {
        let mut got = None;
        for _ in 0..tries {
            match p.probe(dst, ttl, timeout)? {
                Reply::Echo(from) => {
                    hops.push(Some(from));
                    return Ok((hops, from == dst));
                }
                Reply::TimeExceeded(from) => {
                    got = Some(from);
                    break;
                }
                Reply::Timeout => {}
            }
        }
        hops.push(got);
    }
    Ok((hops, false))
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
        for pkt in [
            vec![],
            vec![0x4f],
            vec![0x45; 20],
            vec![0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 0],
        ] {
            let _ = p.classify(&pkt, IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
        }
        let mut reply = vec![0x45u8; 20];
        reply[0] = 0x45;
        reply.extend([0, 0, 0, 0, 0, 7, 0, 1]);
        assert_eq!(
            p.classify(&reply, IpAddr::V4(Ipv4Addr::LOCALHOST), 1),
            Some(Reply::Echo(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        );
    }
}
