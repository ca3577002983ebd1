//! The plugin under careless and hostile runtimes, on this machine's kernel
//! (an untagged veth master, host-local IPAM): a repeated or failed ADD
//! never releases what a live pod holds, GC frees the leases of what it
//! collects, nothing blocks on a namespace path that is not a namespace,
//! and DEL/GC delete only what the plugin made for that attachment.

use serde_json::{json, Value};

use crate::{common::*, support::*};

/// The address (without prefix) of the first IP in an ADD result.
fn addr_of(result: &Value) -> String {
    result["ips"][0]["address"].as_str().unwrap().split('/').next().unwrap().to_string()
}

/// The global IPv4 addresses `ip` sees on `dev` in `ns`.
fn v4_on(ns: &TestNs, dev: &str) -> Vec<String> {
    ns.addrs(dev).into_iter().filter(|a| a.contains('.')).collect()
}

/// A retried ADD of a live attachment into another namespace (or with a
/// configuration that fails) and the runtime's DEL after it leave the live
/// attachment's interface, lease and record as they were.
#[test]
fn a_failed_add_never_releases_a_live_attachment() {
    if !reference_or_skip("a_failed_add_never_releases_a_live_attachment") {
        return;
    }
    let rt = Rt::new("hl1");
    let conf = rt.conf("probenet", "10.199.0.0/24", json!({ "cniVersion": "1.1.0" }));
    let (pod1, pod2) = (TestNs::new("h1"), TestNs::new("h2"));
    let first = rt.exec(PLUGIN, "ADD", &conf, "j1", Some(pod1.name.as_str()), "net1").ok().clone();
    let addr = addr_of(&first);
    let live = |what: &str| {
        assert_eq!(v4_on(&pod1, "net1"), [format!("{addr}/24")], "{what}: pod1's net1 changed");
        assert_eq!(rt.lease_owner("probenet", &addr).as_deref(), Some("j1 net1"), "{what}: pod1's lease is gone");
        assert_eq!(rt.recorded().len(), 1, "{what}: records {:?}", rt.recorded());
        assert!(rt.recorded()[0].starts_with("probenet j1 net1 "), "{what}: {:?}", rt.recorded());
        assert_eq!(link_names(pod2.name.as_str()), ["lo"], "{what}: pod2 got a link");
    };
    let mtu9000 = rt.conf("probenet", "10.199.0.0/24", json!({ "cniVersion": "1.1.0", "mtu": 9000 }));
    for (what, c) in [("the same configuration", &conf), ("mtu 9000", &mtu9000)] {
        let again = rt.exec(PLUGIN, "ADD", c, "j1", Some(pod2.name.as_str()), "net1");
        assert_eq!(again.status, 1, "{what}: {}", again.text);
        assert!(again.msg().contains("j1") && again.msg().contains("net1"), "{what}: {}", again.text);
        live(what);
        // What a runtime does after a failed ADD: DEL of the same key with
        // the namespace it tried.
        rt.exec(PLUGIN, "DEL", c, "j1", Some(pod2.name.as_str()), "net1").ok();
        live(&format!("{what}, then DEL with pod2's namespace"));
    }
    // The same ADD again into pod1 is refused too, and changes nothing.
    let same = rt.exec(PLUGIN, "ADD", &conf, "j1", Some(pod1.name.as_str()), "net1");
    assert_eq!(same.status, 1, "{}", same.text);
    live("a repeated ADD into pod1");
    // A new address is not the live one.
    let other = rt.exec(PLUGIN, "ADD", &conf, "j2", Some(pod2.name.as_str()), "net1").ok().clone();
    assert_ne!(addr_of(&other), addr);
    rt.exec(PLUGIN, "DEL", &conf, "j2", Some(pod2.name.as_str()), "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, "j1", Some(pod1.name.as_str()), "net1").ok();
    assert_eq!(link_names(pod1.name.as_str()), ["lo"]);
    assert!(rt.leases("probenet").is_empty() && rt.state_files().is_empty(), "{:?}", rt.state_files());
}

/// GC removes the attachments that are no longer valid together with
/// their IPAM leases (host-local 1.1.1 knows no GC: it gets DEL).
#[test]
fn gc_releases_the_leases_of_what_it_collects() {
    if !reference_or_skip("gc_releases_the_leases_of_what_it_collects") {
        return;
    }
    let rt = Rt::new("hl2");
    let conf = rt.conf("gcnet", "10.199.1.0/24", json!({ "cniVersion": "1.1.0" }));
    let (pod1, pod2) = (TestNs::new("g1"), TestNs::new("g2"));
    let a4 = addr_of(rt.exec(PLUGIN, "ADD", &conf, "j4", Some(pod1.name.as_str()), "net1").ok());
    let a5 = addr_of(rt.exec(PLUGIN, "ADD", &conf, "j5", Some(pod2.name.as_str()), "net1").ok());
    let mut gc = conf.clone();
    gc["cni.dev/valid-attachments"] = json!([{ "containerID": "j5", "ifname": "net1" }]);
    rt.exec(PLUGIN, "GC", &gc, "", None, "").ok();
    assert_eq!(link_names(pod1.name.as_str()), ["lo"], "j4's net1 stayed");
    assert_eq!(rt.lease_owner("gcnet", &a4), None, "j4's lease stayed");
    assert_eq!(rt.lease_owner("gcnet", &a5).as_deref(), Some("j5 net1"), "j5's lease went");
    assert_eq!(rt.recorded().len(), 1);
    rt.exec(PLUGIN, "GC", &gc, "", None, "").ok();
    assert_eq!(rt.leases("gcnet"), [a5]);
    gc["cni.dev/valid-attachments"] = json!([]);
    rt.exec(PLUGIN, "GC", &gc, "", None, "").ok();
    assert!(rt.leases("gcnet").is_empty() && rt.state_files().is_empty(), "{:?}", rt.state_files());
    assert_eq!(link_names(pod2.name.as_str()), ["lo"]);
}

/// GC also collects the attachments whose namespace is gone (a
/// force-deleted pod), even when the runtime still lists them as valid:
/// their leases are released; a live pod's attachment stays.
#[test]
fn gc_collects_attachments_whose_namespace_is_gone() {
    if !reference_or_skip("gc_collects_attachments_whose_namespace_is_gone") {
        return;
    }
    let rt = Rt::new("hl5");
    let conf = rt.conf("gonenet", "10.199.5.0/24", json!({ "cniVersion": "1.1.0" }));
    let (pod1, pod2) = (TestNs::new("gg1"), TestNs::new("gg2"));
    let a1 = addr_of(rt.exec(PLUGIN, "ADD", &conf, "k1", Some(pod1.name.as_str()), "net1").ok());
    let a2 = addr_of(rt.exec(PLUGIN, "ADD", &conf, "k2", Some(pod2.name.as_str()), "net1").ok());
    // pod1 force-deleted: its namespace goes, no DEL.
    vlanmac::netns::delete_blocking(&pod1.name).unwrap();
    let mut gc = conf.clone();
    gc["cni.dev/valid-attachments"] =
        json!([{ "containerID": "k1", "ifname": "net1" }, { "containerID": "k2", "ifname": "net1" }]);
    rt.exec(PLUGIN, "GC", &gc, "", None, "").ok();
    assert_eq!(rt.lease_owner("gonenet", &a1), None, "the gone pod's lease stayed");
    assert_eq!(rt.lease_owner("gonenet", &a2).as_deref(), Some("k2 net1"), "a live pod's lease went");
    assert_eq!(rt.recorded().len(), 1, "{:?}", rt.recorded());
    assert_eq!(link_names(pod2.name.as_str()), ["lo", "net1"], "a live pod's net1 went");
    rt.exec(PLUGIN, "DEL", &conf, "k2", Some(pod2.name.as_str()), "net1").ok();
}

/// Below 1280 the kernel gives a link no IPv6: ADD with IPAM still works
/// (as the reference plugin's does).
#[test]
fn an_mtu_below_1280_works_with_ipam() {
    if !reference_or_skip("an_mtu_below_1280_works_with_ipam") {
        return;
    }
    let rt = Rt::new("hl3");
    for mtu in [1279, 576, 68] {
        let pod = TestNs::new("m");
        let conf = rt.conf("small", "10.199.2.0/24", json!({ "mtu": mtu }));
        let res = rt.exec(PLUGIN, "ADD", &conf, "c1", Some(pod.name.as_str()), "net1").ok().clone();
        let l = pod.link_json("net1");
        assert_eq!(l["mtu"], mtu, "{l}");
        assert_eq!(v4_on(&pod, "net1"), [format!("{}/24", addr_of(&res))]);
        rt.exec(PLUGIN, "DEL", &conf, "c1", Some(pod.name.as_str()), "net1").ok();
    }
    assert!(rt.leases("small").is_empty() && rt.state_files().is_empty());
}

/// A FIFO, a directory, a regular file, another kind of namespace, or a
/// relative path as `CNI_NETNS`: every verb answers at once, naming it, and
/// a live attachment of that key keeps its lease.
#[test]
fn a_namespace_path_that_is_not_a_network_namespace_fails_at_once() {
    if !reference_or_skip("a_namespace_path_that_is_not_a_network_namespace_fails_at_once") {
        return;
    }
    let rt = Rt::new("hl4");
    let conf = rt.conf("fifo", "10.199.3.0/24", json!({}));
    let pod = TestNs::new("f");
    let live = addr_of(rt.exec(PLUGIN, "ADD", &conf, "j1", Some(pod.name.as_str()), "net1").ok());
    let fifo = rt.dir.join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let file = rt.dir.join("file");
    std::fs::write(&file, "").unwrap();
    let fifo = fifo.display().to_string();
    let (dir, file) = (rt.dir.display().to_string(), file.display().to_string());
    let cases = [
        (fifo.as_str(), "a FIFO"),
        (dir.as_str(), "a directory"),
        (file.as_str(), "a regular file"),
        ("/proc/self/ns/mnt", "a mount namespace"),
    ];
    for (path, what) in cases {
        for verb in ["ADD", "CHECK", "DEL"] {
            let start = std::time::Instant::now();
            let mut c = conf.clone();
            c["prevResult"] = json!({ "cniVersion": "1.0.0" });
            let out = rt.exec_at(PLUGIN, verb, &c, "j1", Some(path), "net1", &[]);
            assert!(start.elapsed() < std::time::Duration::from_secs(5), "{verb} {path}: took {:?}", start.elapsed());
            if verb == "DEL" && what == "a regular file" {
                // What a deleted namespace leaves at worst: DEL has nothing there to do.
                out.ok();
                continue;
            }
            assert_eq!(out.code(), 3, "{verb} {path}: {}", out.text);
            let says = format!("CNI_NETNS: {path} is {what}, not a network namespace");
            assert_eq!(out.msg(), says, "{verb} {path}: {}", out.text);
        }
    }
    let out = rt.exec_at(PLUGIN, "ADD", &conf, "j9", Some("run/netns/x"), "net1", &[]);
    assert_eq!(out.code(), 4, "{}", out.text);
    assert!(out.msg().starts_with("CNI_NETNS: \"run/netns/x\""), "{}", out.text);
    assert_eq!(rt.lease_owner("fifo", &live).as_deref(), Some("j1 net1"));
    assert_eq!(link_names(pod.name.as_str()), ["lo", "net1"]);
    rt.exec(PLUGIN, "DEL", &conf, "j1", Some(pod.name.as_str()), "net1").ok();
    assert!(rt.leases("fifo").is_empty() && rt.state_files().is_empty());
}

/// DEL and GC delete an interface only when the plugin made it for that
/// attachment: never the master, a link somebody else made under the same
/// name, or another pod's interface in a namespace path re-created since.
#[test]
fn del_and_gc_delete_only_what_the_plugin_made() {
    if !reference_or_skip("del_and_gc_delete_only_what_the_plugin_made") {
        return;
    }
    let rt = Rt::new("hl5");
    let conf = rt.conf("own", "10.199.4.0/24", json!({ "cniVersion": "1.1.0" }));
    // The runtime's own namespace and the master's name.
    rt.exec_at(PLUGIN, "DEL", &conf, "x1", Some("/proc/self/ns/net"), "trunk0", &[]).ok();
    assert_eq!(rt.links(), ["lo", "trunk0"], "DEL deleted the master");
    // lo: nothing of the plugin's, nothing to do.
    let pod = TestNs::new("o");
    rt.exec(PLUGIN, "DEL", &conf, "x1", Some(pod.name.as_str()), "lo").ok();
    // A veth the plugin never made, under the attachment's name.
    pod.ip(&["link", "add", "net1", "type", "veth", "peer", "name", "peer1"]);
    rt.exec(PLUGIN, "DEL", &conf, "x2", Some(pod.name.as_str()), "net1").ok();
    assert_eq!(link_names(pod.name.as_str()), ["lo", "net1", "peer1"], "DEL deleted a link it never made");
    // A stale record whose namespace path was re-created for another pod.
    let gone = TestNs::new("s");
    let name = gone.name.to_string();
    let stale = addr_of(rt.exec(PLUGIN, "ADD", &conf, "j6", Some(&name), "net1").ok());
    run_ip(&["netns", "del", &name]);
    run_ip(&["netns", "add", &name]);
    let fresh = addr_of(rt.exec(PLUGIN, "ADD", &conf, "j7", Some(&name), "net1").ok());
    let mut gc = conf.clone();
    gc["cni.dev/valid-attachments"] = json!([{ "containerID": "j7", "ifname": "net1" }]);
    rt.exec(PLUGIN, "GC", &gc, "", None, "").ok();
    assert_eq!(link_names(&name), ["lo", "net1"], "GC deleted the new pod's net1");
    assert_eq!(v4_on(&gone, "net1"), [format!("{fresh}/24")]);
    assert_eq!(rt.lease_owner("own", &stale), None, "the stale attachment's lease stayed");
    assert_eq!(rt.lease_owner("own", &fresh).as_deref(), Some("j7 net1"));
    rt.exec(PLUGIN, "DEL", &conf, "j7", Some(&name), "net1").ok();
    assert!(rt.leases("own").is_empty() && rt.state_files().is_empty(), "{:?}", rt.state_files());
    assert_eq!(rt.links(), ["lo", "trunk0"]);
}

/// A container ID of 300 characters (the spec sets no limit) works, and
/// the plugin's files stay within the file system's name limit.
#[test]
fn a_long_container_id_works() {
    if !reference_or_skip("a_long_container_id_works") {
        return;
    }
    let rt = Rt::new("hl7");
    let conf = rt.conf("long", "10.199.5.0/24", json!({}));
    let pod = TestNs::new("l");
    let id = format!("c{}", "0123456789abcdef".repeat(19)).chars().take(300).collect::<String>();
    let res = rt.exec(PLUGIN, "ADD", &conf, &id, Some(pod.name.as_str()), "net1").ok().clone();
    assert!(rt.records().iter().all(|f| f.len() <= 255), "{:?}", rt.records());
    assert_eq!(rt.recorded().len(), 1);
    assert!(rt.recorded()[0].contains(&id));
    let mut check = conf.clone();
    check["prevResult"] = res;
    rt.exec(PLUGIN, "CHECK", &check, &id, Some(pod.name.as_str()), "net1").ok();
    rt.exec(PLUGIN, "DEL", &conf, &id, Some(pod.name.as_str()), "net1").ok();
    assert!(rt.leases("long").is_empty() && rt.state_files().is_empty());
    assert_eq!(link_names(pod.name.as_str()), ["lo"]);
}

/// Versions are what the configuration says, not made up: a `cniVersion`
/// the plugin does not speak is error 1 whatever `cniVersions` lists, and
/// VERSION answers with the plugin's own version.
#[test]
fn an_unsupported_cni_version_is_refused() {
    let rt = Rt::new("hl6");
    let pod = TestNs::new("v");
    let conf = rt.conf("ver9", "10.199.6.0/24", json!({ "cniVersion": "9.9.9", "cniVersions": ["9.9.9", "1.0.0"] }));
    let out = rt.exec(PLUGIN, "ADD", &conf, "c1", Some(pod.name.as_str()), "net1");
    assert_eq!(out.code(), 1, "{}", out.text);
    assert!(out.msg().starts_with("cniVersion: 9.9.9"), "{}", out.text);
    assert_eq!(link_names(pod.name.as_str()), ["lo"]);
    let v = rt.exec(PLUGIN, "VERSION", &json!({ "cniVersion": "9.9.9" }), "", None, "");
    assert_eq!(v.ok()["cniVersion"], "1.1.0", "{}", v.text);
}

/// STATUS says not ready (50) when the IPAM plugin is not there; messages
/// say what is wrong in the user's terms.
#[test]
fn status_and_messages_speak_the_users_terms() {
    if !reference_or_skip("status_and_messages_speak_the_users_terms") {
        return;
    }
    let rt = Rt::new("hl8");
    let conf = rt.conf("st", "10.199.7.0/24", json!({ "cniVersion": "1.1.0", "ipam": { "type": "nonexist" } }));
    let out = rt.exec(PLUGIN, "STATUS", &conf, "", None, "");
    assert_eq!(out.code(), 50, "{}", out.text);
    assert!(out.msg().starts_with("ipam.type: no executable nonexist"), "{}", out.text);
    // Two passthru attachments on one master.
    let pt = rt.conf("pt", "10.199.8.0/24", json!({ "mode": "passthru" }));
    let (p1, p2) = (TestNs::new("t1"), TestNs::new("t2"));
    rt.exec(PLUGIN, "ADD", &pt, "c1", Some(p1.name.as_str()), "net1").ok();
    let out = rt.exec(PLUGIN, "ADD", &pt, "c2", Some(p2.name.as_str()), "net1");
    assert_eq!(out.code(), 7, "{}", out.text);
    assert!(out.msg().starts_with("mode: passthru") && out.msg().contains("trunk0"), "{}", out.text);
    assert!(!out.msg().contains("vmtmp"), "{}", out.text);
    assert_eq!(link_names(p2.name.as_str()), ["lo"]);
    assert_eq!(rt.leases("pt").len(), 1, "the failed ADD kept a lease: {:?}", rt.leases("pt"));
    rt.exec(PLUGIN, "DEL", &pt, "c2", Some(p2.name.as_str()), "net1").ok();
    rt.exec(PLUGIN, "DEL", &pt, "c1", Some(p1.name.as_str()), "net1").ok();
    assert!(rt.leases("pt").is_empty() && rt.state_files().is_empty(), "{:?}", rt.state_files());
}

/// GC hands what it collects to the IPAM plugin as DELs of those
/// attachments (their container and interface, the configuration recorded
/// at ADD), then passes GC on to an IPAM plugin that speaks 1.1.
#[test]
fn gc_reaches_an_ipam_plugin_that_speaks_1_1() {
    let rt = Rt::new("hl9");
    let bin = rt.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = rt.dir.join("calls");
    let plugin = bin.join("ipam11");
    // An IPAM plugin of spec 1.1 that logs every call: verb, container,
    // interface, and the configuration's "note" and valid attachments.
    std::fs::write(
        &plugin,
        format!(
            r#"#!/bin/sh
conf=$(cat)
note=$(printf '%s' "$conf" | sed -n 's/.*"note":"\([^"]*\)".*/\1/p')
valid=$(printf '%s' "$conf" | grep -o '"containerID":"[^"]*"' | tr '\n' ' ')
echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $note $valid" >> {calls}
case $CNI_COMMAND in
VERSION) echo '{{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}}' ;;
ADD) n=$(wc -l < {calls}); echo "{{\"cniVersion\":\"1.1.0\",\"ips\":[{{\"address\":\"10.199.9.$((n + 10))/24\"}}]}}" ;;
esac
"#,
            calls = calls.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&plugin).status().unwrap();
    let path = format!("{}:{REFERENCE_DIR}", bin.display());
    let env = [("CNI_PATH", path.as_str())];
    let conf = |note: &str| {
        json!({ "cniVersion": "1.1.0", "name": "ipam11", "type": "vlanmac-cni", "master": "trunk0",
                "ipam": { "type": "ipam11", "note": note } })
    };
    let (p1, p2) = (TestNs::new("i1"), TestNs::new("i2"));
    let p1_path = format!("/run/netns/{}", p1.name);
    let p2_path = format!("/run/netns/{}", p2.name);
    rt.exec_at(PLUGIN, "ADD", &conf("at-add"), "j1", Some(&p1_path), "net1", &env).ok();
    rt.exec_at(PLUGIN, "ADD", &conf("at-add"), "j2", Some(&p2_path), "net1", &env).ok();
    let _ = std::fs::remove_file(&calls);
    let mut gc = conf("at-gc");
    gc["cni.dev/valid-attachments"] = json!([{ "containerID": "j2", "ifname": "net1" }]);
    rt.exec_at(PLUGIN, "GC", &gc, "", None, "", &env).ok();
    let log = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| !l.starts_with("VERSION")).map(str::trim_end).collect();
    assert_eq!(lines, ["DEL j1 net1 at-add", "GC   at-gc \"containerID\":\"j2\""], "{log}");
    assert_eq!(link_names(p1.name.as_str()), ["lo"]);
    assert_eq!(link_names(p2.name.as_str()), ["lo", "net1"]);
    rt.exec_at(PLUGIN, "DEL", &conf("at-del"), "j2", Some(&p2_path), "net1", &env).ok();
    assert!(rt.state_files().is_empty(), "{:?}", rt.state_files());
}
