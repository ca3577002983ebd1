//! Checks of served addresses: each `ipv4: dhcp` interface holds an
//! unexpired lease, from the network's range, that the lab's server itself
//! records for its MAC (its own lease file, an oracle vlanmac did not
//! write); each `ipv6: slaac` interface holds a global address formed from
//! the advertised prefix and, on an endpoint's first interface, the
//! default route learned from the advertisement. The served addresses then
//! join the desired state, so read-back, pings and hop counts treat them as
//! any endpoint's.

use std::net::{IpAddr, Ipv4Addr};

use super::report::{Check, CheckKind, Stage};
use crate::{
    desired::Desired,
    dhcp::{unix_now, Lease},
    lab_server::{range_v4, LabServer},
    leases,
    model::Topology,
    observe::Seen,
    places::Place,
};
use vlanmac_core::spec::{AddressSpec, RouteSpec};

fn check(who: String, what: &str, expected: String, observed: String, ok: bool, stage: Stage) -> Check {
    Check::new(CheckKind::Readback, who, what.into(), expected, observed, ok, stage)
}

/// The checks, and the served addresses and routes added to `desired`.
pub(crate) fn checks(t: &Topology, places: &[Place], seen: &[Seen], desired: &mut Desired) -> Vec<Check> {
    let mut out = Vec::new();
    let now = unix_now();
    let server = LabServer::of(t);
    let server_leases = server.as_ref().map(|s| std::fs::read_to_string(s.leases_path()).unwrap_or_default());
    for x in desired.dhcp.clone() {
        let who = format!("{}/{}", places[x.place].label, x.dev);
        let stored = leases::load(&t.name, &x.endpoint, x.dev.as_str());
        let (ok, observed) = match &stored {
            None => (false, "no lease".to_string()),
            Some(l) if !l.is_valid(now) => (false, format!("lease of {} expired", l.address)),
            Some(l) if l.mac != x.mac => (false, format!("lease for MAC {}", l.mac)),
            Some(l) => (true, format!("lease {}, {} s left", l.address, l.remaining(now))),
        };
        out.push(check(who.clone(), "dhcp lease", "an unexpired lease".into(), observed, ok, Stage::Missing));
        let Some(lease) = stored.filter(|l| l.is_valid(now)) else { continue };
        if let Some(n) = t.network(&x.network) {
            let (ok, expected) = in_range(t, n, lease.address);
            out.push(check(who.clone(), "dhcp range", expected, lease.address.to_string(), ok, Stage::Mismatch));
        }
        if let Some(text) = &server_leases {
            let recorded = recorded_for(text, &lease);
            out.push(check(
                who.clone(),
                "dhcp server lease",
                format!("{} -> {} in the lab server's lease file", lease.mac, lease.address),
                recorded.clone().unwrap_or_else(|| "no entry for that MAC".into()),
                recorded.as_deref() == Some(&format!("{} -> {}", lease.mac, lease.address)),
                Stage::Missing,
            ));
        }
        if let (true, Some(m)) = (x.use_mtu, lease.mtu) {
            let mtu = seen[x.place].link(x.dev.as_str()).and_then(|l| l.mtu);
            let observed = mtu.map_or_else(|| "no MTU read".into(), |m| m.to_string());
            out.push(check(who.clone(), "dhcp mtu", m.to_string(), observed, mtu == Some(m.into()), Stage::Mismatch));
        }
        if let Some((path, used)) = &x.resolv {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let missing = leases::resolv_missing(&text, &lease, *used);
            out.push(check(
                who.clone(),
                "dhcp resolv.conf",
                format!("{}: the lease's DNS servers and domain", path.display()),
                if missing.is_empty() { "all there".into() } else { format!("missing {}", missing.join("; ")) },
                missing.is_empty(),
                Stage::Mismatch,
            ));
        }
        if let Ok(net) = ipnet::IpNet::new(IpAddr::V4(lease.address), lease.prefix_len) {
            desired.addresses.push((x.place, x.dev.clone(), AddressSpec { net, nodad: false, lifetimes: None }));
        }
        if let (true, Some(router)) = (x.default_route, lease.router) {
            desired.routes.push((x.place, RouteSpec::default_via(router.into()).with_dev(x.dev.clone())));
        }
    }
    for (place, dev) in desired.slaac.clone() {
        let who = format!("{}/{dev}", places[place].label);
        let link = seen[place].link(dev.as_str());
        let prefix = t
            .endpoints
            .iter()
            .find(|e| places[place].endpoint() == Some(e.name.as_str()))
            .and_then(|e| e.attach.iter().find(|a| a.ifname == dev))
            .and_then(|a| t.network(&a.network))
            .and_then(|n| n.subnet_v6())
            .map(|s| s.subnet.net());
        let global = link.and_then(|l| {
            l.addresses.iter().find(|a| {
                a.net.addr().is_ipv6()
                    && !a.link_scope
                    && !a.permanent
                    && prefix.is_none_or(|p| p.contains(&a.net.addr()))
            })
        });
        let expected = prefix.map_or("a global address".to_string(), |p| format!("an address in {p}"));
        let observed = global.map_or("none".to_string(), |a| a.net.to_string());
        out.push(check(who.clone(), "slaac address", expected, observed, global.is_some(), Stage::Missing));
        if let Some(a) = global {
            desired.addresses.push((place, dev.clone(), AddressSpec { net: a.net, nodad: false, lifetimes: None }));
        }
        let first = desired
            .link_sysctls
            .iter()
            .any(|(p, k, v)| *p == place && k.ends_with(&format!(".{dev}.accept_ra_defrtr")) && *v == "1");
        if first {
            let s = &seen[place];
            let route = s.routes.iter().find(|r| {
                r.is_default() && r.dst.addr().is_ipv6() && r.oif.and_then(|i| s.name_of(i)) == Some(dev.as_str())
            });
            let observed = route.and_then(|r| r.gateway).map_or("missing".to_string(), |g| format!("default via {g}"));
            out.push(check(
                who,
                "slaac route",
                "default via the advertising router".into(),
                observed,
                route.is_some_and(|r| r.gateway.is_some()),
                Stage::Missing,
            ));
        }
    }
    out
}

/// Whether `a` is in what the network serves: its IPv4 subnet when one is
/// declared, and, in a lab, the lab server's range.
fn in_range(t: &Topology, n: &crate::model::Network, a: Ipv4Addr) -> (bool, String) {
    if let Some((from, to, _, _)) = t.lab.as_ref().and_then(|_| range_v4(t, n)) {
        return ((from..=to).contains(&a), format!("in {from}-{to}"));
    }
    match n.subnet_v4() {
        Some(s) => (s.subnet.contains(IpAddr::V4(a)), format!("in {}", s.subnet.net())),
        None => (true, "any (no subnet declared)".into()),
    }
}

/// What the server's lease file (dnsmasq's: `EXPIRY MAC ADDRESS NAME
/// CLIENT-ID` per line) records for the lease's MAC: `MAC -> ADDRESS`.
fn recorded_for(text: &str, lease: &Lease) -> Option<String> {
    let mac = lease.mac.to_string();
    text.lines().find_map(|line| {
        let mut f = line.split_whitespace().skip(1);
        let (m, a) = (f.next()?, f.next()?);
        m.eq_ignore_ascii_case(&mac).then(|| format!("{mac} -> {a}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_lease_file_is_read_by_mac() {
        let lease: Lease = serde_json::from_str(
            r#"{"address":"10.0.20.57","prefix_len":24,"server":"10.0.20.1","mac":"06:aa:bb:cc:dd:ee",
                "router":"10.0.20.1","dns":[],"domain":null,"mtu":null,"lease_secs":120,
                "renew_secs":60,"rebind_secs":105,"acquired":1}"#,
        )
        .unwrap();
        let text = "1733400000 02:42:0a:00:14:03 10.0.20.3 c1 01:02:42:0a:00:14:03\n\
                    1733400000 06:AA:BB:CC:DD:EE 10.0.20.57 container2 *\n";
        assert_eq!(recorded_for(text, &lease).as_deref(), Some("06:aa:bb:cc:dd:ee -> 10.0.20.57"));
        assert_eq!(recorded_for("garbage\n\n1 2\n", &lease), None);
    }
}
