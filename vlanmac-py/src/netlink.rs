//! `vlanmac.Netlink`: a connection bound to one namespace.

use std::{collections::HashMap, sync::Arc};

use pyo3::prelude::*;
use vlanmac_core::{
    link::{LinkUpdate, NewLink, Veth},
    spec::{AddressSpec, IfName, RouteSpec, SpecError},
    Edit, Netlink, NetnsRef,
};

use crate::{
    batch::{run_edits, PyBatch},
    readback::{PyLink, PyNeighbour, PyRoute},
    runtime::{block, guard},
    specs::{self, name},
};

/// Which namespace: by name, pid or path (at most one); none is the caller's.
pub fn nsref(netns: Option<&str>, pid: Option<u32>, path: Option<&str>) -> Result<NetnsRef, vlanmac_core::Error> {
    match (netns, pid, path) {
        (None, None, None) => Ok(NetnsRef::Current),
        (Some(n), None, None) => Ok(NetnsRef::named(n)?),
        (None, Some(p), None) => Ok(NetnsRef::Pid(p)),
        (None, None, Some(p)) => Ok(NetnsRef::Path(p.into())),
        _ => Err(SpecError::new("netns", "", "give at most one of netns, pid, path").into()),
    }
}

/// A netlink connection bound to one network namespace. Every call releases
/// the GIL while it waits on the kernel.
///
/// >>> with vlanmac.Netlink(netns="container0") as nl:   # doctest: +SKIP
/// ...     nl.add_vlan("eth0", 10)
/// 'eth0.10'
#[pyclass(module = "vlanmac", name = "Netlink")]
pub struct PyNetlink {
    inner: Option<Arc<Netlink>>,
    label: String,
}

impl PyNetlink {
    fn nl(&self) -> PyResult<Arc<Netlink>> {
        self.inner.clone().ok_or_else(|| crate::errors::internal("this Netlink handle is closed"))
    }
}

#[pymethods]
impl PyNetlink {
    /// Opens a connection in a namespace: `netns=` (a name under /run/netns),
    /// `pid=` (a process's), `path=`, or none of them for the caller's own.
    #[new]
    #[pyo3(signature = (netns=None, *, pid=None, path=None))]
    fn new(py: Python<'_>, netns: Option<&str>, pid: Option<u32>, path: Option<&str>) -> PyResult<Self> {
        let r = guard(|| nsref(netns, pid, path).map_err(crate::errors::raise))?;
        let label = r.to_string();
        let nl = block(py, async move { Netlink::open(r).await })?;
        Ok(PyNetlink { inner: Some(Arc::new(nl)), label })
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&mut self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    /// Closes the connection (also done on leaving a `with` block).
    fn close(&mut self) {
        self.inner = None;
    }

    /// A :class:`Batch` of changes to this namespace, sent together (packed
    /// many to a datagram) by ``run()`` or at the end of a ``with`` block.
    fn batch(&self) -> PyResult<PyBatch> {
        Ok(PyBatch::new(self.nl()?))
    }

    fn __repr__(&self) -> String {
        format!("Netlink(netns={:?}{})", self.label, if self.inner.is_some() { "" } else { ", closed" })
    }

    /// `ip link add link PARENT name NAME type vlan id ID [protocol P]`;
    /// returns the name (default `PARENT.ID`).
    #[pyo3(signature = (parent, vlan_id, name=None, protocol="802.1Q", mtu=None))]
    fn add_vlan(
        &self,
        py: Python<'_>,
        parent: &str,
        vlan_id: u32,
        name: Option<&str>,
        protocol: &str,
        mtu: Option<u32>,
    ) -> PyResult<String> {
        let nl = self.nl()?;
        let built = specs::vlan(parent, vlan_id, name, protocol, mtu);
        let spec = built.map_err(crate::errors::raise)?;
        let out = spec.name.to_string();
        block(py, async move { nl.add_link(&spec).await })?;
        Ok(out)
    }

    /// `ip link add link PARENT name NAME type macvlan mode MODE [address MAC] [mtu N]`.
    #[pyo3(signature = (parent, name, mode="bridge", mac=None, mtu=None, source_macs=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_macvlan(
        &self,
        py: Python<'_>,
        parent: &str,
        name: &str,
        mode: &str,
        mac: Option<&str>,
        mtu: Option<u32>,
        source_macs: Option<Vec<String>>,
    ) -> PyResult<()> {
        let nl = self.nl()?;
        let spec = specs::macvlan(parent, name, mode, mac, mtu, source_macs).map_err(crate::errors::raise)?;
        block(py, async move { nl.add_link(&spec).await })
    }

    /// `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.
    #[pyo3(signature = (parent, name, mode="l2", flags="bridge"))]
    fn add_ipvlan(&self, py: Python<'_>, parent: &str, name: &str, mode: &str, flags: &str) -> PyResult<()> {
        let nl = self.nl()?;
        let spec = specs::ipvlan(parent, name, mode, flags).map_err(crate::errors::raise)?;
        block(py, async move { nl.add_link(&spec).await })
    }

    /// `ip link add NAME type veth peer name PEER [netns PEER_NETNS]`.
    #[pyo3(signature = (name, peer, peer_netns=None))]
    fn add_veth(&self, py: Python<'_>, name: &str, peer: &str, peer_netns: Option<&str>) -> PyResult<()> {
        let nl = self.nl()?;
        let (n, p) =
            (|| -> Result<(IfName, IfName), SpecError> { Ok((self::name("name", name)?, self::name("peer", peer)?)) })(
            )
            .map_err(crate::errors::raise)?;
        let other = match peer_netns {
            Some(ns) => Some(nsref(Some(ns), None, None).map_err(crate::errors::raise)?),
            None => None,
        };
        block(py, async move {
            let target = match other {
                Some(r) => Some(Netlink::open(r).await?),
                None => None,
            };
            let mut veth = Veth::new(p);
            if let Some(t) = &target {
                veth = veth.peer_in(t);
            }
            nl.add_link(&NewLink::new(n, veth)).await
        })
    }

    /// `ip link set NAME [up|down] [mtu N] [address MAC] [name NEW] [alias A] [netns NS]`.
    #[pyo3(signature = (name, *, up=None, mtu=None, mac=None, new_name=None, alias=None, netns=None))]
    #[allow(clippy::too_many_arguments)]
    fn set_link(
        &self,
        py: Python<'_>,
        name: &str,
        up: Option<bool>,
        mtu: Option<u32>,
        mac: Option<&str>,
        new_name: Option<&str>,
        alias: Option<String>,
        netns: Option<&str>,
    ) -> PyResult<()> {
        let nl = self.nl()?;
        let built = (|| -> Result<(IfName, LinkUpdate), SpecError> {
            Ok((self::name("name", name)?, specs::link_update(up, mtu, mac, new_name, alias)?))
        })()
        .map_err(crate::errors::raise)?;
        let target = match netns {
            Some(ns) => Some(nsref(Some(ns), None, None).map_err(crate::errors::raise)?),
            None => None,
        };
        block(py, async move {
            let (dev, mut u) = built;
            let t = match target {
                Some(r) => Some(Netlink::open(r).await?),
                None => None,
            };
            if let Some(t) = &t {
                u = u.netns(t);
            }
            nl.set_link(&dev, &u).await
        })
    }

    /// `ip link del NAME`.
    fn delete_link(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let nl = self.nl()?;
        let dev = self::name("name", name).map_err(crate::errors::raise)?;
        block(py, async move { nl.delete_link(&dev).await })
    }

    /// `ip -d link show NAME`.
    fn link(&self, py: Python<'_>, name: &str) -> PyResult<PyLink> {
        let nl = self.nl()?;
        let dev = self::name("name", name).map_err(crate::errors::raise)?;
        let l = block(py, async move { nl.link(&dev).await })?;
        Ok(PyLink::from(&l))
    }

    /// `ip -d addr show`: every link with kind, VLAN, mode, parent, MAC, MTU and addresses.
    fn links(&self, py: Python<'_>) -> PyResult<Vec<PyLink>> {
        let nl = self.nl()?;
        let ls = block(py, async move { nl.links().await })?;
        Ok(ls.iter().map(PyLink::from).collect())
    }

    /// `ip addr add ADDR/PREFIX dev DEV` (IPv6 `nodad` unless `nodad=False`).
    #[pyo3(signature = (dev, address, nodad=None))]
    fn add_address(&self, py: Python<'_>, dev: &str, address: &str, nodad: Option<bool>) -> PyResult<()> {
        self.address_op(py, dev, address, nodad, Edit::AddAddress)
    }

    /// `ip addr replace ADDR/PREFIX dev DEV`.
    #[pyo3(signature = (dev, address, nodad=None))]
    fn replace_address(&self, py: Python<'_>, dev: &str, address: &str, nodad: Option<bool>) -> PyResult<()> {
        self.address_op(py, dev, address, nodad, Edit::ReplaceAddress)
    }

    /// `ip addr del ADDR/PREFIX dev DEV`.
    fn delete_address(&self, py: Python<'_>, dev: &str, address: &str) -> PyResult<()> {
        self.address_op(py, dev, address, None, Edit::DeleteAddress)
    }

    /// `ip addr show [dev DEV]`: addresses as `addr/prefix`, by device name.
    #[pyo3(signature = (dev=None))]
    fn addresses(&self, py: Python<'_>, dev: Option<&str>) -> PyResult<Vec<(String, String)>> {
        let nl = self.nl()?;
        let dev = dev.map(|d| self::name("dev", d)).transpose().map_err(crate::errors::raise)?;
        block(py, async move {
            let names = link_names(&nl).await?;
            let addrs = nl.addresses(dev.as_ref()).await?;
            Ok::<_, vlanmac_core::Error>(
                addrs.iter().map(|a| (names.get(&a.index).cloned().unwrap_or_default(), a.net.to_string())).collect(),
            )
        })
    }

    /// `ip route add DST [via GW] [dev DEV] [metric N]` (`dst="default"` for a default route).
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn add_route(
        &self,
        py: Python<'_>,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.route_op(py, dst, gateway, dev, metric, Edit::AddRoute)
    }

    /// `ip route replace ...`.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn replace_route(
        &self,
        py: Python<'_>,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.route_op(py, dst, gateway, dev, metric, Edit::ReplaceRoute)
    }

    /// `ip route del ...`.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn delete_route(
        &self,
        py: Python<'_>,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.route_op(py, dst, gateway, dev, metric, Edit::DeleteRoute)
    }

    /// `ip route show` and `ip -6 route show` (main table).
    fn routes(&self, py: Python<'_>) -> PyResult<Vec<PyRoute>> {
        let nl = self.nl()?;
        block(py, async move {
            let names = link_names(&nl).await?;
            Ok::<_, vlanmac_core::Error>(
                nl.routes()
                    .await?
                    .iter()
                    .map(|r| PyRoute {
                        dst: r.dst.to_string(),
                        gateway: r.gateway.map(|g| g.to_string()),
                        dev: r.oif.and_then(|i| names.get(&i).cloned()),
                        metric: r.metric,
                        table: r.table,
                    })
                    .collect(),
            )
        })
    }

    /// `ip neigh show [dev DEV]`.
    #[pyo3(signature = (dev=None))]
    fn neighbours(&self, py: Python<'_>, dev: Option<&str>) -> PyResult<Vec<PyNeighbour>> {
        let nl = self.nl()?;
        let dev = dev.map(|d| self::name("dev", d)).transpose().map_err(crate::errors::raise)?;
        block(py, async move {
            let names = link_names(&nl).await?;
            Ok::<_, vlanmac_core::Error>(
                nl.neighbours(dev.as_ref())
                    .await?
                    .iter()
                    .map(|n| PyNeighbour {
                        ip: n.ip.to_string(),
                        mac: n.mac.map(|m| m.to_string()),
                        dev: names.get(&n.index).cloned(),
                        state: format!("{:?}", n.state).to_uppercase(),
                    })
                    .collect(),
            )
        })
    }
}

/// Link names by index (`ip` prints names; the kernel sends indexes).
async fn link_names(nl: &Netlink) -> vlanmac_core::Result<HashMap<u32, String>> {
    Ok(nl.links().await?.into_iter().map(|l| (l.index, l.name)).collect())
}

impl PyNetlink {
    fn address_op(
        &self,
        py: Python<'_>,
        dev: &str,
        address: &str,
        nodad: Option<bool>,
        edit: fn(IfName, AddressSpec) -> Edit,
    ) -> PyResult<()> {
        let (d, a) = specs::address(dev, address, nodad).map_err(crate::errors::raise)?;
        run_edits(py, self.nl()?, vec![edit(d, a)]).map(|_| ())
    }

    fn route_op(
        &self,
        py: Python<'_>,
        dst: &str,
        gw: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
        edit: fn(RouteSpec) -> Edit,
    ) -> PyResult<()> {
        let r = specs::route(dst, gw, dev, metric).map_err(crate::errors::raise)?;
        run_edits(py, self.nl()?, vec![edit(r)]).map(|_| ())
    }
}
