//! # vlanmac-cni
//!
//! A CNI plugin (spec 1.1.0, also 0.4.0 and 1.0.0) that puts a pod on an
//! 802.1Q (or 802.1ad) VLAN through a macvlan or ipvlan: the VLAN
//! subinterface `<master>.<vlan>` is made on demand in the runtime's
//! namespace, shared by every pod on that VLAN, and removed with its last
//! attachment (never when vlanmac did not make it). Built on vlanmac-core
//! only: no `ip`, no shell, no second netlink stack.
//!
//! The binary `vlanmac-cni` reads the `CNI_*` environment and the network
//! configuration on stdin, and prints the result or the spec's error object
//! on stdout (see docs/CNI.md). [`run`] is that whole invocation; [`error`]
//! and [`version`] are what the binary needs besides; [`collect_dead`] is
//! what `vlanmac agent` collects attachments of gone pods with; [`attach`]
//! is ADD and DEL for another front end (the netavark plugin). Everything
//! else is the plugin's own.
//!
//! The types are the plugin's own small serde types rather than the
//! `cni-plugin` crate's: its last release (0.2.1) predates spec 1.1 (no
//! STATUS, no GC, no `cniVersions`) and ends the process inside its reply
//! helpers, where this plugin must still undo a failed ADD.

mod add;
pub mod attach;
mod attachment;
mod check;
mod collect;
mod del;
pub mod error;
mod gc;
mod handles;
mod invocation;
mod ipam;
mod netconf;
#[cfg(test)]
mod netconf_tests;
mod pod;
mod result;
mod state;
mod status;
mod teardown;
mod unique_json;
pub mod version;
mod vlan;

pub use collect::collect_dead;
use error::{CniError, Code};
use invocation::{Invocation, Verb};

/// What one invocation prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit status: 0, or 1 with an error object on stdout.
    pub status: i32,
    /// What goes to stdout (empty for a successful DEL, CHECK, GC, STATUS).
    pub stdout: String,
}

/// Runs one invocation: `env` gives the `CNI_*` variables, `stdin` is the
/// network configuration.
pub fn run(env: impl Fn(&str) -> Option<String>, stdin: &[u8]) -> Outcome {
    let version = netconf::peek_version(stdin).unwrap_or_else(|| version::NEWEST.to_string());
    match dispatch(env, stdin) {
        Ok(stdout) => Outcome { status: 0, stdout },
        Err(e) => Outcome { status: 1, stdout: e.to_json(&version) },
    }
}

fn dispatch(env: impl Fn(&str) -> Option<String>, stdin: &[u8]) -> Result<String, CniError> {
    let inv = Invocation::from_env(env)?;
    if inv.verb == Verb::Version {
        return Ok(version::version_reply());
    }
    let conf = netconf::parse(stdin)?;
    if matches!(inv.verb, Verb::Status | Verb::Gc) && conf.version < version::Version::V110 {
        return Err(CniError::new(
            Code::IncompatibleVersion,
            format!("cniVersion: {} has no {} (it came with 1.1.0)", conf.cni_version, inv.verb.as_str()),
        ));
    }
    vlanmac_core::privileges::require_admin(&format!("vlanmac-cni {} of network {}", inv.verb.as_str(), conf.name))
        .map_err(error::from_core)?;
    match inv.verb {
        Verb::Add => Ok(add::add(&inv, &conf, stdin)?.to_string()),
        Verb::Del => del::del(&inv, &conf, stdin).map(|()| String::new()),
        Verb::Check => check::check(&inv, &conf, stdin).map(|()| String::new()),
        Verb::Gc => gc::gc(&inv, &conf, stdin).map(|()| String::new()),
        Verb::Status => status::status(&inv, &conf, stdin).map(|()| String::new()),
        Verb::Version => Ok(String::new()),
    }
}
