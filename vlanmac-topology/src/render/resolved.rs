//! `vlanmac render --format json`: the resolved topology.

use std::{
    collections::{BTreeMap, HashSet},
    net::IpAddr,
};

use serde_json::{json, Value};

use crate::{ipam, EndpointNs, Topology};

/// The topology with everything vlanmac would fill in resolved, for
/// templating (Jinja, Helm): per network its link parent (`eth0.10`), driver
/// and gateways; per endpoint attachment its interface name, addresses with
/// prefix length (IPAM-filled), MAC and gateways. Addresses and MACs are
/// those IPAM gives on a host that holds none of the topology's addresses
/// (what a first `vlanmac apply` makes); a host already holding some of
/// them may get others, which `vlanmac plan --json` shows. On `docker: true`
/// networks Docker picks the MAC (`"mac": null`). Fails like `apply` when a
/// pool is too small, naming the attachment.
pub fn resolved(t: &Topology) -> Result<String, vlanmac_core::spec::SpecError> {
    let assigned = ipam::assign(t, &HashSet::new(), &BTreeMap::new())?;
    let networks: Vec<Value> = t
        .networks
        .iter()
        .map(|n| {
            let driver = serde_json::to_value(&n.driver).unwrap_or_default();
            json!({
                "name": n.name,
                "parent": n.parent,
                "vlan": n.vlan.map(|v| v.get()),
                "vlan_protocol": n.vlan.map(|_| n.vlan_protocol),
                "link": n.link_parent(),
                "driver": n.driver.kind(),
                "mode": driver["mode"],
                "ipvlan_flags": driver.get("flags"),
                "mtu": n.mtu.map(|m| m.get()),
                "docker": n.docker,
                "subnets": n.subnets.iter().map(|s| json!({"subnet": s.subnet.net(), "gateway": s.gateway()})).collect::<Vec<_>>(),
                "host_shim": n.host_shim.as_ref().map(|h| json!({"name": h.name, "addresses": super::shim_addresses(n, h)})),
            })
        })
        .collect();
    let endpoints: Vec<Value> = t
        .endpoints
        .iter()
        .map(|e| {
            let place = match &e.netns {
                EndpointNs::Netns(n) => json!({"netns": n}),
                EndpointNs::Pid(p) => json!({"pid": p}),
                EndpointNs::Container(c) => json!({"container": c}),
            };
            let interfaces: Vec<Value> = e
                .attach
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let n = t.network(&a.network);
                    let got = assigned.get(&(e.name.clone(), i));
                    let with_prefix = |ip: Option<IpAddr>| {
                        let ip = ip?;
                        let len = n.and_then(|n| n.subnet_of(ip)).map(|s| s.prefix_len())?;
                        Some(format!("{ip}/{len}"))
                    };
                    let gw = |v6: bool| {
                        n.and_then(|n| if v6 { n.subnet_v6() } else { n.subnet_v4() }).and_then(|s| s.gateway())
                    };
                    let docker = n.is_some_and(|n| n.docker);
                    json!({
                        "network": a.network,
                        "ifname": a.ifname,
                        "ipv4": with_prefix(got.and_then(|g| g.ipv4).map(IpAddr::V4)),
                        "ipv6": with_prefix(got.and_then(|g| g.ipv6).map(IpAddr::V6)),
                        "mac": if docker { None } else { got.map(|g| g.mac.to_string()) },
                        "gateway4": gw(false),
                        "gateway6": gw(true),
                    })
                })
                .collect();
            let mut v = json!({"name": e.name, "interfaces": interfaces});
            if let (Some(obj), Value::Object(p)) = (v.as_object_mut(), place) {
                obj.extend(p);
            }
            v
        })
        .collect();
    let doc = json!({
        "topology": t.name,
        "namespace": t.namespace,
        "lab": t.lab,
        "networks": networks,
        "endpoints": endpoints,
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default()))
}
