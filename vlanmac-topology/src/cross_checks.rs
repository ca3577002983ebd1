//! The checks of a topology that need all of it: addresses that fit their
//! networks and are used once, disjoint subnets, one VLAN protocol per tag,
//! passthru alone on its parent, one driver per parent, a namespace per
//! endpoint, IPAM pools large enough, unique MACs. Each names the field.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
};

use ipnet::IpNet;

use super::{ipam, model::*};
use vlanmac_core::spec::{IfName, MacAddr, MacvlanMode, SpecError, VlanId, VlanProtocol};

type R<T> = Result<T, SpecError>;

/// Checks that need the whole topology.
pub(super) fn cross_checks(t: &Topology) -> R<()> {
    addresses_fit(t)?;
    served_addresses(t)?;
    subnets_disjoint(t)?;
    one_protocol_per_tag(t)?;
    passthru_alone(t)?;
    one_driver_per_parent(t)?;
    own_namespaces(t)?;
    ipam::check_pools(t)?; // every IPAM pool is large enough
    macs_unique(t)?;
    Ok(())
}

/// Every attachment names a network, and its addresses (and the shims') fit it, each used once.
fn addresses_fit(t: &Topology) -> R<()> {
    let mut used: HashMap<IpAddr, String> = HashMap::new();
    for n in &t.networks {
        for (i, s) in n.subnets.iter().enumerate() {
            if let Some(gw) = s.gateway() {
                used.insert(gw, format!("networks.{}.subnets[{i}].gateway", n.name));
            }
        }
        if let Some(shim) = &n.host_shim {
            let p = format!("networks.{}.host_shim", n.name);
            for (fam, a) in [("ipv4", shim.ipv4.map(IpAddr::V4)), ("ipv6", shim.ipv6.map(IpAddr::V6))] {
                if let Some(a) = a {
                    address_in_network(&format!("{p}.{fam}"), a, n, &mut used)?;
                }
            }
        }
    }
    for e in &t.endpoints {
        for (i, a) in e.attach.iter().enumerate() {
            let p = format!("endpoints.{}.attach[{i}]", e.name);
            let n = t.network_of(&p, a)?;
            if let Some(v4) = a.ipv4 {
                address_in_network(&format!("{p}.ipv4"), IpAddr::V4(v4), n, &mut used)?;
            }
            if let Some(v6) = a.ipv6 {
                address_in_network(&format!("{p}.ipv6"), IpAddr::V6(v6), n, &mut used)?;
            }
        }
    }
    Ok(())
}

/// `ipv4: dhcp` and `ipv6: slaac` only on networks that serve addresses,
/// and such networks fit for it: macvlan (a MAC of their own), not a
/// Docker network, and in a lab the subnets the lab's server serves from.
fn served_addresses(t: &Topology) -> R<()> {
    for n in t.networks.iter().filter(|n| n.dhcp_use != DhcpUse::default()) {
        let p = format!("networks.{}", n.name);
        if !n.dhcp {
            return Err(SpecError::new(format!("{p}.dhcp_use"), "set", "needs `dhcp: true` on the network"));
        }
        if let (true, Some(m)) = (n.dhcp_use.mtu, n.mtu) {
            return Err(SpecError::new(
                format!("{p}.mtu"),
                m,
                "cannot be set with `dhcp_use: [mtu]`: the MTU comes from the file or from the server, not both",
            ));
        }
    }
    for n in t.networks.iter().filter(|n| n.dhcp) {
        let p = format!("networks.{}", n.name);
        if n.driver.kind() != "macvlan" {
            return Err(SpecError::new(
                format!("{p}.dhcp"),
                true,
                "needs driver macvlan (ipvlan links share the parent's MAC, by which DHCP servers tell clients apart)",
            ));
        }
        if n.docker {
            return Err(SpecError::new(
                format!("{p}.dhcp"),
                true,
                "cannot be a Docker network (Docker's macvlan driver has no DHCP); \
                 drop `docker: true` and attach containers by `container:` instead",
            ));
        }
        let slaac = t.endpoints.iter().flat_map(|e| &e.attach).any(|a| a.network == n.name && a.ipv6_slaac);
        if let Some(s) = n.subnet_v6().filter(|s| slaac && s.prefix_len() != 64) {
            return Err(SpecError::new(
                format!("{p}.subnets"),
                s.subnet.net(),
                "must be a /64 for `ipv6: slaac` (SLAAC forms addresses in /64 prefixes only)",
            ));
        }
        if t.lab.is_some() {
            if n.subnet_v4().and_then(|s| s.gateway()).is_none() {
                return Err(SpecError::new(
                    format!("{p}.subnets"),
                    "no IPv4 subnet with a gateway",
                    "is needed with `dhcp: true` in a lab: the lab router serves DHCP from its gateway address",
                ));
            }
            if slaac && n.subnet_v6().and_then(|s| s.gateway()).is_none() {
                return Err(SpecError::new(
                    format!("{p}.subnets"),
                    "no IPv6 subnet with a gateway",
                    "is needed for `ipv6: slaac` in a lab: the lab router advertises its prefix from the gateway address",
                ));
            }
        }
    }
    for e in &t.endpoints {
        for (i, a) in e.attach.iter().enumerate() {
            let p = format!("endpoints.{}.attach[{i}]", e.name);
            let n = t.network_of(&p, a)?;
            for (served, field, value) in [(a.ipv4_dhcp, "ipv4", "dhcp"), (a.ipv6_slaac, "ipv6", "slaac")] {
                if served && !n.dhcp {
                    return Err(SpecError::new(
                        format!("{p}.{field}"),
                        value,
                        format!("needs networks.{}.dhcp: true (nothing serves addresses on that network)", n.name),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Subnets never overlap, across networks or within one.
fn subnets_disjoint(t: &Topology) -> R<()> {
    let all: Vec<(String, IpNet)> = t
        .networks
        .iter()
        .flat_map(|n| {
            n.subnets
                .iter()
                .enumerate()
                .map(move |(i, s)| (format!("networks.{}.subnets[{i}]", n.name), s.subnet.net()))
        })
        .collect();
    for (i, (pa, a)) in all.iter().enumerate() {
        for (pb, b) in &all[..i] {
            if a.contains(&b.network()) || b.contains(&a.network()) {
                return Err(SpecError::new(format!("{pa}.subnet"), a, format!("overlaps {b} ({pb})")));
            }
        }
    }
    Ok(())
}

/// One protocol per parent + VLAN id.
fn one_protocol_per_tag(t: &Topology) -> R<()> {
    let mut tags: BTreeMap<(IfName, VlanId), (&str, VlanProtocol)> = BTreeMap::new();
    for n in &t.networks {
        if let Some(id) = n.vlan {
            if let Some((other, proto)) = tags.insert((n.parent.clone(), id), (&n.name, n.vlan_protocol)) {
                if proto != n.vlan_protocol {
                    return Err(SpecError::new(
                        format!("networks.{}.vlan_protocol", n.name),
                        n.vlan_protocol,
                        format!("differs from {proto} declared by networks.{other} for {} VLAN {id}", n.parent),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A passthru macvlan takes its parent whole.
fn passthru_alone(t: &Topology) -> R<()> {
    for n in &t.networks {
        if n.driver.macvlan_mode() == Some(MacvlanMode::Passthru) {
            let lp = n.link_parent();
            if let Some(other) = t.networks.iter().find(|o| o.name != n.name && o.link_parent() == lp) {
                return Err(SpecError::new(
                    format!("networks.{}.mode", n.name),
                    "passthru",
                    format!("needs {lp} to itself, but networks.{} also uses it", other.name),
                ));
            }
            let users = t.endpoints.iter().filter(|e| e.attach.iter().any(|a| a.network == n.name)).count();
            if users > 1 {
                return Err(SpecError::new(
                    format!("networks.{}.mode", n.name),
                    "passthru",
                    format!("allows one endpoint on {lp}, but {users} attach to it"),
                ));
            }
        }
    }
    Ok(())
}

/// Networks sharing a link parent use one driver (the kernel answers EBUSY otherwise).
fn one_driver_per_parent(t: &Topology) -> R<()> {
    for n in &t.networks {
        if let Some(o) =
            t.networks.iter().find(|o| o.link_parent() == n.link_parent() && o.driver.kind() != n.driver.kind())
        {
            return Err(SpecError::new(
                format!("networks.{}.driver", n.name),
                n.driver.kind(),
                format!(
                    "differs from networks.{} ({}) on the same parent {}",
                    o.name,
                    o.driver.kind(),
                    n.link_parent()
                ),
            ));
        }
    }
    Ok(())
}

/// Each endpoint has a namespace of its own, apart from the host's and the router's.
fn own_namespaces(t: &Topology) -> R<()> {
    let mut spaces: HashMap<&EndpointNs, String> = HashMap::new();
    for e in &t.endpoints {
        let p = format!("endpoints.{}", e.name);
        if let EndpointNs::Netns(n) = &e.netns {
            if t.namespace.as_ref() == Some(n) || t.lab.as_ref().is_some_and(|l| &l.router == n) {
                return Err(SpecError::new(&p, n, "uses the namespace of the host or of the lab router"));
            }
        }
        if let Some(other) = spaces.insert(&e.netns, p.clone()) {
            return Err(SpecError::new(&p, &e.name, format!("shares its namespace with {other}")));
        }
    }
    Ok(())
}

/// MACs given or derived from static IPv4s do not collide.
fn macs_unique(t: &Topology) -> R<()> {
    let mut macs: HashMap<MacAddr, String> = HashMap::new();
    for e in &t.endpoints {
        for (i, a) in e.attach.iter().enumerate() {
            let m = a.mac.or(a.ipv4.map(MacAddr::docker_style));
            if let Some(m) = m {
                let p = format!("endpoints.{}.attach[{i}]", e.name);
                if let Some(other) = macs.insert(m, p.clone()) {
                    return Err(SpecError::new(format!("{p}.mac"), m, format!("is also the MAC of {other}")));
                }
            }
        }
    }
    Ok(())
}

fn address_in_network(path: &str, a: IpAddr, n: &Network, used: &mut HashMap<IpAddr, String>) -> R<()> {
    let fam = if a.is_ipv4() { "IPv4" } else { "IPv6" };
    let Some(s) = n.subnets.iter().find(|s| s.subnet.is_ipv6() == a.is_ipv6()) else {
        return Err(SpecError::new(path, a, format!("is {fam}, but networks.{} has no {fam} subnet", n.name)));
    };
    let s = n.subnet_of(a).unwrap_or(s);
    check_usable(path, a, &s.subnet)
        .map_err(|e| SpecError::new(path, a, format!("{} (networks.{})", e.rule, n.name)))?;
    if s.gateway() == Some(a) {
        return Err(SpecError::new(path, a, format!("is the gateway of networks.{}", n.name)));
    }
    if let Some(other) = used.insert(a, path.to_string()) {
        return Err(SpecError::new(path, a, format!("is also used by {other}")));
    }
    Ok(())
}
