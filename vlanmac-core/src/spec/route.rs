use std::{fmt, net::IpAddr};

use netlink_packet_route::{
    route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteScope, RouteType},
    AddressFamily,
};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{prefix, IfName, SpecError};

/// A route (`ip route add DST [via GW] [dev DEV] [metric N] [table T]`).
///
/// ```
/// use vlanmac_core::spec::RouteSpec;
/// // ip route add default via 10.0.10.1
/// let r = RouteSpec::default_via("10.0.10.1".parse().unwrap());
/// assert!(r.is_default());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    /// Destination; `0.0.0.0/0` or `::/0` for a default route.
    pub dst: IpNet,
    /// Next hop, if any.
    pub gateway: Option<IpAddr>,
    /// Output device, if any.
    pub dev: Option<IfName>,
    /// Route priority (`metric`); the kernel's default when `None`.
    pub metric: Option<u32>,
    /// Routing table; `main` (254) when `None`.
    pub table: Option<u32>,
    /// `onlink`: take the gateway as directly reachable on `dev`, so the
    /// route can be added before the link is up.
    pub onlink: bool,
}

impl RouteSpec {
    /// The `RTM_NEWROUTE` body that adds this route (`oif`: the index of
    /// its device, if it names one), for a caller with a netlink connection
    /// of its own (an `rtnetlink::Handle`: `handle.route().add(msg)`).
    ///
    /// `ip route add DST [via GW] [dev DEV]`
    pub fn to_message(&self, oif: Option<u32>) -> netlink_packet_route::route::RouteMessage {
        route_message(self, oif, false)
    }

    /// Validates a route to `dst` via `gateway` and/or out of `dev`.
    /// Fields: `dst` (host bits), `gateway` (family), `route` (neither given).
    pub fn new(dst: IpNet, gateway: Option<IpAddr>, dev: Option<IfName>) -> Result<Self, SpecError> {
        if dst.trunc() != dst {
            return Err(SpecError::new("dst", dst, format!("has host bits set (did you mean {}?)", dst.trunc())));
        }
        if let Some(gw) = gateway {
            if gw.is_ipv4() != dst.addr().is_ipv4() {
                return Err(SpecError::new(
                    "gateway",
                    gw,
                    format!("is not of the same address family as the destination {dst}"),
                ));
            }
        }
        if gateway.is_none() && dev.is_none() {
            return Err(SpecError::new("route", dst, "needs a gateway or a device"));
        }
        Ok(RouteSpec { dst, gateway, dev, metric: None, table: None, onlink: false })
    }

    /// `ip route add default via GW` (v4 or v6 after the gateway's family).
    pub fn default_via(gateway: IpAddr) -> Self {
        RouteSpec {
            dst: default_net(gateway.is_ipv6()),
            gateway: Some(gateway),
            dev: None,
            metric: None,
            table: None,
            onlink: false,
        }
    }

    /// Parses `DST` (`default` or `ADDR/PREFIX`) with an optional gateway.
    pub fn parse(dst: &str, gateway: Option<&str>, dev: Option<&str>) -> Result<Self, SpecError> {
        let gw = gateway
            .map(|g| g.parse::<IpAddr>().map_err(|_| SpecError::new("gateway", g, "is not an IP address")))
            .transpose()?;
        let dst = if dst == "default" {
            default_net(gw.is_some_and(|g| g.is_ipv6()))
        } else {
            prefix::parse_ip_with_prefix("dst", dst)?
        };
        let dev = dev.map(|d| IfName::new(d).map_err(|e| e.named("dev"))).transpose()?;
        RouteSpec::new(dst, gw, dev)
    }

    /// Sets the metric.
    #[must_use]
    pub fn with_metric(mut self, metric: u32) -> Self {
        self.metric = Some(metric);
        self
    }

    /// Sets the output device.
    #[must_use]
    pub fn with_dev(mut self, dev: IfName) -> Self {
        self.dev = Some(dev);
        self
    }

    /// Marks the gateway as on-link (`onlink`).
    #[must_use]
    pub fn with_onlink(mut self) -> Self {
        self.onlink = true;
        self
    }

    /// Sets the table.
    #[must_use]
    pub fn with_table(mut self, table: u32) -> Self {
        self.table = Some(table);
        self
    }

    /// Whether the destination is `0.0.0.0/0` or `::/0`.
    pub fn is_default(&self) -> bool {
        self.dst.prefix_len() == 0
    }

    /// Whether this is an IPv6 route.
    pub fn is_ipv6(&self) -> bool {
        self.dst.addr().is_ipv6()
    }
}

fn default_net(v6: bool) -> IpNet {
    if v6 {
        IpNet::V6(Ipv6Net::default())
    } else {
        IpNet::V4(Ipv4Net::default())
    }
}

impl fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            f.write_str("default")?;
        } else {
            write!(f, "{}", self.dst)?;
        }
        if let Some(g) = self.gateway {
            write!(f, " via {g}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if let Some(t) = self.table {
            write!(f, " table {t}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        Ok(())
    }
}

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

    #[test]
    fn default_routes() {
        let r = RouteSpec::default_via("10.0.10.1".parse().unwrap());
        assert_eq!(r.to_string(), "default via 10.0.10.1");
        let r6 = RouteSpec::parse("default", Some("2001:db8:babe:10::1"), None).unwrap();
        assert!(r6.is_ipv6() && r6.is_default());
    }

    #[test]
    fn invalid_routes() {
        assert_eq!(RouteSpec::parse("10.0.0.0/8", Some("2001:db8::1"), None).unwrap_err().field, "gateway");
        assert_eq!(RouteSpec::parse("10.0.0.1/8", Some("10.0.0.1"), None).unwrap_err().field, "dst");
        assert_eq!(RouteSpec::parse("10.0.0.0/8", None, None).unwrap_err().field, "route");
        assert_eq!(RouteSpec::parse("10.0.0.0/8", None, Some("a/b")).unwrap_err().field, "dev");
        assert!(RouteSpec::parse("10.0.0.0/40", Some("10.0.0.1"), None).unwrap_err().rule.contains("longer than 32"));
    }
}
