//! Link level, side by side in one run, in fresh namespaces (needs root):
//! create N macvlans in one namespace, each with one IPv4 address, set up —
//! with vlanmac (one packed [`Batch`]; and one call per step), `ip -batch`,
//! one `ip` process per step, and pyroute2 — then tear them down (vlanmac by
//! link group vs one by one), read them back (vlanmac vs `ip -j`), and time
//! one link lookup against a raw RTM_GETLINK round trip.
//!
//!     cargo bench --bench links -- [N] [ROUNDS]
//!
//! Medians of ROUNDS (default 3). `ip` per step and one-by-one deletion are
//! measured for N <= 1000 only unless VLANMAC_BENCH_SLOW=1 (they take
//! minutes at 4000). pyroute2 runs when VLANMAC_BENCH_PYTHON names a Python
//! that has it (`scripts/bench` sets this up).

mod common;

use std::time::{Duration, Instant};

use common::*;
use netlink_packet_core::{NetlinkMessage, NLM_F_REQUEST};
use netlink_packet_route::{
    link::{LinkAttribute, LinkMessage},
    RouteNetlinkMessage,
};
use vlanmac::{Netlink, NetnsRef};

/// vlanmac, one Batch; returns (create, read back, delete by group).
async fn vlanmac_batch(n: usize, ns: &Trunk, ipv6: bool) -> (Duration, Duration, Duration) {
    let nl = Netlink::open(NetnsRef::Named(ns.0 .0.clone())).await.expect("open");
    let create = create_with_batch(&nl, n, ipv6).await;
    let start = Instant::now();
    let links = nl.links().await.expect("links");
    let read = start.elapsed();
    assert_eq!(links.iter().filter(|l| l.name.starts_with("mv")).count(), n);
    let start = Instant::now();
    nl.delete_group(GROUP).await.expect("delete group");
    (create, read, start.elapsed())
}

/// vlanmac, one call per step (each a one-change batch).
async fn vlanmac_calls(n: usize, ns: &Trunk) -> Duration {
    let nl = Netlink::open(NetnsRef::Named(ns.0 .0.clone())).await.expect("open");
    create_with_calls(&nl, n).await
}

fn ip_script(n: usize, ns: Option<&str>) -> String {
    let pre = ns.map(|n| format!("-n {n} ")).unwrap_or_default();
    let mut s = String::new();
    for i in 0..n {
        let a = addr(i);
        s.push_str(&format!(
            "{pre}link add link t0 name mv{i} type macvlan mode bridge\n{pre}addr add {} dev mv{i}\n{pre}link set mv{i} up\n",
            a.net
        ));
    }
    s
}

const PYROUTE2: &str = r#"
import sys, time
from pyroute2 import NetNS
ns = NetNS(sys.argv[1]); n = int(sys.argv[2])
t0 = ns.link_lookup(ifname='t0')[0]
start = time.perf_counter()
for i in range(n):
    ns.link('add', ifname=f'mv{i}', kind='macvlan', link=t0, macvlan_mode='bridge')
    idx = ns.link_lookup(ifname=f'mv{i}')[0]
    ns.addr('add', index=idx, address=f'10.{i // 250}.{i % 250 + 1}.1', prefixlen=32)
    ns.link('set', index=idx, state='up')
print((time.perf_counter() - start) * 1e3)
ns.close()
"#;

const VLANMAC_PY: &str = r#"
import sys, time, vlanmac
n = int(sys.argv[2])
with vlanmac.Netlink(netns=sys.argv[1]) as nl:
    start = time.perf_counter()
    with nl.batch() as b:
        for i in range(n):
            b.add_macvlan('t0', f'mv{i}', mode='bridge', ipv6_addrgen=False)
            b.add_address(f'mv{i}', f'10.{i // 250}.{i % 250 + 1}.1/32')
            b.set_link(f'mv{i}', up=True)
    print((time.perf_counter() - start) * 1e3)
"#;

/// One RTM_GETLINK for `lo` on a plain blocking socket: the floor.
fn raw_getlink(iters: u32) -> Duration {
    let mut s = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE).expect("socket");
    s.bind_auto().expect("bind");
    s.connect(&netlink_sys::SocketAddr::new(0, 0)).expect("connect");
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
        s.send(&buf, 0).expect("send");
        s.recv(&mut &mut rx[..], 0).expect("recv");
    }
    start.elapsed() / iters
}

async fn lookups(iters: u32) -> Duration {
    let nl = Netlink::current().await.expect("open");
    let lo = name("lo");
    let start = Instant::now();
    for _ in 0..iters {
        nl.link(&lo).await.expect("lookup");
    }
    start.elapsed() / iters
}

fn main() {
    let n: usize = arg(0, 100);
    let rounds: usize = arg(1, 3).max(1);
    let slow = n <= 1000 || std::env::var("VLANMAC_BENCH_SLOW").is_ok_and(|v| v == "1");
    if !is_root() {
        eprintln!("benches/links: needs root (creates namespaces); skipped");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (mut batch, mut batch6, mut calls, mut ipb, mut step, mut py, mut vpy) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut read, mut ipread, mut delgroup, mut delone) = (vec![], vec![], vec![], vec![]);
    for r in 0..rounds {
        let ns = with_trunk(&format!("b{r}"));
        let (c, rd, d) = rt.block_on(vlanmac_batch(n, &ns, false));
        batch.push(c);
        read.push(rd);
        delgroup.push(d);
        drop(ns);

        let ns = with_trunk(&format!("6{r}"));
        batch6.push(rt.block_on(vlanmac_batch(n, &ns, true)).0);
        drop(ns);

        let ns = with_trunk(&format!("c{r}"));
        calls.push(rt.block_on(vlanmac_calls(n, &ns)));
        drop(ns);

        let ns = with_trunk(&format!("i{r}"));
        ipb.push(timed(|| ip_batch(Some(ns.name()), &ip_script(n, None))));
        ipread.push(timed(|| {
            ip(&["-n", ns.name(), "-d", "-j", "link", "show"]);
            ip(&["-n", ns.name(), "-j", "addr", "show"]);
        }));
        if slow && r == 0 {
            let mut del = String::new();
            for i in 0..n {
                del.push_str(&format!("link del mv{i}\n"));
            }
            delone.push(timed(|| ip_batch(Some(ns.name()), &del)));
        }
        drop(ns);

        if slow {
            let ns = with_trunk(&format!("s{r}"));
            step.push(timed(|| ip_per_step(&ip_script(n, Some(ns.name())))));
            drop(ns);
        }
        let ns = with_trunk(&format!("p{r}"));
        if let Some(t) = python_ms(PYROUTE2, &[ns.name(), &n.to_string()]) {
            py.push(t);
        }
        drop(ns);
        let ns = with_trunk(&format!("y{r}"));
        if let Some(t) = python_ms(VLANMAC_PY, &[ns.name(), &n.to_string()]) {
            vpy.push(t);
        }
        drop(ns);
    }
    let some = |v: Vec<Duration>| (!v.is_empty()).then(|| median(v));
    let mut t = Table::new(format!(
        "## create {n} macvlans, each with an IPv4 address, up (one namespace; median of {rounds})"
    ));
    t.row("vlanmac Batch (IPv6 address generation off)", some(batch));
    t.row("vlanmac Batch, IPv6 address generation left on", some(batch6));
    t.row("vlanmac, one call per step (unpacked)", some(calls));
    t.row("ip -batch", some(ipb));
    t.row("ip, one process per step", some(step));
    t.row("vlanmac-py Batch (Netlink.batch())", some(vpy));
    t.row("pyroute2, sequential", some(py));
    t.print();
    let mut t = Table::new(format!("## delete those {n} links"));
    t.row("vlanmac delete_group (one RTM_DELLINK)", some(delgroup));
    t.row("one by one (ip -batch of link del; round 1 only)", some(delone));
    t.print();
    let mut t = Table::new(format!("## read back {n} links with addresses"));
    t.row("vlanmac Netlink::links", some(read));
    t.row("ip -d -j link show + ip -j addr show", some(ipread));
    t.print();

    // Interleaved chunks, medians: the floor and vlanmac see the same noise.
    let iters = 500;
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (mut floor, mut current, mut threaded) = (vec![], vec![], vec![]);
    for _ in 0..15 {
        floor.push(raw_getlink(iters));
        current.push(rt.block_on(lookups(iters)));
        threaded.push(multi.block_on(async { tokio::spawn(lookups(iters)).await.expect("task") }));
    }
    let mut t = Table::new(format!("## one link lookup (median of 15 interleaved means of {iters})"));
    t.row("raw RTM_GETLINK round trip (floor)", Some(median(floor)));
    t.row("vlanmac Netlink::link, current-thread runtime", Some(median(current)));
    t.row("vlanmac Netlink::link, multi-thread runtime", Some(median(threaded)));
    t.print();
}
