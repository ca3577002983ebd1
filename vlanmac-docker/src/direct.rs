//! Pipework-style attachment: a macvlan straight into a container's network
//! namespace, for containers that are not on a Docker macvlan network.
//! Container → PID → `/proc/PID/ns/net`; the macvlan (on a VLAN
//! subinterface vlanmac-core creates when needed) is created inside under a
//! temporary name and renamed `eth1`, `eth2`, …; then addresses and routes.
//! Only vlanmac-core: no `ip`, no `nsenter`.

use std::net::IpAddr;

use vlanmac_core::{
    link::{LinkUpdate, Macvlan, NewLink, Vlan},
    spec::{AddressSpec, IfName, MacAddr, MacvlanMode, Mtu, RouteSpec, VlanId},
    Netlink, NetnsRef,
};

use crate::{client::DockerAdapter, error::Result};

/// Mark on VLAN subinterfaces created for direct attachments.
pub const ATTACH_MARK: &str = "vlanmac:attach";

/// A direct attachment.
#[derive(Debug, Clone)]
pub struct DirectAttach {
    /// The trunk.
    pub parent: IfName,
    /// Where the trunk is (default: the caller's namespace).
    pub parent_netns: NetnsRef,
    /// VLAN: the macvlan goes on `parent.vlan`, created when missing.
    pub vlan: Option<VlanId>,
    /// macvlan mode.
    pub mode: MacvlanMode,
    /// Interface name in the container (default: the next free `ethN`).
    pub ifname: Option<IfName>,
    /// MAC (default: the kernel's choice).
    pub mac: Option<MacAddr>,
    /// MTU (default: the parent's).
    pub mtu: Option<Mtu>,
    /// Addresses (IPv6 `nodad`).
    pub addresses: Vec<AddressSpec>,
    /// Default routes via these gateways (one per family), when the
    /// container has none of that family yet.
    pub gateways: Vec<IpAddr>,
}

impl DirectAttach {
    /// A bridge-mode macvlan on `parent` in the caller's namespace.
    pub fn new(parent: IfName) -> Self {
        DirectAttach {
            parent,
            parent_netns: NetnsRef::Current,
            vlan: None,
            mode: MacvlanMode::Bridge,
            ifname: None,
            mac: None,
            mtu: None,
            addresses: Vec::new(),
            gateways: Vec::new(),
        }
    }
}

impl DockerAdapter {
    /// Attaches `container` directly (see the module docs); returns the
    /// interface name inside it. Nothing stays half-made on failure.
    pub async fn attach(&self, container: &str, a: &DirectAttach) -> Result<IfName> {
        let pid = self.container_pid(container).await?;
        let host = Netlink::open(a.parent_netns.clone()).await?;
        let inner = Netlink::open(NetnsRef::Pid(pid)).await?;
        let lower = match a.vlan {
            Some(id) => {
                let name = a.parent.vlan_child(id)?;
                if !host.link_exists(&name).await? {
                    let spec = NewLink::new(name.clone(), Vlan::new(a.parent.clone(), id)).alias(ATTACH_MARK)?.up();
                    host.add_link(&spec).await?;
                }
                name
            }
            None => a.parent.clone(),
        };
        let ifname = match &a.ifname {
            Some(n) => n.clone(),
            None => next_eth(&inner).await?,
        };
        let mut spec = NewLink::new(ifname.clone(), Macvlan::new(lower, a.mode));
        spec.mac = a.mac;
        spec.mtu = a.mtu;
        host.add_link_into(&spec, &inner).await?;
        let configure = async {
            for addr in &a.addresses {
                inner.add_address(&ifname, addr).await?;
            }
            inner.set_link(&ifname, &LinkUpdate::new().up(true)).await?;
            let routes = inner.routes().await?;
            for gw in &a.gateways {
                if !routes.iter().any(|r| r.is_default() && r.dst.addr().is_ipv6() == gw.is_ipv6()) {
                    inner.add_route(&RouteSpec::default_via(*gw).with_dev(ifname.clone())).await?;
                }
            }
            Ok::<(), vlanmac_core::Error>(())
        };
        if let Err(e) = configure.await {
            let _ = inner.delete_link(&ifname).await;
            return Err(e.into());
        }
        Ok(ifname)
    }

    /// Removes a directly attached interface from `container` (its
    /// addresses and routes go with it).
    pub async fn detach(&self, container: &str, ifname: &IfName) -> Result<()> {
        let pid = self.container_pid(container).await?;
        let inner = Netlink::open(NetnsRef::Pid(pid)).await?;
        inner.delete_link(ifname).await?;
        Ok(())
    }
}

/// The lowest `ethN` not present in the namespace.
async fn next_eth(nl: &Netlink) -> Result<IfName> {
    let links = nl.links().await?;
    let mut n = 0u32;
    loop {
        let name = format!("eth{n}");
        if !links.iter().any(|l| l.name == name) {
            return Ok(IfName::new(name)?);
        }
        n += 1;
    }
}
