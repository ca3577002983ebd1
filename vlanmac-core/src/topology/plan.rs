//! `plan`: the diff between what a topology needs and what the kernel
//! holds, as `+` (create), `~` (change) and `-` (remove) changes.

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    net::IpAddr,
};

use serde::Serialize;

use super::{
    desired::{Desired, DesiredKind, DesiredLink},
    ipam, marks,
    model::Topology,
    observe::Seen,
    places::{Place, Role, HOST},
};
use crate::{
    error::{Error, Result},
    link::LinkUpdate,
    readback::LinkKind,
    spec::{AddressSpec, IfName, RouteSpec},
};

/// `+`, `~` or `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sign {
    /// Something is created.
    #[serde(rename = "+")]
    Create,
    /// Something existing is changed.
    #[serde(rename = "~")]
    Change,
    /// Something is removed.
    #[serde(rename = "-")]
    Remove,
}

impl fmt::Display for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sign::Create => "+",
            Sign::Change => "~",
            Sign::Remove => "-",
        })
    }
}

/// One change of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `+`, `~` or `-`.
    pub sign: Sign,
    /// The namespace it happens in.
    pub netns: String,
    /// What: `netns`, `link eth0.10`, `address eth0 10.0.10.3/24`, …
    pub object: String,
    /// Details: kind, parent, MAC, …
    pub detail: String,
    /// The value before (for `~`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value after (for `~` and `+`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip)]
    pub(crate) action: Action,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:<14} {}", self.sign, self.netns, self.object)?;
        if !self.detail.is_empty() {
            write!(f, "  {}", self.detail)?;
        }
        if let (Some(b), Some(a)) = (&self.before, &self.after) {
            write!(f, "  ({b} -> {a})")?;
        }
        Ok(())
    }
}

/// What executing a change does (place indices into the topology's places).
#[derive(Debug, Clone)]
pub(crate) enum Action {
    CreateNetns { place: usize },
    CreateLink { link: DesiredLink },
    SetLink { place: usize, dev: IfName, update: LinkUpdate, undo: LinkUpdate },
    AddAddress { place: usize, dev: IfName, addr: AddressSpec },
    DelAddress { place: usize, dev: IfName, addr: AddressSpec },
    AddRoute { place: usize, route: RouteSpec },
    ReplaceRoute { place: usize, route: RouteSpec, old: RouteSpec },
    SetSysctl { place: usize, key: String, value: String, old: String },
    DeleteLink { place: usize, dev: IfName },
}

impl Action {
    /// The places whose sockets carrying out this action needs.
    pub(crate) fn places(&self) -> Vec<usize> {
        match self {
            Action::CreateLink { link } => {
                let other = match &link.kind {
                    DesiredKind::VethTrunk { peer_place } => Some(*peer_place),
                    DesiredKind::Macvlan { parent_place, .. } | DesiredKind::Ipvlan { parent_place, .. } => {
                        Some(*parent_place)
                    }
                    DesiredKind::VethPeer | DesiredKind::Vlan { .. } => None,
                };
                std::iter::once(link.place).chain(other).collect()
            }
            Action::CreateNetns { place }
            | Action::SetLink { place, .. }
            | Action::AddAddress { place, .. }
            | Action::DelAddress { place, .. }
            | Action::AddRoute { place, .. }
            | Action::ReplaceRoute { place, .. }
            | Action::SetSysctl { place, .. }
            | Action::DeleteLink { place, .. } => vec![*place],
        }
    }
}

/// The changes `apply` would make, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The topology's name.
    pub topology: String,
    /// The changes; empty when the kernel already matches.
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Counts of `+`, `~` and `-` changes.
    pub fn counts(&self) -> (usize, usize, usize) {
        let c = |s| self.changes.iter().filter(|x| x.sign == s).count();
        (c(Sign::Create), c(Sign::Change), c(Sign::Remove))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        let (a, m, r) = self.counts();
        if self.changes.is_empty() {
            writeln!(f, "topology {}: no changes; the kernel matches the spec", self.topology)
        } else {
            writeln!(f, "topology {}: {a} to create, {m} to change, {r} to remove", self.topology)
        }
    }
}

/// Addresses each (endpoint, interface) holds now.
pub(crate) type CurrentAddresses = BTreeMap<(String, String), Vec<IpAddr>>;

/// Every address present in the kernel, and per (endpoint, interface) the
/// addresses it holds: IPAM's inputs.
pub(crate) fn ipam_inputs(places: &[Place], seen: &[Seen]) -> (HashSet<IpAddr>, CurrentAddresses) {
    let mut present = HashSet::new();
    let mut current = BTreeMap::new();
    for (p, s) in places.iter().zip(seen) {
        for l in &s.links {
            let ips: Vec<IpAddr> = l.addresses.iter().filter(|a| !a.link_scope).map(|a| a.net.addr()).collect();
            present.extend(ips.iter().copied());
            if let Some(e) = p.endpoint() {
                current.insert((e.to_string(), l.name.clone()), ips);
            }
        }
    }
    (present, current)
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
fn check_kind(want: &DesiredLink, have: &crate::readback::Link, place: &Place) -> Result<()> {
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

/// Computes the plan of `t` over `places` given what was `seen` there.
pub fn plan(t: &Topology, places: &[Place], seen: &[Seen]) -> Result<(Plan, Desired)> {
    let (present, current) = ipam_inputs(places, seen);
    let assigned = ipam::assign(t, &present, &current)?;
    let d = super::desired::desired(t, places, &assigned);
    let mut changes = Vec::new();
    let mut push = |sign, place: usize, object: String, detail: String, before, after, action| {
        changes.push(Change { sign, netns: places[place].label.clone(), object, detail, before, after, action });
    };
    let mark = marks::alias_of(&[t.name.clone()].into());

    // 1. Namespaces.
    for (i, p) in places.iter().enumerate() {
        if !seen[i].exists {
            if p.named.is_none() {
                return Err(Error::Conflict(format!(
                    "netns {} does not exist (only named namespaces are created)",
                    p.label
                )));
            }
            push(
                Sign::Create,
                i,
                "netns".into(),
                format!("marked {mark} on lo"),
                None,
                None,
                Action::CreateNetns { place: i },
            );
        }
    }

    // 1b. Links a run that died half-way left under a temporary name.
    for (i, s) in seen.iter().enumerate() {
        for l in &s.left_behind {
            if let Ok(dev) = IfName::new(l.name.clone()) {
                let pid = crate::ops::temp_link_owner(&l.name).unwrap_or(0);
                push(
                    Sign::Remove,
                    i,
                    format!("link {}", l.name),
                    format!("left by an interrupted run (pid {pid}, gone)"),
                    None,
                    None,
                    Action::DeleteLink { place: i, dev },
                );
            }
        }
    }

    // Links Docker makes (containers on docker networks) are only verified.
    let external: HashSet<(usize, &IfName)> =
        d.links.iter().filter(|l| l.external).map(|l| (l.place, &l.name)).collect();

    // 2. Links (trunk, VLAN subinterfaces, shims, endpoints).
    let will_exist = |place: usize, name: &str| seen[place].link(name).is_some();
    for l in &d.links {
        if l.external {
            continue;
        }
        let place = &places[l.place];
        match seen[l.place].link(l.name.as_str()) {
            None => {
                if matches!(l.kind, DesiredKind::VethPeer) {
                    continue; // made together with the trunk
                }
                push(
                    Sign::Create,
                    l.place,
                    format!("link {}", l.name),
                    kind_detail(l, places),
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
                        undo.mtu = hm.and_then(|m| crate::spec::Mtu::new(m).ok());
                        before.push(format!("mtu {}", hm.unwrap_or(0)));
                        after.push(format!("mtu {want}"));
                    }
                }
                // A link another topology created and this one uses too
                // (a shared VLAN subinterface) gets this topology's mark; so
                // does one in this topology's group with no mark (made by a
                // run of it that died before the alias was set).
                let owners = marks::owners(have.alias.as_deref());
                let shared_use = !owners.is_empty() && !owners.contains(&t.name);
                let interrupted = owners.is_empty() && have.group == marks::group_of(&t.name);
                if shared_use || interrupted {
                    let new = marks::with_owner(have.alias.as_deref(), &t.name);
                    update.alias = Some(new.clone());
                    // An empty alias clears it again.
                    undo.alias = Some(have.alias.clone().unwrap_or_default());
                    before.push(format!("alias {}", have.alias.as_deref().unwrap_or("-")));
                    after.push(format!("alias {new}"));
                }
                if !update.is_empty() {
                    push(
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

    // 3. Addresses (IPv6 with nodad); stale global addresses on links this
    // topology owns are removed.
    for (place, dev, addr) in &d.addresses {
        if external.contains(&(*place, dev)) {
            continue;
        }
        let has = seen[*place].link(dev.as_str()).is_some_and(|l| l.addresses.iter().any(|a| a.net == addr.net));
        if !has {
            push(
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
    for l in &d.links {
        if l.external {
            continue;
        }
        let Some(have) = seen[l.place].link(l.name.as_str()) else {
            continue;
        };
        if !marks::owns(have.alias.as_deref(), have.group, &t.name) || places[l.place].role == Role::Host {
            continue;
        }
        for a in have.addresses.iter().filter(|a| !a.link_scope) {
            let wanted = d.addresses.iter().any(|(p, dev, w)| *p == l.place && dev == &l.name && w.net == a.net);
            if !wanted {
                let addr = AddressSpec { net: a.net, nodad: a.nodad };
                push(
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

    // 4. Links up, and lo in the router's and endpoints' namespaces that
    // this topology creates or owns (another namespace's lo is its owner's).
    let mut up: Vec<(usize, IfName)> =
        d.links.iter().filter(|l| !l.external).map(|l| (l.place, l.name.clone())).collect();
    for (i, p) in places.iter().enumerate() {
        let ours = !seen[i].exists || seen[i].link("lo").is_some_and(|l| marks::owned_by(l.alias.as_deref(), &t.name));
        if p.role != Role::Host && ours {
            up.push((i, IfName::from_trusted("lo".into())));
        }
    }
    for (place, dev) in up {
        let is_up = seen[place].link(dev.as_str()).is_some_and(|l| l.admin_up);
        if !is_up {
            let existed = will_exist(place, dev.as_str());
            push(
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

    // 5. Routes, once the links are up (the kernel refuses a route through a
    // link that is down): the first attachment's gateways are the defaults.
    for (place, route) in &d.routes {
        if route.dev.as_ref().is_some_and(|dev| external.contains(&(*place, dev))) {
            continue;
        }
        let s = &seen[*place];
        let dev = route.dev.as_ref().map(|d| d.as_str());
        let existing = s.routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv6() == route.is_ipv6());
        match existing {
            Some(r) if r.gateway == route.gateway && r.oif.and_then(|i| s.name_of(i)) == dev => {}
            Some(r) => {
                let mut old = RouteSpec::default_via(r.gateway.unwrap_or(route.dst.addr()));
                old.gateway = r.gateway;
                old.dev = r.oif.and_then(|i| s.name_of(i)).and_then(|n| IfName::new(n).ok());
                push(
                    Sign::Change,
                    *place,
                    format!("route {}", if route.is_ipv6() { "default (IPv6)" } else { "default" }),
                    String::new(),
                    Some(old.to_string()),
                    Some(route.to_string()),
                    Action::ReplaceRoute { place: *place, route: route.clone(), old },
                );
            }
            None => push(
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

    // 6. Sysctls (the lab router forwards and sends no redirects).
    for (place, key, value) in &d.sysctls {
        // An unreadable value (a namespace still to create) counts as different.
        let old = seen[*place].sysctls.get(key).cloned().unwrap_or_else(|| "?".into());
        if old != *value {
            push(
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

    // 7. Links this topology alone owns that the spec no longer has.
    for (i, s) in seen.iter().enumerate() {
        for l in &s.links {
            let ours = marks::sole_owner(l.alias.as_deref(), l.group, &t.name);
            let wanted = d.links.iter().any(|w| w.place == i && w.name.as_str() == l.name);
            if ours && !wanted && l.name != "lo" {
                if let Ok(dev) = IfName::new(l.name.clone()) {
                    push(
                        Sign::Remove,
                        i,
                        format!("link {}", l.name),
                        "no longer in the spec".into(),
                        None,
                        None,
                        Action::DeleteLink { place: i, dev },
                    );
                }
            }
        }
    }
    let _ = HOST;
    Ok((Plan { topology: t.name.clone(), changes }, d))
}
