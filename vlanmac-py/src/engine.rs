//! The verbs of `vlanmac.Topology`: each goes through vlanmac-topology's
//! `Engine` with Docker as its container runtime (opened only for
//! topologies with containers) and returns its result as JSON (wrapped by
//! the Python side in `Plan`, `ApplyResult`, `VerifyReport`, `DownResult`)
//! with the result's own text rendering (their `str()`).

use pyo3::prelude::*;
use vlanmac_docker::Docker;
use vlanmac_topology::{verify::CheckPlan, Engine, Options};

use crate::{
    docker::PyDocker,
    runtime::{block, block_interruptible},
    topology::{json, PyTopology},
};

/// JSON and text of a result.
type Rendered = (String, String);

impl PyTopology {
    /// The engine of a verb: Docker through `docker` when given, else
    /// `$DOCKER_HOST` (when the topology needs Docker at all).
    fn engine(&self, docker: Option<PyRef<'_, PyDocker>>) -> Engine<Docker> {
        let runtime = match docker {
            Some(d) => Docker::with(d.adapter().clone()),
            None => Docker::from_env(),
        };
        Engine::with_runtime(self.topology().clone(), runtime)
    }
}

#[pymethods]
impl PyTopology {
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
