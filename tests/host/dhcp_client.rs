//! vlanmac's DHCP client (`vlanmac::topology::dhcp`) against a real server:
//! Debian's dnsmasq in a namespace of its own at the far end of a veth
//! trunk, the clients on macvlans of the trunk in namespaces of their own.
//! The server's lease file is the oracle (which MAC holds which address),
//! with `ip -j addr` / `ip -j route` for what the client installed.

use std::{
    net::Ipv4Addr,
    time::{Duration, Instant},
};

use crate::{common::*, dnsmasq::Dnsmasq};
use vlanmac::{
    link::{Macvlan, NewLink},
    spec::{MacAddr, MacvlanMode},
    topology::{
        dhcp::{self, Goal, Interface},
        Error,
    },
};

/// The lab: a server namespace with dnsmasq on `s0` (10.77.0.1/24, range
/// .100–.199), the trunk `t0` in a switch namespace. The server stops
/// before the namespaces go (fields drop in order).
struct Lab {
    server_process: Option<Dnsmasq>,
    switch: TestNs,
    _server: TestNs,
}

const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

impl Lab {
    async fn new(test: &str, serve: bool) -> Option<Lab> {
        let tag = test.trim_start_matches("dhcp_client::").get(..6).unwrap_or("dh");
        let switch = TestNs::new(&format!("{tag}sw"));
        let server = TestNs::new(&format!("{tag}srv"));
        veth_trunk(&switch, &server, "t0", "s0").await;
        server.ip(&["addr", "add", "10.77.0.1/24", "dev", "s0"]);
        let server_process = if serve {
            Some(Dnsmasq::start(test, server.name.as_str(), "s0", "10.77.0.100", "10.77.0.199", "10.77.0.1")?)
        } else {
            None
        };
        Some(Lab { server_process, switch, _server: server })
    }

    fn server(&self) -> &Dnsmasq {
        self.server_process.as_ref().expect("this lab serves DHCP")
    }

    fn log(&self) -> String {
        self.server().log()
    }

    /// (MAC, address) per lease in the server's lease file.
    fn leases(&self) -> Vec<(String, Ipv4Addr)> {
        self.server().leases().into_iter().map(|l| (l.mac, l.addr)).collect()
    }

    /// A client namespace with macvlan `eth0` (MAC `mac`) on the trunk, up.
    async fn client(&self, tag: &str, mac: MacAddr) -> (TestNs, Interface) {
        let ns = TestNs::new(tag);
        let sw = self.switch.nl().await;
        let target = ns.nl().await;
        let spec = NewLink::new(n("eth0"), Macvlan::new(n("t0"), MacvlanMode::Bridge)).mac(mac).up();
        sw.add_link_into(&spec, &target).await.unwrap();
        let iface = Interface::new(ns.as_ref(), n("eth0"), mac);
        (ns, iface)
    }
}

fn mac(i: u8) -> MacAddr {
    MacAddr::new([0x02, 0x77, 0, 0, 0, i]).unwrap()
}

/// Waits for the server's lease file to say `pred` of (MAC, address) pairs.
fn wait_leases(lab: &Lab, what: &str, pred: impl Fn(&[(String, Ipv4Addr)]) -> bool) {
    lab.server().wait_leases(what, |l| {
        let pairs: Vec<(String, Ipv4Addr)> = l.iter().map(|x| (x.mac.clone(), x.addr)).collect();
        pred(&pairs)
    });
}

#[tokio::test]
async fn acquire_install_renew_release_against_dnsmasq() {
    let Some(lab) = Lab::new("dhcp_client::acquire", true).await else { return };
    let (ns, iface) = lab.client("dh1c", mac(1)).await;
    let mut out =
        dhcp::exchange(vec![(iface.clone(), Goal::Acquire { previous: None })], Duration::from_secs(10)).await.unwrap();
    let first = out.remove(0).unwrap();
    let lease = first.lease;
    assert!((100..200).contains(&lease.address.octets()[3]), "{lease:?}");
    assert_eq!((lease.prefix_len, lease.server, lease.router), (24, ROUTER, Some(ROUTER)));
    assert_eq!(lease.lease_secs, 120);
    assert_eq!(lease.domain.as_deref(), Some("lab.example"));
    assert!(first.naks.is_empty());
    // The server's own record: this MAC holds this address.
    wait_leases(&lab, "the lease", |l| l.contains(&(mac(1).to_string(), lease.address)));

    // Installed with the lease's lifetimes and its router as the default route.
    let nl = ns.nl().await;
    dhcp::install(&nl, &iface.ifname, &lease).await.unwrap();
    let a = ns.ip_json(&["addr", "show", "dev", "eth0"]);
    let info = a[0]["addr_info"].as_array().unwrap();
    let v4 = info.iter().find(|x| x["family"] == "inet").unwrap();
    assert_eq!(v4["local"], lease.address.to_string());
    let valid = v4["valid_life_time"].as_u64().unwrap();
    assert!(valid > 100 && valid <= 120, "valid_lft {valid}: {v4}");
    let routes = ns.ip_json(&["route", "show", "default"]);
    assert_eq!(routes[0]["gateway"], ROUTER.to_string(), "{routes}");
    assert_eq!(routes[0]["dev"], "eth0");

    // Renewal: unicast to the server, the same address, a later stamp.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut out =
        dhcp::exchange(vec![(iface.clone(), Goal::Renew(lease.clone()))], Duration::from_secs(10)).await.unwrap();
    let renewed = out.remove(0).unwrap().lease;
    assert_eq!(renewed.address, lease.address);
    assert!(renewed.acquired > lease.acquired, "{renewed:?} vs {lease:?}");
    assert!(lab.log().contains("DHCPREQUEST(s0) ") && lab.log().matches("DHCPACK(s0)").count() >= 2, "{}", lab.log());
    dhcp::install(&nl, &iface.ifname, &renewed).await.unwrap();

    // Release: the server forgets the lease; uninstall takes it off.
    dhcp::release(&iface, &renewed).await.unwrap();
    wait_leases(&lab, "no lease for the MAC", |l| !l.iter().any(|(m, _)| *m == mac(1).to_string()));
    assert!(lab.log().contains("DHCPRELEASE(s0)"), "{}", lab.log());
    dhcp::uninstall(&nl, &iface.ifname, &renewed).await.unwrap();
    assert!(ns.addrs("eth0").iter().all(|a| !a.starts_with(&renewed.address.to_string())));
    assert!(ns.ip_json(&["route", "show", "default"]).as_array().unwrap().is_empty());
    // Uninstalling again is not an error.
    dhcp::uninstall(&nl, &iface.ifname, &renewed).await.unwrap();
}

#[tokio::test]
async fn twenty_interfaces_acquire_at_once_all_distinct() {
    let Some(lab) = Lab::new("dhcp_client::twenty", true).await else { return };
    let mut held = Vec::new();
    let mut jobs = Vec::new();
    for i in 0..20u8 {
        let (ns, iface) = lab.client(&format!("dh20c{i}"), mac(10 + i)).await;
        held.push(ns);
        jobs.push((iface, Goal::Acquire { previous: None }));
    }
    let start = Instant::now();
    let out = dhcp::exchange(jobs, Duration::from_secs(10)).await.unwrap();
    let took = start.elapsed();
    let mut addrs: Vec<Ipv4Addr> =
        out.into_iter().map(|r| r.unwrap_or_else(|e| panic!("{e}\n{}", lab.log())).lease.address).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 20, "distinct addresses");
    wait_leases(&lab, "20 leases", |l| l.len() == 20);
    let leases = lab.leases();
    for i in 0..20u8 {
        assert!(leases.iter().any(|(m, a)| *m == mac(10 + i).to_string() && addrs.contains(a)), "{leases:?}");
    }
    eprintln!("20 leases at once in {took:?}");
}

#[tokio::test]
async fn the_same_mac_gets_the_same_address_back_and_a_refused_reboot_discovers() {
    let Some(lab) = Lab::new("dhcp_client::reboot", true).await else { return };
    let first = {
        let (ns, iface) = lab.client("dhrb1", mac(40)).await;
        let mut out =
            dhcp::exchange(vec![(iface, Goal::Acquire { previous: None })], Duration::from_secs(10)).await.unwrap();
        // The interface goes (now: a namespace's links go in the background,
        // and the MAC stays taken on the trunk until they have), the lease
        // stays.
        ns.nl().await.delete_link(&n("eth0")).await.unwrap();
        out.remove(0).unwrap().lease
    };
    // A re-created interface with the same MAC: DISCOVER gets the same address.
    let (_ns2, iface) = lab.client("dhrb2", mac(40)).await;
    let mut out =
        dhcp::exchange(vec![(iface.clone(), Goal::Acquire { previous: None })], Duration::from_secs(10)).await.unwrap();
    assert_eq!(out.remove(0).unwrap().lease.address, first.address);
    // INIT-REBOOT with the address held before: ACKed, no DISCOVER.
    let mut out =
        dhcp::exchange(vec![(iface.clone(), Goal::Acquire { previous: Some(first.address) })], Duration::from_secs(10))
            .await
            .unwrap();
    let o = out.remove(0).unwrap();
    assert_eq!((o.lease.address, o.naks.len()), (first.address, 0));
    // INIT-REBOOT with an address outside the range: the authoritative
    // server refuses (DHCPNAK), the client discovers and gets its own.
    let mut out = dhcp::exchange(
        vec![(iface, Goal::Acquire { previous: Some(Ipv4Addr::new(10, 77, 0, 20)) })],
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let o = out.remove(0).unwrap();
    assert_eq!(o.naks.len(), 1, "{o:?}\n{}", lab.log());
    assert_eq!(o.lease.address, first.address);
    assert!(lab.log().contains("DHCPNAK(s0)"), "{}", lab.log());
}

#[tokio::test]
async fn no_server_fails_within_the_timeout_naming_the_interface() {
    let Some(lab) = Lab::new("dhcp_client::noserv", false).await else { return };
    let (_ns, mut iface) = lab.client("dhnoc", mac(60)).await;
    iface.label = "endpoint c2 eth0 on network vlan20".into();
    let start = Instant::now();
    let mut out =
        dhcp::exchange(vec![(iface, Goal::Acquire { previous: None })], Duration::from_secs(2)).await.unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(4), "{took:?}");
    let err = out.remove(0).unwrap_err();
    assert!(matches!(err, Error::Dhcp { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("DHCP on endpoint c2 eth0 on network vlan20: no answer within 2.0 s: waiting for a DHCPOFFER"),
        "{text}"
    );
}

#[tokio::test]
async fn an_interface_that_does_not_exist_is_an_error_naming_it() {
    let ns = TestNs::new("dhmiss");
    let iface = Interface::new(ns.as_ref(), n("eth9"), mac(70));
    let err =
        dhcp::exchange(vec![(iface, Goal::Acquire { previous: None })], Duration::from_secs(1)).await.unwrap_err();
    assert!(err.to_string().contains("eth9 in netns"), "{err}");
}
