//! Leaks: file descriptors and memory return to their baseline after many
//! handles and many apply/down cycles.

use vlanmac::{topology::Options, Netlink};

use crate::{common::*, topo_common::*};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// The leak tests count this process's fds and memory, which other tests
/// running at the same time change: each runs again, alone, in a child
/// process of this test binary. Returns whether this is that child.
fn alone(test: &str) -> bool {
    if std::env::var("VLANMAC_TEST_ALONE").is_ok_and(|v| v == test) {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env("VLANMAC_TEST_ALONE", test)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "{test} alone:\n{text}");
    for line in text.lines().filter(|l| l.starts_with("leaks:")) {
        println!("{line}");
    }
    false
}

/// 1000 handles opened and closed across four namespaces (and the
/// caller's): the fd count comes back exactly, RSS within 2 MiB.
#[test]
fn a_thousand_handles_leak_nothing() {
    if !alone("leaks::a_thousand_handles_leak_nothing") {
        return;
    }
    let nss: Vec<TestNs> = (0..4).map(|i| TestNs::new(&format!("lk{i}"))).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // Warm up (first-use allocations, thread stacks).
        for ns in &nss {
            ns.nl().await.links().await.unwrap();
        }
        let (fds, rss) = (open_fds(), rss_kib());
        for i in 0..1000 {
            let nl = match i % 5 {
                4 => Netlink::current().await.unwrap(),
                k => nss[k].nl().await,
            };
            assert!(!nl.links().await.unwrap().is_empty());
        }
        let (fds_after, rss_after) = (open_fds(), rss_kib());
        assert_eq!(fds_after, fds, "file descriptors leaked");
        assert!(rss_after < rss + 2048, "RSS grew from {rss} KiB to {rss_after} KiB");
        println!("leaks: 1000 handles: fds {fds} -> {fds_after}, RSS {rss} -> {rss_after} KiB");
    });
}

/// 100 apply/down cycles of a flat lab topology: fds back exactly, RSS
/// within 2 MiB, nothing left in the kernel.
#[test]
fn a_hundred_apply_down_cycles_leak_nothing() {
    if !alone("leaks::a_hundred_apply_down_cycles_leak_nothing") {
        return;
    }
    let t = topo(&flat_yaml("cycles"));
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        t.apply(&Options::default()).await.unwrap();
        t.down(&Options::default()).await.unwrap();
        let (fds, rss) = (open_fds(), rss_kib());
        for i in 0..100 {
            let r = t.apply(&Options::default()).await.unwrap_or_else(|e| panic!("cycle {i}: {e}"));
            assert!(r.changed);
            t.down(&Options::default()).await.unwrap_or_else(|e| panic!("cycle {i}: {e}"));
        }
        let (fds_after, rss_after) = (open_fds(), rss_kib());
        assert_eq!(fds_after, fds, "file descriptors leaked");
        assert!(rss_after < rss + 2048, "RSS grew from {rss} KiB to {rss_after} KiB");
        println!("leaks: 100 apply/down cycles: fds {fds} -> {fds_after}, RSS {rss} -> {rss_after} KiB");
    });
    assert_eq!(snapshot(&names), before);
}
