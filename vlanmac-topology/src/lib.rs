//! # vlanmac-topology
//!
//! The declarative model on vlanmac-core: read a topology file, validate
//! it, plan the changes against the kernel, apply them with rollback,
//! verify, take them down again, render it for what lives outside the
//! host. [`Engine`] runs the verbs, with a [`ContainerRuntime`] under it
//! for topologies with containers; each verb is also a method of
//! [`Topology`] taking [`Options`] (without a runtime).
#![deny(missing_docs)]

#[cfg(feature = "agent")]
pub mod agent;
pub mod dhcp;
mod engine;
mod error;
pub mod file;
pub mod render;
pub mod runtime;
pub mod verify;

pub(crate) mod apply;
pub mod checkpoint;
mod checkpoint_file;
pub mod confirm_spec;
mod cross_checks;
pub(crate) mod desired;
pub(crate) mod down;
pub(crate) mod ipam;
pub mod lab_server;
pub mod leases;
mod load;
pub(crate) mod model;
pub(crate) mod observe;
mod options;
pub(crate) mod places;
pub(crate) mod plan;
pub(crate) mod planner;
pub(crate) mod reading;
mod rollback;
mod state_file;
mod text;
mod validate;
#[cfg(test)]
mod validate_tests;

pub use apply::ApplyResult;
pub use down::DownResult;
pub use engine::{Engine, Pending};
pub use error::{DhcpFailure, Error, Result};
pub use leases::LeaseStatus;
pub use load::{from_file_struct, from_json, from_path, from_yaml, Format};
pub use model::*;
pub use options::{CheckPlan, Options, Progress};
pub use plan::{Change, Plan, Sign};
pub use reading::EndpointAddress;
pub use runtime::{Connection, ContainerRuntime, NetworkState, NoRuntime};

use crate::verify::VerifyReport;
pub use vlanmac_core::lockfile::LOCK_DIR;
/// The ownership marks (vlanmac-core's), which topologies put on what they make.
pub use vlanmac_core::marks;
use vlanmac_core::privileges::require_admin;

impl Topology {
    /// Reads a topology file (`.yaml`, `.yml` or `.json`).
    pub fn from_path(path: &std::path::Path) -> vlanmac_core::Result<Topology> {
        from_path(path)
    }

    /// `vlanmac plan`: the changes `apply` would make; changes nothing.
    /// Checks privileges first, as each verb here does; the [`Engine`]
    /// runs the same verbs with a container runtime under them.
    pub async fn plan(&self, opts: &Options) -> vlanmac_core::Result<Plan> {
        require_admin(&format!("plan topology {}", self.name))?;
        Ok(reading::plan_topology(self, &opts.shared).await?.0)
    }

    /// `vlanmac apply`: makes the kernel match, rolling back on failure.
    pub async fn apply(&self, opts: &Options) -> vlanmac_core::Result<ApplyResult> {
        require_admin(&format!("apply topology {}", self.name))?;
        apply::apply(self, opts).await
    }

    /// `vlanmac verify`: read-back, pings, hop counts and the router's
    /// neighbour table, checked against the topology.
    pub async fn verify(&self, opts: &Options) -> vlanmac_core::Result<VerifyReport> {
        require_admin(&format!("verify topology {}", self.name))?;
        verify::verify(self, reading::observe_for_verify(self, &opts.shared).await?, opts).await
    }

    /// `vlanmac down`: removes what this topology created, nothing else.
    pub async fn down(&self, opts: &Options) -> vlanmac_core::Result<DownResult> {
        require_admin(&format!("take down topology {}", self.name))?;
        down::down(self, opts).await
    }

    /// [`Topology::plan`], with the addresses each endpoint interface is to
    /// hold (IPAM resolved against what the kernel holds now), from the same
    /// read. Changes nothing (an apply reports the same in
    /// [`ApplyResult::addresses`]).
    pub async fn plan_with_addresses(&self, opts: &Options) -> vlanmac_core::Result<(Plan, Vec<EndpointAddress>)> {
        require_admin(&format!("plan topology {}", self.name))?;
        reading::plan_topology(self, &opts.shared).await
    }

    /// How many checks `verify` makes of this topology with `plan` (the
    /// number its report's first line gives), worked out without the
    /// kernel: the same checks, made against a kernel that holds nothing.
    pub fn check_count(&self, plan: CheckPlan) -> vlanmac_core::Result<usize> {
        let opts = Options { check_plan: plan, ..Options::default() };
        let report = futures::executor::block_on(verify::verify(self, reading::unobserved(self)?, &opts))?;
        Ok(report.checks.len())
    }

    /// What the topology needs a container runtime for (`container
    /// endpoints`, `docker networks`, or both), if anything.
    pub fn runtime_needs(&self) -> Option<String> {
        let containers = self.endpoints.iter().any(|e| matches!(e.netns, EndpointNs::Container(_)));
        let networks = self.networks.iter().any(|n| n.docker);
        match (containers, networks) {
            (false, false) => None,
            (true, false) => Some("container endpoints".into()),
            (false, true) => Some("docker networks".into()),
            (true, true) => Some("container endpoints and docker networks".into()),
        }
    }
}

/// The crate's README.md, whose example is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
