//! Ownership marks, kept on the kernel objects themselves (no state files),
//! and present from the moment an object can be seen:
//!
//! * every link a topology creates is created in the topology's link group
//!   ([`group_of`]; the kernel takes `IFLA_GROUP` in the same `RTM_NEWLINK`
//!   that makes the link, so no link of vlanmac's is ever without it), and
//!   teardown can delete them with one `RTM_DELLINK` per namespace;
//! * the next request gives it the ifalias `vlanmac:<name>` (the kernel
//!   ignores an alias at creation); a link several topologies use (a shared
//!   VLAN subinterface) carries `vlanmac:<a>,<b>` and goes only with its
//!   last owner. A link in the topology's group with no vlanmac alias was
//!   made by a run that died between the two requests: it is the
//!   topology's alone ([`sole_owner`]), the next apply gives it the alias,
//!   and `down` removes it;
//! * a namespace a topology creates carries the mark on its `lo`, set
//!   inside the new namespace before it is mounted under `/run/netns`.

use std::collections::BTreeSet;

/// Prefix of every vlanmac alias.
pub const MARK_PREFIX: &str = "vlanmac:";

/// The topology names in an alias (empty when it is not a vlanmac mark).
pub fn owners(alias: Option<&str>) -> BTreeSet<String> {
    alias
        .and_then(|a| a.strip_prefix(MARK_PREFIX))
        .map(|rest| rest.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The alias `vlanmac:<names>` for a set of owners.
pub fn alias_of(owners: &BTreeSet<String>) -> String {
    format!("{MARK_PREFIX}{}", owners.iter().cloned().collect::<Vec<_>>().join(","))
}

/// Whether `name` owns the link with this alias.
pub fn owned_by(alias: Option<&str>, name: &str) -> bool {
    owners(alias).contains(name)
}

/// The alias with `name` added.
pub fn with_owner(alias: Option<&str>, name: &str) -> String {
    let mut o = owners(alias);
    o.insert(name.to_string());
    alias_of(&o)
}

/// The alias with `name` removed; `None` when no owner is left.
pub fn without_owner(alias: Option<&str>, name: &str) -> Option<String> {
    let mut o = owners(alias);
    o.remove(name);
    (!o.is_empty()).then(|| alias_of(&o))
}

/// Whether `name` alone owns a link with this alias and group: its alias
/// names `name` and no other topology, or it has no vlanmac alias and is in
/// `name`'s link group (made by a run of `name` that died before the alias
/// was set).
pub fn sole_owner(alias: Option<&str>, group: u32, name: &str) -> bool {
    let o = owners(alias);
    (o.len() == 1 && o.contains(name)) || (o.is_empty() && group == group_of(name))
}

/// Whether `name` owns the link at all (alone or with others), by alias or,
/// with no vlanmac alias, by group.
pub fn owns(alias: Option<&str>, group: u32, name: &str) -> bool {
    owned_by(alias, name) || sole_owner(alias, group, name)
}

/// The link group of a topology: `0x56` in the high byte, a 24-bit FNV-1a
/// hash of the name below. Group 0 (the default) is never used.
pub fn group_of(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    0x5600_0000 | (h & 0x00ff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip() {
        assert!(owners(None).is_empty());
        assert!(owners(Some("uplink to core")).is_empty());
        let a = with_owner(None, "seed");
        assert_eq!(a, "vlanmac:seed");
        let ab = with_owner(Some(&a), "lab2");
        assert_eq!(ab, "vlanmac:lab2,seed");
        assert!(owned_by(Some(&ab), "seed"));
        assert_eq!(without_owner(Some(&ab), "seed").as_deref(), Some("vlanmac:lab2"));
        assert_eq!(without_owner(Some(&a), "seed"), None);
        assert_ne!(group_of("seed"), 0);
        assert_eq!(group_of("seed") >> 24, 0x56);
        assert_ne!(group_of("seed"), group_of("seed2"));
        let g = group_of("seed");
        assert!(sole_owner(Some("vlanmac:seed"), 0, "seed"));
        assert!(sole_owner(None, g, "seed"), "an interrupted run's link: group only");
        assert!(sole_owner(Some("uplink"), g, "seed"), "a foreign alias is not a mark");
        assert!(!sole_owner(None, 0, "seed"));
        assert!(!sole_owner(Some("vlanmac:lab2,seed"), g, "seed"));
        assert!(!sole_owner(Some("vlanmac:lab2"), g, "seed"));
        assert!(owns(Some("vlanmac:lab2,seed"), 0, "seed") && owns(None, g, "seed") && !owns(None, 1, "seed"));
    }
}
