//! Rust errors → the Python exceptions of `vlanmac._errors`, each carrying
//! the Rust error's fields as typed attributes. Every error of the binding
//! is a [`vlanmac_topology::Error`] (which holds vlanmac-core's, and
//! Docker's as the runtime's); [`raise`] is the one conversion.

use pyo3::{exceptions::PyRuntimeError, prelude::*, types::PyDict, IntoPyObjectExt};
use vlanmac_core::{Error as CoreError, KernelError};
use vlanmac_docker::Error as DockerError;
use vlanmac_topology::Error;

/// A field of an exception: its name and typed value.
type Field = (&'static str, Value);

/// A field's value as Python gets it.
enum Value {
    Str(Option<String>),
    Int(i64),
    List(Vec<String>),
}

fn s(v: &str) -> Value {
    Value::Str(Some(v.to_string()))
}

fn kernel_fields(k: Option<&KernelError>) -> Vec<Field> {
    let Some(k) = k else { return Vec::new() };
    vec![
        ("op", s(&k.op)),
        ("errno", Value::Int(k.errno.into())),
        ("extack", Value::Str(k.extack.clone())),
        ("hint", Value::Str(k.hint.clone())),
    ]
}

fn spec_fields(e: &vlanmac_core::spec::SpecError) -> Vec<Field> {
    vec![("field", s(&e.field)), ("value", s(&e.value)), ("rule", s(&e.rule))]
}

/// The exception class and fields of a core error.
fn core_class(e: &CoreError) -> (&'static str, Vec<Field>) {
    let kernel = kernel_fields(e.kernel());
    if let Some(d) = vlanmac_topology::DhcpFailure::of(e) {
        let mut fields = vec![("interface", s(&d.interface)), ("reason", s(&d.reason))];
        if let CoreError::Apply { step, .. } = e {
            fields.push(("step", s(step)));
        }
        return ("DhcpError", fields);
    }
    match e {
        CoreError::InvalidSpec(x) => ("InvalidSpecError", spec_fields(x)),
        CoreError::AlreadyExists(_) => ("AlreadyExistsError", kernel),
        CoreError::NotFound(_) => ("NotFoundError", kernel),
        CoreError::PermissionDenied(_) => ("PermissionDeniedError", kernel),
        CoreError::KernelUnsupported(_) => ("KernelUnsupportedError", kernel),
        CoreError::Conflict(_) => ("ConflictError", kernel),
        CoreError::NotAttempted { count } => ("Error", vec![("count", Value::Int(*count as i64))]),
        CoreError::Interrupted { before } => ("Error", vec![("step", s(before))]),
        CoreError::Apply { step, source, .. } => {
            let (class, mut fields) = core_class(source);
            fields.retain(|(k, _)| *k != "step");
            fields.push(("step", s(step)));
            (class, fields)
        }
        _ => ("Error", kernel),
    }
}

/// The exception class and fields of a Docker error.
fn docker_class(e: &DockerError) -> (&'static str, Vec<Field>) {
    match e {
        DockerError::Core(c) => core_class(c),
        DockerError::InvalidSpec(x) => ("InvalidSpecError", spec_fields(x)),
        DockerError::Conflict { network, differences } => {
            ("ConflictError", vec![("network", s(network)), ("differences", Value::List(differences.clone()))])
        }
        DockerError::NotFound { what } => ("NotFoundError", vec![("what", s(what))]),
        DockerError::Unreachable { socket, .. } => ("DockerError", vec![("socket", s(socket))]),
        DockerError::Docker { status, message, op } => (
            "DockerError",
            vec![("status", Value::Int((*status).into())), ("daemon_message", s(message)), ("op", s(op))],
        ),
        _ => ("DockerError", Vec::new()),
    }
}

/// The exception class and fields of any error of the binding.
fn class(e: &Error) -> (&'static str, Vec<Field>) {
    match e {
        Error::Core(c) => core_class(c),
        Error::Runtime { source, .. } => match source.downcast_ref::<DockerError>() {
            Some(d) => docker_class(d),
            None => ("DockerError", Vec::new()),
        },
        Error::NetworkConflict { network, differences, .. } => {
            ("ConflictError", vec![("network", s(network)), ("differences", Value::List(differences.clone()))])
        }
        Error::ContainerNotRunning { container, .. } => ("DockerError", vec![("what", s(container))]),
        Error::Dhcp { interface, reason } => ("DhcpError", vec![("interface", s(interface)), ("reason", s(reason))]),
        _ => ("Error", Vec::new()),
    }
}

/// The Python exception for any vlanmac error (core's, Docker's, or
/// invalid input): `raise(e)` wherever a Rust error meets Python.
pub fn raise(e: impl Into<Error>) -> PyErr {
    let e = e.into();
    let (class, fields) = class(&e);
    Python::attach(|py| build(py, class, &e.to_string(), &fields).unwrap_or_else(|err| err))
}

fn build(py: Python<'_>, class: &str, message: &str, fields: &[Field]) -> PyResult<PyErr> {
    let cls = py.import("vlanmac._errors")?.getattr(class)?;
    let kwargs = PyDict::new(py);
    for (k, v) in fields {
        match v {
            Value::Str(x) => kwargs.set_item(k, x.clone())?,
            Value::Int(x) => kwargs.set_item(k, *x)?,
            Value::List(x) => kwargs.set_item(k, x.clone().into_py_any(py)?)?,
        }
    }
    Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
}

/// A `vlanmac.Error` for internal failures (panics, runtime start-up).
pub fn internal(message: &str) -> PyErr {
    Python::attach(|py| {
        build(py, "Error", message, &[]).unwrap_or_else(|_| PyRuntimeError::new_err(message.to_string()))
    })
}
