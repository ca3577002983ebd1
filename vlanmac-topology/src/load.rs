//! Reading topology files: YAML or JSON, unknown keys rejected, errors
//! naming the path of the field.

use std::path::Path;

use super::{file::TopologyFile, model::Topology, validate};
use vlanmac_core::{spec::SpecError, Error};

/// The text format of a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (a superset of JSON, so JSON files parse too).
    Yaml,
    /// JSON.
    Json,
}

/// Turns a serde error into a [`SpecError`] whose field is the path of the
/// offending key. For an unknown key that is the map holding it (the key is
/// in the message). serde_yaml_ng already prefixes its message with a path;
/// that prefix is dropped so the path appears once.
fn path_error<E: std::fmt::Display>(path: &serde_path_to_error::Path, inner: E) -> SpecError {
    let full = path.to_string();
    let mut msg = inner.to_string();
    let unknown = msg.contains("unknown field");
    let field = if unknown {
        full.rsplit_once('.').map(|(head, _)| head.to_string()).unwrap_or_else(|| ".".into())
    } else {
        full.clone()
    };
    for prefix in [&full, &field] {
        if let Some(rest) = msg.strip_prefix(&format!("{prefix}: ")) {
            msg = rest.to_string();
            break;
        }
    }
    let field = if field == "." || field.is_empty() { "topology".to_string() } else { field };
    SpecError::new(field, "", msg)
}

/// Parses and validates YAML; `default_name` names the topology when the
/// text has no `name:`.
pub fn from_yaml(text: &str, default_name: &str) -> Result<Topology, Error> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let file: TopologyFile = serde_path_to_error::deserialize(de).map_err(|e| path_error(e.path(), e.inner()))?;
    Ok(validate::topology(&file, default_name)?)
}

/// Parses and validates JSON.
pub fn from_json(text: &str, default_name: &str) -> Result<Topology, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file: TopologyFile = serde_path_to_error::deserialize(&mut de).map_err(|e| path_error(e.path(), e.inner()))?;
    Ok(validate::topology(&file, default_name)?)
}

/// Validates an already parsed file (the Python dict / Ansible `spec` path).
pub fn from_file_struct(file: &TopologyFile, default_name: &str) -> Result<Topology, Error> {
    Ok(validate::topology(file, default_name)?)
}

/// Reads a `.yaml`, `.yml` or `.json` file; the topology's default name is
/// the file's stem.
pub fn from_path(path: &Path) -> Result<Topology, Error> {
    // A file that cannot be read is bad input, like one that does not parse.
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::InvalidSpec(vlanmac_core::spec::SpecError::new("file", path.display(), format!("cannot be read ({e})")))
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("topology");
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => from_json(&text, stem),
        _ => from_yaml(&text, stem),
    }
}
