use crate::common::*;
use vlanmac::{
    link::{NewLink, Veth},
    Error, Netlink,
};

/// Without CAP_NET_ADMIN the kernel refuses and the error says which
/// capability is missing. Capabilities are per thread, so the test drops it
/// on a thread of its own; the netlink socket opened from there carries the
/// reduced credentials.
#[test]
fn without_cap_net_admin_is_permission_denied() {
    let ns = TestNs::new("eperm");
    let nsref = ns.as_ref();
    let res = std::thread::spawn(move || {
        drop_cap_net_admin_on_this_thread();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let nl = Netlink::open(nsref).await?;
            nl.add_link(&NewLink::new(n("x0"), Veth::new(n("x1")))).await
        })
    })
    .join()
    .unwrap();
    let err = res.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
    assert!(!ns.has_link("x0"));
}

#[tokio::test]
async fn writes_are_counted_reads_are_not() {
    let ns = TestNs::new("count");
    let nl = ns.nl().await;
    let before = (nl.stats().requests(), nl.stats().writes());
    nl.links().await.unwrap();
    nl.routes().await.unwrap();
    assert_eq!(nl.stats().writes(), before.1);
    assert!(nl.stats().requests() >= before.0 + 3);
    nl.add_link(&NewLink::new(n("c0"), Veth::new(n("c1")))).await.unwrap();
    assert_eq!(nl.stats().writes(), before.1 + 1);
    assert_eq!(ns.link_json("c0")["linkinfo"]["info_kind"], "veth");
}
