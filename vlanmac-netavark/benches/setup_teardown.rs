//! setup + teardown of one container's namespace, the way podman does it:
//! netavark 2.1.0's binary (built by scripts/test into target/netavark)
//! running the vlanmac plugin, against the same netavark binary with its
//! built-in macvlan driver, side by side in one run; and the plugin run
//! directly, without netavark (its own share). N namespaces one after the
//! other, then N with 8 at a time (needs root).
//!
//!     cargo bench -p vlanmac-netavark --bench setup_teardown -- [N] [ROUNDS] [--vlan]
//!
//! With `--vlan` (a kernel with 802.1Q) the plugin puts the containers on
//! VLAN 100, making and sharing `trunk0.100` itself, and netavark's macvlan
//! uses VLAN 200 made beforehand (the same work minus the VLAN); without it
//! both attach to the trunk directly.
//!
//! The bench enters a namespace of its own before anything else, so what
//! it starts works there, never in the machine's.

#[path = "../../benches/common/mod.rs"]
mod common;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use common::{
    ip,
    plugin::{measure, print_ratios},
    Ns,
};
use serde_json::{json, Value};

const PLUGIN: &str = env!("CARGO_BIN_EXE_vlanmac-netavark");

/// How a container is set up and torn down.
#[derive(Clone, Copy)]
enum Way {
    /// netavark's binary, with its input for the network.
    Netavark,
    /// The plugin run directly, as netavark runs it.
    PluginAlone,
}

/// One invocation with `input` on stdin; panics unless it succeeds.
fn exec(program: &Path, args: &[&str], input: &[u8], state: &Path) {
    let mut child = Command::new(program)
        .args(args)
        .env("VLANMAC_CNI_STATE_DIR", state)
        .env("DBUS_SYSTEM_BUS_ADDRESS", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Setup<'a> {
    way: Way,
    netavark: &'a Path,
    config: &'a Path,
    plugins: &'a Path,
    network: &'a Value,
    state: &'a Path,
}

impl Setup<'_> {
    fn pair(&self, i: usize, pod: &Ns) {
        let netns = format!("/run/netns/{}", pod.name());
        let ip = format!("10.120.{}.{}", 1 + i / 250, 1 + i % 250);
        let name = self.network["name"].as_str().unwrap_or("n");
        let id = format!("{i:0>64}");
        match self.way {
            Way::Netavark => {
                let input = json!({
                    "container_id": id, "container_name": format!("c{i}"),
                    "networks": { name: { "interface_name": "eth0", "static_ips": [ip] } },
                    "network_info": { name: self.network },
                })
                .to_string();
                let base = [
                    "--config",
                    self.config.to_str().unwrap_or(""),
                    "--plugin-directory",
                    self.plugins.to_str().unwrap_or(""),
                ];
                for verb in ["setup", "teardown"] {
                    let mut args = base.to_vec();
                    args.extend([verb, netns.as_str()]);
                    exec(self.netavark, &args, input.as_bytes(), self.state);
                }
            }
            Way::PluginAlone => {
                let input = json!({
                    "container_id": id, "container_name": format!("c{i}"), "port_mappings": [],
                    "network": self.network,
                    "network_options": { "interface_name": "eth0", "static_ips": [ip] },
                })
                .to_string();
                for verb in ["setup", "teardown"] {
                    exec(Path::new(PLUGIN), &[verb, &netns], input.as_bytes(), self.state);
                }
            }
        }
    }
}

fn network(name: &str, driver: &str, parent: &str, options: Value) -> Value {
    json!({
        "name": name, "id": format!("{:0>64}", name.len()), "driver": driver, "network_interface": parent,
        "subnets": [{ "subnet": "10.120.0.0/16", "gateway": "10.120.0.254" }],
        "ipv6_enabled": false, "internal": false, "dns_enabled": false,
        "ipam_options": { "driver": "host-local" }, "options": options,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let num = |i: usize, d: usize| {
        args.iter().filter(|a| !a.starts_with("--")).nth(i).and_then(|a| a.parse().ok()).unwrap_or(d)
    };
    let (n, rounds) = (num(0, 100), num(1, 3).max(1));
    let vlan = args.iter().any(|a| a == "--vlan");
    let netavark: PathBuf = std::env::var_os("VLANMAC_NETAVARK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/netavark"))
        .join("bin/netavark");
    if !vlanmac_core::privileges::has_admin() || !netavark.exists() {
        eprintln!("benches/setup_teardown: needs root and {} (scripts/test builds it); skipped", netavark.display());
        return;
    }
    let host = Ns::new("nvh");
    let fd = std::fs::File::open(format!("/run/netns/{}", host.name())).expect("open the namespace");
    nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).expect("enter the namespace");
    ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    ip(&["link", "set", "trunk0", "up"]);
    ip(&["link", "set", "trunk1", "up"]);
    let (builtin_parent, ours) = if vlan {
        ip(&["link", "add", "link", "trunk0", "name", "trunk0.200", "type", "vlan", "id", "200"]);
        ip(&["link", "set", "trunk0.200", "up"]);
        ("trunk0.200", json!({"vlan": "100"}))
    } else {
        ("trunk0", json!({}))
    };
    let pods: Vec<Ns> = (0..n).map(|i| Ns::new(&format!("nvp{i}"))).collect();
    let dir = std::env::temp_dir().join(format!("vlanmac-netavark-bench-{}", std::process::id()));
    let (state, config, plugins) = (dir.join("state"), dir.join("config"), dir.join("plugins"));
    for d in [&config, &plugins] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::os::unix::fs::symlink(PLUGIN, plugins.join("vlanmac")).expect("plugin link");
    let plugin_net = network("bench-vlanmac", "vlanmac", "trunk0", ours);
    let builtin_net = network("bench-macvlan", "macvlan", builtin_parent, json!({}));
    let setups = [
        ("netavark + vlanmac plugin", Way::Netavark, &plugin_net),
        ("netavark, built-in macvlan", Way::Netavark, &builtin_net),
        ("vlanmac plugin alone", Way::PluginAlone, &plugin_net),
    ];
    let built: Vec<(String, Setup)> = setups
        .iter()
        .map(|(label, way, net)| {
            (
                label.to_string(),
                Setup {
                    way: *way,
                    netavark: &netavark,
                    config: &config,
                    plugins: &plugins,
                    network: net,
                    state: &state,
                },
            )
        })
        .collect();
    let ways: Vec<(String, usize)> =
        [1, 8].into_iter().flat_map(|par| built.iter().map(move |(label, _)| (label.clone(), par))).collect();
    let rows = measure(rounds, n, &ways, |w, i| built[w % built.len()].1.pair(i, &pods[i]));
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\n## netavark setup+teardown, {n} containers, {}; medians of {rounds} rounds\n",
        if vlan {
            "the plugin making VLAN 100 vs netavark's macvlan on a VLAN made beforehand"
        } else {
            "both on the trunk"
        }
    );
    // Each row against the built-in driver's row of the same parallelism.
    print_ratios("way", "setup+teardown", "built-in", n, &rows, |i| i / 3 * 3 + 1);
}
