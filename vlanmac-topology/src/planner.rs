//! The planner: the phases of a plan, each a method of [`Planner`] —
//! namespaces, what a killed run left, links, addresses, interface
//! sysctls, links up, routes, sysctls, served addresses (DHCP), removals — in the order `apply` carries them out.

use std::collections::HashSet;

use super::{
    desired::{Desired, DesiredKind, DesiredLink},
    ipam,
    leases::{LeaseStatus, Served},
    marks,
    model::Topology,
    observe::Seen,
    places::{Place, Role},
    plan::{ipam_inputs, Action, Change, Plan, Sign},
};
use vlanmac_core::{
    link::LinkUpdate,
    readback::LinkKind,
    spec::{AddressSpec, IfName, RouteSpec},
    Error, Result,
};

/// Computes the plan of `t` over `places` given what was `seen` there,
/// with the state the kernel is to hold.
pub(crate) fn plan(t: &Topology, places: &[Place], seen: &[Seen], served: &Served) -> Result<(Plan, Desired)> {
    let d = desired_state(t, places, seen)?;
    let stranded = stranded(&t.name, &d, seen);
    // The plan deletes and makes them again: from here on they count as absent.
    let mut rest;
    let seen = if stranded.is_empty() {
        seen
    } else {
        rest = seen.to_vec();
        for x in &stranded {
            rest[x.place].links.retain(|l| l.name != x.name.as_str());
        }
        &rest[..]
    };
    let (changes, leases) = {
        let mut p = Planner::new(t, places, seen, &d);
        p.namespaces()?;
        p.left_behind();
        p.rehang(&stranded)?;
        p.links()?;
        p.addresses();
        p.sysctls(&d.link_sysctls);
        p.links_up();
        p.routes();
        p.sysctls(&d.sysctls);
        let leases = p.served(served);
        p.removals();
        (p.changes, leases)
    };
    Ok((Plan { topology: t.name.clone(), changes, leases }, d))
}

/// The endpoint links (macvlan, ipvlan) that exist but hang off another
/// link than their parent (a network moved to another VLAN id or parent):
/// the parent is still to be made, or the child's lower device has another
/// index. The plan may delete the old parent and them with it: they are
/// deleted and made again on the new parent.
fn stranded(topology: &str, d: &Desired, seen: &[Seen]) -> Vec<Stranded> {
    let link = |place: usize, name: &str| seen.get(place).and_then(|s| s.link(name));
    d.links
        .iter()
        .filter(|l| !l.external)
        .filter_map(|l| {
            // A link of another kind is a conflict phase 2 reports.
            let have = link(l.place, l.name.as_str()).filter(|h| h.kind.name() == l.kind.kind_name())?;
            let (DesiredKind::Macvlan { parent, parent_place, .. } | DesiredKind::Ipvlan { parent, parent_place, .. }) =
                &l.kind
            else {
                return None;
            };
            // On its parent, the child's IFLA_LINK is that parent's index
            // (in the parent's namespace); another index is another parent.
            let want = link(*parent_place, parent.as_str());
            if want.is_some_and(|w| have.parent.as_ref().is_none_or(|p| p.index == w.index)) {
                return None;
            }
            let ours = marks::sole_owner(have.alias.as_deref(), have.group, topology);
            let parent = (*parent_place, parent.clone());
            Some(Stranded { place: l.place, name: l.name.clone(), ours, mac: have.mac, parent })
        })
        .collect()
}

/// A [`stranded`] link.
#[derive(Debug, PartialEq, Eq)]
struct Stranded {
    place: usize,
    name: IfName,
    /// Whether this topology alone owns it (else replacing it is a conflict).
    ours: bool,
    /// Its MAC.
    mac: Option<vlanmac_core::spec::MacAddr>,
    /// Where its new parent is, and its name.
    parent: (usize, IfName),
}

/// What `t` should look like in the kernel, IPAM resolved against what
/// the kernel holds now (`seen`).
pub(crate) fn desired_state(t: &Topology, places: &[Place], seen: &[Seen]) -> Result<Desired> {
    let (present, current) = ipam_inputs(places, seen);
    let assigned = ipam::assign(t, &present, &current)?;
    let mut d = super::desired::desired(t, places, &assigned);
    follow_runtime_names(&mut d, seen);
    Ok(d)
}

/// Links a runtime makes (Docker's) are named by the runtime: a container
/// disconnected and connected again gets `eth1` where it had `eth0`. An
/// external link not seen under its name but seen, under another, with
/// the MAC it must have, is that link: its addresses and routes follow it.
fn follow_runtime_names(d: &mut Desired, seen: &[Seen]) {
    for i in 0..d.links.len() {
        let l = &d.links[i];
        let (Some(mac), Some(s)) = (l.mac, seen.get(l.place)) else { continue };
        if !l.external || s.link(l.name.as_str()).is_some_and(|x| x.mac == Some(mac)) {
            continue;
        }
        let Some(found) = s.links.iter().find(|x| x.mac == Some(mac)) else { continue };
        let Ok(name) = IfName::new(found.name.clone()) else { continue };
        let (place, old) = (l.place, l.name.clone());
        for (_, dev, _) in d.addresses.iter_mut().filter(|(p, dev, _)| *p == place && *dev == old) {
            *dev = name.clone();
        }
        for (_, r) in d.routes.iter_mut().filter(|(p, r)| *p == place && r.dev.as_ref() == Some(&old)) {
            r.dev = Some(name.clone());
        }
        d.links[i].name = name;
    }
}

/// One plan being computed.
struct Planner<'a> {
    t: &'a Topology,
    places: &'a [Place],
    seen: &'a [Seen],
    d: &'a Desired,
    /// The mark on `lo` of the namespaces this topology creates.
    mark: String,
    /// Links Docker makes (containers on Docker networks): only verified.
    external: HashSet<(usize, &'a IfName)>,
    /// Links an IPv4 address is removed from: the kernel then flushes the
    /// routes through them (and a primary address's secondaries), so
    /// their routes are added again after the new addresses.
    v4_removed: HashSet<(usize, IfName)>,
    changes: Vec<Change>,
}

impl<'a> Planner<'a> {
    fn new(t: &'a Topology, places: &'a [Place], seen: &'a [Seen], d: &'a Desired) -> Self {
        let external = d.links.iter().filter(|l| l.external).map(|l| (l.place, &l.name)).collect();
        let mark = marks::alias_of(&[t.name.clone()].into());
        Planner { t, places, seen, d, mark, external, v4_removed: HashSet::new(), changes: Vec::new() }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        sign: Sign,
        place: usize,
        object: String,
        detail: String,
        before: Option<String>,
        after: Option<String>,
        action: Action,
    ) {
        let netns = self.places[place].label.clone();
        self.changes.push(Change { sign, netns, object, detail, before, after, action });
    }

    /// Phase 1: Namespaces to create (named ones only).
    fn namespaces(&mut self) -> Result<()> {
        for (i, p) in self.places.iter().enumerate() {
            if !self.seen[i].exists {
                if p.named.is_none() {
                    return Err(Error::Conflict(format!(
                        "netns {} does not exist (only named namespaces are created)",
                        p.label
                    )));
                }
                self.push(
                    Sign::Create,
                    i,
                    "netns".into(),
                    format!("marked {} on lo", self.mark),
                    None,
                    None,
                    Action::CreateNetns { place: i },
                );
            }
        }
        Ok(())
    }

    /// Phase 1b: Links a run that died half-way left under a temporary name.
    fn left_behind(&mut self) {
        for (i, s) in self.seen.iter().enumerate() {
            for l in &s.left_behind {
                if let Ok(dev) = IfName::new(l.name.clone()) {
                    let pid = vlanmac_core::temp_link_owner(&l.name).unwrap_or(0);
                    self.push(
                        Sign::Remove,
                        i,
                        format!("link {}", l.name),
                        format!("left by an interrupted run (pid {pid}, gone)"),
                        None,
                        None,
                        Action::DeleteLink { place: i, dev, mac: None },
                    );
                }
            }
        }
    }

    /// Phase 1c: The [`stranded`] links, deleted to be made again on their
    /// new parent by phase 2 (only those this topology alone owns: another
    /// one's are a conflict). `self.seen` no longer holds them.
    fn rehang(&mut self, stranded: &[Stranded]) -> Result<()> {
        for Stranded { place, name, ours, mac, parent } in stranded {
            if !ours {
                return Err(Error::Conflict(format!(
                    "netns {}: link {name} hangs off another parent than the topology's and is not this \
                     topology's alone; vlanmac will not replace it",
                    self.places[*place].label
                )));
            }
            self.push(
                Sign::Remove,
                *place,
                format!("link {name}"),
                format!("to be made again on {}/{}", self.places[parent.0].label, parent.1),
                None,
                None,
                Action::DeleteLink { place: *place, dev: name.clone(), mac: *mac },
            );
        }
        Ok(())
    }

    /// Phase 2: Links (trunk, VLAN subinterfaces, shims, endpoints): created, or changed to match.
    fn links(&mut self) -> Result<()> {
        for l in &self.d.links {
            if l.external {
                continue;
            }
            let place = &self.places[l.place];
            match self.seen[l.place].link(l.name.as_str()) {
                None => {
                    if matches!(l.kind, DesiredKind::VethPeer) {
                        continue; // made together with the trunk
                    }
                    self.push(
                        Sign::Create,
                        l.place,
                        format!("link {}", l.name),
                        kind_detail(l, self.places),
                        None,
                        None,
                        Action::CreateLink { link: l.clone() },
                    );
                }
                Some(have) => {
                    check_kind(l, have, place)?;
                    let mut update = LinkUpdate::new();
                    let mut undo = LinkUpdate::new();
                    let (mut before, mut after) = (Vec::new(), Vec::new());
                    if let (Some(want), hm) = (l.mac, have.mac) {
                        if hm != Some(want) {
                            update.mac = Some(want);
                            undo.mac = hm;
                            before.push(format!("mac {}", hm.map(|m| m.to_string()).unwrap_or("-".into())));
                            after.push(format!("mac {want}"));
                        }
                    }
                    if let (Some(want), hm) = (l.mtu, have.mtu) {
                        if hm != Some(want.get()) {
                            update.mtu = Some(want);
                            undo.mtu = hm.and_then(|m| vlanmac_core::spec::Mtu::new(m).ok());
                            before.push(format!("mtu {}", hm.unwrap_or(0)));
                            after.push(format!("mtu {want}"));
                        }
                    }
                    // A link another topology created and this one uses too
                    // (a shared VLAN subinterface) gets this topology's mark; so
                    // does one in this topology's group with no mark (made by a
                    // run of it that died before the alias was set).
                    let owners = marks::owners(have.alias.as_deref());
                    let shared_use = !owners.is_empty() && !owners.contains(&self.t.name);
                    let interrupted = owners.is_empty() && have.group == marks::group_of(&self.t.name);
                    if shared_use || interrupted {
                        let new = marks::with_owner(have.alias.as_deref(), &self.t.name);
                        update.alias = Some(new.clone());
                        // An empty alias clears it again.
                        undo.alias = Some(have.alias.clone().unwrap_or_default());
                        before.push(format!("alias {}", have.alias.as_deref().unwrap_or("-")));
                        after.push(format!("alias {new}"));
                    }
                    if !update.is_empty() {
                        self.push(
                            Sign::Change,
                            l.place,
                            format!("link {}", l.name),
                            String::new(),
                            Some(before.join(" ")),
                            Some(after.join(" ")),
                            Action::SetLink { place: l.place, dev: l.name.clone(), update, undo },
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Phase 3: Addresses (IPv6 with nodad); stale global addresses on links this
    /// topology owns are removed.
    fn addresses(&mut self) {
        // Removals first: an IPv4 address added before the old one of its
        // subnet goes would be a secondary, and removing the primary takes
        // its secondaries with it.
        for l in &self.d.links {
            if l.external {
                continue;
            }
            let Some(have) = self.seen[l.place].link(l.name.as_str()) else {
                continue;
            };
            if !marks::owns(have.alias.as_deref(), have.group, &self.t.name) || self.places[l.place].role == Role::Host
            {
                continue;
            }
            let leased = self.d.dhcp.iter().any(|x| x.place == l.place && x.dev == l.name);
            let slaac = self.d.slaac.iter().any(|(p, dev)| *p == l.place && dev == &l.name);
            // A lease's address and SLAAC's are the server's and the
            // router's to give: kept, not removed as unknown.
            let served = |a: &vlanmac_core::readback::Address| if a.net.addr().is_ipv4() { leased } else { slaac };
            for a in have.addresses.iter().filter(|a| !a.link_scope && !served(a)) {
                let wanted =
                    self.d.addresses.iter().any(|(p, dev, w)| *p == l.place && dev == &l.name && w.net == a.net);
                if !wanted {
                    if a.net.addr().is_ipv4() {
                        self.v4_removed.insert((l.place, l.name.clone()));
                    }
                    let addr = AddressSpec { net: a.net, nodad: a.nodad, lifetimes: None };
                    self.push(
                        Sign::Remove,
                        l.place,
                        format!("address {} {}", l.name, a.net),
                        "no longer in the spec".into(),
                        None,
                        None,
                        Action::DelAddress { place: l.place, dev: l.name.clone(), addr },
                    );
                }
            }
        }
        for (place, dev, addr) in &self.d.addresses {
            if self.external.contains(&(*place, dev)) {
                continue;
            }
            let has =
                self.seen[*place].link(dev.as_str()).is_some_and(|l| l.addresses.iter().any(|a| a.net == addr.net));
            if !has {
                self.push(
                    Sign::Create,
                    *place,
                    format!("address {dev} {}", addr.net),
                    if addr.nodad { "nodad".into() } else { String::new() },
                    None,
                    None,
                    Action::AddAddress { place: *place, dev: dev.clone(), addr: *addr },
                );
            }
        }
    }

    /// Phase 4: Links up, and lo in the router's and endpoints' namespaces that
    /// this topology creates or owns (another namespace's lo is its owner's).
    fn links_up(&mut self) {
        let mut up: Vec<(usize, IfName)> =
            self.d.links.iter().filter(|l| !l.external).map(|l| (l.place, l.name.clone())).collect();
        for (i, p) in self.places.iter().enumerate() {
            let ours = !self.seen[i].exists
                || self.seen[i].link("lo").is_some_and(|l| marks::owned_by(l.alias.as_deref(), &self.t.name));
            if p.role != Role::Host && ours {
                up.push((i, IfName::loopback()));
            }
        }
        for (place, dev) in up {
            let is_up = self.seen[place].link(dev.as_str()).is_some_and(|l| l.admin_up);
            if !is_up {
                let existed = self.seen[place].link(dev.as_str()).is_some();
                self.push(
                    Sign::Change,
                    place,
                    format!("link {dev}"),
                    "up".into(),
                    existed.then(|| "down".to_string()),
                    existed.then(|| "up".to_string()),
                    Action::SetLink {
                        place,
                        dev,
                        update: LinkUpdate::new().up(true),
                        undo: if existed { LinkUpdate::new().up(false) } else { LinkUpdate::new() },
                    },
                );
            }
        }
    }

    /// Phase 5: Routes, once the links are up (the kernel refuses a route through a
    /// link that is down): the first attachment's gateways are the defaults.
    fn routes(&mut self) {
        for (place, route) in &self.d.routes {
            if route.dev.as_ref().is_some_and(|dev| self.external.contains(&(*place, dev))) {
                continue;
            }
            let s = &self.seen[*place];
            let dev = route.dev.as_ref().map(|d| d.as_str());
            let existing = s.routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv6() == route.is_ipv6());
            // The kernel flushes IPv4 routes through a link whose address goes.
            let flushed = !route.is_ipv6()
                && route.dev.as_ref().is_some_and(|d| self.v4_removed.contains(&(*place, d.clone())))
                && existing.is_some_and(|r| r.oif.and_then(|i| s.name_of(i)) == dev);
            let existing = existing.filter(|_| !flushed);
            match existing {
                Some(r) if r.gateway == route.gateway && r.oif.and_then(|i| s.name_of(i)) == dev => {}
                Some(r) => {
                    let mut old = RouteSpec::default_via(r.gateway.unwrap_or(route.dst.addr()));
                    old.gateway = r.gateway;
                    old.dev = r.oif.and_then(|i| s.name_of(i)).and_then(|n| IfName::new(n).ok());
                    self.push(
                        Sign::Change,
                        *place,
                        format!("route {}", if route.is_ipv6() { "default (IPv6)" } else { "default" }),
                        String::new(),
                        Some(old.to_string()),
                        Some(route.to_string()),
                        Action::ReplaceRoute { place: *place, route: route.clone(), old },
                    );
                }
                None => self.push(
                    Sign::Create,
                    *place,
                    format!("route {route}"),
                    String::new(),
                    None,
                    None,
                    Action::AddRoute { place: *place, route: route.clone() },
                ),
            }
        }
    }

    /// Phase 3b and 6: Sysctls — those of endpoint interfaces (router
    /// advertisements accepted or not) before their links come up, so no
    /// advertisement is taken or missed in between; the lab router's
    /// (forwarding, no redirects) after the routes.
    fn sysctls(&mut self, sysctls: &[(usize, String, &'static str)]) {
        for (place, key, value) in sysctls {
            // An unreadable value (a namespace still to create) counts as different.
            let old = self.seen[*place].sysctls.get(key).cloned().unwrap_or_else(|| "?".into());
            if old != *value {
                self.push(
                    Sign::Change,
                    *place,
                    format!("sysctl {key}"),
                    String::new(),
                    Some(old.clone()),
                    Some(value.to_string()),
                    Action::SetSysctl { place: *place, key: key.clone(), value: value.to_string(), old },
                );
            }
        }
    }

    /// Phase 7: Served addresses, once the links are up: the lab's DHCP
    /// server (started when it does not run with the configuration it
    /// needs), then a lease for each DHCP interface that does not hold a
    /// valid one (its address on the link, its MAC the link's), then a
    /// wait for each SLAAC interface without its address. The DHCP
    /// interfaces that hold their lease are returned, for the plan to show.
    fn served(&mut self, served: &Served) -> Vec<LeaseStatus> {
        if let (Some((server, false)), Some(router)) =
            (&served.lab_server, self.places.iter().position(|p| p.role == Role::Router))
        {
            let ifaces: Vec<&str> = server.config.lines().filter_map(|l| l.strip_prefix("interface=")).collect();
            self.push(
                Sign::Create,
                router,
                "lab DHCP server".into(),
                format!("dnsmasq on {}", ifaces.join(", ")),
                None,
                None,
                Action::StartLabServer { place: router },
            );
        }
        let mut held = Vec::new();
        for x in &self.d.dhcp {
            let stored = served.leases.get(&(x.endpoint.clone(), x.dev.to_string()));
            let link = self.seen[x.place].link(x.dev.as_str());
            // Held: unexpired, on the interface, and the options the
            // network uses in place (else asked for again and installed).
            let holds = |l: &crate::dhcp::Lease| {
                l.is_valid(served.now)
                    && l.mac == x.mac
                    && link.is_some_and(|k| {
                        k.mac == Some(x.mac)
                            && k.addresses.iter().any(|a| a.net.addr() == std::net::IpAddr::V4(l.address))
                            && (!x.use_mtu || l.mtu.is_none() || k.mtu == l.mtu.map(u32::from))
                    })
                    && x.resolv.as_ref().is_none_or(|(path, used)| {
                        served.resolv.get(path).is_some_and(|t| crate::leases::resolv_missing(t, l, *used).is_empty())
                    })
            };
            match stored {
                Some(l) if holds(l) => held.push(crate::leases::status(x, l, self.places, served.now)),
                _ => {
                    let previous = stored.filter(|l| l.mac == x.mac).map(|l| l.address);
                    let detail = match previous {
                        Some(a) => format!("acquire a lease (asking for {a} again)"),
                        None => "acquire a lease".to_string(),
                    };
                    self.push(
                        Sign::Create,
                        x.place,
                        format!("address {} dhcp", x.dev),
                        detail,
                        None,
                        None,
                        Action::AcquireLease { lease: x.clone(), previous },
                    );
                }
            }
        }
        for (place, dev) in &self.d.slaac {
            let formed =
                self.seen[*place].link(dev.as_str()).is_some_and(|l| l.addresses.iter().any(crate::leases::is_slaac));
            if !formed {
                self.push(
                    Sign::Create,
                    *place,
                    format!("address {dev} slaac"),
                    "await a router advertisement".into(),
                    None,
                    None,
                    Action::AwaitSlaac { place: *place, dev: dev.clone() },
                );
            }
        }
        held
    }

    /// Phase 8: Links this topology alone owns that the spec no longer has.
    fn removals(&mut self) {
        for (i, s) in self.seen.iter().enumerate() {
            for l in &s.links {
                let ours = marks::sole_owner(l.alias.as_deref(), l.group, &self.t.name);
                let wanted = self.d.links.iter().any(|w| w.place == i && w.name.as_str() == l.name);
                if ours && !wanted && l.name != "lo" {
                    if let Ok(dev) = IfName::new(l.name.clone()) {
                        self.push(
                            Sign::Remove,
                            i,
                            format!("link {}", l.name),
                            "no longer in the spec".into(),
                            None,
                            None,
                            Action::DeleteLink { place: i, dev, mac: l.mac },
                        );
                    }
                }
            }
        }
    }
}

fn kind_detail(l: &DesiredLink, places: &[Place]) -> String {
    let mut s = match &l.kind {
        DesiredKind::VethTrunk { peer_place } => {
            format!("veth, peer {} in {}", l.name, places[*peer_place].label)
        }
        DesiredKind::VethPeer => "veth (the trunk's peer)".to_string(),
        DesiredKind::Vlan { parent, id, protocol } => format!("vlan {id} ({protocol}) on {parent}"),
        DesiredKind::Macvlan { parent, parent_place, mode, .. } => {
            format!("macvlan {mode} on {}/{parent}", places[*parent_place].label)
        }
        DesiredKind::Ipvlan { parent, parent_place, mode, flags } => {
            format!("ipvlan {mode} {flags} on {}/{parent}", places[*parent_place].label)
        }
    };
    if let Some(m) = l.mac {
        s.push_str(&format!(" mac {m}"));
    }
    if let Some(m) = l.mtu {
        s.push_str(&format!(" mtu {m}"));
    }
    s
}

/// Checks that an existing link is what the topology wants.
fn check_kind(want: &DesiredLink, have: &vlanmac_core::readback::Link, place: &Place) -> Result<()> {
    let conflict = |what: String| {
        Err(Error::Conflict(format!("netns {}: link {} {what}; vlanmac will not replace it", place.label, want.name)))
    };
    if have.kind.name() != want.kind.kind_name() {
        return conflict(format!("is a {} but the topology needs a {}", have.kind.name(), want.kind.kind_name()));
    }
    match (&want.kind, &have.kind) {
        (DesiredKind::Vlan { id, protocol, .. }, LinkKind::Vlan { id: hid, protocol: hp, .. })
            if *hid != Some(*id) || *hp != Some(*protocol) =>
        {
            return conflict(format!("is VLAN {hid:?} {hp:?} but the topology needs VLAN {id} {protocol}"));
        }
        (DesiredKind::Macvlan { mode, .. }, LinkKind::Macvlan { mode: hm, .. }) if *hm != Some(*mode) => {
            return conflict(format!("is a macvlan in mode {hm:?} but the topology needs {mode}"));
        }
        (DesiredKind::Ipvlan { mode, .. }, LinkKind::Ipvlan { mode: hm, .. }) if *hm != Some(*mode) => {
            return conflict(format!("is an ipvlan in mode {hm:?} but the topology needs {mode}"));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use vlanmac_core::{
        netlink_packet_route::link::{LinkAttribute, LinkMessage},
        readback::Link,
        spec::MacAddr,
    };

    use super::*;
    use crate::desired::DesiredKind;

    fn seen_link(index: u32, name: &str, mac: [u8; 6]) -> Link {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        Link::from_message(&m).unwrap()
    }

    /// Docker connected a container again: its link is `eth1` now. The
    /// desired link (by its MAC), its address and its route follow it;
    /// a link the topology makes keeps its name.
    #[test]
    fn runtime_made_links_are_followed_by_their_mac() {
        let mac: MacAddr = "02:42:0a:47:14:04".parse().unwrap();
        let eth0 = IfName::new("eth0").unwrap();
        let link = |external| DesiredLink {
            place: 1,
            name: eth0.clone(),
            kind: DesiredKind::VethPeer,
            mac: Some(mac),
            mtu: None,
            external,
            no_ipv6: false,
            attachment: Some(0),
        };
        let addr: AddressSpec = "10.71.20.4/24".parse().unwrap();
        let route = RouteSpec::default_via("10.71.20.1".parse().unwrap()).with_dev(eth0.clone());
        let seen = vec![
            Seen::default(),
            Seen {
                exists: true,
                links: vec![seen_link(7, "eth1", [2, 0x42, 10, 0x47, 0x14, 4])],
                routes: Vec::new(),
                sysctls: HashMap::new(),
                left_behind: Vec::new(),
            },
        ];
        let mut d = Desired {
            links: vec![link(true)],
            addresses: vec![(1, eth0.clone(), addr)],
            routes: vec![(1, route)],
            ..Desired::default()
        };
        follow_runtime_names(&mut d, &seen);
        assert_eq!(d.links[0].name.as_str(), "eth1");
        assert_eq!(d.addresses[0].1.as_str(), "eth1");
        assert_eq!(d.routes[0].1.dev.as_ref().map(|d| d.as_str()), Some("eth1"));
        // vlanmac's own links are named by the topology.
        let mut ours = Desired { links: vec![link(false)], ..Desired::default() };
        follow_runtime_names(&mut ours, &seen);
        assert_eq!(ours.links[0].name.as_str(), "eth0");
    }

    /// A network moved from VLAN 10 to VLAN 30: the endpoint's macvlan
    /// exists, its new parent `eth0.30` does not yet, so it hangs off the
    /// old one and is made again; one whose parent exists is kept (no
    /// lower device read: nothing says otherwise); one whose lower device
    /// is `eth0.10` while it should be on `eth0.20` is made again.
    #[test]
    fn a_child_whose_parent_is_still_to_make_is_stranded() {
        let name = |s: &str| IfName::new(s).unwrap();
        let macvlan = |place, parent: &str| DesiredLink {
            place,
            name: name("eth0"),
            kind: DesiredKind::Macvlan {
                parent: name(parent),
                parent_place: 0,
                mode: vlanmac_core::spec::MacvlanMode::Bridge,
                source_macs: Vec::new(),
            },
            mac: None,
            mtu: None,
            external: false,
            no_ipv6: false,
            attachment: Some(0),
        };
        let marked = |index, n: &str, owner: &str| {
            let mut l = seen_link(index, n, [2, 0, 0, 0, 0, index as u8]);
            if n == "eth0" {
                l.kind = LinkKind::Macvlan { mode: None, source_macs: Vec::new() };
            }
            l.alias = Some(marks::alias_of(&[owner.to_string()].into()));
            l.group = marks::group_of(owner);
            l
        };
        let place = |links| Seen { exists: true, links, ..Seen::default() };
        let on = |mut l: Link, index| {
            l.parent = Some(vlanmac_core::readback::Parent { index, name: None, netnsid: Some(0) });
            l
        };
        let seen = vec![
            place(vec![marked(2, "eth0", "t"), marked(3, "eth0.10", "t"), marked(4, "eth0.20", "t")]),
            place(vec![marked(5, "eth0", "t")]),
            place(vec![marked(6, "eth0", "t")]),
            place(vec![marked(7, "eth0", "other")]),
            place(vec![on(marked(8, "eth0", "t"), 3)]),
            place(vec![on(marked(9, "eth0", "t"), 4)]),
            // A veth where a macvlan is wanted: phase 2's conflict, not this.
            place(vec![on(seen_link(10, "eth0", [2, 0, 0, 0, 0, 10]), 99)]),
        ];
        let d = Desired {
            links: vec![
                macvlan(1, "eth0.30"),
                macvlan(2, "eth0.20"),
                macvlan(3, "eth0.30"),
                macvlan(4, "eth0.20"),
                macvlan(5, "eth0.20"),
                macvlan(6, "eth0.20"),
            ],
            ..Desired::default()
        };
        let found: Vec<_> = stranded("t", &d, &seen).into_iter().map(|x| (x.place, x.name, x.ours)).collect();
        assert_eq!(found, [(1, name("eth0"), true), (3, name("eth0"), false), (4, name("eth0"), true)]);
    }
}
