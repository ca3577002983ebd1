//! Text for what lives outside the host: the upstream router or switch's
//! configuration (as in the seed), a Graphviz diagram, the host side for
//! the network managers that bring it back after a reboot
//! (systemd-networkd units, netplan, NetworkManager keyfiles), CNI
//! configurations (conflists, Multus NetworkAttachmentDefinitions) that put
//! containers on the topology's networks through vlanmac-cni, `podman
//! network create` commands for the netavark plugin, and the
//! resolved topology as JSON; the diagram as DOT or SVG. Pure functions.

mod cisco;
mod cni;
mod dot;
#[cfg(test)]
mod golden_tests;
mod netplan;
mod networkd;
mod networkmanager;
mod podman;
mod resolved;
#[cfg(feature = "svg")]
mod svg;

pub use cisco::{cisco_router, cisco_switch};
pub use cni::{cni, cni_conflists, cni_plugin_config, multus};
pub use dot::dot;
pub use netplan::netplan;
pub use networkd::systemd_networkd;
pub use networkmanager::{networkmanager, NM_CONNECTIONS};
pub use podman::podman;
pub use resolved::resolved;
#[cfg(feature = "svg")]
pub use svg::svg;

use std::net::IpAddr;

/// `255.255.255.0` for a /24.
pub(crate) fn netmask(prefix: u8) -> String {
    let bits: u32 = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
    std::net::Ipv4Addr::from(bits).to_string()
}

/// The gateways of a network: (address, prefix length).
pub(crate) fn gateways(n: &crate::Network) -> Vec<(IpAddr, u8)> {
    n.subnets.iter().filter_map(|s| s.gateway().map(|g| (g, s.prefix_len()))).collect()
}

/// One network per VLAN subinterface of the topology (the first network on
/// it), in the topology's order: networks sharing `eth0.10` give one entry.
pub(crate) fn vlans(t: &crate::Topology) -> Vec<&crate::Network> {
    let mut seen = Vec::new();
    t.networks
        .iter()
        .filter(|n| n.vlan.is_some())
        .filter(|n| {
            let lp = n.link_parent();
            let new = !seen.contains(&lp);
            seen.push(lp);
            new
        })
        .collect()
}

/// A host shim's addresses with their prefix lengths (`10.0.10.254/24`).
pub(crate) fn shim_addresses(n: &crate::Network, h: &crate::HostShim) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(ip), Some(s)) = (h.ipv4, n.subnet_v4()) {
        out.push(format!("{ip}/{}", s.prefix_len()));
    }
    if let (Some(ip), Some(s)) = (h.ipv6, n.subnet_v6()) {
        out.push(format!("{ip}/{}", s.prefix_len()));
    }
    out
}

/// The files of a multi-file rendering (systemd-networkd, NetworkManager,
/// netplan): each `# file: PATH` line starts one, which runs to the next;
/// the text before the first is dropped. Returns (PATH, content).
pub fn files(rendered: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in rendered.lines() {
        if let Some(path) = line.strip_prefix("# file: ") {
            out.push((path.trim().to_string(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for (_, text) in &mut out {
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
    }
    out
}

/// The renderings, by the names `vlanmac render --format` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// [`cisco_router`].
    CiscoRouter,
    /// [`cisco_switch`].
    CiscoSwitch,
    /// [`dot`].
    Dot,
    /// `svg` (the diagram as SVG; with the crate's `svg` feature).
    Svg,
    /// [`systemd_networkd`].
    SystemdNetworkd,
    /// [`netplan`].
    Netplan,
    /// [`networkmanager`].
    NetworkManager,
    /// [`resolved`].
    Json,
    /// [`cni`].
    Cni,
    /// [`multus`].
    Multus,
    /// [`podman`].
    Podman,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 11] = [
        Format::CiscoRouter,
        Format::CiscoSwitch,
        Format::Dot,
        Format::Svg,
        Format::SystemdNetworkd,
        Format::Netplan,
        Format::NetworkManager,
        Format::Json,
        Format::Cni,
        Format::Multus,
        Format::Podman,
    ];

    /// What it renders, in one line (the CLI's `--help`, man page and
    /// completions show it).
    pub fn about(self) -> &'static str {
        match self {
            Format::CiscoRouter => "The upstream router's configuration (router-on-a-stick subinterfaces)",
            Format::CiscoSwitch => "The upstream switch's trunk and access ports",
            Format::Dot => "A Graphviz diagram of the topology",
            Format::Svg => "The diagram as SVG (laid out without Graphviz)",
            Format::SystemdNetworkd => "systemd-networkd units for the host side (trunk VLANs, host shims)",
            Format::Netplan => {
                "A netplan file for the host side (Ubuntu); what netplan cannot express is listed in its header"
            }
            Format::NetworkManager => "NetworkManager keyfiles for the VLANs and macvlan host shims",
            Format::Json => "The resolved topology: link names, IPAM-filled addresses, MACs",
            Format::Cni => "One vlanmac-cni conflist per network (podman, containerd)",
            Format::Multus => "One Multus NetworkAttachmentDefinition per network (Kubernetes)",
            Format::Podman => "One `podman network create -d vlanmac` per network (podman 5/6, netavark plugin)",
        }
    }

    /// Its name (`systemd-networkd`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CiscoRouter => "cisco-router",
            Format::CiscoSwitch => "cisco-switch",
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::SystemdNetworkd => "systemd-networkd",
            Format::Netplan => "netplan",
            Format::NetworkManager => "networkmanager",
            Format::Json => "json",
            Format::Cni => "cni",
            Format::Multus => "multus",
            Format::Podman => "podman",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = vlanmac_core::spec::SpecError;
    fn from_str(s: &str) -> Result<Format, Self::Err> {
        Format::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            vlanmac_core::spec::SpecError::new("format", s, format!("is not one of {}", names.join(", ")))
        })
    }
}

/// `t` rendered as `format` (`vlanmac render FILE --format F`).
pub fn render(t: &crate::Topology, format: Format) -> vlanmac_core::Result<String> {
    Ok(match format {
        Format::CiscoRouter => cisco_router(t),
        Format::CiscoSwitch => cisco_switch(t),
        Format::Dot => dot(t),
        #[cfg(feature = "svg")]
        Format::Svg => svg(t)?,
        #[cfg(not(feature = "svg"))]
        Format::Svg => {
            let rule = "needs vlanmac-topology's svg feature (layout-rs), which this build leaves out";
            return Err(vlanmac_core::spec::SpecError::new("format", "svg", rule).into());
        }
        Format::SystemdNetworkd => systemd_networkd(t),
        Format::Netplan => netplan(t),
        Format::NetworkManager => networkmanager(t),
        Format::Json => resolved(t)?,
        Format::Cni => cni(t),
        Format::Multus => multus(t),
        Format::Podman => podman(t),
    })
}
