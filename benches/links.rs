//! Link-level throughput, measured side by side in one run, in fresh
//! namespaces (needs root): create N macvlans, each with one IPv4 address,
//! set up — with vlanmac (sequential, one handle; with and without IPv6
//! address generation) and with `ip -batch` —
//! plus the round trip of one link lookup against a raw RTM_GETLINK.
//!
//!     cargo bench --bench links -- [N] [ROUNDS]
//!
//! Prints medians of ROUNDS (default 3) and the ratios.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use netlink_packet_core::{NetlinkMessage, NLM_F_REQUEST};
use netlink_packet_route::{
    link::{LinkAttribute, LinkMessage},
    RouteNetlinkMessage,
};
use vlanmac::{
    link::{Macvlan, NewLink, Veth},
    netns,
    spec::{AddressSpec, IfName, MacvlanMode, NetnsName},
    Netlink, NetnsRef,
};

struct Ns(NetnsName);
impl Ns {
    fn new(tag: &str) -> Ns {
        let n = NetnsName::new(format!("vmb-{}-{tag}", std::process::id())).unwrap();
        netns::create_blocking(&n).unwrap();
        Ns(n)
    }
}
impl Drop for Ns {
    fn drop(&mut self) {
        let _ = netns::delete_blocking(&self.0);
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn vlanmac_create(n: usize, round: usize, ipv6_addrgen: bool) -> Duration {
    let ns = Ns::new(&format!("v{round}{}", if ipv6_addrgen { "" } else { "n" }));
    let nl = Netlink::open(NetnsRef::Named(ns.0.clone())).await.unwrap();
    nl.add_link(&NewLink::new(name("t0"), Veth::new(name("t1")))).await.unwrap();
    let start = Instant::now();
    for i in 0..n {
        let dev = name(&format!("mv{i}"));
        let mut spec = NewLink::new(dev.clone(), Macvlan::new(name("t0"), MacvlanMode::Bridge));
        if !ipv6_addrgen {
            spec = spec.ipv6_addrgen(false);
        }
        nl.add_link(&spec).await.unwrap();
        let a: AddressSpec = format!("10.{}.{}.1/32", i / 250, i % 250).parse().unwrap();
        nl.add_address(&dev, &a).await.unwrap();
        nl.set_up(&dev, true).await.unwrap();
    }
    start.elapsed()
}

fn ip_batch_create(n: usize, round: usize) -> Duration {
    let ns = Ns::new(&format!("b{round}"));
    let nsn = ns.0.as_str();
    let mut script = String::from("link add t0 type veth peer name t1\n");
    let setup_len = script.len();
    for i in 0..n {
        script.push_str(&format!(
            "link add link t0 name mv{i} type macvlan mode bridge\naddr add 10.{}.{}.1/32 dev mv{i}\nlink set mv{i} up\n",
            i / 250,
            i % 250
        ));
    }
    let run = |s: &str| {
        let mut c = Command::new("ip").args(["-n", nsn, "-batch", "-"]).stdin(Stdio::piped()).spawn().unwrap();
        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success());
    };
    run(&script[..setup_len]);
    let start = Instant::now();
    run(&script[setup_len..]);
    start.elapsed()
}

/// One RTM_GETLINK for `lo` on a plain blocking socket: the floor.
fn raw_getlink(iters: usize) -> Duration {
    let mut s = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE).unwrap();
    s.bind_auto().unwrap();
    s.connect(&netlink_sys::SocketAddr::new(0, 0)).unwrap();
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName("lo".into()));
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::GetLink(m));
    req.header.flags = NLM_F_REQUEST;
    req.finalize();
    let mut buf = vec![0; req.buffer_len()];
    req.serialize(&mut buf);
    let mut rx = vec![0u8; 65536];
    let start = Instant::now();
    for _ in 0..iters {
        s.send(&buf, 0).unwrap();
        s.recv(&mut &mut rx[..], 0).unwrap();
    }
    start.elapsed() / iters as u32
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(100);
    let rounds = args.get(1).copied().unwrap_or(3).max(1);
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("benches/links: needs root (creates namespaces); skipped");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut ours = Vec::new();
    let mut flat = Vec::new();
    let mut batch = Vec::new();
    for r in 0..rounds {
        ours.push(rt.block_on(vlanmac_create(n, r, true)));
        flat.push(rt.block_on(vlanmac_create(n, r, false)));
        batch.push(ip_batch_create(n, r));
    }
    let iters = 2000;
    let floor = raw_getlink(iters);
    let lookup = rt.block_on(async {
        let nl = Netlink::current().await.unwrap();
        let lo = name("lo");
        let start = Instant::now();
        for _ in 0..iters {
            nl.link(&lo).await.unwrap();
        }
        start.elapsed() / iters as u32
    });
    let (o, f, b) = (median(ours), median(flat), median(batch));
    println!("create {n} macvlans + IPv4 + up, median of {rounds}:");
    println!("  {:<36} {:>10.1} ms", "vlanmac (sequential)", o.as_secs_f64() * 1e3);
    println!("  {:<36} {:>10.1} ms", "vlanmac, IPv6 addrgen none", f.as_secs_f64() * 1e3);
    println!("  {:<36} {:>10.1} ms", "ip -batch", b.as_secs_f64() * 1e3);
    println!("  ratio ip -batch / vlanmac: {:.2}", b.as_secs_f64() / o.as_secs_f64());
    println!("  ratio ip -batch / vlanmac addrgen none: {:.2}", b.as_secs_f64() / f.as_secs_f64());
    println!("one link lookup, mean of {iters}:");
    println!("  {:<28} {:>10.1} us", "raw RTM_GETLINK (floor)", floor.as_secs_f64() * 1e6);
    println!("  {:<28} {:>10.1} us", "vlanmac Netlink::link", lookup.as_secs_f64() * 1e6);
}
