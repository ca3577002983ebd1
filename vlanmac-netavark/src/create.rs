//! `create`: podman's network, validated and completed. Every option is
//! read (a bad one is named), `-o parent=` becomes `network_interface` (and
//! is required with `vlan`), the
//! parent is looked up in the host's namespace (it must exist, must not be
//! a macvlan or ipvlan itself, must have room for `<parent>.<vlan>` in 15
//! bytes, and an `mtu` option must not exceed its MTU), the subnets and
//! routes are checked, `ipv6_enabled` follows the subnets, and the IPAM
//! driver is `host-local` with subnets, `none` without.

use futures::executor::block_on;
use vlanmac_core::{readback::LinkKind, spec::IfName, Netlink, NetnsRef};

use crate::{
    addressing::{self, Ipam},
    error::{Error, Result},
    options::Options,
    types::{Network, DRIVER},
};

/// Validates and completes `net`.
pub fn create(mut net: Network) -> Result<Network> {
    if net.driver != DRIVER {
        return Err(Error::option("driver", format!("driver: {:?} is not {DRIVER:?}", net.driver)));
    }
    let opts = Options::parse(net.options.as_ref())?;
    let parent = match (opts.parent.as_deref(), net.network_interface.as_deref().filter(|s| !s.is_empty())) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::option(
                "parent",
                format!("parent: {a:?} and network_interface {b:?} disagree (give one of them)"),
            ))
        }
        (Some(p), _) | (None, Some(p)) => Some(p.to_string()),
        (None, None) => None,
    };
    if parent.is_none() && opts.vlan.is_some() {
        return Err(Error::option("parent", "parent: is required with vlan (-o parent=IFACE)"));
    }
    if let Some(o) = net.options.as_mut() {
        o.remove("parent");
    }
    if let Some(p) = &parent {
        check_parent(p, &opts)?;
    }
    net.network_interface = parent;

    addressing::check_subnets(&net)?;
    addressing::check_routes(&net)?;
    let subnets = net.subnets.as_deref().unwrap_or_default();
    let has_v6 = subnets.iter().any(|s| s.subnet.addr().is_ipv6());
    if net.ipv6_enabled && !has_v6 {
        return Err(Error::option(
            "ipv6_enabled",
            "ipv6_enabled: --ipv6 needs an IPv6 --subnet (the vlanmac driver allocates no subnets)",
        ));
    }
    net.ipv6_enabled = has_v6;
    let ipam = if net.ipam_options.as_ref().is_some_and(|o| o.contains_key("driver")) {
        addressing::ipam(&net)?
    } else if subnets.is_empty() {
        Ipam::None
    } else {
        Ipam::HostLocal
    };
    if ipam == Ipam::HostLocal && subnets.is_empty() {
        return Err(Error::option(
            "subnets",
            "subnets: none given; host-local IPAM needs one (--subnet), or use --ipam-driver none",
        ));
    }
    let driver = match ipam {
        Ipam::HostLocal => "host-local",
        Ipam::None => "none",
    };
    net.ipam_options.get_or_insert_with(Default::default).insert("driver".into(), driver.into());
    Ok(net)
}

/// The parent in the host's namespace: there, not a macvlan or ipvlan,
/// with room for the VLAN's name and an MTU at least the option's.
fn check_parent(parent: &str, opts: &Options) -> Result<()> {
    let name = IfName::new(parent).map_err(|e| Error::from(e.named("network_interface")))?;
    if let Some(id) = opts.vlan {
        name.vlan_child(id)
            .map_err(|e| Error::option("vlan", format!("vlan: {name}.{} is longer than 15 bytes ({e})", id.get())))?;
    }
    let host = block_on(Netlink::open(NetnsRef::Current)).map_err(|e| Error::Attach(e.to_string()))?;
    let link = block_on(host.link(&name)).map_err(|e| match e {
        vlanmac_core::Error::NotFound(_) => {
            Error::option("network_interface", format!("network_interface: {name} does not exist on the host"))
        }
        other => Error::Attach(other.to_string()),
    })?;
    if let LinkKind::Macvlan { .. } | LinkKind::Ipvlan { .. } = link.kind {
        return Err(Error::option(
            "network_interface",
            format!("network_interface: {name} is itself a {}; give the interface it sits on", link.kind.name()),
        ));
    }
    if let (Some(want), Some(have)) = (opts.mtu, link.mtu) {
        if want.get() > have {
            return Err(Error::option("mtu", format!("mtu: {want} is above the parent {name}'s mtu {have}")));
        }
    }
    Ok(())
}
