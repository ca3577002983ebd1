//! Crash consistency on the seed walkthrough (802.1Q: runs in the kernel
//! VM, reports itself skipped on a kernel without it): the CLI killed at 40
//! points of `apply` and 20 of `down`, and interrupted by SIGTERM; after
//! each, the next run converges and `down` restores the machine.

use crate::{common::*, crash_common::*};

const SEED: &str = include_str!("../../examples/seed.yaml");

/// The seed under unique names (namespaces, topology), as written.
fn seed(tag: &str) -> String {
    let p = format!("vts{}{tag}", std::process::id() % 10000);
    SEED.replace("name: seed\n", &format!("name: {p}\n"))
        .replace("namespace: seed-host", &format!("namespace: {p}-host"))
        .replace("router: seed-router", &format!("router: {p}-rtr"))
        .replace("  container0:", &format!("  {p}-c0:"))
        .replace("  container1:", &format!("  {p}-c1:"))
        .replace("  container2:", &format!("  {p}-c2:"))
}

fn has_8021q(test: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(require(Feature::Vlan8021q, test))
}

/// SIGKILL at 24 netlink writes spread over the seed's apply: each time the
/// next apply exits 0, a second plan is empty, verify passes, nothing
/// half-made is left, and down restores the machine.
#[test]
fn seed_sigkill_at_24_netlink_writes_of_apply_then_the_next_run_recovers() {
    if !has_8021q("seed_sigkill_at_24_netlink_writes_of_apply_then_the_next_run_recovers") {
        return;
    }
    let rig = Rig::new(&seed("kw"));
    let (writes, _) = rig.measure_apply();
    let points = spread(writes, 24);
    assert!(points.len() >= 20, "{points:?} of {writes}");
    for &k in &points {
        rig.kill_at_write("apply", k);
        rig.recovers(&format!("seed: SIGKILL at write {k} of {writes}"));
    }
    println!("crash (seed): apply killed at {} netlink writes (of {writes}); every one recovered", points.len());
}

/// SIGKILL after 16 delays spread over the seed's apply (with the 24 write
/// points above: 40 kill points over apply).
#[test]
fn seed_sigkill_at_16_times_during_apply_then_the_next_run_recovers() {
    if !has_8021q("seed_sigkill_at_16_times_during_apply_then_the_next_run_recovers") {
        return;
    }
    let rig = Rig::new(&seed("kt"));
    // Counted from the moment the run holds the lock: process start-up
    // varies too much in the VM to aim by wall time from spawn.
    let (landed, span) = rig.sigkill_spread_over_apply(16, "seed");
    assert!(landed >= 12, "{landed} of 16 kills landed during the apply");
    println!("crash (seed): apply killed at 16 points over {span:?} ({landed} while it ran); every one recovered");
}

/// SIGKILL during the seed's down (at its netlink writes and after 20
/// delays): the next apply converges and down finishes.
#[test]
fn seed_sigkill_during_down_then_the_next_run_recovers() {
    if !has_8021q("seed_sigkill_during_down_then_the_next_run_recovers") {
        return;
    }
    let rig = Rig::new(&seed("kd"));
    let (writes, took) = rig.measure_down();
    for k in 1..=writes {
        let (code, out) = rig.run("apply", &[]);
        assert_eq!(code, 0, "{out}");
        rig.kill_at_write("down", k);
        rig.recovers(&format!("seed: down SIGKILLed at write {k} of {writes}"));
    }
    let mut landed = 0;
    for d in delays(took, 20) {
        let (code, out) = rig.run("apply", &[]);
        assert_eq!(code, 0, "{out}");
        let (ended, was_running, _) = rig.signal_after("down", d, libc::SIGKILL, None);
        landed += usize::from(was_running && ended == Ended::Signal(libc::SIGKILL));
        rig.recovers(&format!("seed: down SIGKILLed after {d:?} of {took:?}"));
    }
    assert!(landed >= 10, "{landed} of 20 kills landed during down");
    println!("crash (seed): down killed at {writes} netlink writes and after 20 delays ({landed} while it ran); every one recovered");
}

/// SIGTERM during the seed's apply rolls back (exit 143, machine as before),
/// or comes too late and the apply finished (exit 0; aimed again earlier).
#[test]
fn seed_sigterm_during_apply_rolls_back() {
    if !has_8021q("seed_sigterm_during_apply_rolls_back") {
        return;
    }
    let rig = Rig::new(&seed("ks"));
    let mut outcomes = Vec::new();
    let (rolled_back, span) = rig.signal_spread_over_apply(8, libc::SIGTERM, |d, ended, _, out| {
        outcomes.push(format!("{d:?}: {ended:?}"));
        match ended {
            Ended::Exit(143) => {
                assert!(rig.is_as_before(), "SIGTERM after {d:?}: not rolled back:\n{out}\n{:?}", rig.state());
                true
            }
            Ended::Exit(0) => {
                rig.down_restores("SIGTERM after the apply finished");
                false
            }
            Ended::Signal(libc::SIGTERM) => {
                assert!(rig.is_as_before(), "{:?}", rig.state());
                false
            }
            other => panic!("SIGTERM after {d:?}: {other:?}\n{out}"),
        }
    });
    assert!(
        rolled_back >= 4,
        "only {rolled_back} of 8 SIGTERMs landed during the apply (last span {span:?}): {outcomes:?}"
    );
    rig.recovers("seed: after the SIGTERMs");
    println!("crash (seed): SIGTERM during apply 8 times, {rolled_back} rolled back to the state before");
}
