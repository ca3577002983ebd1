//! The Docker adapter against a real engine (Debian's docker.io, private
//! daemon in its own namespace).

use std::net::IpAddr;

use crate::{common::*, docker_common::*};
use vlanmac::{
    docker::{DirectAttach, DockerAdapter, DockerNetworkSpec, EndpointRequest, Error, NetworkOutcome},
    spec::AddressSpec,
    topology,
};

/// A one-network topology on `parent`, so the adapter gets a real
/// topology network (untagged on this kernel).
fn net_spec(name: &str, parent: &str, v4: &str, v6: Option<&str>, mode: &str) -> DockerNetworkSpec {
    let v6 = v6.map(|s| format!(", {{ subnet: \"{s}::/64\", gateway: \"{s}::1\" }}")).unwrap_or_default();
    let yaml = format!(
        "name: dk\nnetworks:\n  {name}: {{ parent: {parent}, mode: {mode}, subnets: [ {{ subnet: {v4}.0/24, gateway: {v4}.1 }}{v6} ] }}\n"
    );
    let t = topology::from_yaml(&yaml, "dk").unwrap();
    DockerNetworkSpec::from_network(&t.networks[0], "dk")
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[tokio::test]
async fn ensure_network_is_idempotent_and_never_recreates_silently() {
    let Some(env) = docker_env("ensure_network_is_idempotent_and_never_recreates_silently").await else {
        return;
    };
    let p = env.parent("en");
    let name = unique("net");
    let _g = NetGuard(&env, name.clone());
    let spec = net_spec(&name, &p.name, "10.101.0", Some("2001:db8:101"), "bridge");
    assert!(matches!(env.adapter.ensure_network(&spec).await.unwrap(), NetworkOutcome::Created(_)));
    assert!(matches!(env.adapter.ensure_network(&spec).await.unwrap(), NetworkOutcome::Unchanged(_)));
    // The engine's own view.
    let (ok, out, _) = env.cli(&["network", "inspect", &name]);
    assert!(ok);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j[0]["Driver"], "macvlan");
    assert_eq!(j[0]["Options"]["parent"], p.name.as_str());
    assert_eq!(j[0]["EnableIPv6"], true);
    assert_eq!(j[0]["Labels"]["org.vlanmac.topology"], "dk");
    let cfg = j[0]["IPAM"]["Config"].as_array().unwrap();
    assert!(cfg.iter().any(|c| c["Subnet"] == "10.101.0.0/24" && c["Gateway"] == "10.101.0.1"), "{cfg:?}");
    // Another configuration under the same name: a conflict that says what differs.
    let other = net_spec(&name, &p.name, "10.102.0", None, "private");
    let err = env.adapter.ensure_network(&other).await.unwrap_err();
    let Error::Conflict { differences, .. } = &err else { panic!("{err}") };
    let text = differences.join("; ");
    assert!(text.contains("option macvlan_mode: existing bridge, wanted private"), "{text}");
    assert!(text.contains("ipv6: existing true, wanted false"), "{text}");
    assert!(text.contains("subnets: existing"), "{text}");
    // Still the original network.
    let (_, out, _) = env.cli(&["network", "inspect", &name, "-f", "{{.Options.macvlan_mode}}"]);
    assert_eq!(out.trim(), "bridge");
    assert!(env.adapter.remove_network(&name, "dk").await.unwrap());
    assert!(!env.adapter.remove_network(&name, "dk").await.unwrap());
}

#[tokio::test]
async fn connect_with_static_addresses_inspect_disconnect_and_ping() {
    let Some(env) = docker_env("connect_with_static_addresses_inspect_disconnect_and_ping").await else {
        return;
    };
    let p = env.parent("cn");
    let (n1, n2) = (unique("n1"), unique("n2"));
    let _g1 = NetGuard(&env, n1.clone());
    let _g2 = NetGuard(&env, n2.clone());
    env.adapter.ensure_network(&net_spec(&n1, &p.name, "10.103.0", Some("2001:db8:103"), "bridge")).await.unwrap();
    let p2 = env.parent("cn2");
    env.adapter.ensure_network(&net_spec(&n2, &p2.name, "10.104.0", None, "bridge")).await.unwrap();
    let a = env.container("ca");
    let b = env.container("cb");
    // Like the seed's container1: on two networks with static addresses.
    let req = EndpointRequest { ipv4: ip("10.103.0.3"), ipv6: ip("2001:db8:103::3"), mac: None };
    assert!(env.adapter.connect(&n1, &a.name, &req).await.unwrap());
    assert!(!env.adapter.connect(&n1, &a.name, &req).await.unwrap(), "a second connect changed something");
    let req2 = EndpointRequest { ipv4: ip("10.104.0.3"), ..Default::default() };
    assert!(env.adapter.connect(&n2, &a.name, &req2).await.unwrap());
    env.adapter.connect(&n1, &b.name, &EndpointRequest { ipv4: ip("10.103.0.4"), ..Default::default() }).await.unwrap();

    let view = env.adapter.inspect(&a.name).await.unwrap();
    let e1 = &view.networks[&n1];
    assert_eq!(e1.ip_address.as_deref(), Some("10.103.0.3"));
    assert_eq!(e1.ip_prefix_len, Some(24));
    assert_eq!(e1.gateway.as_deref(), Some("10.103.0.1"));
    assert_eq!(e1.global_ipv6_address.as_deref(), Some("2001:db8:103::3"));
    assert_eq!(e1.ipv6_gateway.as_deref(), Some("2001:db8:103::1"));
    assert_eq!(e1.mac_address.as_deref(), Some("02:42:0a:67:00:03"));
    assert_eq!(view.networks[&n2].ip_address.as_deref(), Some("10.104.0.3"));
    assert!(!view.networks.contains_key("none"), "still on none: {view:?}");
    // Inside the container (busybox ip): both interfaces.
    let (_, addrs) = a.exec(&["ip", "addr"]);
    assert!(
        addrs.contains("10.103.0.3/24") && addrs.contains("10.104.0.3/24") && addrs.contains("2001:db8:103::3/64"),
        "{addrs}"
    );

    // Another address for an attached container: a conflict.
    let err = env
        .adapter
        .connect(&n1, &a.name, &EndpointRequest { ipv4: ip("10.103.0.9"), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");

    // Traffic: container to container, and to a namespace at the far end of the veth.
    let far = TestNs::new("far");
    run_ip(&["-n", &env.netns, "link", "set", &p.peer, "netns", far.name.as_str()]);
    far.ip(&["link", "set", &p.peer, "up"]);
    far.ip(&["addr", "add", "10.103.0.100/24", "dev", &p.peer]);
    let (ok, out) = a.exec(&["ping", "-c", "1", "-W", "3", "10.103.0.4"]);
    assert!(ok, "container to container: {out}");
    let (ok, out) = a.exec(&["ping", "-c", "1", "-W", "3", "10.103.0.100"]);
    assert!(ok, "container to the far namespace: {out}");

    assert!(env.adapter.disconnect(&n2, &a.name).await.unwrap());
    assert!(!env.adapter.disconnect(&n2, &a.name).await.unwrap());
    assert!(!env.adapter.inspect(&a.name).await.unwrap().networks.contains_key(&n2));
    drop((a, b));
}

#[tokio::test]
async fn direct_attachment_pipework_style() {
    let Some(env) = docker_env("direct_attachment_pipework_style").await else {
        return;
    };
    let c = env.container("dir");
    let host = TestNs::new("dirh");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["link", "set", "trunk0", "up"]);
    host.ip(&["link", "set", "trunk1", "up"]);
    host.ip(&["addr", "add", "10.105.0.1/24", "dev", "trunk1"]);
    let mut a = DirectAttach::new(n("trunk0"));
    a.parent_netns = host.as_ref();
    a.addresses = vec!["10.105.0.7/24".parse::<AddressSpec>().unwrap()];
    a.gateways = vec!["10.105.0.1".parse().unwrap()];
    let ifname = env.adapter.attach(&c.name, &a).await.unwrap();
    assert_eq!(ifname.as_str(), "eth0"); // the container had only lo
    let (_, addrs) = c.exec(&["ip", "addr", "show", "eth0"]);
    assert!(addrs.contains("10.105.0.7/24"), "{addrs}");
    let (_, routes) = c.exec(&["ip", "route"]);
    assert!(routes.contains("default via 10.105.0.1 dev eth0"), "{routes}");
    let (ok, out) = c.exec(&["ping", "-c", "1", "-W", "3", "10.105.0.1"]);
    assert!(ok, "{out}");
    // A second one becomes eth1.
    let mut b = DirectAttach::new(n("trunk0"));
    b.parent_netns = host.as_ref();
    assert_eq!(env.adapter.attach(&c.name, &b).await.unwrap().as_str(), "eth1");
    env.adapter.detach(&c.name, &ifname).await.unwrap();
    let (_, links) = c.exec(&["ip", "link"]);
    assert!(!links.contains("eth0:") && links.contains("eth1"), "{links}");
}

#[tokio::test]
async fn errors_are_typed_and_leave_nothing_behind() {
    let Some(env) = docker_env("errors_are_typed_and_leave_nothing_behind").await else {
        return;
    };
    // Daemon down (nothing listens there): the error names the socket.
    let err = DockerAdapter::open_at("unix:///run/vlanmac-no-such-docker.sock").await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("/run/vlanmac-no-such-docker.sock"), "{err}");
    // Unknown container.
    let err = env.adapter.inspect("vlanmac-no-such-container").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("vlanmac-no-such-container"), "{err}");

    let p = env.parent("er");
    let name = unique("er");
    let _g = NetGuard(&env, name.clone());
    env.adapter.ensure_network(&net_spec(&name, &p.name, "10.106.0", None, "bridge")).await.unwrap();
    // Overlapping subnets on another parent: the daemon's message comes through.
    let p2 = env.parent("er2");
    let other = unique("ov");
    let _g2 = NetGuard(&env, other.clone());
    let err = env.adapter.ensure_network(&net_spec(&other, &p2.name, "10.106.0", None, "bridge")).await.unwrap_err();
    assert!(matches!(err, Error::Docker { .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("overlap"), "{err}");
    // An address outside the subnet.
    let c = env.container("er");
    let err = env
        .adapter
        .connect(&name, &c.name, &EndpointRequest { ipv4: ip("10.199.0.5"), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSpec(_)), "{err}");
    assert!(err.to_string().contains("ipv4: 10.199.0.5 is outside the subnets of docker network"), "{err}");
    let after = env.adapter.inspect(&c.name).await.unwrap();
    assert!(!after.networks.contains_key(&name), "{after:?}");
    assert!(after.networks.contains_key("none"), "not back on none: {after:?}");
    // passthru on a parent another network uses.
    let pt = unique("pt");
    let _g3 = NetGuard(&env, pt.clone());
    let err = env.adapter.ensure_network(&net_spec(&pt, &p.name, "10.107.0", None, "passthru")).await;
    if err.is_ok() {
        // Docker 20.10 accepts the network itself; the kernel refuses the
        // second user of the parent when a container joins.
        let c2 = env.container("pt");
        let e = env.adapter.connect(&pt, &c2.name, &EndpointRequest::default()).await;
        let c3 = env.container("pt2");
        let e2 = env.adapter.connect(&name, &c3.name, &EndpointRequest::default()).await;
        assert!(e.is_err() || e2.is_err(), "passthru shared a parent");
        env.adapter.remove_network(&pt, "dk").await.unwrap();
    } else {
        assert!(matches!(err, Err(Error::Docker { .. })), "{err:?}");
    }
    env.adapter.remove_network(&name, "dk").await.unwrap();
    // Nothing of this test's is left (other tests add networks meanwhile:
    // only this test's own names are compared).
    for n in [&name, &other, &pt] {
        assert!(env.adapter.inspect_network(n).await.unwrap().is_none(), "network {n} left behind");
    }
}

/// ipvlan networks, `ip_range` and aux addresses, and a direct attachment
/// that creates its VLAN subinterface (needs ipvlan and 802.1Q: kernel VM).
#[tokio::test]
async fn ipvlan_network_ranges_and_direct_attachment_on_a_new_vlan() {
    if !require(Feature::Ipvlan, "ipvlan_network_ranges_and_direct_attachment_on_a_new_vlan").await
        || !require(Feature::Vlan8021q, "ipvlan_network_ranges_and_direct_attachment_on_a_new_vlan").await
    {
        return;
    }
    let Some(env) = docker_env("ipvlan_network_ranges_and_direct_attachment_on_a_new_vlan").await else { return };
    let p = env.parent("iv");
    let name = unique("iv");
    let _g = NetGuard(&env, name.clone());
    let yaml = format!(
        "name: dk\nnetworks:\n  {name}: {{ parent: {}, vlan: 40, driver: ipvlan, ipvlan_mode: l2, subnets: [ {{ subnet: 10.120.0.0/24, gateway: 10.120.0.1, ip_range: 10.120.0.128/25, aux_addresses: {{ printer: 10.120.0.130 }} }} ] }}\n",
        p.name
    );
    let t = topology::from_yaml(&yaml, "dk").unwrap();
    let spec = DockerNetworkSpec::from_network(&t.networks[0], "dk");
    assert!(matches!(env.adapter.ensure_network(&spec).await.unwrap(), NetworkOutcome::Created(_)));
    assert!(matches!(env.adapter.ensure_network(&spec).await.unwrap(), NetworkOutcome::Unchanged(_)));
    let (_, out, _) = env.cli(&["network", "inspect", &name]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j[0]["Driver"], "ipvlan");
    assert_eq!(j[0]["Options"]["parent"], format!("{}.40", p.name));
    assert_eq!(j[0]["Options"]["ipvlan_mode"], "l2");
    assert_eq!(j[0]["IPAM"]["Config"][0]["IPRange"], "10.120.0.128/25");
    assert_eq!(j[0]["IPAM"]["Config"][0]["AuxiliaryAddresses"]["printer"], "10.120.0.130");
    // Docker's IPAM hands out from the range, skipping the aux address.
    let c = env.container("iv");
    env.adapter.connect(&name, &c.name, &EndpointRequest::default()).await.unwrap();
    let got = env.adapter.inspect(&c.name).await.unwrap().networks[&name].ip_address.clone().unwrap();
    let last: u8 = got.rsplit('.').next().unwrap().parse().unwrap();
    assert!(last >= 128 && last != 130, "{got}");
    env.adapter.disconnect(&name, &c.name).await.unwrap();
    env.adapter.remove_network(&name, "dk").await.unwrap();

    // Direct attachment on VLAN 50 of a trunk in a test namespace: the VLAN
    // subinterface does not exist yet and is created.
    let host = TestNs::new("ivh");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["link", "set", "trunk0", "up"]);
    let mut a = DirectAttach::new(n("trunk0"));
    a.parent_netns = host.as_ref();
    a.vlan = Some(vlanmac::spec::VlanId::new(50).unwrap());
    a.addresses = vec!["10.121.0.5/24".parse::<AddressSpec>().unwrap()];
    let ifname = env.adapter.attach(&c.name, &a).await.unwrap();
    let j = host.link_json("trunk0.50");
    assert_eq!(j["linkinfo"]["info_data"]["id"], 50);
    assert_eq!(j["ifalias"], vlanmac::docker::ATTACH_MARK);
    let (_, addrs) = c.exec(&["ip", "addr", "show", ifname.as_str()]);
    assert!(addrs.contains("10.121.0.5/24"), "{addrs}");
    env.adapter.detach(&c.name, &ifname).await.unwrap();
}
