//! An attachment's identity and the names derived from it.
//!
//! The runtime names an attachment by (network, container ID, ifname); the
//! plugin also records the namespace it lives in (see
//! [`crate::state::Record`]). From the three names come, bounded in length
//! whatever the runtime sends (the spec sets no limit on a container ID):
//! its [`Key::id`] (the first 128 bits of their SHA-256), the file names of
//! its record and lock ([`Key::file_stem`]), and the marks its interface in
//! the pod carries from the moment it exists: the link group at creation
//! ([`Key::group`]) and, from the rename on, the alias [`Key::mark`]. DEL,
//! GC and a failed ADD delete a link only when it carries these marks.

use sha2::{Digest, Sha256};
use vlanmac_core::lockfile::escape;

use crate::{invocation::Invocation, netconf::NetConf};

/// Longest readable prefix of a file stem, in bytes (escaped).
const PREFIX_MAX: usize = 96;
/// Longest network name shown in a mark, in bytes.
const MARK_NETWORK_MAX: usize = 64;

/// (network, container ID, ifname).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The network's name.
    pub network: String,
    /// `CNI_CONTAINERID`.
    pub container_id: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
}

impl Key {
    /// The key of this invocation on this network.
    pub fn of(conf: &NetConf, inv: &Invocation) -> Key {
        Key {
            network: conf.name.clone(),
            container_id: inv.container_id.clone(),
            ifname: inv.ifname.as_ref().map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    /// 32 hex digits: the first 128 bits of the SHA-256 of the three names,
    /// each followed by a NUL (which none of them can contain).
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.network, &self.container_id, &self.ifname] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `NETWORK%CONTAINERID%IFNAME-ID` with the names escaped and cut to 96
    /// bytes: readable, collision-free through the id, and at most 129
    /// bytes, so `.json` and `.lock` files stay far below the file system's
    /// 255.
    pub fn file_stem(&self) -> String {
        let mut prefix = format!("{}%{}%{}", escape(&self.network), escape(&self.container_id), escape(&self.ifname));
        // Escaped names are ASCII: any byte is a character boundary.
        prefix.truncate(PREFIX_MAX);
        format!("{prefix}-{}", self.id())
    }

    /// The alias the attachment's interface carries in the pod:
    /// `vlanmac:cni/NETWORK/ID` (the network's name cut to 64 bytes).
    pub fn mark(&self) -> String {
        let mut network = self.network.clone();
        // Network names are ASCII (the spec's rule, checked when parsed).
        network.truncate(MARK_NETWORK_MAX);
        format!("{}cni/{network}/{}", vlanmac_core::marks::MARK_PREFIX, self.id())
    }

    /// The link group the interface is created in (so a link left under a
    /// temporary name by a killed ADD is known as this attachment's).
    pub fn group(&self) -> u32 {
        vlanmac_core::marks::group_of(&format!("cni/{}", self.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str, c: &str, i: &str) -> Key {
        Key { network: n.into(), container_id: c.into(), ifname: i.into() }
    }

    #[test]
    fn names_are_bounded_distinct_and_stable() {
        let k = key("probenet", "j1", "net1");
        assert_eq!(k.id().len(), 32);
        assert_eq!(k.id(), key("probenet", "j1", "net1").id(), "the same key, the same id");
        assert!(k.file_stem().starts_with("probenet%j1%net1-"), "{}", k.file_stem());
        assert_eq!(k.mark(), format!("vlanmac:cni/probenet/{}", k.id()));
        // No two splits of the same characters meet.
        assert_ne!(key("a", "bc", "d").id(), key("ab", "c", "d").id());
        assert_ne!(k.group(), key("probenet", "j2", "net1").group());
        let long = key(&"n".repeat(300), &"c".repeat(300), "eth0");
        assert!(long.file_stem().len() <= 129 && long.mark().len() <= 255, "{}", long.file_stem());
        assert_ne!(long.file_stem(), key(&"n".repeat(300), &"c".repeat(299), "eth0").file_stem());
        assert!(!key("../x", "c", "i").file_stem().contains('/'));
    }
}
