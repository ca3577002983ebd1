//! The topology engine on this machine's kernel (untagged networks; the
//! 802.1Q cases are in `seed.rs` and run in the kernel VM).

use crate::{common::*, topo_common::*};
use vlanmac::{
    topology::{self, Options},
    verify::CheckKind,
    Error, Shared,
};

#[tokio::test]
async fn apply_is_idempotent_verify_passes_down_removes_everything() {
    let t = topo(&flat_yaml("cyc"));
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let guard = TopoGuard(t.clone());
    let shared = Shared::default();
    let res = t.apply(&Options { shared: shared.clone(), progress: None, ..Default::default() }).await.unwrap();
    assert!(res.changed && res.writes > 0);

    // Cross-check with iproute2.
    let a = &names[2];
    let b = &names[3];
    let ja = ip_json(Some(a), &["-d", "link", "show", "dev", "eth0"]);
    assert_eq!(ja[0]["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(ja[0]["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(ja[0]["address"], "02:42:0a:4d:00:02");
    assert_eq!(ja[0]["ifalias"], format!("vlanmac:{}", t.name));
    let addrs = TestNsView(a).addrs();
    assert!(
        addrs.contains(&"10.77.0.2/24".to_string()) && addrs.contains(&"2001:db8:77::2/64".to_string()),
        "{addrs:?}"
    );
    // IPAM gave b the first free address (.1 gateway, .2 static).
    assert!(TestNsView(b).addrs().contains(&"10.77.0.3/24".to_string()));
    let r = ip_json(Some(a), &["route", "show", "default"]);
    assert_eq!((r[0]["gateway"].as_str(), r[0]["dev"].as_str()), (Some("10.77.0.1"), Some("eth0")));
    let r6 = ip_json(Some(a), &["-6", "route", "show", "default"]);
    assert_eq!(r6[0]["gateway"], "2001:db8:77::1");
    let fwd = std::process::Command::new("ip")
        .args(["netns", "exec", &names[1], "cat", "/proc/sys/net/ipv4/conf/all/forwarding"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&fwd.stdout).trim(), "1");

    // A second apply changes nothing and sends no write.
    let stats = Shared::default();
    let again = t.apply(&Options { shared: stats.clone(), progress: None, ..Default::default() }).await.unwrap();
    assert!(!again.changed, "{:?}", again.changes);
    assert_eq!(stats.stats.writes(), 0);
    assert!(stats.stats.requests() > 0);
    assert!(t.plan(&Options::default()).await.unwrap().is_empty());

    // verify: pings, hop counts, router neighbours, host shim.
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    let kinds = |k| report.checks.iter().filter(|c| c.kind == k).count();
    assert!(kinds(CheckKind::Ping) >= 8 && kinds(CheckKind::Hops) >= 4 && kinds(CheckKind::Neighbour) == 2, "{report}");
    assert!(report.checks.iter().any(|c| c.from.ends_with("(host)") && c.ok), "{report}");

    let down = t.down(&Options::default()).await.unwrap();
    assert!(down.removed.iter().any(|r| r.contains("one request")), "{:?}", down.removed);
    assert_eq!(snapshot(&names), before);
    drop(guard);
}

/// `ip -n NS -j addr` for a namespace the test did not make with TestNs.
struct TestNsView<'a>(&'a str);
impl TestNsView<'_> {
    fn addrs(&self) -> Vec<String> {
        let v = ip_json(Some(self.0), &["addr", "show", "dev", "eth0"]);
        v[0]["addr_info"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| format!("{}/{}", x["local"].as_str().unwrap_or(""), x["prefixlen"]))
            .collect()
    }
}

/// A topology in namespaces the test made itself (so rollback must undo
/// link by link there): a pre-existing host namespace with its own trunk,
/// and a pre-existing endpoint namespace.
fn preexisting_yaml(p: &str, host: &str, ep: &str) -> String {
    format!(
        r#"
name: {p}
namespace: {host}
networks:
  lan:
    parent: trunk0
    subnets: [ {{ subnet: 10.78.0.0/24, gateway: 10.78.0.1 }}, {{ subnet: "2001:db8:78::/64", gateway: "2001:db8:78::1" }} ]
    host_shim: {{ name: shim0, ipv4: 10.78.0.254 }}
endpoints:
  e1: {{ netns: {ep}, attach: [ {{ network: lan, ipv4: 10.78.0.2 }} ] }}
  {p}-e2: {{ attach: [ {{ network: lan, ipv4: 10.78.0.3 }} ] }}
"#
    )
}

/// A failure injected at every netlink write of an apply, in turn: each
/// time the error names the failing step, the kernel state of every
/// namespace involved equals the state before, and no temporary link is
/// left.
#[tokio::test]
async fn rollback_after_a_failure_at_every_step() {
    let host = TestNs::new("rbh");
    let ep = TestNs::new("rbe");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["link", "set", "trunk0", "up"]);
    host.ip(&["link", "set", "trunk1", "up"]); // carrier for the macvlans
    let p = format!("vt{}rb", std::process::id());
    let t = topo(&preexisting_yaml(&p, host.name.as_str(), ep.name.as_str()));
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);

    let total = assert_rollback_at_every_write(&t, &names, &before).await;
    assert!(total >= 10, "{total}");
    println!("fault injection (pre-existing trunk and namespace): {total} faults injected, {total} rollbacks to the state before");
    // And with no fault it converges. (No lab router here, so nothing
    // answers for the gateways; everything else must pass.)
    t.apply(&Options::default()).await.unwrap();
    let report = t.verify(&Options::default()).await.unwrap();
    let failed: Vec<_> = report.failures().filter(|c| !c.to.starts_with("gateway")).collect();
    assert!(failed.is_empty(), "{report}");
    assert!(report.failures().count() > 0, "gateway pings cannot pass without a router:\n{report}");
    t.down(&Options::default()).await.unwrap();
    assert_eq!(snapshot(&names), before);
}

/// `down` removes exactly what was created: the pre-existing trunk, the
/// pre-existing endpoint namespace and another topology's links stay.
#[tokio::test]
async fn down_keeps_preexisting_parents_and_other_topologies() {
    let host = TestNs::new("dkh");
    let ep = TestNs::new("dke");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["link", "set", "trunk0", "up"]);
    let pa = format!("vt{}dka", std::process::id());
    let a = topo(&preexisting_yaml(&pa, host.name.as_str(), ep.name.as_str()));
    let pb = format!("vt{}dkb", std::process::id());
    let b = topo(&format!(
        r#"
name: {pb}
namespace: {}
networks:
  other: {{ parent: trunk0, subnets: [ {{ subnet: 10.79.0.0/24 }} ] }}
endpoints:
  {pb}-x: {{ attach: [ {{ network: other, ipv4: 10.79.0.5 }} ] }}
"#,
        host.name
    ));
    let _ga = TopoGuard(a.clone());
    let _gb = TopoGuard(b.clone());
    a.apply(&Options::default()).await.unwrap();
    b.apply(&Options::default()).await.unwrap();
    a.down(&Options::default()).await.unwrap();
    assert!(host.has_link("trunk0") && host.has_link("trunk1"), "pre-existing trunk removed");
    assert!(!host.has_link("shim0"));
    assert!(netns_exists(ep.name.as_str()), "pre-existing endpoint namespace removed");
    assert!(!ep.has_link("eth0"));
    // b is untouched and still works.
    assert!(b.plan(&Options::default()).await.unwrap().is_empty());
    let xs = format!("{pb}-x");
    assert!(TestNsView(&xs).addrs().contains(&"10.79.0.5/24".to_string()));
    b.down(&Options::default()).await.unwrap();
    assert!(!netns_exists(&xs));
    assert!(host.has_link("trunk0"));
}

fn netns_exists(name: &str) -> bool {
    run_ip(&["netns", "list"]).lines().any(|l| l.split_whitespace().next() == Some(name))
}

/// IPAM skips addresses already present in the kernel.
#[tokio::test]
async fn ipam_avoids_addresses_present_in_the_kernel() {
    let host = TestNs::new("ipk");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    host.ip(&["addr", "add", "10.80.0.2/24", "dev", "trunk1"]);
    let p = format!("vt{}ipk", std::process::id());
    let t = topo(&format!(
        r#"
name: {p}
namespace: {}
networks:
  n: {{ parent: trunk0, subnets: [ {{ subnet: 10.80.0.0/24, gateway: 10.80.0.1 }} ] }}
endpoints:
  {p}-e: {{ attach: [ {{ network: n }} ] }}
"#,
        host.name
    ));
    let _g = TopoGuard(t.clone());
    t.apply(&Options::default()).await.unwrap();
    let e = format!("{p}-e");
    assert_eq!(
        TestNsView(&e).addrs().iter().filter(|a| a.starts_with("10.")).collect::<Vec<_>>(),
        vec!["10.80.0.3/24"]
    );
    // Sticky: a second apply keeps it.
    assert!(t.plan(&Options::default()).await.unwrap().is_empty());
}

/// A link of the right name but another kind is a conflict; nothing changes.
#[tokio::test]
async fn a_link_of_another_kind_is_a_conflict() {
    let host = TestNs::new("cfh");
    let ep = TestNs::new("cfe");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    ep.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "x1"]);
    let p = format!("vt{}cf", std::process::id());
    let t = topo(&preexisting_yaml(&p, host.name.as_str(), ep.name.as_str()));
    let _g = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let err = t.apply(&Options::default()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert!(err.to_string().contains("is a veth but the topology needs a macvlan"), "{err}");
    assert_eq!(snapshot(&names), before);
}

#[test]
fn cli_plan_apply_check_diff_json_verify_down() {
    let yaml = flat_yaml("cli");
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let file = write_temp("cli.yaml", &yaml);
    let f = file.to_str().unwrap();

    let (code, out, _) = cli(&["plan", f]);
    assert_eq!(code, 0);
    assert!(out.contains("+ ") && out.contains("~ ") && out.contains("to create"), "{out}");
    let (code, out, _) = cli(&["plan", f, "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j["changes"].as_array().unwrap().iter().any(|c| c["sign"] == "+"));
    let (code, out, _) = cli(&["apply", f, "--check", "--diff"]);
    assert_eq!(code, 0);
    assert!(out.contains("    + 1"), "{out}"); // the sysctl's after line
    assert_eq!(snapshot(&names), before, "--check changed the kernel");

    let (code, out, err) = cli(&["apply", f, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "no progress without a terminal: {err:?}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["changed"], true);
    // The addresses it reports, IPAM's choice for endpoint b included, are
    // those `ip -j addr` shows in each endpoint's namespace.
    for e in &t.endpoints {
        let topology::EndpointNs::Netns(ns) = &e.netns else { panic!("{}: not a named namespace", e.name) };
        let held = global_addresses(&ip_json(Some(ns.as_str()), &["addr", "show", "dev", "eth0"])[0]);
        let reported: std::collections::BTreeSet<String> = j["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["endpoint"] == e.name.as_str() && a["interface"] == "eth0")
            .map(|a| format!("{}/{}", a["address"].as_str().unwrap(), a["prefix_len"]))
            .collect();
        assert_eq!((reported.len(), &reported), (2, &held), "endpoint {}", e.name);
    }
    let (code, out, _) = cli(&["apply", f, "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((j["changed"].as_bool(), j["writes"].as_u64()), (Some(false), Some(0)));

    let (code, out, _) = cli(&["verify", f]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 failed"), "{out}");
    let (code, out, _) = cli(&["show", "--netns", &names[2], "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j.as_array().unwrap().iter().any(|l| l["name"] == "eth0" && l["mode"] == "bridge"));

    // Break something: verify fails with exit 1 and says what.
    run_ip(&["-n", &names[3], "addr", "flush", "dev", "eth0"]);
    let (code, out, _) = cli(&["verify", f, "--json"]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false && c["kind"] == "readback"));

    // down --check: the same lines a real down prints, nothing changed.
    let applied = snapshot(&names);
    let (code, dry, _) = cli(&["down", f, "--check"]);
    assert_eq!(code, 0, "{dry}");
    assert!(dry.ends_with("to remove (check: nothing changed)\n"), "{dry}");
    assert_eq!(snapshot(&names), applied, "down --check changed the kernel");
    let (code, out, _) = cli(&["down", f, "--check", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["dry_run"], true);
    let (code, out, _) = cli(&["down", f]);
    assert_eq!(code, 0, "{out}");
    let lines = |s: &str| s.lines().filter(|l| l.starts_with("- ")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(lines(&out), lines(&dry), "down removed other than down --check listed");
    assert!(!lines(&out).is_empty());
    assert_eq!(snapshot(&names), before);
    let (code, out, _) = cli(&["down", f, "--check"]);
    assert_eq!(
        (code, out.as_str()),
        (0, format!("topology {}: nothing to remove (check: nothing changed)\n", t.name).as_str())
    );
}

#[test]
fn cli_invalid_input_exits_2_naming_the_field() {
    let bad = flat_yaml("bad")
        .replace("subnet: 10.77.0.0/24, gateway: 10.77.0.1", "subnet: 10.77.0.0/24, gateway: 10.78.0.1");
    let f = write_temp("bad.yaml", &bad);
    let (code, _, err) = cli(&["apply", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("networks.lan.subnets[0].gateway: 10.78.0.1 is outside the subnet 10.77.0.0/24"), "{err}");
    let f = write_temp("vlan.yaml", &flat_yaml("badv").replace("parent: eth0\n", "parent: eth0\n    vlan: 4095\n"));
    let (code, _, err) = cli(&["plan", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("networks.lan.vlan: 4095 is outside 1-4094"), "{err}");
    // A file that cannot be read is bad input too.
    let (code, _, err) = cli(&["render", "/nonexistent.yaml", "--format", "dot"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("file: /nonexistent.yaml cannot be read"), "{err}");
    let (code, _, _) = cli(&["frobnicate"]);
    assert_eq!(code, 2);
}

/// `-` changes: what this topology created and the spec no longer has goes.
#[tokio::test]
async fn removed_from_the_spec_is_removed_from_the_kernel() {
    let yaml = flat_yaml("rm");
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    t.apply(&Options::default()).await.unwrap();
    let host = &namespaces_of(&t)[0];
    assert!(ip_json(Some(host), &["link", "show"]).to_string().contains("lan-host"));
    let without_shim = topo(&yaml.replace("    host_shim: { name: lan-host, ipv4: 10.77.0.254 }\n", ""));
    let plan = without_shim.plan(&Options::default()).await.unwrap();
    let removals: Vec<String> =
        plan.changes.iter().filter(|c| c.sign == vlanmac::topology::Sign::Remove).map(|c| c.to_string()).collect();
    assert_eq!(removals.len(), 1, "{plan}");
    assert!(removals[0].contains("link lan-host"), "{plan}");
    without_shim.apply(&Options::default()).await.unwrap();
    assert!(!ip_json(Some(host), &["link", "show"]).to_string().contains("lan-host"));
    assert!(without_shim.plan(&Options::default()).await.unwrap().is_empty());
}

/// An update that moves a network to another parent (the lab trunk
/// renamed eth0 → eth1): the endpoints' macvlans hung off the old trunk,
/// which the update deletes. The plan makes them again on the new one,
/// with their addresses; the endpoint reaches its gateway through it.
#[tokio::test]
async fn an_update_moving_a_network_to_a_new_parent_makes_its_endpoints_again() {
    let yaml = flat_yaml("mv");
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    t.apply(&Options::default()).await.unwrap();
    let moved = topo(&yaml.replace("trunk: eth0", "trunk: eth1").replace("parent: eth0", "parent: eth1"));
    let plan = moved.plan(&Options::default()).await.unwrap();
    let a = format!("{}-a", t.name);
    let remade = plan.changes.iter().position(|c| c.netns == a && c.to_string().contains("to be made again on"));
    let created = plan.changes.iter().position(|c| c.netns == a && c.sign == vlanmac::topology::Sign::Create);
    assert!(matches!((remade, created), (Some(r), Some(c)) if r < c), "{plan}");
    moved.apply(&Options::default()).await.unwrap();
    let l = ip_json(Some(&a), &["-d", "link", "show", "dev", "eth0"]);
    assert_eq!(l[0]["linkinfo"]["info_kind"], "macvlan", "{l}");
    let addrs = ip_json(Some(&a), &["addr", "show", "dev", "eth0"]).to_string();
    assert!(addrs.contains("10.77.0.2") && addrs.contains("2001:db8:77::2"), "{addrs}");
    let host = &namespaces_of(&t)[0];
    let trunk = ip_json(Some(host), &["link", "show"]).to_string();
    assert!(trunk.contains("\"eth1\"") && !trunk.contains("\"eth0\""), "{trunk}");
    let ping = std::process::Command::new("ip")
        .args(["netns", "exec", &a, "ping", "-c", "1", "-W", "2", "10.77.0.1"])
        .output()
        .unwrap();
    assert!(ping.status.success(), "{}", String::from_utf8_lossy(&ping.stdout));
    let report = moved.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
    assert!(moved.plan(&Options::default()).await.unwrap().is_empty());
}

/// On a terminal, apply shows progress (on stderr), cut to the terminal's
/// width so long names never wrap and leave debris; `--json` stays quiet.
#[test]
fn progress_on_a_terminal_only() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        record_skip("progress_on_a_terminal_only", "util-linux `script` (a pseudo-terminal) is missing");
        return;
    }
    let yaml = flat_yaml("tty");
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    let f = write_temp("tty.yaml", &yaml);
    const COLS: usize = 32;
    // stdout (the result) to a file: the terminal shows only stderr.
    let result = write_temp("tty.out", "");
    let run = |extra: &str| {
        let bin = env!("CARGO_BIN_EXE_vlanmac");
        let cmd = format!("stty cols {COLS} rows 24; {bin} apply {} {extra} > {}", f.display(), result.display());
        let out = std::process::Command::new("/usr/bin/script").args(["-qec", &cmd, "/dev/null"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run("");
    assert!(shown.contains("1/"), "no progress on a terminal: {shown:?}");
    // Every piece the progress display draws (between carriage returns,
    // escape sequences removed) fits the 32 columns.
    for piece in shown.split(['\r', '\n']).map(strip_escapes) {
        assert!(piece.chars().count() <= COLS, "a progress line wider than the terminal: {piece:?} in {shown:?}");
    }
    let (code, _, _) = cli(&["down", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    let quiet = run("--json");
    assert!(!quiet.contains("1/"), "progress with --json: {quiet:?}");
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(j["changed"], true);
}

/// `text` without ANSI escape sequences (CSI: ESC [ ... final byte).
fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Links on IPv4-only networks get no IPv6 address generation (no
/// link-local, no DAD/MLD: flat per-link cost); IPv6 networks, and the
/// `ipv6_link_local: true` override, keep their link-local addresses.
#[tokio::test]
async fn ipv4_only_links_have_no_ipv6_address_generation() {
    let p = format!("vt{}ag", std::process::id());
    let yaml = format!(
        r#"
name: {p}
namespace: {p}-host
lab: {{ trunk: eth0, router: {p}-rtr }}
networks:
  v4only: {{ parent: eth0, subnets: [ {{ subnet: 10.91.0.0/24, gateway: 10.91.0.1 }} ] }}
  dual: {{ parent: eth0, subnets: [ {{ subnet: 10.92.0.0/24, gateway: 10.92.0.1 }}, {{ subnet: "2001:db8:92::/64", gateway: "2001:db8:92::1" }} ] }}
  keep: {{ parent: eth0, ipv6_link_local: true, subnets: [ {{ subnet: 10.93.0.0/24, gateway: 10.93.0.1 }} ] }}
endpoints:
  {p}-x: {{ attach: [ {{ network: v4only, ipv4: 10.91.0.5 }} ] }}
  {p}-y: {{ attach: [ {{ network: dual, ipv4: 10.92.0.5 }} ] }}
  {p}-z: {{ attach: [ {{ network: keep, ipv4: 10.93.0.5 }} ] }}
"#
    );
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    t.apply(&Options::default()).await.unwrap();
    let link_local = |ns: &str| ip_json(Some(ns), &["-6", "addr", "show", "dev", "eth0"]).to_string().contains("fe80");
    let mode = |ns: &str| ip_json(Some(ns), &["-d", "link", "show", "dev", "eth0"])[0]["inet6_addr_gen_mode"].clone();
    let (x, y, z) = (format!("{p}-x"), format!("{p}-y"), format!("{p}-z"));
    assert_eq!(mode(&x), "none");
    assert!(!link_local(&x), "an IPv4-only link has a link-local address");
    // The kernel adds link-local addresses once carrier is up (linkwatch,
    // asynchronous): give it up to 10 s, then x must still have none.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(link_local(&y) && link_local(&z)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(link_local(&y) && link_local(&z), "IPv6 links lost their link-local addresses");
    assert!(!link_local(&x), "an IPv4-only link got a link-local address later");
    assert_ne!(mode(&z), "none");
    // Nothing else changes, and everything still works.
    assert!(t.plan(&Options::default()).await.unwrap().is_empty());
    let report = t.verify(&Options::default()).await.unwrap();
    assert!(report.passed(), "{report}");
}
