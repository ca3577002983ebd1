//! The topology file as written (YAML or JSON): plain serde structs that
//! reject unknown keys. Values stay text here; `topology::validate` turns
//! them into checked types and names the path of any bad field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    /// Marks what this topology created; default: the file's stem.
    pub name: Option<String>,
    /// Namespace holding the parents; default: the caller's own.
    pub namespace: Option<String>,
    /// An emulated router at the far end of the trunk.
    pub lab: Option<LabFile>,
    /// Networks by name.
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkFile>,
    /// Endpoints by name.
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointFile>,
    /// `vlanmac apply FILE` is a confirmed apply (docs/CONFIRM.md).
    pub confirm: Option<ConfirmFile>,
}

/// `confirm:`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmFile {
    /// How long a confirm may take: `90`, `90s`, `2m`, `1h`.
    pub timeout: String,
    /// Probes that gate the change.
    #[serde(default)]
    pub probes: Vec<String>,
}

/// `lab:`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabFile {
    /// The veth standing in for the host's trunk, in `namespace`.
    pub trunk: String,
    /// The router-on-a-stick namespace holding the trunk's peer.
    pub router: String,
    /// Lease time in seconds of the lab's DHCP server (for `dhcp: true`
    /// networks): 120 (dnsmasq's shortest) or more; default 3600.
    pub dhcp_lease_time: Option<u32>,
}

/// `networks.NAME:`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// The trunk (`eth0`).
    pub parent: String,
    /// VLAN id: the network sits on `parent.vlan`.
    pub vlan: Option<u32>,
    /// `802.1Q` (default) or `802.1ad`.
    pub vlan_protocol: Option<String>,
    /// macvlan mode (default bridge).
    pub mode: Option<String>,
    /// `macvlan` (default) or `ipvlan`.
    pub driver: Option<String>,
    /// ipvlan mode: l2 (default), l3, l3s.
    pub ipvlan_mode: Option<String>,
    /// ipvlan flag: bridge (default), private, vepa.
    pub ipvlan_flags: Option<String>,
    /// source-mode allowed MACs.
    pub source_macs: Option<Vec<String>>,
    /// MTU of the endpoints' links.
    pub mtu: Option<u32>,
    /// IPv4 / IPv6 subnets.
    #[serde(default)]
    pub subnets: Vec<SubnetFile>,
    /// A macvlan on the host for host <-> endpoint traffic.
    pub host_shim: Option<ShimFile>,
    /// Also a Docker network of this name.
    pub docker: Option<bool>,
    /// IPv6 link-local addresses on the network's links. Default: only when
    /// the network has an IPv6 subnet; without, vlanmac switches IPv6
    /// address generation off (no DAD/MLD traffic, flat per-link cost).
    pub ipv6_link_local: Option<bool>,
    /// Addresses are served on the network (DHCPv4, router
    /// advertisements): its attachments may say `ipv4: dhcp` and
    /// `ipv6: slaac`, and a lab topology runs a DHCP server for it on the
    /// lab router. A `subnet` is then optional and only checks what the
    /// server hands out (in a lab: where the server hands out from).
    pub dhcp: Option<bool>,
    /// Which options of a lease to apply besides the address and router
    /// (as systemd-networkd's `UseMTU=`, `UseDNS=`, `UseDomains=`): `mtu`
    /// sets the interface's MTU, `dns` and `domain` write the endpoint
    /// namespace's `/etc/netns/NS/resolv.conf` (from its first interface's
    /// lease). Every lease's options are reported either way.
    pub dhcp_use: Option<Vec<String>>,
}

/// `networks.NAME.subnets[i]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetFile {
    /// `10.0.10.0/24`
    pub subnet: String,
    /// `10.0.10.1`
    pub gateway: Option<String>,
    /// Where IPAM allocates from, inside the subnet.
    pub ip_range: Option<String>,
    /// Addresses IPAM must not hand out, by label (Docker's `--aux-address`).
    pub aux_addresses: Option<BTreeMap<String, String>>,
}

/// `networks.NAME.host_shim`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShimFile {
    /// Interface name on the host.
    pub name: String,
    /// Its IPv4 address.
    pub ipv4: Option<String>,
    /// Its IPv6 address.
    pub ipv6: Option<String>,
}

/// `endpoints.NAME:`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointFile {
    /// Named namespace (default: the endpoint's key).
    pub netns: Option<String>,
    /// Or a process's namespace.
    pub pid: Option<u32>,
    /// Or a Docker container's.
    pub container: Option<String>,
    /// Interfaces, eth0, eth1, ... in this order.
    #[serde(default)]
    pub attach: Vec<AttachFile>,
}

/// `endpoints.NAME.attach[i]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttachFile {
    /// The network's name.
    pub network: String,
    /// Static IPv4, or `dhcp` (a lease from the network's DHCP server;
    /// the default on a `dhcp: true` network). IPAM fills it in when
    /// omitted on other networks.
    pub ipv4: Option<String>,
    /// Static IPv6, or `slaac` (an address from the router advertisements
    /// of a `dhcp: true` network). IPAM fills it in when omitted and the
    /// network has an IPv6 subnet.
    pub ipv6: Option<String>,
    /// MAC (default: 02:42 + the IPv4 address).
    pub mac: Option<String>,
    /// Interface name (default: eth0, eth1, ... by position).
    pub name: Option<String>,
}
