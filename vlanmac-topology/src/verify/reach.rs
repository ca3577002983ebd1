//! Reachability probes that gate a confirmed apply (`vlanmac apply FILE
//! --confirm D --probe SPEC`): `ping ADDR [from NS]` (ICMP echo, from the
//! caller's namespace or a named one), `tcp HOST:PORT` (a TCP connection
//! from the caller's namespace), `gateway` (the caller's IPv4 default
//! gateway answers an echo), `verify` (the topology's own verify, which
//! the engine runs). Each is tried once here; the caller decides how often.

use std::{
    fmt,
    io::BufRead,
    net::{IpAddr, Ipv4Addr, TcpStream, ToSocketAddrs},
    str::FromStr,
    time::{Duration, Instant},
};

use nix::sched::{setns, CloneFlags};
use vlanmac_core::{netns::NetnsRef, spec::NetnsName, spec::SpecError};

use super::icmp::{Pinger, Reply};

/// One probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `ping ADDR [from NS]`.
    Ping {
        /// The address.
        addr: IpAddr,
        /// The namespace it is sent from (`None`: the caller's).
        from: Option<NetnsName>,
    },
    /// `tcp HOST:PORT`.
    Tcp {
        /// `HOST:PORT` as given.
        target: String,
    },
    /// `gateway`: the caller's IPv4 default gateway.
    Gateway,
    /// `verify`: the topology's own verify.
    Verify,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Ping { addr, from: None } => write!(f, "ping {addr}"),
            Probe::Ping { addr, from: Some(ns) } => write!(f, "ping {addr} from {ns}"),
            Probe::Tcp { target } => write!(f, "tcp {target}"),
            Probe::Gateway => f.write_str("gateway"),
            Probe::Verify => f.write_str("verify"),
        }
    }
}

impl FromStr for Probe {
    type Err = SpecError;

    /// `ping 10.0.10.1`, `ping 10.0.10.1 from web`, `tcp host:22`,
    /// `gateway`, `verify`; the error's field is `probe`.
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let bad = |rule: &str| SpecError::new("probe", s, rule);
        match words.as_slice() {
            ["ping", addr] | ["ping", addr, "from", _] => {
                let addr = addr.parse().map_err(|_| bad("needs an IP address after `ping`"))?;
                let from = match words.get(3) {
                    Some(ns) => {
                        Some(NetnsName::new(*ns).map_err(|e| bad(&format!("names a bad namespace: {}", e.rule)))?)
                    }
                    None => None,
                };
                Ok(Probe::Ping { addr, from })
            }
            ["tcp", target] => {
                let port = target.rsplit_once(':').and_then(|(h, p)| (!h.is_empty()).then_some(p));
                match port.map(str::parse::<u16>) {
                    Some(Ok(p)) if p > 0 => Ok(Probe::Tcp { target: (*target).to_string() }),
                    _ => Err(bad("needs HOST:PORT after `tcp`")),
                }
            }
            ["gateway"] => Ok(Probe::Gateway),
            ["verify"] => Ok(Probe::Verify),
            _ => Err(bad("is not one of `ping ADDR [from NS]`, `tcp HOST:PORT`, `gateway`, `verify`")),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_parse_and_print_back() {
        for s in ["ping 10.0.10.1", "ping 2001:db8::1 from web", "tcp example.org:22", "gateway", "verify"] {
            assert_eq!(s.parse::<Probe>().unwrap().to_string(), s);
        }
        for bad in [
            "",
            "ping",
            "ping nothere",
            "ping 10.0.0.1 from a/b",
            "tcp host",
            "tcp :22",
            "tcp h:0",
            "tcp h:x",
            "dns x",
            "gateway now",
        ] {
            let e = bad.parse::<Probe>().unwrap_err();
            assert_eq!(e.field, "probe", "{bad}");
        }
    }
}
