use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;
use netlink_packet_route::{
    address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope},
    AddressFamily,
};

use super::{prefix, SpecError};

/// An interface address with its prefix length and flags
/// (`ip addr add 10.0.10.2/24 dev eth0`, `... nodad`).
///
/// The host bits are kept: `10.0.10.2/24` is address 10.0.10.2 on 10.0.10.0/24.
///
/// ```
/// use vlanmac_core::spec::AddressSpec;
/// let a: AddressSpec = "2001:db8:babe:10::3/64".parse().unwrap();
/// assert!(a.nodad);                       // IPv6 addresses default to nodad
/// assert!("10.0.10.2/33".parse::<AddressSpec>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressSpec {
    /// Address and prefix length.
    pub net: IpNet,
    /// Skip IPv6 duplicate address detection (`nodad`), so the address is
    /// usable at once. Defaults to `true` for IPv6 (as Docker does); ignored
    /// for IPv4.
    pub nodad: bool,
}

impl AddressSpec {
    /// The `RTM_NEWADDR` body that adds this address to link `index`, for a
    /// caller with a netlink connection of its own (an `rtnetlink::Handle`:
    /// `handle.address().add(...)` builds its own; send this one with
    /// `rtnetlink::Handle::request`).
    ///
    /// `ip addr add ADDR/PLEN dev DEV`
    pub fn to_message(&self, index: u32) -> netlink_packet_route::address::AddressMessage {
        address_message(index, self)
    }

    /// An address `addr/prefix`; checks the prefix length against the family.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self, SpecError> {
        let net = prefix::ip_net("address", addr, prefix_len)?;
        Ok(AddressSpec { net, nodad: addr.is_ipv6() })
    }

    /// Returns the same address with `nodad` set as given.
    #[must_use]
    pub fn with_nodad(mut self, nodad: bool) -> Self {
        self.nodad = nodad;
        self
    }

    /// The address itself.
    pub fn addr(&self) -> IpAddr {
        self.net.addr()
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.net.prefix_len()
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.net)?;
        if self.nodad && self.net.addr().is_ipv6() {
            f.write_str(" nodad")?;
        }
        Ok(())
    }
}

impl FromStr for AddressSpec {
    type Err = SpecError;
    /// Parses `ADDR/PREFIX`, optionally followed by ` nodad` or ` dad`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let net = prefix::parse_ip_with_prefix("address", words.next().unwrap_or(""))?;
        let mut spec = AddressSpec { net, nodad: net.addr().is_ipv6() };
        for w in words {
            match w {
                "nodad" => spec.nodad = true,
                "dad" => spec.nodad = false,
                _ => return Err(SpecError::new("address", s, format!("has unknown flag {w:?} (known: nodad, dad)"))),
            }
        }
        Ok(spec)
    }
}

/// `RTM_NEWADDR` / `RTM_DELADDR` body for `addr` on link `index`.
pub(crate) fn address_message(index: u32, addr: &AddressSpec) -> AddressMessage {
    let mut m = AddressMessage::default();
    let ip = addr.addr();
    m.header.family = if ip.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    m.header.prefix_len = addr.prefix_len();
    m.header.index = index;
    m.header.scope = AddressScope::Universe;
    m.attributes.push(AddressAttribute::Local(ip));
    m.attributes.push(AddressAttribute::Address(ip));
    if addr.nodad && ip.is_ipv6() {
        m.header.flags = AddressHeaderFlags::Nodad;
        m.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v6_nodad_message() {
        let a: AddressSpec = "2001:db8:babe:10::3/64".parse().unwrap();
        let m = address_message(4, &a);
        assert_eq!(m.header.family, AddressFamily::Inet6);
        assert_eq!(m.header.prefix_len, 64);
        assert!(m.attributes.contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        let v4: AddressSpec = "10.0.10.3/24".parse().unwrap();
        let m = address_message(4, &v4);
        assert_eq!(m.header.family, AddressFamily::Inet);
        assert!(!m.attributes.iter().any(|a| matches!(a, AddressAttribute::Flags(_))));
    }

    #[test]
    fn parse_v4_v6() {
        let a: AddressSpec = "10.0.10.2/24".parse().unwrap();
        assert_eq!(a.addr().to_string(), "10.0.10.2");
        assert_eq!(a.prefix_len(), 24);
        assert!(!a.nodad || a.addr().is_ipv4());
        let b: AddressSpec = "2001:db8:babe:10::2/64".parse().unwrap();
        assert!(b.nodad);
        assert_eq!(b.to_string(), "2001:db8:babe:10::2/64 nodad");
        let c: AddressSpec = "2001:db8::2/64 dad".parse().unwrap();
        assert!(!c.nodad);
    }

    #[test]
    fn rejects_long_prefixes_and_garbage() {
        let e = "10.0.10.2/33".parse::<AddressSpec>().unwrap_err();
        assert_eq!(e.field, "address");
        assert!(e.rule.contains("longer than 32"), "{e}");
        let e = "2001:db8::1/129".parse::<AddressSpec>().unwrap_err();
        assert!(e.rule.contains("longer than 128"), "{e}");
        for s in ["10.0.10.2", "10.0.10/24", "x/24", "10.0.0.1/a", "", "10.0.0.1/24 fast"] {
            assert!(s.parse::<AddressSpec>().is_err(), "{s}");
        }
        assert!(AddressSpec::new("10.0.0.1".parse().unwrap(), 40).is_err());
    }
}
