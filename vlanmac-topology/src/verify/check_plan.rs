//! Which probes `verify` sends, worked out from the topology alone (no
//! kernel): the linear plan by default, the full mesh on request.

use std::net::IpAddr;

use crate::{
    model::Topology,
    options::CheckPlan,
    places::{Place, Role, HOST},
};

/// One endpoint interface with the addresses it should hold.
#[derive(Debug, Clone)]
pub(crate) struct Iface {
    pub place: usize,
    pub endpoint: String,
    pub ifname: String,
    pub network: String,
    pub addrs: Vec<IpAddr>,
    pub mac: Option<vlanmac_core::spec::MacAddr>,
}

/// What one source pings (and traces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// How the report names it.
    pub label: String,
    pub addr: IpAddr,
    /// The hop count to expect, when the way there is traced.
    pub hops: Option<u8>,
    /// The address whose neighbour entry the source needs (the target on
    /// a shared network, the source's gateway otherwise).
    pub next_hop: IpAddr,
    /// The namespace that answers (an endpoint's, or the router's for a
    /// gateway), when it is one of the topology's.
    pub place: Option<usize>,
}

/// A namespace that sends probes, and what it sends.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub place: usize,
    pub label: String,
    /// Gateways first: the router learns the source from them.
    pub targets: Vec<Target>,
}

struct Ctx<'a> {
    t: &'a Topology,
    ifaces: &'a [Iface],
    router: Option<usize>,
}

impl Ctx<'_> {
    fn gateway(&self, network: &str, v6: bool) -> Option<IpAddr> {
        self.t.network(network)?.subnets.iter().filter_map(|s| s.gateway()).find(|g| g.is_ipv6() == v6)
    }

    /// The next hop from `from`'s interfaces to `to`: `to` itself on a
    /// shared network, else the first gateway of its family.
    fn next_hop(&self, from: &[&Iface], to: IpAddr, to_network: Option<&str>) -> IpAddr {
        if let Some(n) = to_network {
            if from.iter().any(|i| i.network == n) {
                return to;
            }
        }
        from.iter().find_map(|i| self.gateway(&i.network, to.is_ipv6())).unwrap_or(to)
    }

    fn gateway_target(&self, from: &[&Iface], network: &str, g: IpAddr) -> Target {
        Target {
            label: format!("gateway {g} ({network})"),
            addr: g,
            hops: None,
            next_hop: self.next_hop(from, g, Some(network)),
            place: self.router,
        }
    }

    fn endpoint_target(&self, from: &[&Iface], to: &Iface, a: IpAddr, hops: Option<u8>) -> Target {
        Target {
            label: format!("{}/{} {a}", to.endpoint, to.ifname),
            addr: a,
            hops,
            next_hop: self.next_hop(from, a, Some(&to.network)),
            place: Some(to.place),
        }
    }
}

/// The probes of `plan`, by source namespace (endpoints in order, then the
/// host through its shims).
pub(crate) fn sources(t: &Topology, places: &[Place], ifaces: &[Iface], plan: CheckPlan) -> Vec<Source> {
    let router = places.iter().position(|p| p.role == Role::Router);
    let has_router = router.is_some() || t.networks.iter().any(|n| n.subnets.iter().any(|s| s.gateway().is_some()));
    let cx = Ctx { t, ifaces, router };
    let mut out = Vec::new();
    for (place, p) in places.iter().enumerate() {
        let Some(ep) = p.endpoint() else { continue };
        let mine: Vec<&Iface> = ifaces.iter().filter(|i| i.place == place).collect();
        let has = |v6: bool| mine.iter().any(|i| i.addrs.iter().any(|a| a.is_ipv6() == v6));
        let mut targets = Vec::new();
        match plan {
            CheckPlan::Linear => {
                for i in &mine {
                    for v6 in [false, true].into_iter().filter(|v6| i.addrs.iter().any(|a| a.is_ipv6() == *v6)) {
                        if let Some(g) = cx.gateway(&i.network, v6) {
                            targets.push(cx.gateway_target(&mine, &i.network, g));
                        }
                    }
                }
                for i in &mine {
                    if let Some(peer) = ring_next(ifaces, i) {
                        for a in peer.addrs.iter().filter(|a| i.addrs.iter().any(|b| b.is_ipv6() == a.is_ipv6())) {
                            targets.push(cx.endpoint_target(&mine, peer, *a, Some(1)));
                        }
                    }
                }
            }
            CheckPlan::Mesh => {
                for n in &t.networks {
                    for g in n.subnets.iter().filter_map(|s| s.gateway()).filter(|g| has(g.is_ipv6())) {
                        targets.push(cx.gateway_target(&mine, &n.name, g));
                    }
                }
                for other in ifaces.iter().filter(|i| i.endpoint != ep) {
                    let same_net = mine.iter().any(|i| i.network == other.network);
                    let hops = if same_net {
                        Some(1)
                    } else if has_router {
                        Some(2)
                    } else {
                        None
                    };
                    for a in other.addrs.iter().filter(|a| has(a.is_ipv6())) {
                        targets.push(cx.endpoint_target(&mine, other, *a, hops));
                    }
                }
            }
        }
        out.push(Source { place, label: ep.to_string(), targets });
    }
    if plan == CheckPlan::Linear && has_router {
        cross_network_probes(&cx, &mut out);
    }
    // Host shims: the parents' namespace reaches the endpoints through them.
    let mut shim_targets = Vec::new();
    for n in t.networks.iter() {
        let Some(shim) = &n.host_shim else { continue };
        for i in ifaces.iter().filter(|i| i.network == n.name) {
            for a in &i.addrs {
                if if a.is_ipv4() { shim.ipv4.is_some() } else { shim.ipv6.is_some() } {
                    shim_targets.push(Target {
                        label: format!("{}/{} {a} (via {})", i.endpoint, i.ifname, shim.name),
                        addr: *a,
                        hops: Some(1),
                        next_hop: *a,
                        place: Some(i.place),
                    });
                }
            }
        }
    }
    if !shim_targets.is_empty() {
        out.push(Source { place: HOST, label: format!("{} (host)", places[HOST].label), targets: shim_targets });
    }
    out
}

/// The interface after `i` on its network, in topology order (wrapping
/// around), of another endpoint.
fn ring_next<'a>(ifaces: &'a [Iface], i: &Iface) -> Option<&'a Iface> {
    let on: Vec<&Iface> = ifaces.iter().filter(|x| x.network == i.network).collect();
    let at = on.iter().position(|x| x.place == i.place && x.ifname == i.ifname)?;
    (1..on.len()).map(|k| on[(at + k) % on.len()]).find(|x| x.place != i.place)
}

/// One hop-count probe per ordered pair of networks with gateways of a
/// common family: from the first endpoint of one that is not on the other,
/// to the first such endpoint of the other (2 hops: through the router).
fn cross_network_probes(cx: &Ctx<'_>, out: &mut [Source]) {
    let nets: Vec<&str> = cx.t.networks.iter().map(|n| n.name.as_str()).collect();
    let on = |place: usize, net: &str| cx.ifaces.iter().any(|i| i.place == place && i.network == net);
    for a in &nets {
        for b in nets.iter().filter(|b| *b != a) {
            let probe = [false, true].into_iter().find_map(|v6| {
                cx.gateway(a, v6)?;
                cx.gateway(b, v6)?;
                let has = |i: &&Iface| i.addrs.iter().any(|x| x.is_ipv6() == v6);
                let src = cx.ifaces.iter().filter(has).find(|i| i.network == *a && !on(i.place, b))?;
                let dst = cx.ifaces.iter().filter(has).find(|i| i.network == *b && !on(i.place, a))?;
                let addr = dst.addrs.iter().copied().find(|x| x.is_ipv6() == v6)?;
                Some((src.place, dst, addr))
            });
            let Some((src_place, dst, addr)) = probe else { continue };
            let Some(s) = out.iter_mut().find(|s| s.place == src_place) else { continue };
            let mine: Vec<&Iface> = cx.ifaces.iter().filter(|i| i.place == src_place).collect();
            s.targets.push(cx.endpoint_target(&mine, dst, addr, Some(2)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::places::places;

    /// N endpoints spread over K networks behind a lab router, IPv4 only.
    fn lab(n: usize, k: usize) -> (Topology, Vec<Place>, Vec<Iface>) {
        let mut y = String::from("name: cp\nnamespace: cp-host\nlab: { trunk: eth0, router: cp-rtr }\nnetworks:\n");
        for net in 0..k {
            y.push_str(&format!(
                "  n{net}:\n    parent: eth0\n    vlan: {}\n    subnets: [ {{ subnet: 10.{net}.0.0/16, gateway: 10.{net}.0.1 }} ]\n",
                10 + net
            ));
        }
        y.push_str("endpoints:\n");
        for i in 0..n {
            y.push_str(&format!(
                "  cp-e{i}: {{ attach: [ {{ network: n{}, ipv4: 10.{}.1.{} }} ] }}\n",
                i % k,
                i % k,
                i / k + 2
            ));
        }
        let t = crate::from_yaml(&y, "test").unwrap();
        let places = places(&t).unwrap();
        let ifaces = t
            .endpoints
            .iter()
            .map(|e| Iface {
                place: places.iter().position(|p| p.endpoint() == Some(e.name.as_str())).unwrap(),
                endpoint: e.name.clone(),
                ifname: e.attach[0].ifname.to_string(),
                network: e.attach[0].network.clone(),
                addrs: e.attach[0].ipv4.iter().map(|a| IpAddr::V4(*a)).collect(),
                mac: None,
            })
            .collect();
        (t, places, ifaces)
    }

    fn count(n: usize, k: usize, plan: CheckPlan) -> usize {
        let (t, p, i) = lab(n, k);
        sources(&t, &p, &i, plan).iter().map(|s| s.targets.len()).sum()
    }

    #[test]
    fn linear_plan_grows_linearly() {
        // Per endpoint: its gateway and its ring peer; plus one probe per
        // ordered pair of networks.
        for (n, k) in [(8, 1), (50, 1), (200, 4), (1000, 4)] {
            assert_eq!(count(n, k, CheckPlan::Linear), 2 * n + k * (k - 1), "{n} endpoints on {k} networks");
        }
    }

    #[test]
    fn mesh_plan_is_every_pair() {
        assert_eq!(count(50, 1, CheckPlan::Mesh), 50 * 49 + 50);
        assert_eq!(count(20, 4, CheckPlan::Mesh), 20 * 19 + 20 * 4);
    }

    #[test]
    fn the_ring_makes_every_endpoint_source_and_target() {
        let (t, p, i) = lab(10, 2);
        let s = sources(&t, &p, &i, CheckPlan::Linear);
        for e in &i {
            let as_target = s.iter().flat_map(|s| &s.targets).filter(|x| x.hops == Some(1) && x.place == Some(e.place));
            assert_eq!(as_target.count(), 1, "{} is the ring target of exactly one peer", e.endpoint);
            let me = s.iter().find(|s| s.place == e.place).unwrap();
            // Gateways come first: the router learns the endpoint from them.
            assert!(me.targets[0].label.starts_with("gateway 10."), "{:?}", me.targets);
            assert!(me.targets.iter().any(|x| x.hops == Some(1)));
        }
        // Across networks: 2 hops, next hop the source's gateway.
        let cross: Vec<&Target> = s.iter().flat_map(|s| &s.targets).filter(|x| x.hops == Some(2)).collect();
        assert_eq!(cross.len(), 2);
        for c in cross {
            assert!(c.next_hop.to_string().ends_with(".0.1"), "{c:?}");
        }
    }

    #[test]
    fn check_counts_are_known_without_the_kernel() {
        let t = crate::from_yaml(include_str!("../../../examples/seed.yaml"), "seed").unwrap();
        let mesh = t.check_count(CheckPlan::Mesh).unwrap();
        let linear = t.check_count(CheckPlan::Linear).unwrap();
        assert!(mesh > linear && linear > 0, "mesh {mesh}, linear {linear}");
    }
}
