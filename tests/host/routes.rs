use crate::common::*;
use vlanmac::{
    link::{NewLink, Veth},
    spec::RouteSpec,
    Error,
};

#[tokio::test]
async fn default_routes_v4_v6_add_replace_delete_list() {
    let ns = TestNs::new("route");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("eth0"), Veth::new(n("peer0")))).await.unwrap();
    nl.add_link(&NewLink::new(n("eth1"), Veth::new(n("peer1")))).await.unwrap();
    for dev in ["eth0", "eth1", "peer0", "peer1"] {
        nl.set_up(&n(dev), true).await.unwrap();
    }
    nl.add_address(&n("eth0"), &"10.0.10.3/24".parse().unwrap()).await.unwrap();
    nl.add_address(&n("eth0"), &"2001:db8:babe:10::3/64".parse().unwrap()).await.unwrap();
    nl.add_address(&n("eth1"), &"10.0.20.3/24".parse().unwrap()).await.unwrap();

    let v4 = RouteSpec::default_via("10.0.10.1".parse().unwrap());
    let v6 = RouteSpec::default_via("2001:db8:babe:10::1".parse().unwrap());
    nl.add_route(&v4).await.unwrap();
    nl.add_route(&v6).await.unwrap();
    let j4 = ns.ip_json(&["route", "show", "default"]);
    assert_eq!(j4[0]["gateway"], "10.0.10.1");
    assert_eq!(j4[0]["dev"], "eth0");
    let j6 = ns.ip_json(&["-6", "route", "show", "default"]);
    assert_eq!(j6[0]["gateway"], "2001:db8:babe:10::1");

    let dup = nl.add_route(&v4).await.unwrap_err();
    assert!(matches!(dup, Error::AlreadyExists(_)), "{dup}");

    let routes = nl.routes().await.unwrap();
    let d4 = routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv4()).unwrap();
    assert_eq!(d4.gateway, Some("10.0.10.1".parse().unwrap()));
    let d6 = routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv6()).unwrap();
    assert_eq!(d6.gateway, Some("2001:db8:babe:10::1".parse().unwrap()));
    assert!(routes.iter().any(|r| r.dst.to_string() == "10.0.20.0/24" && r.proto_kernel));

    // replace moves the default route to the other VLAN's gateway.
    nl.replace_route(&RouteSpec::default_via("10.0.20.1".parse().unwrap())).await.unwrap();
    let j4 = ns.ip_json(&["route", "show", "default"]);
    assert_eq!(j4.as_array().unwrap().len(), 1);
    assert_eq!(j4[0]["gateway"], "10.0.20.1");
    assert_eq!(j4[0]["dev"], "eth1");

    // A route out of a device, with a metric.
    let r = RouteSpec::parse("192.0.2.0/24", None, Some("eth0")).unwrap().with_metric(50);
    nl.add_route(&r).await.unwrap();
    let j = ns.ip_json(&["route", "show", "192.0.2.0/24"]);
    assert_eq!((j[0]["dev"].as_str(), j[0]["metric"].as_u64()), (Some("eth0"), Some(50)));
    nl.delete_route(&r).await.unwrap();
    nl.delete_route(&RouteSpec::default_via("10.0.20.1".parse().unwrap())).await.unwrap();
    nl.delete_route(&v6).await.unwrap();
    assert!(ns.ip_json(&["route", "show", "default"]).as_array().unwrap().is_empty());
    assert!(ns.ip_json(&["-6", "route", "show", "default"]).as_array().unwrap().is_empty());
    assert!(ns.ip_json(&["route", "show", "192.0.2.0/24"]).as_array().unwrap().is_empty());
    let gone = nl.delete_route(&v6).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound(_)), "{gone}");
}
