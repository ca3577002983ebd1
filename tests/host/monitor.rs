//! `Monitor` (`ip monitor link address route`) in a fresh namespace: what
//! `ip` changes arrives decoded, with the link indexes `ip -j` shows; a
//! burst bigger than the socket's buffer is reported as lost
//! notifications (ENOBUFS), never silently dropped.

use std::time::{Duration, Instant};

use vlanmac::{netlink::monitor::Notification, Monitor};

use crate::common::*;

/// Drains `m` until `done(all seen)` holds (at most 10 s).
async fn drain_until(m: &mut Monitor, done: impl Fn(&[Notification]) -> bool) -> Vec<Notification> {
    let mut seen = Vec::new();
    let t0 = Instant::now();
    while !done(&seen) {
        assert!(t0.elapsed() < Duration::from_secs(10), "not seen: {seen:?}");
        seen.extend(m.drain().unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

#[tokio::test]
async fn what_ip_changes_arrives_decoded() {
    let ns = TestNs::new("mon");
    let mut m = Monitor::open(ns.as_ref()).await.unwrap();
    assert_eq!(m.drain().unwrap(), [], "nothing happened yet");
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    let index = ns.link_json("v0")["ifindex"].as_u64().unwrap() as u32;
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "v0"]);
    ns.ip(&["route", "add", "10.78.0.0/24", "via", "10.77.0.2", "dev", "v0", "onlink"]);
    ns.ip(&["link", "del", "v0"]);
    let seen =
        drain_until(&mut m, |s| s.contains(&Notification::Link { index, name: Some("v0".into()), removed: true }))
            .await;
    assert!(seen.contains(&Notification::Link { index, name: Some("v0".into()), removed: false }), "{seen:?}");
    assert!(seen.contains(&Notification::Address { index, removed: false }), "{seen:?}");
    assert!(seen.contains(&Notification::Route { oif: Some(index), removed: false }), "{seen:?}");
    assert!(!seen.contains(&Notification::Lost), "{seen:?}");
}

#[tokio::test]
async fn a_burst_beyond_the_buffer_is_reported_lost() {
    let ns = TestNs::new("monlost");
    let mut m = Monitor::open(ns.as_ref()).await.unwrap();
    m.set_receive_buffer(1).unwrap();
    // 200 veth pairs at once, nobody reading: far beyond a few KiB.
    let batch: String = (0..200).map(|i| format!("link add a{i} type veth peer name b{i}\n")).collect();
    let file = std::env::temp_dir().join(format!("vlanmac-monitor-{}.batch", std::process::id()));
    std::fs::write(&file, batch).unwrap();
    ns.ip(&["-batch", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    let seen = m.drain().unwrap();
    assert!(seen.contains(&Notification::Lost), "{} notifications, none lost", seen.len());
    assert!(seen.len() < 400, "{} notifications: the buffer held them all", seen.len());
}
