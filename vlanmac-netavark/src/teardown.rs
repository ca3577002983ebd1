//! `teardown NETNS`: idempotent. The network's static routes go from the
//! container's namespace (a route through another of its interfaces would
//! outlive the interface), then the attachment as DEL removes it: the
//! interface carrying its mark, its record, and the VLAN with its last
//! user (never a VLAN vlanmac did not make).

use futures::executor::block_on;
use vlanmac_cni::attach;
use vlanmac_core::{Batch, Netlink, NetnsRef};

use crate::{
    addressing,
    error::{Error, Result},
    request,
    setup::static_route,
    types::PluginExec,
};

/// Tears down `exec`'s attachment in `netns`.
pub fn teardown(netns: &str, exec: &PluginExec) -> Result<()> {
    let (req, _) = request::read(netns, exec)?;
    vlanmac_core::privileges::require_admin(&format!("teardown of network {}", exec.network.name))
        .map_err(|e| Error::Attach(e.to_string()))?;
    let routes = addressing::routes(&exec.network);
    if !routes.is_empty()
        && vlanmac_core::netns::inspect(&req.netns).ok() == Some(vlanmac_core::netns::NsPath::NetworkNamespace)
    {
        if let Ok(pod) = block_on(Netlink::open(NetnsRef::Path(req.netns.clone()))) {
            let mut batch = Batch::new();
            for r in routes {
                if let Ok(spec) = static_route(r, &req.ifname) {
                    batch.delete_route(&pod, spec);
                }
            }
            // Routes already gone (with the interface, or never made) are fine.
            let _ = block_on(batch.run());
        }
    }
    attach::del(&req)?;
    Ok(())
}
