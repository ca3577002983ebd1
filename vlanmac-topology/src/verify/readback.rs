//! Check 1, read-back: every namespace, link, address and route of the
//! desired state against what the kernel holds.

use super::report::{Check, CheckKind, Stage};
use crate::{
    desired::{Desired, DesiredKind},
    observe::Seen,
    places::Place,
};
use vlanmac_core::{netns::NetnsRef, readback::LinkKind};

fn check(who: String, what: &str, expected: String, observed: String, ok: bool, stage: Stage) -> Check {
    Check::new(CheckKind::Readback, who, what.into(), expected, observed, ok, stage)
}

/// The read-back checks: a namespace that is gone fails here (and so does
/// everything it should hold) instead of stopping the verify.
pub(crate) fn checks(places: &[Place], seen: &[Seen], desired: &Desired) -> Vec<Check> {
    let mut checks = Vec::new();
    for (p, s) in places.iter().zip(seen) {
        if p.nsref != NetnsRef::Current {
            let observed = if s.exists { "present" } else { "missing" };
            checks.push(check(
                p.label.clone(),
                "namespace",
                "present".into(),
                observed.into(),
                s.exists,
                Stage::Missing,
            ));
        }
    }
    for l in &desired.links {
        let who = format!("{}/{}", places[l.place].label, l.name);
        let (ok, observed, stage) = match seen[l.place].link(l.name.as_str()) {
            None => (false, "missing".to_string(), Stage::Missing),
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
                    (true, describe_link(h), Stage::Mismatch)
                } else {
                    (false, problems.join(", "), Stage::Mismatch)
                }
            }
        };
        let expected = format!("{}{}", l.kind.kind_name(), l.mac.map(|m| format!(" {m}")).unwrap_or_default());
        checks.push(check(who, "link", expected, observed, ok, stage));
    }
    for (place, dev, addr) in &desired.addresses {
        let has = seen[*place]
            .link(dev.as_str())
            .is_some_and(|l| l.addresses.iter().any(|a| a.net == addr.net && !a.dadfailed));
        checks.push(check(
            format!("{}/{dev}", places[*place].label),
            "address",
            addr.net.to_string(),
            if has { addr.net.to_string() } else { "missing".into() },
            has,
            Stage::Missing,
        ));
    }
    for (place, route) in &desired.routes {
        let s = &seen[*place];
        let found = s.routes.iter().find(|r| r.is_default() && r.dst.addr().is_ipv6() == route.is_ipv6());
        let ok = found.is_some_and(|r| r.gateway == route.gateway);
        let observed = found
            .map(|r| format!("default via {}", r.gateway.map(|g| g.to_string()).unwrap_or("-".into())))
            .unwrap_or("missing".into());
        let stage = if found.is_some() { Stage::Mismatch } else { Stage::Missing };
        checks.push(check(places[*place].label.clone(), "route", route.to_string(), observed, ok, stage));
    }
    checks
}

fn describe_link(l: &vlanmac_core::Link) -> String {
    let mut s = l.kind.name().to_string();
    if let LinkKind::Vlan { id: Some(id), .. } = &l.kind {
        s.push_str(&format!(" {id}"));
    }
    if let Some(m) = l.mac {
        s.push_str(&format!(" {m}"));
    }
    s
}
