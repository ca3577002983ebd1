//! The plugin API's JSON, as netavark 2.x writes and reads it (its
//! `plugin-API.md` and `src/network/types.rs`): the network (`create`'s
//! input and output, part of `setup`'s and `teardown`'s), the per-container
//! input of `setup` and `teardown`, the status block `setup` prints, and
//! `info`. Fields netavark may omit are `Option`s; fields the plugin does
//! not read are kept as they came (`create` must give the network back
//! with only what it changed).

use std::{collections::BTreeMap, net::IpAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The driver name: the name the plugin is installed under, and what
/// `podman network create -d` says.
pub const DRIVER: &str = "vlanmac";

/// The plugin API version this plugin speaks.
pub const API_VERSION: &str = "1.0.0";

/// A network (`podman network create` made it; `create` validates and
/// completes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The network's name.
    pub name: String,
    /// Its ID (64 hex digits; podman's, never changed).
    pub id: String,
    /// The driver: `vlanmac` (this plugin's name).
    pub driver: String,
    /// The parent in the host's namespace (`-o parent=`, or
    /// `--interface-name`); empty or missing: the default route's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interface: Option<String>,
    /// `--subnet` / `--gateway`, one per address family or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<Subnet>>,
    /// `--route`: static routes in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
    /// `--ipv6`.
    #[serde(default)]
    pub ipv6_enabled: bool,
    /// `--internal`: no default route.
    #[serde(default)]
    pub internal: bool,
    /// `--dns` (aardvark-dns; this plugin serves no DNS).
    #[serde(default)]
    pub dns_enabled: bool,
    /// `--opt`: the plugin's options (see [`crate::options`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
    /// `--ipam-driver`: `host-local` (podman assigns the addresses) or
    /// `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam_options: Option<BTreeMap<String, String>>,
    /// Whatever else netavark or podman put in the network (`created`,
    /// `labels`, `network_dns_servers`, ...), given back as it came.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One subnet of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// The subnet.
    pub subnet: IpNet,
    /// The gateway in it (the default route's next hop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// `lease_range` and anything else, as it came.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A static route (`--route DST,GW[,METRIC]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The destination.
    pub destination: IpNet,
    /// The next hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// The metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// `unicast` (the default); other types are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
}

/// What one container asks of one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerNetworkOptions {
    /// The interface's name in the container (`eth0`).
    pub interface_name: String,
    /// The addresses podman assigned, each in one of the subnets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_ips: Option<Vec<IpAddr>>,
    /// `--mac-address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<String>,
    /// Aliases and anything else, as it came.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The input of `setup` and `teardown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginExec {
    /// The container's ID.
    pub container_id: String,
    /// The container's name.
    pub container_name: String,
    /// The network.
    pub network: Network,
    /// What the container asks of it.
    pub network_options: PerNetworkOptions,
    /// Port mappings and anything else, as it came.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// What `setup` prints: the container's interface, its MAC and addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusBlock {
    /// Search domains (none: the plugin serves no DNS).
    pub dns_search_domains: Vec<String>,
    /// DNS servers (none).
    pub dns_server_ips: Vec<IpAddr>,
    /// The interface, by its name in the container.
    pub interfaces: BTreeMap<String, NetInterface>,
}

/// One interface of a status block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetInterface {
    /// Its MAC (`aa:bb:cc:dd:ee:ff`).
    pub mac_address: String,
    /// Its addresses, with their subnets' gateways.
    pub subnets: Vec<NetAddress>,
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetAddress {
    /// The address with its subnet's prefix length.
    pub ipnet: IpNet,
    /// The subnet's gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

/// What `info` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// The plugin's version.
    pub version: String,
    /// The plugin API's version: `1.0.0`.
    pub api_version: String,
}
