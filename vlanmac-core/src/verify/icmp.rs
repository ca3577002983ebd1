//! ICMP echo and TTL-limited probes on raw sockets (`ping`, `traceroute -I`
//! without the binaries). Everything here is blocking and runs on a thread
//! that has entered the source namespace.

use std::{
    io, mem,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    time::{Duration, Instant},
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

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
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
        let (domain, proto) =
            if v6 { (libc::AF_INET6, libc::IPPROTO_ICMPV6) } else { (libc::AF_INET, libc::IPPROTO_ICMP) };
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = check(unsafe { libc::socket(domain, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) })?;
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // A distinct identifier per socket, so concurrent probes don't mix.
        static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
        let id = (std::process::id() as u16).rotate_left(8) ^ NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Pinger { fd, v6, id, seq: 0 })
    }

    fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        let v: libc::c_int = ttl.into();
        let (level, name) =
            if self.v6 { (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS) } else { (libc::IPPROTO_IP, libc::IP_TTL) };
        // SAFETY: setsockopt with a c_int option value.
        check(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                &v as *const _ as *const libc::c_void,
                mem::size_of::<libc::c_int>() as u32,
            )
        })?;
        Ok(())
    }

    fn set_timeout(&self, d: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros().max(1000) as libc::suseconds_t,
        };
        // SAFETY: setsockopt with a timeval.
        check(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                mem::size_of::<libc::timeval>() as u32,
            )
        })?;
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
        let sent = match dst {
            IpAddr::V4(a) => send_to(&self.fd, &pkt, &sockaddr_in(a)),
            IpAddr::V6(a) => send_to(&self.fd, &pkt, &sockaddr_in6(a)),
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(self.seq)
    }

    fn recv(&self) -> io::Result<Option<(Vec<u8>, IpAddr)>> {
        let mut buf = vec![0u8; 2048];
        // SAFETY: sockaddr_storage is plain old data.
        let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: recvfrom into owned buffers of the given sizes.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
                &mut ss as *mut _ as *mut libc::sockaddr,
                &mut len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        buf.truncate(n as usize);
        Ok(Some((buf, from_storage(&ss))))
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

/// `sendto(2)` to a `sockaddr_in` or `sockaddr_in6`.
fn send_to<A>(fd: &OwnedFd, pkt: &[u8], addr: &A) -> isize {
    // SAFETY: `addr` is a complete sockaddr of its family and `pkt` a live buffer.
    unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            pkt.as_ptr() as *const libc::c_void,
            pkt.len(),
            0,
            addr as *const A as *const libc::sockaddr,
            mem::size_of::<A>() as u32,
        )
    }
}

fn sockaddr_in(a: Ipv4Addr) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
    sa
}

fn sockaddr_in6(a: Ipv6Addr) -> libc::sockaddr_in6 {
    // SAFETY: sockaddr_in6 is plain old data.
    let mut sa: libc::sockaddr_in6 = unsafe { mem::zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_addr.s6_addr = a.octets();
    sa
}

fn from_storage(ss: &libc::sockaddr_storage) -> IpAddr {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in.
            let sa = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            IpAddr::V4(Ipv4Addr::from(sa.sin_addr.s_addr.to_ne_bytes()))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let sa = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr))
        }
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
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
        let p = Pinger { fd: unsafe { OwnedFd::from_raw_fd(libc::dup(0).max(0)) }, v6: false, id: 7, seq: 1 };
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
