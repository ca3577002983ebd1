//! Topology level, side by side in one run (needs root): N endpoints, each
//! in its own namespace with a macvlan on one parent, an IPv4 address and a
//! default route. vlanmac's apply, no-op plan and down against the same
//! thing done by one `ip` process per step and an `ip netns del` loop; the
//! same apply through vlanmac-py; the confirmed apply (checkpoint + apply)
//! against the plain apply, and its rollback against `down`; and the peak
//! RSS of the apply.
//!
//!     cargo bench --bench topology -- [N] [ROUNDS]
//!
//! The Python row runs when VLANMAC_BENCH_PYTHON names a Python with the
//! vlanmac wheel installed (`scripts/bench` does).

mod common;

use std::time::Duration;

use common::*;
use vlanmac::{
    spec::NetnsName,
    topology::{self, Options},
};

fn yaml(tag: &str, host: &str, n: usize) -> String {
    let mut y = format!(
        "name: {tag}\nnamespace: {host}\nnetworks:\n  lan:\n    parent: t0\n    subnets: [ {{ subnet: 10.64.0.0/16, gateway: 10.64.0.1 }} ]\nendpoints:\n"
    );
    for i in 0..n {
        y.push_str(&format!("  {tag}-e{i}: {{ attach: [ {{ network: lan, ipv4: {} }} ] }}\n", ep_addr(i)));
    }
    y
}

fn ep_addr(i: usize) -> String {
    format!("10.64.{}.{}", (i + 2) / 250, (i + 2) % 250 + 1)
}

fn ip_script(tag: &str, host: &str, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let e = format!("{tag}-e{i}");
        s.push_str(&format!(
            "netns add {e}\n-n {host} link add link t0 name eth0 netns {e} type macvlan mode bridge\n-n {e} addr add {}/16 dev eth0\n-n {e} link set eth0 up\n-n {e} route add default via 10.64.0.1\n",
            ep_addr(i)
        ));
    }
    s
}

const PYTHON_APPLY: &str = r#"
import sys, time, vlanmac
t = vlanmac.Topology.from_yaml(open(sys.argv[1]).read())
start = time.perf_counter()
t.apply()
ms = (time.perf_counter() - start) * 1e3
t.down()
print(ms)
"#;

fn main() {
    let n: usize = arg(0, 200);
    let rounds: usize = arg(1, 3).max(1);
    if !is_root() {
        eprintln!("benches/topology: needs root (creates namespaces); skipped");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let host = Ns::new("host");
    ip(&["-n", host.name(), "link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
    ip(&["-n", host.name(), "link", "set", "t0", "up"]);
    ip(&["-n", host.name(), "link", "set", "t1", "up"]);
    let tag = format!("vmb{}", std::process::id() % 100000);
    let text = yaml(&tag, host.name(), n);
    let t = topology::from_yaml(&text, "bench").expect("topology");
    let file = std::env::temp_dir().join(format!("{tag}.yaml"));
    std::fs::write(&file, &text).expect("write topology");
    let (mut apply, mut plan, mut down, mut step, mut netnsdel, mut py, mut rss, mut floor) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut confirmed, mut rollback) = (vec![], vec![]);
    let engine = topology::Engine::new(t.clone());
    // The kernel tears a deleted namespace down in the background: let the
    // previous step's clean-up finish before the next measurement.
    let settle = || std::thread::sleep(std::time::Duration::from_secs(2));
    for _ in 0..rounds {
        settle();
        reset_peak_rss();
        let base = peak_rss_kib();
        apply.push(timed(|| {
            rt.block_on(t.apply(&Options::default())).expect("apply");
        }));
        rss.push((base, peak_rss_kib()));
        plan.push(timed(|| {
            let p = rt.block_on(t.plan(&Options::default())).expect("plan");
            assert!(p.is_empty(), "{p}");
        }));
        down.push(timed(|| {
            rt.block_on(t.down(&Options::default())).expect("down");
        }));

        settle();
        confirmed.push(timed(|| {
            let confirm = topology::checkpoint::Confirm { timeout: Duration::from_secs(600), previous: None };
            rt.block_on(engine.apply_confirmed(&Options::default(), confirm)).expect("apply --confirm");
        }));
        rollback.push(timed(|| {
            let out = rt.block_on(topology::checkpoint::rollback(&tag, "bench")).expect("rollback");
            assert!(matches!(out, topology::checkpoint::Outcome::RolledBack(ref r) if r.failed.is_empty()), "{out:?}");
        }));

        settle();
        // The kernel's floor: making the namespaces alone, nothing in them.
        let names: Vec<NetnsName> =
            (0..n).map(|i| NetnsName::new(format!("{tag}-f{i}")).expect("netns name")).collect();
        floor.push(timed(|| {
            for name in &names {
                vlanmac::netns::create_blocking(name).expect("create netns");
            }
        }));
        for name in &names {
            let _ = vlanmac::netns::delete_blocking(name);
        }
        settle();
        step.push(timed(|| ip_per_step(&ip_script(&tag, host.name(), n))));
        netnsdel.push(timed(|| {
            for i in 0..n {
                ip(&["netns", "del", &format!("{tag}-e{i}")]);
            }
        }));
        settle();
        if let Some(t) = python_ms(PYTHON_APPLY, &[file.to_str().unwrap_or_default()]) {
            py.push(t);
        }
    }
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir_all(topology::lab_server::state_dir(&tag));
    let ratio =
        |a: &[Duration], b: &[Duration]| median(a.to_vec()).as_secs_f64() / median(b.to_vec()).as_secs_f64().max(1e-9);
    let (confirm_ratio, rollback_ratio) = (ratio(&confirmed, &apply), ratio(&rollback, &down));
    let some = |v: Vec<Duration>| (!v.is_empty()).then(|| median(v));
    let mut t =
        Table::new(format!("## apply {n} endpoints (netns, macvlan, IPv4, up, default route; median of {rounds})"));
    t.row("vlanmac apply", some(apply.clone()));
    t.row("vlanmac-py Topology.apply", some(py));
    t.row("ip, one process per step", some(step));
    t.row("floor: only making the N namespaces (unshare + bind mount, one by one)", some(floor));
    t.print();
    let mut t = Table::new(format!("## no-op plan and down of {n} endpoints"));
    t.row("vlanmac no-op plan", some(plan));
    t.row("vlanmac down", some(down.clone()));
    t.row("ip netns del loop", some(netnsdel));
    t.print();
    let mut t = Table::new(format!("## confirmed apply of {n} endpoints (median of {rounds})"));
    t.row("vlanmac apply", some(apply.clone()));
    t.row("vlanmac apply --confirm (checkpoint written, then the apply)", some(confirmed));
    t.row("vlanmac down", some(down.clone()));
    t.row("vlanmac rollback (the checkpoint's undo steps)", some(rollback));
    t.print();
    println!("\ncheckpoint + apply / apply: {confirm_ratio:.2}x; rollback / down: {rollback_ratio:.2}x");
    let (base, peak) = rss.iter().copied().max_by_key(|(_, p)| *p).unwrap_or_default();
    println!(
        "\npeak RSS during apply of {n} endpoints: {:.1} MiB (process before: {:.1} MiB)",
        peak as f64 / 1024.0,
        base as f64 / 1024.0
    );
}
