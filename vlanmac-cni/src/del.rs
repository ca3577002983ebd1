//! DEL: idempotent, and about this attachment only. With a record of the
//! attachment, the interface it made (carrying its mark) is deleted while
//! the IPAM lease is released, then the record goes and the VLAN is
//! released with this network's last attachment (and deleted with the last
//! attachment of all, if vlanmac made it). A DEL naming another namespace
//! than the one a live attachment of its key is in (a runtime cleaning up
//! after an ADD that failed because the key was taken) is not about that
//! attachment: it changes nothing. A missing namespace, or one that was
//! deleted, holds nothing to delete.

use vlanmac_core::spec::IfName;

use crate::{
    attachment::Key,
    error::Result,
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::NetConf,
    pod,
    state::{self, hold},
    teardown::{self, Release},
    vlan,
};

/// DEL.
pub fn del(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let key = Key::of(conf, inv);
    let here = match &inv.netns {
        Some(p) => pod::open_if_there(p)?,
        None => None,
    };
    let host = handles::host()?;
    let lock = state::lock_attachment(&key)?;
    let release = conf.ipam_type.as_ref().map(|t| Release { plugin: t.clone(), netconf: raw.to_vec() });
    if let Some(r) = state::read(&key)? {
        // Another namespace than the record's: the one given, or (gone) its path.
        let elsewhere = match (&inv.netns, &here) {
            (Some(_), Some(p)) => !p.holds(&r),
            (Some(path), None) => r.netns.as_deref() != Some(&*path.to_string_lossy()),
            (None, _) => false,
        };
        if elsewhere && teardown::live(&r)? {
            return Ok(());
        }
        return teardown::remove(&host, &r, release, inv, Some(hold(&lock)?), here.as_ref());
    }
    // Nothing recorded: only what carries this attachment's mark goes, the
    // lease is released (IPAM DEL is idempotent), and a VLAN mark left
    // without attachments is dropped.
    let lease = release.map(|rel| ipam::Pending::start(&rel.plugin, Verb::Del, inv, &rel.netconf, hold(&lock).ok()));
    if let Some(p) = &here {
        p.delete_attachment(&key)?;
    }
    if let Some(lease) = lease {
        lease.wait()?;
    }
    release_unrecorded(&host, conf)
}

/// Drops this network's mark from its VLAN on the configured master if no
/// recorded attachment of the network uses it (a record lost, or a DEL of
/// an attachment never added).
fn release_unrecorded(host: &vlanmac_core::Netlink, conf: &NetConf) -> Result<()> {
    if conf.vlan.is_none() {
        return Ok(());
    }
    let Ok(master) = vlan::master(host, conf) else { return Ok(()) };
    let master = IfName::new(master.name)?;
    let Some(vlan) = conf.vlan_name(&master).transpose()? else { return Ok(()) };
    let _lock = state::lock_master(&master)?;
    vlan::release_if_unused(host, master.as_str(), &vlan, &conf.name)
}
