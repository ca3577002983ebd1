//! Configurations for the container engines: one vlanmac-cni network per
//! topology network, with host-local IPAM over the network's pools minus
//! every address the topology hands out itself (gateway, aux addresses, the
//! host shim's, the endpoints' static ones), as conflist files (podman,
//! containerd) or Multus NetworkAttachmentDefinitions (Kubernetes).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{json, Value};

use vlanmac_core::spec::VlanProtocol;

use crate::{Driver, NetSubnet, Network, Topology};

/// The spec version the files are written in, and the versions a runtime
/// may negotiate up to (`cniVersions`, CNI 1.1).
const CNI_VERSION: &str = "1.0.0";
const CNI_VERSIONS: [&str; 2] = ["1.0.0", "1.1.0"];

/// Addresses of `n` that IPAM must not hand out.
fn taken(t: &Topology, n: &Network) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = Vec::new();
    for s in &n.subnets {
        v.extend(s.gateway());
        v.extend(s.aux_addresses.iter().map(|(_, a)| *a));
    }
    if let Some(shim) = &n.host_shim {
        v.extend(shim.ipv4.map(IpAddr::V4));
        v.extend(shim.ipv6.map(IpAddr::V6));
    }
    for e in &t.endpoints {
        for a in e.attach.iter().filter(|a| a.network == n.name) {
            v.extend(a.ipv4.map(IpAddr::V4));
            v.extend(a.ipv6.map(IpAddr::V6));
        }
    }
    v
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(n.into())
    } else {
        IpAddr::V4(u32::try_from(n).unwrap_or(u32::MAX).into())
    }
}

/// The allocatable segments of `s` (inclusive bounds): its `ip_range` (or
/// the whole subnet) without the network address, the IPv4 broadcast
/// address and `taken`.
pub(crate) fn segments(s: &NetSubnet, taken: &[IpAddr]) -> Vec<(IpAddr, IpAddr)> {
    let net: IpNet = s.subnet.net();
    let v6 = net.addr().is_ipv6();
    let pool = s.ip_range.unwrap_or(net);
    let mut lo = to_u128(pool.network()).max(to_u128(net.network()) + 1);
    let mut hi = to_u128(pool.broadcast());
    if !v6 {
        hi = hi.min(to_u128(net.broadcast()).saturating_sub(1));
    }
    let mut holes: Vec<u128> =
        taken.iter().filter(|a| a.is_ipv6() == v6).map(|a| to_u128(*a)).filter(|a| (lo..=hi).contains(a)).collect();
    holes.sort_unstable();
    holes.dedup();
    let mut out = Vec::new();
    for h in holes {
        if h > lo {
            out.push((from_u128(v6, lo), from_u128(v6, h - 1)));
        }
        lo = h + 1;
    }
    if lo <= hi {
        out.push((from_u128(v6, lo), from_u128(v6, hi)));
    }
    out
}

/// The vlanmac-cni plugin configuration of network `n`.
pub fn cni_plugin_config(t: &Topology, n: &Network) -> Value {
    let mut p = json!({ "type": "vlanmac-cni", "master": n.parent.as_str() });
    if let Some(id) = n.vlan {
        p["vlan"] = json!(id.get());
        if n.vlan_protocol == VlanProtocol::Ieee8021Ad {
            p["vlanProtocol"] = json!("802.1ad");
        }
    }
    match n.driver {
        Driver::Macvlan { mode, .. } => {
            p["mode"] = json!(mode.as_str());
            if n.subnet_v4().is_some() {
                // vlanmac's MAC policy: 02:42 + the IPv4 address, as Docker.
                p["macFromIP"] = json!(true);
            }
        }
        Driver::Ipvlan { mode, .. } => {
            p["driver"] = json!("ipvlan");
            p["ipvlanMode"] = json!(mode.as_str());
        }
    }
    if let Some(m) = n.mtu {
        p["mtu"] = json!(m.get());
    }
    let taken = taken(t, n);
    let ranges: Vec<Value> = n
        .subnets
        .iter()
        .map(|s| {
            let set: Vec<Value> = segments(s, &taken)
                .into_iter()
                .map(|(start, end)| {
                    let mut r = json!({ "subnet": s.subnet.net().trunc().to_string(), "rangeStart": start.to_string(), "rangeEnd": end.to_string() });
                    if let Some(g) = s.gateway() {
                        r["gateway"] = json!(g.to_string());
                    }
                    r
                })
                .collect();
            Value::Array(set)
        })
        .filter(|set| set.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    let routes: Vec<Value> = n
        .subnets
        .iter()
        .filter(|s| s.gateway().is_some())
        .map(|s| json!({ "dst": if s.subnet.is_ipv6() { "::/0" } else { "0.0.0.0/0" } }))
        .collect();
    let mut ipam = json!({ "type": "host-local", "ranges": ranges });
    if !routes.is_empty() {
        ipam["routes"] = Value::Array(routes);
    }
    p["ipam"] = ipam;
    p["capabilities"] = json!({ "ips": true, "mac": true });
    p
}

/// The conflist of network `n`.
fn conflist(t: &Topology, n: &Network) -> Value {
    json!({
        "cniVersion": CNI_VERSION,
        "cniVersions": CNI_VERSIONS,
        "name": n.name,
        "plugins": [cni_plugin_config(t, n)],
    })
}

/// One conflist per network, as (file name, JSON): `NETWORK.conflist`, for
/// podman's and containerd's configuration directories.
pub fn cni_conflists(t: &Topology) -> Vec<(String, String)> {
    t.networks
        .iter()
        .map(|n| {
            let text = serde_json::to_string_pretty(&conflist(t, n)).unwrap_or_default();
            (format!("{}.conflist", n.name), format!("{text}\n"))
        })
        .collect()
}

/// The conflists as one text: each preceded by `# file: NAME.conflist`.
pub fn cni(t: &Topology) -> String {
    let mut s = format!("# vlanmac render --format cni: topology {}\n", t.name);
    for (file, text) in cni_conflists(t) {
        s.push_str(&format!("\n# file: {file}\n{text}"));
    }
    s
}

/// A Kubernetes object name for `name`: lower case, `-` for anything else.
fn k8s_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// One Multus NetworkAttachmentDefinition per network (YAML documents).
pub fn multus(t: &Topology) -> String {
    let mut s = format!("# vlanmac render --format multus: topology {}\n", t.name);
    for n in &t.networks {
        let config = serde_json::to_string(&conflist(t, n)).unwrap_or_default();
        let doc = json!({
            "apiVersion": "k8s.cni.cncf.io/v1",
            "kind": "NetworkAttachmentDefinition",
            "metadata": { "name": k8s_name(&n.name), "labels": { "vlanmac.topology": k8s_name(&t.name) } },
            "spec": { "config": config },
        });
        s.push_str("---\n");
        s.push_str(&serde_yaml_ng::to_string(&doc).unwrap_or_default());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(net: &str, gw: Option<&str>, range: Option<&str>) -> NetSubnet {
        NetSubnet {
            subnet: vlanmac_core::spec::Subnet::parse(net, gw).unwrap(),
            ip_range: range.map(|r| r.parse().unwrap()),
            aux_addresses: vec![],
        }
    }

    #[test]
    fn segments_skip_what_is_taken() {
        let s = sub("10.0.10.0/24", Some("10.0.10.1"), None);
        let taken: Vec<IpAddr> =
            ["10.0.10.1", "10.0.10.2", "10.0.10.3", "10.0.10.100"].iter().map(|a| a.parse().unwrap()).collect();
        let got: Vec<String> = segments(&s, &taken).iter().map(|(a, b)| format!("{a}-{b}")).collect();
        assert_eq!(got, ["10.0.10.4-10.0.10.99", "10.0.10.101-10.0.10.254"]);
        let r = sub("10.0.10.0/24", Some("10.0.10.1"), Some("10.0.10.0/25"));
        let got: Vec<String> = segments(&r, &taken).iter().map(|(a, b)| format!("{a}-{b}")).collect();
        assert_eq!(got, ["10.0.10.4-10.0.10.99", "10.0.10.101-10.0.10.127"]);
        let v6 = sub("2001:db8::/64", Some("2001:db8::1"), None);
        let got = segments(&v6, &["2001:db8::1".parse().unwrap()]);
        assert_eq!(got[0].0.to_string(), "2001:db8::2");
        assert_eq!(got[0].1.to_string(), "2001:db8::ffff:ffff:ffff:ffff");
    }
}
