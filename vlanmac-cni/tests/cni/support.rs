//! Fixtures for the plugin's tests: a runtime namespace holding the trunk
//! (`trunk0`, its veth peer `trunk1` in a "far" namespace), pods as fresh
//! namespaces, and plugins run as processes inside the runtime namespace
//! the way a container runtime runs them (`ip netns exec`, the `CNI_*`
//! environment, the configuration on stdin). Each fixture has its own
//! state directory and host-local data directory, removed on drop.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::{json, Value};

use crate::common::*;
pub use crate::process::*;

/// vlanmac-cni, as built with these tests.
pub const PLUGIN: &str = env!("CARGO_BIN_EXE_vlanmac-cni");
/// Debian's reference plugins.
pub const REFERENCE_DIR: &str = "/usr/lib/cni";

/// A runtime namespace with a trunk, and a scratch directory.
pub struct Rt {
    pub ns: TestNs,
    pub far: TestNs,
    pub dir: PathBuf,
}

impl Rt {
    pub fn new(tag: &str) -> Rt {
        let (ns, far) = runtime_with_trunk(tag);
        let dir = scratch_dir("vlanmac-cni");
        Rt { ns, far, dir }
    }

    /// A netconf for vlanmac-cni on `trunk0` with host-local IPAM in this
    /// fixture's data directory; `extra` fields are merged in (null removes).
    pub fn conf(&self, name: &str, subnet: &str, extra: Value) -> Value {
        let gw = gateway_of(subnet);
        let mut c = json!({
            "cniVersion": "1.0.0",
            "name": name,
            "type": "vlanmac-cni",
            "master": "trunk0",
            "ipam": {
                "type": "host-local",
                "subnet": subnet,
                "gateway": gw,
                "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": self.dir.join("host-local").display().to_string(),
            }
        });
        merge(&mut c, extra);
        c
    }

    /// Runs `plugin` (a path) for `verb` inside the runtime namespace.
    pub fn exec(
        &self,
        plugin: &str,
        verb: &str,
        conf: &Value,
        container: &str,
        pod: Option<&str>,
        ifname: &str,
    ) -> Out {
        self.exec_env(plugin, verb, conf, container, pod, ifname, &[])
    }

    #[allow(clippy::too_many_arguments)]
    pub fn exec_env(
        &self,
        plugin: &str,
        verb: &str,
        conf: &Value,
        container: &str,
        pod: Option<&str>,
        ifname: &str,
        env: &[(&str, &str)],
    ) -> Out {
        let path = pod.map(|p| format!("/run/netns/{p}"));
        self.exec_at(plugin, verb, conf, container, path.as_deref(), ifname, env)
    }

    /// Runs `plugin` with `CNI_NETNS` = `netns` as given (any path, or
    /// none). An invocation still running after [`DEADLINE`] is killed and
    /// reported with status -2 (a hang fails the test, never the run).
    #[allow(clippy::too_many_arguments)]
    pub fn exec_at(
        &self,
        plugin: &str,
        verb: &str,
        conf: &Value,
        container: &str,
        netns: Option<&str>,
        ifname: &str,
        env: &[(&str, &str)],
    ) -> Out {
        let child = self.command(plugin, verb, container, netns, ifname, env).spawn().expect("run the plugin");
        finish(child, conf.to_string().as_bytes(), DEADLINE)
    }

    /// Runs the plugin as [`Rt::exec_at`] does, and kills it with SIGKILL
    /// after `after` if it is still running then (status -2).
    pub fn exec_killed(
        &self,
        verb: &str,
        conf: &Value,
        container: &str,
        netns: Option<&str>,
        ifname: &str,
        after: std::time::Duration,
    ) -> Out {
        let child = self.command(PLUGIN, verb, container, netns, ifname, &[]).spawn().expect("run the plugin");
        finish(child, conf.to_string().as_bytes(), after)
    }

    fn command(
        &self,
        plugin: &str,
        verb: &str,
        container: &str,
        netns: Option<&str>,
        ifname: &str,
        env: &[(&str, &str)],
    ) -> Command {
        let mut c = Command::new(ip_path());
        c.args(["netns", "exec", self.ns.name.as_str(), plugin])
            .env_clear()
            .env("CNI_COMMAND", verb)
            .env("CNI_CONTAINERID", container)
            .env("CNI_IFNAME", ifname)
            .env("CNI_PATH", REFERENCE_DIR)
            .env("VLANMAC_CNI_STATE_DIR", self.state_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = netns {
            c.env("CNI_NETNS", p);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Attachment records the plugin keeps.
    pub fn records(&self) -> Vec<String> {
        list(&self.state_dir().join("attachments"))
    }

    /// Everything in the state directory but the (empty) attachments dir:
    /// lock files left behind would show here.
    pub fn state_files(&self) -> Vec<String> {
        let mut v = list(&self.state_dir());
        v.retain(|f| f != "attachments");
        v.extend(self.records());
        v
    }

    /// host-local's leases (files named by address) of network `name`.
    pub fn leases(&self, name: &str) -> Vec<String> {
        let mut v = list(&self.dir.join("host-local").join(name));
        v.retain(|f| f.parse::<std::net::IpAddr>().is_ok());
        v
    }

    /// Who holds host-local's lease on `addr` in network `name`
    /// (`CONTAINERID IFNAME`), if anyone.
    pub fn lease_owner(&self, name: &str, addr: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("host-local").join(name).join(addr)).ok()?;
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The attachments the plugin has records of, as `NETWORK CONTAINERID
    /// IFNAME NETNS`, sorted.
    pub fn recorded(&self) -> Vec<String> {
        let dir = self.state_dir().join("attachments");
        let mut v: Vec<String> = list(&dir)
            .iter()
            .filter(|f| f.ends_with(".json"))
            .filter_map(|f| serde_json::from_slice::<Value>(&std::fs::read(dir.join(f)).ok()?).ok())
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r["network"].as_str().unwrap_or("?"),
                    r["containerId"].as_str().unwrap_or("?"),
                    r["ifname"].as_str().unwrap_or("?"),
                    r["netns"].as_str().unwrap_or("-")
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Names of the links in the runtime namespace.
    pub fn links(&self) -> Vec<String> {
        link_names(self.ns.name.as_str())
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn list(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    v.sort();
    v
}

/// `a.b.c.1` for subnet `a.b.c.0/24` (or `prefix::1` for IPv6).
pub fn gateway_of(subnet: &str) -> String {
    let net: ipnet::IpNet = subnet.parse().unwrap();
    match net.network() {
        std::net::IpAddr::V4(a) => std::net::Ipv4Addr::from(u32::from(a) + 1).to_string(),
        std::net::IpAddr::V6(a) => std::net::Ipv6Addr::from(u128::from(a) + 1).to_string(),
    }
}

/// Merges `extra` into `c`: objects recursively, `null` removes a key.
pub fn merge(c: &mut Value, extra: Value) {
    if let (Some(o), Value::Object(e)) = (c.as_object_mut(), extra) {
        for (k, v) in e {
            match (o.get_mut(&k), v) {
                (_, Value::Null) => {
                    o.remove(&k);
                }
                (Some(cur @ Value::Object(_)), v @ Value::Object(_)) => merge(cur, v),
                (_, v) => {
                    o.insert(k, v);
                }
            }
        }
    }
}

/// What `ip` sees of interface `dev` in `ns`: kind, mode, MTU, global
/// addresses, routes through it (destination and gateway) — what the
/// reference plugin and vlanmac-cni must agree on.
pub fn pod_state(ns: &str, dev: &str) -> Value {
    let l = ip_json(Some(ns), &["-d", "addr", "show", "dev", dev]);
    let l = &l[0];
    let mut addrs: Vec<String> = l["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["scope"] == "global")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or(""), a["prefixlen"]))
        .collect();
    addrs.sort();
    let mut routes: Vec<String> = Vec::new();
    for fam in ["-4", "-6"] {
        for r in ip_json(Some(ns), &[fam, "route", "show", "dev", dev]).as_array().into_iter().flatten() {
            if r["dst"].as_str().is_some_and(|d| d.starts_with("fe80")) {
                continue;
            }
            routes.push(format!("{} via {}", r["dst"].as_str().unwrap_or("?"), r["gateway"].as_str().unwrap_or("-")));
        }
    }
    routes.sort();
    json!({
        "kind": l["linkinfo"]["info_kind"],
        "mode": l["linkinfo"]["info_data"]["mode"],
        "mtu": l["mtu"],
        "up": l["flags"].as_array().is_some_and(|f| f.iter().any(|x| x == "UP")),
        "addresses": addrs,
        "routes": routes,
    })
}

/// The shape of a JSON value: objects keep their keys (recursively),
/// arrays their first element's shape, scalars become their type.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

/// Whether the reference plugins are installed.
pub fn have_reference() -> bool {
    Path::new(REFERENCE_DIR).join("macvlan").exists() && Path::new(REFERENCE_DIR).join("host-local").exists()
}

/// Whether `test` can run: the reference plugins (host-local among them)
/// are installed. Without them the test is skipped on the host and fails
/// inside the kernel VM.
pub fn reference_or_skip(test: &str) -> bool {
    if have_reference() {
        return true;
    }
    assert!(
        !kernel_required(),
        "{test}: the reference plugins are not installed (apt-get install containernetworking-plugins)"
    );
    record_skip(test, "the reference CNI plugins are not installed");
    false
}
