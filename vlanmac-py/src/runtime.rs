//! One tokio runtime for the package. Every call releases the GIL while it
//! waits on the kernel or Docker, and no Rust panic ever reaches Python as
//! `PanicException`: it becomes a `vlanmac.Error`.

use std::{
    future::Future,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::OnceLock,
};

use pyo3::prelude::*;

use crate::errors;

fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vlanmac-py")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| errors::internal(&format!("cannot start the runtime: {e}")))
}

/// Runs `fut` to completion with the GIL released; panics become errors.
pub fn block<T, E, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Into<errors::AnyError> + Send,
{
    let rt = runtime()?;
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(|| rt.block_on(fut))));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, e.into())),
        Err(panic) => Err(errors::internal(&panic_text(&panic))),
    }
}

/// Runs `f` (no waiting) and turns a panic into an error.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(errors::internal(&panic_text(&p))))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
    format!("internal error (a Rust panic, please report it): {}", what.unwrap_or_else(|| "unknown".into()))
}
