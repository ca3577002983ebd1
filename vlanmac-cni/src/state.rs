//! What the plugin keeps outside the kernel, all under `/run/vlanmac/cni`:
//! one record per attachment (`attachments/STEM.json`, see
//! [`Key::file_stem`]), which is how the plugin knows whether a VLAN still
//! has users (macvlans in pods' namespaces cannot be seen from the
//! runtime's) and which namespace an attachment lives in, and two kinds of
//! lock file: one per attachment (`STEM.lock`, held for a whole ADD, DEL or
//! GC of it) and one per master (`MASTER.lock`, held only while a VLAN is
//! made, marked, unmarked or deleted). Lock files are removed when
//! released; waiting for one gives up after [`LOCK_DEADLINE`].

use std::{
    io,
    os::fd::{AsFd, OwnedFd},
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vlanmac_core::{
    lockfile::{escape, lock_path_within, FileLock},
    spec::IfName,
};

use crate::{
    attachment::Key,
    error::{from_core, CniError, Code, Result},
};

/// The plugin's state directory.
pub const STATE_DIR: &str = "/run/vlanmac/cni";

/// How long an invocation waits for a lock another one holds before it
/// answers error 11 (try again later).
pub const LOCK_DEADLINE: Duration = Duration::from_secs(60);

/// One attachment: a container's interface on a network, in a namespace.
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
    /// The namespace's identity at ADD (device and inode of its nsfs
    /// file): a path re-created for another pod is another namespace.
    /// Records written before it was kept have none.
    #[serde(rename = "netnsId", default, skip_serializing_if = "Option::is_none")]
    pub netns_id: Option<(u64, u64)>,
    /// The master it hangs off (in the runtime's namespace).
    pub master: String,
    /// The VLAN subinterface it uses, if any.
    pub vlan: Option<String>,
    /// `macvlan/MODE` or `ipvlan/MODE` (for messages about parents that
    /// cannot be shared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `CNI_PATH` of the ADD: where the IPAM plugin is, for a DEL made
    /// without the runtime (see `collect.rs`).
    #[serde(rename = "cniPath", default, skip_serializing_if = "Vec::is_empty")]
    pub cni_path: Vec<String>,
    /// The network configuration of the ADD (without `prevResult`): what GC
    /// and a later ADD give the IPAM plugin when they release its lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// The file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

impl Record {
    /// The attachment's key.
    pub fn key(&self) -> Key {
        Key { network: self.network.clone(), container_id: self.container_id.clone(), ifname: self.ifname.clone() }
    }

    /// The interface the pod sees the network through: the VLAN, or the
    /// master itself.
    pub fn parent(&self) -> &str {
        self.vlan.as_deref().unwrap_or(&self.master)
    }
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

fn lock(path: PathBuf) -> Result<FileLock> {
    futures::executor::block_on(lock_path_within(path, LOCK_DEADLINE)).map_err(from_core)
}

/// Takes the lock of `master` (waits while another invocation holds it).
pub fn lock_master(master: &IfName) -> Result<FileLock> {
    lock(state_dir().join(format!("{}.lock", escape(master.as_str()))))
}

/// Takes the lock of one attachment: one ADD, DEL or GC of it at a time.
pub fn lock_attachment(key: &Key) -> Result<FileLock> {
    lock(state_dir().join(format!("{}.lock", key.file_stem())))
}

fn record_path(key: &Key) -> PathBuf {
    attachments_dir().join(format!("{}.json", key.file_stem()))
}

/// Where records were kept before file names were bounded
/// (`NETWORK%CONTAINER%IFNAME.json`): still read and removed, so an
/// upgraded plugin finishes what the old one started.
fn legacy_path(key: &Key) -> PathBuf {
    attachments_dir().join(format!(
        "{}%{}%{}.json",
        escape(&key.network),
        escape(&key.container_id),
        escape(&key.ifname)
    ))
}

/// Writes `r` (atomically: a temporary file renamed into place).
pub fn write(r: &Record) -> Result<()> {
    let dir = attachments_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&format!("create {}", dir.display()), e))?;
    let path = record_path(&r.key());
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let text = serde_json::to_vec(r).map_err(|e| CniError::new(Code::Io, format!("encode a record: {e}")))?;
    std::fs::write(&tmp, text).map_err(|e| io_error(&format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_error(&format!("write {}", path.display()), e))
}

/// Reads the record of one attachment, if there is one.
pub fn read(key: &Key) -> Result<Option<Record>> {
    for path in [record_path(key), legacy_path(key)] {
        if let Some(r) = read_path(&path)? {
            if r.key() == *key {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

fn read_path(path: &Path) -> Result<Option<Record>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            Ok(serde_json::from_slice::<Record>(&bytes).ok().map(|r| Record { file: path.to_path_buf(), ..r }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // A legacy name too long to exist.
        Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => Ok(None),
        Err(e) => Err(io_error(&format!("read {}", path.display()), e)),
    }
}

/// Removes a record (nothing if it is gone already).
pub fn remove(r: &Record) -> Result<()> {
    match std::fs::remove_file(&r.file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&format!("remove {}", r.file.display()), e)),
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

/// The records of network `network`.
pub fn of_network(network: &str) -> Result<Vec<Record>> {
    Ok(all()?.into_iter().filter(|r| r.network == network).collect())
}

/// A duplicate of a held lock's descriptor, for an IPAM plugin to hold
/// while it runs (see [`crate::ipam`]).
pub fn hold(lock: &FileLock) -> Result<OwnedFd> {
    lock.as_fd().try_clone_to_owned().map_err(|e| CniError::new(Code::Io, format!("duplicate a lock: {e}")))
}
