use crate::common::*;
use vlanmac::{
    link::{Macvlan, NewLink, Veth, Vlan},
    spec::{MacvlanMode, VlanFlags, VlanId, VlanProtocol},
    Error, LinkKind,
};

fn id(v: u32) -> VlanId {
    VlanId::new(v).unwrap()
}

#[tokio::test]
async fn vlan_8021q_and_8021ad_with_flags() {
    if !require(Feature::Vlan8021q, "vlan_8021q_and_8021ad_with_flags").await {
        return;
    }
    let ns = TestNs::new("vlan");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    let name = nl.add_vlan(&n("eth0"), id(10)).await.unwrap();
    assert_eq!(name.as_str(), "eth0.10");
    let flags = VlanFlags { reorder_hdr: Some(false), loose_binding: Some(true), ..Default::default() };
    nl.add_link(&NewLink::new(
        n("eth0.20"),
        Vlan::new(n("eth0"), id(20)).protocol(VlanProtocol::Ieee8021Ad).flags(flags),
    ))
    .await
    .unwrap();

    let j10 = ns.link_json("eth0.10");
    assert_eq!(j10["linkinfo"]["info_kind"], "vlan");
    assert_eq!(j10["linkinfo"]["info_data"]["protocol"], "802.1Q");
    assert_eq!(j10["linkinfo"]["info_data"]["id"], 10);
    assert_eq!(j10["link"], "eth0");
    let j20 = ns.link_json("eth0.20");
    assert_eq!(j20["linkinfo"]["info_data"]["protocol"], "802.1ad");
    assert_eq!(j20["linkinfo"]["info_data"]["id"], 20);
    let jflags: Vec<&str> = j20["linkinfo"]["info_data"]["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    assert!(jflags.contains(&"LOOSE_BINDING"), "{jflags:?}");
    assert!(!jflags.contains(&"REORDER_HDR"), "{jflags:?}");

    let links = nl.links().await.unwrap();
    let l20 = links.iter().find(|l| l.name == "eth0.20").unwrap();
    let LinkKind::Vlan { id: got, protocol, flags: f } = &l20.kind else { panic!("{:?}", l20.kind) };
    assert_eq!((*got, *protocol), (Some(id(20)), Some(VlanProtocol::Ieee8021Ad)));
    assert_eq!((f.loose_binding, f.reorder_hdr), (Some(true), Some(false)));
    assert_eq!(l20.parent.as_ref().unwrap().name.as_deref(), Some("eth0"));
}

#[tokio::test]
async fn same_vlan_twice_is_already_exists_naming_it() {
    if !require(Feature::Vlan8021q, "same_vlan_twice_is_already_exists_naming_it").await {
        return;
    }
    let ns = TestNs::new("dupvlan");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    nl.add_vlan(&n("eth0"), id(10)).await.unwrap();
    // Same parent + protocol + id under another name: the kernel refuses.
    let err = nl.add_link(&NewLink::new(n("other10"), Vlan::new(n("eth0"), id(10)))).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("other10") && text.contains("eth0"), "{text}");
    let k = err.kernel().unwrap();
    assert_eq!(k.errno, libc::EEXIST);
    // The kernel's own words (NETLINK_EXT_ACK) travel with the error.
    let extack = k.extack.as_deref().unwrap_or_default();
    assert!(extack.contains("already exists"), "extack: {extack:?}");
    assert!(!ns.has_link("other10"));
}

#[tokio::test]
async fn seed_layout_vlans_and_macvlans_into_containers() {
    if !require(Feature::Vlan8021q, "seed_layout_vlans_and_macvlans_into_containers").await {
        return;
    }
    let host = TestNs::new("seedh");
    let c1 = TestNs::new("seedc1");
    let nh = host.nl().await;
    let n1 = c1.nl().await;
    nh.add_link(&NewLink::new(n("eth0"), Veth::new(n("router0")))).await.unwrap();
    nh.set_up(&n("eth0"), true).await.unwrap();
    for v in [10, 20] {
        let sub = nh.add_vlan(&n("eth0"), id(v)).await.unwrap();
        nh.set_up(&sub, true).await.unwrap();
    }
    // container1 on both VLANs: eth0 on eth0.10, eth1 on eth0.20.
    for (dev, parent) in [("eth0", "eth0.10"), ("eth1", "eth0.20")] {
        let spec = NewLink::new(n(dev), Macvlan::new(n(parent), MacvlanMode::Bridge)).up();
        nh.add_link_into(&spec, &n1).await.unwrap();
    }
    let j0 = c1.link_json("eth0");
    let j1 = c1.link_json("eth1");
    assert_eq!(j0["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(j1["linkinfo"]["info_kind"], "macvlan");
    // Parents live in the host namespace: iproute2 shows the ifindex there.
    let idx10 = host.link_json("eth0.10")["ifindex"].clone();
    let idx20 = host.link_json("eth0.20")["ifindex"].clone();
    assert_eq!(j0["link_index"], idx10);
    assert_eq!(j1["link_index"], idx20);
}

#[tokio::test]
async fn vlan_on_a_kernel_without_8021q_is_kernel_unsupported() {
    let ns = TestNs::new("novlan");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    let res = nl.add_vlan(&n("eth0"), id(10)).await;
    if kernel_has(Feature::Vlan8021q).await {
        // The kernel VM has 802.1Q: here the same call must simply work.
        res.unwrap();
        assert_eq!(ns.link_json("eth0.10")["linkinfo"]["info_kind"], "vlan");
        return;
    }
    let err = res.unwrap_err();
    assert!(matches!(err, Error::KernelUnsupported(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("does not support 802.1Q"), "{text}");
    assert!(text.contains("8021q"), "{text}");
    assert_eq!(err.kernel().unwrap().extack.as_deref(), Some("Unknown device type"), "{text}");
    assert!(!ns.has_link("eth0.10"));
}
