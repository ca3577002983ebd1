//! The seam for tools that already hold an `rtnetlink::Handle`: specs built
//! and validated with vlanmac, turned into messages with `to_message()`,
//! sent through rtnetlink's own connection, then read back with vlanmac's
//! typed read-back (from vlanmac's handle and from rtnetlink's dump) and
//! with `ip -d -j`.

use std::os::fd::AsFd;

use futures::TryStreamExt;
use netlink_packet_core::{NetlinkMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use vlanmac::{
    link::{Macvlan, NewLink, Veth},
    spec::{AddressSpec, MacAddr, MacvlanMode, RouteSpec},
    Link, LinkKind,
};

use crate::common::*;

/// Runs `f` with an rtnetlink handle whose socket lives in `ns`: a thread
/// of its own enters the namespace (the handle's socket is opened there)
/// and drives rtnetlink's connection on a current-thread runtime.
fn with_rtnetlink<F, Fut>(ns: &TestNs, f: F)
where
    F: FnOnce(rtnetlink::Handle) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let path = format!("/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap();
        nix::sched::setns(fd.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (conn, handle, _) = rtnetlink::new_connection().unwrap();
            tokio::spawn(conn);
            f(handle).await;
        });
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn specs_sent_through_an_rtnetlink_handle_read_back_with_vlanmac() {
    let ns = TestNs::new("rtnl");
    with_rtnetlink(&ns, |handle| async move {
        // ip link add trunk0 type veth peer name trunk1
        let veth = NewLink::new(n("trunk0"), Veth::new(n("trunk1"))).up();
        handle.link().add(veth.to_message(None)).execute().await.unwrap();
        // The parent's index, from rtnetlink's own dump read with vlanmac's types.
        let trunk: Vec<Link> = handle
            .link()
            .get()
            .match_name("trunk0")
            .execute()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .filter_map(Link::from_message)
            .collect();
        assert_eq!(trunk.len(), 1, "{trunk:?}");
        let mac: MacAddr = "02:42:0a:00:0a:02".parse().unwrap();
        // ip link add link trunk0 name mv0 address 02:42:0a:00:0a:02 type macvlan mode bridge
        let mut mv = NewLink::new(n("mv0"), Macvlan::new(n("trunk0"), MacvlanMode::Bridge)).up();
        mv.mac = Some(mac);
        handle.link().add(mv.to_message(Some(trunk[0].index))).execute().await.unwrap();
        let mv0 = handle
            .link()
            .get()
            .match_name("mv0")
            .execute()
            .try_next()
            .await
            .unwrap()
            .and_then(|m| Link::from_message(&m))
            .unwrap();
        // ip addr add 10.0.10.2/24 dev mv0 (through Handle::request: the
        // message is vlanmac's, the connection rtnetlink's)
        let addr: AddressSpec = "10.0.10.2/24".parse().unwrap();
        let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewAddress(addr.to_message(mv0.index)));
        req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let mut replies = handle.clone().request(req).unwrap();
        while let Some(m) = futures::StreamExt::next(&mut replies).await {
            if let netlink_packet_core::NetlinkPayload::Error(e) = m.payload {
                assert!(e.code.is_none(), "RTM_NEWADDR: {e:?}");
            }
        }
        // ip route add 10.0.20.0/24 via 10.0.10.1 dev mv0
        let route = RouteSpec::new("10.0.20.0/24".parse().unwrap(), Some("10.0.10.1".parse().unwrap()), Some(n("mv0")))
            .unwrap();
        handle.route().add(route.to_message(Some(mv0.index))).execute().await.unwrap();
    });

    // vlanmac's typed read-back of what rtnetlink sent.
    let nl = ns.nl().await;
    let mv0 = nl.link(&n("mv0")).await.unwrap();
    assert!(matches!(mv0.kind, LinkKind::Macvlan { mode: Some(MacvlanMode::Bridge), .. }), "{:?}", mv0.kind);
    assert_eq!(mv0.parent.as_ref().map(|p| p.index), Some(nl.link(&n("trunk0")).await.unwrap().index));
    assert_eq!(mv0.mac, Some("02:42:0a:00:0a:02".parse().unwrap()));
    assert!(mv0.admin_up);
    let addrs = nl.addresses(Some(&n("mv0"))).await.unwrap();
    assert!(addrs.iter().any(|a| a.net.to_string() == "10.0.10.2/24"), "{addrs:?}");
    let routes = nl.routes().await.unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r.dst.to_string() == "10.0.20.0/24"
                && r.gateway.map(|g| g.to_string()).as_deref() == Some("10.0.10.1")),
        "{routes:?}"
    );

    // And the independent oracle.
    let j = ns.link_json("mv0");
    assert_eq!(j["linkinfo"]["info_kind"], "macvlan", "{j}");
    assert_eq!(j["linkinfo"]["info_data"]["mode"], "bridge", "{j}");
    assert_eq!(j["address"], "02:42:0a:00:0a:02", "{j}");
    assert_eq!(j["link"], "trunk0", "{j}");
    assert!(ns.addrs("mv0").contains(&"10.0.10.2/24".to_string()), "{:?}", ns.addrs("mv0"));
    let r = ns.ip_json(&["route", "show", "10.0.20.0/24"]);
    assert_eq!(r[0]["gateway"], "10.0.10.1", "{r}");
    assert_eq!(r[0]["dev"], "mv0", "{r}");
}
