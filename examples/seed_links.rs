//! The host side of the seed walkthrough, link by link, in throwaway
//! namespaces: a veth trunk, VLANs 10 and 20, and container0/1/2 on
//! macvlans with static addresses and default routes; container1 on both
//! VLANs. Prints what container1 looks like, then removes everything.
//!
//! Needs root and a kernel with 802.1Q (run it in the kernel VM here:
//! `scripts/vm -- target/debug/examples/seed_links`).
//!
//!     cargo run --example seed_links

use vlanmac::{
    link::{Macvlan, NewLink, Veth},
    netns,
    spec::{AddressSpec, IfName, MacAddr, MacvlanMode, NetnsName, RouteSpec, VlanId},
    Netlink, NetnsRef, Result,
};

/// Removes the namespaces it holds when dropped, also on error.
struct Throwaway(Vec<NetnsName>);

impl Drop for Throwaway {
    fn drop(&mut self) {
        for ns in self.0.iter().rev() {
            if let Err(e) = netns::delete_blocking(ns) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).expect("static name")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("seed_links: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let pid = std::process::id();
    let ns = |s: &str| NetnsName::new(format!("{s}-{pid}"));
    let (host, c0, c1, c2) = (ns("seed-host")?, ns("container0")?, ns("container1")?, ns("container2")?);
    let mut guard = Throwaway(Vec::new());
    for n in [&host, &c0, &c1, &c2] {
        netns::create(n).await?; // ip netns add ...
        guard.0.push(n.clone());
    }
    let h = Netlink::open(NetnsRef::Named(host.clone())).await?;

    // The trunk: a veth pair standing in for the host's eth0 and the router.
    h.add_link(&NewLink::new(name("eth0"), Veth::new(name("router0")))).await?;
    h.set_up(&name("eth0"), true).await?;
    for id in [10, 20] {
        // ip link add link eth0 name eth0.<id> type vlan id <id>; ip link set eth0.<id> up
        let sub = h.add_vlan(&name("eth0"), VlanId::new(id)?).await?;
        h.set_up(&sub, true).await?;
    }

    // (container, interface, VLAN subinterface, IPv4, IPv6, gateways)
    let plan = [
        (&c0, "eth0", "eth0.10", "10.0.10.2/24", "2001:db8:babe:10::2/64", Some(("10.0.10.1", "2001:db8:babe:10::1"))),
        (&c1, "eth0", "eth0.10", "10.0.10.3/24", "2001:db8:babe:10::3/64", Some(("10.0.10.1", "2001:db8:babe:10::1"))),
        (&c1, "eth1", "eth0.20", "10.0.20.3/24", "2001:db8:babe:20::3/64", None),
        (&c2, "eth0", "eth0.20", "10.0.20.4/24", "2001:db8:babe:20::4/64", Some(("10.0.20.1", "2001:db8:babe:20::1"))),
    ];
    for (ctr, dev, parent, v4, v6, gateways) in plan {
        let inner = Netlink::open(NetnsRef::Named(ctr.clone())).await?;
        let v4: AddressSpec = v4.parse()?;
        let std::net::IpAddr::V4(ip4) = v4.addr() else { unreachable!("an IPv4 literal") };
        // Docker's MAC scheme, as in the seed's `docker inspect`: 02:42 + IPv4.
        let spec = NewLink::new(name(dev), Macvlan::new(name(parent), MacvlanMode::Bridge))
            .mac(MacAddr::docker_style(ip4))
            .up();
        h.add_link_into(&spec, &inner).await?; // created in the container, renamed there
        inner.add_address(&name(dev), &v4).await?;
        inner.add_address(&name(dev), &v6.parse()?).await?; // nodad
        if let Some((g4, g6)) = gateways {
            inner.add_route(&RouteSpec::default_via(g4.parse().expect("literal"))).await?;
            inner.add_route(&RouteSpec::default_via(g6.parse().expect("literal"))).await?;
        }
    }

    let inner = Netlink::open(NetnsRef::Named(c1.clone())).await?;
    println!("container1 (netns {c1}):");
    for l in inner.links().await? {
        let addrs: Vec<String> = l.addresses.iter().map(|a| a.net.to_string()).collect();
        let mac = l.mac.map(|m| m.to_string()).unwrap_or_default();
        println!("  {:<5} {:<8} {mac} mtu {} {}", l.name, l.kind.name(), l.mtu.unwrap_or(0), addrs.join(" "));
    }
    for r in inner.routes().await?.iter().filter(|r| r.is_default()) {
        println!("  default via {}", r.gateway.map(|g| g.to_string()).unwrap_or_default());
    }
    Ok(())
}
