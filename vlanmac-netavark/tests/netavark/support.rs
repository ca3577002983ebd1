//! Fixtures: a host namespace (netavark's "host": the parent `trunk0`, its
//! veth peer `trunk1` in a "far" namespace), containers as fresh
//! namespaces, the plugin run inside the host namespace with its JSON on
//! stdin, each fixture with its own state directory (removed on drop), and
//! netavark 2.1.0's own binary where scripts/test built it.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};

use crate::common::*;
pub use crate::process::*;

/// The plugin, as built with these tests.
pub const PLUGIN: &str = env!("CARGO_BIN_EXE_vlanmac-netavark");

/// A host namespace with a trunk, containers, and a state directory.
pub struct Host {
    pub ns: TestNs,
    pub far: TestNs,
    pub dir: PathBuf,
}

impl Host {
    pub fn new(tag: &str) -> Host {
        let (ns, far) = runtime_with_trunk(tag);
        Host { ns, far, dir: scratch_dir("vlanmac-netavark") }
    }

    /// A command run inside the host namespace with this fixture's state.
    pub fn command(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(ip_path());
        c.args(["netns", "exec", self.ns.name.as_str(), program])
            .args(args)
            .env("VLANMAC_CNI_STATE_DIR", self.dir.join("state"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    /// The plugin: `args` with `stdin`.
    pub fn plugin(&self, args: &[&str], stdin: &Value) -> Out {
        self.plugin_env(args, stdin, &[])
    }

    pub fn plugin_env(&self, args: &[&str], stdin: &Value, env: &[(&str, &str)]) -> Out {
        let child = self.command(PLUGIN, args, env).spawn().expect("run the plugin");
        finish(child, stdin.to_string().as_bytes(), DEADLINE)
    }

    /// The plugin, killed with SIGKILL after `after` if still running.
    pub fn plugin_killed(&self, args: &[&str], stdin: &Value, after: Duration) -> Out {
        let child = self.command(PLUGIN, args, &[]).spawn().expect("run the plugin");
        finish(child, stdin.to_string().as_bytes(), after)
    }

    pub fn setup(&self, pod: &TestNs, exec: &Value) -> Out {
        self.plugin(&["setup", &netns_path(pod)], exec)
    }

    pub fn teardown(&self, pod: &TestNs, exec: &Value) -> Out {
        self.plugin(&["teardown", &netns_path(pod)], exec)
    }

    /// The plugin's attachment records.
    pub fn records(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.join("state").join("attachments"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        v.sort();
        v
    }

    /// Names of the links in the host namespace.
    pub fn links(&self) -> Vec<String> {
        link_names(self.ns.name.as_str())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn netns_path(ns: &TestNs) -> String {
    format!("/run/netns/{}", ns.name)
}

/// A network as `podman network create -d vlanmac` would hand it over:
/// on `trunk0`, `options` as given, one IPv4 subnet.
pub fn network(name: &str, subnet: &str, options: Value) -> Value {
    let net: ipnet::IpNet = subnet.parse().unwrap();
    let gw = match net.network() {
        std::net::IpAddr::V4(a) => std::net::Ipv4Addr::from(u32::from(a) + 1).to_string(),
        std::net::IpAddr::V6(a) => std::net::Ipv6Addr::from(u128::from(a) + 1).to_string(),
    };
    json!({
        "name": name,
        "id": format!("{:0>64}", name.len()),
        "driver": "vlanmac",
        "network_interface": "trunk0",
        "subnets": [{ "subnet": subnet, "gateway": gw }],
        "ipv6_enabled": false,
        "internal": false,
        "dns_enabled": false,
        "ipam_options": { "driver": "host-local" },
        "options": options,
    })
}

/// The plugin's setup/teardown input for container `id` with `ips`.
pub fn exec(id: &str, network: &Value, ips: &[&str]) -> Value {
    json!({
        "container_id": id,
        "container_name": format!("name-{id}"),
        "port_mappings": [],
        "network": network,
        "network_options": { "interface_name": "eth0", "static_ips": ips, "aliases": [id] },
    })
}

/// Where scripts/test put netavark 2.1.0 (`bin/netavark`) and a copy of its
/// crate's `test/` folder: `$VLANMAC_NETAVARK_DIR`, else the workspace's
/// `target/netavark`.
pub fn netavark_dir() -> PathBuf {
    std::env::var_os("VLANMAC_NETAVARK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/netavark"))
}

/// netavark's binary, or a skip (a failure inside the kernel VM).
pub fn netavark_or_skip(test: &str) -> Option<PathBuf> {
    let bin = netavark_dir().join("bin/netavark");
    if bin.exists() {
        return Some(bin);
    }
    assert!(!kernel_required(), "{test}: {} is missing (scripts/test builds it)", bin.display());
    record_skip(test, "netavark 2.1.0 is not built (scripts/test builds it into target/netavark)");
    None
}

/// A plugin directory holding the plugin under its driver name.
pub fn plugin_dir(host: &Host) -> PathBuf {
    plugin_dir_of(host, Path::new(PLUGIN))
}

/// A plugin directory holding `plugin` under the driver name.
pub fn plugin_dir_of(host: &Host, plugin: &Path) -> PathBuf {
    let d = host.dir.join("plugins");
    std::fs::create_dir_all(&d).unwrap();
    let link = d.join("vlanmac");
    if !link.exists() {
        std::os::unix::fs::symlink(plugin, &link).unwrap();
    }
    d
}
