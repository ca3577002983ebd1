#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! The facade: it re-exports [`vlanmac_core`] (also as [`core`]: the
//! netlink API), [`vlanmac_topology`] (as [`topology`], with its
//! [`render`] and [`verify`] modules also at the top: the declarative
//! engine) and [`vlanmac_docker`] (as [`docker`]: Docker as a container
//! runtime).

pub use vlanmac_core as core;
pub use vlanmac_core::*;
#[cfg(feature = "docker")]
pub use vlanmac_docker as docker;
pub use vlanmac_topology as topology;
pub use vlanmac_topology::{render, verify};

/// docs/AGENT.md, whose Rust example is compiled as a doctest.
#[cfg(all(doctest, feature = "docker"))]
#[doc = include_str!("../docs/AGENT.md")]
struct AgentDoc;

/// docs/DHCP.md, whose Rust example is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/DHCP.md")]
struct DhcpDoc;

/// docs/CONFIRM.md, whose Rust example is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/CONFIRM.md")]
struct ConfirmDoc;
