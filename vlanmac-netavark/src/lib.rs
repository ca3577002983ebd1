//! # vlanmac-netavark
//!
//! A netavark plugin (API 1.0.0, netavark ≥ 1.6; podman 5 and 6) that puts
//! a container on an 802.1Q (or 802.1ad) VLAN through a macvlan or ipvlan:
//!
//! ```text
//! podman network create -d vlanmac -o parent=eth0 -o vlan=10 \
//!     --subnet 192.168.10.0/24 --gateway 192.168.10.1 vlan10
//! ```
//!
//! The VLAN subinterface `eth0.10` is made on demand when the first
//! container starts, shared by every container, CNI pod and topology on it
//! (the same records, marks and per-parent lock as `vlanmac-cni`, through
//! [`vlanmac_cni::attach`]), and removed with its last user, never when
//! vlanmac did not make it. Without `vlan` the container goes on the parent
//! itself, as with netavark's own macvlan driver.
//!
//! The binary (`vlanmac-netavark`, installed as `vlanmac` in a directory of
//! `netavark_plugin_dirs`) answers `create`, `setup NETNS`, `teardown
//! NETNS` and `info`; [`run`] is that whole invocation. docs/PODMAN.md says
//! how to install and use it.
//!
//! ## Why its own protocol types
//!
//! The plugin API's JSON is a handful of small structs ([`types`]). The
//! `netavark` crate has them, with a `Plugin` trait and `PluginExec` to run
//! one, but depending on it means depending on all of netavark: 2.1.0
//! brings 237 crates (`cargo tree -e normal`; vlanmac-cni's whole tree is
//! 56) — tonic and prost for its DHCP proxy, zbus for firewalld, nftables,
//! mozim, a second netlink stack (netlink-packet-route 0.31 beside this
//! workspace's 0.34) — and its build script needs `protoc`. Its `PluginExec`
//! also ends the process itself, where this plugin must still undo a
//! failed setup first. So the types here are the plugin's own serde types,
//! written from netavark's `plugin-API.md` and checked against netavark
//! 2.1.0's own binary in the tests.

pub mod addressing;
mod create;
mod error;
pub mod options;
mod request;
mod setup;
mod teardown;
pub mod types;

pub use error::{Error, Result};
pub use request::NETWORK_PREFIX;
pub use types::{API_VERSION, DRIVER};

/// What one invocation prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 0, or 1 with `{"error": "..."}` on stdout.
    pub status: i32,
    /// What goes to stdout (empty for a successful teardown).
    pub stdout: String,
}

/// Runs one invocation: `args` without the program's name (`setup
/// /proc/42/ns/net`), `stdin` the JSON the verb takes.
pub fn run(args: &[String], stdin: &[u8]) -> Outcome {
    match dispatch(args, stdin) {
        Ok(stdout) => Outcome { status: 0, stdout },
        Err(e) => Outcome { status: 1, stdout: e.to_json() },
    }
}

fn decode<T: serde::de::DeserializeOwned>(stdin: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(stdin).map_err(|e| Error::Decode(format!("stdin is not {what}: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Decode(e.to_string()))
}

fn dispatch(args: &[String], stdin: &[u8]) -> Result<String> {
    let usage = || Error::Usage("usage: vlanmac create | setup NETNS | teardown NETNS | info".to_string());
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["info"] => {
            encode(&types::Info { version: env!("CARGO_PKG_VERSION").to_string(), api_version: API_VERSION.into() })
        }
        ["create"] => encode(&create::create(decode(stdin, "a network")?)?),
        ["setup", netns] => encode(&setup::setup(netns, &decode(stdin, "a plugin setup request")?)?),
        ["teardown", netns] => {
            teardown::teardown(netns, &decode(stdin, "a plugin teardown request")?).map(|()| String::new())
        }
        _ => Err(usage()),
    }
}
