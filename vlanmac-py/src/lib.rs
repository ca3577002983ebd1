//! # vlanmac-py
//!
//! Python bindings for vlanmac (pyo3 + maturin) land with the Python issue;
//! this crate re-exports the core so the workspace builds as one.

pub use vlanmac_core as core;
