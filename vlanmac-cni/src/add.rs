//! ADD: the VLAN made (or shared) in the runtime's namespace and a macvlan
//! or ipvlan made in the pod's namespace under a temporary name and renamed
//! there while the IPAM plugin runs (after it, when the MAC comes from the
//! address), then addresses (IPv6 without DAD), up, routes. What the
//! reference macvlan plugin sets for the same configuration is set the
//! same way (`arp_notify`/`ndisc_notify` with IPAM, routes without a
//! gateway through the address's gateway, the configuration's `dns` in the
//! result). A failed ADD leaves nothing: its link, the VLAN it made, its
//! IPAM lease and its record all go again.

use std::net::IpAddr;

use futures::executor::block_on;
use serde_json::Value;
use vlanmac_core::{
    link::{Ipvlan, LinkKindSpec, Macvlan, NewLink},
    readback::Link,
    spec::{AddressSpec, IfName, MacAddr, RouteSpec},
    Batch, Netlink, NetnsRef,
};

use crate::{
    error::{from_core, CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::{Driver, NetConf},
    result::{CniResult, Interface, IpConfig},
    state::{self, Record},
    vlan,
};

/// The pod's namespace, or error 3 naming `CNI_NETNS`.
pub fn open_pod(netns: &std::path::Path) -> Result<Netlink> {
    block_on(Netlink::open(NetnsRef::Path(netns.to_path_buf()))).map_err(|e| {
        CniError::new(
            Code::UnknownContainer,
            format!("CNI_NETNS: {} is not a usable network namespace", netns.display()),
        )
        .details(e.to_string())
    })
}

/// What an unfinished ADD has done, undone on drop unless committed.
struct Rollback<'a> {
    inv: &'a Invocation,
    conf: &'a NetConf,
    raw: &'a [u8],
    host: &'a Netlink,
    recorded: Option<(Link, Option<IfName>)>,
    /// The IPAM ADD while it runs: joined before anything is undone.
    lease: Option<ipam::Pending>,
    ipam: bool,
    link: Option<(&'a Netlink, IfName)>,
    committed: bool,
}

impl<'a> Rollback<'a> {
    /// The link, made in `pod` (and deleted again unless committed).
    fn make_link(&mut self, pod: &'a Netlink, ifname: &IfName, spec: &NewLink) -> Result<()> {
        self.link = Some((pod, ifname.clone()));
        block_on(self.host.add_link_into(spec, pod)).map_err(from_core)
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        drop(self.lease.take());
        if let Some((pod, name)) = &self.link {
            let _ = block_on(pod.delete_link(name));
        }
        if let (true, Some(t)) = (self.ipam, &self.conf.ipam_type) {
            let _ = ipam::exec(t, Verb::Del, self.inv, self.raw);
        }
        if let Some((master, vlan_name)) = &self.recorded {
            let _ = detach(self.host, self.conf, self.inv, master, vlan_name.as_ref());
        }
    }
}

/// Removes this attachment's record and, if it was the last user of the
/// VLAN for this network (or at all), releases the VLAN; under the
/// master's lock.
pub fn detach(
    host: &Netlink,
    conf: &NetConf,
    inv: &Invocation,
    master: &Link,
    vlan_name: Option<&IfName>,
) -> Result<()> {
    let ifname = inv.ifname.as_ref().map(|i| i.as_str()).unwrap_or_default();
    let master_name = IfName::new(master.name.clone())?;
    let _lock = state::lock_master(&master_name)?;
    state::remove(&conf.name, &inv.container_id, ifname)?;
    if let Some(v) = vlan_name {
        let users = state::users_of(&master.name, v.as_str())?;
        let mine = users.iter().filter(|r| r.network == conf.name).count();
        vlan::release(host, v, conf, mine, users.len())?;
    }
    Ok(())
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

/// ADD; returns the result in the configuration's version.
pub fn add(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<Value> {
    let (Some(netns), Some(ifname)) = (&inv.netns, &inv.ifname) else {
        return Err(CniError::new(Code::InvalidEnvironment, "CNI_NETNS and CNI_IFNAME are required for ADD"));
    };
    let host = handles::host()?;
    let pod = handles::pod(netns)?;
    if block_on(pod.link_exists(ifname)).map_err(from_core)? {
        return Err(CniError::new(
            Code::Internal,
            format!("CNI_IFNAME: {ifname} already exists in {}", netns.display()),
        ));
    }
    let master = vlan::master(&host, conf)?;
    let vlan_name = conf.vlan_name(&IfName::new(master.name.clone())?).transpose()?;
    // The IPAM plugin (a process) runs while the VLAN, the record and (when
    // its MAC does not come from the address) the link are made.
    let lease = conf.ipam_type.as_ref().map(|t| ipam::Pending::start(t, Verb::Add, inv, raw));
    let mut rb = Rollback {
        inv,
        conf,
        raw,
        host: &host,
        recorded: None,
        ipam: lease.is_some(),
        lease,
        link: None,
        committed: false,
    };

    // The VLAN and this attachment's record, under the master's lock.
    let parent = {
        let _lock = state::lock_master(&IfName::new(master.name.clone())?)?;
        let parent = match &vlan_name {
            Some(v) => vlan::ensure(&host, &master, v, conf)?,
            None => master.clone(),
        };
        state::write(&Record {
            network: conf.name.clone(),
            container_id: inv.container_id.clone(),
            ifname: ifname.to_string(),
            netns: Some(netns.display().to_string()),
            master: master.name.clone(),
            vlan: vlan_name.as_ref().map(|v| v.to_string()),
        })?;
        rb.recorded = Some((master.clone(), vlan_name.clone()));
        parent
    };
    if let (Some(want), Some(have)) = (conf.mtu, parent.mtu) {
        if want.get() > have {
            return Err(CniError::new(
                Code::InvalidConfig,
                format!("mtu: {want} is above the parent {}'s mtu {have}", parent.name),
            ));
        }
    }

    // The link, in the pod, under a temporary name renamed there.
    let parent_name = IfName::new(parent.name.clone())?;
    let kind: LinkKindSpec = match conf.driver {
        Driver::Macvlan(mode) => Macvlan::new(parent_name, mode).into(),
        Driver::Ipvlan(mode) => Ipvlan::new(parent_name, mode).into(),
    };
    let mut spec = NewLink::new(ifname.clone(), kind);
    spec.mtu = conf.mtu;
    let mac_from_ip = conf.mac_from_ip && matches!(conf.driver, Driver::Macvlan(_));
    if !mac_from_ip {
        if matches!(conf.driver, Driver::Macvlan(_)) {
            spec.mac = mac_for(conf, inv, &[])?;
        }
        rb.make_link(&pod, ifname, &spec)?;
    }

    // IPAM's result.
    let mut result = CniResult::default();
    if let (Some(t), Some(lease)) = (&conf.ipam_type, rb.lease.take()) {
        let got = lease.wait()?;
        let got = got.ok_or_else(|| CniError::new(Code::Decode, format!("IPAM plugin {t}: printed no result")))?;
        let r = CniResult::from_value(&got, &format!("the result of IPAM plugin {t}"))?;
        if r.ips.is_empty() {
            return Err(CniError::new(Code::Internal, format!("IPAM plugin {t} returned no IP configuration")));
        }
        result.ips = r.ips.into_iter().map(|ip| IpConfig { interface: Some(0), ..ip }).collect();
        result.routes = r.routes;
    }

    if mac_from_ip {
        spec.mac = mac_for(conf, inv, &result.ips)?;
        rb.make_link(&pod, ifname, &spec)?;
    }
    if conf.ipam_type.is_some() {
        let ns = NetnsRef::Path(netns.clone());
        block_on(vlanmac_core::netns::sysctl::write_interface(
            &ns,
            ifname,
            &[("ipv4", "arp_notify", "1"), ("ipv6", "ndisc_notify", "1")],
        ))
        .map_err(from_core)?;
    }

    // Addresses, up, routes: one batch (the kernel refuses a route through
    // a link that is down, so up comes first).
    let mut batch = Batch::new();
    let (mut gw4, mut gw6) = (None, None);
    for ip in &result.ips {
        let addr =
            AddressSpec::new(ip.address.addr(), ip.address.prefix_len())?.with_nodad(ip.address.addr().is_ipv6());
        batch.add_address(&pod, ifname, addr);
        match ip.gateway {
            Some(g @ IpAddr::V4(_)) => gw4 = gw4.or(Some(g)),
            Some(g @ IpAddr::V6(_)) => gw6 = gw6.or(Some(g)),
            None => {}
        }
    }
    batch.set_up(&pod, ifname);
    for r in &result.routes {
        let gw = r.gw.or(if r.dst.addr().is_ipv4() { gw4 } else { gw6 });
        batch.add_route(&pod, RouteSpec::new(r.dst, gw, Some(ifname.clone()))?);
    }
    block_on(batch.run()).into_result().map_err(from_core)?;

    let made = block_on(pod.link(ifname)).map_err(from_core)?;
    result.interfaces = vec![Interface {
        name: ifname.to_string(),
        mac: made.mac.map(|m| m.to_string()),
        mtu: made.mtu,
        sandbox: Some(netns.display().to_string()),
    }];
    if let Some(Value::Object(dns)) = &conf.dns {
        result.dns = dns.clone();
    }
    rb.committed = true;
    Ok(result.to_value(conf.version, &conf.cni_version))
}
