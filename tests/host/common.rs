//! Fixtures for privileged tests: fresh namespaces removed by Drop, the
//! `ip -j` oracle, and the skip-or-fail rule for missing kernel features.

use std::{
    io::Write,
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
};

use serde_json::Value;
use vlanmac::{
    link::{NewLink, Veth, Vlan},
    netns,
    spec::{IfName, NetnsName, VlanId},
    Error, Netlink, NetnsRef,
};

/// Shorthand for a valid interface name.
pub fn n(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

/// A fresh named namespace, deleted (with everything in it) on drop, even
/// when the test fails.
pub struct TestNs {
    pub name: NetnsName,
}

impl TestNs {
    pub fn new(tag: &str) -> TestNs {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = NetnsName::new(format!("vmt-{}-{}-{tag}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)))
            .unwrap();
        netns::create_blocking(&name).unwrap();
        TestNs { name }
    }

    pub fn as_ref(&self) -> NetnsRef {
        NetnsRef::Named(self.name.clone())
    }

    pub async fn nl(&self) -> Netlink {
        Netlink::open(self.as_ref()).await.unwrap()
    }

    /// `ip -n NS ARGS...` with `-j`, parsed.
    pub fn ip_json(&self, args: &[&str]) -> Value {
        ip_json(Some(self.name.as_str()), args)
    }

    /// `ip -n NS -d -j link show dev NAME`, the first (only) entry.
    pub fn link_json(&self, name: &str) -> Value {
        let v = self.ip_json(&["-d", "link", "show", "dev", name]);
        v.get(0).cloned().unwrap_or_else(|| panic!("no link {name} in {}: {v}", self.name))
    }

    /// Whether `ip` sees a link called `name` in this namespace.
    pub fn has_link(&self, name: &str) -> bool {
        self.ip_json(&["link", "show"]).as_array().unwrap().iter().any(|l| l["ifname"] == name)
    }

    /// `ip -n NS -j addr show dev NAME`: the addresses as `addr/prefix`.
    pub fn addrs(&self, dev: &str) -> Vec<String> {
        let v = self.ip_json(&["addr", "show", "dev", dev]);
        v[0]["addr_info"]
            .as_array()
            .map(|a| a.iter().map(|x| format!("{}/{}", x["local"].as_str().unwrap(), x["prefixlen"])).collect())
            .unwrap_or_default()
    }

    /// Runs `ip -n NS ARGS...`, panicking on failure (test set-up only).
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_ip(&full);
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        match netns::delete_blocking(&self.name) {
            // Deleted by the test itself (a pod force-deleted, a drift).
            Ok(()) | Err(vlanmac::Error::NotFound(_)) => {}
            Err(e) => eprintln!("warning: could not delete test netns {}: {e}", self.name),
        }
    }
}

pub fn run_ip(args: &[&str]) -> String {
    let out = Command::new(ip_bin()).args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn ip_json(ns: Option<&str>, args: &[&str]) -> Value {
    let mut full = vec!["-j"];
    if let Some(ns) = ns {
        full.extend(["-n", ns]);
    }
    full.extend_from_slice(args);
    let out = run_ip(&full);
    if out.trim().is_empty() {
        return Value::Array(vec![]);
    }
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ip {full:?}: bad JSON ({e}): {out}"))
}

/// The global-scope addresses of one `ip -j addr show` link object, as
/// `ADDRESS/PREFIX`.
pub fn global_addresses(link: &Value) -> std::collections::BTreeSet<String> {
    link["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["scope"] == "global")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or("?"), a["prefixlen"]))
        .collect()
}

/// The oracle is iproute2's `ip`; the kernel VM has a minimal PATH.
/// The `ip` binary.
pub fn ip_bin() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ip")
}

/// A trunk for tests: a veth pair, `trunk` in `host` and `peer` in `far`,
/// both up.
pub async fn veth_trunk(host: &TestNs, far: &TestNs, trunk: &str, peer: &str) {
    let h = host.nl().await;
    let f = far.nl().await;
    h.add_link(&NewLink::new(n(trunk), Veth::new(n(peer)).peer_in(&f))).await.unwrap();
    h.set_up(&n(trunk), true).await.unwrap();
    f.set_up(&n(peer), true).await.unwrap();
}

/// Kernel features some tests need; the machines' own kernel lacks some.
#[derive(Debug, Clone, Copy)]
pub enum Feature {
    Vlan8021q,
    Ipvlan,
}

/// Whether the running kernel has `feature`, probed by creating one such
/// link in a scratch namespace.
pub async fn kernel_has(feature: Feature) -> bool {
    let ns = TestNs::new("probe");
    let nl = ns.nl().await;
    nl.add_link(&NewLink::new(n("p0"), Veth::new(n("p1")))).await.unwrap();
    let spec = match feature {
        Feature::Vlan8021q => NewLink::new(n("p0.5"), Vlan::new(n("p0"), VlanId::new(5).unwrap())),
        Feature::Ipvlan => NewLink::new(n("pi"), vlanmac::link::Ipvlan::new(n("p0"), vlanmac::spec::IpvlanMode::L2)),
    };
    match nl.add_link(&spec).await {
        Ok(()) => true,
        Err(Error::KernelUnsupported(_)) => false,
        Err(e) => panic!("probing {feature:?}: {e}"),
    }
}

/// Whether missing kernel features must fail tests (inside the kernel VM).
pub fn kernel_required() -> bool {
    std::env::var("VLANMAC_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

/// Returns true if the test may go on. When the kernel lacks `feature`:
/// inside the kernel VM (`VLANMAC_REQUIRE_KERNEL=1`) the test fails; on the
/// host it is reported skipped (stderr and `$VLANMAC_SKIP_LOG`).
pub async fn require(feature: Feature, test: &str) -> bool {
    if kernel_has(feature).await {
        return true;
    }
    assert!(!kernel_required(), "{test}: the kernel lacks {feature:?} but VLANMAC_REQUIRE_KERNEL=1");
    record_skip(test, &format!("the running kernel lacks {feature:?}"));
    false
}

/// Records what an outside tool said about vlanmac's output (one line per
/// check, e.g. `netplan generate: ...`) in `$VLANMAC_TOOL_LOG`, which
/// scripts/test prints in its summary.
pub fn record_tool(line: &str) {
    if let Ok(path) = std::env::var("VLANMAC_TOOL_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}

pub fn record_skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    if let Ok(path) = std::env::var("VLANMAC_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{test}\t{reason}");
        }
    }
}

/// Drops CAP_NET_ADMIN from the calling thread's effective set (capabilities
/// are per thread; threads it spawns inherit the reduced set).
pub fn drop_cap_net_admin_on_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const V3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut h = Header { version: V3, pid: 0 };
    let mut d = [Data::default(); 2];
    // SAFETY: capget/capset with a v3 header and two data slots, as documented.
    unsafe {
        assert_eq!(libc::syscall(libc::SYS_capget, &mut h as *mut Header, d.as_mut_ptr()), 0);
        d[0].effective &= !(1 << CAP_NET_ADMIN);
        d[0].permitted &= !(1 << CAP_NET_ADMIN);
        assert_eq!(libc::syscall(libc::SYS_capset, &mut h as *mut Header, d.as_ptr()), 0);
    }
}
