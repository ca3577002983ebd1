//! Python arguments into validated vlanmac-core specs: one builder per
//! kind of change, shared by `Netlink`'s methods (sent at once) and
//! `Batch`'s (sent together). Every error names the argument.

use vlanmac_core::{
    link::{Ipvlan, LinkUpdate, Macvlan, NewLink, Vlan},
    spec::{
        AddressSpec, IfName, IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, RouteSpec, SpecError, VlanId,
        VlanProtocol,
    },
};

/// An interface name given as argument `field`.
pub fn name(field: &str, s: &str) -> Result<IfName, SpecError> {
    IfName::new(s).map_err(|e| e.named(field))
}

/// `add_vlan(parent, vlan_id, name=None, protocol="802.1Q", mtu=None)`; the
/// name defaults to `PARENT.ID`.
pub fn vlan(
    parent: &str,
    vlan_id: u32,
    name: Option<&str>,
    protocol: &str,
    mtu: Option<u32>,
) -> Result<NewLink, SpecError> {
    let parent = self::name("parent", parent)?;
    let id = VlanId::new(vlan_id)?;
    let n = match name {
        Some(n) => self::name("name", n)?,
        None => parent.vlan_child(id)?,
    };
    let mut spec = NewLink::new(n, Vlan::new(parent, id).protocol(protocol.parse::<VlanProtocol>()?));
    spec.mtu = mtu.map(Mtu::new).transpose()?;
    Ok(spec)
}

/// `add_macvlan(parent, name, mode="bridge", mac=None, mtu=None, source_macs=None)`.
pub fn macvlan(
    parent: &str,
    name: &str,
    mode: &str,
    mac: Option<&str>,
    mtu: Option<u32>,
    source_macs: Option<Vec<String>>,
) -> Result<NewLink, SpecError> {
    let macs = source_macs.unwrap_or_default().iter().map(|m| m.parse::<MacAddr>()).collect::<Result<Vec<_>, _>>()?;
    let kind = Macvlan::new(self::name("parent", parent)?, mode.parse::<MacvlanMode>()?).source_macs(macs);
    let mut spec = NewLink::new(self::name("name", name)?, kind);
    spec.mac = mac.map(str::parse).transpose()?;
    spec.mtu = mtu.map(Mtu::new).transpose()?;
    Ok(spec)
}

/// `add_ipvlan(parent, name, mode="l2", flags="bridge")`.
pub fn ipvlan(parent: &str, name: &str, mode: &str, flags: &str) -> Result<NewLink, SpecError> {
    let kind =
        Ipvlan::new(self::name("parent", parent)?, mode.parse::<IpvlanMode>()?).flags(flags.parse::<IpvlanFlags>()?);
    Ok(NewLink::new(self::name("name", name)?, kind))
}

/// `set_link(name, up=, mtu=, mac=, new_name=, alias=)` (without `netns=`).
pub fn link_update(
    up: Option<bool>,
    mtu: Option<u32>,
    mac: Option<&str>,
    new_name: Option<&str>,
    alias: Option<String>,
) -> Result<LinkUpdate, SpecError> {
    let mut u = LinkUpdate::new();
    u.up = up;
    u.mtu = mtu.map(Mtu::new).transpose()?;
    u.mac = mac.map(str::parse).transpose()?;
    u.name = new_name.map(|n| self::name("new_name", n)).transpose()?;
    if let Some(a) = alias {
        u = u.alias(a)?;
    }
    Ok(u)
}

/// `add_address(dev, address, nodad=None)` and its twins.
pub fn address(dev: &str, address: &str, nodad: Option<bool>) -> Result<(IfName, AddressSpec), SpecError> {
    let mut a = address.parse::<AddressSpec>()?;
    if let Some(n) = nodad {
        a.nodad = n;
    }
    Ok((name("dev", dev)?, a))
}

/// `add_route(dst="default", gateway=None, dev=None, metric=None)` and its twins.
pub fn route(dst: &str, gateway: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> Result<RouteSpec, SpecError> {
    let mut r = RouteSpec::parse(dst, gateway, dev)?;
    r.metric = metric;
    Ok(r)
}
