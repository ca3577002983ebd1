//! The native side of `vlanmac.Topology`, the value: read and validated
//! from a file, YAML or JSON, named, rendered, serialized. Its verbs are in
//! `engine.rs`.

use pyo3::prelude::*;
use vlanmac_core::Error;
use vlanmac_topology::{self as topology, Topology};

use crate::runtime::block;

/// `v` as JSON.
pub fn json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot serialize a result: {e}")))
}

/// A validated topology. Built by `from_file`, `from_yaml`
/// or `from_json` (the Python `from_dict` passes JSON).
#[pyclass(module = "vlanmac._vlanmac", name = "_Topology", frozen)]
pub struct PyTopology {
    inner: Topology,
}

impl PyTopology {
    /// The validated topology.
    pub fn topology(&self) -> &Topology {
        &self.inner
    }
}

#[pymethods]
impl PyTopology {
    /// Reads a `.yaml`, `.yml` or `.json` file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: &str) -> PyResult<Self> {
        let p = path.to_string();
        let inner = block(py, async move { topology::from_path(p.as_ref()) })?;
        Ok(PyTopology { inner })
    }

    /// Parses YAML text; `name` names it when the text has no `name:`.
    #[staticmethod]
    #[pyo3(signature = (text, name="topology"))]
    fn from_yaml(py: Python<'_>, text: &str, name: &str) -> PyResult<Self> {
        let (t, n) = (text.to_string(), name.to_string());
        let inner = block(py, async move { topology::from_yaml(&t, &n) })?;
        Ok(PyTopology { inner })
    }

    /// Parses JSON text.
    #[staticmethod]
    #[pyo3(signature = (text, name="topology"))]
    fn from_json(py: Python<'_>, text: &str, name: &str) -> PyResult<Self> {
        let (t, n) = (text.to_string(), name.to_string());
        let inner = block(py, async move { topology::from_json(&t, &n) })?;
        Ok(PyTopology { inner })
    }

    /// The topology's name.
    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Whether the topology has Docker networks or container endpoints.
    #[getter]
    fn needs_docker(&self) -> bool {
        self.inner.runtime_needs().is_some()
    }

    /// `vlanmac render --format FORMAT`: the topology rendered (dot, svg,
    /// netplan, networkmanager, systemd-networkd, json, cni, multus,
    /// podman, cisco-router, cisco-switch).
    fn render(&self, format: &str) -> PyResult<String> {
        let f: topology::render::Format = format.parse().map_err(crate::errors::raise)?;
        topology::render::render(&self.inner, f).map_err(crate::errors::raise)
    }

    /// The validated topology as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.inner).map_err(crate::errors::raise)
    }
}
