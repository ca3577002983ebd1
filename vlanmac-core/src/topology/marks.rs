//! Ownership marks, kept on the links themselves (no state files):
//!
//! * every link a topology creates carries the ifalias `vlanmac:<name>`;
//!   a link several topologies use (a shared VLAN subinterface) carries
//!   `vlanmac:<a>,<b>` and goes only with its last owner;
//! * a namespace a topology creates carries the mark on its `lo`;
//! * links are also created in the topology's link group, so teardown can
//!   delete them with one `RTM_DELLINK` per namespace.

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

/// The link group of a topology: `0x564d` ("VM") in the high half, a hash of
/// the name in the low half. Group 0 (the default) is never used.
pub fn group_of(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    0x564d_0000 | (h & 0xffff)
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
        assert_eq!(group_of("seed") >> 16, 0x564d);
        assert_ne!(group_of("seed"), group_of("seed2"));
    }
}
