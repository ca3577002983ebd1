//! GC (CNI 1.1): given the attachments that are still valid
//! (`cni.dev/valid-attachments`), everything vlanmac-cni made for other
//! attachments of this network goes: their records, their interfaces when
//! their namespace still exists, and VLANs left with no valid user. Then
//! the IPAM plugin gets the GC too (if it speaks 1.1).

use futures::executor::block_on;
use vlanmac_core::spec::IfName;

use crate::{
    add::detach,
    error::{CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::NetConf,
    state,
};

/// GC.
pub fn gc(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let valid = conf
        .valid_attachments
        .as_ref()
        .ok_or_else(|| CniError::new(Code::InvalidConfig, "cni.dev/valid-attachments: is required for GC"))?;
    let host = handles::host()?;
    for r in state::all()?.into_iter().filter(|r| r.network == conf.name) {
        if valid.iter().any(|v| v.container_id == r.container_id && v.ifname == r.ifname) {
            continue;
        }
        if let (Some(ns), Ok(ifname)) = (&r.netns, IfName::new(r.ifname.clone())) {
            if let Ok(pod) = handles::pod(std::path::Path::new(ns)) {
                let _ = block_on(pod.delete_link(&ifname));
            }
        }
        let stale = Invocation {
            container_id: r.container_id.clone(),
            ifname: IfName::new(r.ifname.clone()).ok(),
            netns: r.netns.as_ref().map(Into::into),
            ..inv.clone()
        };
        match IfName::new(r.master.clone()).ok().and_then(|m| block_on(host.link(&m)).ok()) {
            Some(master) => {
                let vlan = r.vlan.as_ref().and_then(|v| IfName::new(v.clone()).ok());
                detach(&host, conf, &stale, &master, vlan.as_ref())?;
            }
            // The master is gone, and its VLANs with it.
            None => state::remove(&r.network, &r.container_id, &r.ifname)?,
        }
    }
    if let Some(t) = &conf.ipam_type {
        if ipam::supports(t, inv, "1.1.0") {
            ipam::exec(t, Verb::Gc, inv, raw)?;
        }
    }
    Ok(())
}
