use crate::common::*;
use vlanmac::{
    link::{Macvlan, NewLink, Veth},
    spec::{MacAddr, MacvlanMode, Mtu, SourceMacOp},
    Error, LinkKind,
};

#[tokio::test]
async fn all_five_modes() {
    for mode in MacvlanMode::ALL {
        // passthru takes a parent of its own, so each mode gets a fresh trunk.
        let ns = TestNs::new(mode.as_str());
        let nl = ns.nl().await;
        nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
        nl.add_link(&NewLink::new(n("mv0"), Macvlan::new(n("t0"), mode))).await.unwrap();
        let j = ns.link_json("mv0");
        assert_eq!(j["linkinfo"]["info_kind"], "macvlan", "{mode}");
        assert_eq!(j["linkinfo"]["info_data"]["mode"], mode.as_str(), "{mode}");
        assert_eq!(j["link"], "t0");
        let l = nl.link(&n("mv0")).await.unwrap();
        assert!(matches!(l.kind, LinkKind::Macvlan { mode: Some(m), .. } if m == mode), "{mode}: {:?}", l.kind);
    }
}

fn source_macs_json(ns: &TestNs) -> Vec<String> {
    let j = ns.link_json("src0");
    let data = &j["linkinfo"]["info_data"];
    data["macaddr_data"]
        .as_array()
        .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn source_mode_mac_list_add_del_set_flush() {
    let ns = TestNs::new("srcmac");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
    let m = |s: &str| -> MacAddr { s.parse().unwrap() };
    let spec =
        NewLink::new(n("src0"), Macvlan::new(n("t0"), MacvlanMode::Source).source_macs(vec![m("02:00:00:00:00:01")]));
    nl.add_link(&spec).await.unwrap();
    assert_eq!(source_macs_json(&ns), vec!["02:00:00:00:00:01"]);

    nl.source_macs(&n("src0"), SourceMacOp::Add(m("02:00:00:00:00:02"))).await.unwrap();
    let mut now = source_macs_json(&ns);
    now.sort();
    assert_eq!(now, vec!["02:00:00:00:00:01", "02:00:00:00:00:02"]);

    nl.source_macs(&n("src0"), SourceMacOp::Del(m("02:00:00:00:00:01"))).await.unwrap();
    assert_eq!(source_macs_json(&ns), vec!["02:00:00:00:00:02"]);

    nl.source_macs(&n("src0"), SourceMacOp::Set(vec![m("02:00:00:00:00:0a"), m("02:00:00:00:00:0b")])).await.unwrap();
    let mut now = source_macs_json(&ns);
    now.sort();
    assert_eq!(now, vec!["02:00:00:00:00:0a", "02:00:00:00:00:0b"]);
    let l = nl.link(&n("src0")).await.unwrap();
    let LinkKind::Macvlan { source_macs, .. } = l.kind else { panic!("{:?}", l.kind) };
    assert_eq!(source_macs.len(), 2);

    nl.source_macs(&n("src0"), SourceMacOp::Flush).await.unwrap();
    assert!(source_macs_json(&ns).is_empty());
}

#[tokio::test]
async fn mtu_above_parent_is_invalid_argument() {
    let ns = TestNs::new("mtu");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
    let spec = NewLink::new(n("mv0"), Macvlan::new(n("t0"), MacvlanMode::Bridge)).mtu(Mtu::new(9000).unwrap());
    let err = nl.add_link(&spec).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("mtu 1500"), "{err}");
    assert!(!ns.has_link("mv0"));
    // At the parent's MTU it works, and the MTU is what we asked for.
    let ok = NewLink::new(n("mv0"), Macvlan::new(n("t0"), MacvlanMode::Bridge)).mtu(Mtu::new(1400).unwrap());
    nl.add_link(&ok).await.unwrap();
    assert_eq!(ns.link_json("mv0")["mtu"], 1400);
}

#[tokio::test]
async fn missing_parent_is_not_found_naming_it() {
    let ns = TestNs::new("nopar");
    let nl = ns.nl().await;
    let err = nl.add_link(&NewLink::new(n("mv0"), Macvlan::new(n("ghost0"), MacvlanMode::Bridge))).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(err.to_string().contains("ghost0"), "{err}");
}

#[tokio::test]
async fn passthru_twice_on_one_parent_is_refused() {
    let ns = TestNs::new("pt");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
    nl.add_link(&NewLink::new(n("p0"), Macvlan::new(n("t0"), MacvlanMode::Passthru))).await.unwrap();
    let err = nl.add_link(&NewLink::new(n("p1"), Macvlan::new(n("t0"), MacvlanMode::Passthru))).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(!ns.has_link("p1"));
}
