//! On 802.1Q VLANs (the kernel VM): netavark 2.1.0's own binary drives the
//! plugin as podman does (`netavark --config DIR --plugin-directory DIR
//! setup NETNS < options.json`); containers on VLAN 10 ping each other and
//! one on VLAN 20 reaches them through the lab router; the VLAN exists
//! exactly while a container uses it; faults and kills with a VLAN to make.

use std::path::Path;

use serde_json::{json, Value};

use crate::{common::*, faults, support::*};

/// The lab router: `trunk1.10` (10.10.0.1/24) and `trunk1.20`
/// (10.20.0.1/24) in the far namespace, forwarding between them.
fn router(host: &Host) {
    for (vid, addr) in [("10", "10.10.0.1/24"), ("20", "10.20.0.1/24")] {
        let dev = format!("trunk1.{vid}");
        host.far.ip(&["link", "add", "link", "trunk1", "name", &dev, "type", "vlan", "id", vid]);
        host.far.ip(&["addr", "add", addr, "dev", &dev]);
        host.far.ip(&["link", "set", &dev, "up"]);
    }
    let out = std::process::Command::new(ip_path())
        .args(["netns", "exec", host.far.name.as_str(), "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// netavark's own input for container `id` on network `net`.
fn netavark_options(id: &str, net: &Value, ip: &str) -> Value {
    let name = net["name"].as_str().unwrap().to_string();
    json!({
        "container_id": id,
        "container_name": format!("name-{id}"),
        "networks": { &name: { "interface_name": "eth0", "static_ips": [ip] } },
        "network_info": { &name: net },
    })
}

/// `netavark --config DIR --plugin-directory DIR VERB NETNS < options`.
fn netavark(host: &Host, bin: &Path, verb: &str, pod: &TestNs, options: &Value) -> Out {
    let config = host.dir.join("netavark-config");
    std::fs::create_dir_all(&config).unwrap();
    let plugins = plugin_dir(host);
    let args =
        ["--config", config.to_str().unwrap(), "--plugin-directory", plugins.to_str().unwrap(), verb, &netns_path(pod)];
    // No firewalld on the system bus: netavark must not look for one.
    let child = host.command(bin.to_str().unwrap(), &args, &[("DBUS_SYSTEM_BUS_ADDRESS", "")]).spawn().unwrap();
    finish(child, options.to_string().as_bytes(), DEADLINE)
}

fn ping(from: &TestNs, to: &str) -> bool {
    std::process::Command::new(ip_path())
        .args(["netns", "exec", from.name.as_str(), "ping", "-c", "1", "-W", "3", to])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn netavark_puts_containers_on_two_vlans_that_reach_each_other_through_the_router() {
    if !require(Feature::Vlan8021q, "vlan::netavark_puts_containers_on_two_vlans").await {
        return;
    }
    let Some(bin) = netavark_or_skip("vlan::netavark_puts_containers_on_two_vlans") else { return };
    let host = Host::new("nvrt");
    router(&host);
    let v10 = network("vlan10", "10.10.0.0/24", json!({"vlan": "10"}));
    let v20 = network("vlan20", "10.20.0.0/24", json!({"vlan": "20"}));
    let (p1, p2, p3) = (TestNs::new("nvp1"), TestNs::new("nvp2"), TestNs::new("nvp3"));
    let o1 = netavark_options("c1", &v10, "10.10.0.11");
    let o2 = netavark_options("c2", &v10, "10.10.0.12");
    let o3 = netavark_options("c3", &v20, "10.20.0.13");

    let s1 = netavark(&host, &bin, "setup", &p1, &o1);
    let block = s1.ok();
    assert_eq!(block["vlan10"]["interfaces"]["eth0"]["subnets"][0]["ipnet"], "10.10.0.11/24", "{block}");
    let vlan = host.ns.link_json("trunk0.10");
    assert_eq!(
        (vlan["linkinfo"]["info_kind"].as_str(), vlan["linkinfo"]["info_data"]["id"].as_u64()),
        (Some("vlan"), Some(10))
    );
    assert_eq!(vlan["ifalias"], "vlanmac:cni:podman:vlan10", "{vlan}");
    let eth0 = p1.link_json("eth0");
    assert_eq!(eth0["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(eth0["address"], block["vlan10"]["interfaces"]["eth0"]["mac_address"]);
    netavark(&host, &bin, "setup", &p2, &o2).ok();
    netavark(&host, &bin, "setup", &p3, &o3).ok();
    assert!(host.ns.has_link("trunk0.20"));

    assert!(ping(&p1, "10.10.0.12"), "c1 -> c2 on VLAN 10");
    assert!(ping(&p2, "10.10.0.11"), "c2 -> c1 on VLAN 10");
    assert!(ping(&p3, "10.10.0.11"), "c3 on VLAN 20 -> c1 through the router");
    assert!(ping(&p1, "10.20.0.13"), "c1 -> c3 through the router");

    // The VLAN exists exactly while a container uses it.
    netavark(&host, &bin, "teardown", &p1, &o1).ok();
    assert!(host.ns.has_link("trunk0.10"), "c2 still uses VLAN 10");
    assert_eq!(link_names(p1.name.as_str()), ["lo"]);
    netavark(&host, &bin, "teardown", &p2, &o2).ok();
    assert!(!host.ns.has_link("trunk0.10"), "VLAN 10 goes with its last container");
    netavark(&host, &bin, "teardown", &p3, &o3).ok();
    assert_eq!(host.links(), ["lo", "trunk0"]);
    assert!(host.records().is_empty(), "{:?}", host.records());
    // Teardown again: nothing to do, no error.
    netavark(&host, &bin, "teardown", &p3, &o3).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vlan_the_plugin_did_not_make_is_used_and_never_removed() {
    if !require(Feature::Vlan8021q, "vlan::a_vlan_the_plugin_did_not_make").await {
        return;
    }
    let host = Host::new("nvown");
    host.ns.ip(&["link", "add", "link", "trunk0", "name", "trunk0.30", "type", "vlan", "id", "30"]);
    host.ns.ip(&["link", "set", "trunk0.30", "up"]);
    let pod = TestNs::new("nvpown");
    let ex = exec("c1", &network("v30", "10.30.0.0/24", json!({"vlan": "30"})), &["10.30.0.5"]);
    host.setup(&pod, &ex).ok();
    // The container's macvlan sits on the existing VLAN.
    assert_eq!(pod.link_json("eth0")["link_index"], host.ns.link_json("trunk0.30")["ifindex"]);
    host.teardown(&pod, &ex).ok();
    let vlan = host.ns.link_json("trunk0.30");
    assert!(vlan.get("ifalias").is_none(), "no mark put on a VLAN vlanmac did not make: {vlan}");
    // A VLAN of that name on another VLAN ID is refused, named.
    let ex = exec("c1", &network("v30b", "10.30.0.0/24", json!({"vlan": "31"})), &["10.30.0.5"]);
    host.ns.ip(&["link", "add", "link", "trunk0", "name", "trunk0.31", "type", "vlan", "id", "32"]);
    let e = host.setup(&pod, &ex).error();
    assert!(e.starts_with("vlan: trunk0.31 exists but is not VLAN 31"), "{e}");
    assert_eq!(link_names(pod.name.as_str()), ["lo"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn vlan_setup_failing_at_any_write_leaves_nothing() {
    if !require(Feature::Vlan8021q, "vlan::vlan_setup_failing_at_any_write").await {
        return;
    }
    let host = Host::new("nvvflt");
    let net = network("v10", "10.88.0.0/16", json!({"vlan": "10", "vlan_protocol": "802.1ad"}));
    let writes = faults::each_failed_write_leaves_nothing(&host, &net, &["lo", "trunk0"]);
    assert!(writes >= 5, "the VLAN, its mark, the macvlan, the rename, the configuration: {writes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn vlan_setup_killed_at_any_moment_is_converged_by_teardown() {
    if !require(Feature::Vlan8021q, "vlan::vlan_setup_killed_at_any_moment").await {
        return;
    }
    let host = Host::new("nvvkil");
    faults::killed_setups_converge(&host, &network("v10", "10.88.0.0/16", json!({"vlan": "10"})), &["lo", "trunk0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipvlan_on_a_vlan_in_each_mode() {
    if !require(Feature::Vlan8021q, "vlan::ipvlan_on_a_vlan_in_each_mode").await
        || !require(Feature::Ipvlan, "vlan::ipvlan_on_a_vlan_in_each_mode").await
    {
        return;
    }
    let host = Host::new("nvipv");
    for mode in ["l2", "l3", "l3s"] {
        let pod = TestNs::new("nvpipv");
        let ex = exec(
            "c1",
            &network("v10", "10.88.0.0/16", json!({"vlan": "10", "driver": "ipvlan", "ipvlan_mode": mode})),
            &["10.88.0.2"],
        );
        host.setup(&pod, &ex).ok();
        let l = pod.link_json("eth0");
        assert_eq!(
            (l["linkinfo"]["info_kind"].as_str(), l["linkinfo"]["info_data"]["mode"].as_str()),
            (Some("ipvlan"), Some(mode)),
            "{l}"
        );
        host.teardown(&pod, &ex).ok();
        assert_eq!(host.links(), ["lo", "trunk0"]);
    }
}

/// vlanmac-cni, built beside these tests in the workspace's target
/// directory (scripts/test builds the whole workspace).
fn cni_plugin() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("vlanmac-cni");
    p.exists().then_some(p)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cni_pod_and_a_podman_container_share_one_vlan() {
    if !require(Feature::Vlan8021q, "vlan::a_cni_pod_and_a_podman_container_share_one_vlan").await {
        return;
    }
    let cni = cni_plugin().expect("vlanmac-cni is built beside the tests");
    let host = Host::new("nvshare");
    let (pod, ctr) = (TestNs::new("nvscni"), TestNs::new("nvspod"));
    let conf = json!({"cniVersion": "1.1.0", "name": "cni10", "type": "vlanmac-cni", "master": "trunk0", "vlan": 10});
    let cni_run = |verb: &str| {
        let child = host
            .command(
                cni.to_str().unwrap(),
                &[],
                &[
                    ("CNI_COMMAND", verb),
                    ("CNI_CONTAINERID", "k1"),
                    ("CNI_IFNAME", "net1"),
                    ("CNI_NETNS", &netns_path(&pod)),
                    ("CNI_PATH", "/usr/lib/cni"),
                ],
            )
            .spawn()
            .unwrap();
        finish(child, conf.to_string().as_bytes(), DEADLINE)
    };
    assert_eq!(cni_run("ADD").status, 0, "CNI ADD");
    let ex = exec("c1", &network("v10", "10.88.0.0/16", json!({"vlan": "10"})), &["10.88.0.2"]);
    host.setup(&ctr, &ex).ok();
    assert_eq!(host.ns.link_json("trunk0.10")["ifalias"], "vlanmac:cni:cni10,cni:podman:v10", "one VLAN, two owners");
    assert_eq!(cni_run("DEL").status, 0, "CNI DEL");
    assert_eq!(host.ns.link_json("trunk0.10")["ifalias"], "vlanmac:cni:podman:v10", "the container still uses it");
    host.teardown(&ctr, &ex).ok();
    assert_eq!(host.links(), ["lo", "trunk0"], "the VLAN went with its last user");
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_containers_at_once_share_one_vlan_that_goes_with_the_last() {
    if !require(Feature::Vlan8021q, "vlan::eight_containers_at_once_share_one_vlan").await {
        return;
    }
    let host = Host::new("nvconc");
    let net = network("v10", "10.88.0.0/16", json!({"vlan": "10"}));
    let pods: Vec<TestNs> = (0..8).map(|i| TestNs::new(&format!("nvc{i}"))).collect();
    let execs: Vec<Value> = (0..8).map(|i| exec(&format!("c{i}"), &net, &[&format!("10.88.0.{}", 10 + i)])).collect();
    let all = |verb: &str| -> Vec<Out> {
        std::thread::scope(|s| {
            let handles: Vec<_> =
                pods.iter().zip(&execs).map(|(p, e)| s.spawn(|| host.plugin(&[verb, &netns_path(p)], e))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    for out in all("setup") {
        out.ok();
    }
    assert_eq!(host.ns.link_json("trunk0.10")["ifalias"], "vlanmac:cni:podman:v10");
    for (i, p) in pods.iter().enumerate() {
        let l = p.link_json("eth0");
        assert_eq!(l["link_index"], host.ns.link_json("trunk0.10")["ifindex"], "container {i} on the VLAN");
    }
    assert_eq!(host.records().len(), 8);
    for out in all("teardown") {
        out.ok();
    }
    assert_eq!(host.links(), ["lo", "trunk0"], "the VLAN went with the last of the eight");
    assert!(host.records().is_empty(), "{:?}", host.records());
    for p in &pods {
        assert_eq!(link_names(p.name.as_str()), ["lo"]);
    }
}
