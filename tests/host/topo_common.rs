//! Fixtures for topology tests: unique topologies, a guard that takes them
//! down on drop, and a snapshot of the whole kernel state that matters.

use std::{collections::BTreeMap, process::Command};

use serde_json::Value;
use vlanmac::{
    topology::{self, Options, Topology},
    Shared,
};

use crate::common::*;

/// A flat (untagged) lab topology with unique names: host namespace, lab
/// router, one network with IPv4 + IPv6, a host shim, two endpoints (one
/// static, one from IPAM).
pub fn flat_yaml(tag: &str) -> String {
    let p = format!("vt{}{tag}", std::process::id());
    format!(
        r#"
name: {p}
namespace: {p}-host
lab: {{ trunk: eth0, router: {p}-rtr }}
networks:
  lan:
    parent: eth0
    subnets:
      - {{ subnet: 10.77.0.0/24, gateway: 10.77.0.1 }}
      - {{ subnet: "2001:db8:77::/64", gateway: "2001:db8:77::1" }}
    host_shim: {{ name: lan-host, ipv4: 10.77.0.254 }}
endpoints:
  {p}-a: {{ attach: [ {{ network: lan, ipv4: 10.77.0.2, ipv6: "2001:db8:77::2" }} ] }}
  {p}-b: {{ attach: [ {{ network: lan }} ] }}
"#
    )
}

/// Parses YAML into a topology (panics on invalid input: test data).
pub fn topo(yaml: &str) -> Topology {
    topology::from_yaml(yaml, "test").unwrap()
}

/// Runs `down` when dropped, so a failing test leaves nothing behind.
pub struct TopoGuard(pub Topology);

impl Drop for TopoGuard {
    fn drop(&mut self) {
        let t = self.0.clone();
        let r = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(t.down(&Options::default()))
        })
        .join();
        if let Ok(Err(e)) = r {
            eprintln!("warning: down of {} failed: {e}", self.0.name);
        }
    }
}

/// Namespace names of a topology (host, router, endpoints).
pub fn namespaces_of(t: &Topology) -> Vec<String> {
    let mut v: Vec<String> = t.namespace.iter().map(|n| n.to_string()).collect();
    v.extend(t.lab.iter().map(|l| l.router.to_string()));
    for e in &t.endpoints {
        if let topology::EndpointNs::Netns(n) = &e.netns {
            v.push(n.to_string());
        }
    }
    v
}

fn summarize_links(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let up = l["flags"].as_array().is_some_and(|f| f.iter().any(|x| x == "UP"));
            format!(
                "{} kind={} up={up} mtu={} mac={} alias={} group={}",
                l["ifname"].as_str().unwrap_or("?"),
                l["linkinfo"]["info_kind"].as_str().unwrap_or("-"),
                l["mtu"],
                l["address"].as_str().unwrap_or("-"),
                l["ifalias"].as_str().unwrap_or("-"),
                l["group"].as_str().unwrap_or("-"),
            )
        })
        .collect()
}

fn summarize_addrs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for l in v.as_array().into_iter().flatten() {
        for a in l["addr_info"].as_array().into_iter().flatten() {
            out.push(format!(
                "{} {}/{}",
                l["ifname"].as_str().unwrap_or("?"),
                a["local"].as_str().unwrap_or("?"),
                a["prefixlen"]
            ));
        }
    }
    out.sort();
    out
}

fn summarize_routes(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} {} via {} dev {} table {}",
                r["type"].as_str().unwrap_or("unicast"),
                r["dst"].as_str().unwrap_or("?"),
                r["gateway"].as_str().unwrap_or("-"),
                r["dev"].as_str().unwrap_or("-"),
                r["table"].as_str().unwrap_or("main"),
            )
        })
        .collect();
    out.sort();
    out
}

/// One `ip -d -j -n NS -batch -` for `commands`: their JSON outputs, in order.
fn ip_batch(ns: &str, commands: &[&str]) -> Vec<Value> {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-d", "-j", "-n", ns, "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ip -batch");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(commands.join("\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "ip -n {ns} -batch {commands:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>().map(|v| v.unwrap()).collect()
}

/// Every namespace that exists among `names` (plus the list itself) with
/// its links, addresses and routes (all tables), as comparable text: one
/// `ip` process per namespace.
pub fn snapshot(names: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut s = BTreeMap::new();
    // The entries of /run/netns, read here (no `ip netns list` process: in
    // the kernel VM every process start costs a quarter of a second).
    let present: Vec<String> = std::fs::read_dir(vlanmac::netns::NETNS_RUN_DIR)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let present: Vec<&str> = present.iter().map(String::as_str).collect();
    s.insert("netns".to_string(), names.iter().filter(|n| present.contains(&n.as_str())).cloned().collect());
    // A stale entry (no namespace mounted) has nothing to list.
    let mounted = |n: &str| vlanmac::spec::NetnsName::new(n).is_ok_and(|n| vlanmac::netns::exists(&n));
    for n in names.iter().filter(|n| present.contains(&n.as_str()) && mounted(n)) {
        let parts = ip_batch(n, &["addr show", "route show table all"]);
        let (links, routes) = (parts.first().cloned().unwrap_or_default(), parts.get(1).cloned().unwrap_or_default());
        let mut v = summarize_links(&links);
        v.extend(summarize_addrs(&links));
        v.extend(summarize_routes(&routes));
        v.retain(|x| !x.contains("fe80::") && !x.starts_with("fe80"));
        s.insert(n.clone(), v);
    }
    s
}

/// [`snapshot`], with the namespace `shared` (one that other tests use at
/// the same time, like the private Docker engine's) narrowed to the lines
/// that name a device starting with `prefix`.
pub fn snapshot_scoped(names: &[String], shared: &str, prefix: &str) -> BTreeMap<String, Vec<String>> {
    let mut s = snapshot(names);
    if let Some(lines) = s.get_mut(shared) {
        lines.retain(|l| l.split_whitespace().any(|tok| tok.starts_with(prefix)));
    }
    s
}

/// Links named like vlanmac's temporary names, in the given namespaces.
pub fn temp_links(names: &[String]) -> Vec<String> {
    let listed = run_ip(&["netns", "list"]);
    let mut out = Vec::new();
    for n in names {
        if !listed.lines().any(|l| l.split_whitespace().next() == Some(n)) {
            continue;
        }
        for l in ip_json(Some(n), &["link", "show"]).as_array().into_iter().flatten() {
            let name = l["ifname"].as_str().unwrap_or("");
            if name.starts_with(vlanmac::TEMP_PREFIX) {
                out.push(format!("{n}/{name}"));
            }
        }
    }
    out
}

/// Applies `t` once to count its netlink writes, takes it down, then applies
/// it again with a failure injected at each write in turn. After each: the
/// error is `Apply` naming the failed step, rollback reported no failure,
/// the state of every namespace equals `before`, no temporary-named link is
/// left. Returns how many faults were injected.
pub async fn assert_rollback_at_every_write(
    t: &Topology,
    names: &[String],
    before: &BTreeMap<String, Vec<String>>,
) -> u64 {
    use vlanmac::{topology::Options, Error, FaultInjector};
    let counting = Shared::default();
    t.apply(&Options { shared: counting.clone(), progress: None, ..Default::default() }).await.unwrap();
    let total = counting.stats.writes();
    t.down(&Options::default()).await.unwrap();
    assert_eq!(&snapshot(names), before, "down did not restore the state");
    for k in 1..=total {
        let faults = std::sync::Arc::new(FaultInjector::fail_write(k, libc::EIO));
        let shared = Shared { faults: Some(faults.clone()), ..Shared::default() };
        let res = t.apply(&Options { shared, progress: None, ..Default::default() }).await.map(|r| r.writes);
        let err = res.expect_err(&format!("write {k} of {total}: the apply succeeded"));
        assert!(faults.fired(), "write {k}");
        let Error::Apply { step, source, rollback } = &err else { panic!("write {k}: not an Apply error: {err}") };
        assert!(rollback.is_empty(), "write {k}: rollback failed: {rollback:?}");
        assert!(!step.is_empty() && err.to_string().contains(step.as_str()), "write {k}: {err}");
        assert!(source.to_string().contains("fault injected"), "write {k}: {source}");
        assert_eq!(&snapshot(names), before, "write {k} ({step}): state differs after rollback");
        assert!(temp_links(names).is_empty(), "write {k}: {:?}", temp_links(names));
    }
    total
}

/// Runs the `vlanmac` binary; returns (exit code, stdout, stderr).
pub fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vlanmac")).args(args).output().expect("run vlanmac");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` to a fresh file named `name` in a temp dir and returns its path.
pub fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vlanmac-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[path = "../../benches/common/scale.rs"]
mod scale;
pub use scale::{scale_addr, scale_yaml};
