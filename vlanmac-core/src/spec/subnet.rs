use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;

use super::{prefix, SpecError};

/// An IP subnet with an optional gateway inside it, as Docker's
/// `--subnet=10.0.10.0/24 --gateway=10.0.10.1`.
///
/// ```
/// use vlanmac_core::spec::Subnet;
/// let s = Subnet::new("10.0.10.0/24".parse().unwrap(), Some("10.0.10.1".parse().unwrap())).unwrap();
/// assert!(s.contains("10.0.10.3".parse().unwrap()));
/// // A gateway outside the subnet names the field:
/// let e = Subnet::new("10.0.10.0/24".parse().unwrap(), Some("10.0.20.1".parse().unwrap())).unwrap_err();
/// assert_eq!(e.field, "gateway");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subnet {
    net: IpNet,
    gateway: Option<IpAddr>,
}

impl Subnet {
    /// Validates `net` (host bits must be zero) and `gateway` (same family,
    /// inside `net`). Fields: `subnet`, `gateway`.
    pub fn new(net: IpNet, gateway: Option<IpAddr>) -> Result<Self, SpecError> {
        if net.trunc() != net {
            return Err(SpecError::new("subnet", net, format!("has host bits set (the network is {})", net.trunc())));
        }
        if let Some(gw) = gateway {
            if gw.is_ipv4() != net.addr().is_ipv4() {
                let (g, n) = if gw.is_ipv4() { ("IPv4", "IPv6") } else { ("IPv6", "IPv4") };
                return Err(SpecError::new("gateway", gw, format!("is an {g} gateway on the {n} subnet {net}")));
            }
            if !net.contains(&gw) {
                return Err(SpecError::new("gateway", gw, format!("is outside the subnet {net}")));
            }
        }
        Ok(Subnet { net, gateway })
    }

    /// Parses the subnet text (`10.0.10.0/24`) and gateway text.
    pub fn parse(subnet: &str, gateway: Option<&str>) -> Result<Self, SpecError> {
        let net = prefix::parse_ip_with_prefix("subnet", subnet)?;
        let gw = gateway
            .map(|g| g.parse::<IpAddr>().map_err(|_| SpecError::new("gateway", g, "is not an IPv4 or IPv6 address")))
            .transpose()?;
        Subnet::new(net, gw)
    }

    /// The network.
    pub fn net(&self) -> IpNet {
        self.net
    }

    /// The gateway, if any.
    pub fn gateway(&self) -> Option<IpAddr> {
        self.gateway
    }

    /// Whether this is an IPv6 subnet.
    pub fn is_ipv6(&self) -> bool {
        self.net.addr().is_ipv6()
    }

    /// Whether `addr` lies inside the subnet.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.net.contains(&addr)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.net)?;
        if let Some(g) = self.gateway {
            write!(f, " via {g}")?;
        }
        Ok(())
    }
}

impl FromStr for Subnet {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Subnet::parse(s, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_subnets() {
        let s = Subnet::parse("10.0.10.0/24", Some("10.0.10.1")).unwrap();
        assert_eq!(s.gateway().unwrap().to_string(), "10.0.10.1");
        let s6 = Subnet::parse("2001:db8:babe:10::/64", Some("2001:db8:babe:10::1")).unwrap();
        assert!(s6.is_ipv6());
    }

    #[test]
    fn gateway_outside_or_wrong_family() {
        let e = Subnet::parse("10.0.10.0/24", Some("10.0.20.1")).unwrap_err();
        assert_eq!(e.field, "gateway");
        assert!(e.rule.contains("outside the subnet 10.0.10.0/24"), "{e}");
        let e = Subnet::parse("2001:db8:babe:10::/64", Some("10.0.10.1")).unwrap_err();
        assert_eq!(e.field, "gateway");
        assert!(e.rule.contains("IPv4 gateway on the IPv6 subnet"), "{e}");
        let e = Subnet::parse("10.0.10.0/24", Some("2001:db8::1")).unwrap_err();
        assert!(e.rule.contains("IPv6 gateway on the IPv4 subnet"), "{e}");
    }

    #[test]
    fn bad_subnets() {
        assert!(Subnet::parse("10.0.10.0/33", None).unwrap_err().rule.contains("longer than 32"));
        assert!(Subnet::parse("2001:db8::/129", None).unwrap_err().rule.contains("longer than 128"));
        assert!(Subnet::parse("10.0.10.1/24", None).unwrap_err().rule.contains("host bits"));
        assert_eq!(Subnet::parse("10.0.10.0/24", Some("gw")).unwrap_err().field, "gateway");
    }
}
