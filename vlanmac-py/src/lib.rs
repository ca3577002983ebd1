//! # vlanmac-py
//!
//! The native module `vlanmac._vlanmac` behind the Python package
//! `vlanmac`: `Netlink`, read-back objects, namespace
//! helpers, the topology engine and the Docker adapter. Every call releases
//! the GIL while it waits; no Rust panic reaches Python as `PanicException`.

mod batch;
mod docker;
mod engine;
mod errors;
mod netlink;
mod ops;
mod readback;
mod runtime;
mod specs;
mod topology;

use pyo3::prelude::*;

use crate::runtime::block;

fn netns_name(s: &str) -> Result<vlanmac_core::spec::NetnsName, vlanmac_core::spec::SpecError> {
    vlanmac_core::spec::NetnsName::new(s)
}

/// `ip netns add NAME`.
#[pyfunction]
fn create_netns(py: Python<'_>, name: &str) -> PyResult<()> {
    let n = netns_name(name).map_err(errors::raise)?;
    block(py, async move { vlanmac_core::netns::create(&n).await })
}

/// `ip netns del NAME`.
#[pyfunction]
fn delete_netns(py: Python<'_>, name: &str) -> PyResult<()> {
    let n = netns_name(name).map_err(errors::raise)?;
    block(py, async move { vlanmac_core::netns::delete(&n).await })
}

/// `ip netns list`: the named namespaces, sorted.
#[pyfunction]
fn list_netns(py: Python<'_>) -> PyResult<Vec<String>> {
    let names = block(py, async { vlanmac_core::netns::list() })?;
    Ok(names.into_iter().map(|n| n.to_string()).collect())
}

/// Whether the named namespace exists.
#[pyfunction]
fn netns_exists(name: &str) -> PyResult<bool> {
    let n = netns_name(name).map_err(errors::raise)?;
    Ok(vlanmac_core::netns::exists(&n))
}

/// For the test suite: panics inside Rust, which must surface as
/// `vlanmac.Error`, never as `PanicException`.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, blocking: bool) -> PyResult<()> {
    if blocking {
        block(py, async move {
            if blocking {
                panic!("a deliberate panic inside a blocking call");
            }
            Ok::<(), vlanmac_core::Error>(())
        })
    } else {
        runtime::guard(|| panic!("a deliberate panic outside a blocking call"))
    }
}

#[pymodule]
fn _vlanmac(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<netlink::PyNetlink>()?;
    m.add_class::<batch::PyBatch>()?;
    m.add_class::<readback::PyLink>()?;
    m.add_class::<readback::PyRoute>()?;
    m.add_class::<readback::PyNeighbour>()?;
    m.add_class::<topology::PyTopology>()?;
    m.add_class::<docker::PyDocker>()?;
    m.add_function(wrap_pyfunction!(create_netns, m)?)?;
    m.add_function(wrap_pyfunction!(engine::confirm_change, m)?)?;
    m.add_function(wrap_pyfunction!(engine::rollback_change, m)?)?;
    m.add_function(wrap_pyfunction!(engine::check_probe, m)?)?;
    m.add_function(wrap_pyfunction!(delete_netns, m)?)?;
    m.add_function(wrap_pyfunction!(list_netns, m)?)?;
    m.add_function(wrap_pyfunction!(netns_exists, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    // The one version: the workspace's Cargo.toml (maturin writes the same
    // one into the package metadata).
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
