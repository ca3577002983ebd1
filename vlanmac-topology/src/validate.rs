//! From the file as written to a checked [`Topology`]: every value
//! validated, every error naming the path of its field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::{
    cross_checks::cross_checks,
    file::{AttachFile, EndpointFile, NetworkFile, SubnetFile, TopologyFile},
    model::*,
};
use vlanmac_core::spec::{
    IfName, IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, NetnsName, SpecError, Subnet, VlanId, VlanProtocol,
};

type R<T> = Result<T, SpecError>;

/// Topology names: they go into link aliases (`vlanmac:a,b`).
fn check_name(path: &str, name: &str) -> R<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SpecError::new(path, name, "must be 1-64 characters of A-Z a-z 0-9 - _ ."))
    }
}

fn ifname(path: &str, s: &str) -> R<IfName> {
    IfName::new(s).map_err(|e| e.named(path))
}

fn netns_name(path: &str, s: &str) -> R<NetnsName> {
    NetnsName::new(s).map_err(|e| e.named(path))
}

fn ip<T: std::str::FromStr>(path: &str, s: &str, what: &str) -> R<T> {
    s.parse().map_err(|_| SpecError::new(path, s, format!("is not an {what} address (write it without /prefix)")))
}

/// Validates `file`; `default_name` is used when the file has no `name:`.
pub fn topology(file: &TopologyFile, default_name: &str) -> R<Topology> {
    let name = file.name.clone().unwrap_or_else(|| default_name.to_string());
    check_name("name", &name)?;
    let namespace = file.namespace.as_deref().map(|n| netns_name("namespace", n)).transpose()?;
    let lab = file
        .lab
        .as_ref()
        .map(|l| -> R<Lab> {
            if let Some(secs) = l.dhcp_lease_time.filter(|s| *s < 120) {
                return Err(SpecError::new(
                    "lab.dhcp_lease_time",
                    secs,
                    "must be at least 120 (seconds; dnsmasq's shortest)",
                ));
            }
            Ok(Lab {
                trunk: ifname("lab.trunk", &l.trunk)?,
                router: netns_name("lab.router", &l.router)?,
                dhcp_lease_secs: l.dhcp_lease_time,
            })
        })
        .transpose()?;
    if let (Some(lab), Some(ns)) = (&lab, &namespace) {
        if &lab.router == ns {
            return Err(SpecError::new("lab.router", &lab.router, "must differ from `namespace`"));
        }
    }
    let networks = file.networks.iter().map(|(k, v)| network(&format!("networks.{k}"), k, v)).collect::<R<Vec<_>>>()?;
    let endpoints =
        file.endpoints.iter().map(|(k, v)| endpoint(&format!("endpoints.{k}"), k, v)).collect::<R<Vec<_>>>()?;
    let confirm = file
        .confirm
        .as_ref()
        .map(|c| -> R<crate::confirm_spec::ConfirmSection> {
            let timeout = crate::confirm_spec::parse_duration("confirm.timeout", &c.timeout)?;
            let probes = c
                .probes
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    p.parse::<crate::confirm_spec::Probe>()
                        .map_err(|e| SpecError::new(format!("confirm.probes[{i}]"), p, e.rule))
                })
                .collect::<R<Vec<_>>>()?;
            Ok(crate::confirm_spec::ConfirmSection { timeout, probes })
        })
        .transpose()?;
    let mut topo = Topology { name, namespace, lab, networks, endpoints, confirm };
    // On a network that serves addresses, an attachment without a static
    // IPv4 takes a lease.
    let served: Vec<String> = topo.networks.iter().filter(|n| n.dhcp).map(|n| n.name.clone()).collect();
    for a in topo.endpoints.iter_mut().flat_map(|e| &mut e.attach) {
        if a.ipv4.is_none() && served.contains(&a.network) {
            a.ipv4_dhcp = true;
        }
    }
    cross_checks(&topo)?;
    Ok(topo)
}

fn network(path: &str, name: &str, f: &NetworkFile) -> R<Network> {
    check_name(path, name).map_err(|e| SpecError::new(path, name, format!("has a bad name: {}", e.rule)))?;
    let parent = ifname(&format!("{path}.parent"), &f.parent)?;
    let vlan = f.vlan.map(|v| VlanId::new(v).map_err(|e| e.named(&format!("{path}.vlan")))).transpose()?;
    if let Some(id) = vlan {
        parent.vlan_child(id).map_err(|e| {
            SpecError::new(format!("{path}.vlan"), id, format!("makes the subinterface name {}", e.rule))
        })?;
    }
    let vlan_protocol = match &f.vlan_protocol {
        Some(p) => {
            if vlan.is_none() {
                return Err(SpecError::new(format!("{path}.vlan_protocol"), p, "needs `vlan`"));
            }
            p.parse::<VlanProtocol>().map_err(|e| e.named(&format!("{path}.vlan_protocol")))?
        }
        None => VlanProtocol::Ieee8021Q,
    };
    let driver = match f.driver.as_deref().unwrap_or("macvlan") {
        "macvlan" => {
            if let Some(m) = &f.ipvlan_mode {
                return Err(SpecError::new(format!("{path}.ipvlan_mode"), m, "needs `driver: ipvlan`"));
            }
            let mode = match &f.mode {
                Some(m) => m.parse::<MacvlanMode>().map_err(|e| e.named(&format!("{path}.mode")))?,
                None => MacvlanMode::Bridge,
            };
            let macs = f.source_macs.clone().unwrap_or_default();
            if !macs.is_empty() && mode != MacvlanMode::Source {
                return Err(SpecError::new(format!("{path}.source_macs"), macs.join(","), "needs `mode: source`"));
            }
            for (i, m) in macs.iter().enumerate() {
                m.parse::<MacAddr>().map_err(|e| e.named(&format!("{path}.source_macs[{i}]")))?;
            }
            Driver::Macvlan { mode, source_macs: macs }
        }
        "ipvlan" => {
            if let Some(m) = &f.mode {
                return Err(SpecError::new(format!("{path}.mode"), m, "is for macvlan; use `ipvlan_mode`"));
            }
            let mode = match &f.ipvlan_mode {
                Some(m) => m.parse::<IpvlanMode>().map_err(|e| e.named(&format!("{path}.ipvlan_mode")))?,
                None => IpvlanMode::L2,
            };
            let flags = match &f.ipvlan_flags {
                Some(m) => m.parse::<IpvlanFlags>().map_err(|e| e.named(&format!("{path}.ipvlan_flags")))?,
                None => IpvlanFlags::Bridge,
            };
            Driver::Ipvlan { mode, flags }
        }
        other => return Err(SpecError::new(format!("{path}.driver"), other, "is not one of macvlan, ipvlan")),
    };
    let mtu = f.mtu.map(|m| Mtu::new(m).map_err(|e| e.named(&format!("{path}.mtu")))).transpose()?;
    let subnets =
        f.subnets.iter().enumerate().map(|(i, s)| subnet(&format!("{path}.subnets[{i}]"), s)).collect::<R<Vec<_>>>()?;
    for fam in [false, true] {
        let gws: Vec<_> = subnets.iter().filter(|s| s.subnet.is_ipv6() == fam).filter_map(|s| s.gateway()).collect();
        if gws.len() > 1 {
            return Err(SpecError::new(
                format!("{path}.subnets"),
                format!("{} and {}", gws[0], gws[1]),
                "give two gateways of one family (one default route per family)",
            ));
        }
    }
    let host_shim = f
        .host_shim
        .as_ref()
        .map(|s| -> R<HostShim> {
            let p = format!("{path}.host_shim");
            Ok(HostShim {
                name: ifname(&format!("{p}.name"), &s.name)?,
                ipv4: s.ipv4.as_deref().map(|a| ip::<Ipv4Addr>(&format!("{p}.ipv4"), a, "IPv4")).transpose()?,
                ipv6: s.ipv6.as_deref().map(|a| ip::<Ipv6Addr>(&format!("{p}.ipv6"), a, "IPv6")).transpose()?,
            })
        })
        .transpose()?;
    let subnets_have_v6 = subnets.iter().any(|s| s.subnet.is_ipv6());
    Ok(Network {
        name: name.to_string(),
        parent,
        vlan,
        vlan_protocol,
        driver,
        mtu,
        subnets,
        host_shim,
        docker: f.docker.unwrap_or(false),
        ipv6_link_local: f.ipv6_link_local.unwrap_or(subnets_have_v6),
        dhcp: f.dhcp.unwrap_or(false),
        dhcp_use: dhcp_use(path, f.dhcp_use.as_deref())?,
    })
}

/// `dhcp_use: [mtu, dns, domain]`.
fn dhcp_use(path: &str, list: Option<&[String]>) -> R<DhcpUse> {
    let mut u = DhcpUse::default();
    for (i, v) in list.unwrap_or_default().iter().enumerate() {
        match v.as_str() {
            "mtu" => u.mtu = true,
            "dns" => u.dns = true,
            "domain" => u.domain = true,
            _ => return Err(SpecError::new(format!("{path}.dhcp_use[{i}]"), v, "is not one of mtu, dns, domain")),
        }
    }
    Ok(u)
}

fn subnet(path: &str, f: &SubnetFile) -> R<NetSubnet> {
    let subnet = Subnet::parse(&f.subnet, f.gateway.as_deref()).map_err(|e| e.within(path))?;
    if let Some(gw) = subnet.gateway() {
        check_usable(&format!("{path}.gateway"), gw, &subnet)?;
    }
    let ip_range = f
        .ip_range
        .as_deref()
        .map(|r| -> R<IpNet> {
            let p = format!("{path}.ip_range");
            let net: IpNet = r.parse().map_err(|_| SpecError::new(&p, r, "is not an ADDRESS/PREFIX range"))?;
            if net.trunc() != net {
                return Err(SpecError::new(&p, r, format!("has host bits set (did you mean {}?)", net.trunc())));
            }
            if !subnet.net().contains(&net) {
                return Err(SpecError::new(&p, r, format!("is not inside the subnet {}", subnet.net())));
            }
            Ok(net)
        })
        .transpose()?;
    let aux_addresses = f
        .aux_addresses
        .iter()
        .flatten()
        .map(|(k, v)| -> R<(String, IpAddr)> {
            let p = format!("{path}.aux_addresses.{k}");
            let a: IpAddr = ip(&p, v, "IP")?;
            if !subnet.contains(a) {
                return Err(SpecError::new(&p, a, format!("is outside the subnet {}", subnet.net())));
            }
            Ok((k.clone(), a))
        })
        .collect::<R<Vec<_>>>()?;
    Ok(NetSubnet { subnet, ip_range, aux_addresses })
}

fn endpoint(path: &str, name: &str, f: &EndpointFile) -> R<Endpoint> {
    let given = [f.netns.is_some(), f.pid.is_some(), f.container.is_some()].iter().filter(|x| **x).count();
    if given > 1 {
        return Err(SpecError::new(path, name, "sets more than one of netns, pid, container"));
    }
    let netns = if let Some(pid) = f.pid {
        if pid == 0 {
            return Err(SpecError::new(format!("{path}.pid"), pid, "is not a process id"));
        }
        EndpointNs::Pid(pid)
    } else if let Some(c) = &f.container {
        if c.is_empty() {
            return Err(SpecError::new(format!("{path}.container"), c, "is empty"));
        }
        EndpointNs::Container(c.clone())
    } else {
        let n = f.netns.as_deref().unwrap_or(name);
        let field = if f.netns.is_some() { format!("{path}.netns") } else { path.to_string() };
        EndpointNs::Netns(
            NetnsName::new(n)
                .map_err(|e| SpecError::new(field, n, format!("is not a valid namespace name: {}", e.rule)))?,
        )
    };
    if f.attach.is_empty() {
        return Err(SpecError::new(
            format!("{path}.attach"),
            "[]",
            "is empty (an endpoint needs at least one network)",
        ));
    }
    let attach = f
        .attach
        .iter()
        .enumerate()
        .map(|(i, a)| attachment(&format!("{path}.attach[{i}]"), i, a))
        .collect::<R<Vec<_>>>()?;
    for (i, a) in attach.iter().enumerate() {
        if let Some(j) = attach[..i].iter().position(|b| b.ifname == a.ifname) {
            return Err(SpecError::new(
                format!("{path}.attach[{i}].name"),
                &a.ifname,
                format!("is also the name of attach[{j}]"),
            ));
        }
        if let Some(j) = attach[..i].iter().position(|b| b.network == a.network) {
            return Err(SpecError::new(
                format!("{path}.attach[{i}].network"),
                &a.network,
                format!("is already attached as attach[{j}]"),
            ));
        }
    }
    Ok(Endpoint { name: name.to_string(), netns, attach })
}

fn attachment(path: &str, index: usize, f: &AttachFile) -> R<Attachment> {
    let ifname = match &f.name {
        Some(n) => ifname(&format!("{path}.name"), n)?,
        None => IfName::new(format!("eth{index}")).map_err(|e| e.within(path))?,
    };
    let ipv4_dhcp = f.ipv4.as_deref() == Some("dhcp");
    let ipv6_slaac = f.ipv6.as_deref() == Some("slaac");
    if f.ipv6.as_deref() == Some("dhcp") {
        return Err(SpecError::new(
            format!("{path}.ipv6"),
            "dhcp",
            "is not supported: vlanmac's client speaks DHCPv4 only (use `slaac` or a static address)",
        ));
    }
    if f.ipv4.as_deref() == Some("slaac") {
        return Err(SpecError::new(format!("{path}.ipv4"), "slaac", "is for ipv6 (use `dhcp` for IPv4)"));
    }
    if ipv6_slaac && ifname.as_str().contains('.') {
        // Its sysctls (net.ipv6.conf.NAME.accept_ra) cannot be named with a dot.
        return Err(SpecError::new(format!("{path}.name"), &ifname, "cannot contain `.` with `ipv6: slaac`"));
    }
    Ok(Attachment {
        network: f.network.clone(),
        ifname,
        ipv4: f.ipv4.as_deref().filter(|_| !ipv4_dhcp).map(|a| ip(&format!("{path}.ipv4"), a, "IPv4")).transpose()?,
        ipv6: f.ipv6.as_deref().filter(|_| !ipv6_slaac).map(|a| ip(&format!("{path}.ipv6"), a, "IPv6")).transpose()?,
        ipv4_dhcp,
        ipv6_slaac,
        mac: f.mac.as_deref().map(|m| m.parse::<MacAddr>().map_err(|e| e.named(&format!("{path}.mac")))).transpose()?,
        external: false,
    })
}
