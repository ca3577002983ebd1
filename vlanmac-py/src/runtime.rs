//! One tokio runtime for the package. Every call releases the GIL while it
//! waits on the kernel or Docker, and no Rust panic ever reaches Python as
//! `PanicException`: it becomes a `vlanmac.Error`.

use std::{
    future::Future,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::OnceLock,
    time::Duration,
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
    E: Into<vlanmac_topology::Error> + Send,
{
    let rt = runtime()?;
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(|| rt.block_on(fut))));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::raise(e)),
        Err(panic) => Err(errors::internal(&panic_text(&panic))),
    }
}

/// How often a wait looks at Python's signal handlers (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs the future `make(interrupt)` builds to completion, like [`block`],
/// and looks at Python's signal handlers every 50 ms while it waits. When a
/// handler raises (Ctrl-C: `KeyboardInterrupt`), `interrupt` is triggered,
/// the future is still awaited (an apply rolls back what it made), and then
/// the handler's exception is raised.
pub fn block_interruptible<T, E, F>(py: Python<'_>, make: impl FnOnce(vlanmac_core::Interrupt) -> F) -> PyResult<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<vlanmac_topology::Error> + Send + 'static,
{
    let rt = runtime()?;
    let interrupt = vlanmac_core::Interrupt::new();
    let mut task = rt.spawn(make(interrupt.clone()));
    let mut raised: Option<PyErr> = None;
    let joined = loop {
        let waited = py.detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_POLL, &mut task).await }));
        match waited {
            Ok(joined) => break joined,
            Err(_) if raised.is_none() => {
                if let Err(e) = py.check_signals() {
                    interrupt.trigger();
                    raised = Some(e);
                }
            }
            Err(_) => {}
        }
    };
    if let Some(e) = raised {
        return Err(e);
    }
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::raise(e)),
        Err(join) => Err(errors::internal(&match join.try_into_panic() {
            Ok(panic) => panic_text(&panic),
            Err(e) => format!("internal error: {e}"),
        })),
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
