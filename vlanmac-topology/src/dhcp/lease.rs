//! A DHCPv4 lease: what the server granted and when it runs out; stored as
//! JSON (so a restarted agent renews the same address), turned into the
//! address and default route an interface carries.

use std::{
    net::Ipv4Addr,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Deserializer, Serialize};
use vlanmac_core::spec::{AddressSpec, Lifetimes, MacAddr};

use super::message::{Reply, ReplyKind};

/// Lease time a server gives when it names none: one hour.
const DEFAULT_LEASE_SECS: u32 = 3600;

/// A lease granted by a DHCP server (its DHCPACK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The address (`yiaddr`).
    pub address: Ipv4Addr,
    /// Its prefix length (the subnet mask option; /32 without one).
    pub prefix_len: u8,
    /// The server that granted it (option 54).
    pub server: Ipv4Addr,
    /// The MAC it was granted to (the client identifier).
    #[serde(deserialize_with = "mac_from_text")]
    pub mac: MacAddr,
    /// The router option's first address: the default route.
    pub router: Option<Ipv4Addr>,
    /// DNS servers.
    pub dns: Vec<Ipv4Addr>,
    /// Domain name.
    pub domain: Option<String>,
    /// Interface MTU.
    pub mtu: Option<u16>,
    /// Lease time in seconds (`u32::MAX`: infinite).
    pub lease_secs: u32,
    /// T1: when to renew with the server, seconds after `acquired`.
    pub renew_secs: u32,
    /// T2: when to ask any server, seconds after `acquired`.
    pub rebind_secs: u32,
    /// When the server acknowledged it (seconds since the Unix epoch).
    pub acquired: u64,
}

/// A MAC as the file writes it (`02:42:0a:00:14:39`).
fn mac_from_text<'de, D: Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Lease {
    /// The lease a DHCPACK grants, acknowledged at `now`; `None` when the
    /// reply is not an ACK with a usable address and server.
    pub fn from_ack(ack: &Reply, mac: MacAddr, now: u64) -> Option<Lease> {
        if ack.kind != ReplyKind::Ack || ack.addr.is_unspecified() || ack.addr.is_broadcast() {
            return None;
        }
        let server = ack.server?;
        let lease_secs = ack.lease_secs.unwrap_or(DEFAULT_LEASE_SECS).max(1);
        // RFC 2131 4.4.5: T1 defaults to half the lease, T2 to 7/8; a
        // server's values are taken when they are in order.
        let (t1_default, t2_default) = (lease_secs / 2, (u64::from(lease_secs) * 7 / 8) as u32);
        let rebind_secs = ack.rebind_secs.filter(|t| *t <= lease_secs).unwrap_or(t2_default);
        let renew_secs = ack.renew_secs.filter(|t| *t <= rebind_secs).unwrap_or(t1_default.min(rebind_secs));
        Some(Lease {
            address: ack.addr,
            prefix_len: ack.prefix_len.unwrap_or(32),
            server,
            mac,
            router: ack.routers.first().copied().filter(|r| !r.is_unspecified()),
            dns: ack.dns.clone(),
            domain: ack.domain.clone(),
            mtu: ack.mtu,
            lease_secs,
            renew_secs,
            rebind_secs,
            acquired: now,
        })
    }

    /// Whether the lease never runs out.
    pub fn is_infinite(&self) -> bool {
        self.lease_secs == u32::MAX
    }

    /// When it runs out (seconds since the epoch); `u64::MAX` if never.
    pub fn expires_at(&self) -> u64 {
        if self.is_infinite() {
            u64::MAX
        } else {
            self.acquired.saturating_add(u64::from(self.lease_secs))
        }
    }

    /// When to renew with the server (T1).
    pub fn renew_at(&self) -> u64 {
        self.acquired.saturating_add(u64::from(self.renew_secs))
    }

    /// When to ask any server (T2).
    pub fn rebind_at(&self) -> u64 {
        self.acquired.saturating_add(u64::from(self.rebind_secs))
    }

    /// Seconds left at `now` (0 once expired; `u32::MAX` if infinite).
    pub fn remaining(&self, now: u64) -> u32 {
        if self.is_infinite() {
            return u32::MAX;
        }
        u32::try_from(self.expires_at().saturating_sub(now)).unwrap_or(u32::MAX - 1)
    }

    /// Whether it still holds at `now`.
    pub fn is_valid(&self, now: u64) -> bool {
        self.remaining(now) > 0
    }

    /// The address as the interface carries it at `now`: its lifetimes are
    /// what is left of the lease, so the kernel drops it when the lease runs
    /// out unrenewed (`ip addr replace ADDR/PLEN dev DEV valid_lft S
    /// preferred_lft S`). `None` once expired.
    pub fn address_spec(&self, now: u64) -> Option<AddressSpec> {
        let spec = AddressSpec::new(self.address.into(), self.prefix_len).ok()?;
        if self.is_infinite() {
            return Some(spec);
        }
        let left = self.remaining(now);
        Some(spec.with_lifetimes(Lifetimes::new(left, left).ok()?))
    }

    /// One line for plans and logs: `10.0.20.57/24 from 10.0.20.1, 3540 s
    /// left`.
    pub fn describe(&self, now: u64) -> String {
        let left = if self.is_infinite() { "infinite".to_string() } else { format!("{} s left", self.remaining(now)) };
        format!("{}/{} from {}, {left}", self.address, self.prefix_len, self.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(lease: Option<u32>, t1: Option<u32>, t2: Option<u32>) -> Reply {
        Reply {
            kind: ReplyKind::Ack,
            addr: Ipv4Addr::new(10, 0, 20, 57),
            server: Some(Ipv4Addr::new(10, 0, 20, 1)),
            prefix_len: Some(24),
            routers: vec![Ipv4Addr::new(10, 0, 20, 1)],
            dns: vec![],
            domain: None,
            mtu: None,
            lease_secs: lease,
            renew_secs: t1,
            rebind_secs: t2,
            message: None,
        }
    }

    fn mac() -> MacAddr {
        "02:00:00:00:00:01".parse().unwrap()
    }

    #[test]
    fn timers_default_as_rfc_2131_says_and_bad_ones_are_ignored() {
        let l = Lease::from_ack(&ack(Some(120), None, None), mac(), 1000).unwrap();
        assert_eq!((l.renew_at(), l.rebind_at(), l.expires_at()), (1060, 1105, 1120));
        // T1 after T2, T2 after the lease: the defaults instead.
        let l = Lease::from_ack(&ack(Some(120), Some(110), Some(200)), mac(), 0).unwrap();
        assert_eq!((l.renew_secs, l.rebind_secs), (60, 105));
        let l = Lease::from_ack(&ack(Some(120), Some(30), Some(90)), mac(), 0).unwrap();
        assert_eq!((l.renew_secs, l.rebind_secs), (30, 90));
        let l = Lease::from_ack(&ack(None, None, None), mac(), 0).unwrap();
        assert_eq!(l.lease_secs, 3600);
    }

    #[test]
    fn the_address_carries_what_is_left_of_the_lease() {
        let l = Lease::from_ack(&ack(Some(120), None, None), mac(), 1000).unwrap();
        assert_eq!(l.address_spec(1020).unwrap().to_string(), "10.0.20.57/24 valid_lft 100 preferred_lft 100");
        assert!(l.address_spec(1120).is_none(), "expired");
        assert!(!l.is_valid(1120) && l.is_valid(1119));
        let inf = Lease::from_ack(&ack(Some(u32::MAX), None, None), mac(), 1000).unwrap();
        assert!(inf.is_infinite());
        assert_eq!(inf.address_spec(u64::MAX).unwrap().lifetimes, None);
        assert_eq!(inf.remaining(u64::MAX), u32::MAX);
        assert!(inf.describe(0).ends_with("infinite"));
    }

    #[test]
    fn only_an_ack_with_an_address_and_a_server_is_a_lease() {
        let mut a = ack(Some(60), None, None);
        a.kind = ReplyKind::Offer;
        assert!(Lease::from_ack(&a, mac(), 0).is_none());
        let mut a = ack(Some(60), None, None);
        a.server = None;
        assert!(Lease::from_ack(&a, mac(), 0).is_none());
        let mut a = ack(Some(60), None, None);
        a.addr = Ipv4Addr::UNSPECIFIED;
        assert!(Lease::from_ack(&a, mac(), 0).is_none());
        let mut a = ack(Some(0), None, None);
        a.routers = vec![Ipv4Addr::UNSPECIFIED];
        let l = Lease::from_ack(&a, mac(), 0).unwrap();
        assert_eq!((l.lease_secs, l.router), (1, None));
    }

    #[test]
    fn round_trips_as_json() {
        let l = Lease::from_ack(&ack(Some(120), None, None), mac(), 1000).unwrap();
        let back: Lease = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        assert_eq!(back, l);
    }
}
