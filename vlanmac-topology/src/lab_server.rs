//! The lab's DHCP server and router advertisements: lab equipment, not
//! part of vlanmac's DHCP client (which never depends on it).
//!
//! A lab topology (`lab:`) with `dhcp: true` networks gets one `dnsmasq`
//! (Debian's `dnsmasq-base`) in the lab router's namespace, serving each
//! such network on the router's interface for it (the VLAN subinterface,
//! or the trunk when untagged): a DHCPv4 range per network, its gateway as
//! the router option, and, for networks with an IPv6 subnet, router
//! advertisements of that /64 (`enable-ra`). Its files live in
//! `/run/vlanmac/NAME/`: `lab-dnsmasq.conf`, `.pid`, `.leases` (the
//! server's own lease file, which `verify` reads as an independent oracle)
//! and `.log` (`log-dhcp`: every request it answered).
//!
//! `apply` starts it (again, if its configuration changed), the agent
//! starts it again if it died, `down` stops it.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use nix::sched::{setns, CloneFlags};

use super::{
    ipam,
    model::{Network, Topology},
};
use vlanmac_core::{
    netns::{self, NetnsRef},
    Error, Result,
};

/// The directory of topology `name`'s state (`/run/vlanmac/NAME`).
pub fn state_dir(name: &str) -> PathBuf {
    Path::new(vlanmac_core::lockfile::LOCK_DIR).join(vlanmac_core::lockfile::escape(name))
}

/// The files of a topology's lab server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabServer {
    /// `/run/vlanmac/NAME/lab-dnsmasq`, to which `.conf`, `.pid`,
    /// `.leases` and `.log` are appended.
    pub stem: PathBuf,
    /// The configuration it runs with.
    pub config: String,
}

impl LabServer {
    /// The lab server `t` needs: `None` without a lab or without a
    /// `dhcp: true` network.
    pub fn of(t: &Topology) -> Option<LabServer> {
        let lab = t.lab.as_ref()?;
        let served: Vec<&Network> = t.networks.iter().filter(|n| n.dhcp).collect();
        if served.is_empty() {
            return None;
        }
        let stem = state_dir(&t.name).join("lab-dnsmasq");
        let file = |ext: &str| format!("{}.{ext}", stem.display());
        let mut c = format!(
            "# The lab DHCP server of topology {}, written by vlanmac apply.\n\
             port=0\nbind-interfaces\nuser=root\ngroup=root\nno-resolv\nno-hosts\n\
             dhcp-authoritative\nno-ping\nlog-dhcp\n\
             dhcp-leasefile={}\npid-file={}\nlog-facility={}\n",
            t.name,
            file("leases"),
            file("pid"),
            file("log"),
        );
        let mut ra = false;
        for n in served {
            let dev = if n.vlan.is_some() { n.link_parent() } else { lab.trunk.clone() };
            let tag = format!("vm{}", served_tag(&n.name));
            c.push_str(&format!("interface={dev}\n"));
            if let Some((from, to, gw, plen)) = range_v4(t, n) {
                let mask = Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(plen)).unwrap_or(0));
                c.push_str(&format!(
                    "dhcp-range=set:{tag},{from},{to},{mask},{}\ndhcp-option=tag:{tag},option:router,{gw}\n",
                    lease_time(t)
                ));
            }
            if let Some(s) = n.subnet_v6().filter(|s| s.gateway().is_some()) {
                ra = true;
                c.push_str(&format!(
                    "dhcp-range=set:{tag},{},slaac,ra-only,64\nra-param={dev},30\n",
                    s.subnet.net().network()
                ));
            }
        }
        if ra {
            c.push_str("enable-ra\n");
        }
        Some(LabServer { stem, config: c })
    }

    /// The lab server topology `name` may have left running, whatever its
    /// configuration (to stop it: `down`).
    pub fn of_name(name: &str) -> LabServer {
        LabServer { stem: state_dir(name).join("lab-dnsmasq"), config: String::new() }
    }

    fn file(&self, ext: &str) -> PathBuf {
        PathBuf::from(format!("{}.{ext}", self.stem.display()))
    }

    /// The server's own lease file (`dhcp-leasefile`).
    pub fn leases_path(&self) -> PathBuf {
        self.file("leases")
    }

    /// The server's log (`log-dhcp`).
    pub fn log_path(&self) -> PathBuf {
        self.file("log")
    }

    /// The PID of the running server started with this configuration
    /// file, if one runs.
    pub fn running(&self) -> Option<u32> {
        running_with(&self.file("pid"), &self.file("conf"))
    }

    /// Starts the server in `router` (after stopping one that runs with
    /// another configuration); whether it started one. dnsmasq checks its
    /// configuration and binds its sockets before it goes to the
    /// background, so an error is reported here, with its words.
    pub async fn ensure(&self, router: &NetnsRef) -> Result<bool> {
        let conf = self.file("conf");
        let same = std::fs::read_to_string(&conf).is_ok_and(|c| c == self.config);
        if same && self.running().is_some() {
            return Ok(false);
        }
        self.stop().await?;
        let dir = self.stem.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        std::fs::write(&conf, &self.config).map_err(|e| Error::io(format!("write {}", conf.display()), e))?;
        let ns = router.open()?;
        let bin = dnsmasq_binary()?;
        let what = format!("start the lab DHCP server ({} --conf-file={})", bin.display(), conf.display());
        netns::spawn_blocking(move || {
            setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| {
                Error::from_errno(format!("{what}: enter the router's namespace"), e as i32, None, None)
            })?;
            let out = Command::new(&bin)
                .arg(format!("--conf-file={}", conf.display()))
                .output()
                .map_err(|e| Error::io(what.clone(), e))?;
            if out.status.success() {
                Ok(())
            } else {
                let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
                Err(Error::io(what, std::io::Error::other(format!("{}: {said}", out.status))))
            }
        })
        .await?;
        Ok(true)
    }

    /// Stops the server if it runs (SIGTERM, then waits up to 2 s for it
    /// to exit); whether one ran.
    pub async fn stop(&self) -> Result<bool> {
        let Some(pid) = self.running() else { return Ok(false) };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let alive = move || Path::new(&format!("/proc/{pid}")).exists();
        netns::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(2);
            while alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if alive() {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
            Ok(())
        })
        .await?;
        let _ = std::fs::remove_file(self.file("pid"));
        Ok(true)
    }

    /// Stops the server and removes its files.
    pub async fn remove(&self) -> Result<bool> {
        let ran = self.stop().await?;
        for ext in ["conf", "leases", "log", "pid"] {
            let _ = std::fs::remove_file(self.file(ext));
        }
        Ok(ran)
    }
}

/// A short tag for dnsmasq from a network's name (letters and digits).
fn served_tag(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The lab's lease time: `lab.dhcp_lease_time`, one hour by default.
fn lease_time(t: &Topology) -> u32 {
    t.lab.as_ref().and_then(|l| l.dhcp_lease_secs).unwrap_or(3600)
}

/// The DHCPv4 range of `n` on the lab's server: the longest run of its
/// pool (its `ip_range`, or its subnet) without the gateway, the network's
/// static addresses or its reserved ones. `(first, last, gateway, prefix)`.
pub fn range_v4(t: &Topology, n: &Network) -> Option<(Ipv4Addr, Ipv4Addr, Ipv4Addr, u8)> {
    let s = n.subnet_v4()?;
    let IpAddr::V4(gw) = s.gateway()? else { return None };
    let pool = match s.ip_range.unwrap_or(s.subnet.net()) {
        ipnet::IpNet::V4(p) => p,
        ipnet::IpNet::V6(_) => return None,
    };
    let taken: Vec<u32> = ipam::static_addresses(t)
        .into_iter()
        .filter_map(|a| if let IpAddr::V4(x) = a { Some(u32::from(x)) } else { None })
        .chain(std::iter::once(u32::from(gw)))
        .chain(
            s.aux_addresses.iter().filter_map(|(_, a)| if let IpAddr::V4(x) = a { Some(u32::from(*x)) } else { None }),
        )
        .collect();
    let (lo, hi) = (u32::from(pool.network()), u32::from(pool.broadcast()));
    let net = s.subnet.net();
    let (lo, hi) = if net.prefix_len() < 31 {
        let IpAddr::V4(first) = net.network() else { return None };
        let IpAddr::V4(last) = net.broadcast() else { return None };
        (lo.max(u32::from(first) + 1), hi.min(u32::from(last).saturating_sub(1)))
    } else {
        (lo, hi)
    };
    let mut best: Option<(u32, u32)> = None;
    let mut start = lo;
    let mut x = lo;
    loop {
        if x > hi || taken.contains(&x) {
            if x > start && best.is_none_or(|(a, b)| x - 1 - start > b - a) {
                best = Some((start, x - 1));
            }
            if x >= hi {
                break;
            }
            start = x + 1;
        }
        x += 1;
    }
    best.map(|(a, b)| (Ipv4Addr::from(a), Ipv4Addr::from(b), gw, s.prefix_len()))
}

/// The PID in `pid_file` if that process runs with `conf` on its command line.
fn running_with(pid_file: &Path, conf: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let want = format!("--conf-file={}", conf.display());
    cmdline.split(|b| *b == 0).any(|arg| arg == want.as_bytes()).then_some(pid)
}

/// `dnsmasq` on `PATH`, or Debian's `/usr/sbin/dnsmasq`.
fn dnsmasq_binary() -> Result<PathBuf> {
    let dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    dirs.into_iter().chain([PathBuf::from("/usr/sbin")]).map(|d| d.join("dnsmasq")).find(|p| p.is_file()).ok_or_else(
        || {
            Error::io(
                "start the lab DHCP server",
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no dnsmasq on PATH nor in /usr/sbin (apt-get install dnsmasq-base)",
                ),
            )
        },
    )
}
