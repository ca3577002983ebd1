//! Side by side with the reference macvlan plugin, on the same master with
//! the same IPAM (host-local, static): the same result shape and the same
//! state in the pod (kind, mode, MTU, addresses, routes; names and MACs
//! aside). CHECK and DEL as the spec asks.

use serde_json::{json, Value};

use crate::{common::*, support::*};

/// `conf` for the reference macvlan plugin: the same, with its type.
fn as_reference(conf: &Value, name: &str) -> Value {
    let mut r = conf.clone();
    r["type"] = json!("macvlan");
    r["name"] = json!(name);
    r
}

fn with_prev(conf: &Value, prev: &Value) -> Value {
    let mut c = conf.clone();
    c["prevResult"] = prev.clone();
    c
}

#[test]
fn side_by_side_with_the_reference_macvlan_plugin() {
    if !reference_or_skip("side_by_side_with_the_reference_macvlan_plugin") {
        return;
    }
    let rt = Rt::new("ref");
    let ipams = [
        ("host-local", None),
        (
            "static",
            Some(json!({ "type": "static", "addresses": [
                { "address": "10.57.0.5/24", "gateway": "10.57.0.1" },
                { "address": "2001:db8:57::5/64", "gateway": "2001:db8:57::1" }],
                "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "::/0" }] })),
        ),
    ];
    let mut compared = 0;
    for (ipam_name, ipam) in ipams {
        for version in ["0.4.0", "1.0.0"] {
            let ours_pod = TestNs::new("po");
            let ref_pod = TestNs::new("pr");
            let mut conf = rt.conf(
                &format!("ours-{ipam_name}-{}", version.replace('.', "")),
                "10.56.0.0/24",
                json!({ "cniVersion": version, "mtu": 1400 }),
            );
            if let Some(i) = &ipam {
                conf["ipam"] = i.clone();
            }
            let reference = as_reference(&conf, &format!("ref-{ipam_name}-{}", version.replace('.', "")));
            let ours = rt.exec(PLUGIN, "ADD", &conf, "c-ours", Some(ours_pod.name.as_str()), "net1").ok().clone();
            let theirs = rt
                .exec(
                    &format!("{REFERENCE_DIR}/macvlan"),
                    "ADD",
                    &reference,
                    "c-ref",
                    Some(ref_pod.name.as_str()),
                    "net1",
                )
                .ok()
                .clone();
            let what = format!("{ipam_name} at {version}");
            assert_eq!(shape(&ours), shape(&theirs), "{what}: result shapes differ\nours {ours}\nreference {theirs}");
            assert_eq!(ours["cniVersion"], version, "{what}");
            assert_eq!(ours["ips"], theirs["ips"], "{what}: the same IPAM gives the same addresses");
            assert_eq!(ours["routes"], theirs["routes"], "{what}");
            let (a, b) = (pod_state(ours_pod.name.as_str(), "net1"), pod_state(ref_pod.name.as_str(), "net1"));
            assert_eq!(a, b, "{what}: pod state differs");
            assert_eq!(a["mtu"], 1400, "{what}: {a}");
            // CHECK of both against their own results.
            rt.exec(PLUGIN, "CHECK", &with_prev(&conf, &ours), "c-ours", Some(ours_pod.name.as_str()), "net1").ok();
            rt.exec(
                &format!("{REFERENCE_DIR}/macvlan"),
                "CHECK",
                &with_prev(&reference, &theirs),
                "c-ref",
                Some(ref_pod.name.as_str()),
                "net1",
            )
            .ok();
            rt.exec(PLUGIN, "DEL", &with_prev(&conf, &ours), "c-ours", Some(ours_pod.name.as_str()), "net1").ok();
            rt.exec(
                &format!("{REFERENCE_DIR}/macvlan"),
                "DEL",
                &with_prev(&reference, &theirs),
                "c-ref",
                Some(ref_pod.name.as_str()),
                "net1",
            )
            .ok();
            assert_eq!(link_names(ours_pod.name.as_str()), ["lo"], "{what}");
            assert!(rt.leases(conf["name"].as_str().unwrap()).is_empty(), "{what}: lease left");
            compared += 1;
        }
    }
    assert_eq!(rt.state_files(), Vec::<String>::new());
    assert_eq!(rt.links(), ["lo", "trunk0"]);
    println!("cni: {compared} side-by-side comparisons with the reference macvlan plugin");
}

#[test]
fn check_says_what_differs() {
    if !reference_or_skip("check_says_what_differs") {
        return;
    }
    let rt = Rt::new("chk");
    let pod = TestNs::new("pc");
    let conf = rt.conf("chk", "10.58.0.0/24", json!({}));
    let res = rt.exec(PLUGIN, "ADD", &conf, "c1", Some(pod.name.as_str()), "net1").ok().clone();
    let check = |conf: &Value| rt.exec(PLUGIN, "CHECK", &with_prev(conf, &res), "c1", Some(pod.name.as_str()), "net1");
    check(&conf).ok();
    let no_prev = rt.exec(PLUGIN, "CHECK", &conf, "c1", Some(pod.name.as_str()), "net1");
    assert!(no_prev.msg().starts_with("prevResult: is required"), "{}", no_prev.text);
    let private = rt.conf("chk", "10.58.0.0/24", json!({ "mode": "private" }));
    assert!(check(&private).msg().contains("is a macvlan"), "mode mismatch not found");
    let addr = res["ips"][0]["address"].as_str().unwrap();
    pod.ip(&["addr", "del", addr, "dev", "net1"]);
    let e = check(&conf);
    assert!(e.msg().contains(&format!("lacks address {addr}")), "{}", e.text);
    pod.ip(&["link", "del", "net1"]);
    assert!(check(&conf).msg().contains("net1 is missing"));
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
}

#[test]
fn del_is_idempotent_and_needs_no_namespace() {
    if !reference_or_skip("del_is_idempotent_and_needs_no_namespace") {
        return;
    }
    let rt = Rt::new("del");
    let conf = rt.conf("idem", "10.59.0.0/24", json!({}));
    // Before any ADD, without a namespace, with one that does not exist.
    rt.exec(PLUGIN, "DEL", &conf, "c0", None, "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, "c0", Some("no-such-ns-here"), "net1").ok();
    let pod = TestNs::new("pd");
    rt.exec(PLUGIN, "ADD", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
    assert_eq!(rt.records().len(), 1);
    assert_eq!(rt.leases("idem").len(), 1);
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
    // The namespace gone before DEL (the pod was killed): the lease and the
    // record still go.
    let pod2 = TestNs::new("pe");
    rt.exec(PLUGIN, "ADD", &conf, "c2", Some(pod2.name.as_str()), "net1").ok();
    let gone = pod2.name.to_string();
    drop(pod2);
    rt.exec(PLUGIN, "DEL", &conf, "c2", Some(&gone), "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, "c2", None, "net1").ok();
    assert!(
        rt.leases("idem").is_empty() && rt.state_files().is_empty(),
        "{:?} {:?}",
        rt.leases("idem"),
        rt.state_files()
    );
}

/// A 1.1.0 configuration with an IPAM plugin that speaks up to 1.0.0
/// (Debian's host-local): the IPAM plugin is given the configuration at
/// 1.0.0, and the result comes back at 1.1.0 (with the interface's MTU).
#[test]
fn a_newer_configuration_works_with_an_older_ipam_plugin() {
    if !reference_or_skip("a_newer_configuration_works_with_an_older_ipam_plugin") {
        return;
    }
    let rt = Rt::new("ver");
    let pod = TestNs::new("pv");
    let conf = rt.conf("ver", "10.62.0.0/24", json!({ "cniVersion": "1.1.0" }));
    let res = rt.exec(PLUGIN, "ADD", &conf, "c1", Some(pod.name.as_str()), "net1").ok().clone();
    assert_eq!(res["cniVersion"], "1.1.0");
    assert_eq!(res["interfaces"][0]["mtu"], 1500, "{res}");
    assert_eq!(res["ips"][0]["address"], "10.62.0.2/24");
    rt.exec(PLUGIN, "CHECK", &with_prev(&conf, &res), "c1", Some(pod.name.as_str()), "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
    assert!(rt.leases("ver").is_empty() && rt.state_files().is_empty());
}
