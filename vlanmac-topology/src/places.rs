//! The namespaces a topology involves: the parents' ("host"), the lab
//! router's, and each endpoint's.

use super::model::{EndpointNs, Topology};
use vlanmac_core::{netns::NetnsRef, spec::NetnsName, Error};

/// What a place is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Holds the trunk, VLAN subinterfaces and shims.
    Host,
    /// The lab router.
    Router,
    /// An endpoint (its name).
    Endpoint(String),
}

/// One namespace of the topology.
#[derive(Debug, Clone)]
pub struct Place {
    /// How it is shown: the namespace name, `(current)` or `pid:N`.
    pub label: String,
    /// How to open it.
    pub nsref: NetnsRef,
    /// Its name when it is a named namespace vlanmac may create.
    pub named: Option<NetnsName>,
    /// What it is for.
    pub role: Role,
}

/// Index of the host place in [`places`]' result.
pub const HOST: usize = 0;

/// The places of `t`: host first, then the router (if any), then endpoints
/// in order. Container endpoints need the Docker adapter.
pub fn places(t: &Topology) -> Result<Vec<Place>, Error> {
    places_with(t, false)
}

/// The places of `t` for `verify`: a container endpoint that was not
/// resolved (its container is gone or stopped) is a place that does not
/// exist, so its checks fail instead of stopping the verify.
pub(crate) fn places_allowing_absent(t: &Topology) -> Vec<Place> {
    places_with(t, true).unwrap_or_default()
}

fn places_with(t: &Topology, allow_absent: bool) -> Result<Vec<Place>, Error> {
    let mut out = Vec::new();
    out.push(match &t.namespace {
        Some(n) => {
            Place { label: n.to_string(), nsref: NetnsRef::Named(n.clone()), named: Some(n.clone()), role: Role::Host }
        }
        None => Place { label: "(current)".into(), nsref: NetnsRef::Current, named: None, role: Role::Host },
    });
    if let Some(lab) = &t.lab {
        out.push(Place {
            label: lab.router.to_string(),
            nsref: NetnsRef::Named(lab.router.clone()),
            named: Some(lab.router.clone()),
            role: Role::Router,
        });
    }
    for e in &t.endpoints {
        let role = Role::Endpoint(e.name.clone());
        out.push(match &e.netns {
            EndpointNs::Netns(n) => {
                Place { label: n.to_string(), nsref: NetnsRef::Named(n.clone()), named: Some(n.clone()), role }
            }
            EndpointNs::Pid(p) => Place { label: format!("pid:{p}"), nsref: NetnsRef::Pid(*p), named: None, role },
            // vlanmac-docker's Engine (the CLI, Python, Ansible) turns
            // containers into PIDs before the core sees the topology.
            // PID 0 has no /proc entry: the place reads as absent.
            EndpointNs::Container(c) if allow_absent => {
                Place { label: format!("container:{c}"), nsref: NetnsRef::Pid(0), named: None, role }
            }
            EndpointNs::Container(c) => {
                return Err(Error::Conflict(format!(
                    "endpoints.{}: container {c:?} must be resolved through Docker first (vlanmac-docker's Engine, or the vlanmac CLI)",
                    e.name
                )))
            }
        });
    }
    Ok(out)
}

impl Place {
    /// The endpoint's name, for endpoint places.
    pub fn endpoint(&self) -> Option<&str> {
        match &self.role {
            Role::Endpoint(e) => Some(e),
            _ => None,
        }
    }
}
