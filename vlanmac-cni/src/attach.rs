//! Attachments for another front end than CNI's (the netavark plugin,
//! `vlanmac-netavark`): the same steps, records, marks and locks as ADD and
//! DEL, so that a VLAN is shared by CNI networks, netavark networks and
//! topologies alike and goes with its last user. The front end gives the
//! addresses itself (no IPAM plugin runs) and configures the interface in a
//! closure that runs while a failure still undoes everything.
//!
//! ```no_run
//! use std::path::Path;
//! use vlanmac_cni::attach::{self, Driver, Request};
//! use vlanmac_core::spec::{IfName, MacvlanMode, VlanId, VlanProtocol};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let req = Request {
//!     network: "podman:vlan10".into(),
//!     container_id: "c0ffee".into(),
//!     ifname: IfName::new("eth0")?,
//!     netns: Path::new("/run/netns/pod1").into(),
//!     master: Some(IfName::new("trunk0")?),
//!     vlan: Some(VlanId::new(10)?),
//!     vlan_protocol: VlanProtocol::Ieee8021Q,
//!     driver: Driver::Macvlan(MacvlanMode::Bridge),
//!     mtu: None,
//!     mac: None,
//! };
//! // Like `ip link add trunk0.10 link trunk0 type vlan id 10` (unless it
//! // exists), then `ip link add link trunk0.10 name eth0 netns pod1 type
//! // macvlan mode bridge`; the closure adds addresses and routes.
//! let link = attach::add(&req, |_pod, _ifname| Ok(()))?;
//! println!("{} {:?}", link.name, link.mac);
//! attach::del(&req)?;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;

use vlanmac_core::{
    readback::Link,
    spec::{IfName, MacAddr, Mtu, VlanId, VlanProtocol},
    Netlink,
};

pub use crate::netconf::Driver;
use crate::{
    add::Attaching,
    del,
    error::Result,
    invocation::{CniArgs, Invocation, Verb},
    netconf::NetConf,
    version::{Version, NEWEST},
};

/// One attachment: a container's interface on a network.
#[derive(Debug, Clone)]
pub struct Request {
    /// The network's name as recorded and marked (`cni:<network>` owns the
    /// VLAN): a front end prefixes its own (`podman:`), so that its
    /// networks never meet a CNI network of the same name.
    pub network: String,
    /// The container.
    pub container_id: String,
    /// The interface in the container's namespace.
    pub ifname: IfName,
    /// The container's network namespace (a file: `/proc/PID/ns/net`,
    /// `/run/netns/NAME`).
    pub netns: PathBuf,
    /// The parent in the caller's namespace; `None`: the interface of its
    /// default route.
    pub master: Option<IfName>,
    /// The VLAN `<master>.<vlan>` to put the container on (made on demand);
    /// `None`: the master itself.
    pub vlan: Option<VlanId>,
    /// 802.1Q or 802.1ad.
    pub vlan_protocol: VlanProtocol,
    /// macvlan or ipvlan, with its mode.
    pub driver: Driver,
    /// The interface's MTU (not above its parent's); `None`: the parent's.
    pub mtu: Option<Mtu>,
    /// A fixed MAC (a macvlan's; an ipvlan has its parent's).
    pub mac: Option<MacAddr>,
}

impl Request {
    fn invocation(&self, verb: Verb) -> Invocation {
        Invocation {
            verb,
            container_id: self.container_id.clone(),
            netns: Some(self.netns.clone()),
            ifname: Some(self.ifname.clone()),
            args: CniArgs::default(),
            raw_args: None,
            path: Vec::new(),
        }
    }

    fn conf(&self) -> NetConf {
        NetConf {
            cni_version: NEWEST.to_string(),
            version: Version::V110,
            name: self.network.clone(),
            master: self.master.clone(),
            vlan: self.vlan,
            vlan_protocol: self.vlan_protocol,
            driver: self.driver,
            mtu: self.mtu,
            mac: self.mac,
            runtime_mac: None,
            mac_from_ip: false,
            ipam_type: None,
            dns: None,
            prev_result: None,
            valid_attachments: None,
        }
    }
}

/// Makes the attachment (as ADD does), then `configure(pod, ifname)` with a
/// handle on the container's namespace; if that fails, everything made is
/// undone. Returns the interface as the kernel has it.
pub fn add(req: &Request, configure: impl FnOnce(&Netlink, &IfName) -> Result<()>) -> Result<Link> {
    let inv = req.invocation(Verb::Add);
    let conf = req.conf();
    let mut a = Attaching::begin(&inv, &conf, &[])?;
    a.make_link(match req.driver {
        Driver::Macvlan(_) => req.mac,
        Driver::Ipvlan(_) => None,
    })?;
    configure(&a.pod.nl, &a.ifname)?;
    a.commit()
}

/// Removes the attachment (as DEL does): idempotent; its interface only if
/// it carries the attachment's mark, its VLAN with its last user.
pub fn del(req: &Request) -> Result<()> {
    del::del(&req.invocation(Verb::Del), &req.conf(), &[])
}
