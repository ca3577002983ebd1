//! `vlanmac render --format networkmanager`: NetworkManager keyfiles.

use std::fmt::Write;

use super::{shim_addresses, vlans};
use crate::{Driver, Topology};
use vlanmac_core::spec::VlanProtocol;

/// Where NetworkManager reads keyfiles from.
pub const NM_CONNECTIONS: &str = "/etc/NetworkManager/system-connections";

/// NetworkManager keyfiles for the host side of `t` (RHEL, Fedora, any
/// NetworkManager 1.42+ host): one `type=vlan` connection per VLAN
/// subinterface (802.1Q or 802.1ad, no addresses) and one `type=macvlan`
/// connection per macvlan host shim, with its addresses. NetworkManager
/// 1.42 has no ipvlan connection type: ipvlan shims are listed in the
/// header as not expressible. Each keyfile starts with `# file: PATH`; the
/// files must be owned by root with mode 0600, or NetworkManager ignores
/// them (`vlanmac render --out DIR` writes them so). The UUIDs are derived
/// from the topology's and the interface's names, so a re-render keeps them.
pub fn networkmanager(t: &Topology) -> String {
    let mut s = format!("# vlanmac render --format networkmanager: topology {}\n", t.name);
    let ipvlan: Vec<_> = t
        .networks
        .iter()
        .filter(|n| matches!(n.driver, Driver::Ipvlan { .. }))
        .filter_map(|n| n.host_shim.as_ref().map(|h| (n, h)))
        .collect();
    for (n, h) in &ipvlan {
        let _ = writeln!(s, "# not expressible: host shim {} (ipvlan on {}): NetworkManager 1.42 has no ipvlan; `vlanmac apply` makes it", h.name, n.link_parent());
    }
    for n in vlans(t) {
        let lp = n.link_parent();
        let id = n.vlan.map(|v| v.get()).unwrap_or_default();
        let proto = match n.vlan_protocol {
            VlanProtocol::Ieee8021Q => "802.1Q",
            VlanProtocol::Ieee8021Ad => "802.1ad",
        };
        let name = format!("vlanmac-{}-{lp}", t.name);
        let _ = writeln!(
            s,
            "\n# file: {NM_CONNECTIONS}/{name}.nmconnection\n[connection]\nid={name}\nuuid={}\ntype=vlan\ninterface-name={lp}\n\n[vlan]\nflags=1\nid={id}\nparent={}\nprotocol={proto}\n\n[ipv4]\nmethod=disabled\n\n[ipv6]\nmethod=disabled",
            stable_uuid(&t.name, lp.as_str()),
            n.parent
        );
    }
    for n in t.networks.iter().filter(|n| matches!(n.driver, Driver::Macvlan { .. })) {
        let Some(h) = &n.host_shim else { continue };
        let name = format!("vlanmac-{}-{}", t.name, h.name);
        let _ = writeln!(
            s,
            "\n# file: {NM_CONNECTIONS}/{name}.nmconnection\n[connection]\nid={name}\nuuid={}\ntype=macvlan\ninterface-name={}\n\n[macvlan]\nmode=2\nparent={}",
            stable_uuid(&t.name, h.name.as_str()),
            h.name,
            n.link_parent()
        );
        let addrs = shim_addresses(n, h);
        let (v4, v6): (Vec<&String>, Vec<&String>) = addrs.iter().partition(|a| !a.contains(':'));
        for (family, list) in [("ipv4", v4), ("ipv6", v6)] {
            let _ = write!(s, "\n[{family}]\n");
            for (i, a) in list.iter().enumerate() {
                let _ = writeln!(s, "address{}={a}", i + 1);
            }
            let _ = writeln!(s, "method={}", if list.is_empty() { "disabled" } else { "manual" });
        }
    }
    s
}

/// A UUID (version 4 layout, RFC 4122 variant) derived from `topology` and
/// `ifname` with 128-bit FNV-1a and a final mix (so that names differing in
/// their last byte differ everywhere): stable across renders and releases.
fn stable_uuid(topology: &str, ifname: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in format!("vlanmac/{topology}/{ifname}").bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    for _ in 0..2 {
        h ^= h >> 61;
        h = h.wrapping_mul(0x9e3779b97f4a7c15f39cc0605cedc835);
    }
    let b = h.to_be_bytes();
    let b6 = (b[6] & 0x0f) | 0x40;
    let b8 = (b[8] & 0x3f) | 0x80;
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{b6:02x}{:02x}-{b8:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[7], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

#[cfg(test)]
mod tests {
    use super::stable_uuid;

    #[test]
    fn uuids_are_stable_and_distinct() {
        let a = stable_uuid("seed", "eth0.10");
        assert_eq!(a, stable_uuid("seed", "eth0.10"));
        assert_ne!(a, stable_uuid("seed", "eth0.20"));
        assert_ne!(a, stable_uuid("lab", "eth0.10"));
        assert_eq!((a.len(), &a[14..15]), (36, "4"));
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
