//! `podman network create` commands for podman 5/6 (netavark): one per
//! topology network, for vlanmac's netavark plugin (driver `vlanmac`, see
//! docs/PODMAN.md), so that podman containers join the topology's VLANs,
//! sharing each VLAN subinterface with the topology.

use crate::{Driver, Topology};
use vlanmac_core::spec::VlanProtocol;

/// A word for the shell: as it is when it holds only safe characters,
/// else single-quoted.
fn word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The commands, as a shell script.
pub fn podman(t: &Topology) -> String {
    let mut out = format!(
        "#!/bin/sh\n# podman networks for topology {} (vlanmac's netavark plugin, driver vlanmac;\n\
         # install it as docs/PODMAN.md says). podman assigns container addresses from\n\
         # each subnet (or --ip-range); give containers --ip to keep clear of the\n\
         # addresses the topology assigns itself.\nset -e\n",
        t.name
    );
    for n in &t.networks {
        let mut args: Vec<String> = vec!["podman network create -d vlanmac".into()];
        args.push(format!("-o parent={}", word(n.parent.as_str())));
        if let Some(id) = n.vlan {
            args.push(format!("-o vlan={}", id.get()));
            if n.vlan_protocol == VlanProtocol::Ieee8021Ad {
                args.push("-o vlan_protocol=802.1ad".into());
            }
        }
        match n.driver {
            Driver::Macvlan { mode, .. } => args.push(format!("-o mode={}", mode.as_str())),
            Driver::Ipvlan { mode, .. } => {
                args.push("-o driver=ipvlan".into());
                args.push(format!("-o ipvlan_mode={}", mode.as_str()));
            }
        }
        if let Some(m) = n.mtu {
            args.push(format!("-o mtu={}", m.get()));
        }
        if n.subnet_v6().is_some() {
            args.push("--ipv6".into());
        }
        for s in &n.subnets {
            args.push(format!("--subnet {}", s.subnet.net().trunc()));
            if let Some(g) = s.gateway() {
                args.push(format!("--gateway {g}"));
            }
            if let Some(r) = s.ip_range {
                args.push(format!("--ip-range {r}"));
            }
        }
        args.push(word(&n.name));
        out.push_str(&args.join(" \\\n    "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::from_yaml;

    #[test]
    fn one_command_per_network_with_every_option() {
        let t = from_yaml(include_str!("../../../examples/seed.yaml"), "seed").unwrap();
        let text = super::podman(&t);
        assert_eq!(text.matches("podman network create -d vlanmac").count(), t.networks.len(), "{text}");
        for n in &t.networks {
            assert!(text.contains(&format!("-o vlan={}", n.vlan.unwrap().get())), "{text}");
            assert!(text.contains(&format!("    {}\n", n.name)), "{text}");
        }
        assert!(text.contains("--ipv6"), "the seed has IPv6 subnets: {text}");
        assert_eq!(super::word("it's"), r"'it'\''s'");
    }
}
