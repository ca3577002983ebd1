//! The agent holds DHCP leases over time (`vlanmac agent`, the CLI): it
//! renews at T1 with the same address, restarts the lab's DHCP server when
//! it dies, and — the server gone — rebinds, lets the kernel drop the
//! address at the lease's end, and takes a lease again once the server is
//! back. Leases are dnsmasq's shortest, 2 minutes (T1 60 s, T2 105 s): these
//! tests wait for real timers. Oracles: the lease files, `ip -j addr`, the
//! server's log and lease file, the agent's log.

use std::{
    net::Ipv4Addr,
    path::PathBuf,
    time::{Duration, Instant},
};

use crate::{agent_common::*, common::*, dnsmasq::Dnsmasq};
use vlanmac::topology::{dhcp::Lease, lab_server::LabServer, leases};

/// Waits up to `limit` for `ok`, polling every 200 ms.
fn wait(what: &str, limit: Duration, log: impl Fn() -> String, ok: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        assert!(t0.elapsed() < limit, "{what}: not after {limit:?}\nagent log:\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The IPv4 addresses of `dev` in `ns` with their valid lifetimes.
fn v4(ns: &str, dev: &str) -> Vec<(Ipv4Addr, u64)> {
    ip_json(Some(ns), &["-4", "addr", "show", "dev", dev])
        .get(0)
        .and_then(|l| l["addr_info"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| Some((a["local"].as_str()?.parse().ok()?, a["valid_life_time"].as_u64().unwrap_or(0))))
        .collect()
}

fn write_file(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_agent_renews_at_t1_and_restarts_the_lab_server() {
    let test = "agent_leases::the_agent_renews_at_t1_and_restarts_the_lab_server";
    if !crate::dnsmasq::dnsmasq_available(test) {
        return;
    }
    let p = format!("ar{}", std::process::id());
    let (a, files) = (format!("{p}-a"), Scratch::new("leases"));
    let yaml = format!(
        r#"
name: {p}
namespace: {p}-host
lab: {{ trunk: eth0, router: {p}-rtr, dhcp_lease_time: 120 }}
networks:
  lan:
    parent: eth0
    dhcp: true
    subnets: [ {{ subnet: 10.81.0.0/24, gateway: 10.81.0.1 }} ]
endpoints:
  {a}: {{ attach: [ {{ network: lan }} ] }}
"#
    );
    let file = write_file(&files.0, &p, &yaml);
    let agent = AgentRun::start(&[&file], &[], std::slice::from_ref(&file));
    let first: Lease = leases::load(&p, &a, "eth0").expect("the lease file");
    assert_eq!(first.lease_secs, 120);

    // T1 (60 s after the lease was granted): RENEWING, the same address,
    // the kernel's lifetime extended.
    let renewed = || leases::load(&p, &a, "eth0").is_some_and(|l| l.acquired > first.acquired);
    wait("a renewal at T1", Duration::from_secs(100), || agent.log(), renewed);
    let second = leases::load(&p, &a, "eth0").unwrap();
    assert_eq!(second.address, first.address);
    assert!(second.acquired >= first.acquired + 55, "renewed before T1: {first:?} -> {second:?}");
    let log = agent.log();
    let line = format!("lease of {a} eth0 {}: renewed for 120 s", first.address);
    assert!(log.contains(&line), "no `{line}` in the agent's log:\n{log}");
    println!("agent log: {}", log.lines().find(|l| l.contains(&line)).unwrap_or(""));
    let held = v4(&a, "eth0");
    assert!(held.iter().any(|(ip, lft)| *ip == first.address && *lft > 100), "{held:?}");
    let server = LabServer::of_name(&p);
    let server_log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
    assert!(
        server_log.matches(&format!("DHCPACK(eth0) {}", first.address)).count() >= 2,
        "the server never acknowledged the renewal:\n{server_log}"
    );

    // The lab's server killed: the agent starts it again.
    let pid = server.running().expect("the lab server runs");
    unsafe_kill(pid, libc::SIGKILL);
    wait(
        "the lab server started again",
        Duration::from_secs(30),
        || agent.log(),
        || server.running().is_some_and(|p| p != pid),
    );
    drop(agent);
}

#[test]
fn without_its_server_a_lease_lapses_and_comes_back_with_the_server() {
    let test = "agent_leases::without_its_server_a_lease_lapses_and_comes_back_with_the_server";
    let host = TestNs::new("alh");
    let far = TestNs::new("als");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(veth_trunk(&host, &far, "t0", "s0"));
    far.ip(&["addr", "add", "10.82.0.1/24", "dev", "s0"]);
    let Some(server) = Dnsmasq::start(test, far.name.as_str(), "s0", "10.82.0.100", "10.82.0.199", "10.82.0.1") else {
        return;
    };
    let p = format!("al{}", std::process::id());
    let (a, files) = (format!("{p}-a"), Scratch::new("lapse"));
    let yaml = format!(
        "name: {p}\nnamespace: {}\nnetworks:\n  lan: {{ parent: t0, dhcp: true }}\nendpoints:\n  {a}: {{ attach: [ {{ network: lan }} ] }}\n",
        host.name
    );
    let file = write_file(&files.0, &p, &yaml);
    let agent = AgentRun::start(&[&file], &[], std::slice::from_ref(&file));
    let first: Lease = leases::load(&p, &a, "eth0").expect("the lease file");
    drop(server); // the server goes (by its PID)

    // T1 and T2 pass unanswered; at the lease's end the kernel drops the
    // address (its lifetime was the lease's).
    let expires = Duration::from_secs(first.expires_at().saturating_sub(vlanmac::topology::dhcp::unix_now()));
    wait(
        "the address dropped at the lease's end",
        expires + Duration::from_secs(15),
        || agent.log(),
        || !v4(&a, "eth0").iter().any(|(ip, _)| *ip == first.address),
    );
    let log = agent.log();
    assert!(log.contains("not renewed") && log.contains("not rebound"), "no renew/rebind attempts:\n{log}");

    // The server back: a lease again (the same MAC, so the same address).
    let server = Dnsmasq::start(test, far.name.as_str(), "s0", "10.82.0.100", "10.82.0.199", "10.82.0.1").unwrap();
    wait("a lease again", Duration::from_secs(90), || agent.log(), || v4(&a, "eth0").iter().any(|(_, lft)| *lft > 0));
    let again = leases::load(&p, &a, "eth0").unwrap();
    assert!(again.acquired > first.acquired && v4(&a, "eth0").iter().any(|(ip, _)| *ip == again.address));
    server.wait_leases("the lease again", |l| l.iter().any(|x| x.addr == again.address));
    drop(agent);
}
