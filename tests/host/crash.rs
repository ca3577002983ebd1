//! Crash consistency on this machine's kernel: the `vlanmac` CLI killed at
//! many points of `apply` and `down` (SIGKILL at chosen netlink writes and
//! after delays; SIGTERM and SIGINT), and what dead runs leave behind
//! (a `/run/netns` entry with no namespace, a link in the topology's group
//! with no alias yet, a temporary-named link whose creator is gone). After
//! each: the next run converges and `down` restores the machine exactly.
//! The seed's variant runs in the kernel VM (`crash_seed.rs`).

use std::time::Duration;

use crate::{common::*, crash_common::*};

/// A lab: host namespace, router, two untagged networks on the trunk (one
/// with IPv6 and a host shim), `n` endpoints (the first on both networks,
/// every third with static addresses, the rest from IPAM), and `pre` more
/// endpoints in namespaces that exist before (`TestNs`, kept by `down`).
fn lab(tag: &str, n: usize, pre: &[&TestNs]) -> String {
    let p = format!("vtc{}{tag}", std::process::id() % 100_000);
    let mut eps = String::new();
    for i in 0..n {
        let attach = match i {
            0 => "{ network: lan, ipv4: 10.91.0.10 }, { network: lan2, ipv4: 10.92.0.10 }".to_string(),
            i if i % 3 == 0 => format!("{{ network: lan, ipv4: 10.91.0.{}, ipv6: \"2001:db8:91::{i:x}\" }}", 10 + i),
            _ => "{ network: lan }".to_string(),
        };
        eps.push_str(&format!("  {p}-e{i}: {{ attach: [ {attach} ] }}\n"));
    }
    for (i, ns) in pre.iter().enumerate() {
        eps.push_str(&format!("  {p}-x{i}: {{ netns: {}, attach: [ {{ network: lan2 }} ] }}\n", ns.name));
    }
    format!(
        r#"
name: {p}
namespace: {p}-host
lab: {{ trunk: eth0, router: {p}-rtr }}
networks:
  lan:
    parent: eth0
    subnets:
      - {{ subnet: 10.91.0.0/24, gateway: 10.91.0.1 }}
      - {{ subnet: "2001:db8:91::/64", gateway: "2001:db8:91::1" }}
    host_shim: {{ name: lan-host, ipv4: 10.91.0.254 }}
  lan2:
    parent: eth0
    subnets:
      - {{ subnet: 10.92.0.0/24, gateway: 10.92.0.1 }}
endpoints:
{eps}"#
    )
}

/// A `/run/netns` entry with no namespace on it (what a run killed between
/// creating the file and mounting leaves) is treated as absent: `apply`
/// replaces it, `down` removes it, neither fails.
#[test]
fn stale_netns_entries_are_replaced_by_apply_and_removed_by_down() {
    let rig = Rig::new(&lab("st", 3, &[]));
    let stale = |n: &str| std::fs::write(format!("/run/netns/{n}"), b"").unwrap();
    // As the user found it: down, then apply, with stale entries in the way.
    stale(&rig.names[0]);
    stale(&rig.names[2]);
    let (code, out) = rig.run("down", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stale netns entry"), "{out}");
    assert!(rig.is_as_before(), "{:?}", rig.state());
    stale(&rig.names[0]);
    stale(&rig.names[3]);
    let (code, out) = rig.run("plan", &[]);
    assert_eq!(code, 0, "plan fails on a stale entry:\n{out}");
    assert!(out.contains(&format!("+ {:<14} netns", rig.names[3])), "{out}");
    rig.recovers("stale entries before apply");
    // iproute2 agrees that nothing stale is left.
    let listed = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&listed.stderr).contains("invalid"), "{listed:?}");
}

/// A temporary-named link whose creator is gone (a run killed between
/// creating a macvlan and renaming it) is removed by the next apply and
/// by down, whichever topology it was for; one of a live process is not.
#[test]
fn a_dead_runs_temporary_links_are_removed_by_the_next_run() {
    let pre = TestNs::new("tmp");
    let rig = Rig::new(&lab("tl", 2, &[&pre]));
    let (code, out) = rig.run("apply", &[]);
    assert_eq!(code, 0, "{out}");
    // A finished process's PID, as a dead run's.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let dead_name = format!("vmtmp{dead:06x}0001");
    let live_name = format!("vmtmp{:06x}0001", std::process::id());
    for ns in [rig.names[2].as_str(), pre.name.as_str()] {
        run_ip(&["-n", ns, "link", "add", &dead_name, "type", "veth", "peer", "name", "deadp"]);
    }
    pre.ip(&["link", "add", &live_name, "type", "veth", "peer", "name", "livep"]);
    let (code, out) = rig.run("plan", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("- {:<14} link {dead_name}  left by an interrupted run", rig.names[2])), "{out}");
    let (code, out) = rig.run("apply", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!ip_json(Some(&rig.names[2]), &["link", "show"]).to_string().contains(&dead_name));
    assert!(!pre.has_link(&dead_name) && pre.has_link(&live_name), "{out}");
    // In a namespace that is not the topology's, down removes it too.
    pre.ip(&["link", "add", &dead_name, "type", "veth", "peer", "name", "deadp"]);
    let (code, out) = rig.run("down", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!pre.has_link(&dead_name), "{out}");
    assert!(pre.has_link(&live_name), "a live process's temporary link was removed");
    pre.ip(&["link", "del", &live_name]);
    assert!(rig.is_as_before(), "{:?}", rig.state());
}

/// A link in the topology's group with no alias (a run killed between
/// creating a link and marking it) is the topology's: the next apply
/// gives it the mark, and down removes it.
#[test]
fn links_in_the_group_without_a_mark_are_adopted_and_removed() {
    let rig = Rig::new(&lab("gr", 2, &[]));
    let (code, out) = rig.run("apply", &[]);
    assert_eq!(code, 0, "{out}");
    let host = &rig.names[0];
    run_ip(&["-n", host, "link", "set", "lan-host", "alias", ""]);
    let (_, out) = rig.run("plan", &[]);
    assert!(out.contains(&format!("~ {host:<14} link lan-host  (alias - -> alias vlanmac:{})", rig.t.name)), "{out}");
    let (code, out) = rig.run("apply", &[]);
    assert_eq!(code, 0, "{out}");
    let j = ip_json(Some(host), &["-d", "link", "show", "dev", "lan-host"]);
    assert_eq!(j[0]["ifalias"], format!("vlanmac:{}", rig.t.name));
    // And with no apply in between, down takes it.
    run_ip(&["-n", host, "link", "set", "lan-host", "alias", ""]);
    rig.down_restores("group-only link");
}

/// SIGKILL just before each of 24 netlink writes spread over a whole apply
/// (the fault injector's "stop here" hook): after each, the next apply
/// converges, verify passes, and down restores the machine.
#[test]
fn sigkill_at_netlink_writes_of_apply_then_the_next_run_recovers() {
    let rig = Rig::new(&lab("kw", 16, &[]));
    let (writes, _) = rig.measure_apply();
    let points = spread(writes, 24);
    assert!(points.len() >= 20, "{points:?} of {writes}");
    for &k in &points {
        rig.kill_at_write("apply", k);
        rig.recovers(&format!("SIGKILL at write {k} of {writes}"));
    }
    println!("crash: apply killed at {} netlink writes (of {writes}), every one recovered", points.len());
}

/// SIGKILL after 24 delays spread over a whole apply (namespace creation,
/// netlink waves, sysctls, whatever runs then).
#[test]
fn sigkill_at_times_during_apply_then_the_next_run_recovers() {
    let rig = Rig::new(&lab("kt", 16, &[]));
    let (landed, span) = rig.sigkill_spread_over_apply(24, "lab");
    assert!(landed >= 18, "only {landed} of 24 kills landed during the apply");
    println!("crash: apply killed at 24 points over {span:?}, {landed} while it ran; every one recovered");
}

/// After a kill during apply, `down` alone (no apply first) removes
/// everything the killed run made: nothing it made is unmarked.
#[test]
fn after_a_sigkill_during_apply_down_alone_restores_the_machine() {
    let rig = Rig::new(&lab("kd", 16, &[]));
    let (writes, took) = rig.measure_apply();
    for k in spread(writes, 8) {
        rig.kill_at_write("apply", k);
        rig.down_restores(&format!("down after SIGKILL at write {k}"));
    }
    for d in delays(took, 8) {
        rig.signal_after("apply", d, libc::SIGKILL, None);
        rig.down_restores(&format!("down after SIGKILL after {d:?}"));
    }
}

/// SIGKILL during `down` (at its netlink writes and after delays), with
/// endpoints in namespaces that existed before (their links are removed,
/// the namespaces kept): the next apply converges and down finishes.
#[test]
fn sigkill_during_down_then_the_next_run_recovers() {
    let pre = [TestNs::new("kd0"), TestNs::new("kd1"), TestNs::new("kd2")];
    let rig = Rig::new(&lab("kn", 12, &pre.iter().collect::<Vec<_>>()));
    let (writes, took) = rig.measure_down();
    let mut points = 0;
    for k in 1..=writes {
        let (code, out) = rig.run("apply", &[]);
        assert_eq!(code, 0, "{out}");
        rig.kill_at_write("down", k);
        rig.recovers(&format!("down SIGKILLed at write {k} of {writes}"));
        points += 1;
    }
    let mut landed = 0;
    for d in delays(took, 20) {
        let (code, out) = rig.run("apply", &[]);
        assert_eq!(code, 0, "{out}");
        let (ended, was_running, _) = rig.signal_after("down", d, libc::SIGKILL, None);
        landed += usize::from(was_running && ended == Ended::Signal(libc::SIGKILL));
        rig.recovers(&format!("down SIGKILLed after {d:?} of {took:?}"));
        points += 1;
    }
    assert!(points >= 20 && landed >= 10, "{points} points, {landed} landed");
    println!("crash: down killed at {writes} netlink writes and after 20 delays ({landed} while it ran); every one recovered");
}

/// SIGTERM or SIGINT during apply: the apply stops before its next step,
/// rolls back, and exits 128 + signal with the machine as before (or, if
/// the signal came after its last step, it finished: exit 0).
#[test]
fn sigterm_and_sigint_during_apply_roll_back() {
    let rig = Rig::new(&lab("tm", 16, &[]));
    let took = rig.measure_apply_after_lock();
    let mut rolled_back = 0;
    for (i, d) in delays(took, 16).into_iter().enumerate() {
        let (sig, name) = if i % 2 == 0 { (libc::SIGTERM, "SIGTERM") } else { (libc::SIGINT, "SIGINT") };
        let (ended, _, out) = rig.signal_after_lock("apply", d, sig);
        match ended {
            Ended::Exit(c) if c == 128 + sig => {
                assert!(out.contains(name) && out.contains("rolled back"), "{out}");
                assert!(rig.is_as_before(), "{name} after {d:?}: not rolled back:\n{out}\n{:?}", rig.state());
                rolled_back += 1;
            }
            Ended::Exit(0) => rig.down_restores(&format!("{name} after the apply finished")),
            // Before the handlers were installed (the process was starting):
            // the default action, with nothing made yet.
            Ended::Signal(s) if s == sig => assert!(rig.is_as_before(), "{name} after {d:?}: {:?}", rig.state()),
            other => panic!("{name} after {d:?}: {other:?}\n{out}"),
        }
    }
    assert!(rolled_back >= 8, "only {rolled_back} of 16 signals landed during the apply");
    rig.recovers("after the signals");
    println!("crash: SIGTERM/SIGINT during apply 16 times, {rolled_back} rolled back to the state before");
}

/// A second signal exits at once, without waiting for the rollback; what it
/// leaves is recovered like a SIGKILL's.
#[test]
fn a_second_signal_exits_at_once_and_the_next_run_recovers() {
    let rig = Rig::new(&lab("t2", 16, &[]));
    let (_, took) = rig.measure_apply();
    for d in delays(took, 4) {
        let (ended, was_running, out) = rig.signal_after("apply", d, libc::SIGTERM, Some(Duration::from_micros(200)));
        if was_running {
            assert!(matches!(ended, Ended::Exit(143) | Ended::Exit(0)), "{ended:?}\n{out}");
        }
        rig.recovers(&format!("two SIGTERMs after {d:?}"));
    }
}

/// Without root, every command that reads or changes namespaces fails
/// before touching anything, saying it needs root and what it was doing;
/// `show` of the caller's own namespace and `render` still work.
#[test]
fn without_root_every_cli_command_fails_first_and_plainly() {
    let rig = Rig::new(&lab("nr", 2, &[]));
    let file = rig.file.to_str().unwrap();
    let ns = rig.names[0].as_str();
    // What each says it was doing (`apply --check` plans).
    for (args, doing) in [
        (vec!["plan", file], "plan topology"),
        (vec!["apply", file], "apply topology"),
        (vec!["apply", "--check", file], "plan topology"),
        (vec!["down", file], "take down topology"),
        (vec!["verify", file], "verify topology"),
        (vec!["show", "--netns", ns], "show netns"),
        (vec!["demo"], "plan topology seed"),
    ] {
        let out = as_nobody(env!("CARGO_BIN_EXE_vlanmac"), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"), "{args:?}: {err}");
        assert!(err.contains(doing), "{args:?} does not say what it was doing ({doing}): {err}");
        // One check, one message.
        assert_eq!(err.matches("needs root").count(), 1, "{args:?}: {err}");
        assert!(rig.is_as_before(), "{args:?} touched something: {:?}", rig.state());
    }
    for args in [vec!["show"], vec!["render", file, "--format", "dot"]] {
        let out = as_nobody(env!("CARGO_BIN_EXE_vlanmac"), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Runs `program args` as user and group `nobody` (65534) with no
/// capabilities, through util-linux's `setpriv`.
pub fn as_nobody(program: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(setpriv())
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .current_dir("/")
        .output()
        .unwrap()
}

fn setpriv() -> &'static str {
    ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().find(|p| std::path::Path::new(p).exists()).unwrap_or("setpriv")
}
