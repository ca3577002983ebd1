use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};

/// An interface address as the kernel reports it (`ip addr show`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// Index of the link that holds it.
    pub index: u32,
    /// Address with prefix length (`10.0.10.3/24`).
    pub net: IpNet,
    /// `nodad`
    pub nodad: bool,
    /// `tentative`: IPv6 duplicate address detection still running.
    pub tentative: bool,
    /// `dadfailed`: another host on the link has the address.
    pub dadfailed: bool,
    /// `permanent` (configured, not from autoconfiguration).
    pub permanent: bool,
    /// `scope link` (e.g. IPv6 fe80::/64).
    pub link_scope: bool,
    /// Seconds left before the kernel deletes it (`valid_lft`); `None`:
    /// forever.
    pub valid_lft: Option<u32>,
    /// Seconds left before it is deprecated (`preferred_lft`); `None`:
    /// forever.
    pub preferred_lft: Option<u32>,
}

impl Address {
    /// Decodes an `RTM_NEWADDR` reply; `None` when it carries no address or
    /// an impossible prefix length.
    pub fn from_message(m: &AddressMessage) -> Option<Address> {
        let mut local: Option<IpAddr> = None;
        let mut address: Option<IpAddr> = None;
        let mut flags = AddressFlags::from_bits_retain(u32::from(m.header.flags.bits()));
        let (mut valid_lft, mut preferred_lft) = (None, None);
        let finite = |secs: u32| (secs != u32::MAX).then_some(secs);
        for a in &m.attributes {
            match a {
                AddressAttribute::CacheInfo(c) => {
                    valid_lft = finite(c.ifa_valid);
                    preferred_lft = finite(c.ifa_preferred);
                }
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Flags(f) => flags = *f,
                _ => {}
            }
        }
        // IFA_LOCAL is the interface's own address on point-to-point links;
        // elsewhere both are equal.
        let ip = local.or(address)?;
        let net = IpNet::new(ip, m.header.prefix_len).ok()?;
        Some(Address {
            index: m.header.index,
            net,
            nodad: flags.contains(AddressFlags::Nodad),
            tentative: flags.contains(AddressFlags::Tentative),
            dadfailed: flags.contains(AddressFlags::Dadfailed),
            permanent: flags.contains(AddressFlags::Permanent),
            link_scope: m.header.scope == AddressScope::Link,
            valid_lft,
            preferred_lft,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_rejects_bad_prefix() {
        let mut m = AddressMessage::default();
        m.header.prefix_len = 64;
        m.header.index = 3;
        m.attributes = vec![
            AddressAttribute::Address("2001:db8:babe:10::3".parse().unwrap()),
            AddressAttribute::Flags(AddressFlags::Nodad | AddressFlags::Permanent),
        ];
        let a = Address::from_message(&m).unwrap();
        assert_eq!(a.net.to_string(), "2001:db8:babe:10::3/64");
        assert!(a.nodad && a.permanent && !a.tentative);
        assert_eq!((a.valid_lft, a.preferred_lft), (None, None));
        let mut info = netlink_packet_route::address::CacheInfo::default();
        info.ifa_preferred = u32::MAX;
        info.ifa_valid = 90;
        m.attributes.push(AddressAttribute::CacheInfo(info));
        let a = Address::from_message(&m).unwrap();
        assert_eq!((a.valid_lft, a.preferred_lft), (Some(90), None));
        m.header.prefix_len = 200;
        assert!(Address::from_message(&m).is_none());
        assert!(Address::from_message(&AddressMessage::default()).is_none());
    }
}
