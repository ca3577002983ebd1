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

    /// Applies: JSON `{"topology", "changed", "changes", "writes",
    /// "addresses", "leases"}` and text. Ctrl-C (`KeyboardInterrupt`) stops
    /// it before its next step; what it made is rolled back before the
    /// exception is raised. `dhcp_timeout`: seconds to wait for the DHCP
    /// leases (`vlanmac apply --dhcp-timeout`; default 10).
    #[pyo3(signature = (docker = None, dhcp_timeout = None))]
    fn apply(
        &self,
        py: Python<'_>,
        docker: Option<PyRef<'_, PyDocker>>,
        dhcp_timeout: Option<f64>,
    ) -> PyResult<Rendered> {
        let dhcp_timeout = match dhcp_timeout {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Some(std::time::Duration::from_secs_f64(s)),
            Some(s) => {
                let e =
                    vlanmac_core::spec::SpecError::new("dhcp_timeout", s, "is not a number of seconds in (0, 3600]");
                return Err(crate::errors::raise(vlanmac_core::Error::from(e)));
            }
        };
        let engine = self.engine(docker);
        block_interruptible(py, move |interrupt| async move {
            let res = engine.apply(&Options { interrupt, dhcp_timeout, ..Options::default() }).await?;
            Ok::<_, vlanmac_topology::Error>((json(&res)?, res.to_text(false)))
        })
    }

    /// `vlanmac apply FILE --confirm TIMEOUT`: the checkpoint, then the
    /// apply; returns (JSON of the apply, text, deadline in seconds since
    /// the epoch). Until `confirm` the change waits; nothing here rolls it
    /// back at the deadline (see docs/CONFIRM.md: the watchdog, or the
    /// next `vlanmac` command).
    #[pyo3(signature = (timeout, docker = None, dhcp_timeout = None))]
    fn apply_confirmed(
        &self,
        py: Python<'_>,
        timeout: f64,
        docker: Option<PyRef<'_, PyDocker>>,
        dhcp_timeout: Option<f64>,
    ) -> PyResult<(String, String, u64)> {
        let timeout = seconds("timeout", timeout, 86400.0)?;
        let dhcp_timeout = dhcp_timeout.map(|s| seconds("dhcp_timeout", s, 3600.0)).transpose()?;
        let engine = self.engine(docker);
        block_interruptible(py, move |interrupt| async move {
            let opts = Options { interrupt, dhcp_timeout, ..Options::default() };
            let confirm = vlanmac_topology::checkpoint::Confirm { timeout, previous: None };
            let p = engine.apply_confirmed(&opts, confirm).await?;
            Ok::<_, vlanmac_topology::Error>((json(&p.result)?, p.result.to_text(false), p.deadline))
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

/// `value` as a duration of at most `max` seconds, or an
/// `InvalidSpecError` naming `field`.
fn seconds(field: &str, value: f64, max: f64) -> PyResult<std::time::Duration> {
    if value.is_finite() && value > 0.0 && value <= max {
        return Ok(std::time::Duration::from_secs_f64(value));
    }
    let e = vlanmac_core::spec::SpecError::new(field, value, format!("is not a number of seconds in (0, {max}]"));
    Err(crate::errors::raise(vlanmac_core::Error::from(e)))
}

/// What a confirm or rollback came to, as JSON: `{"outcome":
/// "confirmed"|"rolled_back"|"already_settled", ...}`.
fn outcome_json(o: &vlanmac_topology::checkpoint::Outcome) -> PyResult<String> {
    use vlanmac_topology::checkpoint::Outcome;
    let v = match o {
        Outcome::Confirmed => serde_json::json!({"outcome": "confirmed"}),
        Outcome::RolledBack(r) => {
            serde_json::json!({"outcome": "rolled_back", "failed": r.failed, "previous_applied": r.previous_applied})
        }
        Outcome::AlreadySettled(state) => serde_json::json!({"outcome": "already_settled", "state": state}),
    };
    Ok(v.to_string())
}

/// `vlanmac confirm NAME`: JSON of the outcome.
#[pyfunction]
pub fn confirm_change(py: Python<'_>, name: String) -> PyResult<String> {
    let o = block(py, async move { vlanmac_topology::checkpoint::confirm(&name, "Python (vlanmac.confirm)").await })?;
    outcome_json(&o)
}

/// `vlanmac rollback NAME`: JSON of the outcome.
#[pyfunction]
pub fn rollback_change(py: Python<'_>, name: String) -> PyResult<String> {
    let o = block(py, async move { vlanmac_topology::checkpoint::rollback(&name, "Python (vlanmac.rollback)").await })?;
    outcome_json(&o)
}

/// Tries a probe (`ping ADDR [from NS]`, `tcp HOST:PORT`, `gateway`) once
/// within `timeout` seconds: `None` when it passes, else why not.
#[pyfunction]
#[pyo3(signature = (spec, timeout = 2.0))]
pub fn check_probe(py: Python<'_>, spec: &str, timeout: f64) -> PyResult<Option<String>> {
    let probe: vlanmac_topology::verify::Probe = spec.parse().map_err(crate::errors::raise)?;
    let timeout = seconds("timeout", timeout, 3600.0)?;
    block(py, async move { Ok::<_, vlanmac_topology::Error>(probe.check(timeout).await.err()) })
}
