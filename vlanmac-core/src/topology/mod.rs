//! The declarative model: read a topology file, validate it, plan the
//! changes against the kernel, apply them with rollback, verify, take them
//! down again. Each verb is a method of [`Topology`] taking [`Options`].

pub mod file;
pub mod marks;

pub(crate) mod apply;
mod cross_checks;
pub(crate) mod desired;
pub(crate) mod down;
pub(crate) mod ipam;
mod load;
pub(crate) mod model;
pub(crate) mod observe;
mod options;
pub(crate) mod places;
pub(crate) mod plan;
pub(crate) mod planner;
mod rollback;
mod text;
mod validate;
#[cfg(test)]
mod validate_tests;

pub use apply::{ApplyResult, EndpointAddress};
pub use down::DownResult;
pub use load::{from_file_struct, from_json, from_path, from_yaml, Format};
pub use model::*;
pub use options::{Options, Progress};
pub use plan::{Change, Plan, Sign};

pub use crate::lockfile::LOCK_DIR;
use crate::{error::Result, verify::VerifyReport};

impl Topology {
    /// Reads a topology file (`.yaml`, `.yml` or `.json`).
    pub fn from_path(path: &std::path::Path) -> Result<Topology> {
        from_path(path)
    }

    /// `vlanmac plan`: the changes `apply` would make; changes nothing.
    pub async fn plan(&self, opts: &Options) -> Result<Plan> {
        Ok(apply::plan_topology(self, opts).await?.0)
    }

    /// `vlanmac apply`: makes the kernel match, rolling back on failure.
    pub async fn apply(&self, opts: &Options) -> Result<ApplyResult> {
        apply::apply(self, opts).await
    }

    /// `vlanmac verify`: read-back, pings, hop counts and the router's
    /// neighbour table, checked against the topology.
    pub async fn verify(&self, opts: &Options) -> Result<VerifyReport> {
        crate::verify::verify(self, opts).await
    }

    /// `vlanmac down`: removes what this topology created, nothing else.
    pub async fn down(&self, opts: &Options) -> Result<DownResult> {
        down::down(self, opts).await
    }

    /// [`Topology::plan`], with the addresses each endpoint interface is to
    /// hold (IPAM resolved against what the kernel holds now), from the same
    /// read: what an adapter that attaches endpoints itself (Docker's
    /// `--ip`/`--ip6`) asks for. Changes nothing (an apply reports the same
    /// in [`ApplyResult::addresses`]).
    pub async fn plan_with_addresses(&self, opts: &Options) -> Result<(Plan, Vec<EndpointAddress>)> {
        apply::plan_topology(self, opts).await
    }
}
