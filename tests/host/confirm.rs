//! Confirmed apply through the CLI (`vlanmac apply FILE --confirm D`,
//! `vlanmac confirm NAME`, `vlanmac rollback NAME`): not confirmed → rolled
//! back by the deadline; confirmed → kept; Enter on a terminal (a pty)
//! confirms; rollback at once; an update v1 → v2 unconfirmed goes back to
//! v1 exactly; the applying session dying (SIGHUP, SIGKILL to its every
//! process) does not cancel the rollback; the watchdog killed too → the
//! next `vlanmac plan` rolls back first and says so; a confirm after the
//! deadline loses to the rollback and says so. Oracle: `ip -j` snapshots
//! of every namespace (tests/host/topo_common.rs's `snapshot`). Untagged:
//! runs on this kernel.

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::topo_common::*;
use vlanmac::topology::checkpoint::{self, State};

/// A lab topology on its own names; taken down (and its watchdog, if still
/// running, stopped by its PID) on drop.
pub(crate) struct Case {
    pub name: String,
    pub file: PathBuf,
    pub names: Vec<String>,
}

impl Case {
    fn new(tag: &str) -> Case {
        Case::of_yaml(&flat_yaml(tag))
    }

    /// The case of a topology given as YAML.
    pub fn of_yaml(yaml: &str) -> Case {
        let t = topo(yaml);
        let file = write_temp(&format!("{}.yaml", t.name), yaml);
        Case { name: t.name.clone(), names: namespaces_of(&t), file }
    }

    pub fn yaml(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap()
    }

    /// v2: endpoint a's address changed, the network's MTU lowered, an
    /// endpoint added.
    fn v2(&self) -> PathBuf {
        let v2 = self
            .yaml()
            .replace("ipv4: 10.77.0.2,", "ipv4: 10.77.0.12,")
            .replace("    parent: eth0\n    subnets:", "    parent: eth0\n    mtu: 1400\n    subnets:")
            + &format!("  {}-c: {{ attach: [ {{ network: lan, ipv4: 10.77.0.30 }} ] }}\n", self.name);
        write_temp(&format!("{}-v2.yaml", self.name), &v2)
    }

    pub fn file(&self) -> &str {
        self.file.to_str().unwrap()
    }

    pub fn exists(&self) -> bool {
        self.names.iter().any(|n| std::path::Path::new(&format!("/run/netns/{n}")).exists())
    }

    pub fn state(&self) -> Option<State> {
        checkpoint::load(&self.name).map(|c| c.state)
    }

    pub fn watchdog(&self) -> Option<u32> {
        checkpoint::load(&self.name)?.watchdog
    }

    /// Kills the watchdog (by its PID, from the checkpoint) and waits for
    /// the deadline to pass with nobody to roll back.
    fn kill_watchdog_and_pass_the_deadline(&self) {
        let watchdog = self.watchdog().expect("a watchdog");
        let _ = Command::new("kill").args(["-KILL", &watchdog.to_string()]).status();
        self.wait("the watchdog's exit", Duration::from_secs(3), || !alive(watchdog));
        let deadline = checkpoint::load(&self.name).unwrap().deadline;
        while vlanmac::topology::dhcp::unix_now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for `ok`; how long it took.
    pub fn wait(&self, what: &str, limit: Duration, ok: impl Fn() -> bool) -> Duration {
        let t0 = Instant::now();
        while !ok() {
            assert!(t0.elapsed() < limit, "{what}: not within {limit:?}; checkpoint: {:?}", self.state());
            std::thread::sleep(Duration::from_millis(50));
        }
        t0.elapsed()
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if let Some(pid) = self.watchdog().filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists()) {
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmdline.contains("watchdog") {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
        let _ = cli(&["down", self.file()]);
        let _ = std::fs::remove_dir_all(vlanmac::topology::lab_server::state_dir(&self.name));
    }
}

/// The lines one snapshot has and the other lacks, for failure messages.
pub(crate) fn differences(a: &Snapshot, b: &Snapshot) -> String {
    let lines = |s: &Snapshot| -> Vec<String> {
        s.iter().flat_map(|(k, v)| v.iter().map(move |l| format!("{k}: {l}"))).collect()
    };
    let (la, lb) = (lines(a), lines(b));
    let only_a: Vec<&String> = la.iter().filter(|l| !lb.contains(l)).collect();
    let only_b: Vec<&String> = lb.iter().filter(|l| !la.contains(l)).collect();
    format!("only before: {only_a:#?}\nonly after: {only_b:#?}")
}

pub(crate) type Snapshot = std::collections::BTreeMap<String, Vec<String>>;

/// The sysctls a topology's apply may write (the lab router's forwarding
/// and ICMP settings, the per-interface SLAAC settings), as
/// `PATH:VALUE` lines read inside `ns`.
fn sysctls(ns: &str) -> Vec<String> {
    let script = "cd /proc/sys/net && grep -rs . ipv4/conf/*/forwarding ipv6/conf/*/forwarding \
        ipv4/conf/*/send_redirects ipv4/icmp_ratelimit ipv6/icmp/ratelimit ipv4/icmp_ratemask ipv6/icmp/ratemask \
        ipv6/conf/*/accept_ra ipv6/conf/*/autoconf ipv6/conf/*/accept_ra_defrtr \
        ipv6/conf/*/router_solicitation_interval ipv6/conf/*/router_solicitations";
    let out = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{ns}"))
        .args(["sh", "-c", script])
        .output()
        .expect("run nsenter");
    String::from_utf8_lossy(&out.stdout).lines().map(|l| format!("sysctl {l}")).collect()
}

/// [`snapshot`] without the IPv6 multicast routes the kernel adds on its
/// own once a link's IPv6 is up (a moment after the apply), with each
/// namespace's [`sysctls`].
pub(crate) fn state(names: &[String]) -> Snapshot {
    let mut s = snapshot(names);
    for (ns, lines) in s.iter_mut().filter(|(k, _)| k.as_str() != "netns") {
        lines.retain(|l| !l.starts_with("multicast ff00::/8"));
        lines.extend(sysctls(ns));
    }
    s
}

pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn unconfirmed_is_rolled_back_by_the_deadline() {
    let c = Case::new("cu");
    let before = state(&c.names);
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "2s"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(&format!("vlanmac confirm {}", c.name)), "{err}");
    assert!(c.exists());
    let took = c.wait("the rollback", Duration::from_secs(4), || !c.exists());
    assert!(matches!(c.state(), Some(State::RolledBack { failed, .. }) if failed.is_empty()), "{:?}", c.state());
    assert_eq!(state(&c.names), before);
    println!("rolled back {took:?} after the apply returned (deadline 2 s)");
}

#[test]
fn confirmed_is_kept_and_a_second_confirm_says_so() {
    let c = Case::new("ck");
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "2s"]);
    assert_eq!(code, 0, "{out}{err}");
    let applied = state(&c.names);
    let (code, out, err) = cli(&["confirm", &c.name]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("confirmed"), "{out}");
    let watchdog = c.watchdog().expect("a watchdog");
    c.wait("the watchdog's exit", Duration::from_secs(3), || !alive(watchdog));
    std::thread::sleep(Duration::from_secs(2));
    let now = state(&c.names);
    assert!(now == applied, "a confirmed change was touched: {}", differences(&applied, &now));
    let (code, _, err) = cli(&["confirm", &c.name]);
    assert_eq!(code, 1);
    assert!(err.contains("already confirmed"), "{err}");
}

#[test]
fn rollback_undoes_at_once() {
    let c = Case::new("cr");
    let before = state(&c.names);
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "60s"]);
    assert_eq!(code, 0, "{out}{err}");
    let watchdog = c.watchdog().expect("a watchdog");
    let t0 = Instant::now();
    let (code, out, err) = cli(&["rollback", &c.name]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(state(&c.names), before);
    c.wait("the watchdog's exit", Duration::from_secs(3), || !alive(watchdog));
}

#[test]
fn an_update_unconfirmed_goes_back_to_v1_exactly() {
    let c = Case::new("cv");
    let (code, out, err) = cli(&["apply", c.file()]);
    assert_eq!(code, 0, "{out}{err}");
    let v1 = state(&c.names);
    let v2 = c.v2();
    let mut names = c.names.clone();
    names.push(format!("{}-c", c.name));
    let (code, out, err) = cli(&["apply", v2.to_str().unwrap(), "--confirm", "2s"]);
    assert_eq!(code, 0, "{out}{err}");
    let changed = state(&names);
    assert_ne!(changed, v1);
    assert!(changed.values().flatten().any(|l| l.contains("10.77.0.12/24")), "{changed:?}");
    c.wait("back to v1", Duration::from_secs(5), || state(&names) == v1);
    assert!(matches!(c.state(), Some(State::RolledBack { failed, .. }) if failed.is_empty()), "{:?}", c.state());
    // v1 is the applied file again: a plan of it has nothing to do.
    let (code, out, _) = cli(&["plan", c.file()]);
    assert_eq!(code, 0);
    assert!(out.contains("no changes"), "{out}");
    let _ = std::fs::remove_file(v2);
}

#[test]
fn the_session_dying_does_not_cancel_the_rollback() {
    let c = Case::new("cs");
    let before = state(&c.names);
    // An SSH session in miniature: a session of its own running the apply,
    // then a shell that would go on.
    let script = format!("{} apply {} --confirm 3s </dev/null; sleep 60", env!("CARGO_BIN_EXE_vlanmac"), c.file());
    let mut session = Command::new("setsid").args(["bash", "-c", &script]).stdout(Stdio::null()).spawn().unwrap();
    let sid = session.id();
    c.wait("the apply", Duration::from_secs(30), || c.watchdog().is_some());
    // The session goes: SIGHUP to all its processes, then SIGKILL.
    for sig in ["-HUP", "-KILL"] {
        let _ = Command::new("pkill").args([sig, "-s", &sid.to_string()]).status();
    }
    let _ = session.wait();
    let watchdog = c.watchdog().unwrap();
    assert!(alive(watchdog), "the watchdog died with the session");
    let deadline = checkpoint::load(&c.name).unwrap().deadline;
    c.wait("the rollback", Duration::from_secs(8), || !c.exists());
    let late = vlanmac::topology::dhcp::unix_now().saturating_sub(deadline);
    assert!(late <= 2, "rolled back {late} s after the deadline");
    assert_eq!(state(&c.names), before);
}

#[test]
fn the_watchdog_killed_the_next_command_rolls_back_first() {
    let c = Case::new("cw");
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "1s"]);
    assert_eq!(code, 0, "{out}{err}");
    c.kill_watchdog_and_pass_the_deadline();
    let (code, out, err) = cli(&["plan", c.file()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!c.exists());
    // This plan rolled back first and said so — or, with other tests'
    // vlanmac commands running meanwhile, one of them did: either way a
    // later command, not the (killed) watchdog.
    let said =
        err.contains(&format!("topology {}: its change was not confirmed by the deadline; rolled back first", c.name));
    let reason = match c.state() {
        Some(State::RolledBack { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert!(reason.contains("found by a later command"), "{reason}");
    println!("rolled back by {}", if said { "this plan" } else { "another test's vlanmac command" });
    // The plan it then printed is of the rolled-back state: everything to create.
    assert!(out.contains("netns"), "{out}");
}

#[test]
fn a_confirm_after_the_deadline_loses_to_the_rollback() {
    let c = Case::new("cx");
    let (code, out, err) = cli(&["apply", c.file(), "--confirm", "1s"]);
    assert_eq!(code, 0, "{out}{err}");
    c.kill_watchdog_and_pass_the_deadline();
    // The confirm comes late: it rolls back itself and says the rollback
    // won — or another test's command rolled back first, which it reports.
    let (code, out, err) = cli(&["confirm", &c.name]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("the rollback won") || err.contains("already rolled back"), "{err}");
    assert!(!c.exists());
    assert!(matches!(c.state(), Some(State::RolledBack { .. })), "{:?}", c.state());
}

#[test]
fn enter_on_a_terminal_confirms() {
    let c = Case::new("ce");
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vlanmac"))
        .args(["apply", c.file(), "--confirm", "30s"])
        .stdin(Stdio::from(pty.slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let prompt = lines.by_ref().map_while(Result::ok).find(|l| l.contains("press Enter"));
    assert!(prompt.is_some(), "no prompt on the terminal");
    let mut master = std::fs::File::from(pty.master);
    master.write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(&format!("topology {}: confirmed", c.name)), "{stdout}");
    assert!(matches!(c.state(), Some(State::Confirmed { by }) if by == "Enter on the terminal"), "{:?}", c.state());
    assert!(c.exists());
}

#[test]
fn a_probe_failing_after_the_change_rolls_back_at_once_and_one_failing_before_is_ignored() {
    let c = Case::new("cp");
    let (code, out, err) = cli(&["apply", c.file()]);
    assert_eq!(code, 0, "{out}{err}");
    let v1 = state(&c.names);
    let v2 = c.v2(); // endpoint a's 10.77.0.2 becomes 10.77.0.12
    let mut names = c.names.clone();
    names.push(format!("{}-c", c.name));
    let probe = format!("ping 10.77.0.2 from {}-host", c.name);
    // Nobody has it: fails before the change (inside the lab, never the machine's network).
    let unreachable = format!("ping 10.77.0.99 from {}-host", c.name);
    let t0 = Instant::now();
    let (code, out, err) =
        cli(&["apply", v2.to_str().unwrap(), "--confirm", "120s", "--probe", &probe, "--probe", &unreachable]);
    let took = t0.elapsed();
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("probe `{unreachable}` fails before the change")) && err.contains("ignored"),
        "{err}"
    );
    assert!(err.contains(&format!("probe `{probe}` passed before the change and fails after it")), "{err}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(took < Duration::from_secs(20), "not at once: {took:?} (deadline 120 s)");
    let now = state(&names);
    assert!(now == v1, "not back to v1: {}", differences(&v1, &now));
    match c.state() {
        Some(State::RolledBack { reason, failed }) => {
            assert!(reason.contains(&probe) && failed.is_empty(), "{reason} {failed:?}")
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_file(v2);
}

#[test]
fn a_confirm_section_makes_apply_confirmed() {
    let c = Case::new("cf");
    let unreachable = format!("ping 10.77.0.99 from {}-host", c.name);
    let yaml = format!("{}confirm: {{ timeout: 2s, probes: [ \"{unreachable}\" ] }}\n", c.yaml());
    std::fs::write(&c.file, yaml).unwrap();
    let before = state(&c.names);
    let (code, out, err) = cli(&["apply", c.file()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(&format!("probe `{unreachable}` fails before the change")), "{err}");
    assert!(err.contains(&format!("vlanmac confirm {}", c.name)), "{err}");
    assert_eq!(c.state(), Some(State::Pending));
    c.wait("the rollback", Duration::from_secs(5), || !c.exists());
    assert_eq!(state(&c.names), before);
}
