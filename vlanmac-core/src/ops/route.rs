use netlink_packet_route::{
    route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteScope, RouteType},
    AddressFamily, RouteNetlinkMessage as M,
};

use super::batch::Batch;
use crate::{
    error::Result,
    netlink::{Netlink, Op},
    readback::Route,
    spec::RouteSpec,
};

/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;

fn route_address(ip: std::net::IpAddr) -> RouteAddress {
    match ip {
        std::net::IpAddr::V4(v4) => RouteAddress::Inet(v4),
        std::net::IpAddr::V6(v6) => RouteAddress::Inet6(v6),
    }
}

/// `RTM_NEWROUTE` / `RTM_DELROUTE` body. `oif` is the resolved device index.
pub(crate) fn route_message(route: &RouteSpec, oif: Option<u32>, delete: bool) -> RouteMessage {
    let mut m = RouteMessage::default();
    let h = &mut m.header;
    h.address_family = if route.is_ipv6() { AddressFamily::Inet6 } else { AddressFamily::Inet };
    h.destination_prefix_length = route.dst.prefix_len();
    let table = route.table.unwrap_or(RT_TABLE_MAIN);
    h.table = u8::try_from(table).unwrap_or(0);
    if delete {
        // Match any protocol, scope and type, as `ip route del` does.
        h.protocol = RouteProtocol::Unspec;
        h.scope = RouteScope::NoWhere;
        h.kind = RouteType::Unspec;
    } else {
        h.protocol = RouteProtocol::Boot;
        h.scope = if route.gateway.is_some() { RouteScope::Universe } else { RouteScope::Link };
        h.kind = RouteType::Unicast;
        if route.onlink {
            h.flags |= RouteFlags::Onlink;
        }
    }
    let a = &mut m.attributes;
    if route.dst.prefix_len() > 0 {
        a.push(RouteAttribute::Destination(route_address(route.dst.addr())));
    }
    if let Some(gw) = route.gateway {
        a.push(RouteAttribute::Gateway(route_address(gw)));
    }
    if let Some(i) = oif {
        a.push(RouteAttribute::Oif(i));
    }
    if let Some(p) = route.metric {
        a.push(RouteAttribute::Priority(p));
    }
    if table > 255 {
        a.push(RouteAttribute::Table(table));
    }
    m
}

impl Netlink {
    /// `ip route add DST [via GW] [dev DEV] [metric N] [table T]`.
    /// AlreadyExists if an equal route is present.
    pub async fn add_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.add_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route replace DST ...`: adds, or replaces the route to the same
    /// destination and metric.
    pub async fn replace_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.replace_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route del DST [via GW] [dev DEV] [metric N]`.
    pub async fn delete_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.delete_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route show` and `ip -6 route show`: the main table's routes.
    pub async fn routes(&self) -> Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut req = RouteMessage::default();
            req.header.address_family = family;
            let op = Op::new(format!("dump {family:?} routes in netns {}", self.netns()));
            for r in self.dump(M::GetRoute(req), &op).await? {
                if let M::NewRoute(m) = r {
                    if m.header.kind == RouteType::Unicast {
                        out.extend(Route::from_message(&m).filter(|r| r.table == RT_TABLE_MAIN));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_route_message() {
        let r = RouteSpec::default_via("2001:db8:babe:10::1".parse().unwrap());
        let m = route_message(&r, Some(3), false);
        assert_eq!(m.header.address_family, AddressFamily::Inet6);
        assert_eq!(m.header.destination_prefix_length, 0);
        assert_eq!(m.header.table, 254);
        assert!(!m.attributes.iter().any(|a| matches!(a, RouteAttribute::Destination(_))));
        assert!(m.attributes.contains(&RouteAttribute::Oif(3)));
        let big = RouteSpec::parse("10.1.0.0/16", None, Some("eth0")).unwrap().with_table(1000);
        let m = route_message(&big, Some(1), true);
        assert_eq!(m.header.table, 0);
        assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
        assert_eq!(m.header.scope, RouteScope::NoWhere);
    }
}
