//! Golden tests: the seed topology renders exactly as `tests/golden/`
//! records (regenerate with `vlanmac render examples/seed.yaml --format F`
//! after a deliberate change), and the Cisco configs carry every statement
//! of the seed walkthrough's own configs.

use crate::topology::{from_yaml, Topology};

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

#[test]
fn cni_golden() {
    assert_eq!(super::cni(&seed()), include_str!("../../../tests/golden/seed.cni"));
}

#[test]
fn multus_golden() {
    assert_eq!(super::multus(&seed()), include_str!("../../../tests/golden/seed.multus"));
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
