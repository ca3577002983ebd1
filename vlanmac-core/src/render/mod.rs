//! Text for what lives outside the host: the upstream router or switch's
//! configuration (as in the seed), a Graphviz diagram, systemd-networkd
//! units that make the host side persist across reboots, and CNI
//! configurations (conflists, Multus NetworkAttachmentDefinitions) that put
//! containers on the topology's networks through vlanmac-cni. Pure
//! functions.

mod cisco;
mod cni;
mod dot;
#[cfg(test)]
mod golden_tests;
mod networkd;

pub use cisco::{cisco_router, cisco_switch};
pub use cni::{cni, cni_conflists, cni_plugin_config, multus};
pub use dot::dot;
pub use networkd::systemd_networkd;

use std::net::IpAddr;

/// `255.255.255.0` for a /24.
pub(crate) fn netmask(prefix: u8) -> String {
    let bits: u32 = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
    std::net::Ipv4Addr::from(bits).to_string()
}

/// The gateways of a network: (address, prefix length).
pub(crate) fn gateways(n: &crate::topology::Network) -> Vec<(IpAddr, u8)> {
    n.subnets.iter().filter_map(|s| s.gateway().map(|g| (g, s.prefix_len()))).collect()
}
