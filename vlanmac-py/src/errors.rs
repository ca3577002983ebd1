//! Rust errors → the Python exceptions of `vlanmac._errors`,
//! each carrying the Rust error's fields as attributes.

use pyo3::{exceptions::PyRuntimeError, prelude::*, types::PyDict};
use vlanmac_core::Error as CoreError;
use vlanmac_docker::Error as DockerError;

/// Either crate's error.
pub enum AnyError {
    Core(CoreError),
    Docker(DockerError),
    Other(String),
}

impl From<CoreError> for AnyError {
    fn from(e: CoreError) -> Self {
        AnyError::Core(e)
    }
}
impl From<DockerError> for AnyError {
    fn from(e: DockerError) -> Self {
        AnyError::Docker(e)
    }
}
impl From<vlanmac_core::spec::SpecError> for AnyError {
    fn from(e: vlanmac_core::spec::SpecError) -> Self {
        AnyError::Core(CoreError::InvalidSpec(e))
    }
}
impl From<String> for AnyError {
    fn from(e: String) -> Self {
        AnyError::Other(e)
    }
}

fn class_and_fields(e: &CoreError) -> (&'static str, Vec<(&'static str, Option<String>)>) {
    let k = e.kernel();
    let kernel_fields = |k: Option<&vlanmac_core::KernelError>| {
        vec![
            ("op", k.map(|k| k.op.clone())),
            ("errno", k.map(|k| k.errno.to_string())),
            ("extack", k.and_then(|k| k.extack.clone())),
            ("hint", k.and_then(|k| k.hint.clone())),
        ]
    };
    match e {
        CoreError::InvalidSpec(s) => (
            "InvalidSpecError",
            vec![("field", Some(s.field.clone())), ("value", Some(s.value.clone())), ("rule", Some(s.rule.clone()))],
        ),
        CoreError::AlreadyExists(_) => ("AlreadyExistsError", kernel_fields(k)),
        CoreError::NotFound(_) => ("NotFoundError", kernel_fields(k)),
        CoreError::PermissionDenied(_) => ("PermissionDeniedError", kernel_fields(k)),
        CoreError::KernelUnsupported(_) => ("KernelUnsupportedError", kernel_fields(k)),
        CoreError::Conflict(_) => ("ConflictError", vec![]),
        CoreError::Apply { step, source, .. } => {
            let (class, mut fields) = class_and_fields(source);
            fields.push(("step", Some(step.clone())));
            (class, fields)
        }
        _ => ("Error", kernel_fields(k)),
    }
}

/// Builds the Python exception for `e`.
pub fn to_py(py: Python<'_>, e: AnyError) -> PyErr {
    let (class, message, fields): (&str, String, Vec<(&str, Option<String>)>) = match &e {
        AnyError::Core(c) => {
            let (class, fields) = class_and_fields(c);
            (class, c.to_string(), fields)
        }
        AnyError::Docker(d) => match d {
            DockerError::InvalidSpec(s) => (
                "InvalidSpecError",
                d.to_string(),
                vec![
                    ("field", Some(s.field.clone())),
                    ("value", Some(s.value.clone())),
                    ("rule", Some(s.rule.clone())),
                ],
            ),
            DockerError::Core(c) => {
                let (class, fields) = class_and_fields(c);
                (class, d.to_string(), fields)
            }
            DockerError::Conflict { network, differences } => (
                "ConflictError",
                d.to_string(),
                vec![("network", Some(network.clone())), ("differences", Some(differences.join("; ")))],
            ),
            DockerError::NotFound { what } => ("NotFoundError", d.to_string(), vec![("what", Some(what.clone()))]),
            DockerError::Unreachable { socket, .. } => {
                ("DockerError", d.to_string(), vec![("socket", Some(socket.clone()))])
            }
            DockerError::Docker { status, message, op } => (
                "DockerError",
                d.to_string(),
                vec![
                    ("status", Some(status.to_string())),
                    ("daemon_message", Some(message.clone())),
                    ("op", Some(op.clone())),
                ],
            ),
            _ => ("DockerError", d.to_string(), vec![]),
        },
        AnyError::Other(m) => ("Error", m.clone(), vec![]),
    };
    build(py, class, &message, &fields).unwrap_or_else(|err| err)
}

fn build(py: Python<'_>, class: &str, message: &str, fields: &[(&str, Option<String>)]) -> PyResult<PyErr> {
    let module = py.import("vlanmac._errors")?;
    let cls = module.getattr(class)?;
    let kwargs = PyDict::new(py);
    for (k, v) in fields {
        match (k, v) {
            (&"errno", Some(v)) | (&"status", Some(v)) => kwargs.set_item(k, v.parse::<i64>().unwrap_or(0))?,
            (k, v) => kwargs.set_item(k, v.clone())?,
        }
    }
    let value = cls.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}

/// A `vlanmac.Error` for internal failures (panics, runtime start-up).
pub fn internal(message: &str) -> PyErr {
    Python::attach(|py| {
        build(py, "Error", message, &[]).unwrap_or_else(|_| PyRuntimeError::new_err(message.to_string()))
    })
}
