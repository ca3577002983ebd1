//! The DHCP leases of a topology's `ipv4: dhcp` interfaces: kept in
//! `/run/vlanmac/NAME/dhcp/ENDPOINT.IFNAME.json` (so a later apply or a
//! restarted agent asks for the same address, INIT-REBOOT), acquired by
//! `apply` for every interface at once, renewed by the agent, given back
//! by `down` (DHCPRELEASE).

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Serialize;

use super::{
    desired::DesiredLease,
    dhcp::{self, Goal, Interface, Lease},
    lab_server::{state_dir, LabServer},
    model::Topology,
    places::Place,
};
use vlanmac_core::{netlink::Netlink, Error, Result};

/// How long `apply` waits for the leases by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A DHCP interface that holds its lease: shown by `plan` beside the
/// changes (`address eth0 dhcp (lease 10.0.20.57, 3540 s left)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseStatus {
    /// The endpoint's namespace.
    pub netns: String,
    /// The endpoint.
    pub endpoint: String,
    /// Its interface.
    pub interface: String,
    /// The leased address.
    pub address: std::net::Ipv4Addr,
    /// Seconds left of the lease.
    pub seconds_left: u32,
    /// The DNS servers it names (option 6), applied with `dhcp_use: [dns]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<std::net::Ipv4Addr>,
    /// Its domain (option 15), applied with `dhcp_use: [domain]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Its interface MTU (option 26), applied with `dhcp_use: [mtu]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
}

impl std::fmt::Display for LeaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "address {} dhcp (lease {}, {} s left)", self.interface, self.address, self.seconds_left)
    }
}

/// The directory of `topology`'s lease files.
pub fn lease_dir(topology: &str) -> PathBuf {
    state_dir(topology).join("dhcp")
}

/// The lease file of `endpoint`'s `ifname`.
pub fn lease_path(topology: &str, endpoint: &str, ifname: &str) -> PathBuf {
    let esc = vlanmac_core::lockfile::escape;
    lease_dir(topology).join(format!("{}.{}.json", esc(endpoint), esc(ifname)))
}

/// The lease stored for `endpoint`'s `ifname`; `None` when there is none
/// or it cannot be read as one.
pub fn load(topology: &str, endpoint: &str, ifname: &str) -> Option<Lease> {
    let text = std::fs::read_to_string(lease_path(topology, endpoint, ifname)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stores `lease` (written to a temporary file, then renamed over the old).
pub fn save(topology: &str, endpoint: &str, ifname: &str, lease: &Lease) -> Result<()> {
    let path = lease_path(topology, endpoint, ifname);
    crate::state_file::write_json(&path, lease, true)
        .map_err(|e| Error::io(format!("store the DHCP lease in {}", path.display()), e))
}

/// Removes the stored lease of `endpoint`'s `ifname` (gone already is fine).
pub fn forget(topology: &str, endpoint: &str, ifname: &str) {
    let _ = std::fs::remove_file(lease_path(topology, endpoint, ifname));
}

/// What `plan` reads besides the kernel: the stored leases of `t`'s DHCP
/// interfaces, the resolv.conf files their leases write, whether its lab
/// server runs with the configuration it needs, and the time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Served {
    /// Stored leases by (endpoint, interface).
    pub(crate) leases: BTreeMap<(String, String), Lease>,
    /// The text of each resolv.conf a lease writes (`dhcp_use: [dns,
    /// domain]`), by path; absent when unreadable.
    pub(crate) resolv: BTreeMap<std::path::PathBuf, String>,
    /// The lab server `t` needs, and whether it runs as needed.
    pub(crate) lab_server: Option<(LabServer, bool)>,
    /// Seconds since the epoch.
    pub(crate) now: u64,
}

impl Served {
    /// Reads the lease files and the lab server's state.
    pub(crate) fn read(t: &Topology) -> Served {
        let mut leases = BTreeMap::new();
        let mut resolv = BTreeMap::new();
        for e in &t.endpoints {
            let first = e.attach.first().filter(|a| a.ipv4_dhcp).and_then(|a| t.network(&a.network));
            if let (Some(n), crate::model::EndpointNs::Netns(ns)) = (first, &e.netns) {
                let path = crate::desired::resolv_conf(ns.as_str());
                if let (true, Ok(text)) = (n.dhcp_use.resolv(), std::fs::read_to_string(&path)) {
                    resolv.insert(path, text);
                }
            }
            for a in e.attach.iter().filter(|a| a.ipv4_dhcp) {
                if let Some(l) = load(&t.name, &e.name, a.ifname.as_str()) {
                    leases.insert((e.name.clone(), a.ifname.to_string()), l);
                }
            }
        }
        let lab_server = LabServer::of(t).map(|s| {
            let same = std::fs::read_to_string(format!("{}.conf", s.stem.display())).is_ok_and(|c| c == s.config);
            let up = same && s.running().is_some();
            (s, up)
        });
        Served { leases, resolv, lab_server, now: dhcp::unix_now() }
    }
}

/// The stored, unexpired leases of `desired`'s DHCP interfaces.
pub(crate) fn held(t: &Topology, desired: &super::desired::Desired) -> Vec<(DesiredLease, Lease)> {
    let now = dhcp::unix_now();
    desired
        .dhcp
        .iter()
        .filter_map(|x| {
            let l = load(&t.name, &x.endpoint, x.dev.as_str())?;
            (l.is_valid(now) && l.mac == x.mac).then(|| (x.clone(), l))
        })
        .collect()
}

/// How `plan` and `apply` show the lease `l` of `x`.
pub(crate) fn status(x: &DesiredLease, l: &Lease, places: &[Place], now: u64) -> LeaseStatus {
    LeaseStatus {
        netns: places.get(x.place).map(|p| p.label.clone()).unwrap_or_default(),
        endpoint: x.endpoint.clone(),
        interface: x.dev.to_string(),
        address: l.address,
        seconds_left: l.remaining(now),
        dns: l.dns.clone(),
        domain: l.domain.clone(),
        mtu: l.mtu,
    }
}

/// The interface of a desired lease, as the DHCP client runs on it.
pub(crate) fn interface(x: &DesiredLease, places: &[Place]) -> Option<Interface> {
    let place = places.get(x.place)?;
    let mut iface = Interface::new(place.nsref.clone(), x.dev.clone(), x.mac);
    iface.hostname = Some(x.endpoint.clone()).filter(|h| h.len() <= 63);
    iface.label = format!("endpoint {} {} on network {}", x.endpoint, x.dev, x.network);
    Some(iface)
}

/// Acquires a lease for each of `wanted` (with the address held before,
/// if any: INIT-REBOOT), all at once, within `timeout`; installs and
/// stores each granted one. One result per interface, in order; a lease
/// not granted is its slot's error, naming the endpoint and network.
pub(crate) async fn acquire<'h>(
    topology: &str,
    wanted: &[(DesiredLease, Option<std::net::Ipv4Addr>)],
    places: &[Place],
    nl_of: impl Fn(usize) -> Option<&'h Netlink>,
    timeout: Duration,
) -> Result<Vec<Result<Lease>>> {
    let mut jobs = Vec::with_capacity(wanted.len());
    for (x, previous) in wanted {
        let iface = interface(x, places)
            .ok_or_else(|| Error::Internal(format!("endpoint {} has no place to take a lease in", x.endpoint)))?;
        jobs.push((iface, Goal::Acquire { previous: *previous }));
    }
    let outcomes = dhcp::exchange(jobs, timeout).await.map_err(core_error)?;
    let mut out = Vec::with_capacity(wanted.len());
    for ((x, _), outcome) in wanted.iter().zip(outcomes) {
        let installed = async {
            let lease = outcome.map_err(core_error)?.lease;
            let nl = nl_of(x.place).ok_or_else(|| Error::Internal(format!("no handle to {}", x.endpoint)))?;
            install(nl, x, &lease).await?;
            save(topology, &x.endpoint, x.dev.as_str(), &lease)?;
            Ok(lease)
        };
        out.push(installed.await);
    }
    Ok(out)
}

/// An address formed from a router advertisement: IPv6, global, not
/// configured.
pub(crate) fn is_slaac(a: &vlanmac_core::readback::Address) -> bool {
    a.net.addr().is_ipv6() && !a.link_scope && !a.permanent
}

/// Waits until `dev` holds an address formed from a router
/// advertisement, checking every 100 ms, for at most `timeout`.
pub(crate) async fn await_slaac(nl: &Netlink, dev: &vlanmac_core::spec::IfName, timeout: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if nl.addresses(Some(dev)).await?.iter().any(is_slaac) {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::io(
                format!("SLAAC on {dev} in netns {}", nl.netns()),
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no address from a router advertisement within {} s", timeout.as_secs()),
                ),
            ));
        }
        // A sleep that needs no particular async runtime.
        vlanmac_core::netns::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        })
        .await?;
    }
}

/// Puts `lease` on the interface of `x`: its address with the lease's
/// lifetimes, and its router as the default route on the endpoint's first
/// interface; then the options the network uses (`dhcp_use`): the MTU,
/// the namespace's resolv.conf.
pub(crate) async fn install(nl: &Netlink, x: &DesiredLease, lease: &Lease) -> Result<()> {
    if x.default_route {
        dhcp::install(nl, &x.dev, lease).await.map_err(core_error)?;
    } else {
        let addr = lease.address_spec(dhcp::unix_now()).ok_or_else(|| {
            core_error(crate::Error::Dhcp {
                interface: x.dev.to_string(),
                reason: format!("the lease of {} has expired", lease.address),
            })
        })?;
        nl.replace_address(&x.dev, &addr).await?;
    }
    // ip link set DEV mtu N (option 26; a value the kernel cannot take is
    // the server's mistake, named as such).
    if let (true, Some(m)) = (x.use_mtu, lease.mtu) {
        let mtu = vlanmac_core::spec::Mtu::new(m.into()).map_err(|e| {
            Error::io(
                format!("DHCP MTU of {} on {}", lease.address, x.dev),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            )
        })?;
        nl.set_link(&x.dev, &vlanmac_core::link::LinkUpdate::new().mtu(mtu)).await?;
    }
    if let Some((path, used)) = &x.resolv {
        write_resolv(path, &resolv_text(x, lease, *used))?;
    }
    Ok(())
}

/// The first line of every resolv.conf vlanmac writes: what `down` looks
/// for before it removes one.
const RESOLV_MARK: &str = "# written by vlanmac from the DHCP lease of";

/// The resolv.conf for `lease` of `x`: its DNS servers and, as the search
/// domain, its domain (those `used`).
fn resolv_text(x: &DesiredLease, lease: &Lease, used: crate::model::DhcpUse) -> String {
    let mut text = format!("{RESOLV_MARK} {} {}\n", x.endpoint, x.dev);
    for line in resolv_lines(lease, used) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The lines of `lease` that `text` (a resolv.conf) lacks, of those
/// `used`.
pub(crate) fn resolv_missing(text: &str, lease: &Lease, used: crate::model::DhcpUse) -> Vec<String> {
    resolv_lines(lease, used).into_iter().filter(|w| !text.lines().any(|l| l == w)).collect()
}

/// The lines of `lease` a resolv.conf gets: `search DOMAIN` (a domain a
/// resolv.conf line can hold) and a `nameserver` line per DNS server, of
/// those `used`.
fn resolv_lines(lease: &Lease, used: crate::model::DhcpUse) -> Vec<String> {
    let mut lines = Vec::new();
    if let (true, Some(d)) = (used.domain, &lease.domain) {
        if !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            lines.push(format!("search {d}"));
        }
    }
    if used.dns {
        lines.extend(lease.dns.iter().map(|s| format!("nameserver {s}")));
    }
    lines
}

/// Writes `text` to `path` at once (a file beside it, renamed over it).
fn write_resolv(path: &std::path::Path, text: &str) -> Result<()> {
    crate::state_file::write_atomic(path, text.as_bytes())
        .map_err(|e| Error::io(format!("write {}", path.display()), e))
}

/// Removes the resolv.conf the lease of `x` wrote (only one vlanmac
/// wrote), and its folder when empty.
pub(crate) fn remove_resolv(x: &DesiredLease) {
    let Some((path, _)) = &x.resolv else { return };
    if std::fs::read_to_string(path).is_ok_and(|t| t.starts_with(RESOLV_MARK)) {
        let _ = std::fs::remove_file(path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The stored leases of `t`'s DHCP interfaces, each with its interface
/// (at its place in `places`; `usize::MAX` for an endpoint not there).
fn stored(t: &Topology, places: &[Place]) -> Vec<(DesiredLease, Lease)> {
    let mut out = Vec::new();
    for e in &t.endpoints {
        let place = places.iter().position(|p| p.endpoint() == Some(e.name.as_str())).unwrap_or(usize::MAX);
        for (i, a) in e.attach.iter().enumerate().filter(|(_, a)| a.ipv4_dhcp) {
            let Some(lease) = load(&t.name, &e.name, a.ifname.as_str()) else { continue };
            if let Some(x) = DesiredLease::of(t, e, i, place, places, lease.mac) {
                out.push((x, lease));
            }
        }
    }
    out
}

/// Gives back every lease stored for `t` (DHCPRELEASE from the address,
/// while the interface still holds it) and removes the files; the lines
/// `down` reports. A release that cannot be sent (the interface is gone)
/// only removes the file: the server's lease then lapses on its own.
pub(crate) async fn release_all(t: &Topology, places: &[Place], dry: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for (x, lease) in stored(t, places) {
        let sent = match (dry, interface(&x, places)) {
            (false, Some(iface)) if lease.is_valid(dhcp::unix_now()) => dhcp::release(&iface, &lease).await.is_ok(),
            _ => false,
        };
        if !dry {
            forget(&t.name, &x.endpoint, x.dev.as_str());
            remove_resolv(&x);
        }
        let how = if sent { "DHCPRELEASE sent" } else { "lease file removed" };
        lines.push(format!("dhcp lease {} of {} {} ({how})", lease.address, x.endpoint, x.dev));
    }
    if !dry {
        let _ = std::fs::remove_dir(lease_dir(&t.name));
    }
    lines
}

/// What the agent did with one lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renewal {
    /// The endpoint.
    pub endpoint: String,
    /// Its interface.
    pub interface: String,
    /// The address it holds now (the old one when the attempt failed).
    pub address: std::net::Ipv4Addr,
    /// `renewed` (RENEWING, from its server), `rebound` (REBINDING, from
    /// any server), `acquired again` (after it expired), each with the
    /// lease time; `changed from A` when the server gave another address;
    /// or what failed, and when it is tried again.
    pub what: String,
}

/// When one of `t`'s stored leases next needs the agent (renew at T1,
/// rebind at T2, expiry), in seconds since the epoch.
pub fn next_due(t: &Topology) -> Option<u64> {
    stored(t, &[]).iter().filter(|(_, l)| !l.is_infinite()).map(|(_, l)| due_at(l, dhcp::unix_now())).min()
}

fn earliest(a: Option<u64>, b: u64) -> u64 {
    a.map_or(b, |a| a.min(b))
}

/// When `l` next needs attention at `now`: T1, then T2, then its expiry,
/// then every 10 s until it is acquired again.
fn due_at(l: &Lease, now: u64) -> u64 {
    [l.renew_at(), l.rebind_at(), l.expires_at()].into_iter().find(|t| *t > now).unwrap_or(now + 10)
}

/// How long an attempt may take, and when to try again after it failed:
/// half the time to the next timer (RFC 2131 4.4.5), at least 5 s.
fn retry_at(l: &Lease, now: u64) -> u64 {
    let next = due_at(l, now);
    now + ((next.saturating_sub(now)) / 2).max(5)
}

/// Looks after `t`'s leases as their timers say, all at once: RENEWING
/// from T1, REBINDING from T2, a new lease (INIT-REBOOT, then DISCOVER)
/// once one expired (the kernel dropped the address at its end). A
/// granted lease is installed (its lifetimes extended; another address
/// replaces the old, with the default route) and stored. Returns what it
/// did and when to look again (seconds since the epoch).
pub(crate) async fn maintain(
    t: &Topology,
    places: &[Place],
    shared: &vlanmac_core::netlink::Shared,
) -> Result<(Vec<Renewal>, Option<u64>)> {
    let now = dhcp::unix_now();
    let mut jobs = Vec::new();
    let mut todo = Vec::new();
    let mut next: Option<u64> = None;
    for (x, l) in stored(t, places) {
        if l.is_infinite() {
            continue;
        }
        let goal = if now < l.renew_at() {
            next = Some(earliest(next, l.renew_at()));
            continue;
        } else if now < l.rebind_at() {
            Goal::Renew(l.clone())
        } else if now < l.expires_at() {
            Goal::Rebind(l.clone())
        } else {
            Goal::Acquire { previous: Some(l.address) }
        };
        let Some(iface) = interface(&x, places) else { continue };
        jobs.push((iface, goal));
        todo.push((x, l));
    }
    if jobs.is_empty() {
        return Ok((Vec::new(), next));
    }
    let wait = todo.iter().map(|(_, l)| retry_at(l, now) - now).min().unwrap_or(5);
    let outcomes = dhcp::exchange(jobs, Duration::from_secs(wait.clamp(2, 10))).await.map_err(core_error)?;
    let mut out = Vec::new();
    for ((x, old), outcome) in todo.into_iter().zip(outcomes) {
        let verb = if now < old.rebind_at() {
            "renewed"
        } else if now < old.expires_at() {
            "rebound"
        } else {
            "acquired again"
        };
        let done = async {
            let lease = outcome.map_err(core_error)?.lease;
            let nl = Netlink::open_shared(places[x.place].nsref.clone(), shared).await?;
            if lease.address != old.address {
                dhcp::uninstall(&nl, &x.dev, &old).await.map_err(core_error)?;
            }
            install(&nl, &x, &lease).await?;
            save(&t.name, &x.endpoint, x.dev.as_str(), &lease)?;
            Ok::<_, Error>(lease)
        };
        let (address, what) = match done.await {
            Ok(l) => {
                let changed =
                    if l.address != old.address { format!(", changed from {}", old.address) } else { String::new() };
                next = Some(earliest(next, due_at(&l, dhcp::unix_now())));
                (l.address, format!("{verb} for {} s{changed}", l.lease_secs))
            }
            Err(e) => {
                let again = retry_at(&old, dhcp::unix_now());
                next = Some(earliest(next, again));
                (old.address, format!("not {verb} ({e}); tried again in {} s", again.saturating_sub(now)))
            }
        };
        out.push(Renewal { endpoint: x.endpoint.clone(), interface: x.dev.to_string(), address, what });
    }
    Ok((out, next))
}

/// A DHCP failure in vlanmac-core's terms (what `apply` reports): the
/// interface and what the client waited for, as an I/O error that timed
/// out.
pub(crate) fn core_error(e: crate::Error) -> Error {
    match e {
        crate::Error::Core(c) => c,
        crate::Error::Dhcp { interface, reason } => Error::io(
            format!("DHCP on {interface}"),
            std::io::Error::new(std::io::ErrorKind::TimedOut, crate::error::DhcpFailure { interface, reason }),
        ),
        other => Error::Internal(other.to_string()),
    }
}
