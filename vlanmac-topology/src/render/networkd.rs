use std::fmt::Write;

use vlanmac_core::spec::VlanProtocol;

use crate::Topology;

/// systemd-networkd units for the host side (trunk VLANs and host shims),
/// so it survives a reboot. Each unit starts with `# file: PATH`.
pub fn systemd_networkd(t: &Topology) -> String {
    let dir = "/etc/systemd/network";
    let mut s = format!("# vlanmac render --format systemd-networkd: topology {}\n", t.name);
    let mut parents: Vec<String> = t.networks.iter().map(|n| n.parent.to_string()).collect();
    parents.sort();
    parents.dedup();
    for p in &parents {
        let _ = writeln!(
            s,
            "\n# file: {dir}/50-vlanmac-{p}.network\n[Match]\nName={p}\n\n[Network]\nLinkLocalAddressing=no"
        );
        let mut seen = Vec::new();
        for n in t.networks.iter().filter(|n| n.parent.as_str() == p) {
            let lp = n.link_parent().to_string();
            if n.vlan.is_some() && !seen.contains(&lp) {
                let _ = writeln!(s, "VLAN={lp}");
                seen.push(lp);
            } else if n.vlan.is_none() {
                if let Some(shim) = &n.host_shim {
                    let _ = writeln!(s, "{}={}", n.driver.kind().to_uppercase(), shim.name);
                }
            }
        }
    }
    // Each VLAN subinterface's units come with the first network on it.
    let firsts = super::vlans(t);
    for n in &t.networks {
        let lp = n.link_parent().to_string();
        if let Some(id) = n.vlan {
            if firsts.iter().any(|f| std::ptr::eq(*f, n)) {
                let proto = match n.vlan_protocol {
                    VlanProtocol::Ieee8021Q => "802.1q",
                    VlanProtocol::Ieee8021Ad => "802.1ad",
                };
                let _ = writeln!(s, "\n# file: {dir}/50-vlanmac-{lp}.netdev\n[NetDev]\nName={lp}\nKind=vlan\n\n[VLAN]\nId={id}\nProtocol={proto}");
                let _ = writeln!(
                    s,
                    "\n# file: {dir}/50-vlanmac-{lp}.network\n[Match]\nName={lp}\n\n[Network]\nLinkLocalAddressing=no"
                );
                for m in t.networks.iter().filter(|m| m.link_parent().as_str() == lp) {
                    if let Some(shim) = &m.host_shim {
                        let _ = writeln!(s, "{}={}", m.driver.kind().to_uppercase(), shim.name);
                    }
                }
            }
        }
        if let Some(shim) = &n.host_shim {
            let kind = n.driver.kind();
            let _ = writeln!(
                s,
                "\n# file: {dir}/60-vlanmac-{}.netdev\n[NetDev]\nName={}\nKind={kind}",
                shim.name, shim.name
            );
            if kind == "macvlan" {
                let _ = writeln!(s, "\n[MACVLAN]\nMode=bridge");
            } else {
                let _ = writeln!(s, "\n[IPVLAN]\nMode=L2");
            }
            let _ = writeln!(
                s,
                "\n# file: {dir}/60-vlanmac-{}.network\n[Match]\nName={}\n\n[Network]",
                shim.name, shim.name
            );
            for a in super::shim_addresses(n, shim) {
                let _ = writeln!(s, "Address={a}");
            }
        }
    }
    s
}
