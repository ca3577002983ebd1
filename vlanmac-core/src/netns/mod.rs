//! Named network namespaces, created and entered without `fork`.
//!
//! Named namespaces are files under `/run/netns` with the namespace bind
//! mounted on them, exactly as `ip netns add` makes them, so `ip netns`,
//! `ip -n NAME` and vlanmac see the same namespaces.
//!
//! `setns(2)` changes the namespace of the *calling thread*. vlanmac never
//! calls it on a caller's thread (an async runtime moves tasks between
//! threads, so a switched worker would leak other tasks into the wrong
//! namespace): every switch happens on a short-lived thread of its own,
//! which does one thing (create a namespace, open a socket) and exits.

mod path;
pub mod sysctl;
pub(crate) mod thread;

use std::{
    fs, io,
    os::fd::OwnedFd,
    path::{Path, PathBuf},
};

use nix::{
    mount::{mount, umount2, MntFlags, MsFlags},
    sched::{unshare, CloneFlags},
};

use crate::{
    error::{Error, Result},
    spec::{NetnsName, SpecError},
};
use path::inspect_open;
pub use path::{inspect, NsPath};
pub(crate) use thread::run_in;
pub use thread::spawn_blocking;

/// Where named namespaces live (iproute2's `NETNS_RUN_DIR`).
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// A network namespace to work in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum NetnsRef {
    /// The namespace of the calling thread.
    #[default]
    Current,
    /// A named namespace, `/run/netns/NAME` (`ip -n NAME`).
    Named(NetnsName),
    /// Any namespace file, e.g. `/var/run/docker/netns/…`.
    Path(PathBuf),
    /// The namespace of a process, `/proc/PID/ns/net` (a container's).
    Pid(u32),
}

impl NetnsRef {
    /// A named namespace; validates the name.
    pub fn named(name: &str) -> Result<Self> {
        Ok(NetnsRef::Named(NetnsName::new(name)?))
    }

    /// The file that holds the namespace.
    pub fn path(&self) -> PathBuf {
        match self {
            NetnsRef::Current => PathBuf::from("/proc/thread-self/ns/net"),
            NetnsRef::Named(n) => Path::new(NETNS_RUN_DIR).join(n.as_str()),
            NetnsRef::Path(p) => p.clone(),
            NetnsRef::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/net")),
        }
    }

    /// Opens the namespace file, after making sure it is one, with nothing
    /// that can block (see [`inspect`]). A missing path, and a regular file
    /// that holds no namespace (a stale `/run/netns` entry, see
    /// [`Entry::Stale`]), are [`Error::NotFound`]; a path that holds
    /// something else (a FIFO, a directory, another kind of namespace)
    /// fails with [`Error::InvalidSpec`] naming what it is.
    pub fn open(&self) -> Result<OwnedFd> {
        let path = self.path();
        let op = || format!("open network namespace {self} ({})", path.display());
        let (kind, fd) = inspect_open(&path).map_err(|e| Error::io(op(), e))?;
        match (kind, fd) {
            (NsPath::NetworkNamespace, Some(fd)) => Ok(fd),
            (NsPath::Missing, _) => Err(Error::from_errno(op(), libc::ENOENT, None, None)),
            (NsPath::RegularFile, _) => {
                Err(Error::from_errno(format!("{}: {}", op(), kind.not_a_netns()), libc::ENOENT, None, None))
            }
            (other, _) => Err(SpecError::new("netns", path.display().to_string(), other.not_a_netns()).into()),
        }
    }
}

impl std::fmt::Display for NetnsRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetnsRef::Current => f.write_str("(current)"),
            NetnsRef::Named(n) => write!(f, "{n}"),
            NetnsRef::Path(p) => write!(f, "{}", p.display()),
            NetnsRef::Pid(p) => write!(f, "pid:{p}"),
        }
    }
}

impl From<NetnsName> for NetnsRef {
    fn from(n: NetnsName) -> Self {
        NetnsRef::Named(n)
    }
}

impl From<&NetnsName> for NetnsRef {
    fn from(n: &NetnsName) -> Self {
        NetnsRef::Named(n.clone())
    }
}

/// Creates the named namespace, like `ip netns add NAME`: makes `/run/netns`
/// a shared mount, makes a fresh namespace (by `unshare(CLONE_NEWNET)` on a
/// short-lived thread), and bind-mounts it on `/run/netns/NAME`.
///
/// A leftover entry of that name that is not a namespace (see
/// [`entry`]) is replaced. Fails with [`Error::AlreadyExists`] if a
/// namespace of that name exists.
pub async fn create(name: &NetnsName) -> Result<()> {
    let name = name.clone();
    thread::spawn_blocking(move || create_here(&name, || Ok(()))).await
}

/// [`create`] for callers without an async runtime (Drop guards, Python's
/// sync API): blocks while a short-lived thread makes the namespace.
pub fn create_blocking(name: &NetnsName) -> Result<()> {
    let name = name.clone();
    std::thread::Builder::new()
        .name("vlanmac-netns".into())
        .spawn(move || create_here(&name, || Ok(())))
        .map_err(|e| Error::io("spawn a namespace thread", e))?
        .join()
        .unwrap_or_else(|_| Err(Error::Internal("the namespace-creating thread panicked".into())))
}

/// [`create`], with `prepare` run inside the new namespace *before* it
/// becomes visible under `/run/netns` (on the thread that made it). If
/// `prepare` fails, or the process dies before the bind mount, the
/// namespace dies with the thread and nothing of it remains but, at worst,
/// an empty entry that [`entry`] reports as [`Entry::Stale`].
pub(crate) async fn create_with<T: Send + 'static>(
    name: &NetnsName,
    prepare: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let name = name.clone();
    thread::spawn_blocking(move || create_here(&name, prepare)).await
}

/// Makes the namespace by unsharing the *calling* thread: only ever called
/// on a short-lived thread of vlanmac's own.
fn create_here<T>(name: &NetnsName, prepare: impl FnOnce() -> Result<T>) -> Result<T> {
    let op = || format!("create netns {name}");
    prepare_run_dir().map_err(|e| Error::io(format!("{}: prepare {NETNS_RUN_DIR}", op()), e))?;
    let path = Path::new(NETNS_RUN_DIR).join(name.as_str());
    if entry(name) == Entry::Namespace {
        return Err(Error::from_errno(op(), libc::EEXIST, None, None));
    }
    // This runs on a short-lived thread (see `create`): unsharing here moves
    // only this thread, which exits right after.
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| unshare_error(&op(), e))?;
    let prepared = prepare()?;
    create_entry(&path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => Error::from_errno(op(), libc::EEXIST, None, None),
        _ => Error::io(format!("{}: create {}", op(), path.display()), e),
    })?;
    match mount(Some("/proc/thread-self/ns/net"), &path, Some("none"), MsFlags::MS_BIND, None::<&str>) {
        Ok(()) => Ok(prepared),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(unshare_error(&format!("{}: bind mount {}", op(), path.display()), e))
        }
    }
}

fn unshare_error(op: &str, e: nix::errno::Errno) -> Error {
    if e == nix::errno::Errno::EPERM {
        let mut err = Error::from_errno(op, libc::EPERM, None, None);
        if let Error::PermissionDenied(k) = &mut err {
            k.hint = Some(crate::error::NEEDS_ROOT.into());
        }
        err
    } else {
        Error::io(op, e.into())
    }
}

/// Creates the empty file a namespace is mounted on. A stale entry (see
/// [`Entry::Stale`]) of that name is removed first, once: if the name is
/// taken again at once, someone else is making it.
fn create_entry(path: &Path) -> io::Result<()> {
    let make = || fs::OpenOptions::new().write(true).create_new(true).open(path).map(drop);
    match make() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && entry_at(path) == Entry::Stale => {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            make()
        }
        other => other,
    }
}

/// What `/run/netns/NAME` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Nothing of that name.
    Absent,
    /// A network namespace is mounted there.
    Namespace,
    /// An entry with no namespace on it: made by a process that died between
    /// creating the file and mounting the namespace (vlanmac, `ip netns
    /// add`), or one being deleted right now (unmounted, not yet removed).
    /// vlanmac treats it as absent: [`create`] replaces it, and a
    /// topology's `down` removes it.
    Stale,
}

/// What `/run/netns/NAME` holds: a namespace, nothing, or a stale entry.
pub fn entry(name: &NetnsName) -> Entry {
    entry_at(&Path::new(NETNS_RUN_DIR).join(name.as_str()))
}

fn entry_at(path: &Path) -> Entry {
    match nix::sys::statfs::statfs(path) {
        Ok(fs) if fs.filesystem_type() == nix::sys::statfs::NSFS_MAGIC => Entry::Namespace,
        Ok(_) => Entry::Stale,
        Err(nix::errno::Errno::ENOENT) => Entry::Absent,
        // Unreadable (no permission): say what is most likely, a namespace.
        Err(_) if path.exists() => Entry::Namespace,
        Err(_) => Entry::Absent,
    }
}

/// Makes `/run/netns` exist and be a shared mount point, as iproute2 does, so
/// that namespace mounts propagate to other mount namespaces. Serialized
/// within the process: two threads that both found it unmounted would stack
/// two bind mounts.
fn prepare_run_dir() -> io::Result<()> {
    static PREPARED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = PREPARED.lock().unwrap_or_else(|p| p.into_inner());
    if *done && Path::new(NETNS_RUN_DIR).is_dir() {
        return Ok(());
    }
    fs::create_dir_all(NETNS_RUN_DIR)?;
    let shared = || mount(Some(""), NETNS_RUN_DIR, Some("none"), MsFlags::MS_SHARED | MsFlags::MS_REC, None::<&str>);
    match shared() {
        Ok(()) => {
            *done = true;
            Ok(())
        }
        Err(nix::errno::Errno::EINVAL) => {
            // Not a mount point yet: bind it onto itself, then share it.
            mount(Some(NETNS_RUN_DIR), NETNS_RUN_DIR, Some("none"), MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)?;
            shared().map_err(io::Error::from)?;
            *done = true;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes the named namespace, like `ip netns del NAME`: detaches the bind
/// mount and removes the file. Links inside go with the namespace once no
/// process or socket holds it. Fails with [`Error::NotFound`] if absent.
pub async fn delete(name: &NetnsName) -> Result<()> {
    let name = name.clone();
    thread::spawn_blocking(move || delete_blocking(&name)).await
}

/// [`delete`] without an async runtime: two system calls on the caller's
/// thread (no namespace switch involved).
pub fn delete_blocking(name: &NetnsName) -> Result<()> {
    let path = Path::new(NETNS_RUN_DIR).join(name.as_str());
    let op = || format!("delete netns {name}");
    if !path.exists() {
        return Err(Error::from_errno(op(), libc::ENOENT, None, None));
    }
    match umount2(&path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(Error::io(format!("{}: unmount {}", op(), path.display()), e.into())),
    }
    fs::remove_file(&path).map_err(|e| match e.kind() {
        // Removed meanwhile by another deleter.
        io::ErrorKind::NotFound => Error::from_errno(op(), libc::ENOENT, None, None),
        _ => Error::io(format!("{}: remove {}", op(), path.display()), e),
    })
}

/// Lists the named namespaces (`ip netns list`), sorted by name. Entries
/// whose names would not be valid, and stale entries (see [`Entry::Stale`]),
/// are skipped.
pub fn list() -> Result<Vec<NetnsName>> {
    Ok(list_entries()?.into_iter().filter(|n| entry(n) == Entry::Namespace).collect())
}

/// Every entry of `/run/netns` with a valid name, namespaces and stale
/// entries alike, sorted by name.
pub fn list_entries() -> Result<Vec<NetnsName>> {
    let dir = match fs::read_dir(NETNS_RUN_DIR) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("list {NETNS_RUN_DIR}"), e)),
    };
    let mut names: Vec<NetnsName> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| NetnsName::new(n).ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Whether the named namespace exists (a stale entry does not count).
pub fn exists(name: &NetnsName) -> bool {
    entry(name) == Entry::Namespace
}

/// Removes a stale entry (see [`Entry::Stale`]) of this name; `Ok(false)`
/// when the name holds a namespace or nothing.
pub fn remove_stale(name: &NetnsName) -> Result<bool> {
    let path = Path::new(NETNS_RUN_DIR).join(name.as_str());
    if entry_at(&path) != Entry::Stale {
        return Ok(false);
    }
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("remove stale netns entry {}", path.display()), e)),
    }
}
