//! CHECK: the attachment of `prevResult` is as it was made: the interface
//! in the pod (kind, mode, MAC, on the right VLAN of the right master), its
//! addresses and routes; the IPAM plugin checks its own part. An error
//! says what differs.

use futures::executor::block_on;
use vlanmac_core::{
    readback::{Link, LinkKind},
    spec::IfName,
};

use crate::{
    attachment::Key,
    error::{from_core, CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::{Driver, NetConf},
    pod,
    result::CniResult,
    vlan,
};

fn differs(what: String) -> CniError {
    CniError::new(Code::Internal, format!("CHECK: {what}"))
}

fn kind_ok(l: &Link, driver: Driver) -> bool {
    match (driver, &l.kind) {
        (Driver::Macvlan(want), LinkKind::Macvlan { mode, .. }) => *mode == Some(want),
        (Driver::Ipvlan(want), LinkKind::Ipvlan { mode, .. }) => *mode == Some(want),
        _ => false,
    }
}

/// CHECK, in steps: the interface `prevResult` names, the parent it must
/// hang off, the interface itself, its addresses and routes.
pub fn check(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let (Some(netns), Some(ifname)) = (&inv.netns, &inv.ifname) else {
        return Err(CniError::new(Code::InvalidEnvironment, "CNI_NETNS and CNI_IFNAME are required for CHECK"));
    };
    let prev = conf
        .prev_result
        .as_ref()
        .ok_or_else(|| CniError::new(Code::InvalidConfig, "prevResult: is required for CHECK"))?;
    let prev = CniResult::from_value(prev, "prevResult")?;
    let pod = pod::open(netns)?;
    if let Some(t) = &conf.ipam_type {
        ipam::Call { plugin: t, verb: Verb::Check, inv, netconf: raw, hold: None }.run()?;
    }
    let sandbox = netns.display().to_string();
    let index = prev
        .interfaces
        .iter()
        .position(|i| i.name == ifname.as_str() && i.sandbox.as_deref() == Some(sandbox.as_str()))
        .ok_or_else(|| differs(format!("prevResult has no interface {ifname} in {sandbox}")))?;
    let parent = expected_parent(conf)?;
    let links = block_on(pod.nl.links()).map_err(from_core)?;
    let l = links
        .iter()
        .find(|l| l.name == ifname.as_str())
        .ok_or_else(|| differs(format!("{ifname} is missing from {sandbox}")))?;
    check_link(l, conf, inv, &parent, prev.interfaces[index].mac.as_deref())?;
    for ip in prev.ips.iter().filter(|ip| ip.interface.is_none_or(|i| i == index)) {
        if !l.addresses.iter().any(|a| a.net == ip.address) {
            return Err(differs(format!("{ifname} lacks address {}", ip.address)));
        }
    }
    check_routes(&pod, &prev)
}

/// The link the pod's interface must hang off: the configured VLAN on the
/// master (which must be that VLAN), or the master.
fn expected_parent(conf: &NetConf) -> Result<Link> {
    let host = handles::host()?;
    let master = vlan::master(&host, conf)?;
    let Some(v) = conf.vlan_name(&IfName::new(master.name.clone())?).transpose()? else { return Ok(master) };
    let l = block_on(host.link(&v)).map_err(|_| differs(format!("VLAN {v} is missing from {}", master.name)))?;
    if l.kind.vlan_id() != conf.vlan.map(|v| v.get()) || l.parent.as_ref().map(|p| p.index) != Some(master.index) {
        let id = conf.vlan.map(|v| v.get()).unwrap_or(0);
        return Err(differs(format!("{v} is not VLAN {id} on {}", master.name)));
    }
    Ok(l)
}

/// The interface: of the configured kind and mode, made by vlanmac-cni for
/// this attachment, on `parent`, with the MAC `prevResult` gives.
fn check_link(l: &Link, conf: &NetConf, inv: &Invocation, parent: &Link, mac: Option<&str>) -> Result<()> {
    let ifname = &l.name;
    if !kind_ok(l, conf.driver) {
        return Err(differs(format!(
            "{ifname} is a {} {:?}, not a {} {:?}",
            l.kind.name(),
            l.kind,
            conf.driver.kind(),
            conf.driver
        )));
    }
    let key = Key::of(conf, inv);
    if l.alias.as_deref() != Some(key.mark().as_str()) {
        return Err(differs(format!(
            "{ifname} was not made by vlanmac-cni for {} on network {}",
            key.container_id, key.network
        )));
    }
    if l.parent.as_ref().map(|p| p.index) != Some(parent.index) {
        return Err(differs(format!("{ifname} is not on {}", parent.name)));
    }
    if let Some(mac) = mac {
        let have = l.mac.map(|m| m.to_string()).unwrap_or_default();
        if !have.eq_ignore_ascii_case(mac) {
            return Err(differs(format!("{ifname} has MAC {have}, prevResult says {mac}")));
        }
    }
    Ok(())
}

/// Every route of `prevResult` (through its family's gateway when it names
/// none) is in the pod.
fn check_routes(pod: &pod::Pod, prev: &CniResult) -> Result<()> {
    let routes = block_on(pod.nl.routes()).map_err(from_core)?;
    let (gw4, gw6) = (
        prev.ips.iter().filter_map(|i| i.gateway).find(|g| g.is_ipv4()),
        prev.ips.iter().filter_map(|i| i.gateway).find(|g| g.is_ipv6()),
    );
    for r in &prev.routes {
        let gw = r.gw.or(if r.dst.addr().is_ipv4() { gw4 } else { gw6 });
        if !routes.iter().any(|have| have.dst == r.dst && have.gateway == gw) {
            return Err(differs(format!(
                "route {} via {} is missing",
                r.dst,
                gw.map(|g| g.to_string()).unwrap_or("-".into())
            )));
        }
    }
    Ok(())
}
