//! The prober: many probes in flight on many sockets (one per source
//! namespace and family) from one thread, the way `fping` works — instead
//! of one probe at a time, or one thread per namespace.
//!
//! At most [`WINDOW`] probes are in flight at once. Each first probe to a
//! new neighbour makes its source broadcast an ARP request (IPv4) or send a
//! neighbour solicitation (IPv6); on a macvlan, broadcasts between
//! macvlans of one parent go through the parent's broadcast queue (1,000
//! packets by default, `IFLA_MACVLAN_BC_QUEUE_LEN`), which the window keeps
//! far below.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    time::{Duration, Instant},
};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::icmp::{Pinger, Reply};

/// Most probes in flight at once.
pub(crate) const WINDOW: usize = 256;

/// How fast probes that make a router answer "time exceeded" are sent.
/// The kernel sends ICMP errors from a token bucket of
/// `net.ipv4.icmp_msgs_burst` (50) refilled at `net.ipv4.icmp_msgs_per_sec`
/// (1,000 a second) and drops the rest (`IcmpOutRateLimitGlobal` in
/// `nstat`); real routers limit the same way. These probes stay below it.
const ROUTER_ERRORS_BURST: f64 = 40.0;
const ROUTER_ERRORS_PER_SEC: f64 = 800.0;

/// A token bucket for the probes a router answers with an ICMP error.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket { tokens: ROUTER_ERRORS_BURST, at: Instant::now() }
    }

    /// Takes a token if there is one; else how long until there is.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * ROUTER_ERRORS_PER_SEC;
        self.tokens = (self.tokens + refill).min(ROUTER_ERRORS_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / ROUTER_ERRORS_PER_SEC))
        }
    }
}

/// One source's sockets (a family the source has no address of has none).
#[derive(Default)]
pub(crate) struct Sockets {
    pub v4: Option<Pinger>,
    pub v6: Option<Pinger>,
}

impl Sockets {
    /// Opens the sockets of the families asked for in the calling thread's
    /// namespace.
    pub(crate) fn open(v4: bool, v6: bool) -> io::Result<Sockets> {
        Ok(Sockets {
            v4: if v4 { Some(Pinger::new(false)?) } else { None },
            v6: if v6 { Some(Pinger::new(true)?) } else { None },
        })
    }

    fn get(&self, v6: bool) -> Option<&Pinger> {
        if v6 {
            self.v6.as_ref()
        } else {
            self.v4.as_ref()
        }
    }

    fn get_mut(&mut self, v6: bool) -> Option<&mut Pinger> {
        if v6 {
            self.v6.as_mut()
        } else {
            self.v4.as_mut()
        }
    }
}

/// One echo request: from the sockets of `source`, to `dst`, with `ttl`;
/// `paced` when a router on the way is expected to answer it with "time
/// exceeded".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub source: usize,
    pub dst: IpAddr,
    pub ttl: u8,
    pub paced: bool,
}

/// Sends every probe (at most [`WINDOW`] in flight) and waits for each
/// one's reply for up to `timeout` after it was sent; returns what came
/// back for each, in order. A probe that could not be sent (no route, no
/// socket for its family) is a [`Reply::Timeout`].
pub(crate) fn exchange(sockets: &mut [Sockets], probes: &[Probe], timeout: Duration) -> Vec<Reply> {
    let mut out = vec![Reply::Timeout; probes.len()];
    // (source, v6, sequence) -> (probe index, deadline)
    let mut in_flight: HashMap<(usize, bool, u16), (usize, Instant)> = HashMap::new();
    let mut next = 0;
    let mut bucket = Bucket::new();
    loop {
        let mut wait_for_token = None;
        while in_flight.len() < WINDOW && next < probes.len() {
            let p = probes[next];
            if p.paced {
                if let Err(wait) = bucket.take() {
                    wait_for_token = Some(wait);
                    break;
                }
            }
            let v6 = p.dst.is_ipv6();
            match sockets.get_mut(p.source).and_then(|s| s.get_mut(v6)).map(|s| s.send(p.dst, p.ttl)) {
                Some(Ok(seq)) => {
                    in_flight.insert((p.source, v6, seq), (next, Instant::now() + timeout));
                }
                // The socket's send buffer is full: wait for replies first.
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock && !in_flight.is_empty() => break,
                _ => {}
            }
            next += 1;
        }
        let now = Instant::now();
        in_flight.retain(|_, (_, deadline)| *deadline > now);
        if in_flight.is_empty() {
            if next >= probes.len() {
                return out;
            }
            if let Some(wait) = wait_for_token {
                std::thread::sleep(wait);
            }
            continue;
        }
        let mut first_deadline = in_flight.values().map(|(_, d)| *d).min().unwrap_or(now);
        if let Some(wait) = wait_for_token {
            first_deadline = first_deadline.min(now + wait);
        }
        let mut busy: Vec<(usize, bool)> = in_flight.keys().map(|(s, v6, _)| (*s, *v6)).collect();
        busy.sort_unstable();
        busy.dedup();
        let ready: Vec<(usize, bool)> = {
            let socks: Vec<(usize, bool, &Pinger)> =
                busy.iter().filter_map(|&(s, v6)| Some((s, v6, sockets.get(s)?.get(v6)?))).collect();
            let mut fds: Vec<PollFd> =
                socks.iter().map(|(_, _, p)| PollFd::new(p.as_fd(), PollFlags::POLLIN)).collect();
            let wait = first_deadline.saturating_duration_since(now).max(Duration::from_millis(1));
            let wait = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, wait) {
                Ok(n) if n > 0 => fds
                    .iter()
                    .zip(&socks)
                    .filter(|(f, _)| f.any().unwrap_or(false))
                    .map(|(_, (s, v6, _))| (*s, *v6))
                    .collect(),
                _ => Vec::new(),
            }
        };
        for (s, v6) in ready {
            let Some(sock) = sockets.get(s).and_then(|x| x.get(v6)) else { continue };
            for (seq, reply) in sock.drain().unwrap_or_default() {
                if let Some((i, _)) = in_flight.remove(&(s, v6, seq)) {
                    out[i] = reply;
                }
            }
        }
    }
}

/// How much longer than the first one a retry waits: long enough for the
/// kernel's three ARP/NDP solicitations (one a second), so a neighbour
/// whose first solicitation was lost in a burst is still resolved.
const RETRY_WAIT: u32 = 3;

/// Pings every `(source, dst)`: true when an echo reply came from `dst`.
/// Probes without a reply are sent once more (and waited for
/// [`RETRY_WAIT`] times as long) before they count as failed.
pub(crate) fn ping_all(sockets: &mut [Sockets], targets: &[(usize, IpAddr)], timeout: Duration) -> Vec<bool> {
    let probes: Vec<Probe> =
        targets.iter().map(|&(source, dst)| Probe { source, dst, ttl: 64, paced: false }).collect();
    let first = exchange(sockets, &probes, timeout);
    let mut ok: Vec<bool> = first.iter().zip(&probes).map(|(r, p)| *r == Reply::Echo(p.dst)).collect();
    let again: Vec<usize> = (0..probes.len()).filter(|i| !ok[*i]).collect();
    if !again.is_empty() {
        let retry: Vec<Probe> = again.iter().map(|i| probes[*i]).collect();
        for (i, r) in again.iter().zip(exchange(sockets, &retry, timeout * RETRY_WAIT)) {
            ok[*i] = r == Reply::Echo(probes[*i].dst);
        }
    }
    ok
}

/// The way to one target, as `traceroute -I` shows it: the address that
/// answered at each TTL (`None` for no answer) and whether the target
/// itself answered (at the last TTL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path {
    pub hops: Vec<Option<IpAddr>>,
    pub reached: bool,
}

/// One way to trace: from `source` to `dst`, with TTLs up to `max_ttl`,
/// expecting the answer at `expect` hops; with `pace`, the probes below
/// `expect` are paced (a router that rate-limits its ICMP errors).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trace {
    pub source: usize,
    pub dst: IpAddr,
    pub expect: u8,
    pub max_ttl: u8,
    pub pace: bool,
}

/// Traces every target at once, TTL by TTL; a TTL without an answer is
/// probed once more. A trace ends at the first echo reply, or at the first
/// TTL nothing answers (the path already differs from any expected one:
/// traced targets answered a ping moments before).
pub(crate) fn trace_all(sockets: &mut [Sockets], targets: &[Trace], timeout: Duration) -> Vec<Path> {
    let mut paths = vec![Path::default(); targets.len()];
    let mut done = vec![false; targets.len()];
    let max = targets.iter().map(|t| t.max_ttl).max().unwrap_or(0);
    for ttl in 1..=max {
        let open: Vec<usize> = (0..targets.len()).filter(|i| !done[*i] && targets[*i].max_ttl >= ttl).collect();
        if open.is_empty() {
            break;
        }
        let probes: Vec<Probe> = open
            .iter()
            .map(|i| {
                let t = &targets[*i];
                Probe { source: t.source, dst: t.dst, ttl, paced: t.pace && ttl < t.expect }
            })
            .collect();
        let mut replies = exchange(sockets, &probes, timeout);
        let silent: Vec<usize> = (0..probes.len()).filter(|k| replies[*k] == Reply::Timeout).collect();
        if !silent.is_empty() {
            let retry: Vec<Probe> = silent.iter().map(|k| probes[*k]).collect();
            for (k, r) in silent.iter().zip(exchange(sockets, &retry, timeout)) {
                replies[*k] = r;
            }
        }
        for (i, r) in open.iter().zip(replies) {
            let p = &mut paths[*i];
            match r {
                Reply::Echo(from) => {
                    p.hops.push(Some(from));
                    p.reached = from == targets[*i].dst;
                    done[*i] = true;
                }
                Reply::TimeExceeded(from) => p.hops.push(Some(from)),
                Reply::Timeout => {
                    p.hops.push(None);
                    done[*i] = true;
                }
            }
        }
    }
    paths
}
