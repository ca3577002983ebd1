//! `vlanmac agent` on this machine's kernel (untagged networks on veth
//! trunks): an independent actor (`ip`) breaks what the agent keeps, and
//! the state comes back (read with `ip -d -j`), `vlanmac verify` passes,
//! `vlanmac status --json` and `/metrics` count the repair; a foreign link
//! is reported and left alone; a drift re-applied every 100 ms is backed
//! off as flapping; files added, changed, refused and removed; SIGHUP; a
//! second agent refused; SIGTERM leaves everything up; SIGKILL at netlink
//! writes of the start and of a repair, then a restart that converges with
//! nothing left behind.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{agent_common::*, common::*, topo_common::*};

/// A lab topology of `n` endpoints on two untagged networks (`lan` with an
/// explicit MTU, IPv4 and IPv6; `lan2` IPv4), named after `p`.
fn lab(p: &str, n: usize) -> String {
    let mut eps = String::new();
    for i in 0..n {
        let attach = if i % 2 == 0 {
            format!("{{ network: lan, ipv4: 10.93.0.{}, ipv6: \"2001:db8:93::{:x}\" }}", 10 + i, 10 + i)
        } else {
            format!("{{ network: lan2, ipv4: 10.94.0.{} }}", 10 + i)
        };
        eps.push_str(&format!("  {p}-e{i}: {{ attach: [ {attach} ] }}\n"));
    }
    format!(
        "name: {p}\nnamespace: {p}-host\nlab: {{ trunk: eth0, router: {p}-rtr }}\nnetworks:\n  lan:\n    parent: eth0\n    mtu: 1500\n    subnets:\n      - {{ subnet: 10.93.0.0/24, gateway: 10.93.0.1 }}\n      - {{ subnet: \"2001:db8:93::/64\", gateway: \"2001:db8:93::1\" }}\n  lan2:\n    parent: eth0\n    subnets: [ {{ subnet: 10.94.0.0/24, gateway: 10.94.0.1 }} ]\nendpoints:\n{eps}"
    )
}

fn p(tag: &str) -> String {
    format!("vag{}{tag}", std::process::id() % 100_000)
}

/// `ip -n NS -d -j link show dev DEV`, if it is there.
fn link(ns: &str, dev: &str) -> Option<Value> {
    let v = std::process::Command::new("ip")
        .args(["-j", "-d", "-n", ns, "link", "show", "dev", dev])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    serde_json::from_slice::<Value>(&v.stdout).ok()?.get(0).cloned()
}

fn up(l: &Value) -> bool {
    l["flags"].as_array().is_some_and(|f| f.iter().any(|x| x == "UP"))
}

fn v4(ns: &str, dev: &str) -> Vec<String> {
    std::process::Command::new("ip")
        .args(["-j", "-n", ns, "-4", "addr", "show", "dev", dev])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|v| v.get(0).cloned())
        .map(|l| global_addresses(&l).into_iter().collect())
        .unwrap_or_default()
}

fn has_default_route(ns: &str) -> bool {
    std::process::Command::new("ip")
        .args(["-j", "-n", ns, "-4", "route", "show", "default"])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|v| v.as_array().map(|a| !a.is_empty()))
        .unwrap_or(false)
}

fn verify_passes(file: &Path) {
    let (code, out, err) = cli(&["verify", file.to_str().unwrap()]);
    assert_eq!(code, 0, "vlanmac verify {}: {out}{err}", file.display());
}

fn repairs(run: &AgentRun, t: &str) -> u64 {
    run.topology(t)["repairs"].as_u64().unwrap_or(0)
}

/// Waits until `t` has made more than `before` repairs and is converged again.
fn repaired_since(run: &AgentRun, t: &str, before: u64) -> Value {
    run.wait_until(&format!("{t} repaired and converged"), |s| {
        s["topologies"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["name"] == t && x["repairs"].as_u64().unwrap_or(0) > before && x["state"] == "converged")
    })
}

/// A drift: what it is, how an outside actor makes it, and how `ip` tells
/// it was repaired.
type Drift<'a> = (&'a str, Box<dyn Fn() + 'a>, Box<dyn Fn() -> bool + 'a>);

#[test]
fn the_agent_repairs_what_an_independent_actor_breaks() {
    let dir = Scratch::new("drift");
    let (a, b) = (p("a"), p("b"));
    // Topology B hangs off a trunk the test owns (not the topology's), so
    // the test can delete it and make it again as a NIC would come back.
    let host = TestNs::new("bh");
    let far = TestNs::new("bf");
    let make_trunk = || {
        host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1", "netns", far.name.as_str()]);
        host.ip(&["link", "set", "trunk0", "up"]);
        far.ip(&["link", "set", "trunk1", "up"]);
    };
    make_trunk();
    let b_yaml = format!(
        "name: {b}\nnamespace: {host}\nnetworks:\n  lan: {{ parent: trunk0, subnets: [ {{ subnet: 10.95.0.0/24 }} ] }}\nendpoints:\n  {b}-e0: {{ attach: [ {{ network: lan, ipv4: 10.95.0.2 }} ] }}\n  {b}-e1: {{ attach: [ {{ network: lan, ipv4: 10.95.0.3 }} ] }}\n",
        host = host.name
    );
    let fa = dir.0.join("a.yaml");
    let fb = dir.0.join("b.yaml");
    std::fs::write(&fa, lab(&a, 20)).unwrap();
    std::fs::write(&fb, b_yaml).unwrap();
    let run = AgentRun::start(&[&dir.0], &[], &[fa.clone(), fb.clone()]);
    verify_passes(&fa);
    verify_passes(&fb);
    let e = |i: usize| format!("{a}-e{i}");
    let drifts: Vec<Drift> = vec![
        (
            "an endpoint's macvlan deleted",
            Box::new(|| ip(&["-n", &e(3), "link", "del", "eth0"])),
            Box::new(|| link(&e(3), "eth0").is_some_and(|l| l["linkinfo"]["info_kind"] == "macvlan" && up(&l))),
        ),
        (
            "an address flushed",
            Box::new(|| ip(&["-n", &e(4), "addr", "flush", "dev", "eth0"])),
            Box::new(|| v4(&e(4), "eth0") == ["10.93.0.14/24"]),
        ),
        (
            "a link set down",
            Box::new(|| ip(&["-n", &e(5), "link", "set", "eth0", "down"])),
            Box::new(|| link(&e(5), "eth0").is_some_and(|l| up(&l))),
        ),
        (
            "an MTU changed",
            Box::new(|| ip(&["-n", &e(6), "link", "set", "eth0", "mtu", "1400"])),
            Box::new(|| link(&e(6), "eth0").is_some_and(|l| l["mtu"] == 1500)),
        ),
        (
            "a route deleted",
            Box::new(|| ip(&["-n", &e(7), "route", "del", "default"])),
            Box::new(|| has_default_route(&e(7))),
        ),
        (
            "an endpoint's namespace deleted",
            Box::new(|| ip(&["netns", "del", &e(8)])),
            Box::new(|| link(&e(8), "eth0").is_some_and(|l| up(&l)) && v4(&e(8), "eth0") == ["10.93.0.18/24"]),
        ),
    ];
    for (what, drift, back) in &drifts {
        let before = repairs(&run, &a);
        drift();
        let took = run.wait_for(what, back);
        repaired_since(&run, &a, before);
        verify_passes(&fa);
        println!("agent: {what}: back after {took:?}");
    }
    // B's trunk deleted (its macvlans go with it: the kernel deletes them
    // everywhere), then made again: VLAN-less macvlans back on it.
    let before = repairs(&run, &b);
    host.ip(&["link", "del", "trunk0"]);
    run.wait_for("B's macvlans gone with their parent", || link(&format!("{b}-e0"), "eth0").is_none());
    make_trunk();
    run.wait_for("B's macvlans back on the new trunk", || {
        link(&format!("{b}-e0"), "eth0").is_some() && link(&format!("{b}-e1"), "eth0").is_some()
    });
    repaired_since(&run, &b, before);
    verify_passes(&fb);
    // Status and metrics count what happened.
    let st = run.topology(&a);
    assert!(st["repairs"].as_u64().unwrap() >= drifts.len() as u64, "{st}");
    assert!(st["last_repair"]["changes"].as_array().is_some_and(|c| !c.is_empty()), "{st}");
    let m = run.metrics();
    assert!(m.contains(&format!("vlanmac_repairs_total{{topology=\"{a}\",kind=\"link\"}}")), "{m}");
    assert!(m.contains(&format!("vlanmac_converged{{topology=\"{a}\"}} 1")), "{m}");
    assert!(run.metric(&format!("vlanmac_drift_events_total{{topology=\"{a}\"}}")) >= drifts.len() as f64, "{m}");
    assert!(run.metric(&format!("vlanmac_repair_duration_seconds_count{{topology=\"{a}\"}}")) >= drifts.len() as f64);
}

/// A foreign link where a topology wants one is reported and left alone;
/// a drift re-applied every 100 ms is backed off and reported as
/// flapping, with the agent's CPU time bounded.
#[test]
fn foreign_links_are_left_alone_and_fights_are_backed_off() {
    let dir = Scratch::new("fight");
    let a = p("f");
    let fa = dir.0.join("a.yaml");
    std::fs::write(&fa, lab(&a, 4)).unwrap();
    let run = AgentRun::start(&[&dir.0], &[], std::slice::from_ref(&fa));
    // A file added with an endpoint whose namespace holds a veth `eth0`.
    let pre = TestNs::new("fx");
    pre.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "x1"]);
    let c = p("c");
    let fc = dir.0.join("c.yaml");
    std::fs::write(
        &fc,
        format!(
            "name: {c}\nnamespace: {c}-host\nlab: {{ trunk: eth0, router: {c}-rtr }}\nnetworks:\n  lan: {{ parent: eth0, subnets: [ {{ subnet: 10.96.0.0/24, gateway: 10.96.0.1 }} ] }}\nendpoints:\n  x: {{ netns: {}, attach: [ {{ network: lan, ipv4: 10.96.0.2 }} ] }}\n",
            pre.name
        ),
    )
    .unwrap();
    let _guard_c = TopoGuard(vlanmac::topology::Topology::from_path(&fc).unwrap());
    let failed = run.wait_until("the topology with a foreign link reported", |s| {
        s["topologies"].as_array().into_iter().flatten().any(|t| t["name"] == c.as_str() && t["state"] == "failed")
    });
    let err = failed["topologies"].as_array().unwrap().iter().find(|t| t["name"] == c.as_str()).unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(err.contains("eth0") && err.contains("veth"), "{err}");
    let l = link(pre.name.as_str(), "eth0").expect("the foreign veth was removed");
    assert_eq!(l["linkinfo"]["info_kind"], "veth");
    std::fs::remove_file(&fc).unwrap();
    let _ = cli(&["down", fc.to_str().unwrap()]);

    // Someone sets e1's link down every 100 ms for 8 s.
    let victim = format!("{a}-e1");
    let before_repairs = repairs(&run, &a);
    let cpu0 = run.cpu();
    let t0 = Instant::now();
    let mut flapping_seen = false;
    while t0.elapsed() < Duration::from_secs(8) {
        ip(&["-n", &victim, "link", "set", "eth0", "down"]);
        std::thread::sleep(Duration::from_millis(100));
        flapping_seen |= run.topology(&a)["state"] == "flapping";
    }
    let cpu = run.cpu() - cpu0;
    let made = repairs(&run, &a) - before_repairs;
    let st = run.topology(&a);
    assert!(flapping_seen, "never reported flapping: {st}\n{}", run.log());
    assert!(made <= 12, "{made} repairs in 8 s of fighting: not backed off\n{st}");
    assert!(cpu < Duration::from_secs(2), "the agent used {cpu:?} of CPU in 8 s of fighting");
    assert!(run.log().contains("flapping"), "{}", run.log());
    println!(
        "agent: 8 s of a link set down every 100 ms: {made} repairs, {cpu:?} of CPU, backed off to {}s",
        st["backoff_s"]
    );
    // The fight over, it converges again.
    run.wait_for("the link back up after the fight", || link(&victim, "eth0").is_some_and(|l| up(&l)));
}

/// Files added, changed, refused and removed in a watched folder; SIGHUP;
/// a second agent; SIGTERM.
#[test]
fn files_signals_and_one_agent_per_socket() {
    let dir = Scratch::new("files");
    let (a, b) = (p("h"), p("i"));
    let fa = dir.0.join("a.yaml");
    let fb = dir.0.join("b.yaml");
    std::fs::write(&fa, lab(&a, 2)).unwrap();
    let mut run = AgentRun::start(&[&dir.0], &[], &[fa.clone(), fb.clone()]);
    // Added: applied.
    std::fs::write(&fb, lab(&b, 2)).unwrap();
    run.wait_for("a file added applied", || link(&format!("{b}-e1"), "eth0").is_some());
    // Changed: one more endpoint.
    std::fs::write(&fb, lab(&b, 3)).unwrap();
    run.wait_for("a file changed applied", || link(&format!("{b}-e2"), "eth0").is_some());
    // Refused: the last good version keeps running, the field is named.
    // (A copy of the good version, outside the watched folder, is what the
    // fixture takes down if the test fails before the file is removed.)
    let good_b = run.dir.0.join("b-good.yaml");
    std::fs::write(&good_b, lab(&b, 3)).unwrap();
    run.files.push(good_b);
    std::fs::write(&fb, lab(&b, 3).replace("mtu: 1500", "mtu: 99999")).unwrap();
    let s = run.wait_until("a refused file reported", |s| {
        s["topologies"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["name"] == b.as_str() && t["error"].as_str().is_some_and(|e| e.contains("networks.lan.mtu")))
    });
    assert!(link(&format!("{b}-e2"), "eth0").is_some(), "the last good version stopped: {s}");
    assert!(run.metrics().contains("vlanmac_config_errors_total"), "{}", run.metrics());
    // A repair of the last good version keeps the file's error reported
    // (a successful apply once cleared it: seen as a flaky failure above,
    // when a repair of the changed file came after the refusal).
    let e0 = format!("{b}-e0");
    let repairs = |s: &serde_json::Value| {
        s["topologies"].as_array().into_iter().flatten().find(|t| t["name"] == b.as_str()).map(|t| t["repairs"].clone())
    };
    let before = repairs(&run.status());
    let flushed = std::process::Command::new("ip").args(["-n", &e0, "addr", "flush", "dev", "eth0"]).status().unwrap();
    assert!(flushed.success());
    let s = run.wait_until("the flushed address repaired", |s| repairs(s) != before);
    let t = s["topologies"].as_array().unwrap().iter().find(|t| t["name"] == b.as_str()).unwrap();
    assert!(
        t["error"].as_str().is_some_and(|e| e.contains("networks.lan.mtu")),
        "a repair cleared the refused file's error: {s}"
    );
    // Removed: taken down.
    std::fs::remove_file(&fb).unwrap();
    run.wait_for("a file removed taken down", || !Path::new(&format!("/run/netns/{b}-e0")).exists());
    // SIGHUP re-reads the files.
    unsafe_kill(run.pid(), libc::SIGHUP);
    run.wait_for("SIGHUP re-read the files", || run.log().contains("(SIGHUP)"));
    // A second agent on the same socket is refused, naming the first.
    let second = std::process::Command::new(cli_path())
        .args(["agent", dir.0.to_str().unwrap(), "--socket"])
        .arg(&run.socket)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("another vlanmac agent is running (PID {}", run.pid())), "{err}");
    // SIGTERM: exit 0, everything left up.
    assert_eq!(run.stop_with(libc::SIGTERM), Some(0), "{}", run.log());
    assert!(link(&format!("{a}-e1"), "eth0").is_some(), "SIGTERM took something down");
    verify_passes(&fa);
    assert!(!run.socket.exists(), "the socket stayed after the agent stopped");
}

/// SIGKILL at netlink writes of the agent's first apply and of a repair,
/// then a restart: it converges, with no stale namespace entry and no
/// temporary-named link left, and `verify` passes.
#[test]
fn killed_at_any_write_it_converges_on_restart() {
    let dir = Scratch::new("kill");
    let a = p("k");
    let fa = dir.0.join("a.yaml");
    std::fs::write(&fa, lab(&a, 4)).unwrap();
    let t = vlanmac::topology::from_yaml(&lab(&a, 4), "x").unwrap();
    let names = namespaces_of(&t);
    let _guard = TopoGuard(t.clone());
    // Writes of a first apply from nothing, measured with the CLI.
    let (code, out, _) = cli(&["apply", "--json", fa.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let writes = serde_json::from_str::<Value>(&out).unwrap()["writes"].as_u64().unwrap();
    let _ = cli(&["down", fa.to_str().unwrap()]);
    let clean = |what: &str| {
        assert!(temp_links(&names).is_empty(), "{what}: temporary links left: {:?}", temp_links(&names));
        for n in &names {
            let name = vlanmac::spec::NetnsName::new(n.clone()).unwrap();
            assert_ne!(vlanmac::netns::entry(&name), vlanmac::netns::Entry::Stale, "{what}: stale entry {n}");
        }
    };
    let kill_points: Vec<(u64, &str)> = crate::crash_common::spread(writes, 4)
        .into_iter()
        .map(|k| (k, "first apply"))
        .chain([(writes + 1, "repair"), (writes + 3, "repair")])
        .collect();
    for (k, when) in kill_points {
        // Each kill point counts from an agent applying from nothing.
        let _ = cli(&["down", fa.to_str().unwrap()]);
        let env = [("VLANMAC_FAULT_KILL_AT_WRITE", k.to_string())];
        let env: Vec<(&str, &str)> = env.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let mut run = AgentRun::spawn(&[&dir.0], &env, &[]);
        if when == "repair" {
            run.wait_until("converged before the drift", |s| {
                s["topologies"].as_array().is_some_and(|t| t.iter().all(|t| t["state"] == "converged") && !t.is_empty())
            });
            ip(&["netns", "del", &format!("{a}-e2")]);
        }
        let t0 = Instant::now();
        let died = loop {
            if let Some(Ok(Some(st))) = run.child.as_mut().map(|c| c.try_wait()) {
                break st;
            }
            assert!(t0.elapsed() < patience(), "not killed at write {k} ({when})\n{}", run.log());
            std::thread::sleep(Duration::from_millis(10));
        };
        run.child = None;
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(died.signal(), Some(libc::SIGKILL), "write {k} ({when}): {died:?}\n{}", run.log());
        drop(run);
        let again = AgentRun::start(&[&dir.0], &[], &[]);
        clean(&format!("after a kill at write {k} ({when})"));
        verify_passes(&fa);
        drop(again);
        println!("agent: killed at write {k} of {writes} ({when}): the restart converged, nothing left");
    }
    let _ = cli(&["down", fa.to_str().unwrap()]);
}

/// Pods whose namespaces go without DEL (force-deleted) are collected: the
/// records and host-local's leases go; a live pod is never touched.
#[test]
fn cni_attachments_of_gone_pods_are_collected() {
    let Some(plugin) = cni_plugin() else {
        assert!(!kernel_required(), "vlanmac-cni is not built beside the tests");
        record_skip("cni_attachments_of_gone_pods_are_collected", "vlanmac-cni is not built");
        return;
    };
    if !Path::new("/usr/lib/cni/host-local").exists() {
        assert!(!kernel_required(), "host-local is not installed");
        record_skip("cni_attachments_of_gone_pods_are_collected", "host-local is not installed");
        return;
    }
    cni_collection(&plugin, None);
}

/// The plugin vlanmac-cni, built beside these tests (`cargo build --workspace`).
pub fn cni_plugin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("vlanmac-cni");
    p.exists().then_some(p)
}

/// The CNI collection test, untagged or on VLAN `vlan`.
pub fn cni_collection(plugin: &Path, vlan: Option<u16>) {
    let rt = TestNs::new("crt");
    let far = TestNs::new("cfar");
    rt.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1", "netns", far.name.as_str()]);
    rt.ip(&["link", "set", "trunk0", "up"]);
    rt.ip(&["link", "set", "lo", "up"]);
    let scratch = Scratch::new("cni");
    let state = scratch.0.join("state");
    let data = scratch.0.join("host-local");
    let mut conf = serde_json::json!({
        "cniVersion": "1.0.0", "name": "gone", "type": "vlanmac-cni", "master": "trunk0",
        "ipam": { "type": "host-local", "subnet": "10.97.0.0/24", "dataDir": data.display().to_string() }
    });
    if let Some(v) = vlan {
        conf["vlan"] = serde_json::json!(v);
    }
    let pods: Vec<TestNs> = (0..3).map(|i| TestNs::new(&format!("pod{i}"))).collect();
    let exec = |verb: &str, i: usize| {
        let mut c = std::process::Command::new("ip");
        c.args(["netns", "exec", rt.name.as_str()])
            .arg(plugin)
            .env_clear()
            .env("CNI_COMMAND", verb)
            .env("CNI_CONTAINERID", format!("c{i}"))
            .env("CNI_IFNAME", "net1")
            .env("CNI_NETNS", format!("/run/netns/{}", pods[i].name))
            .env("CNI_PATH", "/usr/lib/cni")
            .env("VLANMAC_CNI_STATE_DIR", &state)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(conf.to_string().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{verb} c{i}: {}", String::from_utf8_lossy(&out.stdout));
    };
    for i in 0..3 {
        exec("ADD", i);
    }
    let leases = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(data.join("gone"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.parse::<std::net::IpAddr>().is_ok())
            .collect();
        v.sort();
        v
    };
    let records = || std::fs::read_dir(state.join("attachments")).map(|d| d.count()).unwrap_or(0);
    assert_eq!((leases().len(), records()), (3, 3));
    // The agent runs in the runtime's namespace, as the runtime's plugins do.
    let topologies = Scratch::new("none");
    let socket = scratch.0.join("agent.sock");
    let mut agent = Spawned(
        std::process::Command::new("ip")
            .args(["netns", "exec", rt.name.as_str()])
            .arg(cli_path())
            .args(["agent", topologies.0.to_str().unwrap(), "--socket"])
            .arg(&socket)
            .env("VLANMAC_CNI_STATE_DIR", &state)
            .stderr(std::fs::File::create(scratch.0.join("agent.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let ask = || {
        let out = std::process::Command::new(cli_path()).args(["status", "--json", "--socket"]).arg(&socket).output();
        out.ok().and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok()).unwrap_or(Value::Null)
    };
    let t0 = Instant::now();
    while ask().is_null() {
        assert!(t0.elapsed() < patience(), "the agent never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let vlan_name = vlan.map(|v| format!("trunk0.{v}"));
    let vlan_there = || vlan_name.as_ref().is_none_or(|n| link(rt.name.as_str(), n).is_some());
    // Pods 0 and 1 force-deleted: their namespaces go, no DEL.
    let (p0, p1) = (pods[0].name.to_string(), pods[1].name.to_string());
    ip(&["netns", "del", &p0]);
    ip(&["netns", "del", &p1]);
    let t0 = Instant::now();
    while records() > 1 || leases().len() > 1 {
        let log = std::fs::read_to_string(scratch.0.join("agent.log")).unwrap_or_default();
        assert!(t0.elapsed() < patience(), "not collected: {} records, leases {:?}\n{log}", records(), leases());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The live pod is untouched: its interface, its lease, its VLAN.
    assert_eq!(leases(), ["10.97.0.4"], "a live pod's lease went");
    assert!(link(pods[2].name.as_str(), "net1").is_some(), "a live pod's interface went");
    assert!(vlan_there(), "the VLAN went while a pod uses it");
    if vlan.is_some() {
        // The last one gone: the VLAN goes with it.
        let p2 = pods[2].name.to_string();
        ip(&["netns", "del", &p2]);
        let t0 = Instant::now();
        while vlan_there() || records() > 0 {
            assert!(t0.elapsed() < patience(), "the VLAN outlived its last pod");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let s = ask();
    assert!(s["cni_collected"].as_u64().unwrap_or(0) >= 2, "{s}");
    assert_eq!(agent.stop(), Some(0));
    if vlan.is_none() {
        exec("DEL", 2);
    }
    drop(pods);
}

/// systemd's notify protocol against a real `NOTIFY_SOCKET` datagram
/// listener, as systemd runs a `Type=notify` service with `WatchdogSec`:
/// READY=1 with a STATUS line once every topology is applied, WATCHDOG=1
/// at half of `WATCHDOG_USEC`, STOPPING=1 on SIGTERM.
#[test]
fn the_agent_speaks_systemds_notify_protocol() {
    let dir = Scratch::new("notify");
    let a = p("n");
    let fa = dir.0.join("a.yaml");
    std::fs::write(&fa, lab(&a, 2)).unwrap();
    let path = dir.0.join("notify.sock");
    let listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    listener.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let env = [("NOTIFY_SOCKET", path.to_str().unwrap()), ("WATCHDOG_USEC", "400000")];
    let mut run = AgentRun::spawn(&[&dir.0], &env, std::slice::from_ref(&fa));
    let mut got: Vec<String> = Vec::new();
    let mut buf = [0u8; 4096];
    let t0 = Instant::now();
    let watchdogs = |got: &[String]| got.iter().filter(|m| m.as_str() == "WATCHDOG=1").count();
    while !(got.iter().any(|m| m.starts_with("READY=1")) && watchdogs(&got) >= 3) {
        assert!(t0.elapsed() < patience(), "notify: {got:?}\n{}", run.log());
        if let Ok(n) = listener.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let ready = got.iter().find(|m| m.starts_with("READY=1")).unwrap();
    // READY comes once the topology is applied (the kernel's own
    // notifications after the apply, a carrier coming up, may have it
    // looked at once more: "repairing" until that look).
    assert!(ready.contains("\nSTATUS=1 topologies: ") && !ready.contains("1 failed"), "{ready}");
    assert!(link(&format!("{a}-e1"), "eth0").is_some());
    run.wait_until("converged", |s| s["topologies"][0]["state"] == "converged");
    assert_eq!(run.stop_with(libc::SIGTERM), Some(0), "{}", run.log());
    let mut tail = Vec::new();
    while let Ok(n) = listener.recv(&mut buf) {
        tail.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(tail.iter().any(|m| m == "STOPPING=1"), "{tail:?}");
    println!("agent: notify socket got {} datagrams before SIGTERM, {} after: {:?}", got.len(), tail.len(), tail);
}

/// Notifications the kernel drops (ENOBUFS, a burst beyond the monitor's
/// buffer) make an immediate full resync: every topology is looked at,
/// also those the burst's namespace is nothing to.
#[test]
fn lost_notifications_make_a_full_resync() {
    let dir = Scratch::new("lost");
    let (a, b) = (p("la"), p("lb"));
    let fa = dir.0.join("a.yaml");
    let fb = dir.0.join("b.yaml");
    std::fs::write(&fa, lab(&a, 2)).unwrap();
    std::fs::write(&fb, lab(&b, 2).replace("10.93.", "10.83.").replace("10.94.", "10.84.").replace(":93:", ":83:"))
        .unwrap();
    let run = AgentRun::start(&[&dir.0], &[("VLANMAC_AGENT_MONITOR_BUFFER", "1")], &[fa.clone(), fb.clone()]);
    let drift_b = || run.topology(&b)["drift_events"].as_u64().unwrap_or(0);
    let before = drift_b();
    // A burst in A's router namespace: 200 veth pairs at once.
    let batch: String = (0..200).map(|i| format!("link add a{i} type veth peer name b{i}\n")).collect();
    let file = dir.0.join("burst.batch");
    std::fs::write(&file, batch).unwrap();
    ip(&["-n", &format!("{a}-rtr"), "-batch", file.to_str().unwrap()]);
    run.wait_for("a resync of B after A's notifications were lost", || drift_b() > before);
    assert!(run.log().contains("lost (ENOBUFS): resync"), "{}", run.log());
    run.wait_until("both converged", |s| {
        s["topologies"].as_array().is_some_and(|t| t.len() == 2 && t.iter().all(|t| t["state"] == "converged"))
    });
    // The burst's links are nobody's: left alone.
    assert!(link(&format!("{a}-rtr"), "a199").is_some());
}
