//! The seed walkthrough end to end (needs 802.1Q: runs in the kernel VM,
//! reports itself skipped on a kernel without it).

use crate::{common::*, topo_common::*};
use vlanmac::{
    topology::{self, Options},
    verify::{CheckKind, CheckPlan},
    Shared,
};

const SEED: &str = include_str!("../../examples/seed.yaml");

fn addrs_of(ns: &str, dev: &str) -> Vec<String> {
    let v = ip_json(Some(ns), &["addr", "show", "dev", dev]);
    let mut a: Vec<String> = v[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["scope"] == "global")
        .map(|x| format!("{}/{}", x["local"].as_str().unwrap_or(""), x["prefixlen"]))
        .collect();
    a.sort();
    a
}

#[tokio::test]
async fn seed_walkthrough_end_to_end() {
    if !require(Feature::Vlan8021q, "seed_walkthrough_end_to_end").await {
        return;
    }
    let t = topology::from_yaml(SEED, "seed").unwrap();
    let names = namespaces_of(&t);
    let host_links_before = ip_json(None, &["link", "show"]).as_array().unwrap().len();
    let before = snapshot(&names);
    let guard = TopoGuard(t.clone());
    let res = t.apply(&Options::default()).await.unwrap();
    assert!(res.changed);

    // The host: eth0.10 and eth0.20 are 802.1Q subinterfaces of eth0.
    for (dev, id) in [("eth0.10", 10), ("eth0.20", 20)] {
        let j = ip_json(Some("seed-host"), &["-d", "link", "show", "dev", dev]);
        assert_eq!(j[0]["linkinfo"]["info_data"]["protocol"], "802.1Q");
        assert_eq!(j[0]["linkinfo"]["info_data"]["id"], id);
        assert_eq!(j[0]["link"], "eth0");
    }
    // container1: eth0 on VLAN 10, eth1 on VLAN 20, as in the seed.
    assert_eq!(addrs_of("container1", "eth0"), vec!["10.0.10.3/24", "2001:db8:babe:10::3/64"]);
    assert_eq!(addrs_of("container1", "eth1"), vec!["10.0.20.3/24", "2001:db8:babe:20::3/64"]);
    let r4 = ip_json(Some("container1"), &["route", "show", "default"]);
    assert_eq!((r4[0]["gateway"].as_str(), r4[0]["dev"].as_str()), (Some("10.0.10.1"), Some("eth0")));
    let r6 = ip_json(Some("container1"), &["-6", "route", "show", "default"]);
    assert_eq!((r6[0]["gateway"].as_str(), r6[0]["dev"].as_str()), (Some("2001:db8:babe:10::1"), Some("eth0")));
    let routes = ip_json(Some("container1"), &["route", "show"]);
    assert!(routes.as_array().unwrap().iter().any(|r| r["dst"] == "10.0.20.0/24" && r["dev"] == "eth1"));
    assert!(
        ip_json(Some("container1"), &["-d", "link", "show", "dev", "eth1"])[0]["linkinfo"]["info_data"]["mode"]
            == "bridge"
    );

    // A second apply is a no-op with no netlink write.
    let counting = Shared::default();
    let again = t.apply(&Options { shared: counting.clone(), progress: None, ..Default::default() }).await.unwrap();
    assert!(!again.changed);
    assert_eq!(counting.stats.writes(), 0);

    // verify: every ping, the hop counts of the seed's traceroutes, the
    // router's ARP table.
    // The full mesh: every traceroute of the walkthrough.
    let report = t.verify(&Options { check_plan: CheckPlan::Mesh, ..Default::default() }).await.unwrap();
    assert!(report.passed(), "{report}");
    let hop = |from: &str, to: &str| {
        report
            .checks
            .iter()
            .find(|c| c.kind == CheckKind::Hops && c.from == from && c.to.ends_with(&format!(" {to}")))
            .map(|c| c.observed.clone())
            .unwrap_or_else(|| panic!("no hop check {from} -> {to}\n{report}"))
    };
    assert_eq!(hop("container0", "10.0.10.3"), "1 hop");
    assert_eq!(hop("container0", "10.0.20.3"), "2 hops via 10.0.10.1");
    assert_eq!(hop("container0", "10.0.20.4"), "2 hops via 10.0.10.1");
    let pings = report.checks.iter().filter(|c| c.kind == CheckKind::Ping).count();
    // 3 endpoints x (the others' addresses + 4 gateways): 10 + 8 + 10.
    assert!(pings == 28, "{pings} pings\n{report}");
    let neigh = ip_json(Some("seed-router"), &["neigh", "show"]);
    for (ip, mac, dev) in [
        ("10.0.10.2", "02:42:0a:00:0a:02", "eth0.10"),
        ("10.0.10.3", "02:42:0a:00:0a:03", "eth0.10"),
        ("10.0.20.3", "02:42:0a:00:14:03", "eth0.20"),
        ("10.0.20.4", "02:42:0a:00:14:04", "eth0.20"),
    ] {
        let e = neigh.as_array().unwrap().iter().find(|n| n["dst"] == ip).unwrap_or_else(|| panic!("no {ip}: {neigh}"));
        assert_eq!((e["lladdr"].as_str(), e["dev"].as_str()), (Some(mac), Some(dev)), "{e}");
    }

    // down: exactly as before.
    t.down(&Options::default()).await.unwrap();
    assert_eq!(snapshot(&names), before);
    assert_eq!(ip_json(None, &["link", "show"]).as_array().unwrap().len(), host_links_before);
    drop(guard);
}

/// Two topologies share a VLAN subinterface: it carries both marks and goes
/// only with its last user; a VLAN that existed before is never removed.
#[tokio::test]
async fn shared_vlan_goes_with_its_last_user() {
    if !require(Feature::Vlan8021q, "shared_vlan_goes_with_its_last_user").await {
        return;
    }
    let host = TestNs::new("shv");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["link", "set", "trunk0", "up"]);
    host.ip(&["link", "add", "link", "trunk0", "name", "trunk0.30", "type", "vlan", "id", "30"]);
    let mk = |p: &str, net: &str, ip: &str| {
        topo(&format!(
            r#"
name: {p}
namespace: {}
networks:
  v10: {{ parent: trunk0, vlan: 10, subnets: [ {{ subnet: 10.10.{net}.0/24 }} ] }}
  v30: {{ parent: trunk0, vlan: 30, subnets: [ {{ subnet: 10.30.{net}.0/24 }} ] }}
endpoints:
  {p}-e: {{ attach: [ {{ network: v10, ipv4: 10.10.{net}.{ip} }}, {{ network: v30, ipv4: 10.30.{net}.{ip} }} ] }}
"#,
            host.name
        ))
    };
    let pid = std::process::id();
    let a = mk(&format!("vt{pid}sa"), "1", "5");
    let b = topo(&format!(
        r#"
name: vt{pid}sb
namespace: {}
networks:
  v10: {{ parent: trunk0, vlan: 10, subnets: [ {{ subnet: 10.10.2.0/24 }} ] }}
endpoints:
  vt{pid}sb-e: {{ attach: [ {{ network: v10, ipv4: 10.10.2.5 }} ] }}
"#,
        host.name
    ));
    let _ga = TopoGuard(a.clone());
    let _gb = TopoGuard(b.clone());
    a.apply(&Options::default()).await.unwrap();
    b.apply(&Options::default()).await.unwrap();
    let alias = host.link_json("trunk0.10")["ifalias"].as_str().unwrap_or("").to_string();
    assert!(alias.contains(&a.name) && alias.contains(&b.name), "{alias}");
    assert!(host.link_json("trunk0.30").get("ifalias").is_none(), "a pre-existing VLAN got marked");
    a.down(&Options::default()).await.unwrap();
    assert!(host.has_link("trunk0.10"), "a VLAN still used by b was removed");
    assert!(host.has_link("trunk0.30"), "a pre-existing VLAN was removed");
    assert_eq!(host.link_json("trunk0.10")["ifalias"], format!("vlanmac:{}", b.name));
    assert!(b.plan(&Options::default()).await.unwrap().is_empty(), "b was disturbed");
    b.down(&Options::default()).await.unwrap();
    assert!(!host.has_link("trunk0.10"));
    assert!(host.has_link("trunk0.30") && host.has_link("trunk0"));
}

/// The seed topology (under unique names) with a failure injected at every
/// netlink write of its apply in turn: each time the error names the step,
/// every namespace involved is as before, and nothing half-made remains.
#[tokio::test]
async fn seed_rollback_after_a_failure_at_every_write() {
    if !require(Feature::Vlan8021q, "seed_rollback_after_a_failure_at_every_write").await {
        return;
    }
    let p = format!("vt{}sf", std::process::id() % 10000);
    let yaml = SEED
        .replace("name: seed\n", &format!("name: {p}\n"))
        .replace("namespace: seed-host", &format!("namespace: {p}-host"))
        .replace("router: seed-router", &format!("router: {p}-rtr"))
        .replace("  container0:", &format!("  {p}-c0:"))
        .replace("  container1:", &format!("  {p}-c1:"))
        .replace("  container2:", &format!("  {p}-c2:"));
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let total = assert_rollback_at_every_write(&t, &names, &before).await;
    assert!(total >= 20, "{total}");
    println!("seed fault injection: {total} faults injected, {total} rollbacks to the state before");
    t.apply(&Options::default()).await.unwrap();
    assert!(t.plan(&Options::default()).await.unwrap().is_empty());
    t.down(&Options::default()).await.unwrap();
}
