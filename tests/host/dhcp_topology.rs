//! Topologies whose addresses are served: `ipv4: dhcp` and `ipv6: slaac`
//! attachments on `dhcp: true` networks. The far end is a real server:
//! the lab's dnsmasq that `apply` starts on the lab router, or a dnsmasq the
//! test runs itself (tests/host/dnsmasq.rs). Oracles: `ip -j addr` /
//! `ip -j route` in the endpoints, the server's own lease file, and the
//! server's process (gone after `down`).
//!
//! Untagged networks run on any kernel; the seed with container2 served on
//! VLAN 20 needs 802.1Q (the kernel VM).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{common::*, dnsmasq::Dnsmasq, topo_common::*};
use vlanmac::topology::{self, Options};

/// Global addresses of `dev` in `ns` as (address, prefix, valid_life_time, dynamic).
fn global_addrs(ns: &str, dev: &str) -> Vec<(String, u64, u64, bool)> {
    let v = ip_json(Some(ns), &["addr", "show", "dev", dev]);
    v[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["scope"] == "global")
        .map(|a| {
            (
                a["local"].as_str().unwrap_or("").to_string(),
                a["prefixlen"].as_u64().unwrap_or(0),
                a["valid_life_time"].as_u64().unwrap_or(0),
                a["dynamic"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn default_route(ns: &str, family: &str) -> Option<(String, String)> {
    let v: Value = ip_json(Some(ns), &[family, "route", "show", "default"]);
    let r = v.as_array()?.first()?;
    Some((r["gateway"].as_str()?.to_string(), r["dev"].as_str()?.to_string()))
}

/// The lab's dnsmasq of topology `name`, if it runs: its PID.
fn lab_server_pid(name: &str) -> Option<u32> {
    let stem = topology::lab_server::LabServer::of_name(name);
    stem.running()
}

fn flat_served_yaml(p: &str) -> String {
    format!(
        r#"
name: {p}
namespace: {p}-host
lab: {{ trunk: eth0, router: {p}-rtr, dhcp_lease_time: 120 }}
networks:
  lan:
    parent: eth0
    dhcp: true
    subnets:
      - {{ subnet: 10.78.0.0/24, gateway: 10.78.0.1, ip_range: 10.78.0.128/25 }}
      - {{ subnet: "2001:db8:78::/64", gateway: "2001:db8:78::1" }}
endpoints:
  {p}-a: {{ attach: [ {{ network: lan, ipv4: dhcp, ipv6: slaac }} ] }}
  {p}-b: {{ attach: [ {{ network: lan, ipv4: 10.78.0.10 }} ] }}
"#
    )
}

#[tokio::test]
async fn a_lab_network_serves_dhcp_and_slaac_from_apply_to_down() {
    let test = "dhcp_topology::a_lab_network_serves_dhcp_and_slaac_from_apply_to_down";
    if !crate::dnsmasq::dnsmasq_available(test) {
        return;
    }
    let p = format!("dt{}", std::process::id());
    let t = topology::from_yaml(&flat_served_yaml(&p), "x").unwrap();
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let guard = TopoGuard(t.clone());
    let (a, b) = (format!("{p}-a"), format!("{p}-b"));

    let res = t.apply(&Options::default()).await.unwrap();
    // The lease: from the lab server's range, installed with its lifetime.
    assert_eq!(res.leases.len(), 1, "{res}");
    let lease = &res.leases[0];
    let leased = lease.address.to_string();
    assert!(lease.address.octets()[..3] == [10, 78, 0] && lease.address.octets()[3] >= 128, "{leased}");
    assert!(res.addresses.iter().any(|x| x.endpoint == a && x.address == std::net::IpAddr::V4(lease.address)));
    let v4: Vec<_> = global_addrs(&a, "eth0").into_iter().filter(|x| !x.0.contains(':')).collect();
    assert_eq!(v4.len(), 1, "{v4:?}");
    assert_eq!((v4[0].0.as_str(), v4[0].1), (leased.as_str(), 24));
    assert!(v4[0].2 > 0 && v4[0].2 <= 120, "valid_lft is the lease's: {v4:?}");
    assert_eq!(default_route(&a, "-4"), Some(("10.78.0.1".into(), "eth0".into())));
    // SLAAC: an address from the advertised prefix, the router as default.
    let v6: Vec<_> = global_addrs(&a, "eth0").into_iter().filter(|x| x.0.contains(':')).collect();
    assert!(v6.iter().any(|x| x.0.starts_with("2001:db8:78:0:") && x.1 == 64 && x.3), "{v6:?}");
    let (gw6, dev6) = default_route(&a, "-6").expect("a default route from the advertisement");
    assert!(gw6.starts_with("fe80:") && dev6 == "eth0", "{gw6} {dev6}");
    // The static endpoint takes no advertisement: its address is IPAM's only.
    let b6: Vec<_> = global_addrs(&b, "eth0").into_iter().filter(|x| x.0.contains(':')).collect();
    assert!(b6.iter().all(|x| !x.3), "b formed a SLAAC address: {b6:?}");
    // The server's own lease file maps a's MAC to that address.
    let mac = ip_json(Some(&a), &["link", "show", "dev", "eth0"])[0]["address"].as_str().unwrap().to_string();
    let server = topology::lab_server::LabServer::of_name(&p);
    let server_leases = std::fs::read_to_string(server.leases_path()).unwrap();
    assert!(server_leases.lines().any(|l| l.contains(&mac) && l.contains(&leased)), "{server_leases}");
    let pid = lab_server_pid(&p).expect("the lab server runs");

    // plan: nothing to change; the lease shown as held.
    let plan = t.plan(&Options::default()).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    let text = plan.to_string();
    assert!(text.contains(&format!("address eth0 dhcp (lease {leased}, ")), "{text}");
    // A second apply keeps the lease and changes nothing.
    let again = t.apply(&Options::default()).await.unwrap();
    assert!(!again.changed, "{again}");

    // verify: the lease checks (the server's file among them), then pings
    // and hop counts to the leased address as to any endpoint's.
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    for what in ["dhcp lease", "dhcp range", "dhcp server lease", "slaac address", "slaac route"] {
        assert!(report.checks.iter().any(|c| c.to == what && c.ok), "no passed {what} check\n{report}");
    }
    assert!(report.checks.iter().any(|c| c.to.ends_with(&leased) && c.ok), "no probe to {leased}\n{report}");

    // down: the lease given back, the server stopped, nothing left.
    let down = t.down(&Options::default()).await.unwrap();
    let lines = down.removed.join("\n");
    assert!(lines.contains(&format!("dhcp lease {leased} of {a} eth0 (DHCPRELEASE sent)")), "{lines}");
    assert!(lines.contains(&format!("lab DHCP server (dnsmasq pid {pid})")), "{lines}");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "dnsmasq {pid} still runs");
    assert!(!topology::lab_server::state_dir(&p).exists(), "state left in /run/vlanmac");
    drop(guard);
    assert_eq!(snapshot(&names), before);
}

/// A topology on a trunk whose far end the test serves itself (a network
/// with `dhcp: true` and no lab): the DHCPRELEASE of `down` is seen in the
/// server's lease file, and a re-created endpoint gets the same address.
#[tokio::test]
async fn an_outside_server_sees_the_same_mac_again_and_the_release() {
    let test = "dhcp_topology::an_outside_server_sees_the_same_mac_again_and_the_release";
    let host = TestNs::new("dhh");
    let far = TestNs::new("dhs");
    veth_trunk(&host, &far, "t0", "s0").await;
    far.ip(&["addr", "add", "10.79.0.1/24", "dev", "s0"]);
    let Some(server) = Dnsmasq::start(test, far.name.as_str(), "s0", "10.79.0.100", "10.79.0.199", "10.79.0.1") else {
        return;
    };
    let p = format!("do{}", std::process::id());
    let yaml = format!(
        r#"
name: {p}
namespace: {host}
networks:
  lan: {{ parent: t0, dhcp: true }}
endpoints:
  {p}-a: {{ attach: [ {{ network: lan }} ] }}
"#,
        host = host.name
    );
    let t = topology::from_yaml(&yaml, "x").unwrap();
    assert!(t.endpoints[0].attach[0].ipv4_dhcp, "ipv4 defaults to dhcp on a dhcp network");
    let guard = TopoGuard(t.clone());
    let a = format!("{p}-a");
    let first = t.apply(&Options::default()).await.unwrap();
    let leased = first.leases[0].address;
    let mac = ip_json(Some(&a), &["link", "show", "dev", "eth0"])[0]["address"].as_str().unwrap().to_string();
    server.wait_leases("a's lease", |l| l.iter().any(|x| x.mac == mac && x.addr == leased));
    // The endpoint re-created (its namespace deleted, the lease file kept):
    // the same deterministic MAC, the same address asked for again.
    run_ip(&["netns", "del", &a]);
    let second = t.apply(&Options::default()).await.unwrap();
    assert_eq!(second.leases[0].address, leased, "{second}");
    let mac2 = ip_json(Some(&a), &["link", "show", "dev", "eth0"])[0]["address"].as_str().unwrap().to_string();
    assert_eq!(mac2, mac);
    // down: DHCPRELEASE, which the server records by dropping the lease.
    let down = t.down(&Options::default()).await.unwrap();
    assert!(down.removed.iter().any(|l| l.contains("DHCPRELEASE sent")), "{down}");
    server.wait_leases("the release", |l| !l.iter().any(|x| x.mac == mac));
    drop(guard);
}

/// `dhcp_use: [mtu, dns, domain]`: the server's MTU, DNS servers and domain
/// applied (the interface's MTU, the namespace's resolv.conf that `ip netns
/// exec` shows as /etc/resolv.conf), reported in the result, checked by
/// verify, and the resolv.conf gone with `down`. Without `dhcp_use` they
/// are reported only.
#[tokio::test]
async fn dhcp_use_applies_the_servers_mtu_dns_and_domain() {
    let test = "dhcp_topology::dhcp_use_applies_the_servers_mtu_dns_and_domain";
    let host = TestNs::new("duh");
    let far = TestNs::new("dus");
    veth_trunk(&host, &far, "t0", "s0").await;
    far.ip(&["addr", "add", "10.84.0.1/24", "dev", "s0"]);
    let extra = ["--dhcp-option=option:mtu,1400", "--dhcp-option=option:dns-server,10.84.0.53,10.84.0.54"];
    let Some(_server) =
        Dnsmasq::start_with(test, far.name.as_str(), "s0", "10.84.0.100", "10.84.0.199", "10.84.0.1", &extra)
    else {
        return;
    };
    let p = format!("du{}", std::process::id());
    let (a, b) = (format!("{p}-a"), format!("{p}-b"));
    let yaml = format!(
        r#"
name: {p}
namespace: {host}
networks:
  lan: {{ parent: t0, dhcp: true, dhcp_use: [mtu, dns, domain] }}
  plain: {{ parent: t0, dhcp: true }}
endpoints:
  {a}: {{ attach: [ {{ network: lan }} ] }}
  {b}: {{ attach: [ {{ network: plain }} ] }}
"#,
        host = host.name
    );
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let guard = TopoGuard(t.clone());
    let res = t.apply(&Options::default()).await.unwrap();
    let la = res.leases.iter().find(|l| l.endpoint == a).expect("a's lease");
    assert_eq!(la.mtu, Some(1400), "{la:?}");
    assert_eq!(la.domain.as_deref(), Some("lab.example"));
    assert_eq!(la.dns, ["10.84.0.53".parse::<std::net::Ipv4Addr>().unwrap(), "10.84.0.54".parse().unwrap()]);
    let mtu = |ns: &str| ip_json(Some(ns), &["link", "show", "dev", "eth0"])[0]["mtu"].as_u64();
    assert_eq!(mtu(&a), Some(1400), "a's MTU is not the server's");
    assert_eq!(mtu(&b), Some(1500), "b (no dhcp_use) took the server's MTU");
    // The oracle: what a program in the namespace sees as /etc/resolv.conf.
    let resolv = |ns: &str| {
        let out = std::process::Command::new(ip_bin()).args(["netns", "exec", ns, "cat", "/etc/resolv.conf"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    };
    let seen = resolv(&a);
    for line in ["search lab.example", "nameserver 10.84.0.53", "nameserver 10.84.0.54"] {
        assert!(
            seen.lines().any(|l| l == line),
            "no `{line}` in a's /etc/resolv.conf:
{seen}"
        );
    }
    assert!(!std::path::Path::new(&format!("/etc/netns/{b}")).exists(), "b got a resolv.conf");
    assert!(res.leases.iter().find(|l| l.endpoint == b).is_some_and(|l| l.mtu == Some(1400)), "reported for b too");
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    for what in ["dhcp mtu", "dhcp resolv.conf"] {
        assert!(report.checks.iter().any(|c| c.to == what && c.ok), "no passed {what} check\n{report}");
    }
    // Someone rewrites the resolv.conf: verify says so.
    std::fs::write(format!("/etc/netns/{a}/resolv.conf"), "nameserver 192.0.2.1\n").unwrap();
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.checks.iter().any(|c| c.to == "dhcp resolv.conf" && !c.ok), "{report}");
    t.apply(&Options::default()).await.unwrap();
    t.down(&Options::default()).await.unwrap();
    // The second apply saw the rewrite and wrote it again; down removed it.
    assert!(!std::path::Path::new(&format!("/etc/netns/{a}")).exists(), "the resolv.conf left behind");
    drop(guard);
}

/// No server answers: apply fails within its timeout, naming the endpoint
/// and network, and leaves nothing behind (no namespace, no lease file).
#[tokio::test]
async fn no_server_fails_the_apply_within_the_timeout_rolled_back() {
    let host = TestNs::new("dhn");
    let far = TestNs::new("dhq");
    veth_trunk(&host, &far, "t0", "s0").await;
    let p = format!("dn{}", std::process::id());
    let yaml = format!(
        r#"
name: {p}
namespace: {host}
networks:
  lan: {{ parent: t0, dhcp: true }}
endpoints:
  {p}-a: {{ attach: [ {{ network: lan, ipv4: dhcp }} ] }}
"#,
        host = host.name
    );
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let _guard = TopoGuard(t.clone());
    let start = Instant::now();
    let opts = Options { dhcp_timeout: Some(Duration::from_secs(2)), ..Options::default() };
    let err = t.apply(&opts).await.unwrap_err();
    let took = start.elapsed();
    // Typed: the failed step's cause is a DHCP failure naming the interface.
    let failure = topology::DhcpFailure::of(&err).expect("a DhcpFailure inside the apply's error");
    assert_eq!(failure.interface, format!("endpoint {p}-a eth0 on network lan"));
    assert!(failure.reason.contains("no answer"), "{failure:?}");
    let err = err.to_string();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(err.contains(&format!("endpoint {p}-a eth0 on network lan")), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(snapshot(&names), before, "the failed apply left something");
    assert!(!topology::leases::lease_path(&p, &format!("{p}-a"), "eth0").exists());
    // The CLI says the same, with its own timeout flag.
    let file = write_temp(&format!("{p}.yaml"), &yaml);
    let (code, _, stderr) = cli(&["apply", file.to_str().unwrap(), "--dhcp-timeout", "1"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("endpoint {p}-a eth0 on network lan")), "{stderr}");
    assert_eq!(snapshot(&names), before, "the failed CLI apply left something");
}
