//! Validation of topology files: paths in messages, unknown keys, and each
//! cross-field check on its own.

use std::collections::{BTreeMap, HashSet};

use super::{from_json, from_yaml, ipam};
use vlanmac_core::Error;

const SEED: &str = include_str!("../../examples/seed.yaml");

fn err(yaml: &str) -> String {
    match from_yaml(yaml, "t") {
        Err(Error::InvalidSpec(e)) => e.to_string(),
        Err(other) => panic!("not an InvalidSpec: {other}"),
        Ok(_) => panic!("accepted:\n{yaml}"),
    }
}

/// The seed with one line replaced.
fn seed_with(from: &str, to: &str) -> String {
    assert!(SEED.contains(from), "{from}");
    SEED.replacen(from, to, 1)
}

#[test]
fn seed_parses() {
    let t = from_yaml(SEED, "x").unwrap();
    assert_eq!(t.name, "seed");
    assert_eq!(t.networks.len(), 2);
    assert_eq!(t.endpoints.len(), 3);
    let c1 = t.endpoints.iter().find(|e| e.name == "container1").unwrap();
    assert_eq!(c1.attach[1].ifname.as_str(), "eth1");
    assert_eq!(t.network("macvlan20").unwrap().link_parent().as_str(), "eth0.20");
}

#[test]
fn json_is_accepted_too() {
    let t = from_json(
        r#"{"networks": {"n": {"parent": "eth0", "subnets": [{"subnet": "10.1.0.0/24"}]}},
            "endpoints": {"e": {"attach": [{"network": "n"}]}}}"#,
        "j",
    )
    .unwrap();
    assert_eq!(t.name, "j");
}

#[test]
fn unknown_keys_are_named() {
    let e = err(&seed_with("    mode: bridge\n", "    mode: bridge\n    colour: red\n"));
    assert!(e.starts_with("networks.macvlan10: unknown field `colour`"), "{e}");
    let e = err(&seed_with("name: seed\n", "name: seed\nextra: 1\n"));
    assert!(e.contains("unknown field `extra`"), "{e}");
    let e = err(&seed_with("network: macvlan10, ipv4: 10.0.10.2,", "network: macvlan10, ipv: 10.0.10.2,"));
    assert!(e.starts_with("endpoints.container0.attach[0]: unknown field `ipv`"), "{e}");
}

#[test]
fn invalid_values_name_their_path() {
    assert_eq!(err(&seed_with("vlan: 10\n", "vlan: 4095\n")), "networks.macvlan10.vlan: 4095 is outside 1-4094");
    let e = err(&seed_with("vlan: 10\n", "vlan: ten\n"));
    assert!(e.starts_with("networks.macvlan10.vlan: invalid type"), "{e}");
    let e = err(&seed_with("mode: bridge", "mode: bridged"));
    assert!(e.starts_with("networks.macvlan10.mode: bridged is not one of"), "{e}");
    let e = err(&seed_with("parent: eth0\n    vlan: 10", "parent: eth0/x\n    vlan: 10"));
    assert!(e.starts_with("networks.macvlan10.parent: eth0/x contains"), "{e}");
    let e = err(&seed_with("10.0.10.0/24, gateway: 10.0.10.1", "10.0.10.0/33, gateway: 10.0.10.1"));
    assert!(e.starts_with("networks.macvlan10.subnets[0].subnet:") && e.contains("longer than 32"), "{e}");
    let e = err(&seed_with("gateway: 10.0.10.1", "gateway: 10.0.99.1"));
    assert!(e.starts_with("networks.macvlan10.subnets[0].gateway: 10.0.99.1 is outside"), "{e}");
    let e = err(&seed_with("gateway: \"2001:db8:babe:10::1\"", "gateway: 10.0.10.9"));
    assert!(e.contains("subnets[1].gateway: 10.0.10.9 is an IPv4 gateway on the IPv6 subnet"), "{e}");
    let e = err(&seed_with("ipv4: 10.0.10.2,", "ipv4: 10.0.10.2/24,"));
    assert!(e.starts_with("endpoints.container0.attach[0].ipv4: 10.0.10.2/24 is not an IPv4 address"), "{e}");
    let e = err(&seed_with("router: seed-router", "router: ../etc"));
    assert!(e.starts_with("lab.router: ../etc"), "{e}");
    let e = err(&seed_with("  container2:\n", "  a/b:\n"));
    assert!(e.starts_with("endpoints.a/b: a/b is not a valid namespace name"), "{e}");
    let e = err(&seed_with("name: seed", "name: \"a,b\""));
    assert!(e.starts_with("name: a,b must be"), "{e}");
}

#[test]
fn unknown_network() {
    let e = err(&seed_with("network: macvlan20, ipv4: 10.0.20.4", "network: macvlan30, ipv4: 10.0.20.4"));
    assert!(e.starts_with("endpoints.container2.attach[0].network: macvlan30 is not a network"), "{e}");
}

#[test]
fn duplicate_addresses() {
    let e = err(&seed_with("ipv4: 10.0.20.4", "ipv4: 10.0.20.3"));
    assert!(
        e.starts_with(
            "endpoints.container2.attach[0].ipv4: 10.0.20.3 is also used by endpoints.container1.attach[1].ipv4"
        ),
        "{e}"
    );
}

#[test]
fn address_outside_its_subnet() {
    let e = err(&seed_with("ipv4: 10.0.20.4", "ipv4: 10.0.10.9"));
    assert!(e.starts_with("endpoints.container2.attach[0].ipv4: 10.0.10.9 is outside the subnet 10.0.20.0/24"), "{e}");
    let e = err(&seed_with("ipv6: \"2001:db8:babe:20::4\"", "ipv6: \"2001:db8:babe:10::4\""));
    assert!(e.contains("is outside the subnet 2001:db8:babe:20::/64"), "{e}");
}

#[test]
fn address_equal_to_gateway_network_or_broadcast() {
    let e = err(&seed_with("ipv4: 10.0.20.4", "ipv4: 10.0.20.1"));
    assert!(e.contains("10.0.20.1 is the gateway of networks.macvlan20"), "{e}");
    let e = err(&seed_with("ipv4: 10.0.20.4", "ipv4: 10.0.20.0"));
    assert!(e.contains("10.0.20.0 is the network address of 10.0.20.0/24"), "{e}");
    let e = err(&seed_with("ipv4: 10.0.20.4", "ipv4: 10.0.20.255"));
    assert!(e.contains("10.0.20.255 is the broadcast address of 10.0.20.0/24"), "{e}");
    let e = err(&seed_with("gateway: 10.0.10.1", "gateway: 10.0.10.255"));
    assert!(e.contains("subnets[0].gateway: 10.0.10.255 is the broadcast address"), "{e}");
}

#[test]
fn overlapping_subnets_across_networks() {
    let e = err(&seed_with("subnet: 10.0.20.0/24, gateway: 10.0.20.1", "subnet: 10.0.0.0/16, gateway: 10.0.20.1"));
    assert!(e.contains("overlaps"), "{e}");
    assert!(e.contains("networks.macvlan10.subnets[0]") && e.contains("networks.macvlan20.subnets[0]"), "{e}");
}

#[test]
fn same_parent_and_vlan_with_different_protocols() {
    let yaml = r#"
networks:
  a: { parent: eth0, vlan: 10, subnets: [ { subnet: 10.1.0.0/24 } ] }
  b: { parent: eth0, vlan: 10, vlan_protocol: 802.1ad, subnets: [ { subnet: 10.2.0.0/24 } ] }
"#;
    let e = err(yaml);
    assert!(
        e.starts_with("networks.b.vlan_protocol: 802.1ad differs from 802.1Q declared by networks.a for eth0 VLAN 10"),
        "{e}"
    );
}

#[test]
fn passthru_on_a_shared_parent() {
    let yaml = r#"
networks:
  a: { parent: eth0, vlan: 10, mode: passthru, subnets: [ { subnet: 10.1.0.0/24 } ] }
  b: { parent: eth0, vlan: 10, subnets: [ { subnet: 10.2.0.0/24 } ] }
"#;
    let e = err(yaml);
    assert!(e.starts_with("networks.a.mode: passthru needs eth0.10 to itself, but networks.b also uses it"), "{e}");
}

#[test]
fn ipam_pool_too_small() {
    let yaml = r#"
networks:
  a: { parent: eth0, subnets: [ { subnet: 10.1.0.0/24, gateway: 10.1.0.1, ip_range: 10.1.0.0/30 } ] }
endpoints:
  e1: { attach: [ { network: a } ] }
  e2: { attach: [ { network: a } ] }
"#;
    // 10.1.0.0/30 holds .0 (network), .1 (gateway), .2, .3: two free.
    from_yaml(yaml, "t").unwrap();
    let three = format!("{yaml}  e3: {{ attach: [ {{ network: a }} ] }}\n");
    let e = err(&three);
    assert_eq!(
        e,
        "networks.a.subnets[0].ip_range: 10.1.0.0/30 has 2 free addresses for 3 endpoints without a static ipv4"
    );
}

#[test]
fn mac_collisions_are_an_error() {
    let e = err(&seed_with(
        "network: macvlan20, ipv4: 10.0.20.4, ipv6: \"2001:db8:babe:20::4\"",
        "network: macvlan20, ipv4: 10.0.20.4, ipv6: \"2001:db8:babe:20::4\", mac: \"02:42:0a:00:0a:02\"",
    ));
    assert!(e.contains("is also the MAC of endpoints.container0.attach[0]"), "{e}");
}

#[test]
fn ipam_fills_skips_and_sticks() {
    let yaml = r#"
networks:
  a:
    parent: eth0
    subnets:
      - { subnet: 10.1.0.0/24, gateway: 10.1.0.1, ip_range: 10.1.0.0/28, aux_addresses: { printer: 10.1.0.3 } }
      - { subnet: "2001:db8:1::/64", gateway: "2001:db8:1::1" }
endpoints:
  e1: { attach: [ { network: a } ] }
  e2: { attach: [ { network: a, ipv4: 10.1.0.2 } ] }
  e3: { attach: [ { network: a } ] }
  e4: { attach: [ { network: a } ] }
"#;
    let t = from_yaml(yaml, "t").unwrap();
    // 10.1.0.4 is already present in the kernel (someone else's).
    let present: HashSet<_> = ["10.1.0.4".parse().unwrap()].into();
    // e4's eth0 already holds 10.1.0.9 from an earlier apply: it keeps it.
    let mut current = BTreeMap::new();
    current.insert(("e4".to_string(), "eth0".to_string()), vec!["10.1.0.9".parse().unwrap()]);
    let a = ipam::assign(&t, &present, &current).unwrap();
    let v4 = |e: &str| a[&(e.to_string(), 0)].ipv4.unwrap().to_string();
    let v6 = |e: &str| a[&(e.to_string(), 0)].ipv6.unwrap().to_string();
    // .0 network, .1 gateway, .2 static (e2), .3 aux, .4 in the kernel.
    assert_eq!(v4("e1"), "10.1.0.5");
    assert_eq!(v4("e2"), "10.1.0.2");
    assert_eq!(v4("e3"), "10.1.0.6");
    assert_eq!(v4("e4"), "10.1.0.9");
    assert_eq!(v6("e1"), "2001:db8:1::2");
    assert_eq!(v6("e2"), "2001:db8:1::3");
    assert_eq!(v6("e3"), "2001:db8:1::4");
    // MAC policy: 02:42 + the IPv4 address.
    assert_eq!(a[&("e1".to_string(), 0)].mac.to_string(), "02:42:0a:01:00:05");
    // Stable, locally administered without IPv4.
    let m1 = ipam::default_mac("t", "e", "eth0", None);
    assert_eq!(m1, ipam::default_mac("t", "e", "eth0", None));
    assert_ne!(m1, ipam::default_mac("t", "e", "eth1", None));
    assert!(m1.is_locally_administered());
    // The same inputs give the same result (a second apply changes nothing).
    assert_eq!(a, ipam::assign(&t, &present, &current).unwrap());
}
