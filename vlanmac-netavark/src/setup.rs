//! `setup NETNS`: the container on its VLAN. The VLAN `<parent>.<vlan>` is
//! made (or shared) in the host's namespace, a macvlan or ipvlan with
//! podman's MAC is made in the container's namespace under a temporary
//! name and renamed there, then, as netavark's own macvlan driver does:
//! IPv6 autoconf off on it, podman's addresses (IPv6 without DAD), up, the
//! default routes through the gateways (metric 99 unless `metric` says
//! otherwise; none for an internal network or with `no_default_route`), the
//! network's static routes. Any failure undoes all of it.

use std::net::IpAddr;

use futures::executor::block_on;
use vlanmac_cni::{attach, error::from_core};
use vlanmac_core::{
    spec::{AddressSpec, IfName, RouteSpec},
    Batch, Netlink,
};

use crate::{
    addressing,
    error::{Error, Result},
    options::Options,
    request,
    types::{NetAddress, NetInterface, PluginExec, Route, StatusBlock},
};

/// Sets up `exec`'s attachment in `netns`; returns the status block.
pub fn setup(netns: &str, exec: &PluginExec) -> Result<StatusBlock> {
    let (req, opts) = request::read(netns, exec)?;
    let net = &exec.network;
    let addresses = addressing::addresses(net, &exec.network_options)?;
    addressing::check_routes(net)?;
    let gateways =
        if net.internal || opts.no_default_route { Vec::new() } else { addressing::default_gateways(&addresses) };
    vlanmac_core::privileges::require_admin(&format!("setup of network {}", net.name))
        .map_err(|e| Error::Attach(e.to_string()))?;
    let link = attach::add(&req, |pod, ifname| {
        configure(pod, ifname, &addresses, &gateways, addressing::routes(net), &opts).map_err(from_core)
    })?;
    let mac = link.mac.map(|m| m.to_string()).unwrap_or_default();
    Ok(StatusBlock {
        dns_search_domains: Vec::new(),
        dns_server_ips: Vec::new(),
        interfaces: [(req.ifname.to_string(), NetInterface { mac_address: mac, subnets: addresses })].into(),
    })
}

/// Autoconf off, addresses, up, default routes, static routes: one sysctl
/// write and one batch in the container's namespace.
fn configure(
    pod: &Netlink,
    ifname: &IfName,
    addresses: &[NetAddress],
    gateways: &[IpAddr],
    routes: &[Route],
    opts: &Options,
) -> vlanmac_core::Result<()> {
    let ns = pod.netns().clone();
    block_on(vlanmac_core::netns::sysctl::write_interface(&ns, ifname, &[("ipv6", "autoconf", "0")]))?;
    let mut batch = Batch::new();
    for a in addresses {
        let spec = AddressSpec::new(a.ipnet.addr(), a.ipnet.prefix_len())?.with_nodad(a.ipnet.addr().is_ipv6());
        batch.add_address(pod, ifname, spec);
    }
    batch.set_up(pod, ifname);
    for gw in gateways {
        batch.add_route(pod, RouteSpec::default_via(*gw).with_dev(ifname.clone()).with_metric(opts.metric));
    }
    for r in routes {
        batch.add_route(pod, static_route(r, ifname)?);
    }
    block_on(batch.run()).into_result()
}

/// A static route: through its gateway wherever that is (another interface
/// of the container may be the way), or on the interface without one.
pub fn static_route(r: &Route, ifname: &IfName) -> vlanmac_core::Result<RouteSpec> {
    let dev = if r.gateway.is_none() { Some(ifname.clone()) } else { None };
    let mut spec = RouteSpec::new(r.destination, r.gateway, dev)?;
    spec.metric = r.metric;
    Ok(spec)
}
