//! `vlanmac.Batch`: changes to one namespace recorded (and validated) in
//! Python, then sent together through vlanmac-core's `Batch`: packed many
//! to a datagram, in waves that wait only for what they depend on.

use std::sync::Arc;

use pyo3::prelude::*;
use vlanmac_core::{link::NewLink, spec::SpecError, Batch, Edit, Netlink};

use crate::{runtime::block, specs};

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
    edits: Vec<Edit>,
}

impl PyBatch {
    pub fn new(nl: Arc<Netlink>) -> Self {
        PyBatch { nl, edits: Vec::new() }
    }

    fn record(&mut self, built: Result<Edit, SpecError>) -> PyResult<()> {
        self.edits.push(built.map_err(crate::errors::raise)?);
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
        parent: &str,
        vlan_id: u32,
        name: Option<&str>,
        protocol: &str,
        mtu: Option<u32>,
        ipv6_addrgen: Option<bool>,
    ) -> PyResult<String> {
        let spec = specs::vlan(parent, vlan_id, name, protocol, mtu).map_err(crate::errors::raise)?;
        let out = spec.name.to_string();
        self.edits.push(Edit::AddLink(addrgen(spec, ipv6_addrgen)));
        Ok(out)
    }

    /// ``ip link add link PARENT name NAME type macvlan mode MODE``.
    #[pyo3(signature = (parent, name, mode="bridge", mac=None, mtu=None, source_macs=None, ipv6_addrgen=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_macvlan(
        &mut self,
        parent: &str,
        name: &str,
        mode: &str,
        mac: Option<&str>,
        mtu: Option<u32>,
        source_macs: Option<Vec<String>>,
        ipv6_addrgen: Option<bool>,
    ) -> PyResult<()> {
        let built = specs::macvlan(parent, name, mode, mac, mtu, source_macs);
        self.record(built.map(|s| Edit::AddLink(addrgen(s, ipv6_addrgen))))
    }

    /// ``ip link add link PARENT name NAME type ipvlan mode MODE FLAGS``.
    #[pyo3(signature = (parent, name, mode="l2", flags="bridge"))]
    fn add_ipvlan(&mut self, parent: &str, name: &str, mode: &str, flags: &str) -> PyResult<()> {
        self.record(specs::ipvlan(parent, name, mode, flags).map(Edit::AddLink))
    }

    /// ``ip link set NAME [up|down] [mtu N] [address MAC] [name NEW] [alias A]``.
    #[pyo3(signature = (name, *, up=None, mtu=None, mac=None, new_name=None, alias=None))]
    #[allow(clippy::too_many_arguments)]
    fn set_link(
        &mut self,
        name: &str,
        up: Option<bool>,
        mtu: Option<u32>,
        mac: Option<&str>,
        new_name: Option<&str>,
        alias: Option<String>,
    ) -> PyResult<()> {
        let built =
            (|| Ok(Edit::SetLink(specs::name("name", name)?, specs::link_update(up, mtu, mac, new_name, alias)?)))();
        self.record(built)
    }

    /// ``ip link del NAME``.
    fn delete_link(&mut self, name: &str) -> PyResult<()> {
        self.record(specs::name("name", name).map(Edit::DeleteLink))
    }

    /// ``ip addr add ADDR/PREFIX dev DEV``.
    #[pyo3(signature = (dev, address, nodad=None))]
    fn add_address(&mut self, dev: &str, address: &str, nodad: Option<bool>) -> PyResult<()> {
        self.record(specs::address(dev, address, nodad).map(|(d, a)| Edit::AddAddress(d, a)))
    }

    /// ``ip addr del ADDR/PREFIX dev DEV``.
    fn delete_address(&mut self, dev: &str, address: &str) -> PyResult<()> {
        self.record(specs::address(dev, address, None).map(|(d, a)| Edit::DeleteAddress(d, a)))
    }

    /// ``ip route add DST [via GW] [dev DEV] [metric N]``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn add_route(&mut self, dst: &str, gateway: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> PyResult<()> {
        self.record(specs::route(dst, gateway, dev, metric).map(Edit::AddRoute))
    }

    /// ``ip route del ...``.
    #[pyo3(signature = (dst="default", gateway=None, dev=None, metric=None))]
    fn delete_route(
        &mut self,
        dst: &str,
        gateway: Option<&str>,
        dev: Option<&str>,
        metric: Option<u32>,
    ) -> PyResult<()> {
        self.record(specs::route(dst, gateway, dev, metric).map(Edit::DeleteRoute))
    }

    fn __len__(&self) -> usize {
        self.edits.len()
    }

    /// Sends every recorded change (the GIL released meanwhile) and empties
    /// the batch; returns how many were made. Stops after the first failing
    /// wave and raises that change's error; a change made of several
    /// requests that failed half-way is undone.
    fn run(&mut self, py: Python<'_>) -> PyResult<usize> {
        run_edits(py, self.nl.clone(), std::mem::take(&mut self.edits))
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
        format!("<vlanmac.Batch of {} changes in netns {}>", self.edits.len(), self.nl.netns())
    }
}

/// Sends `edits` through one core `Batch` (the GIL released meanwhile);
/// returns how many were made or raises the first failing change's error.
/// `Netlink`'s address and route methods are one-edit runs of this.
pub(crate) fn run_edits(py: Python<'_>, nl: Arc<Netlink>, edits: Vec<Edit>) -> PyResult<usize> {
    let n = edits.len();
    block(py, async move {
        let mut batch = Batch::new();
        for e in edits {
            batch.push(&nl, e);
        }
        batch.run().await.into_result()
    })?;
    Ok(n)
}
