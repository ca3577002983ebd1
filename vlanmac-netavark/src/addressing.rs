//! A network's subnets and routes, and the addresses a container gets in
//! them, checked as netavark's own drivers check them (the same messages
//! where they exist, so its tests' patterns match): no duplicate or
//! overlapping subnets, a gateway inside its subnet, every static IP in one
//! of the subnets, routes of type unicast only.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::{
    error::{Error, Result},
    types::{NetAddress, Network, PerNetworkOptions, Route},
};

/// How the container's addresses come: podman assigns them (`host-local`,
/// the default) or there are none (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipam {
    /// Podman's static IPs, one per subnet or more.
    HostLocal,
    /// No addresses, no routes.
    None,
}

/// The network's `ipam_options.driver`.
pub fn ipam(net: &Network) -> Result<Ipam> {
    match net.ipam_options.as_ref().and_then(|o| o.get("driver")).map(String::as_str) {
        None | Some("host-local") => Ok(Ipam::HostLocal),
        Some("none") => Ok(Ipam::None),
        Some("dhcp") => Err(Error::option(
            "ipam_options.driver",
            "ipam_options.driver: dhcp is not served by the vlanmac driver (give --subnet, or --ipam-driver none)",
        )),
        Some(d) => Err(Error::option(
            "ipam_options.driver",
            format!("ipam_options.driver: {d:?} is not one of host-local, none"),
        )),
    }
}

/// Checks the subnets: no duplicate, no overlap, each gateway inside its
/// subnet and not its network address.
pub fn check_subnets(net: &Network) -> Result<()> {
    let subnets = net.subnets.as_deref().unwrap_or_default();
    for (i, a) in subnets.iter().enumerate() {
        if let Some(gw) = a.gateway {
            if !a.subnet.contains(&gw) || gw == a.subnet.network() {
                return Err(Error::option(
                    "subnets",
                    format!("subnets[{i}].gateway: {gw} is not a host address of subnet {}", a.subnet),
                ));
            }
        }
        for b in &subnets[i + 1..] {
            if a.subnet == b.subnet {
                return Err(Error::option("subnets", format!("subnets: duplicate subnet defined: {}", a.subnet)));
            }
            if a.subnet.contains(&b.subnet.network()) || b.subnet.contains(&a.subnet.network()) {
                return Err(Error::option(
                    "subnets",
                    format!("subnets: overlapping subnets: {} and {}", a.subnet, b.subnet),
                ));
            }
        }
    }
    Ok(())
}

/// Checks the static routes: unicast only (`route_type`).
pub fn check_routes(net: &Network) -> Result<()> {
    for (i, r) in net.routes.iter().flatten().enumerate() {
        match r.route_type.as_deref() {
            None | Some("unicast") => {}
            Some(t) => {
                return Err(Error::option(
                    "routes",
                    format!("routes[{i}].route_type: {t:?} is not supported by the vlanmac driver (unicast only)"),
                ))
            }
        }
        if let Some(gw) = r.gateway {
            if gw.is_ipv4() != r.destination.addr().is_ipv4() {
                return Err(Error::option(
                    "routes",
                    format!("routes[{i}].gateway: {gw} is not of {}'s address family", r.destination),
                ));
            }
        }
    }
    Ok(())
}

/// The container's addresses (each with its subnet's prefix length and
/// gateway): every static IP must fall in a subnet.
pub fn addresses(net: &Network, opts: &PerNetworkOptions) -> Result<Vec<NetAddress>> {
    if ipam(net)? == Ipam::None {
        return Ok(Vec::new());
    }
    check_subnets(net)?;
    let static_ips = opts.static_ips.as_deref().ok_or_else(|| {
        Error::option("static_ips", "static_ips: none given (podman assigns them for a network with subnets)")
    })?;
    let mut out = Vec::new();
    for s in net.subnets.iter().flatten() {
        for ip in static_ips.iter().filter(|ip| s.subnet.contains(*ip)) {
            let ipnet = IpNet::new(*ip, s.subnet.prefix_len())
                .map_err(|e| Error::option("static_ips", format!("static_ips: {ip}: {e}")))?;
            out.push(NetAddress { ipnet, gateway: s.gateway });
        }
    }
    if net.subnets.is_some() && out.len() != static_ips.len() {
        return Err(Error::option(
            "static_ips",
            format!(
                "static_ips: not all static IPs matched a subnet: expected {}, got {}",
                static_ips.len(),
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The default routes: one per gateway (the first of each family), unless
/// the network is internal or says `no_default_route`.
pub fn default_gateways(addresses: &[NetAddress]) -> Vec<IpAddr> {
    let mut gws: Vec<IpAddr> = Vec::new();
    for gw in addresses.iter().filter_map(|a| a.gateway) {
        if !gws.iter().any(|g| g.is_ipv4() == gw.is_ipv4()) {
            gws.push(gw);
        }
    }
    gws
}

/// The network's static routes.
pub fn routes(net: &Network) -> &[Route] {
    net.routes.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(subnets: &str) -> Network {
        serde_json::from_str(&format!(
            r#"{{"name":"n","id":"i","driver":"vlanmac","subnets":[{subnets}],"ipam_options":{{"driver":"host-local"}}}}"#
        ))
        .unwrap()
    }

    fn opts(ips: &[&str]) -> PerNetworkOptions {
        PerNetworkOptions {
            interface_name: "eth0".into(),
            static_ips: Some(ips.iter().map(|i| i.parse().unwrap()).collect()),
            static_mac: None,
            other: Default::default(),
        }
    }

    #[test]
    fn static_ips_take_their_subnets_prefix_and_gateway() {
        let n = net(r#"{"subnet":"10.88.0.0/16","gateway":"10.88.0.1"},{"subnet":"fd00::/64","gateway":"fd00::1"}"#);
        let a = addresses(&n, &opts(&["10.88.0.5", "fd00::5", "10.88.0.6"])).unwrap();
        let got: Vec<String> = a.iter().map(|a| a.ipnet.to_string()).collect();
        assert_eq!(got, ["10.88.0.5/16", "10.88.0.6/16", "fd00::5/64"]);
        let gws = default_gateways(&a);
        assert_eq!(gws, ["10.88.0.1".parse::<IpAddr>().unwrap(), "fd00::1".parse().unwrap()]);
    }

    #[test]
    fn netavarks_own_messages_for_bad_subnets_and_ips() {
        for (subnets, ips, want) in [
            (r#"{"subnet":"10.1.2.0/23"},{"subnet":"10.1.3.248/30"}"#, &["10.1.2.5"][..], "overlapping subnets"),
            (r#"{"subnet":"10.88.0.0/16"},{"subnet":"10.88.0.0/16"}"#, &["10.88.0.5"], "duplicate subnet"),
            (r#"{"subnet":"10.88.0.0/16"}"#, &["10.88.0.5", "10.89.0.15"], "not all static IPs matched a subnet"),
            (r#"{"subnet":"10.88.0.0/16","gateway":"10.89.0.1"}"#, &["10.88.0.5"], "subnets[0].gateway: 10.89.0.1"),
        ] {
            let e = addresses(&net(subnets), &opts(ips)).expect_err(subnets).to_string();
            assert!(e.contains(want), "{subnets}: {e}");
        }
    }

    #[test]
    fn ipam_none_has_no_addresses_and_dhcp_is_refused_by_name() {
        let mut n = net("");
        n.ipam_options = Some([("driver".to_string(), "none".to_string())].into());
        assert!(addresses(&n, &opts(&[])).unwrap().is_empty());
        n.ipam_options = Some([("driver".to_string(), "dhcp".to_string())].into());
        assert!(addresses(&n, &opts(&[])).unwrap_err().to_string().starts_with("ipam_options.driver: dhcp"));
    }
}
