use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::common::*;
use vlanmac::{
    netns,
    spec::{AddressSpec, NetnsName},
    Error, Netlink, NetnsRef,
};

#[tokio::test]
async fn create_list_delete_like_ip_netns() {
    let name = NetnsName::new(format!("vmt-{}-lifecycle", std::process::id())).unwrap();
    netns::create(&name).await.unwrap();
    let listed = run_ip(&["netns", "list"]);
    let seen = listed.lines().any(|l| l.split_whitespace().next() == Some(name.as_str()));
    let ours = netns::list().unwrap().contains(&name);
    let again = netns::create(&name).await;
    netns::delete(&name).await.unwrap();
    assert!(seen, "ip netns list does not show {name}: {listed}");
    assert!(ours);
    assert!(matches!(again, Err(Error::AlreadyExists(_))), "{again:?}");
    assert!(!netns::exists(&name));
    assert!(!run_ip(&["netns", "list"]).contains(name.as_str()));
    assert!(matches!(netns::delete(&name).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn open_by_name_path_and_pid() {
    let ns = TestNs::new("open");
    ns.ip(&["link", "add", "marker0", "type", "veth", "peer", "name", "marker1"]);
    let by_name = Netlink::open(ns.as_ref()).await.unwrap();
    let by_path = Netlink::open(NetnsRef::Path(ns.as_ref().path())).await.unwrap();
    for nl in [&by_name, &by_path] {
        assert!(nl.link_exists(&n("marker0")).await.unwrap());
    }
    // By pid: our own process is in the host namespace, which has no marker.
    let by_pid = Netlink::open(NetnsRef::Pid(std::process::id())).await.unwrap();
    assert!(!by_pid.link_exists(&n("marker0")).await.unwrap());
    let missing = Netlink::open(NetnsRef::named("vmt-does-not-exist").unwrap()).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
}

#[test]
fn names_cannot_escape_run_netns() {
    for bad in ["../x", "/etc", "a/b", "..", ".", ""] {
        let e = NetnsRef::named(bad).unwrap_err();
        assert!(matches!(e, Error::InvalidSpec(ref s) if s.field == "netns"), "{bad:?}: {e}");
    }
}

fn ns_inode(path: &str) -> String {
    std::fs::read_link(path).unwrap().to_string_lossy().into_owned()
}

/// 4 namespaces x 250 concurrent operations on a multi-thread runtime: every
/// operation lands in its own namespace, and afterwards every runtime thread
/// is still in the namespace it started in.
#[test]
fn concurrent_ops_never_move_runtime_threads() {
    let original = ns_inode("/proc/thread-self/ns/net");
    let workers: Arc<Mutex<HashMap<i32, String>>> = Arc::default();
    let w = workers.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .max_blocking_threads(8)
        .enable_all()
        .on_thread_start(move || {
            let tid = unsafe { libc::gettid() };
            w.lock().unwrap().insert(tid, ns_inode("/proc/thread-self/ns/net"));
        })
        .build()
        .unwrap();
    let spaces: Vec<TestNs> = (0..4).map(|i| TestNs::new(&format!("conc{i}"))).collect();
    let drift = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, ns) in spaces.iter().enumerate() {
            let nl = Arc::new(ns.nl().await);
            nl.set_up(&n("lo"), true).await.unwrap();
            for j in 0..250u32 {
                let nl = nl.clone();
                let nsref = ns.as_ref();
                let original = original.clone();
                tasks.push(tokio::spawn(async move {
                    // Every tenth task opens a fresh handle (a namespace switch
                    // on a short-lived thread); the rest share one.
                    let own;
                    let h: &Netlink = if j % 10 == 0 {
                        own = Netlink::open(nsref).await.unwrap();
                        &own
                    } else {
                        &nl
                    };
                    let addr: AddressSpec = format!("10.{i}.{}.{}/32", j / 200, j % 200 + 1).parse().unwrap();
                    h.add_address(&n("lo"), &addr).await.unwrap();
                    h.links().await.unwrap();
                    ns_inode("/proc/thread-self/ns/net") != original
                }));
            }
        }
        let mut drift = 0;
        for t in tasks {
            drift += usize::from(t.await.unwrap());
        }
        drift
    });
    assert_eq!(drift, 0, "a task ran on a thread outside the original namespace");
    // Each namespace got exactly its own 250 addresses (plus 127.0.0.1).
    for (i, ns) in spaces.iter().enumerate() {
        let addrs = ns.addrs("lo");
        let mine = addrs.iter().filter(|a| a.starts_with(&format!("10.{i}."))).count();
        let v4_total = addrs.iter().filter(|a| a.starts_with("10.")).count();
        assert_eq!((mine, v4_total), (250, 250), "netns {}: {addrs:?}", ns.name);
    }
    let seen = workers.lock().unwrap().clone();
    assert!(seen.len() >= 4, "expected at least 4 runtime threads, saw {}", seen.len());
    for (tid, at_start) in &seen {
        assert_eq!(at_start, &original);
        if let Ok(now) = std::fs::read_link(format!("/proc/self/task/{tid}/ns/net")) {
            assert_eq!(now.to_string_lossy(), original, "runtime thread {tid} changed namespace");
        }
    }
    drop(rt);
}
