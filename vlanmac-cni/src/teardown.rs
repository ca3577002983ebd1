//! Removing a recorded attachment, as DEL, GC and an ADD that finds a dead
//! attachment of its key do it: its interface (only the one carrying its
//! mark, only in the namespace it was made in), its IPAM lease, its record,
//! and its network's claim on the VLAN. Call with the attachment's lock
//! held.

use std::os::fd::OwnedFd;

use futures::executor::block_on;
use vlanmac_core::{spec::IfName, Netlink};

use crate::{
    error::{from_core, Result},
    invocation::{CniArgs, Invocation, Verb},
    ipam,
    pod::{self, Pod},
    state::{self, Record},
    vlan,
};

/// Whether `r` is live: the namespace it was made in is still there (the
/// same namespace, not a path re-created since) and holds its interface.
pub fn live(r: &Record) -> Result<bool> {
    match pod::recorded(r) {
        Some(p) => p.has_attachment(&r.key(), r.netns_id.is_none()),
        None => Ok(false),
    }
}

/// How a lease is released: the IPAM plugin and the configuration it gets.
pub struct Release {
    /// `ipam.type`.
    pub plugin: String,
    /// The network configuration given to its DEL.
    pub netconf: Vec<u8>,
}

impl Release {
    /// The release `r`'s own configuration describes (GC, a replaced dead
    /// attachment), if it had IPAM.
    pub fn recorded(r: &Record) -> Option<Release> {
        let config = r.config.as_ref()?;
        Some(Release { plugin: ipam::type_of(config)?, netconf: config.to_string().into_bytes() })
    }
}

/// Removes `r`. The interface is deleted in `here` when the caller has the
/// attachment's namespace open (DEL), else in the namespace `r` names if
/// that is still the one it was made in; the lease is released (`release`,
/// run as `inv` with `hold` for the IPAM plugin to hold) while the kernel
/// deletes the link, or before, for a plugin that works on the interface
/// ([`ipam::needs_interface`]). An IPAM failure is reported before the record and the
/// VLAN go, so the same call again finishes the job.
pub fn remove(
    host: &Netlink,
    r: &Record,
    release: Option<Release>,
    inv: &Invocation,
    hold: Option<OwnedFd>,
    here: Option<&Pod>,
) -> Result<()> {
    let mut lease = release.map(|rel| {
        let first = ipam::needs_interface(&rel.plugin);
        (ipam::Pending::start(&rel.plugin, Verb::Del, inv, &rel.netconf, hold), first)
    });
    // A plugin working on the interface releases before it goes.
    if let Some((pending, true)) = lease.take() {
        pending.wait()?;
    }
    match here.filter(|p| p.holds(r)) {
        Some(p) => p.delete_attachment(&r.key())?,
        None => {
            if let Some(p) = pod::recorded(r) {
                p.delete_attachment(&r.key())?;
            }
        }
    }
    if let Some((pending, _)) = lease {
        pending.wait()?;
    }
    detach(host, r)
}

/// Removes `r`'s record and, if it was its network's last attachment on its
/// VLAN, releases the VLAN (see [`vlan::release`]); under the master's lock.
pub fn detach(host: &Netlink, r: &Record) -> Result<()> {
    let (Ok(master), Some(vlan)) = (IfName::new(r.master.clone()), r.vlan.as_ref()) else {
        return state::remove(r);
    };
    let _lock = state::lock_master(&master)?;
    state::remove(r)?;
    match block_on(host.link(&master)) {
        Ok(_) => {}
        // The master is gone, and its VLANs with it.
        Err(vlanmac_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(from_core(e)),
    }
    let Ok(vlan) = IfName::new(vlan.clone()) else { return Ok(()) };
    vlan::release_if_unused(host, &r.master, &vlan, &r.network)
}

/// The invocation a runtime would make to delete recorded attachment `r`
/// (GC, and an ADD replacing a dead attachment of its key): its container,
/// interface and namespace, `inv`'s `CNI_PATH`, no `CNI_ARGS`.
pub fn invocation_for(inv: &Invocation, r: &Record) -> Invocation {
    Invocation {
        verb: Verb::Del,
        container_id: r.container_id.clone(),
        netns: r.netns.as_ref().map(std::path::PathBuf::from),
        ifname: IfName::new(r.ifname.clone()).ok(),
        args: CniArgs::default(),
        raw_args: None,
        path: inv.path.clone(),
    }
}
