//! The one text rendering of plans, apply and down results (the CLI prints
//! it, Python's `str()` returns it, the Ansible module reports its lines).
//! JSON is their `Serialize`.

use std::fmt::{self, Write as _};

use super::{apply::ApplyResult, down::DownResult, plan::Change, plan::Plan};

impl Change {
    /// `+ netns          object  detail`; with `diff`, the before and after
    /// values on lines of their own (`    - before`, `    + after`),
    /// otherwise `(before -> after)` on the same line. No trailing newline.
    pub fn to_text(&self, diff: bool) -> String {
        let mut s = format!("{} {:<14} {}", self.sign, self.netns, self.object);
        if !self.detail.is_empty() {
            let _ = write!(s, "  {}", self.detail);
        }
        if diff {
            if let Some(b) = &self.before {
                let _ = write!(s, "\n    - {b}");
            }
            if let Some(a) = &self.after {
                let _ = write!(s, "\n    + {a}");
            }
        } else if let (Some(b), Some(a)) = (&self.before, &self.after) {
            let _ = write!(s, "  ({b} -> {a})");
        }
        s
    }
}

fn lines(changes: &[Change], diff: bool) -> String {
    changes.iter().map(|c| c.to_text(diff) + "\n").collect()
}

impl Plan {
    /// Each change on its line, each DHCP interface that holds its lease
    /// (`= c2  address eth0 dhcp (lease 10.0.20.57, 3540 s left)`), then
    /// the summary (`topology T: 3 to create, 1 to change, 0 to remove`).
    pub fn to_text(&self, diff: bool) -> String {
        let mut s = lines(&self.changes, diff);
        for l in &self.leases {
            let _ = writeln!(s, "= {:<14} {l}", l.netns);
        }
        let (a, m, r) = self.counts();
        if self.changes.is_empty() {
            let _ = writeln!(s, "topology {}: no changes; the kernel matches the spec", self.topology);
        } else {
            let _ = writeln!(s, "topology {}: {a} to create, {m} to change, {r} to remove", self.topology);
        }
        s
    }
}

impl ApplyResult {
    /// Each change made on its line, then the summary
    /// (`topology T: applied 12 changes (40 netlink writes)`).
    pub fn to_text(&self, diff: bool) -> String {
        let mut s = lines(&self.changes, diff);
        for l in &self.leases {
            let _ = writeln!(s, "= {:<14} {l}", l.netns);
        }
        if self.changed {
            let _ = writeln!(
                s,
                "topology {}: applied {} changes ({} netlink writes)",
                self.topology,
                self.changes.len(),
                self.writes
            );
        } else {
            let _ = writeln!(s, "topology {}: no changes; the kernel already matched", self.topology);
        }
        s
    }
}

impl DownResult {
    /// `- what` per removal, then `topology T: down` (or `nothing to
    /// remove`; after a dry run `N to remove (check: nothing changed)`).
    pub fn to_text(&self) -> String {
        let mut s: String = self.removed.iter().map(|x| format!("- {x}\n")).collect();
        let t = &self.topology;
        let _ = match (self.removed.len(), self.dry_run) {
            (0, false) => writeln!(s, "topology {t}: nothing to remove"),
            (0, true) => writeln!(s, "topology {t}: nothing to remove (check: nothing changed)"),
            (_, false) => writeln!(s, "topology {t}: down"),
            (n, true) => writeln!(s, "topology {t}: {n} to remove (check: nothing changed)"),
        };
        s
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(false))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(false))
    }
}

impl fmt::Display for ApplyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(false))
    }
}

impl fmt::Display for DownResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Sign;

    fn change(before: Option<&str>, after: Option<&str>) -> Change {
        Change::external(Sign::Change, "seed-host", "link eth0.10", "vlan 10 on eth0")
            .with_values(before.map(str::to_string), after.map(str::to_string))
    }

    #[test]
    fn change_lines_with_and_without_diff() {
        let c = change(Some("mtu 1500"), Some("mtu 9000"));
        assert_eq!(c.to_text(false), "~ seed-host      link eth0.10  vlan 10 on eth0  (mtu 1500 -> mtu 9000)");
        assert_eq!(c.to_text(true), "~ seed-host      link eth0.10  vlan 10 on eth0\n    - mtu 1500\n    + mtu 9000");
    }

    #[test]
    fn summaries() {
        let p = Plan { topology: "t".into(), changes: vec![change(None, None)], leases: vec![] };
        assert!(p.to_text(false).ends_with("topology t: 0 to create, 1 to change, 0 to remove\n"));
        let mut empty = Plan { topology: "t".into(), changes: vec![], leases: vec![] };
        assert_eq!(empty.to_string(), "topology t: no changes; the kernel matches the spec\n");
        empty.leases.push(crate::leases::LeaseStatus {
            netns: "c2".into(),
            endpoint: "container2".into(),
            interface: "eth0".into(),
            address: "10.0.20.57".parse().unwrap(),
            seconds_left: 3540,
            dns: vec![],
            domain: None,
            mtu: None,
        });
        assert_eq!(
            empty.to_string(),
            "= c2             address eth0 dhcp (lease 10.0.20.57, 3540 s left)\n\
             topology t: no changes; the kernel matches the spec\n"
        );
        let d = DownResult { topology: "t".into(), removed: vec!["netns a".into()], dry_run: false };
        assert_eq!(d.to_string(), "- netns a\ntopology t: down\n");
        let a = ApplyResult {
            topology: "t".into(),
            changed: true,
            changes: p.changes.clone(),
            writes: 3,
            addresses: vec![],
            leases: vec![],
        };
        assert!(a.to_text(false).ends_with("topology t: applied 1 changes (3 netlink writes)\n"));
    }
}
