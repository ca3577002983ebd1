//! `verify`: checks a running topology the way the seed walkthrough does —
//! read-back of every interface against the spec, ICMP echo (v4 and v6)
//! from each endpoint to every other endpoint and every gateway, hop counts
//! with TTL-limited probes (1 within a VLAN, 2 across via the gateway), and
//! the lab router's neighbour table (the seed's `show ip arp`). Probes are
//! sent by the library from inside each endpoint's namespace.

pub mod icmp;
mod report;

use std::{collections::BTreeMap, net::IpAddr, time::Duration};

pub use report::{Check, CheckKind, VerifyReport};

use crate::{
    error::Result,
    netns::{self, NetnsRef},
    readback::LinkKind,
    topology::Options,
    topology::{
        apply::{read_and_plan, Reading},
        desired::{Desired, DesiredKind},
        model::Topology,
        observe::Seen,
        places::{Place, Role, HOST},
    },
};

/// One interface of an endpoint with what it should hold.
#[derive(Debug, Clone)]
struct Iface {
    place: usize,
    endpoint: String,
    ifname: String,
    network: String,
    addrs: Vec<IpAddr>,
    mac: Option<crate::spec::MacAddr>,
}

/// Runs every check of `t` against the kernel: read-back of every link,
/// address and route, pings and hop counts from every endpoint (one thread
/// per namespace), and the lab router's neighbour table.
pub async fn verify(t: &Topology, opts: &Options) -> Result<VerifyReport> {
    crate::privileges::require_admin(&format!("verify topology {}", t.name))?;
    let Reading { places, seen, desired, .. } = read_and_plan(t, opts).await?;
    let ifaces = interfaces(t, &places, &desired);
    let mut checks = readback_checks(&places, &seen, &desired);
    let probes: Vec<_> =
        probe_jobs(t, &places, &ifaces).into_iter().map(|(ep, p, targets)| probe_from(ep, p, targets)).collect();
    for p in probes {
        checks.extend(p.await?);
    }
    checks.extend(neighbour_checks(t, &places, &ifaces, opts).await?);
    Ok(VerifyReport { topology: t.name.clone(), checks })
}

/// Interfaces of endpoints, from the desired state (IPAM included).
fn interfaces(t: &Topology, places: &[Place], desired: &Desired) -> Vec<Iface> {
    let mut ifaces: Vec<Iface> = Vec::new();
    for e in &t.endpoints {
        let Some(place) = places.iter().position(|p| p.endpoint() == Some(e.name.as_str())) else {
            continue;
        };
        for a in &e.attach {
            let addrs = desired
                .addresses
                .iter()
                .filter(|(p, d, _)| *p == place && d == &a.ifname)
                .map(|(_, _, x)| x.addr())
                .collect();
            let mac = desired.links.iter().find(|l| l.place == place && l.name == a.ifname).and_then(|l| l.mac);
            ifaces.push(Iface {
                place,
                endpoint: e.name.clone(),
                ifname: a.ifname.to_string(),
                network: a.network.clone(),
                addrs,
                mac,
            });
        }
    }
    ifaces
}

/// Check 1, read-back: every desired link, address and route.
fn readback_checks(places: &[Place], seen: &[Seen], desired: &Desired) -> Vec<Check> {
    let mut checks = Vec::new();
    for l in &desired.links {
        let who = format!("{}/{}", places[l.place].label, l.name);
        let have = seen[l.place].link(l.name.as_str());
        let (ok, observed) = match have {
            None => (false, "missing".to_string()),
            Some(h) => {
                let mut problems = Vec::new();
                if h.kind.name() != l.kind.kind_name() {
                    problems.push(format!("kind {}", h.kind.name()));
                }
                match (&l.kind, &h.kind) {
                    (DesiredKind::Vlan { id, .. }, LinkKind::Vlan { id: hid, .. }) if *hid != Some(*id) => {
                        problems.push(format!("vlan {hid:?}"))
                    }
                    (DesiredKind::Macvlan { mode, .. }, LinkKind::Macvlan { mode: hm, .. }) if *hm != Some(*mode) => {
                        problems.push(format!("mode {hm:?}"))
                    }
                    _ => {}
                }
                if l.mac.is_some() && h.mac != l.mac {
                    problems.push(format!("mac {}", h.mac.map(|m| m.to_string()).unwrap_or_default()));
                }
                if let Some(m) = l.mtu {
                    if h.mtu != Some(m.get()) {
                        problems.push(format!("mtu {}", h.mtu.unwrap_or(0)));
                    }
                }
                if !h.admin_up {
                    problems.push("down".into());
                }
                if problems.is_empty() {
                    (true, describe_link(h))
                } else {
                    (false, problems.join(", "))
                }
            }
        };
        let expected = format!("{}{}", l.kind.kind_name(), l.mac.map(|m| format!(" {m}")).unwrap_or_default());
        checks.push(Check::new(CheckKind::Readback, who, "link".into(), expected, observed, ok));
    }
    for (place, dev, addr) in &desired.addresses {
        let has = seen[*place]
            .link(dev.as_str())
            .is_some_and(|l| l.addresses.iter().any(|a| a.net == addr.net && !a.dadfailed));
        checks.push(Check::new(
            CheckKind::Readback,
            format!("{}/{dev}", places[*place].label),
            "address".into(),
            addr.net.to_string(),
            if has { addr.net.to_string() } else { "missing".into() },
            has,
        ));
    }
    for (place, route) in &desired.routes {
        let s = &seen[*place];
        let found = s.routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv6() == route.is_ipv6());
        let ok = found.is_some_and(|r| r.gateway == route.gateway);
        let observed = found
            .map(|r| format!("default via {}", r.gateway.map(|g| g.to_string()).unwrap_or("-".into())))
            .unwrap_or("missing".into());
        checks.push(Check::new(
            CheckKind::Readback,
            places[*place].label.clone(),
            "route".into(),
            route.to_string(),
            observed,
            ok,
        ));
    }
    checks
}

/// Checks 2 and 3, pings and hop counts: what each endpoint namespace (and the
/// host, through its shims) probes.
fn probe_jobs(t: &Topology, places: &[Place], ifaces: &[Iface]) -> Vec<(String, Place, Vec<Target>)> {
    let gateways: Vec<(String, IpAddr)> = t
        .networks
        .iter()
        .flat_map(|n| n.subnets.iter().filter_map(move |s| s.gateway().map(|g| (n.name.clone(), g))))
        .collect();
    let has_router = places.iter().any(|p| p.role == Role::Router) || !gateways.is_empty();
    let mut jobs = Vec::new();
    for (place, p) in places.iter().enumerate() {
        let Some(ep) = p.endpoint() else { continue };
        let mine: Vec<&Iface> = ifaces.iter().filter(|i| i.place == place).collect();
        let my_nets: Vec<&str> = mine.iter().map(|i| i.network.as_str()).collect();
        // Probe only the families this endpoint has an address of.
        let has_v4 = mine.iter().any(|i| i.addrs.iter().any(IpAddr::is_ipv4));
        let has_v6 = mine.iter().any(|i| i.addrs.iter().any(IpAddr::is_ipv6));
        let reachable = |a: &IpAddr| if a.is_ipv4() { has_v4 } else { has_v6 };
        let mut targets: Vec<Target> = Vec::new();
        for other in ifaces.iter().filter(|i| i.endpoint != ep) {
            for a in other.addrs.iter().filter(|a| reachable(a)) {
                let same_net = my_nets.contains(&other.network.as_str());
                targets.push(Target {
                    label: format!("{}/{} {a}", other.endpoint, other.ifname),
                    addr: *a,
                    hops: if same_net {
                        Some(1)
                    } else if has_router {
                        Some(2)
                    } else {
                        None
                    },
                });
            }
        }
        for (net, g) in gateways.iter().filter(|(_, g)| reachable(g)) {
            targets.push(Target { label: format!("gateway {g} ({net})"), addr: *g, hops: None });
        }
        jobs.push((ep.to_string(), p.clone(), targets));
    }
    // Host shims: the parents' namespace reaches the endpoints through them.
    let mut shim_targets = Vec::new();
    for n in t.networks.iter().filter(|n| n.host_shim.is_some()) {
        let Some(shim) = &n.host_shim else { continue };
        for i in ifaces.iter().filter(|i| i.network == n.name) {
            for a in &i.addrs {
                let family_ok = if a.is_ipv4() { shim.ipv4.is_some() } else { shim.ipv6.is_some() };
                if family_ok {
                    shim_targets.push(Target {
                        label: format!("{}/{} {a} (via {})", i.endpoint, i.ifname, shim.name),
                        addr: *a,
                        hops: Some(1),
                    });
                }
            }
        }
    }
    if !shim_targets.is_empty() {
        jobs.push((format!("{} (host)", places[HOST].label), places[HOST].clone(), shim_targets));
    }
    jobs
}

/// Check 4, the lab router's neighbour table: every endpoint's IPv4 with its MAC
/// on the right VLAN interface.
async fn neighbour_checks(t: &Topology, places: &[Place], ifaces: &[Iface], opts: &Options) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    if let (Some(r), Some(_)) = (places.iter().position(|p| p.role == Role::Router), &t.lab) {
        let nl = crate::Netlink::open_shared(places[r].nsref.clone(), &opts.shared).await?;
        let neigh = nl.neighbours(None).await?;
        let links = nl.links().await?;
        let dev_of: BTreeMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
        for i in ifaces {
            let Some(n) = t.network(&i.network) else {
                continue;
            };
            if n.subnet_v4().and_then(|s| s.gateway()).is_none() {
                continue;
            }
            let dev = if n.vlan.is_some() {
                n.link_parent().to_string()
            } else {
                t.lab.as_ref().map(|l| l.trunk.to_string()).unwrap_or_default()
            };
            for a in i.addrs.iter().filter(|a| a.is_ipv4()) {
                let entry = neigh.iter().find(|x| x.ip == *a && x.state.is_resolved());
                let observed = entry
                    .map(|x| {
                        format!(
                            "{} on {}",
                            x.mac.map(|m| m.to_string()).unwrap_or("-".into()),
                            dev_of.get(&x.index).cloned().unwrap_or_default()
                        )
                    })
                    .unwrap_or("no entry".into());
                let expected = format!("{} on {dev}", i.mac.map(|m| m.to_string()).unwrap_or("-".into()));
                let ok = i.mac.is_none_or(|_| observed == expected);
                checks.push(Check::new(
                    CheckKind::Neighbour,
                    places[r].label.clone(),
                    a.to_string(),
                    expected,
                    observed,
                    ok,
                ));
            }
        }
    }
    Ok(checks)
}

fn describe_link(l: &crate::Link) -> String {
    let mut s = l.kind.name().to_string();
    if let LinkKind::Vlan { id: Some(id), .. } = &l.kind {
        s.push_str(&format!(" {id}"));
    }
    if let Some(m) = l.mac {
        s.push_str(&format!(" {m}"));
    }
    s
}

struct Target {
    label: String,
    addr: IpAddr,
    hops: Option<usize>,
}

/// Pings (and traces) every target from inside `p`'s namespace.
async fn probe_from(ep: String, p: Place, targets: Vec<Target>) -> Result<Vec<Check>> {
    let fd = match &p.nsref {
        NetnsRef::Current => None,
        r => Some(r.open()?),
    };
    netns::run_in(fd, format!("probe from {ep}"), move || {
        let mut out = Vec::new();
        let mut p4 =
            icmp::Pinger::new(false).map_err(|e| crate::Error::io(format!("open an ICMP socket in {ep}"), e))?;
        let mut p6 =
            icmp::Pinger::new(true).map_err(|e| crate::Error::io(format!("open an ICMPv6 socket in {ep}"), e))?;
        let timeout = Duration::from_millis(1000);
        for t in &targets {
            let p = if t.addr.is_ipv6() { &mut p6 } else { &mut p4 };
            let ok = icmp::ping(p, t.addr, 4, timeout).unwrap_or(false);
            out.push(Check::new(
                CheckKind::Ping,
                ep.clone(),
                t.label.clone(),
                "reply".into(),
                if ok { "reply".into() } else { "no reply".into() },
                ok,
            ));
            if let (Some(want), true) = (t.hops, ok) {
                let (hops, reached) = icmp::trace(p, t.addr, 6, 3, timeout).unwrap_or((vec![], false));
                let via: Vec<String> = hops
                    .iter()
                    .take(hops.len().saturating_sub(1))
                    .map(|h| h.map(|a| a.to_string()).unwrap_or("*".into()))
                    .collect();
                let observed = if !reached {
                    "unreached".to_string()
                } else if via.is_empty() {
                    "1 hop".to_string()
                } else {
                    format!("{} hops via {}", hops.len(), via.join(", "))
                };
                let expected = if want == 1 { "1 hop".to_string() } else { format!("{want} hops") };
                out.push(Check::new(
                    CheckKind::Hops,
                    ep.clone(),
                    t.label.clone(),
                    expected,
                    observed,
                    reached && hops.len() == want,
                ));
            }
        }
        Ok(out)
    })
    .await
}
