use crate::common::*;
use vlanmac::{
    link::{NewLink, Veth},
    spec::AddressSpec,
    Error,
};

fn a(s: &str) -> AddressSpec {
    s.parse().unwrap()
}

#[tokio::test]
async fn add_list_replace_delete_v4_v6() {
    let ns = TestNs::new("addr");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    nl.set_up(&n("eth0"), true).await.unwrap();
    nl.add_address(&n("eth0"), &a("10.0.10.3/24")).await.unwrap();
    nl.add_address(&n("eth0"), &a("2001:db8:babe:10::3/64")).await.unwrap();

    let mut seen = ns.addrs("eth0");
    seen.retain(|s| !s.starts_with("fe80"));
    assert_eq!(seen, vec!["10.0.10.3/24", "2001:db8:babe:10::3/64"]);
    // The IPv6 address is nodad, hence usable at once (not tentative).
    let j = ns.ip_json(&["-6", "addr", "show", "dev", "eth0"]);
    let info = j[0]["addr_info"].as_array().unwrap();
    let global = info.iter().find(|x| x["local"] == "2001:db8:babe:10::3").unwrap();
    assert_eq!(global["nodad"], true, "{global}");
    assert!(global.get("tentative").is_none(), "{global}");

    let ours = nl.addresses(Some(&n("eth0"))).await.unwrap();
    let v6 = ours.iter().find(|x| x.net.to_string() == "2001:db8:babe:10::3/64").unwrap();
    assert!(v6.nodad && !v6.tentative);
    assert!(ours.iter().any(|x| x.net.to_string() == "10.0.10.3/24"));

    let dup = nl.add_address(&n("eth0"), &a("10.0.10.3/24")).await.unwrap_err();
    assert!(matches!(dup, Error::AlreadyExists(_)), "{dup}");
    // replace is idempotent.
    nl.replace_address(&n("eth0"), &a("10.0.10.3/24")).await.unwrap();
    nl.replace_address(&n("eth0"), &a("10.0.11.4/24")).await.unwrap();
    let mut seen = ns.addrs("eth0");
    seen.retain(|s| s.starts_with("10."));
    assert_eq!(seen, vec!["10.0.10.3/24", "10.0.11.4/24"]);

    nl.delete_address(&n("eth0"), &a("10.0.10.3/24")).await.unwrap();
    nl.delete_address(&n("eth0"), &a("2001:db8:babe:10::3/64")).await.unwrap();
    let mut seen = ns.addrs("eth0");
    seen.retain(|s| !s.starts_with("fe80"));
    assert_eq!(seen, vec!["10.0.11.4/24"]);
    let gone = nl.delete_address(&n("eth0"), &a("10.0.10.3/24")).await.unwrap_err();
    assert!(matches!(gone, Error::InvalidArgument(_) | Error::NotFound(_)), "{gone}");
}

#[tokio::test]
async fn address_on_missing_link_is_not_found() {
    let ns = TestNs::new("addrnf");
    let nl = ns.nl().await;
    let err = nl.add_address(&n("nope0"), &a("10.0.0.1/24")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(err.to_string().contains("nope0"), "{err}");
}
