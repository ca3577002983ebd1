//! Golden tests: the seed topology renders exactly as `tests/golden/`
//! records (regenerate with `vlanmac render examples/seed.yaml --format F`
//! after a deliberate change), and the Cisco configs carry every statement
//! of the seed walkthrough's own configs.

use crate::{from_yaml, Topology};

fn seed() -> Topology {
    from_yaml(include_str!("../../../examples/seed.yaml"), "seed").unwrap()
}

#[test]
fn cisco_router_golden() {
    assert_eq!(super::cisco_router(&seed()), include_str!("../../../tests/golden/seed.cisco-router"));
}

#[test]
fn cisco_switch_golden() {
    assert_eq!(super::cisco_switch(&seed()), include_str!("../../../tests/golden/seed.cisco-switch"));
}

#[test]
fn dot_golden() {
    assert_eq!(super::dot(&seed()), include_str!("../../../tests/golden/seed.dot"));
}

#[test]
fn systemd_networkd_golden() {
    assert_eq!(super::systemd_networkd(&seed()), include_str!("../../../tests/golden/seed.systemd-networkd"));
}

fn hosts() -> Topology {
    from_yaml(include_str!("../../../tests/golden/hosts.yaml"), "hosts").unwrap()
}

#[test]
fn host_side_renderings_golden() {
    let (seed, hosts) = (seed(), hosts());
    assert_eq!(super::netplan(&seed), include_str!("../../../tests/golden/seed.netplan"));
    assert_eq!(super::netplan(&hosts), include_str!("../../../tests/golden/hosts.netplan"));
    assert_eq!(super::networkmanager(&seed), include_str!("../../../tests/golden/seed.networkmanager"));
    assert_eq!(super::networkmanager(&hosts), include_str!("../../../tests/golden/hosts.networkmanager"));
    assert_eq!(super::systemd_networkd(&hosts), include_str!("../../../tests/golden/hosts.systemd-networkd"));
    assert_eq!(super::resolved(&seed).unwrap(), include_str!("../../../tests/golden/seed.json"));
    assert_eq!(super::resolved(&hosts).unwrap(), include_str!("../../../tests/golden/hosts.json"));
}

/// `files` splits a multi-file rendering at its `# file:` lines.
#[test]
fn files_split_at_file_lines() {
    let files = super::files(&super::networkmanager(&hosts()));
    let names: Vec<&str> = files.iter().map(|(p, _)| p.rsplit('/').next().unwrap_or_default()).collect();
    assert_eq!(
        names,
        [
            "vlanmac-hosts-eth1.40.nmconnection",
            "vlanmac-hosts-eth1.30.nmconnection",
            "vlanmac-hosts-shim30.nmconnection"
        ]
    );
    assert!(files.iter().all(|(_, t)| t.starts_with("[connection]\n") && t.ends_with("\n") && !t.ends_with("\n\n")));
    assert!(super::files("no files here\n").is_empty());
}

/// IPAM fills the addresses the file leaves out, in the resolved JSON.
#[test]
fn resolved_fills_ipam_addresses() {
    let j: serde_json::Value = serde_json::from_str(&super::resolved(&hosts()).unwrap()).unwrap();
    let desk = &j["endpoints"][0]["interfaces"];
    assert_eq!(desk[0]["ipv4"], "10.30.0.2/24");
    assert_eq!(desk[0]["ipv6"], "2001:db8:30::2/64");
    assert_eq!(desk[1]["ipv4"], "10.40.0.9/24");
    assert_eq!(desk[1]["ipv6"], serde_json::Value::Null);
}

#[test]
fn cni_golden() {
    assert_eq!(super::cni(&seed()), include_str!("../../../tests/golden/seed.cni"));
}

#[test]
fn multus_golden() {
    assert_eq!(super::multus(&seed()), include_str!("../../../tests/golden/seed.multus"));
}

#[test]
fn podman_golden() {
    assert_eq!(super::podman(&seed()), include_str!("../../../tests/golden/seed.podman"));
}

/// The seed's CNI configuration for VLAN 10: the trunk, the VLAN, and
/// host-local pools that skip the gateway and the seed's static addresses
/// (container0 .2, container1 .3).
#[test]
fn cni_pools_skip_the_topologys_addresses() {
    let t = seed();
    let n = t.network("macvlan10").unwrap();
    let c = super::cni_plugin_config(&t, n);
    assert_eq!((c["master"].as_str(), c["vlan"].as_u64()), (Some("eth0"), Some(10)));
    assert_eq!(c["ipam"]["ranges"][0][0]["rangeStart"], "10.0.10.4");
    assert_eq!(c["ipam"]["ranges"][0][0]["rangeEnd"], "10.0.10.254");
    assert_eq!(c["ipam"]["ranges"][1][0]["rangeStart"], "2001:db8:babe:10::4");
    assert_eq!(c["macFromIP"], true);
}

/// The seed's router config, statement by statement (prompts dropped,
/// `fastEthernet 0/0` as IOS writes it in `show run`).
#[test]
fn router_says_what_the_seed_says() {
    let out = super::cisco_router(&seed());
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    for want in [
        "interface FastEthernet0/0",
        "no shutdown",
        "interface FastEthernet0/0.10",
        "encapsulation dot1Q 10",
        "ip address 10.0.10.1 255.255.255.0",
        "ipv6 address 2001:db8:babe:10::1/64",
        "interface FastEthernet0/0.20",
        "encapsulation dot1Q 20",
        "ip address 10.0.20.1 255.255.255.0",
        "ipv6 address 2001:db8:babe:20::1/64",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn switch_says_what_the_seed_says() {
    let out = super::cisco_switch(&seed());
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    for want in [
        "vlan 10",
        "vlan 20",
        "interface FastEthernet0/0",
        "switchport mode trunk",
        "switchport trunk native vlan 1",
        "interface Vlan10",
        "ip address 10.0.10.1 255.255.255.0",
        "ipv6 address 2001:db8:babe:10::1/64",
        "interface Vlan20",
        "ip address 10.0.20.1 255.255.255.0",
        "ipv6 address 2001:db8:babe:20::1/64",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn networkd_has_the_vlan_netdevs() {
    let out = super::systemd_networkd(&seed());
    for want in ["VLAN=eth0.10", "VLAN=eth0.20", "Kind=vlan", "Id=10", "Id=20", "Name=eth0.10"] {
        assert!(out.lines().any(|l| l == want), "missing {want:?}");
    }
}

#[test]
fn netmasks() {
    assert_eq!(super::netmask(24), "255.255.255.0");
    assert_eq!(super::netmask(0), "0.0.0.0");
    assert_eq!(super::netmask(32), "255.255.255.255");
    assert_eq!(super::netmask(20), "255.255.240.0");
}

/// The SVG diagram: one box per network and endpoint, every name drawn.
#[test]
fn svg_draws_every_part() {
    let svg = super::svg(&seed()).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..100.min(svg.len())]);
    for name in ["seed-router", "macvlan10", "macvlan20", "container0", "container1", "container2", "eth0.10"] {
        assert!(svg.contains(name), "{name} missing");
    }
}
