use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;
use netlink_packet_route::{
    address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo},
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
    /// How long the kernel keeps the address (`valid_lft` / `preferred_lft`);
    /// `None`: forever. A DHCP lease's address carries the lease's time, so
    /// the kernel itself drops it when nobody renews it.
    pub lifetimes: Option<Lifetimes>,
}

/// An address's lifetimes in seconds (`ip addr add ... valid_lft 120
/// preferred_lft 120`): when `valid` runs out the kernel deletes the
/// address; after `preferred` it is kept but no longer chosen as a source.
///
/// ```
/// use vlanmac_core::spec::Lifetimes;
/// let l = Lifetimes::new(120, 120).unwrap();
/// assert_eq!((l.valid(), l.preferred()), (120, 120));
/// assert!(Lifetimes::new(60, 120).is_err());   // preferred beyond valid
/// assert!(Lifetimes::new(0, 0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lifetimes {
    valid: u32,
    preferred: u32,
}

impl Lifetimes {
    /// `valid_lft VALID preferred_lft PREFERRED`; the kernel's rules: both
    /// above 0, `preferred` at most `valid` (`u32::MAX` is "forever").
    pub fn new(valid: u32, preferred: u32) -> Result<Self, SpecError> {
        if valid == 0 {
            return Err(SpecError::new("valid_lft", valid, "must be at least 1 second"));
        }
        if preferred > valid {
            return Err(SpecError::new("preferred_lft", preferred, format!("is beyond valid_lft {valid}")));
        }
        Ok(Lifetimes { valid, preferred })
    }

    /// Seconds until the kernel deletes the address.
    pub fn valid(&self) -> u32 {
        self.valid
    }

    /// Seconds until the address is deprecated.
    pub fn preferred(&self) -> u32 {
        self.preferred
    }
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
        Ok(AddressSpec { net, nodad: addr.is_ipv6(), lifetimes: None })
    }

    /// Returns the same address with lifetimes (`valid_lft`, `preferred_lft`).
    #[must_use]
    pub fn with_lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = Some(lifetimes);
        self
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
        if let Some(l) = self.lifetimes {
            write!(f, " valid_lft {} preferred_lft {}", l.valid, l.preferred)?;
        }
        Ok(())
    }
}

impl FromStr for AddressSpec {
    type Err = SpecError;
    /// Parses `ADDR/PREFIX`, optionally followed by ` nodad` or ` dad` and
    /// ` valid_lft SECS preferred_lft SECS` (as `ip addr` prints them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let net = prefix::parse_ip_with_prefix("address", words.next().unwrap_or(""))?;
        let mut spec = AddressSpec { net, nodad: net.addr().is_ipv6(), lifetimes: None };
        let (mut valid, mut preferred) = (None, None);
        while let Some(w) = words.next() {
            match w {
                "nodad" => spec.nodad = true,
                "dad" => spec.nodad = false,
                "valid_lft" | "preferred_lft" => {
                    let v = words.next().unwrap_or("");
                    let secs: u32 = v.parse().map_err(|_| SpecError::new(w, v, "is not a number of seconds"))?;
                    if w == "valid_lft" {
                        valid = Some(secs);
                    } else {
                        preferred = Some(secs);
                    }
                }
                _ => {
                    return Err(SpecError::new(
                        "address",
                        s,
                        format!("has unknown flag {w:?} (known: nodad, dad, valid_lft, preferred_lft)"),
                    ))
                }
            }
        }
        if valid.is_some() || preferred.is_some() {
            let valid = valid.unwrap_or(u32::MAX);
            spec.lifetimes = Some(Lifetimes::new(valid, preferred.unwrap_or(valid))?);
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
    if let Some(l) = addr.lifetimes {
        let mut info = CacheInfo::default();
        info.ifa_preferred = l.preferred;
        info.ifa_valid = l.valid;
        m.attributes.push(AddressAttribute::CacheInfo(info));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_go_into_cacheinfo_and_round_trip() {
        let a: AddressSpec = "10.0.20.57/24 valid_lft 120 preferred_lft 100".parse().unwrap();
        assert_eq!(a.lifetimes, Some(Lifetimes::new(120, 100).unwrap()));
        assert_eq!(a.to_string(), "10.0.20.57/24 valid_lft 120 preferred_lft 100");
        let m = address_message(7, &a);
        assert!(m
            .attributes
            .iter()
            .any(|x| matches!(x, AddressAttribute::CacheInfo(CacheInfo { ifa_valid: 120, ifa_preferred: 100, .. }))));
        let only_valid: AddressSpec = "10.0.20.57/24 valid_lft 60".parse().unwrap();
        assert_eq!(only_valid.lifetimes, Some(Lifetimes::new(60, 60).unwrap()));
        for bad in ["10.0.20.57/24 valid_lft", "10.0.20.57/24 valid_lft x", "10.0.20.57/24 valid_lft 5 preferred_lft 6"]
        {
            let e = bad.parse::<AddressSpec>().unwrap_err();
            assert!(e.to_string().contains("_lft"), "{bad}: {e}");
        }
        assert!(!address_message(7, &"10.0.20.57/24".parse().unwrap())
            .attributes
            .iter()
            .any(|x| matches!(x, AddressAttribute::CacheInfo(_))));
    }

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
