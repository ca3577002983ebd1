//! DEL: idempotent. The IPAM lease is released while the interface is
//! deleted from the pod's namespace (a missing namespace or interface is fine), the
//! record removed, and the VLAN released with this network's last
//! attachment (and deleted with the last attachment of all, if vlanmac
//! made it).

use futures::executor::block_on;
use vlanmac_core::spec::IfName;

use crate::{
    add::detach,
    error::{from_core, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::NetConf,
    state, vlan,
};

/// DEL. The IPAM plugin releases the lease while the interface is deleted
/// (a link deletion waits for the kernel's RCU grace period); an IPAM
/// failure is reported before the record and the VLAN are released, so a
/// retried DEL finishes the job.
pub fn del(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let lease = conf.ipam_type.as_ref().map(|t| ipam::Pending::start(t, Verb::Del, inv, raw));
    if let (Some(netns), Some(ifname)) = (&inv.netns, &inv.ifname) {
        // A namespace that is gone (or never was) holds nothing to delete.
        if let Ok(pod) = handles::pod(netns) {
            match block_on(pod.delete_link(ifname)) {
                Ok(()) | Err(vlanmac_core::Error::NotFound(_)) => {}
                Err(e) => return Err(from_core(e)),
            }
        }
    }
    if let Some(lease) = lease {
        lease.wait()?;
    }
    let host = handles::host()?;
    let ifname = inv.ifname.as_ref().map(|i| i.as_str()).unwrap_or_default();
    let record = state::read(&conf.name, &inv.container_id, ifname)?;
    // The master of the record (the configuration's may point elsewhere by
    // now, e.g. a default route that moved); with neither, nothing of ours
    // can be left on it.
    let master = match &record {
        Some(r) => IfName::new(r.master.clone()).ok().and_then(|m| block_on(host.link(&m)).ok()),
        None => vlan::master(&host, conf).ok(),
    };
    let Some(master) = master else {
        return state::remove(&conf.name, &inv.container_id, ifname);
    };
    let vlan_name = match &record {
        Some(r) => r.vlan.as_ref().and_then(|v| IfName::new(v.clone()).ok()),
        None => conf.vlan_name(&IfName::new(master.name.clone())?).transpose()?,
    };
    detach(&host, conf, inv, &master, vlan_name.as_ref())
}
