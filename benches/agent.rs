//! The agent against the naive alternative (`vlanmac apply` run every
//! second by a loop), side by side in one run (needs root):
//!
//! * repair latency: N endpoints applied; drifts injected with `ip`, of
//!   each kind in turn (a macvlan deleted, an address flushed, a link set
//!   down, an MTU changed, a default route deleted, an endpoint's namespace
//!   deleted, the trunk deleted), a different endpoint each time; the time
//!   from each injection to the state restored, as an independent listener
//!   sees it (a netlink monitor in the endpoint's namespace, the state read
//!   again at each notification and every 10 ms): p50 and p99, and p50 by
//!   kind;
//! * idle cost: CPU time (the scheduler's, in nanoseconds) and context
//!   switches (wakeups) over S seconds with nothing happening;
//! * the agent's RSS with M endpoints (optional).
//!
//!     cargo bench --bench agent -- [N] [INJECTIONS] [IDLE_SECONDS] [--rss M]

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{arg, fmt, scale::scale_yaml};
use vlanmac::{
    netlink::monitor::Monitor,
    spec::{IfName, NetnsName},
    Netlink, NetnsRef,
};

const CLI: &str = env!("CARGO_BIN_EXE_vlanmac");

/// A topology file of `n` endpoints on 4 networks with an explicit MTU.
fn topology(dir: &Path, p: &str, n: usize) -> PathBuf {
    let yaml = scale_yaml(p, n, 4, false).replace("    parent: eth0\n", "    parent: eth0\n    mtu: 1500\n");
    let f = dir.join(format!("{p}.yaml"));
    std::fs::write(&f, yaml).expect("write the topology");
    f
}

/// An agent on `file`, converged.
struct Agent {
    child: Child,
    socket: PathBuf,
}

impl Agent {
    fn start(file: &Path, dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = Command::new(CLI)
            .arg("agent")
            .arg(file)
            .arg("--socket")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the agent");
        let a = Agent { child, socket };
        let t0 = Instant::now();
        loop {
            let out = Command::new(CLI).args(["status", "--json", "--socket"]).arg(&a.socket).output().expect("status");
            let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if s["topologies"].as_array().is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "converged"))
            {
                return a;
            }
            assert!(t0.elapsed() < Duration::from_secs(600), "the agent did not converge");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// (CPU time, context switches) of the agent so far, over its threads.
    fn usage(&self) -> (Duration, u64) {
        usage_of(self.child.id())
    }

    fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), nix::sys::signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// CPU time (the scheduler's, in nanoseconds) and context switches of
/// process `pid`, over all its threads.
fn usage_of(pid: u32) -> (Duration, u64) {
    let (mut cpu, mut switches) = (Duration::ZERO, 0);
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        // schedstat: time on the CPU (ns), time waiting, timeslices.
        let sched = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        cpu += Duration::from_nanos(sched.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0));
        let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for l in s.lines() {
            if let Some(v) =
                l.strip_prefix("voluntary_ctxt_switches:").or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    (cpu, switches)
}

/// CPU time and context switches of this process's waited-for children.
fn children_usage() -> (Duration, u64) {
    // SAFETY: getrusage writes into the rusage it is given.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) };
    let t = |tv: libc::timeval| Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64);
    (t(r.ru_utime) + t(r.ru_stime), (r.ru_nvcsw + r.ru_nivcsw) as u64)
}

fn ip(args: &[&str]) {
    let _ = Command::new("ip").args(args).output();
}

/// The drifts, in the order they are injected.
const KINDS: [&str; 7] = [
    "macvlan deleted",
    "address flushed",
    "link set down",
    "MTU changed",
    "default route deleted",
    "namespace deleted",
    "trunk deleted",
];

/// One drift of kind `k` (an index of [`KINDS`]) on endpoint `ns` of
/// topology `p`.
fn inject(k: usize, p: &str, ns: &str) {
    match k {
        0 => ip(&["-n", ns, "link", "del", "eth0"]),
        1 => ip(&["-n", ns, "addr", "flush", "dev", "eth0"]),
        2 => ip(&["-n", ns, "link", "set", "eth0", "down"]),
        3 => ip(&["-n", ns, "link", "set", "eth0", "mtu", "1400"]),
        4 => ip(&["-n", ns, "route", "del", "default"]),
        5 => ip(&["netns", "del", ns]),
        // The lab trunk, and every macvlan on it with it.
        _ => ip(&["-n", &format!("{p}-host"), "link", "del", "eth0"]),
    }
}

/// Whether endpoint `ns`'s eth0 is as the topology says (read afresh: the
/// namespace may be a new one).
async fn restored(ns: &NetnsRef, addr: &str) -> bool {
    let Ok(nl) = Netlink::open(ns.clone()).await else { return false };
    let Ok(l) = nl.link(&IfName::new("eth0").unwrap()).await else { return false };
    if !l.admin_up || l.mtu != Some(1500) {
        return false;
    }
    let Ok(addrs) = nl.addresses(None).await else { return false };
    if !addrs.iter().any(|a| a.index == l.index && a.net.addr().to_string() == addr) {
        return false;
    }
    nl.routes().await.is_ok_and(|r| r.iter().any(|r| r.is_default()))
}

/// Injects `count` drifts over the endpoints of `p` and times each until the
/// listener sees it restored (the agent, or the loop, repairs it): the
/// kind and the time, in injection order.
fn latencies(p: &str, n: usize, count: usize) -> Vec<(usize, Duration)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut out = Vec::new();
    // A trunk deleted remakes every endpoint: those drifts come last, each
    // a flap window (10 s) after the one before, or the agent would rightly
    // take them for someone fighting it.
    let trunks = count / KINDS.len();
    for i in 0..count {
        let kind = if i < count - trunks { i % (KINDS.len() - 1) } else { KINDS.len() - 1 };
        if kind == KINDS.len() - 1 && i > count - trunks {
            std::thread::sleep(Duration::from_millis(10_500));
        }
        let e = (i * 7) % n;
        let ns = format!("{p}-e{e}");
        let addr = common::scale::scale_addr(e, 4);
        let r = NetnsRef::Named(NetnsName::new(ns.clone()).unwrap());
        let took = rt.block_on(async {
            // A socket in the namespace would keep it, and its macvlan
            // with the MAC the repair needs, alive after `ip netns del`:
            // that drift is watched by reading every 10 ms only.
            let mut mon = match kind {
                5 => None,
                _ => Some(Monitor::open(r.clone()).await.expect("monitor")),
            };
            inject(kind, p, &ns);
            let t0 = Instant::now();
            let fd = mon.as_ref().map(|m| {
                let raw = std::os::fd::AsRawFd::as_raw_fd(m);
                // SAFETY: `mon` owns the descriptor and outlives `fd`
                // (declared after it, dropped first).
                unsafe { tokio::io::unix::AsyncFd::register_with_interest(raw, tokio::io::Interest::READABLE) }
                    .map_err(|e| e.into_parts().1)
                    .unwrap()
            });
            loop {
                if let Some(m) = mon.as_mut() {
                    let _ = m.drain();
                }
                if restored(&r, &addr).await {
                    break t0.elapsed();
                }
                assert!(t0.elapsed() < Duration::from_secs(120), "drift {i} ({}) on {ns} never repaired", KINDS[kind]);
                match &fd {
                    Some(fd) => {
                        if let Ok(Ok(mut g)) = tokio::time::timeout(Duration::from_millis(10), fd.readable()).await {
                            g.clear_ready();
                        }
                    }
                    None => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        });
        out.push((kind, took));
        // Let the repair settle before the next injection.
        std::thread::sleep(Duration::from_millis(200));
    }
    out
}

/// The `p` quantile of the times of `v` of the kinds `which` keeps.
fn percentile(v: &[(usize, Duration)], p: f64, which: impl Fn(usize) -> bool) -> Duration {
    let mut t: Vec<Duration> = v.iter().filter(|(k, _)| which(*k)).map(|(_, d)| *d).collect();
    t.sort();
    if t.is_empty() {
        return Duration::ZERO;
    }
    t[((t.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    if !common::is_root() {
        eprintln!("benches/agent.rs: needs root");
        return;
    }
    let n: usize = arg(0, 200);
    let injections: usize = arg(1, 100);
    let idle: u64 = arg(2, 60);
    let rss_n: Option<usize> =
        std::env::args().position(|a| a == "--rss").and_then(|i| std::env::args().nth(i + 1)?.parse().ok());
    let dir = std::env::temp_dir().join(format!("vlanmac-bench-agent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = format!("vba{}", std::process::id() % 100_000);
    let file = topology(&dir, &p, n);

    // The agent.
    let agent = Agent::start(&file, &dir);
    // The kernel's own notifications after the apply (carriers coming up,
    // IPv6 duplicate address detection) make one more look: let it pass.
    std::thread::sleep(Duration::from_secs(5));
    let (c0, w0) = agent.usage();
    std::thread::sleep(Duration::from_secs(idle));
    let (c1, w1) = agent.usage();
    let agent_idle = (c1 - c0, w1 - w0);
    let agent_lat = latencies(&p, n, injections);
    drop(agent);

    // The loop: `vlanmac apply` every second, in a thread of its own.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let looping = {
        let (stop, file) = (stop.clone(), file.clone());
        std::thread::spawn(move || {
            let mut runs = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t0 = Instant::now();
                let _ = Command::new(CLI).arg("apply").arg(&file).stdout(Stdio::null()).stderr(Stdio::null()).status();
                runs += 1;
                std::thread::sleep(Duration::from_secs(1).saturating_sub(t0.elapsed()));
            }
            runs
        })
    };
    let (lc0, lw0) = children_usage();
    std::thread::sleep(Duration::from_secs(idle));
    let (lc1, lw1) = children_usage();
    let loop_idle = (lc1 - lc0, lw1 - lw0);
    let loop_lat = latencies(&p, n, injections.min(KINDS.len() * 3));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = looping.join().unwrap_or(0);
    let _ = Command::new(CLI).arg("down").arg(&file).output();

    println!(
        "\n## The agent against `vlanmac apply` every second: {n} endpoints on 4 networks, {injections} drifts (the loop: {})",
        injections.min(KINDS.len() * 3)
    );
    println!("| | agent | apply every second | ratio |");
    println!("|---|---|---|---|");
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let (a, l) = (percentile(&agent_lat, q, |_| true), percentile(&loop_lat, q, |_| true));
        println!("| repair latency {name} | {} | {} | {:.1}x |", fmt(a), fmt(l), ratio(a, l));
    }
    for (k, kind) in KINDS.iter().enumerate() {
        let (a, l) = (percentile(&agent_lat, 0.5, |x| x == k), percentile(&loop_lat, 0.5, |x| x == k));
        println!("| p50, {kind} | {} | {} | {:.1}x |", fmt(a), fmt(l), ratio(a, l));
    }
    // The agent may use no measurable CPU at all: the ratio is then a
    // lower bound, against one nanosecond (one switch).
    let bound = |agent_zero: bool, r: f64| if agent_zero { format!("> {r:.0}x") } else { format!("{r:.0}x") };
    println!(
        "| idle CPU time over {idle} s | {} | {} | {} |",
        fmt(agent_idle.0),
        fmt(loop_idle.0),
        bound(agent_idle.0.is_zero(), ratio(agent_idle.0.max(Duration::from_nanos(1)), loop_idle.0))
    );
    println!(
        "| idle context switches over {idle} s | {} | {} ({runs} runs) | {} |",
        agent_idle.1,
        loop_idle.1,
        bound(agent_idle.1 == 0, loop_idle.1 as f64 / agent_idle.1.max(1) as f64)
    );
    if let Some(m) = rss_n {
        let q = format!("{p}r");
        let big = topology(&dir, &q, m);
        let a = Agent::start(&big, &dir);
        println!("| agent RSS with {m} endpoints | {} MiB | | |", a.rss_kib() / 1024);
        drop(a);
        let _ = Command::new(CLI).arg("down").arg(&big).output();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
