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
    spec::NetnsName,
};
pub(crate) use thread::run_in;

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

    /// Opens the namespace file (`O_RDONLY | O_CLOEXEC`).
    pub fn open(&self) -> Result<OwnedFd> {
        let path = self.path();
        fs::File::open(&path).map(OwnedFd::from).map_err(|e| {
            let op = format!("open network namespace {self} ({})", path.display());
            if e.kind() == io::ErrorKind::NotFound {
                Error::from_errno(op, libc::ENOENT, None, None)
            } else {
                Error::io(op, e)
            }
        })
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
/// a shared mount, creates `/run/netns/NAME`, and bind-mounts a fresh
/// namespace (made by `unshare(CLONE_NEWNET)` on a short-lived thread) on it.
///
/// Fails with [`Error::AlreadyExists`] if the name is taken.
pub async fn create(name: &NetnsName) -> Result<()> {
    let name = name.clone();
    thread::spawn_blocking(move || create_here(&name)).await
}

/// [`create`] for callers without an async runtime (Drop guards, Python's
/// sync API): blocks while a short-lived thread makes the namespace.
pub fn create_blocking(name: &NetnsName) -> Result<()> {
    let name = name.clone();
    std::thread::Builder::new()
        .name("vlanmac-netns".into())
        .spawn(move || create_here(&name))
        .map_err(|e| Error::io("spawn a namespace thread", e))?
        .join()
        .unwrap_or(Err(Error::Closed))
}

/// [`create`], then `f` run inside the new namespace on the thread that
/// made it (saves entering it again); if `f` fails the namespace is removed.
pub(crate) async fn create_then<T: Send + 'static>(
    name: &NetnsName,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let name = name.clone();
    thread::spawn_blocking(move || {
        create_here(&name)?;
        f().inspect_err(|_| {
            let _ = delete_blocking(&name);
        })
    })
    .await
}

/// Makes the namespace by unsharing the *calling* thread: only ever called
/// on a short-lived thread of vlanmac's own.
fn create_here(name: &NetnsName) -> Result<()> {
    let op = || format!("create netns {name}");
    prepare_run_dir().map_err(|e| Error::io(format!("{}: prepare {NETNS_RUN_DIR}", op()), e))?;
    let path = Path::new(NETNS_RUN_DIR).join(name.as_str());
    match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::from_errno(op(), libc::EEXIST, None, None));
        }
        Err(e) => return Err(Error::io(format!("{}: create {}", op(), path.display()), e)),
    }
    // This runs on a short-lived thread (see `create`): unsharing here moves
    // only this thread, which exits right after.
    let bound = unshare(CloneFlags::CLONE_NEWNET)
        .and_then(|()| mount(Some("/proc/thread-self/ns/net"), &path, Some("none"), MsFlags::MS_BIND, None::<&str>))
        .map_err(io::Error::from);
    match bound {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&path);
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            if errno == libc::EPERM {
                Err(Error::from_errno(format!("{}: unshare/bind mount", op()), errno, None, None))
            } else {
                Err(Error::io(format!("{}: unshare/bind mount", op()), e))
            }
        }
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
    fs::remove_file(&path).map_err(|e| Error::io(format!("{}: remove {}", op(), path.display()), e))
}

/// Lists the named namespaces (`ip netns list`), sorted by name. Entries
/// whose names would not be valid are skipped.
pub fn list() -> Result<Vec<NetnsName>> {
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

/// Whether the named namespace exists.
pub fn exists(name: &NetnsName) -> bool {
    Path::new(NETNS_RUN_DIR).join(name.as_str()).exists()
}
