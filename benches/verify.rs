//! Verify at scale, side by side in one run (needs root): N endpoints on K
//! networks behind a lab router (macvlan on a veth trunk; with `--vlan`,
//! each network on its own 802.1Q VLAN). Per round: vlanmac's apply, the
//! default (linear) verify, the full-mesh verify, and `fping` doing the
//! mesh's pings from every namespace in turn
//! (`ip netns exec NS fping -c1 -t 1000 <every other address>`; first
//! round only, it takes minutes), then down. Every verify's failed checks
//! are counted: on a working network any failure is a false one.
//!
//!     cargo bench --bench verify -- [N] [K] [ROUNDS] [--vlan] [--no-mesh] [--no-fping]

mod common;

use std::{process::Command, time::Duration};

use common::*;
use vlanmac::{
    topology::{self, Options, Topology},
    verify::CheckPlan,
};

/// `fping` from every endpoint namespace to every other endpoint: the
/// time, and how many targets it reported unreachable.
fn fping_mesh(tag: &str, n: usize, k: usize) -> Option<(Duration, usize)> {
    let all: Vec<String> = (0..n).map(|i| scale::scale_addr(i, k)).collect();
    let mut unreachable = 0;
    let t = timed(|| {
        for i in 0..n {
            let others: Vec<&str> = (0..n).filter(|j| *j != i).map(|j| all[j].as_str()).collect();
            let ns = format!("{tag}-e{i}");
            let out = Command::new("ip")
                .args(["netns", "exec", &ns, "fping", "-c1", "-t", "1000", "-q"])
                .args(&others)
                .output()
                .expect("run fping");
            // -q prints one summary line per target on stderr.
            unreachable += String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains("100%")).count();
        }
    });
    Some((t, unreachable))
}

fn has_fping() -> bool {
    Command::new("fping").arg("-v").output().is_ok_and(|o| o.status.success())
}

fn verify(rt: &tokio::runtime::Runtime, t: &Topology, check_plan: CheckPlan) -> (Duration, usize, usize) {
    let mut report = None;
    let d =
        timed(|| report = Some(rt.block_on(t.verify(&Options { check_plan, ..Options::default() })).expect("verify")));
    let r = report.expect("a report");
    // False failures are the point of this bench: show them.
    for c in r.failures().take(20) {
        eprintln!("failed: {c:?}");
    }
    (d, r.checks.len(), r.failures().count())
}

fn main() {
    let n: usize = arg(0, 200);
    let k: usize = arg(1, 4).max(1);
    let rounds: usize = arg(2, 3).max(1);
    let flags: Vec<String> = std::env::args().collect();
    let vlan = flags.iter().any(|a| a == "--vlan");
    let mesh = !flags.iter().any(|a| a == "--no-mesh");
    if !is_root() {
        eprintln!("benches/verify: needs root (creates namespaces); skipped");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let tag = format!("vvb{}", std::process::id() % 100000);
    let t = topology::from_yaml(&scale::scale_yaml(&tag, n, k, vlan), "bench").expect("topology");
    let fping = mesh && !flags.iter().any(|a| a == "--no-fping") && has_fping();
    let (mut apply, mut linear, mut full, mut fp) = (vec![], vec![], vec![], vec![]);
    let (mut linear_checks, mut mesh_checks, mut false_failures, mut fping_unreachable) = (0, 0, 0, 0);
    for round in 0..rounds {
        std::thread::sleep(Duration::from_secs(2));
        apply.push(timed(|| {
            rt.block_on(t.apply(&Options::default())).expect("apply");
        }));
        let (d, checks, failed) = verify(&rt, &t, CheckPlan::Linear);
        linear.push(d);
        linear_checks = checks;
        false_failures += failed;
        if mesh {
            let (d, checks, failed) = verify(&rt, &t, CheckPlan::Mesh);
            full.push(d);
            mesh_checks = checks;
            false_failures += failed;
        }
        if fping && round == 0 {
            if let Some((d, u)) = fping_mesh(&tag, n, k) {
                fp.push(d);
                fping_unreachable += u;
            }
        }
        rt.block_on(t.down(&Options::default())).expect("down");
    }
    let some = |v: Vec<Duration>| (!v.is_empty()).then(|| median(v));
    let on = if vlan { format!("{k} VLANs") } else { format!("{k} networks on one untagged trunk") };
    let mut table = Table::new(format!(
        "## verify {n} endpoints on {on} (median of {rounds}; failed checks over all rounds: {false_failures})"
    ));
    table.row("vlanmac apply", some(apply));
    table.row(format!("vlanmac verify, linear plan ({linear_checks} checks)"), some(linear));
    if mesh {
        table.row(format!("vlanmac verify --mesh ({mesh_checks} checks)"), some(full));
        if fping {
            table.row(
                format!(
                    "fping -c1 -t 1000 from each namespace in turn, pings only, one round ({} targets reported unreachable)",
                    fping_unreachable
                ),
                some(fp),
            );
        } else {
            table.row("fping (not run)", None);
        }
    }
    table.print();
}
