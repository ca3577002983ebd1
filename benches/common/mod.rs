//! What the benches share: namespaces removed on drop, `ip` runs, medians,
//! peak RSS and the table they print.

#![allow(dead_code)]

pub mod plugin;
pub mod scale;

use std::{
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use vlanmac::{
    link::{Macvlan, NewLink},
    netns,
    spec::{AddressSpec, IfName, MacvlanMode, NetnsName},
};

/// A namespace made for one measurement, deleted on drop.
pub struct Ns(pub NetnsName);

impl Ns {
    pub fn new(tag: &str) -> Ns {
        let n = NetnsName::new(format!("vmb{}-{tag}", std::process::id() % 100000)).expect("netns name");
        netns::create_blocking(&n).expect("create netns");
        Ns(n)
    }

    pub fn name(&self) -> &str {
        self.0.as_str()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = netns::delete_blocking(&self.0);
    }
}

/// Runs `ip ARGS`, panicking with its stderr on failure.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Feeds `script` to `ip [-n NS] -batch -`.
pub fn ip_batch(ns: Option<&str>, script: &str) {
    let mut args = Vec::new();
    if let Some(n) = ns {
        args.extend(["-n", n]);
    }
    args.extend(["-batch", "-"]);
    let mut c = Command::new("ip").args(&args).stdin(Stdio::piped()).spawn().expect("run ip -batch");
    c.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write script");
    assert!(c.wait().expect("wait ip").success(), "ip -batch failed");
}

/// Runs every line of `script` as its own `ip` process (what shell scripts do).
pub fn ip_per_step(script: &str) {
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let args: Vec<&str> = line.split_whitespace().collect();
        ip(&args);
    }
}

/// Time of `f`.
pub fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Peak resident set size of this process so far, in KiB (VmHWM).
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS counter (`echo 5 > /proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Whether we may create namespaces.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// One row per method: median and the ratio against the reference row.
pub struct Table {
    pub title: String,
    pub rows: Vec<(String, Option<Duration>)>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Self {
        Table { title: title.into(), rows: Vec::new() }
    }

    pub fn row(&mut self, method: impl Into<String>, t: Option<Duration>) {
        self.rows.push((method.into(), t));
    }

    /// Prints the table; ratios are each row's time over the first row's
    /// (how many times faster the first row is).
    pub fn print(&self) {
        println!("\n{}", self.title);
        println!("| method | median | vs first row |");
        println!("|---|---|---|");
        let base = self.rows.first().and_then(|r| r.1);
        for (m, t) in &self.rows {
            match (t, base) {
                (Some(t), Some(b)) => {
                    println!("| {m} | {} | {:.2}x |", fmt(*t), t.as_secs_f64() / b.as_secs_f64().max(1e-9))
                }
                (Some(t), None) => println!("| {m} | {} | |", fmt(*t)),
                (None, _) => println!("| {m} | n/a | |"),
            }
        }
    }
}

pub fn fmt(t: Duration) -> String {
    let ms = t.as_secs_f64() * 1e3;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.1} us", ms * 1e3)
    }
}

/// `args[i]` parsed, or `default`.
pub fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args().skip(1).filter(|a| !a.starts_with('-')).nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// The Python interpreter that has pyroute2 / vlanmac, if any.
pub fn python() -> Option<String> {
    std::env::var("VLANMAC_BENCH_PYTHON").ok().filter(|p| !p.is_empty())
}

/// Runs a Python snippet that prints one number (milliseconds); `None` when
/// no interpreter is configured or it fails.
pub fn python_ms(code: &str, args: &[&str]) -> Option<Duration> {
    let py = python()?;
    let out = Command::new(py).arg("-c").arg(code).args(args).output().ok()?;
    if !out.status.success() {
        eprintln!("python: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let ms: f64 = String::from_utf8_lossy(&out.stdout).trim().lines().last()?.parse().ok()?;
    Some(Duration::from_secs_f64(ms / 1e3))
}

/// The link group of the benches' macvlans (deleted in one request).
pub const GROUP: u32 = 4242;

/// An interface name the bench knows to be valid.
pub fn name(s: &str) -> IfName {
    IfName::new(s).expect("ifname")
}

/// The `i`-th link's address: a /32 of its own.
pub fn addr(i: usize) -> AddressSpec {
    format!("10.{}.{}.1/32", i / 250, i % 250 + 1).parse().expect("address")
}

/// A namespace with a veth trunk `t0` (up, its peer up). On drop the trunk
/// is deleted first, which takes every macvlan on it synchronously: the
/// kernel's background clean-up of a dropped namespace full of links would
/// otherwise run during the next measurement.
pub struct Trunk(pub Ns);

impl Trunk {
    pub fn name(&self) -> &str {
        self.0.name()
    }
}

impl Drop for Trunk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["-n", self.0.name(), "link", "del", "t0"]).output();
    }
}

pub fn with_trunk(tag: &str) -> Trunk {
    let ns = Ns::new(tag);
    ip(&["-n", ns.name(), "link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
    ip(&["-n", ns.name(), "link", "set", "t0", "up"]);
    ip(&["-n", ns.name(), "link", "set", "t1", "up"]);
    Trunk(ns)
}

/// The `i`-th link: `mv{i}`, a bridge-mode macvlan on `t0` in [`GROUP`],
/// without IPv6 address generation unless `ipv6`.
pub fn spec(i: usize, ipv6: bool) -> NewLink {
    let s = NewLink::new(name(&format!("mv{i}")), Macvlan::new(name("t0"), MacvlanMode::Bridge)).group(GROUP);
    if ipv6 {
        s
    } else {
        s.ipv6_addrgen(false)
    }
}

/// Makes links `mv0..mvN` with vlanmac, each with its address and up, in
/// one [`vlanmac::Batch`] on `nl`; returns the time it took.
pub async fn create_with_batch(nl: &vlanmac::Netlink, n: usize, ipv6: bool) -> Duration {
    let start = Instant::now();
    let mut batch = vlanmac::Batch::new();
    for i in 0..n {
        let dev = name(&format!("mv{i}"));
        batch.add_link(nl, spec(i, ipv6));
        batch.add_address(nl, &dev, addr(i));
        batch.set_up(nl, &dev);
    }
    batch.run().await.into_result().expect("batch");
    start.elapsed()
}

/// The same as [`create_with_batch`], one call per step (each a one-change
/// batch).
pub async fn create_with_calls(nl: &vlanmac::Netlink, n: usize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let dev = name(&format!("mv{i}"));
        nl.add_link(&spec(i, false)).await.expect("add");
        nl.add_address(&dev, &addr(i)).await.expect("addr");
        nl.set_up(&dev, true).await.expect("up");
    }
    start.elapsed()
}
