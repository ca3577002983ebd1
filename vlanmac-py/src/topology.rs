//! The native side of `vlanmac.Topology`: results cross as JSON, which the
//! Python side wraps in `Plan`, `ApplyResult`, `VerifyReport`.

use pyo3::prelude::*;
use vlanmac_core::{
    topology::{self, apply::ApplyOptions, Topology},
    verify, Shared,
};
use vlanmac_docker::{topology as dtopo, DockerAdapter};

use crate::{
    errors::AnyError,
    runtime::{block, block_interruptible},
};

fn json<T: serde::Serialize>(v: &T) -> Result<String, AnyError> {
    serde_json::to_string(v).map_err(|e| AnyError::Other(format!("cannot serialize: {e}")))
}

/// A validated topology. Built by `from_file`, `from_yaml`
/// or `from_json` (the Python `from_dict` passes JSON).
#[pyclass(module = "vlanmac._vlanmac", name = "_Topology", frozen)]
pub struct PyTopology {
    inner: Topology,
}

/// The Docker engine, for topologies that need one; first of all, whether
/// the caller may do `verb` at all (before Docker or the kernel is asked).
async fn with_docker(t: &Topology, verb: &str) -> Result<Option<DockerAdapter>, AnyError> {
    vlanmac_core::privileges::require_admin(&format!("{verb} topology {}", t.name))?;
    Ok(if dtopo::needs_docker(t) { Some(DockerAdapter::open().await?) } else { None })
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

    /// The validated topology as JSON.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        json(&self.inner).map_err(|e| crate::errors::to_py(py, e))
    }

    /// The plan as JSON: `{"topology", "changes": [...], "docker": [...]}`.
    fn plan_json(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.inner.clone();
        block(py, async move {
            let shared = Shared::default();
            let (plan, docker) = match with_docker(&t, "plan").await? {
                Some(d) => dtopo::plan(&t, &d, &shared).await?,
                None => (t.plan(&shared).await?, Vec::new()),
            };
            let mut v = serde_json::to_value(&plan).map_err(|e| AnyError::Other(e.to_string()))?;
            v["docker"] = serde_json::json!(docker);
            json(&v)
        })
    }

    /// Applies; the result as JSON `{"topology", "changed", "changes", "writes", ...}`.
    /// Ctrl-C (`KeyboardInterrupt`) stops it before its next step; what it
    /// made is rolled back before the exception is raised.
    fn apply_json(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.inner.clone();
        block_interruptible(py, move |interrupt| async move {
            let opts = ApplyOptions { interrupt, ..ApplyOptions::default() };
            match with_docker(&t, "apply").await? {
                Some(d) => {
                    let r = dtopo::apply(&t, &d, &opts).await?;
                    let mut v = serde_json::to_value(&r.core).map_err(|e| AnyError::Other(e.to_string()))?;
                    v["changed"] = serde_json::json!(r.changed());
                    v["docker"] = serde_json::json!(r.connected);
                    json(&v)
                }
                None => json(&t.apply(&opts).await?),
            }
        })
    }

    /// Verifies; the report as JSON `{"topology", "checks": [...]}`.
    fn verify_json(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.inner.clone();
        block(py, async move {
            let shared = Shared::default();
            let report = match with_docker(&t, "verify").await? {
                Some(d) => dtopo::verify(&t, &d, &shared).await?,
                None => verify::verify(&t, &shared).await?,
            };
            json(&report)
        })
    }

    /// Takes down; the result as JSON `{"topology", "removed": [...]}`.
    fn down_json(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.inner.clone();
        block(py, async move {
            let shared = Shared::default();
            match with_docker(&t, "take down").await? {
                Some(d) => {
                    let (mut r, lines) = dtopo::down(&t, &d, &shared).await?;
                    r.removed.splice(0..0, lines);
                    json(&r)
                }
                None => json(&t.down(&shared).await?),
            }
        })
    }
}
