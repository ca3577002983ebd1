//! Every change operation of `vlanmac.Netlink` and `vlanmac.Batch`, defined
//! once: its Python signature, its `ip` command, and how its arguments
//! become vlanmac-core changes ([`Edit`]s, validated, each error naming its
//! argument). [`operations!`] makes each a method of both classes: on
//! `Netlink` the changes are sent at once (one `Batch` of them), on `Batch`
//! they are recorded and sent by `run()`. A parameter added here is on
//! both.

use std::sync::Arc;

use pyo3::prelude::*;
use vlanmac_core::{
    link::{NewLink, Veth},
    spec::SpecError,
    Edit, Netlink,
};

use crate::{
    batch::{Built, PyBatch},
    errors::raise,
    netlink::{nsref, PyNetlink},
    runtime::block,
    specs::{self, name},
};

/// One change, returning `value`.
fn one<T>(edit: Edit, value: T) -> Built<T> {
    Built { edits: vec![edit], keep: Vec::new(), value }
}

/// A validated value, or the Python exception naming the argument.
fn valid<T>(r: Result<T, SpecError>) -> PyResult<T> {
    r.map_err(raise)
}

/// A handle on the named namespace `netns`, argument `field` (the GIL
/// released while it opens).
fn open(py: Python<'_>, netns: &str) -> PyResult<Arc<Netlink>> {
    let r = nsref(Some(netns), None, None).map_err(raise)?;
    Ok(Arc::new(block(py, async move { Netlink::open(r).await })?))
}

/// Makes each operation a method of `Netlink` (sent at once) and of
/// `Batch` (recorded). Each is written as
/// `fn NAME(py; ARG: TYPE, ...) -> RETURN { body building a Built }`.
macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        #[pyo3(signature = $sig:tt)]
        fn $name:ident($py:ident; $($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block
    )*) => {
        #[pymethods]
        impl PyNetlink {
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = $sig)]
                #[allow(clippy::too_many_arguments)]
                fn $name(&self, $py: Python<'_>, $($arg: $ty),*) -> PyResult<$ret> {
                    let built: Built<$ret> = $body;
                    self.send($py, built)
                }
            )*
        }

        #[pymethods]
        impl PyBatch {
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = $sig)]
                #[allow(clippy::too_many_arguments)]
                fn $name(&mut self, $py: Python<'_>, $($arg: $ty),*) -> PyResult<$ret> {
                    // Only the operations that open another namespace use it.
                    let _ = &$py;
                    let built: Built<$ret> = $body;
                    Ok(self.record(built))
                }
            )*
        }
    };
}

/// A new link with IPv6 address generation as asked
/// (`ipv6_addrgen=False`: `addrgenmode none`, no link-local address).
fn addrgen(mut spec: NewLink, on: Option<bool>) -> NewLink {
    spec.ipv6_addrgen = on;
    spec
}

operations! {
    /// ``ip link add link PARENT name NAME type vlan id ID [protocol P]``;
    /// returns the name (default ``PARENT.ID``). ``ipv6_addrgen=False`` is
    /// ``addrgenmode none`` (no link-local address).
    #[pyo3(signature = (parent, vlan_id, name=None, protocol="802.1Q", mtu=None, ipv6_addrgen=None))]
    fn add_vlan(py; parent: &str, vlan_id: u32, name: Option<&str>, protocol: &str, mtu: Option<u32>, ipv6_addrgen: Option<bool>) -> String {
        let spec = valid(specs::vlan(parent, vlan_id, name, protocol, mtu))?;
        let out = spec.name.to_string();
        one(Edit::AddLink(addrgen(spec, ipv6_addrgen)), out)
    }

    /// ``ip link add link PARENT name NAME type macvlan mode MODE [address MAC] [mtu N]``
    /// (``source_macs`` for mode ``source``).
    #[pyo3(signature = (parent, name, mode="bridge", mac=None, mtu=None, source_macs=None, ipv6_addrgen=None))]
    fn add_macvlan(py; parent: &str, name: &str, mode: &str, mac: Option<&str>, mtu: Option<u32>, source_macs: Option<Vec<String>>, ipv6_addrgen: Option<bool>) -> () {
        let spec = valid(specs::macvlan(parent, name, mode, mac, mtu, source_macs))?;
        one(Edit::AddLink(addrgen(spec, ipv6_addrgen)), ())
    }

    /// ``ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]``.
    #[pyo3(signature = (parent, name, mode="l2", flags="bridge"))]
    fn add_ipvlan(py; parent: &str, name: &str, mode: &str, flags: &str) -> () {
        one(Edit::AddLink(valid(specs::ipvlan(parent, name, mode, flags))?), ())
    }

    /// ``ip link add NAME type veth peer name PEER [netns PEER_NETNS]``.
    #[pyo3(signature = (name, peer, peer_netns=None))]
    fn add_veth(py; name: &str, peer: &str, peer_netns: Option<&str>) -> () {
        let (n, p) = (valid(self::name("name", name))?, valid(self::name("peer", peer))?);
        let target = peer_netns.map(|ns| open(py, ns)).transpose()?;
        let mut veth = Veth::new(p);
        if let Some(t) = &target {
            veth = veth.peer_in(&**t);
        }
        Built { edits: vec![Edit::AddLink(NewLink::new(n, veth))], keep: target.into_iter().collect(), value: () }
    }

    /// ``ip link set NAME [up|down] [mtu N] [address MAC] [name NEW] [alias A] [netns NS]``.
    #[pyo3(signature = (name, *, up=None, mtu=None, mac=None, new_name=None, alias=None, netns=None))]
    fn set_link(py; name: &str, up: Option<bool>, mtu: Option<u32>, mac: Option<&str>, new_name: Option<&str>, alias: Option<String>, netns: Option<&str>) -> () {
        let dev = valid(self::name("name", name))?;
        let mut update = valid(specs::link_update(up, mtu, mac, new_name, alias))?;
        let target = netns.map(|ns| open(py, ns)).transpose()?;
        if let Some(t) = &target {
            update = update.netns(&**t);
        }
        Built { edits: vec![Edit::SetLink(dev, update)], keep: target.into_iter().collect(), value: () }
    }

    /// ``ip link del NAME``.
    #[pyo3(signature = (name))]
    fn delete_link(py; name: &str) -> () {
        one(Edit::DeleteLink(valid(self::name("name", name))?), ())
    }

    /// ``ip addr add ADDR/PREFIX dev DEV`` (IPv6 ``nodad`` unless ``nodad=False``).
    #[pyo3(signature = (dev, address, nodad=None))]
    fn add_address(py; dev: &str, address: &str, nodad: Option<bool>) -> () {
        let (d, a) = valid(specs::address(dev, address, nodad))?;
        one(Edit::AddAddress(d, a), ())
    }

    /// ``ip addr replace ADDR/PREFIX dev DEV``.
    #[pyo3(signature = (dev, address, nodad=None))]
    fn replace_address(py; dev: &str, address: &str, nodad: Option<bool>) -> () {
        let (d, a) = valid(specs::address(dev, address, nodad))?;
        one(Edit::ReplaceAddress(d, a), ())
    }

    /// ``ip addr del ADDR/PREFIX dev DEV``.
    #[pyo3(signature = (dev, address))]
    fn delete_address(py; dev: &str, address: &str) -> () {
        let (d, a) = valid(specs::address(dev, address, None))?;
        one(Edit::DeleteAddress(d, a), ())
    }

    /// ``ip route add DST [via GW] [dev DEV] [metric N]`` (``dst="default"`` for a default route).
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn add_route(py; dst: &str, gateway: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> () {
        one(Edit::AddRoute(valid(specs::route(dst, gateway, dev, metric))?), ())
    }

    /// ``ip route replace DST [via GW] [dev DEV] [metric N]``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn replace_route(py; dst: &str, gateway: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> () {
        one(Edit::ReplaceRoute(valid(specs::route(dst, gateway, dev, metric))?), ())
    }

    /// ``ip route del DST [via GW] [dev DEV] [metric N]``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn delete_route(py; dst: &str, gateway: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> () {
        one(Edit::DeleteRoute(valid(specs::route(dst, gateway, dev, metric))?), ())
    }
}
