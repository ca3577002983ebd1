//! netavark's own macvlan and ipvlan tests (`test/300-macvlan.bats`,
//! `test/400-ipvlan.bats` from its published 2.1.0 crate, run with
//! Debian's bats) as a peer's test suite, with every macvlan and ipvlan
//! network switched to the vlanmac plugin
//! (`tests/bats/netavark-as-vlanmac`). Every case passes but the ones
//! docs/PODMAN.md lists as left out, with why. In the emulated kernel VM
//! the suite's 10 s per command is stretched 4 times (`tests/bats/timeout`
//! first on its PATH; its files stay as published). A case that fails is run
//! again with netavark's built-in drivers, so the failure says whether the
//! suite fails on this machine without the plugin too (a whole second run
//! of the suite would double its 8 to 11 minutes under emulation).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{common::*, support::*};

/// Cases the plugin leaves out, with why (docs/PODMAN.md repeats them).
const LEFT_OUT: &[(&str, &str)] = &[];

/// Whether the kernel has the dummy driver the suite puts its parents on.
fn kernel_has_dummy() -> bool {
    let ns = TestNs::new("dummyprobe");
    Command::new(ip_path())
        .args(["-n", ns.name.as_str(), "link", "add", "d0", "type", "dummy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs the two files (only the cases named in `only`, if any) with
/// `netavark` as `$NETAVARK` in a fresh copy of the suite; returns each
/// case's name and whether it passed.
fn run_bats(suite: &Path, netavark: &Path, env: &[(&str, &Path)], only: &[&str]) -> (BTreeMap<String, bool>, String) {
    let copy = std::env::temp_dir().join(format!("vlanmac-bats-{}-{}", std::process::id(), env.len()));
    let _ = std::fs::remove_dir_all(&copy);
    let status = Command::new("cp").args(["-a"]).arg(suite).arg(&copy).status().unwrap();
    assert!(status.success());
    let shims = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bats");
    let mut c = Command::new("/usr/bin/timeout");
    c.args(["900", "bats", "--tap"]);
    if !only.is_empty() {
        // bats -f takes a regular expression over the case names.
        let names: Vec<String> = only.iter().map(|n| format!("^{}$", regex_escape(n))).collect();
        c.args(["-f", &names.join("|")]);
    }
    c.args(["300-macvlan.bats", "400-ipvlan.bats"])
        .current_dir(&copy)
        .env("NETAVARK", netavark)
        // tests/bats/timeout first: the suite's 10 s per command, times
        // VLANMAC_TIMEOUT_SCALE (4 in the emulated kernel VM).
        .env("PATH", format!("{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", shims.display()))
        .env("VLANMAC_TIMEOUT_SCALE", if kernel_required() { "4" } else { "1" });
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut cases = BTreeMap::new();
    for line in text.lines() {
        let (ok, rest) = match line.strip_prefix("not ok ") {
            Some(r) => (false, r),
            None => match line.strip_prefix("ok ") {
                Some(r) => (true, r),
                None => continue,
            },
        };
        let name = rest.split_once(' ').map(|(_, n)| n).unwrap_or(rest).trim();
        cases.insert(name.split(" # ").next().unwrap_or(name).to_string(), ok);
    }
    (cases, text)
}

/// `name` with the characters of an extended regular expression escaped.
fn regex_escape(name: &str) -> String {
    name.chars().fold(String::new(), |mut s, ch| {
        if "\\.^$|?*+()[]{}".contains(ch) {
            s.push('\\');
        }
        s.push(ch);
        s
    })
}

#[test]
fn netavarks_own_macvlan_and_ipvlan_tests_pass_with_the_plugin() {
    let test = "bats::netavarks_own_macvlan_and_ipvlan_tests_pass_with_the_plugin";
    if !kernel_has_dummy() {
        assert!(!kernel_required(), "{test}: the kernel has no dummy driver");
        record_skip(test, "the running kernel lacks the dummy driver netavark's tests put their parents on");
        return;
    }
    let Some(netavark) = netavark_or_skip(test) else { return };
    let suite: PathBuf = netavark_dir().join("test");
    assert!(suite.join("300-macvlan.bats").exists(), "{} has no netavark tests", suite.display());
    for tool in ["bats", "jq", "nsenter"] {
        assert!(
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap().status.success(),
            "{test}: {tool} is not installed"
        );
    }
    let host = Host::new("nvbats");
    // The release build when scripts/test made one: the suite gives each
    // netavark call 10 s, which under emulation the unoptimized binary
    // (12 times the size) can take with the wrapper's own processes.
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/vlanmac-netavark");
    let plugins = plugin_dir_of(&host, if release.exists() { &release } else { Path::new(PLUGIN) });
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bats/netavark-as-vlanmac");
    let state = host.dir.join("state");
    let (plugin, text) = run_bats(
        &suite,
        &wrapper,
        &[("NETAVARK_REAL", &netavark), ("VLANMAC_PLUGIN_DIR", &plugins), ("VLANMAC_CNI_STATE_DIR", &state)],
        &[],
    );
    assert!(plugin.len() >= 30, "the suite ran {} cases:\n{text}", plugin.len());
    let failed: Vec<&str> = plugin
        .iter()
        .filter(|(n, ok)| !**ok && !LEFT_OUT.iter().any(|(l, _)| l == n))
        .map(|(n, _)| n.as_str())
        .collect();
    if !failed.is_empty() {
        let (builtin, builtin_text) = run_bats(&suite, &netavark, &[], &failed);
        let also: Vec<&String> = builtin.iter().filter(|(_, ok)| !**ok).map(|(n, _)| n).collect();
        panic!(
            "with the vlanmac plugin, failed {failed:?}; with netavark's built-in drivers, {} of them failed too \
             {also:?}:\n{text}\n--- built-in drivers:\n{builtin_text}",
            also.len()
        );
    }
    let passed = plugin.values().filter(|ok| **ok).count();
    record_tool(&format!(
        "netavark bats (2.1.0: 300-macvlan, 400-ipvlan): vlanmac plugin {passed}/{} ({} left out)",
        plugin.len(),
        LEFT_OUT.len()
    ));
    eprintln!("netavark bats: vlanmac {passed} of {}", plugin.len());
}
