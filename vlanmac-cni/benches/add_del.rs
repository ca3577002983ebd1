//! ADD + DEL of one attachment, run as processes the way a runtime runs
//! them: vlanmac-cni against the reference macvlan plugin, both with
//! host-local IPAM, side by side in one run. 100 attachments one after the
//! other, then 100 with 8 at a time (needs root; the reference plugins in
//! /usr/lib/cni).
//!
//!     cargo bench -p vlanmac-cni --bench add_del -- [N] [ROUNDS] [--vlan]
//!
//! With `--vlan` (a kernel with 802.1Q) vlanmac-cni puts the pods on VLAN
//! 100, making and sharing `trunk0.100` itself, and the reference plugin
//! uses that VLAN made beforehand (the same work minus the VLAN); without
//! it both attach to the trunk directly.
//!
//! The bench enters a namespace of its own before anything else, so the
//! plugins it starts work there, never in the machine's.

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
use vlanmac_core::spec::NetnsName;

const PLUGIN: &str = env!("CARGO_BIN_EXE_vlanmac-cni");
const REFERENCE: &str = "/usr/lib/cni/macvlan";

/// One plugin invocation; panics unless it succeeds.
fn exec(plugin: &str, verb: &str, conf: &str, id: &str, pod: &NetnsName, state: &Path) {
    let mut child = Command::new(plugin)
        .env_clear()
        .env("CNI_COMMAND", verb)
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", format!("/run/netns/{pod}"))
        .env("CNI_IFNAME", "net1")
        .env("CNI_PATH", "/usr/lib/cni")
        .env("VLANMAC_CNI_STATE_DIR", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plugin");
    child.stdin.take().expect("stdin").write_all(conf.as_bytes()).expect("write conf");
    let out = child.wait_with_output().expect("wait plugin");
    assert!(out.status.success(), "{plugin} {verb}: {}", String::from_utf8_lossy(&out.stdout));
}

fn conf(kind: &str, name: &str, master: &str, vlan: Option<u16>, data: &Path) -> String {
    let mut c = serde_json::json!({
        "cniVersion": "1.0.0", "name": name, "type": kind, "master": master, "mode": "bridge",
        "ipam": { "type": "host-local", "subnet": "10.120.0.0/16", "dataDir": data.display().to_string() },
    });
    if let Some(v) = vlan {
        c["vlan"] = v.into();
    }
    c.to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let num = |i: usize, d: usize| {
        args.iter().filter(|a| !a.starts_with("--")).nth(i).and_then(|a| a.parse().ok()).unwrap_or(d)
    };
    let (n, rounds) = (num(0, 100), num(1, 3).max(1));
    let vlan = args.iter().any(|a| a == "--vlan");
    if !vlanmac_core::privileges::has_admin() || !Path::new(REFERENCE).exists() {
        eprintln!("benches/add_del: needs root and the reference plugins in /usr/lib/cni; skipped");
        return;
    }
    let rt = Ns::new("rt");
    // Everything from here on (threads, plugin processes) works in `rt`.
    let fd = std::fs::File::open(format!("/run/netns/{}", rt.0)).expect("open the namespace");
    nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).expect("enter the namespace");
    ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    ip(&["link", "set", "trunk0", "up"]);
    ip(&["link", "set", "trunk1", "up"]);
    let (ref_master, ours_vlan) = if vlan {
        ip(&["link", "add", "link", "trunk0", "name", "trunk0.200", "type", "vlan", "id", "200"]);
        ip(&["link", "set", "trunk0.200", "up"]);
        ("trunk0.200", Some(100))
    } else {
        ("trunk0", None)
    };
    let pods: Vec<Ns> = (0..n).map(|i| Ns::new(&format!("p{i}"))).collect();
    let dir: PathBuf = std::env::temp_dir().join(format!("vlanmac-cni-bench-{}", std::process::id()));
    let state = dir.join("state");
    let ours = conf("vlanmac-cni", "bench-ours", "trunk0", ours_vlan, &dir.join("leases"));
    let theirs = conf("macvlan", "bench-ref", ref_master, None, &dir.join("leases"));
    let configs = [
        ("vlanmac-cni", PLUGIN, &ours, 1),
        ("vlanmac-cni", PLUGIN, &ours, 8),
        ("reference macvlan", REFERENCE, &theirs, 1),
        ("reference macvlan", REFERENCE, &theirs, 8),
    ];
    let ways: Vec<(String, usize)> = configs.iter().map(|(label, _, _, par)| (label.to_string(), *par)).collect();
    let rows = measure(rounds, n, &ways, |w, i| {
        let (_, plugin, c, _) = configs[w];
        let id = format!("b{i}");
        exec(plugin, "ADD", c, &id, &pods[i].0, &state);
        exec(plugin, "DEL", c, &id, &pods[i].0, &state);
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\n## CNI ADD+DEL, {n} attachments, {}; medians of {rounds} rounds\n",
        if vlan {
            "vlanmac-cni making VLAN 100 vs the reference on a VLAN made beforehand"
        } else {
            "both on the trunk"
        }
    );
    print_ratios("plugin", "ADD+DEL", "reference", n, &rows, |i| if i < 2 { i + 2 } else { i });
}
