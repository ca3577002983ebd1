//! vlanmac's executor against the rtnetlink crate's connection, side by
//! side in one run (needs root): N macvlans, each with one IPv4 address,
//! set up, in one namespace — rtnetlink 0.24 one request at a time and with
//! 64 links in flight, on a current-thread and a multi-thread runtime,
//! against vlanmac's `Batch` and vlanmac's one call per step; then one link
//! lookup by name with each.
//!
//!     cargo bench --bench rtnetlink -- [N...] [--rounds R]
//!
//! N defaults to 1000 and 4000, R to 3; rounds interleave the methods. The
//! rtnetlink side does what its API asks for: create (the message built by
//! vlanmac's `NewLink::to_message`, so both send the same link), look the
//! new link's index up, add the address, set it up. Everything runs in a
//! namespace the bench enters first.

mod common;

use std::{
    future::Future,
    os::fd::AsFd,
    time::{Duration, Instant},
};

use common::*;
use futures::{StreamExt, TryStreamExt};
use vlanmac::Netlink;

type Runtime = tokio::runtime::Runtime;

fn runtime(multi: bool) -> Runtime {
    let mut b = if multi {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().expect("runtime")
}

/// An rtnetlink handle on `rt` (its connection task spawned there).
fn rtnetlink_handle(rt: &Runtime) -> rtnetlink::Handle {
    let _guard = rt.enter();
    let (conn, handle, _) = rtnetlink::new_connection().expect("rtnetlink connection");
    rt.spawn(conn);
    handle
}

/// One link the rtnetlink way: create, look up its index, address, up.
async fn rtnetlink_one(handle: rtnetlink::Handle, parent: u32, i: usize) -> Result<(), rtnetlink::Error> {
    handle.link().add(spec(i, false).to_message(Some(parent))).execute().await?;
    let index = handle
        .link()
        .get()
        .match_name(format!("mv{i}"))
        .execute()
        .try_next()
        .await?
        .map(|m| m.header.index)
        .expect("the new link");
    let a = addr(i);
    handle.address().add(index, a.net.addr(), a.net.prefix_len()).execute().await?;
    handle.link().set(rtnetlink::LinkUnspec::new_with_index(index).up().build()).execute().await
}

fn rtnetlink_create(rt: &Runtime, n: usize, parent: u32, in_flight: usize) -> Duration {
    let handle = rtnetlink_handle(rt);
    let start = Instant::now();
    rt.block_on(async {
        futures::stream::iter(0..n)
            .map(|i| rtnetlink_one(handle.clone(), parent, i))
            .buffer_unordered(in_flight)
            .try_collect::<Vec<()>>()
            .await
            .expect("rtnetlink");
    });
    start.elapsed()
}

fn vlanmac_batch(rt: &Runtime, n: usize) -> Duration {
    rt.block_on(async { create_with_batch(&Netlink::current().await.expect("open"), n, false).await })
}

fn vlanmac_calls(rt: &Runtime, n: usize) -> Duration {
    rt.block_on(async { create_with_calls(&Netlink::current().await.expect("open"), n).await })
}

/// Removes the bench's links (one request for the group) and checks the
/// run before made all `n`.
fn reset(n: Option<usize>) {
    let rt = runtime(false);
    rt.block_on(async {
        let nl = Netlink::current().await.expect("open");
        if let Some(n) = n {
            let made = nl.links().await.expect("links").iter().filter(|l| l.name.starts_with("mv")).count();
            assert_eq!(made, n, "links made");
        }
        match nl.delete_group(GROUP).await {
            Ok(()) | Err(vlanmac::Error::NotFound(_)) => {}
            Err(e) => panic!("delete group: {e}"),
        }
    });
}

/// The mean of 500 lookups, 15 times; the median of those.
fn lookups<F: Future<Output = ()>>(rt: &Runtime, mut one: impl FnMut() -> F) -> Duration {
    let means: Vec<Duration> = (0..15)
        .map(|_| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..500 {
                    one().await;
                }
                start.elapsed() / 500
            })
        })
        .collect();
    median(means)
}

fn main() {
    if !is_root() {
        eprintln!("benches/rtnetlink: needs root; skipped");
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rounds: usize =
        args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(3);
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).filter(|&x| x != rounds).collect();
    if sizes.is_empty() {
        sizes = vec![1000, 4000];
    }
    let home = Ns::new("rtnl");
    let fd = std::fs::File::open(format!("/run/netns/{}", home.name())).expect("open the namespace");
    nix::sched::setns(fd.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("enter the namespace");
    ip(&["link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
    ip(&["link", "set", "t0", "up"]);
    ip(&["link", "set", "t1", "up"]);
    let (current, multi) = (runtime(false), runtime(true));
    let parent =
        current.block_on(async { Netlink::current().await.expect("open").link(&name("t0")).await.expect("t0").index });

    for &n in &sizes {
        type Method<'a> = (&'a str, Box<dyn Fn() -> Duration + 'a>);
        let methods: Vec<Method> = vec![
            ("**vlanmac `Batch`**, current-thread runtime", Box::new(|| vlanmac_batch(&current, n))),
            ("vlanmac `Batch`, multi-thread runtime", Box::new(|| vlanmac_batch(&multi, n))),
            ("vlanmac, one call per step, current-thread", Box::new(|| vlanmac_calls(&current, n))),
            ("rtnetlink 0.24, sequential, current-thread", Box::new(|| rtnetlink_create(&current, n, parent, 1))),
            ("rtnetlink 0.24, sequential, multi-thread", Box::new(|| rtnetlink_create(&multi, n, parent, 1))),
            ("rtnetlink 0.24, 64 in flight, current-thread", Box::new(|| rtnetlink_create(&current, n, parent, 64))),
            ("rtnetlink 0.24, 64 in flight, multi-thread", Box::new(|| rtnetlink_create(&multi, n, parent, 64))),
        ];
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); methods.len()];
        reset(None);
        for _ in 0..rounds {
            for (t, (_, f)) in times.iter_mut().zip(&methods) {
                t.push(f());
                reset(Some(n));
            }
        }
        let mut table = Table::new(format!(
            "### N = {n} macvlans, each with an IPv4 address, up (median of {rounds}, rounds interleaved)"
        ));
        for ((label, _), t) in methods.iter().zip(times) {
            table.row(*label, Some(median(t)));
        }
        table.print();
    }

    let nl = current.block_on(Netlink::current()).expect("open");
    let nl_multi = multi.block_on(Netlink::current()).expect("open");
    let (h_current, h_multi) = (rtnetlink_handle(&current), rtnetlink_handle(&multi));
    let t0 = name("t0");
    let mut table = Table::new("### One link lookup by name (median of 15 means of 500)");
    table.row(
        "**vlanmac `Netlink::link`**, current-thread",
        Some(lookups(&current, || async { nl.link(&t0).await.map(drop).expect("lookup") })),
    );
    table.row(
        "vlanmac `Netlink::link`, multi-thread",
        Some(lookups(&multi, || async { nl_multi.link(&t0).await.map(drop).expect("lookup") })),
    );
    for (label, rt, h) in [("current-thread", &current, &h_current), ("multi-thread", &multi, &h_multi)] {
        table.row(
            format!("rtnetlink 0.24 `link().get().match_name()`, {label}"),
            Some(lookups(rt, || async {
                h.link().get().match_name("t0".to_string()).execute().try_next().await.map(drop).expect("lookup")
            })),
        );
    }
    table.print();
}
