//! A Docker container on a DHCP-served network, attached directly by PID
//! (the pipework way: the network has no `docker: true`, so Docker's own
//! IPAM never sees it): vlanmac's client takes the lease inside the
//! container's namespace, the agent holds it, and after `docker restart`
//! (a new namespace) the agent attaches the container again with the same
//! MAC and takes the same address back. Oracles: `docker exec ... ip addr`,
//! the lab dnsmasq's lease file and log, `docker inspect`. Untagged: it
//! runs on this machine's kernel.

use crate::{agent_common::*, docker_common::*};
use vlanmac::topology::{dhcp::Lease, lab_server::LabServer, leases};

#[test]
fn a_restarted_container_attached_by_pid_gets_the_same_lease() {
    let test = "docker_dhcp::a_restarted_container_attached_by_pid_gets_the_same_lease";
    if !crate::dnsmasq::dnsmasq_available(test) {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(env) = rt.block_on(docker_env(test)) else { return };
    let d = env.container("dh");
    let p = unique("dh");
    let yaml = format!(
        "name: {p}\nnamespace: {ns}\nlab: {{ trunk: {p}t, router: {p}-rtr, dhcp_lease_time: 120 }}\nnetworks:\n  \
         lan: {{ parent: {p}t, dhcp: true, subnets: [ {{ subnet: 10.74.0.0/24, gateway: 10.74.0.1 }} ] }}\nendpoints:\n  \
         d: {{ container: {c}, attach: [ {{ network: lan, name: eth5 }} ] }}\n",
        ns = env.netns,
        c = d.name,
    );
    let dir = Scratch::new("dockerdhcp");
    let f = dir.0.join("docker-dhcp.yaml");
    std::fs::write(&f, &yaml).unwrap();
    let t = vlanmac::topology::from_yaml(&yaml, "x").unwrap();
    let _guard = DockerTopoGuard(&env, t);
    let run = AgentRun::start(&[&f], &[("DOCKER_HOST", env.host.as_str())], &[]);

    let addrs = || d.exec(&["ip", "-4", "addr", "show", "dev", "eth5"]).1;
    let mac = || d.exec(&["cat", "/sys/class/net/eth5/address"]).1.trim().to_string();
    let first: Lease = leases::load(&p, "d", "eth5").expect("the lease file of d eth5");
    let held = format!("{}/24", first.address);
    assert!(addrs().contains(&held), "the container does not hold its lease {held}:\n{}", addrs());
    let before_mac = mac();
    let server = LabServer::of_name(&p);
    let server_leases = || std::fs::read_to_string(server.leases_path()).unwrap_or_default();
    assert!(
        server_leases().lines().any(|l| l.contains(&before_mac) && l.contains(&first.address.to_string())),
        "the lab server's lease file does not map {before_mac} to {}:\n{}",
        first.address,
        server_leases()
    );
    // Docker knows nothing of it: the container is on `none` for Docker.
    let (ok, inspect, err) = env.cli(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", &d.name]);
    assert!(ok, "docker inspect: {err}");
    assert!(!inspect.contains(&first.address.to_string()) && inspect.contains("\"none\""), "{inspect}");

    // `docker restart`: a new namespace; the agent attaches it again, same
    // MAC, and the lease is asked for again: the same address.
    let (ok, _, err) = env.cli(&["restart", "-t", "0", &d.name]);
    assert!(ok, "docker restart: {err}");
    run.wait_for("the container's eth5 and its lease back", || addrs().contains(&held));
    assert_eq!(mac(), before_mac, "a new MAC after the restart");
    let again: Lease = leases::load(&p, "d", "eth5").expect("the lease file after the restart");
    assert_eq!(again.address, first.address);
    assert!(again.acquired >= first.acquired, "{first:?} -> {again:?}");
    let log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
    assert!(
        log.lines()
            .filter(|l| l.contains("DHCPACK(") && l.contains(&format!(") {} {before_mac}", first.address)))
            .count()
            >= 2,
        "the server did not acknowledge the same address twice:\n{log}"
    );
    drop(run);
}
