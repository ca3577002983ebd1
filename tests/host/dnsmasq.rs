//! Debian's dnsmasq as the DHCP server of tests (tests/host/dhcp_client.rs,
//! vlanmac-cni/tests/cni/dhcp.rs): one process in a namespace the test
//! made, on one interface, its lease file and log in a scratch directory;
//! stopped by its PID on drop. Its lease file is the oracle of which MAC
//! holds which address.

use std::{
    net::Ipv4Addr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use crate::common::{ip_bin, record_skip};

/// dnsmasq's binary, if installed.
pub fn dnsmasq_bin() -> Option<&'static str> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].into_iter().find(|p| std::path::Path::new(p).exists())
}

/// Whether dnsmasq is installed; records `test` as skipped if not
/// (outside scripts/test, which installs dnsmasq-base: missing there fails).
pub fn dnsmasq_available(test: &str) -> bool {
    if dnsmasq_bin().is_some() {
        return true;
    }
    assert!(std::env::var("VLANMAC_REQUIRE_TOOLS").is_err(), "{test}: dnsmasq is not installed");
    record_skip(test, "dnsmasq (dnsmasq-base) is not installed");
    false
}

/// A running dnsmasq serving DHCP.
pub struct Dnsmasq {
    child: Child,
    /// Its lease file, pid file and log.
    pub dir: PathBuf,
}

/// One line of the lease file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseLine {
    /// The client's MAC.
    pub mac: String,
    /// The address it holds.
    pub addr: Ipv4Addr,
    /// Its client identifier (`*` if none).
    pub client_id: String,
}

impl Dnsmasq {
    /// Starts dnsmasq in namespace `netns` on `iface` (which has an
    /// address in the range's subnet), handing out `from`..`to` (/24) for
    /// 2 minutes (dnsmasq's shortest lease) with `router` as the router
    /// option; `None` (the test reported itself skipped) if dnsmasq is not
    /// installed outside scripts/test.
    pub fn start(test: &str, netns: &str, iface: &str, from: &str, to: &str, router: &str) -> Option<Dnsmasq> {
        Dnsmasq::start_with(test, netns, iface, from, to, router, &[])
    }

    /// [`Dnsmasq::start`] with more of dnsmasq's options (`extra`, such as
    /// `--dhcp-option=option:mtu,1400`).
    pub fn start_with(
        test: &str,
        netns: &str,
        iface: &str,
        from: &str,
        to: &str,
        router: &str,
        extra: &[&str],
    ) -> Option<Dnsmasq> {
        let Some(bin) = dnsmasq_bin() else {
            // scripts/test installs dnsmasq-base: missing there is a failure.
            assert!(std::env::var("VLANMAC_REQUIRE_TOOLS").is_err(), "{test}: dnsmasq is not installed");
            record_skip(test, "dnsmasq (dnsmasq-base) is not installed");
            return None;
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vlanmac-dnsmasq-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(ip_bin())
            .args(["netns", "exec", netns, bin])
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--port=0",
                "--bind-interfaces",
                "--user=root",
                "--group=root",
                "--dhcp-authoritative",
                // No ping of an address before offering it: dnsmasq waits
                // up to 3 s for an echo reply per DISCOVER, one after
                // another (20 clients: a minute). The lab's addresses are
                // all handed out by this server.
                "--no-ping",
                "--log-dhcp",
                "--dhcp-option=option:domain-name,lab.example",
            ])
            .arg(format!("--interface={iface}"))
            .arg(format!("--dhcp-range={from},{to},255.255.255.0,2m"))
            .arg(format!("--dhcp-option=option:router,{router}"))
            .arg(format!("--dhcp-leasefile={}", dir.join("leases").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-facility={}", dir.join("log").display()))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let mut d = Dnsmasq { child, dir };
        // Ready once it listens on port 67 (0043 in /proc/net/udp's hex).
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let out = Command::new(ip_bin()).args(["netns", "exec", netns, "cat", "/proc/net/udp"]).output().unwrap();
            if String::from_utf8_lossy(&out.stdout).contains(":0043 ") {
                return Some(d);
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("dnsmasq exited ({status}): {}", d.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("dnsmasq did not listen on port 67 within 20 s: {}", d.log());
    }

    /// Its log (`--log-dhcp`: every message it got and sent).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Its lease file, a line per lease.
    pub fn leases(&self) -> Vec<LeaseLine> {
        std::fs::read_to_string(self.dir.join("leases"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some(LeaseLine {
                    mac: f.get(1)?.to_string(),
                    addr: f.get(2)?.parse().ok()?,
                    client_id: f.get(4).unwrap_or(&"*").to_string(),
                })
            })
            .collect()
    }

    /// Waits up to 5 s for the lease file to satisfy `pred`.
    pub fn wait_leases(&self, what: &str, pred: impl Fn(&[LeaseLine]) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if pred(&self.leases()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server's lease file never showed {what}: {:?}\n{}", self.leases(), self.log());
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
