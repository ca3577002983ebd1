//! [`Options`]: how `plan`, `apply`, `verify` and `down` run — one type for
//! all four — and [`CheckPlan`], which probes `verify` sends.

use std::sync::Arc;

use serde::Serialize;

use super::plan::Change;
use vlanmac_core::{netlink::Shared, Interrupt};

/// Called before each step of an apply: (index from 1, total, the change).
pub type Progress = Arc<dyn Fn(usize, usize, &Change) + Send + Sync>;

/// How an operation on a topology runs. `Options::default()` is what a
/// caller normally wants; the fields are for progress display, Ctrl-C
/// handling and tests.
#[derive(Clone, Default)]
pub struct Options {
    /// Request counters shared by every handle of the operation, and the
    /// fault-injection seam tests use ([`vlanmac_core::FaultInjector`]).
    pub shared: Shared,
    /// Called before each step of an apply.
    pub progress: Option<Progress>,
    /// Stops an apply before its next step and rolls back what it made
    /// (see [`vlanmac_core::Interrupt`]); the other operations ignore it.
    pub interrupt: Interrupt,
    /// Which probes `verify` sends: [`CheckPlan::Linear`] (the default) or
    /// the full mesh; the other operations ignore it.
    pub check_plan: CheckPlan,
    /// `down` only reports what it would remove and changes nothing
    /// (`vlanmac down --check`); the other operations ignore it (`plan` is
    /// apply's dry run).
    pub dry_run: bool,
    /// How long `apply` waits for the DHCP leases of `ipv4: dhcp`
    /// interfaces (all asked for at once); `None`: 10 s. An interface
    /// without a lease by then fails the apply, rolled back.
    pub dhcp_timeout: Option<std::time::Duration>,
    /// A confirmed apply: the checkpoint is written after planning,
    /// before the first change ([`crate::checkpoint`]).
    pub confirm: Option<crate::checkpoint_file::Confirm>,
}

impl Options {
    /// Default options sharing `shared` (its counters and fault injector).
    pub fn with_shared(shared: Shared) -> Options {
        Options { shared, ..Options::default() }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("shared", &self.shared)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("interrupt", &self.interrupt)
            .field("check_plan", &self.check_plan)
            .field("dry_run", &self.dry_run)
            .field("dhcp_timeout", &self.dhcp_timeout)
            .field("confirm", &self.confirm)
            .finish()
    }
}

/// Which probes `verify` sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckPlan {
    /// Grows linearly with the endpoints (`vlanmac verify`): each endpoint
    /// pings its gateway on each network and family and the next endpoint
    /// of each of its networks (a ring: every endpoint is source and
    /// target, with a hop count of 1); one hop-count probe through the
    /// router per ordered pair of networks; a host shim pings every
    /// endpoint of its network.
    #[default]
    Linear,
    /// Every endpoint pings every other endpoint's addresses (with hop
    /// counts) and every gateway (`vlanmac verify --mesh`): grows with the
    /// square of the endpoints.
    Mesh,
}

impl std::fmt::Display for CheckPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckPlan::Linear => "linear",
            CheckPlan::Mesh => "mesh",
        })
    }
}
