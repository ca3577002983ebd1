//! The `confirm:` section of a topology file — how long a confirmed apply
//! waits and which probes gate it — and the probes as they are written
//! (`ping ADDR [from NS]`, `tcp HOST:PORT`, `gateway`, `verify`). Pure:
//! trying a probe is `verify/reach.rs`'s.
//!
//! ```yaml
//! confirm:
//!   timeout: 2m              # 90, 90s, 2m, 1h: 1 s to 24 h
//!   probes: [ "ping 10.0.10.1 from lab-host", gateway ]
//! ```

use std::{fmt, net::IpAddr, str::FromStr, time::Duration};

use serde::Serialize;
use vlanmac_core::spec::{NetnsName, SpecError};

/// `confirm:` of a topology file: `vlanmac apply FILE` then applies as
/// with `--confirm TIMEOUT --probe P...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfirmSection {
    /// How long after the apply a confirm may come.
    pub timeout: Duration,
    /// The probes that gate the change.
    pub probes: Vec<Probe>,
}

/// `90`, `90s`, `2m`, `1h`: 1 s to 24 h; the error names `field`.
pub fn parse_duration(field: &str, text: &str) -> Result<Duration, SpecError> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let bad = |rule: &str| SpecError::new(field, text, rule);
    let n: u64 = num.parse().map_err(|_| bad("is not a duration such as 90s, 2m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(bad("has an unknown unit (s, m or h)")),
    };
    if !(1..=86400).contains(&secs) {
        return Err(bad("is outside 1s..24h"));
    }
    Ok(Duration::from_secs(secs))
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
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

impl From<Probe> for String {
    fn from(p: Probe) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("t", "90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("t", "2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("t", "1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "0", "25h", "5d", "m", "-1", "1.5m"] {
            assert_eq!(parse_duration("confirm.timeout", bad).unwrap_err().field, "confirm.timeout", "{bad}");
        }
    }

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
