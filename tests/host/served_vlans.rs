//! Served addresses on 802.1Q VLANs (the kernel VM): the seed with
//! container2 taking its IPv4 address by DHCP and its IPv6 address by
//! SLAAC on VLAN 20 from the lab's dnsmasq, and 50 DHCP endpoints over two
//! VLANs acquiring their leases in one apply.

use std::collections::BTreeSet;

use crate::{common::*, topo_common::*};
use vlanmac::topology::{self, lab_server::LabServer, Options};

const SEED: &str = include_str!("../../examples/seed.yaml");

fn dnsmasq_here(test: &str) -> bool {
    if crate::dnsmasq::dnsmasq_bin().is_some() {
        return true;
    }
    assert!(std::env::var("VLANMAC_REQUIRE_TOOLS").is_err(), "{test}: dnsmasq is not installed");
    record_skip(test, "dnsmasq (dnsmasq-base) is not installed");
    false
}

fn global(ns: &str, dev: &str) -> Vec<(String, bool)> {
    ip_json(Some(ns), &["addr", "show", "dev", dev])[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["scope"] == "global")
        .map(|a| (a["local"].as_str().unwrap_or("").to_string(), a["dynamic"].as_bool().unwrap_or(false)))
        .collect()
}

#[tokio::test]
async fn the_seed_with_container2_served_on_vlan_20() {
    let test = "served_vlans::the_seed_with_container2_served_on_vlan_20";
    if !require(Feature::Vlan8021q, test).await || !dnsmasq_here(test) {
        return;
    }
    let yaml = SEED
        .replacen("name: seed\n", "name: seedserved\n", 1)
        .replacen("  router: seed-router\n", "  router: seed-router\n  dhcp_lease_time: 120\n", 1)
        .replacen("    vlan: 20\n    mode: bridge\n", "    vlan: 20\n    mode: bridge\n    dhcp: true\n", 1)
        .replacen(
            r#"- { network: macvlan20, ipv4: 10.0.20.4, ipv6: "2001:db8:babe:20::4" }"#,
            "- { network: macvlan20, ipv4: dhcp, ipv6: slaac }",
            1,
        );
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let guard = TopoGuard(t.clone());
    let res = t.apply(&Options::default()).await.unwrap();
    let lease = res.leases.iter().find(|l| l.endpoint == "container2").expect("container2's lease").clone();
    let leased = lease.address.to_string();
    assert!(leased.starts_with("10.0.20.") && leased != "10.0.20.3" && leased != "10.0.20.1", "{leased}");
    let c2 = global("container2", "eth0");
    assert!(c2.contains(&(leased.clone(), true)), "{c2:?}");
    assert!(c2.iter().any(|(a, dynamic)| a.starts_with("2001:db8:babe:20:") && *dynamic), "{c2:?}");
    // The router's VLAN 20 subinterface is where the server answers.
    let conf = std::fs::read_to_string(format!("{}.conf", LabServer::of_name("seedserved").stem.display())).unwrap();
    assert!(conf.contains("interface=eth0.20") && !conf.contains("interface=eth0.10"), "{conf}");
    // verify: the lease against the server's own lease file, then every
    // ping and hop count of the seed, to container2's leased address too.
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    assert!(report.checks.iter().any(|c| c.to == "dhcp server lease" && c.ok), "{report}");
    assert!(
        report.checks.iter().any(|c| c.to.ends_with(&leased) && c.observed.contains("hop") && c.ok),
        "no hop count to {leased}\n{report}"
    );
    let down = t.down(&Options::default()).await.unwrap();
    assert!(down.removed.iter().any(|l| l.contains(&format!("dhcp lease {leased} of container2 eth0 (DHCPRELEASE"))));
    drop(guard);
    assert_eq!(snapshot(&names), before);
}

#[tokio::test]
async fn fifty_endpoints_over_two_vlans_lease_at_once() {
    let test = "served_vlans::fifty_endpoints_over_two_vlans_lease_at_once";
    if !require(Feature::Vlan8021q, test).await || !dnsmasq_here(test) {
        return;
    }
    let p = format!("f{}", std::process::id());
    let mut yaml = format!(
        "name: {p}\nnamespace: {p}-host\nlab: {{ trunk: eth0, router: {p}-rtr }}\nnetworks:\n\
         \x20 v30: {{ parent: eth0, vlan: 30, dhcp: true, subnets: [ {{ subnet: 10.30.0.0/24, gateway: 10.30.0.1 }} ] }}\n\
         \x20 v40: {{ parent: eth0, vlan: 40, dhcp: true, subnets: [ {{ subnet: 10.40.0.0/24, gateway: 10.40.0.1 }} ] }}\n\
         endpoints:\n"
    );
    for i in 0..50 {
        let net = if i % 2 == 0 { "v30" } else { "v40" };
        yaml.push_str(&format!("  {p}-e{i}: {{ attach: [ {{ network: {net} }} ] }}\n"));
    }
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let guard = TopoGuard(t.clone());
    let res = t.apply(&Options::default()).await.unwrap();
    assert_eq!(res.leases.len(), 50, "{res}");
    let distinct: BTreeSet<_> = res.leases.iter().map(|l| l.address).collect();
    assert_eq!(distinct.len(), 50, "addresses handed out twice");
    for (i, l) in res.leases.iter().enumerate() {
        let e = l.endpoint.trim_start_matches(&format!("{p}-e")).parse::<u32>().unwrap_or(u32::MAX);
        let want = if e % 2 == 0 { [10, 30, 0] } else { [10, 40, 0] };
        assert_eq!(l.address.octets()[..3], want, "lease {i}: {l:?}");
        // Independent read: the address is on the endpoint's interface.
        assert!(global(&l.endpoint, "eth0").iter().any(|(a, _)| *a == l.address.to_string()), "{l:?}");
    }
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    let server_checks = report.checks.iter().filter(|c| c.to == "dhcp server lease" && c.ok).count();
    assert_eq!(server_checks, 50, "{report}");
    t.down(&Options::default()).await.unwrap();
    drop(guard);
    assert_eq!(snapshot(&names), before);
}
