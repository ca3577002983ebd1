//! DHCP leases for N endpoints from the lab's dnsmasq (Debian's, the
//! fixture of tests/host/dnsmasq.rs), side by side in one run:
//!
//! - vlanmac's client (`vlanmac::topology::dhcp::exchange`): every
//!   endpoint in one call (one thread, one socket per endpoint), and one
//!   call per endpoint in turn;
//! - Debian's `dhclient -1` (isc-dhcp-client) and busybox `udhcpc -q -n`,
//!   run in each endpoint's namespace with `ip netns exec`, one after
//!   another and 16 at a time.
//!
//! Each endpoint is a namespace with a macvlan `eth0` on one trunk; the
//! server runs in a namespace at the trunk's far end and starts afresh (an
//! empty lease file) for every way and round. What is timed is getting the
//! lease (DISCOVER, OFFER, REQUEST, ACK): the external clients run with a
//! no-op script (`-sf /bin/true`, `-s /bin/true`), so none of them puts the
//! address on the interface (dhclient's own script would also rewrite the
//! machine's /etc/resolv.conf). dhclient runs in the foreground (`-d`, it
//! would stay as a daemon otherwise): its lease is there when its lease file
//! has it (polled every 0.2 ms); then the bench stops and reaps it.
//!
//! `cargo bench --bench dhcp -- N ROUNDS` (default 100 3).

#[path = "common/mod.rs"]
mod bench;
#[allow(dead_code)]
#[path = "../tests/host/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/host/dnsmasq.rs"]
mod dnsmasq;

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use bench::{arg, median, plugin::run_pairs, Ns};
use dnsmasq::Dnsmasq;
use vlanmac::{
    link::{Macvlan, NewLink, Veth},
    spec::{IfName, MacAddr, MacvlanMode},
    topology::dhcp::{self, Goal, Interface},
    Netlink, NetnsRef,
};

fn name(s: &str) -> IfName {
    IfName::new(s).expect("ifname")
}

/// The switch (trunk `t0`), the server's namespace (`s0`, 10.79.0.1/24),
/// and N endpoint namespaces with `eth0` on the trunk.
struct Lab {
    endpoints: Vec<Ns>,
    server: Ns,
    _switch: Ns,
    dir: PathBuf,
}

impl Lab {
    async fn new(n: usize) -> Lab {
        let switch = Ns::new("dhsw");
        let server = Ns::new("dhsrv");
        let sw = Netlink::open(NetnsRef::Named(switch.0.clone())).await.expect("open");
        let srv = Netlink::open(NetnsRef::Named(server.0.clone())).await.expect("open");
        sw.add_link(&NewLink::new(name("t0"), Veth::new(name("s0")).peer_in(&srv))).await.expect("trunk");
        sw.set_up(&name("t0"), true).await.expect("up");
        srv.set_up(&name("s0"), true).await.expect("up");
        srv.add_address(&name("s0"), &"10.79.0.1/24".parse().expect("addr")).await.expect("address");
        let mut endpoints = Vec::new();
        for i in 0..n {
            let ns = Ns::new(&format!("dh{i}"));
            let nl = Netlink::open(NetnsRef::Named(ns.0.clone())).await.expect("open");
            let mac = MacAddr::new([0x02, 0x79, 0, 0, (i >> 8) as u8, i as u8]).expect("mac");
            let spec = NewLink::new(name("eth0"), Macvlan::new(name("t0"), MacvlanMode::Bridge)).mac(mac).up();
            sw.add_link_into(&spec, &nl).await.expect("endpoint");
            endpoints.push(ns);
        }
        let dir = std::env::temp_dir().join(format!("vlanmac-bench-dhcp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Lab { endpoints, server, _switch: switch, dir }
    }

    fn serve(&self) -> Dnsmasq {
        Dnsmasq::start("bench dhcp", self.server.name(), "s0", "10.79.0.10", "10.79.0.250", "10.79.0.1")
            .expect("dnsmasq (dnsmasq-base) is needed")
    }

    fn interface(&self, i: usize) -> Interface {
        let mac = MacAddr::new([0x02, 0x79, 0, 0, (i >> 8) as u8, i as u8]).expect("mac");
        Interface::new(NetnsRef::Named(self.endpoints[i].0.clone()), name("eth0"), mac)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a client command in endpoint `ns`; panics with its output if it
/// failed.
fn run_in(ns: &str, args: &[&str]) {
    let out = Command::new(common::ip_bin()).args(["netns", "exec", ns]).args(args).output().expect("run a client");
    assert!(
        out.status.success(),
        "{args:?} in {ns}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `dhclient -1 -d` (in the foreground, so it stays this bench's child):
/// done when its lease file holds the lease; then stopped and reaped.
fn dhclient(lab: &Lab, i: usize) {
    let (pid, leases) = (lab.dir.join(format!("dhclient-{i}.pid")), lab.dir.join(format!("dhclient-{i}.leases")));
    let _ = std::fs::remove_file(&leases);
    let mut child = Command::new(common::ip_bin())
        .args(["netns", "exec", lab.endpoints[i].name(), "dhclient", "-1", "-4", "-d", "-sf", "/bin/true"])
        .arg("-pf")
        .arg(&pid)
        .arg("-lf")
        .arg(&leases)
        .arg("eth0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run dhclient");
    let start = Instant::now();
    let got = loop {
        if std::fs::read_to_string(&leases).is_ok_and(|l| l.contains("fixed-address")) {
            break true;
        }
        if start.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some() {
            break false;
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&pid);
    assert!(got, "dhclient in {} got no lease", lab.endpoints[i].name());
}

fn udhcpc(lab: &Lab, i: usize) {
    run_in(
        lab.endpoints[i].name(),
        &["busybox", "udhcpc", "-q", "-n", "-f", "-i", "eth0", "-s", "/bin/true", "-t", "5"],
    );
}

/// The wall time of one way, with a fresh server; checks the server's
/// lease file has a lease per endpoint.
fn once(lab: &Lab, way: &dyn Fn(&Lab)) -> Duration {
    let server = lab.serve();
    let start = Instant::now();
    way(lab);
    let took = start.elapsed();
    let leases = server.leases();
    assert_eq!(leases.len(), lab.endpoints.len(), "leases: {leases:?}");
    took
}

/// A way to get every endpoint its lease: its label and what it runs.
type Way<'a> = (String, Box<dyn Fn(&Lab) + 'a>);

fn main() {
    if !bench::is_root() {
        eprintln!("bench dhcp: needs root");
        return;
    }
    let n: usize = arg(0, 100);
    let rounds: usize = arg(1, 3);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let lab = rt.block_on(Lab::new(n));
    let vlanmac_all = |lab: &Lab| {
        let jobs = (0..n).map(|i| (lab.interface(i), Goal::Acquire { previous: None })).collect();
        let out = rt.block_on(dhcp::exchange(jobs, Duration::from_secs(30))).expect("exchange");
        assert!(out.iter().all(|r| r.is_ok()), "{:?}", out.iter().find(|r| r.is_err()));
    };
    let vlanmac_each = |lab: &Lab| {
        for i in 0..n {
            let job = vec![(lab.interface(i), Goal::Acquire { previous: None })];
            let out = rt.block_on(dhcp::exchange(job, Duration::from_secs(30))).expect("exchange");
            assert!(out[0].is_ok(), "{:?}", out[0]);
        }
    };
    let ways: Vec<Way> = vec![
        (format!("vlanmac, all {n} in one call"), Box::new(vlanmac_all)),
        ("vlanmac, one call per endpoint in turn".into(), Box::new(vlanmac_each)),
        ("dhclient -1, one after another".into(), Box::new(|lab: &Lab| drop(run_pairs(n, 1, |i| dhclient(lab, i))))),
        ("dhclient -1, 16 at a time".into(), Box::new(|lab: &Lab| drop(run_pairs(n, 16, |i| dhclient(lab, i))))),
        ("udhcpc -q -n, one after another".into(), Box::new(|lab: &Lab| drop(run_pairs(n, 1, |i| udhcpc(lab, i))))),
        ("udhcpc -q -n, 16 at a time".into(), Box::new(|lab: &Lab| drop(run_pairs(n, 16, |i| udhcpc(lab, i))))),
    ];
    // Rounds interleave the ways, so a slow spell of the machine falls on all.
    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); ways.len()];
    for _ in 0..rounds {
        for (w, (_, way)) in ways.iter().enumerate() {
            walls[w].push(once(&lab, way.as_ref()));
        }
    }
    let medians: Vec<Duration> = walls.into_iter().map(median).collect();
    let reference = medians[0];
    println!("\n## DHCP: {n} endpoints get a lease from dnsmasq; medians of {rounds} rounds\n");
    println!("| way | wall, all {n} | per endpoint | vs vlanmac, all in one call |");
    println!("|---|---|---|---|");
    for ((label, _), m) in ways.iter().zip(&medians) {
        println!(
            "| {label} | {:.1} ms | {:.2} ms | {:.2}x |",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e3 / n as f64,
            m.as_secs_f64() / reference.as_secs_f64().max(1e-9)
        );
    }
    drop(lab);
}
