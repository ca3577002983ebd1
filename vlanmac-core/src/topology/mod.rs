//! The declarative model: read a topology file, validate it,
//! plan the changes against the kernel, apply them with rollback, take them
//! down again.

pub mod file;
pub mod ipam;
mod load;
pub mod model;
mod validate;
#[cfg(test)]
mod validate_tests;

pub use load::{from_file_struct, from_json, from_path, from_yaml, Format};
pub use model::*;
pub mod apply;
pub mod desired;
pub mod down;
pub use crate::lockfile::LOCK_DIR;
pub mod marks;
pub mod observe;
pub mod places;
pub mod plan;

use crate::{error::Result, netlink::Shared};

impl Topology {
    /// Reads a topology file (`.yaml`, `.yml` or `.json`).
    pub fn from_path(path: &std::path::Path) -> Result<Topology> {
        from_path(path)
    }

    /// `vlanmac plan`: the changes `apply` would make; changes nothing.
    pub async fn plan(&self, shared: &Shared) -> Result<plan::Plan> {
        apply::plan_topology(self, shared).await
    }

    /// `vlanmac apply`: makes the kernel match, rolling back on failure.
    pub async fn apply(&self, opts: &apply::ApplyOptions) -> Result<apply::ApplyResult> {
        apply::apply(self, opts).await
    }

    /// `vlanmac down`: removes what this topology created, nothing else.
    pub async fn down(&self, shared: &Shared) -> Result<down::DownResult> {
        down::down(self, shared).await
    }
}
