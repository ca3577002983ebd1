//! `setup` and `teardown` on this machine's kernel (no VLAN: the container
//! goes on the parent itself, as with netavark's own macvlan driver),
//! checked with `ip -d -j`.

use serde_json::json;

use crate::{common::*, support::*};

#[test]
fn setup_puts_the_container_on_the_parent_as_netavarks_macvlan_does() {
    let host = Host::new("nvsetup");
    let pod = TestNs::new("nvpod");
    let mut net = network("lan", "10.88.0.0/16", json!({"mode": "private", "mtu": "1400"}));
    net["subnets"] =
        json!([{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}, {"subnet": "fd88::/64", "gateway": "fd88::1"}]);
    net["routes"] = json!([{"destination": "10.99.0.0/24", "gateway": "10.88.0.7", "metric": 5}]);
    let mut ex = exec("c1", &net, &["10.88.0.2", "fd88::2"]);
    ex["network_options"]["static_mac"] = json!("aa:bb:cc:dd:ee:01");

    let status = host.setup(&pod, &ex);
    let block = status.ok();
    assert_eq!(block["interfaces"]["eth0"]["mac_address"], "aa:bb:cc:dd:ee:01", "{block}");
    assert_eq!(
        block["interfaces"]["eth0"]["subnets"],
        json!([{"ipnet": "10.88.0.2/16", "gateway": "10.88.0.1"}, {"ipnet": "fd88::2/64", "gateway": "fd88::1"}])
    );
    assert_eq!(block["dns_server_ips"], json!([]));

    let l = pod.link_json("eth0");
    assert_eq!(l["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(l["linkinfo"]["info_data"]["mode"], "private");
    assert_eq!((l["mtu"].as_u64(), l["address"].as_str()), (Some(1400), Some("aa:bb:cc:dd:ee:01")));
    assert!(l["flags"].as_array().unwrap().iter().any(|f| f == "UP"), "{l}");
    let addrs = pod.addrs("eth0");
    assert!(addrs.contains(&"10.88.0.2/16".to_string()) && addrs.contains(&"fd88::2/64".to_string()), "{addrs:?}");
    let v4 = pod.ip_json(&["-4", "route", "show"]);
    let default = v4.as_array().unwrap().iter().find(|r| r["dst"] == "default").expect("a default route");
    assert_eq!((default["gateway"].as_str(), default["metric"].as_u64()), (Some("10.88.0.1"), Some(99)));
    assert!(v4.as_array().unwrap().iter().any(|r| r["dst"] == "10.99.0.0/24" && r["metric"] == 5), "{v4}");
    let v6 = pod.ip_json(&["-6", "route", "show", "default"]);
    assert_eq!(v6[0]["gateway"], "fd88::1", "{v6}");
    let autoconf = std::process::Command::new(ip_path())
        .args(["netns", "exec", pod.name.as_str(), "cat", "/proc/sys/net/ipv6/conf/eth0/autoconf"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&autoconf.stdout).trim(), "0", "IPv6 autoconf off, as netavark has it");
    assert_eq!(host.records().len(), 1);

    host.teardown(&pod, &ex).ok();
    assert_eq!(link_names(pod.name.as_str()), ["lo"]);
    assert_eq!(host.links(), ["lo", "trunk0"]);
    assert!(host.records().is_empty(), "{:?}", host.records());
    // Idempotent.
    host.teardown(&pod, &ex).ok();
    assert_eq!(link_names(pod.name.as_str()), ["lo"]);
}

#[test]
fn internal_and_no_default_route_leave_the_default_route_out() {
    let host = Host::new("nvnodef");
    for (internal, options) in [(true, json!({})), (false, json!({"no_default_route": "true", "metric": "7"}))] {
        let pod = TestNs::new("nvpodnd");
        let mut net = network("lan", "10.88.0.0/16", options);
        net["internal"] = json!(internal);
        let ex = exec("c1", &net, &["10.88.0.2"]);
        host.setup(&pod, &ex).ok();
        let routes = pod.ip_json(&["route", "show"]);
        assert!(!routes.as_array().unwrap().iter().any(|r| r["dst"] == "default"), "{routes}");
        host.teardown(&pod, &ex).ok();
    }
}

#[test]
fn a_bad_request_fails_naming_the_field_and_makes_nothing() {
    let host = Host::new("nvbad");
    let pod = TestNs::new("nvpodbad");
    pod.ip(&["link", "add", "net1", "type", "veth", "peer", "name", "x1"]);
    let net = network("lan", "10.88.0.0/16", json!({}));
    let mut cases = Vec::new();
    for (k, v, want) in [
        ("mode", "bogus", "mode: bogus"),
        ("vlan", "0", "vlan: 0"),
        ("frob", "1", "frob: is not an option"),
        ("parent", "trunk0", "parent: is an option of create only"),
    ] {
        let mut n = net.clone();
        n["options"] = json!({ k: v });
        cases.push((exec("c1", &n, &["10.88.0.2"]), want));
    }
    let mut e = exec("c1", &net, &["10.89.0.2"]);
    cases.push((e.clone(), "static_ips: not all static IPs matched a subnet"));
    e = exec("c1", &net, &["10.88.0.2"]);
    e["network_options"]["static_mac"] = json!("aa:bb");
    cases.push((e.clone(), "static_mac: aa:bb"));
    e = exec("c1", &net, &["10.88.0.2"]);
    e["network_options"]["interface_name"] = json!("eth0/x");
    cases.push((e.clone(), "interface_name: "));
    e = exec("c1", &net, &["10.88.0.2"]);
    e["network"]["network_interface"] = json!("nosuch0");
    cases.push((e.clone(), "network_interface: nosuch0 does not exist"));
    e = exec("c1", &net, &["10.88.0.2"]);
    e["network"]["routes"] = json!([{"destination": "10.5.0.0/16", "gateway": "10.88.0.9", "route_type": "blackhole"}]);
    cases.push((e.clone(), "routes[0].route_type: \"blackhole\""));
    // The container already has a net1 of its own.
    e = exec("c1", &net, &["10.88.0.2"]);
    e["network_options"]["interface_name"] = json!("net1");
    cases.push((e.clone(), "interface_name: net1 already exists"));
    for (ex, want) in &cases {
        let e = host.setup(&pod, ex).error();
        assert!(e.starts_with(want), "want {want:?}, got {e}");
        assert_eq!(link_names(pod.name.as_str()), ["lo", "net1", "x1"], "after {want}");
        assert_eq!(host.links(), ["lo", "trunk0"], "after {want}");
        assert!(host.records().is_empty(), "after {want}: {:?}", host.records());
    }
    // The container's own net1 is not the plugin's: teardown leaves it.
    host.teardown(&pod, &cases.last().unwrap().0).ok();
    assert_eq!(link_names(pod.name.as_str()), ["lo", "net1", "x1"]);
}
