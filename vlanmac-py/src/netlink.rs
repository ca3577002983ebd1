//! `vlanmac.Netlink`: a connection bound to one namespace, and its
//! read-back; its change operations are in `ops.rs`, shared with `Batch`.

use std::{collections::HashMap, sync::Arc};

use pyo3::prelude::*;
use vlanmac_core::{spec::SpecError, Netlink, NetnsRef};

use crate::{
    batch::{run_edits, PyBatch},
    readback::{PyLink, PyNeighbour, PyRoute},
    runtime::{block, guard},
    specs::name,
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
    /// Sends what an operation built (see `ops.rs`) as one batch, the
    /// handles it points into kept open meanwhile.
    pub(crate) fn send<T>(&self, py: Python<'_>, built: crate::batch::Built<T>) -> PyResult<T> {
        run_edits(py, self.nl()?, built.edits, built.keep)?;
        Ok(built.value)
    }
}
