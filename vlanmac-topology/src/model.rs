//! The validated topology: every value checked, every cross-reference
//! resolved. Built only by the loaders ([`super::from_path`], [`super::from_yaml`],
//! [`super::from_json`], [`super::from_file_struct`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::Serialize;

use vlanmac_core::spec::{
    IfName, IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, NetnsName, Subnet, VlanId, VlanProtocol,
};

/// A declarative topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// Marks what this topology created (`vlanmac:<name>`).
    pub name: String,
    /// Namespace holding the parents (`None`: the caller's own).
    pub namespace: Option<NetnsName>,
    /// The emulated upstream router.
    pub lab: Option<Lab>,
    /// Networks, sorted by name.
    pub networks: Vec<Network>,
    /// Endpoints, sorted by name.
    pub endpoints: Vec<Endpoint>,
    /// `confirm:`: `vlanmac apply` of the file is a confirmed apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<crate::confirm_spec::ConfirmSection>,
}

/// The emulated far end of the trunk: a router on a stick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lab {
    /// The veth in `namespace` standing in for the trunk.
    pub trunk: IfName,
    /// The router's namespace; its side of the veth has the same name.
    pub router: NetnsName,
    /// Lease time of the lab's DHCP server, seconds (`None`: an hour).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_lease_secs: Option<u32>,
}

/// How endpoints attach to a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "driver", rename_all = "lowercase")]
pub enum Driver {
    /// macvlan in `mode` (with `source_macs` in source mode).
    Macvlan {
        /// The mode.
        mode: MacvlanMode,
        /// Source-mode allowed MACs.
        source_macs: Vec<String>,
    },
    /// ipvlan.
    Ipvlan {
        /// The mode.
        mode: IpvlanMode,
        /// The port flag.
        flags: IpvlanFlags,
    },
}

impl Driver {
    /// `macvlan` or `ipvlan`.
    pub fn kind(&self) -> &'static str {
        match self {
            Driver::Macvlan { .. } => "macvlan",
            Driver::Ipvlan { .. } => "ipvlan",
        }
    }

    /// The macvlan mode, if a macvlan network.
    pub fn macvlan_mode(&self) -> Option<MacvlanMode> {
        match self {
            Driver::Macvlan { mode, .. } => Some(*mode),
            Driver::Ipvlan { .. } => None,
        }
    }
}

/// A network: endpoints on a (VLAN subinterface of a) parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Its name (the key in the file).
    pub name: String,
    /// The trunk.
    pub parent: IfName,
    /// VLAN id, if tagged.
    pub vlan: Option<VlanId>,
    /// VLAN tag protocol.
    pub vlan_protocol: VlanProtocol,
    /// macvlan or ipvlan, with its settings.
    pub driver: Driver,
    /// MTU of the endpoints' links.
    pub mtu: Option<Mtu>,
    /// Subnets in file order.
    pub subnets: Vec<NetSubnet>,
    /// Host shim.
    pub host_shim: Option<HostShim>,
    /// Also a Docker network.
    pub docker: bool,
    /// IPv6 address generation on the network's links (default: when it
    /// has an IPv6 subnet).
    pub ipv6_link_local: bool,
    /// Addresses are served on the network (a DHCPv4 server, router
    /// advertisements): attachments may take `ipv4: dhcp`, `ipv6: slaac`.
    pub dhcp: bool,
    /// The lease options applied besides the address and router.
    pub dhcp_use: DhcpUse,
}

/// Which options of a DHCP lease are applied (`dhcp_use: [mtu, dns,
/// domain]`); all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DhcpUse {
    /// The interface MTU (option 26) becomes the interface's MTU.
    pub mtu: bool,
    /// The DNS servers (option 6) go into the namespace's resolv.conf.
    pub dns: bool,
    /// The domain name (option 15) is its `search` domain.
    pub domain: bool,
}

impl DhcpUse {
    /// Whether anything goes into the namespace's resolv.conf.
    pub fn resolv(&self) -> bool {
        self.dns || self.domain
    }
}

impl Network {
    /// The link endpoints attach to: `eth0.10`, or `eth0` when untagged.
    pub fn link_parent(&self) -> IfName {
        match self.vlan {
            // Validated when the topology was built: the name fits.
            Some(id) => self.parent.vlan_child(id).unwrap_or_else(|_| self.parent.clone()),
            None => self.parent.clone(),
        }
    }

    /// The first subnet of a family.
    pub fn subnet_v4(&self) -> Option<&NetSubnet> {
        self.subnets.iter().find(|s| !s.subnet.is_ipv6())
    }

    /// The first IPv6 subnet.
    pub fn subnet_v6(&self) -> Option<&NetSubnet> {
        self.subnets.iter().find(|s| s.subnet.is_ipv6())
    }

    /// The subnet holding `ip`, if any.
    pub fn subnet_of(&self, ip: IpAddr) -> Option<&NetSubnet> {
        self.subnets.iter().find(|s| s.subnet.contains(ip))
    }

    /// Whether any subnet is IPv6.
    pub fn has_ipv6(&self) -> bool {
        self.subnet_v6().is_some()
    }
}

/// A subnet of a network, with its IPAM range and reserved addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetSubnet {
    /// Network and gateway.
    pub subnet: Subnet,
    /// IPAM allocates inside this range only.
    pub ip_range: Option<IpNet>,
    /// Addresses IPAM must not hand out.
    pub aux_addresses: Vec<(String, IpAddr)>,
}

impl NetSubnet {
    /// The gateway.
    pub fn gateway(&self) -> Option<IpAddr> {
        self.subnet.gateway()
    }

    /// The subnet's prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.subnet.net().prefix_len()
    }
}

/// A macvlan on the host for traffic between the host and its own
/// endpoints (which the parent itself cannot reach).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostShim {
    /// Interface name.
    pub name: IfName,
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
}

/// Where an endpoint's interfaces live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointNs {
    /// A named namespace, created if missing.
    Netns(NetnsName),
    /// A process's namespace.
    Pid(u32),
    /// A Docker container's namespace.
    Container(String),
}

/// An endpoint (a container or namespace) and its interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Its name (the key in the file).
    pub name: String,
    /// Its namespace.
    pub netns: EndpointNs,
    /// Interfaces in order; the first one's gateways are the default routes.
    pub attach: Vec<Attachment>,
}

/// One interface of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The network's name.
    pub network: String,
    /// Interface name inside the endpoint.
    pub ifname: IfName,
    /// Static IPv4 (`None`: IPAM, or DHCP when `ipv4_dhcp`).
    pub ipv4: Option<Ipv4Addr>,
    /// Static IPv6 (`None`: IPAM if the network has IPv6, or SLAAC when
    /// `ipv6_slaac`).
    pub ipv6: Option<Ipv6Addr>,
    /// IPv4 from a DHCP lease (`ipv4: dhcp`): vlanmac's client acquires
    /// it at apply, the agent renews it, down releases it.
    pub ipv4_dhcp: bool,
    /// IPv6 by SLAAC (`ipv6: slaac`): the interface accepts router
    /// advertisements and forms its address from the advertised prefix.
    pub ipv6_slaac: bool,
    /// MAC override.
    pub mac: Option<MacAddr>,
    /// Made by another engine (Docker connects a container to a network of
    /// its own): only verified, never created or removed here. The files
    /// never set it; an adapter does, on the topology it hands to the core.
    #[serde(skip)]
    pub external: bool,
}

impl Topology {
    /// A network by name.
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// The network attachment `a` (at `path`) names, or an error naming it.
    pub(crate) fn network_of(&self, path: &str, a: &Attachment) -> Result<&Network, vlanmac_core::spec::SpecError> {
        self.network(&a.network).ok_or_else(|| {
            vlanmac_core::spec::SpecError::new(
                format!("{path}.network"),
                &a.network,
                "is not a network of this topology",
            )
        })
    }
}

/// An address an interface may hold in `subnet`: inside it, and not the
/// network or (IPv4) broadcast address.
pub(crate) fn check_usable(path: &str, a: IpAddr, subnet: &Subnet) -> Result<(), vlanmac_core::spec::SpecError> {
    let net = subnet.net();
    if !net.contains(&a) {
        return Err(vlanmac_core::spec::SpecError::new(path, a, format!("is outside the subnet {net}")));
    }
    let is_v4 = a.is_ipv4();
    if (is_v4 && net.prefix_len() >= 31) || (!is_v4 && net.prefix_len() >= 127) {
        return Ok(()); // point-to-point subnets have no network/broadcast address
    }
    if a == net.network() {
        return Err(vlanmac_core::spec::SpecError::new(path, a, format!("is the network address of {net}")));
    }
    if is_v4 && a == net.broadcast() {
        return Err(vlanmac_core::spec::SpecError::new(path, a, format!("is the broadcast address of {net}")));
    }
    Ok(())
}
