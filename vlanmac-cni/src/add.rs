//! ADD, in named steps: the pod's namespace checked and the attachment's
//! lock taken; an earlier attachment of the same key refused while it is
//! live, removed when it is dead; the IPAM plugin started; the VLAN made
//! (or shared) in the runtime's namespace and the attachment recorded; a
//! macvlan or ipvlan made in the pod's namespace under a temporary name and
//! renamed there while the IPAM plugin runs (after it, when the MAC comes
//! from the address; before it, for a plugin that works on the interface,
//! such as the reference `dhcp`), marked as this attachment's from its
//! creation; then
//! addresses (IPv6 without DAD), up, routes. What the reference macvlan
//! plugin sets for the same configuration is set the same way
//! (`arp_notify`/`ndisc_notify` with IPAM, routes without a gateway through
//! the address's gateway, the configuration's `dns` in the result).
//!
//! A failed ADD undoes exactly what it did: the link it made, the lease
//! its own IPAM ADD took (never one it failed to take: that one is
//! somebody else's), its record and its claim on the VLAN.

use std::net::IpAddr;

use futures::executor::block_on;
use serde_json::Value;
use vlanmac_core::{
    link::{Ipvlan, LinkKindSpec, Macvlan, NewLink},
    lockfile::FileLock,
    readback::Link,
    spec::{AddressSpec, IfName, MacAddr, MacvlanMode, RouteSpec},
    Batch, Netlink, NetnsRef,
};

use crate::{
    attachment::Key,
    error::{from_core, CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::{Driver, NetConf},
    pod::{self, Pod},
    result::{CniResult, Interface, IpConfig},
    state::{self, hold, Record},
    teardown::{self, Release},
    vlan,
};

/// ADD; returns the result in the configuration's version.
pub fn add(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<Value> {
    let mac_from_ip = conf.mac_from_ip && matches!(conf.driver, Driver::Macvlan(_));
    if let (true, Some(t)) = (mac_from_ip, conf.ipam_type.as_deref().filter(|t| ipam::needs_interface(t))) {
        return Err(CniError::new(
            Code::InvalidConfig,
            format!("macFromIP: the MAC would come from the address, and IPAM plugin {t} needs the interface (its MAC) first"),
        ));
    }
    let mut a = Attaching::begin(inv, conf, raw)?;
    if !mac_from_ip {
        let mac = match conf.driver {
            Driver::Macvlan(_) => mac_for(conf, inv, &[])?,
            Driver::Ipvlan(_) => None,
        };
        a.make_link(mac)?;
    }
    a.start_ipam()?;
    let mut result = a.ipam_result()?;
    if mac_from_ip {
        a.make_link(mac_for(conf, inv, &result.ips)?)?;
    }
    configure(conf, &a.pod, &a.ifname, &result)?;
    let made = a.commit()?;
    result.interfaces = vec![Interface {
        name: made.name.clone(),
        mac: made.mac.map(|m| m.to_string()),
        mtu: made.mtu,
        sandbox: Some(a.pod.path.display().to_string()),
    }];
    if let Some(Value::Object(dns)) = &conf.dns {
        result.dns = dns.clone();
    }
    Ok(result.to_value(conf.version, &conf.cni_version))
}

/// An earlier attachment of this key: refused while it is live (a runtime
/// must DEL before it ADDs the same container and interface again), removed
/// with everything it held when it is dead (its namespace gone or
/// re-created, its interface gone, or an ADD killed half-way).
fn replace_dead(host: &Netlink, inv: &Invocation, key: &Key, lock: &vlanmac_core::lockfile::FileLock) -> Result<()> {
    let Some(r) = state::read(key)? else { return Ok(()) };
    if teardown::live(&r)? {
        return Err(CniError::new(
            Code::InvalidEnvironment,
            format!(
                "CNI_CONTAINERID {} already has {} on network {} (in {}): DEL it first",
                key.container_id,
                key.ifname,
                key.network,
                r.netns.as_deref().unwrap_or("?")
            ),
        ));
    }
    teardown::remove(host, &r, Release::recorded(&r), &teardown::invocation_for(inv, &r), Some(hold(lock)?), None)
}

/// An MTU above the parent's is refused before anything is made (the
/// master's), or before the link is (a VLAN's, which may be smaller).
fn check_mtu(conf: &NetConf, parent: &Link) -> Result<()> {
    match (conf.mtu, parent.mtu) {
        (Some(want), Some(have)) if want.get() > have => Err(CniError::new(
            Code::InvalidConfig,
            format!("mtu: {want} is above the parent {}'s mtu {have}", parent.name),
        )),
        _ => Ok(()),
    }
}

/// The VLAN (made or shared) and this attachment's record, under the
/// master's lock; returns the parent of the pod's link.
fn vlan_and_record(rb: &mut Attaching<'_>, master: &Link, vlan_name: Option<&IfName>) -> Result<Link> {
    let _lock = state::lock_master(&IfName::new(master.name.clone())?)?;
    let parent = match vlan_name {
        Some(v) => vlan::ensure(&rb.host, master, v, rb.conf)?,
        None => master.clone(),
    };
    let mut config: Option<Value> = serde_json::from_slice(rb.raw).ok();
    if let Some(Value::Object(o)) = &mut config {
        o.remove("prevResult");
    }
    let record = Record {
        network: rb.key.network.clone(),
        container_id: rb.key.container_id.clone(),
        ifname: rb.key.ifname.clone(),
        netns: Some(rb.pod.path.display().to_string()),
        netns_id: Some(rb.pod.nl.netns_id()),
        master: master.name.clone(),
        vlan: vlan_name.map(|v| v.to_string()),
        mode: Some(rb.conf.driver.to_string()),
        cni_path: rb.inv.path.iter().map(|p| p.display().to_string()).collect(),
        config,
        file: Default::default(),
    };
    state::write(&record)?;
    rb.recorded = state::read(&rb.key)?;
    Ok(parent)
}

/// The pod's link: on `parent`, in the attachment's group, renamed to
/// `ifname` with the attachment's mark.
fn link_spec(conf: &NetConf, key: &Key, ifname: &IfName, parent: &Link) -> Result<NewLink> {
    let parent_name = IfName::new(parent.name.clone())?;
    let kind: LinkKindSpec = match conf.driver {
        Driver::Macvlan(mode) => Macvlan::new(parent_name, mode).into(),
        Driver::Ipvlan(mode) => Ipvlan::new(parent_name, mode).into(),
    };
    let mut spec = NewLink::new(ifname.clone(), kind).group(key.group()).alias(key.mark())?;
    spec.mtu = conf.mtu;
    Ok(spec)
}

/// The MAC the interface gets: `runtimeConfig.mac`, else `CNI_ARGS`
/// `MAC=`, else `mac`, else (with `macFromIP`) `02:42` + the first IPv4.
fn mac_for(conf: &NetConf, inv: &Invocation, ips: &[IpConfig]) -> Result<Option<MacAddr>> {
    if let Some(m) = conf.runtime_mac.or(inv.args.mac).or(conf.mac) {
        return Ok(Some(m));
    }
    if !conf.mac_from_ip {
        return Ok(None);
    }
    let v4 = ips.iter().find_map(|ip| match ip.address.addr() {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    });
    v4.map(|a| Some(MacAddr::docker_style(a)))
        .ok_or_else(|| CniError::new(Code::InvalidConfig, "macFromIP: the IPAM result has no IPv4 address"))
}

/// What the kernel's refusal to make the pod's link means in the
/// configuration's terms: a passthru macvlan needs its parent to itself,
/// and macvlans and ipvlans cannot share a parent.
fn link_refused(e: vlanmac_core::Error, conf: &NetConf, parent: &str) -> CniError {
    use vlanmac_core::Error as E;
    let passthru_users = || {
        state::all()
            .unwrap_or_default()
            .iter()
            .any(|r| r.parent() == parent && r.mode.as_deref() == Some("macvlan/passthru"))
    };
    let msg = match (&e, conf.driver) {
        (E::InvalidArgument(_), Driver::Macvlan(MacvlanMode::Passthru)) => format!(
            "mode: passthru needs {parent} to itself, and the kernel refused: {parent} already has a macvlan (another pod's, or the host's)"
        ),
        (E::InvalidArgument(_), Driver::Macvlan(_)) if passthru_users() => {
            format!("mode: {parent} is held by a passthru macvlan (another pod's); no other macvlan can be added to it")
        }
        (E::Busy(_), _) => format!(
            "driver: {parent} already carries {}s; macvlans and ipvlans cannot share a parent",
            if conf.driver.kind() == "macvlan" { "ipvlan" } else { "macvlan" }
        ),
        _ => return from_core(e),
    };
    CniError::new(Code::InvalidConfig, msg).details(e.to_string())
}

/// With IPAM, `arp_notify` and `ndisc_notify` (as the reference plugin);
/// then addresses, up, routes in one batch (the kernel refuses a route
/// through a link that is down, so up comes first).
fn configure(conf: &NetConf, pod: &Pod, ifname: &IfName, result: &CniResult) -> Result<()> {
    if conf.ipam_type.is_some() {
        let ns = NetnsRef::Path(pod.path.clone());
        block_on(vlanmac_core::netns::sysctl::write_interface(
            &ns,
            ifname,
            &[("ipv4", "arp_notify", "1"), ("ipv6", "ndisc_notify", "1")],
        ))
        .map_err(from_core)?;
    }
    let mut batch = Batch::new();
    let (mut gw4, mut gw6) = (None, None);
    for ip in &result.ips {
        let addr =
            AddressSpec::new(ip.address.addr(), ip.address.prefix_len())?.with_nodad(ip.address.addr().is_ipv6());
        batch.add_address(&pod.nl, ifname, addr);
        match ip.gateway {
            Some(g @ IpAddr::V4(_)) => gw4 = gw4.or(Some(g)),
            Some(g @ IpAddr::V6(_)) => gw6 = gw6.or(Some(g)),
            None => {}
        }
    }
    batch.set_up(&pod.nl, ifname);
    let mut routes = Vec::new();
    for r in &result.routes {
        let gw = r.gw.or(if r.dst.addr().is_ipv4() { gw4 } else { gw6 });
        routes.push(batch.add_route(&pod.nl, RouteSpec::new(r.dst, gw, Some(ifname.clone()))?));
    }
    let mut report = block_on(batch.run());
    // A route the pod has already (another attachment's default route):
    // the first one wins, as in the reference plugins.
    for i in routes {
        if let Some(r @ Some(Err(vlanmac_core::Error::AlreadyExists(_)))) = report.results.get_mut(i) {
            *r = Some(Ok(()));
        }
    }
    report.into_result().map_err(from_core)
}

/// An ADD under way: the pod's namespace, the attachment's lock, what has
/// been made so far (undone on drop unless committed). [`Attaching::begin`]
/// takes the steps every front end shares up to the pod's link; the caller
/// then makes the link ([`Attaching::make_link`]), configures it, and
/// commits.
pub struct Attaching<'a> {
    inv: &'a Invocation,
    conf: &'a NetConf,
    raw: &'a [u8],
    host: Netlink,
    /// The pod's namespace.
    pub pod: Pod,
    /// The interface's name in the pod.
    pub ifname: IfName,
    key: Key,
    /// The parent of the pod's link (the VLAN, or the master).
    parent: Link,
    /// The IPAM ADD while it runs: joined before anything is undone.
    lease: Option<ipam::Pending>,
    /// Whether this ADD's own IPAM ADD succeeded (its lease is ours).
    leased: bool,
    /// Whether the pod's link was (being) made.
    linked: bool,
    /// This attachment's record, once written.
    recorded: Option<Record>,
    committed: bool,
    /// The attachment's lock: a field, so that it is let go only after
    /// `drop` has undone what needs undoing.
    _lock: FileLock,
}

impl<'a> Attaching<'a> {
    /// The pod's namespace checked and the attachment's lock taken; an
    /// earlier attachment of the key refused while live, removed when dead;
    /// the master found and the MTU checked; the IPAM plugin started; the
    /// VLAN made (or shared) and the attachment recorded.
    pub fn begin(inv: &'a Invocation, conf: &'a NetConf, raw: &'a [u8]) -> Result<Attaching<'a>> {
        let (Some(netns), Some(ifname)) = (&inv.netns, &inv.ifname) else {
            return Err(CniError::new(Code::InvalidEnvironment, "CNI_NETNS and CNI_IFNAME are required for ADD"));
        };
        let key = Key::of(conf, inv);
        let pod = pod::open(netns)?;
        let host = handles::host()?;
        let lock = state::lock_attachment(&key)?;
        replace_dead(&host, inv, &key, &lock)?;
        if block_on(pod.nl.link_exists(ifname)).map_err(from_core)? {
            return Err(CniError::new(
                Code::Internal,
                format!("CNI_IFNAME: {ifname} already exists in {}", netns.display()),
            ));
        }
        let master = vlan::master(&host, conf)?;
        check_mtu(conf, &master)?;
        let vlan_name = conf.vlan_name(&IfName::new(master.name.clone())?).transpose()?;
        // The IPAM plugin (a process) runs while the VLAN, the record and
        // (when its MAC does not come from the address) the link are made;
        // one that works on the interface, once the link is made
        // (`start_ipam`).
        let lease = match conf.ipam_type.as_deref().filter(|t| !ipam::needs_interface(t)) {
            Some(t) => Some(ipam::Pending::start(t, Verb::Add, inv, raw, Some(hold(&lock)?))),
            None => None,
        };
        let mut a = Attaching {
            inv,
            conf,
            raw,
            host,
            pod,
            ifname: ifname.clone(),
            key,
            parent: master.clone(),
            lease,
            leased: false,
            linked: false,
            recorded: None,
            committed: false,
            _lock: lock,
        };
        a.parent = vlan_and_record(&mut a, &master, vlan_name.as_ref())?;
        check_mtu(conf, &a.parent)?;
        Ok(a)
    }

    /// The pod's link, made in the pod's namespace from the runtime's, on
    /// the parent, in the attachment's group, renamed to its name with the
    /// attachment's mark; `mac` for a macvlan (an ipvlan has its parent's).
    pub fn make_link(&mut self, mac: Option<MacAddr>) -> Result<()> {
        let mut spec = link_spec(self.conf, &self.key, &self.ifname, &self.parent)?;
        spec.mac = mac;
        self.linked = true;
        block_on(self.host.add_link_into(&spec, &self.pod.nl))
            .map_err(|e| link_refused(e, self.conf, &self.parent.name))
    }

    /// Starts the IPAM plugin if `begin` did not (one that works on the
    /// interface, now that the link is made).
    fn start_ipam(&mut self) -> Result<()> {
        if let (Some(t), None, false) = (&self.conf.ipam_type, &self.lease, self.leased) {
            self.lease = Some(ipam::Pending::start(t, Verb::Add, self.inv, self.raw, Some(hold(&self._lock)?)));
        }
        Ok(())
    }

    /// The IPAM plugin's result, with its addresses on interface 0.
    fn ipam_result(&mut self) -> Result<CniResult> {
        let (Some(t), Some(lease)) = (&self.conf.ipam_type, self.lease.take()) else {
            return Ok(CniResult::default());
        };
        let got = lease.wait()?;
        self.leased = true;
        let got = got.ok_or_else(|| CniError::new(Code::Decode, format!("IPAM plugin {t}: printed no result")))?;
        let r = CniResult::from_value(&got, &format!("the result of IPAM plugin {t}"))?;
        if r.ips.is_empty() {
            return Err(CniError::new(Code::Internal, format!("IPAM plugin {t} returned no IP configuration")));
        }
        Ok(CniResult {
            ips: r.ips.into_iter().map(|ip| IpConfig { interface: Some(0), ..ip }).collect(),
            routes: r.routes,
            ..CniResult::default()
        })
    }

    /// Keeps what was made; returns the pod's link as the kernel has it.
    pub fn commit(&mut self) -> Result<Link> {
        let made = block_on(self.pod.nl.link(&self.ifname)).map_err(from_core)?;
        self.committed = true;
        Ok(made)
    }
}

impl Drop for Attaching<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Some(lease) = self.lease.take() {
            self.leased = lease.wait().is_ok();
        }
        let release = |a: &Self| {
            if let (true, Some(t)) = (a.leased, &a.conf.ipam_type) {
                let _ = ipam::Call { plugin: t, verb: Verb::Del, inv: a.inv, netconf: a.raw, hold: None }.run();
            }
        };
        // A plugin working on the interface releases from it, before it goes.
        let first = self.conf.ipam_type.as_deref().is_some_and(ipam::needs_interface);
        if first {
            release(self);
        }
        if self.linked {
            let _ = self.pod.delete_attachment(&self.key);
        }
        if !first {
            release(self);
        }
        if let Some(r) = &self.recorded {
            let _ = teardown::detach(&self.host, r);
        }
    }
}
