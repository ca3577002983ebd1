//! Attachments whose pod is gone, collected without the runtime: when a
//! pod is force-deleted or a node reboots, the runtime may never call DEL
//! (and Multus passes GC on to the cluster network only). Each record
//! carries what a DEL needs (the network configuration, the IPAM plugin's
//! folders); an attachment whose namespace no longer exists is removed as
//! DEL would remove it, its IPAM lease released, and the VLAN with its last
//! user. An attachment whose namespace exists is never touched.

use std::path::{Path, PathBuf};

use vlanmac_core::netns::{inspect, NsPath};

use crate::{
    handles,
    invocation::{CniArgs, Invocation, Verb},
    state::{self, hold, Record},
    teardown::{self, Release},
};

/// Whether the namespace `r` was made in is gone: its path holds nothing,
/// or no namespace. (A path that holds a namespace again, made since, is
/// left alone: it may be the pod's, and a live pod is never touched.)
fn gone(r: &Record) -> bool {
    let Some(path) = r.netns.as_deref() else { return false };
    matches!(inspect(Path::new(path)), Ok(NsPath::Missing | NsPath::RegularFile))
}

/// The invocation that deletes `r`: its container, interface and
/// namespace, the `CNI_PATH` it was added with.
fn invocation(r: &Record) -> Invocation {
    Invocation {
        verb: Verb::Del,
        container_id: r.container_id.clone(),
        netns: r.netns.as_ref().map(PathBuf::from),
        ifname: vlanmac_core::spec::IfName::new(r.ifname.clone()).ok(),
        args: CniArgs::default(),
        raw_args: None,
        path: r.cni_path.iter().map(PathBuf::from).collect(),
    }
}

/// Removes every recorded attachment (of `network`, or of all networks)
/// whose namespace is gone; returns one line per attachment collected.
/// Failures are lines too (the record stays, to be tried again).
pub fn collect_dead(network: Option<&str>) -> Vec<String> {
    let Ok(records) = state::all() else { return Vec::new() };
    let Ok(host) = handles::host() else { return Vec::new() };
    let mut out = Vec::new();
    for r in records.into_iter().filter(|r| network.is_none_or(|n| r.network == n) && gone(r)) {
        let key = r.key();
        let Ok(lock) = state::lock_attachment(&key) else { continue };
        // Under the lock: still there, still gone.
        let Ok(Some(r)) = state::read(&key) else { continue };
        if !gone(&r) {
            continue;
        }
        let what = format!(
            "CNI attachment {}/{} of network {} (netns {} gone)",
            r.container_id,
            r.ifname,
            r.network,
            r.netns.as_deref().unwrap_or("?")
        );
        let done = hold(&lock)
            .and_then(|h| teardown::remove(&host, &r, Release::recorded(&r), &invocation(&r), Some(h), None));
        out.push(match done {
            Ok(()) => what,
            Err(e) => format!("{what}: not collected: {e}"),
        });
    }
    out
}
