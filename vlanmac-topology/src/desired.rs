//! What the kernel should hold for a topology: pure, from the validated
//! topology and the IPAM assignments.

use std::net::IpAddr;

use super::{
    ipam::Assignments,
    model::{Driver, Topology},
    places::{Place, Role, HOST},
};
use vlanmac_core::spec::{
    AddressSpec, IfName, IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, RouteSpec, VlanId, VlanProtocol,
};

/// A link the topology needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLink {
    /// Index of the place it lives in.
    pub place: usize,
    /// Its name there.
    pub name: IfName,
    /// Kind and parent.
    pub kind: DesiredKind,
    /// MAC, when the topology fixes one.
    pub mac: Option<MacAddr>,
    /// MTU, when the topology fixes one.
    pub mtu: Option<Mtu>,
    /// Made by Docker (a container on a `docker: true` network): planned
    /// as present, never created or changed by vlanmac, but verified.
    pub external: bool,
    /// Created with IPv6 address generation off (IPv4-only network).
    pub no_ipv6: bool,
    /// For an endpoint's link: the index of its attachment in the
    /// endpoint's `attach` list (its name may be the runtime's choice).
    pub attachment: Option<usize>,
}

/// The kind of a desired link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesiredKind {
    /// The lab trunk: a veth whose peer (same name) is in `peer_place`.
    VethTrunk {
        /// Where the peer goes.
        peer_place: usize,
    },
    /// The router's end of the lab trunk (made with the trunk).
    VethPeer,
    /// A VLAN subinterface of `parent` (same place).
    Vlan {
        /// The trunk.
        parent: IfName,
        /// VLAN id.
        id: VlanId,
        /// Tag protocol.
        protocol: VlanProtocol,
    },
    /// A macvlan on `parent` in `parent_place`.
    Macvlan {
        /// Lower device.
        parent: IfName,
        /// Where the lower device is.
        parent_place: usize,
        /// Mode.
        mode: MacvlanMode,
        /// Source-mode MACs.
        source_macs: Vec<MacAddr>,
    },
    /// An ipvlan on `parent` in `parent_place`.
    Ipvlan {
        /// Lower device.
        parent: IfName,
        /// Where the lower device is.
        parent_place: usize,
        /// Mode.
        mode: IpvlanMode,
        /// Port flag.
        flags: IpvlanFlags,
    },
}

impl DesiredKind {
    /// The kernel's kind name.
    pub fn kind_name(&self) -> &'static str {
        match self {
            DesiredKind::VethTrunk { .. } | DesiredKind::VethPeer => "veth",
            DesiredKind::Vlan { .. } => "vlan",
            DesiredKind::Macvlan { .. } => "macvlan",
            DesiredKind::Ipvlan { .. } => "ipvlan",
        }
    }
}

/// Everything a topology needs, per place.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    /// Links, in creation order (trunk, VLANs, shims, endpoints).
    pub links: Vec<DesiredLink>,
    /// Addresses: (place, device, address).
    pub addresses: Vec<(usize, IfName, AddressSpec)>,
    /// Routes: (place, route with its device).
    pub routes: Vec<(usize, RouteSpec)>,
    /// Sysctls and the values they must have: (place, key, value).
    pub sysctls: Vec<(usize, String, &'static str)>,
    /// Sysctls of endpoint interfaces, set before the links come up:
    /// (place, key, value).
    pub link_sysctls: Vec<(usize, String, &'static str)>,
    /// Interfaces whose IPv4 address comes from a DHCP lease, not from
    /// `addresses`.
    pub dhcp: Vec<DesiredLease>,
    /// Interfaces whose IPv6 addresses come from router advertisements
    /// (SLAAC): (place, device).
    pub slaac: Vec<(usize, IfName)>,
}

/// An interface that holds a DHCP lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLease {
    /// Index of the endpoint's place.
    pub place: usize,
    /// The interface there.
    pub dev: IfName,
    /// The endpoint's name.
    pub endpoint: String,
    /// The network's name.
    pub network: String,
    /// The interface's MAC (the client's identity to the server).
    pub mac: MacAddr,
    /// Whether the lease's router becomes the default route (the
    /// endpoint's first interface).
    pub default_route: bool,
    /// Whether the lease's MTU becomes the interface's (`dhcp_use: [mtu]`).
    pub use_mtu: bool,
    /// The namespace's resolv.conf the lease's DNS servers and domain go
    /// into (`dhcp_use: [dns, domain]`, the endpoint's first interface, a
    /// named namespace), and which of the two.
    pub resolv: Option<(std::path::PathBuf, crate::model::DhcpUse)>,
}

impl DesiredLease {
    /// The lease attachment `i` of endpoint `e` (at `places[place]`) takes,
    /// with `mac`.
    pub fn of(
        t: &Topology,
        e: &crate::model::Endpoint,
        i: usize,
        place: usize,
        places: &[Place],
        mac: MacAddr,
    ) -> Option<Self> {
        let a = e.attach.get(i)?;
        let n = t.network(&a.network)?;
        let named = places.get(place).and_then(|p| p.named.as_ref());
        let resolv = match named {
            Some(ns) if i == 0 && n.dhcp_use.resolv() => Some((resolv_conf(ns.as_str()), n.dhcp_use)),
            _ => None,
        };
        Some(DesiredLease {
            place,
            dev: a.ifname.clone(),
            endpoint: e.name.clone(),
            network: n.name.clone(),
            mac,
            default_route: i == 0,
            use_mtu: n.dhcp_use.mtu,
            resolv,
        })
    }
}

/// The resolv.conf `ip netns exec NS` bind-mounts over `/etc/resolv.conf`.
pub fn resolv_conf(netns: &str) -> std::path::PathBuf {
    std::path::Path::new("/etc/netns").join(netns).join("resolv.conf")
}

/// The per-interface sysctls of an endpoint's interface on a `dhcp: true`
/// network. With `ipv6: slaac`: router advertisements accepted and
/// addresses formed from their prefixes, the default route learned from
/// them only on the endpoint's first interface, solicited every second.
/// Without: advertisements
/// ignored (they are for the interfaces that asked for SLAAC only).
pub fn served_sysctls(dev: &IfName, slaac: bool, first: bool) -> Vec<(String, &'static str)> {
    if !slaac {
        return vec![(format!("net.ipv6.conf.{dev}.accept_ra"), "0")];
    }
    vec![
        (format!("net.ipv6.conf.{dev}.accept_ra"), "1"),
        (format!("net.ipv6.conf.{dev}.autoconf"), "1"),
        (format!("net.ipv6.conf.{dev}.accept_ra_defrtr"), if first { "1" } else { "0" }),
        // Solicitations every second (the kernel's default: 3, 4 s apart),
        // so a router that starts just after the link comes up (the lab's)
        // is heard within a second.
        (format!("net.ipv6.conf.{dev}.router_solicitation_interval"), "1"),
        (format!("net.ipv6.conf.{dev}.router_solicitations"), "10"),
    ]
}

/// The lab router's sysctls: it forwards (IPv4 and IPv6), and it never
/// sends ICMP redirects, so it routes between subnets even when they share
/// one segment, as a router-on-a-stick with subinterfaces does.
pub fn router_sysctls(trunk: &IfName) -> Vec<(String, &'static str)> {
    let mut v = vec![
        ("net.ipv4.conf.all.forwarding".to_string(), "1"),
        ("net.ipv6.conf.all.forwarding".to_string(), "1"),
        ("net.ipv4.conf.all.send_redirects".to_string(), "0"),
        // The emulated router answers every TTL-limited probe of `verify`:
        // with the default rate limits (one ICMP error per destination per
        // second, IPv6 per 100 ms) hop counts wait out timeouts.
        ("net.ipv4.icmp_ratelimit".to_string(), "0"),
        ("net.ipv6.icmp.ratelimit".to_string(), "0"),
        // Nor a budget for all of them: "time exceeded" leaves the masks
        // (IPv4 default 6168 = types 3, 4, 11 and 12; IPv6 0-1,3-127), so
        // the token bucket of `icmp_msgs_per_sec` (1,000 a second, bursts
        // of 50) does not drop the answers to a large verify's hop probes.
        ("net.ipv4.icmp_ratemask".to_string(), "4120"),
        ("net.ipv6.icmp.ratemask".to_string(), "0-1,4-127"),
    ];
    // The effective value is all OR the interface's; sysctl keys cannot
    // name interfaces with dots.
    if !trunk.as_str().contains('.') {
        v.push((format!("net.ipv4.conf.{trunk}.send_redirects"), "0"));
    }
    v
}

fn with_prefix(ip: IpAddr, prefix: u8) -> AddressSpec {
    // The prefix comes from a validated subnet of the same family.
    AddressSpec {
        net: ipnet::IpNet::new(ip, prefix).unwrap_or(ipnet::IpNet::from(ip)),
        nodad: ip.is_ipv6(),
        lifetimes: None,
    }
}

/// Builds the desired state of `t` over `places` (from [`super::places::places`]).
pub fn desired(t: &Topology, places: &[Place], assigned: &Assignments) -> Desired {
    let mut d = Desired::default();
    let router = places.iter().position(|p| p.role == Role::Router);
    lab(&mut d, t, router);
    vlans(&mut d, t, router);
    gateways(&mut d, t, router);
    shims(&mut d, t);
    endpoints(&mut d, t, places, assigned);
    d
}

/// The lab trunk and the router's forwarding.
fn lab(d: &mut Desired, t: &Topology, router: Option<usize>) {
    if let (Some(lab), Some(r)) = (&t.lab, router) {
        d.links.push(DesiredLink {
            place: HOST,
            name: lab.trunk.clone(),
            kind: DesiredKind::VethTrunk { peer_place: r },
            mac: None,
            mtu: None,
            external: false,
            no_ipv6: false,
            attachment: None,
        });
        d.links.push(DesiredLink {
            place: r,
            name: lab.trunk.clone(),
            kind: DesiredKind::VethPeer,
            mac: None,
            mtu: None,
            external: false,
            no_ipv6: false,
            attachment: None,
        });
        d.sysctls.extend(router_sysctls(&lab.trunk).into_iter().map(|(k, v)| (r, k, v)));
    }
}

/// VLAN subinterfaces on the host, mirrored on the router.
fn vlans(d: &mut Desired, t: &Topology, router: Option<usize>) {
    let mut vlan_places = vec![HOST];
    vlan_places.extend(router);
    for &place in &vlan_places {
        for n in &t.networks {
            let Some(id) = n.vlan else { continue };
            let name = n.link_parent();
            if d.links.iter().any(|l| l.place == place && l.name == name) {
                continue;
            }
            let parent = if place == HOST {
                n.parent.clone()
            } else {
                t.lab.as_ref().map(|l| l.trunk.clone()).unwrap_or(n.parent.clone())
            };
            d.links.push(DesiredLink {
                place,
                name,
                kind: DesiredKind::Vlan { parent, id, protocol: n.vlan_protocol },
                mac: None,
                mtu: None,
                external: false,
                no_ipv6: false,
                attachment: None,
            });
        }
    }
}

/// The router holds the gateways, on the VLAN subinterface (or the trunk).
fn gateways(d: &mut Desired, t: &Topology, router: Option<usize>) {
    if let (Some(lab), Some(r)) = (&t.lab, router) {
        for n in &t.networks {
            let dev = if n.vlan.is_some() { n.link_parent() } else { lab.trunk.clone() };
            for s in &n.subnets {
                if let Some(gw) = s.gateway() {
                    d.addresses.push((r, dev.clone(), with_prefix(gw, s.prefix_len())));
                }
            }
        }
    }
}

/// Host shims: a macvlan (or ipvlan) on the host beside the endpoints.
fn shims(d: &mut Desired, t: &Topology) {
    for n in &t.networks {
        let Some(shim) = &n.host_shim else { continue };
        let kind = if n.driver.kind() == "ipvlan" {
            DesiredKind::Ipvlan {
                parent: n.link_parent(),
                parent_place: HOST,
                mode: IpvlanMode::L2,
                flags: IpvlanFlags::Bridge,
            }
        } else {
            DesiredKind::Macvlan {
                parent: n.link_parent(),
                parent_place: HOST,
                mode: MacvlanMode::Bridge,
                source_macs: vec![],
            }
        };
        d.links.push(DesiredLink {
            place: HOST,
            name: shim.name.clone(),
            kind,
            mac: None,
            mtu: n.mtu,
            external: false,
            no_ipv6: !n.ipv6_link_local,
            attachment: None,
        });
        for ip in [shim.ipv4.map(IpAddr::V4), shim.ipv6.map(IpAddr::V6)].into_iter().flatten() {
            if let Some(s) = n.subnet_of(ip) {
                d.addresses.push((HOST, shim.name.clone(), with_prefix(ip, s.prefix_len())));
            }
        }
    }
}

/// Each endpoint's interfaces, addresses and default routes.
fn endpoints(d: &mut Desired, t: &Topology, places: &[Place], assigned: &Assignments) {
    for e in &t.endpoints {
        let Some(place) = places.iter().position(|p| p.endpoint() == Some(e.name.as_str())) else {
            continue;
        };
        for (i, a) in e.attach.iter().enumerate() {
            let Some(n) = t.network(&a.network) else {
                continue;
            };
            let Some(asg) = assigned.get(&(e.name.clone(), i)) else {
                continue;
            };
            let kind = match &n.driver {
                Driver::Macvlan { mode, source_macs } => DesiredKind::Macvlan {
                    parent: n.link_parent(),
                    parent_place: HOST,
                    mode: *mode,
                    source_macs: source_macs.iter().filter_map(|m| m.parse().ok()).collect(),
                },
                Driver::Ipvlan { mode, flags } => {
                    DesiredKind::Ipvlan { parent: n.link_parent(), parent_place: HOST, mode: *mode, flags: *flags }
                }
            };
            // ipvlan slaves share the parent's MAC: no MAC of their own.
            let mac = (n.driver.kind() == "macvlan").then_some(asg.mac);
            let external = a.external;
            d.links.push(DesiredLink {
                place,
                name: a.ifname.clone(),
                kind,
                mac,
                mtu: n.mtu,
                external,
                // SLAAC needs the link-local address it solicits from.
                no_ipv6: !n.ipv6_link_local && !a.ipv6_slaac,
                attachment: Some(i),
            });
            if a.ipv4_dhcp {
                d.dhcp.extend(DesiredLease::of(t, e, i, place, places, asg.mac));
            }
            if a.ipv6_slaac {
                d.slaac.push((place, a.ifname.clone()));
            }
            if n.dhcp && !external {
                let sysctls = served_sysctls(&a.ifname, a.ipv6_slaac, i == 0);
                d.link_sysctls.extend(sysctls.into_iter().map(|(k, v)| (place, k, v)));
            }
            if let (Some(v4), Some(s)) = (asg.ipv4, n.subnet_v4()) {
                let s = n.subnet_of(IpAddr::V4(v4)).unwrap_or(s);
                d.addresses.push((place, a.ifname.clone(), with_prefix(IpAddr::V4(v4), s.prefix_len())));
            }
            if let (Some(v6), Some(s)) = (asg.ipv6, n.subnet_v6()) {
                let s = n.subnet_of(IpAddr::V6(v6)).unwrap_or(s);
                d.addresses.push((place, a.ifname.clone(), with_prefix(IpAddr::V6(v6), s.prefix_len())));
            }
            // The first attachment's gateways are the default routes (a
            // lease's router and a router advertisement give their own).
            if i == 0 {
                for s in n.subnets.iter().filter(|s| if s.subnet.is_ipv6() { !a.ipv6_slaac } else { !a.ipv4_dhcp }) {
                    if let Some(gw) = s.gateway() {
                        d.routes.push((place, RouteSpec::default_via(gw).with_dev(a.ifname.clone())));
                    }
                }
            }
        }
    }
}
