//! `create`: what `podman network create -d vlanmac` hands the plugin,
//! validated (each bad option named, nothing else said) and completed.

use serde_json::{json, Value};

use crate::support::*;

fn created(options: Value) -> Value {
    let mut net = network("n1", "192.168.10.0/24", options);
    net.as_object_mut().unwrap().remove("network_interface");
    net
}

#[test]
fn bad_options_and_parents_are_refused_by_name() {
    let host = Host::new("nvcreate");
    host.ns.ip(&["link", "add", "link", "trunk0", "name", "mv0", "type", "macvlan", "mode", "bridge"]);
    host.ns.ip(&["link", "add", "longparent12", "type", "veth", "peer", "name", "lp1"]);
    for (options, want) in [
        (json!({"parent": "trunk0", "vlan": "5000"}), "vlan: 5000 is outside 1-4094"),
        (json!({"parent": "trunk0", "vlan": "ten"}), "vlan: \"ten\" is not a number"),
        (json!({"parent": "trunk0", "mode": "bogus"}), "mode: bogus is not one of"),
        (json!({"vlan": "10"}), "parent: is required with vlan"),
        (json!({"parent": "mv0", "vlan": "10"}), "network_interface: mv0 is itself a macvlan"),
        (json!({"parent": "trunk0", "mtu": "9000"}), "mtu: 9000 is above the parent trunk0's mtu 1500"),
        (json!({"parent": "nosuch0", "vlan": "10"}), "network_interface: nosuch0 does not exist on the host"),
        (json!({"parent": "longparent12", "vlan": "1000"}), "vlan: longparent12.1000 is longer than 15 bytes"),
        (json!({"parent": "trunk0", "driver": "bridge"}), "driver: \"bridge\" is not one of macvlan, ipvlan"),
        (json!({"parent": "trunk0", "driver": "ipvlan", "ipvlan_mode": "l4"}), "ipvlan_mode: l4"),
        (json!({"parent": "trunk0", "vlan": "10", "vlan_protocol": "802.1x"}), "vlan_protocol: 802.1x"),
        (json!({"parent": "trunk0", "isolate": "true"}), "isolate: is not an option of the vlanmac driver"),
        (json!({"parent": "trunk0", "no_default_route": "maybe"}), "no_default_route: \"maybe\""),
    ] {
        let out = host.plugin(&["create"], &created(options.clone()));
        let e = out.error();
        assert!(e.starts_with(want), "{options}: {e}");
    }
    // The subnets and the IPAM driver, named too.
    let mut net = created(json!({"parent": "trunk0", "vlan": "10"}));
    net["subnets"] = json!([{"subnet": "10.1.2.0/23"}, {"subnet": "10.1.3.248/30"}]);
    assert!(host.plugin(&["create"], &net).error().contains("overlapping subnets"));
    net["subnets"] = json!([{"subnet": "10.1.2.0/24", "gateway": "10.1.3.1"}]);
    assert!(host.plugin(&["create"], &net).error().starts_with("subnets[0].gateway: 10.1.3.1"));
    net["subnets"] = json!([{"subnet": "10.1.2.0/24"}]);
    net["ipv6_enabled"] = json!(true);
    assert!(host.plugin(&["create"], &net).error().starts_with("ipv6_enabled: --ipv6 needs an IPv6 --subnet"));
    net["ipv6_enabled"] = json!(false);
    net["ipam_options"] = json!({"driver": "dhcp"});
    assert!(host.plugin(&["create"], &net).error().starts_with("ipam_options.driver: dhcp"));
    // Nothing was made by any of it.
    assert_eq!(host.links(), ["lo", "longparent12", "lp1", "mv0", "trunk0"]);
}

#[test]
fn create_completes_the_network_and_changes_nothing_else() {
    let host = Host::new("nvcreate2");
    let mut net = created(json!({"parent": "trunk0", "vlan": "10", "mode": "private"}));
    net["subnets"] = json!([{"subnet": "192.168.10.0/24", "gateway": "192.168.10.1", "lease_range": {"start_ip": "192.168.10.10"}},
                            {"subnet": "fd10::/64", "gateway": "fd10::1"}]);
    net["labels"] = json!({"team": "net"});
    net["created"] = json!("2026-12-05T09:00:00Z");
    net.as_object_mut().unwrap().remove("ipam_options");
    let out = host.plugin(&["create"], &net);
    let got = out.ok();
    assert_eq!(got["network_interface"], "trunk0", "parent becomes network_interface: {got}");
    assert_eq!(got["options"], json!({"vlan": "10", "mode": "private"}));
    assert_eq!(got["ipam_options"], json!({"driver": "host-local"}));
    assert_eq!(got["ipv6_enabled"], true, "an IPv6 subnet: {got}");
    for k in ["name", "id", "driver", "labels", "created", "subnets"] {
        assert_eq!(got[k], net[k], "{k} kept as it came");
    }
    // No subnets: no addresses to assign.
    let mut bare = created(json!({"parent": "trunk0"}));
    bare.as_object_mut().unwrap().remove("subnets");
    bare.as_object_mut().unwrap().remove("ipam_options");
    assert_eq!(host.plugin(&["create"], &bare).ok()["ipam_options"], json!({"driver": "none"}));
    // info
    let child = host.command(PLUGIN, &["info"], &[]).spawn().unwrap();
    let info = finish(child, b"", DEADLINE);
    assert_eq!(info.ok()["api_version"], "1.0.0");
    // Bad command lines and input.
    assert!(host.plugin(&["frobnicate"], &json!({})).error().starts_with("usage: vlanmac create"));
    let child = host.command(PLUGIN, &["create"], &[]).spawn().unwrap();
    assert!(finish(child, b"{not json", DEADLINE).error().starts_with("stdin is not a network"));
}

/// What `podman network create` makes of its command line for a plugin
/// driver: `-o` into `options`, `--subnet`/`--gateway` pairs, `--ipv6`,
/// `--interface-name` into `network_interface`, the name last.
fn podman_network(args: &[&str]) -> Value {
    let mut net = json!({"name": "", "id": "f".repeat(64), "driver": "", "ipv6_enabled": false, "internal": false,
                         "dns_enabled": false, "subnets": [], "options": {}});
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-d" => net["driver"] = json!(args[i + 1]),
            "-o" => {
                let (k, v) = args[i + 1].split_once('=').unwrap();
                net["options"][k] = json!(v);
            }
            "--subnet" => net["subnets"].as_array_mut().unwrap().push(json!({"subnet": args[i + 1]})),
            "--gateway" => {
                let last = net["subnets"].as_array_mut().unwrap().last_mut().unwrap();
                last["gateway"] = json!(args[i + 1]);
            }
            "--ipv6" => {
                net["ipv6_enabled"] = json!(true);
                i += 1;
                continue;
            }
            name => {
                net["name"] = json!(name);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    net
}

#[test]
fn the_podman_rendering_of_the_seed_is_accepted_by_create() {
    let host = Host::new("nvrender");
    // The seed's parent is eth0: a veth of that name in this test's host
    // namespace (never the machine's own).
    host.ns.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.yaml");
    let t = vlanmac::topology::Topology::from_path(&seed).unwrap();
    let script = vlanmac::render::render(&t, vlanmac::render::Format::Podman).unwrap();
    let commands: Vec<String> = script
        .replace("\\\n    ", "")
        .lines()
        .filter(|l| l.starts_with("podman network create"))
        .map(str::to_string)
        .collect();
    assert_eq!(commands.len(), 2, "{script}");
    for c in &commands {
        let words: Vec<&str> = c.split_whitespace().skip(3).collect();
        let net = podman_network(&words);
        let out = host.plugin(&["create"], &net);
        let got = out.ok();
        assert_eq!(got["network_interface"], "eth0", "{c}: {got}");
        assert_eq!(got["ipam_options"]["driver"], "host-local");
        assert_eq!(got["ipv6_enabled"], true);
        assert!(got["options"]["vlan"].is_string(), "{got}");
    }
}
