//! GC (CNI 1.1): given the attachments that are still valid
//! (`cni.dev/valid-attachments`), every other attachment of this network
//! the plugin has a record of goes as DEL would remove it: its interface
//! when its namespace is still the one it was made in (only the interface
//! carrying its mark), its IPAM lease (released with the configuration it
//! was taken with), its record, and VLANs left with no user; so does every
//! attachment of the network whose namespace is gone. Then the IPAM plugin
//! gets the GC too, if it speaks 1.1.

use crate::{
    error::{CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::NetConf,
    state::{self, hold},
    teardown::{self, Release},
};

/// GC.
pub fn gc(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let valid = conf
        .valid_attachments
        .as_ref()
        .ok_or_else(|| CniError::new(Code::InvalidConfig, "cni.dev/valid-attachments: is required for GC"))?;
    let host = handles::host()?;
    for r in state::of_network(&conf.name)? {
        if valid.iter().any(|v| v.container_id == r.container_id && v.ifname == r.ifname) {
            continue;
        }
        let key = r.key();
        let lock = state::lock_attachment(&key)?;
        // Read again under the lock: a DEL may have removed it meanwhile.
        let Some(r) = state::read(&key)? else { continue };
        // Records kept before configurations were: this configuration's IPAM.
        let release = Release::recorded(&r)
            .or_else(|| conf.ipam_type.as_ref().map(|t| Release { plugin: t.clone(), netconf: raw.to_vec() }));
        teardown::remove(&host, &r, release, &teardown::invocation_for(inv, &r), Some(hold(&lock)?), None)?;
    }
    // Attachments of this network whose namespace is gone, valid or not
    // (a runtime that lost track of a pod still lists it).
    crate::collect::collect_dead(Some(&conf.name));
    if let Some(t) = &conf.ipam_type {
        if ipam::supports(t, inv, "1.1.0") {
            ipam::Call { plugin: t, verb: Verb::Gc, inv, netconf: raw, hold: None }.run()?;
        }
    }
    Ok(())
}
