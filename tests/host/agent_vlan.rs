//! `vlanmac agent` where it needs 802.1Q (the kernel VM; skipped on a
//! kernel without it, failing inside the VM): a VLAN subinterface deleted
//! under live macvlans comes back with them; the seed through Docker with
//! `docker restart container1` gets its attachments back; a container
//! attached by PID (no Docker network) restarted gets the same MAC and
//! addresses back; pods force-deleted on a VLAN are collected, the VLAN
//! with the last.

use serde_json::Value;

use crate::{agent::cni_collection, agent_common::*, common::*, docker_common::*};

fn has_8021q(test: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(require(Feature::Vlan8021q, test))
}

fn link(ns: &str, dev: &str) -> Option<Value> {
    let out =
        std::process::Command::new("ip").args(["-j", "-d", "-n", ns, "link", "show", "dev", dev]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice::<Value>(&out.stdout).ok()?.get(0).cloned()
}

fn verify_passes(file: &std::path::Path) {
    let out = std::process::Command::new(cli_path()).arg("verify").arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "vlanmac verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_deleted_vlan_comes_back_with_its_macvlans() {
    if !has_8021q("a_deleted_vlan_comes_back_with_its_macvlans") {
        return;
    }
    let p = format!("vav{}", std::process::id() % 100_000);
    let host = TestNs::new("vh");
    let far = TestNs::new("vfar");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1", "netns", far.name.as_str()]);
    host.ip(&["link", "set", "trunk0", "up"]);
    far.ip(&["link", "set", "trunk1", "up"]);
    let yaml = format!(
        "name: {p}\nnamespace: {}\nnetworks:\n  v10: {{ parent: trunk0, vlan: 10, subnets: [ {{ subnet: 10.98.0.0/24 }} ] }}\nendpoints:\n  {p}-e0: {{ attach: [ {{ network: v10, ipv4: 10.98.0.2 }} ] }}\n  {p}-e1: {{ attach: [ {{ network: v10, ipv4: 10.98.0.3 }} ] }}\n  {p}-e2: {{ attach: [ {{ network: v10, ipv4: 10.98.0.4 }} ] }}\n",
        host.name
    );
    let dir = Scratch::new("vlan");
    let f = dir.0.join("v.yaml");
    std::fs::write(&f, yaml).unwrap();
    let run = AgentRun::start(&[&f], &[], std::slice::from_ref(&f));
    verify_passes(&f);
    host.ip(&["link", "del", "trunk0.10"]);
    let took = run.wait_for("trunk0.10 and the macvlans on it back", || {
        link(host.name.as_str(), "trunk0.10").is_some_and(|l| l["linkinfo"]["info_data"]["id"] == 10)
            && (0..3).all(|i| link(&format!("{p}-e{i}"), "eth0").is_some())
    });
    run.wait_until("converged again", |s| s["topologies"][0]["state"] == "converged");
    verify_passes(&f);
    println!("agent: trunk0.10 deleted under 3 macvlans: all back after {took:?}");
}

/// The seed's shape through Docker (a container on two VLANs' Docker
/// networks, under names of its own so it runs beside the seed's tests):
/// `docker restart` gives a container a new namespace; the agent (which
/// follows Docker's events) attaches it again: a Docker-network
/// attachment, and one made by PID (a network without `docker: true`)
/// with the same MAC and addresses. A `docker network disconnect` by
/// someone else is connected again.
#[test]
fn docker_restarts_get_their_attachments_back() {
    if !has_8021q("docker_restarts_get_their_attachments_back") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(env) = rt.block_on(docker_env("docker_restarts_get_their_attachments_back")) else { return };
    let (c1, c2, d) = (env.container("c1"), env.container("c2"), env.container("d"));
    let p = unique("ag");
    let (n10, n20) = (format!("{p}n10"), format!("{p}n20"));
    let yaml = format!(
        "name: {p}\nnamespace: {ns}\nlab: {{ trunk: {p}t, router: {p}-rtr }}\nnetworks:\n  \
         {n10}: {{ parent: {p}t, vlan: 10, docker: true, subnets: [ {{ subnet: 10.71.10.0/24, gateway: 10.71.10.1 }}, {{ subnet: \"2001:db8:71:10::/64\", gateway: \"2001:db8:71:10::1\" }} ] }}\n  \
         {n20}: {{ parent: {p}t, vlan: 20, docker: true, subnets: [ {{ subnet: 10.71.20.0/24, gateway: 10.71.20.1 }} ] }}\n  \
         direct30: {{ parent: {p}t, vlan: 30, subnets: [ {{ subnet: 10.71.30.0/24 }} ] }}\nendpoints:\n  \
         c1: {{ container: {c1}, attach: [ {{ network: {n10}, ipv4: 10.71.10.3, ipv6: \"2001:db8:71:10::3\" }}, {{ network: {n20}, ipv4: 10.71.20.3 }} ] }}\n  \
         c2: {{ container: {c2}, attach: [ {{ network: {n20}, ipv4: 10.71.20.4 }} ] }}\n  \
         d: {{ container: {d}, attach: [ {{ network: direct30, ipv4: 10.71.30.5, name: eth5 }} ] }}\n",
        ns = env.netns,
        c1 = c1.name,
        c2 = c2.name,
        d = d.name,
    );
    let dir = Scratch::new("docker");
    let f = dir.0.join("docker.yaml");
    std::fs::write(&f, &yaml).unwrap();
    let t = vlanmac::topology::from_yaml(&yaml, "x").unwrap();
    let _guard = DockerTopoGuard(&env, t);
    let run = AgentRun::start(&[&f], &[("DOCKER_HOST", env.host.as_str())], &[]);
    let addrs = |c: &Container<'_>| c.exec(&["ip", "addr"]).1;
    let mac_of =
        |c: &Container<'_>, dev: &str| c.exec(&["cat", &format!("/sys/class/net/{dev}/address")]).1.trim().to_string();
    let before_mac = mac_of(&d, "eth5");
    assert!(addrs(&d).contains("10.71.30.5/24"), "{}", addrs(&d));
    let verify = || {
        let out = std::process::Command::new(cli_path())
            .arg("verify")
            .arg(&f)
            .env("DOCKER_HOST", &env.host)
            .output()
            .unwrap();
        let (o, e) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{o}{e}\nstatus: {}\nagent log:\n{}", run.status(), run.log());
    };
    verify();
    // c1 (Docker networks) and the PID-attached one, restarted.
    for c in [&c1, &d] {
        let (ok, _, err) = env.cli(&["restart", "-t", "0", &c.name]);
        assert!(ok, "docker restart {}: {err}", c.name);
    }
    run.wait_for("c1's attachments back", || {
        let a = addrs(&c1);
        a.contains("10.71.10.3/24") && a.contains("10.71.20.3/24") && a.contains("2001:db8:71:10::3/64")
    });
    run.wait_for("the PID-attached container's eth5 back", || addrs(&d).contains("10.71.30.5/24"));
    assert_eq!(mac_of(&d, "eth5"), before_mac, "a new MAC after the restart");
    // Someone disconnects c2 from its Docker network: connected again.
    let (ok, _, err) = env.cli(&["network", "disconnect", &n20, &c2.name]);
    assert!(ok, "docker network disconnect: {err}");
    run.wait_for("c2 connected again", || addrs(&c2).contains("10.71.20.4/24"));
    run.wait_until("converged again", |s| s["topologies"][0]["state"] == "converged");
    verify();
    let st = run.topology(&p);
    // The last repair connected c2 again (seen first through Docker's
    // events or through the parent's notification, whichever came first).
    let connect = format!("connect {} -> {n20}", c2.name);
    assert!(
        st["last_repair"]["changes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x.as_str().is_some_and(|x| x.contains(&connect)))),
        "{st}"
    );
    drop(run);
}

#[test]
fn cni_pods_gone_on_a_vlan_are_collected_and_the_vlan_with_the_last() {
    if !has_8021q("cni_pods_gone_on_a_vlan_are_collected_and_the_vlan_with_the_last") {
        return;
    }
    let Some(plugin) = crate::agent::cni_plugin() else {
        panic!("vlanmac-cni is not built beside the tests");
    };
    cni_collection(&plugin, Some(100));
}
