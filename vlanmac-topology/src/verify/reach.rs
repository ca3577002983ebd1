//! Reachability probes that gate a confirmed apply (`vlanmac apply FILE
//! --confirm D --probe SPEC`): `ping ADDR [from NS]` (ICMP echo, from the
//! caller's namespace or a named one), `tcp HOST:PORT` (a TCP connection
//! from the caller's namespace), `gateway` (the caller's IPv4 default
//! gateway answers an echo), `verify` (the topology's own verify, which
//! the engine runs). Each is tried once here; the caller decides how often.
//! The probes themselves, as a file or the CLI spells them, are
//! `confirm_spec.rs`'s.

use std::{
    io::BufRead,
    net::{IpAddr, Ipv4Addr, TcpStream, ToSocketAddrs},
    time::{Duration, Instant},
};

use nix::sched::{setns, CloneFlags};
use vlanmac_core::netns::NetnsRef;

use super::icmp::{Pinger, Reply};
pub use crate::confirm_spec::Probe;

impl Probe {
    /// Tries the probe once, for at most `timeout`; what failed, if it
    /// did. `Verify` is the engine's to run: here it is an error.
    pub async fn check(&self, timeout: Duration) -> Result<(), String> {
        match self {
            Probe::Ping { addr, from } => {
                let nsref = from.clone().map_or(NetnsRef::Current, NetnsRef::Named);
                ping(nsref, *addr, timeout).await
            }
            Probe::Tcp { target } => {
                let target = target.clone();
                blocking(move || {
                    let addrs: Vec<_> =
                        target.to_socket_addrs().map_err(|e| format!("cannot resolve {target}: {e}"))?.collect();
                    let first = addrs.first().ok_or_else(|| format!("{target} resolves to nothing"))?;
                    TcpStream::connect_timeout(first, timeout)
                        .map(|_| ())
                        .map_err(|e| format!("connect to {first}: {e}"))
                })
                .await
            }
            Probe::Gateway => {
                let gw = blocking(default_gateway).await?;
                ping(NetnsRef::Current, IpAddr::V4(gw), timeout).await.map_err(|e| format!("gateway {gw}: {e}"))
            }
            Probe::Verify => Err("verify is run by the engine".into()),
        }
    }
}

/// `f` on a thread of its own.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    match vlanmac_core::netns::spawn_blocking(move || Ok(f())).await {
        Ok(r) => r,
        Err(e) => Err(e.to_string()),
    }
}

/// The caller's IPv4 default gateway, from `/proc/net/route`.
fn default_gateway() -> Result<Ipv4Addr, String> {
    let f = std::fs::File::open("/proc/net/route").map_err(|e| format!("read /proc/net/route: {e}"))?;
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok).skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if let (Some(&"00000000"), Some(gw)) = (cols.get(1), cols.get(2)) {
            if let Ok(v) = u32::from_str_radix(gw, 16) {
                // The kernel prints the address's bytes as a native-endian word.
                return Ok(Ipv4Addr::from(v.to_ne_bytes()));
            }
        }
    }
    Err("no IPv4 default route".into())
}

/// One ICMP echo (sent again every 300 ms) from `nsref`, answered within
/// `timeout`.
async fn ping(nsref: NetnsRef, addr: IpAddr, timeout: Duration) -> Result<(), String> {
    let fd = match &nsref {
        NetnsRef::Current => None,
        r => Some(r.open().map_err(|e| e.to_string())?),
    };
    blocking(move || {
        if let Some(fd) = fd {
            setns(fd, CloneFlags::CLONE_NEWNET).map_err(|e| format!("enter the namespace: {e}"))?;
        }
        let mut p = Pinger::new(addr.is_ipv6()).map_err(|e| format!("open an ICMP socket: {e}"))?;
        let start = Instant::now();
        let mut next_send = start;
        let mut sent = Vec::new();
        while start.elapsed() < timeout {
            if Instant::now() >= next_send {
                sent.push(p.send(addr, 64).map_err(|e| format!("send to {addr}: {e}"))?);
                next_send = Instant::now() + Duration::from_millis(300);
            }
            let replies = p.drain().map_err(|e| format!("receive: {e}"))?;
            if replies.iter().any(|(seq, r)| sent.contains(seq) && *r == Reply::Echo(addr)) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!("no echo reply from {addr} within {:.1} s", timeout.as_secs_f64()))
    })
    .await
}
