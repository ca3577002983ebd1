use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::{
    route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope},
    AddressFamily,
};

/// A route as the kernel reports it (`ip route show`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// Destination (`0.0.0.0/0` / `::/0` for default).
    pub dst: IpNet,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// Preferred source address (`src`).
    pub prefsrc: Option<IpAddr>,
    /// Metric (`metric` / priority).
    pub metric: Option<u32>,
    /// Routing table id.
    pub table: u32,
    /// Added by the kernel itself (`proto kernel`).
    pub proto_kernel: bool,
    /// `scope link`
    pub link_scope: bool,
}

impl Route {
    /// Whether this is a default route.
    pub fn is_default(&self) -> bool {
        self.dst.prefix_len() == 0
    }

    /// Decodes an `RTM_NEWROUTE` reply; `None` for families other than IPv4
    /// and IPv6 or impossible prefix lengths.
    pub fn from_message(m: &RouteMessage) -> Option<Route> {
        let v6 = match m.header.address_family {
            AddressFamily::Inet => false,
            AddressFamily::Inet6 => true,
            _ => return None,
        };
        let mut dst: Option<IpAddr> = None;
        let mut gateway = None;
        let mut oif = None;
        let mut prefsrc = None;
        let mut metric = None;
        let mut table = u32::from(m.header.table);
        for a in &m.attributes {
            match a {
                RouteAttribute::Destination(d) => dst = ip(d),
                RouteAttribute::Gateway(g) => gateway = ip(g),
                RouteAttribute::Oif(i) => oif = Some(*i),
                RouteAttribute::PrefSource(s) => prefsrc = ip(s),
                RouteAttribute::Priority(p) => metric = Some(*p),
                RouteAttribute::Table(t) => table = *t,
                _ => {}
            }
        }
        let dst = dst.unwrap_or(if v6 { IpAddr::from([0u16; 8]) } else { IpAddr::from([0u8; 4]) });
        let dst = IpNet::new(dst, m.header.destination_prefix_length).ok()?;
        Some(Route {
            dst,
            gateway,
            oif,
            prefsrc,
            metric,
            table,
            proto_kernel: m.header.protocol == RouteProtocol::Kernel,
            link_scope: m.header.scope == RouteScope::Link,
        })
    }
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_default_route() {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.table = 254;
        m.attributes =
            vec![RouteAttribute::Gateway(RouteAddress::Inet("10.0.10.1".parse().unwrap())), RouteAttribute::Oif(2)];
        let r = Route::from_message(&m).unwrap();
        assert!(r.is_default());
        assert_eq!(r.gateway.unwrap().to_string(), "10.0.10.1");
        m.header.destination_prefix_length = 99;
        assert!(Route::from_message(&m).is_none());
        assert!(Route::from_message(&RouteMessage::default()).is_none());
    }
}
