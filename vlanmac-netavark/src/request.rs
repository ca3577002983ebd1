//! What `setup` and `teardown` share: the container's request read into the
//! attachment it names (see `vlanmac_cni::attach`), with the network's
//! options validated.

use std::path::PathBuf;

use vlanmac_cni::attach::Request;
use vlanmac_core::spec::{IfName, MacAddr};

use crate::{
    error::{Error, Result},
    options::Options,
    types::{PluginExec, DRIVER},
};

/// The prefix of a netavark network's name in vlanmac's records and marks:
/// `podman:NAME` owns the VLAN as `cni:podman:NAME` does in its alias. A
/// CNI network's name cannot hold `:`, so the two never meet.
pub const NETWORK_PREFIX: &str = "podman:";

/// The attachment `exec` asks for in namespace `netns`, and the network's
/// options.
pub fn read(netns: &str, exec: &PluginExec) -> Result<(Request, Options)> {
    let net = &exec.network;
    if net.driver != DRIVER {
        return Err(Error::option("driver", format!("driver: {:?} is not {DRIVER:?}", net.driver)));
    }
    let opts = Options::parse(net.options.as_ref())?;
    if opts.parent.is_some() {
        return Err(Error::option("parent", "parent: is an option of create only (it becomes network_interface)"));
    }
    let ifname =
        IfName::new(exec.network_options.interface_name.clone()).map_err(|e| Error::from(e.named("interface_name")))?;
    let master = match net.network_interface.as_deref() {
        None | Some("") => None,
        Some(p) => Some(IfName::new(p).map_err(|e| Error::from(e.named("network_interface")))?),
    };
    let mac = match &exec.network_options.static_mac {
        None => None,
        Some(m) => {
            let mac = m.parse::<MacAddr>().map_err(|e| Error::from(e.named("static_mac")))?;
            if opts.driver.kind() == "ipvlan" {
                return Err(Error::option(
                    "static_mac",
                    format!("static_mac: {mac} cannot be set on an ipvlan (it has its parent's MAC)"),
                ));
            }
            Some(mac)
        }
    };
    if exec.container_id.is_empty() {
        return Err(Error::option("container_id", "container_id: is empty"));
    }
    let req = Request {
        network: format!("{NETWORK_PREFIX}{}", net.name),
        container_id: exec.container_id.clone(),
        ifname,
        netns: PathBuf::from(netns),
        master,
        vlan: opts.vlan,
        vlan_protocol: opts.vlan_protocol,
        driver: opts.driver,
        mtu: opts.mtu,
        mac,
    };
    Ok((req, opts))
}
