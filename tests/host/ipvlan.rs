use crate::common::*;
use vlanmac::{
    link::{Ipvlan, Macvlan, NewLink, Veth},
    spec::{IpvlanFlags, IpvlanMode, MacvlanMode},
    Error, LinkKind,
};

#[tokio::test]
async fn ipvlan_modes_and_flags() {
    if !require(Feature::Ipvlan, "ipvlan_modes_and_flags").await {
        return;
    }
    let ns = TestNs::new("ipvlan");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
    let mut i = 0;
    for mode in IpvlanMode::ALL {
        for flags in IpvlanFlags::ALL {
            let name = format!("ipv{i}");
            i += 1;
            nl.add_link(&NewLink::new(n(&name), Ipvlan::new(n("t0"), mode).flags(flags))).await.unwrap();
            let j = ns.link_json(&name);
            assert_eq!(j["linkinfo"]["info_kind"], "ipvlan");
            assert_eq!(j["linkinfo"]["info_data"]["mode"], mode.as_str(), "{name}");
            // iproute2 prints the port flag as a boolean key: "private": true.
            let data = &j["linkinfo"]["info_data"];
            assert_eq!(data[flags.as_str()], true, "{name}: {data}");
            for other in IpvlanFlags::ALL.into_iter().filter(|f| *f != flags) {
                assert!(data.get(other.as_str()).is_none(), "{name}: {data}");
            }
            let l = nl.link(&n(&name)).await.unwrap();
            assert_eq!(l.kind, LinkKind::Ipvlan { mode: Some(mode), flags }, "{name}");
        }
    }
}

#[tokio::test]
async fn macvlan_and_ipvlan_on_one_parent_is_busy() {
    if !require(Feature::Ipvlan, "macvlan_and_ipvlan_on_one_parent_is_busy").await {
        return;
    }
    let ns = TestNs::new("busy");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("t0"), Veth::new(n("t1")))).await.unwrap();
    nl.add_link(&NewLink::new(n("mv0"), Macvlan::new(n("t0"), MacvlanMode::Bridge))).await.unwrap();
    let err = nl.add_link(&NewLink::new(n("ipv0"), Ipvlan::new(n("t0"), IpvlanMode::L2))).await.unwrap_err();
    assert!(matches!(err, Error::Busy(_)), "{err}");
    assert!(!ns.has_link("ipv0"));
}
