#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! The facade: it re-exports [`vlanmac_core`] (also as [`core`]) and
//! [`vlanmac_docker`] (as [`docker`]).

pub use vlanmac_core as core;
pub use vlanmac_core::*;
#[cfg(feature = "docker")]
pub use vlanmac_docker as docker;
