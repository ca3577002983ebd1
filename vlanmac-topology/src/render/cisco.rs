use std::fmt::Write;

use super::{gateways, netmask};
use crate::Topology;
use vlanmac_core::spec::VlanProtocol;

/// The router's physical interface in the rendered configs.
const ROUTER_IF: &str = "FastEthernet0/0";

fn address_lines(out: &mut String, n: &crate::Network) {
    for (g, p) in gateways(n) {
        let _ = match g {
            std::net::IpAddr::V4(v4) => writeln!(out, " ip address {v4} {}", netmask(p)),
            std::net::IpAddr::V6(v6) => writeln!(out, " ipv6 address {v6}/{p}"),
        };
    }
}

/// A Cisco IOS router-on-a-stick at the far end of the trunk: one
/// subinterface per VLAN with `encapsulation dot1Q` and the gateways.
pub fn cisco_router(t: &Topology) -> String {
    let mut s = format!("! vlanmac render --format cisco-router: topology {}\n", t.name);
    let _ = writeln!(s, "interface {ROUTER_IF}\n no shutdown");
    for n in t.networks.iter().filter(|n| n.vlan.is_none()) {
        address_lines(&mut s, n);
    }
    s.push_str("!\n");
    for n in &t.networks {
        let Some(id) = n.vlan else { continue };
        let _ = writeln!(s, "interface {ROUTER_IF}.{id}");
        let _ = match n.vlan_protocol {
            VlanProtocol::Ieee8021Q => writeln!(s, " encapsulation dot1Q {id}"),
            VlanProtocol::Ieee8021Ad => writeln!(s, " encapsulation dot1ad {id}"),
        };
        address_lines(&mut s, n);
        s.push_str("!\n");
    }
    s
}

/// A Cisco layer-3 switch: the VLANs, the trunk port toward the host, and
/// one SVI per VLAN with the gateways.
pub fn cisco_switch(t: &Topology) -> String {
    let mut s = format!("! vlanmac render --format cisco-switch: topology {}\n", t.name);
    let mut ids: Vec<u16> = t.networks.iter().filter_map(|n| n.vlan.map(|v| v.get())).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        let _ = writeln!(s, "vlan {id}");
    }
    s.push_str("!\n");
    let _ = writeln!(s, "interface {ROUTER_IF}\n switchport mode trunk\n switchport trunk native vlan 1");
    if !ids.is_empty() {
        let list: Vec<String> = ids.iter().map(u16::to_string).collect();
        let _ = writeln!(s, " switchport trunk allowed vlan {}", list.join(","));
    }
    s.push_str("!\n");
    for id in &ids {
        let _ = writeln!(s, "interface Vlan{id}");
        for n in t.networks.iter().filter(|n| n.vlan.map(|v| v.get()) == Some(*id)) {
            address_lines(&mut s, n);
        }
        s.push_str(" no shutdown\n!\n");
    }
    s
}
