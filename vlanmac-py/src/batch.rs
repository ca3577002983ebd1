//! `vlanmac.Batch`: changes to one namespace recorded (and validated) in
//! Python, then sent together through vlanmac-core's `Batch`: packed many
//! to a datagram, in waves that wait only for what they depend on.

use std::sync::Arc;

use pyo3::prelude::*;
use vlanmac_core::{
    link::{LinkUpdate, NewLink},
    spec::{AddressSpec, IfName, RouteSpec, SpecError},
    Batch, Netlink,
};

use crate::{
    runtime::block,
    specs::{self, Write},
};

/// One recorded change.
pub(crate) enum Change {
    Link(NewLink),
    Set(IfName, LinkUpdate),
    Delete(IfName),
    Address(IfName, AddressSpec, Write),
    Route(RouteSpec, Write),
}

/// Changes to one namespace, sent together by ``run()`` (or when a ``with``
/// block ends without an exception). Each method validates its arguments at
/// once (``InvalidSpecError`` naming the argument); nothing reaches the
/// kernel before ``run()``.
///
/// >>> with vlanmac.Netlink(netns="lab") as nl:             # doctest: +SKIP
/// ...     with nl.batch() as b:
/// ...         for i in range(1000):
/// ...             b.add_macvlan("eth0", f"mv{i}", ipv6_addrgen=False)
/// ...             b.add_address(f"mv{i}", f"10.1.{i // 250}.{i % 250 + 1}/32")
/// ...             b.set_link(f"mv{i}", up=True)
#[pyclass(module = "vlanmac", name = "Batch")]
pub struct PyBatch {
    nl: Arc<Netlink>,
    changes: Vec<Change>,
}

impl PyBatch {
    pub fn new(nl: Arc<Netlink>) -> Self {
        PyBatch { nl, changes: Vec::new() }
    }

    fn record(&mut self, py: Python<'_>, built: Result<Change, SpecError>) -> PyResult<()> {
        let change = built.map_err(|e| crate::errors::to_py(py, e.into()))?;
        self.changes.push(change);
        Ok(())
    }
}

fn addrgen(mut spec: NewLink, on: Option<bool>) -> NewLink {
    spec.ipv6_addrgen = on;
    spec
}

#[pymethods]
impl PyBatch {
    /// ``ip link add link PARENT name NAME type vlan id ID``; returns the name.
    /// ``ipv6_addrgen=False`` is ``addrgenmode none`` (no link-local address).
    #[pyo3(signature = (parent, vlan_id, name=None, protocol="802.1Q", mtu=None, ipv6_addrgen=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_vlan(
        &mut self,
        py: Python<'_>,
        parent: &str,
        vlan_id: u32,
        name: Option<&str>,
        protocol: &str,
        mtu: Option<u32>,
        ipv6_addrgen: Option<bool>,
    ) -> PyResult<String> {
        let spec = specs::vlan(parent, vlan_id, name, protocol, mtu).map_err(|e| crate::errors::to_py(py, e.into()))?;
        let out = spec.name.to_string();
        self.changes.push(Change::Link(addrgen(spec, ipv6_addrgen)));
        Ok(out)
    }

    /// ``ip link add link PARENT name NAME type macvlan mode MODE``.
    #[pyo3(signature = (parent, name, mode="bridge", mac=None, mtu=None, source_macs=None, ipv6_addrgen=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_macvlan(
        &mut self,
        py: Python<'_>,
        parent: &str,
        name: &str,
        mode: &str,
        mac: Option<&str>,
        mtu: Option<u32>,
        source_macs: Option<Vec<String>>,
        ipv6_addrgen: Option<bool>,
    ) -> PyResult<()> {
        let built = specs::macvlan(parent, name, mode, mac, mtu, source_macs);
        self.record(py, built.map(|s| Change::Link(addrgen(s, ipv6_addrgen))))
    }

    /// ``ip link add link PARENT name NAME type ipvlan mode MODE FLAGS``.
    #[pyo3(signature = (parent, name, mode="l2", flags="bridge"))]
    fn add_ipvlan(&mut self, py: Python<'_>, parent: &str, name: &str, mode: &str, flags: &str) -> PyResult<()> {
        self.record(py, specs::ipvlan(parent, name, mode, flags).map(Change::Link))
    }

    /// ``ip link set NAME [up|down] [mtu N] [address MAC] [name NEW] [alias A]``.
    #[pyo3(signature = (name, *, up=None, mtu=None, mac=None, new_name=None, alias=None))]
    #[allow(clippy::too_many_arguments)]
    fn set_link(
        &mut self,
        py: Python<'_>,
        name: &str,
        up: Option<bool>,
        mtu: Option<u32>,
        mac: Option<&str>,
        new_name: Option<&str>,
        alias: Option<String>,
    ) -> PyResult<()> {
        let built =
            (|| Ok(Change::Set(specs::name("name", name)?, specs::link_update(up, mtu, mac, new_name, alias)?)))();
        self.record(py, built)
    }

    /// ``ip link del NAME``.
    fn delete_link(&mut self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.record(py, specs::name("name", name).map(Change::Delete))
    }

    /// ``ip addr add ADDR/PREFIX dev DEV``.
    #[pyo3(signature = (dev, address, nodad=None))]
    fn add_address(&mut self, py: Python<'_>, dev: &str, address: &str, nodad: Option<bool>) -> PyResult<()> {
        self.record(py, specs::address(dev, address, nodad).map(|(d, a)| Change::Address(d, a, Write::Add)))
    }

    /// ``ip addr del ADDR/PREFIX dev DEV``.
    fn delete_address(&mut self, py: Python<'_>, dev: &str, address: &str) -> PyResult<()> {
        self.record(py, specs::address(dev, address, None).map(|(d, a)| Change::Address(d, a, Write::Delete)))
    }

    /// ``ip route add DST [via GW] [dev DEV] [metric N]``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn add_route(
        &mut self,
        py: Python<'_>,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.record(py, specs::route(dst, gateway, dev, metric).map(|r| Change::Route(r, Write::Add)))
    }

    /// ``ip route del ...``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn delete_route(
        &mut self,
        py: Python<'_>,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.record(py, specs::route(dst, gateway, dev, metric).map(|r| Change::Route(r, Write::Delete)))
    }

    fn __len__(&self) -> usize {
        self.changes.len()
    }

    /// Sends every recorded change (the GIL released meanwhile) and empties
    /// the batch; returns how many were made. Stops after the first failing
    /// wave and raises that change's error; a change made of several
    /// requests that failed half-way is undone.
    fn run(&mut self, py: Python<'_>) -> PyResult<usize> {
        run_changes(py, self.nl.clone(), std::mem::take(&mut self.changes))
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Runs the batch unless the block raised.
    #[pyo3(signature = (exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none_or(|t| t.is_none()) {
            self.run(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("<vlanmac.Batch of {} changes in netns {}>", self.changes.len(), self.nl.netns())
    }
}

/// Sends `changes` through one core `Batch` (the GIL released meanwhile);
/// returns how many were made or raises the first failing change's error.
/// `Netlink`'s address and route methods are one-change runs of this.
pub(crate) fn run_changes(py: Python<'_>, nl: Arc<Netlink>, changes: Vec<Change>) -> PyResult<usize> {
    let n = changes.len();
    block(py, async move {
        let mut batch = Batch::new();
        for c in changes {
            match c {
                Change::Link(spec) => batch.add_link(&nl, spec),
                Change::Set(dev, u) => batch.set_link(&nl, &dev, u),
                Change::Delete(dev) => batch.delete_link(&nl, &dev),
                Change::Address(dev, a, Write::Add) => batch.add_address(&nl, &dev, a),
                Change::Address(dev, a, Write::Replace) => batch.replace_address(&nl, &dev, a),
                Change::Address(dev, a, Write::Delete) => batch.delete_address(&nl, &dev, a),
                Change::Route(r, Write::Add) => batch.add_route(&nl, r),
                Change::Route(r, Write::Replace) => batch.replace_route(&nl, r),
                Change::Route(r, Write::Delete) => batch.delete_route(&nl, r),
            };
        }
        batch.run().await.into_result()
    })?;
    Ok(n)
}
