//! `vlanmac.Batch`: changes to one namespace recorded (and validated) in
//! Python, then sent together through vlanmac-core's `Batch`: packed many
//! to a datagram, in waves that wait only for what they depend on.

use std::sync::Arc;

use pyo3::prelude::*;
use vlanmac_core::{Batch, Edit, Netlink};

use crate::runtime::block;

/// What an operation builds: the changes, the handles of other namespaces
/// they point into (kept open until they are sent), and what the method
/// returns.
pub struct Built<T> {
    /// The changes, in order.
    pub edits: Vec<Edit>,
    /// Namespaces a change moves or makes a link into.
    pub keep: Vec<Arc<Netlink>>,
    /// The method's return value.
    pub value: T,
}

/// Changes to one namespace, sent together by ``run()`` (or when a ``with``
/// block ends without an exception). Each method validates its arguments at
/// once (``InvalidSpecError`` naming the argument); nothing reaches the
/// kernel before ``run()``.
///
/// >>> with vlanmac.Netlink(netns="lab") as nl:             # doctest: +SKIP
/// ...     with nl.batch() as b:
/// ...         for i in range(1000):
/// ...             b.add_macvlan("eth0", f"mv{i}", ipv6_addrgen=False)
/// ...             b.add_address(f"mv{i}", f"10.1.{i // 250}.{i % 250 + 1}/32")
/// ...             b.set_link(f"mv{i}", up=True)
#[pyclass(module = "vlanmac", name = "Batch")]
pub struct PyBatch {
    nl: Arc<Netlink>,
    edits: Vec<Edit>,
    /// Namespaces the recorded changes point into, open until they are sent.
    keep: Vec<Arc<Netlink>>,
}

impl PyBatch {
    pub fn new(nl: Arc<Netlink>) -> Self {
        PyBatch { nl, edits: Vec::new(), keep: Vec::new() }
    }

    /// Records what an operation built (see `ops.rs`); returns its value.
    pub(crate) fn record<T>(&mut self, built: Built<T>) -> T {
        self.edits.extend(built.edits);
        self.keep.extend(built.keep);
        built.value
    }
}

#[pymethods]
impl PyBatch {
    fn __len__(&self) -> usize {
        self.edits.len()
    }

    /// Sends every recorded change (the GIL released meanwhile) and empties
    /// the batch; returns how many were made. Stops after the first failing
    /// wave and raises that change's error; a change made of several
    /// requests that failed half-way is undone.
    fn run(&mut self, py: Python<'_>) -> PyResult<usize> {
        run_edits(py, self.nl.clone(), std::mem::take(&mut self.edits), std::mem::take(&mut self.keep))
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Runs the batch unless the block raised.
    #[pyo3(signature = (exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none_or(|t| t.is_none()) {
            self.run(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("<vlanmac.Batch of {} changes in netns {}>", self.edits.len(), self.nl.netns())
    }
}

/// Sends `edits` through one core `Batch` (the GIL released meanwhile),
/// with the handles in `keep` open until it is done; returns how many were
/// made or raises the first failing change's error. `Netlink`'s change
/// operations are runs of this.
pub(crate) fn run_edits(
    py: Python<'_>,
    nl: Arc<Netlink>,
    edits: Vec<Edit>,
    keep: Vec<Arc<Netlink>>,
) -> PyResult<usize> {
    let n = edits.len();
    block(py, async move {
        let _keep = keep;
        let mut batch = Batch::new();
        for e in edits {
            batch.push(&nl, e);
        }
        batch.run().await.into_result()
    })?;
    Ok(n)
}
