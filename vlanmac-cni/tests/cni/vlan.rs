//! The VLAN side (802.1Q: runs in the kernel VM, skipped on a kernel
//! without it): made on demand, shared by pods, gone with its last user,
//! never when vlanmac did not make it; shared with topologies through the
//! marks; 16 ADDs at once and DELs racing ADDs; GC; faults; 802.1ad and
//! ipvlan; the conflists `vlanmac render --format cni` writes.

use serde_json::{json, Value};

use crate::{common::*, faults::add_fails_cleanly_at_every_write, support::*};

fn has_8021q(test: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(require(Feature::Vlan8021q, test)) && have_reference()
}

/// `ip -d -j link show dev NAME` in the runtime namespace, if it exists.
fn vlan_link(rt: &Rt, name: &str) -> Option<Value> {
    rt.links().iter().any(|l| l == name).then(|| rt.ns.link_json(name))
}

#[test]
fn a_vlan_is_made_on_demand_shared_and_goes_with_its_last_user() {
    if !has_8021q("a_vlan_is_made_on_demand_shared_and_goes_with_its_last_user") {
        return;
    }
    let rt = Rt::new("vd");
    let conf = rt.conf("v100", "10.100.0.0/24", json!({ "vlan": 100 }));
    let (a, b) = (TestNs::new("pa"), TestNs::new("pb"));
    assert!(vlan_link(&rt, "trunk0.100").is_none());
    let ra = rt.exec(PLUGIN, "ADD", &conf, "ca", Some(a.name.as_str()), "net1").ok().clone();
    let v = vlan_link(&rt, "trunk0.100").expect("the VLAN was not made");
    assert_eq!(v["linkinfo"]["info_kind"], "vlan");
    assert_eq!(v["linkinfo"]["info_data"]["id"], 100);
    assert_eq!(v["linkinfo"]["info_data"]["protocol"], "802.1Q");
    assert_eq!(v["link"], "trunk0");
    assert_eq!(v["ifalias"], "vlanmac:cni:v100");
    assert!(v["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
    let pod = a.link_json("net1");
    assert_eq!(pod["linkinfo"]["info_kind"], "macvlan");
    let rb = rt.exec(PLUGIN, "ADD", &conf, "cb", Some(b.name.as_str()), "net1").ok().clone();
    assert_ne!(ra["ips"][0]["address"], rb["ips"][0]["address"]);
    // Two pods on VLAN 100 reach each other, and the gateway tagged 100 on
    // the far end of the trunk.
    rt.far.ip(&["link", "add", "link", "trunk1", "name", "trunk1.100", "type", "vlan", "id", "100"]);
    rt.far.ip(&["addr", "add", "10.100.0.1/24", "dev", "trunk1.100"]);
    rt.far.ip(&["link", "set", "trunk1.100", "up"]);
    let b_addr = rb["ips"][0]["address"].as_str().unwrap().split('/').next().unwrap().to_string();
    for to in [b_addr.as_str(), "10.100.0.1"] {
        let p = std::process::Command::new(ip_path())
            .args(["netns", "exec", a.name.as_str(), "ping", "-c1", "-W2", to])
            .output()
            .unwrap();
        assert!(
            p.status.success(),
            "ping {to}: {}{}",
            String::from_utf8_lossy(&p.stdout),
            String::from_utf8_lossy(&p.stderr)
        );
    }
    rt.exec(PLUGIN, "DEL", &conf, "ca", Some(a.name.as_str()), "net1").ok();
    assert!(vlan_link(&rt, "trunk0.100").is_some(), "the VLAN went while pod b uses it");
    rt.exec(PLUGIN, "DEL", &conf, "cb", Some(b.name.as_str()), "net1").ok();
    assert!(vlan_link(&rt, "trunk0.100").is_none(), "the VLAN stayed after its last user");
    assert!(rt.state_files().is_empty() && rt.leases("v100").is_empty());
}

#[test]
fn a_vlan_that_existed_before_is_used_and_kept() {
    if !has_8021q("a_vlan_that_existed_before_is_used_and_kept") {
        return;
    }
    let rt = Rt::new("vk");
    rt.ns.ip(&["link", "add", "link", "trunk0", "name", "trunk0.200", "type", "vlan", "id", "200"]);
    rt.ns.ip(&["link", "set", "trunk0.200", "up"]);
    let conf = rt.conf("v200", "10.200.0.0/24", json!({ "vlan": 200 }));
    let p = TestNs::new("pk");
    rt.exec(PLUGIN, "ADD", &conf, "c1", Some(p.name.as_str()), "net1").ok();
    assert!(vlan_link(&rt, "trunk0.200").unwrap().get("ifalias").is_none(), "a VLAN vlanmac did not make got marked");
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(p.name.as_str()), "net1").ok();
    assert!(vlan_link(&rt, "trunk0.200").is_some(), "a VLAN vlanmac did not make was removed");
    // One of the wrong kind in the way is refused, naming it.
    rt.ns.ip(&["link", "add", "trunk0.300", "type", "veth", "peer", "name", "x300"]);
    let out = rt.exec(
        PLUGIN,
        "ADD",
        &rt.conf("v300", "10.30.0.0/24", json!({ "vlan": 300 })),
        "c3",
        Some(p.name.as_str()),
        "net1",
    );
    assert_eq!(out.code(), 7, "{}", out.text);
    assert!(out.msg().starts_with("vlan: trunk0.300 exists but is not VLAN 300"), "{}", out.text);
    assert!(rt.state_files().is_empty());
}

#[test]
fn a_vlan_a_topology_made_is_shared_through_the_marks() {
    if !has_8021q("a_vlan_a_topology_made_is_shared_through_the_marks") {
        return;
    }
    let rt = Rt::new("vt");
    let topo = vlanmac::topology::from_yaml(
        &format!(
            "name: vtcni{pid}\nnamespace: {ns}\nnetworks:\n  v400: {{ parent: trunk0, vlan: 400, subnets: [ {{ subnet: 10.40.0.0/24 }} ] }}\nendpoints:\n  vtcni{pid}-e: {{ attach: [ {{ network: v400, ipv4: 10.40.0.9 }} ] }}\n",
            pid = std::process::id(),
            ns = rt.ns.name
        ),
        "x",
    )
    .unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(topo.apply(&Default::default())).unwrap();
    let conf = rt.conf("v400", "10.40.0.0/24", json!({ "vlan": 400 }));
    let p = TestNs::new("pt");
    rt.exec(PLUGIN, "ADD", &conf, "c1", Some(p.name.as_str()), "net1").ok();
    assert_eq!(vlan_link(&rt, "trunk0.400").unwrap()["ifalias"], format!("vlanmac:cni:v400,{}", topo.name));
    tokio.block_on(topo.down(&Default::default())).unwrap();
    assert_eq!(
        vlan_link(&rt, "trunk0.400").expect("the topology took a VLAN a pod uses")["ifalias"],
        "vlanmac:cni:v400"
    );
    rt.exec(PLUGIN, "DEL", &conf, "c1", Some(p.name.as_str()), "net1").ok();
    assert!(vlan_link(&rt, "trunk0.400").is_none());
}

#[test]
fn sixteen_adds_at_once_then_dels_racing_adds() {
    if !has_8021q("sixteen_adds_at_once_then_dels_racing_adds") {
        return;
    }
    let rt = Rt::new("vc");
    let conf = rt.conf("v500", "10.50.0.0/24", json!({ "vlan": 500 }));
    let pods: Vec<TestNs> = (0..24).map(|i| TestNs::new(&format!("q{i}"))).collect();
    let add = |i: usize| rt.exec(PLUGIN, "ADD", &conf, &format!("c{i}"), Some(pods[i].name.as_str()), "net1");
    let del = |i: usize| rt.exec(PLUGIN, "DEL", &conf, &format!("c{i}"), Some(pods[i].name.as_str()), "net1");
    let outs: Vec<Out> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..16).map(|i| s.spawn(move || add(i))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut addrs: Vec<String> =
        outs.iter().map(|o| o.ok()["ips"][0]["address"].as_str().unwrap().to_string()).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 16, "addresses handed out twice");
    assert!(vlan_link(&rt, "trunk0.500").is_some());
    assert_eq!(rt.records().len(), 16);
    // DELs of 0..16 racing ADDs of 16..24: the VLAN is never taken from
    // under an ADD.
    let outs: Vec<Out> = std::thread::scope(|s| {
        let dels: Vec<_> = (0..16).map(|i| s.spawn(move || del(i))).collect();
        let adds: Vec<_> = (16..24).map(|i| s.spawn(move || add(i))).collect();
        dels.into_iter().chain(adds).map(|h| h.join().unwrap()).collect()
    });
    for o in &outs {
        o.ok();
    }
    for (i, p) in pods.iter().enumerate().skip(16) {
        let l = p.link_json("net1");
        assert_eq!(l["linkinfo"]["info_kind"], "macvlan", "pod {i}");
        assert!(l["flags"].as_array().unwrap().iter().any(|f| f == "LOWER_UP"), "pod {i} lost its VLAN: {l}");
    }
    assert!(vlan_link(&rt, "trunk0.500").is_some() && rt.records().len() == 8);
    std::thread::scope(|s| {
        for i in 16..24 {
            s.spawn(move || del(i).ok().clone());
        }
    });
    assert!(vlan_link(&rt, "trunk0.500").is_none(), "the VLAN outlived its attachments");
    assert!(rt.state_files().is_empty(), "state left: {:?}", rt.state_files());
    assert!(rt.leases("v500").is_empty(), "leases left: {:?}", rt.leases("v500"));
    for p in &pods {
        assert_eq!(link_names(p.name.as_str()), ["lo"]);
    }
}

#[test]
fn gc_removes_what_belongs_to_no_valid_attachment() {
    if !has_8021q("gc_removes_what_belongs_to_no_valid_attachment") {
        return;
    }
    let rt = Rt::new("vg");
    let conf = rt.conf("v600", "10.60.6.0/24", json!({ "cniVersion": "1.1.0", "vlan": 600 }));
    let pods: Vec<TestNs> = (0..3).map(|i| TestNs::new(&format!("g{i}"))).collect();
    for (i, p) in pods.iter().enumerate() {
        rt.exec(PLUGIN, "ADD", &conf, &format!("c{i}"), Some(p.name.as_str()), "net1").ok();
    }
    let gc = |valid: Value| {
        let mut c = conf.clone();
        c["cni.dev/valid-attachments"] = valid;
        rt.exec(PLUGIN, "GC", &c, "", None, "").ok();
    };
    gc(json!([{ "containerID": "c1", "ifname": "net1" }]));
    assert_eq!(rt.records().len(), 1);
    assert_eq!(link_names(pods[0].name.as_str()), ["lo"]);
    assert_eq!(link_names(pods[1].name.as_str()), ["lo", "net1"]);
    assert!(vlan_link(&rt, "trunk0.600").is_some());
    gc(json!([]));
    assert!(vlan_link(&rt, "trunk0.600").is_none() && rt.state_files().is_empty());
    // host-local 1.1.1 knows no GC: its leases go with DEL, idempotently.
    for (i, p) in pods.iter().enumerate() {
        rt.exec(PLUGIN, "DEL", &conf, &format!("c{i}"), Some(p.name.as_str()), "net1").ok();
    }
    assert!(rt.leases("v600").is_empty());
}

#[test]
fn an_add_on_a_vlan_failing_at_each_netlink_write_leaves_nothing() {
    if !has_8021q("an_add_on_a_vlan_failing_at_each_netlink_write_leaves_nothing") {
        return;
    }
    let rt = Rt::new("vf");
    let conf = rt.conf("v700", "10.70.0.0/24", json!({ "vlan": 700 }));
    let faults = add_fails_cleanly_at_every_write(&rt, &conf, "v700");
    assert!(faults >= 5, "only {faults} writes");
    println!("cni: ADD on a new VLAN failed at each of its {faults} netlink writes, nothing left each time");
}

#[test]
fn qinq_and_ipvlan_and_status() {
    if !has_8021q("qinq_and_ipvlan_and_status") {
        return;
    }
    let rt = Rt::new("vq");
    let p = TestNs::new("pq");
    let ad = rt.conf("v800", "10.80.0.0/24", json!({ "cniVersion": "1.1.0", "vlan": 800, "vlanProtocol": "802.1ad" }));
    let res = rt.exec(PLUGIN, "ADD", &ad, "c1", Some(p.name.as_str()), "net1").ok().clone();
    assert_eq!(vlan_link(&rt, "trunk0.800").unwrap()["linkinfo"]["info_data"]["protocol"], "802.1ad");
    assert_eq!(res["interfaces"][0]["mtu"], 1500, "1.1.0 reports the MTU: {res}");
    rt.exec(PLUGIN, "STATUS", &ad, "", None, "").ok();
    rt.exec(PLUGIN, "DEL", &ad, "c1", Some(p.name.as_str()), "net1").ok();
    let iv = rt.conf("v900", "10.90.0.0/24", json!({ "vlan": 900, "driver": "ipvlan", "ipvlanMode": "l2" }));
    rt.exec(PLUGIN, "ADD", &iv, "c2", Some(p.name.as_str()), "net1").ok();
    let l = p.link_json("net1");
    assert_eq!(
        (l["linkinfo"]["info_kind"].as_str(), l["linkinfo"]["info_data"]["mode"].as_str()),
        (Some("ipvlan"), Some("l2"))
    );
    rt.exec(PLUGIN, "DEL", &iv, "c2", Some(p.name.as_str()), "net1").ok();
    assert_eq!(rt.links(), ["lo", "trunk0"]);
}

/// The conflists `vlanmac render --format cni` writes for a topology, fed
/// to the plugin: each network's pods land on its VLAN with IPAM that
/// skips the topology's own addresses.
#[test]
fn rendered_conflists_put_pods_on_the_topologys_vlans() {
    if !has_8021q("rendered_conflists_put_pods_on_the_topologys_vlans") {
        return;
    }
    let rt = Rt::new("vr");
    let topo = vlanmac::topology::from_yaml(
        "name: rendered\nnetworks:\n  v10: { parent: trunk0, vlan: 10, subnets: [ { subnet: 10.0.10.0/24, gateway: 10.0.10.1 } ] }\n  v20: { parent: trunk0, vlan: 20, subnets: [ { subnet: 10.0.20.0/24, gateway: 10.0.20.1 }, { subnet: \"2001:db8:20::/64\", gateway: \"2001:db8:20::1\" } ] }\nendpoints:\n  e1: { attach: [ { network: v10, ipv4: 10.0.10.2 } ] }\n",
        "x",
    )
    .unwrap();
    let p = TestNs::new("pr");
    for (file, text) in vlanmac::render::cni_conflists(&topo) {
        let list: Value = serde_json::from_str(&text).unwrap();
        // A runtime runs each plugin of the list with the list's name and version.
        let mut conf = list["plugins"][0].clone();
        conf["cniVersion"] = list["cniVersion"].clone();
        conf["name"] = list["name"].clone();
        conf["ipam"]["dataDir"] = json!(rt.dir.join("host-local").display().to_string());
        let name = conf["name"].as_str().unwrap().to_string();
        let res = rt.exec(PLUGIN, "ADD", &conf, "c1", Some(p.name.as_str()), "net1").ok().clone();
        let addr = res["ips"][0]["address"].as_str().unwrap();
        // 10.0.10.2 is e1's static address: IPAM skips it.
        let expect = if name == "v10" { "10.0.10.3/24" } else { "10.0.20.2/24" };
        assert_eq!(addr, expect, "{file}: {res}");
        let mac = p.link_json("net1")["address"].as_str().unwrap().to_string();
        assert!(mac.starts_with("02:42:0a:00:"), "{file}: macFromIP: {mac}");
        assert!(vlan_link(&rt, &format!("trunk0.{}", &name[1..])).is_some(), "{file}");
        rt.exec(PLUGIN, "DEL", &conf, "c1", Some(p.name.as_str()), "net1").ok();
    }
    assert_eq!(rt.links(), ["lo", "trunk0"]);
}
