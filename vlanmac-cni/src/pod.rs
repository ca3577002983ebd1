//! The pod's network namespace (`CNI_NETNS`): checked to be one before
//! anything could block on it (a FIFO would make an open wait for a writer
//! forever), known by its identity (device and inode, so a path re-created
//! for another pod is another namespace), and what an attachment made
//! there, found by its marks (see [`crate::attachment`]).

use std::path::{Path, PathBuf};

use futures::executor::block_on;
use vlanmac_core::{
    netns::{inspect, NsPath},
    spec::IfName,
    temp_link_left_behind, Batch, Netlink, NetnsRef,
};

use crate::{
    attachment::Key,
    error::{from_core, CniError, Code, Result},
    handles::shared,
    state::Record,
};

/// An open pod namespace.
pub struct Pod {
    /// `CNI_NETNS` as given.
    pub path: PathBuf,
    /// A handle on it.
    pub nl: Netlink,
}

fn not_a_netns(path: &Path, kind: NsPath) -> CniError {
    let what = match kind {
        NsPath::Missing => "does not exist".to_string(),
        other => other.not_a_netns(),
    };
    CniError::new(Code::UnknownContainer, format!("CNI_NETNS: {} {what}", path.display()))
}

fn kind_of(path: &Path) -> Result<NsPath> {
    inspect(path).map_err(|e| CniError::new(Code::UnknownContainer, format!("CNI_NETNS: {}: {e}", path.display())))
}

/// Opens `CNI_NETNS` for ADD or CHECK: anything but a network namespace is
/// error 3 saying what it is.
pub fn open(path: &Path) -> Result<Pod> {
    match kind_of(path)? {
        NsPath::NetworkNamespace => connect(path),
        other => Err(not_a_netns(path, other)),
    }
}

/// Opens `CNI_NETNS` for DEL: `None` when the namespace is gone (the path
/// is missing, or holds the regular file a deleted namespace leaves
/// behind); error 3 for anything else that is not a network namespace.
pub fn open_if_there(path: &Path) -> Result<Option<Pod>> {
    match kind_of(path)? {
        NsPath::NetworkNamespace => connect(path).map(Some),
        NsPath::Missing | NsPath::RegularFile => Ok(None),
        other => Err(not_a_netns(path, other)),
    }
}

/// The namespace `r` was made in, if its path still holds that same
/// namespace (records kept before namespaces had identities: the path).
pub fn recorded(r: &Record) -> Option<Pod> {
    let path = Path::new(r.netns.as_deref()?);
    if kind_of(path).ok()? != NsPath::NetworkNamespace {
        return None;
    }
    let pod = connect(path).ok()?;
    match r.netns_id {
        Some(id) if id != pod.nl.netns_id() => None,
        _ => Some(pod),
    }
}

fn connect(path: &Path) -> Result<Pod> {
    let nl = block_on(Netlink::open_shared(NetnsRef::Path(path.to_path_buf()), shared())).map_err(|e| {
        CniError::new(
            Code::UnknownContainer,
            format!("CNI_NETNS: {} is not a usable network namespace", path.display()),
        )
        .details(e.to_string())
    })?;
    Ok(Pod { path: path.to_path_buf(), nl })
}

impl Pod {
    /// Whether `r` lives here: the same namespace (by identity), or, for a
    /// record kept before namespaces had identities, the same path.
    pub fn holds(&self, r: &Record) -> bool {
        match r.netns_id {
            Some(id) => id == self.nl.netns_id(),
            None => r.netns.as_deref() == Some(&*self.path.to_string_lossy()),
        }
    }

    /// Whether attachment `key`'s interface is here: named `ifname`, with
    /// the attachment's mark (for a record kept before marks, `legacy`: the
    /// name alone).
    pub fn has_attachment(&self, key: &Key, legacy: bool) -> Result<bool> {
        let Ok(name) = IfName::new(key.ifname.clone()) else { return Ok(false) };
        match block_on(self.nl.link(&name)) {
            Ok(l) => Ok(legacy || l.alias.as_deref() == Some(key.mark().as_str())),
            Err(vlanmac_core::Error::NotFound(_)) => Ok(false),
            Err(e) => Err(from_core(e)),
        }
    }

    /// Deletes what attachment `key` made here: its interface (carrying its
    /// mark, whatever its name now), and links an ADD killed half-way left
    /// under a temporary name in its link group. Anything else (another
    /// pod's interface of that name, a link somebody else made, the master
    /// in the runtime's own namespace) is left alone.
    pub fn delete_attachment(&self, key: &Key) -> Result<()> {
        let mark = key.mark();
        let links = block_on(self.nl.links()).map_err(from_core)?;
        let mine: Vec<IfName> = links
            .iter()
            .filter(|l| {
                l.alias.as_deref() == Some(mark.as_str())
                    || (l.alias.is_none() && l.group == key.group() && temp_link_left_behind(&l.name))
            })
            .filter_map(|l| IfName::new(l.name.clone()).ok())
            .collect();
        if mine.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        for name in &mine {
            batch.delete_link(&self.nl, name);
        }
        match block_on(batch.run()).into_result() {
            // Gone meanwhile (the namespace being torn down) is fine.
            Ok(()) | Err(vlanmac_core::Error::NotFound(_)) => Ok(()),
            Err(e) => Err(from_core(e)),
        }
    }
}
