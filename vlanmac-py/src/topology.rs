//! The native side of `vlanmac.Topology`: each verb goes through
//! vlanmac-topology's `Engine` with Docker as its container runtime (opened
//! only for topologies with containers) and returns its result as JSON
//! (wrapped by the Python side in `Plan`, `ApplyResult`, `VerifyReport`,
//! `DownResult`) with the result's own text rendering (their `str()`).

use pyo3::prelude::*;
use vlanmac_core::Error;
use vlanmac_docker::Docker;
use vlanmac_topology::{self as topology, verify::CheckPlan, Engine, Options, Topology};

use crate::{
    docker::PyDocker,
    runtime::{block, block_interruptible},
};

/// JSON and text of a result.
type Rendered = (String, String);

fn json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
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

    /// The engine of a verb: Docker through `docker` when given, else
    /// `$DOCKER_HOST` (when the topology needs Docker at all).
    fn engine(&self, docker: Option<PyRef<'_, PyDocker>>) -> Engine<Docker> {
        let runtime = match docker {
            Some(d) => Docker::with(d.adapter().clone()),
            None => Docker::from_env(),
        };
        Engine::with_runtime(self.inner.clone(), runtime)
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
    /// cisco-router, cisco-switch).
    fn render(&self, format: &str) -> PyResult<String> {
        let f: topology::render::Format = format.parse().map_err(crate::errors::raise)?;
        topology::render::render(&self.inner, f).map_err(crate::errors::raise)
    }

    /// The validated topology as JSON.
    fn to_json(&self) -> PyResult<String> {
        json(&self.inner).map_err(crate::errors::raise)
    }

    /// The plan: JSON `{"topology", "changes": [...]}` (Docker's rows
    /// among them) and text.
    #[pyo3(signature = (docker = None))]
    fn plan(&self, py: Python<'_>, docker: Option<PyRef<'_, PyDocker>>) -> PyResult<Rendered> {
        let engine = self.engine(docker);
        block(py, async move {
            let plan = engine.plan(&Options::default()).await?;
            Ok::<_, vlanmac_topology::Error>((json(&plan)?, plan.to_text(false)))
        })
    }

    /// Applies: JSON `{"topology", "changed", "changes", "writes"}` and
    /// text. Ctrl-C (`KeyboardInterrupt`) stops it before its next step;
    /// what it made is rolled back before the exception is raised.
    #[pyo3(signature = (docker = None))]
    fn apply(&self, py: Python<'_>, docker: Option<PyRef<'_, PyDocker>>) -> PyResult<Rendered> {
        let engine = self.engine(docker);
        block_interruptible(py, move |interrupt| async move {
            let res = engine.apply(&Options { interrupt, ..Options::default() }).await?;
            Ok::<_, vlanmac_topology::Error>((json(&res)?, res.to_text(false)))
        })
    }

    /// Verifies (the full mesh with `mesh`, else the linear plan): JSON
    /// `{"topology", "plan", "checks": [...]}` and text.
    #[pyo3(signature = (mesh = false, docker = None))]
    fn verify(&self, py: Python<'_>, mesh: bool, docker: Option<PyRef<'_, PyDocker>>) -> PyResult<Rendered> {
        let engine = self.engine(docker);
        let check_plan = if mesh { CheckPlan::Mesh } else { CheckPlan::Linear };
        block(py, async move {
            let report = engine.verify(&Options { check_plan, ..Options::default() }).await?;
            Ok::<_, vlanmac_topology::Error>((json(&report)?, report.to_string()))
        })
    }

    /// Takes down (with `check`, only lists what it would remove): JSON
    /// `{"topology", "removed": [...], "dry_run"}` and text.
    #[pyo3(signature = (check = false, docker = None))]
    fn down(&self, py: Python<'_>, check: bool, docker: Option<PyRef<'_, PyDocker>>) -> PyResult<Rendered> {
        let engine = self.engine(docker);
        block(py, async move {
            let res = engine.down(&Options { dry_run: check, ..Options::default() }).await?;
            Ok::<_, vlanmac_topology::Error>((json(&res)?, res.to_text()))
        })
    }
}
