use crate::common::*;
use vlanmac::{
    link::{NewLink, Veth},
    readback::NeighbourState,
    spec::MacAddr,
};

#[tokio::test]
async fn neighbours_match_ip_neigh() {
    let ns = TestNs::new("neigh");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0"))))
        .await
        .unwrap();
    nl.set_up(&n("eth0"), true).await.unwrap();
    nl.add_address(&n("eth0"), &"10.0.10.1/24".parse().unwrap())
        .await
        .unwrap();
    ns.ip(&[
        "neigh",
        "add",
        "10.0.10.2",
        "lladdr",
        "02:42:0a:00:0a:02",
        "dev",
        "eth0",
        "nud",
        "permanent",
    ]);
    ns.ip(&[
        "neigh",
        "add",
        "10.0.10.3",
        "lladdr",
        "02:42:0a:00:0a:03",
        "dev",
        "eth0",
        "nud",
        "stale",
    ]);
    let ours = nl.neighbours(Some(&n("eth0"))).await.unwrap();
    let j = ns.ip_json(&["neigh", "show", "dev", "eth0"]);
    assert_eq!(ours.len(), j.as_array().unwrap().len());
    let two = ours
        .iter()
        .find(|x| x.ip.to_string() == "10.0.10.2")
        .unwrap();
    assert_eq!(
        two.mac,
        Some("02:42:0a:00:0a:02".parse::<MacAddr>().unwrap())
    );
    assert_eq!(two.state, NeighbourState::Permanent);
    let three = ours
        .iter()
        .find(|x| x.ip.to_string() == "10.0.10.3")
        .unwrap();
    assert_eq!(three.state, NeighbourState::Stale);
    assert!(three.state.is_resolved());
}
