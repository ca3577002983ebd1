use crate::common::*;
use vlanmac::{
    link::{LinkUpdate, Macvlan, NewLink, Veth},
    spec::{MacAddr, MacvlanMode, Mtu},
    Error, LinkKind, OperState, TEMP_PREFIX,
};

#[tokio::test]
async fn veth_pair_across_namespaces() {
    let a = TestNs::new("va");
    let b = TestNs::new("vb");
    veth_trunk(&a, &b, "trunk0", "uplink0").await;
    let ja = a.link_json("trunk0");
    let jb = b.link_json("uplink0");
    assert_eq!(ja["linkinfo"]["info_kind"], "veth");
    assert_eq!(jb["linkinfo"]["info_kind"], "veth");
    assert_eq!(ja["operstate"], "UP");
    let link = a.nl().await.link(&n("trunk0")).await.unwrap();
    assert_eq!(link.kind, LinkKind::Veth);
    assert!(link.admin_up);
    assert_eq!(link.oper_state, OperState::Up);
    assert_eq!(link.index as u64, ja["ifindex"].as_u64().unwrap());
}

#[tokio::test]
async fn set_up_down_mtu_mac_name_alias() {
    let ns = TestNs::new("set");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("s0"), Veth::new(n("s1")))).await.unwrap();
    let mac: MacAddr = "02:42:0a:00:0a:02".parse().unwrap();
    nl.set_link(&n("s0"), &LinkUpdate::new().mtu(Mtu::new(1400).unwrap()).mac(mac).alias("vlanmac:test").unwrap())
        .await
        .unwrap();
    nl.set_up(&n("s0"), true).await.unwrap();
    let j = ns.link_json("s0");
    assert_eq!(j["mtu"], 1400);
    assert_eq!(j["address"], "02:42:0a:00:0a:02");
    assert_eq!(j["ifalias"], "vlanmac:test");
    assert!(j["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
    let l = nl.link(&n("s0")).await.unwrap();
    assert_eq!((l.mtu, l.mac, l.alias.as_deref()), (Some(1400), Some(mac), Some("vlanmac:test")));

    nl.set_up(&n("s0"), false).await.unwrap();
    nl.set_link(&n("s0"), &LinkUpdate::new().name(n("renamed0"))).await.unwrap();
    assert!(ns.has_link("renamed0") && !ns.has_link("s0"));
    let j = ns.link_json("renamed0");
    assert!(!j["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
}

#[tokio::test]
async fn move_link_to_another_namespace_and_delete() {
    let a = TestNs::new("mva");
    let b = TestNs::new("mvb");
    let na = a.nl().await;
    let nb = b.nl().await;
    na.add_link(&NewLink::new(n("m0"), Veth::new(n("m1")))).await.unwrap();
    na.set_link(&n("m1"), &LinkUpdate::new().netns(&nb)).await.unwrap();
    assert!(b.has_link("m1") && !a.has_link("m1"));
    nb.delete_link(&n("m1")).await.unwrap();
    // Deleting one end of a veth deletes both.
    assert!(!b.has_link("m1") && !a.has_link("m0"));
    assert!(matches!(na.delete_link(&n("m0")).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn create_inside_another_namespace_via_temporary_name() {
    let host = TestNs::new("cih");
    let ctr = TestNs::new("cic");
    let nh = host.nl().await;
    let nc = ctr.nl().await;
    nh.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    // The host has an eth0 itself: creating "eth0" in the container must not
    // collide with it.
    let spec = NewLink::new(n("eth0"), Macvlan::new(n("eth0"), MacvlanMode::Bridge)).up();
    nh.add_link_into(&spec, &nc).await.unwrap();
    let j = ctr.link_json("eth0");
    assert_eq!(j["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(j["linkinfo"]["info_data"]["mode"], "bridge");
    assert!(j["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
    let names: Vec<String> = ctr
        .ip_json(&["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["lo", "eth0"], "{names:?}");
    // Read-back from inside: the parent is in another namespace.
    let l = nc.link(&n("eth0")).await.unwrap();
    assert!(matches!(l.kind, LinkKind::Macvlan { mode: Some(MacvlanMode::Bridge), .. }));
    assert!(l.parent.as_ref().unwrap().netnsid.is_some());
}

#[tokio::test]
async fn failed_rename_deletes_the_temporary_link() {
    let host = TestNs::new("frh");
    let ctr = TestNs::new("frc");
    let nh = host.nl().await;
    let nc = ctr.nl().await;
    nh.add_link(&NewLink::new(n("trunk0"), Veth::new(n("peer0")))).await.unwrap();
    ctr.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "taken1"]);
    let before = ctr.ip_json(&["link", "show"]).as_array().unwrap().len();
    let spec = NewLink::new(n("eth0"), Macvlan::new(n("trunk0"), MacvlanMode::Bridge));
    let err = nh.add_link_into(&spec, &nc).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    let links = ctr.ip_json(&["link", "show"]);
    let names: Vec<&str> = links.as_array().unwrap().iter().map(|l| l["ifname"].as_str().unwrap()).collect();
    assert_eq!(names.len(), before, "{names:?}");
    assert!(!names.iter().any(|x| x.starts_with(TEMP_PREFIX)), "{names:?}");
    let host_links = host.ip_json(&["link", "show"]);
    assert_eq!(host_links.as_array().unwrap().len(), 3, "{host_links}"); // lo, trunk0, peer0
                                                                         // The pre-existing eth0 is untouched (still a veth).
    assert_eq!(ctr.link_json("eth0")["linkinfo"]["info_kind"], "veth");
}

#[tokio::test]
async fn links_dump_matches_ip() {
    let ns = TestNs::new("dump");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("d0"), Veth::new(n("d1")))).await.unwrap();
    nl.add_link(&NewLink::new(n("mv0"), Macvlan::new(n("d0"), MacvlanMode::Private))).await.unwrap();
    let ours = nl.links().await.unwrap();
    let theirs = ns.ip_json(&["-d", "link", "show"]);
    let theirs = theirs.as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    for j in theirs {
        let l = ours.iter().find(|l| j["ifname"] == l.name.as_str()).unwrap();
        assert_eq!(j["ifindex"].as_u64(), Some(u64::from(l.index)));
        assert_eq!(j["mtu"].as_u64(), l.mtu.map(u64::from));
    }
    let mv = ours.iter().find(|l| l.name == "mv0").unwrap();
    assert_eq!(mv.parent.as_ref().unwrap().name.as_deref(), Some("d0"));
    assert_eq!(theirs.iter().find(|j| j["ifname"] == "mv0").unwrap()["link"], "d0");
}
