//! What the plugin keeps outside the kernel, all under `/run/vlanmac/cni`:
//! one lock file per master (held only while a VLAN is made, marked,
//! unmarked or deleted, removed when released) and one record per
//! attachment (`attachments/NETWORK%CONTAINER%IFNAME.json`), which is how
//! the plugin knows whether a VLAN still has users: macvlans in pods'
//! namespaces cannot be seen from the runtime's.

use std::{
    io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use vlanmac_core::{
    lockfile::{escape, lock_path, FileLock},
    spec::IfName,
};

use crate::error::{CniError, Code, Result};

/// The plugin's state directory.
pub const STATE_DIR: &str = "/run/vlanmac/cni";

/// One attachment: a container's interface on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The network's name.
    pub network: String,
    /// `CNI_CONTAINERID`.
    #[serde(rename = "containerId")]
    pub container_id: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_NETNS` at ADD.
    pub netns: Option<String>,
    /// The master it hangs off (in the runtime's namespace).
    pub master: String,
    /// The VLAN subinterface it uses, if any.
    pub vlan: Option<String>,
}

fn io_error(what: &str, e: io::Error) -> CniError {
    CniError::new(Code::Io, format!("{what}: {e}"))
}

/// Where the state lives: [`STATE_DIR`], or `$VLANMAC_CNI_STATE_DIR` (for
/// tests that run several plugins' worlds side by side).
pub fn state_dir() -> PathBuf {
    std::env::var_os("VLANMAC_CNI_STATE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(STATE_DIR))
}

fn attachments_dir() -> PathBuf {
    state_dir().join("attachments")
}

/// Takes the lock of `master` (waits while another invocation holds it).
pub fn lock_master(master: &IfName) -> Result<FileLock> {
    let path = state_dir().join(format!("{}.lock", escape(master.as_str())));
    futures::executor::block_on(lock_path(path)).map_err(crate::error::from_core)
}

fn record_path(network: &str, container_id: &str, ifname: &str) -> PathBuf {
    attachments_dir().join(format!("{}%{}%{}.json", escape(network), escape(container_id), escape(ifname)))
}

/// Writes `r` (atomically: a temporary file renamed into place).
pub fn write(r: &Record) -> Result<()> {
    let dir = attachments_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&format!("create {}", dir.display()), e))?;
    let path = record_path(&r.network, &r.container_id, &r.ifname);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let text = serde_json::to_vec(r).map_err(|e| CniError::new(Code::Io, format!("encode a record: {e}")))?;
    std::fs::write(&tmp, text).map_err(|e| io_error(&format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_error(&format!("write {}", path.display()), e))
}

/// Reads the record of one attachment, if there is one.
pub fn read(network: &str, container_id: &str, ifname: &str) -> Result<Option<Record>> {
    read_path(&record_path(network, container_id, ifname))
}

fn read_path(path: &Path) -> Result<Option<Record>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&format!("read {}", path.display()), e)),
    }
}

/// Removes the record of one attachment (nothing if there is none).
pub fn remove(network: &str, container_id: &str, ifname: &str) -> Result<()> {
    let path = record_path(network, container_id, ifname);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&format!("remove {}", path.display()), e)),
    }
}

/// Every record (unreadable ones, and temporary files, skipped).
pub fn all() -> Result<Vec<Record>> {
    let dir = attachments_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(&format!("list {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "json") {
            out.extend(read_path(&path)?);
        }
    }
    Ok(out)
}

/// Records that use VLAN `vlan` on `master`.
pub fn users_of(master: &str, vlan: &str) -> Result<Vec<Record>> {
    Ok(all()?.into_iter().filter(|r| r.master == master && r.vlan.as_deref() == Some(vlan)).collect())
}
