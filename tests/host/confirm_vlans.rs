//! Confirmed apply on 802.1Q VLANs (the kernel VM; skipped on a kernel
//! without 802.1Q, failing there under `VLANMAC_REQUIRE_KERNEL=1`): an
//! update moving a network from VLAN 10 to VLAN 30 with a lower MTU, rolled
//! back by `vlanmac rollback`, is VLAN 10 again exactly; a fresh apply onto
//! a router namespace vlanmac did not create, left unconfirmed, is rolled
//! back by its watchdog: the namespace stays, its sysctls (forwarding, the
//! ICMP limits) are what they were. Oracles: `ip -d -j link show` for the
//! VLAN ids, tests/host/confirm.rs's `state` (`ip -j` snapshots and the
//! sysctls read inside each namespace).

use std::time::Duration;

use crate::{
    common::*,
    confirm::{differences, state, Case},
    topo_common::*,
};
use vlanmac::topology::checkpoint::State;

/// tests/host/topo_common.rs's flat lab topology with its network on VLAN 10
/// and its router in the namespace `router`.
fn vlan_yaml(tag: &str, router: &str) -> String {
    let yaml = flat_yaml(tag);
    let p = format!("vt{}{tag}", std::process::id());
    yaml.replacen(&format!("router: {p}-rtr }}"), &format!("router: {router} }}"), 1).replacen(
        "    parent: eth0\n",
        "    parent: eth0\n    vlan: 10\n",
        1,
    )
}

/// The VLAN links in `ns` and their ids (`ip -d -j link show`).
fn vlan_ids(ns: &str) -> Vec<(String, u64)> {
    ip_json(Some(ns), &["-d", "link", "show"])
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["linkinfo"]["info_kind"] == "vlan")
        .map(|l| {
            (l["ifname"].as_str().unwrap_or("?").to_string(), l["linkinfo"]["info_data"]["id"].as_u64().unwrap_or(0))
        })
        .collect()
}

/// A sysctl read inside `ns` (`/proc/sys/net/...`, by `nsenter`).
fn sysctl(ns: &str, path: &str) -> String {
    let out = std::process::Command::new("nsenter")
        .arg(format!("--net=/run/netns/{ns}"))
        .args(["cat", &format!("/proc/sys/net/{path}")])
        .output()
        .expect("run nsenter");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn an_update_from_vlan_10_to_30_rolled_back_is_vlan_10_exactly() {
    let test = "confirm_vlans::an_update_from_vlan_10_to_30_rolled_back_is_vlan_10_exactly";
    if !require(Feature::Vlan8021q, test).await {
        return;
    }
    let rtr = TestNs::new("crv");
    let c = Case::of_yaml(&vlan_yaml("cq", rtr.name.as_str()));
    let host = format!("{}-host", c.name);
    let (code, out, err) = cli(&["apply", c.file()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(vlan_ids(&host), [("eth0.10".to_string(), 10)]);
    let v1 = state(&c.names);
    let v2 = write_temp(
        &format!("{}-v2.yaml", c.name),
        &c.yaml().replacen("    vlan: 10\n", "    vlan: 30\n    mtu: 1400\n", 1),
    );
    let (code, out, err) = cli(&["apply", v2.to_str().unwrap(), "--confirm", "300s"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(vlan_ids(&host), [("eth0.30".to_string(), 30)]);
    assert_eq!(vlan_ids(rtr.name.as_str()), [("eth0.30".to_string(), 30)]);
    let a = ip_json(Some(&format!("{}-a", c.name)), &["link", "show", "dev", "eth0"]);
    assert_eq!(a[0]["mtu"], 1400, "{a}");
    let (code, out, err) = cli(&["rollback", &c.name]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(matches!(c.state(), Some(State::RolledBack { failed, .. }) if failed.is_empty()), "{:?}", c.state());
    let now = state(&c.names);
    assert!(now == v1, "not back to v1: {}", differences(&v1, &now));
    assert_eq!(vlan_ids(&host), [("eth0.10".to_string(), 10)]);
    assert_eq!(vlan_ids(rtr.name.as_str()), [("eth0.10".to_string(), 10)]);
    let _ = std::fs::remove_file(v2);
}

#[tokio::test]
async fn unconfirmed_on_a_router_namespace_it_did_not_create_restores_its_sysctls() {
    let test = "confirm_vlans::unconfirmed_on_a_router_namespace_it_did_not_create_restores_its_sysctls";
    if !require(Feature::Vlan8021q, test).await {
        return;
    }
    let rtr = TestNs::new("crs");
    let r = rtr.name.as_str();
    let c = Case::of_yaml(&vlan_yaml("cs", r));
    let before = state(&c.names);
    assert_eq!(sysctl(r, "ipv4/conf/all/forwarding"), "0");
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "3s"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(vlan_ids(r), [("eth0.10".to_string(), 10)]);
    assert_eq!(sysctl(r, "ipv4/conf/all/forwarding"), "1");
    assert_eq!(sysctl(r, "ipv4/icmp_ratelimit"), "0");
    // The deadline is 3 s; emulation stretches the watchdog's own work.
    let took = c.wait("the rollback", Duration::from_secs(60), || matches!(c.state(), Some(State::RolledBack { .. })));
    assert!(matches!(c.state(), Some(State::RolledBack { failed, .. }) if failed.is_empty()), "{:?}", c.state());
    assert!(std::path::Path::new(&format!("/run/netns/{r}")).exists(), "the router namespace was removed");
    let now = state(&c.names);
    assert!(now == before, "not as before: {}", differences(&before, &now));
    assert_eq!(sysctl(r, "ipv4/conf/all/forwarding"), "0");
    assert!(vlan_ids(r).is_empty());
    println!("rolled back {took:?} after the apply returned (deadline 3 s)");
}
