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
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    nl.set_up(&n("eth0"), true).await.unwrap();
    nl.add_address(&n("eth0"), &"10.0.10.1/24".parse().unwrap()).await.unwrap();
    ns.ip(&["neigh", "add", "10.0.10.2", "lladdr", "02:42:0a:00:0a:02", "dev", "eth0", "nud", "permanent"]);
    ns.ip(&["neigh", "add", "10.0.10.3", "lladdr", "02:42:0a:00:0a:03", "dev", "eth0", "nud", "stale"]);
    // The kernel may add entries of its own (IPv6 multicast, router
    // solicitations) between our read and ip's: read both again until two
    // reads agree, a few times at most.
    let (mut ours, mut j);
    let mut tries = 0;
    loop {
        ours = nl.neighbours(Some(&n("eth0"))).await.unwrap();
        // `nud all`: plain `ip neigh show` hides some states.
        j = ns.ip_json(&["neigh", "show", "nud", "all", "dev", "eth0"]);
        tries += 1;
        if j.as_array().map(Vec::len) == Some(ours.len()) || tries == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let theirs = j.as_array().unwrap();
    assert_eq!(ours.len(), theirs.len(), "{ours:?} vs {j}");
    for x in theirs {
        let mine = ours.iter().find(|o| x["dst"] == o.ip.to_string().as_str()).unwrap_or_else(|| panic!("{x}"));
        let state = x["state"][0].as_str().unwrap_or("").to_string();
        assert_eq!(format!("{:?}", mine.state).to_uppercase(), state, "{x}");
    }
    let two = ours.iter().find(|x| x.ip.to_string() == "10.0.10.2").unwrap();
    assert_eq!(two.mac, Some("02:42:0a:00:0a:02".parse::<MacAddr>().unwrap()));
    assert_eq!(two.state, NeighbourState::Permanent);
}
