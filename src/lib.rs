//! # vlanmac
//!
//! Put network namespaces and containers on 802.1Q VLANs through macvlan:
//! typed, idempotent, fast. This facade re-exports the workspace's crates.
//!
//! * [`core`] — the typed async rtnetlink API (specs, namespaces, links,
//!   addresses, routes, neighbours, read-back, errors).
//! * [`docker`] — the Docker adapter.

pub use vlanmac_core as core;
pub use vlanmac_core::*;
pub use vlanmac_docker as docker;
