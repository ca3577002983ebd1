//! `vlanmac render --format netplan`: the host side for netplan (Ubuntu).

use std::fmt::Write;

use super::{shim_addresses, vlans};
use crate::Topology;
use vlanmac_core::spec::VlanProtocol;

/// A netplan file for the host side of `t`: its trunks and their 802.1Q
/// subinterfaces (`network.vlans`), without addresses or link-local
/// addressing, as the systemd-networkd rendering. netplan has no macvlan,
/// no ipvlan and (0.106) no 802.1ad protocol, so host shims and 802.1ad
/// subinterfaces are listed in the header as what netplan cannot express;
/// `vlanmac apply` (the `vlanmac@.service` unit) makes those. The file
/// starts with `# file: /etc/netplan/60-vlanmac-NAME.yaml`.
pub fn netplan(t: &Topology) -> String {
    let mut s = format!("# vlanmac render --format netplan: topology {}\n", t.name);
    let (expressible, ad): (Vec<_>, Vec<_>) =
        vlans(t).into_iter().partition(|n| n.vlan_protocol == VlanProtocol::Ieee8021Q);
    let shims: Vec<_> = t.networks.iter().filter_map(|n| n.host_shim.as_ref().map(|h| (n, h))).collect();
    if !ad.is_empty() || !shims.is_empty() {
        s.push_str("# netplan cannot express these; `vlanmac apply` makes them (vlanmac@.service at boot):\n");
        for n in &ad {
            let id = n.vlan.map(|v| v.get()).unwrap_or_default();
            let _ = writeln!(
                s,
                "#   802.1ad subinterface {} (id {id} on {}): netplan has no VLAN protocol",
                n.link_parent(),
                n.parent
            );
        }
        for (n, h) in &shims {
            let addrs = shim_addresses(n, h).join(" ");
            let _ = writeln!(
                s,
                "#   host shim {} ({} on {}) {addrs}: netplan has no {}",
                h.name,
                n.driver.kind(),
                n.link_parent(),
                n.driver.kind()
            );
        }
    }
    s.push_str("# The endpoints' links live in their own namespaces, which netplan does not manage.\n");
    let _ = writeln!(s, "# file: /etc/netplan/60-vlanmac-{}.yaml", t.name);
    s.push_str("network:\n  version: 2\n");
    let mut parents: Vec<String> = expressible.iter().map(|n| n.parent.to_string()).collect();
    parents.sort();
    parents.dedup();
    if !parents.is_empty() {
        s.push_str("  ethernets:\n");
        for p in &parents {
            // Merged with the host's own definition of the trunk, if any.
            let _ = writeln!(s, "    {p}: {{}}");
        }
        s.push_str("  vlans:\n");
        for n in &expressible {
            let id = n.vlan.map(|v| v.get()).unwrap_or_default();
            let _ =
                writeln!(s, "    {}:\n      id: {id}\n      link: {}\n      link-local: []", n.link_parent(), n.parent);
        }
    }
    s
}
